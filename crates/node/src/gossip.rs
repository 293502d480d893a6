//! Transaction gossip: what a node's pool accepts reaches its peers.
//!
//! Malachite carries only consensus traffic (its channels are fixed), so the node
//! has its own transport: every transaction the local pool accepts is
//! forwarded, as the raw bytes it was signed into, to each peer's JSON-RPC
//! (`eth_sendRawTransaction`). Forwarding never blocks the submitter: each
//! peer has a bounded queue drained by one task (in order, so a sender's
//! nonces arrive in sequence; whatever is queued when the task wakes goes as
//! one JSON-RPC batch, so a busy node makes one request per few hundred
//! transactions); a full queue drops the transaction and counts it, and
//! every request has a timeout. Loops end by themselves: a peer
//! whose pool already holds the transaction refuses it ("already known")
//! and so does not forward it again; a bounded set of recently forwarded
//! hashes keeps a node from sending the same transaction twice.
//!
//! Peers are named by their JSON-RPC base URL ([`PeerUrl`]); the same URL
//! serves their blob route (see [`crate::blobs::BlobFetcher`]).

use crate::metrics::Metrics;
use alloy_primitives::{B256, Bytes};
use axum::http::Uri;
use jsonrpsee::{
    core::{ClientError, client::ClientT},
    http_client::HttpClientBuilder,
    rpc_params,
};
use std::{
    collections::{HashSet, VecDeque},
    fmt,
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::{sync::mpsc, task::JoinHandle};

/// The JSON-RPC base URL of a peer node: `http://host:port`, no path,
/// query or credentials.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PeerUrl(Uri);

/// Why a peer URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{url}\" is not a peer URL: {reason} (expected http://host:port)")]
pub struct PeerUrlError {
    url: String,
    reason: &'static str,
}

impl FromStr for PeerUrl {
    type Err = PeerUrlError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refuse = |reason| PeerUrlError { url: text.chars().take(200).collect(), reason };
        let uri = Uri::from_str(text).map_err(|_| refuse("it does not parse"))?;
        if uri.scheme().is_none() {
            return Err(refuse("it has no http:// scheme"));
        }
        if uri.scheme_str() != Some("http") {
            return Err(refuse("only http:// is served by nodes"));
        }
        let Some(authority) = uri.authority() else {
            return Err(refuse("it names no host"));
        };
        if authority.as_str().contains('@') {
            return Err(refuse("credentials are not accepted"));
        }
        if authority.port_u16().is_none() {
            return Err(refuse("it names no port"));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(refuse("a base URL has no path or query"));
        }
        let base = Uri::builder()
            .scheme("http")
            .authority(authority.clone())
            .path_and_query("/")
            .build()
            .map_err(|_| refuse("it does not parse"))?;
        Ok(Self(base))
    }
}

impl From<std::net::SocketAddr> for PeerUrl {
    fn from(address: std::net::SocketAddr) -> Self {
        format!("http://{address}").parse().expect("a socket address makes an http://host:port URL")
    }
}

impl fmt::Display for PeerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The base URL without its trailing slash, as users write it.
        write!(f, "http://{}", self.authority())
    }
}

impl PeerUrl {
    /// `host:port`.
    pub fn authority(&self) -> &str {
        self.0.authority().map(|a| a.as_str()).unwrap_or_default()
    }

    /// The URL of `path` (which starts with `/`) on this peer.
    pub fn join(&self, path: &str) -> String {
        format!("{self}{path}")
    }
}

/// Receives every transaction the pool accepts (the chain's hook).
pub trait TransactionRelay: Send + Sync {
    /// Called once the pool accepted the transaction `hash`, signed into `raw`.
    /// Must not block.
    fn relay(&self, hash: B256, raw: Bytes);
}

/// Limits of [`TxGossip`].
#[derive(Debug, Clone, Copy)]
pub struct GossipConfig {
    /// Transactions waiting per peer before new ones are dropped.
    pub queue: usize,
    /// Longest a peer may take to answer one `eth_sendRawTransaction`; more
    /// than an automining peer's wait for its block
    /// ([`crate::chain::AUTOMINE_WAIT`]).
    pub timeout: Duration,
    /// How many forwarded hashes are remembered.
    pub recent: usize,
}

impl Default for GossipConfig {
    fn default() -> Self {
        Self { queue: 1024, timeout: Duration::from_secs(15), recent: 16_384 }
    }
}

/// Forwards accepted transactions to every peer (see the module documentation).
pub struct TxGossip {
    queues: Vec<(PeerUrl, mpsc::Sender<(B256, Bytes)>)>,
    recent: Mutex<RecentHashes>,
    metrics: Arc<Metrics>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl fmt::Debug for TxGossip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let peers: Vec<_> = self.queues.iter().map(|(peer, _)| peer.to_string()).collect();
        f.debug_struct("TxGossip").field("peers", &peers).finish_non_exhaustive()
    }
}

impl TxGossip {
    /// Starts one forwarding task per peer on the current runtime.
    pub fn start(peers: &[PeerUrl], config: GossipConfig, metrics: Arc<Metrics>) -> Arc<Self> {
        let mut queues = Vec::new();
        let mut workers = Vec::new();
        for peer in peers {
            let (sender, receiver) = mpsc::channel(config.queue.max(1));
            queues.push((peer.clone(), sender));
            workers.push(tokio::spawn(forward(peer.clone(), receiver, config, metrics.clone())));
        }
        Arc::new(Self {
            queues,
            recent: Mutex::new(RecentHashes::new(config.recent)),
            metrics,
            workers: Mutex::new(workers),
        })
    }

    /// Stops the forwarding tasks; queued transactions are not sent.
    pub fn stop(&self) {
        let workers = std::mem::take(
            &mut *self.workers.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for worker in workers {
            worker.abort();
        }
    }
}

impl TransactionRelay for TxGossip {
    fn relay(&self, hash: B256, raw: Bytes) {
        let fresh =
            self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(hash);
        if !fresh {
            return;
        }
        for (peer, queue) in &self.queues {
            if let Err(error) = queue.try_send((hash, raw.clone())) {
                self.metrics.gossip_dropped.inc();
                let reason = match error {
                    mpsc::error::TrySendError::Full(_) => "its queue is full",
                    mpsc::error::TrySendError::Closed(_) => "gossip has stopped",
                };
                tracing::warn!(%hash, %peer, reason, "transaction not forwarded to a peer");
            }
        }
    }
}

/// Drains one peer's queue, in order.
async fn forward(
    peer: PeerUrl,
    mut queue: mpsc::Receiver<(B256, Bytes)>,
    config: GossipConfig,
    metrics: Arc<Metrics>,
) {
    let client = match HttpClientBuilder::default()
        .request_timeout(config.timeout)
        .build(peer.to_string())
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%peer, %error, "cannot build a JSON-RPC client; no gossip to this peer");
            return;
        }
    };
    while let Some(first) = queue.recv().await {
        // Whatever else is already queued goes in the same HTTP request, as
        // one JSON-RPC batch: under load that is one round trip for
        // hundreds of transactions instead of one each.
        let mut batch = vec![first];
        let mut bytes = batch[0].1.len();
        while batch.len() < MAX_FORWARD_BATCH && bytes < MAX_FORWARD_BYTES {
            match queue.try_recv() {
                Ok(next) => {
                    bytes += next.1.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let answers: Vec<Result<B256, ClientError>> = if batch.len() == 1 {
            vec![client.request("eth_sendRawTransaction", rpc_params![&batch[0].1]).await]
        } else {
            send_batch(&client, &batch).await
        };
        for ((hash, _), answer) in batch.iter().zip(answers) {
            record(&peer, *hash, answer, &metrics);
        }
    }
}

/// Most transactions forwarded in one JSON-RPC batch.
const MAX_FORWARD_BATCH: usize = 512;
/// Most bytes of transactions forwarded in one batch (the server takes 16 MiB).
const MAX_FORWARD_BYTES: usize = 4 << 20;

/// Sends `batch` as one JSON-RPC batch; one answer per transaction, in order.
async fn send_batch(
    client: &jsonrpsee::http_client::HttpClient,
    batch: &[(B256, Bytes)],
) -> Vec<Result<B256, ClientError>> {
    // The batch as a whole failed: the same error for each transaction.
    let all_failed =
        |text: String| batch.iter().map(|_| Err(ClientError::Custom(text.clone()))).collect();
    let mut request = jsonrpsee::core::params::BatchRequestBuilder::new();
    for (_, raw) in batch {
        if let Err(error) = request.insert("eth_sendRawTransaction", rpc_params![raw]) {
            return all_failed(error.to_string());
        }
    }
    match client.batch_request::<B256>(request).await {
        Ok(answers) => answers
            .into_iter()
            .map(|answer| answer.map_err(|error| ClientError::Call(error.into_owned())))
            .collect(),
        Err(error) => all_failed(error.to_string()),
    }
}

/// Counts and logs one forwarding outcome.
fn record(peer: &PeerUrl, hash: B256, answer: Result<B256, ClientError>, metrics: &Metrics) {
    match answer {
        Ok(_) => {
            metrics.gossip_forwarded.inc();
            tracing::debug!(%hash, %peer, "transaction forwarded");
        }
        Err(ClientError::Call(error)) if error.message().contains("already known") => {
            // The peer had it (maybe from us, through another peer).
            metrics.gossip_known.inc();
            tracing::debug!(%hash, %peer, "the peer already knew the transaction");
        }
        Err(ClientError::Call(error)) => {
            metrics.gossip_failed.inc();
            tracing::warn!(%hash, %peer, reason = error.message(), "the peer refused a forwarded transaction");
        }
        Err(error) => {
            metrics.gossip_failed.inc();
            tracing::warn!(%hash, %peer, %error, "forwarding a transaction failed");
        }
    }
}

/// A bounded set of hashes: the oldest is forgotten first.
#[derive(Debug)]
struct RecentHashes {
    order: VecDeque<B256>,
    set: HashSet<B256>,
    capacity: usize,
}

impl RecentHashes {
    fn new(capacity: usize) -> Self {
        Self { order: VecDeque::new(), set: HashSet::new(), capacity: capacity.max(1) }
    }

    /// False if `hash` is already remembered.
    fn insert(&mut self, hash: B256) -> bool {
        if !self.set.insert(hash) {
            return false;
        }
        self.order.push_back(hash);
        if self.order.len() > self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_urls_parse_strictly() {
        let peer: PeerUrl = "http://127.0.0.1:8545".parse().unwrap();
        assert_eq!(peer.to_string(), "http://127.0.0.1:8545");
        assert_eq!(peer.join("/blobs/0x00"), "http://127.0.0.1:8545/blobs/0x00");
        assert_eq!("http://node-a:8545/".parse::<PeerUrl>().unwrap().authority(), "node-a:8545");
        for bad in [
            "",
            "127.0.0.1:8545",
            "https://a:1",
            "ws://a:1",
            "http://a",
            "http://a:1/rpc",
            "http://a:1/?x=1",
            "http://u:p@a:1",
        ] {
            assert!(bad.parse::<PeerUrl>().is_err(), "{bad}");
        }
        let address: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(PeerUrl::from(address).to_string(), "http://127.0.0.1:9");
    }

    #[test]
    fn recent_hashes_are_bounded() {
        let mut recent = RecentHashes::new(2);
        let [a, b, c] = [B256::repeat_byte(1), B256::repeat_byte(2), B256::repeat_byte(3)];
        assert!(recent.insert(a));
        assert!(!recent.insert(a));
        assert!(recent.insert(b));
        assert!(recent.insert(c));
        assert_eq!(recent.set.len(), 2);
        assert!(recent.insert(a), "the oldest was forgotten");
        assert!(!recent.insert(c));
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts() {
        let metrics = Arc::new(Metrics::new());
        let peer: PeerUrl = "http://127.0.0.1:9".parse().unwrap();
        let config = GossipConfig { queue: 1, timeout: Duration::from_secs(5), recent: 16 };
        let gossip = TxGossip::start(&[peer], config, metrics.clone());
        // No await below: on this single-threaded runtime the worker never
        // runs, so nothing leaves the queue.
        for byte in 0..4u8 {
            gossip.relay(B256::repeat_byte(byte), Bytes::from(vec![byte]));
        }
        // One fits the queue, three drop.
        assert_eq!(metrics.gossip_dropped.get(), 3);
        gossip.relay(B256::repeat_byte(0), Bytes::new());
        assert_eq!(metrics.gossip_dropped.get(), 3, "a remembered hash is not queued again");
    }
}
