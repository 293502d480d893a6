//! The `IDatanets` functions: decoding, checks, effects, events.

use super::{
    DatanetConfig, Format, IDatanets, Params, PenaltyReason, Policy, Status, merkle,
    records::{self, ContributionHead, DatanetCounts, MAX_SUBMISSION_LIMIT, VersionCounts},
    reputation,
};
use crate::{
    content::ParseOptions,
    revert,
    state::StateView,
    system::{
        CallError, Frame, check_text, move_balance, only_governance,
        slots::{field, pack},
    },
    vesting,
};
use IDatanets::IDatanetsCalls as Call;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use ol_primitives::addresses::{DATANETS, TREASURY};

type Result<T> = std::result::Result<T, CallError>;

/// Longest datanet name, in bytes.
pub(super) const MAX_NAME: usize = 64;
/// Longest summary, in bytes.
pub(super) const MAX_SUMMARY: usize = 280;
/// Longest description (markdown), in bytes.
pub(super) const MAX_DESCRIPTION: usize = 16 * 1024;
/// Most tags.
pub(super) const MAX_TAGS: usize = 16;
/// Longest tag, licence, field name or tokenizer name, in bytes.
pub(super) const MAX_SHORT: usize = 64;

pub(super) fn dispatch<S: StateView>(frame: &mut Frame<'_, S>, input: &[u8]) -> Result<Bytes> {
    let call: Call = crate::system::decode_call("IDatanets", input)?;
    let output = match call {
        Call::createDatanet(c) => {
            IDatanets::createDatanetCall::abi_encode_returns(&create(frame, c.config)?)
        }
        Call::transferOwnership(c) => {
            let id = c.datanetId;
            let previous = require_owner(frame, id)?;
            if c.newOwner == Address::ZERO {
                revert!("the new owner of datanet {id} cannot be the zero address");
            }
            frame.store_address(records::datanet_slot(id), c.newOwner)?;
            emit(
                frame,
                IDatanets::OwnershipTransferred {
                    datanetId: id,
                    previousOwner: previous,
                    newOwner: c.newOwner,
                },
            )?;
            Vec::new()
        }
        Call::setCurator(c) => {
            require_owner(frame, c.datanetId)?;
            frame.store(
                records::curator_slot(c.datanetId, &c.account),
                U256::from(c.enabled as u8),
            )?;
            emit(
                frame,
                IDatanets::CuratorSet {
                    datanetId: c.datanetId,
                    account: c.account,
                    enabled: c.enabled,
                },
            )?;
            Vec::new()
        }
        Call::setAllowed(c) => {
            require_owner(frame, c.datanetId)?;
            frame.store(
                records::allowed_slot(c.datanetId, &c.account),
                U256::from(c.allowed as u8),
            )?;
            emit(
                frame,
                IDatanets::AllowListSet {
                    datanetId: c.datanetId,
                    account: c.account,
                    allowed: c.allowed,
                },
            )?;
            Vec::new()
        }
        Call::contribute(c) => IDatanets::contributeCall::abi_encode_returns(&contribute(
            frame,
            c.datanetId,
            c.contentHash,
            c.size,
            c.format,
            &c.licence,
        )?),
        Call::approve(c) => {
            let head = require_pending_for_curator(frame, c.contributionId)?;
            accept(frame, c.contributionId, head)?;
            Vec::new()
        }
        Call::reject(c) => {
            reject(frame, c.contributionId, c.spam)?;
            Vec::new()
        }
        Call::withdraw(c) => {
            withdraw(frame, c.contributionId)?;
            Vec::new()
        }
        Call::publishVersion(c) => {
            IDatanets::publishVersionCall::abi_encode_returns(&publish(frame, c.datanetId)?)
        }
        Call::recordIndex(c) => {
            record_index(frame, c.datanetId, c.version, c.indexHash, &c.tokenizer)?;
            Vec::new()
        }
        Call::datanetCount(_) => records::counts(frame)?.0.abi_encode(),
        Call::contributionCount(_) => records::counts(frame)?.1.abi_encode(),
        Call::getDatanet(c) => match records::datanet(frame, c.datanetId)? {
            Some(datanet) => IDatanets::getDatanetCall::abi_encode_returns(&datanet),
            None => revert!("datanet {} does not exist", c.datanetId),
        },
        Call::getContribution(c) => match records::contribution(frame, c.contributionId)? {
            Some(contribution) => IDatanets::getContributionCall::abi_encode_returns(&contribution),
            None => revert!("contribution {} does not exist", c.contributionId),
        },
        Call::getVersion(c) => match records::version(frame, c.datanetId, c.version)? {
            Some(version) => IDatanets::getVersionCall::abi_encode_returns(&version),
            None => revert!("datanet {} has no version {}", c.datanetId, c.version),
        },
        Call::versionContributions(c) => {
            let members =
                records::version_members(frame, c.datanetId, c.version, c.offset, c.limit)?;
            IDatanets::versionContributionsCall::abi_encode_returns(&members)
        }
        Call::isCurator(c) => records::is_curator(frame, c.datanetId, c.account)?.abi_encode(),
        Call::isAllowed(c) => records::is_allowed(frame, c.datanetId, c.account)?.abi_encode(),
        Call::depositFor(c) => records::params(frame)?.deposit_for(c.size).abi_encode(),
        Call::reportNearDuplicate(c) => {
            let params = records::params(frame)?;
            reputation::report_near_duplicate(frame, &params, c.contributionId, c.originalId)?;
            Vec::new()
        }
        Call::reportPoisoning(c) => {
            let id = reputation::report_poisoning(
                frame,
                c.datanetId,
                c.account,
                c.evidenceHash,
                &c.reason,
            )?;
            IDatanets::reportPoisoningCall::abi_encode_returns(&id)
        }
        Call::resolvePoisoningReport(c) => {
            only_governance(frame, "IDatanets.resolvePoisoningReport")?;
            let params = records::params(frame)?;
            reputation::resolve_poisoning(frame, &params, c.reportId, c.confirmed)?;
            Vec::new()
        }
        Call::setParams(c) => {
            only_governance(frame, "IDatanets.setParams")?;
            set_params(frame, c.params)?;
            Vec::new()
        }
        Call::params(_) => {
            IDatanets::paramsCall::abi_encode_returns(&records::params(frame)?.into())
        }
        Call::penaltyOf(c) => {
            require_datanet(frame, c.datanetId)?;
            let penalty = reputation::penalty(frame, c.datanetId, c.account)?;
            IDatanets::penaltyOfCall::abi_encode_returns(&penalty)
        }
        Call::penalizedDatanets(c) => {
            let datanets = reputation::penalized_datanets(frame, c.account)?;
            IDatanets::penalizedDatanetsCall::abi_encode_returns(&datanets)
        }
        Call::provenNearDuplicateOf(c) => {
            reputation::proven_near_duplicate_of(frame, c.contributionId)?.abi_encode()
        }
        Call::poisoningReportCount(_) => reputation::report_count(frame)?.abi_encode(),
        Call::getPoisoningReport(c) => match reputation::poisoning_report(frame, c.reportId)? {
            Some(report) => IDatanets::getPoisoningReportCall::abi_encode_returns(&report),
            None => revert!("poisoning report {} does not exist", c.reportId),
        },
    };
    Ok(output.into())
}

/// Replaces the governable parameters, refusing values that cannot work.
/// The caller checked that governance asks.
pub(super) fn set_params<S: StateView>(
    frame: &mut Frame<'_, S>,
    new: impl Into<Params>,
) -> Result<()> {
    let new = new.into();
    if let Some(problem) = new.problem() {
        revert!("invalid datanets parameters: {problem}");
    }
    records::set_params(frame, &new)?;
    emit(frame, IDatanets::ParamsSet { params: new.into() })
}

pub(super) fn emit<S: StateView, E: SolEvent>(frame: &mut Frame<'_, S>, event: E) -> Result<()> {
    frame.emit(event.encode_log_data())
}

pub(super) fn require_datanet<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<Address> {
    let owner = records::owner(frame, id)?;
    if owner == Address::ZERO {
        revert!("datanet {id} does not exist");
    }
    Ok(owner)
}

fn require_owner<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<Address> {
    let owner = require_datanet(frame, id)?;
    if owner != frame.env.caller {
        revert!("only the owner of datanet {id} ({owner}) may do this");
    }
    Ok(owner)
}

fn require_curator<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<()> {
    let owner = require_datanet(frame, id)?;
    let caller = frame.env.caller;
    if caller != owner && !records::is_curator(frame, id, caller)? {
        revert!("only the owner or a curator of datanet {id} may do this");
    }
    Ok(())
}

fn require_pending_for_curator<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
) -> Result<ContributionHead> {
    let head = records::head(frame, id)?;
    if head.status == Status::None {
        revert!("contribution {id} does not exist");
    }
    require_curator(frame, head.datanet)?;
    if head.status != Status::Pending {
        revert!("contribution {id} is {}, not pending", status_name(head.status));
    }
    Ok(head)
}

pub(super) fn status_name(status: Status) -> &'static str {
    match status {
        Status::Pending => "pending",
        Status::Accepted => "accepted",
        Status::Rejected => "rejected",
        Status::Withdrawn => "withdrawn",
        _ => "unknown",
    }
}

/// An SPDX licence expression: identifiers, `WITH`/`AND`/`OR` and brackets.
fn check_licence(what: &str, licence: &str) -> Result<()> {
    check_text(what, licence, MAX_SHORT)?;
    let valid = licence
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | ' ' | '(' | ')' | ':'));
    if !valid {
        revert!("{what} {licence:?} is not an SPDX licence expression");
    }
    Ok(())
}

fn check_config(config: &DatanetConfig) -> Result<()> {
    if config.name.trim().is_empty() {
        revert!("a datanet needs a name");
    }
    check_text("name", &config.name, MAX_NAME)?;
    check_text("summary", &config.summary, MAX_SUMMARY)?;
    check_text("description", &config.description, MAX_DESCRIPTION)?;
    if config.tags.len() > MAX_TAGS {
        revert!("{} tags; at most {MAX_TAGS} allowed", config.tags.len());
    }
    for tag in &config.tags {
        if tag.trim().is_empty() {
            revert!("tags cannot be empty");
        }
        check_text("tag", tag, MAX_SHORT)?;
    }
    match (config.licence.is_empty(), config.customTermsHash == B256::ZERO) {
        (true, true) => revert!("a datanet needs a licence: an SPDX identifier or customTermsHash"),
        (false, false) => revert!("give either an SPDX licence or customTermsHash, not both"),
        (false, true) => check_licence("licence", &config.licence)?,
        (true, false) => {}
    }
    if config.maxSubmissionBytes > MAX_SUBMISSION_LIMIT {
        revert!(
            "maxSubmissionBytes {} is over the limit of {MAX_SUBMISSION_LIMIT}",
            config.maxSubmissionBytes
        );
    }
    if config.formats.is_empty() {
        revert!("a datanet must accept at least one format");
    }
    check_text("jsonlField", &config.jsonlField, MAX_SHORT)?;
    check_text("csvColumn", &config.csvColumn, MAX_SHORT)?;
    Ok(())
}

fn create<S: StateView>(frame: &mut Frame<'_, S>, mut config: DatanetConfig) -> Result<u64> {
    check_config(&config)?;
    config.formats.sort_by_key(|format| *format as u8);
    config.formats.dedup();
    let (datanets, contributions) = records::counts(frame)?;
    let id = datanets + 1;
    records::set_counts(frame, id, contributions)?;
    let owner = frame.env.caller;
    let base = records::datanet_slot(id);
    frame.store_address(base, owner)?;
    let counts = DatanetCounts { created_at: frame.env.block.number, ..Default::default() };
    records::set_datanet_counts(frame, id, counts)?;
    frame.store_bytes(field(base, 2), &config.abi_encode())?;
    emit(frame, IDatanets::DatanetCreated { datanetId: id, owner, name: config.name })?;
    Ok(id)
}

/// How a datanet parses contributions of `format`.
pub fn parse_options(config: &DatanetConfig, format: Format) -> ParseOptions {
    let or_text = |value: &str| if value.is_empty() { "text".to_owned() } else { value.to_owned() };
    ParseOptions {
        format: format as u8,
        jsonl_field: or_text(&config.jsonlField),
        csv_column: or_text(&config.csvColumn),
    }
}

fn contribute<S: StateView>(
    frame: &mut Frame<'_, S>,
    datanet: u64,
    content_hash: B256,
    size: u64,
    format: Format,
    licence: &str,
) -> Result<u64> {
    let owner = require_datanet(frame, datanet)?;
    let config = records::config(frame, datanet)?;
    let caller = frame.env.caller;
    if config.policy == Policy::AllowList
        && caller != owner
        && !records::is_allowed(frame, datanet, caller)?
    {
        revert!(
            "datanet {datanet} accepts contributions only from its allow-list; {caller} is not on it"
        );
    }
    if !config.formats.contains(&format) {
        revert!("datanet {datanet} does not accept {} contributions", format_name(format));
    }
    if !licence.is_empty() {
        check_licence("licence", licence)?;
    }
    let params = records::params(frame)?;
    let max = if config.maxSubmissionBytes == 0 {
        params.default_max_submission
    } else {
        config.maxSubmissionBytes
    };
    if size > max {
        revert!("contribution of {size} bytes is over datanet {datanet}'s limit of {max} bytes");
    }
    let facts = match frame.env.content.facts(content_hash, &parse_options(&config, format)) {
        Ok(facts) => facts,
        Err(problem) => revert!("{problem}"),
    };
    if facts.size != size {
        revert!("declared size {size} but content {content_hash} is {} bytes", facts.size);
    }
    let duplicate = frame.load_u64(records::normalised_slot(datanet, &facts.normalised_hash))?;
    if duplicate != 0 && records::head(frame, duplicate)?.status == Status::Accepted {
        revert!("content duplicates accepted contribution {duplicate} of datanet {datanet}");
    }
    let near_duplicate_of = near_duplicate(frame, datanet, &facts.minhash)?;

    let deposit = params.deposit_for(size);
    let spendable =
        vesting::balance_at(&frame.state, &caller, frame.env.block.timestamp)?.spendable;
    if spendable < deposit {
        revert!(
            "the deposit for {size} bytes is {deposit} wei; {caller} can spend {spendable} wei"
        );
    }
    move_balance(frame, caller, DATANETS, deposit)?;

    let (datanets, contributions) = records::counts(frame)?;
    let id = contributions + 1;
    records::set_counts(frame, datanets, id)?;
    let mut counts = records::datanet_counts(frame, datanet)?;
    counts.contributions += 1;
    records::set_datanet_counts(frame, datanet, counts)?;
    frame.store(records::nth_contribution_slot(datanet, counts.contributions), U256::from(id))?;
    let head = ContributionHead {
        datanet,
        size,
        format: format as u8,
        status: Status::Pending,
        submitted_at: frame.env.block.number,
        near_duplicate_of,
        accepted_seq: 0,
        withdrawn_after: 0,
    };
    let licence = if licence.is_empty() { config.licence.as_str() } else { licence };
    records::write_new_contribution(
        frame,
        id,
        &head,
        caller,
        content_hash,
        facts.normalised_hash,
        deposit,
        licence,
    )?;
    records::store_minhash(frame, id, &facts.minhash)?;
    records::add_reference(frame, content_hash, 1)?;
    emit(
        frame,
        IDatanets::ContributionSubmitted {
            datanetId: datanet,
            contributionId: id,
            contributor: caller,
            contentHash: content_hash,
            size,
            deposit,
            nearDuplicateOf: near_duplicate_of,
        },
    )?;
    if config.policy != Policy::OwnerApproval {
        accept(frame, id, head)?;
    }
    Ok(id)
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Text => "txt",
        Format::Markdown => "md",
        Format::Jsonl => "jsonl",
        Format::Csv => "csv",
        _ => "unknown-format",
    }
}

/// The earliest accepted contribution sharing an LSH band with `minhash`
/// whose signature agrees in enough slots, or 0.
fn near_duplicate<S: StateView>(
    frame: &mut Frame<'_, S>,
    datanet: u64,
    minhash: &[u32; crate::content::MINHASH_SLOTS],
) -> Result<u64> {
    let mut candidates: Vec<u64> = Vec::new();
    for (band, key) in records::band_keys(minhash).iter().enumerate() {
        let candidate = frame.load_u64(records::band_slot(datanet, band, key))?;
        if candidate != 0 && !candidates.contains(&candidate) {
            candidates.push(candidate);
        }
    }
    candidates.sort_unstable();
    for candidate in candidates {
        if records::head(frame, candidate)?.status != Status::Accepted {
            continue;
        }
        let other = records::load_minhash(frame, candidate)?;
        if records::agreeing_slots(&other, minhash) >= records::NEAR_DUPLICATE_MIN_AGREEING {
            return Ok(candidate);
        }
    }
    Ok(0)
}

fn accept<S: StateView>(
    frame: &mut Frame<'_, S>,
    id: u64,
    mut head: ContributionHead,
) -> Result<()> {
    let datanet = head.datanet;
    let normalised = records::normalised_hash(frame, id)?;
    let slot = records::normalised_slot(datanet, &normalised);
    let duplicate = frame.load_u64(slot)?;
    if duplicate != 0
        && duplicate != id
        && records::head(frame, duplicate)?.status == Status::Accepted
    {
        revert!(
            "contribution {id} duplicates accepted contribution {duplicate} of datanet {datanet}"
        );
    }
    frame.store(slot, U256::from(id))?;
    let minhash = records::load_minhash(frame, id)?;
    for (band, key) in records::band_keys(&minhash).iter().enumerate() {
        let bucket = records::band_slot(datanet, band, key);
        let holder = frame.load_u64(bucket)?;
        if holder == 0 || records::head(frame, holder)?.status != Status::Accepted {
            frame.store(bucket, U256::from(id))?;
        }
    }
    let mut counts = records::datanet_counts(frame, datanet)?;
    counts.accepted += 1;
    records::set_datanet_counts(frame, datanet, counts)?;
    frame.store(records::accepted_slot(datanet, counts.accepted), U256::from(id))?;
    head.status = Status::Accepted;
    head.accepted_seq = counts.accepted;
    records::set_head(frame, id, &head)?;
    refund(frame, id)?;
    emit(
        frame,
        IDatanets::ContributionAccepted {
            datanetId: datanet,
            contributionId: id,
            acceptedSeq: counts.accepted,
        },
    )
}

/// Returns a contribution's deposit to its contributor.
fn refund<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<()> {
    let deposit = records::deposit(frame, id)?;
    let contributor = records::contributor(frame, id)?;
    move_balance(frame, DATANETS, contributor, deposit)?;
    records::set_deposit(frame, id, U256::ZERO)
}

fn reject<S: StateView>(frame: &mut Frame<'_, S>, id: u64, spam: bool) -> Result<()> {
    let mut head = require_pending_for_curator(frame, id)?;
    head.status = Status::Rejected;
    records::set_head(frame, id, &head)?;
    if spam {
        let deposit = records::deposit(frame, id)?;
        move_balance(frame, DATANETS, TREASURY, deposit)?;
        records::set_deposit(frame, id, U256::ZERO)?;
        let contributor = records::contributor(frame, id)?;
        let penalty = records::params(frame)?.spam_penalty;
        reputation::raise(frame, head.datanet, contributor, PenaltyReason::Spam, penalty)?;
    } else {
        refund(frame, id)?;
    }
    let content = records::content_hash(frame, id)?;
    records::add_reference(frame, content, -1)?;
    emit(
        frame,
        IDatanets::ContributionRejected { datanetId: head.datanet, contributionId: id, spam },
    )
}

fn withdraw<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<()> {
    let mut head = records::head(frame, id)?;
    if head.status == Status::None {
        revert!("contribution {id} does not exist");
    }
    let contributor = records::contributor(frame, id)?;
    if contributor != frame.env.caller {
        revert!("only the contributor of contribution {id} ({contributor}) may withdraw it");
    }
    match head.status {
        Status::Pending => refund(frame, id)?,
        Status::Accepted => {
            let normalised = records::normalised_hash(frame, id)?;
            let slot = records::normalised_slot(head.datanet, &normalised);
            if frame.load_u64(slot)? == id {
                frame.store(slot, U256::ZERO)?;
            }
        }
        other => revert!(
            "contribution {id} is {}; only pending or accepted ones can be withdrawn",
            status_name(other)
        ),
    }
    head.status = Status::Withdrawn;
    head.withdrawn_after = u64::from(records::datanet_counts(frame, head.datanet)?.versions);
    records::set_head(frame, id, &head)?;
    let content = records::content_hash(frame, id)?;
    records::add_reference(frame, content, -1)?;
    emit(
        frame,
        IDatanets::ContributionWithdrawn {
            datanetId: head.datanet,
            contributionId: id,
            contentHash: content,
        },
    )
}

fn publish<S: StateView>(frame: &mut Frame<'_, S>, datanet: u64) -> Result<u32> {
    require_curator(frame, datanet)?;
    let mut counts = records::datanet_counts(frame, datanet)?;
    let mut leaves = Vec::new();
    for seq in 1..=counts.accepted {
        let id = frame.load_u64(records::accepted_slot(datanet, seq))?;
        if records::head(frame, id)?.status != Status::Accepted {
            continue;
        }
        let content = records::content_hash(frame, id)?;
        let contributor = records::contributor(frame, id)?;
        frame.gas.charge(crate::system::gas::HASH_WORD * 4)?;
        leaves.push(merkle::leaf(datanet, id, content, contributor));
    }
    if leaves.is_empty() {
        revert!("datanet {datanet} has no accepted contributions to publish");
    }
    frame.gas.charge(crate::system::gas::HASH_WORD * 2 * leaves.len() as u64)?;
    let root = merkle::root(&leaves);
    counts.versions = counts
        .versions
        .checked_add(1)
        .ok_or_else(|| CallError::Revert(format!("datanet {datanet} has too many versions")))?;
    records::set_datanet_counts(frame, datanet, counts)?;
    let number = counts.versions;
    let base = records::version_slot(datanet, number);
    frame.store_word(base, root)?;
    let version = VersionCounts {
        contributions: leaves.len() as u64,
        published_at: frame.env.block.number,
        cursor: counts.accepted,
    };
    frame.store(
        field(base, 1),
        pack([version.contributions, version.published_at, version.cursor, 0]),
    )?;
    emit(
        frame,
        IDatanets::VersionPublished {
            datanetId: datanet,
            version: number,
            root,
            contributionCount: version.contributions,
        },
    )?;
    Ok(number)
}

fn record_index<S: StateView>(
    frame: &mut Frame<'_, S>,
    datanet: u64,
    number: u32,
    index_hash: B256,
    tokenizer: &str,
) -> Result<()> {
    require_curator(frame, datanet)?;
    if records::version(frame, datanet, number)?.is_none() {
        revert!("datanet {datanet} has no version {number}");
    }
    if index_hash == B256::ZERO {
        revert!("the index hash cannot be zero");
    }
    let valid_name = !tokenizer.is_empty()
        && tokenizer.len() <= MAX_SHORT
        && tokenizer.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid_name {
        revert!(
            "tokenizer name {tokenizer:?} must be 1–{MAX_SHORT} letters, digits, '-', '_' or '.'"
        );
    }
    let base = records::version_slot(datanet, number);
    let recorded = frame.load_word(field(base, 2))?;
    if recorded != B256::ZERO {
        revert!("version {number} of datanet {datanet} already has index {recorded}");
    }
    frame.store_word(field(base, 2), index_hash)?;
    frame.store_bytes(field(base, 3), tokenizer.as_bytes())?;
    emit(
        frame,
        IDatanets::IndexRecorded {
            datanetId: datanet,
            version: number,
            indexHash: index_hash,
            tokenizer: tokenizer.to_owned(),
        },
    )
}
