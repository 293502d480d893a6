//! On-chain governance: proposals, votes, the timelock and execution.
//!
//! The rules of the `IGovernance` system contract
//! (`contracts/IGovernance.sol`) at [`GOVERNANCE`]: OpenZeppelin's Governor
//! (settings, simple counting, quorum fraction, timelock control), native,
//! on the ERC-6372 timestamp clock. Voting power is the staking module's
//! delegated stake at past timepoints ([`StakingReader::past_votes`]), so
//! votes are counted as they were at a proposal's snapshot. A proposal is a
//! list of calls to system contracts; executing it runs them as calls from
//! [`GOVERNANCE`] ([`crate::system::call_from`]), the one caller the
//! modules' `setParams` and [`spend_treasury`] accept. Governance changes
//! no balance but the treasury's, and only by `spendTreasury`.
//!
//! A proposal's life ([`ProposalState`], OpenZeppelin's order): Pending
//! until its snapshot (`proposed-at + votingDelay`), Active until its
//! deadline (`snapshot + votingPeriod`, inclusive), then Defeated or
//! Succeeded (For + Abstain reach the quorum and For exceeds Against);
//! `queue` makes a Succeeded one Queued with `eta = now + timelockDelay`,
//! `execute` runs it from `eta` until `eta + GRACE_PERIOD` (later it is
//! Expired). Canceled: by its proposer while Pending, by governance before
//! it is Executed.
//!
//! Storage:
//! - `params` + 0 set flag, + 1 packed (voting delay, voting period,
//!   timelock delay, quorum numerator), + 2 proposal threshold
//! - `counts` → proposal count
//! - `proposal[id]` + 0 proposer, + 1 packed (snapshot, deadline, eta), + 2
//!   packed (status: 0 open, 1 queued, 2 canceled, 3 executed; the quorum
//!   numerator when proposed), + 3 For, + 4 Against, + 5 Abstain votes, + 6
//!   the description (bytes), + 7 the ABI-encoded `Action[]` (bytes)
//! - `vote[id, account]` → support + 1 once `account` has voted

use crate::{
    revert,
    staking::StakingReader,
    state::StateView,
    system::{
        CallError, Frame, call_from, check_text, gas, move_balance, only_governance,
        slots::{KeyPart, field, pack, slot, unpack},
    },
    vesting,
};
use IGovernance::IGovernanceCalls as Call;
use alloy_primitives::{Address, B256, Bytes, U256, aliases::U48};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
pub use ol_primitives::addresses::GOVERNANCE;
use ol_primitives::addresses::{self, TREASURY};

alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/IGovernance.sol"
);

pub use IGovernance::{Action, Proposal, ProposalState};

type Result<T> = std::result::Result<T, CallError>;

/// Most actions in one proposal.
pub const MAX_ACTIONS: usize = 16;
/// Most calldata of one action, in bytes.
pub const MAX_ACTION_DATA: usize = 4_096;
/// Most calldata of all of a proposal's actions together, in bytes.
pub const MAX_ACTIONS_DATA: usize = 8_192;
/// Longest description, in bytes.
pub const MAX_DESCRIPTION: usize = 4_096;
/// Longest vote reason, in bytes.
pub const MAX_REASON: usize = 1_024;
/// How long a queued proposal may wait past its eta: 14 days.
pub const GRACE_PERIOD: u64 = 14 * DAY;
/// Longest voting delay, voting period or timelock delay: 365 days.
pub const MAX_DURATION: u64 = 365 * DAY;
/// Gas of reading one account's votes at a past timepoint (a search of its
/// checkpoints).
pub const VOTES_LOOKUP_GAS: u64 = 4 * gas::LOAD;
/// ERC-6372 clock mode.
pub const CLOCK_MODE: &str = "mode=timestamp";

const DAY: u64 = 86_400;
const OPEN: u64 = 1_000_000_000_000_000_000;

/// Governable parameters of governance itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Seconds from proposing to the snapshot.
    pub voting_delay: u64,
    /// Seconds from the snapshot to the deadline.
    pub voting_period: u64,
    /// Votes (wei of delegated stake) a proposer needs.
    pub proposal_threshold: U256,
    /// Quorum, in percent of all votes at the snapshot.
    pub quorum_numerator: u8,
    /// Seconds from queueing to the earliest execution.
    pub timelock_delay: u64,
}

impl Default for Params {
    /// The published OpenLedger governor: 1 day delay, 1 week of voting,
    /// 10,000 OPEN threshold, 5 % quorum, 1 week timelock.
    fn default() -> Self {
        Self {
            voting_delay: DAY,
            voting_period: 7 * DAY,
            proposal_threshold: U256::from(10_000u64) * U256::from(OPEN),
            quorum_numerator: 5,
            timelock_delay: 7 * DAY,
        }
    }
}

impl Params {
    /// Why these parameters are refused, if they are.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.voting_period == 0 {
            return Err("votingPeriod must be more than 0 seconds".into());
        }
        for (name, value) in [
            ("votingDelay", self.voting_delay),
            ("votingPeriod", self.voting_period),
            ("timelockDelay", self.timelock_delay),
        ] {
            if value > MAX_DURATION {
                return Err(format!("{name} is {value} seconds; at most {MAX_DURATION} allowed"));
            }
        }
        if self.quorum_numerator > 100 {
            return Err(format!(
                "quorumNumerator is {} %; at most 100 allowed",
                self.quorum_numerator
            ));
        }
        let supply = ol_primitives::Amount::total_supply().wei();
        if self.proposal_threshold > supply {
            return Err(format!(
                "proposalThreshold is {} wei, more than the whole supply ({supply} wei)",
                self.proposal_threshold
            ));
        }
        Ok(())
    }

    /// The storage words that hold these parameters (genesis writes them).
    pub fn storage(&self) -> [(B256, U256); 3] {
        let base = params_slot();
        [
            (base, U256::from(1)),
            (
                field(base, 1),
                pack([
                    self.voting_delay,
                    self.voting_period,
                    self.timelock_delay,
                    u64::from(self.quorum_numerator),
                ]),
            ),
            (field(base, 2), self.proposal_threshold),
        ]
    }
}

impl From<Params> for IGovernance::Params {
    fn from(p: Params) -> Self {
        Self {
            votingDelay: p.voting_delay,
            votingPeriod: p.voting_period,
            proposalThreshold: p.proposal_threshold,
            quorumNumerator: p.quorum_numerator,
            timelockDelay: p.timelock_delay,
        }
    }
}

impl From<IGovernance::Params> for Params {
    fn from(p: IGovernance::Params) -> Self {
        Self {
            voting_delay: p.votingDelay,
            voting_period: p.votingPeriod,
            proposal_threshold: p.proposalThreshold,
            quorum_numerator: p.quorumNumerator,
            timelock_delay: p.timelockDelay,
        }
    }
}

/// How a voter votes (OpenZeppelin's GovernorCountingSimple).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// 0.
    Against,
    /// 1.
    For,
    /// 2.
    Abstain,
}

impl Support {
    fn parse(value: u8) -> Result<Self> {
        Ok(match value {
            0 => Self::Against,
            1 => Self::For,
            2 => Self::Abstain,
            other => {
                revert!("support must be 0 (against), 1 (for) or 2 (abstain); got {other}")
            }
        })
    }

    fn tally_offset(self) -> u64 {
        match self {
            Self::For => 3,
            Self::Against => 4,
            Self::Abstain => 5,
        }
    }
}

/// The name of a proposal state, as messages and tools show it.
pub fn state_name(state: ProposalState) -> &'static str {
    match state {
        ProposalState::Pending => "Pending",
        ProposalState::Active => "Active",
        ProposalState::Canceled => "Canceled",
        ProposalState::Defeated => "Defeated",
        ProposalState::Succeeded => "Succeeded",
        ProposalState::Queued => "Queued",
        ProposalState::Expired => "Expired",
        ProposalState::Executed => "Executed",
        _ => "Unknown",
    }
}

fn params_slot() -> B256 {
    slot("params", &[])
}
fn counts_slot() -> B256 {
    slot("counts", &[])
}
fn proposal_slot(id: u64) -> B256 {
    slot("proposal", &[KeyPart::U64(id)])
}
fn vote_slot(id: u64, account: &Address) -> B256 {
    slot("vote", &[KeyPart::U64(id), KeyPart::Address(account)])
}

fn params<S: StateView>(frame: &mut Frame<'_, S>) -> Result<Params> {
    let base = params_slot();
    if frame.load(base)?.is_zero() {
        return Ok(Params::default());
    }
    let [voting_delay, voting_period, timelock_delay, quorum] = unpack(frame.load(field(base, 1))?);
    Ok(Params {
        voting_delay,
        voting_period,
        proposal_threshold: frame.load(field(base, 2))?,
        quorum_numerator: quorum as u8,
        timelock_delay,
    })
}

/// Where a proposal stands, apart from what the clock and the tallies say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Open = 0,
    Queued = 1,
    Canceled = 2,
    Executed = 3,
}

impl Status {
    fn from_word(value: u64) -> Self {
        match value {
            1 => Self::Queued,
            2 => Self::Canceled,
            3 => Self::Executed,
            _ => Self::Open,
        }
    }
}

/// A proposal's fixed-size record.
#[derive(Debug, Clone, Copy)]
struct Record {
    proposer: Address,
    snapshot: u64,
    deadline: u64,
    eta: u64,
    status: Status,
    quorum_numerator: u8,
    for_votes: U256,
    against_votes: U256,
    abstain_votes: U256,
}

fn record<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<Record> {
    let base = proposal_slot(id);
    let proposer = frame.load_address(base)?;
    if proposer == Address::ZERO {
        revert!("proposal {id} does not exist");
    }
    let [snapshot, deadline, eta, _] = unpack(frame.load(field(base, 1))?);
    let [status, quorum, ..] = unpack(frame.load(field(base, 2))?);
    Ok(Record {
        proposer,
        snapshot,
        deadline,
        eta,
        status: Status::from_word(status),
        quorum_numerator: quorum as u8,
        for_votes: frame.load(field(base, 3))?,
        against_votes: frame.load(field(base, 4))?,
        abstain_votes: frame.load(field(base, 5))?,
    })
}

fn set_status<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    record: &Record,
    status: Status,
) -> Result<()> {
    let word = pack([status as u64, u64::from(record.quorum_numerator), 0, 0]);
    frame.store(field(proposal_slot(id), 2), word)
}

fn past_votes<S: StateView>(frame: &mut Frame<'_, S>, account: Address, at: u64) -> Result<U256> {
    frame.gas.charge(VOTES_LOOKUP_GAS)?;
    StakingReader::new(&frame.state).past_votes(account, at)
}

fn quorum_at<S: StateView>(frame: &mut Frame<'_, S>, at: u64, numerator: u8) -> Result<U256> {
    frame.gas.charge(VOTES_LOOKUP_GAS)?;
    let total = StakingReader::new(&frame.state).past_total_votes(at)?;
    // Cannot overflow: the total is bounded by the OPEN supply.
    Ok(total * U256::from(numerator) / U256::from(100u64))
}

/// The state of proposal `record` at block time `now`.
fn state_of<S: StateView>(
    frame: &mut Frame<'_, S>,
    record: &Record,
    now: u64,
) -> Result<ProposalState> {
    Ok(match record.status {
        Status::Canceled => ProposalState::Canceled,
        Status::Executed => ProposalState::Executed,
        _ if now <= record.snapshot => ProposalState::Pending,
        _ if now <= record.deadline => ProposalState::Active,
        Status::Open => {
            let quorum = quorum_at(frame, record.snapshot, record.quorum_numerator)?;
            let reached = record.for_votes.saturating_add(record.abstain_votes) >= quorum;
            if reached && record.for_votes > record.against_votes {
                ProposalState::Succeeded
            } else {
                ProposalState::Defeated
            }
        }
        Status::Queued if now >= record.eta.saturating_add(GRACE_PERIOD) => ProposalState::Expired,
        Status::Queued => ProposalState::Queued,
    })
}

fn actions<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<Vec<Action>> {
    let bytes = frame.load_bytes(field(proposal_slot(id), 7))?;
    <Vec<Action>>::abi_decode(&bytes).map_err(|error| {
        CallError::State(crate::StateError(format!("proposal {id} actions are corrupt: {error}")))
    })
}

fn proposal<S: StateView>(frame: &mut Frame<'_, S>, id: u64, now: u64) -> Result<Proposal> {
    let record = record(frame, id)?;
    let state = state_of(frame, &record, now)?;
    // Before the snapshot the total is not final: the latest past one stands in.
    let at = record.snapshot.min(now.saturating_sub(1));
    let quorum = quorum_at(frame, at, record.quorum_numerator)?;
    Ok(Proposal {
        id,
        proposer: record.proposer,
        snapshot: record.snapshot,
        deadline: record.deadline,
        eta: record.eta,
        forVotes: record.for_votes,
        againstVotes: record.against_votes,
        abstainVotes: record.abstain_votes,
        quorum,
        state,
        description: frame.load_string(field(proposal_slot(id), 6))?,
        actions: actions(frame, id)?,
    })
}

/// Runs one ABI-encoded call against the governance contract.
pub fn call<S: StateView>(frame: &mut Frame<'_, S>, input: &[u8]) -> Result<Bytes> {
    let call: Call = crate::system::decode_call("IGovernance", input)?;
    let from_governance = frame.env.caller == GOVERNANCE;
    if from_governance
        && matches!(
            call,
            Call::propose(_)
                | Call::castVote(_)
                | Call::castVoteWithReason(_)
                | Call::queue(_)
                | Call::execute(_)
        )
    {
        revert!("a proposal's action may not propose, vote, queue or execute");
    }
    let now = frame.env.block.timestamp;
    let output = match call {
        Call::propose(c) => {
            IGovernance::proposeCall::abi_encode_returns(&propose(frame, c.actions, c.description)?)
        }
        Call::castVote(c) => IGovernance::castVoteCall::abi_encode_returns(&cast_vote(
            frame,
            c.proposalId,
            c.support,
            String::new(),
        )?),
        Call::castVoteWithReason(c) => {
            check_text("the reason", &c.reason, MAX_REASON)?;
            IGovernance::castVoteWithReasonCall::abi_encode_returns(&cast_vote(
                frame,
                c.proposalId,
                c.support,
                c.reason,
            )?)
        }
        Call::queue(c) => IGovernance::queueCall::abi_encode_returns(&queue(frame, c.proposalId)?),
        Call::execute(c) => {
            execute(frame, c.proposalId)?;
            Vec::new()
        }
        Call::cancel(c) => {
            cancel(frame, c.proposalId)?;
            Vec::new()
        }
        Call::spendTreasury(c) => {
            spend_treasury(frame, c.to, c.amount)?;
            Vec::new()
        }
        Call::setParams(c) => {
            only_governance(frame, "IGovernance.setParams")?;
            set_params(frame, c.params.into())?;
            Vec::new()
        }
        Call::params(_) => IGovernance::paramsCall::abi_encode_returns(&params(frame)?.into()),
        Call::state(c) => {
            let record = record(frame, c.proposalId)?;
            IGovernance::stateCall::abi_encode_returns(&state_of(frame, &record, now)?)
        }
        Call::getProposal(c) => {
            IGovernance::getProposalCall::abi_encode_returns(&proposal(frame, c.proposalId, now)?)
        }
        Call::proposalCount(_) => frame.load_u64(counts_slot())?.abi_encode(),
        Call::hasVoted(c) => {
            record(frame, c.proposalId)?;
            (!frame.load(vote_slot(c.proposalId, &c.account))?.is_zero()).abi_encode()
        }
        Call::quorum(c) => {
            require_past(c.timepoint, now)?;
            let numerator = params(frame)?.quorum_numerator;
            quorum_at(frame, c.timepoint, numerator)?.abi_encode()
        }
        Call::getVotes(c) => {
            require_past(c.timepoint, now)?;
            past_votes(frame, c.account, c.timepoint)?.abi_encode()
        }
        Call::clock(_) => IGovernance::clockCall::abi_encode_returns(&U48::saturating_from(now)),
        Call::CLOCK_MODE(_) => {
            IGovernance::CLOCK_MODECall::abi_encode_returns(&CLOCK_MODE.to_string())
        }
    };
    Ok(output.into())
}

/// Votes are final only for timepoints before the current block's time.
fn require_past(timepoint: u64, now: u64) -> Result<()> {
    if timepoint >= now {
        revert!("timepoint {timepoint} is not in the past (block time is {now})");
    }
    Ok(())
}

fn emit<S: StateView, E: SolEvent>(frame: &mut Frame<'_, S>, event: E) -> Result<()> {
    frame.emit(event.encode_log_data())
}

/// What an action may call on governance itself: only what changes
/// governance's own settings, the treasury or a proposal's fate.
fn allowed_on_governance(selector: [u8; 4]) -> bool {
    [
        IGovernance::setParamsCall::SELECTOR,
        IGovernance::spendTreasuryCall::SELECTOR,
        IGovernance::cancelCall::SELECTOR,
    ]
    .contains(&selector)
}

fn check_actions(actions: &[Action]) -> Result<()> {
    if actions.is_empty() {
        revert!("a proposal needs at least one action");
    }
    if actions.len() > MAX_ACTIONS {
        revert!("{} actions; at most {MAX_ACTIONS} allowed", actions.len());
    }
    let mut total = 0usize;
    for (i, action) in actions.iter().enumerate() {
        let target = action.target;
        if !addresses::is_callable(&target) {
            revert!("action {i}: {target} is not a callable system contract");
        }
        let len = action.data.len();
        let Some(selector) = action.data.get(..4) else {
            revert!("action {i}: call data of {len} bytes has no function selector");
        };
        if len > MAX_ACTION_DATA {
            revert!("action {i}: call data is {len} bytes; at most {MAX_ACTION_DATA} allowed");
        }
        let selector: [u8; 4] = selector.try_into().expect("the slice is 4 bytes long");
        if target == GOVERNANCE && !allowed_on_governance(selector) {
            revert!(
                "action {i}: a proposal may call governance only for setParams, spendTreasury \
                 or cancel"
            );
        }
        total += len;
    }
    if total > MAX_ACTIONS_DATA {
        revert!("the actions carry {total} bytes of call data; at most {MAX_ACTIONS_DATA} allowed");
    }
    Ok(())
}

fn propose<S: StateView>(
    frame: &mut Frame<'_, S>,
    actions: Vec<Action>,
    description: String,
) -> Result<u64> {
    let proposer = frame.env.caller;
    check_actions(&actions)?;
    if description.trim().is_empty() {
        revert!("a proposal needs a description");
    }
    check_text("the description", &description, MAX_DESCRIPTION)?;
    let params = params(frame)?;
    let now = frame.env.block.timestamp;
    if !params.proposal_threshold.is_zero() {
        let votes = past_votes(frame, proposer, now.saturating_sub(1))?;
        if votes < params.proposal_threshold {
            revert!(
                "{proposer} has {votes} votes; proposing needs at least {} (the proposal threshold)",
                params.proposal_threshold
            );
        }
    }
    let snapshot = now.saturating_add(params.voting_delay);
    let deadline = snapshot.saturating_add(params.voting_period);

    let id = frame.load_u64(counts_slot())? + 1;
    frame.store(counts_slot(), U256::from(id))?;
    let base = proposal_slot(id);
    frame.store_address(base, proposer)?;
    frame.store(field(base, 1), pack([snapshot, deadline, 0, 0]))?;
    frame.store(
        field(base, 2),
        pack([Status::Open as u64, u64::from(params.quorum_numerator), 0, 0]),
    )?;
    frame.store_bytes(field(base, 6), description.as_bytes())?;
    let encoded = actions.abi_encode();
    frame.store_bytes(field(base, 7), &encoded)?;
    emit(
        frame,
        IGovernance::ProposalCreated {
            proposalId: id,
            proposer,
            actions,
            voteStart: snapshot,
            voteEnd: deadline,
            description,
        },
    )?;
    Ok(id)
}

fn cast_vote<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    support: u8,
    reason: String,
) -> Result<U256> {
    let voter = frame.env.caller;
    let choice = Support::parse(support)?;
    let record = record(frame, id)?;
    let now = frame.env.block.timestamp;
    match state_of(frame, &record, now)? {
        ProposalState::Active => {}
        ProposalState::Pending => revert!(
            "proposal {id} is Pending; voting opens after {} (block time is {now})",
            record.snapshot
        ),
        other => revert!(
            "proposal {id} is {}; voting closed at {} (block time is {now})",
            state_name(other),
            record.deadline
        ),
    }
    let voted = vote_slot(id, &voter);
    if !frame.load(voted)?.is_zero() {
        revert!("{voter} has already voted on proposal {id}");
    }
    let weight = past_votes(frame, voter, record.snapshot)?;
    if weight.is_zero() {
        revert!("{voter} had no votes at the snapshot of proposal {id} ({})", record.snapshot);
    }
    frame.store(voted, U256::from(support) + U256::from(1))?;
    frame.add_to(field(proposal_slot(id), choice.tally_offset()), weight)?;
    emit(frame, IGovernance::VoteCast { voter, proposalId: id, support, weight, reason })?;
    Ok(weight)
}

fn queue<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<u64> {
    let record = record(frame, id)?;
    let now = frame.env.block.timestamp;
    let state = state_of(frame, &record, now)?;
    if state != ProposalState::Succeeded {
        revert!("proposal {id} is {}; only a Succeeded proposal can be queued", state_name(state));
    }
    let eta = now.saturating_add(params(frame)?.timelock_delay);
    frame.store(field(proposal_slot(id), 1), pack([record.snapshot, record.deadline, eta, 0]))?;
    set_status(frame, id, &record, Status::Queued)?;
    emit(frame, IGovernance::ProposalQueued { proposalId: id, eta })?;
    Ok(eta)
}

fn execute<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<()> {
    let record = record(frame, id)?;
    let now = frame.env.block.timestamp;
    match state_of(frame, &record, now)? {
        ProposalState::Queued if now < record.eta => revert!(
            "proposal {id} cannot execute before its timelock ends at {} (block time is {now}, \
             {} seconds left)",
            record.eta,
            record.eta - now
        ),
        ProposalState::Queued => {}
        ProposalState::Executed => revert!("proposal {id} has already been executed"),
        ProposalState::Expired => revert!(
            "proposal {id} expired at {} (its grace period ended); it can no longer execute",
            record.eta.saturating_add(GRACE_PERIOD)
        ),
        other => {
            revert!("proposal {id} is {}; only a Queued proposal can execute", state_name(other))
        }
    }
    // Marked before the actions run, so none of them can execute it again.
    set_status(frame, id, &record, Status::Executed)?;
    for (i, action) in actions(frame, id)?.into_iter().enumerate() {
        let selector = action.data.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok());
        if action.target == GOVERNANCE && !selector.is_some_and(allowed_on_governance) {
            revert!(
                "action {i}: a proposal may call governance only for setParams, spendTreasury or cancel"
            );
        }
        call_from(frame, GOVERNANCE, action.target, &action.data, &format!("action {i}"))?;
    }
    emit(frame, IGovernance::ProposalExecuted { proposalId: id })
}

fn cancel<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<()> {
    let caller = frame.env.caller;
    let record = record(frame, id)?;
    let now = frame.env.block.timestamp;
    let state = state_of(frame, &record, now)?;
    if caller == GOVERNANCE {
        if matches!(
            state,
            ProposalState::Canceled | ProposalState::Executed | ProposalState::Expired
        ) {
            revert!("proposal {id} is {} and can no longer be canceled", state_name(state));
        }
    } else if caller == record.proposer {
        if state != ProposalState::Pending {
            revert!(
                "proposal {id} is {}; its proposer may cancel it only while Pending",
                state_name(state)
            );
        }
    } else {
        revert!(
            "only the proposer {} (while Pending) or governance may cancel proposal {id}, not {caller}",
            record.proposer
        );
    }
    set_status(frame, id, &record, Status::Canceled)?;
    emit(frame, IGovernance::ProposalCanceled { proposalId: id })
}

/// Moves `amount` of the treasury's spendable OPEN to `to` (governance only).
pub fn spend_treasury<S: StateView>(
    frame: &mut Frame<'_, S>,
    to: Address,
    amount: U256,
) -> Result<()> {
    only_governance(frame, "IGovernance.spendTreasury")?;
    if to == Address::ZERO {
        revert!("the treasury cannot pay the zero address");
    }
    if addresses::is_system(&to) {
        revert!("the treasury cannot pay the system account {to}");
    }
    if amount.is_zero() {
        revert!("a treasury spend must be more than zero");
    }
    let now = frame.env.block.timestamp;
    frame.gas.charge(gas::LOAD)?;
    let available = vesting::balance_at(&frame.state, &TREASURY, now)?.spendable;
    if available < amount {
        revert!("the treasury can spend {available} wei; {amount} wei was asked");
    }
    move_balance(frame, TREASURY, to, amount)?;
    emit(frame, IGovernance::TreasurySpent { to, amount })
}

/// Replaces the parameters (the caller has checked it is governance).
fn set_params<S: StateView>(frame: &mut Frame<'_, S>, new: Params) -> Result<()> {
    if let Err(problem) = new.check() {
        revert!("{problem}");
    }
    for (slot, value) in new.storage() {
        frame.store(slot, value)?;
    }
    emit(frame, IGovernance::ParamsChanged { params: new.into() })
}

/// Read-only access to governance, for RPC and tools.
pub struct GovernanceReader<'a, S: StateView> {
    frame: Frame<'a, S>,
}

impl<S: StateView> std::fmt::Debug for GovernanceReader<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GovernanceReader")
    }
}

impl<'a, S: StateView> GovernanceReader<'a, S> {
    /// A reader over `state`.
    pub fn new(state: &'a S) -> Self {
        Self { frame: crate::system::read_frame(state, GOVERNANCE) }
    }

    /// Number of proposals made.
    pub fn proposal_count(&mut self) -> Result<u64> {
        self.frame.load_u64(counts_slot())
    }

    /// Proposal `id` with its state at block time `now`; `None` if it does
    /// not exist.
    pub fn proposal(&mut self, id: u64, now: u64) -> Result<Option<Proposal>> {
        if id == 0 || id > self.proposal_count()? {
            return Ok(None);
        }
        proposal(&mut self.frame, id, now).map(Some)
    }

    /// True once `account` has voted on proposal `id`.
    pub fn has_voted(&mut self, id: u64, account: Address) -> Result<bool> {
        Ok(!self.frame.load(vote_slot(id, &account))?.is_zero())
    }

    /// The parameters.
    pub fn params(&mut self) -> Result<Params> {
        params(&mut self.frame)
    }
}

#[cfg(test)]
mod tests;
