//! Spike: OpenLedger on Malachite through `arc-malachitebft-app-channel` 0.8.
//!
//! Not product code. It proves that an OpenLedger-shaped `Context`
//! (u64 heights, block-hash values, ed25519 validators) satisfies every
//! trait bound of `start_engine`, and that a `run` loop can answer every
//! `AppMsg` variant of 0.8.2.
#![allow(dead_code, unused_variables, clippy::todo)]

pub mod codec;
pub mod context;
pub mod node;
pub mod signing;

pub use context::*;
