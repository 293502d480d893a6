//! OpenLedger's index (`ol-attribution`), in-process: `build_index` with the
//! byte tokenizer, one row per document (so the token stream is each
//! document's bytes followed by `0xFF`, the same stream infini-gram indexes),
//! then `Index::open` and the queries.

use crate::{corpus, measure, system, workload::Workload};
use ol_attribution::{
    index::{Document, Index, build_index},
    tokenizer::Tokenizer,
};
use std::{path::Path, time::Instant};

pub(crate) fn run(
    documents: &Path,
    dir: &Path,
    workload: &Workload,
) -> eyre::Result<system::SystemRun> {
    let tokenizer = Tokenizer::byte();
    let _ = std::fs::remove_dir_all(dir);
    let started = Instant::now();
    let documents: Vec<Document> = corpus::load(documents)?
        .into_iter()
        .map(|d| Document { id: d.id, rows: vec![d.text] })
        .collect();
    let load_seconds = started.elapsed().as_secs_f64();
    build_index(dir, &tokenizer, &documents, &mut |_| {})?;
    drop(documents);
    let opening = Instant::now();
    let index = Index::open(dir)?;
    let open_seconds = opening.elapsed().as_secs_f64();
    let seconds = started.elapsed().as_secs_f64();
    let peak_rss_bytes = measure::peak_rss_bytes();
    eprintln!("ours: built in {seconds:.1} s");

    let queries: Vec<Vec<u32>> =
        workload.count_queries.iter().map(|q| tokenizer.encode(q)).collect();
    let texts: Vec<Vec<u32>> = workload.texts.iter().map(|t| tokenizer.encode(t)).collect();
    let (count_seconds, counts) = measure::timed(&queries, |q| index.count(q));
    let (longest_match_seconds, longest_matches) =
        measure::timed(&texts, |t| index.longest_matches(t));
    let (attribute_seconds, spans) = attribute::run(&index, &texts, workload);
    Ok(system::SystemRun {
        system: "ours".into(),
        build: system::Build {
            seconds,
            peak_rss_bytes,
            disk_bytes: measure::dir_bytes(dir)?,
            disk_note: None,
            load_seconds: Some(load_seconds),
            suffix_array_seconds: None,
            open_seconds: Some(open_seconds),
        },
        tokens: index.num_tokens(),
        count_seconds,
        count_binding_seconds: Vec::new(),
        counts,
        longest_match_seconds,
        longest_matches,
        attribute_seconds,
        spans,
    })
}

/// Span attribution with `span::attribute`, nothing excluded.
mod attribute {
    use ol_attribution::{
        index::Index,
        span::{AttributionParams, attribute},
    };
    use std::collections::BTreeSet;

    use crate::{measure, workload::Workload};

    pub(super) fn run(
        index: &Index,
        texts: &[Vec<u32>],
        workload: &Workload,
    ) -> (Vec<f64>, Vec<Vec<[u64; 3]>>) {
        let params = AttributionParams {
            min_span: workload.attribution.min_len as usize,
            max_listed: workload.attribution.max_listed,
        };
        let excluded = BTreeSet::new();
        let (seconds, attributions) =
            measure::timed(texts, |t| attribute(index, t, &params, &excluded));
        let spans = attributions
            .iter()
            .map(|a| a.spans.iter().map(|s| [s.start, s.end, s.occurrences]).collect())
            .collect();
        (seconds, spans)
    }
}
