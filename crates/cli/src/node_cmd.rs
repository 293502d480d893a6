//! `openledger node`: runs a node (the lead engineer owns this file).

use clap::Args;
use ol_node::{GenesisSource, NodeConfig, NodeHandle, dev};
use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

/// Flags of `openledger node`, following reth/geth conventions.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Run a single-node development chain: the built-in dev genesis with
    /// funded test accounts, blocks sealed locally.
    #[arg(long)]
    pub dev: bool,
    /// Directory for the chain database and node files.
    #[arg(long = "datadir", default_value = ".openledger", value_name = "DIR")]
    pub datadir: PathBuf,
    /// Genesis file (JSON). Defaults to the dev genesis with --dev.
    #[arg(long = "chain", value_name = "GENESIS.json")]
    pub chain: Option<PathBuf>,
    /// Address the HTTP (and WebSocket) JSON-RPC server listens on.
    #[arg(long = "http.addr", default_value = "127.0.0.1")]
    pub http_addr: IpAddr,
    /// Port of the HTTP JSON-RPC server; it also accepts WebSocket upgrades.
    #[arg(long = "http.port", default_value_t = 8545)]
    pub http_port: u16,
    /// Extra port for WebSocket JSON-RPC (subscriptions); off unless given.
    #[arg(long = "ws.port")]
    pub ws_port: Option<u16>,
    /// Seconds between blocks; 0 seals one block per transaction on arrival.
    #[arg(long = "block-time", default_value_t = 1)]
    pub block_time: u64,
    /// Serve Prometheus metrics at this address (e.g. 127.0.0.1:9001).
    #[arg(long = "metrics", value_name = "ADDR:PORT")]
    pub metrics: Option<std::net::SocketAddr>,
    /// Serve the registered models that list this provider over the
    /// OpenAI-compatible API (`/v1`), settling as this account. Default with
    /// --dev: dev account 0.
    #[arg(long = "provider-key", value_name = "HEX", env = "OPENLEDGER_PROVIDER_KEY")]
    pub provider_key: Option<alloy_primitives::B256>,
    /// Serve no models (no `/v1` API).
    #[arg(long = "no-serve", conflicts_with = "provider_key")]
    pub no_serve: bool,
    /// Memory budget of the LoRA adapter cache, in MiB.
    #[arg(long = "adapter-cache-mib", default_value_t = 256)]
    pub adapter_cache_mib: usize,
    /// JSON-RPC URL of a peer node (repeatable): accepted transactions are
    /// forwarded to it, and contribution bytes this node lacks are fetched
    /// from its blob route.
    #[arg(long = "peer", value_name = "URL")]
    pub peers: Vec<ol_node::gossip::PeerUrl>,
    /// Seal no blocks: pool transactions and forward them to the peers
    /// (a relay in front of the node that seals).
    #[arg(long = "no-seal", requires = "peers")]
    pub no_seal: bool,
    /// Run as a node of a validator network, as described by this
    /// `config.toml` (written by `openledger testnet init`): its genesis,
    /// keys, data directory, RPC and peer addresses all come from the file.
    #[arg(long = "network", value_name = "CONFIG.toml", conflicts_with_all = ["dev", "chain", "peers", "no_seal", "datadir"])]
    pub network: Option<PathBuf>,
    /// Fault injection for the network's own tests (hidden): `equivocate`
    /// makes this validator double-sign every vote. Only in builds with
    /// ol-network's `byzantine` feature (the test build).
    #[arg(long = "fault", value_name = "KIND", requires = "network", hide = true, value_parser = ["equivocate"])]
    pub fault: Option<String>,
    /// Largest `max_tokens` an inference request may ask for.
    #[arg(long = "max-tokens", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_tokens: u32,
}

/// Runs the node until Ctrl-C or SIGTERM.
pub async fn run(args: NodeArgs) -> eyre::Result<()> {
    use eyre::WrapErr;
    if let Some(path) = &args.network {
        return run_network(path, args.fault.as_deref()).await;
    }
    if !args.dev {
        eyre::bail!(
            "start the single-node dev chain with `openledger node --dev`, or a validator network node with `openledger node --network CONFIG.toml` (`openledger testnet init` writes them)"
        );
    }
    let genesis = match &args.chain {
        Some(path) => GenesisSource::File(path.clone()),
        None => GenesisSource::Dev,
    };
    let config = NodeConfig {
        datadir: args.datadir.clone(),
        genesis,
        dev: args.dev,
        http: SocketAddr::new(args.http_addr, args.http_port),
        ws: args.ws_port.map(|port| SocketAddr::new(args.http_addr, port)),
        block_time: Duration::from_secs(args.block_time),
        metrics: args.metrics,
        serving: serving(&args),
        peers: args.peers.clone(),
        seal: !args.no_seal,
    };
    let node = ol_node::launch(config).await.wrap_err("the node could not start")?;
    print_banner(&args, &node);
    wait_for_shutdown().await;
    tracing::info!("shutting down");
    node.stop().await;
    Ok(())
}

/// Runs a validator network node until Ctrl-C or SIGTERM.
async fn run_network(path: &std::path::Path, fault: Option<&str>) -> eyre::Result<()> {
    use eyre::WrapErr;
    let network = ol_network::NetworkConfig::load(path)?;
    let genesis = GenesisSource::File(network.genesis.clone());
    let chain_id = genesis.load().wrap_err("the node could not start")?.chain_id;
    let peers = network
        .rpc_peers
        .iter()
        .map(|url| url.parse())
        .collect::<Result<Vec<ol_node::gossip::PeerUrl>, _>>()
        .map_err(|e| eyre::eyre!("{}: rpc_peers: {e}", path.display()))?;
    let config = NodeConfig {
        datadir: network.datadir.clone(),
        genesis,
        dev: false,
        http: network.rpc,
        ws: None,
        block_time: Duration::from_millis(network.consensus.block_time_ms),
        metrics: network.metrics,
        serving: None,
        peers,
        seal: true,
    };
    let moniker = network.moniker.clone();
    let mut consensus = ol_network::MalachiteConsensus::new(network.clone(), chain_id)?;
    if fault == Some("equivocate") {
        tracing::warn!("fault injection: this validator double-signs every vote");
        consensus = consensus.with_equivocation()?;
    }
    let address = consensus.address();
    let node = ol_node::launch_with_consensus(config, Box::new(consensus))
        .await
        .wrap_err("the node could not start")?;
    let head = node.chain.head();
    println!(
        "\nOpenLedger network node {moniker}\n  chain id {chain_id}, head block {} ({})\n  consensus address {address} ({}), p2p {}\n  JSON-RPC http://{}\n",
        head.number(),
        head.hash,
        if network.validator { "validator" } else { "follower" },
        network.p2p.listen,
        node.http,
    );
    wait_for_shutdown().await;
    tracing::info!("shutting down");
    node.stop().await;
    Ok(())
}

/// The serving configuration the flags ask for.
fn serving(args: &NodeArgs) -> Option<ol_node::serving::ServingConfig> {
    if args.no_serve {
        return None;
    }
    let key = args.provider_key.or_else(|| dev::dev_accounts(1).first().map(|(_, key)| *key))?;
    let mut config = ol_node::serving::ServingConfig::new(key);
    config.adapter_budget_bytes = args.adapter_cache_mib.saturating_mul(1 << 20);
    config.max_tokens = args.max_tokens;
    Some(config)
}

/// What a developer needs to start: chain id, endpoints, funded accounts.
fn print_banner(args: &NodeArgs, node: &NodeHandle) {
    let chain = &node.chain;
    let genesis = chain.genesis();
    let head = chain.head();
    let mut out = String::new();
    out.push_str("\nOpenLedger dev chain\n====================\n\n");
    out.push_str(&format!("Chain ID:        {}\n", genesis.chain_id));
    out.push_str(&format!("Data directory:  {}\n", args.datadir.display()));
    out.push_str(&format!("Head block:      {} ({})\n", head.number(), head.hash));
    out.push_str(&format!("JSON-RPC (HTTP): http://{}\n", node.http));
    out.push_str(&format!("JSON-RPC (WS):   ws://{}\n", node.ws.unwrap_or(node.http)));
    if let Some(metrics) = node.metrics {
        out.push_str(&format!("Metrics:         http://{metrics}/metrics\n"));
    }
    let sealing = if args.no_seal {
        "none (--no-seal): transactions are forwarded to the peers".to_string()
    } else if args.block_time == 0 {
        "one block per transaction".to_string()
    } else {
        format!("every {} s", args.block_time)
    };
    out.push_str(&format!("Block sealing:   {sealing}\n"));
    for peer in &args.peers {
        out.push_str(&format!("Peer:            {peer}\n"));
    }
    if args.chain.is_none() {
        out.push_str(&format!(
            "\nAvailable Accounts ({} OPEN each)\n==================\n",
            dev::DEV_ACCOUNT_OPEN
        ));
        let accounts = dev::dev_accounts(dev::DEV_ACCOUNTS);
        for (i, (address, _)) in accounts.iter().enumerate() {
            out.push_str(&format!("({i}) {address}\n"));
        }
        out.push_str("\nPrivate Keys\n==================\n");
        for (i, (_, key)) in accounts.iter().enumerate() {
            out.push_str(&format!("({i}) {key}\n"));
        }
        out.push_str(&format!(
            "\nWallet\n==================\nMnemonic:        {}\nDerivation path: m/44'/60'/0'/0/\n",
            dev::DEV_MNEMONIC
        ));
    }
    if let Some(provider) = &node.provider {
        out.push_str(&format!(
            "\nInference API:   http://{}/v1 (OpenAI-compatible), provider {provider}\n",
            node.http
        ));
    }
    println!("{out}");
    println!("Listening on {}", node.http);
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn wait_for_shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
