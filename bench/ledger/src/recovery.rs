//! (a) The bound: libsecp256k1 sender recovery alone, on all cores.
//!
//! Measured in rounds, one per block of (b) and just before it, on that
//! block's very transactions: on a machine whose cores are shared, (a) and
//! (b) then see the same load and their ratio stays meaningful.

use alloy_consensus::TxEnvelope;
use ol_primitives::{decode_raw_transaction, recover_parallel};
use std::time::{Duration, Instant};

/// What (a) measured so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct RecoveryResult {
    pub(crate) transactions: usize,
    pub(crate) rounds: usize,
    /// All rounds together.
    pub(crate) elapsed: Duration,
    pub(crate) threads: usize,
    /// CPU seconds this process used during the rounds.
    pub(crate) cpu_seconds: Option<f64>,
}

impl RecoveryResult {
    pub(crate) fn new() -> Self {
        Self { threads: rayon::current_num_threads(), cpu_seconds: Some(0.0), ..Self::default() }
    }

    pub(crate) fn per_second(&self) -> f64 {
        self.transactions as f64 / self.elapsed.as_secs_f64()
    }

    /// CPU time this process got during the rounds, as a share of `threads`
    /// cores: well below 1.0 means other work shared the cores.
    pub(crate) fn cpu_share(&self) -> Option<f64> {
        self.cpu_seconds.map(|cpu| cpu / (self.elapsed.as_secs_f64() * self.threads as f64))
    }

    /// Recovers the senders of `raw` (decoded beforehand, untimed) with
    /// [`recover_parallel`].
    pub(crate) fn round(&mut self, raw: &[Vec<u8>]) -> eyre::Result<()> {
        let envelopes: Vec<TxEnvelope> =
            raw.iter().map(|r| decode_raw_transaction(r)).collect::<Result<_, _>>()?;
        let count = envelopes.len();
        let cpu_before = crate::rpc::process_cpu_seconds(std::process::id());
        let started = Instant::now();
        let recovered = recover_parallel(envelopes);
        let elapsed = started.elapsed();
        let cpu = crate::rpc::process_cpu_seconds(std::process::id())
            .zip(cpu_before)
            .map(|(after, before)| after - before);
        let failures = recovered.iter().filter(|r| r.is_err()).count();
        eyre::ensure!(failures == 0, "{failures} signatures failed to recover");
        drop(recovered);
        self.transactions += count;
        self.rounds += 1;
        self.elapsed += elapsed;
        self.cpu_seconds = self.cpu_seconds.zip(cpu).map(|(sum, cpu)| sum + cpu);
        eprintln!(
            "  (a) round {}: {count} recoveries in {:.0} ms ({:.0}/s)",
            self.rounds,
            elapsed.as_secs_f64() * 1e3,
            count as f64 / elapsed.as_secs_f64()
        );
        Ok(())
    }
}
