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
//! * [`fuzz_contribution_parser`]: contribution bytes → the datanet formats'
//!   parser; accepted rows are normalised and parsing is deterministic.
//! * [`fuzz_datanets_call`]: calldata → the datanets system contract; no
//!   panic, gas within bounds, a revert has a reason and changes nothing.
//! * [`fuzz_inference_call`]: calldata → the inference settlement contract;
//!   the same properties.
//! * [`fuzz_staking_call`]: calldata → the staking contract over a state with
//!   bonds, unbonding entries and distributed rewards; the same properties.
//! * [`fuzz_governance_call`]: calldata → the governance contract, from a
//!   staker or from governance itself, over a state with a proposal in every
//!   state; the same properties.
//! * [`fuzz_agents_call`]: calldata → the agents contract, from an operator,
//!   a reporter or governance, over a state with agents active, jailed,
//!   paused and deregistered and reports open and resolved; the same
//!   properties.
//!
//! Every system-contract target also checks that a successful call logs only
//! from system contracts and neither creates nor destroys OPEN: the
//! balances of the accounts it touched sum to what they did before.
//!
//! The seed inputs ([`transaction_seeds`], [`rpc_seeds`]) are written to
//! `fuzz/seeds/` by `cargo test -p ol-fuzz-targets -- --ignored write_seed_corpus`.
//!
//! This crate is test tooling: it is not used by the node.
//!
//! [`RecoveredTransaction::decode`]: ol_primitives::RecoveredTransaction::decode

mod agents;
mod contribution;
mod datanets;
mod governance;
mod inference;
mod rpc;
mod staking;
mod system_call;
mod transaction;

pub use agents::{agents_seeds, fuzz_agents_call};
pub use contribution::{contribution_seeds, fuzz_contribution_parser};
pub use datanets::{datanets_seeds, fuzz_datanets_call};
pub use governance::{fuzz_governance_call, governance_seeds};
pub use inference::{fuzz_inference_call, inference_seeds};
pub use rpc::{RpcHarness, fuzz_rpc_request, rpc_seeds};
pub use staking::{fuzz_staking_call, staking_seeds};
pub use transaction::{fuzz_transaction_decoder, transaction_seeds};
