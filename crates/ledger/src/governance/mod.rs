//! On-chain governance (being written).

use crate::{
    state::StateView,
    system::{CallError, Frame},
};
use alloy_primitives::Bytes;
pub use ol_primitives::addresses::GOVERNANCE;

/// Runs one ABI-encoded call against the governance contract.
pub fn call<S: StateView>(_frame: &mut Frame<'_, S>, _input: &[u8]) -> Result<Bytes, CallError> {
    Err(CallError::Revert("governance is not yet available".into()))
}
