//! Timing and memory helpers shared by the in-process workers.

use serde::{Deserialize, Serialize};
use std::{path::Path, time::Instant};

/// Peak resident memory of this process so far (`VmHWM`), in bytes.
pub(crate) fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(0)
}

/// Total size of the files in `dir` (not recursive: indexes are flat).
pub(crate) fn dir_bytes(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let metadata = entry?.metadata()?;
        if metadata.is_file() {
            total += metadata.len();
        }
    }
    Ok(total)
}

/// Timed passes over the inputs; each input's time is its fastest pass.
/// On a shared machine the fastest of a few is the one least disturbed by
/// other work; `infini_gram_bench.py` does the same.
pub(crate) const ROUNDS: usize = 3;

/// Calls `call` on every input: one untimed pass (warm caches, as a serving
/// process would have them), then [`ROUNDS`] timed passes. Returns each
/// input's fastest time in seconds and its result.
pub(crate) fn timed<I, R>(inputs: &[I], mut call: impl FnMut(&I) -> R) -> (Vec<f64>, Vec<R>) {
    let results: Vec<R> = inputs.iter().map(&mut call).collect();
    let mut seconds = vec![f64::INFINITY; inputs.len()];
    for _ in 0..ROUNDS {
        for (input, best) in inputs.iter().zip(&mut seconds) {
            let started = Instant::now();
            std::hint::black_box(call(input));
            *best = best.min(started.elapsed().as_secs_f64());
        }
    }
    (seconds, results)
}

/// Percentiles of a list of latencies, in seconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Latency {
    pub(crate) p50: f64,
    pub(crate) p99: f64,
    pub(crate) mean: f64,
    pub(crate) calls: usize,
}

impl Latency {
    /// None for an empty list.
    pub(crate) fn of(seconds: &[f64]) -> Option<Self> {
        if seconds.is_empty() {
            return None;
        }
        let mut sorted = seconds.to_vec();
        sorted.sort_by(f64::total_cmp);
        // Nearest-rank percentile.
        let rank =
            |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        Some(Self {
            p50: rank(0.50),
            p99: rank(0.99),
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
            calls: sorted.len(),
        })
    }
}
