//! `openledger attribute`: which contributions of a datanet version a text
//! draws on (Proof of Attribution), from the node's `ol_attribute`.
//!
//! The node matches the text's spans of at least `--min-span` tokens against
//! the version's suffix-array index; each span is credited to the earliest
//! accepted contribution containing it, and the contributions' shares (basis
//! points of the data share of a fee) follow from the spans they won. This
//! command prints the spans and the shares for a person, or the node's JSON
//! with `--json`.

use crate::rpc::{RpcArgs, RpcError};
use clap::Args;
use eyre::{Result, WrapErr, bail, eyre};
use ol_node::rpc::attribution::AttributionJson;
use serde_json::{Value, json};
use std::{fmt::Write as _, path::PathBuf};

/// Longest span text shown on one line, in characters.
const SHOWN_SPAN_CHARS: usize = 72;

/// Flags of `openledger attribute`.
#[derive(Debug, Args)]
// `--version` names the datanet version here, not this program's.
#[command(
    group = clap::ArgGroup::new("input").required(true).args(["text", "file"]),
    disable_version_flag = true
)]
pub(crate) struct AttributeArgs {
    /// The datanet.
    #[arg(long = "datanet", value_name = "DATANET")]
    datanet: u64,
    /// The published version whose index is used.
    #[arg(long = "version", value_name = "VERSION")]
    number: u32,
    /// The text to attribute (an answer of a model, say).
    #[arg(long = "text", value_name = "TEXT", allow_hyphen_values = true)]
    text: Option<String>,
    /// A file holding the text to attribute.
    #[arg(long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// Shortest span, in tokens, that counts [default: the node's, 8].
    #[arg(long = "min-span", value_name = "TOKENS")]
    min_span: Option<u64>,
    /// Most contributions listed per span [default: the node's, 16].
    #[arg(long = "max-listed", value_name = "N")]
    max_listed: Option<u64>,
    /// Print the node's JSON instead of readable lines.
    #[arg(long = "json")]
    json: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Prints the attribution of the text.
pub(crate) async fn run(args: AttributeArgs) -> Result<()> {
    let text = match (&args.text, &args.file) {
        (Some(text), _) => text.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .wrap_err_with(|| format!("cannot read the text file {}", path.display()))?,
        (None, None) => bail!("no text: pass --text TEXT or --file FILE"),
    };
    if text.trim().is_empty() {
        bail!("the text to attribute is empty");
    }
    let mut options = serde_json::Map::new();
    if let Some(min_span) = args.min_span {
        options.insert("minSpan".into(), json!(min_span));
    }
    if let Some(max_listed) = args.max_listed {
        options.insert("maxListed".into(), json!(max_listed));
    }
    let node = args.rpc.connect()?;
    let params = vec![json!(args.datanet), json!(args.number), json!(text), Value::Object(options)];
    let answer: Value = node.call("ol_attribute", params).await.map_err(|error| match error {
        RpcError::Node { message, .. } => eyre!("{message}"),
        RpcError::MethodNotFound { url, method } => {
            eyre!("the node at {url} does not support {method}: is it an OpenLedger node?")
        }
        other => other.into(),
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    let attribution: AttributionJson = serde_json::from_value(answer)
        .map_err(|error| eyre!("the node's answer to ol_attribute could not be read: {error}"))?;
    print!("{}", describe(&attribution));
    Ok(())
}

/// The attribution for a person: a heading, the spans, the shares.
fn describe(attribution: &AttributionJson) -> String {
    let (datanet, version, min_span) =
        (attribution.datanet_id, attribution.version, attribution.min_span);
    if !attribution.matched || attribution.spans.is_empty() {
        return format!(
            "no attribution: no span of at least {min_span} tokens occurs in datanet {datanet} version {version}\n"
        );
    }
    let mut text = format!(
        "datanet {datanet} version {version}: {} tokens ({} tokenizer, index {}), spans of at least {min_span} tokens\n",
        attribution.text_tokens, attribution.tokenizer, attribution.index_hash,
    );
    let _ = writeln!(text, "\nspans");
    for span in &attribution.spans {
        let occurrences = match span.occurrences {
            1 => "1 occurrence".to_string(),
            n => format!("{n} occurrences"),
        };
        let _ = writeln!(text, "  tokens {}..{}  \"{}\"", span.start, span.end, shown(&span.text));
        let others = span.contributions.len().saturating_sub(1);
        let also = match (others, span.truncated) {
            (0, _) => String::new(),
            (n, false) => format!(", also in {n} later"),
            (n, true) => format!(", also in {n}+ later"),
        };
        let _ =
            writeln!(text, "    {occurrences}, credited to contribution {}{also}", span.credited);
    }
    let _ = writeln!(text, "\ncontributions");
    let header = ["contribution", "contributor", "bps", "share"];
    let rows: Vec<[String; 4]> = attribution
        .shares
        .iter()
        .map(|share| {
            [
                share.contribution.to_string(),
                share.contributor.to_string(),
                share.bps.to_string(),
                format!("{}.{:02}%", share.bps / 100, share.bps % 100),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let header = header.map(str::to_string);
    for row in std::iter::once(&header).chain(&rows) {
        let [contribution, contributor, bps, share] = row;
        let _ = writeln!(
            text,
            "  {contribution:<w0$}  {contributor:<w1$}  {bps:>w2$}  {share:>w3$}",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
        );
    }
    text
}

/// A span's text on one line: escaped, and cut with "…" when long.
fn shown(text: &str) -> String {
    let escaped: String = text.escape_debug().collect();
    if escaped.chars().count() <= SHOWN_SPAN_CHARS {
        return escaped;
    }
    let cut: String = escaped.chars().take(SHOWN_SPAN_CHARS - 1).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, U64};
    use ol_node::rpc::attribution::{ShareJson, SpanJson};

    fn attribution(matched: bool) -> AttributionJson {
        AttributionJson {
            datanet_id: U64::from(1),
            version: U64::from(2),
            tokenizer: "byte".into(),
            index_hash: "0xabc".into(),
            min_span: U64::from(8),
            text_tokens: U64::from(40),
            matched,
            spans: if matched {
                vec![SpanJson {
                    start: 0,
                    end: 30,
                    text: "the quick brown fox\njumps over".into(),
                    occurrences: 2,
                    rarity: 0,
                    tokens_won: 30,
                    credited: U64::from(3),
                    contributions: vec![U64::from(3), U64::from(5)],
                    truncated: false,
                }]
            } else {
                vec![]
            },
            shares: if matched {
                vec![ShareJson {
                    contribution: U64::from(3),
                    contributor: Address::repeat_byte(0x11),
                    weight: 30,
                    bps: 10_000,
                }]
            } else {
                vec![]
            },
        }
    }

    #[test]
    fn spans_and_shares_read_for_a_person() {
        let text = describe(&attribution(true));
        assert!(text.contains("tokens 0..30  \"the quick brown fox\\njumps over\""), "{text}");
        assert!(
            text.contains("2 occurrences, credited to contribution 3, also in 1 later"),
            "{text}"
        );
        assert!(text.contains("10000  100.00%"), "{text}");
        assert!(text.contains(&Address::repeat_byte(0x11).to_string()), "{text}");
    }

    #[test]
    fn no_match_says_so_in_one_sentence() {
        assert_eq!(
            describe(&attribution(false)),
            "no attribution: no span of at least 8 tokens occurs in datanet 1 version 2\n"
        );
    }

    #[test]
    fn long_spans_are_cut() {
        let long = "x".repeat(200);
        assert_eq!(shown(&long).chars().count(), SHOWN_SPAN_CHARS);
        assert!(shown(&long).ends_with('…'));
    }
}
