//! Gas prices of system-contract work, after Ethereum's (EIP-2929 cold
//! access, EIP-2200 storage writes; refunds are not given).

use super::CallError;

/// Entering a system contract (a cold account access).
pub const CALL_BASE: u64 = 2_600;
/// Reading a storage word (a cold `SLOAD`).
pub const LOAD: u64 = 2_100;
/// Writing a non-zero word into an empty slot.
pub const STORE_NEW: u64 = 20_000;
/// Any other storage write.
pub const STORE_UPDATE: u64 = 2_900;
/// Moving OPEN between accounts (a value-bearing `CALL`).
pub const BALANCE_MOVE: u64 = 9_000;
/// Hashing, per 32-byte word (as `KECCAK256`).
pub const HASH_WORD: u64 = 6;

/// Gas of a log with `topics` topics and `bytes` bytes of data.
pub fn log_cost(topics: usize, bytes: usize) -> u64 {
    375 + 375 * topics as u64 + 8 * bytes as u64
}

/// Counts gas against a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GasMeter {
    limit: u64,
    used: u64,
}

impl GasMeter {
    /// A meter with `limit` to spend.
    pub fn new(limit: u64) -> Self {
        Self { limit, used: 0 }
    }

    /// A meter that never runs out, for read-only queries.
    pub fn unlimited() -> Self {
        Self::new(u64::MAX)
    }

    /// Spends `amount`, or fails once the limit is passed.
    pub fn charge(&mut self, amount: u64) -> Result<(), CallError> {
        match self.used.checked_add(amount) {
            Some(used) if used <= self.limit => {
                self.used = used;
                Ok(())
            }
            _ => Err(CallError::OutOfGas),
        }
    }

    /// Gas still available.
    pub fn left(&self) -> u64 {
        self.limit - self.used
    }

    /// Gas spent so far.
    pub fn used(&self) -> u64 {
        self.used
    }
}
