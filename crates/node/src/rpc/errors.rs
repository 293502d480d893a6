//! JSON-RPC error objects: one place decides every code and message.

use crate::chain::{ChainError, SubmitError};
use jsonrpsee::types::{ErrorObjectOwned, error::ErrorCode};
use ol_ledger::InvalidTransaction;
use ol_primitives::TransactionDecodeError;

/// geth's code for a refused transaction or call.
pub const SERVER_ERROR: i32 = -32000;

/// An error with a code and message.
pub fn error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

/// `-32602` invalid parameters.
pub fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    error(ErrorCode::InvalidParams.code(), message)
}

/// `-32000` with geth's wording.
pub fn server_error(message: impl Into<String>) -> ErrorObjectOwned {
    error(SERVER_ERROR, message)
}

/// `-32603` a failure of the node itself; the detail goes to the log.
pub fn internal(error: impl std::fmt::Display) -> ErrorObjectOwned {
    tracing::error!(%error, "JSON-RPC call failed inside the node");
    self::error(ErrorCode::InternalError.code(), format!("internal error: {error}"))
}

impl From<ChainError> for ErrorObjectOwned {
    fn from(value: ChainError) -> Self {
        internal(value)
    }
}

/// geth's code for a call that reverted (the revert data rides along).
pub const EXECUTION_REVERTED: i32 = 3;

/// Anvil's code for a transaction the pool rejects.
pub const TRANSACTION_REJECTED: i32 = -32003;

/// The error object of a refused `eth_sendRawTransaction`. Codes follow
/// anvil (checked by the differential test): bytes that do not decode are
/// invalid parameters (-32602); a decoded transaction that breaks a rule is
/// rejected (-32003), except gas-limit problems, which anvil reports as
/// -32000. Messages carry the phrases client libraries match on.
pub fn submit_error(refusal: SubmitError) -> ErrorObjectOwned {
    match refusal {
        SubmitError::Decode(e @ TransactionDecodeError::Empty) => invalid_params(format!("{e}")),
        SubmitError::Decode(e) => invalid_params(format!("failed to decode transaction: {e}")),
        SubmitError::Invalid(
            e @ (InvalidTransaction::GasLimitExceedsBlock { .. }
            | InvalidTransaction::IntrinsicGasTooLow { .. }),
        ) => server_error(e.to_string()),
        SubmitError::Invalid(e) => error(TRANSACTION_REJECTED, e.to_string()),
        SubmitError::Pool(e) => error(TRANSACTION_REJECTED, e.to_string()),
        SubmitError::Content(e) => error(TRANSACTION_REJECTED, e.to_string()),
        SubmitError::Storage(e) => internal(e),
    }
}
