//! In-process validator networks: every node a real [`ol_node`] (chain,
//! storage, RPC) driven by [`MalachiteConsensus`] over loopback TCP.

#![allow(dead_code, unreachable_pub)]

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, TxKind, U256};
use alloy_signer::SignerSync;
use ol_ledger::{Genesis, genesis::GenesisValidator, staking::ValidatorParams};
use ol_network::MalachiteConsensus;
use ol_network::config::{
    ConsensusTuning, NetworkConfig, P2pConfig, consensus_public_key, write_consensus_key,
};
use ol_node::{GenesisSource, NodeConfig, NodeHandle, dev};
use ol_primitives::Amount;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A loopback port free now, below Linux's ephemeral range (32768–60999):
/// one in that range may be taken meanwhile as the local end of an outgoing
/// connection, and a node that cannot listen refuses to start. Never the
/// same port twice in one test process.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let seed = std::process::id() as usize * 7919 + given.len() * 104_729;
    for attempt in 0..12_000 {
        let port = 20_000 + ((seed + attempt * 7) % 12_000) as u16;
        if !given.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.push(port);
            return port;
        }
    }
    panic!("no free loopback port in 20000..32000");
}

/// The dev accounts that operate the validators (the rest stay free for tests).
pub const FIRST_OPERATOR: u32 = 6;

/// One node's files and addresses.
pub struct NodeSpec {
    pub dir: PathBuf,
    pub config: NetworkConfig,
    pub key: arc_malachitebft_signing_ed25519::PrivateKey,
}

/// A network's files: genesis (dev accounts funded, validators operated by
/// dev accounts 6.., 2,000 OPEN each) and every node's config.
pub struct NetworkSpec {
    pub genesis: Genesis,
    pub nodes: Vec<NodeSpec>,
    pub validators: usize,
}

impl NetworkSpec {
    /// `validators` validators and `followers` followers under `root`.
    pub fn new(root: &Path, validators: usize, followers: usize) -> Self {
        let mut genesis = dev::dev_genesis();
        genesis.validator_params = Some(ValidatorParams {
            min_validator_stake: U256::from(1_000u64) * ol_ledger::staking::validators::POWER_UNIT,
            epoch_blocks: 5,
            ..ValidatorParams::default()
        });
        let total = validators + followers;
        let p2p: Vec<u16> = (0..total).map(|_| free_port()).collect();
        let rpc: Vec<u16> = (0..total).map(|_| free_port()).collect();
        let mut nodes = Vec::new();
        for i in 0..total {
            let dir = root.join(format!("node{i}"));
            std::fs::create_dir_all(&dir).expect("node dir");
            let key = arc_malachitebft_signing_ed25519::PrivateKey::from([i as u8 + 1; 32]);
            write_consensus_key(&dir.join("consensus_key.json"), &key).expect("key written");
            let validator = i < validators;
            let operator_key = validator.then(|| {
                let signer = dev::dev_signer(FIRST_OPERATOR + i as u32);
                let path = dir.join("operator.key");
                std::fs::write(&path, format!("{}", B256::from(signer.to_bytes())))
                    .expect("operator key written");
                genesis.validators.push(GenesisValidator {
                    operator: signer.address(),
                    consensus_key: consensus_public_key(&key),
                    moniker: format!("node{i}"),
                    stake: Amount::from_open(2_000),
                });
                path
            });
            let config = NetworkConfig {
                moniker: format!("node{i}"),
                genesis: root.join("genesis.json"),
                datadir: dir.join("data"),
                consensus_key: dir.join("consensus_key.json"),
                validator,
                operator_key,
                rpc: format!("127.0.0.1:{}", rpc[i]).parse().expect("address"),
                metrics: None,
                rpc_peers: (0..total)
                    .filter(|&j| j != i)
                    .map(|j| format!("http://127.0.0.1:{}", rpc[j]))
                    .collect(),
                p2p: P2pConfig {
                    listen: format!("/ip4/127.0.0.1/tcp/{}", p2p[i]),
                    peers: (0..total)
                        .filter(|&j| j != i)
                        .map(|j| format!("/ip4/127.0.0.1/tcp/{}", p2p[j]))
                        .collect(),
                },
                consensus: ConsensusTuning {
                    block_time_ms: 300,
                    propose_timeout_ms: 1500,
                    prevote_timeout_ms: 500,
                    precommit_timeout_ms: 500,
                    rebroadcast_timeout_ms: 2000,
                    ..ConsensusTuning::default()
                },
            };
            nodes.push(NodeSpec { dir, config, key });
        }
        Self { genesis, nodes, validators }
    }

    /// Starts every node, in order.
    pub async fn start_all(&self) -> Vec<NodeHandle> {
        let mut nodes = Vec::new();
        for i in 0..self.nodes.len() {
            nodes.push(self.start(i).await);
        }
        nodes
    }

    /// Starts node `i`.
    pub async fn start(&self, i: usize) -> NodeHandle {
        self.start_with(i, |c| c).await
    }

    /// Starts node `i`, its consensus adjusted by `adjust` (fault injection).
    pub async fn start_with(
        &self,
        i: usize,
        adjust: impl FnOnce(MalachiteConsensus) -> MalachiteConsensus,
    ) -> NodeHandle {
        let spec = &self.nodes[i];
        let config = NodeConfig {
            datadir: spec.config.datadir.clone(),
            genesis: GenesisSource::Value(self.genesis.clone()),
            dev: false,
            http: spec.config.rpc,
            ws: None,
            block_time: Duration::from_millis(300),
            metrics: None,
            serving: None,
            peers: spec.config.rpc_peers.iter().map(|u| u.parse().expect("url")).collect(),
            seal: true,
        };
        let consensus =
            MalachiteConsensus::new(spec.config.clone(), self.genesis.chain_id).expect("keys load");
        ol_node::launch_with_consensus(config, Box::new(adjust(consensus)))
            .await
            .expect("the node starts")
    }

    /// The operator of validator `i`.
    pub fn operator(&self, i: usize) -> Address {
        dev::dev_signer(FIRST_OPERATOR + i as u32).address()
    }
}

/// A call to `to` with `wei` and `input` from dev account `from` at `nonce`,
/// signed for the dev chain id and encoded for `eth_sendRawTransaction`.
pub fn signed_call(
    from: u32,
    nonce: u64,
    to: Address,
    wei: u64,
    gas_limit: u64,
    input: Vec<u8>,
) -> Vec<u8> {
    let tx = TxEip1559 {
        chain_id: dev::DEV_CHAIN_ID,
        nonce,
        gas_limit,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(to),
        value: U256::from(wei),
        access_list: Default::default(),
        input: input.into(),
    };
    let signature = dev::dev_signer(from).sign_hash_sync(&tx.signature_hash()).expect("signs");
    let envelope: TxEnvelope = tx.into_signed(signature).into();
    envelope.encoded_2718()
}

/// Waits until `check` holds, or panics with `what` after `limit`.
pub async fn wait_until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asserts every node holds the same blocks (hash and state root) up to `height`.
pub fn assert_same_chain(nodes: &[&NodeHandle], height: u64) {
    for h in 1..=height {
        let headers: Vec<_> = nodes
            .iter()
            .map(|n| n.chain.store().header_by_number(h).expect("reads").expect("has the block"))
            .collect();
        for (i, header) in headers.iter().enumerate().skip(1) {
            assert_eq!(header.hash, headers[0].hash, "node {i} forked at height {h}");
            assert_eq!(header.header.state_root, headers[0].header.state_root);
        }
    }
}
