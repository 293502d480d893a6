//! Historical state: the value of every account and storage slot after
//! every committed block, for archive reads (`eth_getBalance` at block N).
//!
//! Each block writes its changes — the new value of every account and slot
//! it touched — as one *run* sorted by key, under the block's number, so a
//! commit's rows land together at the end of the table. Keyed by address
//! (address ‖ block → value), each changed account would rewrite one random
//! page of a table that grows with every block: the write amplification
//! [`crate::spread`] contains for the accounts table, which it cannot
//! contain here once the table outgrows a block's worth of keys per range.
//!
//! A read at block N wants each key's latest change at or before N. So that
//! it need not look through every block, runs are merged as in a
//! log-structured tree: when block `n` completes an aligned span of
//! `FANOUT^j` blocks (`(n + 1) % FANOUT^j == 0`), the `FANOUT` runs of
//! level `j - 1` that tile it are merged into one run of level `j` that
//! keeps each key's last value in the span. Blocks `0..=N` are then
//! covered by at most `FANOUT - 1` runs per level (the digits of `N + 1` in
//! base `FANOUT`), and a read probes those runs newest first, one B-tree
//! seek each, stopping at the first that holds the key. Every change is
//! written once per level, but a merged run holds each key once, so levels
//! above the first stay no larger than the state; the cost is a merge of
//! up to `FANOUT` runs every `FANOUT^j` blocks, done in the write
//! transaction of the block that completes the span.
//!
//! Layout (one table per kind, keys of fixed length per kind): a run is
//! split into chunks of about [`CHUNK_BYTES`]; a chunk's key is
//! `last block of the span u64 BE | level u8 | its first key`, its value
//! the records `key | value length u8 | value`, sorted by key. Every key in
//! a run is distinct.

use crate::error::{Context, StorageError};
use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};

/// Runs merged into one at the next level.
pub(crate) const FANOUT: u64 = 16;

/// Most bytes of a chunk: large enough that a commit inserts few rows,
/// small enough that a chunk and its key fill one 4 KiB page of redb (a
/// larger value takes a page of the next power of two, half empty).
const CHUNK_BYTES: usize = 3_900;

/// Most bytes of one record: a key (at most 52), the value's length byte
/// and a value (at most 75, an account record).
const MAX_RECORD: usize = 128;

/// Block number and level in front of a chunk's first key.
const PREFIX: usize = 9;

type Table = TableDefinition<'static, &'static [u8], &'static [u8]>;

/// One kind of history: its table and the length of its keys.
#[derive(Clone, Copy)]
pub(crate) struct History {
    table: Table,
    key_len: usize,
    what: &'static str,
}

/// Accounts: key = address, value = the account record (see `codec`).
pub(crate) const ACCOUNTS: History =
    History { table: TableDefinition::new("account_history"), key_len: 20, what: "account" };

/// Storage: key = address ‖ slot, value = the word without leading zeros
/// (empty for zero: a deleted slot).
pub(crate) const STORAGE: History =
    History { table: TableDefinition::new("storage_history"), key_len: 52, what: "storage" };

impl History {
    /// Creates the table (at open, so that readers never meet a missing one).
    pub(crate) fn create(&self, txn: &WriteTransaction) -> Result<(), StorageError> {
        txn.open_table(self.table).context(format_args!("creating the {} history", self.what))?;
        Ok(())
    }

    /// Writes block `number`'s run from `changes` — sorted by key, each key
    /// once; `write_value` appends a key's value to the buffer — and merges
    /// the spans it completes.
    pub(crate) fn write_block<'a, T: 'a>(
        &self,
        txn: &WriteTransaction,
        number: u64,
        changes: impl IntoIterator<Item = (&'a [u8], &'a T)>,
        write_value: impl Fn(&T, &mut Vec<u8>),
    ) -> Result<(), StorageError> {
        let mut table = txn
            .open_table(self.table)
            .context(format_args!("opening the {} history", self.what))?;
        let mut run = RunWriter::new(number, 0);
        for (key, value) in changes {
            debug_assert_eq!(key.len(), self.key_len);
            run.push_with(key, |out| write_value(value, out));
        }
        self.insert(&mut table, run, number, 0)?;
        for level in completed_levels(number) {
            let run = self.merge(&table, number, level)?;
            self.insert(&mut table, run, number, level)?;
        }
        Ok(())
    }

    /// The value of `key` after block `number`: its latest change at or
    /// before it, `None` if it never changed. The caller ensures `number` is
    /// committed.
    pub(crate) fn find(
        &self,
        txn: &ReadTransaction,
        number: u64,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let table = txn
            .open_table(self.table)
            .context(format_args!("opening the {} history", self.what))?;
        let lowest = vec![0u8; self.key_len];
        for (end, level) in spans_covering(number) {
            let low = chunk_key(end, level, &lowest);
            let high = chunk_key(end, level, key);
            let reading =
                || format!("reading the {} history of block {end} level {level}", self.what);
            // The last chunk of the run whose first key is at most `key`.
            let Some(row) =
                table.range(low.as_slice()..=high.as_slice()).context(reading())?.next_back()
            else {
                continue;
            };
            let (_, chunk) = row.context(reading())?;
            let mut records = Records::new(chunk.value(), self.key_len);
            while let Some((found, value)) =
                records.next().map_err(|e| self.corrupt(end, level, e))?
            {
                match found.cmp(key) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => return Ok(Some(value.to_vec())),
                    std::cmp::Ordering::Greater => break,
                }
            }
        }
        Ok(None)
    }

    fn insert(
        &self,
        table: &mut redb::Table<'_, &'static [u8], &'static [u8]>,
        run: RunWriter,
        end: u64,
        level: u8,
    ) -> Result<(), StorageError> {
        for (key, chunk) in run.finish() {
            table.insert(key.as_slice(), chunk.as_slice()).context(format_args!(
                "writing the {} history of block {end} level {level}",
                self.what
            ))?;
        }
        Ok(())
    }

    /// The run of level `level` ending at block `end`: the last value of
    /// each key in the `FANOUT` runs of level `level - 1` that tile its span.
    fn merge(
        &self,
        table: &impl ReadableTable<&'static [u8], &'static [u8]>,
        end: u64,
        level: u8,
    ) -> Result<RunWriter, StorageError> {
        let child_size = FANOUT.pow(u32::from(level) - 1);
        let start = end + 1 - child_size * FANOUT;
        // Oldest first: on equal keys the newest (last) child wins.
        let mut children = (1..=FANOUT)
            .map(|k| Cursor::open(self, table, start + k * child_size - 1, level - 1))
            .collect::<Result<Vec<_>, _>>()?;
        let mut run = RunWriter::new(end, level);
        let mut key = Vec::with_capacity(self.key_len);
        loop {
            // The smallest current key, the newest child on ties; compared
            // by the cached first 8 bytes, then in full.
            let mut best: Option<(usize, u64)> = None;
            for (index, child) in children.iter().enumerate() {
                let Some(prefix) = child.prefix else { continue };
                let better = match best {
                    None => true,
                    Some((b, best_prefix)) => {
                        prefix < best_prefix
                            || (prefix == best_prefix && child.key() <= children[b].key())
                    }
                };
                if better {
                    best = Some((index, prefix));
                }
            }
            let Some((best, prefix)) = best else { break };
            let (found, value) = (children[best].key(), children[best].value());
            run.push_with(found, |out| out.extend_from_slice(value));
            key.clear();
            key.extend_from_slice(found);
            for child in &mut children {
                if child.prefix == Some(prefix) && child.key() == key.as_slice() {
                    child.advance()?;
                }
            }
        }
        Ok(run)
    }

    fn corrupt(&self, end: u64, level: u8, problem: String) -> StorageError {
        StorageError::corrupt(
            format_args!("{} history of block {end} level {level}", self.what),
            problem,
        )
    }
}

/// The levels block `number` completes a span of: `j >= 1` with
/// `(number + 1) % FANOUT^j == 0`.
fn completed_levels(number: u64) -> Vec<u8> {
    let Some(blocks) = number.checked_add(1) else { return Vec::new() };
    let mut levels = Vec::new();
    let mut size = FANOUT;
    let mut level = 1u8;
    while blocks.is_multiple_of(size) {
        levels.push(level);
        let Some(next) = size.checked_mul(FANOUT) else { break };
        size = next;
        level += 1;
    }
    levels
}

/// The runs (last block, level) that tile blocks `0..=number`, newest first:
/// aligned spans of `FANOUT^level` blocks, at most `FANOUT - 1` per level.
fn spans_covering(number: u64) -> Vec<(u64, u8)> {
    let mut spans = Vec::new();
    // `end` is exclusive: blocks `0..end` remain to cover.
    let Some(mut end) = number.checked_add(1) else { return spans };
    let mut size = 1u64;
    let mut level = 0u8;
    while end > 0 {
        for _ in 0..(end / size) % FANOUT {
            spans.push((end - 1, level));
            end -= size;
        }
        if end == 0 {
            break;
        }
        // What remains is a multiple of `size * FANOUT`, so that fits in u64.
        size *= FANOUT;
        level += 1;
    }
    spans
}

fn chunk_key(end: u64, level: u8, first: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(PREFIX + first.len());
    key.extend_from_slice(&end.to_be_bytes());
    key.push(level);
    key.extend_from_slice(first);
    key
}

/// Builds one run's chunks.
struct RunWriter {
    end: u64,
    level: u8,
    chunks: Vec<(Vec<u8>, Vec<u8>)>,
    first: Vec<u8>,
    current: Vec<u8>,
}

impl RunWriter {
    fn new(end: u64, level: u8) -> Self {
        Self { end, level, chunks: Vec::new(), first: Vec::new(), current: Vec::new() }
    }

    /// Appends `key` (greater than the last) with the value `write` appends.
    fn push_with(&mut self, key: &[u8], write: impl FnOnce(&mut Vec<u8>)) {
        if self.current.is_empty() {
            self.first.clear();
            self.first.extend_from_slice(key);
            self.current.reserve(CHUNK_BYTES);
        }
        self.current.extend_from_slice(key);
        let length_at = self.current.len();
        self.current.push(0);
        write(&mut self.current);
        let length = self.current.len() - length_at - 1;
        // Values are account records (at most 75 bytes) or words (at most 32).
        self.current[length_at] = u8::try_from(length).expect("history values are under 256 bytes");
        if self.current.len() + MAX_RECORD > CHUNK_BYTES {
            self.close_chunk();
        }
    }

    fn close_chunk(&mut self) {
        if !self.current.is_empty() {
            let chunk = std::mem::take(&mut self.current);
            self.chunks.push((chunk_key(self.end, self.level, &self.first), chunk));
        }
    }

    /// The chunks: (table key, value).
    fn finish(mut self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.close_chunk();
        self.chunks
    }
}

/// A record: key and value.
type Record<'a> = (&'a [u8], &'a [u8]);

/// The records of one chunk, in order.
struct Records<'a> {
    bytes: &'a [u8],
    key_len: usize,
}

impl<'a> Records<'a> {
    fn new(bytes: &'a [u8], key_len: usize) -> Self {
        Self { bytes, key_len }
    }

    /// The next (key, value), or `None` at the end.
    fn next(&mut self) -> Result<Option<Record<'a>>, String> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        let Some((&length, value)) = self.bytes.get(self.key_len..).and_then(<[u8]>::split_first)
        else {
            return Err(format!("a record of {} bytes, shorter than its key", self.bytes.len()));
        };
        let length = usize::from(length);
        if value.len() < length {
            return Err(format!("a value of {length} bytes with only {} left", value.len()));
        }
        let key = &self.bytes[..self.key_len];
        let (value, rest) = value.split_at(length);
        self.bytes = rest;
        Ok(Some((key, value)))
    }
}

/// Reads one run record by record (for merging).
struct Cursor<'t> {
    chunks: redb::Range<'t, &'static [u8], &'static [u8]>,
    key_len: usize,
    end: u64,
    level: u8,
    what: &'static str,
    chunk: Vec<u8>,
    /// Offset of the next record in `chunk`.
    at: usize,
    /// The current record's key and value in `chunk`.
    key: std::ops::Range<usize>,
    value: std::ops::Range<usize>,
    /// The first 8 bytes of the current key, big-endian; `None` once the
    /// run is read.
    prefix: Option<u64>,
}

impl<'t> Cursor<'t> {
    fn open(
        history: &History,
        table: &'t impl ReadableTable<&'static [u8], &'static [u8]>,
        end: u64,
        level: u8,
    ) -> Result<Self, StorageError> {
        let low = chunk_key(end, level, &vec![0u8; history.key_len]);
        let high = chunk_key(end, level, &vec![0xffu8; history.key_len]);
        let chunks = table.range(low.as_slice()..=high.as_slice()).context(format_args!(
            "reading the {} history of block {end} level {level}",
            history.what
        ))?;
        let mut cursor = Self {
            chunks,
            key_len: history.key_len,
            end,
            level,
            what: history.what,
            chunk: Vec::new(),
            at: 0,
            key: 0..0,
            value: 0..0,
            prefix: None,
        };
        cursor.advance()?;
        Ok(cursor)
    }

    /// The current key (empty once the run is read).
    fn key(&self) -> &[u8] {
        &self.chunk[self.key.clone()]
    }

    /// The current value.
    fn value(&self) -> &[u8] {
        &self.chunk[self.value.clone()]
    }

    /// Moves to the next record, loading the next chunk when needed.
    fn advance(&mut self) -> Result<(), StorageError> {
        loop {
            if self.at < self.chunk.len() {
                let mut records = Records::new(&self.chunk[self.at..], self.key_len);
                let value = match records.next() {
                    Ok(Some((_, value))) => value.len(),
                    // Not reached: the rest of the chunk is not empty.
                    Ok(None) => 0,
                    Err(e) => {
                        return Err(StorageError::corrupt(
                            format_args!(
                                "{} history of block {} level {}",
                                self.what, self.end, self.level
                            ),
                            e,
                        ));
                    }
                };
                let key_start = self.at;
                let value_start = key_start + self.key_len + 1;
                self.key = key_start..key_start + self.key_len;
                self.value = value_start..value_start + value;
                self.at = value_start + value;
                let mut prefix = [0u8; 8];
                prefix.copy_from_slice(&self.chunk[key_start..key_start + 8]);
                self.prefix = Some(u64::from_be_bytes(prefix));
                return Ok(());
            }
            let reading = || {
                format!(
                    "reading the {} history of block {} level {}",
                    self.what, self.end, self.level
                )
            };
            match self.chunks.next() {
                Some(row) => {
                    let (_, chunk) = row.context(reading())?;
                    self.chunk.clear();
                    self.chunk.extend_from_slice(chunk.value());
                    self.at = 0;
                }
                None => {
                    self.chunk.clear();
                    (self.key, self.value, self.prefix) = (0..0, 0..0, None);
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_tile_every_prefix_of_the_chain_newest_first() {
        for number in (0..5_000u64).chain([65_535, 65_536, 1 << 40, u64::MAX - 1]) {
            let spans = spans_covering(number);
            let mut next = number;
            for (end, level) in &spans {
                let size = FANOUT.pow(u32::from(*level));
                assert_eq!(*end, next, "block {number}: spans are contiguous, newest first");
                assert_eq!((end + 1) % size, 0, "block {number}: span ending at {end} is aligned");
                next = end.wrapping_sub(size);
            }
            assert_eq!(next, u64::MAX, "block {number}: the spans reach block 0");
            assert!(spans.len() <= 15 * 16);
        }
        assert!(spans_covering(u64::MAX).is_empty());
    }

    #[test]
    fn a_span_is_merged_by_the_block_that_completes_it() {
        assert_eq!(completed_levels(0), Vec::<u8>::new());
        assert_eq!(completed_levels(14), Vec::<u8>::new());
        assert_eq!(completed_levels(15), vec![1]);
        assert_eq!(completed_levels(255), vec![1, 2]);
        assert_eq!(completed_levels(4095), vec![1, 2, 3]);
        assert_eq!(completed_levels(u64::MAX - 1), Vec::<u8>::new());
        // Every span a read uses was merged at or before its last block.
        for number in 0..1_000u64 {
            for (end, level) in spans_covering(number) {
                assert!(end <= number);
                assert!(level == 0 || completed_levels(end).contains(&level));
            }
        }
    }

    #[test]
    fn chunks_split_runs_and_records_read_back() {
        let mut run = RunWriter::new(7, 0);
        let keys: Vec<[u8; 20]> = (0u16..2_000)
            .map(|i| {
                let mut key = [0u8; 20];
                key[..2].copy_from_slice(&i.to_be_bytes());
                key
            })
            .collect();
        for (i, key) in keys.iter().enumerate() {
            run.push_with(key, |out| out.extend_from_slice(&vec![i as u8; i % 40]));
        }
        let chunks = run.finish();
        assert!(chunks.len() > 2);
        let mut read = Vec::new();
        for (key, chunk) in &chunks {
            assert_eq!(&key[..PREFIX], &chunk_key(7, 0, &[])[..]);
            let mut records = Records::new(chunk, 20);
            let mut first = true;
            while let Some((found, value)) = records.next().unwrap() {
                if first {
                    assert_eq!(&key[PREFIX..], found);
                    first = false;
                }
                read.push((found.to_vec(), value.to_vec()));
            }
        }
        assert_eq!(read.len(), keys.len());
        for (i, (key, value)) in read.iter().enumerate() {
            assert_eq!(key.as_slice(), keys[i].as_slice());
            assert_eq!(value, &vec![i as u8; i % 40]);
        }
        assert!(Records::new(&[1u8; 10], 20).next().is_err());
        let mut truncated = [0u8; 22];
        truncated[20] = 5;
        assert!(Records::new(&truncated, 20).next().is_err());
    }
}
