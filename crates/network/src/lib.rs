//! OpenLedger's validator network: the ledger driven by Malachite
//! (Tendermint BFT, `arc-malachitebft-*` 0.8.2) behind the node's
//! [`ol_node::consensus::Consensus`] boundary, so the same chain, storage
//! and RPC run under the dev sealer or a network of validators.
//!
//! * [`config`]: a network node's files (`config.toml`, keys).
//! * [`context`], [`signing`], [`codec`]: Malachite's `Context` for
//!   OpenLedger (u64 heights, block-hash values, ed25519 validators with
//!   staking's voting power), signatures bound to the chain id, and one
//!   borsh codec for the network, block sync and the WAL (no protobuf).
//! * [`wire`]: blocks and commit certificates as bytes.
//! * [`app`]: the loop answering the engine: propose, verify, commit.
//! * [`evidence`]: double-sign evidence sent to staking as transactions.
//! * [`engine`]: [`MalachiteConsensus`], the [`ol_node::consensus::Consensus`]
//!   implementation.

pub mod app;
pub mod codec;
pub mod config;
pub mod context;
pub mod engine;
pub mod evidence;
pub mod signing;
pub mod wire;

pub use config::NetworkConfig;
pub use engine::{EngineError, MalachiteConsensus};
