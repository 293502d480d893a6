//! Contribution parsing against hostile and awkward files: every refusal
//! names what is wrong and where, nothing panics, and files that differ only
//! in how they were saved give the same rows, hash and signature.

use ol_attribution::content::{
    ContentError, Format, FormatOptions, analyse, minhash, normalised_hash, parse,
};
use proptest::prelude::*;

fn rows(bytes: &[u8], format: Format) -> Result<Vec<String>, ContentError> {
    parse(bytes, format, &FormatOptions::default())
}

fn refusal(bytes: &[u8], format: Format) -> ContentError {
    match rows(bytes, format) {
        Ok(rows) => panic!("{format} content was accepted as {rows:?}"),
        Err(error) => error,
    }
}

#[test]
fn invalid_utf8_names_the_offset() {
    for format in Format::ALL {
        let error = refusal(b"good text\n\xC3\x28 bad", format);
        assert_eq!(error, ContentError::InvalidUtf8 { offset: 10 });
        assert!(error.to_string().contains("byte offset 10"), "{error}");
    }
    // The offset counts a leading byte-order mark.
    assert_eq!(
        refusal(b"\xEF\xBB\xBFab\xFF", Format::Text),
        ContentError::InvalidUtf8 { offset: 5 }
    );
    // A truncated multi-byte sequence at the very end.
    assert_eq!(refusal(b"caf\xC3", Format::Text), ContentError::InvalidUtf8 { offset: 3 });
}

#[test]
fn nul_bytes_are_refused() {
    assert_eq!(refusal(b"text\0more", Format::Text), ContentError::NulByte { offset: 4 });
    assert_eq!(refusal(b"text\ntext,a\0\n", Format::Csv), ContentError::NulByte { offset: 11 });
    assert_eq!(refusal(b"{\"text\":\"a\0\"}", Format::Jsonl), ContentError::NulByte { offset: 10 });
    let escaped = refusal(b"{\"text\":\"ok\"}\n{\"text\":\"a\\u0000b\"}", Format::Jsonl);
    assert_eq!(escaped, ContentError::JsonlNulCharacter { line: 2, field: "text".to_string() });
    assert!(escaped.to_string().contains("line 2"), "{escaped}");
}

#[test]
fn empty_files_have_no_text_rows() {
    let empties: [&[u8]; 5] = [b"", b"\xEF\xBB\xBF", b"\n\n", b" \r\n\t\r\n", b"\xEF\xBB\xBF  \n"];
    for format in Format::ALL {
        for empty in empties {
            let error = refusal(empty, format);
            assert_eq!(error, ContentError::NoTextRows { format });
            assert!(error.to_string().starts_with("no text rows"), "{error}");
        }
    }
    // Structure without text is empty too.
    assert_eq!(
        refusal(b"{\"text\":\"\"}\n{\"text\":\"  \\n \"}\n", Format::Jsonl),
        ContentError::NoTextRows { format: Format::Jsonl }
    );
    assert_eq!(
        refusal(b"id,text\n", Format::Csv),
        ContentError::NoTextRows { format: Format::Csv }
    );
    assert_eq!(
        refusal(b"id,text\n1,\n2,\"  \"\n", Format::Csv),
        ContentError::NoTextRows { format: Format::Csv }
    );
}

#[test]
fn huge_lines_parse() {
    let line = "word ".repeat(2 * 1024 * 1024); // 10 MiB on one line
    let parsed = rows(line.as_bytes(), Format::Text).expect("a long line is text");
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].len(), line.len() - 1, "only the trailing space goes");

    let jsonl = format!("{{\"text\":\"{}\"}}\n", "x".repeat(4 * 1024 * 1024));
    assert_eq!(rows(jsonl.as_bytes(), Format::Jsonl).unwrap()[0].len(), 4 * 1024 * 1024);

    let csv = format!("text\n\"{}\"\n", "y,".repeat(1024 * 1024));
    assert_eq!(rows(csv.as_bytes(), Format::Csv).unwrap()[0].len(), 2 * 1024 * 1024);
}

#[test]
fn deeply_nested_json_is_refused_without_overflowing() {
    let deep = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    let error = refusal(deep.as_bytes(), Format::Jsonl);
    assert!(
        matches!(&error, ContentError::JsonlNotJson { line: 1, reason, .. } if reason.contains("recursion limit")),
        "{error}"
    );
    let deep_object =
        format!("{{\"text\":\"ok\",\"x\":{}1{}}}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    assert!(matches!(
        refusal(deep_object.as_bytes(), Format::Jsonl),
        ContentError::JsonlNotJson { .. }
    ));
    // Moderate nesting beside the text field is fine.
    let nested = format!("{{\"text\":\"ok\",\"x\":{}1{}}}", "[".repeat(100), "]".repeat(100));
    assert_eq!(rows(nested.as_bytes(), Format::Jsonl).unwrap(), vec!["ok"]);
}

#[test]
fn jsonl_refusals_name_line_and_problem() {
    let good = "{\"text\":\"fine\"}\n";
    let cases: [(&str, ContentError, &str); 6] = [
        (
            "{\"text\": \"unterminated}",
            ContentError::JsonlNotJson {
                line: 2,
                column: 23,
                reason: "EOF while parsing a string".to_string(),
            },
            "JSONL line 2, column 23: not JSON: EOF while parsing a string",
        ),
        (
            "[\"text\"]",
            ContentError::JsonlNotObject { line: 2, found: "array" },
            "JSONL line 2 is a JSON array, not an object",
        ),
        (
            "\"just a string\"",
            ContentError::JsonlNotObject { line: 2, found: "string" },
            "JSONL line 2 is a JSON string, not an object",
        ),
        (
            "{\"body\":\"x\"}",
            ContentError::JsonlMissingField { line: 2, field: "text".to_string() },
            "JSONL line 2 has no field \"text\"",
        ),
        (
            "{\"text\":42}",
            ContentError::JsonlFieldNotString {
                line: 2,
                field: "text".to_string(),
                found: "number",
            },
            "JSONL line 2: field \"text\" is a number, not a string",
        ),
        (
            "{\"text\":null}",
            ContentError::JsonlFieldNotString { line: 2, field: "text".to_string(), found: "null" },
            "JSONL line 2: field \"text\" is a null, not a string",
        ),
    ];
    for (line, expected, message) in cases {
        let error = refusal(format!("{good}{line}\n{good}").as_bytes(), Format::Jsonl);
        assert_eq!(error, expected);
        assert_eq!(error.to_string(), message);
    }
    // Blank lines count in line numbers.
    let error = refusal(format!("{good}\n\r\n{{}}").as_bytes(), Format::Jsonl);
    assert_eq!(error, ContentError::JsonlMissingField { line: 4, field: "text".to_string() });
    // Two objects on one line are not JSON Lines.
    assert!(matches!(
        refusal(b"{\"text\":\"a\"} {\"text\":\"b\"}", Format::Jsonl),
        ContentError::JsonlNotJson { line: 1, .. }
    ));
}

#[test]
fn csv_refusals_name_record_and_problem() {
    let ragged = refusal(b"id,text\n1,one\n2,two,extra\n3,three\n", Format::Csv);
    assert_eq!(
        ragged,
        ContentError::CsvRaggedRecord { record: 2, line: 3, fields: 3, expected: 2 }
    );
    assert_eq!(ragged.to_string(), "CSV record 2 (line 3) has 3 fields, but the header has 2");
    assert_eq!(
        refusal(b"id,text\n1\n", Format::Csv),
        ContentError::CsvRaggedRecord { record: 1, line: 2, fields: 1, expected: 2 }
    );
    let missing = refusal(b"id,body\n1,x\n", Format::Csv);
    assert_eq!(
        missing.to_string(),
        "the CSV header has no column \"text\" (its columns: \"id\", \"body\")"
    );
    // The header is matched exactly, after the byte-order mark.
    assert_eq!(rows(b"\xEF\xBB\xBFtext\nx\n", Format::Csv).unwrap(), vec!["x"]);
    assert!(matches!(refusal(b"Text\nx\n", Format::Csv), ContentError::CsvMissingColumn { .. }));
}

#[test]
fn saving_differently_changes_nothing_that_matters() {
    let unix = "Caf\u{e9} society.\n\nSecond paragraph   \nhere.\n";
    let windows = "\u{feff}Cafe\u{301} society.\r\n\r\n\r\nSecond paragraph\r\nhere.\r\n\r\n";
    let options = FormatOptions::default();
    let a = analyse(unix.as_bytes(), Format::Text, &options).unwrap();
    let b = analyse(windows.as_bytes(), Format::Text, &options).unwrap();
    assert_eq!(a.rows, vec!["Caf\u{e9} society.", "Second paragraph\nhere."]);
    assert_eq!(a.rows, b.rows);
    assert_eq!(a.normalised_hash, b.normalised_hash);
    assert_eq!(a.minhash, b.minhash);
    assert_eq!((a.bytes, b.bytes), (unix.len() as u64, windows.len() as u64));
    assert_eq!(a.normalised_hash, normalised_hash(&a.rows));
    assert_eq!(a.minhash, minhash(&a.rows));

    // The same rows from JSONL hash the same as from text.
    let jsonl = "{\"text\":\"Caf\u{e9} society.\"}\n{\"text\":\"Second paragraph\\nhere.\"}\n";
    let c = analyse(jsonl.as_bytes(), Format::Jsonl, &options).unwrap();
    assert_eq!(c.normalised_hash, a.normalised_hash);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for format in Format::ALL {
            let first = rows(&bytes, format);
            prop_assert_eq!(&first, &rows(&bytes, format));
            if let Ok(rows) = first {
                prop_assert!(!rows.is_empty());
                prop_assert!(rows.iter().all(|row| !row.trim().is_empty() && !row.contains('\r')));
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "(?s)[\\PC\r\n\t\",{}\\[\\]:]{0,256}") {
        for format in Format::ALL {
            let _ = rows(text.as_bytes(), format);
        }
    }
}
