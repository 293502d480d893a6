//! Span attribution: known spans on real text, agreement with a naive
//! implementation of the definition, and property tests of the invariants.

mod common;

use std::collections::BTreeSet;

use common::*;
use ol_attribution::index::{Document, Index, build_index};
use ol_attribution::span::{Attribution, AttributionParams, TOTAL_BPS, attribute};
use ol_attribution::tokenizer::Tokenizer;
use proptest::prelude::*;

fn build(dir: &std::path::Path, tokenizer: &Tokenizer, documents: &[Document]) -> Index {
    build_index(dir, tokenizer, documents, &mut |_| {}).expect("index builds");
    Index::open(dir).expect("index opens")
}

fn bps_total(result: &Attribution) -> u32 {
    result.shares.iter().map(|s| u32::from(s.bps)).sum()
}

/// A row of document `d` long enough to hold a distinctive passage.
fn long_row(documents: &[Document], d: usize) -> &str {
    documents[d].rows.iter().max_by_key(|r| r.len()).expect("document has rows")
}

#[test]
fn text_built_from_known_spans_credits_exactly_their_contributions() {
    for tokenizer in [Tokenizer::byte(), Tokenizer::gpt2().expect("gpt2 loads")] {
        let dir = tempfile::tempdir().expect("tempdir");
        let documents = shakespeare(30, usize::MAX);
        let index = build(dir.path(), &tokenizer, &documents);
        // A sonnet passage and a Macbeth passage, between made-up words.
        let sonnet = documents
            .iter()
            .position(|d| d.rows.iter().any(|r| r.contains("summer's day")))
            .expect("18");
        let macbeth = documents
            .iter()
            .position(|d| d.rows.iter().any(|r| r.contains("To-morrow, and to-morrow")))
            .expect("v.5");
        let sonnet_row = long_row(&documents, sonnet).to_owned();
        let macbeth_row = documents[macbeth]
            .rows
            .iter()
            .find(|r| r.contains("To-morrow, and to-morrow"))
            .expect("row")
            .clone();
        let text = format!(
            "Qzxv wubbly frumpish: {sonnet_row} Plinkety zorp gwibble! {macbeth_row} Snorkwhistle."
        );
        let tokens = tokenizer.encode(&text);
        // Short spans crossing from the made-up words into a passage can be
        // found elsewhere; at this length only the passages match.
        let min_span = if tokenizer.token_width() == 1 { 24 } else { 8 };
        let params = AttributionParams { min_span, max_listed: 4 };
        let result = attribute(&index, &tokens, &params, &BTreeSet::new());
        assert!(result.matched);
        assert_eq!(bps_total(&result), 10_000);
        let credited: BTreeSet<u64> = result.shares.iter().map(|s| s.contribution).collect();
        assert_eq!(
            credited,
            BTreeSet::from([documents[sonnet].id, documents[macbeth].id]),
            "{}",
            tokenizer.name()
        );
        // The two passages dominate: the longest spans are (nearly) the rows.
        let longest = result.spans.iter().map(|s| s.end - s.start).max().expect("spans");
        let shortest_row =
            tokenizer.encode(&sonnet_row).len().min(tokenizer.encode(&macbeth_row).len());
        assert!(longest as usize >= shortest_row, "{longest} < {shortest_row}");
        let json = serde_json::to_string(&result).expect("serialises");
        assert!(json.contains("\"tokensWon\""));
        assert_eq!(serde_json::from_str::<Attribution>(&json).expect("parses"), result);
    }
}

#[test]
fn the_earliest_contribution_is_credited_and_exclusion_passes_credit_on() {
    let passage = "the multiplying villainies of nature do swarm upon him";
    let documents = vec![
        Document { id: 70, rows: vec!["an unrelated opening".into()] },
        Document { id: 40, rows: vec![format!("first copy: {passage}.")] },
        Document {
            id: 90,
            rows: vec![format!("second copy: {passage}!"), format!("again {passage}")],
        },
        Document { id: 10, rows: vec![format!("third copy: {passage}?")] },
    ];
    let tokenizer = Tokenizer::byte();
    let dir = tempfile::tempdir().expect("tempdir");
    let index = build(dir.path(), &tokenizer, &documents);
    let text = tokenizer.encode(&format!("~~ {passage} ~~"));
    let params = AttributionParams { min_span: 8, max_listed: 2 };

    let result = attribute(&index, &text, &params, &BTreeSet::new());
    let span = result.spans.iter().max_by_key(|s| s.end - s.start).expect("a span");
    assert_eq!(span.credited, 40);
    assert_eq!(span.occurrences, 4);
    assert_eq!(span.contributions, vec![40, 90]);
    assert!(span.truncated);
    assert_eq!(result.shares.len(), 1);
    assert_eq!((result.shares[0].contribution, result.shares[0].bps), (40, TOTAL_BPS));

    let result = attribute(&index, &text, &params, &BTreeSet::from([40]));
    let span = result.spans.iter().max_by_key(|s| s.end - s.start).expect("a span");
    assert_eq!(span.credited, 90);
    assert_eq!(span.occurrences, 3);
    assert_eq!(span.contributions, vec![90, 10]);
    assert!(!span.truncated);

    let result = attribute(&index, &text, &params, &BTreeSet::from([40, 90, 10]));
    assert!(!result.matched, "a span only in withdrawn contributions does not count");
    assert!(result.spans.is_empty() && result.shares.is_empty());
}

#[test]
fn attribution_agrees_with_the_definition_on_shakespeare() {
    for tokenizer in [Tokenizer::byte(), Tokenizer::gpt2().expect("gpt2 loads")] {
        agrees_with_the_definition(&tokenizer);
    }
}

fn agrees_with_the_definition(tokenizer: &Tokenizer) {
    let documents = shakespeare(6, 4_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let index = build(dir.path(), tokenizer, &documents);
    let per_document = document_tokens(tokenizer, &documents);
    let ids: Vec<u64> = documents.iter().map(|d| d.id).collect();
    let rows: Vec<&String> = documents.iter().flat_map(|d| &d.rows).collect();
    let texts = [
        format!(
            "{} and so {}",
            &rows[3][..rows[3].len().min(60)],
            &rows[11][..rows[11].len().min(50)]
        ),
        format!("Fair is foul, and foul is fair; {}", rows[rows.len() - 2]),
        "nothing here matches at all, qq".to_owned(),
    ];
    let exclusions = [
        BTreeSet::new(),
        BTreeSet::from([ids[0], ids[3], ids[11]]),
        ids.iter().copied().step_by(2).collect(),
    ];
    for text in &texts {
        let tokens = tokenizer.encode(text);
        for excluded in &exclusions {
            for params in [
                AttributionParams { min_span: 8, max_listed: 2 },
                AttributionParams { min_span: 3, max_listed: 5 },
            ] {
                let got = attribute(&index, &tokens, &params, excluded);
                let want = naive_attribute(
                    &per_document,
                    &ids,
                    index.num_tokens(),
                    &tokens,
                    params.min_span,
                    params.max_listed,
                    excluded,
                );
                assert_eq!(
                    got,
                    want,
                    "{} text {text:?} excluded {excluded:?} params {params:?}",
                    tokenizer.name()
                );
            }
        }
    }
}

#[test]
fn long_common_spans_list_contributions_in_acceptance_order() {
    // A phrase in many documents, often several times per document, so that
    // its occurrence range is large and listing walks it by position.
    let phrase = "my lord, my lord";
    let documents: Vec<Document> = (0..400u64)
        .map(|k| Document {
            id: 10_000 - k,
            rows: (0..(k % 4)).map(|r| format!("{phrase} {k} {r} {phrase}")).collect(),
        })
        .collect();
    let tokenizer = Tokenizer::byte();
    let dir = tempfile::tempdir().expect("tempdir");
    let index = build(dir.path(), &tokenizer, &documents);
    let per_document = document_tokens(&tokenizer, &documents);
    let ids: Vec<u64> = documents.iter().map(|d| d.id).collect();
    let tokens = tokenizer.encode(&format!("## {phrase} ##"));
    let excluded: BTreeSet<u64> = ids.iter().copied().take(7).collect();
    for excluded in [BTreeSet::new(), excluded] {
        let params = AttributionParams { min_span: 8, max_listed: 5 };
        let got = attribute(&index, &tokens, &params, &excluded);
        let want =
            naive_attribute(&per_document, &ids, index.num_tokens(), &tokens, 8, 5, &excluded);
        assert_eq!(got, want);
        assert!(got.spans[0].occurrences > 512, "the range is large enough to walk by position");
    }
}

/// Checks the invariants every attribution must satisfy.
fn check_invariants(
    result: &Attribution,
    per_document: &[Vec<u32>],
    ids: &[u64],
    text: &[u32],
    excluded: &BTreeSet<u64>,
) {
    if !result.matched {
        assert!(result.spans.is_empty() && result.shares.is_empty());
        return;
    }
    assert_eq!(bps_total(result), 10_000);
    let document = |id: u64| &per_document[ids.iter().position(|&i| i == id).expect("indexed id")];
    for span in &result.spans {
        let pattern = &text[span.start as usize..span.end as usize];
        assert!(!excluded.contains(&span.credited));
        assert!(
            occurs(document(span.credited), pattern),
            "credited contribution contains the span"
        );
        for id in &span.contributions {
            assert!(!excluded.contains(id));
            assert!(occurs(document(*id), pattern));
        }
    }
    for share in &result.shares {
        assert!(!excluded.contains(&share.contribution));
        // A contribution's weight is no more than the spans it contains
        // and is credited for justify.
        let justified: u64 = result
            .spans
            .iter()
            .filter(|s| s.credited == share.contribution)
            .map(|s| (s.end - s.start) * s.rarity)
            .sum();
        assert!(share.weight <= justified && share.weight > 0);
    }
}

fn corpus_strategy() -> impl Strategy<Value = Vec<Vec<String>>> {
    let row = proptest::string::string_regex("[ab c]{0,30}").expect("regex");
    proptest::collection::vec(proptest::collection::vec(row, 0..4), 1..8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn attribution_matches_the_definition_and_keeps_its_invariants(
        corpus in corpus_strategy(),
        pieces in proptest::collection::vec(
            (any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0usize..20, "[abcd ]{0,4}"),
            0..5,
        ),
        excluded_mask in any::<u8>(),
        min_span in 1usize..7,
        max_listed in 0usize..4,
    ) {
        let documents: Vec<Document> = corpus
            .into_iter()
            .enumerate()
            .map(|(k, rows)| Document { id: 1000 + (k as u64 * 37) % 11, rows })
            .collect();
        let ids: Vec<u64> = documents.iter().map(|d| d.id).collect();
        prop_assume!(ids.iter().collect::<BTreeSet<_>>().len() == ids.len());
        let tokenizer = Tokenizer::byte();
        let dir = tempfile::tempdir().expect("tempdir");
        let index = build(dir.path(), &tokenizer, &documents);
        let per_document = document_tokens(&tokenizer, &documents);
        // The text: pieces copied from rows, with noise between them.
        let rows: Vec<&String> = documents.iter().flat_map(|d| &d.rows).collect();
        let mut text = String::new();
        for (row, at, len, noise) in &pieces {
            if !rows.is_empty() {
                let row = row.get(&rows);
                let start = at.index(row.len() + 1);
                text.push_str(&row[start..(start + len).min(row.len())]);
            }
            text.push_str(noise);
        }
        let tokens = tokenizer.encode(&text);
        let excluded: BTreeSet<u64> =
            ids.iter()
                .enumerate()
                .filter(|(k, _)| excluded_mask >> (k % 8) & 1 == 1)
                .map(|(_, &id)| id)
                .collect();
        for excluded in [BTreeSet::new(), excluded] {
            let params = AttributionParams { min_span, max_listed };
            let got = attribute(&index, &tokens, &params, &excluded);
            let want = naive_attribute(
                &per_document, &ids, index.num_tokens(), &tokens, min_span, max_listed, &excluded,
            );
            prop_assert_eq!(&got, &want);
            check_invariants(&got, &per_document, &ids, &tokens, &excluded);
        }
    }
}
