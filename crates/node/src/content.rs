//! Contribution bytes as the ledger sees them: facts from the blob store.
//!
//! The ledger asks for the [`ContentFacts`] of a contribution (size,
//! normalised hash, MinHash) through [`ContentSource`]; [`BlobContent`]
//! answers from the node's blob store, parsing with `ol-attribution` and
//! caching the answer. Admission ([`check_contribution`]) refuses a
//! contribution whose bytes the node lacks or cannot parse, with the reason,
//! before it reaches the pool. After each block, bytes that no live
//! contribution names any more are forgotten ([`forget_released`]).

use alloy_consensus::TxEnvelope;
use alloy_primitives::B256;
use alloy_sol_types::{SolCall, SolEvent};
use ol_attribution::{
    content::{self as parsing, FormatOptions},
    span::{AttributionParams, attribute},
    tokenizer::Tokenizer,
};
use ol_ledger::{
    AttributionRequest, ContentFacts, ContentProblem, ContentSource, IsWithdrawn, ParseOptions,
    StateView, VersionMembers,
    datanets::{DATANETS, DatanetsReader, IDatanets, parse_options},
    inference::challenge::settlement_vector,
};
use ol_primitives::{Receipt, RecoveredTransaction};
use ol_storage::{BlobStore, Store};
use std::{
    collections::{BTreeSet, HashMap},
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
};

/// A content source the node can also ask to forget bytes.
pub trait NodeContent: ContentSource + Send + Sync {
    /// Drops the bytes named `hash` (no live contribution names them).
    fn forget(&self, hash: B256);

    /// Fetches from peers the bytes `tx` contributes (its calldata is all
    /// that is read: no sender is needed), if it is a datanet
    /// contribution whose bytes are not stored here, so that admission and
    /// execution find them. Bounded by the fetcher's timeouts; a failure is
    /// logged and left for [`check_contribution`] (or execution) to report.
    /// The default holds no peers and fetches nothing.
    fn fetch_missing<'a>(
        &'a self,
        _tx: &'a TxEnvelope,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(std::future::ready(()))
    }
}

/// The content hash a `contribute` call to the datanets contract names.
pub fn contributed_hash(tx: &TxEnvelope) -> Option<B256> {
    use alloy_consensus::Transaction;
    if tx.to() != Some(DATANETS) {
        return None;
    }
    IDatanets::contributeCall::abi_decode(tx.input()).ok().map(|call| call.contentHash)
}

/// Holds nothing: every contribution is unavailable.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBlobs;

impl ContentSource for NoBlobs {
    fn facts(&self, hash: B256, _options: &ParseOptions) -> Result<ContentFacts, ContentProblem> {
        Err(ContentProblem::Unavailable(hash))
    }
}

impl NodeContent for NoBlobs {
    fn forget(&self, _hash: B256) {}
}

/// Longest [`NodeContent::fetch_missing`] may hold a submission, whatever
/// the number of peers (each also has its own timeout).
pub const FETCH_BUDGET: std::time::Duration = std::time::Duration::from_secs(45);

/// How many analysed contributions are remembered.
const CACHE_ENTRIES: usize = 4096;

/// Facts from the node's blob store.
#[derive(Debug)]
pub struct BlobContent {
    blobs: Arc<BlobStore>,
    cache: Mutex<HashMap<(B256, ParseOptions), ContentFacts>>,
}

impl BlobContent {
    /// Facts of the blobs in `blobs`.
    pub fn new(blobs: Arc<BlobStore>) -> Self {
        Self { blobs, cache: Mutex::new(HashMap::new()) }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<(B256, ParseOptions), ContentFacts>> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn analyse(&self, hash: B256, options: &ParseOptions) -> Result<ContentFacts, ContentProblem> {
        let invalid = |reason: String| ContentProblem::Invalid { hash, reason };
        let bytes = match self.blobs.get(&hash) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Err(ContentProblem::Unavailable(hash)),
            Err(error) => return Err(invalid(error.to_string())),
        };
        let format = parsing::Format::try_from(options.format)
            .map_err(|_| invalid(format!("unknown format code {}", options.format)))?;
        let parse = FormatOptions {
            jsonl_field: options.jsonl_field.clone(),
            csv_column: options.csv_column.clone(),
        };
        let facts = parsing::analyse(&bytes, format, &parse).map_err(|e| invalid(e.to_string()))?;
        Ok(ContentFacts {
            size: facts.bytes,
            normalised_hash: B256::from(facts.normalised_hash),
            minhash: facts.minhash.0,
        })
    }
}

impl ContentSource for BlobContent {
    fn facts(&self, hash: B256, options: &ParseOptions) -> Result<ContentFacts, ContentProblem> {
        let key = (hash, options.clone());
        if let Some(facts) = self.cache().get(&key) {
            return Ok(facts.clone());
        }
        let facts = self.analyse(hash, options)?;
        let mut cache = self.cache();
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, facts.clone());
        Ok(facts)
    }
}

impl NodeContent for BlobContent {
    fn forget(&self, hash: B256) {
        self.cache().retain(|(cached, _), _| *cached != hash);
        match self.blobs.delete(&hash) {
            Ok(_) => tracing::info!(%hash, "forgot contribution bytes no live contribution names"),
            Err(error) => tracing::warn!(%hash, %error, "could not forget contribution bytes"),
        }
    }
}

/// Contribution facts from the blob store, and recomputed attributions from
/// the node's attribution indexes (for attribution challenges): the content
/// source a serving node gives the ledger.
pub struct IndexedContent {
    facts: BlobContent,
    indexes: Arc<crate::indexes::IndexService>,
    fetcher: Option<Arc<crate::blobs::BlobFetcher>>,
}

impl std::fmt::Debug for IndexedContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexedContent").finish_non_exhaustive()
    }
}

impl IndexedContent {
    /// Facts from `blobs`, attributions from `indexes`.
    pub fn new(blobs: Arc<BlobStore>, indexes: Arc<crate::indexes::IndexService>) -> Self {
        Self { facts: BlobContent::new(blobs), indexes, fetcher: None }
    }

    /// The same source, fetching missing contribution bytes with `fetcher`.
    pub fn with_fetcher(mut self, fetcher: Arc<crate::blobs::BlobFetcher>) -> Self {
        self.fetcher = Some(fetcher);
        self
    }
}

impl IndexedContent {
    /// Builds the index `request` names from the version's `members` (the
    /// index service's deterministic build), fetching missing bytes from the
    /// peers first, and returns it if its hash is the recorded one.
    fn build_index(
        &self,
        request: &AttributionRequest<'_>,
        key: &crate::indexes::IndexKey,
        tokenizer: &Tokenizer,
        members: &mut VersionMembers<'_>,
    ) -> Result<Arc<ol_attribution::index::Index>, String> {
        let started = std::time::Instant::now();
        let members = members().ok_or("the version's contributions could not be read")?;
        let blobs = self.indexes.blobs();
        let deadline = started + FETCH_BUDGET;
        for member in members.iter().filter(|m| !m.withdrawn) {
            let hash = member.content_hash;
            if blobs.size(&hash).map_err(|e| e.to_string())?.is_some() {
                continue;
            }
            let Some(fetcher) = &self.fetcher else {
                return Err(format!(
                    "the bytes of contribution {} ({hash}) are not stored here and this node has no peers",
                    member.id
                ));
            };
            let budget = deadline.saturating_duration_since(std::time::Instant::now());
            fetcher.fetch_blocking(hash, budget).map_err(|e| e.to_string())?;
        }
        let (documents, _) =
            crate::indexes::member_documents(blobs, &members).map_err(|e| e.to_string())?;
        let index = self
            .indexes
            .build_now(key, tokenizer, &documents, Some(request.index_hash))
            .map_err(|e| e.to_string())?;
        tracing::info!(
            datanet = request.datanet, version = request.version, hash = %request.index_hash,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "built the attribution index a challenge needs"
        );
        Ok(index)
    }
}

impl ContentSource for IndexedContent {
    fn facts(&self, hash: B256, options: &ParseOptions) -> Result<ContentFacts, ContentProblem> {
        self.facts.facts(hash, options)
    }

    fn attribution(
        &self,
        request: &AttributionRequest<'_>,
        withdrawn: &mut IsWithdrawn<'_>,
        members: &mut VersionMembers<'_>,
    ) -> Result<Vec<(u64, u16)>, ContentProblem> {
        let no_index = || ContentProblem::NoIndex {
            datanet: request.datanet,
            version: request.version,
            index_hash: request.index_hash,
        };
        let key = (request.datanet, request.version, request.tokenizer.to_string());
        let tokenizer = Tokenizer::by_name(request.tokenizer).map_err(|_| no_index())?;
        let index = match self.indexes.checked_index(&key, Some(request.index_hash)) {
            Ok(index) => index,
            Err(error) => {
                tracing::info!(
                    datanet = request.datanet, version = request.version, %error,
                    "no usable attribution index to judge a challenge; building it from the version's contributions"
                );
                self.build_index(request, &key, &tokenizer, members).map_err(|error| {
                    tracing::warn!(
                        datanet = request.datanet, version = request.version, %error,
                        "cannot recompute an attribution"
                    );
                    no_index()
                })?
            }
        };
        let excluded: BTreeSet<u64> = index.contributions().filter(|id| withdrawn(*id)).collect();
        let tokens = tokenizer.encode(request.output);
        let result = attribute(&index, &tokens, &AttributionParams::default(), &excluded);
        Ok(settlement_vector(result.shares.iter().map(|share| (share.contribution, share.bps))))
    }
}

impl NodeContent for IndexedContent {
    fn forget(&self, hash: B256) {
        self.facts.forget(hash);
    }

    fn fetch_missing<'a>(
        &'a self,
        tx: &'a TxEnvelope,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            let (Some(fetcher), Some(hash)) = (&self.fetcher, contributed_hash(tx)) else {
                return;
            };
            match tokio::time::timeout(FETCH_BUDGET, fetcher.fetch(hash)).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    tracing::warn!(tx = %tx.tx_hash(), %error, "contribution bytes not fetched");
                }
                Err(_) => tracing::warn!(
                    tx = %tx.tx_hash(), %hash, budget = ?FETCH_BUDGET,
                    "contribution bytes not fetched in time from any peer"
                ),
            }
        })
    }
}

/// Refuses a `contribute` call whose bytes `content` lacks or cannot parse
/// in the datanet's options. Anything else about the call is left to the
/// ledger (it reverts with a reason).
pub fn check_contribution<S: StateView>(
    state: &S,
    content: &dyn NodeContent,
    tx: &RecoveredTransaction,
) -> Result<(), ContentProblem> {
    use alloy_consensus::Transaction;
    if tx.envelope.to() != Some(DATANETS) {
        return Ok(());
    }
    let Ok(call) = IDatanets::contributeCall::abi_decode(tx.envelope.input()) else {
        return Ok(());
    };
    let Ok(Some(datanet)) = DatanetsReader::new(state).datanet(call.datanetId) else {
        return Ok(());
    };
    if !datanet.config.formats.contains(&call.format) {
        return Ok(());
    }
    content.facts(call.contentHash, &parse_options(&datanet.config, call.format)).map(|_| ())
}

/// Forgets the bytes of contributions withdrawn or rejected in `receipts`
/// once no live contribution names them.
pub fn forget_released(store: &Store, content: &dyn NodeContent, receipts: &[Receipt]) {
    let mut released = Vec::new();
    let Ok(snapshot) = store.snapshot() else { return };
    for log in receipts.iter().flat_map(|r| r.logs()).filter(|l| l.address == DATANETS) {
        if let Ok(event) = IDatanets::ContributionWithdrawn::decode_log_data(&log.data) {
            released.push(event.contentHash);
        } else if let Ok(event) = IDatanets::ContributionRejected::decode_log_data(&log.data)
            && let Ok(Some(contribution)) =
                DatanetsReader::new(&snapshot).contribution(event.contributionId)
        {
            released.push(contribution.contentHash);
        }
    }
    released.sort_unstable();
    released.dedup();
    for hash in released {
        if matches!(DatanetsReader::new(&snapshot).live_references(hash), Ok(0)) {
            content.forget(hash);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indexes::{IndexService, member_documents};
    use ol_ledger::VersionMember;
    use ol_storage::blob_hash;

    const FIRST: &[u8] = b"The harbour master logs every ship that passes the lamp at night.\n";
    const SECOND: &[u8] = b"Fishing boats return at dawn with nets full of silver herring.\n";
    const OUTPUT: &str = "every ship that passes the lamp at night and boats return at dawn";

    fn members() -> Vec<VersionMember> {
        let options =
            ParseOptions { format: 0, jsonl_field: "text".into(), csv_column: "text".into() };
        [(1, FIRST), (2, SECOND)]
            .into_iter()
            .map(|(id, bytes)| VersionMember {
                id,
                content_hash: blob_hash(bytes),
                options: options.clone(),
                withdrawn: false,
            })
            .collect()
    }

    /// A node's blob store (holding `bytes`) and index service under `dir`.
    fn node(dir: &std::path::Path, bytes: &[&[u8]]) -> (Arc<BlobStore>, Arc<IndexService>) {
        let blobs = Arc::new(BlobStore::open(dir.join("blobs")).expect("a blob store"));
        for bytes in bytes {
            blobs.put(None, bytes).expect("stored");
        }
        let indexes = Arc::new(IndexService::new(dir.join("indexes"), blobs.clone()));
        (blobs, indexes)
    }

    fn key() -> crate::indexes::IndexKey {
        (1, 1, "byte".to_string())
    }

    /// The hash of the index the index service builds from `members()`.
    fn prebuilt(indexes: &IndexService) -> B256 {
        let (documents, _) = member_documents(indexes.blobs(), &members()).expect("documents");
        let tokenizer = Tokenizer::by_name("byte").expect("byte tokenizer");
        let index = indexes.build_now(&key(), &tokenizer, &documents, None).expect("built");
        format!("0x{}", index.index_hash()).parse().expect("a hash")
    }

    fn attribute_with(
        content: &IndexedContent,
        index_hash: B256,
    ) -> (Result<Vec<(u64, u16)>, ContentProblem>, usize) {
        let request = AttributionRequest {
            datanet: 1,
            version: 1,
            index_hash,
            tokenizer: "byte",
            output: OUTPUT,
        };
        let mut asked = 0;
        let mut read_members = || {
            asked += 1;
            Some(members())
        };
        let result = content.attribution(&request, &mut |_| false, &mut read_members);
        (result, asked)
    }

    #[test]
    fn a_missing_index_is_built_from_the_version_and_answers_the_same() {
        let with_index = tempfile::tempdir().expect("temp dir");
        let (blobs, indexes) = node(with_index.path(), &[FIRST, SECOND]);
        let hash = prebuilt(&indexes);
        let (expected, asked) = attribute_with(&IndexedContent::new(blobs, indexes), hash);
        let expected = expected.expect("a node holding the index answers");
        assert_eq!(asked, 0, "a node holding the index does not read the members");
        assert!(expected.len() == 2, "both contributions are credited: {expected:?}");

        let without = tempfile::tempdir().expect("temp dir");
        let (blobs, indexes) = node(without.path(), &[FIRST, SECOND]);
        let content = IndexedContent::new(blobs, indexes.clone());
        let (built, asked) = attribute_with(&content, hash);
        assert_eq!(built.expect("the index is built on demand"), expected);
        assert_eq!(asked, 1);
        // Kept: later calls and the RPCs see it.
        let status = indexes.status(&key());
        assert_eq!(status.state, "ready");
        assert_eq!(status.index_hash, Some(hash.to_string()));
        let (again, asked) = attribute_with(&content, hash);
        assert_eq!((again.expect("answers"), asked), (expected, 0));
    }

    #[test]
    fn an_index_that_cannot_be_built_or_differs_answers_no_index() {
        let with_index = tempfile::tempdir().expect("temp dir");
        let (_, indexes) = node(with_index.path(), &[FIRST, SECOND]);
        let hash = prebuilt(&indexes);

        // Another recorded hash: built, but refused.
        let other = tempfile::tempdir().expect("temp dir");
        let (blobs, indexes) = node(other.path(), &[FIRST, SECOND]);
        let (result, _) =
            attribute_with(&IndexedContent::new(blobs, indexes), B256::repeat_byte(7));
        assert!(matches!(result, Err(ContentProblem::NoIndex { .. })), "{result:?}");

        // Bytes missing and no peers.
        let lacking = tempfile::tempdir().expect("temp dir");
        let (blobs, indexes) = node(lacking.path(), &[FIRST]);
        let (result, _) = attribute_with(&IndexedContent::new(blobs, indexes.clone()), hash);
        assert!(matches!(result, Err(ContentProblem::NoIndex { .. })), "{result:?}");
        assert_eq!(indexes.status(&key()).state, "absent");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn missing_bytes_are_fetched_from_a_peer_to_build_the_index() {
        use axum::{Router, extract::Path, routing::get};
        let with_index = tempfile::tempdir().expect("temp dir");
        let (peer_blobs, indexes) = node(with_index.path(), &[FIRST, SECOND]);
        let hash = prebuilt(&indexes);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("a bound address");
        let app = Router::new().route(
            "/blobs/{hash}",
            get(move |Path(name): Path<String>| async move {
                let hash = crate::blobs::parse_hash(&name).expect("a blob name");
                peer_blobs.get(&hash).expect("reads").expect("the peer holds it")
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });

        let lacking = tempfile::tempdir().expect("temp dir");
        let (blobs, indexes) = node(lacking.path(), &[FIRST]);
        let metrics = Arc::new(crate::metrics::Metrics::new());
        let fetcher = crate::blobs::BlobFetcher::new(vec![address.into()], blobs.clone(), metrics);
        let content = IndexedContent::new(blobs.clone(), indexes).with_fetcher(Arc::new(fetcher));
        // Called from the runtime, as block execution is.
        let (result, asked) = attribute_with(&content, hash);
        assert_eq!(asked, 1);
        assert_eq!(result.expect("built after fetching").len(), 2);
        assert!(blobs.contains(&blob_hash(SECOND)).expect("reads"));
    }
}
