//! What slashes and jails an agent, and the evidence it needs.
//!
//! - Equivocation: two [`AgentStatement`]s for the same agent and request
//!   nonce with different content hashes, both signed by the agent's key
//!   (EIP-712, [`statement_signing_hash`]). Anyone may submit them; the
//!   governed share of the agent's stake is slashed, the submitter gets the
//!   staking module's reporter share, and the agent is jailed. Each (agent,
//!   nonce) is punished once.
//! - Reports: anyone files one naming an amount and the hash of off-chain
//!   evidence; only governance resolves it. Upheld, the amount is slashed
//!   (never more than the stake) with the filer as reporter and the agent
//!   jailed; rejected, it is closed.
//! - Other modules (the attribution challenge) call [`slash`] or [`jail`].
//!
//! An agent's stake here is the operator's bond to it plus what is still
//! unbonding from it: both stay slashable until withdrawn, so neither
//! deregistering nor unbonding through the staking contract escapes a
//! pending punishment.

use super::{
    AGENTS, IAgents, JAILED, JailReason, RECOVER_GAS, Record, Report, ReportStatus, Result, counts,
    domain, emit, equivocation_slot, params, record, report_slot, stake, store_counts,
    store_standing,
};
use crate::{
    revert,
    staking::{self, Slashed},
    state::StateView,
    system::{
        Frame, check_text, only_governance,
        slots::{field, pack, unpack},
    },
};
use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolStruct;

pub use super::AgentStatement;

/// Longest report reason, in bytes.
pub const MAX_REASON: usize = 256;

/// The hash an agent key signs (EIP-712) for `statement` on chain `chain_id`.
pub fn statement_signing_hash(chain_id: u64, statement: &AgentStatement) -> B256 {
    statement.eip712_signing_hash(&domain(chain_id))
}

/// Jails agent `agent_id` for `reason` from now for the governed jail time
/// (extending a running jailing, never shortening it). Returns the time it
/// may be unjailed, or `None` for a deregistered agent (nothing to jail).
/// Runs as the agents contract whichever module calls it.
pub fn jail<S: StateView>(
    frame: &mut Frame<'_, S>,
    agent_id: u64,
    reason: JailReason,
) -> Result<Option<u64>> {
    frame.at(AGENTS, |frame| {
        let Some(mut record) = record(frame, agent_id)? else {
            revert!("agent {agent_id} does not exist")
        };
        jail_record(frame, &mut record, reason)
    })
}

fn jail_record<S: StateView>(
    frame: &mut Frame<'_, S>,
    record: &mut Record,
    reason: JailReason,
) -> Result<Option<u64>> {
    if record.deregistered() {
        return Ok(None);
    }
    let now = frame.env.block.timestamp;
    let until = now.saturating_add(params(frame)?.jail_seconds).max(record.jailed_until);
    record.flags |= JAILED;
    record.jailed_at = now;
    record.jailed_until = until;
    store_standing(frame, record)?;
    emit(frame, IAgents::AgentJailed { agentId: record.id, reason, jailedUntil: until })?;
    Ok(Some(until))
}

/// Slashes `amount` of agent `agent_id`'s stake (its operator's bond, then
/// unbonding stake), paying the staking module's reporter share to
/// `reporter`, and jails it. Refuses more than the stake. Runs as the
/// agents contract whichever module calls it.
pub fn slash<S: StateView>(
    frame: &mut Frame<'_, S>,
    agent_id: u64,
    amount: U256,
    reporter: Option<Address>,
    reason: JailReason,
) -> Result<Slashed> {
    frame.at(AGENTS, |frame| {
        let Some(mut record) = record(frame, agent_id)? else {
            revert!("agent {agent_id} does not exist")
        };
        punish(frame, &mut record, amount, reporter, reason)
    })
}

/// Slashes (when `amount` is not zero) and jails.
fn punish<S: StateView>(
    frame: &mut Frame<'_, S>,
    record: &mut Record,
    amount: U256,
    reporter: Option<Address>,
    reason: JailReason,
) -> Result<Slashed> {
    let (bonded, unbonding) = stake(frame, record.operator, record.agent)?;
    let held = bonded + unbonding;
    if amount > held {
        revert!(
            "slashing more than the stake: {amount} wei asked, agent {} holds {held} wei",
            record.id
        );
    }
    let mut slashed = Slashed::default();
    if !amount.is_zero() {
        slashed = staking::slash(frame, record.operator, record.agent, amount, reporter)?;
        emit(
            frame,
            IAgents::AgentSlashed {
                agentId: record.id,
                reason,
                reporter: reporter.unwrap_or_default(),
                amount,
                toReporter: slashed.to_reporter,
            },
        )?;
    }
    jail_record(frame, record, reason)?;
    Ok(slashed)
}

/// Checks two statements prove equivocation, then punishes it. Returns the
/// amount slashed.
pub(super) fn report_equivocation<S: StateView>(
    frame: &mut Frame<'_, S>,
    (first, first_signature): (&AgentStatement, &[u8]),
    (second, second_signature): (&AgentStatement, &[u8]),
) -> Result<U256> {
    let id = first.agentId;
    let nonce = first.requestNonce;
    if second.agentId != id || second.requestNonce != nonce {
        revert!(
            "the statements are for agent {id} request {nonce} and agent {} request {}; \
             equivocation needs the same agent and request",
            second.agentId,
            second.requestNonce
        );
    }
    if first.contentHash == second.contentHash {
        revert!("both statements have content hash {}: that is no equivocation", first.contentHash);
    }
    let Some(mut record) = record(frame, id)? else { revert!("agent {id} does not exist") };
    let punished = equivocation_slot(id, nonce);
    if !frame.load(punished)?.is_zero() {
        revert!("equivocation of agent {id} at request {nonce} has already been punished");
    }
    for (which, statement, signature) in
        [("first", first, first_signature), ("second", second, second_signature)]
    {
        frame.gas.charge(RECOVER_GAS)?;
        let hash = statement_signing_hash(frame.env.spec.chain_id, statement);
        let signer = match ol_primitives::recover_signer(signature, hash) {
            Ok(signer) => signer,
            Err(error) => revert!("the {which} statement's signature is invalid: {error}"),
        };
        if signer != record.agent {
            revert!(
                "the {which} statement was signed by {signer}, not by agent {id}'s key {}",
                record.agent
            );
        }
    }
    let (bonded, unbonding) = stake(frame, record.operator, record.agent)?;
    let amount = params(frame)?
        .equivocation_slash_bps
        .of(ol_primitives::Amount::from_wei(bonded + unbonding))
        .wei();
    if amount.is_zero() && record.deregistered() {
        revert!("agent {id} is deregistered and has no stake left to slash");
    }
    frame.store(punished, U256::from(1))?;
    emit(
        frame,
        IAgents::EquivocationProven {
            agentId: id,
            requestNonce: nonce,
            contentHashA: first.contentHash,
            contentHashB: second.contentHash,
        },
    )?;
    let reporter = frame.env.caller;
    punish(frame, &mut record, amount, Some(reporter), JailReason::Equivocation)?;
    Ok(amount)
}

pub(super) fn report<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<Option<Report>> {
    let base = report_slot(id);
    let [agent_id, status, filed_at, resolved_at] = unpack(frame.load(base)?);
    if agent_id == 0 {
        return Ok(None);
    }
    let status = match status {
        0 => ReportStatus::Open,
        1 => ReportStatus::Upheld,
        _ => ReportStatus::Rejected,
    };
    Ok(Some(Report {
        id,
        agentId: agent_id,
        reporter: frame.load_address(field(base, 1))?,
        amount: frame.load(field(base, 2))?,
        evidenceHash: frame.load_word(field(base, 3))?,
        reason: frame.load_string(field(base, 4))?,
        status,
        filedAtBlock: filed_at,
        resolvedAtBlock: resolved_at,
    }))
}

pub(super) fn file_report<S: StateView>(
    frame: &mut Frame<'_, S>,
    agent_id: u64,
    evidence_hash: B256,
    amount: U256,
    reason: &str,
) -> Result<u64> {
    if record(frame, agent_id)?.is_none() {
        revert!("agent {agent_id} does not exist");
    }
    if evidence_hash == B256::ZERO {
        revert!("a report needs the hash of its evidence");
    }
    if amount.is_zero() {
        revert!("a report must ask for a slash of more than zero");
    }
    if reason.trim().is_empty() {
        revert!("a report needs a reason");
    }
    check_text("reason", reason, MAX_REASON)?;
    let (agents, reports) = counts(frame)?;
    let id = reports + 1;
    store_counts(frame, agents, id)?;
    let reporter = frame.env.caller;
    let base = report_slot(id);
    frame.store(base, pack([agent_id, ReportStatus::Open as u64, frame.env.block.number, 0]))?;
    frame.store_address(field(base, 1), reporter)?;
    frame.store(field(base, 2), amount)?;
    frame.store_word(field(base, 3), evidence_hash)?;
    frame.store_bytes(field(base, 4), reason.as_bytes())?;
    emit(
        frame,
        IAgents::ReportFiled {
            reportId: id,
            agentId: agent_id,
            reporter,
            amount,
            evidenceHash: evidence_hash,
        },
    )?;
    Ok(id)
}

pub(super) fn resolve_report<S: StateView>(
    frame: &mut Frame<'_, S>,
    report_id: u64,
    uphold: bool,
) -> Result<()> {
    only_governance(frame, "resolveReport")?;
    let Some(filed) = report(frame, report_id)? else {
        revert!("report {report_id} does not exist")
    };
    if filed.status != ReportStatus::Open {
        revert!("report {report_id} is already resolved");
    }
    let status = if uphold {
        let Some(mut record) = record(frame, filed.agentId)? else {
            revert!("agent {} does not exist", filed.agentId)
        };
        punish(frame, &mut record, filed.amount, Some(filed.reporter), JailReason::Report)?;
        ReportStatus::Upheld
    } else {
        ReportStatus::Rejected
    };
    frame.store(
        report_slot(report_id),
        pack([filed.agentId, status as u64, filed.filedAtBlock, frame.env.block.number]),
    )?;
    emit(
        frame,
        IAgents::ReportResolved { reportId: report_id, agentId: filed.agentId, upheld: uphold },
    )
}
