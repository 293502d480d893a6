//! User contracts through signed transactions and the ledger's
//! `execute_block`, with hand-assembled bytecode.

mod system_contracts;

use super::*;
use alloy_consensus::{Header, SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{Log, TxKind, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{Revert, SolError};
use ol_ledger::{
    BlockOutcome, ExecutionMode, Genesis, InvalidTransaction, MemoryState, NoContent,
    execute_block, genesis::Allocation,
};
use ol_primitives::{Amount, RecoveredTransaction, addresses::TREASURY};

const CHAIN: u64 = 1337;
const BASE_FEE: u64 = 1_000_000_000;
const TOPIC: B256 = B256::repeat_byte(0xab);

fn key(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(i + 1)).expect("a valid key")
}

fn producer() -> Address {
    Address::repeat_byte(0xee)
}

/// Init code that deploys `runtime`: copy it to memory and return it.
fn deploy(runtime: &[u8]) -> Vec<u8> {
    let len = u16::try_from(runtime.len()).expect("small runtime");
    let mut code = vec![0x61];
    code.extend(len.to_be_bytes());
    code.extend([0x80, 0x61, 0x00, 0x0d, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3]);
    code.extend(runtime);
    code
}

/// With calldata: stores its first word in slot 0 and logs it under
/// [`TOPIC`]. Without: returns slot 0. Accepts value.
fn store_runtime() -> Vec<u8> {
    let mut code = vec![
        0x36, 0x15, 0x60, 0x36, 0x57, // if calldatasize == 0 jump to the read
        0x60, 0x00, 0x35, 0x80, 0x60, 0x00, 0x55, // sstore(0, word)
        0x60, 0x00, 0x52, // mstore(0, word)
        0x7f,
    ];
    code.extend(TOPIC.0);
    code.extend([0x60, 0x20, 0x60, 0x00, 0xa1, 0x00]); // log1(0, 32, TOPIC); stop
    code.extend([0x5b, 0x60, 0x00, 0x54, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3]);
    assert_eq!(code[0x36], 0x5b, "the read's JUMPDEST");
    code
}

/// Writes slot 0, then reverts with `Error("nope")`.
fn revert_runtime() -> Vec<u8> {
    let reason = Revert::from("nope").abi_encode();
    let len = u8::try_from(reason.len()).expect("short reason");
    let mut code = vec![0x60, 0x01, 0x60, 0x00, 0x55]; // sstore(0, 1)
    code.extend([0x60, len, 0x60, 0x11, 0x60, 0x00, 0x39, 0x60, len, 0x60, 0x00, 0xfd]);
    code.extend(reason);
    code
}

struct Chain {
    spec: ChainSpec,
    state: MemoryState,
    nonces: [u64; 4],
    number: u64,
}

impl Chain {
    fn new() -> Self {
        let mut allocations: Vec<Allocation> = (0..4)
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
            amount: Amount::from_open(1_000_000_000 - 4000),
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
        genesis.validate().expect("a valid genesis");
        let mut state = MemoryState::default();
        state.apply(genesis.state());
        Self { spec: genesis.chain_spec(), state, nonces: [0; 4], number: 0 }
    }

    fn env(&self) -> BlockEnv {
        BlockEnv {
            number: self.number,
            timestamp: self.number * 10,
            beneficiary: producer(),
            base_fee: BASE_FEE,
            gas_limit: 30_000_000,
        }
    }

    fn tx(
        &mut self,
        from: u8,
        kind: TxKind,
        value: U256,
        input: Vec<u8>,
        gas: u64,
    ) -> RecoveredTransaction {
        let tx = TxEip1559 {
            chain_id: CHAIN,
            nonce: self.nonces[from as usize],
            gas_limit: gas,
            max_fee_per_gas: 3 * u128::from(BASE_FEE),
            max_priority_fee_per_gas: u128::from(BASE_FEE),
            to: kind,
            value,
            access_list: Default::default(),
            input: input.into(),
        };
        self.nonces[from as usize] += 1;
        let signature = key(from).sign_hash_sync(&tx.signature_hash()).expect("signing");
        let envelope: TxEnvelope = tx.into_signed(signature).into();
        RecoveredTransaction::recover(envelope).expect("recoverable")
    }

    /// Runs transactions in one block (build mode) and applies it.
    fn block(&mut self, txs: Vec<RecoveredTransaction>) -> BlockOutcome {
        self.number += 1;
        let env = self.env();
        let out = execute_block(
            &self.spec,
            &self.state,
            &env,
            txs,
            ExecutionMode::Build,
            &NoContent,
            &Revm,
        )
        .expect("no database failure");
        self.state.apply(out.changes.clone());
        out
    }

    fn send(
        &mut self,
        from: u8,
        kind: TxKind,
        value: U256,
        input: Vec<u8>,
        gas: u64,
    ) -> BlockOutcome {
        let tx = self.tx(from, kind, value, input, gas);
        self.block(vec![tx])
    }

    fn create(&mut self, runtime: &[u8]) -> Address {
        let address = key(0).address().create(self.nonces[0]);
        let out = self.send(0, TxKind::Create, U256::ZERO, deploy(runtime), 500_000);
        assert!(out.receipts[0].success(), "deployment succeeds");
        assert_eq!(out.receipts[0].to, None);
        address
    }

    fn account(&self, address: &Address) -> ol_ledger::Account {
        self.state.account(address).expect("memory").unwrap_or_default()
    }

    fn total(&self) -> U256 {
        self.state.changes.accounts.values().fold(U256::ZERO, |sum, a| sum + a.balance)
    }
}

fn word(n: u64) -> Vec<u8> {
    B256::from(U256::from(n)).to_vec()
}

#[test]
fn deploy_store_log_and_read_back() {
    let mut chain = Chain::new();
    let contract = chain.create(&store_runtime());
    let account = chain.account(&contract);
    assert_eq!(account.nonce, 1, "EIP-161: a new contract starts at nonce 1");
    let code = chain.state.code(&account.code_hash).unwrap().expect("code stored by hash");
    assert_eq!(code.as_ref(), store_runtime().as_slice());
    assert_eq!(account.code_hash, keccak256(&code));

    let out = chain.send(1, TxKind::Call(contract), U256::ZERO, word(42), 100_000);
    let receipt = &out.receipts[0];
    assert!(receipt.success());
    assert_eq!(receipt.logs(), &[Log::new_unchecked(contract, vec![TOPIC], word(42).into())][..]);
    assert!(out.logs_bloom.contains_input(alloy_primitives::BloomInput::Raw(&TOPIC.0)));
    assert_eq!(chain.state.storage(&contract, &B256::ZERO).unwrap(), U256::from(42));
    // 21000 + calldata (31 zero bytes, one non-zero) + cold SSTORE + log.
    assert!(receipt.gas_used > 21_000 + 20_000, "{}", receipt.gas_used);

    // A call without data reads the slot back (as eth_call does).
    let call = ContractCall {
        sender: key(2).address(),
        kind: TxKind::Call(contract),
        value: U256::ZERO,
        input: &[],
        gas_limit: 100_000,
        gas_price: 0,
        nonce: None,
        access_list: None,
    };
    let read = Revm.transact(&chain.spec, &chain.state, &chain.env(), &call, &NoContent).unwrap();
    assert!(read.success);
    assert_eq!(read.output.as_ref(), word(42).as_slice());
    assert_eq!(chain.total(), Amount::total_supply().wei());
}

#[test]
fn revert_with_reason_changes_only_nonce_and_fees() {
    let mut chain = Chain::new();
    let contract = chain.create(&revert_runtime());
    let sender = key(1).address();
    let before = chain.account(&sender);
    let treasury = chain.account(&TREASURY).balance;
    let out = chain.send(1, TxKind::Call(contract), U256::from(7), vec![], 100_000);
    let receipt = &out.receipts[0];
    assert!(!receipt.success());
    assert!(receipt.logs().is_empty());
    assert!(receipt.gas_used < 100_000, "a revert refunds the gas left");
    assert_eq!(chain.state.storage(&contract, &B256::ZERO).unwrap(), U256::ZERO);
    let after = chain.account(&sender);
    assert_eq!(after.nonce, before.nonce + 1);
    let fee = U256::from(receipt.gas_used) * U256::from(2 * BASE_FEE);
    assert_eq!(after.balance, before.balance - fee, "the value stays with the sender");
    assert_eq!(chain.account(&contract).balance, U256::ZERO);
    assert_eq!(
        chain.account(&TREASURY).balance - treasury,
        U256::from(receipt.gas_used) * U256::from(BASE_FEE)
    );

    let call = ContractCall {
        sender,
        kind: TxKind::Call(contract),
        value: U256::ZERO,
        input: &[],
        gas_limit: 100_000,
        gas_price: 0,
        nonce: None,
        access_list: None,
    };
    let outcome =
        Revm.transact(&chain.spec, &chain.state, &chain.env(), &call, &NoContent).unwrap();
    assert!(!outcome.success);
    assert_eq!(outcome.output.as_ref(), Revert::from("nope").abi_encode().as_slice());
    assert_eq!(chain.total(), Amount::total_supply().wei());
}

#[test]
fn out_of_gas_consumes_the_whole_limit() {
    let mut chain = Chain::new();
    let contract = chain.create(&[0x5b, 0x60, 0x00, 0x56]); // loop forever
    let out = chain.send(1, TxKind::Call(contract), U256::ZERO, vec![], 60_000);
    assert!(!out.receipts[0].success());
    assert_eq!(out.receipts[0].gas_used, 60_000);
    assert_eq!(chain.total(), Amount::total_supply().wei());
}

#[test]
fn eip170_oversize_code_fails_and_eip3860_oversize_initcode_is_refused() {
    let mut chain = Chain::new();
    // return(0, 0x6001): one byte over EIP-170's limit.
    let init = vec![0x62, 0x00, 0x60, 0x01, 0x60, 0x00, 0xf3];
    let address = key(0).address().create(0);
    let out = chain.send(0, TxKind::Create, U256::ZERO, init, 200_000);
    assert!(!out.receipts[0].success());
    assert_eq!(out.receipts[0].gas_used, 200_000, "an exceptional halt takes all the gas");
    assert_eq!(chain.account(&address).code_hash, EMPTY_CODE_HASH);
    assert_eq!(chain.account(&key(0).address()).nonce, 1);

    let big = vec![0u8; ol_ledger::contracts::MAX_INITCODE_SIZE + 1];
    let out = chain.send(0, TxKind::Create, U256::ZERO, big, 10_000_000);
    assert!(out.included.is_empty());
    assert!(matches!(out.excluded[0].1, InvalidTransaction::InitcodeTooLarge { .. }));
    assert!(out.changes.accounts.keys().all(|a| *a == TREASURY), "nothing but fee routing");
}

#[test]
fn value_transfer_to_a_contract_runs_its_code() {
    let mut chain = Chain::new();
    let contract = chain.create(&store_runtime());
    let out = chain.send(2, TxKind::Call(contract), U256::from(1_000), word(5), 100_000);
    assert!(out.receipts[0].success());
    assert_eq!(out.receipts[0].logs().len(), 1, "the code ran");
    assert_eq!(chain.account(&contract).balance, U256::from(1_000));
    assert_eq!(chain.total(), Amount::total_supply().wei());
}

#[test]
fn without_a_runtime_creation_is_refused() {
    let mut chain = Chain::new();
    let tx = chain.tx(0, TxKind::Create, U256::ZERO, deploy(&store_runtime()), 500_000);
    let env = chain.env();
    let out = execute_block(
        &chain.spec,
        &chain.state,
        &env,
        vec![tx],
        ExecutionMode::Build,
        &NoContent,
        &ol_ledger::NoContracts,
    )
    .unwrap();
    assert_eq!(out.excluded[0].1, InvalidTransaction::CreateNotSupported);
}

/// The same transactions give the same state root twice, the root commits
/// to code and storage, and the store keeps the code.
#[test]
fn state_root_is_deterministic_and_covers_contracts() {
    let run = || {
        let dir = tempfile::tempdir().unwrap();
        let store = ol_storage::Store::open(dir.path()).unwrap();
        let mut chain = Chain::new();
        let genesis = store.init_genesis(&chain.state.changes, Header::default()).unwrap();
        let mut roots = vec![genesis.header.state_root];
        let mut parent = genesis.hash;
        let create = chain.tx(0, TxKind::Create, U256::ZERO, deploy(&store_runtime()), 500_000);
        let contract = key(0).address().create(0);
        let call = chain.tx(1, TxKind::Call(contract), U256::ZERO, word(9), 100_000);
        for tx in [create, call] {
            let out = chain.block(vec![tx]);
            let sealed = store
                .commit_block(
                    &out.changes,
                    |state_root| Header {
                        number: chain.number,
                        parent_hash: parent,
                        state_root,
                        ..Header::default()
                    },
                    &out.included,
                    &out.receipts,
                )
                .unwrap();
            parent = sealed.hash;
            roots.push(sealed.header.state_root);
        }
        let snapshot = store.snapshot().unwrap();
        let account = snapshot.account(&contract).unwrap().unwrap();
        let code = snapshot.code(&account.code_hash).unwrap().unwrap();
        assert_eq!(code.as_ref(), store_runtime().as_slice());
        assert_eq!(snapshot.storage(&contract, &B256::ZERO).unwrap(), U256::from(9));
        let proof = snapshot.account_proof(contract, &[B256::ZERO]);
        assert_eq!(proof.code_hash, account.code_hash);
        assert_eq!(proof.storage_proof[0].value, U256::from(9));
        roots
    };
    let first = run();
    assert_eq!(first, run());
    assert_ne!(first[1], first[2], "the storage write moves the root");
    assert_ne!(first[0], first[1]);
}
