//! End-to-end tests of `openledger datanet` and `openledger attribute`: the
//! binary is run as a user runs it, against a real `openledger node --dev`
//! sealing a block per transaction.
//!
//! One scenario walks a datanet's life: created with owner approval, three
//! contributions from three accounts, one approved and one rejected as spam,
//! a version published, its index built and recorded, and a contributed
//! sentence attributed to its contribution. Hostile input (a missing file, a
//! PDF, a file over the limit, a non-owner approving, attribution without an
//! index) must fail with one sentence, a non-zero exit and nothing sent.

mod common;

use common::scenario::{Scenario, field, openledger, path};
use serde_json::{Value, json};
use std::time::Instant;

/// Development accounts 1 to 3 of the test mnemonic: the contributors.
const CONTRIBUTORS: [&str; 3] = [
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
];

/// Development account 5: funded, but nobody's curator.
const STRANGER: &str = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";

/// One sentence per contributor, long and distinct enough that no two are
/// near-duplicates and any of them is a span of many tokens.
const SENTENCES: [&str; 3] = [
    "The lighthouse keeper counted forty-one gulls on the northern rocks before the fog rolled in.",
    "Buy cheap watches now!!! Visit the shop for unbelievable discounts on every single model today.",
    "A slow river carries silt from the mountains and lays it down as fertile plains near the sea.",
];

#[test]
fn a_datanet_from_creation_to_attribution() {
    let started = Instant::now();
    let scenario = Scenario::start();
    let description = scenario.file("about.md", b"# Field notes\nShort observations.\n");

    // Create: owner approval, text only, at most 4 KiB per contribution.
    let created = scenario
        .send(
            0,
            &[
                "datanet",
                "create",
                "--name",
                "Field notes",
                "--summary",
                "Observations of nature",
                "--description-file",
                path(&description),
                "--tag",
                "nature",
                "--licence",
                "CC-BY-4.0",
                "--policy",
                "owner-approval",
                "--format",
                "txt",
                "--max-size",
                "4096",
            ],
        )
        .success();
    let datanet = field(&created, "datanet");
    assert_eq!(datanet, "1", "{created}");
    let shown = scenario.run(&["datanet", "show", &datanet]).success();
    assert_eq!(field(&shown, "name"), "Field notes");
    assert_eq!(field(&shown, "policy"), "owner-approval");
    assert_eq!(field(&shown, "max size"), "4096 bytes");
    assert!(shown.contains("  # Field notes"), "{shown}");

    // Three contributions from three accounts, all pending.
    let mut contributions = Vec::new();
    for (index, sentence) in SENTENCES.iter().enumerate() {
        let file = scenario.file(&format!("note-{index}.txt"), format!("{sentence}\n").as_bytes());
        let account = index as u32 + 1;
        let out =
            scenario.send(account, &["datanet", "contribute", &datanet, path(&file)]).success();
        assert_eq!(field(&out, "status"), "pending", "{out}");
        assert_eq!(field(&out, "near-duplicate"), "no", "{out}");
        assert!(field(&out, "deposit").ends_with("OPEN"), "{out}");
        contributions.push(field(&out, "contribution"));
    }
    let [kept, spam, waiting] = [&contributions[0], &contributions[1], &contributions[2]];
    let table = scenario.run(&["datanet", "contributions", &datanet]).success();
    assert!(table.starts_with("id  contributor"), "{table}");
    assert_eq!(table.matches("pending").count(), 3, "{table}");
    for contributor in CONTRIBUTORS {
        assert!(table.contains(contributor), "{table}");
    }

    // A stranger may not approve: the contract's reason, nothing sent.
    let refused = scenario.send(5, &["datanet", "approve", kept]).failure();
    assert!(refused.contains("only the owner or a curator of datanet 1 may do this"), "{refused}");
    assert!(refused.contains("nothing was sent"), "{refused}");
    assert_eq!(scenario.nonce(STRANGER), 0, "the refused approval was sent anyway");

    // The owner approves one and rejects one as spam.
    let approved = scenario.send(0, &["datanet", "approve", kept]).success();
    assert!(approved.contains(&format!("contribution {kept} accepted")), "{approved}");
    let rejected = scenario.send(0, &["datanet", "reject", spam, "--spam"]).success();
    assert!(rejected.contains("rejected as spam"), "{rejected}");
    assert!(field(&rejected, "penalty").contains("(score now 10)"), "{rejected}");
    let table = scenario.run(&["datanet", "contributions", &datanet]).success();
    let statuses: Vec<&str> =
        table.lines().skip(1).map(|line| line.split_whitespace().nth(2).unwrap()).collect();
    assert_eq!(statuses, ["accepted", "rejected", "pending"], "{table}");

    // The spam rejection counts against its contributor's reputation.
    let reputation = scenario.run(&["datanet", "reputation", CONTRIBUTORS[1]]).success();
    assert!(field(&reputation, "threshold").starts_with("50 "), "{reputation}");
    let row: Vec<&str> = reputation
        .lines()
        .find(|line| line.starts_with("1 "))
        .unwrap_or_else(|| panic!("no datanet 1 row in:\n{reputation}"))
        .split_whitespace()
        .collect();
    assert_eq!(row, ["1", "10", "earning", "1", "0", "0"], "{reputation}");
    let clean = scenario.run(&["datanet", "reputation", CONTRIBUTORS[0]]).success();
    assert_eq!(field(&clean, "penalties"), "none in any datanet", "{clean}");
    let evidence = format!("0x{}", "ab".repeat(32));
    let reported = scenario
        .send(
            5,
            &[
                "datanet",
                "report-poisoning",
                &datanet,
                CONTRIBUTORS[1],
                "--evidence",
                &evidence,
                "--reason",
                "flooding the datanet with adverts",
            ],
        )
        .success();
    assert_eq!(field(&reported, "report"), "1", "{reported}");
    assert!(field(&reported, "status").starts_with("open"), "{reported}");

    // No version yet: attribution says so.
    let early = scenario
        .run(&["attribute", "--datanet", &datanet, "--version", "1", "--text", SENTENCES[0]])
        .failure();
    assert!(early.contains("datanet 1 has no published version 1"), "{early}");

    // Publish version 1: the accepted contribution only.
    let published = scenario.send(0, &["datanet", "publish", &datanet]).success();
    assert_eq!(field(&published, "version"), "1", "{published}");
    assert_eq!(field(&published, "contributions"), "1", "{published}");
    let root = field(&published, "root");

    // Without an index, attribution is refused with the way out.
    let unindexed = scenario
        .run(&["attribute", "--datanet", &datanet, "--version", "1", "--text", SENTENCES[0]])
        .failure();
    assert!(unindexed.contains("build it first"), "{unindexed}");

    // Build the index, wait for it, record its hash.
    let indexed = scenario.send(0, &["datanet", "index", &datanet, "1"]).success();
    let hash = field(&indexed, "index hash");
    assert_eq!(field(&indexed, "on chain"), "recorded", "{indexed}");
    assert_eq!(field(&indexed, "documents"), "1", "{indexed}");
    let again = scenario.run(&["datanet", "index", &datanet, "1", "--no-record"]).success();
    assert_eq!(field(&again, "index hash"), hash);
    assert_eq!(field(&again, "on chain"), "already recorded", "{again}");
    let version = scenario.run(&["datanet", "version", &datanet, "1"]).success();
    assert_eq!(field(&version, "root"), root);
    assert_eq!(field(&version, "index"), format!("{hash} (byte tokenizer)"));
    assert_eq!(field(&version, "contributions"), format!("1 ({kept})"));

    // A text quoting the accepted sentence is attributed to it, all of it.
    let answer = format!("As the notes say: {} Indeed.", SENTENCES[0]);
    let attributed = scenario
        .run(&["attribute", "--datanet", &datanet, "--version", "1", "--text", &answer])
        .success();
    assert!(attributed.contains(&format!("credited to contribution {kept}")), "{attributed}");
    assert!(attributed.contains(CONTRIBUTORS[0]), "{attributed}");
    assert!(attributed.contains("10000  100.00%"), "{attributed}");
    let json = scenario
        .run(&["attribute", "--datanet", &datanet, "--version", "1", "--text", &answer, "--json"])
        .success();
    let json: Value = serde_json::from_str(&json).expect("--json prints JSON");
    assert_eq!(json["matched"], true);
    assert_eq!(json["indexHash"], hash);

    // The spam was never accepted: quoting it matches nothing.
    let unmatched = scenario
        .run(&["attribute", "--datanet", &datanet, "--version", "1", "--text", SENTENCES[1]])
        .success();
    assert_eq!(
        unmatched.trim(),
        "no attribution: no span of at least 8 tokens occurs in datanet 1 version 1"
    );

    hostile_contributions(&scenario, &datanet, waiting);
    assert!(started.elapsed().as_secs() < 60, "the scenario took {:?}", started.elapsed());
}

/// Bad files and bad targets fail before anything is sent.
fn hostile_contributions(scenario: &Scenario, datanet: &str, pending: &str) {
    let nonce = scenario.nonce(CONTRIBUTORS[0]);
    let missing = scenario.files.path().join("missing.txt");
    let out = scenario.send(1, &["datanet", "contribute", datanet, path(&missing)]).failure();
    assert!(out.contains("cannot read the contribution"), "{out}");
    assert!(out.contains("missing.txt"), "{out}");

    let pdf = scenario.file("paper.pdf", b"%PDF-1.7 not text");
    let out = scenario.send(1, &["datanet", "contribute", datanet, path(&pdf)]).failure();
    assert!(out.contains("unknown format .pdf"), "{out}");

    let big = scenario.file("big.txt", "long line of text\n".repeat(300).as_bytes());
    let out = scenario.send(1, &["datanet", "contribute", datanet, path(&big)]).failure();
    assert!(out.contains("over datanet 1's limit of 4096 bytes"), "{out}");

    let markdown = scenario.file("notes.md", b"# Notes\nSome markdown.\n");
    let out = scenario.send(1, &["datanet", "contribute", datanet, path(&markdown)]).failure();
    assert!(out.contains("does not accept md contributions"), "{out}");

    let note = scenario.file("fine.txt", b"A perfectly fine note about frogs.\n");
    let out = scenario.send(1, &["datanet", "contribute", "99", path(&note)]).failure();
    assert!(out.contains("datanet 99 does not exist"), "{out}");
    let out = scenario.run(&["datanet", "show", "99"]).failure();
    assert!(out.contains("datanet 99 does not exist"), "{out}");

    // Only its contributor may withdraw a contribution.
    let out = scenario.send(1, &["datanet", "withdraw", pending]).failure();
    assert!(out.contains("only the contributor"), "{out}");
    assert_eq!(scenario.nonce(CONTRIBUTORS[0]), nonce, "a refused command sent a transaction");
}

#[test]
fn large_files_are_uploaded_over_http() {
    let scenario = Scenario::start();
    let created = scenario
        .send(0, &["datanet", "create", "--name", "Big", "--licence", "MIT", "--format", "txt"])
        .success();
    let datanet = field(&created, "datanet");
    // Over the JSON-RPC upload limit (1 MiB): sent with PUT /blobs.
    let lines: String =
        (0..40_000).map(|line| format!("line {line} of a long and varied text file\n")).collect();
    assert!(lines.len() > 1024 * 1024);
    let file = scenario.file("large.txt", lines.as_bytes());
    let out = scenario.send(1, &["datanet", "contribute", &datanet, path(&file)]).success();
    assert_eq!(field(&out, "status"), "accepted", "an open datanet accepts at once:\n{out}");
    let contribution = field(&out, "contribution");
    let stored =
        scenario.rpc().expect("ol_getContribution", json!([contribution.parse::<u64>().unwrap()]));
    assert_eq!(stored["size"], format!("{:#x}", lines.len()));

    // Content that is not text is refused by the node (over HTTP too).
    let broken = scenario.file("broken.txt", &vec![0xff; 1_100_000]);
    let out = scenario.send(1, &["datanet", "contribute", &datanet, path(&broken)]).failure();
    assert!(out.contains("was not uploaded"), "{out}");
}

#[test]
fn bad_arguments_are_refused_before_any_request() {
    // Nothing listens at this URL: every failure below happens first.
    let url = "http://127.0.0.1:9";
    let out =
        openledger(&["datanet", "create", "--name", "x", "--dev-account", "0", "--rpc-url", url])
            .usage_error();
    assert!(out.contains("--licence") || out.contains("--custom-terms"), "{out}");
    let out = openledger(&[
        "datanet",
        "contribute",
        "1",
        "paper.pdf",
        "--dev-account",
        "0",
        "--rpc-url",
        url,
    ])
    .failure();
    assert!(out.contains("unknown format .pdf"), "{out}");
    let out = openledger(&[
        "datanet",
        "contribute",
        "1",
        "x.txt",
        "--format",
        "pdf",
        "--dev-account",
        "0",
    ])
    .usage_error();
    assert!(out.contains("invalid value 'pdf'"), "{out}");
    let out = openledger(&["datanet", "index", "1", "1", "--rpc-url", url]).failure();
    assert!(out.contains("needs a signer (or pass --no-record)"), "{out}");
    let out = openledger(&["attribute", "--datanet", "1", "--version", "1", "--rpc-url", url])
        .usage_error();
    assert!(out.contains("--text") && out.contains("--file"), "{out}");

    // Reputation commands.
    let out = openledger(&["datanet", "reputation", "0x12", "--rpc-url", url]).usage_error();
    assert!(out.contains("not an address"), "{out}");
    let out =
        openledger(&["datanet", "reputation", CONTRIBUTORS[0], "--datanet", "one"]).usage_error();
    assert!(out.contains("invalid value 'one'"), "{out}");
    let out =
        openledger(&["datanet", "report-duplicate", "x", "1", "--dev-account", "0"]).usage_error();
    assert!(out.contains("invalid value 'x'"), "{out}");
    let out = openledger(&[
        "datanet",
        "report-duplicate",
        "3",
        "3",
        "--dev-account",
        "0",
        "--rpc-url",
        url,
    ])
    .failure();
    assert!(out.contains("contribution 3 cannot nearly duplicate itself"), "{out}");
    let poisoning = |evidence: &str, reason: &str| {
        openledger(&[
            "datanet",
            "report-poisoning",
            "1",
            CONTRIBUTORS[0],
            "--evidence",
            evidence,
            "--reason",
            reason,
            "--dev-account",
            "0",
            "--rpc-url",
            url,
        ])
    };
    let out = poisoning("0x12", "bad rows").usage_error();
    assert!(out.contains("not a hash: expected 0x followed by 64 hex digits"), "{out}");
    let zero = format!("0x{}", "0".repeat(64));
    let out = poisoning(&zero, "bad rows").usage_error();
    assert!(out.contains("the evidence hash cannot be zero"), "{out}");
    let evidence = format!("0x{}", "ab".repeat(32));
    let out = poisoning(&evidence, " ").failure();
    assert!(out.contains("needs a reason"), "{out}");
    let out = poisoning(&evidence, &"x".repeat(281)).failure();
    assert!(out.contains("at most 280 allowed"), "{out}");
    let out = openledger(&[
        "datanet",
        "report-poisoning",
        "1",
        CONTRIBUTORS[0],
        "--evidence",
        &evidence,
        "--dev-account",
        "0",
    ])
    .usage_error();
    assert!(out.contains("--reason"), "{out}");
}
