//! Ethereum-compatible JSON-RPC over HTTP and WebSocket.
//!
//! Methods follow the Ethereum JSON-RPC specification and geth's error
//! conventions, so viem, ethers, web3.py and Foundry work unchanged:
//! `-32700` malformed JSON, `-32600` invalid request, `-32601` unknown
//! method, `-32602` wrong parameters, `-32000` a transaction or call the
//! chain refuses (with geth's wording), `-32603` a node failure. Namespaces:
//! [`eth`] (and `net_`, `web3_`; installed filters in [`filter`]) and [`ol`] (OpenLedger-specific reads).

pub mod agent;
pub mod attribution;
pub mod blob;
mod convert;
pub mod datanet;
pub mod debug;
pub mod dev;
pub mod errors;
pub mod eth;
pub mod filter;
pub mod governance;
pub mod inference;
pub mod model;
pub mod ol;
pub mod staking;

use crate::{NodeError, chain::Chain};
use jsonrpsee::{
    RpcModule,
    server::{BatchRequestConfig, Server, ServerConfig, ServerHandle},
};
use std::{net::SocketAddr, sync::Arc};

/// The largest JSON-RPC request body accepted (a batch of raw transactions
/// fits comfortably; a single transaction is at most 128 KiB).
pub const MAX_REQUEST_BYTES: u32 = 16 * 1024 * 1024;

/// The most calls in one batch.
pub const MAX_BATCH: u32 = 10_000;

/// Options of the RPC server.
#[derive(Debug, Clone, Copy)]
pub struct RpcConfig {
    /// Dev-only methods allowed.
    pub dev: bool,
}

/// The shared state every method sees.
#[derive(Debug, Clone)]
pub struct RpcContext {
    /// The chain.
    pub chain: Arc<Chain>,
    /// Options.
    pub config: RpcConfig,
    /// Content-addressed bytes (datanet contributions).
    pub blobs: Arc<ol_storage::BlobStore>,
    /// Attribution indexes of datanet versions.
    pub indexes: Arc<crate::indexes::IndexService>,
    /// What serves the OpenAI-compatible API (`/v1/...`); `None`: no models.
    pub inference: Option<Arc<dyn crate::openai::InferenceEngine>>,
    /// Filters installed with `eth_newFilter`/`eth_newBlockFilter`, shared
    /// by every server of the node.
    pub filters: Arc<filter::Filters>,
}

/// All methods of the node.
pub fn module(context: RpcContext) -> RpcModule<RpcContext> {
    let mut module = RpcModule::new(context);
    eth::register(&mut module);
    filter::register(&mut module);
    ol::register(&mut module);
    datanet::register(&mut module);
    model::register(&mut module);
    inference::register(&mut module);
    governance::register(&mut module);
    staking::register(&mut module);
    agent::register(&mut module);
    attribution::register(&mut module);
    blob::register(&mut module);
    dev::register(&mut module);
    debug::register(&mut module);
    module
}

/// Starts a JSON-RPC server (HTTP and WebSocket on the same port).
pub async fn serve(
    context: RpcContext,
    address: SocketAddr,
) -> Result<(SocketAddr, ServerHandle), NodeError> {
    let server_config = ServerConfig::builder()
        .max_request_body_size(MAX_REQUEST_BYTES)
        .max_response_body_size(64 * 1024 * 1024)
        .set_batch_request_config(BatchRequestConfig::Limit(MAX_BATCH))
        .max_connections(1024)
        .build();
    // Plain HTTP routes (`/blobs/...`) share the port; see `crate::http`.
    let http_routes =
        crate::http::HttpRoutesLayer::new(crate::http::http_routes(Arc::new(context.clone())));
    let server = Server::builder()
        .set_config(server_config)
        .set_http_middleware(
            tower::ServiceBuilder::new()
                .layer(tower_http::cors::CorsLayer::permissive())
                .layer(http_routes),
        )
        .build(address)
        .await
        .map_err(|source| NodeError::Bind { address, source })?;
    let bound = server.local_addr().map_err(|source| NodeError::Bind { address, source })?;
    let handle = server.start(module(context));
    Ok((bound, handle))
}
