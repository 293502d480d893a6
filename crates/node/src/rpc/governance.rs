//! `ol_` methods that read on-chain governance (`contracts/IGovernance.sol`).
//!
//! `ol_getProposal(id, block?)` serves a proposal with its tallies, quorum
//! and state (at that block's time, as `eth_call` of `IGovernance.state`
//! would answer), `ol_proposalCount(block?)` the number made and
//! `ol_governanceParams(block?)` the governable parameters. The block is
//! the latest unless named.

use super::{
    RpcContext,
    datanet::read_error,
    eth::{Positional, state_at},
};
use alloy_primitives::{Address, Bytes, U64, U256};
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use ol_ledger::governance::{self, GovernanceReader, Proposal};
use serde::{Deserialize, Serialize};

type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// One action of a proposal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionJson {
    /// The system contract called.
    pub target: Address,
    /// The ABI-encoded call.
    pub data: Bytes,
}

/// A proposal as served over JSON-RPC.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProposalJson {
    /// Its id.
    pub id: U64,
    /// Who proposed it.
    pub proposer: Address,
    /// Votes count as they were at this block time (unix seconds).
    pub snapshot: U64,
    /// Last second of voting.
    pub deadline: U64,
    /// Earliest execution; zero until queued.
    pub eta: U64,
    /// Votes For, in wei of staked OPEN.
    pub for_votes: U256,
    /// Votes Against.
    pub against_votes: U256,
    /// Abstentions.
    pub abstain_votes: U256,
    /// For + Abstain needed.
    pub quorum: U256,
    /// `Pending`, `Active`, `Canceled`, `Defeated`, `Succeeded`, `Queued`,
    /// `Expired` or `Executed`, at the block's time.
    pub state: String,
    /// What it is for.
    pub description: String,
    /// The calls it makes when executed.
    pub actions: Vec<ActionJson>,
}

impl From<Proposal> for ProposalJson {
    fn from(p: Proposal) -> Self {
        Self {
            id: U64::from(p.id),
            proposer: p.proposer,
            snapshot: U64::from(p.snapshot),
            deadline: U64::from(p.deadline),
            eta: U64::from(p.eta),
            for_votes: p.forVotes,
            against_votes: p.againstVotes,
            abstain_votes: p.abstainVotes,
            quorum: p.quorum,
            state: governance::state_name(p.state).into(),
            description: p.description,
            actions: p
                .actions
                .into_iter()
                .map(|a| ActionJson { target: a.target, data: a.data })
                .collect(),
        }
    }
}

/// The governable parameters as served.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GovernanceParamsJson {
    /// Seconds from proposing to the snapshot.
    pub voting_delay: U64,
    /// Seconds from the snapshot to the deadline.
    pub voting_period: U64,
    /// Votes (wei) a proposer needs.
    pub proposal_threshold: U256,
    /// Quorum, in percent of all votes at the snapshot.
    pub quorum_numerator: U64,
    /// Seconds from queueing to the earliest execution.
    pub timelock_delay: U64,
    /// Seconds a queued proposal stays executable after its eta.
    pub grace_period: U64,
}

/// Registers the methods.
pub fn register(module: &mut RpcModule<RpcContext>) {
    module
        .register_blocking_method("ol_getProposal", |params, ctx, _| get_proposal(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_proposalCount", |params, ctx, _| count(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_governanceParams", |params, ctx, _| {
            governance_params(params, &ctx)
        })
        .expect("registered once");
}

fn get_proposal(params: Params<'_>, ctx: &RpcContext) -> RpcResult<Option<ProposalJson>> {
    let mut p = Positional::new(params, "ol_getProposal")?;
    let id: U64 = p.required("proposal id")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    let now = state.header().header.timestamp;
    let found = GovernanceReader::new(&state).proposal(id.to(), now).map_err(read_error)?;
    Ok(found.map(Into::into))
}

fn count(params: Params<'_>, ctx: &RpcContext) -> RpcResult<U64> {
    let mut p = Positional::new(params, "ol_proposalCount")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    Ok(U64::from(GovernanceReader::new(&state).proposal_count().map_err(read_error)?))
}

fn governance_params(params: Params<'_>, ctx: &RpcContext) -> RpcResult<GovernanceParamsJson> {
    let mut p = Positional::new(params, "ol_governanceParams")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    let p = GovernanceReader::new(&state).params().map_err(read_error)?;
    Ok(GovernanceParamsJson {
        voting_delay: U64::from(p.voting_delay),
        voting_period: U64::from(p.voting_period),
        proposal_threshold: p.proposal_threshold,
        quorum_numerator: U64::from(p.quorum_numerator),
        timelock_delay: U64::from(p.timelock_delay),
        grace_period: U64::from(governance::GRACE_PERIOD),
    })
}
