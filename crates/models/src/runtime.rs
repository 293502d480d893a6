//! The serving runtime: one resident base model, many LoRA adapters.
//!
//! Adapters are loaded on first use into an LRU cache bounded by a memory
//! budget in bytes; the least recently used are evicted when a new one does
//! not fit. The cache lock is held only to look up, insert and evict — never
//! while fetching, parsing or generating — so requests for different
//! adapters interleave freely across threads. An evicted adapter still in use
//! by a request stays alive through its `Arc` until that request ends.
//! Two threads missing the same adapter at once both load it; the second
//! insert finds the first and keeps it (counted as one miss each).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::Error;
use crate::generate::{Generation, GenerationParams};
use crate::model::{Adapter, Model, WeightsHash};

/// Counters and contents of the adapter cache.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Requests served from the cache.
    pub hits: u64,
    /// Requests that had to load the adapter.
    pub misses: u64,
    /// Adapters evicted to stay within the budget.
    pub evictions: u64,
    /// Bytes held by resident adapters.
    pub resident_bytes: usize,
    /// The memory budget.
    pub budget_bytes: usize,
    /// Resident adapters, most recently used first: hash and bytes.
    pub adapters: Vec<(WeightsHash, usize)>,
    /// Time of the last load (fetch + parse + validate), the adapter switch cost.
    pub last_load: Option<Duration>,
    /// Total time spent loading adapters.
    pub total_load: Duration,
}

struct Entry {
    adapter: Arc<Adapter>,
    bytes: usize,
    last_used: u64,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<WeightsHash, Entry>,
    clock: u64,
    stats: CacheStats,
}

/// One base model plus an LRU cache of adapters over it; share it by `Arc`.
pub struct Runtime {
    base: Arc<Model>,
    budget_bytes: usize,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("base", &self.base.hash())
            .field("budget_bytes", &self.budget_bytes)
            .finish()
    }
}

impl Runtime {
    /// A runtime over `base` keeping at most `budget_bytes` of adapters resident.
    pub fn new(base: Arc<Model>, budget_bytes: usize) -> Self {
        let cache = Cache {
            stats: CacheStats { budget_bytes, ..Default::default() },
            ..Default::default()
        };
        Self { base, budget_bytes, cache: Mutex::new(cache) }
    }

    /// The resident base model.
    pub fn base(&self) -> &Arc<Model> {
        &self.base
    }

    fn lock(&self) -> MutexGuard<'_, Cache> {
        // A panic while holding the lock cannot leave the map inconsistent
        // (every update is a single insert/remove), so a poisoned lock is usable.
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The adapter with weights hash `hash`, from the cache or loaded with
    /// `load` (which returns its weights file; checked against `hash` and the
    /// base model), evicting least-recently-used adapters to fit the budget.
    pub fn adapter<E>(
        &self,
        hash: WeightsHash,
        load: impl FnOnce() -> Result<Vec<u8>, E>,
    ) -> Result<Arc<Adapter>, Error>
    where
        E: std::fmt::Display,
    {
        {
            let mut cache = self.lock();
            cache.clock += 1;
            let now = cache.clock;
            if let Some(entry) = cache.entries.get_mut(&hash) {
                entry.last_used = now;
                let adapter = entry.adapter.clone();
                cache.stats.hits += 1;
                return Ok(adapter);
            }
            cache.stats.misses += 1;
        }
        let started = Instant::now();
        let bytes = load().map_err(|e| Error::AdapterFetch { hash, reason: e.to_string() })?;
        let found = WeightsHash::of(&bytes);
        if found != hash {
            return Err(Error::AdapterHashMismatch { requested: hash, found });
        }
        let adapter = Arc::new(crate::weights::load_adapter(&bytes, &self.base)?);
        let size = adapter.memory_bytes();
        if size > self.budget_bytes {
            return Err(Error::AdapterOverBudget { hash, bytes: size, budget: self.budget_bytes });
        }
        let elapsed = started.elapsed();
        let mut cache = self.lock();
        cache.stats.last_load = Some(elapsed);
        cache.stats.total_load += elapsed;
        cache.clock += 1;
        let now = cache.clock;
        if let Some(entry) = cache.entries.get_mut(&hash) {
            entry.last_used = now;
            return Ok(entry.adapter.clone());
        }
        cache.entries.insert(hash, Entry { adapter: adapter.clone(), bytes: size, last_used: now });
        cache.stats.resident_bytes += size;
        while cache.stats.resident_bytes > self.budget_bytes {
            let victim = cache
                .entries
                .iter()
                .filter(|(key, _)| **key != hash)
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(key, _)| *key);
            // The new adapter alone fits the budget (checked above), so while
            // over budget another entry exists.
            let Some(victim) = victim else { break };
            if let Some(entry) = cache.entries.remove(&victim) {
                cache.stats.resident_bytes -= entry.bytes;
                cache.stats.evictions += 1;
                tracing::debug!(adapter = %victim, bytes = entry.bytes, "evicted adapter");
            }
        }
        tracing::info!(adapter = %hash, bytes = size, ms = elapsed.as_secs_f64() * 1e3, "loaded adapter");
        Ok(adapter)
    }

    /// Whether the adapter is resident (does not touch its recency).
    pub fn is_resident(&self, hash: &WeightsHash) -> bool {
        self.lock().entries.contains_key(hash)
    }

    /// Counters and resident adapters, most recently used first.
    pub fn stats(&self) -> CacheStats {
        let cache = self.lock();
        let mut resident: Vec<(&WeightsHash, &Entry)> = cache.entries.iter().collect();
        resident.sort_by_key(|(_, entry)| std::cmp::Reverse(entry.last_used));
        CacheStats {
            adapters: resident.into_iter().map(|(hash, entry)| (*hash, entry.bytes)).collect(),
            ..cache.stats.clone()
        }
    }

    /// Generates with the base model, through `adapter` when given (no lock held).
    pub fn generate(
        &self,
        adapter: Option<Arc<Adapter>>,
        prompt: &[u32],
        params: &GenerationParams,
        on_token: impl FnMut(u32),
    ) -> Result<Generation, Error> {
        self.base.generate(adapter.as_deref(), prompt, params, on_token)
    }
}
