//! The model registry through signed transactions and `execute_block`.

use super::*;
use crate::{
    datanets::{self, DATANETS, IDatanets},
    state::StateView,
    test_chain::{BASE_FEE, Chain, key},
};
use ol_primitives::Amount;

/// A chain where account 3 holds only 5 OPEN (less than the deployment fee).
fn chain() -> Chain {
    let mut chain = Chain::new();
    let poor = key(3).address();
    let reserve = Address::repeat_byte(0xaa);
    let mut changes = crate::StateChanges::default();
    let moved = chain.balance(poor) - Amount::from_open(5).wei();
    let mut account = chain.state.account(&poor).unwrap().unwrap();
    account.balance -= moved;
    changes.accounts.insert(poor, account);
    let mut rich = chain.state.account(&reserve).unwrap().unwrap();
    rich.balance += moved;
    changes.accounts.insert(reserve, rich);
    chain.state.apply(changes);
    chain
}

/// A call to the registry that must succeed.
fn ok(chain: &mut Chain, from: u8, input: Vec<u8>) -> crate::BlockOutcome {
    chain.ok(from, MODELS, input)
}

/// The reason a call to the registry reverts (it then changes nothing).
fn reverts(chain: &mut Chain, from: u8, input: Vec<u8>) -> String {
    chain.reverts(from, MODELS, input)
}

/// A datanet with one published version of one contribution.
fn publish_datanet_version(chain: &mut Chain) {
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
    chain.ok(0, DATANETS, IDatanets::createDatanetCall { config }.abi_encode());
    let hash = chain.blobs.add_distinct(1, 10);
    let contribute = IDatanets::contributeCall {
        datanetId: 1,
        contentHash: hash,
        size: 10,
        format: datanets::Format::Text,
        licence: String::new(),
    };
    chain.ok(1, DATANETS, contribute.abi_encode());
    chain.ok(0, DATANETS, IDatanets::publishVersionCall { datanetId: 1 }.abi_encode());
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
    let mut chain = chain();
    publish_datanet_version(&mut chain);
    let treasury = chain.balance(TREASURY);
    let out = ok(&mut chain, 0, register(config()));
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

    let reason = reverts(
        &mut chain,
        1,
        IModels::setPricesCall {
            modelId: 1,
            inputPricePer1k: U256::ZERO,
            outputPricePer1k: U256::ZERO,
        }
        .abi_encode(),
    );
    assert!(reason.contains("only the owner of model 1"), "{reason}");
    ok(
        &mut chain,
        0,
        IModels::setPricesCall {
            modelId: 1,
            inputPricePer1k: U256::from(5),
            outputPricePer1k: U256::from(6),
        }
        .abi_encode(),
    );
    ok(
        &mut chain,
        0,
        IModels::setProvidersCall { modelId: 1, providers: vec![key(2).address()] }.abi_encode(),
    );
    let mut reader = ModelsReader::new(&chain.state);
    let model = reader.model(1).unwrap().unwrap();
    assert_eq!(model.config.outputPricePer1k, U256::from(6));
    assert!(!reader.is_provider(1, key(1).address()).unwrap(), "replaced providers lose the right");
    assert!(reader.is_provider(1, key(2).address()).unwrap());

    ok(&mut chain, 0, IModels::retireCall { modelId: 1 }.abi_encode());
    assert!(ModelsReader::new(&chain.state).model(1).unwrap().unwrap().retired);
    let reason = reverts(
        &mut chain,
        0,
        IModels::setPricesCall {
            modelId: 1,
            inputPricePer1k: U256::ZERO,
            outputPricePer1k: U256::ZERO,
        }
        .abi_encode(),
    );
    assert!(reason.contains("model 1 is retired"), "{reason}");
    let reason = reverts(&mut chain, 0, IModels::retireCall { modelId: 2 }.abi_encode());
    assert!(reason.contains("model 2 does not exist"), "{reason}");
}

#[test]
fn refusals() {
    let mut chain = chain();
    publish_datanet_version(&mut chain);
    let mut bad = config();
    bad.trainedOn = vec![DatanetVersion { datanetId: 1, version: 2 }];
    assert!(reverts(&mut chain, 0, register(bad)).contains("datanet 1 has no published version 2"));
    let mut bad = config();
    bad.trainedOn.clear();
    assert!(reverts(&mut chain, 0, register(bad)).contains("at least one datanet version"));
    let mut bad = config();
    bad.weightsHash = B256::ZERO;
    assert!(reverts(&mut chain, 0, register(bad)).contains("sha256 of its weights"));
    let mut bad = config();
    bad.kind = Kind::Adapter;
    assert!(reverts(&mut chain, 0, register(bad)).contains("base model"));
    let mut bad = config();
    bad.providers = vec![key(1).address(), key(1).address()];
    assert!(reverts(&mut chain, 0, register(bad)).contains("listed twice"));
    let mut bad = config();
    bad.name = "x".repeat(65);
    assert!(reverts(&mut chain, 0, register(bad)).contains("at most 64"));
    // Account 3 holds 5 OPEN: less than the 10 OPEN fee.
    assert!(reverts(&mut chain, 3, register(config())).contains("the deployment fee is"));
    assert!(
        reverts(&mut chain, 0, vec![0xde, 0xad, 0xbe, 0xef]).contains("no function with selector")
    );
    assert_eq!(ModelsReader::new(&chain.state).model_count().unwrap(), 0, "nothing registered");
}
