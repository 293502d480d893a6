//! Reputation through signed transactions and `execute_block`: spam
//! rejections, near-duplicate proofs, poisoning reports resolved by
//! governance, governed parameters, and settlements that cut a penalised
//! contributor's rewards.

use crate::{
    ContentFacts,
    datanets::{
        DATANETS, DatanetConfig, Format, IDatanets, Params, Penalty, PenaltyReason, Policy,
        ReportStatus,
    },
    inference::{
        self, Attributed, IInference, INFERENCE, InferenceAuthorization, Settlement,
        authorization_signing_hash,
    },
    models::{DatanetVersion, IModels, Kind, MODELS, ModelConfig},
    system::{self, CallEnv, CallOutcome},
    test_chain::{Chain, account, key},
};
use alloy_primitives::{Address, B256, U256};
use alloy_signer::SignerSync;
use alloy_sol_types::{SolCall, SolEvent};
use ol_primitives::addresses::GOVERNANCE;

const OWNER: u8 = 0;
const MODEL_OWNER: u8 = 4;
const PROVIDER: u8 = 5;
const PAYER: u8 = 6;
const STRANGER: u8 = 7;
const INDEX: B256 = B256::repeat_byte(0x11);

fn config(policy: Policy) -> DatanetConfig {
    DatanetConfig {
        name: "harbour".into(),
        summary: String::new(),
        description: String::new(),
        tags: vec![],
        licence: "CC-BY-4.0".into(),
        customTermsHash: B256::ZERO,
        policy,
        maxSubmissionBytes: 0,
        formats: vec![Format::Text],
        jsonlField: String::new(),
        csvColumn: String::new(),
    }
}

fn create(chain: &mut Chain, policy: Policy) {
    chain.ok(OWNER, DATANETS, IDatanets::createDatanetCall { config: config(policy) }.abi_encode());
}

/// A MinHash signature.
fn minhash(seed: u32) -> [u32; 64] {
    std::array::from_fn(|i| seed.wrapping_mul(2_654_435_761).wrapping_add(i as u32 * 7919))
}

/// `signature` with its first `slots` slots changed (by `mask`).
fn changed(signature: [u32; 64], slots: usize, mask: u32) -> [u32; 64] {
    let mut out = signature;
    for slot in out.iter_mut().take(slots) {
        *slot ^= mask;
    }
    out
}

/// Contributes content `tag` with `signature` to `datanet` from `from`.
fn contribute(chain: &mut Chain, from: u8, datanet: u64, tag: u8, signature: [u32; 64]) {
    let hash = B256::repeat_byte(tag);
    let facts = ContentFacts {
        size: 100,
        normalised_hash: B256::repeat_byte(tag ^ 0x80),
        minhash: signature,
    };
    chain.blobs.0.insert(hash, facts);
    let call = IDatanets::contributeCall {
        datanetId: datanet,
        contentHash: hash,
        size: 100,
        format: Format::Text,
        licence: String::new(),
    };
    chain.ok(from, DATANETS, call.abi_encode());
}

fn penalty(chain: &Chain, datanet: u64, who: u8) -> Penalty {
    let call = IDatanets::penaltyOfCall { datanetId: datanet, account: account(who) };
    let out = chain.simulate(STRANGER, DATANETS, &call.abi_encode());
    assert!(out.success, "{:?}", out.revert_reason);
    IDatanets::penaltyOfCall::abi_decode_returns(&out.output).unwrap()
}

fn raised(out: &crate::execution::BlockOutcome) -> Vec<IDatanets::PenaltyRaised> {
    out.receipts[0]
        .logs()
        .iter()
        .filter_map(|log| IDatanets::PenaltyRaised::decode_log_data(&log.data).ok())
        .collect()
}

/// Runs `input` against the datanets contract as governance does when it
/// executes a proposal's action, and applies it when it succeeds.
fn as_governance(chain: &mut Chain, input: &[u8]) -> CallOutcome {
    let env = chain.env();
    let call_env =
        CallEnv { spec: &chain.spec, block: &env, caller: GOVERNANCE, content: &chain.blobs };
    let out = system::call(&chain.state, call_env, DATANETS, input, 10_000_000).unwrap();
    if out.success {
        chain.state.apply(out.changes.clone());
    }
    out
}

fn report_poisoning(datanet: u64, who: Address, reason: &str) -> Vec<u8> {
    IDatanets::reportPoisoningCall {
        datanetId: datanet,
        account: who,
        evidenceHash: B256::repeat_byte(0xe1),
        reason: reason.into(),
    }
    .abi_encode()
}

fn resolve(report: u64, confirmed: bool) -> Vec<u8> {
    IDatanets::resolvePoisoningReportCall { reportId: report, confirmed }.abi_encode()
}

/// Files a poisoning report against `who` in datanet 1 and has governance
/// confirm it.
fn confirm_poisoning(chain: &mut Chain, who: u8) {
    let out = chain.ok(STRANGER, DATANETS, report_poisoning(1, account(who), "poisoned rows"));
    let log = &out.receipts[0].logs()[0];
    let id = IDatanets::PoisoningReported::decode_log_data(&log.data).unwrap().reportId;
    let out = as_governance(chain, &resolve(id, true));
    assert!(out.success, "{:?}", out.revert_reason);
}

#[test]
fn a_spam_rejection_raises_the_contributors_score() {
    let mut chain = Chain::new();
    create(&mut chain, Policy::OwnerApproval);
    contribute(&mut chain, 1, 1, 1, minhash(1));
    contribute(&mut chain, 1, 1, 2, minhash(2));
    contribute(&mut chain, 1, 1, 3, minhash(3));
    assert_eq!(penalty(&chain, 1, 1).score, 0);

    // Rejected, not as spam: nothing raised.
    let out = chain.ok(
        OWNER,
        DATANETS,
        IDatanets::rejectCall { contributionId: 1, spam: false }.abi_encode(),
    );
    assert!(raised(&out).is_empty());
    let out = chain.ok(
        OWNER,
        DATANETS,
        IDatanets::rejectCall { contributionId: 2, spam: true }.abi_encode(),
    );
    let events = raised(&out);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].datanetId, 1);
    assert_eq!(events[0].account, account(1));
    assert_eq!(events[0].reason, PenaltyReason::Spam);
    assert_eq!((events[0].amount, events[0].newScore), (10, 10));
    chain.ok(OWNER, DATANETS, IDatanets::rejectCall { contributionId: 3, spam: true }.abi_encode());
    let standing = penalty(&chain, 1, 1);
    assert_eq!(
        (standing.score, standing.cut, standing.threshold, standing.spamRejections),
        (20, false, 50, 2)
    );
    let out = chain.simulate(
        STRANGER,
        DATANETS,
        &IDatanets::penalizedDatanetsCall { account: account(1) }.abi_encode(),
    );
    assert_eq!(IDatanets::penalizedDatanetsCall::abi_decode_returns(&out.output).unwrap(), vec![1]);
    let mut reader = crate::datanets::DatanetsReader::new(&chain.state);
    assert_eq!(reader.penalty_score(1, account(1)).unwrap(), 20);
    assert_eq!(reader.penalized_datanets(account(2)).unwrap(), Vec::<u64>::new());
}

#[test]
fn a_near_duplicate_is_proven_once_and_only_when_it_is_one() {
    let mut chain = Chain::new();
    create(&mut chain, Policy::Open);
    let original = minhash(7);
    contribute(&mut chain, 1, 1, 1, original); // 1, by 1
    contribute(&mut chain, 2, 1, 2, changed(original, 10, 0xffff)); // 2, by 2: 54 of 64 agree with 1
    contribute(&mut chain, 1, 1, 3, changed(original, 12, 0x0f0f)); // 3, by 1: its own revision of 1
    contribute(&mut chain, 3, 1, 4, changed(original, 20, 0xabcd)); // 4, by 3: 44 agree with 1
    create(&mut chain, Policy::Open);
    contribute(&mut chain, 3, 2, 5, changed(original, 2, 0x1111)); // 5, by 3, in datanet 2
    assert_eq!(
        crate::datanets::DatanetsReader::new(&chain.state)
            .contribution(2)
            .unwrap()
            .unwrap()
            .nearDuplicateOf,
        1
    );

    let report = |contribution: u64, original: u64| {
        IDatanets::reportNearDuplicateCall { contributionId: contribution, originalId: original }
            .abi_encode()
    };
    for (contribution, original, want) in [
        (2, 2, "cannot nearly duplicate itself"),
        (9, 1, "contribution 9 does not exist"),
        (2, 9, "contribution 9 does not exist"),
        (1, 2, "2 was submitted after 1; the original must be the earlier one"),
        (3, 1, "are both by"),
        (4, 1, "agree in 44 of 64 MinHash slots; a near-duplicate agrees in at least 48"),
        (5, 1, "contribution 1 belongs to datanet 1, contribution 5 to datanet 2"),
    ] {
        let reason = chain.reverts(STRANGER, DATANETS, report(contribution, original));
        assert!(reason.contains(want), "{contribution} of {original}: {want}: {reason}");
    }

    let out = chain.ok(STRANGER, DATANETS, report(2, 1));
    let logs = out.receipts[0].logs();
    let proven = logs
        .iter()
        .find_map(|log| IDatanets::NearDuplicateProven::decode_log_data(&log.data).ok())
        .unwrap();
    assert_eq!((proven.contributionId, proven.originalId, proven.agreeingSlots), (2, 1, 54));
    assert_eq!(proven.reporter, account(STRANGER));
    let events = raised(&out);
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].account, events[0].reason), (account(2), PenaltyReason::NearDuplicate));
    assert_eq!((events[0].amount, events[0].newScore), (5, 5));
    let standing = penalty(&chain, 1, 2);
    assert_eq!((standing.score, standing.nearDuplicates), (5, 1));

    // Once per contribution, whoever reports it.
    let reason = chain.reverts(1, DATANETS, report(2, 1));
    assert!(reason.contains("already proven a near-duplicate of 1"), "{reason}");
    let out = chain.simulate(
        STRANGER,
        DATANETS,
        &IDatanets::provenNearDuplicateOfCall { contributionId: 2 }.abi_encode(),
    );
    assert_eq!(IDatanets::provenNearDuplicateOfCall::abi_decode_returns(&out.output).unwrap(), 1);

    // The original must still be accepted, and so must the reported one.
    chain.ok(1, DATANETS, IDatanets::withdrawCall { contributionId: 1 }.abi_encode());
    let reason = chain.reverts(STRANGER, DATANETS, report(3, 1));
    assert!(
        reason.contains("contribution 1 is withdrawn; the original must be accepted"),
        "{reason}"
    );
    let reason = chain.reverts(STRANGER, DATANETS, report(1, 2));
    assert!(
        reason.contains("contribution 1 is withdrawn; only accepted contributions"),
        "{reason}"
    );
    assert_eq!(penalty(&chain, 1, 1).score, 0);
}

#[test]
fn poisoning_reports_are_resolved_by_governance_alone() {
    let mut chain = Chain::new();
    create(&mut chain, Policy::Open);
    contribute(&mut chain, 2, 1, 1, minhash(1));

    for (input, want) in [
        (report_poisoning(9, account(2), "bad"), "datanet 9 does not exist"),
        (report_poisoning(1, Address::ZERO, "bad"), "cannot be the zero address"),
        (report_poisoning(1, account(2), "  "), "needs a reason"),
        (report_poisoning(1, account(2), &"x".repeat(281)), "at most 280"),
        (report_poisoning(1, account(2), "bad\u{7}"), "control characters"),
        (
            IDatanets::reportPoisoningCall {
                datanetId: 1,
                account: account(2),
                evidenceHash: B256::ZERO,
                reason: "bad".into(),
            }
            .abi_encode(),
            "needs the hash of its evidence",
        ),
    ] {
        let reason = chain.reverts(STRANGER, DATANETS, input);
        assert!(reason.contains(want), "{want}: {reason}");
    }

    let out = chain.ok(STRANGER, DATANETS, report_poisoning(1, account(2), "label flipping"));
    let log = &out.receipts[0].logs()[0];
    let filed = IDatanets::PoisoningReported::decode_log_data(&log.data).unwrap();
    assert_eq!((filed.reportId, filed.datanetId, filed.account), (1, 1, account(2)));
    chain.ok(STRANGER, DATANETS, report_poisoning(1, account(2), "second opinion"));

    // Only governance resolves: not the reporter, not the datanet's owner.
    for who in [STRANGER, OWNER] {
        let reason = chain.reverts(who, DATANETS, resolve(1, true));
        assert!(
            reason.contains("IDatanets.resolvePoisoningReport may only be called by governance"),
            "{reason}"
        );
    }
    assert_eq!(penalty(&chain, 1, 2).score, 0);

    let out = as_governance(&mut chain, &resolve(1, true));
    assert!(out.success, "{:?}", out.revert_reason);
    let raised: Vec<_> = out
        .logs
        .iter()
        .filter_map(|log| IDatanets::PenaltyRaised::decode_log_data(&log.data).ok())
        .collect();
    assert_eq!(raised.len(), 1);
    assert_eq!((raised[0].reason, raised[0].newScore), (PenaltyReason::Poisoning, 50));
    let standing = penalty(&chain, 1, 2);
    assert_eq!((standing.score, standing.cut, standing.confirmedPoisonings), (50, true, 1));

    let out = as_governance(&mut chain, &resolve(1, false));
    assert_eq!(out.revert_reason.as_deref(), Some("poisoning report 1 is already confirmed"));
    let out = as_governance(&mut chain, &resolve(3, true));
    assert_eq!(out.revert_reason.as_deref(), Some("poisoning report 3 does not exist"));
    let out = as_governance(&mut chain, &resolve(2, false));
    assert!(out.success);
    assert_eq!(penalty(&chain, 1, 2).score, 50, "a dismissal raises nothing");

    let out = chain.simulate(
        STRANGER,
        DATANETS,
        &IDatanets::getPoisoningReportCall { reportId: 1 }.abi_encode(),
    );
    let report = IDatanets::getPoisoningReportCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!(report.status, ReportStatus::Confirmed);
    assert_eq!(report.reporter, account(STRANGER));
    assert_eq!(report.reason, "label flipping");
    assert_eq!(report.evidenceHash, B256::repeat_byte(0xe1));
    assert!(report.resolvedAtBlock > report.filedAtBlock);
    let second = crate::datanets::DatanetsReader::new(&chain.state).poisoning_report(2).unwrap();
    assert_eq!(second.unwrap().status, ReportStatus::Dismissed);
    let out =
        chain.simulate(STRANGER, DATANETS, &IDatanets::poisoningReportCountCall {}.abi_encode());
    assert_eq!(IDatanets::poisoningReportCountCall::abi_decode_returns(&out.output).unwrap(), 2);
}

#[test]
fn parameters_change_through_governance_only_and_are_checked() {
    let mut chain = Chain::new();
    let out = chain.simulate(STRANGER, DATANETS, &IDatanets::paramsCall {}.abi_encode());
    let current = IDatanets::paramsCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!(Params::from(current.clone()), Params::default());

    let mut new = current.clone();
    new.depositBase = U256::from(5u64);
    new.depositPerKib = U256::from(7u64);
    new.spamPenalty = 30;
    new.penaltyThreshold = 60;
    let set = |params: IDatanets::Params| IDatanets::setParamsCall { params }.abi_encode();
    let reason = chain.reverts(OWNER, DATANETS, set(new.clone()));
    assert!(reason.contains("IDatanets.setParams may only be called by governance"), "{reason}");

    let supply = ol_primitives::Amount::total_supply().wei();
    type Spoil = fn(&mut IDatanets::Params);
    let bad: [(Spoil, &str); 5] = [
        (|p| p.penaltyThreshold = 0, "penaltyThreshold 0"),
        (|p| p.defaultMaxSubmission = 0, "defaultMaxSubmission 0 must be between 1 and"),
        (|p| p.defaultMaxSubmission = 64 * 1024 * 1024 + 1, "defaultMaxSubmission 67108865"),
        (|p| p.depositBase = U256::MAX, "depositBase"),
        (|p| p.depositPerKib = U256::MAX, "depositPerKib"),
    ];
    for (spoil, want) in bad {
        let mut params = new.clone();
        spoil(&mut params);
        let out = as_governance(&mut chain, &set(params));
        let reason = out.revert_reason.unwrap();
        assert!(reason.starts_with("invalid datanets parameters: "), "{reason}");
        assert!(reason.contains(want), "{want}: {reason}");
    }
    let mut whole_supply = new.clone();
    whole_supply.depositBase = supply;
    assert!(as_governance(&mut chain, &set(whole_supply)).success, "the supply itself is allowed");

    let out = as_governance(&mut chain, &set(new.clone()));
    assert!(out.success, "{:?}", out.revert_reason);
    let event = IDatanets::ParamsSet::decode_log_data(&out.logs[0].data).unwrap();
    assert_eq!(event.params, new);
    let out = chain.simulate(STRANGER, DATANETS, &IDatanets::paramsCall {}.abi_encode());
    assert_eq!(IDatanets::paramsCall::abi_decode_returns(&out.output).unwrap(), new);
    let out =
        chain.simulate(STRANGER, DATANETS, &IDatanets::depositForCall { size: 2048 }.abi_encode());
    assert_eq!(U256::from_be_slice(&out.output), U256::from(5u64 + 2 * 7));

    // The new penalty and threshold apply from then on.
    create(&mut chain, Policy::OwnerApproval);
    contribute(&mut chain, 1, 1, 1, minhash(1));
    chain.ok(OWNER, DATANETS, IDatanets::rejectCall { contributionId: 1, spam: true }.abi_encode());
    let standing = penalty(&chain, 1, 1);
    assert_eq!((standing.score, standing.threshold, standing.cut), (30, 60, false));
}

#[test]
fn hostile_reputation_calls_revert_cleanly() {
    let mut chain = Chain::new();
    create(&mut chain, Policy::Open);
    let mut truncated = report_poisoning(1, account(2), "bad");
    truncated.truncate(60);
    let reason = chain.reverts(STRANGER, DATANETS, truncated);
    assert!(reason.contains("malformed arguments for IDatanets"), "{reason}");
    let mut truncated =
        IDatanets::reportNearDuplicateCall { contributionId: 1, originalId: 2 }.abi_encode();
    truncated.truncate(20);
    let reason = chain.reverts(STRANGER, DATANETS, truncated);
    assert!(reason.contains("malformed arguments for IDatanets"), "{reason}");
    let out = chain.simulate(
        STRANGER,
        DATANETS,
        &IDatanets::penaltyOfCall { datanetId: 9, account: account(1) }.abi_encode(),
    );
    assert_eq!(out.revert_reason.as_deref(), Some("datanet 9 does not exist"));
    let out = chain.simulate(
        STRANGER,
        DATANETS,
        &IDatanets::getPoisoningReportCall { reportId: 1 }.abi_encode(),
    );
    assert_eq!(out.revert_reason.as_deref(), Some("poisoning report 1 does not exist"));
}

// ---------------------------------------------------------------------------
// Settlement
// ---------------------------------------------------------------------------

fn open(amount: u64) -> U256 {
    U256::from(amount) * U256::from(10u64).pow(U256::from(18))
}

/// Datanet 1 (owned by OWNER) with contributions 1, 2, 3 by accounts 1, 2,
/// 3 in version 1 (index recorded), and model 1 trained on it, served by
/// PROVIDER.
fn settlement_setup() -> Chain {
    let mut chain = Chain::new();
    create(&mut chain, Policy::Open);
    for contributor in 1..=3u8 {
        contribute(&mut chain, contributor, 1, contributor, minhash(u32::from(contributor)));
    }
    chain.ok(OWNER, DATANETS, IDatanets::publishVersionCall { datanetId: 1 }.abi_encode());
    let record = IDatanets::recordIndexCall {
        datanetId: 1,
        version: 1,
        indexHash: INDEX,
        tokenizer: "bytes".into(),
    };
    chain.ok(OWNER, DATANETS, record.abi_encode());
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

/// 500 input and 256 output tokens: 0.05 + 0.256 OPEN + the platform fee.
fn fee() -> U256 {
    U256::from(306_000_000_000_000_000u128) + inference::Params::default().platform_fee
}

/// Settles, signed by PAYER, with `attribution` of datanet 1 version 1.
fn settle(chain: &mut Chain, nonce: u64, attribution: &[(u64, u16)]) {
    chain.ok(PROVIDER, INFERENCE, settle_call(nonce, attribution));
}

/// A settlement of PROVIDER, signed by PAYER, with `attribution`.
fn settle_call(nonce: u64, attribution: &[(u64, u16)]) -> Vec<u8> {
    let settlement = Settlement {
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
            .iter()
            .map(|&(id, bps)| Attributed { contributionId: id, bps })
            .collect(),
        maxFee: open(1),
        nonce: U256::from(nonce),
        expiry: 1_000_000,
    };
    let authorization = InferenceAuthorization {
        modelId: 1,
        provider: account(PROVIDER),
        maxFee: settlement.maxFee,
        nonce: settlement.nonce,
        expiry: settlement.expiry,
    };
    let hash = authorization_signing_hash(crate::test_chain::CHAIN, &authorization);
    let signature = key(PAYER).sign_hash_sync(&hash).unwrap().as_bytes().to_vec();
    IInference::settleCall { settlement, signature: signature.into() }.abi_encode()
}

fn rewards(chain: &Chain, who: Address) -> U256 {
    inference::InferenceReader::new(&chain.state).rewards_of(who).unwrap()
}

/// The contributors' part of [`fee`] under the default shares.
fn contributors_part() -> U256 {
    (fee() - inference::Params::default().platform_fee) * U256::from(5_000u64)
        / U256::from(10_000u64)
}

#[test]
fn a_cut_contributors_share_goes_to_the_other_attributed_contributors() {
    let mut chain = settlement_setup();
    confirm_poisoning(&mut chain, 3);
    assert!(penalty(&chain, 1, 3).cut);
    let supply = chain.total_supply();

    settle(&mut chain, 1, &[(1, 5_000), (2, 3_000), (3, 2_000)]);
    let part = contributors_part();
    assert_eq!(rewards(&chain, account(3)), U256::ZERO, "cut: nothing");
    assert_eq!(rewards(&chain, account(1)), part * U256::from(5_000u64) / U256::from(8_000u64));
    assert_eq!(rewards(&chain, account(2)), part * U256::from(3_000u64) / U256::from(8_000u64));
    assert_eq!(rewards(&chain, account(OWNER)), U256::ZERO, "the datanet owner gets nothing");
    assert_eq!(chain.total_supply(), supply);

    // Only the cut contributor attributed: its share goes to the datanet's owner.
    settle(&mut chain, 2, &[(3, 10_000)]);
    assert_eq!(rewards(&chain, account(OWNER)), part);
    assert_eq!(rewards(&chain, account(3)), U256::ZERO);

    // The entries of a cut contributor are still checked.
    chain.ok(3, DATANETS, IDatanets::withdrawCall { contributionId: 3 }.abi_encode());
    let reason = chain.reverts(PROVIDER, INFERENCE, settle_call(3, &[(1, 5_000), (3, 5_000)]));
    assert!(reason.contains("contribution 3 was withdrawn"), "{reason}");
}

#[test]
fn when_every_attributed_contributor_is_cut_the_datanet_owner_is_paid() {
    let mut chain = settlement_setup();
    for who in 1..=3 {
        confirm_poisoning(&mut chain, who);
    }
    settle(&mut chain, 1, &[(1, 5_000), (2, 3_000), (3, 2_000)]);
    let part = contributors_part();
    for who in 1..=3 {
        assert_eq!(rewards(&chain, account(who)), U256::ZERO);
    }
    assert_eq!(rewards(&chain, account(OWNER)), part);
    let earnings = inference::InferenceReader::new(&chain.state).earnings(account(OWNER)).unwrap();
    assert_eq!(earnings.per_datanet, vec![(1, part)]);

    // Governance raising the threshold restores them from the next settlement.
    let mut params: IDatanets::Params = Params::default().into();
    params.penaltyThreshold = 51;
    let out = as_governance(&mut chain, &IDatanets::setParamsCall { params }.abi_encode());
    assert!(out.success, "{:?}", out.revert_reason);
    settle(&mut chain, 2, &[(1, 5_000), (2, 3_000), (3, 2_000)]);
    assert_eq!(rewards(&chain, account(1)), part * U256::from(5_000u64) / U256::from(10_000u64));
    assert_eq!(rewards(&chain, account(3)), part * U256::from(2_000u64) / U256::from(10_000u64));
}
