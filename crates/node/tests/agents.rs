//! Agents over JSON-RPC in one dev node: an operator registers an agent
//! (with the agent key's EIP-712 consent) by an ordinary signed
//! transaction, `ol_getAgent` finds it by id and by key address,
//! `ol_agentCount` counts it, a filed report is served by
//! `ol_getAgentReport`, and malformed parameters are refused.

mod common;

use alloy_primitives::{B256, TxKind};
use alloy_signer::SignerSync;
use alloy_sol_types::SolCall;
use common::{Node, address, transaction};
use ol_ledger::agents::{self, AGENTS, AgentMetadata, IAgents};
use ol_node::dev;
use ol_primitives::Amount;
use serde_json::{Value, json};

const OPERATOR: u32 = 1;
const AGENT_KEY: u32 = 2;
const REPORTER: u32 = 3;

impl Node {
    /// Sends a call to the agents contract from dev account `from` and
    /// waits for a successful receipt.
    async fn succeed(&mut self, from: u32, input: Vec<u8>) {
        let tx = transaction(TxKind::Call(AGENTS), input, 2_000_000, 4_000_000_000);
        self.succeed_from(from, tx).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_are_served_over_rpc() {
    let mut node = Node::start().await;
    assert_eq!(node.ok("ol_agentCount", vec![]).await, json!("0x0"));
    assert_eq!(node.ok("ol_getAgent", vec![json!(1)]).await, Value::Null);

    let binding =
        agents::binding_signing_hash(dev::DEV_CHAIN_ID, address(OPERATOR), address(AGENT_KEY));
    let signature = dev::dev_signer(AGENT_KEY).sign_hash_sync(&binding).unwrap();
    let stake = Amount::from_open(150).wei();
    let register = IAgents::registerAgentCall {
        agent: address(AGENT_KEY),
        metadata: AgentMetadata {
            name: "harbour pilot".into(),
            description: "tide tables on request".into(),
            endpoint: "https://pilot.example/v1".into(),
            modelId: 0,
        },
        stake,
        agentSignature: signature.as_bytes().to_vec().into(),
    };
    node.succeed(OPERATOR, register.abi_encode()).await;

    assert_eq!(node.ok("ol_agentCount", vec![]).await, json!("0x1"));
    let by_id = node.ok("ol_getAgent", vec![json!("0x1")]).await;
    let by_address = node.ok("ol_getAgent", vec![json!(address(AGENT_KEY))]).await;
    assert_eq!(by_id, by_address);
    assert_eq!(by_id["name"], "harbour pilot");
    assert_eq!(by_id["status"], "active");
    assert_eq!(by_id["operator"], json!(address(OPERATOR)));
    assert_eq!(by_id["bonded"], json!(stake));
    assert_eq!(by_id["modelId"], Value::Null);
    assert_eq!(node.ok("ol_getAgent", vec![json!(address(REPORTER))]).await, Value::Null);

    let report = IAgents::fileReportCall {
        agentId: 1,
        evidenceHash: B256::repeat_byte(0xe1),
        amount: Amount::from_open(10).wei(),
        reason: "answers copied from another agent".into(),
    };
    node.succeed(REPORTER, report.abi_encode()).await;
    let report = node.ok("ol_getAgentReport", vec![json!(1)]).await;
    assert_eq!(report["status"], "open");
    assert_eq!(report["reporter"], json!(address(REPORTER)));
    assert_eq!(report["resolvedAtBlock"], Value::Null);
    assert_eq!(node.ok("ol_getAgentReport", vec![json!(2)]).await, Value::Null);

    // Malformed parameters: invalid params, with a sentence.
    for (method, args) in [
        ("ol_getAgent", vec![]),
        ("ol_getAgent", vec![json!("0xnothex")]),
        ("ol_getAgent", vec![json!(true)]),
        ("ol_getAgent", vec![json!(-1)]),
        ("ol_getAgentReport", vec![json!("x")]),
        ("ol_agentCount", vec![json!("latest"), json!(1)]),
    ] {
        let error = node.call(method, args.clone()).await.unwrap_err();
        assert_eq!(error.code(), -32602, "{method} {args:?}: {error:?}");
        assert!(error.message().starts_with(method), "{}", error.message());
    }
    node.handle.stop().await;
}
