//! Agents through signed transactions and `execute_block`; governance's
//! calls through `system::call` with the governance address as caller, as a
//! proposal's execution makes them.

use super::*;
use crate::{
    datanets::{DATANETS, DatanetConfig, Format, IDatanets, Policy},
    models::{DatanetVersion, IModels, Kind, MODELS, ModelConfig},
    staking::STAKING,
    system::{CallEnv, CallOutcome},
    test_chain::{BASE_FEE, CHAIN, Chain, account, key},
};
use alloy_signer::SignerSync;
use ol_primitives::addresses::{GOVERNANCE, TREASURY};
use proptest::prelude::*;

const OPERATOR: u8 = 0;
const AGENT: u8 = 1; // the agent's own key
const REPORTER: u8 = 2;
const STRANGER: u8 = 3;
const OTHER_OPERATOR: u8 = 4;
const OTHER_AGENT: u8 = 5;

fn open(amount: u64) -> U256 {
    Amount::from_open(amount).wei()
}

fn metadata(name: &str) -> AgentMetadata {
    AgentMetadata {
        name: name.into(),
        description: "answers questions about harbours".into(),
        endpoint: "https://agent.example/v1".into(),
        modelId: 0,
    }
}

fn binding(signer: u8, operator: u8, agent: Address) -> Vec<u8> {
    let hash = binding_signing_hash(CHAIN, account(operator), agent);
    key(signer).sign_hash_sync(&hash).unwrap().as_bytes().to_vec()
}

fn register_call(agent: u8, operator: u8, stake: U256, metadata: AgentMetadata) -> Vec<u8> {
    IAgents::registerAgentCall {
        agent: account(agent),
        metadata,
        stake,
        agentSignature: binding(agent, operator, account(agent)).into(),
    }
    .abi_encode()
}

/// A chain with agent 1 (key AGENT) registered by OPERATOR with 200 OPEN.
fn setup() -> Chain {
    let mut chain = Chain::new();
    chain.ok(OPERATOR, AGENTS, register_call(AGENT, OPERATOR, open(200), metadata("a")));
    assert_eq!(reader(&chain).agent_id_of(account(AGENT)).unwrap(), Some(1));
    chain
}

fn reader(chain: &Chain) -> AgentsReader<'_, crate::MemoryState> {
    AgentsReader::new(&chain.state)
}

fn bonded(chain: &Chain, operator: u8, agent: u8) -> U256 {
    StakingReader::new(&chain.state).bonded(account(operator), account(agent)).unwrap()
}

fn unbonding(chain: &Chain, operator: u8, agent: u8) -> U256 {
    StakingReader::new(&chain.state).unbonding(account(operator), account(agent)).unwrap()
}

fn gas_paid(out: &crate::BlockOutcome) -> U256 {
    U256::from(out.receipts[0].gas_used) * U256::from(BASE_FEE)
}

fn statement(signer: u8, agent_id: u64, nonce: u64, content: u8) -> (AgentStatement, Vec<u8>) {
    let statement = AgentStatement {
        agentId: agent_id,
        requestNonce: U256::from(nonce),
        contentHash: B256::repeat_byte(content),
    };
    let hash = statement_signing_hash(CHAIN, &statement);
    let signature = key(signer).sign_hash_sync(&hash).unwrap().as_bytes().to_vec();
    (statement, signature)
}

fn equivocation(first: (AgentStatement, Vec<u8>), second: (AgentStatement, Vec<u8>)) -> Vec<u8> {
    IAgents::reportEquivocationCall {
        first: first.0,
        firstSignature: first.1.into(),
        second: second.0,
        secondSignature: second.1.into(),
    }
    .abi_encode()
}

fn id_call(agent_id: u64, which: &str) -> Vec<u8> {
    match which {
        "pause" => IAgents::pauseCall { agentId: agent_id }.abi_encode(),
        "resume" => IAgents::resumeCall { agentId: agent_id }.abi_encode(),
        "deregister" => IAgents::deregisterCall { agentId: agent_id }.abi_encode(),
        "unjail" => IAgents::unjailCall { agentId: agent_id }.abi_encode(),
        _ => unreachable!("no call {which}"),
    }
}

fn top_up(agent_id: u64, amount: U256) -> Vec<u8> {
    IAgents::topUpCall { agentId: agent_id, amount }.abi_encode()
}

/// Runs `input` as governance (a proposal's action) and applies it when it
/// succeeds.
fn as_governance(chain: &mut Chain, input: &[u8]) -> CallOutcome {
    let env = chain.env();
    let call_env =
        CallEnv { spec: &chain.spec, block: &env, caller: GOVERNANCE, content: &chain.blobs };
    let out = crate::system::call(&chain.state, call_env, AGENTS, input, 10_000_000).unwrap();
    if out.success {
        chain.state.apply(out.changes.clone());
    }
    out
}

fn resolve(report_id: u64, uphold: bool) -> Vec<u8> {
    IAgents::resolveReportCall { reportId: report_id, uphold }.abi_encode()
}

fn file_report(agent_id: u64, amount: U256) -> Vec<u8> {
    IAgents::fileReportCall {
        agentId: agent_id,
        evidenceHash: B256::repeat_byte(0xe1),
        amount,
        reason: "served answers copied from another agent".into(),
    }
    .abi_encode()
}

/// Moves block time forward by at least `seconds`.
fn wait(chain: &mut Chain, seconds: u64) {
    chain.number += seconds.div_ceil(10);
}

fn slashed_event(out: &crate::BlockOutcome) -> IAgents::AgentSlashed {
    out.receipts[0]
        .logs()
        .iter()
        .find_map(|l| IAgents::AgentSlashed::decode_log_data(&l.data).ok())
        .expect("an AgentSlashed event")
}

// ---- without stake: refusals before anything is bonded ----

#[test]
fn signing_hashes_follow_eip712() {
    // The domain separator and struct hash as any EIP-712 library computes them.
    let domain = domain(CHAIN);
    assert_eq!(domain.name.as_deref(), Some("OpenLedger Agents"));
    assert_eq!(domain.verifying_contract, Some(AGENTS));
    assert_eq!(AgentBinding::eip712_encode_type(), "AgentBinding(address operator,address agent)");
    assert_eq!(
        AgentStatement::eip712_encode_type(),
        "AgentStatement(uint64 agentId,uint256 requestNonce,bytes32 contentHash)"
    );
    let a = binding_signing_hash(CHAIN, account(0), account(1));
    assert_ne!(a, binding_signing_hash(CHAIN, account(1), account(0)));
    assert_ne!(a, binding_signing_hash(CHAIN + 1, account(0), account(1)));
}

#[test]
fn bad_registrations_are_refused() {
    let mut chain = Chain::new();
    let supply = chain.total_supply();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (register_call(AGENT, OPERATOR, open(99), metadata("a")), "below the minimum stake"),
        (
            IAgents::registerAgentCall {
                agent: account(AGENT),
                metadata: metadata("a"),
                stake: open(200),
                agentSignature: vec![1, 2, 3].into(),
            }
            .abi_encode(),
            "65 bytes",
        ),
        (
            // Signed by another key than the agent's.
            IAgents::registerAgentCall {
                agent: account(AGENT),
                metadata: metadata("a"),
                stake: open(200),
                agentSignature: binding(STRANGER, OPERATOR, account(AGENT)).into(),
            }
            .abi_encode(),
            "not by the agent",
        ),
        (
            // The agent consented to another operator.
            IAgents::registerAgentCall {
                agent: account(AGENT),
                metadata: metadata("a"),
                stake: open(200),
                agentSignature: binding(AGENT, OTHER_OPERATOR, account(AGENT)).into(),
            }
            .abi_encode(),
            "not by the agent",
        ),
        (
            IAgents::registerAgentCall {
                agent: Address::ZERO,
                metadata: metadata("a"),
                stake: open(200),
                agentSignature: binding(AGENT, OPERATOR, Address::ZERO).into(),
            }
            .abi_encode(),
            "cannot be an agent's key",
        ),
        (
            IAgents::registerAgentCall {
                agent: STAKING,
                metadata: metadata("a"),
                stake: open(200),
                agentSignature: binding(AGENT, OPERATOR, STAKING).into(),
            }
            .abi_encode(),
            "cannot be an agent's key",
        ),
        (register_call(AGENT, OPERATOR, open(200), metadata(" ")), "needs a name"),
        (register_call(AGENT, OPERATOR, open(200), metadata(&"n".repeat(65))), "name is 65 bytes"),
        (register_call(AGENT, OPERATOR, open(200), metadata("a\u{7}b")), "control characters"),
        (
            register_call(
                AGENT,
                OPERATOR,
                open(200),
                AgentMetadata { description: "d".repeat(1025), ..metadata("a") },
            ),
            "description is 1025 bytes",
        ),
        (
            register_call(
                AGENT,
                OPERATOR,
                open(200),
                AgentMetadata { endpoint: "ftp://agent.example".into(), ..metadata("a") },
            ),
            "not an http(s) URL",
        ),
        (
            register_call(
                AGENT,
                OPERATOR,
                open(200),
                AgentMetadata { endpoint: format!("https://{}", "a".repeat(300)), ..metadata("a") },
            ),
            "endpoint is 308 bytes",
        ),
        (
            register_call(
                AGENT,
                OPERATOR,
                open(200),
                AgentMetadata { modelId: 7, ..metadata("a") },
            ),
            "model 7 does not exist",
        ),
    ];
    for (input, want) in cases {
        let reason = chain.reverts(OPERATOR, AGENTS, input);
        assert!(reason.contains(want), "{want}: {reason}");
    }
    assert_eq!(reader(&chain).agent_count().unwrap(), 0);
    assert_eq!(reader(&chain).agent_id_of(account(AGENT)).unwrap(), None);
    assert_eq!(chain.total_supply(), supply);
}

#[test]
fn hostile_calldata_reverts_cleanly() {
    let mut chain = Chain::new();
    let reason = chain.reverts(STRANGER, AGENTS, vec![0xde, 0xad, 0xbe, 0xef]);
    assert!(reason.contains("IAgents has no function with selector"), "{reason}");
    let mut truncated = register_call(AGENT, OPERATOR, open(200), metadata("a"));
    truncated.truncate(100);
    let reason = chain.reverts(OPERATOR, AGENTS, truncated);
    assert!(reason.contains("malformed arguments for IAgents"), "{reason}");
    let reason = chain.reverts(STRANGER, AGENTS, vec![1]);
    assert!(reason.contains("no function selector"), "{reason}");
    // Operations on agents that do not exist.
    for which in ["pause", "resume", "deregister", "unjail"] {
        let reason = chain.reverts(OPERATOR, AGENTS, id_call(9, which));
        assert!(reason.contains("agent 9 does not exist"), "{which}: {reason}");
    }
    let reason = chain.reverts(REPORTER, AGENTS, file_report(9, open(1)));
    assert!(reason.contains("agent 9 does not exist"), "{reason}");
    let out = chain.simulate(STRANGER, AGENTS, &IAgents::getAgentCall { agentId: 9 }.abi_encode());
    assert!(out.revert_reason.unwrap().contains("agent 9 does not exist"));
}

#[test]
fn parameters_are_governed_and_checked() {
    let mut chain = Chain::new();
    let out = chain.simulate(STRANGER, AGENTS, &IAgents::paramsCall {}.abi_encode());
    let p = IAgents::paramsCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!((p.minStake, p.equivocationSlashBps, p.jailSeconds), (open(100), 5_000, 86_400));

    let set = |min: U256, bps: u16, jail: u64| {
        IAgents::setParamsCall {
            params: IAgents::Params { minStake: min, equivocationSlashBps: bps, jailSeconds: jail },
        }
        .abi_encode()
    };
    let reason = chain.reverts(STRANGER, AGENTS, set(open(1), 100, 60));
    assert!(reason.contains("may only be called by governance"), "{reason}");
    for (input, want) in [
        (set(open(1), 10_001, 60), "10001 bps"),
        (set(U256::ZERO, 100, 60), "more than zero"),
        (set(open(2_000_000_000), 100, 60), "more than the OPEN supply"),
        (set(open(1), 100, MAX_JAIL_SECONDS + 1), "longer than a year"),
    ] {
        let out = as_governance(&mut chain, &input);
        assert!(out.revert_reason.as_deref().is_some_and(|r| r.contains(want)), "{want}: {out:?}");
    }
    assert_eq!(reader(&chain).params().unwrap(), Params::default());
    assert!(as_governance(&mut chain, &set(open(1), 10_000, 60)).success);
    let want = Params { min_stake: open(1), equivocation_slash_bps: Bps::MAX, jail_seconds: 60 };
    assert_eq!(reader(&chain).params().unwrap(), want);
}

// ---- with stake (the staking module) ----

#[test]
fn registering_bonds_the_operators_stake() {
    let mut chain = Chain::new();
    let supply = chain.total_supply();
    let before = chain.balance(account(OPERATOR));
    let staking_before = chain.balance(STAKING);
    let out = chain.ok(OPERATOR, AGENTS, register_call(AGENT, OPERATOR, open(200), metadata("a")));
    let logs = out.receipts[0].logs();
    let event = logs.iter().find_map(|l| IAgents::AgentRegistered::decode_log_data(&l.data).ok());
    assert_eq!(event.unwrap().agent, account(AGENT));
    assert_eq!(chain.balance(account(OPERATOR)), before - open(200) - gas_paid(&out));
    assert_eq!(chain.balance(STAKING), staking_before + open(200));
    assert_eq!(chain.balance(AGENTS), U256::ZERO, "the agents contract holds no OPEN");
    assert_eq!(chain.total_supply(), supply);
    assert_eq!(bonded(&chain, OPERATOR, AGENT), open(200));

    let mut r = reader(&chain);
    assert_eq!(r.agent_count().unwrap(), 1);
    assert_eq!(r.agent_id_of(account(AGENT)).unwrap(), Some(1));
    assert!(r.is_active(1).unwrap());
    let agent = r.agent(1).unwrap().unwrap();
    assert_eq!((agent.operator, agent.agent), (account(OPERATOR), account(AGENT)));
    assert_eq!((agent.status, agent.bonded), (Status::Active, open(200)));
    assert_eq!(agent.metadata, metadata("a"));

    // Through the ABI, as any Ethereum client reads it.
    let out = chain.simulate(STRANGER, AGENTS, &IAgents::getAgentCall { agentId: 1 }.abi_encode());
    assert_eq!(IAgents::getAgentCall::abi_decode_returns(&out.output).unwrap(), agent);
    let out = chain.simulate(
        STRANGER,
        AGENTS,
        &IAgents::agentOfCall { agent: account(AGENT) }.abi_encode(),
    );
    assert_eq!(u64::abi_decode(&out.output).unwrap(), 1);

    // The same key again, even for another operator: refused.
    let reason = chain.reverts(
        OTHER_OPERATOR,
        AGENTS,
        register_call(AGENT, OTHER_OPERATOR, open(200), metadata("b")),
    );
    assert!(reason.contains("already registered as agent 1"), "{reason}");
    // More than the operator can spend: the staking module refuses.
    let reason = chain.reverts(
        OTHER_OPERATOR,
        AGENTS,
        register_call(OTHER_AGENT, OTHER_OPERATOR, open(5_000), metadata("b")),
    );
    assert!(reason.contains("can spend"), "{reason}");
    assert_eq!(reader(&chain).agent_count().unwrap(), 1);
}

/// Model 1, trained on version 1 of datanet 1 (one contribution).
fn register_model(chain: &mut Chain) {
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
    chain.ok(STRANGER, DATANETS, IDatanets::createDatanetCall { config }.abi_encode());
    let hash = chain.blobs.add_distinct(1, 100);
    let contribution = IDatanets::contributeCall {
        datanetId: 1,
        contentHash: hash,
        size: 100,
        format: Format::Text,
        licence: String::new(),
    };
    chain.ok(STRANGER, DATANETS, contribution.abi_encode());
    chain.ok(STRANGER, DATANETS, IDatanets::publishVersionCall { datanetId: 1 }.abi_encode());
    let model = ModelConfig {
        name: "harbour-lm".into(),
        baseModel: B256::ZERO,
        trainedOn: vec![DatanetVersion { datanetId: 1, version: 1 }],
        trainingConfigHash: B256::repeat_byte(0xc0),
        weightsHash: B256::repeat_byte(0x77),
        kind: Kind::Full,
        inputPricePer1k: U256::ZERO,
        outputPricePer1k: U256::ZERO,
        providers: vec![],
    };
    chain.ok(STRANGER, MODELS, IModels::registerModelCall { config: model }.abi_encode());
}

fn update(agent_id: u64, metadata: AgentMetadata) -> Vec<u8> {
    IAgents::updateMetadataCall { agentId: agent_id, metadata }.abi_encode()
}

#[test]
fn metadata_names_live_models() {
    let mut chain = setup();
    let uses_model = AgentMetadata { modelId: 1, ..metadata("a") };
    let reason = chain.reverts(OPERATOR, AGENTS, update(1, uses_model.clone()));
    assert!(reason.contains("model 1 does not exist"), "{reason}");
    register_model(&mut chain);
    chain.ok(OPERATOR, AGENTS, update(1, uses_model.clone()));
    assert_eq!(reader(&chain).agent(1).unwrap().unwrap().metadata, uses_model);
    let reason = chain.reverts(STRANGER, AGENTS, update(1, metadata("mine")));
    assert!(reason.contains("only the operator of agent 1"), "{reason}");
    let reason = chain.reverts(OPERATOR, AGENTS, update(1, metadata(&"x".repeat(65))));
    assert!(reason.contains("name is 65 bytes"), "{reason}");

    chain.ok(STRANGER, MODELS, IModels::retireCall { modelId: 1 }.abi_encode());
    let reason = chain.reverts(
        OTHER_OPERATOR,
        AGENTS,
        register_call(OTHER_AGENT, OTHER_OPERATOR, open(100), uses_model),
    );
    assert!(reason.contains("model 1 is retired"), "{reason}");
    let no_endpoint = AgentMetadata { endpoint: String::new(), ..metadata("b") };
    chain.ok(
        OTHER_OPERATOR,
        AGENTS,
        register_call(OTHER_AGENT, OTHER_OPERATOR, open(100), no_endpoint),
    );
    assert_eq!(reader(&chain).agent_id_of(account(OTHER_AGENT)).unwrap(), Some(2));
}

#[test]
fn operators_pause_resume_and_deregister() {
    let mut chain = setup();
    let supply = chain.total_supply();
    let reason = chain.reverts(STRANGER, AGENTS, id_call(1, "pause"));
    assert!(reason.contains("only the operator of agent 1"), "{reason}");
    let reason = chain.reverts(AGENT, AGENTS, id_call(1, "pause"));
    assert!(reason.contains("only the operator"), "the agent's key is not its operator: {reason}");
    let reason = chain.reverts(OPERATOR, AGENTS, id_call(1, "resume"));
    assert!(reason.contains("not paused"), "{reason}");

    chain.ok(OPERATOR, AGENTS, id_call(1, "pause"));
    assert_eq!(reader(&chain).agent(1).unwrap().unwrap().status, Status::Paused);
    assert!(!reader(&chain).is_active(1).unwrap());
    let reason = chain.reverts(OPERATOR, AGENTS, id_call(1, "pause"));
    assert!(reason.contains("already paused"), "{reason}");
    chain.ok(OPERATOR, AGENTS, id_call(1, "resume"));
    assert_eq!(reader(&chain).agent(1).unwrap().unwrap().status, Status::Active);

    let reason = chain.reverts(STRANGER, AGENTS, id_call(1, "deregister"));
    assert!(reason.contains("only the operator"), "{reason}");
    chain.ok(OPERATOR, AGENTS, id_call(1, "deregister"));
    let agent = reader(&chain).agent(1).unwrap().unwrap();
    assert_eq!(agent.status, Status::Deregistered);
    assert_eq!((agent.bonded, agent.unbonding), (U256::ZERO, open(200)));
    assert_eq!(unbonding(&chain, OPERATOR, AGENT), open(200));
    assert_eq!(chain.total_supply(), supply);

    // Deregistration is final, and the key stays bound to agent 1.
    for which in ["pause", "resume", "deregister", "unjail"] {
        let reason = chain.reverts(OPERATOR, AGENTS, id_call(1, which));
        assert!(reason.contains("agent 1 is deregistered"), "{which}: {reason}");
    }
    let reason = chain.reverts(OPERATOR, AGENTS, top_up(1, open(1)));
    assert!(reason.contains("deregistered"), "{reason}");
    let reason =
        chain.reverts(OPERATOR, AGENTS, register_call(AGENT, OPERATOR, open(200), metadata("a")));
    assert!(reason.contains("already registered as agent 1"), "{reason}");
}

#[test]
fn stake_stays_slashable_while_it_unbonds() {
    let mut chain = setup();
    // The operator unstakes half through the staking contract itself: the
    // agent is no longer active (below the minimum), and still slashable.
    let unstake =
        crate::staking::IStaking::unstakeCall { validator: account(AGENT), amount: open(150) };
    chain.ok(OPERATOR, STAKING, unstake.abi_encode());
    assert!(!reader(&chain).is_active(1).unwrap());
    assert_eq!(reader(&chain).agent(1).unwrap().unwrap().status, Status::Active);
    chain.ok(OPERATOR, AGENTS, id_call(1, "deregister"));
    let agent = reader(&chain).agent(1).unwrap().unwrap();
    assert_eq!((agent.bonded, agent.unbonding), (U256::ZERO, open(200)));
    let out = chain.ok(
        REPORTER,
        AGENTS,
        equivocation(statement(AGENT, 1, 3, 1), statement(AGENT, 1, 3, 2)),
    );
    assert_eq!(slashed_event(&out).amount, open(100), "half of the unbonding stake");
    let agent = reader(&chain).agent(1).unwrap().unwrap();
    assert_eq!(
        (agent.status, agent.jailed, agent.unbonding),
        (Status::Deregistered, false, open(100))
    );
}

#[test]
fn top_up_bonds_more() {
    let mut chain = setup();
    let before = chain.balance(account(OPERATOR));
    let out = chain.ok(OPERATOR, AGENTS, top_up(1, open(50)));
    assert_eq!(chain.balance(account(OPERATOR)), before - open(50) - gas_paid(&out));
    assert_eq!(bonded(&chain, OPERATOR, AGENT), open(250));
    let reason = chain.reverts(OPERATOR, AGENTS, top_up(1, U256::ZERO));
    assert!(reason.contains("more than zero"), "{reason}");
    let reason = chain.reverts(STRANGER, AGENTS, top_up(1, open(1)));
    assert!(reason.contains("only the operator"), "nobody bonds the operator's OPEN: {reason}");
}

#[test]
fn equivocation_slashes_jails_and_pays_the_reporter() {
    let mut chain = setup();
    let supply = chain.total_supply();
    let reporter_before = chain.balance(account(REPORTER));
    let treasury_before = chain.balance(TREASURY);
    let evidence = equivocation(statement(AGENT, 1, 42, 0xa1), statement(AGENT, 1, 42, 0xb2));
    let out = chain.simulate(REPORTER, AGENTS, &evidence);
    assert_eq!(U256::abi_decode(&out.output).unwrap(), open(100), "half of 200 OPEN");
    let out = chain.ok(REPORTER, AGENTS, evidence.clone());
    let event = slashed_event(&out);
    assert_eq!((event.amount, event.reporter), (open(100), account(REPORTER)));
    assert!(event.toReporter > U256::ZERO && event.toReporter <= open(100));
    assert_eq!(
        chain.balance(account(REPORTER)),
        reporter_before + event.toReporter - gas_paid(&out),
        "the reporter is paid the reporter share"
    );
    assert_eq!(
        chain.balance(TREASURY),
        treasury_before + open(100) - event.toReporter + gas_paid(&out),
        "the rest of the slash goes to the treasury"
    );
    assert_eq!(chain.total_supply(), supply);
    assert_eq!(bonded(&chain, OPERATOR, AGENT), open(100));
    let agent = reader(&chain).agent(1).unwrap().unwrap();
    assert_eq!((agent.status, agent.jailed), (Status::Jailed, true));
    assert_eq!(agent.jailedUntil, agent.jailedAt + 86_400);
    assert!(reader(&chain).equivocation_punished(1, U256::from(42)).unwrap());

    // The same evidence (or the same nonce with other content) again: refused.
    let reason = chain.reverts(REPORTER, AGENTS, evidence);
    assert!(reason.contains("already been punished"), "{reason}");
    let again = equivocation(statement(AGENT, 1, 42, 0xa1), statement(AGENT, 1, 42, 0xc3));
    let reason = chain.reverts(STRANGER, AGENTS, again);
    assert!(reason.contains("already been punished"), "{reason}");
}

#[test]
fn what_is_not_equivocation_is_refused() {
    let mut chain = setup();
    let cases = [
        (
            equivocation(statement(AGENT, 1, 7, 0xa1), statement(AGENT, 1, 7, 0xa1)),
            "no equivocation",
        ),
        (
            equivocation(statement(AGENT, 1, 7, 0xa1), statement(AGENT, 1, 8, 0xb2)),
            "same agent and request",
        ),
        (
            equivocation(statement(AGENT, 1, 7, 0xa1), statement(STRANGER, 1, 7, 0xb2)),
            "second statement was signed by",
        ),
        (
            equivocation(statement(STRANGER, 1, 7, 0xa1), statement(STRANGER, 1, 7, 0xb2)),
            "first statement was signed by",
        ),
        (
            equivocation(statement(AGENT, 2, 7, 0xa1), statement(AGENT, 2, 7, 0xb2)),
            "agent 2 does not exist",
        ),
    ];
    for (input, want) in cases {
        let reason = chain.reverts(REPORTER, AGENTS, input);
        assert!(reason.contains(want), "{want}: {reason}");
    }
    // A signature of the wrong shape.
    let (first, _) = statement(AGENT, 1, 7, 0xa1);
    let reason = chain.reverts(
        REPORTER,
        AGENTS,
        equivocation((first, vec![0; 64]), statement(AGENT, 1, 7, 0xb2)),
    );
    assert!(reason.contains("first statement's signature is invalid"), "{reason}");
    assert_eq!(bonded(&chain, OPERATOR, AGENT), open(200));
    assert_eq!(reader(&chain).agent(1).unwrap().unwrap().status, Status::Active);
}

#[test]
fn governance_resolves_reports() {
    let mut chain = setup();
    let supply = chain.total_supply();
    chain.ok(REPORTER, AGENTS, file_report(1, open(30)));
    chain.ok(STRANGER, AGENTS, file_report(1, open(1_000)));
    chain.ok(STRANGER, AGENTS, file_report(1, open(5)));
    let report = reader(&chain).report(1).unwrap().unwrap();
    assert_eq!(
        (report.agentId, report.reporter, report.status),
        (1, account(REPORTER), ReportStatus::Open)
    );

    // Only governance resolves.
    let reason = chain.reverts(REPORTER, AGENTS, resolve(1, true));
    assert!(reason.contains("resolveReport may only be called by governance"), "{reason}");
    // Upheld: slashed, reporter paid, jailed.
    let reporter_before = chain.balance(account(REPORTER));
    let out = as_governance(&mut chain, &resolve(1, true));
    assert!(out.success, "{out:?}");
    let slashed =
        out.logs.iter().find_map(|l| IAgents::AgentSlashed::decode_log_data(&l.data).ok()).unwrap();
    assert_eq!(slashed.amount, open(30));
    assert_eq!(chain.balance(account(REPORTER)), reporter_before + slashed.toReporter);
    assert_eq!(bonded(&chain, OPERATOR, AGENT), open(170));
    assert_eq!(reader(&chain).agent(1).unwrap().unwrap().status, Status::Jailed);
    let report = reader(&chain).report(1).unwrap().unwrap();
    assert_eq!(report.status, ReportStatus::Upheld);
    assert_ne!(report.resolvedAtBlock, 0);
    let out = as_governance(&mut chain, &resolve(1, false));
    assert!(out.revert_reason.unwrap().contains("already resolved"));

    // More than the stake: refused, nothing changes.
    let out = as_governance(&mut chain, &resolve(2, true));
    assert!(out.revert_reason.unwrap().contains("slashing more than the stake"));
    assert_eq!(reader(&chain).report(2).unwrap().unwrap().status, ReportStatus::Open);
    assert_eq!(bonded(&chain, OPERATOR, AGENT), open(170));
    // Rejected: closed without a slash.
    assert!(as_governance(&mut chain, &resolve(2, false)).success);
    assert_eq!(reader(&chain).report(2).unwrap().unwrap().status, ReportStatus::Rejected);
    assert_eq!(bonded(&chain, OPERATOR, AGENT), open(170));
    assert_eq!(chain.total_supply(), supply);
    let out = as_governance(&mut chain, &resolve(9, true));
    assert!(out.revert_reason.unwrap().contains("report 9 does not exist"));

    for (input, want) in [
        (file_report(1, U256::ZERO), "more than zero"),
        (
            IAgents::fileReportCall {
                agentId: 1,
                evidenceHash: B256::ZERO,
                amount: open(1),
                reason: "x".into(),
            }
            .abi_encode(),
            "hash of its evidence",
        ),
        (
            IAgents::fileReportCall {
                agentId: 1,
                evidenceHash: B256::repeat_byte(1),
                amount: open(1),
                reason: "r".repeat(257),
            }
            .abi_encode(),
            "reason is 257 bytes",
        ),
    ] {
        let reason = chain.reverts(REPORTER, AGENTS, input);
        assert!(reason.contains(want), "{want}: {reason}");
    }
}

#[test]
fn a_jailed_agent_waits_and_tops_up_before_unjailing() {
    let mut chain = setup();
    let reason = chain.reverts(OPERATOR, AGENTS, id_call(1, "unjail"));
    assert!(reason.contains("not jailed"), "{reason}");
    chain.ok(REPORTER, AGENTS, equivocation(statement(AGENT, 1, 1, 1), statement(AGENT, 1, 1, 2)));
    // 100 OPEN bonded is the minimum, but the jailing has not run out.
    let reason = chain.reverts(OPERATOR, AGENTS, id_call(1, "unjail"));
    assert!(reason.contains("jailed until"), "{reason}");
    // A second equivocation while jailed: 50 OPEN left, below the minimum.
    chain.ok(REPORTER, AGENTS, equivocation(statement(AGENT, 1, 2, 1), statement(AGENT, 1, 2, 2)));
    assert_eq!(bonded(&chain, OPERATOR, AGENT), open(50));
    wait(&mut chain, 86_400);
    let reason = chain.reverts(OPERATOR, AGENTS, id_call(1, "unjail"));
    assert!(reason.contains("top it up to the minimum stake"), "{reason}");
    let reason = chain.reverts(STRANGER, AGENTS, id_call(1, "unjail"));
    assert!(reason.contains("only the operator"), "{reason}");
    // Pausing and resuming leave the jailing alone.
    chain.ok(OPERATOR, AGENTS, id_call(1, "pause"));
    chain.ok(OPERATOR, AGENTS, id_call(1, "resume"));
    assert_eq!(reader(&chain).agent(1).unwrap().unwrap().status, Status::Jailed);
    chain.ok(OPERATOR, AGENTS, top_up(1, open(50)));
    chain.ok(OPERATOR, AGENTS, id_call(1, "unjail"));
    let agent = reader(&chain).agent(1).unwrap().unwrap();
    assert_eq!((agent.status, agent.jailed), (Status::Active, false));
}

#[test]
fn other_modules_slash_and_jail() {
    let mut chain = setup();
    let env = chain.env();
    let call_env = CallEnv {
        spec: &chain.spec,
        block: &env,
        caller: account(REPORTER),
        content: &chain.blobs,
    };
    // As the attribution challenge would, from its own contract's frame.
    let mut frame =
        Frame::new(&chain.state, ol_primitives::addresses::INFERENCE, call_env, 10_000_000);
    let too_much = slash(&mut frame, 1, open(201), None, JailReason::AttributionChallenge);
    assert!(
        matches!(too_much, Err(CallError::Revert(r)) if r.contains("slashing more than the stake"))
    );
    let taken =
        slash(&mut frame, 1, open(20), Some(account(REPORTER)), JailReason::AttributionChallenge)
            .unwrap();
    assert_eq!(taken.from_bonded, open(20));
    assert_eq!(
        frame.address,
        ol_primitives::addresses::INFERENCE,
        "the caller's frame is restored"
    );
    let changes = frame.state.into_changes();
    chain.state.apply(changes);
    let agent = reader(&chain).agent(1).unwrap().unwrap();
    assert_eq!((agent.status, agent.bonded), (Status::Jailed, open(180)));
}

// ---- nothing is created or destroyed ----

#[derive(Debug, Clone)]
enum Op {
    Register(u8),
    TopUp(u8, u64),
    Pause(u8),
    Resume(u8),
    Deregister(u8),
    Equivocate(u8, u64),
    Report(u8, u64, bool),
    Unjail(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let agent = 0..3u8;
    prop_oneof![
        agent.clone().prop_map(Op::Register),
        (agent.clone(), 0..300u64).prop_map(|(a, n)| Op::TopUp(a, n)),
        agent.clone().prop_map(Op::Pause),
        agent.clone().prop_map(Op::Resume),
        agent.clone().prop_map(Op::Deregister),
        (agent.clone(), 0..3u64).prop_map(|(a, n)| Op::Equivocate(a, n)),
        (agent.clone(), 0..400u64, any::<bool>()).prop_map(|(a, n, u)| Op::Report(a, n, u)),
        agent.prop_map(Op::Unjail),
    ]
}

/// Agent `n`'s key: account 4 + n, operated by account n.
fn agent_key(n: u8) -> u8 {
    4 + n
}

/// Applies `op` (it may succeed or be refused).
fn apply(chain: &mut Chain, op: Op) {
    let id = |chain: &Chain, n: u8| {
        reader(chain).agent_id_of(account(agent_key(n))).unwrap().unwrap_or(99)
    };
    match op {
        Op::Register(n) => {
            chain.send(n, AGENTS, register_call(agent_key(n), n, open(150), metadata("p")));
        }
        Op::TopUp(n, amount) => {
            let id = id(chain, n);
            chain.send(n, AGENTS, top_up(id, open(amount)));
        }
        Op::Pause(n) => {
            let id = id(chain, n);
            chain.send(n, AGENTS, id_call(id, "pause"));
        }
        Op::Resume(n) => {
            let id = id(chain, n);
            chain.send(n, AGENTS, id_call(id, "resume"));
        }
        Op::Deregister(n) => {
            let id = id(chain, n);
            chain.send(n, AGENTS, id_call(id, "deregister"));
        }
        Op::Unjail(n) => {
            let id = id(chain, n);
            wait(chain, 86_400);
            chain.send(n, AGENTS, id_call(id, "unjail"));
        }
        Op::Equivocate(n, nonce) => {
            let id = id(chain, n);
            let key = agent_key(n);
            let input = equivocation(statement(key, id, nonce, 1), statement(key, id, nonce, 2));
            chain.send(STRANGER, AGENTS, input);
        }
        Op::Report(n, amount, uphold) => {
            let id = id(chain, n);
            if chain.send(STRANGER, AGENTS, file_report(id, open(amount))).receipts[0].success() {
                let report = reader(chain).report_count().unwrap();
                as_governance(chain, &resolve(report, uphold));
            }
        }
    }
}

/// What the agents of operators 0..3 have at stake.
fn at_stake(chain: &Chain) -> U256 {
    (0..3u8).fold(U256::ZERO, |sum, n| {
        sum + bonded(chain, n, agent_key(n)) + unbonding(chain, n, agent_key(n))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any sequence of operations (succeeding or not) keeps the OPEN supply,
    /// leaves the agents contract without OPEN, and keeps every agent's
    /// stake within what the staking contract holds.
    #[test]
    fn no_operation_creates_or_destroys_open(ops in proptest::collection::vec(op(), 1..12)) {
        let mut chain = Chain::new();
        let supply = chain.total_supply();
        for n in 0..2u8 {
            chain.ok(n, AGENTS, register_call(agent_key(n), n, open(150), metadata("p")));
        }
        for op in ops {
            apply(&mut chain, op);
            prop_assert_eq!(chain.total_supply(), supply);
            prop_assert_eq!(chain.balance(AGENTS), U256::ZERO);
            prop_assert!(at_stake(&chain) <= chain.balance(STAKING));
        }
    }
}
