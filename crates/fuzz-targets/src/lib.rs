//! Fuzz entry points for the decoders of outside bytes.
//!
//! Each `fuzz_*` function takes arbitrary bytes, runs them through the real
//! code path that handles such bytes from the network, and panics only when
//! an invariant is broken. The cargo-fuzz targets in `fuzz/` are one-line
//! wrappers around them, and this crate's tests feed them random, mutated
//! and seed inputs on every `cargo test`, so the same properties are checked
//! with or without a fuzzer (STYLE.md: a fuzz target next to every codec).
//!
//! * [`fuzz_transaction_decoder`]: raw bytes → [`RecoveredTransaction::decode`];
//!   whatever decodes re-encodes to exactly the same bytes and hashes to
//!   their keccak.
//! * [`fuzz_rpc_request`]: bytes → one JSON-RPC request handled by the
//!   node's real RPC module ([`ol_node::rpc::module`]) over a chain on a
//!   temporary store; no method may panic, and every answer is a JSON-RPC
//!   response.
//!
//! The seed inputs ([`transaction_seeds`], [`rpc_seeds`]) are written to
//! `fuzz/seeds/` by `cargo test -p ol-fuzz-targets -- --ignored write_seed_corpus`.
//!
//! This crate is test tooling: it is not used by the node.
//!
//! [`RecoveredTransaction::decode`]: ol_primitives::RecoveredTransaction::decode

mod rpc;
mod transaction;

pub use rpc::{RpcHarness, fuzz_rpc_request, rpc_seeds};
pub use transaction::{fuzz_transaction_decoder, transaction_seeds};
