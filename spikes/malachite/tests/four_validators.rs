//! Four in-process validators on loopback, driven by the spike's `run` loop
//! over an in-memory chain: every node must commit the same blocks.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_malachitebft_app_channel::app::config::{ConsensusConfig, P2pConfig};
use arc_malachitebft_app_channel::app::types::core::CommitCertificate;
use arc_malachitebft_app_channel::app::types::MisbehaviorEvidence;
use arc_malachitebft_signing_ed25519 as ed;
use malachite_spike::node::{run, start, start_with, ChainPort, OlConsensusConfig};
use malachite_spike::{Address, BlockHash, OlContext, Validator, ValidatorSet};
use sha2::{Digest, Sha256};

struct MemChain {
    validators: ValidatorSet,
    blocks: Mutex<BTreeMap<u64, (Vec<u8>, CommitCertificate<OlContext>)>>,
    evidence: Mutex<Vec<(u64, String, usize)>>,
}

fn hash(bytes: &[u8]) -> BlockHash {
    BlockHash(Sha256::digest(bytes).into())
}

impl ChainPort for MemChain {
    fn head(&self) -> u64 {
        self.blocks.lock().unwrap().keys().last().copied().unwrap_or(0)
    }
    fn earliest_served(&self) -> u64 {
        1
    }
    fn validator_set(&self, _h: u64) -> ValidatorSet {
        self.validators.clone()
    }
    fn build_block(&self, h: u64, _deadline: Duration) -> eyre::Result<(BlockHash, Vec<u8>)> {
        let parent = self.blocks.lock().unwrap().get(&(h - 1)).map(|(b, _)| hash(b));
        let block = format!("block {h} parent {parent:?}").into_bytes();
        Ok((hash(&block), block))
    }
    fn verify_block(&self, h: u64, encoded: &[u8]) -> eyre::Result<BlockHash> {
        eyre::ensure!(encoded.starts_with(format!("block {h} ").as_bytes()), "bad block");
        Ok(hash(encoded))
    }
    fn import_block(&self, encoded: &[u8], certificate: &CommitCertificate<OlContext>) -> eyre::Result<()> {
        eyre::ensure!(hash(encoded) == certificate.value_id, "certificate for another block");
        self.blocks.lock().unwrap().insert(certificate.height.0, (encoded.to_vec(), certificate.clone()));
        Ok(())
    }
    fn decided(&self, h: u64) -> Option<(Vec<u8>, CommitCertificate<OlContext>)> {
        self.blocks.lock().unwrap().get(&h).cloned()
    }
    fn queue_evidence(&self, evidence: MisbehaviorEvidence<OlContext>) {
        let mut seen = self.evidence.lock().unwrap();
        for (address, doubles) in evidence.votes.iter() {
            let h = doubles[0].0.message.height.0;
            seen.push((h, address.to_string(), doubles.len()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_validators_commit_the_same_blocks() {
    const N: usize = 4;
    const BASE_PORT: usize = 27310;
    let keys: Vec<ed::PrivateKey> = (0..N).map(|i| ed::PrivateKey::from([i as u8 + 1; 32])).collect();
    let validators = ValidatorSet::new(keys.iter().map(|k| Validator::new(k.public_key(), 10)));
    let home = std::env::temp_dir().join(format!("malachite-spike-{}", std::process::id()));

    let mut chains = Vec::new();
    let mut engines = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let addr = |j: usize| format!("/ip4/127.0.0.1/tcp/{}", BASE_PORT + j).parse().unwrap();
        let config = OlConsensusConfig {
            moniker: format!("v{i}"),
            consensus: ConsensusConfig {
                p2p: P2pConfig {
                    listen_addr: addr(i),
                    persistent_peers: (0..N).filter(|&j| j != i).map(addr).collect(),
                    ..Default::default()
                },
                ..Default::default()
            },
            value_sync: Default::default(),
        };
        // Validator 0 double-signs every vote when SPIKE_BYZANTINE is set.
        let byz = (i == 0 && std::env::var("SPIKE_BYZANTINE").is_ok()).then(|| {
            arc_malachitebft_engine_byzantine::ByzantineConfig {
                equivocate_votes: arc_malachitebft_engine_byzantine::Trigger::Always,
                ..Default::default()
            }
        });
        let (mut channels, engine) =
            start_with(home.join(format!("v{i}")), config, key.clone(), Some(key.clone()), byz).await.unwrap();
        let chain = Arc::new(MemChain { validators: validators.clone(), blocks: Mutex::default(), evidence: Mutex::default() });
        let me = Address::from_public_key(&key.public_key());
        let task_chain = chain.clone();
        tokio::spawn(async move {
            if let Err(e) = run(&*task_chain, Some(me), &mut channels).await {
                eprintln!("node {i}: {e}");
            }
        });
        chains.push(chain);
        engines.push(engine);
    }

    let started = Instant::now();
    let target = 5;
    while chains.iter().any(|c| c.head() < target) {
        assert!(started.elapsed() < Duration::from_secs(90), "heads: {:?}", chains.iter().map(|c| c.head()).collect::<Vec<_>>());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("{N} validators reached height {target} in {:?}", started.elapsed());
    if std::env::var("SPIKE_STEADY").is_ok() {
        let t0 = Instant::now();
        let h0 = chains[0].head();
        while chains[0].head() < h0 + 10 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        println!("steady state: 10 heights in {:?}", t0.elapsed());
    }
    for h in 1..=target {
        let hashes: Vec<_> = chains.iter().map(|c| c.decided(h).unwrap().1.value_id).collect();
        assert!(hashes.windows(2).all(|w| w[0] == w[1]), "fork at {h}: {hashes:?}");
        let sigs = chains[0].decided(h).unwrap().1.commit_signatures.len();
        println!("height {h}: {} ({sigs} commit signatures)", hashes[0]);
    }
    for (i, c) in chains.iter().enumerate() {
        println!("node {i} evidence (height, validator, double votes): {:?}", c.evidence.lock().unwrap());
    }
    // A fifth, non-validator node joins late and catches up by block sync.
    let late_key = ed::PrivateKey::from([99u8; 32]);
    let config = OlConsensusConfig {
        moniker: "follower".into(),
        consensus: ConsensusConfig {
            p2p: P2pConfig {
                listen_addr: format!("/ip4/127.0.0.1/tcp/{}", BASE_PORT + N).parse().unwrap(),
                persistent_peers: (0..N).map(|j| format!("/ip4/127.0.0.1/tcp/{}", BASE_PORT + j).parse().unwrap()).collect(),
                ..Default::default()
            },
            ..Default::default()
        },
        value_sync: Default::default(),
    };
    let (mut channels, engine) = start(home.join("follower"), config, late_key, None).await.unwrap();
    let follower = Arc::new(MemChain { validators: validators.clone(), blocks: Mutex::default(), evidence: Mutex::default() });
    let task_chain = follower.clone();
    tokio::spawn(async move {
        if let Err(e) = run(&*task_chain, None, &mut channels).await {
            eprintln!("follower: {e}");
        }
    });
    let joined = Instant::now();
    let goal = chains[0].head() + 2;
    while follower.head() < goal {
        assert!(joined.elapsed() < Duration::from_secs(90), "follower head {} (validators {})", follower.head(), chains[0].head());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("follower reached height {goal} in {:?}", joined.elapsed());
    for h in 1..=goal {
        assert_eq!(follower.decided(h).unwrap().1.value_id, chains[0].decided(h).unwrap().1.value_id);
    }
    engines.push(engine);
    for e in engines {
        e.actor.stop(None);
        e.handle.abort();
    }
    let _ = std::fs::remove_dir_all(home);
}
