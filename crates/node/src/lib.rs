//! The OpenLedger node.
//!
//! Ties the pure ledger ([`ol_ledger`]) to storage ([`ol_storage`]), a
//! transaction [`pool`], block production behind the [`consensus`]
//! boundary, the Ethereum-compatible JSON-RPC server ([`rpc`]) and
//! Prometheus [`metrics`]. It is not the ledger's rules (see `ol-ledger`)
//! nor the command line (see `ol-cli`).
//!
//! Start one with [`launch`] and a [`NodeConfig`]; the returned
//! [`NodeHandle`] gives the bound addresses and stops the node. With
//! [`NodeConfig::peers`], accepted transactions are forwarded to the peers
//! ([`gossip`]) and contribution bytes the node lacks are fetched from them
//! ([`blobs::BlobFetcher`]).

pub mod blobs;
pub mod chain;
pub mod consensus;
pub mod content;
pub mod dev;
pub mod gossip;
pub mod http;
pub mod indexes;
pub mod metrics;
pub mod openai;
pub mod pool;
pub mod rpc;
pub mod serving;

use crate::{
    chain::{Chain, ChainError},
    consensus::{Consensus, DevSealer, SealMode},
    metrics::Metrics,
};
use ol_ledger::{Genesis, GenesisError};
use ol_storage::{StorageError, Store};
use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

/// Where the genesis comes from.
#[derive(Debug, Clone)]
pub enum GenesisSource {
    /// The built-in dev genesis ([`dev::dev_genesis`]).
    Dev,
    /// A genesis JSON file.
    File(PathBuf),
    /// A genesis already in memory.
    Value(Genesis),
}

/// Everything needed to start a node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Data directory (the database lives here).
    pub datadir: PathBuf,
    /// The chain's genesis.
    pub genesis: GenesisSource,
    /// Dev mode: local sealing and dev-only RPC methods.
    pub dev: bool,
    /// HTTP (and WebSocket) JSON-RPC address.
    pub http: SocketAddr,
    /// Extra WebSocket address, if any.
    pub ws: Option<SocketAddr>,
    /// Time between blocks; zero seals per transaction.
    pub block_time: Duration,
    /// Prometheus metrics address, if any.
    pub metrics: Option<SocketAddr>,
    /// Serve registered models over the OpenAI-compatible API (`/v1`) as
    /// this provider; `None` serves none.
    pub serving: Option<serving::ServingConfig>,
    /// JSON-RPC base URLs of peer nodes: accepted transactions are
    /// forwarded to them, missing blobs fetched from them. Empty: none.
    pub peers: Vec<gossip::PeerUrl>,
    /// Seal blocks locally (the dev sealer). `false` runs a node that only
    /// pools and forwards transactions to its peers, so it does not fork
    /// from the peer that seals.
    pub seal: bool,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The genesis file could not be read.
    #[error("cannot read genesis file {path}")]
    GenesisFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The genesis is invalid.
    #[error("genesis file {path}")]
    Genesis {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: GenesisError,
    },
    /// Storage could not be opened.
    #[error("cannot open the database in {path}")]
    Storage {
        /// The data directory.
        path: PathBuf,
        /// Why.
        source: StorageError,
    },
    /// The blob store could not be opened.
    #[error("cannot open the blob store in {path}")]
    Blobs {
        /// The blob directory.
        path: PathBuf,
        /// Why.
        source: ol_storage::BlobError,
    },
    /// The chain could not start.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A server could not bind its address.
    #[error("cannot listen on {address}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The data directory holds a chain with another genesis.
    #[error(
        "the data directory {path} holds another chain (genesis {stored}); this genesis gives {computed}: use another --datadir, or remove it to start over"
    )]
    GenesisMismatch {
        /// The data directory.
        path: PathBuf,
        /// Hash of the stored block 0.
        stored: alloy_primitives::B256,
        /// Hash of block 0 under the given genesis.
        computed: alloy_primitives::B256,
    },
    /// A node that is not a dev chain needs a consensus to commit blocks.
    #[error(
        "a network node needs its consensus: start it with `openledger node --network CONFIG.toml` (see `openledger testnet init`), or use --dev"
    )]
    NotDev,
    /// The serving configuration is unusable.
    #[error("cannot serve models: {0}")]
    Serving(String),
}

/// A running node.
#[derive(Debug)]
pub struct NodeHandle {
    /// The chain.
    pub chain: Arc<Chain>,
    /// Bound HTTP/WebSocket JSON-RPC address.
    pub http: SocketAddr,
    /// Bound extra WebSocket address.
    pub ws: Option<SocketAddr>,
    /// Bound metrics address.
    pub metrics: Option<SocketAddr>,
    /// The provider account models are served as, when serving.
    pub provider: Option<alloy_primitives::Address>,
    servers: Vec<jsonrpsee::server::ServerHandle>,
    sealer: Option<tokio::task::JoinHandle<()>>,
    gossip: Option<Arc<gossip::TxGossip>>,
}

impl NodeHandle {
    /// Stops the servers and block production.
    pub async fn stop(self) {
        for server in &self.servers {
            let _ = server.stop();
        }
        for server in self.servers {
            server.stopped().await;
        }
        if let Some(sealer) = self.sealer {
            sealer.abort();
        }
        if let Some(gossip) = self.gossip {
            gossip.stop();
        }
    }
}

impl GenesisSource {
    /// Reads and validates the genesis.
    pub fn load(&self) -> Result<Genesis, NodeError> {
        match self {
            Self::Dev => Ok(dev::dev_genesis()),
            Self::Value(genesis) => Ok(genesis.clone()),
            Self::File(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| NodeError::GenesisFile { path: path.clone(), source })?;
                Genesis::from_json(&text)
                    .map_err(|source| NodeError::Genesis { path: path.clone(), source })
            }
        }
    }
}

/// Opens the chain and starts block production (the dev sealer) and the
/// servers. Only for dev chains: a network node starts with
/// [`launch_with_consensus`].
pub async fn launch(config: NodeConfig) -> Result<NodeHandle, NodeError> {
    if !config.dev {
        return Err(NodeError::NotDev);
    }
    start(config, None).await
}

/// Opens the chain and starts the servers, with blocks committed by
/// `consensus` (a validator network) instead of the dev sealer. The
/// ledger, storage and RPC are the same as on a dev chain; dev-only RPC
/// methods follow `config.dev`.
pub async fn launch_with_consensus(
    config: NodeConfig,
    consensus: Box<dyn Consensus>,
) -> Result<NodeHandle, NodeError> {
    start(config, Some(consensus)).await
}

async fn start(
    config: NodeConfig,
    consensus: Option<Box<dyn Consensus>>,
) -> Result<NodeHandle, NodeError> {
    let genesis = config.genesis.load()?;
    let store = Store::open(&config.datadir)
        .map_err(|source| NodeError::Storage { path: config.datadir.clone(), source })?;
    let metrics = Arc::new(Metrics::new());
    let blob_dir = config.datadir.join("blobs");
    let blobs = Arc::new(
        ol_storage::BlobStore::open(&blob_dir)
            .map_err(|source| NodeError::Blobs { path: blob_dir, source })?,
    );
    let indexes =
        Arc::new(indexes::IndexService::new(config.datadir.join("indexes"), blobs.clone()));
    let mut content = content::IndexedContent::new(blobs.clone(), indexes.clone());
    let mut gossip = None;
    let mut fetcher = None;
    if !config.peers.is_empty() {
        let peers = blobs::BlobFetcher::new(config.peers.clone(), blobs.clone(), metrics.clone());
        let peers = Arc::new(peers);
        content = content.with_fetcher(peers.clone());
        fetcher = Some(peers);
        gossip = Some(gossip::TxGossip::start(
            &config.peers,
            gossip::GossipConfig::default(),
            metrics.clone(),
        ));
        tracing::info!(peers = ?config.peers.iter().map(ToString::to_string).collect::<Vec<_>>(), "forwarding transactions to peers and fetching missing blobs from them");
    }
    let chain = match Chain::open(store, genesis, metrics.clone()) {
        Ok(chain) => {
            let mut chain = chain.with_content(Arc::new(content));
            if let Some(gossip) = &gossip {
                chain = chain.with_relay(gossip.clone());
            }
            Arc::new(chain)
        }
        Err(ChainError::Storage(StorageError::GenesisMismatch { stored, computed })) => {
            return Err(NodeError::GenesisMismatch { path: config.datadir, stored, computed });
        }
        Err(other) => return Err(other.into()),
    };
    let mut provider = None;
    let mut context = rpc::RpcContext {
        chain: chain.clone(),
        config: rpc::RpcConfig { dev: config.dev },
        blobs,
        indexes,
        inference: None,
        filters: Default::default(),
    };
    if let Some(serving) = config.serving.clone() {
        let mut server =
            serving::ModelServer::new(context.clone(), serving).map_err(NodeError::Serving)?;
        if let Some(fetcher) = &fetcher {
            server = server.with_fetcher(fetcher.clone());
        }
        tracing::info!(provider = %server.provider(), "serving models over /v1");
        provider = Some(server.provider());
        context.inference = Some(Arc::new(Arc::new(server)));
    }
    let mut servers = Vec::new();
    let (http, handle) = rpc::serve(context.clone(), config.http).await?;
    servers.push(handle);
    let mut ws = None;
    if let Some(address) = config.ws {
        let (bound, handle) = rpc::serve(context.clone(), address).await?;
        ws = Some(bound);
        servers.push(handle);
    }
    let metrics_address = match config.metrics {
        Some(address) => Some(
            metrics::serve(metrics, address)
                .await
                .map_err(|source| NodeError::Bind { address, source })?,
        ),
        None => None,
    };
    let mode = if config.block_time.is_zero() {
        SealMode::PerTransaction
    } else {
        SealMode::Interval(config.block_time)
    };
    let sealer = match consensus {
        Some(consensus) => Some(tokio::spawn(consensus.run(chain.clone()))),
        None => config.seal.then(|| {
            let sealer: Box<dyn Consensus> =
                Box::new(DevSealer { mode, beneficiary: dev::DEV_PRODUCER });
            tokio::spawn(sealer.run(chain.clone()))
        }),
    };
    Ok(NodeHandle { chain, http, ws, metrics: metrics_address, provider, servers, sealer, gossip })
}
