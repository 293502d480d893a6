//! Challenges through signed transactions: a recomputed attribution that
//! agrees rejects the challenge, one that differs slashes the provider.

use super::*;
use crate::{
    datanets::{DATANETS, IDatanets},
    inference::{
        IInference, INFERENCE, InferenceReader, Settlement,
        tests::{PAYER, PROVIDER, STRANGER, open, settlement, setup, sign},
    },
    staking::{IStaking, STAKING},
    system::{CallEnv, call},
    test_chain::{BASE_FEE, Chain, account},
};
use alloy_sol_types::{SolCall, SolEvent};
use ol_primitives::addresses::GOVERNANCE;

const HONEST: &str = "the harbour light turns twice a minute";

fn output_hash(output: &str) -> B256 {
    B256::from(<[u8; 32]>::from(Sha256::digest(output.as_bytes())))
}

/// `setup()` plus a provider self-bond of `stake` OPEN, the index answering
/// 60/40 on contributions 2 and 3 for `HONEST`, and inference 1 settled
/// with `settled` for that output.
fn settled(stake: u64, settled: Vec<(u64, u16)>) -> (Chain, Settlement) {
    let mut chain = setup();
    if stake > 0 {
        let call = IStaking::stakeCall { validator: account(PROVIDER), amount: open(stake) };
        chain.ok(PROVIDER, STAKING, call.abi_encode());
    }
    chain.blobs.1.insert(HONEST.into(), vec![(2, 6_000), (3, 4_000)]);
    let mut s = settlement(1, settled);
    s.outputHash = output_hash(HONEST);
    let signature = sign(PAYER, &s, PROVIDER);
    let call = IInference::settleCall { settlement: s.clone(), signature: signature.into() };
    chain.ok(PROVIDER, INFERENCE, call.abi_encode());
    (chain, s)
}

fn challenge_call(output: &str, s: &Settlement) -> Vec<u8> {
    IInference::challengeCall {
        inferenceId: 1,
        output: output.into(),
        settled: s.attribution.clone(),
    }
    .abi_encode()
}

fn gas_of(out: &crate::BlockOutcome) -> U256 {
    U256::from(out.gas_used) * U256::from(BASE_FEE)
}

#[test]
fn an_agreeing_recomputation_costs_the_challenger_its_bond() {
    let (mut chain, s) = settled(200, vec![(2, 6_000), (3, 4_000)]);
    let supply = chain.total_supply();
    let (challenger, provider) =
        (chain.balance(account(STRANGER)), chain.balance(account(PROVIDER)));
    let out = chain.ok(STRANGER, INFERENCE, challenge_call(HONEST, &s));
    let bond = ChallengeParams::default().bond;
    assert_eq!(chain.balance(account(STRANGER)), challenger - bond - gas_of(&out));
    assert_eq!(chain.balance(account(PROVIDER)), provider + bond);
    assert_eq!(chain.total_supply(), supply);
    let logs = out.receipts[0].logs();
    assert!(logs.iter().any(|l| IInference::ChallengeRejected::decode_log_data(&l.data).is_ok()));
    let mut frame = crate::system::read_frame(&chain.state, INFERENCE);
    let judged = judged(&mut frame, 1).unwrap().unwrap();
    assert_eq!((judged.outcome, judged.challenger), (Outcome::Rejected, account(STRANGER)));

    let reason = chain.reverts(STRANGER, INFERENCE, challenge_call(HONEST, &s));
    assert!(reason.contains("already been challenged"), "{reason}");
}

#[test]
fn a_wrong_attribution_slashes_the_provider_and_pays_the_right_contributors() {
    let (mut chain, s) = settled(200, vec![(1, 10_000)]);
    let supply = chain.total_supply();
    let rewards = |chain: &Chain, who: u8| {
        InferenceReader::new(&chain.state).rewards_of(account(who)).unwrap()
    };
    let wrongly_paid = rewards(&chain, 1);
    let (before2, before3) = (rewards(&chain, 2), rewards(&chain, 3));
    let challenger = chain.balance(account(STRANGER));
    let treasury = chain.balance(TREASURY);

    let out = chain.ok(STRANGER, INFERENCE, challenge_call(HONEST, &s));
    assert_eq!(chain.total_supply(), supply, "nothing created or lost");
    let slashed = ChallengeParams::default().provider_slash; // 100 of the 200 staked
    let stake = crate::staking::StakingReader::new(&chain.state)
        .bonded(account(PROVIDER), account(PROVIDER))
        .unwrap();
    assert_eq!(stake, open(200) - slashed);

    // The contributors' part again, by the recomputed 60/40.
    let part = wrongly_paid;
    let (got2, got3) = (rewards(&chain, 2) - before2, rewards(&chain, 3) - before3);
    assert_eq!(got2, part * U256::from(6_000u64) / U256::from(10_000u64));
    assert_eq!(got3, part * U256::from(4_000u64) / U256::from(10_000u64));
    assert_eq!(rewards(&chain, 1), wrongly_paid, "no claw-back from contributor 1");
    let rest = slashed - got2 - got3;
    let reward = rest / U256::from(2u64);
    assert_eq!(chain.balance(account(STRANGER)), challenger + reward - gas_of(&out));
    assert_eq!(chain.balance(TREASURY), treasury + rest - reward + gas_of(&out));
    let logs = out.receipts[0].logs();
    let upheld = logs
        .iter()
        .find_map(|l| IInference::ChallengeUpheld::decode_log_data(&l.data).ok())
        .expect("an upheld challenge logs it");
    assert_eq!(upheld.slashed, slashed);
}

#[test]
fn a_provider_without_stake_is_found_wrong_but_nothing_is_slashed() {
    let (mut chain, s) = settled(0, vec![(1, 10_000)]);
    let supply = chain.total_supply();
    chain.ok(STRANGER, INFERENCE, challenge_call(HONEST, &s));
    assert_eq!(chain.total_supply(), supply);
    let mut frame = crate::system::read_frame(&chain.state, INFERENCE);
    let judged = judged(&mut frame, 1).unwrap().unwrap();
    assert_eq!((judged.outcome, judged.slashed), (Outcome::Upheld, U256::ZERO));
}

#[test]
fn challenges_that_cannot_be_judged_are_refused() {
    let (mut chain, s) = settled(200, vec![(1, 10_000)]);
    let reason = chain.reverts(STRANGER, INFERENCE, challenge_call("another output", &s));
    assert!(reason.contains("sha256"), "{reason}");

    let mut forged = s.clone();
    forged.attribution[0].bps = 9_999;
    let reason = chain.reverts(STRANGER, INFERENCE, challenge_call(HONEST, &forged));
    assert!(reason.contains("not the one inference 1 settled"), "{reason}");

    let call = IInference::challengeCall { inferenceId: 9, output: HONEST.into(), settled: vec![] };
    let reason = chain.reverts(STRANGER, INFERENCE, call.abi_encode());
    assert!(reason.contains("inference 9 does not exist"), "{reason}");

    // A node without the index cannot recompute: the call reverts.
    chain.blobs.1.clear();
    let reason = chain.reverts(STRANGER, INFERENCE, challenge_call(HONEST, &s));
    assert!(reason.contains("cannot be recomputed"), "{reason}");
    chain.blobs.1.insert(HONEST.into(), vec![(2, 6_000), (3, 4_000)]);

    // A contribution named by the settlement, withdrawn since.
    let withdraw = IDatanets::withdrawCall { contributionId: 1 };
    chain.ok(1, DATANETS, withdraw.abi_encode());
    let reason = chain.reverts(STRANGER, INFERENCE, challenge_call(HONEST, &s));
    assert!(reason.contains("contribution 1 was withdrawn"), "{reason}");
}

#[test]
fn the_window_closes() {
    let (mut chain, s) = settled(200, vec![(1, 10_000)]);
    // Blocks are 10 s apart: a day and a block later the window is shut.
    chain.number += ChallengeParams::default().window_seconds / 10 + 1;
    let reason = chain.reverts(STRANGER, INFERENCE, challenge_call(HONEST, &s));
    assert!(reason.contains("challenge window of inference 1 closed"), "{reason}");
}

#[test]
fn only_governance_sets_the_challenge_parameters() {
    let mut chain = setup();
    let params = IInference::ChallengeParams {
        windowSeconds: 60,
        bond: open(1),
        providerSlash: open(5),
        challengerBps: 2_500,
    };
    let input = IInference::setChallengeParamsCall { params: params.clone() }.abi_encode();
    let reason = chain.reverts(STRANGER, INFERENCE, input.clone());
    assert!(reason.contains("only be called by governance"), "{reason}");

    let env = chain.env();
    let as_governance =
        CallEnv { spec: &chain.spec, block: &env, caller: GOVERNANCE, content: &chain.blobs };
    let out = call(&chain.state, as_governance, INFERENCE, &input, 1_000_000).unwrap();
    assert!(out.success, "{:?}", out.revert_reason);
    chain.state.apply(out.changes);
    let mut frame = crate::system::read_frame(&chain.state, INFERENCE);
    assert_eq!(params_of(&mut frame).window_seconds, 60);

    let zero = IInference::ChallengeParams { windowSeconds: 0, ..params };
    let input = IInference::setChallengeParamsCall { params: zero }.abi_encode();
    let out = call(&chain.state, as_governance, INFERENCE, &input, 1_000_000).unwrap();
    assert!(out.revert_reason.unwrap().contains("challenge window must be"));
}

fn params_of<S: StateView>(frame: &mut Frame<'_, S>) -> ChallengeParams {
    params(frame).unwrap()
}

#[test]
fn a_correction_leaves_out_contributors_whose_rewards_are_cut() {
    let (mut chain, s) = settled(200, vec![(1, 10_000)]);
    // Contributor 2 is confirmed a poisoner: its score reaches the threshold.
    let report = IDatanets::reportPoisoningCall {
        datanetId: 1,
        account: account(2),
        evidenceHash: B256::repeat_byte(0xee),
        reason: "planted false tide tables".into(),
    };
    chain.ok(STRANGER, DATANETS, report.abi_encode());
    let env = chain.env();
    let as_governance =
        CallEnv { spec: &chain.spec, block: &env, caller: GOVERNANCE, content: &chain.blobs };
    let confirm = IDatanets::resolvePoisoningReportCall { reportId: 1, confirmed: true };
    let out =
        call(&chain.state, as_governance, DATANETS, &confirm.abi_encode(), 1_000_000).unwrap();
    assert!(out.success, "{:?}", out.revert_reason);
    chain.state.apply(out.changes);

    let rewards = |chain: &Chain, who: u8| {
        InferenceReader::new(&chain.state).rewards_of(account(who)).unwrap()
    };
    let part = rewards(&chain, 1);
    let (before2, before3) = (rewards(&chain, 2), rewards(&chain, 3));
    chain.ok(STRANGER, INFERENCE, challenge_call(HONEST, &s));
    assert_eq!(rewards(&chain, 2), before2, "a cut contributor gets nothing");
    assert_eq!(rewards(&chain, 3) - before3, part, "the other takes the whole part");
}

#[test]
fn a_provider_that_is_an_agent_loses_its_operators_bond_and_is_jailed() {
    use crate::agents::{AGENTS, AgentMetadata, AgentsReader, IAgents, binding_signing_hash};
    use alloy_signer::SignerSync;
    let (mut chain, s) = settled(0, vec![(1, 10_000)]);
    // Account 0 operates the provider's key as a registered agent.
    let operator = 0u8;
    let hash = binding_signing_hash(crate::test_chain::CHAIN, account(operator), account(PROVIDER));
    let signature = crate::test_chain::key(PROVIDER).sign_hash_sync(&hash).unwrap();
    let register = IAgents::registerAgentCall {
        agent: account(PROVIDER),
        metadata: AgentMetadata {
            name: "harbour-provider".into(),
            description: String::new(),
            endpoint: String::new(),
            modelId: 1,
        },
        stake: open(150),
        agentSignature: signature.as_bytes().to_vec().into(),
    };
    chain.ok(operator, AGENTS, register.abi_encode());
    let supply = chain.total_supply();

    chain.ok(STRANGER, INFERENCE, challenge_call(HONEST, &s));
    assert_eq!(chain.total_supply(), supply);
    let bonded = crate::staking::StakingReader::new(&chain.state)
        .bonded(account(operator), account(PROVIDER))
        .unwrap();
    assert_eq!(bonded, open(150) - ChallengeParams::default().provider_slash);
    let agent = AgentsReader::new(&chain.state).agent(1).unwrap().unwrap();
    assert!(agent.jailed, "the agent is jailed");
    let mut frame = crate::system::read_frame(&chain.state, INFERENCE);
    assert_eq!(
        judged(&mut frame, 1).unwrap().unwrap().slashed,
        ChallengeParams::default().provider_slash
    );
}
