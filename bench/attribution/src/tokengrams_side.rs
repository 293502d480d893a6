//! tokengrams (EleutherAI, crates.io 0.3) in-process: its `SuffixTable` over
//! the corpus's bytes widened to `u16` tokens (tokengrams has no narrower
//! token type), documents separated by `0xFF` as infini-gram does; a count is
//! `positions(query).len()`, which is what its `InMemoryIndex::count` does.

use crate::{corpus, measure, system, workload::Workload};
use std::{path::Path, time::Instant};
use tokengrams::SuffixTable;

/// The document separator (never a byte of UTF-8).
const SEPARATOR: u16 = 0xFF;

pub(crate) fn run(documents: &Path, workload: &Workload) -> eyre::Result<system::SystemRun> {
    let started = Instant::now();
    let documents = corpus::load(documents)?;
    let load_seconds = started.elapsed().as_secs_f64();
    let bytes: usize = documents.iter().map(|d| d.text.len() + 1).sum();
    let mut text: Vec<u16> = Vec::with_capacity(bytes);
    for document in &documents {
        text.push(SEPARATOR);
        text.extend(document.text.bytes().map(u16::from));
    }
    drop(documents);
    let table = SuffixTable::new(text, false);
    let seconds = started.elapsed().as_secs_f64();
    let peak_rss_bytes = measure::peak_rss_bytes();
    let tokens = table.len() as u64;
    eprintln!("tokengrams: built in {seconds:.1} s");

    let widen = |s: &String| s.bytes().map(u16::from).collect::<Vec<_>>();
    let queries: Vec<Vec<u16>> = workload.count_queries.iter().map(widen).collect();
    let (count_seconds, counts) = measure::timed(&queries, |q| table.positions(q).len() as u64);
    Ok(system::SystemRun {
        system: "tokengrams".into(),
        build: system::Build {
            seconds,
            peak_rss_bytes,
            // Its on-disk form (MemmapIndex) is the u16 text plus the u64 table.
            disk_bytes: tokens * (2 + 8),
            disk_note: Some("u16 text + u64 suffix table (its MemmapIndex files), computed".into()),
            load_seconds: Some(load_seconds),
            suffix_array_seconds: None,
            open_seconds: None,
        },
        tokens,
        count_seconds,
        count_binding_seconds: Vec::new(),
        counts,
        longest_match_seconds: Vec::new(),
        longest_matches: Vec::new(),
        attribute_seconds: Vec::new(),
        spans: Vec::new(),
    })
}
