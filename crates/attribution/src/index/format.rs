//! The on-disk format of an index: file names, sizes, and the manifest.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Version of the file layout described in the module documentation of
/// [`crate::index`]. An index of another version is refused on open.
pub const FORMAT_VERSION: u32 = 1;

/// Name of the manifest file.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Name of the token stream file.
pub const TOKENS_FILE: &str = "tokens.bin";
/// Name of the packed suffix-array file.
pub const SUFFIX_ARRAY_FILE: &str = "suffix_array.bin";
/// Name of the document table file.
pub const DOCUMENTS_FILE: &str = "documents.bin";
/// Name of the range-minimum file.
pub const RMQ_FILE: &str = "rmq.bin";

/// The data files, in the order the manifest lists them.
pub(crate) const DATA_FILES: [&str; 4] = [TOKENS_FILE, SUFFIX_ARRAY_FILE, DOCUMENTS_FILE, RMQ_FILE];

/// Fan-out of the range-minimum levels: level `k + 1` holds the minimum of
/// each block of `RMQ_BRANCHING` entries of level `k` (level 0 is the suffix
/// array). 256 keeps the structure under 0.4 % of the suffix array.
pub const RMQ_BRANCHING: usize = 256;

/// Bytes of one document record: token offset (u64 LE), contribution id (u64 LE).
pub(crate) const DOCUMENT_RECORD: usize = 16;

/// A manifest larger than this is not an index manifest.
pub(crate) const MAX_MANIFEST_BYTES: u64 = 64 * 1024;

/// Bytes per suffix-array pointer for a corpus of `num_tokens` tokens: the
/// fewest whole bytes that hold `num_tokens` (so every position `< N`, as
/// infini-gram does), at least one.
pub fn pointer_width(num_tokens: u64) -> usize {
    let bits = 64 - num_tokens.leading_zeros() as usize;
    bits.div_ceil(8).max(1)
}

/// Entry counts of the range-minimum levels above the suffix array, lowest
/// first; the top level has at most [`RMQ_BRANCHING`] entries.
pub(crate) fn rmq_level_lengths(num_tokens: u64) -> Vec<u64> {
    let mut levels = Vec::new();
    let mut len = num_tokens;
    while len > RMQ_BRANCHING as u64 {
        len = len.div_ceil(RMQ_BRANCHING as u64);
        levels.push(len);
    }
    levels
}

/// One data file of an index, as the manifest records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IndexFile {
    /// File name inside the index directory.
    pub name: String,
    /// Length in bytes.
    pub bytes: u64,
    /// sha256 of the contents, lowercase hex.
    pub sha256: String,
}

/// `manifest.json`: what an index holds and the hashes that bind its files.
///
/// `index_hash` is sha256 over the canonical content: the compact JSON of
/// every other field, in the order declared here (see
/// [`IndexManifest::compute_index_hash`]). Because each file's sha256 is part
/// of that content, `index_hash` commits to every byte of the index; it is
/// the value a datanet version records on chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IndexManifest {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Tokenizer name (`"byte"`, `"gpt2"`).
    pub tokenizer: String,
    /// Bytes per token in `tokens.bin` (1 or 2).
    pub token_width: u8,
    /// The reserved token between rows and after each document.
    pub separator: u32,
    /// Tokens in the corpus, separators included (N).
    pub num_tokens: u64,
    /// Documents (contributions), empty ones included.
    pub num_documents: u64,
    /// Bytes per suffix-array pointer, [`pointer_width`]`(N)`.
    pub pointer_width: u8,
    /// [`RMQ_BRANCHING`].
    pub rmq_branching: u32,
    /// The data files, in the fixed order tokens, suffix array, documents, rmq.
    pub files: Vec<IndexFile>,
    /// sha256 of the canonical content, lowercase hex.
    pub index_hash: String,
}

/// The manifest without its hash, in field order: what `index_hash` hashes.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CanonicalManifest<'a> {
    format_version: u32,
    tokenizer: &'a str,
    token_width: u8,
    separator: u32,
    num_tokens: u64,
    num_documents: u64,
    pointer_width: u8,
    rmq_branching: u32,
    files: &'a [IndexFile],
}

impl IndexManifest {
    /// sha256 (hex) of the compact JSON of every field but `index_hash`.
    pub fn compute_index_hash(&self) -> String {
        let canonical = CanonicalManifest {
            format_version: self.format_version,
            tokenizer: &self.tokenizer,
            token_width: self.token_width,
            separator: self.separator,
            num_tokens: self.num_tokens,
            num_documents: self.num_documents,
            pointer_width: self.pointer_width,
            rmq_branching: self.rmq_branching,
            files: &self.files,
        };
        // Serialising plain structs of strings and integers cannot fail.
        let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
        hex(&Sha256::digest(&bytes))
    }

    /// The recorded entry of the data file `name`.
    pub fn file(&self, name: &str) -> Option<&IndexFile> {
        self.files.iter().find(|file| file.name == name)
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xF)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_width_is_minimal() {
        assert_eq!(pointer_width(0), 1);
        assert_eq!(pointer_width(255), 1);
        assert_eq!(pointer_width(256), 2);
        assert_eq!(pointer_width(4_300_000), 3);
        assert_eq!(pointer_width(100_000_000), 4);
        assert_eq!(pointer_width(1 << 32), 5);
    }

    #[test]
    fn rmq_levels_shrink_to_one_block() {
        assert!(rmq_level_lengths(256).is_empty());
        assert_eq!(rmq_level_lengths(257), vec![2]);
        assert_eq!(rmq_level_lengths(100_000), vec![391, 2]);
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xAB, 0x7f]), "00ab7f");
    }
}
