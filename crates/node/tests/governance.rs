//! Governance over JSON-RPC in one dev node (the dev genesis's short
//! windows, the dev clock moved forward instead of waiting): an account
//! stakes for votes, proposes a new inference fee split, votes, queues and
//! executes it; `ol_getProposal` shows the state and tallies at each step,
//! `ol_governanceParams` the dev parameters, and malformed parameters are
//! refused.

mod common;

use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_sol_types::SolCall;
use common::{Node, transaction};
use ol_ledger::{
    governance::{Action, GOVERNANCE, IGovernance},
    inference::{self, IInference, INFERENCE},
    staking::{IStaking, STAKING},
};
use ol_node::dev;
use ol_primitives::Amount;
use serde_json::{Value, json};

fn open(amount: u64) -> U256 {
    Amount::from_open(amount).wei()
}

impl Node {
    /// Sends a call from dev account `from` and waits for a successful receipt.
    async fn succeed(&mut self, from: u32, to: Address, input: Vec<u8>) {
        let tx = transaction(TxKind::Call(to), input, 2_000_000, 4_000_000_000);
        self.succeed_from(from, tx).await;
    }

    async fn proposal(&self, id: u64) -> Value {
        self.ok("ol_getProposal", vec![json!(id)]).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proposal_goes_through_its_life_over_rpc() {
    let mut node = Node::start().await;
    let params = node.ok("ol_governanceParams", vec![]).await;
    assert_eq!(params["votingDelay"], json!("0x1"), "{params}");
    assert_eq!(params["votingPeriod"], json!("0x3c"), "60 s");
    assert_eq!(params["timelockDelay"], json!("0xa"));
    assert_eq!(params["proposalThreshold"], json!(open(1)));
    assert_eq!(params["quorumNumerator"], json!("0x5"));
    assert_eq!(params["gracePeriod"], json!("0x127500"), "14 days");
    assert_eq!(node.ok("ol_proposalCount", vec![]).await, json!("0x0"));
    assert_eq!(node.proposal(1).await, Value::Null);

    // Dev account 1 stakes 100 OPEN to itself: 100 votes from the next second.
    let stake = IStaking::stakeCall { validator: dev::dev_signer(1).address(), amount: open(100) };
    node.succeed(1, STAKING, stake.abi_encode()).await;
    node.handle.chain.increase_time(2);

    let split = IInference::Params {
        platformFee: inference::Params::default().platform_fee,
        ownerBps: 3_000,
        providerBps: 1_000,
        stakersBps: 1_000,
        contributorsBps: 5_000,
    };
    let action = Action {
        target: INFERENCE,
        data: IInference::setParamsCall { params: split }.abi_encode().into(),
    };
    let propose = IGovernance::proposeCall {
        actions: vec![action.clone()],
        description: "Owners 30 %, stakers 10 %".into(),
    };
    node.succeed(1, GOVERNANCE, propose.abi_encode()).await;
    assert_eq!(node.ok("ol_proposalCount", vec![json!("latest")]).await, json!("0x1"));
    let proposal = node.proposal(1).await;
    assert_eq!(proposal["state"], "Pending", "{proposal}");
    assert_eq!(proposal["proposer"], json!(dev::dev_signer(1).address()));
    assert_eq!(proposal["description"], "Owners 30 %, stakers 10 %");
    assert_eq!(proposal["actions"], json!([{ "target": INFERENCE, "data": action.data }]));
    assert_eq!(proposal["eta"], json!("0x0"));

    node.handle.chain.increase_time(2);
    let vote = IGovernance::castVoteCall { proposalId: 1, support: 1 };
    node.succeed(1, GOVERNANCE, vote.abi_encode()).await;
    let proposal = node.proposal(1).await;
    assert_eq!(proposal["state"], "Active", "{proposal}");
    assert_eq!(proposal["forVotes"], json!(open(100)));
    assert_eq!(proposal["againstVotes"], json!(U256::ZERO));
    assert_eq!(proposal["quorum"], json!(open(5)), "5 % of 100 OPEN");

    node.handle.chain.increase_time(61);
    node.succeed(2, GOVERNANCE, IGovernance::queueCall { proposalId: 1 }.abi_encode()).await;
    let proposal = node.proposal(1).await;
    assert_eq!(proposal["state"], "Queued", "{proposal}");
    assert_ne!(proposal["eta"], json!("0x0"));

    node.handle.chain.increase_time(11);
    node.succeed(2, GOVERNANCE, IGovernance::executeCall { proposalId: 1 }.abi_encode()).await;
    assert_eq!(node.proposal(1).await["state"], "Executed");
    let request =
        json!({ "to": INFERENCE, "input": Bytes::from(IInference::paramsCall {}.abi_encode()) });
    let output: Bytes =
        serde_json::from_value(node.ok("eth_call", vec![request, json!("latest")]).await).unwrap();
    let params = IInference::paramsCall::abi_decode_returns(&output).unwrap();
    assert_eq!((params.ownerBps, params.stakersBps), (3_000, 1_000));
    // Before the proposal, at the genesis block, nothing existed.
    assert_eq!(node.ok("ol_proposalCount", vec![json!("0x0")]).await, json!("0x0"));

    for (method, args) in [
        ("ol_getProposal", vec![]),
        ("ol_getProposal", vec![json!("one")]),
        ("ol_getProposal", vec![json!(1), json!("0x99999")]),
        ("ol_proposalCount", vec![json!("latest"), json!(1)]),
        ("ol_governanceParams", vec![json!("nope")]),
    ] {
        let error = node.call(method, args.clone()).await.unwrap_err();
        assert_eq!(error.code(), -32602, "{method} {args:?}: {error:?}");
        assert!(!error.message().is_empty());
    }
    node.handle.stop().await;
}
