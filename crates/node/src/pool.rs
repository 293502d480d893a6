//! The transaction pool.
//!
//! Holds transactions that passed every check against the latest state and
//! waits for the block producer. Per sender, transactions are kept by nonce;
//! those whose nonces continue the account's nonce without a gap are
//! *pending* (executable), the rest *queued*. A sender may have at most
//! [`MAX_PER_SENDER`] transactions in the pool, so a nonce further than that
//! beyond the account's nonce is refused. Blocks take pending transactions in
//! arrival order, each sender's in nonce order.

use alloy_consensus::Transaction;
use alloy_primitives::{Address, B256};
use ol_ledger::InvalidTransaction;
use ol_primitives::RecoveredTransaction;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, hash_map::Entry};

/// Most transactions one sender may have waiting.
pub const MAX_PER_SENDER: u64 = 4096;

/// Most transactions in the whole pool.
pub const DEFAULT_CAPACITY: usize = 500_000;

/// Fee bump, in percent, a replacement must offer over the transaction it replaces.
pub const REPLACEMENT_BUMP_PERCENT: u128 = 10;

/// Why the pool refuses a transaction it could otherwise accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The very same transaction is already waiting.
    #[error("already known")]
    AlreadyKnown,
    /// Another transaction with the same nonce waits and this one does not pay enough more.
    #[error(
        "replacement transaction underpriced: nonce {nonce} is taken; offer at least {percent}% more in both max fee and priority fee"
    )]
    ReplacementUnderpriced {
        /// The contested nonce.
        nonce: u64,
        /// Required bump.
        percent: u128,
    },
    /// The nonce leaves a gap longer than the per-sender queue.
    #[error(
        "nonce too high: tx nonce {got} is {gap} beyond the account's next nonce {expected}; the pool queues at most {MAX_PER_SENDER} per account"
    )]
    NonceGapTooLarge {
        /// The account's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
        /// `got - expected`.
        gap: u64,
    },
    /// The pool holds its maximum.
    #[error("txpool is full: {0} transactions waiting")]
    Full(usize),
}

#[derive(Debug)]
struct PooledEntry {
    tx: RecoveredTransaction,
    sequence: u64,
}

#[derive(Debug, Default)]
struct SenderQueue {
    /// The account's nonce in the latest committed state.
    state_nonce: u64,
    by_nonce: BTreeMap<u64, PooledEntry>,
}

impl SenderQueue {
    /// The nonce after the last gap-free pooled transaction.
    fn pending_nonce(&self) -> u64 {
        let mut next = self.state_nonce;
        for nonce in self.by_nonce.range(self.state_nonce..).map(|(n, _)| *n) {
            if nonce != next {
                break;
            }
            next += 1;
        }
        next
    }
}

/// The pool itself. Not thread-safe; the node wraps it in a mutex.
#[derive(Debug)]
pub struct Pool {
    senders: HashMap<Address, SenderQueue>,
    hashes: HashMap<B256, (Address, u64)>,
    next_sequence: u64,
    capacity: usize,
}

impl Default for Pool {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl Pool {
    /// An empty pool holding at most `capacity` transactions.
    pub fn new(capacity: usize) -> Self {
        Self { senders: HashMap::new(), hashes: HashMap::new(), next_sequence: 0, capacity }
    }

    /// Number of transactions waiting.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// True when `hash` waits in the pool.
    pub fn contains(&self, hash: &B256) -> bool {
        self.hashes.contains_key(hash)
    }

    /// A waiting transaction by hash.
    pub fn get(&self, hash: &B256) -> Option<&RecoveredTransaction> {
        let (sender, nonce) = self.hashes.get(hash)?;
        self.senders.get(sender)?.by_nonce.get(nonce).map(|e| &e.tx)
    }

    /// The nonce `sender`'s next new transaction should carry: its account
    /// nonce, plus its gap-free pooled transactions. `state_nonce` is the
    /// account's nonce in the latest state.
    pub fn pending_nonce(&self, sender: &Address, state_nonce: u64) -> u64 {
        match self.senders.get(sender) {
            Some(queue) if queue.state_nonce == state_nonce => queue.pending_nonce(),
            _ => state_nonce,
        }
    }

    /// Adds a transaction already checked against the state (chain id, fees,
    /// funds). `state_nonce` is the sender's nonce in the latest state.
    pub fn add(
        &mut self,
        tx: RecoveredTransaction,
        state_nonce: u64,
    ) -> Result<(), PoolInsertError> {
        let nonce = tx.nonce();
        if nonce < state_nonce {
            return Err(
                InvalidTransaction::NonceTooLow { expected: state_nonce, got: nonce }.into()
            );
        }
        if nonce - state_nonce >= MAX_PER_SENDER {
            return Err(PoolError::NonceGapTooLarge {
                expected: state_nonce,
                got: nonce,
                gap: nonce - state_nonce,
            }
            .into());
        }
        if self.hashes.contains_key(&tx.hash) {
            return Err(PoolError::AlreadyKnown.into());
        }
        let sequence = self.next_sequence;
        let queue = self.senders.entry(tx.sender).or_default();
        if queue.state_nonce < state_nonce {
            queue.state_nonce = state_nonce;
            queue.by_nonce = queue.by_nonce.split_off(&state_nonce);
        }
        if nonce < queue.state_nonce {
            // A block committed after the caller read the state.
            return Err(InvalidTransaction::NonceTooLow {
                expected: queue.state_nonce,
                got: nonce,
            }
            .into());
        }
        let replaced = match queue.by_nonce.get(&nonce) {
            Some(existing) => {
                if !is_sufficient_bump(&existing.tx, &tx) {
                    return Err(PoolError::ReplacementUnderpriced {
                        nonce,
                        percent: REPLACEMENT_BUMP_PERCENT,
                    }
                    .into());
                }
                Some(existing.tx.hash)
            }
            None => {
                if self.hashes.len() >= self.capacity {
                    return Err(PoolError::Full(self.hashes.len()).into());
                }
                None
            }
        };
        if let Some(old) = replaced {
            self.hashes.remove(&old);
        }
        self.hashes.insert(tx.hash, (tx.sender, nonce));
        queue.by_nonce.insert(nonce, PooledEntry { tx, sequence });
        self.next_sequence += 1;
        Ok(())
    }

    /// Pending transactions for the next block, in arrival order (each
    /// sender's in nonce order), up to `max_gas` of gas limits and at most
    /// `max_count`. Nothing is removed: [`Pool::on_block`] does that.
    pub fn best(&self, max_gas: u64, max_count: usize) -> Vec<RecoveredTransaction> {
        // A heap of each sender's next executable transaction, by arrival.
        let mut heap = BinaryHeap::new();
        for (sender, queue) in &self.senders {
            if let Some(entry) = queue.by_nonce.get(&queue.state_nonce) {
                heap.push(Reverse((entry.sequence, *sender, queue.state_nonce)));
            }
        }
        let mut chosen = Vec::new();
        let mut gas = 0u64;
        while let Some(Reverse((_, sender, nonce))) = heap.pop() {
            if chosen.len() >= max_count {
                break;
            }
            let queue = &self.senders[&sender];
            let entry = &queue.by_nonce[&nonce];
            let limit = entry.tx.envelope.gas_limit();
            if gas.saturating_add(limit) > max_gas {
                // This sender's later nonces cannot go before this one.
                continue;
            }
            gas += limit;
            chosen.push(entry.tx.clone());
            if let Some(next) = queue.by_nonce.get(&(nonce + 1)) {
                heap.push(Reverse((next.sequence, sender, nonce + 1)));
            }
        }
        chosen
    }

    /// Updates the pool after a block: `nonces` are the new account nonces of
    /// every sender the block touched; transactions below them leave the pool,
    /// and so do `dropped` ones (refused by the block for a lasting reason).
    pub fn on_block(&mut self, nonces: &HashMap<Address, u64>, dropped: &[B256]) {
        for hash in dropped {
            if let Some((sender, nonce)) = self.hashes.remove(hash)
                && let Some(queue) = self.senders.get_mut(&sender)
            {
                queue.by_nonce.remove(&nonce);
            }
        }
        let mut emptied = HashSet::new();
        for (sender, new_nonce) in nonces {
            let Entry::Occupied(mut slot) = self.senders.entry(*sender) else { continue };
            let queue = slot.get_mut();
            queue.state_nonce = (*new_nonce).max(queue.state_nonce);
            let keep = queue.by_nonce.split_off(&queue.state_nonce);
            for entry in std::mem::replace(&mut queue.by_nonce, keep).into_values() {
                self.hashes.remove(&entry.tx.hash);
            }
            if queue.by_nonce.is_empty() {
                emptied.insert(*sender);
            }
        }
        for sender in emptied {
            self.senders.remove(&sender);
        }
        self.senders.retain(|_, q| !q.by_nonce.is_empty());
    }

    /// Every waiting transaction (pending and queued), for `txpool_content`-like views.
    pub fn iter(&self) -> impl Iterator<Item = &RecoveredTransaction> {
        self.senders.values().flat_map(|q| q.by_nonce.values().map(|e| &e.tx))
    }
}

/// Why [`Pool::add`] refused a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolInsertError {
    /// A ledger rule.
    #[error(transparent)]
    Invalid(#[from] InvalidTransaction),
    /// A pool rule.
    #[error(transparent)]
    Pool(#[from] PoolError),
}

fn is_sufficient_bump(old: &RecoveredTransaction, new: &RecoveredTransaction) -> bool {
    let bumped = |old: u128, new: u128| {
        new.saturating_mul(100) >= old.saturating_mul(100 + REPLACEMENT_BUMP_PERCENT)
    };
    let old_tip = old.envelope.max_priority_fee_per_gas().unwrap_or(old.envelope.max_fee_per_gas());
    let new_tip = new.envelope.max_priority_fee_per_gas().unwrap_or(new.envelope.max_fee_per_gas());
    bumped(old.envelope.max_fee_per_gas(), new.envelope.max_fee_per_gas())
        && bumped(old_tip, new_tip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
    use alloy_primitives::{Bytes, TxKind, U256};
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;

    fn signer(i: u8) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&B256::repeat_byte(i + 1)).unwrap()
    }

    fn tx(from: u8, nonce: u64, fee: u128) -> RecoveredTransaction {
        let tx = TxEip1559 {
            chain_id: 1337,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: fee,
            max_priority_fee_per_gas: fee,
            to: TxKind::Call(Address::repeat_byte(1)),
            value: U256::from(1),
            access_list: Default::default(),
            input: Bytes::new(),
        };
        let sig = signer(from).sign_hash_sync(&tx.signature_hash()).unwrap();
        RecoveredTransaction::recover(TxEnvelope::from(tx.into_signed(sig))).unwrap()
    }

    #[test]
    fn pending_and_queued() {
        let mut pool = Pool::default();
        pool.add(tx(0, 0, 10), 0).unwrap();
        pool.add(tx(0, 2, 10), 0).unwrap();
        let a = signer(0).address();
        assert_eq!(pool.pending_nonce(&a, 0), 1);
        assert_eq!(pool.best(u64::MAX, usize::MAX).len(), 1);
        pool.add(tx(0, 1, 10), 0).unwrap();
        assert_eq!(pool.pending_nonce(&a, 0), 3);
        let best = pool.best(u64::MAX, usize::MAX);
        assert_eq!(best.iter().map(|t| t.nonce()).collect::<Vec<_>>(), vec![0, 1, 2]);
        pool.on_block(&HashMap::from([(a, 3)]), &[]);
        assert!(pool.is_empty());
    }

    #[test]
    fn arrival_order_across_senders_and_gas_bound() {
        let mut pool = Pool::default();
        pool.add(tx(1, 0, 10), 0).unwrap();
        pool.add(tx(0, 0, 10), 0).unwrap();
        pool.add(tx(1, 1, 10), 0).unwrap();
        let best = pool.best(u64::MAX, usize::MAX);
        let order: Vec<_> = best.iter().map(|t| (t.sender, t.nonce())).collect();
        assert_eq!(
            order,
            vec![(signer(1).address(), 0), (signer(0).address(), 0), (signer(1).address(), 1)]
        );
        assert_eq!(pool.best(42_000, usize::MAX).len(), 2);
        assert_eq!(pool.best(u64::MAX, 1).len(), 1);
    }

    #[test]
    fn refusals() {
        let mut pool = Pool::new(2);
        pool.add(tx(0, 5, 100), 5).unwrap();
        assert_eq!(pool.add(tx(0, 5, 100), 5), Err(PoolError::AlreadyKnown.into()));
        assert!(matches!(
            pool.add(tx(0, 5, 105), 5),
            Err(PoolInsertError::Pool(PoolError::ReplacementUnderpriced { .. }))
        ));
        pool.add(tx(0, 5, 110), 5).unwrap();
        assert_eq!(pool.len(), 1);
        assert!(matches!(
            pool.add(tx(0, 4, 10), 5),
            Err(PoolInsertError::Invalid(InvalidTransaction::NonceTooLow { .. }))
        ));
        assert!(matches!(
            pool.add(tx(0, 5 + MAX_PER_SENDER, 10), 5),
            Err(PoolInsertError::Pool(PoolError::NonceGapTooLarge { .. }))
        ));
        pool.add(tx(1, 0, 10), 0).unwrap();
        assert!(matches!(
            pool.add(tx(2, 0, 10), 0),
            Err(PoolInsertError::Pool(PoolError::Full(2)))
        ));
    }
}
