//! The consensus boundary (DESIGN.md decision 8).
//!
//! A [`Consensus`] decides when blocks are sealed and by whom; the ledger,
//! storage and RPC are the same whatever implements it: the dev sealer
//! here, and the Malachite validator network in `ol-network`
//! (`MalachiteConsensus`), started with [`crate::launch_with_consensus`].

use crate::chain::Chain;
use alloy_primitives::Address;
use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

/// Drives block production for a [`Chain`].
pub trait Consensus: Send + 'static {
    /// Runs until the chain stops; returns only on a fatal error.
    fn run(self: Box<Self>, chain: Arc<Chain>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// When the dev sealer seals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealMode {
    /// One block every interval, with whatever is pending (possibly none).
    Interval(Duration),
    /// One block per transaction, as soon as it arrives; submitting a
    /// transaction answers once its block is sealed (automine, as Hardhat
    /// Network's and anvil's).
    PerTransaction,
}

/// The single-node dev sealer, as anvil's: blocks on a timer or per transaction.
#[derive(Debug, Clone, Copy)]
pub struct DevSealer {
    /// When to seal.
    pub mode: SealMode,
    /// Who receives the priority fees.
    pub beneficiary: Address,
}

impl Consensus for DevSealer {
    fn run(self: Box<Self>, chain: Arc<Chain>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        // Set before the future first runs: a transaction sent as soon as
        // the node is up already waits for its block.
        chain.set_automine(self.mode == SealMode::PerTransaction);
        Box::pin(async move {
            match self.mode {
                SealMode::Interval(every) => {
                    let mut ticker =
                        tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        ticker.tick().await;
                        if !seal(&chain, self.beneficiary, usize::MAX).await {
                            return;
                        }
                    }
                }
                SealMode::PerTransaction => loop {
                    let notified = chain.pool_changed().notified();
                    while chain.has_pending() {
                        if !seal(&chain, self.beneficiary, 1).await {
                            // Nothing will be sealed: submitters stop waiting.
                            chain.set_automine(false);
                            return;
                        }
                    }
                    notified.await;
                },
            }
        })
    }
}

/// Seals one block off the async runtime; false on a fatal storage error.
async fn seal(chain: &Arc<Chain>, beneficiary: Address, max_transactions: usize) -> bool {
    let chain = chain.clone();
    match tokio::task::spawn_blocking(move || chain.seal_block(beneficiary, max_transactions)).await
    {
        Ok(Ok(_)) => true,
        Ok(Err(error)) => {
            tracing::error!(%error, "sealing a block failed; the dev sealer stops");
            false
        }
        Err(error) => {
            tracing::error!(%error, "the sealing task panicked; the dev sealer stops");
            false
        }
    }
}
