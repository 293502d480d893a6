//! What the ledger needs to know about contribution bytes it never sees.
//!
//! Contribution bytes live off-chain in the node's blob store (DESIGN.md
//! decision 5). Deciding whether a contribution is admissible — its size,
//! whether it parses in its format, whether it duplicates accepted content —
//! needs facts derived from those bytes. They are a pure function of public
//! data (the bytes named by their sha256, the format and the datanet's
//! parsing options), so every node holding the blob derives the same facts;
//! the node supplies them through [`ContentSource`] and refuses at admission
//! a transaction whose blob it lacks, as Ethereum refuses a blob transaction
//! without its sidecar.

use alloy_primitives::B256;

/// Number of 32-bit MinHash slots in a signature.
pub const MINHASH_SLOTS: usize = 64;

/// How a contribution's bytes are parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParseOptions {
    /// Format code (`IDatanets.Format`: 0 text, 1 markdown, 2 jsonl, 3 csv).
    pub format: u8,
    /// JSON field holding the text of a .jsonl row.
    pub jsonl_field: String,
    /// Column holding the text of a .csv row.
    pub csv_column: String,
}

/// Facts derived from a contribution's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentFacts {
    /// Length of the bytes.
    pub size: u64,
    /// sha256 of the normalised rows: equal for exact duplicates.
    pub normalised_hash: B256,
    /// MinHash signature of the normalised text, for near-duplicates.
    pub minhash: [u32; MINHASH_SLOTS],
}

/// Why no facts could be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentProblem {
    /// The node does not hold the bytes.
    #[error(
        "content {0} is not in the blob store; upload it first (ol_putBlob or PUT /blobs/<sha256>)"
    )]
    Unavailable(B256),
    /// The bytes do not parse in the declared format.
    #[error("content {hash} is not valid: {reason}")]
    Invalid {
        /// The content hash.
        hash: B256,
        /// What is wrong, and where.
        reason: String,
    },
}

/// Supplies [`ContentFacts`] for a content hash.
pub trait ContentSource {
    /// The facts of the bytes named `hash`, parsed with `options`.
    fn facts(&self, hash: B256, options: &ParseOptions) -> Result<ContentFacts, ContentProblem>;
}

/// A source that holds nothing: every contribution is unavailable. For
/// callers that execute no datanet contributions (tests, benchmarks).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoContent;

impl ContentSource for NoContent {
    fn facts(&self, hash: B256, _options: &ParseOptions) -> Result<ContentFacts, ContentProblem> {
        Err(ContentProblem::Unavailable(hash))
    }
}
