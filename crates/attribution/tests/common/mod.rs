//! Shared helpers for the index and span tests: the Shakespeare corpus and
//! naive reference implementations to check the index against.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::path::Path;

use ol_attribution::index::{Document, IndexManifest, MANIFEST_FILE};
use ol_attribution::span::{AttributedSpan, Attribution, ContributionShare, rarity};
use ol_attribution::tokenizer::Tokenizer;

/// The test texts, in the order they are accepted.
pub const TEXTS: [&str; 3] = ["macbeth_gut.txt", "sonnets_gut.txt", "macbeth_gut_f.txt"];

/// Reads a test text.
pub fn text(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The corpus as documents: each text cut into documents of
/// `paragraphs_per_document` paragraphs (one row each), the first
/// `max_bytes` bytes of each text only. Ids count down from 90,000 so that
/// acceptance order and id order differ.
pub fn shakespeare(paragraphs_per_document: usize, max_bytes: usize) -> Vec<Document> {
    let mut documents = Vec::new();
    for name in TEXTS {
        let text = text(name);
        let cut =
            text.char_indices().map(|(i, _)| i).take_while(|&i| i <= max_bytes).last().unwrap_or(0);
        let text = if max_bytes >= text.len() { &text[..] } else { &text[..cut] };
        let paragraphs: Vec<String> =
            text.split("\n\n").map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect();
        for chunk in paragraphs.chunks(paragraphs_per_document) {
            let id = 90_000 - documents.len() as u64 * 3;
            documents.push(Document { id, rows: chunk.to_vec() });
        }
    }
    documents
}

/// Each document's tokens as the index lays them out: every row followed by
/// the separator.
pub fn document_tokens(tokenizer: &Tokenizer, documents: &[Document]) -> Vec<Vec<u32>> {
    documents
        .iter()
        .map(|d| {
            let mut tokens = Vec::new();
            for row in &d.rows {
                tokens.extend(tokenizer.encode(row));
                tokens.push(tokenizer.separator());
            }
            tokens
        })
        .collect()
}

/// Occurrences of `pattern` in `haystack`, by scanning.
pub fn naive_count(haystack: &[u32], pattern: &[u32]) -> u64 {
    if pattern.is_empty() {
        return haystack.len() as u64;
    }
    haystack.windows(pattern.len()).filter(|w| *w == pattern).count() as u64
}

/// Whether `pattern` occurs in `haystack`.
pub fn occurs(haystack: &[u32], pattern: &[u32]) -> bool {
    pattern.is_empty() || haystack.windows(pattern.len()).any(|w| w == pattern)
}

/// ∞-gram suffix lengths by brute force; tokens at or above `separator`
/// match nothing.
pub fn naive_longest_matches(corpus: &[u32], text: &[u32], separator: u32) -> Vec<u32> {
    (0..text.len())
        .map(|i| {
            let mut best = 0;
            for len in 1..=i + 1 {
                let suffix = &text[i + 1 - len..=i];
                if suffix.iter().all(|&t| t < separator) && occurs(corpus, suffix) {
                    best = len;
                } else {
                    break;
                }
            }
            best as u32
        })
        .collect()
}

/// Span attribution straight from its definition (module docs of
/// `ol_attribution::span`), by scanning every document.
pub fn naive_attribute(
    documents: &[Vec<u32>],
    ids: &[u64],
    num_tokens: u64,
    text: &[u32],
    min_span: usize,
    max_listed: usize,
    excluded: &BTreeSet<u64>,
) -> Attribution {
    let min_span = min_span.max(1);
    let allowed: Vec<usize> =
        (0..documents.len()).filter(|&d| !excluded.contains(&ids[d])).collect();
    let occurs_allowed = |pattern: &[u32]| allowed.iter().any(|&d| occurs(&documents[d], pattern));
    let n = text.len();
    // Longest allowed match at each start.
    let longest: Vec<usize> = (0..n)
        .map(|j| {
            (0..=n - j)
                .take_while(|&len| len == 0 || occurs_allowed(&text[j..j + len]))
                .last()
                .unwrap_or(0)
        })
        .collect();
    struct Candidate {
        start: usize,
        end: usize,
        occurrences: u64,
        documents: Vec<usize>,
    }
    let mut candidates = Vec::new();
    for j in 0..n {
        let end = j + longest[j];
        if longest[j] < min_span || (0..j).any(|k| k + longest[k] >= end) {
            continue;
        }
        let pattern = &text[j..end];
        let occurrences = allowed.iter().map(|&d| naive_count(&documents[d], pattern)).sum();
        let containing =
            allowed.iter().copied().filter(|&d| occurs(&documents[d], pattern)).collect();
        candidates.push(Candidate { start: j, end, occurrences, documents: containing });
    }
    if candidates.is_empty() {
        return Attribution { matched: false, spans: vec![], shares: vec![] };
    }
    let mut won = vec![0u64; candidates.len()];
    for t in 0..n {
        let best = (0..candidates.len())
            .filter(|&c| candidates[c].start <= t && t < candidates[c].end)
            .min_by_key(|&c| {
                let s = &candidates[c];
                (std::cmp::Reverse(s.end - s.start), s.occurrences, s.start)
            });
        if let Some(c) = best {
            won[c] += 1;
        }
    }
    let rarities: Vec<u64> = candidates.iter().map(|c| rarity(num_tokens, c.occurrences)).collect();
    let mut weights: Vec<(usize, u64)> = Vec::new();
    for (c, candidate) in candidates.iter().enumerate() {
        if won[c] == 0 {
            continue;
        }
        let d = candidate.documents[0];
        match weights.iter_mut().find(|(doc, _)| *doc == d) {
            Some((_, w)) => *w += won[c] * rarities[c],
            None => weights.push((d, won[c] * rarities[c])),
        }
    }
    weights.sort();
    let total: u128 = weights.iter().map(|&(_, w)| u128::from(w)).sum();
    let mut bps: Vec<u16> =
        weights.iter().map(|&(_, w)| (u128::from(w) * 10_000 / total) as u16).collect();
    let mut left = 10_000 - bps.iter().map(|&b| u32::from(b)).sum::<u32>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(u128::from(weights[i].1) * 10_000 % total), i));
    for i in order {
        if left == 0 {
            break;
        }
        bps[i] += 1;
        left -= 1;
    }
    let spans = candidates
        .iter()
        .enumerate()
        .map(|(c, s)| AttributedSpan {
            start: s.start as u64,
            end: s.end as u64,
            occurrences: s.occurrences,
            rarity: rarities[c],
            tokens_won: won[c],
            credited: ids[s.documents[0]],
            contributions: s.documents.iter().take(max_listed).map(|&d| ids[d]).collect(),
            truncated: s.documents.len() > max_listed,
        })
        .collect();
    let shares = weights
        .iter()
        .zip(bps)
        .map(|(&(d, weight), bps)| ContributionShare { contribution: ids[d], weight, bps })
        .collect();
    Attribution { matched: true, spans, shares }
}

/// Reads the manifest of the index in `dir`.
pub fn read_manifest(dir: &Path) -> IndexManifest {
    let bytes = std::fs::read(dir.join(MANIFEST_FILE)).expect("manifest exists");
    serde_json::from_slice(&bytes).expect("manifest parses")
}

/// Writes `manifest` into `dir`, recomputing `index_hash` when `rehash`.
pub fn write_manifest(dir: &Path, mut manifest: IndexManifest, rehash: bool) {
    if rehash {
        manifest.index_hash = manifest.compute_index_hash();
    }
    std::fs::write(
        dir.join(MANIFEST_FILE),
        serde_json::to_vec_pretty(&manifest).expect("serialises"),
    )
    .expect("manifest written");
}
