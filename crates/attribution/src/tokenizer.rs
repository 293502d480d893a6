//! Tokenizers: how rows of text become the token ids the index stores.
//!
//! Two kinds exist. [`Tokenizer::Byte`] maps UTF-8 text to its bytes (ids
//! 0..=255, one byte per token on disk): no vocabulary, exact for any
//! language. [`Tokenizer::Bpe`] is a byte-level BPE in OpenAI's tiktoken
//! format; [`Tokenizer::gpt2`] loads GPT-2's `r50k_base` vocabulary shipped
//! in this crate (`tokenizers/r50k_base.tiktoken`, see the README there), so
//! spans are counted in the tokens a GPT-2-family model emits. The encoding
//! itself is done by the `tiktoken-rs` crate's `CoreBPE`.
//!
//! Every tokenizer reserves one id, its [`separator`](Tokenizer::separator),
//! that [`encode`](Tokenizer::encode) never produces: the index puts it between
//! rows and after each document so that no match crosses a boundary. For
//! bytes it is `0xFF` (never valid in UTF-8); for BPE it is `0xFFFF`, outside
//! any vocabulary this module accepts (ids must be below 65,535 so that a
//! token fits two bytes on disk).

use std::collections::HashSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use tiktoken_rs::CoreBPE;

/// GPT-2's `r50k_base` vocabulary in tiktoken format (50,256 ranks), shipped
/// with this crate; sha256 `306cd27f…d930`, the hash OpenAI's tiktoken pins.
const R50K_BASE: &[u8] = include_bytes!("../tokenizers/r50k_base.tiktoken");

/// GPT-2's pre-tokenisation pattern, as tiktoken writes it for `r50k_base`.
const GPT2_PATTERN: &str =
    r"'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s";

/// GPT-2's end-of-text special token (id 50,256).
const GPT2_END_OF_TEXT: &str = "<|endoftext|>";

/// The separator id of byte-tokenised indexes: `0xFF` never occurs in UTF-8.
pub const BYTE_SEPARATOR: u32 = 0xFF;

/// The separator id of BPE-tokenised indexes (two-byte tokens).
pub const BPE_SEPARATOR: u32 = 0xFFFF;

/// Why a tokenizer could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    /// The name is not a tokenizer this crate knows.
    #[error("unknown tokenizer {0:?} (known: \"byte\", \"gpt2\")")]
    Unknown(String),
    /// A line of the tiktoken vocabulary file is malformed.
    #[error("tiktoken vocabulary line {line}: {reason}")]
    Vocabulary {
        /// One-based line number.
        line: usize,
        /// What was wrong with it.
        reason: String,
    },
    /// The vocabulary does not fit the two-byte token format.
    #[error("vocabulary has token id {0}; ids must be below 65,535 to fit two bytes")]
    TooLarge(u64),
    /// The BPE engine rejected the vocabulary or pattern.
    #[error("BPE engine: {0}")]
    Engine(String),
}

/// A tokenizer: text to token ids and back.
#[derive(Clone)]
pub enum Tokenizer {
    /// UTF-8 bytes, one token per byte.
    Byte,
    /// Byte-level BPE (tiktoken format).
    Bpe(Box<BpeTokenizer>),
}

/// A byte-level BPE tokenizer built from a tiktoken vocabulary.
#[derive(Clone)]
pub struct BpeTokenizer {
    name: String,
    core: CoreBPE,
    /// Bytes of each id (ranks and the end-of-text token), for lossy decoding.
    decoder: Vec<Vec<u8>>,
    /// The token of each single byte, for the fallback encoding.
    byte_tokens: [u32; 256],
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Byte => f.write_str("Tokenizer::Byte"),
            Self::Bpe(bpe) => {
                write!(f, "Tokenizer::Bpe({:?}, {} ids)", bpe.name, bpe.decoder.len())
            }
        }
    }
}

impl Tokenizer {
    /// The byte tokenizer.
    pub fn byte() -> Self {
        Self::Byte
    }

    /// GPT-2's tokenizer (`r50k_base`, 50,257 ids) from the vocabulary shipped
    /// in this crate. Takes a few tens of milliseconds: keep the result.
    pub fn gpt2() -> Result<Self, TokenizerError> {
        Self::bpe("gpt2", R50K_BASE, GPT2_PATTERN, GPT2_END_OF_TEXT)
    }

    /// The tokenizer an index names in its manifest (`"byte"` or `"gpt2"`).
    pub fn by_name(name: &str) -> Result<Self, TokenizerError> {
        match name {
            "byte" => Ok(Self::byte()),
            "gpt2" => Self::gpt2(),
            other => Err(TokenizerError::Unknown(other.to_owned())),
        }
    }

    /// A byte-level BPE tokenizer from a tiktoken vocabulary (lines of
    /// `base64(token bytes) rank`), a pre-tokenisation regex, and the name of
    /// the end-of-text special token, which gets id `max rank + 1`. Every
    /// single byte must be a token and ranks must be distinct and below
    /// 65,534.
    pub fn bpe(
        name: &str,
        tiktoken: &[u8],
        pattern: &str,
        end_of_text: &str,
    ) -> Result<Self, TokenizerError> {
        let mut decoder: Vec<Option<Vec<u8>>> = Vec::new();
        for (number, line) in tiktoken.split(|&b| b == b'\n').enumerate() {
            let vocabulary_error =
                |reason: String| TokenizerError::Vocabulary { line: number + 1, reason };
            if line.is_empty() {
                continue;
            }
            let text =
                std::str::from_utf8(line).map_err(|_| vocabulary_error("not UTF-8".to_owned()))?;
            let (encoded, rank) = text
                .split_once(' ')
                .ok_or_else(|| vocabulary_error("expected `base64 rank`".to_owned()))?;
            let bytes =
                BASE64.decode(encoded).map_err(|e| vocabulary_error(format!("bad base64: {e}")))?;
            let rank: u64 =
                rank.trim().parse().map_err(|_| vocabulary_error(format!("bad rank {rank:?}")))?;
            // The end-of-text token takes max rank + 1 and must stay below
            // the separator.
            if rank + 1 >= u64::from(BPE_SEPARATOR) {
                return Err(TokenizerError::TooLarge(rank));
            }
            let rank = rank as usize;
            if decoder.len() <= rank {
                decoder.resize(rank + 1, None);
            }
            if decoder[rank].replace(bytes).is_some() {
                return Err(vocabulary_error(format!("rank {rank} appears twice")));
            }
        }
        let mut byte_tokens = [u32::MAX; 256];
        let mut encoder = Vec::with_capacity(decoder.len());
        for (rank, bytes) in decoder.iter().enumerate() {
            if let Some(bytes) = bytes {
                if let [single] = bytes.as_slice() {
                    byte_tokens[usize::from(*single)] = rank as u32;
                }
                encoder.push((bytes.clone(), rank as u32));
            }
        }
        if let Some(missing) = byte_tokens.iter().position(|&t| t == u32::MAX) {
            return Err(TokenizerError::Vocabulary {
                line: 0,
                reason: format!("byte 0x{missing:02x} has no token"),
            });
        }
        if encoder.iter().map(|(bytes, _)| bytes).collect::<HashSet<_>>().len() != encoder.len() {
            return Err(TokenizerError::Vocabulary {
                line: 0,
                reason: "two ranks have the same bytes".to_owned(),
            });
        }
        let end_of_text_id = decoder.len() as u32;
        let core = CoreBPE::new(
            encoder.into_iter().collect(),
            std::iter::once((end_of_text.to_owned(), end_of_text_id)).collect(),
            pattern,
        )
        .map_err(|e| TokenizerError::Engine(e.to_string()))?;
        let mut decoder: Vec<Vec<u8>> =
            decoder.into_iter().map(Option::unwrap_or_default).collect();
        decoder.push(end_of_text.as_bytes().to_vec());
        Ok(Self::Bpe(Box::new(BpeTokenizer { name: name.to_owned(), core, decoder, byte_tokens })))
    }

    /// The name recorded in an index manifest: `"byte"`, `"gpt2"`, …
    pub fn name(&self) -> &str {
        match self {
            Self::Byte => "byte",
            Self::Bpe(bpe) => &bpe.name,
        }
    }

    /// Number of ids the tokenizer can produce (256 for bytes; ranks plus the
    /// end-of-text token for BPE). The separator is not counted.
    pub fn vocab_size(&self) -> u32 {
        match self {
            Self::Byte => 256,
            Self::Bpe(bpe) => bpe.decoder.len() as u32,
        }
    }

    /// Bytes per token on disk: 1 for bytes, 2 for BPE.
    pub fn token_width(&self) -> usize {
        match self {
            Self::Byte => 1,
            Self::Bpe(_) => 2,
        }
    }

    /// The reserved id put between rows and documents; never produced by
    /// [`encode`](Self::encode).
    pub fn separator(&self) -> u32 {
        separator_for_width(self.token_width())
    }

    /// Token ids of `text`. Special-token text such as `<|endoftext|>` is
    /// encoded as ordinary text, never as the special id.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        match self {
            Self::Byte => text.bytes().map(u32::from).collect(),
            Self::Bpe(bpe) => match bpe.core.encode(text, &HashSet::new()) {
                Ok((tokens, _)) => tokens,
                // The regex engine gave up (its backtracking limit): fall back
                // to one token per byte, still deterministic.
                Err(_) => text.bytes().map(|b| bpe.byte_tokens[usize::from(b)]).collect(),
            },
        }
    }

    /// Text of `tokens`; ids the tokenizer does not know, and bytes that are
    /// not valid UTF-8, become U+FFFD.
    pub fn decode(&self, tokens: &[u32]) -> String {
        let mut bytes = Vec::with_capacity(tokens.len() * 4);
        for &token in tokens {
            match self {
                Self::Byte => match u8::try_from(token) {
                    Ok(byte) => bytes.push(byte),
                    Err(_) => bytes.extend_from_slice("\u{FFFD}".as_bytes()),
                },
                Self::Bpe(bpe) => match bpe.decoder.get(token as usize) {
                    Some(piece) => bytes.extend_from_slice(piece),
                    None => bytes.extend_from_slice("\u{FFFD}".as_bytes()),
                },
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// The separator id of an index whose tokens are `width` bytes wide.
pub(crate) fn separator_for_width(width: usize) -> u32 {
    if width == 1 { BYTE_SEPARATOR } else { BPE_SEPARATOR }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_round_trip() {
        let tokenizer = Tokenizer::byte();
        let tokens = tokenizer.encode("héllo");
        assert_eq!(tokens, vec![104, 195, 169, 108, 108, 111]);
        assert_eq!(tokenizer.decode(&tokens), "héllo");
        assert_eq!(tokenizer.decode(&[104, 0x1_0000]), "h\u{FFFD}");
        assert_eq!(tokenizer.name(), "byte");
        assert_eq!(tokenizer.token_width(), 1);
        assert!(!tokens.contains(&tokenizer.separator()));
    }

    #[test]
    fn gpt2_matches_known_ids() {
        let tokenizer = Tokenizer::gpt2().expect("shipped vocabulary loads");
        assert_eq!(tokenizer.name(), "gpt2");
        assert_eq!(tokenizer.vocab_size(), 50_257);
        assert_eq!(tokenizer.token_width(), 2);
        // Ids as OpenAI's tiktoken gives them for r50k_base.
        assert_eq!(tokenizer.encode("hello world"), vec![31373, 995]);
        assert_eq!(
            tokenizer.encode("Fair is foul, and foul is fair"),
            vec![30099, 318, 15626, 11, 290, 15626, 318, 3148]
        );
        let text = "When shall we three meet again?\n  In thunder, lightning, or in rain?";
        assert_eq!(tokenizer.decode(&tokenizer.encode(text)), text);
        // Special-token text is plain text, never the special id.
        let special = tokenizer.encode("<|endoftext|>");
        assert!(!special.contains(&50_256));
        assert_eq!(tokenizer.decode(&[50_256]), "<|endoftext|>");
        assert_eq!(tokenizer.decode(&[60_000]), "\u{FFFD}");
    }

    #[test]
    fn shipped_vocabulary_is_the_pinned_file() {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(R50K_BASE);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930");
    }

    #[test]
    fn bad_vocabularies_are_errors() {
        let err = Tokenizer::bpe("x", b"!!! 0\n", GPT2_PATTERN, "<|e|>").unwrap_err();
        assert!(matches!(err, TokenizerError::Vocabulary { line: 1, .. }), "{err}");
        let err = Tokenizer::bpe("x", b"YQ== 70000\n", GPT2_PATTERN, "<|e|>").unwrap_err();
        assert!(matches!(err, TokenizerError::TooLarge(70000)), "{err}");
        let err = Tokenizer::bpe("x", b"YQ== 0\n", GPT2_PATTERN, "<|e|>").unwrap_err();
        assert!(err.to_string().contains("has no token"), "{err}");
        assert!(matches!(Tokenizer::by_name("nope"), Err(TokenizerError::Unknown(_))));
    }
}
