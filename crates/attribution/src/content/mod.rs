//! Contribution formats, normalisation and near-duplicate detection.
//!
//! The first thing done with a contribution's bytes: [`parse`] them as a
//! [`Format`] into normalised text rows ([`normalise`] says what
//! "normalised" means), hash the rows ([`normalised_hash`]) so re-saved
//! copies of one file are recognised, and sign them ([`minhash`]) so lightly
//! edited copies are. [`analyse`] does all three. Everything here is a pure
//! function of the bytes and options: no I/O, clock or randomness. A refusal
//! is a [`ContentError`] that says what is wrong and where.

mod error;
mod formats;
mod minhash;
mod normalise;

pub use error::ContentError;
pub use formats::{Format, FormatOptions, parse};
pub use minhash::{
    BANDS, HASH_FAMILY, MinHash, NEAR_DUPLICATE_MIN_AGREEING, ROWS_PER_BAND, SHINGLE_WORDS,
    SIGNATURE_LEN, minhash,
};
pub use normalise::{normalise, normalised_hash};

/// What the chain and the index need to know of a contribution's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentFacts {
    /// The normalised, non-empty text rows.
    pub rows: Vec<String>,
    /// [`normalised_hash`] of the rows.
    pub normalised_hash: [u8; 32],
    /// [`minhash`] of the rows.
    pub minhash: MinHash,
    /// Size of the original bytes.
    pub bytes: u64,
}

/// Parses, hashes and signs contribution bytes.
pub fn analyse(
    bytes: &[u8],
    format: Format,
    options: &FormatOptions,
) -> Result<ContentFacts, ContentError> {
    let rows = parse(bytes, format, options)?;
    Ok(ContentFacts {
        normalised_hash: normalised_hash(&rows),
        minhash: minhash(&rows),
        bytes: bytes.len() as u64,
        rows,
    })
}
