//! Proof of Attribution for OpenLedger datanets.
//!
//! Knows nothing of the ledger (DESIGN.md: `attribution` depends on no other
//! OpenLedger crate). It turns contribution bytes into normalised rows
//! ([`content`]: formats, normalisation, near-duplicate MinHash), rows into
//! tokens ([`tokenizer`]), tokens into an on-disk suffix-array index
//! ([`index`]: deterministic build, memory-mapped queries), and an output
//! text into weighted spans of contributions ([`span`]).

pub mod content;
pub mod index;
pub mod span;
pub mod tokenizer;
