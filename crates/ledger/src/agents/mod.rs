//! AI agents: registration by an operator, stake, pausing, jailing and the
//! evidence that slashes them.
//!
//! The rules of the `IAgents` system contract (`contracts/IAgents.sol`) at
//! [`AGENTS`]. An operator registers an agent's own key address with its
//! metadata and a stake of at least [`Params::min_stake`]; the key consents
//! by signing an EIP-712 [`AgentBinding`] ([`binding_signing_hash`]). The
//! stake is the operator's bond to the agent's address in the staking
//! module ([`staking::bond`]), which holds every wei of it: this contract
//! holds no OPEN. An address registers at most once, ever — a deregistered
//! agent's key stays bound to its id, so statements it signed keep pointing
//! there — and a new registration needs a new key.
//!
//! The operator pauses and resumes the agent, updates its metadata, tops up
//! its bond and deregisters it (final: the whole bond starts unbonding).
//! [`evidence`] holds the slashing rules: proven equivocation (two signed
//! [`AgentStatement`]s for one request with different content), reports
//! upheld by governance, and [`jail`] / [`slash`] for other modules (the
//! attribution challenge). A jailed agent stays so until its operator
//! unjails it, at least [`Params::jail_seconds`] after the jailing and with
//! its bond back to at least the minimum stake.
//!
//! Storage:
//! - `counts` → packed (agents, reports)
//! - `agent[id]` + 0 operator, + 1 agent key address, + 2 packed (flags:
//!   1 paused, 2 jailed, 4 deregistered; registered-at block; jailed-at
//!   time; jailed-until time), + 3 the ABI-encoded [`AgentMetadata`]
//! - `agent.of[address]` → id of the agent registered with that key
//! - `equivocation[id, request nonce]` → 1 once punished
//! - `report[id]` + 0 packed (agent, status, filed-at block, resolved-at
//!   block), + 1 reporter, + 2 amount, + 3 evidence hash, + 4 reason
//! - `params` + 0 set flag, + 1 minimum stake, + 2 packed (equivocation
//!   bps, jail seconds)

pub mod evidence;

use crate::{
    models::ModelsReader,
    revert,
    staking::{self, StakingReader},
    state::StateView,
    system::{
        CallError, Frame, check_text, gas, only_governance,
        slots::{KeyPart, field, pack, slot, unpack},
    },
};
use IAgents::IAgentsCalls as Call;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{Eip712Domain, SolCall, SolEvent, SolStruct, SolValue};
pub use evidence::{jail, slash, statement_signing_hash};
pub use ol_primitives::addresses::AGENTS;
use ol_primitives::{Amount, Bps};

alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/IAgents.sol"
);

pub use IAgents::{
    Agent, AgentBinding, AgentMetadata, AgentStatement, JailReason, Report, ReportStatus, Status,
};

type Result<T> = std::result::Result<T, CallError>;

/// Longest agent name, in bytes.
pub const MAX_NAME: usize = 64;
/// Longest description, in bytes.
pub const MAX_DESCRIPTION: usize = 1024;
/// Longest endpoint URL, in bytes.
pub const MAX_ENDPOINT: usize = 256;
/// Longest jailing governance may set: a year.
pub const MAX_JAIL_SECONDS: u64 = 365 * 24 * 60 * 60;
/// Gas of recovering the signer of a signature (as `ecrecover`).
pub const RECOVER_GAS: u64 = 3_000;

/// The EIP-712 domain name of bindings and statements.
pub const DOMAIN_NAME: &str = "OpenLedger Agents";
/// The EIP-712 domain version of bindings and statements.
pub const DOMAIN_VERSION: &str = "1";

const PAUSED: u64 = 1;
const JAILED: u64 = 2;
const DEREGISTERED: u64 = 4;

/// Governable parameters of agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Least stake (wei) to register, and to unjail.
    pub min_stake: U256,
    /// Share of an agent's stake slashed for equivocation.
    pub equivocation_slash_bps: Bps,
    /// How long a jailed agent waits before it may be unjailed.
    pub jail_seconds: u64,
}

impl Default for Params {
    /// 100 OPEN, 50 %, one day.
    fn default() -> Self {
        Self {
            min_stake: Amount::from_open(100).wei(),
            equivocation_slash_bps: Bps::new(5_000).expect("5000 bps is at most 10000"),
            jail_seconds: 24 * 60 * 60,
        }
    }
}

impl Params {
    /// Parses the ABI form, refusing values no chain should run with.
    pub fn from_abi(params: &IAgents::Params) -> Result<Self> {
        let Some(bps) = Bps::new(params.equivocationSlashBps) else {
            revert!(
                "the equivocation slash is {} bps; at most 10000 allowed",
                params.equivocationSlashBps
            )
        };
        if params.minStake.is_zero() {
            revert!("the minimum stake must be more than zero");
        }
        let supply = Amount::total_supply().wei();
        if params.minStake > supply {
            revert!(
                "a minimum stake of {} wei is more than the OPEN supply ({supply} wei)",
                params.minStake
            );
        }
        if params.jailSeconds > MAX_JAIL_SECONDS {
            revert!(
                "a jailing of {} seconds is longer than a year ({MAX_JAIL_SECONDS} s)",
                params.jailSeconds
            );
        }
        Ok(Self {
            min_stake: params.minStake,
            equivocation_slash_bps: bps,
            jail_seconds: params.jailSeconds,
        })
    }

    /// The ABI form.
    pub fn to_abi(self) -> IAgents::Params {
        IAgents::Params {
            minStake: self.min_stake,
            equivocationSlashBps: self.equivocation_slash_bps.get(),
            jailSeconds: self.jail_seconds,
        }
    }
}

/// The EIP-712 domain of bindings and statements on chain `chain_id`.
pub fn domain(chain_id: u64) -> Eip712Domain {
    Eip712Domain::new(
        Some(DOMAIN_NAME.into()),
        Some(DOMAIN_VERSION.into()),
        Some(U256::from(chain_id)),
        Some(AGENTS),
        None,
    )
}

/// The hash an agent key signs (EIP-712, as `eth_signTypedData_v4`) to
/// consent to registration by `operator` on chain `chain_id`.
pub fn binding_signing_hash(chain_id: u64, operator: Address, agent: Address) -> B256 {
    AgentBinding { operator, agent }.eip712_signing_hash(&domain(chain_id))
}

fn counts_slot() -> B256 {
    slot("counts", &[])
}
fn agent_slot(id: u64) -> B256 {
    slot("agent", &[KeyPart::U64(id)])
}
fn agent_of_slot(agent: &Address) -> B256 {
    slot("agent.of", &[KeyPart::Address(agent)])
}
fn equivocation_slot(id: u64, nonce: U256) -> B256 {
    slot("equivocation", &[KeyPart::U64(id), KeyPart::Word(&B256::from(nonce))])
}
fn report_slot(id: u64) -> B256 {
    slot("report", &[KeyPart::U64(id)])
}
fn params_slot() -> B256 {
    slot("params", &[])
}

/// (agents, reports) counts.
fn counts<S: StateView>(frame: &mut Frame<'_, S>) -> Result<(u64, u64)> {
    let [agents, reports, ..] = unpack(frame.load(counts_slot())?);
    Ok((agents, reports))
}

fn store_counts<S: StateView>(frame: &mut Frame<'_, S>, agents: u64, reports: u64) -> Result<()> {
    frame.store(counts_slot(), pack([agents, reports, 0, 0]))
}

fn params<S: StateView>(frame: &mut Frame<'_, S>) -> Result<Params> {
    let base = params_slot();
    if frame.load(base)?.is_zero() {
        return Ok(Params::default());
    }
    let min_stake = frame.load(field(base, 1))?;
    let [bps, jail_seconds, ..] = unpack(frame.load(field(base, 2))?);
    Ok(Params {
        min_stake,
        // Stored only by `set_params`, which takes a `Bps`.
        equivocation_slash_bps: Bps::new(bps as u16).unwrap_or(Bps::MAX),
        jail_seconds,
    })
}

/// Sets the agents' parameters (for governance).
pub fn set_params<S: StateView>(frame: &mut Frame<'_, S>, new: Params) -> Result<()> {
    frame.at(AGENTS, |frame| {
        let base = params_slot();
        frame.store(base, U256::from(1))?;
        frame.store(field(base, 1), new.min_stake)?;
        frame.store(
            field(base, 2),
            pack([u64::from(new.equivocation_slash_bps.get()), new.jail_seconds, 0, 0]),
        )?;
        emit(
            frame,
            IAgents::ParamsSet {
                minStake: new.min_stake,
                equivocationSlashBps: new.equivocation_slash_bps.get(),
                jailSeconds: new.jail_seconds,
            },
        )
    })
}

/// An agent's fixed facts and standing, without metadata or stake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    id: u64,
    operator: Address,
    agent: Address,
    flags: u64,
    registered_at: u64,
    jailed_at: u64,
    jailed_until: u64,
}

impl Record {
    fn paused(&self) -> bool {
        self.flags & PAUSED != 0
    }
    fn jailed(&self) -> bool {
        self.flags & JAILED != 0
    }
    fn deregistered(&self) -> bool {
        self.flags & DEREGISTERED != 0
    }
    fn status(&self) -> Status {
        if self.deregistered() {
            Status::Deregistered
        } else if self.jailed() {
            Status::Jailed
        } else if self.paused() {
            Status::Paused
        } else {
            Status::Active
        }
    }
}

fn record<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<Option<Record>> {
    let base = agent_slot(id);
    let operator = frame.load_address(base)?;
    if operator == Address::ZERO {
        return Ok(None);
    }
    let [flags, registered_at, jailed_at, jailed_until] = unpack(frame.load(field(base, 2))?);
    Ok(Some(Record {
        id,
        operator,
        agent: frame.load_address(field(base, 1))?,
        flags,
        registered_at,
        jailed_at,
        jailed_until,
    }))
}

fn store_standing<S: StateView>(frame: &mut Frame<'_, S>, record: &Record) -> Result<()> {
    frame.store(
        field(agent_slot(record.id), 2),
        pack([record.flags, record.registered_at, record.jailed_at, record.jailed_until]),
    )
}

fn metadata<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<AgentMetadata> {
    let bytes = frame.load_bytes(field(agent_slot(id), 3))?;
    AgentMetadata::abi_decode(&bytes).map_err(|error| {
        CallError::State(crate::StateError(format!("agent {id} metadata is corrupt: {error}")))
    })
}

/// The operator's (bonded, unbonding) stake at `agent`.
fn stake<S: StateView>(
    frame: &mut Frame<'_, S>,
    operator: Address,
    agent: Address,
) -> Result<(U256, U256)> {
    frame.gas.charge(4 * gas::LOAD)?;
    let mut reader = StakingReader::new(&frame.state);
    Ok((reader.bonded(operator, agent)?, reader.unbonding(operator, agent)?))
}

fn agent<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<Option<Agent>> {
    let Some(record) = record(frame, id)? else { return Ok(None) };
    let (bonded, unbonding) = stake(frame, record.operator, record.agent)?;
    Ok(Some(Agent {
        id,
        operator: record.operator,
        agent: record.agent,
        metadata: metadata(frame, id)?,
        status: record.status(),
        paused: record.paused(),
        jailed: record.jailed(),
        jailedAt: record.jailed_at,
        jailedUntil: record.jailed_until,
        bonded,
        unbonding,
        registeredAtBlock: record.registered_at,
    }))
}

fn agent_id_of<S: StateView>(frame: &mut Frame<'_, S>, agent: &Address) -> Result<Option<u64>> {
    let id = frame.load_u64(agent_of_slot(agent))?;
    Ok((id != 0).then_some(id))
}

/// Runs one ABI-encoded call against the agents contract.
pub fn call<S: StateView>(frame: &mut Frame<'_, S>, input: &[u8]) -> Result<Bytes> {
    let call: Call = crate::system::decode_call("IAgents", input)?;
    let output = match call {
        Call::registerAgent(c) => IAgents::registerAgentCall::abi_encode_returns(&register(
            frame,
            c.agent,
            c.metadata,
            c.stake,
            &c.agentSignature,
        )?),
        Call::pause(c) => {
            pause(frame, c.agentId)?;
            Vec::new()
        }
        Call::resume(c) => {
            resume(frame, c.agentId)?;
            Vec::new()
        }
        Call::updateMetadata(c) => {
            update_metadata(frame, c.agentId, c.metadata)?;
            Vec::new()
        }
        Call::topUp(c) => {
            top_up(frame, c.agentId, c.amount)?;
            Vec::new()
        }
        Call::deregister(c) => {
            deregister(frame, c.agentId)?;
            Vec::new()
        }
        Call::unjail(c) => {
            unjail(frame, c.agentId)?;
            Vec::new()
        }
        Call::reportEquivocation(c) => evidence::report_equivocation(
            frame,
            (&c.first, &c.firstSignature),
            (&c.second, &c.secondSignature),
        )?
        .abi_encode(),
        Call::fileReport(c) => {
            evidence::file_report(frame, c.agentId, c.evidenceHash, c.amount, &c.reason)?
                .abi_encode()
        }
        Call::resolveReport(c) => {
            evidence::resolve_report(frame, c.reportId, c.uphold)?;
            Vec::new()
        }
        Call::setParams(c) => {
            only_governance(frame, "setParams")?;
            set_params(frame, Params::from_abi(&c.params)?)?;
            Vec::new()
        }
        Call::getAgent(c) => match agent(frame, c.agentId)? {
            Some(agent) => IAgents::getAgentCall::abi_encode_returns(&agent),
            None => revert!("agent {} does not exist", c.agentId),
        },
        Call::agentOf(c) => agent_id_of(frame, &c.agent)?.unwrap_or_default().abi_encode(),
        Call::agentCount(_) => counts(frame)?.0.abi_encode(),
        Call::getReport(c) => match evidence::report(frame, c.reportId)? {
            Some(report) => IAgents::getReportCall::abi_encode_returns(&report),
            None => revert!("report {} does not exist", c.reportId),
        },
        Call::reportCount(_) => counts(frame)?.1.abi_encode(),
        Call::equivocationPunished(c) => {
            (!frame.load(equivocation_slot(c.agentId, c.requestNonce))?.is_zero()).abi_encode()
        }
        Call::params(_) => IAgents::paramsCall::abi_encode_returns(&params(frame)?.to_abi()),
    };
    Ok(output.into())
}

fn emit<S: StateView, E: SolEvent>(frame: &mut Frame<'_, S>, event: E) -> Result<()> {
    frame.emit(event.encode_log_data())
}

fn check_metadata<S: StateView>(frame: &mut Frame<'_, S>, metadata: &AgentMetadata) -> Result<()> {
    if metadata.name.trim().is_empty() {
        revert!("an agent needs a name");
    }
    check_text("name", &metadata.name, MAX_NAME)?;
    check_text("description", &metadata.description, MAX_DESCRIPTION)?;
    check_text("endpoint", &metadata.endpoint, MAX_ENDPOINT)?;
    let endpoint = metadata.endpoint.as_str();
    if !endpoint.is_empty() {
        let host = endpoint.strip_prefix("https://").or_else(|| endpoint.strip_prefix("http://"));
        if host.is_none_or(|rest| rest.is_empty() || rest.starts_with('/'))
            || endpoint.chars().any(char::is_whitespace)
        {
            revert!("endpoint {endpoint:?} is not an http(s) URL");
        }
    }
    if metadata.modelId != 0 {
        frame.gas.charge(2 * gas::LOAD)?;
        match ModelsReader::new(&frame.state).model(metadata.modelId)? {
            None => revert!("model {} does not exist", metadata.modelId),
            Some(model) if model.retired => revert!("model {} is retired", metadata.modelId),
            Some(_) => {}
        }
    }
    Ok(())
}

fn register<S: StateView>(
    frame: &mut Frame<'_, S>,
    agent: Address,
    metadata: AgentMetadata,
    stake: U256,
    signature: &[u8],
) -> Result<u64> {
    let operator = frame.env.caller;
    if agent == Address::ZERO || ol_primitives::addresses::is_system(&agent) {
        revert!("{agent} cannot be an agent's key address");
    }
    if let Some(id) = agent_id_of(frame, &agent)? {
        revert!("{agent} is already registered as agent {id}; an address registers once");
    }
    check_metadata(frame, &metadata)?;
    let min_stake = params(frame)?.min_stake;
    if stake < min_stake {
        revert!("a stake of {stake} wei is below the minimum stake of {min_stake} wei");
    }
    frame.gas.charge(RECOVER_GAS)?;
    let hash = binding_signing_hash(frame.env.spec.chain_id, operator, agent);
    let signer = match ol_primitives::recover_signer(signature, hash) {
        Ok(signer) => signer,
        Err(error) => revert!("the agent's binding signature is invalid: {error}"),
    };
    if signer != agent {
        revert!(
            "the binding was signed by {signer}, not by the agent {agent} \
             (or for another operator than {operator})"
        );
    }
    staking::bond(frame, operator, agent, stake)?;

    let (agents, reports) = counts(frame)?;
    let id = agents + 1;
    store_counts(frame, id, reports)?;
    let base = agent_slot(id);
    frame.store_address(base, operator)?;
    frame.store_address(field(base, 1), agent)?;
    frame.store(field(base, 2), pack([0, frame.env.block.number, 0, 0]))?;
    frame.store_bytes(field(base, 3), &metadata.abi_encode())?;
    frame.store(agent_of_slot(&agent), U256::from(id))?;
    emit(frame, IAgents::AgentRegistered { agentId: id, operator, agent, stake })?;
    Ok(id)
}

/// The record of an agent the caller operates and has not deregistered.
fn require_operator<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<Record> {
    let Some(record) = record(frame, id)? else { revert!("agent {id} does not exist") };
    if record.operator != frame.env.caller {
        revert!("only the operator of agent {id} ({}) may do this", record.operator);
    }
    if record.deregistered() {
        revert!("agent {id} is deregistered");
    }
    Ok(record)
}

fn pause<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<()> {
    let mut record = require_operator(frame, id)?;
    if record.paused() {
        revert!("agent {id} is already paused");
    }
    record.flags |= PAUSED;
    store_standing(frame, &record)?;
    emit(frame, IAgents::AgentPaused { agentId: id })
}

fn resume<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<()> {
    let mut record = require_operator(frame, id)?;
    if !record.paused() {
        revert!("agent {id} is not paused");
    }
    record.flags &= !PAUSED;
    store_standing(frame, &record)?;
    emit(frame, IAgents::AgentResumed { agentId: id })
}

fn update_metadata<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    metadata: AgentMetadata,
) -> Result<()> {
    require_operator(frame, id)?;
    check_metadata(frame, &metadata)?;
    frame.store_bytes(field(agent_slot(id), 3), &metadata.abi_encode())?;
    emit(frame, IAgents::MetadataUpdated { agentId: id, modelId: metadata.modelId })
}

fn top_up<S: StateView>(frame: &mut Frame<'_, S>, id: u64, amount: U256) -> Result<()> {
    let record = require_operator(frame, id)?;
    if amount.is_zero() {
        revert!("a top-up must be more than zero");
    }
    staking::bond(frame, record.operator, record.agent, amount)?;
    let (bonded, _) = stake(frame, record.operator, record.agent)?;
    emit(frame, IAgents::ToppedUp { agentId: id, amount, bonded })
}

fn deregister<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<()> {
    let mut record = require_operator(frame, id)?;
    let (bonded, _) = stake(frame, record.operator, record.agent)?;
    let withdrawable_at = if bonded.is_zero() {
        0
    } else {
        staking::begin_unbonding(frame, record.operator, record.agent, bonded)?
    };
    record.flags |= DEREGISTERED;
    store_standing(frame, &record)?;
    emit(
        frame,
        IAgents::AgentDeregistered {
            agentId: id,
            unbonding: bonded,
            withdrawableAt: withdrawable_at,
        },
    )
}

fn unjail<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<()> {
    let mut record = require_operator(frame, id)?;
    if !record.jailed() {
        revert!("agent {id} is not jailed");
    }
    let now = frame.env.block.timestamp;
    if now < record.jailed_until {
        revert!("agent {id} is jailed until {} (block time is {now})", record.jailed_until);
    }
    let min_stake = params(frame)?.min_stake;
    let (bonded, _) = stake(frame, record.operator, record.agent)?;
    if bonded < min_stake {
        revert!(
            "agent {id} has {bonded} wei bonded; top it up to the minimum stake of {min_stake} wei \
             before unjailing"
        );
    }
    record.flags &= !JAILED;
    store_standing(frame, &record)?;
    emit(frame, IAgents::AgentUnjailed { agentId: id })
}

/// Read-only access to the agents contract, for other modules, RPC and tools.
pub struct AgentsReader<'a, S: StateView> {
    frame: Frame<'a, S>,
}

impl<S: StateView> std::fmt::Debug for AgentsReader<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AgentsReader")
    }
}

impl<'a, S: StateView> AgentsReader<'a, S> {
    /// A reader over `state`.
    pub fn new(state: &'a S) -> Self {
        Self { frame: crate::system::read_frame(state, AGENTS) }
    }

    /// Number of agents ever registered.
    pub fn agent_count(&mut self) -> Result<u64> {
        Ok(counts(&mut self.frame)?.0)
    }

    /// An agent with its metadata and stake, `None` if it does not exist.
    pub fn agent(&mut self, id: u64) -> Result<Option<Agent>> {
        agent(&mut self.frame, id)
    }

    /// The id of the agent registered with key `address`, if any.
    pub fn agent_id_of(&mut self, address: Address) -> Result<Option<u64>> {
        agent_id_of(&mut self.frame, &address)
    }

    /// True when agent `id` exists, is neither paused, jailed nor
    /// deregistered, and its operator's bond is at least the minimum stake
    /// (a bond can shrink through the staking contract's own `unstake`).
    pub fn is_active(&mut self, id: u64) -> Result<bool> {
        let Some(record) = record(&mut self.frame, id)? else { return Ok(false) };
        if record.status() != Status::Active {
            return Ok(false);
        }
        let (bonded, _) = stake(&mut self.frame, record.operator, record.agent)?;
        Ok(bonded >= params(&mut self.frame)?.min_stake)
    }

    /// Number of reports ever filed.
    pub fn report_count(&mut self) -> Result<u64> {
        Ok(counts(&mut self.frame)?.1)
    }

    /// A report, `None` if it does not exist.
    pub fn report(&mut self, id: u64) -> Result<Option<Report>> {
        evidence::report(&mut self.frame, id)
    }

    /// True once equivocation of agent `id` at `request_nonce` was punished.
    pub fn equivocation_punished(&mut self, id: u64, request_nonce: U256) -> Result<bool> {
        Ok(!self.frame.load(equivocation_slot(id, request_nonce))?.is_zero())
    }

    /// The agents' parameters.
    pub fn params(&mut self) -> Result<Params> {
        params(&mut self.frame)
    }
}

#[cfg(test)]
mod tests;
