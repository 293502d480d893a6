//! Contribution formats and how each becomes text rows.
//!
//! A contribution is a file of UTF-8 text in one of four [`Format`]s.
//! [`parse`] turns its bytes into *rows*, the units the index and the
//! attribution work on, each normalised by [`normalise`]:
//!
//! - **txt** and **md**: a row is a paragraph, i.e. a run of non-blank lines
//!   (kept joined by LF); blank lines separate rows. Markdown is kept as
//!   written (markup included), since the model sees it that way.
//! - **jsonl**: every non-blank line is a JSON object; its row is the string
//!   in field [`FormatOptions::jsonl_field`]. Other fields are ignored.
//! - **csv**: the first record is the header; a row is the value of column
//!   [`FormatOptions::csv_column`] in each later record (RFC 4180 quoting;
//!   every record must have as many fields as the header).
//!
//! Whatever the format, the file must be UTF-8 without NUL bytes (a leading
//! byte-order mark is allowed and dropped), rows that normalise to nothing
//! are dropped, and a file with no row left is refused. Parsing is a pure
//! function of the bytes and options: the same file gives the same rows on
//! every machine.

use super::{ContentError, normalise, normalise::UTF8_BOM};
use std::{fmt, str::FromStr};

/// The format of a contribution file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Format {
    /// Plain text: one row per paragraph.
    Text = 0,
    /// Markdown: one row per paragraph, markup kept.
    Markdown = 1,
    /// JSON Lines: one row per object, from a string field.
    Jsonl = 2,
    /// Comma-separated values with a header: one row per record, from a column.
    Csv = 3,
}

impl Format {
    /// Every format, in tag order.
    pub const ALL: [Format; 4] = [Format::Text, Format::Markdown, Format::Jsonl, Format::Csv];

    /// The canonical name (`txt`, `md`, `jsonl`, `csv`), also the usual extension.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Markdown => "md",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        }
    }

    /// The format a file extension names (with or without the dot, any
    /// case): `txt`/`text`, `md`/`markdown`, `jsonl`/`ndjson`, `csv`.
    pub fn from_extension(extension: &str) -> Option<Format> {
        extension.strip_prefix('.').unwrap_or(extension).parse().ok()
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = ContentError;

    /// Accepts `txt`/`text`, `md`/`markdown`, `jsonl`/`ndjson` and `csv`, in any case.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "txt" | "text" => Ok(Format::Text),
            "md" | "markdown" => Ok(Format::Markdown),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            _ => Err(ContentError::UnknownFormat { name: name.to_string() }),
        }
    }
}

impl TryFrom<u8> for Format {
    type Error = ContentError;

    fn try_from(tag: u8) -> Result<Self, Self::Error> {
        Format::ALL.get(usize::from(tag)).copied().ok_or(ContentError::UnknownFormatTag { tag })
    }
}

impl From<Format> for u8 {
    fn from(format: Format) -> u8 {
        format as u8
    }
}

/// Where the text is in structured formats.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FormatOptions {
    /// The JSONL field holding the text (default `text`).
    pub jsonl_field: String,
    /// The CSV column holding the text (default `text`).
    pub csv_column: String,
}

impl Default for FormatOptions {
    fn default() -> Self {
        Self { jsonl_field: "text".to_string(), csv_column: "text".to_string() }
    }
}

/// Parses contribution bytes into normalised, non-empty text rows (see the
/// module documentation for what a row is in each format).
pub fn parse(
    bytes: &[u8],
    format: Format,
    options: &FormatOptions,
) -> Result<Vec<String>, ContentError> {
    let text = decode(bytes)?;
    // A blank file has no rows, whatever its format (a CSV reader would
    // otherwise complain of a missing column first).
    if text.trim().is_empty() {
        return Err(ContentError::NoTextRows { format });
    }
    let rows = match format {
        Format::Text | Format::Markdown => paragraphs(text),
        Format::Jsonl => jsonl_rows(text, &options.jsonl_field)?,
        Format::Csv => csv_rows(text, &options.csv_column)?,
    };
    if rows.is_empty() {
        return Err(ContentError::NoTextRows { format });
    }
    Ok(rows)
}

/// The bytes as text: UTF-8, no NUL, a leading byte-order mark dropped.
fn decode(bytes: &[u8]) -> Result<&str, ContentError> {
    let (skipped, body) = match bytes.strip_prefix(UTF8_BOM) {
        Some(body) => (UTF8_BOM.len(), body),
        None => (0, bytes),
    };
    let text = std::str::from_utf8(body)
        .map_err(|e| ContentError::InvalidUtf8 { offset: skipped + e.valid_up_to() })?;
    if let Some(position) = body.iter().position(|&b| b == 0) {
        return Err(ContentError::NulByte { offset: skipped + position });
    }
    Ok(text)
}

/// Paragraphs of the normalised text: normalisation leaves exactly one blank
/// line between paragraphs and none at either end.
fn paragraphs(text: &str) -> Vec<String> {
    let normalised = normalise(text);
    if normalised.is_empty() {
        return Vec::new();
    }
    normalised.split("\n\n").map(str::to_string).collect()
}

fn jsonl_rows(text: &str, field: &str) -> Result<Vec<String>, ContentError> {
    let mut rows = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let line_number = index + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| ContentError::JsonlNotJson {
                line: line_number,
                column: e.column(),
                reason: json_reason(&e),
            })?;
        let serde_json::Value::Object(object) = value else {
            return Err(ContentError::JsonlNotObject {
                line: line_number,
                found: json_type(&value),
            });
        };
        let text = match object.get(field) {
            Some(serde_json::Value::String(text)) => text,
            Some(other) => {
                return Err(ContentError::JsonlFieldNotString {
                    line: line_number,
                    field: field.to_string(),
                    found: json_type(other),
                });
            }
            None => {
                return Err(ContentError::JsonlMissingField {
                    line: line_number,
                    field: field.to_string(),
                });
            }
        };
        if text.contains('\0') {
            return Err(ContentError::JsonlNulCharacter {
                line: line_number,
                field: field.to_string(),
            });
        }
        push_row(&mut rows, text);
    }
    Ok(rows)
}

/// serde_json's message without its "at line 1 column N" suffix (every
/// JSONL line is parsed on its own, so its line is always 1).
fn json_reason(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rsplit_once(" at line ") {
        Some((reason, _)) => reason.to_string(),
        None => message,
    }
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

fn csv_rows(text: &str, column: &str) -> Result<Vec<String>, ContentError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(csv_error)?.clone();
    let Some(position) = headers.iter().position(|header| header == column) else {
        return Err(ContentError::CsvMissingColumn {
            column: column.to_string(),
            headers: headers.iter().map(str::to_string).collect(),
        });
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        // The reader refuses records of another length than the header's,
        // so the column is present.
        if let Some(text) = record.get(position) {
            push_row(&mut rows, text);
        }
    }
    Ok(rows)
}

fn csv_error(error: csv::Error) -> ContentError {
    let (record, line) = error.position().map_or((0, 0), |p| (p.record(), p.line()));
    match error.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            ContentError::CsvRaggedRecord { record, line, fields: *len, expected: *expected_len }
        }
        _ => ContentError::Csv { record, line, reason: error.to_string() },
    }
}

fn push_row(rows: &mut Vec<String>, text: &str) {
    let row = normalise(text);
    if !row.is_empty() {
        rows.push(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(bytes: &[u8], format: Format) -> Result<Vec<String>, ContentError> {
        parse(bytes, format, &FormatOptions::default())
    }

    #[test]
    fn format_names_tags_and_extensions() {
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>(), Ok(format));
            assert_eq!(Format::try_from(u8::from(format)), Ok(format));
            assert_eq!(Format::from_extension(&format!(".{format}")), Some(format));
        }
        assert_eq!("TEXT".parse::<Format>(), Ok(Format::Text));
        assert_eq!("markdown".parse::<Format>(), Ok(Format::Markdown));
        assert_eq!(Format::from_extension("ndjson"), Some(Format::Jsonl));
        assert_eq!(Format::from_extension("pdf"), None);
        let error = "pdf".parse::<Format>().unwrap_err().to_string();
        assert!(error.contains("\"pdf\"") && error.contains("jsonl"), "{error}");
        assert_eq!(Format::try_from(4), Err(ContentError::UnknownFormatTag { tag: 4 }));
    }

    #[test]
    fn text_rows_are_paragraphs() {
        let text = b"\xEF\xBB\xBFFirst paragraph,\r\nstill first.  \r\n\r\n\r\n\r\nSecond.\n\n";
        assert_eq!(
            rows(text, Format::Text).unwrap(),
            vec!["First paragraph,\nstill first.", "Second."]
        );
        let markdown = b"# Title\n\n- item *one*\n- item two\n";
        assert_eq!(
            rows(markdown, Format::Markdown).unwrap(),
            vec!["# Title", "- item *one*\n- item two"]
        );
    }

    #[test]
    fn jsonl_rows_take_the_field() {
        let jsonl = b"{\"text\": \"one\", \"id\": 1}\r\n\n   \n{\"text\": \"two\\r\\nlines \"}\n{\"text\": \"  \"}\n";
        assert_eq!(rows(jsonl, Format::Jsonl).unwrap(), vec!["one", "two\nlines"]);
        let options = FormatOptions { jsonl_field: "body".to_string(), ..FormatOptions::default() };
        assert_eq!(parse(b"{\"body\":\"b\"}", Format::Jsonl, &options).unwrap(), vec!["b"]);
    }

    #[test]
    fn csv_rows_take_the_column() {
        let csv =
            b"id,text,lang\r\n1,hello,en\r\n2,\"multi\r\nline, quoted \"\"x\"\"\",en\r\n3,,en\r\n";
        assert_eq!(rows(csv, Format::Csv).unwrap(), vec!["hello", "multi\nline, quoted \"x\""]);
        let options = FormatOptions { csv_column: "lang".to_string(), ..FormatOptions::default() };
        assert_eq!(parse(csv, Format::Csv, &options).unwrap(), vec!["en", "en", "en"]);
    }

    #[test]
    fn rows_are_nfc() {
        assert_eq!(rows("cafe\u{301}".as_bytes(), Format::Text).unwrap(), vec!["caf\u{e9}"]);
        let jsonl = "{\"text\":\"cafe\\u0301\"}";
        assert_eq!(rows(jsonl.as_bytes(), Format::Jsonl).unwrap(), vec!["caf\u{e9}"]);
    }
}
