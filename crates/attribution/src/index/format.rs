//! The on-disk format of an index: file names, sizes, and the manifest.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Version of the file layout described in the module documentation of
/// [`crate::index`]. An index of another version is refused on open.
/// Version 2 dropped `rmq.bin` (the range-minimum levels are built when the
/// index opens) and packed the document table into the pointer and id widths.
pub const FORMAT_VERSION: u32 = 2;

/// Name of the manifest file.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Name of the token stream file.
pub const TOKENS_FILE: &str = "tokens.bin";
/// Name of the packed suffix-array file.
pub const SUFFIX_ARRAY_FILE: &str = "suffix_array.bin";
/// Name of the document table file.
pub const DOCUMENTS_FILE: &str = "documents.bin";

/// The data files, in the order the manifest lists them.
pub(crate) const DATA_FILES: [&str; 3] = [TOKENS_FILE, SUFFIX_ARRAY_FILE, DOCUMENTS_FILE];

/// A manifest larger than this is not an index manifest.
pub(crate) const MAX_MANIFEST_BYTES: u64 = 64 * 1024;

/// Bytes per suffix-array pointer for a corpus of `num_tokens` tokens: the
/// fewest whole bytes that hold `num_tokens` (so every position `< N`, as
/// infini-gram does), at least one.
pub fn pointer_width(num_tokens: u64) -> usize {
    whole_bytes(num_tokens)
}

/// Bytes per contribution id in `documents.bin` when the largest id is
/// `largest_id`: the fewest whole bytes that hold it, at least one.
pub fn id_width(largest_id: u64) -> usize {
    whole_bytes(largest_id)
}

/// The fewest whole bytes (at least one) that hold `value`.
fn whole_bytes(value: u64) -> usize {
    let bits = 64 - value.leading_zeros() as usize;
    bits.div_ceil(8).max(1)
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
/// of that content, `index_hash` commits to every byte of the index (the
/// range-minimum levels are not stored: they are a function of the suffix
/// array, rebuilt on open); it is the value a datanet version records on
/// chain.
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
    /// Bytes per suffix-array pointer and per document offset,
    /// [`pointer_width`]`(N)`.
    pub pointer_width: u8,
    /// Bytes per contribution id in `documents.bin`, [`id_width`] of the
    /// largest id.
    pub id_width: u8,
    /// The data files, in the fixed order tokens, suffix array, documents.
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
    id_width: u8,
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
            id_width: self.id_width,
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
    fn id_width_is_minimal() {
        assert_eq!(id_width(0), 1);
        assert_eq!(id_width(255), 1);
        assert_eq!(id_width(7_189), 2);
        assert_eq!(id_width(90_000), 3);
        assert_eq!(id_width(u64::MAX), 8);
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xAB, 0x7f]), "00ab7f");
    }
}
