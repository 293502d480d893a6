//! Fault tests of the validator network, each a real multi-process network
//! made by `openledger testnet init` and run as `openledger node --network`
//! processes on loopback: a crashed validator, a lost quorum, a 2+2
//! partition, and a double-signer slashed through staking. Each test is
//! bounded in time and kills its processes when it ends (or fails). They
//! run one at a time: four networks at once would starve two cores.

mod common;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, TxKind, U256};
use alloy_signer::SignerSync;
use common::network::Testnet;
use serde_json::json;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One network at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const LIMIT: Duration = Duration::from_secs(120);

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A transfer from dev account `from`, signed for the testnet's chain.
fn transfer(net: &Testnet, node: usize, from: u32, nonce: u64, to: Address) -> String {
    let chain_id = net.rpc(node).expect("eth_chainId", json!([]));
    let chain_id =
        u64::from_str_radix(chain_id.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 50_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(to),
        value: U256::from(1_000u64),
        access_list: Default::default(),
        input: Default::default(),
    };
    let signature = ol_node::dev::dev_signer(from).sign_hash_sync(&tx.signature_hash()).unwrap();
    let envelope: TxEnvelope = tx.into_signed(signature).into();
    format!("0x{}", alloy_primitives::hex::encode(envelope.encoded_2718()))
}

fn wait_receipt(net: &Testnet, node: usize, hash: &serde_json::Value) {
    let started = Instant::now();
    loop {
        if let Ok(receipt) = net.rpc(node).call("eth_getTransactionReceipt", json!([hash]))
            && !receipt.is_null()
        {
            assert_eq!(receipt["status"], "0x1", "the transfer succeeded");
            return;
        }
        assert!(started.elapsed() < LIMIT, "transaction {hash} never committed on node {node}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Heights of `nodes` do not move for `window` (no quorum).
fn assert_halted(net: &Testnet, nodes: &[usize], window: Duration) -> u64 {
    // A height whose votes were in flight may still finish.
    std::thread::sleep(Duration::from_millis(1500));
    let before: Vec<_> = nodes.iter().map(|&i| net.height(i)).collect();
    std::thread::sleep(window);
    let after: Vec<_> = nodes.iter().map(|&i| net.height(i)).collect();
    assert_eq!(before, after, "nodes {nodes:?} kept committing without a quorum");
    after.iter().flatten().copied().max().expect("heights")
}

#[test]
fn a_late_node_syncs_from_genesis_and_one_of_four_validators_down_the_chain_goes_on() {
    let _serial = serial();
    let mut net = Testnet::init(4, 1, 100);
    for i in 0..4 {
        net.start(i, None);
    }
    net.wait_height(&[0, 1, 2, 3], 4, LIMIT);
    // A new node joins from genesis while the chain runs: block sync.
    net.start(4, None);
    let h = net.height(0).unwrap();
    net.wait_height(&[4], h, LIMIT);

    // A transfer sent to the follower reaches a proposer (gossip) and commits everywhere.
    let hash = net.rpc(4).expect(
        "eth_sendRawTransaction",
        json!([transfer(&net, 4, 0, 0, Address::repeat_byte(7))]),
    );
    wait_receipt(&net, 0, &hash);
    wait_receipt(&net, 4, &hash);

    net.kill(3);
    let h = net.height(0).unwrap();
    net.wait_height(&[0, 1, 2, 4], h + 4, LIMIT);
    let hash = net.rpc(1).expect(
        "eth_sendRawTransaction",
        json!([transfer(&net, 1, 0, 1, Address::repeat_byte(7))]),
    );
    wait_receipt(&net, 2, &hash);

    net.start(3, None);
    let target = net.height(0).unwrap() + 2;
    net.wait_height(&[0, 1, 2, 3, 4], target, LIMIT);
    let top = net.assert_same_chain(&[0, 1, 2, 3, 4]);
    assert!(top >= target);
    wait_receipt(&net, 3, &hash);
}

#[test]
fn two_of_four_down_the_chain_halts_without_forking_and_resumes_with_three() {
    let _serial = serial();
    let mut net = Testnet::init(4, 0, 100);
    net.start_all();
    net.wait_height(&[0, 1, 2, 3], 3, LIMIT);
    net.kill(2);
    net.kill(3);
    let halted = assert_halted(&net, &[0, 1], Duration::from_secs(5));
    net.assert_same_chain(&[0, 1]);

    net.start(2, None);
    net.wait_height(&[0, 1, 2], halted + 3, LIMIT);
    net.assert_same_chain(&[0, 1, 2]);
}

#[test]
fn a_two_two_partition_commits_nothing_conflicting_and_heals() {
    let _serial = serial();
    let mut net = Testnet::init(4, 0, 100);
    net.start_all();
    net.wait_height(&[0, 1, 2, 3], 3, LIMIT);

    net.partition(&[0, 1], &[2, 3]);
    let halted = assert_halted(&net, &[0, 1, 2, 3], Duration::from_secs(5));
    net.assert_same_chain(&[0, 1, 2, 3]);
    // Each side still answers and accepts transactions; they wait for the quorum.
    let hash = net.rpc(0).expect(
        "eth_sendRawTransaction",
        json!([transfer(&net, 0, 2, 0, Address::repeat_byte(9))]),
    );

    net.heal();
    net.wait_height(&[0, 1, 2, 3], halted + 3, LIMIT);
    // Blocks are final: had either side committed alone, a height would differ here.
    net.assert_same_chain(&[0, 1, 2, 3]);
    wait_receipt(&net, 3, &hash);
}

#[test]
fn a_double_signing_validator_is_slashed_through_staking_and_leaves_the_set() {
    let _serial = serial();
    // Epochs of 5 blocks: the slashed validator leaves the set soon after.
    let mut net = Testnet::init(4, 0, 5);
    let key = std::fs::read_to_string(net.file(0, "operator.key")).expect("operator key");
    let operator: alloy_signer_local::PrivateKeySigner = key.trim().parse().expect("hex key");
    let operator = operator.address();
    net.start(0, Some("equivocate"));
    for i in 1..4 {
        net.start(i, None);
    }
    net.wait_height(&[1, 2, 3], 2, LIMIT);
    let stake_at = |net: &Testnet, block: &str| {
        let staking = net.rpc(1).expect("ol_getStaking", json!([operator, block]));
        let text = staking["validatorStake"].as_str().expect("a quantity").to_string();
        U256::from_str_radix(text.trim_start_matches("0x"), 16).expect("hex")
    };
    let stake = |net: &Testnet| stake_at(net, "latest");
    // As bonded at genesis (the first report may land in block 2 already).
    let before = stake_at(&net, "0x0");
    assert!(before > U256::ZERO, "validator 0 is bonded at genesis");

    let started = Instant::now();
    while stake(&net) == before {
        assert!(started.elapsed() < LIMIT, "the double-signer was never slashed:\n{}", net.log(1));
        std::thread::sleep(Duration::from_millis(200));
    }
    let after = stake(&net);
    // 5 % (the default doubleSignSlashBps) of its stake, once.
    assert_eq!(after, before - before * U256::from(500) / U256::from(10_000));

    // Jailed: out of the set from the block after the one that jailed it;
    // the others go on.
    let started = Instant::now();
    loop {
        let set = net.rpc(1).expect("ol_validatorSet", json!([]));
        let members: Vec<String> = set["validators"]
            .as_array()
            .expect("validators")
            .iter()
            .map(|v| v["operator"].as_str().unwrap().to_lowercase())
            .collect();
        if !members.contains(&format!("{operator:#x}")) {
            assert_eq!(members.len(), 3);
            break;
        }
        assert!(started.elapsed() < LIMIT, "the slashed validator stayed in the set: {set}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let h = net.height(1).unwrap();
    net.wait_height(&[1, 2, 3], h + 3, LIMIT);
    net.assert_same_chain(&[1, 2, 3]);
    // Slashed once, however many nodes reported it.
    assert_eq!(stake(&net), after);
}
