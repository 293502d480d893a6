//! (3) Serving many LoRA adapters over one base: a `Runtime` whose adapter
//! budget holds only part of them, requests from two threads rotating over
//! the adapters; each request fetches its adapter through the cache (a miss
//! loads it: parse, check against the base, hash), generates 256 tokens
//! through it and attributes the output against the index. The settlement
//! is left out here: (1) and (2) measure it.

use crate::{corpus::Rng, request};
use ol_attribution::index::Index;
use ol_models::{CacheStats, GenerationParams, Model, Runtime, WeightsHash};
use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

/// How requests pick their adapter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rotation {
    /// Adapter `n mod count`: every request switches, the cache never hits
    /// once the set exceeds it (LRU's worst case).
    RoundRobin,
    /// A Zipf (s = 1) draw: a few adapters popular, a long tail.
    Zipf,
}

impl Rotation {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::RoundRobin => "round-robin",
            Self::Zipf => "zipf s=1",
        }
    }

    fn sequence(self, requests: usize, adapters: usize) -> Vec<usize> {
        match self {
            Self::RoundRobin => (0..requests).map(|n| n % adapters).collect(),
            Self::Zipf => {
                let weights: Vec<f64> = (1..=adapters).map(|r| 1.0 / r as f64).collect();
                let total: f64 = weights.iter().sum();
                let mut rng = Rng::new(0x21bf);
                (0..requests)
                    .map(|_| {
                        let mut x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
                        // Rank r goes to adapter (r × 37) mod count, spreading
                        // the popular ones over the set.
                        for (rank, w) in weights.iter().enumerate() {
                            if x < *w {
                                return (rank * 37) % adapters;
                            }
                            x -= w;
                        }
                        adapters - 1
                    })
                    .collect()
            }
        }
    }
}

/// Memory and load cost of adapters, each loaded once into an unbounded cache.
#[derive(Debug, Clone)]
pub(crate) struct AdapterCost {
    pub(crate) adapters: usize,
    pub(crate) file_bytes: usize,
    pub(crate) memory_bytes: usize,
    /// Sorted load (switch) times.
    pub(crate) loads: Vec<Duration>,
}

/// Loads every adapter once, one at a time.
pub(crate) fn adapter_cost(
    base: &Arc<Model>,
    files: &[(WeightsHash, Vec<u8>)],
) -> eyre::Result<AdapterCost> {
    let runtime = Runtime::new(base.clone(), usize::MAX);
    let mut loads = Vec::with_capacity(files.len());
    let mut memory = 0;
    for (hash, bytes) in files {
        let started = Instant::now();
        let adapter = runtime.adapter(*hash, || Ok::<_, String>(bytes.clone()))?;
        loads.push(started.elapsed());
        memory += adapter.memory_bytes();
    }
    loads.sort();
    Ok(AdapterCost {
        adapters: files.len(),
        file_bytes: files.iter().map(|(_, b)| b.len()).sum::<usize>() / files.len().max(1),
        memory_bytes: memory / files.len().max(1),
        loads,
    })
}

/// What one serving run measured.
#[derive(Debug, Clone)]
pub(crate) struct ServingResult {
    pub(crate) rotation: Rotation,
    pub(crate) threads: usize,
    pub(crate) requests: usize,
    pub(crate) wall: Duration,
    /// Sorted request latencies.
    pub(crate) latencies: Vec<Duration>,
    pub(crate) generate: Duration,
    pub(crate) attribute: Duration,
    pub(crate) adapter: Duration,
    pub(crate) stats: CacheStats,
    pub(crate) resident_capacity: usize,
}

impl ServingResult {
    pub(crate) fn per_second(&self) -> f64 {
        self.requests as f64 / self.wall.as_secs_f64()
    }
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        quantile(&self.latencies, q)
    }
}

/// The `q` quantile of sorted `values` (nearest rank).
pub(crate) fn quantile(values: &[Duration], q: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// Serves `requests` requests from `threads` threads over the adapters,
/// with a budget of `resident` adapters' memory.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    base: &Arc<Model>,
    files: &[(WeightsHash, Vec<u8>)],
    adapter_bytes: usize,
    resident: usize,
    index: &Index,
    documents: &[String],
    rotation: Rotation,
    requests: usize,
    threads: usize,
) -> eyre::Result<ServingResult> {
    let runtime = Runtime::new(base.clone(), adapter_bytes * resident);
    let store: HashMap<WeightsHash, &[u8]> =
        files.iter().map(|(h, b)| (*h, b.as_slice())).collect();
    let sequence = rotation.sequence(requests, files.len());
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let per_thread = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> eyre::Result<Vec<[Duration; 4]>> {
                    let mut times = Vec::new();
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&which) = sequence.get(n) else { break };
                        let hash = files[which].0;
                        let document = &documents[(n * 31) % documents.len()];
                        let prompt: String = document.chars().take(32).collect();
                        let params = GenerationParams {
                            max_tokens: request::OUTPUT_TOKENS,
                            temperature: 0.8,
                            top_p: 0.95,
                            seed: n as u64,
                            stop: Vec::new(),
                        };
                        let begun = Instant::now();
                        let adapter = runtime.adapter(hash, || {
                            store.get(&hash).map(|b| b.to_vec()).ok_or("no such adapter")
                        })?;
                        let fetched = begun.elapsed();
                        let tokens = ol_models::tokenizer::encode(&prompt);
                        let generation =
                            runtime.generate(Some(adapter), &tokens, &params, |_| {})?;
                        let generated = begun.elapsed();
                        let attribution = request::attribution_of(index, &generation.text());
                        std::hint::black_box(attribution);
                        let total = begun.elapsed();
                        times.push([total, fetched, generated - fetched, total - generated]);
                    }
                    Ok(times)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().map_err(|_| eyre::eyre!("a serving thread panicked"))?)
            .collect::<eyre::Result<Vec<_>>>()
    })?;
    let wall = started.elapsed();
    let all: Vec<[Duration; 4]> = per_thread.into_iter().flatten().collect();
    let mut latencies: Vec<Duration> = all.iter().map(|t| t[0]).collect();
    latencies.sort();
    Ok(ServingResult {
        rotation,
        threads,
        requests: all.len(),
        wall,
        latencies,
        adapter: all.iter().map(|t| t[1]).sum(),
        generate: all.iter().map(|t| t[2]).sum(),
        attribute: all.iter().map(|t| t[3]).sum(),
        stats: runtime.stats(),
        resident_capacity: resident,
    })
}
