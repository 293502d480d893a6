//! Calldata to the agents system contract: what any signed transaction to
//! `0x…1006` (or an `eth_call`) hands the ledger, and what a proposal's
//! action hands it as governance.

use crate::system_call::{check_call, decoding_edge_seeds, prepare};
use alloy_primitives::{Address, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use ol_ledger::{
    Account, MemoryState, StateChanges,
    agents::{
        AGENTS, AgentMetadata, AgentStatement, IAgents, binding_signing_hash,
        statement_signing_hash,
    },
};
use ol_primitives::addresses::GOVERNANCE;
use std::sync::LazyLock;

const OPERATOR: Address = Address::repeat_byte(0x11);
const REPORTER: Address = Address::repeat_byte(0x22);
/// The callers the first input byte picks from: an operator, a reporter and
/// governance (as a proposal's action calls it).
const CALLERS: [Address; 3] = [OPERATOR, REPORTER, GOVERNANCE];
/// The chain id of the fuzzed calls' environment, which bindings and
/// statements are signed for.
const CHAIN_ID: u64 = 1337;

/// The agents of the prepared state, by their standing at the fuzzed block.
const ACTIVE: u64 = 1;
const JAILED: u64 = 2;
const PAUSED: u64 = 3;
const DEREGISTERED: u64 = 4;
/// A key never registered.
const UNREGISTERED: u64 = 5;
/// Reports of the prepared state.
const OPEN_REPORT: u64 = 1;
const REJECTED_REPORT: u64 = 2;
/// The request at which the jailed agent equivocated.
const PUNISHED_NONCE: u64 = 1;

/// The agents' keys, in the order of their ids; the last one is not
/// registered (the register seed uses it).
static KEYS: LazyLock<[PrivateKeySigner; 5]> = LazyLock::new(|| {
    std::array::from_fn(|n| {
        PrivateKeySigner::from_bytes(&B256::repeat_byte(0xa1 + n as u8))
            .expect("a small repeated byte is a valid secp256k1 key")
    })
});

fn key(agent_id: u64) -> &'static PrivateKeySigner {
    &KEYS[agent_id as usize - 1]
}
fn open(whole: u64) -> U256 {
    U256::from(whole) * U256::from(10u64).pow(U256::from(18))
}

/// A state with agents in every standing at the fuzzed block time (20):
/// active with an open report against it, jailed for equivocation (jail
/// over, and topped up back to the minimum stake, so it may be unjailed),
/// paused, and deregistered; and a rejected report.
static STATE: LazyLock<MemoryState> = LazyLock::new(|| {
    let mut state = MemoryState::default();
    let mut funded = StateChanges::default();
    for (account, balance) in [(OPERATOR, open(1_000)), (REPORTER, open(10))] {
        funded.accounts.insert(account, Account::with_balance(balance));
    }
    state.apply(funded);
    let mut run = |timestamp, caller, input: Vec<u8>| {
        prepare(&mut state, timestamp, caller, AGENTS, &input);
    };
    run(0, GOVERNANCE, set_params_call(5));
    for (id, stake) in [(ACTIVE, 200), (JAILED, 150), (PAUSED, 100), (DEREGISTERED, 100)] {
        run(1, OPERATOR, register_call(id, open(stake)));
    }
    run(2, OPERATOR, IAgents::pauseCall { agentId: PAUSED }.abi_encode());
    run(2, OPERATOR, IAgents::deregisterCall { agentId: DEREGISTERED }.abi_encode());
    // Slashes half of the 150 OPEN and jails it until 8.
    run(3, REPORTER, equivocation_call(JAILED, PUNISHED_NONCE));
    run(4, OPERATOR, IAgents::topUpCall { agentId: JAILED, amount: open(50) }.abi_encode());
    run(5, REPORTER, file_report_call(ACTIVE));
    run(5, REPORTER, file_report_call(PAUSED));
    run(6, GOVERNANCE, resolve_call(REJECTED_REPORT, false));
    state
});

fn set_params_call(jail_seconds: u64) -> Vec<u8> {
    IAgents::setParamsCall {
        params: IAgents::Params {
            minStake: open(100),
            equivocationSlashBps: 5_000,
            jailSeconds: jail_seconds,
        },
    }
    .abi_encode()
}

fn metadata(name: &str) -> AgentMetadata {
    AgentMetadata {
        name: name.into(),
        description: "answers questions".into(),
        endpoint: "https://agent.example/v1".into(),
        modelId: 0,
    }
}

/// The operator registers the agent with key number `agent_id`, which signs
/// its consent.
fn register_call(agent_id: u64, stake: U256) -> Vec<u8> {
    let agent = key(agent_id).address();
    let hash = binding_signing_hash(CHAIN_ID, OPERATOR, agent);
    IAgents::registerAgentCall {
        agent,
        metadata: metadata("fuzz"),
        stake,
        agentSignature: sign(agent_id, hash).into(),
    }
    .abi_encode()
}

fn sign(agent_id: u64, hash: B256) -> Vec<u8> {
    key(agent_id)
        .sign_hash_sync(&hash)
        .expect("signing a 32-byte hash with a valid key cannot fail")
        .as_bytes()
        .to_vec()
}

/// Two statements of agent `agent_id` for request `nonce` with different
/// content, both signed by its key.
fn equivocation_call(agent_id: u64, nonce: u64) -> Vec<u8> {
    let statement = |content| AgentStatement {
        agentId: agent_id,
        requestNonce: U256::from(nonce),
        contentHash: B256::repeat_byte(content),
    };
    let (first, second) = (statement(1), statement(2));
    IAgents::reportEquivocationCall {
        firstSignature: sign(agent_id, statement_signing_hash(CHAIN_ID, &first)).into(),
        secondSignature: sign(agent_id, statement_signing_hash(CHAIN_ID, &second)).into(),
        first,
        second,
    }
    .abi_encode()
}

fn file_report_call(agent_id: u64) -> Vec<u8> {
    IAgents::fileReportCall {
        agentId: agent_id,
        evidenceHash: B256::repeat_byte(9),
        amount: open(10),
        reason: "wrong answers".into(),
    }
    .abi_encode()
}

fn resolve_call(report_id: u64, uphold: bool) -> Vec<u8> {
    IAgents::resolveReportCall { reportId: report_id, uphold }.abi_encode()
}

/// Runs `data` as calldata (first byte picks the caller: the operator, a
/// reporter, or governance) and checks the invariants of every system call
/// (`check_call`).
pub fn fuzz_agents_call(data: &[u8]) {
    let Some((selector, input)) = data.split_first() else { return };
    let caller = CALLERS[usize::from(*selector) % CALLERS.len()];
    check_call(&STATE, caller, AGENTS, input);
}

/// Valid calls of every function, and a few malformed ones, as seeds.
pub fn agents_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let operator = |call: Vec<u8>| [&[0u8][..], &call].concat();
    let reporter = |call: Vec<u8>| [&[1u8][..], &call].concat();
    let governance = |call: Vec<u8>| [&[2u8][..], &call].concat();
    let register = operator(register_call(UNREGISTERED, open(100)));
    let mut seeds = vec![
        ("register", register.clone()),
        ("register_again_refused", operator(register_call(DEREGISTERED, open(100)))),
        ("pause", operator(IAgents::pauseCall { agentId: ACTIVE }.abi_encode())),
        ("resume", operator(IAgents::resumeCall { agentId: PAUSED }.abi_encode())),
        (
            "update_metadata",
            operator(
                IAgents::updateMetadataCall { agentId: ACTIVE, metadata: metadata("renamed") }
                    .abi_encode(),
            ),
        ),
        ("top_up", operator(IAgents::topUpCall { agentId: ACTIVE, amount: open(1) }.abi_encode())),
        ("deregister", operator(IAgents::deregisterCall { agentId: ACTIVE }.abi_encode())),
        ("unjail", operator(IAgents::unjailCall { agentId: JAILED }.abi_encode())),
        ("report_equivocation", reporter(equivocation_call(ACTIVE, 7))),
        ("report_equivocation_paused", reporter(equivocation_call(PAUSED, 7))),
        ("report_equivocation_again_refused", reporter(equivocation_call(JAILED, PUNISHED_NONCE))),
        ("file_report", reporter(file_report_call(JAILED))),
        ("uphold_report", governance(resolve_call(OPEN_REPORT, true))),
        ("reject_report", governance(resolve_call(OPEN_REPORT, false))),
        ("resolve_resolved_refused", governance(resolve_call(REJECTED_REPORT, true))),
        ("set_params", governance(set_params_call(3_600))),
        ("get_agent", reporter(IAgents::getAgentCall { agentId: JAILED }.abi_encode())),
        ("agent_of", reporter(IAgents::agentOfCall { agent: key(ACTIVE).address() }.abi_encode())),
        ("agent_count", reporter(IAgents::agentCountCall {}.abi_encode())),
        ("get_report", reporter(IAgents::getReportCall { reportId: OPEN_REPORT }.abi_encode())),
        ("report_count", reporter(IAgents::reportCountCall {}.abi_encode())),
        (
            "equivocation_punished",
            reporter(
                IAgents::equivocationPunishedCall {
                    agentId: JAILED,
                    requestNonce: U256::from(PUNISHED_NONCE),
                }
                .abi_encode(),
            ),
        ),
        ("params", reporter(IAgents::paramsCall {}.abi_encode())),
    ];
    seeds.extend(decoding_edge_seeds(register));
    seeds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system_call::assert_seeds_reach;

    #[test]
    fn seeds_reach_the_prepared_paths() {
        assert_seeds_reach(&STATE, &CALLERS, AGENTS, &agents_seeds());
    }
}
