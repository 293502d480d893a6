//! The fuzz targets as ordinary tests: random bytes, mutations of valid
//! inputs, structured JSON-RPC requests, and every file of the seed corpus
//! (`fuzz/seeds/<target>/`) and of past findings (`fuzz/regressions/<target>/`).

#![allow(missing_docs)]

use ol_fuzz_targets::{
    RpcHarness, agents_seeds, contribution_seeds, datanets_seeds, fuzz_agents_call,
    fuzz_contribution_parser, fuzz_datanets_call, fuzz_governance_call, fuzz_inference_call,
    fuzz_rpc_request, fuzz_staking_call, fuzz_transaction_decoder, governance_seeds,
    inference_seeds, rpc_seeds, staking_seeds, transaction_seeds,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::{
    path::{Path, PathBuf},
    sync::LazyLock,
};

/// Seeds are signed once: signing in every proptest case would dominate the run.
static TRANSACTION_SEEDS: LazyLock<Vec<(&'static str, Vec<u8>)>> = LazyLock::new(transaction_seeds);
static RPC_SEEDS: LazyLock<Vec<(String, String)>> = LazyLock::new(rpc_seeds);
static AGENTS_SEEDS: LazyLock<Vec<(&'static str, Vec<u8>)>> = LazyLock::new(agents_seeds);

const TRANSACTION_DECODER: &str = "transaction_decoder";
const RPC_REQUEST: &str = "rpc_request";
const CONTRIBUTION_PARSER: &str = "contribution_parser";
const DATANETS_CALL: &str = "datanets_call";
const INFERENCE_CALL: &str = "inference_call";
const STAKING_CALL: &str = "staking_call";
const GOVERNANCE_CALL: &str = "governance_call";
const AGENTS_CALL: &str = "agents_call";

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Every file under `fuzz/<kind>/<target>/`, sorted (none if the folder is absent).
fn corpus_files(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).expect("corpus file is readable")))
        .collect()
}

#[test]
fn transaction_seed_corpus() {
    let files = corpus_files("seeds", TRANSACTION_DECODER);
    assert!(!files.is_empty(), "fuzz/seeds/{TRANSACTION_DECODER} is empty");
    for (_, bytes) in files.iter().chain(&corpus_files("regressions", TRANSACTION_DECODER)) {
        fuzz_transaction_decoder(bytes);
    }
    for (name, bytes) in transaction_seeds() {
        fuzz_transaction_decoder(&bytes);
        assert!(
            ol_primitives::RecoveredTransaction::decode(&bytes).is_ok(),
            "seed {name} should decode"
        );
    }
}

#[test]
fn rpc_seed_corpus() {
    let files = corpus_files("seeds", RPC_REQUEST);
    assert!(!files.is_empty(), "fuzz/seeds/{RPC_REQUEST} is empty");
    for (_, bytes) in files.iter().chain(&corpus_files("regressions", RPC_REQUEST)) {
        fuzz_rpc_request(bytes);
    }
    for (_, request) in rpc_seeds() {
        fuzz_rpc_request(request.as_bytes());
    }
}

#[test]
fn contribution_and_system_call_seed_corpus() {
    for (target, run, seeds) in [
        (CONTRIBUTION_PARSER, fuzz_contribution_parser as fn(&[u8]), contribution_seeds()),
        (DATANETS_CALL, fuzz_datanets_call as fn(&[u8]), datanets_seeds()),
        (INFERENCE_CALL, fuzz_inference_call as fn(&[u8]), inference_seeds()),
        (STAKING_CALL, fuzz_staking_call as fn(&[u8]), staking_seeds()),
        (GOVERNANCE_CALL, fuzz_governance_call as fn(&[u8]), governance_seeds()),
        (AGENTS_CALL, fuzz_agents_call as fn(&[u8]), agents_seeds()),
    ] {
        let files = corpus_files("seeds", target);
        assert!(!files.is_empty(), "fuzz/seeds/{target} is empty");
        for (_, bytes) in files.iter().chain(&corpus_files("regressions", target)) {
            run(bytes);
        }
        for (_, bytes) in seeds {
            run(&bytes);
        }
    }
}

/// Writes the seed corpus to `fuzz/seeds/` (run after changing the seeds).
#[test]
#[ignore = "writes files; run explicitly to regenerate fuzz/seeds"]
fn write_seed_corpus() {
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = fuzz_dir().join("seeds").join(target);
        std::fs::create_dir_all(&dir).expect("seed folder can be created");
        std::fs::write(dir.join(name), bytes).expect("seed file can be written");
    };
    for (name, bytes) in transaction_seeds() {
        write(TRANSACTION_DECODER, name, &bytes);
    }
    for (name, request) in rpc_seeds() {
        write(RPC_REQUEST, &format!("{name}.json"), request.as_bytes());
    }
    for (name, bytes) in contribution_seeds() {
        write(CONTRIBUTION_PARSER, name, &bytes);
    }
    for (name, bytes) in datanets_seeds() {
        write(DATANETS_CALL, name, &bytes);
    }
    for (name, bytes) in inference_seeds() {
        write(INFERENCE_CALL, name, &bytes);
    }
    for (name, bytes) in staking_seeds() {
        write(STAKING_CALL, name, &bytes);
    }
    for (name, bytes) in governance_seeds() {
        write(GOVERNANCE_CALL, name, &bytes);
    }
    for (name, bytes) in agents_seeds() {
        write(AGENTS_CALL, name, &bytes);
    }
}

/// One change to a byte string.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, mask: u8 },
    Set { at: usize, value: u8 },
    Insert { at: usize, value: u8 },
    Remove { at: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=u8::MAX).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::Set { at, value }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::Insert { at, value }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        match *m {
            Mutation::Flip { at, mask } if len > 0 => bytes[at % len] ^= mask,
            Mutation::Set { at, value } if len > 0 => bytes[at % len] = value,
            Mutation::Insert { at, value } => bytes.insert(at % (len + 1), value),
            Mutation::Remove { at } if len > 0 => {
                bytes.remove(at % len);
            }
            Mutation::Truncate { at } => bytes.truncate(at % (len + 1)),
            _ => {}
        }
    }
    bytes
}

/// JSON values biased towards what the methods parse: quantities, addresses,
/// hashes, block tags, hex data, nested objects of transaction requests.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<u64>().prop_map(|n| json!(format!("{n:#x}"))),
        prop::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| json!(alloy_primitives::hex::encode_prefixed(b))),
        "0x[0-9a-fA-F]{0,70}".prop_map(Value::from),
        prop::sample::select(vec![
            "latest",
            "pending",
            "earliest",
            "safe",
            "finalized",
            "newHeads",
            "0x",
            "0x0",
            "0x00",
            "0x1",
            "0x3",
            "0xffffffffffffffff",
            "0x10000000000000000",
            "-0x1",
        ])
        .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "from",
                    "to",
                    "value",
                    "gas",
                    "gasPrice",
                    "data",
                    "input",
                    "nonce",
                    "fromBlock",
                    "toBlock",
                    "blockHash",
                    "address",
                    "topics",
                    "requireCanonical",
                    "blockNumber",
                    "maxFeePerGas",
                ])
                .prop_map(str::to_string),
                inner,
                0..5,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn method_name() -> impl Strategy<Value = String> {
    let mut names: Vec<String> =
        RpcHarness::get().method_names().into_iter().map(str::to_string).collect();
    names.extend(["eth_unknown".to_string(), String::new(), "rpc.discover".to_string()]);
    names.sort();
    prop::sample::select(names)
}

fn request() -> impl Strategy<Value = String> {
    let id = prop_oneof![
        Just(None),
        any::<u32>().prop_map(|n| Some(json!(n))),
        "\\PC{0,8}".prop_map(|s| Some(json!(s))),
        Just(Some(Value::Null)),
    ];
    (method_name(), prop::option::of(json_value()), id).prop_map(|(method, params, id)| {
        let mut request = json!({"jsonrpc": "2.0", "method": method});
        if let Some(params) = params {
            request["params"] = params;
        }
        if let Some(id) = id {
            request["id"] = id;
        }
        request.to_string()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn transaction_decoder_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        fuzz_transaction_decoder(&bytes);
    }

    #[test]
    fn transaction_decoder_mutated_seeds(
        seed in 0usize..64,
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let bytes = TRANSACTION_SEEDS[seed % TRANSACTION_SEEDS.len()].1.clone();
        fuzz_transaction_decoder(&mutate(bytes, &mutations));
    }

    #[test]
    fn contribution_parser_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        fuzz_contribution_parser(&bytes);
    }

    #[test]
    fn contribution_parser_mutated_seeds(
        seed in 0usize..64,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let seeds = contribution_seeds();
        let bytes = seeds[seed % seeds.len()].1.clone();
        fuzz_contribution_parser(&mutate(bytes, &mutations));
    }

    #[test]
    fn datanets_call_mutated_seeds(
        seed in 0usize..64,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let seeds = datanets_seeds();
        let bytes = seeds[seed % seeds.len()].1.clone();
        fuzz_datanets_call(&mutate(bytes, &mutations));
    }

    #[test]
    fn inference_call_mutated_seeds(
        seed in 0usize..64,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let seeds = inference_seeds();
        let bytes = seeds[seed % seeds.len()].1.clone();
        fuzz_inference_call(&mutate(bytes, &mutations));
    }

    #[test]
    fn staking_call_mutated_seeds(
        seed in 0usize..64,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let seeds = staking_seeds();
        let bytes = seeds[seed % seeds.len()].1.clone();
        fuzz_staking_call(&mutate(bytes, &mutations));
    }

    #[test]
    fn governance_call_mutated_seeds(
        seed in 0usize..64,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let seeds = governance_seeds();
        let bytes = seeds[seed % seeds.len()].1.clone();
        fuzz_governance_call(&mutate(bytes, &mutations));
    }

    #[test]
    fn agents_call_mutated_seeds(
        seed in 0usize..64,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let bytes = AGENTS_SEEDS[seed % AGENTS_SEEDS.len()].1.clone();
        fuzz_agents_call(&mutate(bytes, &mutations));
    }

    #[test]
    fn rpc_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        fuzz_rpc_request(&bytes);
    }

    #[test]
    fn rpc_structured_requests(request in request()) {
        fuzz_rpc_request(request.as_bytes());
    }

    #[test]
    fn rpc_mutated_seeds(
        seed in 0usize..64,
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let bytes = RPC_SEEDS[seed % RPC_SEEDS.len()].1.clone().into_bytes();
        fuzz_rpc_request(&mutate(bytes, &mutations));
    }
}
