//! Validators: registration of consensus keys, the active set recomputed
//! at epoch boundaries, and jailing for double-signing, proven by evidence
//! ([`super::double_sign`]) or trusted from the caller (the rules are in
//! the module documentation of [`super`]).

use super::{
    BPS_WHOLE, IStaking, Result, Slashed, bonds,
    double_sign::{self, DoubleSign},
    emit,
    records::{self, Position},
};
use crate::{
    revert,
    state::StateView,
    system::{
        Frame, check_text,
        slots::{KeyPart, field, pack, slot, unpack},
    },
};
use alloy_primitives::{Address, B256, U256};

/// Longest moniker, in bytes.
pub const MAX_MONIKER_BYTES: usize = 64;
/// Most blocks per epoch governance may set.
pub const MAX_EPOCH_BLOCKS: u64 = 1_000_000;
/// Largest active set governance may set.
pub const MAX_VALIDATORS_LIMIT: u16 = 1_000;
/// Longest jail governance may set: 10 years.
pub const MAX_JAIL_SECONDS: u64 = 10 * 365 * 24 * 3600;
/// One OPEN in wei: a validator's voting power is its stake in these.
pub const POWER_UNIT: U256 = alloy_primitives::uint!(1_000_000_000_000_000_000_U256);
/// Oldest double-sign evidence governance may allow, in blocks.
pub const MAX_EVIDENCE_AGE_BLOCKS: u64 = 10_000_000;

/// Governable validator-set parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidatorParams {
    /// The set is recomputed after each block whose number is a multiple.
    pub epoch_blocks: u64,
    /// Least stake bonded to a validator for it to be in the set (wei).
    pub min_validator_stake: U256,
    /// Most validators in the set.
    pub max_validators: u16,
    /// Share of a double-signer's stake slashed, in basis points.
    pub double_sign_slash_bps: u16,
    /// Seconds a double-signer stays jailed.
    pub jail_seconds: u64,
    /// Oldest double-sign evidence accepted: its height at most this many
    /// blocks behind the block that carries it.
    pub evidence_max_age_blocks: u64,
}

impl Default for ValidatorParams {
    /// Epochs of 100 blocks; 10,000 OPEN to validate; at most 100
    /// validators; 5% slashed and 7 days of jail for double-signing,
    /// proven within 100,800 blocks (7 days of 6-second blocks).
    fn default() -> Self {
        Self {
            epoch_blocks: 100,
            min_validator_stake: U256::from(10_000u64) * POWER_UNIT,
            max_validators: 100,
            double_sign_slash_bps: 500,
            jail_seconds: 7 * 24 * 3600,
            evidence_max_age_blocks: 100_800,
        }
    }
}

impl ValidatorParams {
    /// Why these parameters cannot be set, if they cannot.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.epoch_blocks == 0 || self.epoch_blocks > MAX_EPOCH_BLOCKS {
            return Err(format!(
                "epochBlocks must be 1 to {MAX_EPOCH_BLOCKS}, not {}",
                self.epoch_blocks
            ));
        }
        if self.max_validators == 0 || self.max_validators > MAX_VALIDATORS_LIMIT {
            return Err(format!(
                "maxValidators must be 1 to {MAX_VALIDATORS_LIMIT}, not {}",
                self.max_validators
            ));
        }
        if self.double_sign_slash_bps > BPS_WHOLE {
            return Err(format!(
                "doubleSignSlashBps must be at most {BPS_WHOLE}, not {}",
                self.double_sign_slash_bps
            ));
        }
        if self.jail_seconds > MAX_JAIL_SECONDS {
            return Err(format!(
                "jailSeconds must be at most {MAX_JAIL_SECONDS}, not {}",
                self.jail_seconds
            ));
        }
        if self.evidence_max_age_blocks == 0
            || self.evidence_max_age_blocks > MAX_EVIDENCE_AGE_BLOCKS
        {
            return Err(format!(
                "evidenceMaxAgeBlocks must be 1 to {MAX_EVIDENCE_AGE_BLOCKS}, not {}",
                self.evidence_max_age_blocks
            ));
        }
        Ok(())
    }
}

/// A validator's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorInfo {
    /// Its ed25519 consensus public key.
    pub consensus_key: B256,
    /// Its display name.
    pub moniker: String,
    /// Block time (unix seconds) until which it cannot be in the set.
    pub jailed_until: u64,
    /// True while it is in the current epoch's set.
    pub active: bool,
}

/// One member of the active set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveValidator {
    /// The operator: the address its stake is bonded to.
    pub operator: Address,
    /// Its ed25519 consensus public key.
    pub consensus_key: B256,
    /// Its voting power: the stake bonded to it in whole OPEN, rounded down.
    pub power: u64,
}

/// The current epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Epoch {
    /// How many times the set was chosen (genesis validators: 1; 0 before any).
    pub number: u64,
    /// The first block the set applies to.
    pub start_block: u64,
}

/// What a double-signing report did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Equivocation {
    /// Everything slashed, over all positions at the validator.
    pub slashed: U256,
    /// Each position's slash, by staker.
    pub positions: Vec<(Address, Slashed)>,
    /// Block time until which the validator is jailed.
    pub jailed_until: u64,
}

fn params_slot() -> B256 {
    slot("validator.params", &[])
}
fn info_slot(operator: &Address) -> B256 {
    slot("validator.info", &[KeyPart::Address(operator)])
}
fn key_slot(key: &B256) -> B256 {
    slot("validator.key", &[KeyPart::Word(key)])
}
fn registered_slot() -> B256 {
    slot("registered", &[])
}
fn registered_at_slot(n: u64) -> B256 {
    slot("registered.at", &[KeyPart::U64(n)])
}
fn active_slot() -> B256 {
    slot("active", &[])
}
fn active_at_slot(n: u64) -> B256 {
    slot("active.at", &[KeyPart::U64(n)])
}
fn epoch_slot() -> B256 {
    slot("epoch", &[])
}
/// Non-zero when a validator was jailed in the current block: the set is
/// recomputed at its end, so a double-signer stops counting at once.
fn jailed_now_slot() -> B256 {
    slot("jailed.now", &[])
}
fn equivocation_slot(operator: &Address, height: u64) -> B256 {
    slot("equivocation", &[KeyPart::Address(operator), KeyPart::U64(height)])
}

pub(super) fn params<S: StateView>(frame: &mut Frame<'_, S>) -> Result<ValidatorParams> {
    let base = params_slot();
    if frame.load(base)?.is_zero() {
        return Ok(ValidatorParams::default());
    }
    let [epoch_blocks, max_validators, double_sign_slash_bps, jail_seconds] =
        unpack(frame.load(field(base, 1))?);
    // Zero: parameters written before the evidence age existed.
    let evidence_max_age_blocks = match frame.load_u64(field(base, 3))? {
        0 => ValidatorParams::default().evidence_max_age_blocks,
        blocks => blocks,
    };
    Ok(ValidatorParams {
        epoch_blocks,
        min_validator_stake: frame.load(field(base, 2))?,
        max_validators: max_validators as u16,
        double_sign_slash_bps: double_sign_slash_bps as u16,
        jail_seconds,
        evidence_max_age_blocks,
    })
}

pub(super) fn set_params<S: StateView>(
    frame: &mut Frame<'_, S>,
    new: ValidatorParams,
) -> Result<()> {
    if let Err(problem) = new.check() {
        revert!("{problem}");
    }
    let base = params_slot();
    frame.store(base, U256::from(1))?;
    frame.store(
        field(base, 1),
        pack([
            new.epoch_blocks,
            u64::from(new.max_validators),
            u64::from(new.double_sign_slash_bps),
            new.jail_seconds,
        ]),
    )?;
    frame.store(field(base, 2), new.min_validator_stake)?;
    frame.store(field(base, 3), U256::from(new.evidence_max_age_blocks))?;
    emit(
        frame,
        IStaking::ValidatorParamsChanged {
            epochBlocks: new.epoch_blocks,
            minValidatorStake: new.min_validator_stake,
            maxValidators: new.max_validators,
            doubleSignSlashBps: new.double_sign_slash_bps,
            jailSeconds: new.jail_seconds,
            evidenceMaxAgeBlocks: new.evidence_max_age_blocks,
        },
    )
}

/// The packed word of a record: jailed until, registered, active.
#[derive(Debug, Clone, Copy, Default)]
struct Status {
    jailed_until: u64,
    registered: bool,
    active: bool,
}

impl Status {
    fn load<S: StateView>(frame: &mut Frame<'_, S>, operator: &Address) -> Result<Self> {
        let [jailed_until, registered, active, _] =
            unpack(frame.load(field(info_slot(operator), 1))?);
        Ok(Self { jailed_until, registered: registered != 0, active: active != 0 })
    }

    fn store<S: StateView>(self, frame: &mut Frame<'_, S>, operator: &Address) -> Result<()> {
        frame.store(
            field(info_slot(operator), 1),
            pack([self.jailed_until, u64::from(self.registered), u64::from(self.active), 0]),
        )
    }
}

/// `operator`'s record, `None` when it never registered.
pub(super) fn info<S: StateView>(
    frame: &mut Frame<'_, S>,
    operator: &Address,
) -> Result<Option<ValidatorInfo>> {
    let status = Status::load(frame, operator)?;
    if !status.registered {
        return Ok(None);
    }
    let base = info_slot(operator);
    Ok(Some(ValidatorInfo {
        consensus_key: frame.load_word(base)?,
        moniker: frame.load_string(field(base, 2))?,
        jailed_until: status.jailed_until,
        active: status.active,
    }))
}

/// Registers `operator` with `key` and `moniker`, or changes them.
pub(super) fn register<S: StateView>(
    frame: &mut Frame<'_, S>,
    operator: Address,
    key: B256,
    moniker: &str,
) -> Result<()> {
    if key.is_zero() {
        revert!("the consensus key must not be zero");
    }
    if moniker.is_empty() {
        revert!("the moniker must not be empty");
    }
    check_text("the moniker", moniker, MAX_MONIKER_BYTES)?;
    // One line in a validator list: no newline or tab either.
    if moniker.chars().any(char::is_control) {
        revert!("the moniker contains control characters");
    }
    let owner = frame.load_address(key_slot(&key))?;
    if owner != Address::ZERO && owner != operator {
        revert!("consensus key {key} is already registered by validator {owner}");
    }
    let mut status = Status::load(frame, &operator)?;
    let base = info_slot(&operator);
    let first = !status.registered;
    if first {
        let min = params(frame)?.min_validator_stake;
        let stake = frame.load(records::validator_slot(&operator))?;
        if stake < min {
            revert!(
                "registering validator {operator} needs {min} wei bonded to it; it has {stake} wei"
            );
        }
        let count = frame.load_u64(registered_slot())?;
        frame.store_address(registered_at_slot(count), operator)?;
        frame.store(registered_slot(), U256::from(count + 1))?;
        status.registered = true;
        status.store(frame, &operator)?;
    } else {
        // On rotation the old key stays bound to this operator for good:
        // evidence of what it signed still reaches the operator who held
        // it, and no one else can take it up (and the blame with it).
        let old = frame.load_word(base)?;
        if old != key && status.active {
            revert!(
                "validator {operator} is in the active set; its consensus key can change only \
                 once it is out of the set"
            );
        }
    }
    frame.store_word(base, key)?;
    frame.store_address(key_slot(&key), operator)?;
    frame.store_bytes(field(base, 2), moniker.as_bytes())?;
    let moniker = moniker.to_string();
    if first {
        emit(frame, IStaking::ValidatorRegistered { operator, consensusKey: key, moniker })
    } else {
        emit(frame, IStaking::ValidatorUpdated { operator, consensusKey: key, moniker })
    }
}

/// Every operator that ever registered, in the order it first did.
fn registered<S: StateView>(frame: &mut Frame<'_, S>) -> Result<Vec<Address>> {
    let count = frame.load_u64(registered_slot())?;
    (0..count).map(|n| frame.load_address(registered_at_slot(n))).collect()
}

/// The active set as stored, in order.
pub(super) fn active_set<S: StateView>(frame: &mut Frame<'_, S>) -> Result<Vec<ActiveValidator>> {
    let count = frame.load_u64(active_slot())?;
    let mut set = Vec::with_capacity(count as usize);
    for n in 0..count {
        let base = active_at_slot(n);
        let operator = frame.load_address(base)?;
        set.push(ActiveValidator {
            operator,
            consensus_key: frame.load_word(info_slot(&operator))?,
            power: frame.load_u64(field(base, 1))?,
        });
    }
    Ok(set)
}

/// The current epoch.
pub(super) fn epoch<S: StateView>(frame: &mut Frame<'_, S>) -> Result<Epoch> {
    let [number, start_block, ..] = unpack(frame.load(epoch_slot())?);
    Ok(Epoch { number, start_block })
}

/// The set the rules choose now: registered, unjailed, with at least the
/// minimum stake and one whole OPEN of power; the largest stakes first
/// (ties: the lower address), at most `max_validators`.
fn candidates<S: StateView>(frame: &mut Frame<'_, S>) -> Result<Vec<ActiveValidator>> {
    let params = params(frame)?;
    let now = frame.env.block.timestamp;
    let mut chosen = Vec::new();
    for operator in registered(frame)? {
        if Status::load(frame, &operator)?.jailed_until > now {
            continue;
        }
        let stake = frame.load(records::validator_slot(&operator))?;
        let power: u64 = (stake / POWER_UNIT).saturating_to();
        if stake < params.min_validator_stake || power == 0 {
            continue;
        }
        chosen.push((stake, operator));
    }
    chosen.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    chosen.truncate(usize::from(params.max_validators));
    chosen
        .into_iter()
        .map(|(stake, operator)| {
            Ok(ActiveValidator {
                operator,
                consensus_key: frame.load_word(info_slot(&operator))?,
                power: (stake / POWER_UNIT).saturating_to(),
            })
        })
        .collect()
}

/// Recomputes the active set, to apply from `start_block`. With no
/// registered validator nothing is written; with none qualifying the
/// previous set stays (a chain with no validator could never make another
/// block), and only the epoch advances.
pub(super) fn recompute<S: StateView>(frame: &mut Frame<'_, S>, start_block: u64) -> Result<()> {
    if frame.load_u64(registered_slot())? == 0 {
        return Ok(());
    }
    let number = epoch(frame)?.number + 1;
    frame.store(epoch_slot(), pack([number, start_block, 0, 0]))?;
    let new = candidates(frame)?;
    if new.is_empty() {
        return Ok(());
    }
    let old = active_set(frame)?;
    for member in &old {
        let mut status = Status::load(frame, &member.operator)?;
        status.active = false;
        status.store(frame, &member.operator)?;
    }
    for (n, member) in new.iter().enumerate() {
        let base = active_at_slot(n as u64);
        frame.store_address(base, member.operator)?;
        frame.store(field(base, 1), U256::from(member.power))?;
        let mut status = Status::load(frame, &member.operator)?;
        status.active = true;
        status.store(frame, &member.operator)?;
    }
    for n in new.len()..old.len() {
        let base = active_at_slot(n as u64);
        frame.store(base, U256::ZERO)?;
        frame.store(field(base, 1), U256::ZERO)?;
    }
    frame.store(active_slot(), U256::from(new.len()))
}

/// Recomputes the set when `block` ends an epoch, or when a validator was
/// jailed during it (a double-signer leaves the set from the next block).
pub(super) fn end_block<S: StateView>(frame: &mut Frame<'_, S>, block: u64) -> Result<()> {
    let jailed = !frame.load(jailed_now_slot())?.is_zero();
    if jailed {
        frame.store(jailed_now_slot(), U256::ZERO)?;
    }
    if !jailed && !block.is_multiple_of(params(frame)?.epoch_blocks) {
        return Ok(());
    }
    recompute(frame, block + 1)
}

/// Slashes and jails `operator` for double-signing at consensus `height`.
pub(super) fn equivocation<S: StateView>(
    frame: &mut Frame<'_, S>,
    operator: Address,
    height: u64,
    evidence_hash: B256,
    reporter: Option<Address>,
) -> Result<Equivocation> {
    if !Status::load(frame, &operator)?.registered {
        revert!("{operator} is not a registered validator");
    }
    if evidence_hash.is_zero() {
        revert!("the evidence hash must not be zero");
    }
    let seen = equivocation_slot(&operator, height);
    let earlier = frame.load_word(seen)?;
    if !earlier.is_zero() {
        revert!(
            "double-signing by {operator} at height {height} was already punished (evidence \
             {earlier})"
        );
    }
    let now = frame.env.block.timestamp;
    let jailed_until = Status::load(frame, &operator)?.jailed_until;
    if jailed_until > now {
        // As a tombstone: one double sign, one punishment. Later heights
        // signed before the set drops it are not slashed again.
        revert!(
            "validator {operator} is already jailed until {jailed_until} for double-signing; \
             evidence at height {height} is not punished again"
        );
    }
    frame.store_word(seen, evidence_hash)?;
    frame.store(jailed_now_slot(), U256::from(1))?;
    let params = params(frame)?;
    let bps = U256::from(params.double_sign_slash_bps);
    let mut outcome = Equivocation::default();
    for staker in records::stakers_of(frame, &operator)? {
        let position = Position::load(frame, &staker, &operator)?;
        let amount = (position.bonded + position.unbonding) * bps / U256::from(BPS_WHOLE);
        if amount.is_zero() {
            continue;
        }
        let slashed = bonds::slash(frame, staker, operator, amount, reporter)?;
        outcome.slashed += amount;
        outcome.positions.push((staker, slashed));
    }
    let mut status = Status::load(frame, &operator)?;
    let until = frame.env.block.timestamp.saturating_add(params.jail_seconds);
    status.jailed_until = status.jailed_until.max(until);
    status.store(frame, &operator)?;
    outcome.jailed_until = status.jailed_until;
    emit(
        frame,
        IStaking::ValidatorJailed {
            operator,
            height,
            evidenceHash: evidence_hash,
            amount: outcome.slashed,
            jailedUntil: outcome.jailed_until,
        },
    )?;
    Ok(outcome)
}

/// Checks `evidence` of a double sign (see [`super::double_sign`]) and
/// punishes the operator of its key as [`equivocation`] does, `reporter`
/// taking the reporter share. Every check runs before anything is written.
pub(super) fn report_double_sign<S: StateView>(
    frame: &mut Frame<'_, S>,
    reporter: Address,
    evidence: &DoubleSign,
) -> Result<Equivocation> {
    if let Err(problem) = evidence.check_conflict() {
        revert!("{problem}");
    }
    let key = evidence.consensus_key;
    let operator = frame.load_address(key_slot(&key))?;
    if operator == Address::ZERO {
        revert!("consensus key {key} is not registered to any validator");
    }
    let height = evidence.height();
    let now = frame.env.block.number;
    if height > now {
        revert!("double-sign evidence at height {height} is from the future (this is block {now})");
    }
    let max_age = params(frame)?.evidence_max_age_blocks;
    if now - height > max_age {
        revert!(
            "double-sign evidence at height {height} is {} blocks old; at most {max_age} are \
             accepted",
            now - height
        );
    }
    frame.gas.charge(2 * double_sign::VERIFY_GAS)?;
    let chain_id = frame.env.spec.chain_id;
    if let Err(problem) = evidence.verify_signatures(chain_id) {
        revert!("{problem}");
    }
    // Two pieces of at most 156 bytes each: 10 words to hash.
    frame.gas.charge(10 * crate::system::gas::HASH_WORD)?;
    let evidence_hash = evidence.evidence_hash(chain_id);
    // A validator reporting itself gets no reporter share back: all of
    // its slash goes to the treasury.
    let reporter = (reporter != operator).then_some(reporter);
    equivocation(frame, operator, height, evidence_hash, reporter)
}
