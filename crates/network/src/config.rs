//! A network node's files: `config.toml`, its ed25519 consensus key and the
//! operator's secp256k1 key, as `openledger testnet init` writes them.
//!
//! ```toml
//! moniker = "node0"
//! genesis = "../genesis.json"          # paths are relative to this file
//! datadir = "data"
//! consensus_key = "consensus_key.json"  # {"type":"tendermint/PrivKeyEd25519","value":"<base64>"}
//! validator = true                      # sign votes with the consensus key
//! operator_key = "operator.key"         # 0x-hex secp256k1; signs evidence reports
//! rpc = "127.0.0.1:8545"
//! metrics = "127.0.0.1:9100"            # optional
//! rpc_peers = ["http://127.0.0.1:8546"] # transaction gossip and blob fetch
//!
//! [p2p]
//! listen = "/ip4/127.0.0.1/tcp/26600"
//! peers = ["/ip4/127.0.0.1/tcp/26601"]
//!
//! [consensus]                           # every field optional
//! block_time_ms = 1000                  # shortest time a height takes
//! propose_timeout_ms = 3000
//! prevote_timeout_ms = 1000
//! precommit_timeout_ms = 1000
//! rebroadcast_timeout_ms = 5000
//! max_block_transactions = 10000
//! ```

use alloy_primitives::B256;
use arc_malachitebft_signing_ed25519 as ed;
use serde::{Deserialize, Serialize};
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

/// The file name `testnet init` gives each node's configuration.
pub const CONFIG_FILE: &str = "config.toml";
/// The file name of a node's ed25519 consensus key.
pub const CONSENSUS_KEY_FILE: &str = "consensus_key.json";
/// The file name of a validator operator's secp256k1 key.
pub const OPERATOR_KEY_FILE: &str = "operator.key";

/// `config.toml` of a network node, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// The node's name in logs and the network.
    pub moniker: String,
    /// The chain's genesis file.
    pub genesis: PathBuf,
    /// Data directory (database, blobs, consensus WAL).
    pub datadir: PathBuf,
    /// The node's ed25519 key: its network identity and, when `validator`,
    /// the key it signs votes with.
    pub consensus_key: PathBuf,
    /// Whether this node votes (its key must be in the validator set to count).
    #[serde(default)]
    pub validator: bool,
    /// The operator's secp256k1 key, to sign double-sign evidence reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_key: Option<PathBuf>,
    /// JSON-RPC (HTTP and WebSocket) listen address.
    pub rpc: SocketAddr,
    /// Prometheus metrics listen address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<SocketAddr>,
    /// JSON-RPC URLs of other nodes: transactions are gossiped to them and
    /// missing blobs fetched from them.
    #[serde(default)]
    pub rpc_peers: Vec<String>,
    /// The consensus network's addresses.
    pub p2p: P2pConfig,
    /// Timeouts and block size.
    #[serde(default)]
    pub consensus: ConsensusTuning,
}

/// The consensus network's addresses (libp2p multiaddrs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P2pConfig {
    /// Where this node listens, e.g. `/ip4/127.0.0.1/tcp/26600`.
    pub listen: String,
    /// The nodes it keeps connections to.
    #[serde(default)]
    pub peers: Vec<String>,
}

/// Consensus timeouts (Tendermint's; each grows per round) and block size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusTuning {
    /// Shortest time a height takes: the block time when the network is
    /// healthy (consensus waits this long before starting the next height).
    pub block_time_ms: u64,
    /// How long to wait for a proposal.
    pub propose_timeout_ms: u64,
    /// How long to wait for prevotes after a polka of any value.
    pub prevote_timeout_ms: u64,
    /// How long to wait for precommits after +2/3 of any value.
    pub precommit_timeout_ms: u64,
    /// How often to rebroadcast the latest votes when stuck.
    pub rebroadcast_timeout_ms: u64,
    /// Most transactions one block carries.
    pub max_block_transactions: usize,
}

impl Default for ConsensusTuning {
    fn default() -> Self {
        Self {
            block_time_ms: 1000,
            propose_timeout_ms: 3000,
            prevote_timeout_ms: 1000,
            precommit_timeout_ms: 1000,
            rebroadcast_timeout_ms: 5000,
            max_block_transactions: 10_000,
        }
    }
}

/// Why a network node's files could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `config.toml` is not valid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        message: String,
    },
}

fn invalid(path: &Path, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { path: path.to_path_buf(), message: message.into() }
}

impl NetworkConfig {
    /// Reads `config.toml`; relative paths in it are taken from its directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let mut config: Self = toml::from_str(&text).map_err(|e| invalid(path, e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for file in [&mut config.genesis, &mut config.datadir, &mut config.consensus_key] {
            *file = base.join(&*file);
        }
        if let Some(key) = &mut config.operator_key {
            *key = base.join(&*key);
        }
        config.check(path)?;
        Ok(config)
    }

    /// Checks what parsing does not: names, addresses, limits.
    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        if self.moniker.is_empty() || self.moniker.len() > 64 {
            return Err(invalid(path, "moniker: must be 1 to 64 bytes"));
        }
        parse_multiaddr(&self.p2p.listen).map_err(|e| invalid(path, format!("p2p.listen: {e}")))?;
        for (i, peer) in self.p2p.peers.iter().enumerate() {
            parse_multiaddr(peer).map_err(|e| invalid(path, format!("p2p.peers[{i}]: {e}")))?;
        }
        for (i, url) in self.rpc_peers.iter().enumerate() {
            url.parse::<ol_node::gossip::PeerUrl>()
                .map_err(|e| invalid(path, format!("rpc_peers[{i}]: {e}")))?;
        }
        let c = &self.consensus;
        for (name, ms) in [
            ("block_time_ms", c.block_time_ms),
            ("propose_timeout_ms", c.propose_timeout_ms),
            ("prevote_timeout_ms", c.prevote_timeout_ms),
            ("precommit_timeout_ms", c.precommit_timeout_ms),
            ("rebroadcast_timeout_ms", c.rebroadcast_timeout_ms),
        ] {
            if !(10..=600_000).contains(&ms) {
                return Err(invalid(
                    path,
                    format!("consensus.{name}: {ms} is outside 10..=600000"),
                ));
            }
        }
        if c.max_block_transactions == 0 {
            return Err(invalid(path, "consensus.max_block_transactions: must be at least 1"));
        }
        Ok(())
    }

    /// Writes `config.toml` at `path` as it is (paths relative to its directory).
    pub fn write(&self, path: &Path) -> Result<(), ConfigError> {
        let text = toml::to_string_pretty(self).map_err(|e| invalid(path, e.to_string()))?;
        std::fs::write(path, text)
            .map_err(|source| ConfigError::Write { path: path.to_path_buf(), source })
    }

    /// The P2P listen address, parsed.
    pub fn listen_addr(&self) -> arc_malachitebft_app_channel::app::net::Multiaddr {
        parse_multiaddr(&self.p2p.listen).expect("checked when loaded")
    }

    /// The P2P peers, parsed.
    pub fn peer_addrs(&self) -> Vec<arc_malachitebft_app_channel::app::net::Multiaddr> {
        self.p2p.peers.iter().map(|p| parse_multiaddr(p).expect("checked when loaded")).collect()
    }
}

fn parse_multiaddr(
    text: &str,
) -> Result<arc_malachitebft_app_channel::app::net::Multiaddr, String> {
    text.parse().map_err(|e| format!("`{text}` is not a multiaddr ({e})"))
}

/// Reads an ed25519 consensus key file (`{"type":"tendermint/PrivKeyEd25519","value":…}`).
pub fn load_consensus_key(path: &Path) -> Result<ed::PrivateKey, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text).map_err(|e| invalid(path, format!("not an ed25519 key file: {e}")))
}

/// Writes an ed25519 consensus key file, readable by its owner only (it is
/// created so: the key is never readable by others, even for a moment).
pub fn write_consensus_key(path: &Path, key: &ed::PrivateKey) -> Result<(), ConfigError> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(key).expect("a key serializes");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|source| ConfigError::Write { path: path.to_path_buf(), source })
}

/// A fresh ed25519 key from the operating system's randomness.
pub fn generate_consensus_key() -> ed::PrivateKey {
    ed::PrivateKey::from(rand::random::<[u8; 32]>())
}

/// The public half of a consensus key, as staking records it.
pub fn consensus_public_key(key: &ed::PrivateKey) -> B256 {
    B256::from(*key.public_key().as_bytes())
}

/// Reads an operator key file: one 0x-prefixed hex secp256k1 secret.
pub fn load_operator_key(path: &Path) -> Result<alloy_signer_local::PrivateKeySigner, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    text.trim()
        .parse::<alloy_signer_local::PrivateKeySigner>()
        .map_err(|e| invalid(path, format!("not a hex secp256k1 key: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
moniker = "node0"
genesis = "../genesis.json"
datadir = "data"
consensus_key = "consensus_key.json"
validator = true
operator_key = "operator.key"
rpc = "127.0.0.1:18545"
rpc_peers = ["http://127.0.0.1:18546"]

[p2p]
listen = "/ip4/127.0.0.1/tcp/26600"
peers = ["/ip4/127.0.0.1/tcp/26601"]
"#;

    fn load(text: &str) -> Result<NetworkConfig, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        std::fs::write(&path, text).unwrap();
        NetworkConfig::load(&path)
    }

    fn refused(text: &str, want: &str) {
        let error = load(text).expect_err("refused").to_string();
        assert!(error.contains(want), "expected {want:?} in: {error}");
    }

    #[test]
    fn a_written_config_loads_with_paths_from_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        std::fs::write(&path, GOOD).unwrap();
        let config = NetworkConfig::load(&path).unwrap();
        assert_eq!(config.datadir, dir.path().join("data"));
        assert_eq!(config.genesis, dir.path().join("../genesis.json"));
        assert_eq!(config.operator_key, Some(dir.path().join("operator.key")));
        assert_eq!(config.consensus, ConsensusTuning::default());
        assert_eq!(config.peer_addrs().len(), 1);
        // Round trip through write.
        let again = dir.path().join("again.toml");
        let written: NetworkConfig = toml::from_str(GOOD).unwrap();
        written.write(&again).unwrap();
        assert_eq!(NetworkConfig::load(&again).unwrap().moniker, "node0");
    }

    #[test]
    fn malformed_configs_are_refused_saying_where() {
        refused("", "missing field");
        refused(&GOOD.replace("moniker = \"node0\"", "moniker = \"\""), "moniker");
        refused(&format!("{GOOD}\nsurprise = 1\n"), "unknown field");
        refused(&GOOD.replace("/ip4/127.0.0.1/tcp/26600", "not-an-address"), "p2p.listen");
        refused(&GOOD.replace("/ip4/127.0.0.1/tcp/26601", "/ip9/x"), "p2p.peers[0]");
        refused(&GOOD.replace("http://127.0.0.1:18546", "ftp://x"), "rpc_peers[0]");
        refused(&GOOD.replace("127.0.0.1:18545", "localhost"), "rpc");
        refused(&format!("{GOOD}\n[consensus]\npropose_timeout_ms = 0\n"), "propose_timeout_ms");
        refused(&format!("{GOOD}\n[consensus]\nblock_time_ms = 999999999\n"), "block_time_ms");
        refused(
            &format!("{GOOD}\n[consensus]\nmax_block_transactions = 0\n"),
            "max_block_transactions",
        );
        refused(&format!("{GOOD}\n[consensus]\nmystery_ms = 5\n"), "unknown field");
        let missing = NetworkConfig::load(Path::new("/nonexistent/config.toml")).unwrap_err();
        assert!(missing.to_string().contains("cannot read /nonexistent/config.toml"));
    }

    #[test]
    fn key_files_round_trip_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONSENSUS_KEY_FILE);
        let key = generate_consensus_key();
        write_consensus_key(&path, &key).unwrap();
        let back = load_consensus_key(&path).unwrap();
        assert_eq!(consensus_public_key(&back), consensus_public_key(&key));
        std::fs::write(&path, "{\"type\":\"tendermint/PrivKeyEd25519\",\"value\":\"!!\"}").unwrap();
        assert!(load_consensus_key(&path).unwrap_err().to_string().contains("ed25519 key file"));
        let operator = dir.path().join(OPERATOR_KEY_FILE);
        std::fs::write(&operator, "0x1234").unwrap();
        assert!(load_operator_key(&operator).unwrap_err().to_string().contains("secp256k1"));
        std::fs::write(&operator, format!("{}\n", B256::repeat_byte(7))).unwrap();
        assert!(load_operator_key(&operator).is_ok());
    }
}
