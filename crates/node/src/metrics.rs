//! Prometheus metrics of the node, served as text at `/metrics` on the
//! address given with `--metrics`.

use ol_primitives::SealedHeader;
use prometheus_client::{
    encoding::text::encode,
    metrics::{counter::Counter, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use std::{net::SocketAddr, sync::Arc, time::Duration};

/// Every metric the node exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Number of the latest committed block.
    pub head: Gauge,
    /// Blocks sealed since start.
    pub blocks: Counter,
    /// Transactions committed since start.
    pub transactions: Counter,
    /// Transactions waiting in the pool.
    pub pool_size: Gauge,
    /// Gas used by the latest block.
    pub block_gas_used: Gauge,
    /// Seconds to execute and commit a block.
    pub block_seconds: Histogram,
    /// JSON-RPC calls served.
    pub rpc_calls: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("openledger");
        let head = Gauge::default();
        let blocks = Counter::default();
        let transactions = Counter::default();
        let pool_size = Gauge::default();
        let block_gas_used = Gauge::default();
        let block_seconds =
            Histogram::new([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]);
        let rpc_calls = Counter::default();
        registry.register("head_block", "Number of the latest committed block", head.clone());
        registry.register("blocks_sealed", "Blocks sealed by this node", blocks.clone());
        registry.register("transactions_committed", "Transactions committed", transactions.clone());
        registry.register(
            "pool_transactions",
            "Transactions waiting in the pool",
            pool_size.clone(),
        );
        registry.register("block_gas_used", "Gas used by the latest block", block_gas_used.clone());
        registry.register(
            "block_seal_seconds",
            "Time to execute and commit a block",
            block_seconds.clone(),
        );
        registry.register("rpc_calls", "JSON-RPC calls served", rpc_calls.clone());
        Self {
            registry,
            head,
            blocks,
            transactions,
            pool_size,
            block_gas_used,
            block_seconds,
            rpc_calls,
        }
    }

    /// Records a committed block.
    pub fn observe_block(
        &self,
        header: &SealedHeader,
        transactions: usize,
        pool_len: usize,
        elapsed: Duration,
    ) {
        self.head.set(header.number() as i64);
        self.blocks.inc();
        self.transactions.inc_by(transactions as u64);
        self.pool_size.set(pool_len as i64);
        self.block_gas_used.set(header.header.gas_used as i64);
        self.block_seconds.observe(elapsed.as_secs_f64());
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

/// Serves `GET /metrics` at `address` until the task is dropped; returns the
/// bound address.
pub async fn serve(metrics: Arc<Metrics>, address: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    let bound = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    metrics.render(),
                )
            }
        }),
    );
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::warn!(%error, "metrics server stopped");
        }
    });
    Ok(bound)
}
