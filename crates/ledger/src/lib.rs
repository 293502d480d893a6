//! The OpenLedger state machine.
//!
//! Pure, deterministic rules (DESIGN.md decision 3): given a state (read
//! through [`StateView`]), a block environment and signed transactions,
//! [`execute_block`] returns the state changes, receipts and gas used. No
//! clock, randomness, I/O or threads: the same input gives the same output
//! on every machine. Storage and networking live in other crates.
//!
//! Modules, one rule each: [`genesis`] (the fixed OPEN supply and its
//! allocation), [`vesting`] (locked OPEN), [`fees`] (gas, EIP-1559 base fee
//! and where fees go), [`validation`] (why a transaction is refused),
//! [`execution`] (applying a block), [`state`] (the account model and the
//! overlay that collects a block's changes), [`system`] (calls to system
//! contracts: metering, revert, logs), [`datanets`] (the datanets system
//! contract), [`models`] (the model registry), [`inference`] (payment and settlement
//! of inferences by attribution), [`staking`] (bonded stake, the stakers' reward
//! pool, voting power), [`agents`] (AI agents, jailing and slashing evidence),
//! [`governance`] (proposals, votes, timelock, execution), [`content`] (facts
//! about off-chain contribution bytes), [`contracts`] (the seam to the EVM that
//! runs user contracts).

pub mod agents;
pub mod content;
pub mod contracts;
pub mod datanets;
pub mod execution;
pub mod fees;
pub mod genesis;
pub mod governance;
pub mod inference;
pub mod models;
pub mod staking;
pub mod state;
pub mod system;
#[cfg(test)]
mod test_chain;
pub mod validation;
pub mod vesting;

pub use content::{
    AttributionRequest, ContentFacts, ContentProblem, ContentSource, IsWithdrawn, NoContent,
    ParseOptions, VersionMember, VersionMembers,
};
pub use contracts::{ContractCall, ContractError, ContractOutcome, ContractRuntime, NoContracts};
pub use execution::{BlockOutcome, ExecutionMode, execute_block};
pub use fees::ChainSpec;
pub use genesis::{Genesis, GenesisError};
pub use state::{Account, MemoryState, Overlay, StateChanges, StateError, StateView};
pub use validation::InvalidTransaction;
pub use vesting::VestingSchedule;
