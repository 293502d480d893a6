//! How the datanets contract lays out its records in storage.
//!
//! Every record sits at a named slot ([`crate::system::slots`]):
//! - `counts` → packed (datanet count, contribution count)
//! - `datanet[id]` + 0 owner, + 1 packed (contributions, accepted, versions,
//!   created-at block), + 2 the ABI-encoded `DatanetConfig` as bytes
//! - `datanet.curator[id, account]`, `datanet.allowed[id, account]` → 1
//! - `datanet.accepted[id, seq]` → contribution id (seq from 1)
//! - `datanet.contribution[id, n]` → n-th contribution submitted (n from 1)
//! - `datanet.normalised[id, hash]` → the accepted contribution with it
//! - `datanet.band[id, band, key]` → earliest accepted contribution in that
//!   MinHash band bucket
//! - `contribution[id]` + 0 packed (datanet, size, format | status << 8,
//!   submitted-at block), + 1 contributor, + 2 content hash, + 3 normalised
//!   hash, + 4 deposit, + 5 packed (near-duplicate-of, accepted seq,
//!   versions published when withdrawn), + 6 licence
//! - `contribution.minhash[id]` + 0..8: the 64 MinHash slots, 8 per word
//! - `content.refs[hash]` → live (pending or accepted) contributions naming it
//! - `version[datanet, number]` + 0 root, + 1 packed (contributions,
//!   published-at block, accepted cursor), + 2 index hash, + 3 tokenizer
//! - `params` + 0 set flag, + 1 deposit base, + 2 deposit per KiB, + 3
//!   default maximum submission size, + 4 packed (spam penalty, duplicate
//!   penalty, poisoning penalty, penalty threshold)
//! - reputation records: see [`super::reputation`]

use super::{Contribution, Datanet, DatanetConfig, Format, Status, Version};
use crate::{
    content::MINHASH_SLOTS,
    state::StateView,
    system::{
        CallError, Frame,
        slots::{KeyPart, field, pack, slot, unpack},
    },
};
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::SolValue;

/// MinHash slots that must agree for a near-duplicate (of 64): an estimated
/// Jaccard similarity of at least 0.75.
pub const NEAR_DUPLICATE_MIN_AGREEING: u32 = 48;
/// Locality-sensitive hashing bands over the signature.
pub const BANDS: usize = 16;
/// Signature slots per band.
pub const ROWS: usize = MINHASH_SLOTS / BANDS;

/// Largest contribution when a datanet names none: 5 MB.
pub const DEFAULT_MAX_SUBMISSION: u64 = 5_000_000;
/// Hard upper bound on any datanet's maximum submission size: 64 MiB.
pub const MAX_SUBMISSION_LIMIT: u64 = 64 * 1024 * 1024;

/// Governable parameters: deposits, the default size limit, and the
/// penalties and threshold of contributor reputation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Charged for every contribution, in wei.
    pub deposit_base: U256,
    /// Charged per started KiB of content, in wei.
    pub deposit_per_kib: U256,
    /// Maximum submission size of a datanet that names none.
    pub default_max_submission: u64,
    /// Added to a contributor's score when a contribution is rejected as spam.
    pub spam_penalty: u64,
    /// Added to a contributor's score when a near-duplicate is proven.
    pub duplicate_penalty: u64,
    /// Added to an account's score when governance confirms a poisoning report.
    pub poisoning_penalty: u64,
    /// At or above this score a contributor earns no attribution rewards in
    /// the datanet.
    pub penalty_threshold: u64,
}

impl Default for Params {
    /// 1 OPEN plus 0.01 OPEN per KiB (a 5 MB contribution holds about 50
    /// OPEN); penalties 10 per spam rejection, 5 per proven near-duplicate,
    /// 50 per confirmed poisoning, cut at 50: one confirmed poisoning, five
    /// spam rejections or ten proven near-duplicates.
    fn default() -> Self {
        Self {
            deposit_base: U256::from(10u64).pow(U256::from(18)),
            deposit_per_kib: U256::from(10u64).pow(U256::from(16)),
            default_max_submission: DEFAULT_MAX_SUBMISSION,
            spam_penalty: 10,
            duplicate_penalty: 5,
            poisoning_penalty: 50,
            penalty_threshold: 50,
        }
    }
}

impl Params {
    /// The deposit for `size` bytes.
    pub fn deposit_for(&self, size: u64) -> U256 {
        self.deposit_base + self.deposit_per_kib * U256::from(size.div_ceil(1024))
    }

    /// Why these parameters cannot be set, if they cannot.
    pub fn problem(&self) -> Option<String> {
        let supply = ol_primitives::Amount::total_supply().wei();
        if self.deposit_base > supply {
            return Some(format!(
                "depositBase {} wei is more than the whole supply ({supply} wei)",
                self.deposit_base
            ));
        }
        if self.deposit_per_kib > supply {
            return Some(format!(
                "depositPerKib {} wei is more than the whole supply ({supply} wei)",
                self.deposit_per_kib
            ));
        }
        if self.default_max_submission == 0 || self.default_max_submission > MAX_SUBMISSION_LIMIT {
            return Some(format!(
                "defaultMaxSubmission {} must be between 1 and {MAX_SUBMISSION_LIMIT} bytes",
                self.default_max_submission
            ));
        }
        if self.penalty_threshold == 0 {
            return Some(
                "penaltyThreshold 0 would cut every contributor's rewards; it must be at least 1"
                    .into(),
            );
        }
        None
    }
}

impl From<super::IDatanets::Params> for Params {
    fn from(p: super::IDatanets::Params) -> Self {
        Self {
            deposit_base: p.depositBase,
            deposit_per_kib: p.depositPerKib,
            default_max_submission: p.defaultMaxSubmission,
            spam_penalty: p.spamPenalty,
            duplicate_penalty: p.duplicatePenalty,
            poisoning_penalty: p.poisoningPenalty,
            penalty_threshold: p.penaltyThreshold,
        }
    }
}

impl From<Params> for super::IDatanets::Params {
    fn from(p: Params) -> Self {
        Self {
            depositBase: p.deposit_base,
            depositPerKib: p.deposit_per_kib,
            defaultMaxSubmission: p.default_max_submission,
            spamPenalty: p.spam_penalty,
            duplicatePenalty: p.duplicate_penalty,
            poisoningPenalty: p.poisoning_penalty,
            penaltyThreshold: p.penalty_threshold,
        }
    }
}

type Result<T> = std::result::Result<T, CallError>;

fn counts_slot() -> B256 {
    slot("counts", &[])
}
pub(super) fn datanet_slot(id: u64) -> B256 {
    slot("datanet", &[KeyPart::U64(id)])
}
pub(super) fn curator_slot(id: u64, account: &Address) -> B256 {
    slot("datanet.curator", &[KeyPart::U64(id), KeyPart::Address(account)])
}
pub(super) fn allowed_slot(id: u64, account: &Address) -> B256 {
    slot("datanet.allowed", &[KeyPart::U64(id), KeyPart::Address(account)])
}
pub(super) fn accepted_slot(id: u64, seq: u64) -> B256 {
    slot("datanet.accepted", &[KeyPart::U64(id), KeyPart::U64(seq)])
}
pub(super) fn nth_contribution_slot(id: u64, n: u64) -> B256 {
    slot("datanet.contribution", &[KeyPart::U64(id), KeyPart::U64(n)])
}
pub(super) fn normalised_slot(id: u64, hash: &B256) -> B256 {
    slot("datanet.normalised", &[KeyPart::U64(id), KeyPart::Word(hash)])
}
pub(super) fn band_slot(id: u64, band: usize, key: &B256) -> B256 {
    slot("datanet.band", &[KeyPart::U64(id), KeyPart::U64(band as u64), KeyPart::Word(key)])
}
pub(super) fn contribution_slot(id: u64) -> B256 {
    slot("contribution", &[KeyPart::U64(id)])
}
fn minhash_slot(id: u64) -> B256 {
    slot("contribution.minhash", &[KeyPart::U64(id)])
}
pub(super) fn refs_slot(hash: &B256) -> B256 {
    slot("content.refs", &[KeyPart::Word(hash)])
}
pub(super) fn version_slot(id: u64, version: u32) -> B256 {
    slot("version", &[KeyPart::U64(id), KeyPart::U64(u64::from(version))])
}
fn params_slot() -> B256 {
    slot("params", &[])
}

/// (datanet count, contribution count).
pub(super) fn counts<S: StateView>(frame: &mut Frame<'_, S>) -> Result<(u64, u64)> {
    let [datanets, contributions, ..] = unpack(frame.load(counts_slot())?);
    Ok((datanets, contributions))
}

pub(super) fn set_counts<S: StateView>(
    frame: &mut Frame<'_, S>,
    datanets: u64,
    contributions: u64,
) -> Result<()> {
    frame.store(counts_slot(), pack([datanets, contributions, 0, 0]))
}

/// The parameters (defaults until governance sets them).
pub(super) fn params<S: StateView>(frame: &mut Frame<'_, S>) -> Result<Params> {
    let base = params_slot();
    if frame.load(base)?.is_zero() {
        return Ok(Params::default());
    }
    let [spam_penalty, duplicate_penalty, poisoning_penalty, penalty_threshold] =
        unpack(frame.load(field(base, 4))?);
    Ok(Params {
        deposit_base: frame.load(field(base, 1))?,
        deposit_per_kib: frame.load(field(base, 2))?,
        default_max_submission: frame.load_u64(field(base, 3))?,
        spam_penalty,
        duplicate_penalty,
        poisoning_penalty,
        penalty_threshold,
    })
}

/// The penalty threshold alone: one read while the defaults apply, two once
/// governance has set the parameters.
pub(super) fn penalty_threshold<S: StateView>(frame: &mut Frame<'_, S>) -> Result<u64> {
    let base = params_slot();
    if frame.load(base)?.is_zero() {
        return Ok(Params::default().penalty_threshold);
    }
    Ok(unpack(frame.load(field(base, 4))?)[3])
}

/// Stores `new` (already checked with [`Params::problem`]).
pub(super) fn set_params<S: StateView>(frame: &mut Frame<'_, S>, new: &Params) -> Result<()> {
    let base = params_slot();
    frame.store(base, U256::from(1))?;
    frame.store(field(base, 1), new.deposit_base)?;
    frame.store(field(base, 2), new.deposit_per_kib)?;
    frame.store(field(base, 3), U256::from(new.default_max_submission))?;
    frame.store(
        field(base, 4),
        pack([
            new.spam_penalty,
            new.duplicate_penalty,
            new.poisoning_penalty,
            new.penalty_threshold,
        ]),
    )
}

/// A datanet's counters.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct DatanetCounts {
    pub(super) contributions: u64,
    pub(super) accepted: u64,
    pub(super) versions: u32,
    pub(super) created_at: u64,
}

pub(super) fn datanet_counts<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
) -> Result<DatanetCounts> {
    let [contributions, accepted, versions, created_at] =
        unpack(frame.load(field(datanet_slot(id), 1))?);
    Ok(DatanetCounts { contributions, accepted, versions: versions as u32, created_at })
}

pub(super) fn set_datanet_counts<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    counts: DatanetCounts,
) -> Result<()> {
    let word = pack([
        counts.contributions,
        counts.accepted,
        u64::from(counts.versions),
        counts.created_at,
    ]);
    frame.store(field(datanet_slot(id), 1), word)
}

pub(super) fn owner<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<Address> {
    frame.load_address(datanet_slot(id))
}

/// The stored configuration of an existing datanet.
pub(super) fn config<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<DatanetConfig> {
    let bytes = frame.load_bytes(field(datanet_slot(id), 2))?;
    DatanetConfig::abi_decode(&bytes).map_err(|error| {
        CallError::State(crate::StateError(format!("datanet {id} config is corrupt: {error}")))
    })
}

/// A datanet, `None` when it does not exist.
pub(super) fn datanet<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<Option<Datanet>> {
    let owner = owner(frame, id)?;
    if owner == Address::ZERO {
        return Ok(None);
    }
    let counts = datanet_counts(frame, id)?;
    Ok(Some(Datanet {
        id,
        owner,
        config: config(frame, id)?,
        contributionCount: counts.contributions,
        acceptedCount: counts.accepted,
        versionCount: counts.versions,
        createdAtBlock: counts.created_at,
    }))
}

pub(super) fn is_curator<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    account: Address,
) -> Result<bool> {
    Ok(!frame.load(curator_slot(id, &account))?.is_zero())
}

pub(super) fn is_allowed<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    account: Address,
) -> Result<bool> {
    Ok(!frame.load(allowed_slot(id, &account))?.is_zero())
}

/// The mutable part of a contribution, as kept in its first and sixth words.
#[derive(Debug, Clone, Copy)]
pub(super) struct ContributionHead {
    pub(super) datanet: u64,
    pub(super) size: u64,
    pub(super) format: u8,
    pub(super) status: Status,
    pub(super) submitted_at: u64,
    pub(super) near_duplicate_of: u64,
    pub(super) accepted_seq: u64,
    /// Versions the datanet had published when this was withdrawn.
    pub(super) withdrawn_after: u64,
}

fn status_from(code: u64) -> Status {
    match code {
        1 => Status::Pending,
        2 => Status::Accepted,
        3 => Status::Rejected,
        4 => Status::Withdrawn,
        _ => Status::None,
    }
}

pub(super) fn head<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<ContributionHead> {
    let base = contribution_slot(id);
    let [datanet, size, format_status, submitted_at] = unpack(frame.load(base)?);
    let [near_duplicate_of, accepted_seq, withdrawn_after, _] = unpack(frame.load(field(base, 5))?);
    Ok(ContributionHead {
        datanet,
        size,
        format: (format_status & 0xff) as u8,
        status: status_from(format_status >> 8),
        submitted_at,
        near_duplicate_of,
        accepted_seq,
        withdrawn_after,
    })
}

pub(super) fn set_head<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    head: &ContributionHead,
) -> Result<()> {
    let base = contribution_slot(id);
    let format_status = u64::from(head.format) | ((head.status as u64) << 8);
    frame.store(base, pack([head.datanet, head.size, format_status, head.submitted_at]))?;
    frame.store(
        field(base, 5),
        pack([head.near_duplicate_of, head.accepted_seq, head.withdrawn_after, 0]),
    )
}

pub(super) fn contributor<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<Address> {
    frame.load_address(field(contribution_slot(id), 1))
}

pub(super) fn content_hash<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<B256> {
    frame.load_word(field(contribution_slot(id), 2))
}

pub(super) fn normalised_hash<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<B256> {
    frame.load_word(field(contribution_slot(id), 3))
}

pub(super) fn deposit<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<U256> {
    frame.load(field(contribution_slot(id), 4))
}

pub(super) fn set_deposit<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    amount: U256,
) -> Result<()> {
    frame.store(field(contribution_slot(id), 4), amount)
}

/// Writes the immutable fields of a new contribution.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_new_contribution<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    head: &ContributionHead,
    contributor: Address,
    content_hash: B256,
    normalised_hash: B256,
    deposit: U256,
    licence: &str,
) -> Result<()> {
    let base = contribution_slot(id);
    set_head(frame, id, head)?;
    frame.store_address(field(base, 1), contributor)?;
    frame.store_word(field(base, 2), content_hash)?;
    frame.store_word(field(base, 3), normalised_hash)?;
    frame.store(field(base, 4), deposit)?;
    frame.store_bytes(field(base, 6), licence.as_bytes())
}

/// A contribution, `None` when it does not exist.
pub(super) fn contribution<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
) -> Result<Option<Contribution>> {
    let head = head(frame, id)?;
    if head.status == Status::None {
        return Ok(None);
    }
    let base = contribution_slot(id);
    Ok(Some(Contribution {
        id,
        datanetId: head.datanet,
        contributor: contributor(frame, id)?,
        contentHash: content_hash(frame, id)?,
        normalisedHash: normalised_hash(frame, id)?,
        size: head.size,
        format: Format::try_from(head.format).unwrap_or(Format::Text),
        licence: frame.load_string(field(base, 6))?,
        status: head.status,
        deposit: deposit(frame, id)?,
        nearDuplicateOf: head.near_duplicate_of,
        acceptedSeq: head.accepted_seq,
        submittedAtBlock: head.submitted_at,
    }))
}

pub(super) fn store_minhash<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    minhash: &[u32; MINHASH_SLOTS],
) -> Result<()> {
    let base = minhash_slot(id);
    for (index, chunk) in minhash.chunks(8).enumerate() {
        let word = chunk
            .iter()
            .enumerate()
            .fold(U256::ZERO, |word, (i, value)| word | (U256::from(*value) << (32 * i)));
        frame.store(field(base, index as u64), word)?;
    }
    Ok(())
}

pub(super) fn load_minhash<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
) -> Result<[u32; MINHASH_SLOTS]> {
    let base = minhash_slot(id);
    let mut minhash = [0u32; MINHASH_SLOTS];
    for index in 0..MINHASH_SLOTS / 8 {
        let word = frame.load(field(base, index as u64))?;
        for i in 0..8 {
            minhash[index * 8 + i] = (word >> (32 * i)).as_limbs()[0] as u32;
        }
    }
    Ok(minhash)
}

/// How many slots of two MinHash signatures agree: an estimate of the
/// Jaccard similarity of their shingles, in 64ths.
pub(super) fn agreeing_slots(a: &[u32; MINHASH_SLOTS], b: &[u32; MINHASH_SLOTS]) -> u32 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as u32
}

/// The bucket key of each LSH band of a signature.
pub(super) fn band_keys(minhash: &[u32; MINHASH_SLOTS]) -> [B256; BANDS] {
    std::array::from_fn(|band| {
        let mut bytes = Vec::with_capacity(4 * ROWS);
        for value in &minhash[band * ROWS..(band + 1) * ROWS] {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        keccak256(bytes)
    })
}

pub(super) fn live_references<S: StateView>(frame: &mut Frame<'_, S>, hash: B256) -> Result<u64> {
    frame.load_u64(refs_slot(&hash))
}

pub(super) fn add_reference<S: StateView>(
    frame: &mut Frame<'_, S>,
    hash: B256,
    delta: i64,
) -> Result<()> {
    let count = live_references(frame, hash)?;
    let next = count.checked_add_signed(delta).ok_or_else(|| {
        CallError::State(crate::StateError(format!("reference count of {hash} out of range")))
    })?;
    frame.store(refs_slot(&hash), U256::from(next))
}

/// A version's counters.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct VersionCounts {
    pub(super) contributions: u64,
    pub(super) published_at: u64,
    /// The datanet's accepted count when it was published.
    pub(super) cursor: u64,
}

pub(super) fn version_counts<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    version: u32,
) -> Result<VersionCounts> {
    let [contributions, published_at, cursor, _] =
        unpack(frame.load(field(version_slot(id, version), 1))?);
    Ok(VersionCounts { contributions, published_at, cursor })
}

/// A published version, `None` when it does not exist.
pub(super) fn version<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    number: u32,
) -> Result<Option<Version>> {
    if number == 0 || number > datanet_counts(frame, id)?.versions {
        return Ok(None);
    }
    let base = version_slot(id, number);
    let counts = version_counts(frame, id, number)?;
    Ok(Some(Version {
        datanetId: id,
        number,
        root: frame.load_word(base)?,
        contributionCount: counts.contributions,
        publishedAtBlock: counts.published_at,
        indexHash: frame.load_word(field(base, 2))?,
        tokenizer: frame.load_string(field(base, 3))?,
    }))
}

/// True when contribution `head` belongs to `version` of its datanet, given
/// that it was accepted before the version's cursor.
fn in_version(head: &ContributionHead, version: u32) -> bool {
    match head.status {
        Status::Accepted => true,
        Status::Withdrawn => head.accepted_seq > 0 && head.withdrawn_after >= u64::from(version),
        _ => false,
    }
}

/// The contribution ids of a published version, in acceptance order.
pub(super) fn version_members<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    number: u32,
    offset: u64,
    limit: u64,
) -> Result<Vec<u64>> {
    if version(frame, id, number)?.is_none() {
        crate::revert!("datanet {id} has no version {number}");
    }
    let cursor = version_counts(frame, id, number)?.cursor;
    let mut members = Vec::new();
    let mut skipped = 0;
    for seq in 1..=cursor {
        if members.len() as u64 >= limit {
            break;
        }
        let contribution = frame.load_u64(accepted_slot(id, seq))?;
        if in_version(&head(frame, contribution)?, number) {
            if skipped < offset {
                skipped += 1;
            } else {
                members.push(contribution);
            }
        }
    }
    Ok(members)
}

/// The contributions submitted to a datanet, oldest first.
pub(super) fn datanet_contributions<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    offset: u64,
    limit: u64,
) -> Result<Vec<u64>> {
    let total = datanet_counts(frame, id)?.contributions;
    let first = offset.saturating_add(1);
    let last = total.min(offset.saturating_add(limit));
    (first..=last).map(|n| frame.load_u64(nth_contribution_slot(id, n))).collect()
}
