//! Settlement through signed transactions and `execute_block`.

use super::*;
use crate::{
    datanets::{DATANETS, DatanetConfig, Format, IDatanets, Policy},
    models::{DatanetVersion, IModels, Kind, MODELS, ModelConfig},
    test_chain::{Chain, account, key},
};
use alloy_signer::SignerSync;

pub(super) const OWNER: u8 = 0; // owns the datanet
pub(super) const MODEL_OWNER: u8 = 4;
pub(super) const PROVIDER: u8 = 5;
pub(super) const PAYER: u8 = 6;
pub(super) const STRANGER: u8 = 7;
pub(super) const INDEX: B256 = B256::repeat_byte(0x11);

pub(super) fn open(amount: u64) -> U256 {
    U256::from(amount) * U256::from(10u64).pow(U256::from(18))
}

/// A datanet with contributions 1, 2, 3 by accounts 1, 2, 3 in version 1
/// (index recorded), contribution 4 by account 1 accepted after it, and
/// model 1 trained on version 1, served by PROVIDER: 0.1 OPEN per 1,000
/// input tokens, 1 OPEN per 1,000 output tokens.
pub(super) fn setup() -> Chain {
    let mut chain = Chain::new();
    let config = DatanetConfig {
        name: "harbour".into(),
        summary: String::new(),
        description: String::new(),
        tags: vec![],
        licence: "CC-BY-4.0".into(),
        customTermsHash: B256::ZERO,
        policy: Policy::Open,
        maxSubmissionBytes: 0,
        formats: vec![Format::Text],
        jsonlField: String::new(),
        csvColumn: String::new(),
    };
    chain.ok(OWNER, DATANETS, IDatanets::createDatanetCall { config }.abi_encode());
    for contributor in 1..=3u8 {
        contribute(&mut chain, contributor, contributor);
    }
    chain.ok(OWNER, DATANETS, IDatanets::publishVersionCall { datanetId: 1 }.abi_encode());
    chain.ok(
        OWNER,
        DATANETS,
        IDatanets::recordIndexCall {
            datanetId: 1,
            version: 1,
            indexHash: INDEX,
            tokenizer: "bytes".into(),
        }
        .abi_encode(),
    );
    contribute(&mut chain, 1, 9);
    let model = ModelConfig {
        name: "harbour-lm".into(),
        baseModel: B256::ZERO,
        trainedOn: vec![DatanetVersion { datanetId: 1, version: 1 }],
        trainingConfigHash: B256::repeat_byte(0xc0),
        weightsHash: B256::repeat_byte(0x77),
        kind: Kind::Full,
        inputPricePer1k: open(1) / U256::from(10u64),
        outputPricePer1k: open(1),
        providers: vec![account(PROVIDER)],
    };
    chain.ok(MODEL_OWNER, MODELS, IModels::registerModelCall { config: model }.abi_encode());
    chain
}

pub(super) fn contribute(chain: &mut Chain, from: u8, tag: u8) {
    let hash = chain.blobs.add_distinct(tag, 100);
    let call = IDatanets::contributeCall {
        datanetId: 1,
        contentHash: hash,
        size: 100,
        format: Format::Text,
        licence: String::new(),
    };
    chain.ok(from, DATANETS, call.abi_encode());
}

/// The fee of 500 input and 256 output tokens: 0.05 + 0.256 + 0.001 OPEN.
pub(super) fn fee() -> U256 {
    U256::from(307_000_000_000_000_000u128)
}

pub(super) fn settlement(nonce: u64, attribution: Vec<(u64, u16)>) -> Settlement {
    Settlement {
        modelId: 1,
        payer: account(PAYER),
        promptHash: B256::repeat_byte(0xa1),
        outputHash: B256::repeat_byte(0xb2),
        inputTokens: 500,
        outputTokens: 256,
        fee: fee(),
        datanetId: 1,
        version: 1,
        indexHash: INDEX,
        attribution: attribution
            .into_iter()
            .map(|(id, bps)| Attributed { contributionId: id, bps })
            .collect(),
        maxFee: open(1),
        nonce: U256::from(nonce),
        expiry: 1_000_000,
    }
}

pub(super) fn sign(signer: u8, s: &Settlement, provider: u8) -> Vec<u8> {
    let authorization = InferenceAuthorization {
        modelId: s.modelId,
        provider: account(provider),
        maxFee: s.maxFee,
        nonce: s.nonce,
        expiry: s.expiry,
    };
    let hash = authorization_signing_hash(crate::test_chain::CHAIN, &authorization);
    key(signer).sign_hash_sync(&hash).unwrap().as_bytes().to_vec()
}

pub(super) fn settle_call(s: &Settlement, signature: Vec<u8>) -> Vec<u8> {
    IInference::settleCall { settlement: s.clone(), signature: signature.into() }.abi_encode()
}

pub(super) fn signed(s: &Settlement) -> Vec<u8> {
    settle_call(s, sign(PAYER, s, PROVIDER))
}

pub(super) fn reader(chain: &Chain) -> InferenceReader<'_, crate::MemoryState> {
    InferenceReader::new(&chain.state)
}

#[test]
fn signed_settlement_splits_the_fee_by_attribution() {
    let mut chain = setup();
    let supply = chain.total_supply();
    let payer_before = chain.balance(account(PAYER));
    let treasury_before = chain.balance(TREASURY);
    let s = settlement(1, vec![(1, 5_000), (2, 3_000), (3, 2_000)]);
    let out = chain.ok(PROVIDER, INFERENCE, signed(&s));
    assert_eq!(chain.total_supply(), supply, "nothing created or lost");
    assert_eq!(chain.balance(account(PAYER)), payer_before - fee(), "the payer pays the fee");

    let rest = fee() - Params::default().platform_fee; // 0.306 OPEN
    let bps = |x: u64| rest * U256::from(x) / U256::from(10_000u64);
    let mut r = reader(&chain);
    assert_eq!(r.rewards_of(account(MODEL_OWNER)).unwrap(), bps(2_000));
    assert_eq!(r.rewards_of(account(PROVIDER)).unwrap(), bps(1_000));
    // The stakers' share went to the staking pool (queued: nothing is bonded).
    assert_eq!(r.rewards_of(STAKING).unwrap(), U256::ZERO);
    assert_eq!(chain.balance(STAKING), bps(2_000));
    let pool = crate::staking::StakingReader::new(&chain.state).reward_pool().unwrap();
    assert_eq!((pool.distributed, pool.queued), (bps(2_000), bps(2_000)));
    let contributors = bps(5_000);
    for (who, weight) in [(1u8, 5_000u64), (2, 3_000), (3, 2_000)] {
        let want = contributors * U256::from(weight) / U256::from(10_000u64);
        assert_eq!(r.rewards_of(account(who)).unwrap(), want, "contributor {who}");
        let earnings = r.earnings(account(who)).unwrap();
        assert_eq!(earnings.per_datanet, vec![(1, want)]);
        assert_eq!(earnings.per_model, vec![(1, want)]);
    }
    let gas = U256::from(out.gas_used) * U256::from(crate::test_chain::BASE_FEE);
    // The rest divides evenly, so the treasury gets the platform fee and gas alone.
    assert_eq!(chain.balance(TREASURY), treasury_before + Params::default().platform_fee + gas);

    let record = reader(&chain).inference(1).unwrap().unwrap();
    assert_eq!(record.fee, fee());
    assert_eq!(record.provider, account(PROVIDER));
    assert_eq!(record.attributionHash, attribution_hash(&s.attribution));
    let logs = out.receipts[0].logs();
    let settled = logs.iter().find_map(|l| IInference::Settled::decode_log_data(&l.data).ok());
    assert_eq!(settled.unwrap().fee, fee());
    let credits: Vec<_> =
        logs.iter().filter_map(|l| IInference::Credited::decode_log_data(&l.data).ok()).collect();
    assert_eq!(credits.len(), 6, "owner, provider, stakers and three contributors");

    // Contributors claim; a second claim has nothing left.
    let before = chain.balance(account(2));
    let out = chain.ok(2, INFERENCE, IInference::claimCall {}.abi_encode());
    let gas = U256::from(out.gas_used) * U256::from(crate::test_chain::BASE_FEE);
    let earned = contributors * U256::from(3_000u64) / U256::from(10_000u64);
    assert_eq!(chain.balance(account(2)), before + earned - gas);
    assert_eq!(chain.total_supply(), supply);
    let reason = chain.reverts(2, INFERENCE, IInference::claimCall {}.abi_encode());
    assert!(reason.contains("no rewards to claim"), "{reason}");
    // The contract holds exactly the unclaimed rewards.
    let mut r = reader(&chain);
    let unclaimed = [account(1), account(3), account(MODEL_OWNER), account(PROVIDER)]
        .into_iter()
        .fold(U256::ZERO, |sum, who| sum + r.rewards_of(who).unwrap());
    assert_eq!(chain.balance(INFERENCE), unclaimed);
}

#[test]
fn an_authorisation_settles_once_and_within_its_terms() {
    let mut chain = setup();
    let s = settlement(7, vec![(1, 10_000)]);
    chain.ok(PROVIDER, INFERENCE, signed(&s));
    let reason = chain.reverts(PROVIDER, INFERENCE, signed(&s));
    assert!(reason.contains("nonce 7") && reason.contains("already settled"), "{reason}");

    let mut expired = settlement(8, vec![(1, 10_000)]);
    expired.expiry = 5;
    let reason = chain.reverts(PROVIDER, INFERENCE, signed(&expired));
    assert!(reason.contains("expired at 5"), "{reason}");

    let mut capped = settlement(9, vec![(1, 10_000)]);
    capped.maxFee = fee() - U256::from(1);
    let reason = chain.reverts(PROVIDER, INFERENCE, signed(&capped));
    assert!(reason.contains("above the authorised maximum"), "{reason}");

    // Signed for another provider; signed by someone else; tampered terms.
    let s = settlement(10, vec![(1, 10_000)]);
    let reason = chain.reverts(PROVIDER, INFERENCE, settle_call(&s, sign(PAYER, &s, STRANGER)));
    assert!(reason.contains("not by the payer"), "{reason}");
    let reason = chain.reverts(PROVIDER, INFERENCE, settle_call(&s, sign(STRANGER, &s, PROVIDER)));
    assert!(reason.contains("not by the payer"), "{reason}");
    let mut raised = s.clone();
    raised.maxFee = open(100);
    let reason =
        chain.reverts(PROVIDER, INFERENCE, settle_call(&raised, sign(PAYER, &s, PROVIDER)));
    assert!(reason.contains("not by the payer"), "{reason}");
    let reason = chain.reverts(PROVIDER, INFERENCE, settle_call(&s, vec![1, 2, 3]));
    assert!(reason.contains("65 bytes"), "{reason}");

    let mut wrong_fee = settlement(11, vec![(1, 10_000)]);
    wrong_fee.fee = fee() + U256::from(1);
    let reason = chain.reverts(PROVIDER, INFERENCE, signed(&wrong_fee));
    assert!(reason.contains("states a fee of"), "{reason}");
    assert!(!reader(&chain).nonce_used(account(PAYER), U256::from(11)).unwrap());
}

#[test]
fn only_allowed_providers_of_live_models_settle() {
    let mut chain = setup();
    let s = settlement(1, vec![(1, 10_000)]);
    let reason = chain.reverts(STRANGER, INFERENCE, settle_call(&s, sign(PAYER, &s, STRANGER)));
    assert!(reason.contains("not an allowed provider of model 1"), "{reason}");
    let mut unknown = settlement(1, vec![(1, 10_000)]);
    unknown.modelId = 9;
    let reason = chain.reverts(PROVIDER, INFERENCE, signed(&unknown));
    assert!(reason.contains("model 9 does not exist"), "{reason}");
    chain.ok(MODEL_OWNER, MODELS, IModels::retireCall { modelId: 1 }.abi_encode());
    let reason = chain.reverts(PROVIDER, INFERENCE, signed(&s));
    assert!(reason.contains("retired"), "{reason}");
}

#[test]
fn attribution_vectors_are_checked() {
    let mut chain = setup();
    let cases: Vec<(Vec<(u64, u16)>, &str)> = vec![
        (vec![(1, 5_000), (2, 4_000)], "sum to 9000 bps"),
        (vec![(1, 5_000), (2, 6_000)], "sum to 11000 bps"),
        (vec![(2, 5_000), (1, 5_000)], "ascending order"),
        (vec![(1, 5_000), (1, 5_000)], "ascending order"),
        (vec![(1, 10_000), (2, 0)], "zero bps"),
        (vec![(4, 10_000)], "contribution 4 is not part of the attributed version"),
        (vec![(99, 10_000)], "contribution 99 does not exist"),
    ];
    for (attribution, want) in cases {
        let reason = chain.reverts(PROVIDER, INFERENCE, signed(&settlement(1, attribution)));
        assert!(reason.contains(want), "{want}: {reason}");
    }
    let too_many: Vec<(u64, u16)> = (1..=(MAX_ATTRIBUTED as u64 + 1)).map(|i| (i, 1)).collect();
    let reason = chain.reverts(PROVIDER, INFERENCE, signed(&settlement(1, too_many)));
    assert!(reason.contains("at most 256"), "{reason}");

    let mut other_index = settlement(1, vec![(1, 10_000)]);
    other_index.indexHash = B256::repeat_byte(0x22);
    let reason = chain.reverts(PROVIDER, INFERENCE, signed(&other_index));
    assert!(reason.contains("differs from the one recorded"), "{reason}");
    let mut other_version = settlement(1, vec![(1, 10_000)]);
    other_version.version = 2;
    let reason = chain.reverts(PROVIDER, INFERENCE, signed(&other_version));
    assert!(reason.contains("not trained on datanet 1 version 2"), "{reason}");

    // A contribution withdrawn after the version earns nothing: refused.
    chain.ok(2, DATANETS, IDatanets::withdrawCall { contributionId: 2 }.abi_encode());
    let reason = chain.reverts(PROVIDER, INFERENCE, signed(&settlement(1, vec![(2, 10_000)])));
    assert!(reason.contains("withdrawn"), "{reason}");
    assert_eq!(reader(&chain).inference_count().unwrap(), 0);
}

#[test]
fn nothing_attributed_pays_the_datanet_owner() {
    let mut chain = setup();
    chain.ok(PROVIDER, INFERENCE, signed(&settlement(1, vec![])));
    let rest = fee() - Params::default().platform_fee;
    let half = rest * U256::from(5_000u64) / U256::from(10_000u64);
    let mut r = reader(&chain);
    assert_eq!(r.rewards_of(account(OWNER)).unwrap(), half);
    assert_eq!(r.earnings(account(OWNER)).unwrap().per_datanet, vec![(1, half)]);
    assert_eq!(r.rewards_of(account(1)).unwrap(), U256::ZERO);
}

#[test]
fn deposits_pay_for_inferences() {
    let mut chain = setup();
    let supply = chain.total_supply();
    let deposit = |amount| IInference::depositCall { provider: account(PROVIDER), amount };
    chain.ok(PAYER, INFERENCE, deposit(open(1) / U256::from(2u64)).abi_encode());
    let s = settlement(1, vec![(3, 10_000)]);
    chain.ok(PROVIDER, INFERENCE, settle_call(&s, vec![]));
    let left = open(1) / U256::from(2u64) - fee();
    assert_eq!(reader(&chain).deposit_of(account(PAYER), account(PROVIDER)).unwrap(), left);
    // The second inference would cost more than is left.
    let reason = chain.reverts(PROVIDER, INFERENCE, settle_call(&settlement(2, vec![]), vec![]));
    assert!(reason.contains("the deposit of"), "{reason}");
    // A deposit for one provider cannot pay another.
    let reason = chain.reverts(STRANGER, INFERENCE, settle_call(&settlement(3, vec![]), vec![]));
    assert!(reason.contains("not an allowed provider"), "{reason}");
    let reason = chain.reverts(
        PAYER,
        INFERENCE,
        IInference::withdrawDepositCall { provider: account(PROVIDER), amount: open(1) }
            .abi_encode(),
    );
    assert!(reason.contains("cannot withdraw"), "{reason}");
    chain.ok(
        PAYER,
        INFERENCE,
        IInference::withdrawDepositCall { provider: account(PROVIDER), amount: left }.abi_encode(),
    );
    assert_eq!(reader(&chain).deposit_of(account(PAYER), account(PROVIDER)).unwrap(), U256::ZERO);
    let reason = chain.reverts(PAYER, INFERENCE, deposit(open(5_000)).abi_encode());
    assert!(reason.contains("can spend"), "{reason}");
    let reason = chain.reverts(PAYER, INFERENCE, deposit(U256::ZERO).abi_encode());
    assert!(reason.contains("more than zero"), "{reason}");
    assert_eq!(chain.total_supply(), supply);
}

#[test]
fn hostile_calldata_reverts_cleanly() {
    let mut chain = setup();
    let reason = chain.reverts(PROVIDER, INFERENCE, vec![0xde, 0xad, 0xbe, 0xef]);
    assert!(reason.contains("no function with selector"), "{reason}");
    let mut truncated = signed(&settlement(1, vec![(1, 10_000)]));
    truncated.truncate(100);
    let reason = chain.reverts(PROVIDER, INFERENCE, truncated);
    assert!(reason.contains("malformed arguments"), "{reason}");
    let reason = chain.reverts(PROVIDER, INFERENCE, vec![1, 2]);
    assert!(reason.contains("no function selector"), "{reason}");
}

#[test]
fn views_answer_through_the_abi() {
    let chain = setup();
    let out = chain.simulate(
        STRANGER,
        INFERENCE,
        &IInference::feeForCall { modelId: 1, inputTokens: 500, outputTokens: 256 }.abi_encode(),
    );
    assert!(out.success);
    assert_eq!(U256::abi_decode(&out.output).unwrap(), fee());
    let out = chain.simulate(STRANGER, INFERENCE, &IInference::paramsCall {}.abi_encode());
    let params = IInference::paramsCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!(
        (params.ownerBps, params.providerBps, params.stakersBps, params.contributorsBps),
        (2_000, 1_000, 2_000, 5_000)
    );
}

#[test]
fn governed_shares_must_make_a_whole() {
    let chain = setup();
    let mut frame = crate::system::read_frame(&chain.state, INFERENCE);
    let bad = Params {
        platform_fee: U256::ZERO,
        shares: Shares { owner: 1, provider: 1, stakers: 1, contributors: 1 },
    };
    assert!(
        matches!(set_params(&mut frame, bad), Err(CallError::Revert(r)) if r.contains("sum to 10000"))
    );
}
