//! Attribution indexes of datanet versions, built and served by the node.
//!
//! An index lives in `<datadir>/indexes/<datanet>/<version>/<tokenizer>/`.
//! [`IndexService::start_build`] gathers a published version's contributions
//! (in acceptance order) from the chain and their bytes from the blob store,
//! parses them with the datanet's options and builds the suffix-array index
//! on a background thread, reporting progress ([`BuildStatus`]); one build
//! runs at a time. An attribution challenge on a node without the index
//! builds it synchronously ([`IndexService::build_now`]) from the same
//! documents ([`member_documents`]), so the hash is the same. Queries open
//! an index once and keep it memory-mapped; when the chain records an index
//! hash for the version, an index whose hash differs is refused (rebuild
//! it). A contribution withdrawn after the
//! version was published stays in the index files but is excluded from
//! every attribution (its id is passed as excluded); if its bytes are
//! already forgotten when the index is built, it is left out of the build,
//! and the resulting hash then differs from one built before the take-down.

use alloy_primitives::B256;
use ol_attribution::{
    content::{self as parsing, FormatOptions},
    index::{BuildPhase, BuildProgress, Document, Index, IndexError, build_index},
    tokenizer::Tokenizer,
};
use ol_ledger::{
    StateView, VersionMember,
    datanets::{DatanetsReader, Status},
    system::CallError,
};
use ol_storage::BlobStore;
use std::{
    collections::{BTreeSet, HashMap},
    path::PathBuf,
    sync::{Arc, Mutex},
};

/// Longest [`IndexService::build_now`] waits for a background build of the
/// same index.
const BUILD_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Which index: datanet, version, tokenizer name.
pub type IndexKey = (u64, u32, String);

/// Withdrawn contribution ids, as of the block with this hash.
type WithdrawnAt = (B256, Arc<BTreeSet<u64>>);

/// Where a build stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildStatus {
    /// `building`, `ready`, `failed` or `absent`.
    pub state: String,
    /// `gather`, `tokenize`, `suffix-array` or `write` while building.
    pub phase: Option<String>,
    /// Units done in the phase.
    pub done: u64,
    /// Units in the phase.
    pub total: u64,
    /// The index hash once ready (0x-prefixed sha256).
    pub index_hash: Option<String>,
    /// Tokens indexed, once ready.
    pub tokens: Option<u64>,
    /// Contributions indexed, once ready.
    pub documents: Option<u64>,
    /// Why it failed.
    pub error: Option<String>,
}

impl BuildStatus {
    fn absent() -> Self {
        Self {
            state: "absent".into(),
            phase: None,
            done: 0,
            total: 0,
            index_hash: None,
            tokens: None,
            documents: None,
            error: None,
        }
    }

    fn ready(index: &Index) -> Self {
        Self {
            state: "ready".into(),
            index_hash: Some(format!("0x{}", index.index_hash())),
            tokens: Some(index.num_tokens()),
            documents: Some(index.num_documents()),
            ..Self::absent()
        }
    }

    fn failed(error: String) -> Self {
        Self { state: "failed".into(), error: Some(error), ..Self::absent() }
    }

    /// A build of `total` documents, just started.
    fn building(total: u64) -> Self {
        Self { state: "building".into(), phase: Some("tokenize".into()), total, ..Self::absent() }
    }
}

/// Why an index cannot be built or used.
#[derive(Debug, thiserror::Error)]
pub enum IndexServiceError {
    /// Asked for something that does not exist or is not allowed.
    #[error("{0}")]
    Refused(String),
    /// The chain could not be read.
    #[error("reading the chain: {0}")]
    Chain(#[from] CallError),
    /// The index files are missing, corrupt or stale.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// A version's documents as the chain and blob store give them.
#[derive(Debug)]
pub struct VersionDocuments {
    /// Contributions in acceptance order, with their rows.
    pub documents: Vec<Document>,
    /// Members withdrawn since (excluded from attribution).
    pub withdrawn: BTreeSet<u64>,
    /// The index hash the chain records, if any.
    pub recorded: Option<B256>,
}

/// Builds, opens and caches indexes.
#[derive(Debug)]
pub struct IndexService {
    dir: PathBuf,
    blobs: Arc<BlobStore>,
    builds: Mutex<HashMap<IndexKey, BuildStatus>>,
    open: Mutex<HashMap<IndexKey, Arc<Index>>>,
    /// Withdrawn contributions of each open index, as of a block hash.
    withdrawn: Mutex<HashMap<IndexKey, WithdrawnAt>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The documents of `version` of `datanet` in `state`.
pub fn version_documents<S: StateView>(
    state: &S,
    blobs: &BlobStore,
    datanet: u64,
    version: u32,
) -> Result<VersionDocuments, IndexServiceError> {
    let mut reader = DatanetsReader::new(state);
    if reader.datanet(datanet)?.is_none() {
        return Err(IndexServiceError::Refused(format!("datanet {datanet} does not exist")));
    }
    let Some(record) = reader.version(datanet, version)? else {
        return Err(IndexServiceError::Refused(format!(
            "datanet {datanet} has no published version {version}"
        )));
    };
    let members = reader.version_member_records(datanet, version)?.ok_or_else(|| {
        IndexServiceError::Refused(format!(
            "a contribution of datanet {datanet} version {version} is missing"
        ))
    })?;
    let (documents, withdrawn) = member_documents(blobs, &members)?;
    let recorded = (record.indexHash != B256::ZERO).then_some(record.indexHash);
    Ok(VersionDocuments { documents, withdrawn, recorded })
}

/// The documents of a version's `members` (in their order) from `blobs`,
/// and the withdrawn members. A withdrawn member whose bytes are forgotten
/// is left out; any other member whose bytes are missing is an error.
pub fn member_documents(
    blobs: &BlobStore,
    members: &[VersionMember],
) -> Result<(Vec<Document>, BTreeSet<u64>), IndexServiceError> {
    let mut documents = Vec::new();
    let mut withdrawn = BTreeSet::new();
    for member in members {
        let (id, hash) = (member.id, member.content_hash);
        if member.withdrawn {
            withdrawn.insert(id);
        }
        let bytes = match blobs.get(&hash) {
            Ok(Some(bytes)) => bytes,
            Ok(None) if member.withdrawn => continue,
            Ok(None) => {
                return Err(IndexServiceError::Refused(format!(
                    "the bytes of contribution {id} ({hash}) are not in this node's blob store"
                )));
            }
            Err(error) => return Err(IndexServiceError::Refused(error.to_string())),
        };
        let format = parsing::Format::try_from(member.options.format).map_err(|_| {
            IndexServiceError::Refused(format!("contribution {id} has an unknown format"))
        })?;
        let parse = FormatOptions {
            jsonl_field: member.options.jsonl_field.clone(),
            csv_column: member.options.csv_column.clone(),
        };
        let rows = parsing::parse(&bytes, format, &parse).map_err(|error| {
            IndexServiceError::Refused(format!("contribution {id} does not parse: {error}"))
        })?;
        documents.push(Document { id, rows });
    }
    Ok((documents, withdrawn))
}

fn phase_name(phase: BuildPhase) -> &'static str {
    match phase {
        BuildPhase::Tokenize => "tokenize",
        BuildPhase::SuffixArray => "suffix-array",
        BuildPhase::Write => "write",
    }
}

impl IndexService {
    /// Indexes under `dir`, contribution bytes from `blobs`.
    pub fn new(dir: PathBuf, blobs: Arc<BlobStore>) -> Self {
        Self {
            dir,
            blobs,
            builds: Mutex::default(),
            open: Mutex::default(),
            withdrawn: Mutex::default(),
        }
    }

    /// The blob store the contributions come from.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// The directory of one index.
    pub fn path(&self, key: &IndexKey) -> PathBuf {
        self.dir.join(key.0.to_string()).join(key.1.to_string()).join(&key.2)
    }

    /// Where the build of `key` stands (reading the files when no build ran
    /// in this process).
    pub fn status(&self, key: &IndexKey) -> BuildStatus {
        if let Some(status) = lock(&self.builds).get(key) {
            return status.clone();
        }
        match self.open_index(key) {
            Ok(index) => BuildStatus::ready(&index),
            Err(_) => BuildStatus::absent(),
        }
    }

    /// Starts building `key` from `documents` on a background thread,
    /// unless it is being built or already built. Returns the status.
    pub fn start_build(
        self: &Arc<Self>,
        key: IndexKey,
        tokenizer: Tokenizer,
        documents: Vec<Document>,
        rebuild: bool,
    ) -> Result<BuildStatus, IndexServiceError> {
        let mut builds = lock(&self.builds);
        if builds.values().any(|status| status.state == "building") {
            let running = builds.iter().find(|(_, s)| s.state == "building").map(|(k, _)| k);
            if let Some((datanet, version, tokenizer)) = running {
                return Err(IndexServiceError::Refused(format!(
                    "this node is already building the {tokenizer} index of datanet {datanet} version {version}; try again when it is done"
                )));
            }
        }
        if !rebuild && let Ok(index) = self.open_index(&key) {
            let status = BuildStatus::ready(&index);
            builds.insert(key, status.clone());
            return Ok(status);
        }
        let status = BuildStatus::building(documents.len() as u64);
        builds.insert(key.clone(), status.clone());
        drop(builds);
        lock(&self.open).remove(&key);
        let service = self.clone();
        std::thread::Builder::new()
            .name(format!("index-{}-{}", key.0, key.1))
            .spawn(move || service.run_build(key, tokenizer, documents))
            .map_err(|error| {
                IndexServiceError::Refused(format!("cannot start a build: {error}"))
            })?;
        Ok(status)
    }

    fn run_build(&self, key: IndexKey, tokenizer: Tokenizer, documents: Vec<Document>) {
        // The outcome is logged and recorded as the build's status.
        let _ = self.build(&key, &tokenizer, &documents);
    }

    /// Builds `key` from `documents` on this thread (the build the
    /// background thread runs), opens it and keeps it open; records the
    /// outcome as the build's status (ready or failed).
    fn build(
        &self,
        key: &IndexKey,
        tokenizer: &Tokenizer,
        documents: &[Document],
    ) -> Result<Arc<Index>, IndexError> {
        let dir = self.path(key);
        let started = std::time::Instant::now();
        tracing::info!(datanet = key.0, version = key.1, tokenizer = %key.2, documents = documents.len(), "building attribution index");
        let mut report = |progress: BuildProgress| {
            if let Some(status) = lock(&self.builds).get_mut(key) {
                status.phase = Some(phase_name(progress.phase).into());
                status.done = progress.done;
                status.total = progress.total;
            }
        };
        let result =
            build_index(&dir, tokenizer, documents, &mut report).and_then(|_| Index::open(&dir));
        match result {
            Ok(index) => {
                tracing::info!(
                    datanet = key.0,
                    version = key.1,
                    hash = index.index_hash(),
                    tokens = index.num_tokens(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "attribution index ready"
                );
                let index = Arc::new(index);
                lock(&self.open).insert(key.clone(), index.clone());
                lock(&self.builds).insert(key.clone(), BuildStatus::ready(&index));
                Ok(index)
            }
            Err(error) => {
                tracing::warn!(datanet = key.0, version = key.1, %error, "index build failed");
                lock(&self.builds).insert(key.clone(), BuildStatus::failed(error.to_string()));
                Err(error)
            }
        }
    }

    /// Builds `key` from `documents` now, on the calling thread, whatever
    /// other build runs (an attribution challenge needs the index to judge
    /// the block being executed). Waits for a background build of the same
    /// index to finish first, and uses its result when it has `expected`'s
    /// hash. The result is kept open and reported by [`Self::status`]; one
    /// whose hash is not `expected` (when given) is refused.
    pub fn build_now(
        &self,
        key: &IndexKey,
        tokenizer: &Tokenizer,
        documents: &[Document],
        expected: Option<B256>,
    ) -> Result<Arc<Index>, IndexServiceError> {
        let waited = std::time::Instant::now();
        loop {
            let mut builds = lock(&self.builds);
            let building = builds.get(key).is_some_and(|status| status.state == "building");
            if !building {
                builds.insert(key.clone(), BuildStatus::building(documents.len() as u64));
                break;
            }
            drop(builds);
            if waited.elapsed() > BUILD_WAIT {
                return Err(IndexServiceError::Refused(format!(
                    "the {} index of datanet {} version {} has been building for over {BUILD_WAIT:?}",
                    key.2, key.0, key.1
                )));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        if let Ok(index) = self.checked_index(key, expected) {
            lock(&self.builds).insert(key.clone(), BuildStatus::ready(&index));
            return Ok(index);
        }
        lock(&self.open).remove(key);
        let index = self.build(key, tokenizer, documents)?;
        if let Some(expected) = expected {
            check_hash(key, &index, expected, "built from the version's contributions")?;
        }
        Ok(index)
    }

    /// The open index of `key`.
    pub fn open_index(&self, key: &IndexKey) -> Result<Arc<Index>, IndexServiceError> {
        if let Some(index) = lock(&self.open).get(key) {
            return Ok(index.clone());
        }
        let dir = self.path(key);
        if !dir.join(ol_attribution::index::MANIFEST_FILE).exists() {
            return Err(IndexServiceError::Refused(format!(
                "no {} index of datanet {} version {} on this node; build it first (ol_buildIndex or `openledger datanet index`)",
                key.2, key.0, key.1
            )));
        }
        let index = Arc::new(Index::open(&dir)?);
        lock(&self.open).insert(key.clone(), index.clone());
        Ok(index)
    }

    /// The contributions of `index` withdrawn as of `state` (whose block hash
    /// is `block`), read once per block and index.
    pub fn withdrawn<S: StateView>(
        &self,
        key: &IndexKey,
        index: &Index,
        state: &S,
        block: B256,
    ) -> Result<Arc<BTreeSet<u64>>, IndexServiceError> {
        if let Some((at, set)) = lock(&self.withdrawn).get(key)
            && *at == block
        {
            return Ok(set.clone());
        }
        let mut reader = DatanetsReader::new(state);
        let mut set = BTreeSet::new();
        for id in index.contributions() {
            if reader.status(id)? == Status::Withdrawn {
                set.insert(id);
            }
        }
        let set = Arc::new(set);
        lock(&self.withdrawn).insert(key.clone(), (block, set.clone()));
        Ok(set)
    }

    /// The index of `key`, refused when the chain records another hash.
    pub fn checked_index(
        &self,
        key: &IndexKey,
        recorded: Option<B256>,
    ) -> Result<Arc<Index>, IndexServiceError> {
        let index = self.open_index(key)?;
        if let Some(recorded) = recorded {
            check_hash(key, &index, recorded, "on this node (rebuild it)")?;
        }
        Ok(index)
    }
}

/// Refuses `index` of `key` (`which`: where it comes from) unless its hash
/// is the one the chain `recorded`.
fn check_hash(
    key: &IndexKey,
    index: &Index,
    recorded: B256,
    which: &str,
) -> Result<(), IndexServiceError> {
    let hash = format!("0x{}", index.index_hash());
    if hash == recorded.to_string() {
        return Ok(());
    }
    Err(IndexServiceError::Refused(format!(
        "the {} index of datanet {} version {} {which} has hash {hash}, but the chain records {recorded}",
        key.2, key.0, key.1
    )))
}
