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
//!
//! The same holds for a recomputed attribution: the span attribution of an
//! output against a datanet version's recorded index (whose hash the chain
//! keeps) with the protocol's default parameters is a pure function of public
//! data, so an attribution challenge asks the node for it
//! ([`ContentSource::attribution`]) and every node holding the index gets
//! the same answer. A node that lacks the index can build it from the
//! version's members ([`VersionMember`], which the ledger reads from its
//! state on request) and their bytes, and check it against the recorded
//! hash before answering, so no honest node has to refuse the challenge.

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
    /// The node holds no index with the recorded hash for the version.
    #[error(
        "this node holds no attribution index {index_hash} of datanet {datanet} version {version}"
    )]
    NoIndex {
        /// The datanet.
        datanet: u64,
        /// The version.
        version: u32,
        /// The recorded index hash.
        index_hash: B256,
    },
    /// The bytes do not parse in the declared format.
    #[error("content {hash} is not valid: {reason}")]
    Invalid {
        /// The content hash.
        hash: B256,
        /// What is wrong, and where.
        reason: String,
    },
}

/// What an attribution is recomputed from.
#[derive(Debug, Clone, Copy)]
pub struct AttributionRequest<'a> {
    /// The datanet.
    pub datanet: u64,
    /// Its published version.
    pub version: u32,
    /// The index hash the chain records for the version.
    pub index_hash: B256,
    /// The tokenizer the chain records for the index.
    pub tokenizer: &'a str,
    /// The output text to attribute.
    pub output: &'a str,
}

/// A member of a published datanet version as the chain records it: what a
/// node needs, with the contribution bytes, to build the version's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionMember {
    /// The contribution id.
    pub id: u64,
    /// The sha256 of its bytes.
    pub content_hash: B256,
    /// How its bytes are parsed (the datanet's options for its format).
    pub options: ParseOptions,
    /// Whether it was withdrawn since the version was published.
    pub withdrawn: bool,
}

/// The members of the requested version in acceptance order, read from the
/// ledger's state on demand (only by a node that must build the index);
/// `None` when the state could not be read (the ledger keeps the failure).
pub type VersionMembers<'a> = dyn FnMut() -> Option<Vec<VersionMember>> + 'a;

/// Whether a contribution is withdrawn (excluded from attribution), as the
/// ledger's state says. (A state failure while answering is kept by the
/// ledger, which then abandons the call.)
pub type IsWithdrawn<'a> = dyn FnMut(u64) -> bool + 'a;

/// Supplies [`ContentFacts`] for a content hash.
pub trait ContentSource {
    /// The facts of the bytes named `hash`, parsed with `options`.
    fn facts(&self, hash: B256, options: &ParseOptions) -> Result<ContentFacts, ContentProblem>;

    /// The attribution of `request.output` against the recorded index, with
    /// the protocol's default parameters and without the contributions
    /// `withdrawn` says are withdrawn: (contribution id, basis points) in
    /// ascending id order, as a provider settles it. A source that lacks the
    /// index may build it from `members` and their bytes (checking its hash
    /// against the recorded one). A source without indexes cannot answer.
    fn attribution(
        &self,
        request: &AttributionRequest<'_>,
        withdrawn: &mut IsWithdrawn<'_>,
        members: &mut VersionMembers<'_>,
    ) -> Result<Vec<(u64, u16)>, ContentProblem> {
        let _ = (withdrawn, members);
        Err(ContentProblem::NoIndex {
            datanet: request.datanet,
            version: request.version,
            index_hash: request.index_hash,
        })
    }
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
