//! The queries every system answers, drawn once from the corpus with a fixed
//! seed: count queries (n-grams of 1..=16 bytes at uniformly random corpus
//! positions) and 256-byte texts that mix corpus spans with novel words.
//!
//! Everything is cut at UTF-8 character boundaries, so each query and text is
//! valid text that each system tokenizes the same way (bytes).

use crate::corpus::CorpusDocument;
use serde::{Deserialize, Serialize};

/// The seed of every draw.
pub(crate) const SEED: u64 = 0x0e4_1ed9_2024;

/// Length of each attribution text, in tokens (bytes).
pub(crate) const TEXT_TOKENS: usize = 256;

/// Longest count query, in bytes.
pub(crate) const MAX_QUERY_TOKENS: usize = 16;

/// Span attribution settings given to both attributing systems.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct AttributionSettings {
    /// Shortest span reported, in tokens.
    pub(crate) min_len: u32,
    /// infini-gram only: spans occurring more often than this are dropped
    /// (OLMoTrace's setting; ours keeps every span, so does more work).
    pub(crate) max_cnt: u64,
    /// Ours only: most contributions listed per span.
    pub(crate) max_listed: usize,
}

/// The workload.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Workload {
    pub(crate) seed: u64,
    pub(crate) count_queries: Vec<String>,
    pub(crate) texts: Vec<String>,
    /// How many bytes of the texts were copied from the corpus.
    pub(crate) copied_bytes: usize,
    pub(crate) attribution: AttributionSettings,
}

impl Workload {
    pub(crate) fn draw(documents: &[CorpusDocument], queries: usize, texts: usize) -> Self {
        let mut sampler = Sampler::new(documents, SEED);
        let count_queries = (0..queries)
            .map(|_| {
                let length = 1 + sampler.random.below(MAX_QUERY_TOKENS as u64) as usize;
                sampler.span(length)
            })
            .collect();
        let mut copied_bytes = 0;
        let texts = (0..texts)
            .map(|_| {
                let mut text = String::with_capacity(TEXT_TOKENS + 128);
                while text.len() < TEXT_TOKENS {
                    let length = 16 + sampler.random.below(81) as usize;
                    let copied = sampler.span(length);
                    copied_bytes += copied.len();
                    text.push_str(&copied);
                    text.push(' ');
                    let length = 8 + sampler.random.below(25) as usize;
                    sampler.novel_words(&mut text, length);
                    text.push(' ');
                }
                let mut end = TEXT_TOKENS;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
                while text.len() < TEXT_TOKENS {
                    text.push('x');
                }
                text
            })
            .collect();
        Self {
            seed: SEED,
            count_queries,
            texts,
            copied_bytes,
            attribution: AttributionSettings { min_len: 16, max_cnt: 10, max_listed: 16 },
        }
    }
}

/// Draws spans of the corpus at uniformly random byte positions.
struct Sampler<'a> {
    documents: &'a [CorpusDocument],
    /// `ends[i]`: total bytes of documents `0..=i`.
    ends: Vec<u64>,
    random: SplitMix64,
}

impl<'a> Sampler<'a> {
    fn new(documents: &'a [CorpusDocument], seed: u64) -> Self {
        let mut total = 0;
        let ends = documents
            .iter()
            .map(|d| {
                total += d.text.len() as u64;
                total
            })
            .collect();
        Self { documents, ends, random: SplitMix64(seed) }
    }

    /// A substring of about `length` bytes (cut at character boundaries),
    /// starting at a uniformly random corpus position.
    fn span(&mut self, length: usize) -> String {
        let total = *self.ends.last().expect("the corpus has documents");
        loop {
            let position = self.random.below(total);
            let index = self.ends.partition_point(|&end| end <= position);
            let text = &self.documents[index].text;
            let mut start = (position - (self.ends[index] - text.len() as u64)) as usize;
            while !text.is_char_boundary(start) {
                start += 1;
            }
            let mut end = start + length;
            while end < text.len() && !text.is_char_boundary(end) {
                end += 1;
            }
            if end <= text.len() && end > start {
                return text[start..end].to_owned();
            }
        }
    }

    /// Appends about `length` bytes of made-up lowercase words, which a real
    /// corpus almost never contains in that order.
    fn novel_words(&mut self, text: &mut String, length: usize) {
        const CONSONANTS: &[u8] = b"bcdfghjklmnpqrstvwxz";
        const VOWELS: &[u8] = b"aeiouy";
        let start = text.len();
        while text.len() - start < length {
            for _ in 0..2 + self.random.below(3) {
                text.push(CONSONANTS[self.random.below(CONSONANTS.len() as u64) as usize] as char);
                text.push(VOWELS[self.random.below(VOWELS.len() as u64) as usize] as char);
            }
            text.push(' ');
        }
    }
}

/// A small, fixed pseudo-random generator (SplitMix64), so the workload never
/// changes with a dependency's version.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (bound > 0; the modulo bias is negligible here).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}
