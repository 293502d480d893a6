//! Contribution bytes: what a contributor uploads, parsed in a datanet's
//! format into the normalised rows the ledger hashes and the index reads.

use ol_attribution::content::{Format, FormatOptions, analyse, normalise};

/// Parses `data` (first byte picks the format, the rest is the file) and
/// checks the parser's invariants:
///
/// * parsing never panics; a refusal renders as a sentence;
/// * accepted content gives at least one row, each non-empty and already
///   normalised (normalising it again changes nothing, so the hash is stable);
/// * parsing the same bytes twice gives the same rows, hash and MinHash.
pub fn fuzz_contribution_parser(data: &[u8]) {
    let Some((selector, bytes)) = data.split_first() else { return };
    let format = match selector % 4 {
        0 => Format::Text,
        1 => Format::Markdown,
        2 => Format::Jsonl,
        _ => Format::Csv,
    };
    let options = FormatOptions::default();
    match analyse(bytes, format, &options) {
        Err(error) => assert!(!error.to_string().is_empty()),
        Ok(facts) => {
            assert!(!facts.rows.is_empty(), "accepted content without rows");
            for row in &facts.rows {
                assert!(!row.is_empty(), "an empty row was accepted");
                assert_eq!(&normalise(row), row, "a row is not normalised");
            }
            assert_eq!(facts.bytes, bytes.len() as u64);
            let again = analyse(bytes, format, &options).expect("parsing is deterministic");
            assert_eq!(again, facts, "parsing the same bytes twice differs");
        }
    }
}

/// A few well-formed contributions of every format, as seeds.
pub fn contribution_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let with = |format: u8, text: &str| [&[format][..], text.as_bytes()].concat();
    vec![
        ("txt", with(0, "First paragraph.\r\n\r\n\r\nSecond paragraph  \n")),
        ("md", with(1, "# Title\n\nSome *markdown* text.\n")),
        ("jsonl", with(2, "{\"text\": \"one\"}\n{\"text\": \"two\", \"id\": 2}\n")),
        ("csv", with(3, "id,text\n1,\"hello, world\"\n2,second\n")),
        ("bom", with(0, "\u{feff}caf\u{65}\u{301}\n")),
    ]
}
