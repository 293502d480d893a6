//! The model registry through signed transactions and `execute_block`.

use super::*;
use crate::{
    ChainSpec,
    content::NoContent,
    datanets::{self, DATANETS, IDatanets},
    execution::{BlockOutcome, ExecutionMode, execute_block},
    genesis::{Allocation, Genesis},
    state::{MemoryState, StateView},
    system::{CallEnv, CallOutcome},
};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::TxKind;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use ol_primitives::{Amount, BlockEnv, RecoveredTransaction};

const BASE_FEE: u64 = 1_000_000_000;

fn key(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(i + 1)).unwrap()
}

struct Chain {
    spec: ChainSpec,
    state: MemoryState,
    nonces: [u64; 4],
    number: u64,
}

impl Chain {
    /// Accounts 0..3 with 1000 OPEN, except account 3 with 5 OPEN.
    fn new() -> Self {
        let mut allocations: Vec<Allocation> = (0..4)
            .map(|i| Allocation {
                name: format!("k{i}"),
                address: key(i).address(),
                amount: Amount::from_open(if i == 3 { 5 } else { 1000 }),
                vesting: None,
            })
            .collect();
        allocations.push(Allocation {
            name: "reserve".into(),
            address: Address::repeat_byte(0xaa),
            amount: Amount::from_open(1_000_000_000 - 3005),
            vesting: None,
        });
        let genesis = Genesis {
            chain_id: 1337,
            timestamp: 0,
            gas_limit: 30_000_000,
            base_fee_per_gas: BASE_FEE,
            allocations,
        };
        let mut state = MemoryState::default();
        state.apply(genesis.state());
        Self { spec: genesis.chain_spec(), state, nonces: [0; 4], number: 0 }
    }

    fn env(&self) -> BlockEnv {
        BlockEnv {
            number: self.number + 1,
            timestamp: (self.number + 1) * 10,
            beneficiary: Address::repeat_byte(0xee),
            base_fee: BASE_FEE,
            gas_limit: 30_000_000,
        }
    }

    fn send(&mut self, from: u8, to: Address, input: Vec<u8>) -> BlockOutcome {
        let tx = TxEip1559 {
            chain_id: 1337,
            nonce: self.nonces[from as usize],
            gas_limit: 3_000_000,
            max_fee_per_gas: 2 * u128::from(BASE_FEE),
            max_priority_fee_per_gas: 0,
            to: TxKind::Call(to),
            value: U256::ZERO,
            access_list: Default::default(),
            input: Bytes::from(input),
        };
        self.nonces[from as usize] += 1;
        let sig = key(from).sign_hash_sync(&tx.signature_hash()).unwrap();
        let tx = RecoveredTransaction::recover(TxEnvelope::from(tx.into_signed(sig))).unwrap();
        let env = self.env();
        self.number += 1;
        let out = execute_block(
            &self.spec,
            &self.state,
            &env,
            vec![tx],
            ExecutionMode::Verify,
            &NoContent,
        )
        .unwrap();
        self.state.apply(out.changes.clone());
        out
    }

    fn ok(&mut self, from: u8, input: Vec<u8>) -> BlockOutcome {
        let out = self.send(from, MODELS, input);
        assert!(out.receipts[0].success(), "call by {from} reverted");
        out
    }

    fn simulate(&self, from: u8, input: &[u8]) -> CallOutcome {
        let env = self.env();
        let call_env = CallEnv {
            spec: &self.spec,
            block: &env,
            caller: key(from).address(),
            content: &NoContent,
        };
        crate::system::call(&self.state, call_env, MODELS, input, 10_000_000).unwrap()
    }

    /// The reason a call would revert; sending it then changes nothing but gas.
    fn reverts(&mut self, from: u8, input: Vec<u8>) -> String {
        let reason = self.simulate(from, &input).revert_reason.expect("the call must revert");
        let before = self.balance(key(from).address());
        let out = self.send(from, MODELS, input);
        assert!(!out.receipts[0].success());
        let gas = U256::from(out.receipts[0].gas_used) * U256::from(BASE_FEE);
        assert_eq!(self.balance(key(from).address()), before - gas);
        reason
    }

    fn balance(&self, who: Address) -> U256 {
        self.state.account(&who).unwrap().unwrap_or_default().balance
    }

    /// A datanet with one published version, made through its own contract
    /// storage (the datanets contract's own tests cover how it gets there).
    fn publish_datanet_version(&mut self) {
        let config = datanets::DatanetConfig {
            name: "d".into(),
            summary: String::new(),
            description: String::new(),
            tags: vec![],
            licence: "MIT".into(),
            customTermsHash: B256::ZERO,
            policy: datanets::Policy::Open,
            maxSubmissionBytes: 0,
            formats: vec![datanets::Format::Text],
            jsonlField: String::new(),
            csvColumn: String::new(),
        };
        let out = self.send(0, DATANETS, IDatanets::createDatanetCall { config }.abi_encode());
        assert!(out.receipts[0].success());
        // A version needs an accepted contribution: write one's minimum directly.
        let mut frame = crate::system::read_frame(&self.state, DATANETS);
        let accepted =
            crate::system::slots::slot("datanet.accepted", &[KeyPart::U64(1), KeyPart::U64(1)]);
        frame.store(accepted, U256::from(1)).unwrap();
        let contribution = crate::system::slots::slot("contribution", &[KeyPart::U64(1)]);
        // datanet 1, size 1, format 0 | status Accepted (2) << 8, block 1.
        frame.store(contribution, pack([1, 1, 2 << 8, 1])).unwrap();
        frame.store(field(contribution, 5), pack([0, 1, 0, 0])).unwrap();
        let counts = field(crate::system::slots::slot("datanet", &[KeyPart::U64(1)]), 1);
        frame.store(counts, pack([1, 1, 0, 1])).unwrap();
        let changes = frame.state.into_changes();
        self.state.apply(changes);
        let out =
            self.send(0, DATANETS, IDatanets::publishVersionCall { datanetId: 1 }.abi_encode());
        assert!(out.receipts[0].success());
    }
}

fn config() -> ModelConfig {
    ModelConfig {
        name: "harbour-lm".into(),
        baseModel: B256::ZERO,
        trainedOn: vec![DatanetVersion { datanetId: 1, version: 1 }],
        trainingConfigHash: B256::repeat_byte(0xc0),
        weightsHash: B256::repeat_byte(0x77),
        kind: Kind::Full,
        inputPricePer1k: U256::from(1_000u64),
        outputPricePer1k: U256::from(2_000u64),
        providers: vec![key(1).address()],
    }
}

fn register(config: ModelConfig) -> Vec<u8> {
    IModels::registerModelCall { config }.abi_encode()
}

#[test]
fn register_update_retire() {
    let mut chain = Chain::new();
    chain.publish_datanet_version();
    let treasury = chain.balance(TREASURY);
    let out = chain.ok(0, register(config()));
    let event = IModels::ModelRegistered::decode_log_data(&out.receipts[0].logs()[0].data).unwrap();
    assert_eq!(event.modelId, 1);
    let fee = Params::default().deployment_fee;
    assert_eq!(event.deploymentFee, fee);
    let gas = U256::from(out.gas_used) * U256::from(BASE_FEE);
    assert_eq!(chain.balance(TREASURY), treasury + fee + gas, "the fee goes to the treasury");

    let mut reader = ModelsReader::new(&chain.state);
    let model = reader.model(1).unwrap().unwrap();
    assert_eq!(model.owner, key(0).address());
    assert_eq!(model.config, config());
    assert!(reader.is_provider(1, key(1).address()).unwrap());
    assert!(!reader.is_provider(1, key(2).address()).unwrap());

    let reason = chain.reverts(
        1,
        IModels::setPricesCall {
            modelId: 1,
            inputPricePer1k: U256::ZERO,
            outputPricePer1k: U256::ZERO,
        }
        .abi_encode(),
    );
    assert!(reason.contains("only the owner of model 1"), "{reason}");
    chain.ok(
        0,
        IModels::setPricesCall {
            modelId: 1,
            inputPricePer1k: U256::from(5),
            outputPricePer1k: U256::from(6),
        }
        .abi_encode(),
    );
    chain.ok(
        0,
        IModels::setProvidersCall { modelId: 1, providers: vec![key(2).address()] }.abi_encode(),
    );
    let mut reader = ModelsReader::new(&chain.state);
    let model = reader.model(1).unwrap().unwrap();
    assert_eq!(model.config.outputPricePer1k, U256::from(6));
    assert!(!reader.is_provider(1, key(1).address()).unwrap(), "replaced providers lose the right");
    assert!(reader.is_provider(1, key(2).address()).unwrap());

    chain.ok(0, IModels::retireCall { modelId: 1 }.abi_encode());
    assert!(ModelsReader::new(&chain.state).model(1).unwrap().unwrap().retired);
    let reason = chain.reverts(
        0,
        IModels::setPricesCall {
            modelId: 1,
            inputPricePer1k: U256::ZERO,
            outputPricePer1k: U256::ZERO,
        }
        .abi_encode(),
    );
    assert!(reason.contains("model 1 is retired"), "{reason}");
    let reason = chain.reverts(0, IModels::retireCall { modelId: 2 }.abi_encode());
    assert!(reason.contains("model 2 does not exist"), "{reason}");
}

#[test]
fn refusals() {
    let mut chain = Chain::new();
    chain.publish_datanet_version();
    let mut bad = config();
    bad.trainedOn = vec![DatanetVersion { datanetId: 1, version: 2 }];
    assert!(chain.reverts(0, register(bad)).contains("datanet 1 has no published version 2"));
    let mut bad = config();
    bad.trainedOn.clear();
    assert!(chain.reverts(0, register(bad)).contains("at least one datanet version"));
    let mut bad = config();
    bad.weightsHash = B256::ZERO;
    assert!(chain.reverts(0, register(bad)).contains("sha256 of its weights"));
    let mut bad = config();
    bad.kind = Kind::Adapter;
    assert!(chain.reverts(0, register(bad)).contains("base model"));
    let mut bad = config();
    bad.providers = vec![key(1).address(), key(1).address()];
    assert!(chain.reverts(0, register(bad)).contains("listed twice"));
    let mut bad = config();
    bad.name = "x".repeat(65);
    assert!(chain.reverts(0, register(bad)).contains("at most 64"));
    // Account 3 holds 5 OPEN: less than the 10 OPEN fee.
    assert!(chain.reverts(3, register(config())).contains("the deployment fee is"));
    assert!(chain.reverts(0, vec![0xde, 0xad, 0xbe, 0xef]).contains("no function with selector"));
    assert_eq!(ModelsReader::new(&chain.state).model_count().unwrap(), 0, "nothing registered");
}
