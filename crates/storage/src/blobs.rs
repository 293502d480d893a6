//! The content-addressed blob store: contribution bytes, named by their
//! SHA-256 (DESIGN.md decision 5).
//!
//! A blob lives in `<dir>/<first 2 hex digits>/<other 62 hex digits>` (for a
//! node, `<datadir>/blobs/...`). Writing hashes the bytes into a temporary
//! file with a name unique to the write (`<dir>/tmp/`), syncs it, checks the
//! hash and size, and only then renames it into place, so a reader never
//! sees half a blob, a crash leaves at most a stray temporary file (removed
//! at the next [`BlobStore::open`]), and refused bytes leave nothing. Since
//! a blob's name is its hash, writing the same bytes twice is harmless and
//! concurrent writers never conflict. Reading checks the bytes against their
//! name, so a blob damaged on disk is reported, never served.
//!
//! Hashes are typed ([`B256`]): a path cannot be smuggled in as a name.
//! Open one `BlobStore` per directory at a time and share it (it is `Sync`).

use alloy_primitives::B256;
use sha2::{Digest, Sha256};
use std::{
    fs::{self, File},
    io::{self, Read, Write},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The file system failed.
    #[error("blob store I/O failed on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The bytes do not hash to the name they were offered under.
    #[error(
        "hash mismatch: the bytes hash to {actual}, not to the expected {expected}; nothing was stored"
    )]
    HashMismatch {
        /// The hash the writer named.
        expected: B256,
        /// The SHA-256 of the bytes received.
        actual: B256,
    },
    /// More bytes than a blob may hold.
    #[error("the blob is larger than the limit of {limit} bytes; nothing was stored")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// A stored blob no longer hashes to its name.
    #[error("stored blob {hash} is corrupt: its {size} bytes hash to {actual}")]
    Corrupt {
        /// The blob's name.
        hash: B256,
        /// What its bytes hash to now.
        actual: B256,
        /// Its size now.
        size: u64,
    },
}

/// The SHA-256 of some bytes: a blob's name.
pub fn blob_hash(bytes: &[u8]) -> B256 {
    B256::from(<[u8; 32]>::from(Sha256::digest(bytes)))
}

/// Distinguishes the temporary files of concurrent writes in one process.
static WRITE_COUNTER: AtomicU64 = AtomicU64::new(0);

const TEMP_DIR: &str = "tmp";
const TEMP_SUFFIX: &str = ".part";

/// A directory of blobs named by their SHA-256.
#[derive(Debug)]
pub struct BlobStore {
    dir: PathBuf,
    max_blob_bytes: u64,
}

impl BlobStore {
    /// The largest blob accepted by default: 64 MiB.
    pub const MAX_BLOB_BYTES: u64 = 64 * 1024 * 1024;

    /// Opens (creating if needed) the store in `dir`, removing temporary
    /// files an interrupted write left behind.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, BlobError> {
        let dir = dir.as_ref().to_path_buf();
        let temp = dir.join(TEMP_DIR);
        fs::create_dir_all(&temp).map_err(|source| io_error(&temp, source))?;
        for entry in fs::read_dir(&temp).map_err(|source| io_error(&temp, source))? {
            let path = entry.map_err(|source| io_error(&temp, source))?.path();
            if path.extension().is_some_and(|extension| extension == &TEMP_SUFFIX[1..]) {
                fs::remove_file(&path).map_err(|source| io_error(&path, source))?;
            }
        }
        Ok(Self { dir, max_blob_bytes: Self::MAX_BLOB_BYTES })
    }

    /// The same store with another size limit (bytes).
    pub fn with_max_blob_bytes(mut self, limit: u64) -> Self {
        self.max_blob_bytes = limit;
        self
    }

    /// The largest blob this store accepts, in bytes.
    pub fn max_blob_bytes(&self) -> u64 {
        self.max_blob_bytes
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the blob named `hash` lives.
    pub fn path(&self, hash: &B256) -> PathBuf {
        let hex = alloy_primitives::hex::encode(hash);
        self.dir.join(&hex[..2]).join(&hex[2..])
    }

    /// Stores `bytes` and returns their hash. With `expected`, bytes that
    /// hash otherwise are refused and nothing is stored.
    pub fn put(&self, expected: Option<B256>, bytes: &[u8]) -> Result<B256, BlobError> {
        if bytes.len() as u64 > self.max_blob_bytes {
            return Err(BlobError::TooLarge { limit: self.max_blob_bytes });
        }
        let mut writer = self.writer(expected)?;
        writer.write_chunk(bytes)?;
        writer.finish()
    }

    /// Stores everything `reader` yields (streamed, never all in memory).
    pub fn put_reader(
        &self,
        expected: Option<B256>,
        mut reader: impl Read,
    ) -> Result<B256, BlobError> {
        let mut writer = self.writer(expected)?;
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let read = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(BlobError::Io { path: writer.temp.clone(), source }),
            };
            writer.write_chunk(&buffer[..read])?;
        }
        writer.finish()
    }

    /// Starts a streamed write: feed it with [`BlobWriter::write_chunk`], then
    /// [`BlobWriter::finish`]. Dropped unfinished, it stores nothing.
    pub fn writer(&self, expected: Option<B256>) -> Result<BlobWriter, BlobError> {
        let temp_dir = self.dir.join(TEMP_DIR);
        let process = std::process::id();
        loop {
            let count = WRITE_COUNTER.fetch_add(1, Ordering::Relaxed);
            let temp = temp_dir.join(format!("{process}-{count}{TEMP_SUFFIX}"));
            match File::options().write(true).create_new(true).open(&temp) {
                Ok(file) => {
                    return Ok(BlobWriter {
                        file: Some(file),
                        temp,
                        dir: self.dir.clone(),
                        hasher: Sha256::new(),
                        written: 0,
                        max_blob_bytes: self.max_blob_bytes,
                        expected,
                    });
                }
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(source) => return Err(io_error(&temp, source)),
            }
        }
    }

    /// The blob's bytes, checked against its name; `None` if absent.
    pub fn get(&self, hash: &B256) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path(hash);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(io_error(&path, source)),
        };
        let actual = blob_hash(&bytes);
        if actual != *hash {
            return Err(BlobError::Corrupt { hash: *hash, actual, size: bytes.len() as u64 });
        }
        Ok(Some(bytes))
    }

    /// A reader of the blob that checks its hash when it reaches the end
    /// (see [`BlobReader`]); `None` if absent.
    pub fn open_reader(&self, hash: &B256) -> Result<Option<BlobReader>, BlobError> {
        let path = self.path(hash);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(io_error(&path, source)),
        };
        let size = file.metadata().map_err(|source| io_error(&path, source))?.len();
        Ok(Some(BlobReader { file, hash: *hash, hasher: Sha256::new(), size, read: 0 }))
    }

    /// Whether the blob is stored.
    pub fn contains(&self, hash: &B256) -> Result<bool, BlobError> {
        let path = self.path(hash);
        path.try_exists().map_err(|source| io_error(&path, source))
    }

    /// The blob's size in bytes; `None` if absent.
    pub fn size(&self, hash: &B256) -> Result<Option<u64>, BlobError> {
        let path = self.path(hash);
        match fs::metadata(&path) {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(io_error(&path, source)),
        }
    }

    /// Removes the blob; `false` if it was not stored.
    pub fn delete(&self, hash: &B256) -> Result<bool, BlobError> {
        let path = self.path(hash);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(io_error(&path, source)),
        }
    }
}

/// A blob being written (see [`BlobStore::writer`]).
#[derive(Debug)]
pub struct BlobWriter {
    /// `None` once finished or failed; the temporary file is then gone or
    /// renamed.
    file: Option<File>,
    temp: PathBuf,
    dir: PathBuf,
    hasher: Sha256,
    written: u64,
    max_blob_bytes: u64,
    expected: Option<B256>,
}

impl BlobWriter {
    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Appends bytes. Past the size limit it fails with
    /// [`BlobError::TooLarge`] and the write is abandoned.
    pub fn write_chunk(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        let limit = self.max_blob_bytes;
        let Some(file) = self.file.as_mut() else {
            return Err(BlobError::TooLarge { limit });
        };
        if self.written.saturating_add(chunk.len() as u64) > limit {
            self.abandon();
            return Err(BlobError::TooLarge { limit });
        }
        if let Err(source) = file.write_all(chunk) {
            let error = io_error(&self.temp, source);
            self.abandon();
            return Err(error);
        }
        self.hasher.update(chunk);
        self.written += chunk.len() as u64;
        Ok(())
    }

    /// Checks the hash, syncs the bytes to disk and moves them into place.
    pub fn finish(mut self) -> Result<B256, BlobError> {
        let Some(file) = self.file.take() else {
            return Err(BlobError::TooLarge { limit: self.max_blob_bytes });
        };
        let actual = B256::from(<[u8; 32]>::from(std::mem::take(&mut self.hasher).finalize()));
        if let Some(expected) = self.expected
            && expected != actual
        {
            drop(file);
            remove_quietly(&self.temp);
            return Err(BlobError::HashMismatch { expected, actual });
        }
        let result = self.install(file, &actual);
        if result.is_err() {
            remove_quietly(&self.temp);
        }
        result.map(|()| actual)
    }

    fn install(&self, file: File, hash: &B256) -> Result<(), BlobError> {
        let hex = alloy_primitives::hex::encode(hash);
        let shard = self.dir.join(&hex[..2]);
        let target = shard.join(&hex[2..]);
        if target.exists() {
            // Same name, same bytes: the stored copy is as good.
            drop(file);
            remove_quietly(&self.temp);
            return Ok(());
        }
        file.sync_all().map_err(|source| io_error(&self.temp, source))?;
        drop(file);
        fs::create_dir_all(&shard).map_err(|source| io_error(&shard, source))?;
        fs::rename(&self.temp, &target).map_err(|source| io_error(&target, source))?;
        sync_dir(&shard)
    }

    fn abandon(&mut self) {
        if self.file.take().is_some() {
            remove_quietly(&self.temp);
        }
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_chunk(buf).map_err(|error| match error {
            BlobError::Io { source, .. } => source,
            other => io::Error::other(other),
        })?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        self.abandon();
    }
}

/// Reads a stored blob and, at the end, checks that the bytes read hash to
/// its name: a corrupt blob ends in an [`io::ErrorKind::InvalidData`] error
/// (wrapping [`BlobError::Corrupt`]) instead of end-of-file, so a streamed
/// copy of it fails rather than completing.
#[derive(Debug)]
pub struct BlobReader {
    file: File,
    hash: B256,
    hasher: Sha256,
    size: u64,
    read: u64,
}

impl BlobReader {
    /// The blob's size in bytes when opened.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.file.read(buf)?;
        if read == 0 && !buf.is_empty() {
            let actual = B256::from(<[u8; 32]>::from(self.hasher.clone().finalize()));
            if actual != self.hash {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    BlobError::Corrupt { hash: self.hash, actual, size: self.read },
                ));
            }
        }
        self.hasher.update(&buf[..read]);
        self.read += read as u64;
        Ok(read)
    }
}

fn io_error(path: &Path, source: io::Error) -> BlobError {
    BlobError::Io { path: path.to_path_buf(), source }
}

/// Removes a temporary file; failing to is harmless (the next open removes it).
fn remove_quietly(path: &Path) {
    let _ = fs::remove_file(path);
}

/// Makes a rename durable: on Unix a directory entry is only on disk once
/// the directory itself is synced.
fn sync_dir(dir: &Path) -> Result<(), BlobError> {
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(|source| io_error(dir, source))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{str::FromStr, sync::Arc};

    fn store() -> (tempfile::TempDir, BlobStore) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = BlobStore::open(dir.path().join("blobs")).expect("a fresh store opens");
        (dir, store)
    }

    fn temp_files(store: &BlobStore) -> usize {
        fs::read_dir(store.dir().join(TEMP_DIR)).unwrap().count()
    }

    #[test]
    fn put_get_and_layout() {
        let (_dir, store) = store();
        let hash = store.put(None, b"hello").unwrap();
        // sha256("hello"), computed independently.
        assert_eq!(
            hash,
            B256::from_str("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
                .unwrap()
        );
        assert_eq!(
            store.path(&hash),
            store
                .dir()
                .join("2c")
                .join("f24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
        assert!(store.path(&hash).is_file());
        assert_eq!(store.get(&hash).unwrap().as_deref(), Some(&b"hello"[..]));
        assert!(store.contains(&hash).unwrap());
        assert_eq!(store.size(&hash).unwrap(), Some(5));
        // Storing again, with the right name, changes nothing.
        assert_eq!(store.put(Some(hash), b"hello").unwrap(), hash);
        assert_eq!(temp_files(&store), 0);
        assert!(store.delete(&hash).unwrap());
        assert!(!store.delete(&hash).unwrap());
        assert_eq!(store.get(&hash).unwrap(), None);
        assert!(!store.contains(&hash).unwrap());
        assert_eq!(store.size(&hash).unwrap(), None);
        assert!(store.open_reader(&hash).unwrap().is_none());
    }

    #[test]
    fn the_empty_blob_is_a_blob() {
        let (_dir, store) = store();
        let hash = store.put(None, b"").unwrap();
        assert_eq!(hash, blob_hash(b""));
        assert_eq!(store.get(&hash).unwrap(), Some(Vec::new()));
    }

    #[test]
    fn a_wrong_hash_stores_nothing() {
        let (_dir, store) = store();
        let wrong = blob_hash(b"other bytes");
        let error = store.put(Some(wrong), b"hello").unwrap_err();
        let actual = blob_hash(b"hello");
        assert!(
            matches!(error, BlobError::HashMismatch { expected, actual: a } if expected == wrong && a == actual)
        );
        let message = error.to_string();
        assert!(
            message.contains(&wrong.to_string()) && message.contains(&actual.to_string()),
            "{message}"
        );
        assert!(!store.contains(&actual).unwrap());
        assert!(!store.contains(&wrong).unwrap());
        assert_eq!(temp_files(&store), 0);
    }

    #[test]
    fn oversize_stores_nothing() {
        let (_dir, store) = store();
        let store = store.with_max_blob_bytes(10);
        assert!(store.put(None, &[7; 10]).is_ok());
        let error = store.put(None, &[7; 11]).unwrap_err();
        assert!(matches!(error, BlobError::TooLarge { limit: 10 }), "{error}");
        // Streamed: the limit trips part-way and the partial file goes.
        let error = store.put_reader(None, &[8u8; 1000][..]).unwrap_err();
        assert!(matches!(error, BlobError::TooLarge { limit: 10 }), "{error}");
        assert!(!store.contains(&blob_hash(&[8; 1000])).unwrap());
        assert_eq!(temp_files(&store), 0);
        let mut writer = store.writer(None).unwrap();
        writer.write_chunk(&[1; 6]).unwrap();
        assert!(writer.write_chunk(&[1; 6]).is_err());
        assert!(writer.write_chunk(&[1; 1]).is_err(), "a failed write stays failed");
        assert!(writer.finish().is_err());
        assert_eq!(temp_files(&store), 0);
        assert_eq!(BlobStore::MAX_BLOB_BYTES, 64 * 1024 * 1024);
    }

    #[test]
    fn streamed_writes() {
        let (_dir, store) = store();
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let hash = store.put_reader(Some(blob_hash(&bytes)), &bytes[..]).unwrap();
        assert_eq!(store.get(&hash).unwrap(), Some(bytes.clone()));
        // An abandoned writer leaves nothing.
        let mut writer = store.writer(None).unwrap();
        writer.write_all(b"partial").unwrap();
        assert_eq!(writer.written(), 7);
        assert_eq!(temp_files(&store), 1);
        drop(writer);
        assert_eq!(temp_files(&store), 0);
        assert!(!store.contains(&blob_hash(b"partial")).unwrap());
    }

    #[test]
    fn corruption_is_detected() {
        let (_dir, store) = store();
        let hash = store.put(None, b"original bytes").unwrap();
        fs::write(store.path(&hash), b"tampered bytes").unwrap();
        let error = store.get(&hash).unwrap_err();
        assert!(
            matches!(error, BlobError::Corrupt { hash: h, actual, size: 14 } if h == hash && actual == blob_hash(b"tampered bytes"))
        );
        let mut reader = store.open_reader(&hash).unwrap().expect("the file is there");
        assert_eq!(reader.size(), 14);
        let error = io::copy(&mut reader, &mut io::sink()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(error.to_string().contains("corrupt"), "{error}");

        let good = store.put(None, b"good").unwrap();
        let mut copy = Vec::new();
        store.open_reader(&good).unwrap().unwrap().read_to_end(&mut copy).unwrap();
        assert_eq!(copy, b"good");
    }

    #[test]
    fn open_removes_stray_temporary_files() {
        let (dir, store) = store();
        let hash = store.put(None, b"kept").unwrap();
        fs::write(store.dir().join(TEMP_DIR).join("123-4.part"), b"crash").unwrap();
        drop(store);
        let store = BlobStore::open(dir.path().join("blobs")).unwrap();
        assert_eq!(temp_files(&store), 0);
        assert_eq!(store.get(&hash).unwrap().as_deref(), Some(&b"kept"[..]));
    }

    #[test]
    fn names_are_hashes_not_paths() {
        for hostile in
            ["../../etc/passwd", "0x..", "2c/../../x", "", "0x2cf2", "zz".repeat(32).as_str()]
        {
            assert!(B256::from_str(hostile).is_err(), "{hostile} parsed as a hash");
        }
    }

    #[test]
    fn concurrent_writes() {
        let (_dir, store) = store();
        let store = Arc::new(store);
        let threads: Vec<_> = (0..8u8)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || {
                    // Half the threads write the same bytes.
                    let bytes = vec![i % 2; 100_000];
                    (store.put(None, &bytes).unwrap(), bytes)
                })
            })
            .collect();
        for thread in threads {
            let (hash, bytes) = thread.join().unwrap();
            assert_eq!(store.get(&hash).unwrap(), Some(bytes));
        }
        assert_eq!(temp_files(&store), 0);
    }
}
