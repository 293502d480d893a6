//! Text normalisation: one spelling for text that reads the same.
//!
//! Two contributions that differ only in how an editor saved them (line
//! endings, trailing spaces, a byte-order mark, precomposed or decomposed
//! accents) must give the same rows, the same hash and the same index, on
//! every machine. [`normalise`] applies, in this order:
//!
//! 1. every U+FEFF is removed (a byte-order mark at the start, or the
//!    deprecated zero-width no-break space anywhere else);
//! 2. CRLF and lone CR line breaks become LF;
//! 3. the text is put in Unicode Normalization Form C (NFC, UAX #15, as
//!    implemented by the `unicode-normalization` crate);
//! 4. trailing whitespace (Unicode `White_Space`) is removed from every line;
//! 5. blank lines at the start and end are removed, and every run of blank
//!    lines inside becomes exactly one blank line.
//!
//! Nothing else changes: case, leading indentation, punctuation and markup
//! are kept. The result has no trailing newline, and normalising it again
//! changes nothing.

use sha2::{Digest, Sha256};
use std::borrow::Cow;
use unicode_normalization::{UnicodeNormalization, is_nfc};

/// The byte-order mark as UTF-8 bytes.
pub(super) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Normalises one text (see the module documentation for the rules).
pub fn normalise(text: &str) -> String {
    let unified = unify_line_breaks_without_bom(text);
    let composed: Cow<'_, str> =
        if is_nfc(&unified) { unified } else { Cow::Owned(unified.nfc().collect()) };
    let mut out = String::with_capacity(composed.len());
    let mut blank_before = false;
    for line in composed.split('\n') {
        let line = line.trim_end();
        if line.is_empty() {
            blank_before = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank_before {
                out.push('\n');
            }
        }
        out.push_str(line);
        blank_before = false;
    }
    out
}

/// The hash of a contribution's normalised rows: SHA-256 over, for each
/// row in order, its UTF-8 length as an 8-byte big-endian integer followed
/// by its UTF-8 bytes. The length prefix keeps row boundaries: `["ab", "c"]`
/// and `["a", "bc"]` hash differently. Two files that parse to the same rows
/// (say, one with CRLF and one with LF) share this hash, unlike their
/// blob hashes.
pub fn normalised_hash(rows: &[String]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for row in rows {
        hasher.update((row.len() as u64).to_be_bytes());
        hasher.update(row.as_bytes());
    }
    hasher.finalize().into()
}

/// CRLF and lone CR become LF; U+FEFF goes.
fn unify_line_breaks_without_bom(text: &str) -> Cow<'_, str> {
    if !text.contains(['\r', '\u{feff}']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{feff}' => {}
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push('\n');
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::{normalise, normalised_hash};
    use proptest::prelude::*;

    #[test]
    fn line_breaks_trailing_space_and_blank_runs() {
        let text = "\u{feff}\r\n\r\n  first line  \r\nsecond\t\r\r\r\n \t\nthird\n\n\n";
        assert_eq!(normalise(text), "  first line\nsecond\n\nthird");
    }

    #[test]
    fn composes_to_nfc() {
        // "é" written as e + combining acute accent becomes U+00E9.
        assert_eq!(normalise("caf\u{65}\u{301}"), "caf\u{e9}");
        assert_eq!(normalise("caf\u{e9}"), "caf\u{e9}");
    }

    #[test]
    fn whitespace_only_is_empty() {
        assert_eq!(normalise(""), "");
        assert_eq!(normalise(" \n\r\n\t \u{3000}\n"), "");
    }

    #[test]
    fn hash_keeps_row_boundaries() {
        let split = |rows: &[&str]| -> Vec<String> { rows.iter().map(|r| r.to_string()).collect() };
        assert_ne!(normalised_hash(&split(&["ab", "c"])), normalised_hash(&split(&["a", "bc"])));
        assert_ne!(normalised_hash(&split(&["a"])), normalised_hash(&split(&["a", ""])));
        // SHA-256 of the 8-byte length 1 then "a", computed independently.
        let expected = {
            let mut bytes = vec![0, 0, 0, 0, 0, 0, 0, 1];
            bytes.push(b'a');
            <[u8; 32]>::from(<sha2::Sha256 as sha2::Digest>::digest(&bytes))
        };
        assert_eq!(normalised_hash(&split(&["a"])), expected);
    }

    proptest! {
        #[test]
        fn normalising_twice_changes_nothing(text in "(?s).{0,64}") {
            let once = normalise(&text);
            prop_assert_eq!(normalise(&once), once.clone());
            prop_assert!(!once.contains('\r'));
            prop_assert!(!once.contains("\n\n\n"));
            prop_assert!(!once.ends_with('\n'));
        }

        #[test]
        fn line_endings_do_not_matter(lines in proptest::collection::vec("[a-zé \t]{0,8}", 0..6)) {
            let unix = lines.join("\n");
            let windows = lines.join("\r\n");
            let mac = lines.join("\r");
            prop_assert_eq!(normalise(&unix), normalise(&windows));
            prop_assert_eq!(normalise(&unix), normalise(&mac));
        }
    }
}
