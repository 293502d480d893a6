//! A small chain for the system contracts' tests: keys, a genesis, signed
//! transactions applied one block each through `execute_block`, content
//! facts as a node's blob store would give them.

use crate::{
    ChainSpec, ContentFacts, ContentProblem, ContentSource, ParseOptions,
    execution::{BlockOutcome, ExecutionMode, execute_block},
    genesis::{Allocation, Genesis},
    state::{MemoryState, StateView},
    system::{CallEnv, CallOutcome},
};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use ol_primitives::{Amount, BlockEnv, RecoveredTransaction};
use std::collections::HashMap;

pub(crate) const CHAIN: u64 = 1337;
pub(crate) const BASE_FEE: u64 = 1_000_000_000;
pub(crate) const ACCOUNTS: usize = 8;

/// The signing key of test account `i`.
pub(crate) fn key(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(i + 1)).unwrap()
}

/// The address of test account `i`.
pub(crate) fn account(i: u8) -> Address {
    key(i).address()
}

/// Content facts by hash, and the attribution an index gives each output.
#[derive(Default)]
pub(crate) struct Blobs(
    pub(crate) HashMap<B256, ContentFacts>,
    pub(crate) HashMap<String, Vec<(u64, u16)>>,
);

impl Blobs {
    /// Content `tag` of `size` bytes, unlike any other tag.
    pub(crate) fn add_distinct(&mut self, tag: u8, size: u64) -> B256 {
        let hash = B256::repeat_byte(tag);
        let minhash = std::array::from_fn(|i| u32::from(tag) << 16 | i as u32);
        self.0.insert(
            hash,
            ContentFacts { size, normalised_hash: B256::repeat_byte(tag ^ 0x80), minhash },
        );
        hash
    }
}

impl ContentSource for Blobs {
    fn facts(&self, hash: B256, _options: &ParseOptions) -> Result<ContentFacts, ContentProblem> {
        self.0.get(&hash).cloned().ok_or(ContentProblem::Unavailable(hash))
    }

    fn attribution(
        &self,
        request: &crate::AttributionRequest<'_>,
        withdrawn: &mut crate::IsWithdrawn<'_>,
        _members: &mut crate::VersionMembers<'_>,
    ) -> Result<Vec<(u64, u16)>, ContentProblem> {
        let no_index = ContentProblem::NoIndex {
            datanet: request.datanet,
            version: request.version,
            index_hash: request.index_hash,
        };
        let vector = self.1.get(request.output).ok_or(no_index)?;
        // As an index would: withdrawn contributions take no share.
        Ok(vector.iter().copied().filter(|(id, _)| !withdrawn(*id)).collect())
    }
}

pub(crate) struct Chain {
    pub(crate) spec: ChainSpec,
    pub(crate) state: MemoryState,
    pub(crate) nonces: [u64; ACCOUNTS],
    pub(crate) number: u64,
    pub(crate) blobs: Blobs,
}

impl Chain {
    /// Accounts 0..8 with 1000 OPEN each, the rest in a reserve.
    pub(crate) fn new() -> Self {
        let mut allocations: Vec<Allocation> = (0..ACCOUNTS as u8)
            .map(|i| Allocation {
                name: format!("k{i}"),
                address: account(i),
                amount: Amount::from_open(1000),
                vesting: None,
            })
            .collect();
        allocations.push(Allocation {
            name: "reserve".into(),
            address: Address::repeat_byte(0xaa),
            amount: Amount::from_open(1_000_000_000 - 1000 * ACCOUNTS as u64),
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
            nonces: [0; ACCOUNTS],
            number: 0,
            blobs: Blobs::default(),
        }
    }

    /// The environment of the next block (10 s of block time each).
    pub(crate) fn env(&self) -> BlockEnv {
        BlockEnv {
            number: self.number + 1,
            timestamp: (self.number + 1) * 10,
            beneficiary: Address::repeat_byte(0xee),
            base_fee: BASE_FEE,
            gas_limit: 30_000_000,
        }
    }

    /// Signs a call from account `from` to `to`.
    pub(crate) fn tx(&mut self, from: u8, to: Address, input: Vec<u8>) -> RecoveredTransaction {
        let tx = TxEip1559 {
            chain_id: CHAIN,
            nonce: self.nonces[from as usize],
            gas_limit: 10_000_000,
            max_fee_per_gas: 2 * u128::from(BASE_FEE),
            max_priority_fee_per_gas: 0,
            to: TxKind::Call(to),
            value: U256::ZERO,
            access_list: Default::default(),
            input: Bytes::from(input),
        };
        self.nonces[from as usize] += 1;
        let sig = key(from).sign_hash_sync(&tx.signature_hash()).unwrap();
        RecoveredTransaction::recover(TxEnvelope::from(tx.into_signed(sig))).unwrap()
    }

    /// Runs one call in its own block and applies it.
    pub(crate) fn send(&mut self, from: u8, to: Address, input: Vec<u8>) -> BlockOutcome {
        let tx = self.tx(from, to, input);
        let env = self.env();
        self.number += 1;
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

    /// Like [`Chain::send`], asserting success.
    pub(crate) fn ok(&mut self, from: u8, to: Address, input: Vec<u8>) -> BlockOutcome {
        let out = self.send(from, to, input);
        assert!(out.receipts[0].success(), "call by {from} to {to} reverted");
        out
    }

    /// Runs a call against the current state without applying it.
    pub(crate) fn simulate(&self, from: u8, to: Address, input: &[u8]) -> CallOutcome {
        let env = self.env();
        let call_env =
            CallEnv { spec: &self.spec, block: &env, caller: account(from), content: &self.blobs };
        crate::system::call(&self.state, call_env, to, input, 10_000_000).unwrap()
    }

    /// The reason a call reverts; it is then sent, and must change nothing
    /// but the sender's nonce and gas.
    pub(crate) fn reverts(&mut self, from: u8, to: Address, input: Vec<u8>) -> String {
        let reason = self.simulate(from, to, &input).revert_reason.expect("the call must revert");
        let before = self.state.clone();
        let out = self.send(from, to, input);
        assert!(!out.receipts[0].success());
        let gas = U256::from(out.receipts[0].gas_used) * U256::from(BASE_FEE);
        let sender = account(from);
        for (address, after) in &out.changes.accounts {
            let was = before.account(address).unwrap().unwrap_or_default();
            if *address == sender {
                assert_eq!(after.balance, was.balance - gas, "the sender pays only gas");
                assert_eq!(after.nonce, was.nonce + 1);
            } else if *address != ol_primitives::addresses::TREASURY {
                assert_eq!(after.balance, was.balance, "a reverted call moved OPEN of {address}");
            }
        }
        assert!(
            out.changes.storage.values().all(HashMap::is_empty),
            "a reverted call wrote storage"
        );
        reason
    }

    /// The trie balance of `who`.
    pub(crate) fn balance(&self, who: Address) -> U256 {
        self.state.account(&who).unwrap().unwrap_or_default().balance
    }

    /// The sum of every balance: always the supply.
    pub(crate) fn total_supply(&self) -> U256 {
        self.state.changes.accounts.values().fold(U256::ZERO, |sum, a| sum + a.balance)
    }
}
