//! `ol_` methods that read registered AI agents and the reports against
//! them (`contracts/IAgents.sol`).
//!
//! `ol_getAgent(idOrAddress, block?)` takes an agent id (a number or a hex
//! quantity) or the agent's key address; `ol_agentCount(block?)` and
//! `ol_getAgentReport(id, block?)` follow. An agent's stake is read from the
//! staking contract, which holds it.

use super::{
    RpcContext,
    datanet::read_error,
    errors::invalid_params,
    eth::{Positional, state_at},
};
use alloy_primitives::{Address, B256, U64, U256};
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use ol_ledger::agents::{Agent, AgentsReader, Report, ReportStatus, Status};
use serde::{Deserialize, Serialize};

type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// An agent as served over JSON-RPC.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentJson {
    /// Its id.
    pub id: U64,
    /// The account that registered it and holds its stake.
    pub operator: Address,
    /// The agent's own key address.
    pub agent: Address,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Where it is reached (empty: nowhere public).
    pub endpoint: String,
    /// The model it uses, if any.
    pub model_id: Option<U64>,
    /// `active`, `paused`, `jailed` or `deregistered` (the most severe).
    pub status: String,
    /// Paused by its operator.
    pub paused: bool,
    /// Jailed and not yet unjailed.
    pub jailed: bool,
    /// When it was last jailed (unix seconds), if ever.
    pub jailed_at: Option<U64>,
    /// The earliest time it may be unjailed, if ever jailed.
    pub jailed_until: Option<U64>,
    /// Stake bonded (wei).
    pub bonded: U256,
    /// Stake unbonding, still slashable (wei).
    pub unbonding: U256,
    /// Block it was registered in.
    pub registered_at_block: U64,
}

/// The name of a status as served.
pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::Active => "active",
        Status::Paused => "paused",
        Status::Jailed => "jailed",
        Status::Deregistered => "deregistered",
        _ => "unknown",
    }
}

/// The name of a report status as served.
pub fn report_status_name(status: ReportStatus) -> &'static str {
    match status {
        ReportStatus::Open => "open",
        ReportStatus::Upheld => "upheld",
        ReportStatus::Rejected => "rejected",
        _ => "unknown",
    }
}

fn nonzero(value: u64) -> Option<U64> {
    (value != 0).then(|| U64::from(value))
}

impl From<Agent> for AgentJson {
    fn from(a: Agent) -> Self {
        Self {
            id: U64::from(a.id),
            operator: a.operator,
            agent: a.agent,
            name: a.metadata.name,
            description: a.metadata.description,
            endpoint: a.metadata.endpoint,
            model_id: nonzero(a.metadata.modelId),
            status: status_name(a.status).into(),
            paused: a.paused,
            jailed: a.jailed,
            jailed_at: nonzero(a.jailedAt),
            jailed_until: nonzero(a.jailedUntil),
            bonded: a.bonded,
            unbonding: a.unbonding,
            registered_at_block: U64::from(a.registeredAtBlock),
        }
    }
}

/// A report against an agent as served over JSON-RPC.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentReportJson {
    /// Its id.
    pub id: U64,
    /// The agent reported.
    pub agent_id: U64,
    /// Who filed it.
    pub reporter: Address,
    /// Hash of the off-chain evidence.
    pub evidence_hash: B256,
    /// The slash asked for (wei).
    pub amount: U256,
    /// Why.
    pub reason: String,
    /// `open`, `upheld` or `rejected`.
    pub status: String,
    /// Block it was filed in.
    pub filed_at_block: U64,
    /// Block governance resolved it in, if it did.
    pub resolved_at_block: Option<U64>,
}

impl From<Report> for AgentReportJson {
    fn from(r: Report) -> Self {
        Self {
            id: U64::from(r.id),
            agent_id: U64::from(r.agentId),
            reporter: r.reporter,
            evidence_hash: r.evidenceHash,
            amount: r.amount,
            reason: r.reason,
            status: report_status_name(r.status).into(),
            filed_at_block: U64::from(r.filedAtBlock),
            resolved_at_block: nonzero(r.resolvedAtBlock),
        }
    }
}

/// Registers the methods.
pub fn register(module: &mut RpcModule<RpcContext>) {
    module
        .register_blocking_method("ol_getAgent", |params, ctx, _| get_agent(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_agentCount", |params, ctx, _| count(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_getAgentReport", |params, ctx, _| get_report(params, &ctx))
        .expect("registered once");
}

/// An agent id or key address, as a client names an agent.
enum AgentRef {
    Id(u64),
    Address(Address),
}

fn agent_ref(value: serde_json::Value) -> RpcResult<AgentRef> {
    let bad = || {
        invalid_params(
            "ol_getAgent: invalid parameter 0 (agent id or address): expected a number, a hex \
             quantity or a 20-byte address",
        )
    };
    match value {
        serde_json::Value::Number(n) => n.as_u64().map(AgentRef::Id).ok_or_else(bad),
        serde_json::Value::String(s) if s.len() == 42 => {
            s.parse::<Address>().map(AgentRef::Address).map_err(|_| bad())
        }
        serde_json::Value::String(s) => {
            s.parse::<U64>().map(|id| AgentRef::Id(id.to())).map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

fn get_agent(params: Params<'_>, ctx: &RpcContext) -> RpcResult<Option<AgentJson>> {
    let mut p = Positional::new(params, "ol_getAgent")?;
    let which = agent_ref(p.required("agent id or address")?)?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    let mut reader = AgentsReader::new(&state);
    let id = match which {
        AgentRef::Id(id) => Some(id),
        AgentRef::Address(address) => reader.agent_id_of(address).map_err(read_error)?,
    };
    let Some(id) = id else { return Ok(None) };
    Ok(reader.agent(id).map_err(read_error)?.map(Into::into))
}

fn count(params: Params<'_>, ctx: &RpcContext) -> RpcResult<U64> {
    let mut p = Positional::new(params, "ol_agentCount")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    Ok(U64::from(AgentsReader::new(&state).agent_count().map_err(read_error)?))
}

fn get_report(params: Params<'_>, ctx: &RpcContext) -> RpcResult<Option<AgentReportJson>> {
    let mut p = Positional::new(params, "ol_getAgentReport")?;
    let id: U64 = p.required("report id")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    let report = AgentsReader::new(&state).report(id.to()).map_err(read_error)?;
    Ok(report.map(Into::into))
}
