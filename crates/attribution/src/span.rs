//! Span attribution: which contributions an output text copies from, and
//! how an inference's data share is split among them.
//!
//! # Method (a pure function of index, text tokens, parameters, exclusions)
//!
//! 1. **Spans.** A span is a maximal run `text[start..end)` of at least
//!    `min_span` tokens that occurs in at least one non-excluded document
//!    of the index, and is not contained in another such run (found with
//!    matching statistics, [`crate::index`]). Runs occurring only in
//!    excluded (withdrawn) contributions do not count.
//! 2. **Per span:** `occurrences` = its occurrences in non-excluded
//!    documents; `contributions` = the distinct non-excluded contributions
//!    containing it, in acceptance order, at most `max_listed`
//!    (`truncated` when there are more); `credited` = the first of them, the
//!    earliest-accepted one (found with the range-minimum structure; the
//!    first copy of a text is the one rewarded).
//! 3. **Rarity** (Q16.16 fixed point, integers only):
//!    `rarity = max(1, log2_q16(N + 1) − log2_q16(occurrences))`, N being
//!    the index's token count and [`log2_q16`] the integer base-2 logarithm
//!    with 16 fraction bits (repeated squaring, truncating). A span seen
//!    once in a 2^20-token corpus weighs 20.0, one seen 2^10 times 10.0.
//! 4. **Tokens.** Each text token covered by at least one span is won by the
//!    covering span with the greatest length; ties go to the rarer span
//!    (fewer occurrences), then to the earlier start.
//! 5. **Raw weight** of a contribution = Σ, over the spans crediting it, of
//!    `tokens won × rarity`.
//! 6. **Basis points** (sum exactly 10,000): with W the total raw weight,
//!    each contribution gets `floor(10_000 · w / W)`; the remaining points
//!    go one each to the largest remainders `10_000 · w mod W`, ties to the
//!    earlier-accepted contribution. Shares are listed in acceptance order.
//!
//! No span means no attribution: `matched` is false and both lists are empty.
//! No floating point is used anywhere, so every node computes the same
//! result bit for bit.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::index::{Corpus, Index, Symbol, View};

/// Basis points distributed among contributions when anything matches.
pub const TOTAL_BPS: u16 = 10_000;

/// Parameters of span attribution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributionParams {
    /// Shortest span, in tokens, that counts (0 is read as 1).
    pub min_span: usize,
    /// Most contributions listed per span.
    pub max_listed: usize,
}

impl Default for AttributionParams {
    fn default() -> Self {
        Self { min_span: 8, max_listed: 16 }
    }
}

/// The attribution of one text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribution {
    /// Whether any span matched; false means "no attribution".
    pub matched: bool,
    /// The spans, by start.
    pub spans: Vec<AttributedSpan>,
    /// Each credited contribution's share, in acceptance order; the `bps`
    /// sum to exactly [`TOTAL_BPS`] when `matched`.
    pub shares: Vec<ContributionShare>,
}

/// One matched span of the text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributedSpan {
    /// First token (position in the text).
    pub start: u64,
    /// One past the last token.
    pub end: u64,
    /// Occurrences in non-excluded contributions.
    pub occurrences: u64,
    /// Q16.16 rarity weight per token won.
    pub rarity: u64,
    /// Text tokens this span won.
    pub tokens_won: u64,
    /// The earliest-accepted non-excluded contribution containing it.
    pub credited: u64,
    /// Non-excluded contributions containing it, in acceptance order.
    pub contributions: Vec<u64>,
    /// Whether more contributions contain it than are listed.
    pub truncated: bool,
}

/// A contribution's part of the data share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContributionShare {
    /// The contribution id.
    pub contribution: u64,
    /// Raw weight: Σ tokens won × rarity (Q16.16) over its spans.
    pub weight: u64,
    /// Basis points of the data share.
    pub bps: u16,
}

/// Base-2 logarithm of `x` in Q16.16 fixed point, truncated; 0 for `x <= 1`.
/// Integer-only (repeated squaring), so identical on every machine.
pub fn log2_q16(x: u64) -> u64 {
    if x <= 1 {
        return 0;
    }
    let integer = 63 - u64::from(x.leading_zeros());
    // The mantissa x / 2^integer in [1, 2), as Q1.62.
    let mut y: u128 = if integer <= 62 {
        u128::from(x) << (62 - integer)
    } else {
        u128::from(x) >> (integer - 62)
    };
    let mut fraction = 0u64;
    for bit in (0..16).rev() {
        y = (y * y) >> 62;
        if y >= 1 << 63 {
            y >>= 1;
            fraction |= 1 << bit;
        }
    }
    (integer << 16) | fraction
}

/// Rarity of a span occurring `occurrences` times in `num_tokens` tokens:
/// `max(1, log2_q16(N + 1) − log2_q16(occurrences))`.
pub fn rarity(num_tokens: u64, occurrences: u64) -> u64 {
    log2_q16(num_tokens.saturating_add(1)).saturating_sub(log2_q16(occurrences)).max(1)
}

/// Attributes `text_tokens` (tokenised with the index's tokenizer) to the
/// index's contributions, ignoring the contribution ids in `excluded`. See
/// the module documentation for the exact method.
pub fn attribute(
    index: &Index,
    text_tokens: &[u32],
    params: &AttributionParams,
    excluded: &BTreeSet<u64>,
) -> Attribution {
    let mut excluded_documents: Vec<usize> =
        excluded.iter().filter_map(|&id| index.document_index(id)).collect();
    excluded_documents.sort_unstable();
    let found = match index.view() {
        View::Byte(corpus) => find_spans(&corpus, text_tokens, params, &excluded_documents),
        View::Wide(corpus) => find_spans(&corpus, text_tokens, params, &excluded_documents),
    };
    weigh(index, found)
}

/// A span before weighing: documents as acceptance-order indices.
struct Found {
    start: usize,
    end: usize,
    occurrences: u64,
    documents: Vec<usize>,
    listed: usize,
    truncated: bool,
}

fn find_spans<S: Symbol>(
    corpus: &Corpus<'_, S>,
    text: &[u32],
    params: &AttributionParams,
    excluded: &[usize],
) -> Vec<Found> {
    let min_span = params.min_span.max(1);
    let query = corpus.query(text);
    let allowed = |d: usize| excluded.binary_search(&d).is_err();
    // Without exclusions every occurring prefix counts; with them, a prefix
    // of `min_span` tokens or more must occur in an allowed document.
    let condition: Option<&dyn Fn(usize) -> bool> =
        if excluded.is_empty() { None } else { Some(&allowed) };
    let statistics = corpus.matching_statistics_where(&query, min_span, condition);
    let excluded_tokens = corpus.token_ranges(excluded);
    let mut found = Vec::new();
    let mut reach = 0usize;
    let mut pattern: Vec<S> = Vec::new();
    for (start, longest) in statistics.iter().enumerate() {
        let (len, range) = (longest.len, longest.range.clone());
        // Ends never decrease; a span is maximal when it reaches further
        // than every earlier one.
        if len < min_span || start + len <= reach {
            continue;
        }
        reach = start + len;
        pattern.clear();
        pattern.extend(query[start..start + len].iter().flatten());
        let occurrences = if excluded.is_empty() {
            range.len() as u64
        } else {
            (range.len() as u64).saturating_sub(corpus.count_within(
                &pattern,
                range.clone(),
                &excluded_tokens,
            ))
        };
        let listed = params.max_listed;
        let (documents, more) = corpus.documents_in(range, &allowed, listed.max(1));
        if documents.is_empty() {
            // Only a corrupt index gets here: the condition above found one.
            continue;
        }
        let truncated = more || documents.len() > listed;
        found.push(Found { start, end: start + len, occurrences, documents, listed, truncated });
    }
    found
}

fn weigh(index: &Index, found: Vec<Found>) -> Attribution {
    if found.is_empty() {
        return Attribution { matched: false, spans: Vec::new(), shares: Vec::new() };
    }
    let num_tokens = index.num_tokens();
    let rarities: Vec<u64> = found.iter().map(|s| rarity(num_tokens, s.occurrences)).collect();
    let text_len = found.iter().map(|s| s.end).max().unwrap_or(0);
    let mut winner: Vec<Option<usize>> = vec![None; text_len];
    for (s, span) in found.iter().enumerate() {
        for slot in &mut winner[span.start..span.end] {
            let wins = match *slot {
                None => true,
                Some(w) => beats(span, &found[w]),
            };
            if wins {
                *slot = Some(s);
            }
        }
    }
    let mut tokens_won = vec![0u64; found.len()];
    for s in winner.into_iter().flatten() {
        tokens_won[s] += 1;
    }
    // Raw weight per credited document (acceptance order).
    let mut weights: BTreeMap<usize, u64> = BTreeMap::new();
    for (s, span) in found.iter().enumerate() {
        if tokens_won[s] > 0 {
            let weight = weights.entry(span.documents[0]).or_default();
            *weight = weight.saturating_add(tokens_won[s].saturating_mul(rarities[s]));
        }
    }
    let id = |d: usize| index.contribution_at(d);
    let bps = largest_remainder(&weights.values().copied().collect::<Vec<_>>());
    let shares = weights
        .iter()
        .zip(bps)
        .map(|((d, &weight), bps)| ContributionShare { contribution: id(*d), weight, bps })
        .collect();
    let spans = found
        .iter()
        .enumerate()
        .map(|(s, span)| AttributedSpan {
            start: span.start as u64,
            end: span.end as u64,
            occurrences: span.occurrences,
            rarity: rarities[s],
            tokens_won: tokens_won[s],
            credited: id(span.documents[0]),
            contributions: span.documents.iter().take(span.listed).map(|&d| id(d)).collect(),
            truncated: span.truncated,
        })
        .collect();
    Attribution { matched: true, spans, shares }
}

/// Whether span `a` wins a token over span `b`: longer, then rarer, then
/// earlier.
fn beats(a: &Found, b: &Found) -> bool {
    let key = |s: &Found| (std::cmp::Reverse(s.end - s.start), s.occurrences, s.start);
    key(a) < key(b)
}

/// Splits [`TOTAL_BPS`] in proportion to `weights` by the largest-remainder
/// method; ties between remainders go to the earlier entry. All zeros (or
/// nothing) gives all zeros.
pub fn largest_remainder(weights: &[u64]) -> Vec<u16> {
    let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if total == 0 {
        return vec![0; weights.len()];
    }
    let scaled: Vec<u128> =
        weights.iter().map(|&w| u128::from(w) * u128::from(TOTAL_BPS)).collect();
    let mut bps: Vec<u16> = scaled.iter().map(|s| (s / total) as u16).collect();
    let given: u32 = bps.iter().map(|&b| u32::from(b)).sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(scaled[i] % total), i));
    for &i in order.iter().take((u32::from(TOTAL_BPS) - given) as usize) {
        bps[i] += 1;
    }
    bps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_is_exact_on_powers_and_close_elsewhere() {
        assert_eq!(log2_q16(0), 0);
        assert_eq!(log2_q16(1), 0);
        assert_eq!(log2_q16(2), 1 << 16);
        assert_eq!(log2_q16(1024), 10 << 16);
        assert_eq!(log2_q16(u64::MAX), (63 << 16) | 0xFFFF);
        for x in [3u64, 5, 10, 1000, 4_300_001, 100_000_001, 1 << 40 | 12345] {
            let exact = (x as f64).log2() * 65536.0;
            let got = log2_q16(x) as f64;
            assert!(got <= exact + 1e-6 && exact - got < 2.0, "x={x}: {got} vs {exact}");
        }
    }

    #[test]
    fn rarity_is_at_least_one() {
        assert_eq!(rarity(1023, 1), 10 << 16);
        assert_eq!(rarity(1023, 1024), 1);
        assert_eq!(rarity(0, 5), 1);
    }

    #[test]
    fn largest_remainder_sums_to_total() {
        assert_eq!(largest_remainder(&[1, 1, 1]), vec![3334, 3333, 3333]);
        assert_eq!(largest_remainder(&[2, 1]), vec![6667, 3333]);
        assert_eq!(largest_remainder(&[5]), vec![10_000]);
        assert_eq!(largest_remainder(&[0, 0]), vec![0, 0]);
        assert_eq!(largest_remainder(&[u64::MAX, u64::MAX, 1]), vec![5000, 5000, 0]);
    }
}
