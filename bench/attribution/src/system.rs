//! What each system's run reports: the same JSON shape from the Rust workers
//! and from `infini_gram_bench.py`.

use eyre::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Building one system's index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Build {
    /// Wall seconds from `documents.jsonl` on disk to an index ready to query.
    pub(crate) seconds: f64,
    /// Peak resident memory of the build (the worker process, or for
    /// infini-gram the indexing process tree), bytes.
    pub(crate) peak_rss_bytes: u64,
    /// Bytes of the index on disk.
    pub(crate) disk_bytes: u64,
    /// How `disk_bytes` was found, where not by listing the index folder.
    #[serde(default)]
    pub(crate) disk_note: Option<String>,
    /// Seconds of that spent reading and parsing `documents.jsonl` (ours,
    /// tokengrams; infini-gram's own tokenize step reads it).
    #[serde(default)]
    pub(crate) load_seconds: Option<f64>,
    /// infini-gram: seconds of its suffix-array step alone (its log).
    #[serde(default)]
    pub(crate) suffix_array_seconds: Option<f64>,
    /// Seconds to open the built index, page cache warm: ours `Index::open`
    /// (part of `seconds`; it builds the range-minimum levels and the sample
    /// keys from the suffix array), infini-gram `InfiniGramEngine(...)` (not part of
    /// `seconds`). tokengrams has nothing to open.
    #[serde(default)]
    pub(crate) open_seconds: Option<f64>,
}

/// One system's build and query results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SystemRun {
    pub(crate) system: String,
    pub(crate) build: Build,
    /// Tokens in the index, separators included.
    pub(crate) tokens: u64,
    /// Seconds of each count query (workload order).
    pub(crate) count_seconds: Vec<f64>,
    /// infini-gram: seconds of the pybind call under `count`.
    #[serde(default)]
    pub(crate) count_binding_seconds: Vec<f64>,
    pub(crate) counts: Vec<u64>,
    /// Seconds of each text's longest-match call.
    #[serde(default)]
    pub(crate) longest_match_seconds: Vec<f64>,
    /// For each text, the length of the longest corpus match starting at
    /// each position.
    #[serde(default)]
    pub(crate) longest_matches: Vec<Vec<u32>>,
    /// Seconds of each text's span attribution.
    #[serde(default)]
    pub(crate) attribute_seconds: Vec<f64>,
    /// For each text, its attributed spans as `[start, end, count]`.
    #[serde(default)]
    pub(crate) spans: Vec<Vec<[u64; 3]>>,
}

/// Reads a system's report.
pub(crate) fn read(path: &Path) -> eyre::Result<SystemRun> {
    let bytes = std::fs::read(path).wrap_err_with(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).wrap_err_with(|| format!("parsing {}", path.display()))
}
