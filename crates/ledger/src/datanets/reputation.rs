//! Contributor reputation: a penalty score per (datanet, account).
//!
//! The score only grows, by the governed amounts in [`Params`]:
//! - **spam**: a curator rejects one of the account's contributions as spam
//!   (`reject(id, true)`), `spam_penalty`;
//! - **near-duplicate**: anyone proves, with `reportNearDuplicate(id,
//!   original)`, that accepted contribution `id` nearly duplicates
//!   `original`, `duplicate_penalty`, once per contribution. The proof is
//!   checked from the content facts the chain already holds: both accepted
//!   in the same datanet, `original` submitted earlier (a smaller id) by
//!   another contributor, and their MinHash signatures agreeing in at least
//!   [`NEAR_DUPLICATE_MIN_AGREEING`] of 64 slots — the same test that sets
//!   `nearDuplicateOf` at submission. That flag alone raises nothing: it was
//!   computed against the contributions accepted at submission (which may
//!   since have been withdrawn), it does not tell a contributor revising its
//!   own work from a copier, and a curator may accept a flagged contribution
//!   on purpose; a flagged contribution of another contributor's work is
//!   always provable by reporting it with its flag as the original.
//! - **poisoning**: anyone files `reportPoisoning(datanet, account,
//!   evidenceHash, reason)`; governance alone resolves it
//!   (`resolvePoisoningReport`), and a confirmation adds `poisoning_penalty`.
//!
//! At or above `penalty_threshold` the account's attribution rewards in that
//! datanet are cut to zero: settlement still checks its attributed entries
//! but divides the contributors' share among the other attributed
//! contributors ([`crate::inference::split`]). The comparison is made at
//! each settlement with the threshold then in force, so governance moving
//! the threshold moves who is cut.
//!
//! Storage:
//! - `penalty[datanet, account]` → packed (score, spam rejections, proven
//!   near-duplicates, confirmed poisonings)
//! - `penalized[account]` → how many datanets the account has a record in,
//!   listed by `penalized.datanet[account, n]` (n from 1)
//! - `duplicate.proven[contribution]` → the original it was proven to
//!   nearly duplicate
//! - `poisoning.count` → reports filed
//! - `poisoning[id]` + 0 packed (datanet, filed-at block, status,
//!   resolved-at block), + 1 account, + 2 reporter, + 3 evidence hash, + 4
//!   reason

use super::{
    IDatanets, Params, PenaltyReason, PoisoningReport, ReportStatus, Status,
    calls::{MAX_SUMMARY, emit, require_datanet, status_name},
    records::{self, NEAR_DUPLICATE_MIN_AGREEING},
};
use crate::{
    revert,
    state::StateView,
    system::{
        CallError, Frame, check_text,
        slots::{KeyPart, field, pack, slot, unpack},
    },
};
use alloy_primitives::{Address, B256, U256};

type Result<T> = std::result::Result<T, CallError>;

fn penalty_slot(datanet: u64, account: &Address) -> B256 {
    slot("penalty", &[KeyPart::U64(datanet), KeyPart::Address(account)])
}
fn penalized_slot(account: &Address) -> B256 {
    slot("penalized", &[KeyPart::Address(account)])
}
fn penalized_datanet_slot(account: &Address, n: u64) -> B256 {
    slot("penalized.datanet", &[KeyPart::Address(account), KeyPart::U64(n)])
}
fn proven_slot(contribution: u64) -> B256 {
    slot("duplicate.proven", &[KeyPart::U64(contribution)])
}
fn report_count_slot() -> B256 {
    slot("poisoning.count", &[])
}
fn report_slot(id: u64) -> B256 {
    slot("poisoning", &[KeyPart::U64(id)])
}

/// An account's score in a datanet: one read.
pub(super) fn score<S: StateView>(
    frame: &mut Frame<'_, S>,
    datanet: u64,
    account: Address,
) -> Result<u64> {
    Ok(unpack(frame.load(penalty_slot(datanet, &account))?)[0])
}

/// An account's standing in a datanet under the threshold in force.
pub(super) fn penalty<S: StateView>(
    frame: &mut Frame<'_, S>,
    datanet: u64,
    account: Address,
) -> Result<IDatanets::Penalty> {
    let [score, spam, duplicates, poisonings] =
        unpack(frame.load(penalty_slot(datanet, &account))?);
    let threshold = records::penalty_threshold(frame)?;
    Ok(IDatanets::Penalty {
        score,
        cut: score >= threshold,
        threshold,
        spamRejections: spam,
        nearDuplicates: duplicates,
        confirmedPoisonings: poisonings,
    })
}

/// The datanets in which `account` has a record, in the order it got one.
pub(super) fn penalized_datanets<S: StateView>(
    frame: &mut Frame<'_, S>,
    account: Address,
) -> Result<Vec<u64>> {
    let count = frame.load_u64(penalized_slot(&account))?;
    (1..=count).map(|n| frame.load_u64(penalized_datanet_slot(&account, n))).collect()
}

/// Adds `amount` to `account`'s score in `datanet` for `reason`; returns the
/// new score (saturating: a score past `u64::MAX` is cut whatever the
/// threshold).
pub(super) fn raise<S: StateView>(
    frame: &mut Frame<'_, S>,
    datanet: u64,
    account: Address,
    reason: PenaltyReason,
    amount: u64,
) -> Result<u64> {
    let slot = penalty_slot(datanet, &account);
    let word = frame.load(slot)?;
    if word.is_zero() {
        let list = penalized_slot(&account);
        let count = frame.load_u64(list)? + 1;
        frame.store(list, U256::from(count))?;
        frame.store(penalized_datanet_slot(&account, count), U256::from(datanet))?;
    }
    let [score, mut spam, mut duplicates, mut poisonings] = unpack(word);
    let counter = match reason {
        PenaltyReason::Spam => &mut spam,
        PenaltyReason::NearDuplicate => &mut duplicates,
        // Poisoning (the rules never pass the ABI's invalid variant).
        _ => &mut poisonings,
    };
    *counter = counter.saturating_add(1);
    let score = score.saturating_add(amount);
    frame.store(slot, pack([score, spam, duplicates, poisonings]))?;
    emit(
        frame,
        IDatanets::PenaltyRaised { datanetId: datanet, account, reason, amount, newScore: score },
    )?;
    Ok(score)
}

/// The original `contribution` was proven to nearly duplicate, or 0.
pub(super) fn proven_near_duplicate_of<S: StateView>(
    frame: &mut Frame<'_, S>,
    contribution: u64,
) -> Result<u64> {
    frame.load_u64(proven_slot(contribution))
}

/// Checks the proof that `contribution` nearly duplicates `original` and
/// raises the duplicator's score.
pub(super) fn report_near_duplicate<S: StateView>(
    frame: &mut Frame<'_, S>,
    params: &Params,
    contribution: u64,
    original: u64,
) -> Result<()> {
    if contribution == original {
        revert!("contribution {contribution} cannot nearly duplicate itself");
    }
    let reported = records::head(frame, contribution)?;
    if reported.status == Status::None {
        revert!("contribution {contribution} does not exist");
    }
    if reported.status != Status::Accepted {
        revert!(
            "contribution {contribution} is {}; only accepted contributions can be reported \
             as near-duplicates",
            status_name(reported.status)
        );
    }
    let proven = proven_near_duplicate_of(frame, contribution)?;
    if proven != 0 {
        revert!("contribution {contribution} was already proven a near-duplicate of {proven}");
    }
    let earlier = records::head(frame, original)?;
    if earlier.status == Status::None {
        revert!("contribution {original} does not exist");
    }
    let datanet = reported.datanet;
    if earlier.datanet != datanet {
        revert!(
            "contribution {original} belongs to datanet {}, contribution {contribution} to \
             datanet {datanet}",
            earlier.datanet
        );
    }
    if earlier.status != Status::Accepted {
        revert!(
            "contribution {original} is {}; the original must be accepted",
            status_name(earlier.status)
        );
    }
    if original > contribution {
        revert!(
            "contribution {original} was submitted after {contribution}; the original must be \
             the earlier one"
        );
    }
    let duplicator = records::contributor(frame, contribution)?;
    if records::contributor(frame, original)? == duplicator {
        revert!(
            "contributions {contribution} and {original} are both by {duplicator}; a \
             contributor may revise its own work"
        );
    }
    let agreeing = records::agreeing_slots(
        &records::load_minhash(frame, contribution)?,
        &records::load_minhash(frame, original)?,
    );
    if agreeing < NEAR_DUPLICATE_MIN_AGREEING {
        revert!(
            "contributions {contribution} and {original} agree in {agreeing} of 64 MinHash \
             slots; a near-duplicate agrees in at least {NEAR_DUPLICATE_MIN_AGREEING}"
        );
    }
    frame.store(proven_slot(contribution), U256::from(original))?;
    let reporter = frame.env.caller;
    emit(
        frame,
        IDatanets::NearDuplicateProven {
            datanetId: datanet,
            contributionId: contribution,
            originalId: original,
            agreeingSlots: agreeing,
            reporter,
        },
    )?;
    raise(frame, datanet, duplicator, PenaltyReason::NearDuplicate, params.duplicate_penalty)?;
    Ok(())
}

/// Files a poisoning report; returns its id.
pub(super) fn report_poisoning<S: StateView>(
    frame: &mut Frame<'_, S>,
    datanet: u64,
    account: Address,
    evidence: B256,
    reason: &str,
) -> Result<u64> {
    require_datanet(frame, datanet)?;
    if account == Address::ZERO {
        revert!("the reported account cannot be the zero address");
    }
    if evidence == B256::ZERO {
        revert!("a poisoning report needs the hash of its evidence");
    }
    if reason.trim().is_empty() {
        revert!("a poisoning report needs a reason");
    }
    check_text("reason", reason, MAX_SUMMARY)?;
    let id = frame.load_u64(report_count_slot())? + 1;
    frame.store(report_count_slot(), U256::from(id))?;
    let base = report_slot(id);
    let filed_at = frame.env.block.number;
    frame.store(base, pack([datanet, filed_at, ReportStatus::Open as u64, 0]))?;
    frame.store_address(field(base, 1), account)?;
    let reporter = frame.env.caller;
    frame.store_address(field(base, 2), reporter)?;
    frame.store_word(field(base, 3), evidence)?;
    frame.store_bytes(field(base, 4), reason.as_bytes())?;
    emit(
        frame,
        IDatanets::PoisoningReported {
            reportId: id,
            datanetId: datanet,
            account,
            reporter,
            evidenceHash: evidence,
            reason: reason.to_owned(),
        },
    )?;
    Ok(id)
}

/// Confirms or dismisses an open report (the caller checked it is
/// governance); a confirmation raises the account's score.
pub(super) fn resolve_poisoning<S: StateView>(
    frame: &mut Frame<'_, S>,
    params: &Params,
    id: u64,
    confirmed: bool,
) -> Result<()> {
    let base = report_slot(id);
    let [datanet, filed_at, status, _] = unpack(frame.load(base)?);
    if status == ReportStatus::None as u64 {
        revert!("poisoning report {id} does not exist");
    }
    if status != ReportStatus::Open as u64 {
        revert!("poisoning report {id} is already {}", report_status_name(status_from(status)));
    }
    let status = if confirmed { ReportStatus::Confirmed } else { ReportStatus::Dismissed };
    frame.store(base, pack([datanet, filed_at, status as u64, frame.env.block.number]))?;
    let account = frame.load_address(field(base, 1))?;
    emit(
        frame,
        IDatanets::PoisoningResolved { reportId: id, datanetId: datanet, account, confirmed },
    )?;
    if confirmed {
        raise(frame, datanet, account, PenaltyReason::Poisoning, params.poisoning_penalty)?;
    }
    Ok(())
}

fn status_from(code: u64) -> ReportStatus {
    match code {
        1 => ReportStatus::Open,
        2 => ReportStatus::Confirmed,
        3 => ReportStatus::Dismissed,
        _ => ReportStatus::None,
    }
}

/// A report status as users read it.
pub fn report_status_name(status: ReportStatus) -> &'static str {
    match status {
        ReportStatus::Open => "open",
        ReportStatus::Confirmed => "confirmed",
        ReportStatus::Dismissed => "dismissed",
        _ => "none",
    }
}

/// Number of poisoning reports filed.
pub(super) fn report_count<S: StateView>(frame: &mut Frame<'_, S>) -> Result<u64> {
    frame.load_u64(report_count_slot())
}

/// A poisoning report, `None` when it does not exist.
pub(super) fn poisoning_report<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
) -> Result<Option<PoisoningReport>> {
    let base = report_slot(id);
    let [datanet, filed_at, status, resolved_at] = unpack(frame.load(base)?);
    if status == ReportStatus::None as u64 {
        return Ok(None);
    }
    Ok(Some(PoisoningReport {
        id,
        datanetId: datanet,
        account: frame.load_address(field(base, 1))?,
        reporter: frame.load_address(field(base, 2))?,
        evidenceHash: frame.load_word(field(base, 3))?,
        reason: frame.load_string(field(base, 4))?,
        status: status_from(status),
        filedAtBlock: filed_at,
        resolvedAtBlock: resolved_at,
    }))
}

#[cfg(test)]
mod tests;
