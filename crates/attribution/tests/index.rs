//! The attribution index on real text (Shakespeare): queries against naive
//! scans, determinism, atomic builds, and refusal of corrupt files.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use common::*;
use ol_attribution::index::{
    BuildOptions, BuildPhase, BuildProgress, DOCUMENTS_FILE, Document, FORMAT_VERSION, Index,
    IndexError, IndexManifest, MANIFEST_FILE, SUFFIX_ARRAY_FILE, TOKENS_FILE, build_index,
    build_index_with, id_width, pointer_width,
};
use ol_attribution::span::{AttributionParams, attribute};
use ol_attribution::tokenizer::Tokenizer;

fn build(dir: &Path, tokenizer: &Tokenizer, documents: &[Document]) -> Index {
    build_index(dir, tokenizer, documents, &mut |_| {}).expect("index builds");
    Index::open(dir).expect("index opens")
}

/// Patterns cut from the corpus (present) and from a shifted copy (mostly
/// absent), of assorted lengths.
fn patterns(corpus: &[u32], separator: u32) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    let mut seed = 7u64;
    for k in 0..150 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let len = 1 + (seed >> 58) as usize % 24;
        let at = (seed >> 20) as usize % (corpus.len() - len);
        let mut pattern = corpus[at..at + len].to_vec();
        if k % 3 == 0 {
            // Perturb one token so that many of these do not occur.
            let i = (seed as usize) % len;
            pattern[i] = (pattern[i] + 1) % separator;
        }
        out.push(pattern);
    }
    out
}

/// What `count` must say: a scan, except that a pattern holding the
/// separator occurs nowhere.
fn expected_count(stream: &[u32], pattern: &[u32], separator: u32) -> u64 {
    if pattern.contains(&separator) { 0 } else { naive_count(stream, pattern) }
}

#[test]
fn byte_index_counts_and_matches_like_a_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tokenizer = Tokenizer::byte();
    let documents = shakespeare(40, usize::MAX);
    let index = build(dir.path(), &tokenizer, &documents);
    let stream: Vec<u32> = document_tokens(&tokenizer, &documents).concat();
    assert_eq!(index.num_tokens(), stream.len() as u64);
    assert_eq!(index.num_documents(), documents.len() as u64);
    assert_eq!(index.tokenizer_name(), "byte");
    assert!(index.num_tokens() > 290_000, "corpus is the three texts");

    for pattern in patterns(&stream, tokenizer.separator()) {
        assert_eq!(
            index.count(&pattern),
            expected_count(&stream, &pattern, 0xFF),
            "{:?}",
            tokenizer.decode(&pattern)
        );
    }
    assert_eq!(index.count(&tokenizer.encode("Fair is foul")), 1);
    assert_eq!(
        index.count(&tokenizer.encode("MACBETH.")),
        naive_count(&stream, &tokenizer.encode("MACBETH."))
    );
    assert_eq!(index.count(&[]), stream.len() as u64);
    // The separator and ids wider than a byte occur nowhere.
    assert_eq!(index.count(&[0xFF]), 0);
    assert_eq!(index.count(&[u32::from(b'a'), 0x161]), 0);

    let text = tokenizer.encode(
        "When shall we three meet again? In thunder, lightning, or in rain? Zqxj. Tomorrow, and tomorrow, and tomorrow",
    );
    assert_eq!(
        index.longest_matches(&text),
        naive_longest_matches(&stream, &text, tokenizer.separator())
    );
    let mixed: Vec<u32> =
        text.iter().copied().chain([0xFF, 0x1234]).chain(text.iter().copied()).collect();
    assert_eq!(
        index.longest_matches(&mixed),
        naive_longest_matches(&stream, &mixed, tokenizer.separator())
    );
}

#[test]
fn gpt2_index_counts_and_matches_like_a_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tokenizer = Tokenizer::gpt2().expect("gpt2 loads");
    let documents = shakespeare(25, 40_000);
    let index = build(dir.path(), &tokenizer, &documents);
    let stream: Vec<u32> = document_tokens(&tokenizer, &documents).concat();
    assert_eq!(index.num_tokens(), stream.len() as u64);
    assert_eq!(index.tokenizer_name(), "gpt2");
    assert_eq!(index.manifest().token_width, 2);
    for pattern in patterns(&stream, 50_257) {
        assert_eq!(index.count(&pattern), expected_count(&stream, &pattern, 0xFFFF));
    }
    // Ids 256 and up order by value, not by little-endian bytes.
    let wide = tokenizer.encode(" Macbeth");
    assert!(wide.iter().any(|&t| t > 255));
    assert_eq!(index.count(&wide), naive_count(&stream, &wide));
    assert_eq!(index.count(&[0xFFFF]), 0);
    assert_eq!(index.count(&[70_000]), 0);
    let text = tokenizer
        .encode("So foul and fair a day I have not seen. Shall I compare thee to a summer's day?");
    assert_eq!(
        index.longest_matches(&text),
        naive_longest_matches(&stream, &text, tokenizer.separator())
    );
}

#[test]
fn document_of_maps_positions_to_contributions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tokenizer = Tokenizer::byte();
    let documents = vec![
        Document { id: 5, rows: vec!["abc".into(), "de".into()] },
        Document { id: 3, rows: vec![] },
        Document { id: 9, rows: vec!["".into(), "xyz".into()] },
    ];
    let index = build(dir.path(), &tokenizer, &documents);
    // abc| de| |xyz|
    assert_eq!(index.num_tokens(), 12);
    let owners: Vec<Option<u64>> = (0..13).map(|p| index.document_of(p)).collect();
    let expected = [5, 5, 5, 5, 5, 5, 5, 9, 9, 9, 9, 9].map(Some);
    assert_eq!(&owners[..12], &expected);
    assert_eq!(owners[12], None);
    assert_eq!(index.contributions().collect::<Vec<_>>(), vec![5, 3, 9]);
    assert_eq!(index.document_index(9), Some(2));
    assert_eq!(index.document_index(4), None);
    // "de" then the separator never matches across into "xyz".
    assert_eq!(index.count(&tokenizer.encode("dex")), 0);
    assert_eq!(index.longest_matches(&tokenizer.encode("dexyz")), vec![1, 2, 1, 2, 3]);
}

#[test]
fn builds_are_deterministic() {
    let tokenizer = Tokenizer::byte();
    let documents = shakespeare(30, 60_000);
    let first = tempfile::tempdir().expect("tempdir");
    let second = tempfile::tempdir().expect("tempdir");
    let a = build_index(first.path(), &tokenizer, &documents, &mut |_| {}).expect("builds");
    let b = build_index(second.path(), &tokenizer, &documents, &mut |_| {}).expect("builds");
    assert_eq!(a, b);
    assert_eq!(a.index_hash.len(), 64);
    for name in [MANIFEST_FILE, TOKENS_FILE, SUFFIX_ARRAY_FILE, DOCUMENTS_FILE] {
        let x = fs::read(first.path().join(name)).expect("read");
        let y = fs::read(second.path().join(name)).expect("read");
        assert!(x == y, "{name} differs between two builds");
    }
    Index::open(first.path()).expect("opens").verify().expect("verifies");
    // Suffix sorting on several threads (OpenMP) changes nothing.
    for threads in [2, 0] {
        let dir = tempfile::tempdir().expect("tempdir");
        let options = BuildOptions { threads };
        let threaded = build_index_with(dir.path(), &tokenizer, &documents, options, &mut |_| {})
            .expect("builds");
        assert_eq!(threaded, a, "{threads} threads");
    }
    // Rebuilding in place gives the same index again, and removes the
    // range-minimum file a version-1 index had.
    fs::write(first.path().join("rmq.bin"), b"levels").expect("write");
    let c = build_index(first.path(), &tokenizer, &documents, &mut |_| {}).expect("rebuilds");
    assert_eq!(a, c);
    assert!(!first.path().join("rmq.bin").exists());
    // Acceptance order is part of the index.
    let mut reordered = documents.clone();
    reordered.swap(0, 1);
    let third = tempfile::tempdir().expect("tempdir");
    let d = build_index(third.path(), &tokenizer, &reordered, &mut |_| {}).expect("builds");
    assert_ne!(a.index_hash, d.index_hash);
}

#[test]
fn progress_goes_through_every_phase() {
    let dir = tempfile::tempdir().expect("tempdir");
    let documents = shakespeare(10, 30_000);
    let mut reports: Vec<BuildProgress> = Vec::new();
    build_index(dir.path(), &Tokenizer::byte(), &documents, &mut |p| reports.push(p))
        .expect("builds");
    let phases: Vec<BuildPhase> = reports.iter().map(|p| p.phase).collect();
    let first_of = |phase| phases.iter().position(|&p| p == phase).expect("phase reported");
    assert!(first_of(BuildPhase::Tokenize) < first_of(BuildPhase::SuffixArray));
    assert!(first_of(BuildPhase::SuffixArray) < first_of(BuildPhase::Write));
    for p in &reports {
        assert!(p.done <= p.total, "{p:?}");
    }
    let last = reports.last().expect("reports");
    assert_eq!((last.phase, last.done), (BuildPhase::Write, last.total));
    let tokenized = reports.iter().rfind(|p| p.phase == BuildPhase::Tokenize).expect("tokenize");
    assert_eq!(tokenized.done, documents.len() as u64);
}

#[test]
fn empty_and_tiny_indexes_work() {
    let tokenizer = Tokenizer::byte();
    let dir = tempfile::tempdir().expect("tempdir");
    let index = build(dir.path(), &tokenizer, &[]);
    assert_eq!((index.num_tokens(), index.num_documents()), (0, 0));
    assert_eq!(index.count(b"a".map(u32::from).as_slice()), 0);
    assert_eq!(index.longest_matches(&[1, 2, 3]), vec![0, 0, 0]);
    let result = attribute(&index, &[1, 2, 3], &AttributionParams::default(), &BTreeSet::new());
    assert!(!result.matched);
    index.verify().expect("verifies");

    let dir = tempfile::tempdir().expect("tempdir");
    let index = build(dir.path(), &tokenizer, &[Document { id: 1, rows: vec!["a".into()] }]);
    assert_eq!(index.num_tokens(), 2);
    assert_eq!(index.count(&[u32::from(b'a')]), 1);
}

#[test]
fn duplicate_contributions_are_refused_and_leave_the_old_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tokenizer = Tokenizer::byte();
    let documents = shakespeare(40, 20_000);
    let before = build(dir.path(), &tokenizer, &documents).manifest().clone();
    let mut duplicated = documents.clone();
    duplicated.push(Document { id: documents[2].id, rows: vec!["again".into()] });
    let err = build_index(dir.path(), &tokenizer, &duplicated, &mut |_| {}).unwrap_err();
    assert!(matches!(err, IndexError::DuplicateDocument(id) if id == documents[2].id), "{err}");
    assert_eq!(Index::open(dir.path()).expect("old index still opens").manifest(), &before);
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Builds a small index, lets `damage` alter it, and returns what opening says.
fn open_damaged(damage: impl FnOnce(&Path)) -> Result<Index, IndexError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let documents = shakespeare(20, 8_000);
    build_index(dir.path(), &Tokenizer::byte(), &documents, &mut |_| {}).expect("builds");
    damage(dir.path());
    Index::open(dir.path())
}

fn expect_invalid(result: Result<Index, IndexError>, needle: &str) {
    match result {
        Err(err @ IndexError::Invalid { .. }) => {
            assert!(err.to_string().contains(needle), "error {err:?} should mention {needle:?}")
        }
        Err(other) => {
            panic!("expected an invalid-index error mentioning {needle:?}, got {other:?}")
        }
        Ok(_) => panic!("a damaged index opened (expected {needle:?})"),
    }
}

#[test]
fn corrupt_manifests_are_refused() {
    assert!(matches!(
        open_damaged(|d| fs::remove_file(d.join(MANIFEST_FILE)).expect("remove")),
        Err(IndexError::Io { .. })
    ));
    expect_invalid(
        open_damaged(|d| fs::write(d.join(MANIFEST_FILE), b"{not json").expect("write")),
        "manifest",
    );
    expect_invalid(
        open_damaged(|d| fs::write(d.join(MANIFEST_FILE), vec![b' '; 100_000]).expect("write")),
        "over",
    );
    // An edited field without a new hash.
    expect_invalid(
        open_damaged(|d| {
            let mut m = read_manifest(d);
            m.num_documents += 1;
            write_manifest(d, m, false);
        }),
        "indexHash",
    );
    // Edited fields with a recomputed hash: caught by the structure checks.
    type Edit = Box<dyn Fn(&mut IndexManifest)>;
    let edits: Vec<(&str, Edit)> = vec![
        ("format version", Box::new(|m| m.format_version = 99)),
        ("pointer width", Box::new(|m| m.pointer_width = 8)),
        ("token width", Box::new(|m| m.token_width = 3)),
        ("separator", Box::new(|m| m.separator = 0)),
        ("tokenizer name", Box::new(|m| m.tokenizer = "../../etc".into())),
        ("files", Box::new(|m| m.files.swap(0, 1))),
        ("id width", Box::new(|m| m.id_width = 0)),
        ("id width", Box::new(|m| m.id_width = 9)),
        ("listed as", Box::new(|m| m.num_documents += 1)),
        ("pointer width", Box::new(|m| m.num_tokens = u64::MAX)),
        (
            "too large",
            Box::new(|m| {
                m.num_tokens = u64::MAX / 2;
                m.pointer_width = 8;
            }),
        ),
    ];
    for (needle, edit) in edits {
        expect_invalid(
            open_damaged(|d| {
                let mut m = read_manifest(d);
                edit(&mut m);
                write_manifest(d, m, true);
            }),
            needle,
        );
    }
}

#[test]
fn other_format_versions_are_refused_by_version() {
    // A version-1 manifest (it had `rmqBranching` and an `rmq.bin` entry):
    // the message names the version, not the unknown field.
    expect_invalid(
        open_damaged(|d| {
            let path = d.join(MANIFEST_FILE);
            let mut json: serde_json::Value =
                serde_json::from_slice(&fs::read(&path).expect("read")).expect("json");
            json["formatVersion"] = 1.into();
            json["rmqBranching"] = 256.into();
            fs::write(&path, serde_json::to_vec(&json).expect("json")).expect("write");
        }),
        &format!("format version 1 (this build reads {FORMAT_VERSION}"),
    );
}

/// `documents.bin` of `manifest`'s index: (offsets, ids).
fn read_documents(dir: &Path, manifest: &IndexManifest) -> (Vec<u64>, Vec<u64>) {
    let bytes = fs::read(dir.join(DOCUMENTS_FILE)).expect("read");
    let count = manifest.num_documents as usize;
    let (offsets, ids) = bytes.split_at(count * usize::from(manifest.pointer_width));
    let unpack = |bytes: &[u8], width: u8| -> Vec<u64> {
        bytes
            .chunks(usize::from(width))
            .map(|c| {
                let mut word = [0u8; 8];
                word[..c.len()].copy_from_slice(c);
                u64::from_le_bytes(word)
            })
            .collect()
    };
    (unpack(offsets, manifest.pointer_width), unpack(ids, manifest.id_width))
}

/// Rewrites `documents.bin` with `offsets` and `ids` at `id_width` bytes per
/// id, and the manifest to match (size, sha256, id width, index hash), so
/// that only the structure checks can refuse it.
fn write_documents(dir: &Path, offsets: &[u64], ids: &[u64], id_width: u8) {
    use sha2::{Digest as _, Sha256};
    let mut manifest = read_manifest(dir);
    let mut bytes = Vec::new();
    for offset in offsets {
        bytes.extend_from_slice(&offset.to_le_bytes()[..usize::from(manifest.pointer_width)]);
    }
    for id in ids {
        bytes.extend_from_slice(&id.to_le_bytes()[..usize::from(id_width)]);
    }
    fs::write(dir.join(DOCUMENTS_FILE), &bytes).expect("write");
    manifest.id_width = id_width;
    let entry = manifest.files.iter_mut().find(|f| f.name == DOCUMENTS_FILE).expect("listed");
    entry.bytes = bytes.len() as u64;
    entry.sha256 = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    write_manifest(dir, manifest, true);
}

#[test]
fn corrupt_data_files_are_refused() {
    expect_invalid(
        open_damaged(|d| {
            let path = d.join(SUFFIX_ARRAY_FILE);
            let bytes = fs::read(&path).expect("read");
            fs::write(&path, &bytes[..bytes.len() - 1]).expect("truncate");
        }),
        "the manifest says",
    );
    assert!(matches!(
        open_damaged(|d| fs::remove_file(d.join(DOCUMENTS_FILE)).expect("remove")),
        Err(IndexError::Io { .. })
    ));
    // Document offsets out of order, past the corpus, or not starting at 0
    // (the file's bytes edited in place, and a consistent rewrite).
    expect_invalid(
        open_damaged(|d| {
            let width = usize::from(read_manifest(d).pointer_width);
            let path = d.join(DOCUMENTS_FILE);
            let mut bytes = fs::read(&path).expect("read");
            bytes[width..2 * width].fill(0xFF);
            fs::write(&path, bytes).expect("write");
        }),
        "starts at token",
    );
    type Edit = fn(&mut Vec<u64>, &mut Vec<u64>, u64);
    let edits: [(&str, Edit); 5] = [
        ("starts at token", |offsets, _, _| offsets.swap(1, 2)),
        ("starts at token", |offsets, _, n| offsets[3] = n + 1),
        ("starts at token", |offsets, _, _| offsets[0] = 1),
        ("appears twice", |_, ids, _| ids[3] = ids[1]),
        // Document 1 now ends one token into document 2.
        ("separator", |offsets, _, _| offsets[2] += 1),
    ];
    for (needle, edit) in edits {
        expect_invalid(
            open_damaged(|d| {
                let manifest = read_manifest(d);
                let (mut offsets, mut ids) = read_documents(d, &manifest);
                edit(&mut offsets, &mut ids, manifest.num_tokens);
                write_documents(d, &offsets, &ids, manifest.id_width);
            }),
            needle,
        );
    }
    // Ids wider than the largest needs: a second encoding of the same index.
    expect_invalid(
        open_damaged(|d| {
            let manifest = read_manifest(d);
            let (offsets, ids) = read_documents(d, &manifest);
            write_documents(d, &offsets, &ids, manifest.id_width + 1);
        }),
        "id width",
    );
    // The untouched rewrite opens: the edits above are what is refused.
    open_damaged(|d| {
        let manifest = read_manifest(d);
        let (offsets, ids) = read_documents(d, &manifest);
        write_documents(d, &offsets, &ids, manifest.id_width);
    })
    .expect("a faithful rewrite opens");
    // A document boundary without its separator.
    expect_invalid(
        open_damaged(|d| {
            let path = d.join(TOKENS_FILE);
            let mut bytes = fs::read(&path).expect("read");
            let last = bytes.len() - 1;
            bytes[last] = b'x';
            fs::write(&path, bytes).expect("write");
        }),
        "separator",
    );
}

#[test]
fn hostile_pointers_give_errors_from_verify_and_never_panic() {
    // The range-minimum levels are built from whatever the suffix array holds.
    let noise = |len: usize| -> Vec<u8> {
        let mut seed = 99u64;
        (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (seed >> 56) as u8
            })
            .collect()
    };
    type Fill<'a> = &'a dyn Fn(usize) -> Vec<u8>;
    let fills: [(&str, Fill); 4] = [
        ("0xFF", &|len| vec![0xFF; len]),
        ("0x00", &|len| vec![0x00; len]),
        ("0x80", &|len| vec![0x80; len]),
        ("noise", &noise),
    ];
    for (name, fill) in fills {
        let dir = tempfile::tempdir().expect("tempdir");
        let tokenizer = Tokenizer::byte();
        let documents = shakespeare(20, 30_000);
        build_index(dir.path(), &tokenizer, &documents, &mut |_| {}).expect("builds");
        let path = dir.path().join(SUFFIX_ARRAY_FILE);
        let len = fs::metadata(&path).expect("metadata").len() as usize;
        fs::write(&path, fill(len)).expect("overwrite");
        let index = Index::open(dir.path()).expect("sizes are right, so it opens");
        assert!(
            matches!(index.verify(), Err(IndexError::HashMismatch { .. })),
            "suffix array filled with {name}"
        );
        let text = tokenizer
            .encode("Fair is foul, and foul is fair: Hover through the fog and filthy air.");
        let _ = index.count(&text[..10]);
        let lengths = index.longest_matches(&text);
        assert_eq!(lengths.len(), text.len());
        let params = AttributionParams { min_span: 4, max_listed: 3 };
        let excluded = BTreeSet::from([documents[0].id]);
        let result = attribute(&index, &text, &params, &excluded);
        if result.matched {
            assert_eq!(result.shares.iter().map(|s| u32::from(s.bps)).sum::<u32>(), 10_000);
        }
    }
}

/// On disk an index is its token stream, its suffix array, its document
/// table and the manifest, nothing else: bytes per token = token width +
/// pointer width + (pointer width + id width) × D / N + manifest / N.
#[test]
fn disk_holds_tokens_pointers_documents_and_the_manifest_only() {
    let byte = Tokenizer::byte();
    let gpt2 = Tokenizer::gpt2().expect("gpt2 loads");
    let small = vec![Document { id: 0, rows: vec!["ab".into()] }];
    let cases: [(&Tokenizer, Vec<Document>); 4] = [
        (&byte, shakespeare(40, usize::MAX)),
        (&byte, shakespeare(5, 5_000)),
        (&gpt2, shakespeare(25, 40_000)),
        (&byte, small),
    ];
    for (tokenizer, documents) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = build(dir.path(), tokenizer, &documents);
        let manifest = index.manifest();
        let (n, d) = (manifest.num_tokens, manifest.num_documents);
        let token_width = tokenizer.token_width() as u64;
        let width = pointer_width(n) as u64;
        let largest = documents.iter().map(|doc| doc.id).max().expect("documents");
        let ids = id_width(largest) as u64;
        assert_eq!(u64::from(manifest.pointer_width), width);
        assert_eq!(u64::from(manifest.id_width), ids);

        let mut names = Vec::new();
        let mut on_disk = 0u64;
        for entry in fs::read_dir(dir.path()).expect("read dir") {
            let entry = entry.expect("entry");
            names.push(entry.file_name().to_string_lossy().into_owned());
            on_disk += entry.metadata().expect("metadata").len();
        }
        names.sort();
        assert_eq!(names, [DOCUMENTS_FILE, MANIFEST_FILE, SUFFIX_ARRAY_FILE, TOKENS_FILE]);
        let manifest_bytes = fs::metadata(dir.path().join(MANIFEST_FILE)).expect("meta").len();
        assert!(manifest_bytes < 1024, "manifest is {manifest_bytes} bytes");
        let expected = n * (token_width + width) + d * (width + ids) + manifest_bytes;
        assert_eq!(on_disk, expected, "{n} tokens, {d} documents");
        let per_token = on_disk as f64 / n as f64;
        let formula = (token_width + width) as f64
            + (width + ids) as f64 * d as f64 / n as f64
            + manifest_bytes as f64 / n as f64;
        assert!((per_token - formula).abs() < 1e-9, "{per_token} vs {formula}");
    }
}
