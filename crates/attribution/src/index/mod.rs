//! The attribution index: a suffix array over a datanet version's tokenised
//! contributions (Infini-gram style), built deterministically and queried
//! through memory maps.
//!
//! # Files
//!
//! An index is a directory of four files (all integers little-endian):
//!
//! | file | contents | size |
//! | --- | --- | --- |
//! | `tokens.bin` | the token stream: each document's rows, each row followed by the separator token (`0xFF` for bytes, `0xFFFF` for BPE), documents in acceptance order | N × token width (1 or 2) |
//! | `suffix_array.bin` | the suffix array: start positions of the N suffixes in lexicographic order of token ids, each in `pointer_width` = ⌈log₂(N+1)/8⌉ bytes | N × pointer width |
//! | `documents.bin` | the D documents' first token offsets in acceptance order, each in `pointer_width` bytes; then their contribution ids in the same order, each in `id_width` = ⌈log₂(largest id + 1)/8⌉ bytes (at least 1) | D × (pointer width + id width) |
//! | `manifest.json` | [`IndexManifest`]: format version, tokenizer, counts, widths, each data file's size and sha256, and `index_hash` over all of it | < 1 KiB |
//!
//! So a byte-tokenised index takes 1 + w + D·(w + id width)/N bytes per
//! token plus the manifest (w = 3 below 16.7M tokens, 4 below 4.3G): the
//! same token and pointer files as infini-gram, and a document table of
//! w + id width bytes per document (6 on a 109.5M-token corpus of 7,190
//! documents) where infini-gram's offsets take 8.
//! Separators are never produced by a tokenizer, so no match crosses a row
//! or document boundary; they are counted in N.
//!
//! `index_hash` (the value a datanet version records on chain) is sha256
//! over the manifest's other fields, the three data files' sizes and sha256
//! among them, so it commits to every byte of the index. The range-minimum
//! levels that span attribution uses and the sample keys that searches start
//! with are not stored (nothing else to hash): [`Index::open`] derives them
//! from the suffix array and tokens.
//!
//! # Queries
//!
//! [`Index::count`] is a binary search (O(m log N)) in two stages: over
//! in-memory keys of every 128th suffix's first tokens (module `sample`),
//! then over the at most 127 ranks of the suffix array left at each end of
//! the range. The keys keep most steps off the memory-mapped files, whose
//! 4 KiB pages cost a TLB miss per deep step on a large index.
//! [`Index::longest_matches`] computes matching statistics for a whole text
//! in O(n log N) binary searches. Span attribution is in [`crate::span`].
//! Measured (2 shared cores, warm page cache, byte tokenizer): `count` p50
//! 0.3 µs on 4.7M tokens and 0.6–2.5 µs on 109.5M (0.8 µs median over 20
//! runs, against 2.5 µs without the keys); a 256-token text's
//! `longest_matches` 0.17 ms / 0.6–0.8 ms, its attribution 0.17 ms /
//! 0.6–0.8 ms p50 (≤ 6 ms worst of 100 texts; with a third of the
//! contributions excluded, 0.9 ms p50 and ≤ 25 ms worst).
//!
//! [`Index::open`] checks the manifest and the structure (sizes, widths,
//! document table), then reads the suffix array once, front to back, to build
//! the range-minimum levels in memory (N·w/255 bytes), and every 128th
//! pointer's suffix to build the sample keys (N/8 bytes): 40–65 ms for
//! 109.5M tokens with the page cache warm (about 20 ms of it the levels),
//! the time to read the files from disk when cold. It does not hash
//! anything: [`Index::verify`] hashes every file against the manifest. A
//! corrupt file never causes a panic or an out-of-bounds read: reads are
//! clamped, so it can only give wrong answers, which `verify` detects.

mod build;
mod format;
mod rmq;
mod sample;
mod search;
mod store;

use std::fs::File;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use sha2::{Digest as _, Sha256};

pub use build::{BuildOptions, BuildPhase, BuildProgress, Document, build_index, build_index_with};
pub use format::{
    DOCUMENTS_FILE, FORMAT_VERSION, IndexFile, IndexManifest, MANIFEST_FILE, SUFFIX_ARRAY_FILE,
    TOKENS_FILE, id_width, pointer_width,
};
pub(crate) use search::{Corpus, Match};
pub(crate) use store::Symbol;

use format::{DATA_FILES, MAX_MANIFEST_BYTES};
use rmq::{Levels, Rmq};
use sample::SampleKeys;
use store::{Documents, Packed};

/// Why an index could not be built, opened or verified.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// Two documents to index have the same contribution id.
    #[error("contribution {0} appears twice in the documents to index")]
    DuplicateDocument(u64),
    /// libsais failed.
    #[error("suffix array construction failed: {0}")]
    SuffixArray(String),
    /// The manifest is missing, malformed or inconsistent with the files.
    #[error("{path} is not a valid index: {reason}")]
    Invalid {
        /// The file found wrong.
        path: PathBuf,
        /// What was wrong, with the values involved.
        reason: String,
    },
    /// A file's contents do not match the hash in the manifest.
    #[error("{path} does not match its manifest hash (expected {expected}, found {actual})")]
    HashMismatch {
        /// The file.
        path: PathBuf,
        /// sha256 in the manifest.
        expected: String,
        /// sha256 of the file.
        actual: String,
    },
}

impl IndexError {
    fn io(path: &Path, source: io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), source }
    }

    fn invalid(path: &Path, reason: impl Into<String>) -> Self {
        Self::Invalid { path: path.to_path_buf(), reason: reason.into() }
    }
}

/// An open, memory-mapped index.
pub struct Index {
    dir: PathBuf,
    manifest: IndexManifest,
    tokens: Mmap,
    suffix_array: Mmap,
    documents: Mmap,
    /// The range-minimum levels over the suffix array, built on open.
    levels: Levels,
    /// Keys of every 128th suffix, which searches start with, built on open.
    samples: SampleKeys,
    /// (contribution id, document index), sorted by id.
    by_id: Vec<(u64, usize)>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("dir", &self.dir)
            .field("tokenizer", &self.manifest.tokenizer)
            .field("num_tokens", &self.manifest.num_tokens)
            .field("num_documents", &self.manifest.num_documents)
            .field("index_hash", &self.manifest.index_hash)
            .finish()
    }
}

/// The typed view of an index, by token width.
pub(crate) enum View<'a> {
    Byte(Corpus<'a, u8>),
    Wide(Corpus<'a, [u8; 2]>),
}

impl Index {
    /// Opens the index in `dir`: checks the manifest against itself and the
    /// files' sizes and the document table, and builds the range-minimum
    /// levels from the suffix array (one sequential read of it). Hashes
    /// nothing; see [`verify`](Self::verify) for that.
    pub fn open(dir: &Path) -> Result<Self, IndexError> {
        let manifest_path = dir.join(MANIFEST_FILE);
        let manifest = read_manifest(&manifest_path)?;
        check_manifest(&manifest_path, &manifest)?;
        let n = manifest.num_tokens;
        let width = u64::from(manifest.pointer_width);
        let record = width + u64::from(manifest.id_width);
        let expected_sizes = [
            n.checked_mul(u64::from(manifest.token_width)),
            n.checked_mul(width),
            manifest.num_documents.checked_mul(record),
        ];
        let mut sizes = [0u64; DATA_FILES.len()];
        for ((size, expected), name) in sizes.iter_mut().zip(expected_sizes).zip(DATA_FILES) {
            *size = expected.filter(|&size| isize::try_from(size).is_ok()).ok_or_else(|| {
                IndexError::invalid(&manifest_path, format!("{name} would be too large to map"))
            })?;
        }
        let mut maps = Vec::with_capacity(DATA_FILES.len());
        for ((entry, name), expected) in manifest.files.iter().zip(DATA_FILES).zip(sizes) {
            if entry.bytes != expected {
                return Err(IndexError::invalid(
                    &manifest_path,
                    format!(
                        "{name} is listed as {} bytes; the counts imply {expected}",
                        entry.bytes
                    ),
                ));
            }
            let path = dir.join(name);
            let map = map_file(&path)?;
            if map.len() as u64 != expected {
                return Err(IndexError::invalid(
                    &path,
                    format!("file has {} bytes; the manifest says {expected}", map.len()),
                ));
            }
            maps.push(map);
        }
        let mut maps = maps.into_iter();
        let (Some(tokens), Some(suffix_array), Some(documents)) =
            (maps.next(), maps.next(), maps.next())
        else {
            return Err(IndexError::invalid(&manifest_path, "missing data files"));
        };
        let mut index = Self {
            dir: dir.to_path_buf(),
            manifest,
            tokens,
            suffix_array,
            documents,
            levels: Levels::default(),
            samples: SampleKeys::default(),
            by_id: Vec::new(),
        };
        // The cheap checks first: a bad document table fails before the pass.
        index.by_id = index.check_documents()?;
        index.levels =
            Levels::build(&index.suffix_array, usize::from(index.manifest.pointer_width));
        index.samples = match index.view() {
            View::Byte(corpus) => SampleKeys::build(corpus.len(), |rank| corpus.suffix(rank)),
            View::Wide(corpus) => SampleKeys::build(corpus.len(), |rank| corpus.suffix(rank)),
        };
        Ok(index)
    }

    /// Document offsets start at 0, never decrease, stay within the corpus,
    /// and each non-empty document ends with a separator; ids are distinct
    /// and the id width is the one the largest needs. Returns (id, document)
    /// sorted by id.
    fn check_documents(&self) -> Result<Vec<(u64, usize)>, IndexError> {
        let path = self.dir.join(DOCUMENTS_FILE);
        let documents = self.document_table();
        let n = self.manifest.num_tokens;
        let separator = self.manifest.separator;
        let token_at = |position: u64| -> u32 {
            let width = usize::from(self.manifest.token_width);
            let start = position as usize * width;
            let bytes = &self.tokens[start..start + width];
            if width == 1 {
                u32::from(bytes[0])
            } else {
                u32::from(u16::from_le_bytes([bytes[0], bytes[1]]))
            }
        };
        if n > 0 && documents.len() == 0 {
            return Err(IndexError::invalid(&path, format!("{n} tokens but no documents")));
        }
        let mut previous = 0u64;
        for d in 0..documents.len() {
            let start = documents.start(d);
            if (d == 0 && start != 0) || start < previous || start > n {
                return Err(IndexError::invalid(
                    &path,
                    format!(
                        "document {d} starts at token {start} (previous {previous}, corpus {n})"
                    ),
                ));
            }
            previous = start;
        }
        for d in 0..documents.len() {
            let (start, end) = (documents.start(d), documents.end(d));
            // `end` is within the corpus: offsets were checked above.
            if start < end && token_at(end - 1) != separator {
                return Err(IndexError::invalid(
                    &path,
                    format!("document {d} (tokens {start}..{end}) does not end with the separator"),
                ));
            }
        }
        let mut by_id: Vec<(u64, usize)> =
            (0..documents.len()).map(|d| (documents.id(d), d)).collect();
        by_id.sort_unstable();
        if let Some(pair) = by_id.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(IndexError::invalid(
                &path,
                format!("contribution {} appears twice", pair[0].0),
            ));
        }
        let largest = by_id.last().map_or(0, |&(id, _)| id);
        let needed = id_width(largest);
        if usize::from(self.manifest.id_width) != needed {
            return Err(IndexError::invalid(
                &path,
                format!(
                    "id width {} but the largest contribution id, {largest}, needs {needed}",
                    self.manifest.id_width
                ),
            ));
        }
        Ok(by_id)
    }

    /// Hashes every data file and compares it with the manifest (reads the
    /// whole index: about a second per GB).
    pub fn verify(&self) -> Result<(), IndexError> {
        let maps = [&self.tokens, &self.suffix_array, &self.documents];
        for (entry, map) in self.manifest.files.iter().zip(maps) {
            let actual = format::hex(&Sha256::digest(&map[..]));
            if actual != entry.sha256 {
                return Err(IndexError::HashMismatch {
                    path: self.dir.join(&entry.name),
                    expected: entry.sha256.clone(),
                    actual,
                });
            }
        }
        Ok(())
    }

    /// The manifest.
    pub fn manifest(&self) -> &IndexManifest {
        &self.manifest
    }

    /// The index hash recorded in the manifest (checked on open).
    pub fn index_hash(&self) -> &str {
        &self.manifest.index_hash
    }

    /// Tokens in the corpus, separators included.
    pub fn num_tokens(&self) -> u64 {
        self.manifest.num_tokens
    }

    /// Documents (contributions) in the index.
    pub fn num_documents(&self) -> u64 {
        self.manifest.num_documents
    }

    /// Name of the tokenizer the index was built with.
    pub fn tokenizer_name(&self) -> &str {
        &self.manifest.tokenizer
    }

    /// The contribution whose tokens include corpus position `position`
    /// (`None` past the end of the corpus).
    pub fn document_of(&self, position: u64) -> Option<u64> {
        if position >= self.manifest.num_tokens {
            return None;
        }
        let documents = self.document_table();
        Some(documents.id(documents.of_position(position)))
    }

    /// Contribution ids in acceptance order.
    pub fn contributions(&self) -> impl Iterator<Item = u64> + '_ {
        let documents = self.document_table();
        (0..documents.len()).map(move |d| documents.id(d))
    }

    /// Contribution id of the document at acceptance-order index `document`.
    pub(crate) fn contribution_at(&self, document: usize) -> u64 {
        self.document_table().id(document)
    }

    /// Acceptance-order index of contribution `id`, if indexed.
    pub fn document_index(&self, id: u64) -> Option<usize> {
        self.by_id.binary_search_by_key(&id, |&(id, _)| id).ok().map(|i| self.by_id[i].1)
    }

    /// Occurrences of the token sequence `pattern` in the corpus. A pattern
    /// with the separator or an id too wide for the index occurs nowhere;
    /// the empty pattern occurs N times.
    pub fn count(&self, pattern: &[u32]) -> u64 {
        fn count_in<S: Symbol>(corpus: &Corpus<'_, S>, pattern: &[u32]) -> u64 {
            corpus.symbols(pattern).map_or(0, |symbols| corpus.range(&symbols).len() as u64)
        }
        match self.view() {
            View::Byte(corpus) => count_in(&corpus, pattern),
            View::Wide(corpus) => count_in(&corpus, pattern),
        }
    }

    /// For each position `i` of `text`, the ∞-gram suffix length: the length
    /// of the longest suffix of `text[..=i]` that occurs in the corpus (0 when
    /// not even `text[i]` does).
    pub fn longest_matches(&self, text: &[u32]) -> Vec<u32> {
        let statistics = match self.view() {
            View::Byte(corpus) => corpus.matching_statistics(&corpus.query(text)),
            View::Wide(corpus) => corpus.matching_statistics(&corpus.query(text)),
        };
        suffix_lengths(&statistics)
    }

    /// The typed view used by the queries.
    pub(crate) fn view(&self) -> View<'_> {
        let width = usize::from(self.manifest.pointer_width);
        let sa = Packed::new(&self.suffix_array, width);
        let rmq = Rmq::new(sa, self.levels.views());
        let samples = self.samples.samples();
        let documents = self.document_table();
        let separator = self.manifest.separator;
        if self.manifest.token_width == 1 {
            let tokens = u8::cast(&self.tokens);
            View::Byte(Corpus { tokens, sa, samples, rmq, documents, separator })
        } else {
            let tokens = <[u8; 2]>::cast(&self.tokens);
            View::Wide(Corpus { tokens, sa, samples, rmq, documents, separator })
        }
    }

    fn document_table(&self) -> Documents<'_> {
        // The count fits: `documents.bin` is mapped and holds that many records.
        Documents::new(
            &self.documents,
            self.manifest.num_documents as usize,
            usize::from(self.manifest.pointer_width),
            usize::from(self.manifest.id_width),
            self.manifest.num_tokens,
        )
    }
}

/// ∞-gram suffix lengths from matching statistics: the longest suffix of
/// `text[..=i]` that occurs starts at the first `j` whose match reaches past
/// `i` (`j + len[j]` never decreases, so one forward pointer suffices).
pub(crate) fn suffix_lengths(statistics: &[Match]) -> Vec<u32> {
    let mut out = Vec::with_capacity(statistics.len());
    let mut j = 0;
    for i in 0..statistics.len() {
        while j <= i && j + statistics[j].len <= i {
            j += 1;
        }
        out.push((i + 1 - j) as u32);
    }
    out
}

fn read_manifest(path: &Path) -> Result<IndexManifest, IndexError> {
    let file = File::open(path).map_err(|e| IndexError::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| IndexError::io(path, e))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(IndexError::invalid(
            path,
            format!("manifest is over {MAX_MANIFEST_BYTES} bytes"),
        ));
    }
    // The version first, so that an index of another format is refused for
    // its version rather than for a field this build does not know.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Version {
        format_version: u32,
    }
    let malformed = |e: serde_json::Error| IndexError::invalid(path, format!("manifest: {e}"));
    let version: Version = serde_json::from_slice(&bytes).map_err(malformed)?;
    if version.format_version != FORMAT_VERSION {
        return Err(IndexError::invalid(
            path,
            format!(
                "format version {} (this build reads {FORMAT_VERSION}; rebuild the index)",
                version.format_version
            ),
        ));
    }
    serde_json::from_slice(&bytes).map_err(malformed)
}

fn check_manifest(path: &Path, manifest: &IndexManifest) -> Result<(), IndexError> {
    let fail = |reason: String| Err(IndexError::invalid(path, reason));
    let computed = manifest.compute_index_hash();
    if manifest.index_hash != computed {
        return fail(format!(
            "indexHash is {} but the content hashes to {computed}",
            manifest.index_hash
        ));
    }
    let tokenizer_ok = !manifest.tokenizer.is_empty()
        && manifest.tokenizer.len() <= 64
        && manifest.tokenizer.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !tokenizer_ok {
        return fail(format!("tokenizer name {:?}", manifest.tokenizer));
    }
    if !matches!(manifest.token_width, 1 | 2) {
        return fail(format!("token width {} (must be 1 or 2)", manifest.token_width));
    }
    let separator = crate::tokenizer::separator_for_width(usize::from(manifest.token_width));
    if manifest.separator != separator {
        return fail(format!(
            "separator {} (width {} needs {separator})",
            manifest.separator, manifest.token_width
        ));
    }
    let width = pointer_width(manifest.num_tokens);
    if usize::from(manifest.pointer_width) != width {
        return fail(format!(
            "pointer width {} for {} tokens (must be {width})",
            manifest.pointer_width, manifest.num_tokens
        ));
    }
    if !(1..=8).contains(&manifest.id_width) {
        return fail(format!("id width {} (must be 1 to 8)", manifest.id_width));
    }
    let names: Vec<&str> = manifest.files.iter().map(|f| f.name.as_str()).collect();
    if names != DATA_FILES {
        return fail(format!("files {names:?} (must be {DATA_FILES:?})"));
    }
    Ok(())
}

fn map_file(path: &Path) -> Result<Mmap, IndexError> {
    let file = File::open(path).map_err(|e| IndexError::io(path, e))?;
    // SAFETY: the index files are written once and only replaced by rename,
    // never modified in place, so the mapping does not change under us. A
    // process that truncates them anyway can only cause SIGBUS, as with any
    // memory-mapped file.
    unsafe { Mmap::map(&file) }.map_err(|e| IndexError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::Tokenizer;

    const SONNETS: &str = include_str!("../../tests/data/sonnets_gut.txt");

    fn sonnets_index(dir: &Path) -> Index {
        let documents: Vec<Document> = SONNETS
            .split("\n\n")
            .collect::<Vec<_>>()
            .chunks(5)
            .enumerate()
            .map(|(k, rows)| Document {
                id: 500 - k as u64,
                rows: rows.iter().map(|r| r.to_string()).collect(),
            })
            .collect();
        build_index(dir, &Tokenizer::byte(), &documents, &mut |_| {}).expect("builds");
        Index::open(dir).expect("opens")
    }

    /// Listing documents by reading a range and by walking it in position
    /// order agree, for every limit and exclusion pattern; and so do both
    /// ways of counting occurrences inside chosen documents.
    #[test]
    fn both_listing_and_counting_strategies_agree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = sonnets_index(dir.path());
        let View::Byte(corpus) = index.view() else { panic!("byte index") };
        let documents = index.num_documents() as usize;
        for word in ["e", "th", "the ", " love", "thou art", ", and ", "beauty", "Shall I compare"]
        {
            let pattern: Vec<u8> = word.bytes().collect();
            let range = corpus.range(&pattern);
            assert!(!range.is_empty(), "{word}");
            for modulus in [1usize, 2, 3, 7] {
                let allowed = |d: usize| d % modulus != 1 % modulus || modulus == 1;
                for limit in [0usize, 1, 3, 50, usize::MAX] {
                    let scanned = corpus.documents_by_scan(range.clone(), &allowed, limit);
                    for budget in [usize::MAX, 3] {
                        let walked =
                            corpus.documents_by_position(range.clone(), &allowed, limit, budget);
                        assert_eq!(scanned, walked, "{word:?} modulus {modulus} limit {limit}");
                    }
                }
                // Many documents (the range is read) and few (their tokens are).
                let within: Vec<usize> = (0..documents).filter(|&d| !allowed(d)).collect();
                for chosen in [&within[..], &within[..within.len().min(2)]] {
                    let expected = range
                        .clone()
                        .filter(|&r| {
                            chosen
                                .binary_search(&corpus.documents.of_position(corpus.sa.get(r)))
                                .is_ok()
                        })
                        .count() as u64;
                    let tokens = corpus.token_ranges(chosen);
                    assert_eq!(
                        corpus.count_within(&pattern, range.clone(), &tokens),
                        expected,
                        "{word:?}"
                    );
                }
            }
        }
    }

    /// The sampled search and the search over the whole suffix array give
    /// the same range for every pattern, present or not, separators and
    /// tokens past the vocabulary included, and `count` is its length.
    fn assert_searches_agree(index: &Index, patterns: &[Vec<u32>]) {
        fn agree<S: Symbol + std::fmt::Debug>(corpus: &Corpus<'_, S>, patterns: &[Vec<u32>]) {
            assert_eq!(corpus.samples.len(), corpus.len().div_ceil(sample::SAMPLE_STEP));
            for pattern in patterns {
                // Stored form of every token, the separator included.
                let symbols: Vec<S> = pattern.iter().map(|&t| S::from_value(t)).collect();
                let plain = corpus.range_in_suffix_array(&symbols);
                assert_eq!(corpus.range(&symbols), plain, "pattern {pattern:?}");
                assert!(plain.end <= corpus.len() && plain.start <= plain.end);
            }
        }
        match index.view() {
            View::Byte(corpus) => agree(&corpus, patterns),
            View::Wide(corpus) => agree(&corpus, patterns),
        }
        for pattern in patterns {
            let expected = match index.view() {
                View::Byte(corpus) => {
                    corpus.symbols(pattern).map(|p| corpus.range_in_suffix_array(&p))
                }
                View::Wide(corpus) => {
                    corpus.symbols(pattern).map(|p| corpus.range_in_suffix_array(&p))
                }
            };
            let expected = expected.map_or(0, |range| range.len() as u64);
            assert_eq!(index.count(pattern), expected, "pattern {pattern:?}");
        }
    }

    /// Pieces of `stream` of every length up to `longest` from every `every`-th
    /// position, each also with its last token raised by one (mostly absent),
    /// with the separator appended, and with token 0 appended (which a key
    /// pads with, so that a suffix at the end of the corpus looks like it).
    fn pieces(stream: &[u32], every: usize, longest: usize, separator: u32) -> Vec<Vec<u32>> {
        let mut out = Vec::new();
        for at in (0..stream.len()).step_by(every.max(1)) {
            for len in 1..=longest.min(stream.len() - at) {
                let piece = stream[at..at + len].to_vec();
                let mut raised = piece.clone();
                raised[len - 1] = (raised[len - 1] + 1).min(separator);
                let mut longer = piece.clone();
                longer.push(separator);
                let mut padded = piece.clone();
                padded.push(0);
                out.extend([piece, raised, longer, padded]);
            }
        }
        out.extend([vec![0], vec![0, 0], vec![separator], vec![separator - 1; 20], vec![0; 17]]);
        out
    }

    fn stream_of(index: &Index) -> Vec<u32> {
        match index.view() {
            View::Byte(corpus) => corpus.tokens.iter().map(|t| t.value()).collect(),
            View::Wide(corpus) => corpus.tokens.iter().map(|t| t.value()).collect(),
        }
    }

    #[test]
    fn sampled_search_agrees_on_real_text() {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = sonnets_index(dir.path());
        let stream = stream_of(&index);
        assert!(index.num_tokens() as usize > 50 * sample::SAMPLE_STEP);
        assert_searches_agree(&index, &pieces(&stream, 97, 40, 0xFF));
    }

    #[test]
    fn sampled_search_agrees_on_wide_tokens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tokenizer = Tokenizer::gpt2().expect("gpt2 loads");
        let text = &SONNETS[..20_000];
        let documents: Vec<Document> = text
            .split("\n\n")
            .enumerate()
            .map(|(k, row)| Document { id: k as u64, rows: vec![row.to_string()] })
            .collect();
        build_index(dir.path(), &tokenizer, &documents, &mut |_| {}).expect("builds");
        let index = Index::open(dir.path()).expect("opens");
        let stream = stream_of(&index);
        assert!(stream.iter().any(|&t| t > 255 && t != 0xFFFF), "ids wider than a byte");
        let mut patterns = pieces(&stream, 13, 24, 0xFFFF);
        patterns.extend([vec![0x00FF], vec![0x0100], vec![0x0100, 0x00FF], vec![50_256; 9]]);
        assert_searches_agree(&index, &patterns);
    }

    /// Long repeats make suffixes that share far more tokens than a key
    /// holds, where the samples cannot decide and the suffixes are read.
    #[test]
    fn sampled_search_agrees_on_long_repeats() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rows = ["a".repeat(3000), "ab".repeat(1500), "a".repeat(40) + "b", "\0".repeat(300)];
        let documents: Vec<Document> = rows
            .iter()
            .enumerate()
            .map(|(k, row)| Document { id: k as u64, rows: vec![row.clone(), row[..17].into()] })
            .collect();
        build_index(dir.path(), &Tokenizer::byte(), &documents, &mut |_| {}).expect("builds");
        let index = Index::open(dir.path()).expect("opens");
        let mut patterns = Vec::new();
        for len in 1..80 {
            let a = vec![u32::from(b'a'); len];
            let ab: Vec<u32> = b"ab".iter().cycle().take(len).map(|&b| u32::from(b)).collect();
            let mut a_then_b = a.clone();
            a_then_b.push(u32::from(b'b'));
            patterns.extend([a, ab, a_then_b, vec![0; len]]);
        }
        assert_searches_agree(&index, &patterns);
    }

    /// Indexes around the sample step: no samples, one, a partial last gap.
    #[test]
    fn sampled_search_agrees_on_tiny_indexes() {
        let step = sample::SAMPLE_STEP;
        for tokens in [0, 1, 2, 3, step - 1, step, step + 1, 2 * step, 2 * step + 1, 3 * step + 7] {
            let dir = tempfile::tempdir().expect("tempdir");
            // One row of `tokens - 1` bytes and its separator, over a few letters.
            let documents: Vec<Document> = if tokens == 0 {
                Vec::new()
            } else {
                let row: String = (0..tokens - 1)
                    .map(|i| ["x", "y", "xy", "z"][i * 7 % 11 % 4])
                    .collect::<String>();
                vec![Document { id: 9, rows: vec![row[..tokens - 1].to_string()] }]
            };
            build_index(dir.path(), &Tokenizer::byte(), &documents, &mut |_| {}).expect("builds");
            let index = Index::open(dir.path()).expect("opens");
            assert_eq!(index.num_tokens() as usize, tokens);
            let stream = stream_of(&index);
            let mut patterns = pieces(&stream, 1, 40, 0xFF);
            patterns.extend([b"x".map(u32::from).to_vec(), b"w".map(u32::from).to_vec()]);
            assert_searches_agree(&index, &patterns);
        }
    }

    #[test]
    fn suffix_lengths_follow_matching_statistics() {
        let stats =
            |lens: &[usize]| lens.iter().map(|&len| Match { len, range: 0..0 }).collect::<Vec<_>>();
        assert_eq!(suffix_lengths(&stats(&[3, 2, 1, 0, 2, 1])), vec![1, 2, 3, 0, 1, 2]);
        assert_eq!(suffix_lengths(&stats(&[])), Vec::<u32>::new());
    }
}
