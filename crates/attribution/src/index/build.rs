//! Building an index: tokenise, sort suffixes with libsais, write files.
//!
//! Cost, for N tokens: tokenisation is parallel over documents (rayon) and
//! linear; the suffix array is libsais's SA-IS (linear time; on one thread by
//! default, on several with OpenMP through [`BuildOptions::threads`]; the
//! suffix array is unique, so threads never change a byte of output);
//! writing streams each file once through sha256. Peak memory is the token
//! stream (N × token width) plus the suffix array as libsais produces it (4N
//! bytes below 2^31 tokens, 8N above) plus one batch of tokenised documents;
//! the packed pointers are written straight from that array, never held
//! twice.
//!
//! Measured on this project's 2-core machine (shared with other work, so
//! ±30 %), byte tokenizer, one document per book/manual: 109.5M tokens build
//! in 9–12 s (suffix array 6–8 s, writing and hashing 550 MB 2–4 s) with a
//! peak RSS of 0.69 GB including the 114 MB of input documents; 4.7M tokens
//! in 0.4–0.6 s. GPT-2 tokenisation runs at about 5 MB of text per second
//! on two cores.
//!
//! Atomicity: every file is written under a `.tmp` name and fsynced; then the
//! old `manifest.json` is removed, the data files are renamed into place, and
//! the new manifest is renamed last. A build that fails leaves the previous
//! index untouched; one interrupted while renaming leaves no manifest, which
//! [`Index::open`](super::Index::open) refuses. One builder per directory.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

use super::IndexError;
use super::format::{
    self, DATA_FILES, DOCUMENTS_FILE, FORMAT_VERSION, IndexFile, IndexManifest, MANIFEST_FILE,
    SUFFIX_ARRAY_FILE, TOKENS_FILE,
};
use crate::tokenizer::Tokenizer;

/// One contribution to index: its id and its normalised rows, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// The contribution id.
    pub id: u64,
    /// The contribution's rows (text), in order.
    pub rows: Vec<String>,
}

/// The stage a build is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildPhase {
    /// Tokenising documents; `done`/`total` count documents.
    Tokenize,
    /// Sorting suffixes; 0 of 1 when it starts, 1 of 1 when done.
    SuffixArray,
    /// Writing and hashing files; `done`/`total` count bytes.
    Write,
}

/// A progress report, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuildProgress {
    /// Current stage.
    pub phase: BuildPhase,
    /// Units done in this stage.
    pub done: u64,
    /// Units in this stage.
    pub total: u64,
}

/// Documents tokenised per batch (one progress report each).
const BATCH: usize = 1024;

/// Files that older format versions wrote and this one does not
/// (`rmq.bin`: version 1's range-minimum levels).
const RETIRED_FILES: [&str; 1] = ["rmq.bin"];

/// Bytes written between two progress reports.
const WRITE_REPORT: u64 = 16 << 20;

/// How to build an index. No option changes the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuildOptions {
    /// Threads for suffix sorting (libsais with OpenMP; needs the `openmp`
    /// feature, otherwise ignored). 0 means OpenMP's default (all cores).
    ///
    /// Default 1: libgomp's threads spin while they wait, and on a machine
    /// whose cores are busy with other work that turns a 0.4 s sort into
    /// 14 s (measured here, 4.7M tokens, 2 cores, load ~10). On an idle
    /// machine, or with `OMP_WAIT_POLICY=passive` in the environment, more
    /// threads help.
    pub threads: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self { threads: 1 }
    }
}

/// Builds the index of `documents` (in acceptance order) into `dir`, creating
/// it if needed and replacing any index there, with default options.
///
/// Each document is its rows' tokens, each row followed by the tokenizer's
/// separator, so no match spans two rows or two documents. The output is a
/// pure function of `(tokenizer, documents)`: the same input gives
/// byte-identical files and the same `index_hash` on every machine.
pub fn build_index(
    dir: &Path,
    tokenizer: &Tokenizer,
    documents: &[Document],
    progress: &mut dyn FnMut(BuildProgress),
) -> Result<IndexManifest, IndexError> {
    build_index_with(dir, tokenizer, documents, BuildOptions::default(), progress)
}

/// [`build_index`] with explicit [`BuildOptions`].
pub fn build_index_with(
    dir: &Path,
    tokenizer: &Tokenizer,
    documents: &[Document],
    options: BuildOptions,
    progress: &mut dyn FnMut(BuildProgress),
) -> Result<IndexManifest, IndexError> {
    let mut ids = BTreeSet::new();
    if let Some(duplicate) = documents.iter().find(|d| !ids.insert(d.id)) {
        return Err(IndexError::DuplicateDocument(duplicate.id));
    }
    if tokenizer.token_width() == 1 {
        let separator = tokenizer.separator() as u8;
        let encode = |row: &str, out: &mut Vec<u8>| out.extend_from_slice(row.as_bytes());
        let (tokens, starts) = tokenize(documents, separator, &encode, progress);
        let sa = suffix_array_u8(&tokens, options.threads, progress)?;
        write_index(dir, tokenizer, &tokens, &starts, documents, &sa, progress)
    } else {
        let separator = tokenizer.separator() as u16;
        let encode = |row: &str, out: &mut Vec<u16>| {
            // Ids are below the separator (checked when the tokenizer was made).
            out.extend(tokenizer.encode(row).into_iter().map(|t| t as u16));
        };
        let (tokens, starts) = tokenize(documents, separator, &encode, progress);
        let sa = suffix_array_u16(&tokens, options.threads, progress)?;
        write_index(dir, tokenizer, &tokens, &starts, documents, &sa, progress)
    }
}

/// Concatenated tokens of all documents and each document's start offset.
fn tokenize<T: Copy + Send + Sync>(
    documents: &[Document],
    separator: T,
    encode: &(dyn Fn(&str, &mut Vec<T>) + Sync),
    progress: &mut dyn FnMut(BuildProgress),
) -> (Vec<T>, Vec<u64>) {
    let total = documents.len() as u64;
    let mut tokens = Vec::new();
    let mut starts = Vec::with_capacity(documents.len());
    progress(BuildProgress { phase: BuildPhase::Tokenize, done: 0, total });
    for (batch_number, batch) in documents.chunks(BATCH).enumerate() {
        let encoded: Vec<Vec<T>> = batch
            .par_iter()
            .map(|document| {
                let mut out = Vec::new();
                for row in &document.rows {
                    encode(row, &mut out);
                    out.push(separator);
                }
                out
            })
            .collect();
        for document in encoded {
            starts.push(tokens.len() as u64);
            tokens.extend_from_slice(&document);
        }
        let done = (batch_number * BATCH + batch.len()) as u64;
        progress(BuildProgress { phase: BuildPhase::Tokenize, done, total });
    }
    (tokens, starts)
}

/// A suffix array as libsais returns it.
enum SuffixArray {
    Narrow(Vec<i32>),
    Wide(Vec<i64>),
}

impl SuffixArray {
    fn len(&self) -> usize {
        match self {
            Self::Narrow(sa) => sa.len(),
            Self::Wide(sa) => sa.len(),
        }
    }

    #[inline]
    fn get(&self, i: usize) -> u64 {
        match self {
            Self::Narrow(sa) => sa[i] as u64,
            Self::Wide(sa) => sa[i] as u64,
        }
    }
}

macro_rules! suffix_array_of {
    ($name:ident, $symbol:ty) => {
        fn $name(
            text: &[$symbol],
            threads: usize,
            progress: &mut dyn FnMut(BuildProgress),
        ) -> Result<SuffixArray, IndexError> {
            use libsais::SuffixArrayConstruction;
            progress(BuildProgress { phase: BuildPhase::SuffixArray, done: 0, total: 1 });
            let failed = |e: libsais::LibsaisError| IndexError::SuffixArray(format!("{e:?}"));
            let sa = if text.is_empty() {
                SuffixArray::Narrow(Vec::new())
            } else if text.len() <= libsais::LIBSAIS_I32_OUTPUT_MAXIMUM_SIZE {
                let construction = SuffixArrayConstruction::for_text(text).in_owned_buffer32();
                let sa = match openmp_threads(threads) {
                    #[cfg(feature = "openmp")]
                    Some(count) => {
                        construction.multi_threaded(count).run().map_err(failed)?.into_vec()
                    }
                    _ => construction.single_threaded().run().map_err(failed)?.into_vec(),
                };
                SuffixArray::Narrow(sa)
            } else {
                let construction = SuffixArrayConstruction::for_text(text).in_owned_buffer64();
                let sa = match openmp_threads(threads) {
                    #[cfg(feature = "openmp")]
                    Some(count) => {
                        construction.multi_threaded(count).run().map_err(failed)?.into_vec()
                    }
                    _ => construction.single_threaded().run().map_err(failed)?.into_vec(),
                };
                SuffixArray::Wide(sa)
            };
            if sa.len() != text.len() {
                return Err(IndexError::SuffixArray(format!(
                    "libsais returned {} entries for {} tokens",
                    sa.len(),
                    text.len()
                )));
            }
            progress(BuildProgress { phase: BuildPhase::SuffixArray, done: 1, total: 1 });
            Ok(sa)
        }
    };
}

/// The OpenMP thread count for `threads`, or `None` for the single-threaded
/// path.
#[cfg(feature = "openmp")]
fn openmp_threads(threads: usize) -> Option<libsais::ThreadCount> {
    match threads {
        1 => None,
        0 => Some(libsais::ThreadCount::openmp_default()),
        n => Some(libsais::ThreadCount::fixed(u16::try_from(n).unwrap_or(u16::MAX))),
    }
}

#[cfg(not(feature = "openmp"))]
fn openmp_threads(_threads: usize) -> Option<std::convert::Infallible> {
    None
}

suffix_array_of!(suffix_array_u8, u8);
suffix_array_of!(suffix_array_u16, u16);

/// A token type as written to `tokens.bin` (little-endian).
trait StoredToken: Copy {
    fn extend_le(tokens: &[Self], out: &mut Vec<u8>);
}

impl StoredToken for u8 {
    fn extend_le(tokens: &[Self], out: &mut Vec<u8>) {
        out.extend_from_slice(tokens);
    }
}

impl StoredToken for u16 {
    fn extend_le(tokens: &[Self], out: &mut Vec<u8>) {
        out.extend(tokens.iter().flat_map(|t| t.to_le_bytes()));
    }
}

/// Writes all files under temporary names, then installs them.
fn write_index<T: StoredToken>(
    dir: &Path,
    tokenizer: &Tokenizer,
    tokens: &[T],
    starts: &[u64],
    documents: &[Document],
    sa: &SuffixArray,
    progress: &mut dyn FnMut(BuildProgress),
) -> Result<IndexManifest, IndexError> {
    let num_tokens = tokens.len() as u64;
    let width = format::pointer_width(num_tokens);
    let token_width = tokenizer.token_width();
    let id_width = format::id_width(documents.iter().map(|d| d.id).max().unwrap_or(0));
    let total = num_tokens * token_width as u64
        + num_tokens * width as u64
        + documents.len() as u64 * (width + id_width) as u64;

    fs::create_dir_all(dir).map_err(|e| IndexError::io(dir, e))?;
    let mut staged = Staged { dir: dir.to_path_buf(), installed: false };
    let mut writer = ProgressWriter { done: 0, reported: 0, total, progress };
    writer.report();

    let mut files = Vec::with_capacity(DATA_FILES.len());
    files.push(writer.write_file(&staged.temp(TOKENS_FILE), |out, buf| {
        for chunk in tokens.chunks(1 << 20) {
            buf.clear();
            T::extend_le(chunk, buf);
            out.write(buf)?;
        }
        Ok(())
    })?);
    files.push(writer.write_file(&staged.temp(SUFFIX_ARRAY_FILE), |out, buf| {
        write_packed(out, buf, (0..sa.len()).map(|i| sa.get(i)), width)
    })?);
    files.push(writer.write_file(&staged.temp(DOCUMENTS_FILE), |out, buf| {
        // Offsets are at most N, so the pointer width holds them.
        write_packed(out, buf, starts.iter().copied(), width)?;
        write_packed(out, buf, documents.iter().map(|d| d.id), id_width)
    })?);
    for (file, name) in files.iter_mut().zip(DATA_FILES) {
        file.name = name.to_owned();
    }

    let mut manifest = IndexManifest {
        format_version: FORMAT_VERSION,
        tokenizer: tokenizer.name().to_owned(),
        token_width: token_width as u8,
        separator: tokenizer.separator(),
        num_tokens,
        num_documents: documents.len() as u64,
        pointer_width: width as u8,
        id_width: id_width as u8,
        files,
        index_hash: String::new(),
    };
    manifest.index_hash = manifest.compute_index_hash();
    let mut json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| IndexError::io(dir, io::Error::other(e)))?;
    json.push(b'\n');
    let manifest_temp = staged.temp(MANIFEST_FILE);
    fs::write(&manifest_temp, &json).map_err(|e| IndexError::io(&manifest_temp, e))?;
    File::open(&manifest_temp)
        .and_then(|f| f.sync_all())
        .map_err(|e| IndexError::io(&manifest_temp, e))?;
    staged.install()?;
    Ok(manifest)
}

/// Writes `values` as `width`-byte little-endian integers.
fn write_packed(
    out: &mut HashedFile,
    buf: &mut Vec<u8>,
    values: impl Iterator<Item = u64>,
    width: usize,
) -> io::Result<()> {
    buf.clear();
    for value in values {
        buf.extend_from_slice(&value.to_le_bytes()[..width]);
        if buf.len() >= 1 << 20 {
            out.write(buf)?;
            buf.clear();
        }
    }
    out.write(buf)
}

/// A file being written and hashed.
struct HashedFile<'p, 'q> {
    writer: BufWriter<File>,
    hasher: Sha256,
    bytes: u64,
    progress: &'q mut ProgressWriter<'p>,
}

impl HashedFile<'_, '_> {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.writer.write_all(data)?;
        self.hasher.update(data);
        self.bytes += data.len() as u64;
        self.progress.advance(data.len() as u64);
        Ok(())
    }
}

/// Byte counting for [`BuildPhase::Write`] reports.
struct ProgressWriter<'p> {
    done: u64,
    reported: u64,
    total: u64,
    progress: &'p mut dyn FnMut(BuildProgress),
}

impl ProgressWriter<'_> {
    fn report(&mut self) {
        self.reported = self.done;
        (self.progress)(BuildProgress {
            phase: BuildPhase::Write,
            done: self.done,
            total: self.total,
        });
    }

    fn advance(&mut self, bytes: u64) {
        self.done += bytes;
        if self.done - self.reported >= WRITE_REPORT || self.done == self.total {
            self.report();
        }
    }

    /// Creates `path`, lets `fill` write it, fsyncs it, and returns its
    /// entry (without a name yet).
    fn write_file(
        &mut self,
        path: &Path,
        fill: impl FnOnce(&mut HashedFile, &mut Vec<u8>) -> io::Result<()>,
    ) -> Result<IndexFile, IndexError> {
        let result = (|| {
            let file = File::create(path)?;
            let mut out = HashedFile {
                writer: BufWriter::with_capacity(1 << 20, file),
                hasher: Sha256::new(),
                bytes: 0,
                progress: self,
            };
            let mut buf = Vec::new();
            fill(&mut out, &mut buf)?;
            let file = out.writer.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok(IndexFile {
                name: String::new(),
                bytes: out.bytes,
                sha256: format::hex(&out.hasher.finalize()),
            })
        })();
        result.map_err(|e| IndexError::io(path, e))
    }
}

/// The temporary files of a build; removed on drop unless installed.
struct Staged {
    dir: PathBuf,
    installed: bool,
}

impl Staged {
    fn temp(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.tmp"))
    }

    fn install(&mut self) -> Result<(), IndexError> {
        let manifest = self.dir.join(MANIFEST_FILE);
        match fs::remove_file(&manifest) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(IndexError::io(&manifest, e)),
        }
        // Files of older formats, so a rebuild in place leaves only this one's.
        for name in RETIRED_FILES {
            let path = self.dir.join(name);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(IndexError::io(&path, e)),
            }
        }
        for name in DATA_FILES.iter().chain([&MANIFEST_FILE]) {
            let target = self.dir.join(name);
            fs::rename(self.temp(name), &target).map_err(|e| IndexError::io(&target, e))?;
        }
        self.installed = true;
        // Persist the renames themselves.
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(|e| IndexError::io(&self.dir, e))
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.installed {
            for name in DATA_FILES.iter().chain([&MANIFEST_FILE]) {
                let _ = fs::remove_file(self.temp(name));
            }
        }
    }
}
