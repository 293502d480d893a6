//! The genesis file: chain id, block parameters and the allocation of the
//! fixed OPEN supply.
//!
//! Every OPEN that will ever exist is created here: the allocations must add
//! up to exactly 1,000,000,000 OPEN. An allocation may carry a vesting
//! schedule (cliff + linear, in seconds of block time from the genesis
//! timestamp); its OPEN is owned from the start but only spendable as it
//! vests. An optional `governance` object sets the governance contract's
//! parameters from the first block (every field optional, defaulting to
//! [`governance::Params::default`]; short windows make a test chain's
//! proposals pass in seconds). The file is JSON:
//!
//! ```json
//! {
//!   "chainId": 1337,
//!   "timestamp": 0,
//!   "gasLimit": 1000000000,
//!   "baseFeePerGas": 1000000000,
//!   "allocations": [
//!     { "name": "team", "address": "0x…", "amount": "150000000",
//!       "vesting": { "cliffSeconds": 31557600, "linearSeconds": 94672800 } }
//!   ],
//!   "governance": { "votingDelay": 1, "votingPeriod": 60,
//!                   "proposalThreshold": "1", "quorumNumerator": 5,
//!                   "timelockDelay": 10 },
//!   "validatorParams": { "epochBlocks": 10, "minValidatorStake": "1000",
//!                        "maxValidators": 100, "doubleSignSlashBps": 500,
//!                        "jailSeconds": 600, "evidenceMaxAgeBlocks": 100800 },
//!   "validators": [
//!     { "operator": "0x…", "consensusKey": "0x…32 bytes…",
//!       "moniker": "validator-0", "stake": "100000" }
//!   ]
//! }
//! ```
//!
//! Amounts (and the proposal threshold) are decimal OPEN ("1.5"), never
//! floating point; durations are seconds of block time.
//!
//! Validators: each one's `stake` is bonded at genesis from its operator's
//! own allocation (which must hold that much, spendable at the genesis
//! timestamp, so the supply stays exact: the OPEN moves to the staking
//! contract), its ed25519 `consensusKey` is registered, and these validators
//! are the active set from block 1 (epoch 1). `validatorParams` (every field
//! optional, defaulting to [`ValidatorParams::default`]) sets the staking
//! contract's validator-set parameters from the first block.

use crate::{
    fees::ChainSpec,
    governance,
    staking::{self, ValidatorParams, validators::MAX_MONIKER_BYTES},
    state::{Account, MemoryState, StateChanges},
    system::{CallEnv, Frame, GasMeter},
    vesting::{self, VestingSchedule},
};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use ol_primitives::{Amount, BlockEnv, addresses};
use serde::Deserialize;
use std::collections::HashMap;

/// Default block gas limit: room for ~47,000 plain transfers per block.
pub const DEFAULT_GAS_LIMIT: u64 = 1_000_000_000;
/// Default base fee of the first block: 1 gwei.
pub const DEFAULT_BASE_FEE: u64 = 1_000_000_000;

/// A validated genesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Block time of the genesis block, in seconds; vesting starts here.
    pub timestamp: u64,
    /// Gas limit of every block.
    pub gas_limit: u64,
    /// Base fee of block 1.
    pub base_fee_per_gas: u64,
    /// Where the supply goes.
    pub allocations: Vec<Allocation>,
    /// Governance parameters from the first block; `None` keeps the defaults.
    pub governance: Option<governance::Params>,
    /// Validator-set parameters from the first block; `None` keeps the defaults.
    pub validator_params: Option<ValidatorParams>,
    /// The validators of the first epoch, bonded from their allocations.
    pub validators: Vec<GenesisValidator>,
}

/// A validator of the first epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesisValidator {
    /// The operator: an allocated account, the address its stake is bonded to.
    pub operator: Address,
    /// Its ed25519 consensus public key.
    pub consensus_key: B256,
    /// Its display name (1 to 64 bytes, no control characters).
    pub moniker: String,
    /// OPEN bonded from the operator's allocation to itself.
    pub stake: Amount,
}

/// One allocation of the supply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// A label ("team", "dev account 0").
    pub name: String,
    /// The owner.
    pub address: Address,
    /// How much OPEN.
    pub amount: Amount,
    /// Locked under this schedule, if any.
    pub vesting: Option<VestingTerms>,
}

/// Vesting terms of an allocation, relative to the genesis timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VestingTerms {
    /// Seconds before anything vests.
    pub cliff_seconds: u32,
    /// Seconds of linear vesting after the cliff.
    pub linear_seconds: u32,
}

/// Why a genesis file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// Not JSON of the expected shape.
    #[error("genesis is not valid: {0}")]
    Json(String),
    /// One allocation is wrong.
    #[error("allocation #{index} ({name:?}): {problem}")]
    Allocation {
        /// Position in the `allocations` list, from 0.
        index: usize,
        /// Its name.
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// The allocations do not add up to the supply.
    #[error(
        "allocations add up to {total} OPEN, but the supply is exactly 1000000000 OPEN ({difference})"
    )]
    Supply {
        /// The sum, in OPEN.
        total: String,
        /// "short by X" or "over by X".
        difference: String,
    },
    /// A block parameter is out of range.
    #[error("{0}")]
    Parameter(String),
    /// One genesis validator is wrong.
    #[error("validator #{index}: {problem}")]
    Validator {
        /// Position in the `validators` list, from 0.
        index: usize,
        /// What is wrong.
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawGenesis {
    chain_id: u64,
    #[serde(default)]
    timestamp: u64,
    #[serde(default)]
    gas_limit: Option<u64>,
    #[serde(default)]
    base_fee_per_gas: Option<u64>,
    allocations: Vec<RawAllocation>,
    #[serde(default)]
    governance: Option<RawGovernance>,
    #[serde(default)]
    validator_params: Option<RawValidatorParams>,
    #[serde(default)]
    validators: Vec<RawValidator>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawValidatorParams {
    #[serde(default)]
    epoch_blocks: Option<u64>,
    #[serde(default)]
    min_validator_stake: Option<String>,
    #[serde(default)]
    max_validators: Option<u16>,
    #[serde(default)]
    double_sign_slash_bps: Option<u16>,
    #[serde(default)]
    jail_seconds: Option<u64>,
    #[serde(default)]
    evidence_max_age_blocks: Option<u64>,
}

impl RawValidatorParams {
    fn parse(self) -> Result<ValidatorParams, GenesisError> {
        let defaults = ValidatorParams::default();
        let min_validator_stake = match self.min_validator_stake {
            Some(text) => Amount::parse_open(&text)
                .map_err(|e| {
                    GenesisError::Parameter(format!("validatorParams.minValidatorStake: {e}"))
                })?
                .wei(),
            None => defaults.min_validator_stake,
        };
        Ok(ValidatorParams {
            epoch_blocks: self.epoch_blocks.unwrap_or(defaults.epoch_blocks),
            min_validator_stake,
            max_validators: self.max_validators.unwrap_or(defaults.max_validators),
            double_sign_slash_bps: self
                .double_sign_slash_bps
                .unwrap_or(defaults.double_sign_slash_bps),
            jail_seconds: self.jail_seconds.unwrap_or(defaults.jail_seconds),
            evidence_max_age_blocks: self
                .evidence_max_age_blocks
                .unwrap_or(defaults.evidence_max_age_blocks),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawValidator {
    operator: String,
    consensus_key: String,
    moniker: String,
    stake: String,
}

impl RawValidator {
    fn parse(self, index: usize) -> Result<GenesisValidator, GenesisError> {
        let problem = |problem: String| GenesisError::Validator { index, problem };
        let operator = parse_address(&self.operator).map_err(problem)?;
        let consensus_key = parse_key(&self.consensus_key).map_err(problem)?;
        let stake = Amount::parse_open(&self.stake).map_err(|e| problem(format!("stake: {e}")))?;
        Ok(GenesisValidator { operator, consensus_key, moniker: self.moniker, stake })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawGovernance {
    #[serde(default)]
    voting_delay: Option<u64>,
    #[serde(default)]
    voting_period: Option<u64>,
    #[serde(default)]
    proposal_threshold: Option<String>,
    #[serde(default)]
    quorum_numerator: Option<u8>,
    #[serde(default)]
    timelock_delay: Option<u64>,
}

impl RawGovernance {
    fn parse(self) -> Result<governance::Params, GenesisError> {
        let defaults = governance::Params::default();
        let proposal_threshold = match self.proposal_threshold {
            Some(text) => Amount::parse_open(&text)
                .map_err(|e| GenesisError::Parameter(format!("governance.proposalThreshold: {e}")))?
                .wei(),
            None => defaults.proposal_threshold,
        };
        Ok(governance::Params {
            voting_delay: self.voting_delay.unwrap_or(defaults.voting_delay),
            voting_period: self.voting_period.unwrap_or(defaults.voting_period),
            proposal_threshold,
            quorum_numerator: self.quorum_numerator.unwrap_or(defaults.quorum_numerator),
            timelock_delay: self.timelock_delay.unwrap_or(defaults.timelock_delay),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllocation {
    #[serde(default)]
    name: Option<String>,
    address: String,
    amount: String,
    #[serde(default)]
    vesting: Option<VestingTerms>,
}

impl Genesis {
    /// Parses and validates a genesis file's JSON.
    pub fn from_json(text: &str) -> Result<Self, GenesisError> {
        let raw: RawGenesis =
            serde_json::from_str(text).map_err(|e| GenesisError::Json(e.to_string()))?;
        let mut allocations = Vec::with_capacity(raw.allocations.len());
        for (index, entry) in raw.allocations.into_iter().enumerate() {
            let name = entry.name.unwrap_or_else(|| format!("allocation {index}"));
            let problem =
                |problem: String| GenesisError::Allocation { index, name: name.clone(), problem };
            let address = parse_address(&entry.address).map_err(problem)?;
            let amount =
                Amount::parse_open(&entry.amount).map_err(|e| problem(format!("amount: {e}")))?;
            allocations.push(Allocation {
                name: name.clone(),
                address,
                amount,
                vesting: entry.vesting,
            });
        }
        let genesis = Self {
            chain_id: raw.chain_id,
            timestamp: raw.timestamp,
            gas_limit: raw.gas_limit.unwrap_or(DEFAULT_GAS_LIMIT),
            base_fee_per_gas: raw.base_fee_per_gas.unwrap_or(DEFAULT_BASE_FEE),
            allocations,
            governance: raw.governance.map(RawGovernance::parse).transpose()?,
            validator_params: raw.validator_params.map(RawValidatorParams::parse).transpose()?,
            validators: raw
                .validators
                .into_iter()
                .enumerate()
                .map(|(index, raw)| raw.parse(index))
                .collect::<Result<_, _>>()?,
        };
        genesis.validate()?;
        Ok(genesis)
    }

    /// Checks the rules a genesis built in code must follow too.
    pub fn validate(&self) -> Result<(), GenesisError> {
        if self.chain_id == 0 {
            return Err(GenesisError::Parameter("chainId must not be 0".into()));
        }
        if self.gas_limit < 21_000 {
            return Err(GenesisError::Parameter(format!(
                "gasLimit {} is below the 21000 gas of a single transfer",
                self.gas_limit
            )));
        }
        if let Some(params) = &self.governance {
            params
                .check()
                .map_err(|problem| GenesisError::Parameter(format!("governance: {problem}")))?;
        }
        let mut seen: HashMap<Address, usize> = HashMap::new();
        let mut total = Amount::ZERO;
        for (index, allocation) in self.allocations.iter().enumerate() {
            let problem = |problem: String| GenesisError::Allocation {
                index,
                name: allocation.name.clone(),
                problem,
            };
            if let Some(first) = seen.insert(allocation.address, index) {
                return Err(problem(format!(
                    "address {} is already allocated by allocation #{first}",
                    allocation.address
                )));
            }
            if addresses::is_system(&allocation.address)
                && allocation.address != addresses::TREASURY
            {
                return Err(problem(format!(
                    "address {} is a system account and cannot hold OPEN",
                    allocation.address
                )));
            }
            if allocation.amount == Amount::ZERO {
                return Err(problem("amount is zero".into()));
            }
            if allocation.vesting.is_some() && allocation.amount.wei() > vesting::max_total() {
                return Err(problem("amount is too large to vest".into()));
            }
            total = total
                .checked_add(allocation.amount)
                .ok_or_else(|| problem("amount overflows the total".into()))?;
        }
        let supply = Amount::total_supply();
        if total != supply {
            let difference = if total < supply {
                format!("short by {} OPEN", Amount(supply.wei() - total.wei()).to_open_string())
            } else {
                format!("over by {} OPEN", Amount(total.wei() - supply.wei()).to_open_string())
            };
            return Err(GenesisError::Supply { total: total.to_open_string(), difference });
        }
        self.validate_validators()
    }

    /// The rules under which every genesis validator can be bonded,
    /// registered and put in the first set.
    fn validate_validators(&self) -> Result<(), GenesisError> {
        let params = self.validator_params.unwrap_or_default();
        params
            .check()
            .map_err(|problem| GenesisError::Parameter(format!("validatorParams: {problem}")))?;
        if self.validators.len() > usize::from(params.max_validators) {
            return Err(GenesisError::Parameter(format!(
                "{} genesis validators, but maxValidators is {}",
                self.validators.len(),
                params.max_validators
            )));
        }
        let least = params.min_validator_stake.max(staking::validators::POWER_UNIT);
        let mut operators: HashMap<Address, usize> = HashMap::new();
        let mut keys: HashMap<B256, usize> = HashMap::new();
        for (index, validator) in self.validators.iter().enumerate() {
            let problem = |problem: String| GenesisError::Validator { index, problem };
            if let Some(first) = operators.insert(validator.operator, index) {
                return Err(problem(format!(
                    "operator {} is already validator #{first}",
                    validator.operator
                )));
            }
            if validator.consensus_key.is_zero() {
                return Err(problem("consensusKey must not be zero".into()));
            }
            if let Some(first) = keys.insert(validator.consensus_key, index) {
                return Err(problem(format!(
                    "consensusKey {} is already validator #{first}'s",
                    validator.consensus_key
                )));
            }
            let moniker = &validator.moniker;
            if moniker.is_empty()
                || moniker.len() > MAX_MONIKER_BYTES
                || moniker.chars().any(char::is_control)
            {
                return Err(problem(format!(
                    "moniker {moniker:?} must be 1 to {MAX_MONIKER_BYTES} bytes without control \
                     characters"
                )));
            }
            if addresses::is_system(&validator.operator) {
                return Err(problem(format!(
                    "operator {} is a system account",
                    validator.operator
                )));
            }
            if validator.stake.wei() < least {
                return Err(problem(format!(
                    "stake {} OPEN is below the {} OPEN a validator needs",
                    validator.stake.to_open_string(),
                    Amount(least).to_open_string()
                )));
            }
            let Some(allocation) =
                self.allocations.iter().find(|a| a.address == validator.operator)
            else {
                return Err(problem(format!(
                    "operator {} has no allocation to bond its stake from",
                    validator.operator
                )));
            };
            let spendable = match allocation.vesting {
                Some(terms) => VestingSchedule {
                    total: allocation.amount.wei(),
                    start: self.timestamp,
                    cliff: terms.cliff_seconds,
                    linear: terms.linear_seconds,
                }
                .vested_at(self.timestamp),
                None => allocation.amount.wei(),
            };
            if validator.stake.wei() > spendable {
                return Err(problem(format!(
                    "stake {} OPEN is more than the {} OPEN its operator's allocation ({:?}) can \
                     spend at genesis",
                    validator.stake.to_open_string(),
                    Amount(spendable).to_open_string(),
                    allocation.name
                )));
            }
        }
        Ok(())
    }

    /// The chain parameters this genesis sets.
    pub fn chain_spec(&self) -> ChainSpec {
        ChainSpec {
            chain_id: self.chain_id,
            block_gas_limit: self.gas_limit,
            initial_base_fee: self.base_fee_per_gas,
        }
    }

    /// The genesis state: every allocation's account, the vesting
    /// schedules in the vesting account's storage, any governance
    /// parameters in the governance contract's, and the validator
    /// parameters, bonds, registrations and first set in the staking
    /// contract's. Panics on validators that [`Genesis::validate`] refuses
    /// (`from_json` validates; a genesis built in code must too).
    pub fn state(&self) -> StateChanges {
        let mut changes = StateChanges::default();
        for allocation in &self.allocations {
            changes
                .accounts
                .insert(allocation.address, Account::with_balance(allocation.amount.wei()));
            if let Some(terms) = allocation.vesting {
                let schedule = VestingSchedule {
                    total: allocation.amount.wei(),
                    start: self.timestamp,
                    cliff: terms.cliff_seconds,
                    linear: terms.linear_seconds,
                };
                changes
                    .storage
                    .entry(addresses::VESTING)
                    .or_default()
                    .insert(vesting::schedule_slot(&allocation.address), schedule.encode());
            }
        }
        if let Some(params) = &self.governance {
            changes.storage.entry(addresses::GOVERNANCE).or_default().extend(params.storage());
        }
        let code = Bytes::from_static(&addresses::SYSTEM_CONTRACT_CODE);
        let code_hash = keccak256(&code);
        changes.code.insert(code_hash, code);
        for address in addresses::CALLABLE {
            let account = changes.accounts.entry(address).or_default();
            account.code_hash = code_hash;
        }
        if self.validator_params.is_some() || !self.validators.is_empty() {
            let staked = self.staking_state(&changes).unwrap_or_else(|error| {
                panic!("genesis validators that validate() accepts are bonded: {error}")
            });
            changes.extend(staked);
        }
        changes
    }

    /// The staking contract's records at genesis: parameters, then each
    /// validator bonded, registered, and the first set chosen, by the
    /// staking rules themselves (so the records are exactly what
    /// transactions would have written).
    fn staking_state(&self, base: &StateChanges) -> Result<StateChanges, crate::system::CallError> {
        let mut state = MemoryState::default();
        state.apply(base.clone());
        let spec = self.chain_spec();
        let block = BlockEnv {
            number: 0,
            timestamp: self.timestamp,
            beneficiary: Address::ZERO,
            base_fee: self.base_fee_per_gas,
            gas_limit: self.gas_limit,
        };
        let env = CallEnv {
            spec: &spec,
            block: &block,
            caller: Address::ZERO,
            content: &crate::content::NoContent,
        };
        let mut frame = Frame::new(&state, addresses::STAKING, env, u64::MAX);
        frame.gas = GasMeter::unlimited();
        if let Some(params) = self.validator_params {
            staking::set_validator_params(&mut frame, params)?;
        }
        for validator in &self.validators {
            let operator = validator.operator;
            staking::bond(&mut frame, operator, operator, validator.stake.wei())?;
            staking::register_validator(
                &mut frame,
                operator,
                validator.consensus_key,
                &validator.moniker,
            )?;
        }
        staking::recompute_validator_set(&mut frame, 1)?;
        Ok(frame.state.into_changes())
    }

    /// The sum of all balances in [`Genesis::state`]: always the supply.
    pub fn total_allocated(&self) -> U256 {
        self.allocations.iter().map(|a| a.amount.wei()).fold(U256::ZERO, |a, b| a + b)
    }
}

fn parse_key(text: &str) -> Result<B256, String> {
    let hex = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"));
    match hex {
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            text.parse::<B256>().map_err(|e| format!("consensusKey {text:?}: {e}"))
        }
        _ => Err(format!(
            "consensusKey {text:?} is not a 0x-prefixed 32-byte hex ed25519 public key"
        )),
    }
}

fn parse_address(text: &str) -> Result<Address, String> {
    let hex = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"));
    match hex {
        Some(h) if h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            text.parse::<Address>().map_err(|e| format!("address {text:?}: {e}"))
        }
        _ => Err(format!("address {text:?} is not a 0x-prefixed 20-byte hex address")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(allocations: &str) -> String {
        format!(r#"{{"chainId": 7, "timestamp": 100, "allocations": [{allocations}]}}"#)
    }

    #[test]
    fn accepts_exact_supply_with_vesting() {
        let g = Genesis::from_json(&json(
            r#"{"name":"team","address":"0x1111111111111111111111111111111111111111","amount":"999999999.5",
                "vesting":{"cliffSeconds":10,"linearSeconds":20}},
               {"address":"0x2222222222222222222222222222222222222222","amount":"0.5"}"#,
        ))
        .unwrap();
        assert_eq!(g.total_allocated(), Amount::total_supply().wei());
        let state = g.state();
        // The two allocations and the six callable system contracts' code.
        assert_eq!(state.accounts.len(), 2 + addresses::CALLABLE.len());
        for address in addresses::CALLABLE {
            assert_eq!(
                state.accounts[&address].code_hash,
                keccak256(addresses::SYSTEM_CONTRACT_CODE)
            );
        }
        assert_eq!(state.code.len(), 1);
        let slot =
            vesting::schedule_slot(&"0x1111111111111111111111111111111111111111".parse().unwrap());
        let schedule = VestingSchedule::decode(state.storage[&addresses::VESTING][&slot]).unwrap();
        assert_eq!(schedule.start, 100);
        assert_eq!(schedule.cliff, 10);
    }

    #[test]
    fn refuses_wrong_sum_naming_the_difference() {
        let err = Genesis::from_json(&json(
            r#"{"address":"0x1111111111111111111111111111111111111111","amount":"999999999"}"#,
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "allocations add up to 999999999 OPEN, but the supply is exactly 1000000000 OPEN (short by 1 OPEN)"
        );
        let err = Genesis::from_json(&json(
            r#"{"address":"0x1111111111111111111111111111111111111111","amount":"1000000001"}"#,
        ))
        .unwrap_err();
        assert!(err.to_string().contains("over by 1 OPEN"), "{err}");
    }

    #[test]
    fn refuses_malformed_address_naming_the_entry() {
        let err = Genesis::from_json(&json(
            r#"{"name":"ok","address":"0x1111111111111111111111111111111111111111","amount":"1"},
               {"name":"team","address":"0x12","amount":"999999999"}"#,
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "allocation #1 (\"team\"): address \"0x12\" is not a 0x-prefixed 20-byte hex address"
        );
    }

    #[test]
    fn refuses_duplicates_bad_amounts_and_system_accounts() {
        let dup = Genesis::from_json(&json(
            r#"{"address":"0x1111111111111111111111111111111111111111","amount":"1"},
               {"address":"0x1111111111111111111111111111111111111111","amount":"999999999"}"#,
        ))
        .unwrap_err();
        assert!(dup.to_string().contains("already allocated by allocation #0"), "{dup}");
        let bad = Genesis::from_json(&json(
            r#"{"address":"0x1111111111111111111111111111111111111111","amount":"1,000"}"#,
        ))
        .unwrap_err();
        assert!(bad.to_string().starts_with("allocation #0"), "{bad}");
        let system = Genesis::from_json(&json(
            r#"{"address":"0x0000000000000000000000000000000000001001","amount":"1000000000"}"#,
        ))
        .unwrap_err();
        assert!(system.to_string().contains("system account"), "{system}");
        let unknown =
            Genesis::from_json(r#"{"chainId":1,"allocations":[],"extra":1}"#).unwrap_err();
        assert!(unknown.to_string().contains("unknown field"), "{unknown}");
    }

    fn with_governance(governance: &str) -> Result<Genesis, GenesisError> {
        Genesis::from_json(&format!(
            r#"{{"chainId": 7, "allocations": [{{"address":"0x1111111111111111111111111111111111111111",
                "amount":"1000000000"}}], "governance": {governance}}}"#
        ))
    }

    #[test]
    fn governance_params_are_optional_and_written_to_storage() {
        let plain = Genesis::from_json(&json(
            r#"{"address":"0x1111111111111111111111111111111111111111","amount":"1000000000"}"#,
        ))
        .unwrap();
        assert_eq!(plain.governance, None);
        assert!(!plain.state().storage.contains_key(&addresses::GOVERNANCE));

        let g = with_governance(
            r#"{"votingDelay": 1, "votingPeriod": 60, "proposalThreshold": "1.5",
                "quorumNumerator": 4, "timelockDelay": 10}"#,
        )
        .unwrap();
        let params = g.governance.unwrap();
        assert_eq!(
            params,
            governance::Params {
                voting_delay: 1,
                voting_period: 60,
                proposal_threshold: Amount::parse_open("1.5").unwrap().wei(),
                quorum_numerator: 4,
                timelock_delay: 10,
            }
        );
        let mut state = crate::MemoryState::default();
        state.apply(g.state());
        let read = governance::GovernanceReader::new(&state).params().unwrap();
        assert_eq!(read, params);

        // Fields left out keep their defaults.
        let partial = with_governance(r#"{"votingPeriod": 30}"#).unwrap().governance.unwrap();
        assert_eq!(
            partial,
            governance::Params { voting_period: 30, ..governance::Params::default() }
        );
    }

    #[test]
    fn refuses_bad_governance_params() {
        let zero = with_governance(r#"{"votingPeriod": 0}"#).unwrap_err();
        assert_eq!(zero.to_string(), "governance: votingPeriod must be more than 0 seconds");
        let quorum = with_governance(r#"{"quorumNumerator": 101}"#).unwrap_err();
        assert!(quorum.to_string().contains("at most 100"), "{quorum}");
        let threshold = with_governance(r#"{"proposalThreshold": "ten"}"#).unwrap_err();
        assert!(threshold.to_string().starts_with("governance.proposalThreshold"), "{threshold}");
        let unknown = with_governance(r#"{"quorum": 5}"#).unwrap_err();
        assert!(unknown.to_string().contains("unknown field"), "{unknown}");
    }
}

#[cfg(test)]
mod bundled {
    use super::*;
    use crate::vesting::VestingSchedule;

    const MONTH: u64 = 2_629_800;

    /// The bundled mainnet-like genesis has the published allocation shape.
    #[test]
    fn mainnet_like_allocation_shape() {
        let genesis =
            Genesis::from_json(include_str!("../../../genesis/mainnet-like.json")).unwrap();
        let share = |name: &str| {
            let a = genesis.allocations.iter().find(|a| a.name.starts_with(name)).unwrap();
            (a.amount.wei() * U256::from(10_000u64) / Amount::total_supply().wei(), a.vesting)
        };
        let (community, terms) = share("community");
        assert_eq!(community, U256::from(6_171u64));
        assert_eq!(
            terms,
            Some(VestingTerms { cliff_seconds: 0, linear_seconds: (48 * MONTH) as u32 })
        );
        for (name, bps) in [("investors", 1_829u64), ("team", 1_500)] {
            let (value, terms) = share(name);
            assert_eq!(value, U256::from(bps));
            assert_eq!(
                terms,
                Some(VestingTerms {
                    cliff_seconds: (12 * MONTH) as u32,
                    linear_seconds: (36 * MONTH) as u32
                })
            );
        }
        let (liquidity, terms) = share("liquidity");
        assert_eq!((liquidity, terms), (U256::from(500u64), None));

        // A team member's tokens: nothing before the cliff, half 18 months
        // after it, all after 48 months.
        let team = genesis.allocations.iter().find(|a| a.name.starts_with("team")).unwrap();
        let terms = team.vesting.unwrap();
        let schedule = VestingSchedule {
            total: team.amount.wei(),
            start: genesis.timestamp,
            cliff: terms.cliff_seconds,
            linear: terms.linear_seconds,
        };
        assert_eq!(schedule.vested_at(genesis.timestamp + 12 * MONTH - 1), U256::ZERO);
        assert_eq!(
            schedule.vested_at(genesis.timestamp + 30 * MONTH),
            team.amount.wei() / U256::from(2)
        );
        assert_eq!(schedule.vested_at(genesis.timestamp + 48 * MONTH), team.amount.wei());
    }
}
