//! Datanets: community datasets with per-contribution ownership.
//!
//! The rules of the `IDatanets` system contract (`contracts/IDatanets.sol`,
//! the ABI is the source of truth) at [`DATANETS`]. A datanet has an owner,
//! curators, a contribution policy and accepted formats. A contribution names
//! bytes in the node's blob store by sha256; the facts the rules need about
//! those bytes (size, normalised hash, MinHash) come from the node's
//! [`ContentSource`](crate::content::ContentSource).
//!
//! - **Deposit**: `contribute` moves [`Params::deposit_for`] of the caller's
//!   spendable OPEN into this contract; acceptance refunds it, a rejection as
//!   spam sends it to the treasury, any other rejection or a withdrawal while
//!   pending refunds it.
//! - **Duplicates**: a contribution whose normalised content equals an
//!   accepted one of the same datanet is refused (at submission and again at
//!   approval). Near-duplicates are found by MinHash locality-sensitive
//!   hashing ([`records::BANDS`] bands of [`records::ROWS`] slots): a candidate
//!   sharing a band with the new signature is confirmed when at least
//!   [`NEAR_DUPLICATE_MIN_AGREEING`] of the 64 slots agree (estimated Jaccard
//!   similarity of word shingles ≥ 0.75); the contribution is flagged with
//!   the earliest such accepted contribution. A flagged contribution may still
//!   be accepted; attribution credits a span to the earliest accepted
//!   contribution containing it, so it earns nothing for what the earlier one
//!   already covers.
//! - **Take-down**: `withdraw` excludes a contribution from every later
//!   version and from attribution; the node forgets the bytes when no live
//!   contribution shares them ([`live_references`]).
//! - **Versions**: `publishVersion` snapshots the accepted, not withdrawn
//!   contributions in acceptance order; the version's identity is the Merkle
//!   root of their leaves ([`merkle`]).
//! - **Reputation**: a penalty score per (datanet, contributor), raised by
//!   spam rejections, proven near-duplicates and governance-confirmed
//!   poisoning reports; at or above the governed threshold the contributor's
//!   attribution rewards in that datanet are cut ([`reputation`]).
//! - **Parameters**: deposits, the default size limit, penalties and
//!   threshold ([`Params`]) change only through governance (`setParams`).

mod calls;
pub mod merkle;
pub mod records;
pub mod reputation;

use crate::{
    state::StateView,
    system::{CallError, Frame},
};
use alloy_primitives::{Address, B256, Bytes, U256};
pub use ol_primitives::addresses::DATANETS;

alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/IDatanets.sol"
);

pub use IDatanets::{
    Contribution, Datanet, DatanetConfig, Format, Penalty, PenaltyReason, PoisoningReport, Policy,
    ReportStatus, Status, Version,
};
pub use calls::parse_options;
pub use records::{NEAR_DUPLICATE_MIN_AGREEING, Params};

/// Runs one ABI-encoded call against the datanets contract.
pub fn call<S: StateView>(frame: &mut Frame<'_, S>, input: &[u8]) -> Result<Bytes, CallError> {
    calls::dispatch(frame, input)
}

/// Replaces the governable parameters, refusing values that cannot work:
/// what governance's `setParams` call (and a genesis) does, without the
/// caller check.
pub fn set_params<S: StateView>(frame: &mut Frame<'_, S>, new: Params) -> Result<(), CallError> {
    frame.at(DATANETS, |frame| calls::set_params(frame, new))
}

/// Read-only access to the datanets contract's records, for RPC and tools.
pub struct DatanetsReader<'a, S: StateView> {
    frame: Frame<'a, S>,
}

impl<S: StateView> std::fmt::Debug for DatanetsReader<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatanetsReader")
    }
}

impl<'a, S: StateView> DatanetsReader<'a, S> {
    /// A reader over `state`.
    pub fn new(state: &'a S) -> Self {
        Self { frame: crate::system::read_frame(state, DATANETS) }
    }

    /// Number of datanets created.
    pub fn datanet_count(&mut self) -> Result<u64, CallError> {
        Ok(records::counts(&mut self.frame)?.0)
    }

    /// Number of contributions submitted.
    pub fn contribution_count(&mut self) -> Result<u64, CallError> {
        Ok(records::counts(&mut self.frame)?.1)
    }

    /// A datanet, `None` if it does not exist.
    pub fn datanet(&mut self, id: u64) -> Result<Option<Datanet>, CallError> {
        records::datanet(&mut self.frame, id)
    }

    /// A contribution, `None` if it does not exist.
    pub fn contribution(&mut self, id: u64) -> Result<Option<Contribution>, CallError> {
        records::contribution(&mut self.frame, id)
    }

    /// A contribution's status alone (one storage read; `None` status when
    /// it does not exist).
    pub fn status(&mut self, id: u64) -> Result<Status, CallError> {
        Ok(records::head(&mut self.frame, id)?.status)
    }

    /// A published version, `None` if it does not exist.
    pub fn version(&mut self, datanet: u64, version: u32) -> Result<Option<Version>, CallError> {
        records::version(&mut self.frame, datanet, version)
    }

    /// The contributions of a version, in acceptance order.
    pub fn version_members(&mut self, datanet: u64, version: u32) -> Result<Vec<u64>, CallError> {
        records::version_members(&mut self.frame, datanet, version, 0, u64::MAX)
    }

    /// The contributions of a version in acceptance order, with what is
    /// needed to index their bytes (hash, parsing options, withdrawn);
    /// `None` when the datanet or one of the members does not exist.
    pub fn version_member_records(
        &mut self,
        datanet: u64,
        version: u32,
    ) -> Result<Option<Vec<crate::content::VersionMember>>, CallError> {
        let Some(config) = self.datanet(datanet)?.map(|d| d.config) else { return Ok(None) };
        let mut members = Vec::new();
        for id in self.version_members(datanet, version)? {
            let Some(contribution) = self.contribution(id)? else { return Ok(None) };
            members.push(crate::content::VersionMember {
                id,
                content_hash: contribution.contentHash,
                options: parse_options(&config, contribution.format),
                withdrawn: contribution.status == Status::Withdrawn,
            });
        }
        Ok(Some(members))
    }

    /// The contributions of a datanet (any status), oldest first, from
    /// `offset`, at most `limit`.
    pub fn datanet_contributions(
        &mut self,
        datanet: u64,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<u64>, CallError> {
        records::datanet_contributions(&mut self.frame, datanet, offset, limit)
    }

    /// True when `account` curates `datanet`.
    pub fn is_curator(&mut self, datanet: u64, account: Address) -> Result<bool, CallError> {
        records::is_curator(&mut self.frame, datanet, account)
    }

    /// How many pending or accepted contributions name `content`.
    pub fn live_references(&mut self, content: B256) -> Result<u64, CallError> {
        records::live_references(&mut self.frame, content)
    }

    /// The governable parameters.
    pub fn params(&mut self) -> Result<Params, CallError> {
        records::params(&mut self.frame)
    }

    /// The score at or above which a contributor's rewards are cut: one or
    /// two reads.
    pub fn penalty_threshold(&mut self) -> Result<u64, CallError> {
        records::penalty_threshold(&mut self.frame)
    }

    /// `account`'s penalty score in `datanet`: one read.
    pub fn penalty_score(&mut self, datanet: u64, account: Address) -> Result<u64, CallError> {
        reputation::score(&mut self.frame, datanet, account)
    }

    /// `account`'s standing in `datanet` under the threshold in force.
    pub fn penalty(&mut self, datanet: u64, account: Address) -> Result<Penalty, CallError> {
        reputation::penalty(&mut self.frame, datanet, account)
    }

    /// The datanets in which `account` has a penalty record.
    pub fn penalized_datanets(&mut self, account: Address) -> Result<Vec<u64>, CallError> {
        reputation::penalized_datanets(&mut self.frame, account)
    }

    /// A poisoning report, `None` if it does not exist.
    pub fn poisoning_report(&mut self, id: u64) -> Result<Option<PoisoningReport>, CallError> {
        reputation::poisoning_report(&mut self.frame, id)
    }

    /// The original `contribution` was proven to nearly duplicate, or 0.
    pub fn proven_near_duplicate_of(&mut self, contribution: u64) -> Result<u64, CallError> {
        reputation::proven_near_duplicate_of(&mut self.frame, contribution)
    }

    /// The owner of a datanet (zero when it does not exist): one read.
    pub fn owner(&mut self, datanet: u64) -> Result<Address, CallError> {
        self.frame.load_address(records::datanet_slot(datanet))
    }

    /// What attribution against a published version needs: its accepted
    /// cursor and recorded index hash (zero when none), or `None` when the
    /// version does not exist. Two reads.
    pub fn version_for_attribution(
        &mut self,
        datanet: u64,
        version: u32,
    ) -> Result<Option<(u64, B256)>, CallError> {
        let counts = records::version_counts(&mut self.frame, datanet, version)?;
        if counts.published_at == 0 {
            return Ok(None);
        }
        let index = self.frame.load_word(index_hash_slot(datanet, version))?;
        Ok(Some((counts.cursor, index)))
    }

    /// The contributor to credit when `contribution` is attributed against
    /// a version of `datanet` whose accepted cursor is `cursor`, or why it
    /// may not be credited: it must belong to that version and not have been
    /// withdrawn since (attribution excludes a take-down at once). Three reads.
    pub fn attributable(
        &mut self,
        contribution: u64,
        datanet: u64,
        cursor: u64,
    ) -> Result<std::result::Result<Address, String>, CallError> {
        let head = records::head(&mut self.frame, contribution)?;
        if head.status == Status::None {
            return Ok(Err(format!("contribution {contribution} does not exist")));
        }
        if head.datanet != datanet {
            return Ok(Err(format!(
                "contribution {contribution} belongs to datanet {}, not {datanet}",
                head.datanet
            )));
        }
        if head.accepted_seq == 0 || head.accepted_seq > cursor {
            return Ok(Err(format!(
                "contribution {contribution} is not part of the attributed version"
            )));
        }
        if head.status != Status::Accepted {
            return Ok(Err(format!("contribution {contribution} was withdrawn and earns nothing")));
        }
        Ok(Ok(records::contributor(&mut self.frame, contribution)?))
    }
}

/// The slot of a version's recorded index hash.
fn index_hash_slot(datanet: u64, version: u32) -> B256 {
    crate::system::slots::field(records::version_slot(datanet, version), 2)
}

/// How many pending or accepted contributions name `content`; zero means the
/// node may forget the bytes.
pub fn live_references<S: StateView>(state: &S, content: B256) -> Result<u64, CallError> {
    DatanetsReader::new(state).live_references(content)
}

/// The deposit for a contribution of `size` bytes under `params`.
pub fn deposit_for(params: &Params, size: u64) -> U256 {
    params.deposit_for(size)
}

#[cfg(test)]
mod tests;
