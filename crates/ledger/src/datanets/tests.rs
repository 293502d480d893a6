//! Datanet rules end to end through signed transactions and `execute_block`.

use super::*;
use crate::{
    ChainSpec, ContentFacts, ContentProblem, ContentSource, ParseOptions,
    execution::{BlockOutcome, ExecutionMode, execute_block},
    genesis::{Allocation, Genesis},
    state::{MemoryState, StateView},
};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use ol_primitives::{Amount, BlockEnv, RecoveredTransaction, addresses::TREASURY};
use std::collections::HashMap;

const CHAIN: u64 = 1337;
const BASE_FEE: u64 = 1_000_000_000;

fn key(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(i + 1)).unwrap()
}

/// Content facts by hash, as a node's blob store would give them.
#[derive(Default)]
struct Blobs(HashMap<B256, ContentFacts>);

impl Blobs {
    /// Adds content whose MinHash is `minhash` and normalised hash `normal`.
    fn add(&mut self, tag: u8, normal: u8, minhash: [u32; 64], size: u64) -> B256 {
        let hash = B256::repeat_byte(tag);
        self.0.insert(
            hash,
            ContentFacts { size, normalised_hash: B256::repeat_byte(normal), minhash },
        );
        hash
    }
}

impl ContentSource for Blobs {
    fn facts(&self, hash: B256, _options: &ParseOptions) -> Result<ContentFacts, ContentProblem> {
        self.0.get(&hash).cloned().ok_or(ContentProblem::Unavailable(hash))
    }
}

struct Chain {
    spec: ChainSpec,
    state: MemoryState,
    nonces: [u64; 8],
    number: u64,
    blobs: Blobs,
}

impl Chain {
    fn new() -> Self {
        let mut allocations: Vec<Allocation> = (0..8)
            .map(|i| Allocation {
                name: format!("k{i}"),
                address: key(i).address(),
                amount: Amount::from_open(1000),
                vesting: None,
            })
            .collect();
        allocations.push(Allocation {
            name: "reserve".into(),
            address: Address::repeat_byte(0xaa),
            amount: Amount::from_open(1_000_000_000 - 8000),
            vesting: None,
        });
        let genesis = Genesis {
            chain_id: CHAIN,
            timestamp: 0,
            gas_limit: 30_000_000,
            base_fee_per_gas: BASE_FEE,
            allocations,
            governance: None,
            validator_params: None,
            validators: Vec::new(),
        };
        let mut state = MemoryState::default();
        state.apply(genesis.state());
        Self {
            spec: genesis.chain_spec(),
            state,
            nonces: [0; 8],
            number: 0,
            blobs: Blobs::default(),
        }
    }

    fn tx(&mut self, from: u8, input: Vec<u8>, gas_limit: u64) -> RecoveredTransaction {
        let tx = TxEip1559 {
            chain_id: CHAIN,
            nonce: self.nonces[from as usize],
            gas_limit,
            max_fee_per_gas: 2 * u128::from(BASE_FEE),
            max_priority_fee_per_gas: 0,
            to: TxKind::Call(DATANETS),
            value: U256::ZERO,
            access_list: Default::default(),
            input: Bytes::from(input),
        };
        self.nonces[from as usize] += 1;
        let sig = key(from).sign_hash_sync(&tx.signature_hash()).unwrap();
        let envelope: TxEnvelope = tx.into_signed(sig).into();
        RecoveredTransaction::recover(envelope).unwrap()
    }

    /// Runs one call in its own block; returns the outcome after applying it.
    fn send_with_gas(&mut self, from: u8, input: Vec<u8>, gas: u64) -> BlockOutcome {
        let tx = self.tx(from, input, gas);
        self.number += 1;
        let env = BlockEnv {
            number: self.number,
            timestamp: self.number * 10,
            beneficiary: Address::repeat_byte(0xee),
            base_fee: BASE_FEE,
            gas_limit: 30_000_000,
        };
        let out = execute_block(
            &self.spec,
            &self.state,
            &env,
            vec![tx],
            ExecutionMode::Verify,
            &self.blobs,
            &crate::contracts::NoContracts,
        )
        .unwrap();
        self.state.apply(out.changes.clone());
        out
    }

    fn send(&mut self, from: u8, input: Vec<u8>) -> BlockOutcome {
        self.send_with_gas(from, input, 5_000_000)
    }

    fn ok(&mut self, from: u8, input: Vec<u8>) -> BlockOutcome {
        let out = self.send(from, input);
        assert!(out.receipts[0].success(), "call by {from} reverted");
        out
    }

    /// Sends a call that must revert, and returns the revert reason from a
    /// simulation of the same call.
    fn reverts(&mut self, from: u8, input: Vec<u8>) -> String {
        let reason = self.simulate(from, &input).revert_reason.expect("the call must revert");
        let before = self.balance(key(from).address());
        let out = self.send(from, input);
        assert!(!out.receipts[0].success());
        assert!(out.receipts[0].logs().is_empty());
        let gas = U256::from(out.receipts[0].gas_used) * U256::from(BASE_FEE);
        assert_eq!(self.balance(key(from).address()), before - gas, "a revert costs only gas");
        reason
    }

    fn simulate(&self, from: u8, input: &[u8]) -> crate::system::CallOutcome {
        let env = BlockEnv {
            number: self.number + 1,
            timestamp: (self.number + 1) * 10,
            beneficiary: Address::ZERO,
            base_fee: BASE_FEE,
            gas_limit: 30_000_000,
        };
        let call_env = crate::system::CallEnv {
            spec: &self.spec,
            block: &env,
            caller: key(from).address(),
            content: &self.blobs,
        };
        crate::system::call(&self.state, call_env, DATANETS, input, 10_000_000).unwrap()
    }

    fn balance(&self, who: Address) -> U256 {
        self.state.account(&who).unwrap().unwrap_or_default().balance
    }

    fn reader(&self) -> DatanetsReader<'_, MemoryState> {
        DatanetsReader::new(&self.state)
    }
}

fn config(policy: Policy) -> DatanetConfig {
    DatanetConfig {
        name: "Medical QA".into(),
        summary: "Questions and answers".into(),
        description: "# Medical\nCurated.".into(),
        tags: vec!["medical".into(), "qa".into()],
        licence: "CC-BY-4.0".into(),
        customTermsHash: B256::ZERO,
        policy,
        maxSubmissionBytes: 0,
        formats: vec![Format::Text, Format::Jsonl],
        jsonlField: String::new(),
        csvColumn: String::new(),
    }
}

fn create(config: DatanetConfig) -> Vec<u8> {
    IDatanets::createDatanetCall { config }.abi_encode()
}

fn contribute(datanet: u64, hash: B256, size: u64) -> Vec<u8> {
    IDatanets::contributeCall {
        datanetId: datanet,
        contentHash: hash,
        size,
        format: Format::Text,
        licence: String::new(),
    }
    .abi_encode()
}

fn minhash(seed: u32) -> [u32; 64] {
    std::array::from_fn(|i| seed.wrapping_mul(2_654_435_761).wrapping_add(i as u32 * 7919))
}

#[test]
fn lifecycle_with_approval_rejection_withdrawal_and_versions() {
    let mut chain = Chain::new();
    let out = chain.ok(0, create(config(Policy::OwnerApproval)));
    let log = &out.receipts[0].logs()[0];
    let created = IDatanets::DatanetCreated::decode_log_data(&log.data).unwrap();
    assert_eq!(created.datanetId, 1);
    assert_eq!(created.owner, key(0).address());

    let a = chain.blobs.add(0xa1, 1, minhash(1), 2048);
    let b = chain.blobs.add(0xb1, 2, minhash(2), 100);
    let c = chain.blobs.add(0xc1, 3, minhash(3), 10);
    let before = chain.balance(key(1).address());
    chain.ok(1, contribute(1, a, 2048));
    let deposit = Params::default().deposit_for(2048);
    assert_eq!(deposit, U256::from(1_020_000_000_000_000_000u128), "1 OPEN + 2 × 0.01 OPEN");
    assert_eq!(chain.balance(DATANETS), deposit, "the deposit is held by the contract");
    chain.ok(2, contribute(1, b, 100));
    chain.ok(3, contribute(1, c, 10));
    assert_eq!(chain.reader().contribution(1).unwrap().unwrap().status, Status::Pending);

    // Only the owner or a curator decides.
    let reason = chain.reverts(1, IDatanets::approveCall { contributionId: 1 }.abi_encode());
    assert!(reason.contains("only the owner or a curator of datanet 1"), "{reason}");
    chain.ok(
        0,
        IDatanets::setCuratorCall { datanetId: 1, account: key(4).address(), enabled: true }
            .abi_encode(),
    );
    chain.ok(4, IDatanets::approveCall { contributionId: 1 }.abi_encode());
    let gas_paid = before - chain.balance(key(1).address());
    assert!(gas_paid < U256::from(10u64).pow(U256::from(16)), "deposit refunded, only gas paid");
    chain.ok(0, IDatanets::approveCall { contributionId: 2 }.abi_encode());

    // Spam: the treasury keeps the deposit.
    let treasury = chain.balance(TREASURY);
    let out = chain.ok(0, IDatanets::rejectCall { contributionId: 3, spam: true }.abi_encode());
    let gas = U256::from(out.gas_used) * U256::from(BASE_FEE);
    assert_eq!(chain.balance(TREASURY), treasury + gas + Params::default().deposit_for(10));
    assert_eq!(chain.balance(DATANETS), U256::ZERO);
    assert_eq!(chain.reader().live_references(c).unwrap(), 0);
    let reason = chain.reverts(0, IDatanets::approveCall { contributionId: 3 }.abi_encode());
    assert!(reason.contains("is rejected, not pending"), "{reason}");

    // Version 1: contributions 1 and 2 in acceptance order.
    chain.ok(0, IDatanets::publishVersionCall { datanetId: 1 }.abi_encode());
    let v1 = chain.reader().version(1, 1).unwrap().unwrap();
    assert_eq!(v1.contributionCount, 2);
    let leaves = [merkle::leaf(1, 1, a, key(1).address()), merkle::leaf(1, 2, b, key(2).address())];
    assert_eq!(v1.root, merkle::root(&leaves));

    // Take-down: only the contributor; excluded from version 2, still in 1.
    let reason = chain.reverts(0, IDatanets::withdrawCall { contributionId: 1 }.abi_encode());
    assert!(reason.contains("only the contributor"), "{reason}");
    chain.ok(1, IDatanets::withdrawCall { contributionId: 1 }.abi_encode());
    assert_eq!(chain.reader().live_references(a).unwrap(), 0);
    chain.ok(0, IDatanets::publishVersionCall { datanetId: 1 }.abi_encode());
    assert_eq!(chain.reader().version_members(1, 1).unwrap(), vec![1, 2]);
    assert_eq!(chain.reader().version_members(1, 2).unwrap(), vec![2]);
    let v2 = chain.reader().version(1, 2).unwrap().unwrap();
    assert_eq!(v2.root, leaves[1]);

    // The index hash is recorded once, by the owner or a curator.
    let record = |hash: u8| {
        IDatanets::recordIndexCall {
            datanetId: 1,
            version: 2,
            indexHash: B256::repeat_byte(hash),
            tokenizer: "byte".into(),
        }
        .abi_encode()
    };
    let reason = chain.reverts(5, record(9));
    assert!(reason.contains("only the owner or a curator"), "{reason}");
    chain.ok(0, record(9));
    let reason = chain.reverts(0, record(8));
    assert!(reason.contains("already has index"), "{reason}");
    assert_eq!(chain.reader().version(1, 2).unwrap().unwrap().indexHash, B256::repeat_byte(9));
}

#[test]
fn duplicates_are_refused_and_near_duplicates_flagged() {
    let mut chain = Chain::new();
    chain.ok(0, create(config(Policy::Open)));
    let original = chain.blobs.add(1, 1, minhash(7), 10);
    let copy = chain.blobs.add(2, 1, minhash(7), 11);
    let mut close = minhash(7);
    for slot in close.iter_mut().take(10) {
        *slot ^= 0xffff;
    }
    let near = chain.blobs.add(3, 3, close, 12);
    let mut far_sig = minhash(7);
    for slot in far_sig.iter_mut().take(20) {
        *slot ^= 0xabcd;
    }
    let far = chain.blobs.add(4, 4, far_sig, 13);

    let out = chain.ok(1, contribute(1, original, 10));
    assert_eq!(out.receipts[0].logs().len(), 2, "submitted and (open policy) accepted");
    let reason = chain.reverts(2, contribute(1, copy, 11));
    assert!(reason.contains("duplicates accepted contribution 1"), "{reason}");
    let out = chain.ok(2, contribute(1, near, 12));
    let submitted =
        IDatanets::ContributionSubmitted::decode_log_data(&out.receipts[0].logs()[0].data).unwrap();
    assert_eq!(submitted.nearDuplicateOf, 1, "54 of 64 slots agree");
    chain.ok(3, contribute(1, far, 13));
    assert_eq!(
        chain.reader().contribution(3).unwrap().unwrap().nearDuplicateOf,
        0,
        "44 of 64 agree with 1, 34 with 2"
    );
}

#[test]
fn policies_sizes_formats_and_content_problems() {
    let mut chain = Chain::new();
    let mut allow = config(Policy::AllowList);
    allow.maxSubmissionBytes = 100;
    chain.ok(0, create(allow));
    let small = chain.blobs.add(1, 1, minhash(1), 50);
    let big = chain.blobs.add(2, 2, minhash(2), 101);
    let reason = chain.reverts(1, contribute(1, small, 50));
    assert!(reason.contains("allow-list"), "{reason}");
    chain.ok(
        0,
        IDatanets::setAllowedCall { datanetId: 1, account: key(1).address(), allowed: true }
            .abi_encode(),
    );
    let reason = chain.reverts(1, contribute(1, big, 101));
    assert!(reason.contains("over datanet 1's limit of 100 bytes"), "{reason}");
    let reason = chain.reverts(1, contribute(1, small, 49));
    assert!(reason.contains("declared size 49"), "{reason}");
    let missing = B256::repeat_byte(0x77);
    let reason = chain.reverts(1, contribute(1, missing, 5));
    assert!(reason.contains("not in the blob store"), "{reason}");
    let csv = IDatanets::contributeCall {
        datanetId: 1,
        contentHash: small,
        size: 50,
        format: Format::Csv,
        licence: String::new(),
    }
    .abi_encode();
    let reason = chain.reverts(1, csv);
    assert!(reason.contains("does not accept csv"), "{reason}");
    chain.ok(1, contribute(1, small, 50));
    let contribution = chain.reader().contribution(1).unwrap().unwrap();
    assert_eq!(contribution.status, Status::Accepted);
    assert_eq!(contribution.licence, "CC-BY-4.0", "inherits the datanet's licence");
    let reason = chain.reverts(2, contribute(9, small, 50));
    assert!(reason.contains("datanet 9 does not exist"), "{reason}");
}

#[test]
fn hostile_calls_revert_cleanly() {
    let mut chain = Chain::new();
    let reason = chain.reverts(0, vec![1, 2]);
    assert!(reason.contains("no function selector"), "{reason}");
    let reason = chain.reverts(0, vec![0xde, 0xad, 0xbe, 0xef, 0]);
    assert!(reason.contains("no function with selector 0xdeadbeef"), "{reason}");
    let mut truncated = create(config(Policy::Open));
    truncated.truncate(40);
    let reason = chain.reverts(0, truncated);
    assert!(reason.contains("malformed arguments"), "{reason}");
    let mut bad = config(Policy::Open);
    bad.name = String::new();
    assert!(chain.reverts(0, create(bad)).contains("needs a name"));
    let mut bad = config(Policy::Open);
    bad.licence = "MIT; rm -rf /".into();
    assert!(chain.reverts(0, create(bad)).contains("not an SPDX licence expression"));
    let mut bad = config(Policy::Open);
    bad.formats.clear();
    assert!(chain.reverts(0, create(bad)).contains("at least one format"));
    let mut bad = config(Policy::Open);
    bad.description = "x".repeat(20_000);
    assert!(chain.reverts(0, create(bad)).contains("at most 16384"));
    let mut bad = config(Policy::Open);
    bad.maxSubmissionBytes = u64::MAX;
    assert!(chain.reverts(0, create(bad)).contains("over the limit"));
    assert_eq!(chain.reader().datanet_count().unwrap(), 0, "nothing was created");

    // Out of gas: everything undone, the whole limit paid.
    let before = chain.balance(key(0).address());
    let out = chain.send_with_gas(0, create(config(Policy::Open)), 60_000);
    assert!(!out.receipts[0].success());
    assert_eq!(out.gas_used, 60_000);
    assert_eq!(chain.balance(key(0).address()), before - U256::from(60_000u64 * BASE_FEE));
    assert_eq!(chain.reader().datanet_count().unwrap(), 0);
}

#[test]
fn views_answer_through_the_abi() {
    let mut chain = Chain::new();
    chain.ok(0, create(config(Policy::Open)));
    let out = chain.simulate(5, &IDatanets::getDatanetCall { datanetId: 1 }.abi_encode());
    let datanet = IDatanets::getDatanetCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!(datanet.owner, key(0).address());
    assert_eq!(datanet.config.name, "Medical QA");
    assert_eq!(datanet.config.tags, vec!["medical".to_string(), "qa".to_string()]);
    let out = chain.simulate(5, &IDatanets::depositForCall { size: 5_000_000 }.abi_encode());
    let deposit = IDatanets::depositForCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!(deposit, Params::default().deposit_for(5_000_000));
    let out = chain.simulate(5, &IDatanets::getDatanetCall { datanetId: 2 }.abi_encode());
    assert_eq!(out.revert_reason.as_deref(), Some("datanet 2 does not exist"));
}
