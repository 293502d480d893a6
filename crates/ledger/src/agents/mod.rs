//! AI agents (being written).

use crate::{
    state::StateView,
    system::{CallError, Frame},
};
use alloy_primitives::Bytes;
pub use ol_primitives::addresses::AGENTS;

/// Runs one ABI-encoded call against the agents contract.
pub fn call<S: StateView>(_frame: &mut Frame<'_, S>, _input: &[u8]) -> Result<Bytes, CallError> {
    Err(CallError::Revert("agents are not yet available".into()))
}
