//! The byte-level tokenizer: ids `0..=255` are bytes, [`END_OF_TEXT`] ends a document.
//!
//! The node's attribution index tokenizes contributions the same way, so a
//! model's output bytes attribute directly, with no vocabulary to ship.

/// The id that ends a document (and stops generation).
pub const END_OF_TEXT: u32 = 256;

/// Number of distinct token ids (256 bytes plus end-of-text).
pub const VOCAB_SIZE: usize = 257;

/// Encodes text as its UTF-8 bytes.
pub fn encode(text: &str) -> Vec<u32> {
    text.bytes().map(u32::from).collect()
}

/// Encodes a document for training: its bytes followed by [`END_OF_TEXT`].
pub fn encode_document(text: &str) -> Vec<u32> {
    let mut tokens = encode(text);
    tokens.push(END_OF_TEXT);
    tokens
}

/// The bytes of the byte tokens, skipping end-of-text and out-of-range ids.
pub fn decode_bytes(tokens: &[u32]) -> Vec<u8> {
    tokens.iter().filter_map(|&token| u8::try_from(token).ok()).collect()
}

/// Decodes tokens to text, replacing invalid UTF-8 with U+FFFD.
pub fn decode(tokens: &[u32]) -> String {
    String::from_utf8_lossy(&decode_bytes(tokens)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_utf8() {
        let text = "héllo, wörld ✓";
        assert_eq!(decode(&encode(text)), text);
        assert_eq!(encode_document("a"), vec![97, END_OF_TEXT]);
        assert_eq!(decode(&[104, 105, END_OF_TEXT, 1000]), "hi");
    }
}
