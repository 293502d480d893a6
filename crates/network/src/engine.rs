//! Starting Malachite's actors (network, WAL, consensus, sync) and running
//! the application loop: the network implementation of the node's
//! [`Consensus`] boundary.

use crate::app::{App, AppConfig};
use crate::codec::OlCodec;
use crate::config::{NetworkConfig, load_consensus_key, load_operator_key};
use crate::context::{Address, OlContext};
use crate::evidence::EvidenceReporter;
use crate::signing::{Ed25519Signer, Ed25519Verifier};
use arc_malachitebft_app_channel::app::config::{
    ConsensusConfig, NodeConfig, P2pConfig, ValueSyncConfig,
};
use arc_malachitebft_app_channel::app::types::Keypair;
use arc_malachitebft_app_channel::app::types::core::LinearTimeouts;
use arc_malachitebft_app_channel::{
    Channels, ConsensusContext, EngineHandle, NetworkContext, NetworkIdentity, RequestContext,
    Signer as _, SyncContext, WalContext,
};
use arc_malachitebft_signing_ed25519 as ed;
use ol_node::chain::Chain;
use ol_node::consensus::Consensus;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Malachite's own configuration, as its `NodeConfig` trait wants it.
#[derive(Clone, Debug)]
struct EngineConfig {
    moniker: String,
    consensus: ConsensusConfig,
    value_sync: ValueSyncConfig,
}

impl NodeConfig for EngineConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }
    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }
    fn consensus_mut(&mut self) -> &mut ConsensusConfig {
        &mut self.consensus
    }
    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }
    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.value_sync
    }
}

/// Fault injection for tests: Malachite's Byzantine network proxy.
#[cfg(feature = "byzantine")]
pub type Byzantine = arc_malachitebft_engine_byzantine::ByzantineConfig;

/// A validator network node's consensus: Malachite driving the [`Chain`].
pub struct MalachiteConsensus {
    config: NetworkConfig,
    chain_id: u64,
    key: ed::PrivateKey,
    operator: Option<alloy_signer_local::PrivateKeySigner>,
    #[cfg(feature = "byzantine")]
    byzantine: Option<Byzantine>,
}

/// Why a network node's consensus could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Its files are unusable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Fault injection was asked of a build without it.
    #[error("this binary was built without fault injection (ol-network's `byzantine` feature)")]
    NoFaultInjection,
    /// The engine refused to start.
    #[error("cannot start the consensus engine: {0}")]
    Start(String),
    /// The P2P listen address cannot be bound (taken, or not this machine's).
    #[error("cannot listen for peers on {address} (p2p.listen): {source}")]
    Listen {
        /// The configured address.
        address: String,
        /// What the operating system said.
        source: std::io::Error,
    },
}

impl MalachiteConsensus {
    /// Consensus for the node `config` describes, on chain `chain_id`:
    /// reads its keys.
    pub fn new(config: NetworkConfig, chain_id: u64) -> Result<Self, EngineError> {
        check_listen(&config.p2p.listen)?;
        let key = load_consensus_key(&config.consensus_key)?;
        let operator = config.operator_key.as_deref().map(load_operator_key).transpose()?;
        Ok(Self {
            config,
            chain_id,
            key,
            operator,
            #[cfg(feature = "byzantine")]
            byzantine: None,
        })
    }

    /// Makes this validator misbehave as `byzantine` says (fault tests).
    #[cfg(feature = "byzantine")]
    pub fn with_byzantine(mut self, byzantine: Byzantine) -> Self {
        self.byzantine = Some(byzantine);
        self
    }

    /// Makes this validator sign a second, conflicting vote for a made-up
    /// block with every vote it casts: a double-signer, for fault tests.
    /// Refused unless the crate was built with the `byzantine` feature.
    pub fn with_equivocation(self) -> Result<Self, EngineError> {
        #[cfg(feature = "byzantine")]
        {
            Ok(self.with_byzantine(Byzantine {
                equivocate_votes: arc_malachitebft_engine_byzantine::Trigger::Always,
                ..Default::default()
            }))
        }
        #[cfg(not(feature = "byzantine"))]
        {
            Err(EngineError::NoFaultInjection)
        }
    }

    /// This node's consensus address.
    pub fn address(&self) -> Address {
        Address::from_public_key(&self.key.public_key())
    }

    fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            moniker: self.config.moniker.clone(),
            consensus: ConsensusConfig {
                p2p: P2pConfig {
                    listen_addr: self.config.listen_addr(),
                    persistent_peers: self.config.peer_addrs(),
                    ..Default::default()
                },
                ..Default::default()
            },
            value_sync: ValueSyncConfig {
                status_update_interval: Duration::from_secs(1),
                request_timeout: Duration::from_secs(5),
                ..Default::default()
            },
        }
    }

    fn timeouts(&self) -> LinearTimeouts {
        let c = &self.config.consensus;
        LinearTimeouts {
            propose: Duration::from_millis(c.propose_timeout_ms),
            prevote: Duration::from_millis(c.prevote_timeout_ms),
            precommit: Duration::from_millis(c.precommit_timeout_ms),
            rebroadcast: Duration::from_millis(c.rebroadcast_timeout_ms),
            ..LinearTimeouts::default()
        }
    }

    /// Starts the engine's actors.
    async fn start(
        &self,
        home: PathBuf,
    ) -> Result<(Channels<OlContext>, EngineHandle), EngineError> {
        let start = |e: eyre::Report| EngineError::Start(format!("{e:#}"));
        let keypair = Keypair::ed25519_from_bytes(self.key.inner().to_bytes())
            .map_err(|e| EngineError::Start(e.to_string()))?;
        let peer_id = keypair.public().to_peer_id();
        let verifier = Box::new(Ed25519Verifier { chain_id: self.chain_id });
        let address = self.address();
        let (identity, context) = if self.config.validator {
            let public_key = self.key.public_key();
            let signer = Ed25519Signer { key: self.key.clone(), chain_id: self.chain_id };
            // Binds the consensus key to the libp2p peer id (Malachite ADR-006).
            let proof = signer
                .sign_validator_proof(public_key.as_bytes().to_vec(), peer_id.to_bytes())
                .await
                .map_err(|e| EngineError::Start(e.to_string()))?;
            let proof =
                arc_malachitebft_app_channel::app::types::codec::Codec::encode(&OlCodec, &proof)
                    .map_err(|e| EngineError::Start(e.to_string()))?;
            let identity = NetworkIdentity::new_validator(
                self.config.moniker.clone(),
                keypair,
                address.to_string(),
                proof,
            );
            (identity, ConsensusContext::new_validator(address, verifier, Box::new(signer)))
        } else {
            let identity = NetworkIdentity::new(self.config.moniker.clone(), keypair, None);
            (identity, ConsensusContext::new_full_node(address, verifier))
        };
        let wal = WalContext::new(home.join("wal"), OlCodec);
        #[cfg(feature = "byzantine")]
        if let Some(byzantine) = self.byzantine.clone() {
            return arc_malachitebft_app_channel::EngineBuilder::new(
                OlContext,
                self.engine_config(),
            )
            .with_default_wal(wal)
            .with_byzantine_network(arc_malachitebft_app_channel::ByzantineContext {
                identity,
                codec: OlCodec,
                config: byzantine,
                signer: Box::new(Ed25519Signer { key: self.key.clone(), chain_id: self.chain_id }),
                address,
                conflicting_value_fn: None,
                // Every equivocating vote is for a made-up block.
                conflicting_vote_value_fn: Some(Box::new(|_| {
                    crate::context::BlockHash([0xee; 32])
                })),
            })
            .await
            .map_err(start)?
            .with_default_sync(SyncContext::new(OlCodec))
            .with_default_consensus(context)
            .with_default_request(RequestContext::new(100))
            .build()
            .await
            .map_err(start);
        }
        arc_malachitebft_app_channel::start_engine(
            OlContext,
            self.engine_config(),
            wal,
            NetworkContext::new(identity, OlCodec),
            context,
            SyncContext::new(OlCodec),
            RequestContext::new(100),
        )
        .await
        .map_err(start)
    }
}

/// Binds the P2P listen address once and lets it go, so that a port another
/// process holds stops the node at start with a clear error. Malachite's
/// network only logs a failed listen and then runs with no connections at
/// all: the node would sit at its height, silently. Addresses other than
/// `/ip4|ip6/…/tcp|udp/…` (a DNS name, say) are left to Malachite.
fn check_listen(address: &str) -> Result<(), EngineError> {
    let parts: Vec<&str> = address.split('/').collect();
    let (ip, transport, port) = match parts.as_slice() {
        ["", "ip4" | "ip6", ip, transport @ ("tcp" | "udp"), port, ..] => (ip, transport, port),
        _ => return Ok(()),
    };
    let (Ok(ip), Ok(port)) = (ip.parse::<std::net::IpAddr>(), port.parse::<u16>()) else {
        return Ok(());
    };
    let bound = match *transport {
        "tcp" => std::net::TcpListener::bind((ip, port)).map(drop),
        _ => std::net::UdpSocket::bind((ip, port)).map(drop),
    };
    bound.map_err(|source| EngineError::Listen { address: address.to_string(), source })
}

impl Consensus for MalachiteConsensus {
    fn run(self: Box<Self>, chain: Arc<Chain>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            let home = self.config.datadir.join("consensus");
            let (mut channels, engine) = match self.start(home).await {
                Ok(started) => started,
                Err(error) => {
                    tracing::error!(%error, "the validator network did not start; no blocks will be committed");
                    return;
                }
            };
            // Stops the engine's actors when this future ends or is dropped.
            let _engine = StopOnDrop(engine);
            tracing::info!(
                moniker = %self.config.moniker,
                address = %self.address(),
                validator = self.config.validator,
                listen = %self.config.p2p.listen,
                "consensus engine started"
            );
            let signer = self.config.validator.then(|| {
                Arc::new(Ed25519Signer { key: self.key.clone(), chain_id: self.chain_id })
            });
            let app_config = AppConfig {
                chain_id: self.chain_id,
                signer,
                timeouts: self.timeouts(),
                target_time: Some(Duration::from_millis(self.config.consensus.block_time_ms)),
                max_block_transactions: self.config.consensus.max_block_transactions,
            };
            let evidence = EvidenceReporter::new(chain.clone(), self.operator.clone());
            let app = App::new(chain, app_config, evidence);
            if let Err(error) = app.run(&mut channels).await {
                tracing::error!(%error, "consensus stopped; no more blocks will be committed by this node");
            }
        })
    }
}

struct StopOnDrop(EngineHandle);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.actor.stop(None);
        self.0.handle.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_listen_port_is_refused_with_the_address() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = taken.local_addr().expect("bound").port();
        let address = format!("/ip4/127.0.0.1/tcp/{port}");
        let error = check_listen(&address).expect_err("the port is taken");
        assert!(error.to_string().contains(&address), "{error}");
        assert!(error.to_string().contains("p2p.listen"), "{error}");
        drop(taken);
        check_listen(&address).expect("free again");
        // Not this machine's address.
        assert!(check_listen("/ip4/192.0.2.1/tcp/26600").is_err());
        // Left to Malachite.
        check_listen("/dns4/localhost/tcp/26600").expect("not checked");
    }
}
