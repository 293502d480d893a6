//! The printed table and its JSON twin.

use crate::{
    corpus,
    measure::Latency,
    system::SystemRun,
    workload::{MAX_QUERY_TOKENS, TEXT_TOKENS, Workload},
};
use serde_json::{Value, json};
use std::{fmt::Write, time::Duration};

/// The systems' runs (None: skipped).
#[derive(Default)]
pub(crate) struct Runs {
    pub(crate) ours: Option<SystemRun>,
    pub(crate) tokengrams: Option<SystemRun>,
    pub(crate) infini_gram: Option<SystemRun>,
}

pub(crate) struct Report<'a> {
    pub(crate) quick: bool,
    pub(crate) corpus: corpus::Summary,
    pub(crate) workload: &'a Workload,
    pub(crate) runs: Runs,
    pub(crate) wall: Duration,
    pub(crate) load_average: String,
    pub(crate) cores: usize,
}

/// A value of one metric for each system; `None` where a system has no such
/// measurement or was skipped.
struct Row {
    label: &'static str,
    ours: Option<f64>,
    tokengrams: Option<f64>,
    infini_gram: Option<f64>,
    precision: usize,
    target: Option<Target>,
}

/// A target on one row: which reference ours is compared with, and how.
#[derive(Clone, Copy)]
struct Target {
    text: &'static str,
    /// Met when every `reference ÷ ours` named is at least this.
    references: &'static [Reference],
    at_least: f64,
}

#[derive(Clone, Copy, PartialEq)]
enum Reference {
    Tokengrams,
    InfiniGram,
}

impl Row {
    fn ratio(&self, reference: Option<f64>) -> Option<f64> {
        // A part of a build ("of which …") is context, not a comparison.
        if self.label.starts_with("  of which") {
            return None;
        }
        match (reference, self.ours) {
            (Some(reference), Some(ours)) if ours > 0.0 => Some(reference / ours),
            _ => None,
        }
    }

    /// Met, missed, or not measurable (a side missing).
    fn verdict(&self) -> Option<bool> {
        let target = self.target?;
        let mut met = true;
        for reference in target.references {
            let value = match reference {
                Reference::Tokengrams => self.tokengrams,
                Reference::InfiniGram => self.infini_gram,
            };
            met &= self.ratio(value)? >= target.at_least;
        }
        Some(met)
    }
}

fn p50(l: &Latency) -> f64 {
    l.p50
}

fn p99(l: &Latency) -> f64 {
    l.p99
}

const FASTER_THAN_BOTH: Target = Target {
    text: "faster than both",
    references: &[Reference::Tokengrams, Reference::InfiniGram],
    at_least: 1.0,
};
const COUNT_TARGET: Target =
    Target { text: "≤ tokengrams", references: &[Reference::Tokengrams], at_least: 1.0 };
const ATTRIBUTE_TARGET: Target = Target {
    text: "≥2× faster than infini-gram",
    references: &[Reference::InfiniGram],
    at_least: 2.0,
};
const DISK_TARGET: Target =
    Target { text: "≤ infini-gram", references: &[Reference::InfiniGram], at_least: 1.0 };

impl Report<'_> {
    fn each<T>(&self, f: impl Fn(&SystemRun) -> Option<T>) -> [Option<T>; 3] {
        [&self.runs.ours, &self.runs.tokengrams, &self.runs.infini_gram]
            .map(|run| run.as_ref().and_then(&f))
    }

    fn rows(&self) -> Vec<Row> {
        let row = |label, values: [Option<f64>; 3], precision, target| Row {
            label,
            ours: values[0],
            tokengrams: values[1],
            infini_gram: values[2],
            precision,
            target,
        };
        let count = self.each(|r| Latency::of(&r.count_seconds));
        let binding = self.each(|r| Latency::of(&r.count_binding_seconds));
        let longest = self.each(|r| Latency::of(&r.longest_match_seconds));
        let attribute = self.each(|r| Latency::of(&r.attribute_seconds));
        let at = |l: [Option<Latency>; 3], p: fn(&Latency) -> f64, scale: f64| {
            l.map(|l| l.map(|l| p(&l) * scale))
        };
        // The binding rows compare ours with the pybind call under infini-gram's `count`.
        let binding_row = |p: fn(&Latency) -> f64| {
            [count[0].map(|l| p(&l) * 1e6), None, binding[2].map(|l| p(&l) * 1e6)]
        };
        vec![
            row("index build, s", self.each(|r| Some(r.build.seconds)), 2, Some(FASTER_THAN_BOTH)),
            row(
                "  of which reading documents.jsonl, s",
                self.each(|r| r.build.load_seconds),
                2,
                None,
            ),
            row(
                "  of which the suffix array (infini-gram's log), s",
                [None, None, self.each(|r| r.build.suffix_array_seconds)[2]],
                2,
                None,
            ),
            row(
                "index open (page cache warm), ms",
                self.each(|r| r.build.open_seconds.map(|s| s * 1e3)),
                1,
                None,
            ),
            row(
                "build peak memory, MiB",
                self.each(|r| Some(r.build.peak_rss_bytes as f64 / 1048576.0)),
                0,
                None,
            ),
            row(
                "index on disk, bytes/token",
                self.each(|r| Some(r.build.disk_bytes as f64 / r.tokens.max(1) as f64)),
                3,
                Some(DISK_TARGET),
            ),
            row("count p50, µs", at(count, p50, 1e6), 2, Some(COUNT_TARGET)),
            row("count p99, µs", at(count, p99, 1e6), 2, None),
            row("  count p50, µs (infini-gram: pybind call)", binding_row(p50), 2, None),
            row("  count p99, µs (infini-gram: pybind call)", binding_row(p99), 2, None),
            row("longest match / 256-token text p50, ms", at(longest, p50, 1e3), 3, None),
            row("longest match / 256-token text p99, ms", at(longest, p99, 1e3), 3, None),
            row(
                "attribution / 256-token text p50, ms",
                at(attribute, p50, 1e3),
                3,
                Some(ATTRIBUTE_TARGET),
            ),
            row("attribution / 256-token text p99, ms", at(attribute, p99, 1e3), 3, None),
        ]
    }

    /// How many results agree between two systems (compared, agreeing).
    fn agreement<T: PartialEq>(a: Option<&Vec<T>>, b: Option<&Vec<T>>) -> Option<(usize, usize)> {
        let (a, b) = (a?, b?);
        if a.is_empty() || b.is_empty() {
            return None;
        }
        let compared = a.len().min(b.len());
        Some((compared, a.iter().zip(b).filter(|(x, y)| x == y).count()))
    }

    fn checks(&self) -> Vec<(String, Option<(usize, usize)>)> {
        let ours = self.runs.ours.as_ref();
        let tokengrams = self.runs.tokengrams.as_ref();
        let infini_gram = self.runs.infini_gram.as_ref();
        vec![
            (
                "count: ours = tokengrams".into(),
                Self::agreement(ours.map(|r| &r.counts), tokengrams.map(|r| &r.counts)),
            ),
            (
                "count: ours = infini-gram".into(),
                Self::agreement(ours.map(|r| &r.counts), infini_gram.map(|r| &r.counts)),
            ),
            (
                "count: tokengrams = infini-gram".into(),
                Self::agreement(tokengrams.map(|r| &r.counts), infini_gram.map(|r| &r.counts)),
            ),
            (
                "longest match at every position: ours = infini-gram creativity".into(),
                Self::agreement(
                    ours.map(|r| &r.longest_matches),
                    infini_gram.map(|r| &r.longest_matches),
                ),
            ),
            (
                format!(
                    "attribution: ours' spans seen ≤ {} times = infini-gram's spans",
                    self.workload.attribution.max_cnt
                ),
                self.span_agreement(),
            ),
        ]
    }

    /// Per text: ours' spans, kept only where infini-gram's `max_cnt` would
    /// keep them, against infini-gram's spans.
    fn span_agreement(&self) -> Option<(usize, usize)> {
        let ours = self.runs.ours.as_ref()?;
        let infini_gram = self.runs.infini_gram.as_ref()?;
        let max_cnt = self.workload.attribution.max_cnt;
        let normal = |spans: &Vec<[u64; 3]>, limit: u64| {
            let mut kept: Vec<[u64; 3]> = spans.iter().filter(|s| s[2] <= limit).copied().collect();
            kept.sort_unstable();
            kept
        };
        let ours: Vec<_> = ours.spans.iter().map(|s| normal(s, max_cnt)).collect();
        let theirs: Vec<_> = infini_gram.spans.iter().map(|s| normal(s, u64::MAX)).collect();
        Self::agreement(Some(&ours), Some(&theirs))
    }

    pub(crate) fn table(&self) -> String {
        let mut out = String::new();
        let w = self.workload;
        let _ = writeln!(
            out,
            "\nOpenLedger attribution benchmark: {} run, {} documents, {:.1} M tokens (bytes of UTF-8 text), \
             {} cores, load average at start {}, {:.0} s wall",
            if self.quick { "quick" } else { "full" },
            self.corpus.documents,
            self.corpus.bytes as f64 / 1e6,
            self.cores,
            self.load_average,
            self.wall.as_secs_f64(),
        );
        let _ = writeln!(
            out,
            "workload (seed {:#x}): {} count queries of 1..={} bytes; {} texts of {} bytes, {:.0}% copied from the corpus in \
             16..96-byte spans, the rest made-up words; attribution: spans of ≥ {} tokens, infini-gram max_cnt {}, ours max_listed {}\n",
            w.seed,
            w.count_queries.len(),
            MAX_QUERY_TOKENS,
            w.texts.len(),
            TEXT_TOKENS,
            100.0 * w.copied_bytes as f64 / (w.texts.len() * TEXT_TOKENS).max(1) as f64,
            w.attribution.min_len,
            w.attribution.max_cnt,
            w.attribution.max_listed,
        );
        let _ = writeln!(
            out,
            "{:<46} {:>11} {:>11} {:>11}  {:>8} {:>8}  target",
            "metric", "ours", "tokengrams", "infini-gram", "tg÷ours", "ig÷ours"
        );
        let cell =
            |v: Option<f64>, p: usize| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.p$}"));
        let ratio = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}×"));
        for row in self.rows() {
            let target = match (row.target, row.verdict()) {
                (Some(t), Some(true)) => format!("{}: MET", t.text),
                (Some(t), Some(false)) => format!("{}: MISSED", t.text),
                (Some(t), None) => format!("{}: not measured", t.text),
                (None, _) => String::new(),
            };
            let _ = writeln!(
                out,
                "{:<46} {:>11} {:>11} {:>11}  {:>8} {:>8}  {}",
                row.label,
                cell(row.ours, row.precision),
                cell(row.tokengrams, row.precision),
                cell(row.infini_gram, row.precision),
                ratio(row.ratio(row.tokengrams)),
                ratio(row.ratio(row.infini_gram)),
                target
            );
        }
        let _ = writeln!(out, "\ncross-checks (same answers?):");
        for (what, agreement) in self.checks() {
            let verdict = match agreement {
                Some((n, same)) if n == same => format!("all {n} agree"),
                Some((n, same)) => format!("{same} of {n} agree"),
                None => "not compared".into(),
            };
            let _ = writeln!(out, "  {what:<64} {verdict}");
        }
        let spans = self
            .each(|r| (!r.spans.is_empty()).then(|| r.spans.iter().map(Vec::len).sum::<usize>()));
        let _ = writeln!(
            out,
            "  attributed spans over all texts: ours {}, infini-gram {} (ours keeps spans of any frequency)",
            spans[0].map_or("—".into(), |n| n.to_string()),
            spans[2].map_or("—".into(), |n| n.to_string()),
        );
        out.push_str(HOW_MEASURED);
        out
    }

    pub(crate) fn json(&self) -> Value {
        let system = |run: &Option<SystemRun>| {
            run.as_ref().map(|r| {
                json!({
                    "build": r.build,
                    "tokens": r.tokens,
                    "count": Latency::of(&r.count_seconds),
                    "count_binding": Latency::of(&r.count_binding_seconds),
                    "longest_match": Latency::of(&r.longest_match_seconds),
                    "attribute": Latency::of(&r.attribute_seconds),
                    "attributed_spans": r.spans.iter().map(Vec::len).sum::<usize>(),
                })
            })
        };
        let rows: Vec<Value> = self
            .rows()
            .iter()
            .map(|row| {
                json!({
                    "metric": row.label.trim(),
                    "ours": row.ours,
                    "tokengrams": row.tokengrams,
                    "infini_gram": row.infini_gram,
                    "tokengrams_over_ours": row.ratio(row.tokengrams),
                    "infini_gram_over_ours": row.ratio(row.infini_gram),
                    "target": row.target.map(|t| t.text),
                    "met": row.verdict(),
                })
            })
            .collect();
        let checks: Vec<Value> = self
            .checks()
            .into_iter()
            .map(|(what, a)| json!({ "check": what, "compared": a.map(|a| a.0), "agree": a.map(|a| a.1) }))
            .collect();
        json!({
            "quick": self.quick,
            "corpus": { "documents": self.corpus.documents, "tokens": self.corpus.bytes },
            "workload": {
                "seed": self.workload.seed,
                "count_queries": self.workload.count_queries.len(),
                "texts": self.workload.texts.len(),
                "attribution": self.workload.attribution,
            },
            "rows": rows,
            "checks": checks,
            "systems": {
                "ours": system(&self.runs.ours),
                "tokengrams": system(&self.runs.tokengrams),
                "infini_gram": system(&self.runs.infini_gram),
            },
            "cores": self.cores,
            "load_average": self.load_average,
            "wall_seconds": self.wall.as_secs_f64(),
        })
    }
}

const HOW_MEASURED: &str = "
how each is measured (ratios are reference ÷ ours: above 1× means ours is faster / smaller):
  * every system reads the same documents.jsonl and indexes the same byte tokens, documents separated by 0xFF;
    each runs in its own child process, one after another, on the same machine.
  * build: wall time from documents.jsonl on disk to an index ready to query. ours: parse + build_index (writes
    its files) + Index::open. tokengrams: parse + SuffixTable::new in memory (u16 tokens; it writes nothing).
    infini-gram: the whole `python -m infini_gram.indexing --token_dtype u8` command (its tokenize step reads the
    JSONL; a stand-in replaces the transformers import it makes but never uses in byte mode).
  * open: right after the build (page cache warm), ours Index::open (checks the files, builds the
    range-minimum levels from the suffix array and the keys of every 128th suffix; included in ours' build
    time), infini-gram InfiniGramEngine(...) (not in its build time).
  * peak memory: VmHWM of the worker process (parsed corpus included) for ours and tokengrams; for infini-gram
    the resident memory of its indexing process tree, summed over processes, sampled every 10 ms.
  * bytes/token: the index folder's files ÷ indexed tokens (separators included); tokengrams' figure is its
    MemmapIndex layout (2-byte text + 8-byte table per token), computed, not written.
  * latencies: each call timed alone (Rust Instant around the call; infini-gram time.perf_counter() around the
    Python call, in-process): one untimed pass over the inputs, then 3 timed passes; each input counts its
    fastest pass (damps other work on a shared machine). Nearest-rank p50/p99 over the inputs.
    count: ours Index::count, tokengrams SuffixTable::positions().len() (= its InMemoryIndex::count),
    infini-gram InfiniGramEngine.count (and the pybind Engine_U8.count under it, without Python's checks).
    longest match: ours Index::longest_matches (one call gives the longest match at every position);
    infini-gram creativity(), its per-position longest match (one call per text); tokengrams has none.
    attribution: ours span::attribute (maximal spans ≥ min_len of any frequency, each credited to its earliest
    contribution, up to max_listed listed, weights in basis points); infini-gram attribute(delim_ids=[],
    enforce_bow=False) (OLMoTrace's: maximal spans ≥ min_len seen ≤ max_cnt times, each occurrence's document).
";
