//! Why a contribution's bytes were refused.

use super::Format;

/// Why contribution bytes cannot be turned into text rows. Every message
/// says what is wrong and where (byte offset, line or record), because the
/// person reading it is the contributor who has to fix the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    /// The bytes are not UTF-8.
    #[error("the contribution is not UTF-8 text: invalid byte sequence at byte offset {offset}")]
    InvalidUtf8 {
        /// Offset (from the start of the file) of the first invalid byte.
        offset: usize,
    },
    /// A NUL byte: the file is binary, not text.
    #[error(
        "the contribution contains a NUL byte at byte offset {offset}; contributions must be text"
    )]
    NulByte {
        /// Offset (from the start of the file) of the NUL byte.
        offset: usize,
    },
    /// Nothing is left once the text is normalised.
    #[error("no text rows: the {format} contribution is empty once normalised")]
    NoTextRows {
        /// The format it was read as.
        format: Format,
    },
    /// A JSONL line is not JSON.
    #[error("JSONL line {line}, column {column}: not JSON: {reason}")]
    JsonlNotJson {
        /// Line number, from 1.
        line: usize,
        /// Column within the line, from 1.
        column: usize,
        /// What the JSON parser found wrong.
        reason: String,
    },
    /// A JSONL line is JSON but not an object.
    #[error("JSONL line {line} is a JSON {found}, not an object")]
    JsonlNotObject {
        /// Line number, from 1.
        line: usize,
        /// The JSON type found.
        found: &'static str,
    },
    /// A JSONL object lacks the text field.
    #[error("JSONL line {line} has no field \"{field}\"")]
    JsonlMissingField {
        /// Line number, from 1.
        line: usize,
        /// The field looked for.
        field: String,
    },
    /// The text field of a JSONL object is not a string.
    #[error("JSONL line {line}: field \"{field}\" is a {found}, not a string")]
    JsonlFieldNotString {
        /// Line number, from 1.
        line: usize,
        /// The field.
        field: String,
        /// The JSON type found.
        found: &'static str,
    },
    /// The text field holds a NUL character (written `\u0000` in JSON).
    #[error(
        "JSONL line {line}: field \"{field}\" contains a NUL character; contributions must be text"
    )]
    JsonlNulCharacter {
        /// Line number, from 1.
        line: usize,
        /// The field.
        field: String,
    },
    /// The CSV header row has no column of the given name.
    #[error("the CSV header has no column \"{column}\" (its columns: {})", quoted_list(.headers))]
    CsvMissingColumn {
        /// The column looked for.
        column: String,
        /// The columns the header names.
        headers: Vec<String>,
    },
    /// A CSV record has another number of fields than the header.
    #[error("CSV record {record} (line {line}) has {fields} fields, but the header has {expected}")]
    CsvRaggedRecord {
        /// Data record number, from 1 (the header is not counted).
        record: u64,
        /// Line number, from 1.
        line: u64,
        /// Fields in the record.
        fields: u64,
        /// Fields in the header.
        expected: u64,
    },
    /// Any other CSV syntax problem.
    #[error("CSV record {record} (line {line}): {reason}")]
    Csv {
        /// Data record number, from 1 (0 is the header row).
        record: u64,
        /// Line number, from 1.
        line: u64,
        /// What the CSV reader found wrong.
        reason: String,
    },
    /// A format name that is not one of ours.
    #[error("unknown contribution format \"{name}\": expected txt, md, jsonl or csv")]
    UnknownFormat {
        /// The name given.
        name: String,
    },
    /// A format tag byte that is not one of ours.
    #[error(
        "unknown contribution format tag {tag}: expected 0 (txt), 1 (md), 2 (jsonl) or 3 (csv)"
    )]
    UnknownFormatTag {
        /// The tag given.
        tag: u8,
    },
    /// A serialised MinHash signature of the wrong length.
    #[error("a MinHash signature is {expected} bytes, got {len}")]
    MinHashLength {
        /// Bytes given.
        len: usize,
        /// Bytes expected.
        expected: usize,
    },
}

fn quoted_list(items: &[String]) -> String {
    if items.is_empty() {
        return "none".to_string();
    }
    items.iter().map(|item| format!("\"{item}\"")).collect::<Vec<_>>().join(", ")
}
