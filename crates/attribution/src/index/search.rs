//! Queries on the suffix array: pattern ranges, matching statistics, and the
//! documents an occurrence range touches.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::ops::Range;

use super::rmq::Rmq;
use super::sample::{PatternKey, SAMPLE_STEP, Samples};
use super::store::{Documents, Packed, Symbol};

/// Ranges of at most this many suffixes are listed by reading every pointer;
/// larger ones are walked in position order with the range minimum.
const SCAN_LIMIT: usize = 512;

/// Sub-ranges this small are expanded into single occurrences instead of
/// being split by further range-minimum queries.
const EXPAND_LIMIT: usize = 16;

/// A typed view of an open index: tokens, suffix array, its samples, range
/// minimum, documents.
pub(crate) struct Corpus<'a, S> {
    pub(crate) tokens: &'a [S],
    pub(crate) sa: Packed<'a>,
    /// Keys of every [`SAMPLE_STEP`]-th suffix (none: search without them).
    pub(crate) samples: Samples<'a>,
    pub(crate) rmq: Rmq<'a>,
    pub(crate) documents: Documents<'a>,
    /// Token values at or above this never match (the separator and ids too
    /// wide for the format).
    pub(crate) separator: u32,
}

/// A text converted to stored tokens: `None` where a token can never match.
pub(crate) type Query<S> = Vec<Option<S>>;

/// For one text position `j`: the longest prefix of `text[j..]` that occurs
/// in the corpus, and the suffix-array range of its occurrences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Match {
    pub(crate) len: usize,
    pub(crate) range: Range<usize>,
}

impl<'a, S: Symbol> Corpus<'a, S> {
    /// Number of suffixes (tokens) in the corpus.
    pub(crate) fn len(&self) -> usize {
        self.sa.len()
    }

    /// The query form of `tokens`.
    pub(crate) fn query(&self, tokens: &[u32]) -> Query<S> {
        tokens.iter().map(|&t| self.symbol(t)).collect()
    }

    /// The stored form of `tokens`, or `None` when one of them never matches.
    pub(crate) fn symbols(&self, tokens: &[u32]) -> Option<Vec<S>> {
        tokens.iter().map(|&t| self.symbol(t)).collect()
    }

    #[inline]
    fn symbol(&self, token: u32) -> Option<S> {
        (token < self.separator).then(|| S::from_value(token))
    }

    /// The suffix of rank `rank`; empty for a pointer past the end (only a
    /// corrupt file has one).
    #[inline]
    pub(crate) fn suffix(&self, rank: usize) -> &'a [S] {
        let position = usize::try_from(self.sa.get(rank)).unwrap_or(usize::MAX);
        self.tokens.get(position..).unwrap_or(&[])
    }

    /// How the suffix of rank `rank` compares with `pattern` on the pattern's
    /// length (`Equal`: it starts with the pattern).
    #[inline]
    fn compare(&self, rank: usize, pattern: &[S]) -> Ordering {
        let suffix = self.suffix(rank);
        S::compare(&suffix[..suffix.len().min(pattern.len())], pattern)
    }

    /// Suffix-array range of the suffixes starting with `pattern`.
    ///
    /// The ends are found among the samples first: the first sample not
    /// before the pattern and the first after it. What is left are the ranks
    /// between each of those and the sample before it, searched in the
    /// suffix array; when both ends lie in the same gap (fewer than
    /// [`SAMPLE_STEP`] occurrences, the usual case) the end is sought
    /// outward from the start, a step or two for a handful of occurrences.
    pub(crate) fn range(&self, pattern: &[S]) -> Range<usize> {
        if pattern.is_empty() || self.samples.len() == 0 {
            return self.range_in_suffix_array(pattern);
        }
        let key = PatternKey::new(pattern);
        let samples = bounds(0..self.samples.len(), |sample| {
            self.samples
                .compare(sample, &key)
                .unwrap_or_else(|| self.compare(sample * SAMPLE_STEP, pattern))
        });
        let first = partition(Samples::gap_before(samples.start, self.len()), |r| {
            self.compare(r, pattern) == Ordering::Less
        });
        let gap = Samples::gap_before(samples.end, self.len());
        let after = |r| self.compare(r, pattern) != Ordering::Greater;
        let end =
            if samples.is_empty() { gallop(first..gap.end, after) } else { partition(gap, after) };
        first..end
    }

    /// [`range`](Self::range) by binary search over the whole suffix array,
    /// without the samples.
    pub(crate) fn range_in_suffix_array(&self, pattern: &[S]) -> Range<usize> {
        if pattern.is_empty() {
            return 0..self.len();
        }
        bounds(0..self.len(), |rank| self.compare(rank, pattern))
    }

    /// Within `range`, whose suffixes share their first `depth` tokens, the
    /// sub-range whose token at `depth` is `next`.
    fn extend(&self, range: Range<usize>, depth: usize, next: S) -> Range<usize> {
        let key = |rank: usize| self.suffix(rank).get(depth).map(|s| s.value());
        let target = Some(next.value());
        let first = partition(range.clone(), |r| key(r) < target);
        let end = partition(first..range.end, |r| key(r) <= target);
        first..end
    }

    /// Matching statistics: for each `j`, the longest prefix of `text[j..]`
    /// occurring in the corpus, with its range.
    pub(crate) fn matching_statistics(&self, text: &[Option<S>]) -> Vec<Match> {
        self.matching_statistics_where(text, usize::MAX, None)
    }

    /// Matching statistics under a condition: a prefix of `min_len` tokens or
    /// more only counts if it occurs in a document `allowed` accepts (none
    /// given: every document). Prefixes shorter than `min_len` need only
    /// occur. Both conditions survive dropping a first token, so
    /// `len[j + 1] >= len[j] - 1` holds: after dropping the first token the
    /// shorter match is looked up once and then extended token by token, and
    /// a text of n tokens costs O(n) extensions plus n binary searches.
    pub(crate) fn matching_statistics_where(
        &self,
        text: &[Option<S>],
        min_len: usize,
        allowed: Option<&dyn Fn(usize) -> bool>,
    ) -> Vec<Match> {
        let mut out = Vec::with_capacity(text.len());
        let mut pattern: Vec<S> = Vec::new();
        let mut len = 0usize;
        let mut range = 0..self.len();
        for j in 0..text.len() {
            if j > 0 {
                len = len.saturating_sub(1);
                pattern.clear();
                pattern.extend(text[j..j + len].iter().flatten());
                range = self.range(&pattern);
            }
            while let Some(Some(next)) = text.get(j + len) {
                let narrowed = self.extend(range.clone(), len, *next);
                if narrowed.is_empty() {
                    break;
                }
                if let Some(allowed) = allowed
                    && len + 1 >= min_len
                    && !self.occurs_in_allowed(narrowed.clone(), allowed)
                {
                    break;
                }
                range = narrowed;
                len += 1;
            }
            out.push(Match { len, range: range.clone() });
        }
        out
    }

    /// Whether an occurrence in `range` lies in a document `allowed` accepts.
    /// A few evenly spaced occurrences are tried first (usually one of them
    /// answers), then the range is searched properly.
    pub(crate) fn occurs_in_allowed(
        &self,
        range: Range<usize>,
        allowed: &dyn Fn(usize) -> bool,
    ) -> bool {
        const PROBES: usize = 8;
        let step = (range.len() / PROBES).max(1);
        let probe_hit = range
            .clone()
            .step_by(step)
            .take(PROBES)
            .any(|rank| allowed(self.documents.of_position(self.sa.get(rank))));
        probe_hit || !self.documents_in(range, allowed, 1).0.is_empty()
    }

    /// The distinct documents (indices, ascending) with an occurrence in
    /// `range`, skipping those `allowed` rejects, at most `limit` of them, and
    /// whether more exist.
    ///
    /// Small ranges are read whole; large ones are walked in increasing
    /// corpus position with the range minimum (documents are laid out in
    /// acceptance order), stopping once `limit + 1` documents are seen. A
    /// walk that keeps meeting occurrences in documents already seen or
    /// rejected (one early document repeating the pattern thousands of
    /// times) gives up after `range / 32` steps and reads the range instead,
    /// so the cost stays within about twice the cheaper way. All ways give
    /// the same answer.
    pub(crate) fn documents_in(
        &self,
        range: Range<usize>,
        allowed: &dyn Fn(usize) -> bool,
        limit: usize,
    ) -> (Vec<usize>, bool) {
        if range.len() <= SCAN_LIMIT {
            self.documents_by_scan(range, allowed, limit)
        } else {
            let budget = range.len() / 32 + 64;
            self.documents_by_position(range, allowed, limit, budget)
        }
    }

    /// [`documents_in`](Self::documents_in) by reading every pointer of the range.
    pub(crate) fn documents_by_scan(
        &self,
        range: Range<usize>,
        allowed: &dyn Fn(usize) -> bool,
        limit: usize,
    ) -> (Vec<usize>, bool) {
        let mut documents: Vec<usize> =
            range.map(|rank| self.documents.of_position(self.sa.get(rank))).collect();
        documents.sort_unstable();
        documents.dedup();
        documents.retain(|&d| allowed(d));
        let more = documents.len() > limit;
        documents.truncate(limit);
        (documents, more)
    }

    /// [`documents_in`](Self::documents_in) by walking occurrences in
    /// increasing position, at most `budget` steps before reading the range.
    pub(crate) fn documents_by_position(
        &self,
        range: Range<usize>,
        allowed: &dyn Fn(usize) -> bool,
        limit: usize,
        budget: usize,
    ) -> (Vec<usize>, bool) {
        let whole = range.clone();
        // Entries: (position, rank, sub-range it is the minimum of).
        let mut heap: BinaryHeap<Reverse<(u64, usize, usize, usize)>> = BinaryHeap::new();
        let push = |heap: &mut BinaryHeap<_>, range: Range<usize>| {
            if range.len() <= EXPAND_LIMIT {
                for rank in range {
                    heap.push(Reverse((self.sa.get(rank), rank, rank, rank + 1)));
                }
            } else if let Some((position, rank)) = self.rmq.min(range.clone()) {
                heap.push(Reverse((position, rank, range.start, range.end)));
            }
        };
        push(&mut heap, range);
        let mut documents = Vec::new();
        let mut last = None;
        let mut steps = 0usize;
        while let Some(Reverse((position, rank, lo, hi))) = heap.pop() {
            steps += 1;
            if steps > budget {
                return self.documents_by_scan(whole, allowed, limit);
            }
            let document = self.documents.of_position(position);
            if last != Some(document) {
                last = Some(document);
                if allowed(document) {
                    if documents.len() == limit {
                        return (documents, true);
                    }
                    documents.push(document);
                }
            }
            push(&mut heap, lo..rank);
            push(&mut heap, rank + 1..hi);
        }
        (documents, false)
    }

    /// Occurrences of `pattern` (whose range is `range`) inside the token
    /// ranges `within` (sorted, disjoint: some documents' tokens). Reads
    /// whichever is smaller, the range's pointers or those tokens; both give
    /// the same count.
    pub(crate) fn count_within(
        &self,
        pattern: &[S],
        range: Range<usize>,
        within: &[Range<u64>],
    ) -> u64 {
        let within_tokens: u64 = within.iter().map(|r| r.end.saturating_sub(r.start)).sum();
        if (range.len() as u64) <= within_tokens {
            range
                .filter(|&rank| {
                    let position = self.sa.get(rank);
                    let after = within.partition_point(|r| r.start <= position);
                    after > 0 && position < within[after - 1].end
                })
                .count() as u64
        } else {
            within
                .iter()
                .map(|r| {
                    let start = usize::try_from(r.start).unwrap_or(usize::MAX);
                    let end = usize::try_from(r.end).unwrap_or(usize::MAX);
                    let tokens = self.tokens.get(start..end).unwrap_or(&[]);
                    if pattern.is_empty() {
                        return tokens.len() as u64;
                    }
                    tokens.windows(pattern.len()).filter(|w| *w == pattern).count() as u64
                })
                .sum()
        }
    }

    /// Token ranges of the documents `documents` (sorted indices), empty
    /// ones left out.
    pub(crate) fn token_ranges(&self, documents: &[usize]) -> Vec<Range<u64>> {
        documents
            .iter()
            .map(|&d| self.documents.start(d)..self.documents.end(d))
            .filter(|r| !r.is_empty())
            .collect()
    }
}

/// The indices in `range` where `order` is `Equal`, `order` being `Less`,
/// then `Equal`, then `Greater` along the range: one bisection until an
/// `Equal` index, then one for each end on either side of it.
#[inline]
fn bounds(range: Range<usize>, order: impl Fn(usize) -> Ordering) -> Range<usize> {
    let (mut lo, mut hi) = (range.start, range.end);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match order(mid) {
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
            Ordering::Equal => {
                let first = partition(lo..mid, |i| order(i) == Ordering::Less);
                let end = partition(mid + 1..hi, |i| order(i) != Ordering::Greater);
                return first..end;
            }
        }
    }
    lo..lo
}

/// [`partition`] probing outward from the start (at offsets 0, 2, 6, 14, …)
/// before bisecting: fewer probes when the answer is near the start.
#[inline]
fn gallop(range: Range<usize>, before: impl Fn(usize) -> bool) -> usize {
    let mut lo = range.start;
    let mut step = 1;
    while lo < range.end {
        let probe = (lo + step - 1).min(range.end - 1);
        if !before(probe) {
            return partition(lo..probe, before);
        }
        lo = probe + 1;
        step *= 2;
    }
    lo
}

/// First index in `range` where `before` is false, `before` being true then
/// false along the range.
#[inline]
fn partition(range: Range<usize>, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (range.start, range.end);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) { lo = mid + 1 } else { hi = mid }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gallop_and_bounds_find_what_partition_finds() {
        for start in 0..4usize {
            for end in start..70 {
                for answer in start..=end {
                    let before = |i: usize| i < answer;
                    assert_eq!(gallop(start..end, before), answer, "{start}..{end}");
                    assert_eq!(partition(start..end, before), answer, "{start}..{end}");
                    for equal_end in answer..=end {
                        let order = |i: usize| {
                            if i < answer {
                                Ordering::Less
                            } else if i < equal_end {
                                Ordering::Equal
                            } else {
                                Ordering::Greater
                            }
                        };
                        assert_eq!(bounds(start..end, order), answer..equal_end);
                    }
                }
            }
        }
    }
}
