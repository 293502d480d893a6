//! `openledger testnet`: a local validator network on one machine.
//!
//! `testnet init` writes a directory with one genesis file and one folder per
//! node (`node0` … `nodeN`): validators get a fresh operator key (secp256k1,
//! funded with their stake plus gas money and bonded at genesis) and a fresh
//! consensus key (ed25519); followers only a consensus key, their network
//! identity. Every node's `config.toml` lists every other node as a peer.
//! The tree is built in a temporary directory beside the target and renamed
//! into place, so a refused or failed call leaves nothing behind.
//!
//! `testnet run` starts `openledger node --network nodeI/config.toml` for
//! every node, each logging to `nodeI/node.log`, and stops them all on
//! Ctrl-C, SIGTERM, or when one of them exits.

use crate::keystore::write_private_file;
use alloy_signer_local::PrivateKeySigner;
use clap::{Args, Subcommand};
use eyre::{WrapErr, bail, eyre};
use ol_network::config::{
    CONFIG_FILE, CONSENSUS_KEY_FILE, ConsensusTuning, NetworkConfig, OPERATOR_KEY_FILE, P2pConfig,
    consensus_public_key, generate_consensus_key, write_consensus_key,
};
use ol_node::dev::{DEV_ACCOUNT_OPEN, DEV_ACCOUNTS, DEV_RESERVE, FORTY_EIGHT_MONTHS, dev_accounts};
use ol_primitives::TOTAL_SUPPLY_OPEN;
use serde_json::json;
use std::{
    collections::HashSet,
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    time::Duration,
};

/// Most validators (and most followers) `testnet init` writes.
const MAX_NODES: u16 = 64;
/// OPEN each validator operator gets on top of its stake, for gas.
const OPERATOR_GAS_OPEN: u64 = 1_000;
/// The genesis file's name inside the testnet directory.
const GENESIS_FILE: &str = "genesis.json";
/// Each node's log file inside its folder.
const LOG_FILE: &str = "node.log";
/// How long `testnet run` waits for a node to stop before killing it.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// `openledger testnet …`
#[derive(Debug, Subcommand)]
pub(crate) enum TestnetCommand {
    /// Write keys, a genesis and node configurations for a local validator network.
    Init(Box<InitArgs>),
    /// Run every node of a testnet directory until Ctrl-C.
    Run(RunArgs),
}

/// `openledger testnet init`
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Number of validators (bonded at genesis).
    #[arg(long, default_value_t = 4, value_parser = node_count(1))]
    validators: u16,
    /// Number of non-voting nodes that follow the chain.
    #[arg(long, default_value_t = 1, value_parser = node_count(0))]
    followers: u16,
    /// Directory to create (must not exist, or be empty).
    #[arg(long)]
    dir: PathBuf,
    /// EIP-155 chain id.
    #[arg(long, default_value_t = 7447, value_parser = clap::value_parser!(u64).range(1..))]
    chain_id: u64,
    /// Address every node listens on and dials the others at.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// P2P port of node0 (node i listens on this + i).
    #[arg(long, default_value_t = 26600, value_parser = clap::value_parser!(u16).range(1..))]
    p2p_port: u16,
    /// JSON-RPC port of node0 (node i serves on this + i).
    #[arg(long, default_value_t = 18545, value_parser = clap::value_parser!(u16).range(1..))]
    rpc_port: u16,
    /// Metrics port of node0 (node i serves on this + i).
    #[arg(long, default_value_t = 19100, value_parser = clap::value_parser!(u16).range(1..))]
    metrics_port: u16,
    /// OPEN each validator bonds at genesis (whole OPEN).
    #[arg(long, default_value_t = 100_000)]
    stake: u64,
    /// Do not fund the well-known dev accounts.
    #[arg(long)]
    no_dev_accounts: bool,
    /// Replace an existing testnet directory (its chain data is deleted).
    #[arg(long)]
    force: bool,
}

/// A number of nodes from `least` to [`MAX_NODES`].
fn node_count(least: i64) -> clap::builder::RangedI64ValueParser<u16> {
    clap::value_parser!(u16).range(least..=i64::from(MAX_NODES))
}

/// `openledger testnet run`
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// A directory written by `openledger testnet init`.
    #[arg(long)]
    dir: PathBuf,
}

/// Runs a `testnet` subcommand.
pub(crate) async fn run(command: TestnetCommand) -> eyre::Result<()> {
    match command {
        TestnetCommand::Init(args) => init(&args),
        TestnetCommand::Run(args) => run_nodes(&args.dir).await,
    }
}

/// One node of the testnet being written.
struct Node {
    name: String,
    /// The public half of its consensus key.
    consensus_public: alloy_primitives::B256,
    /// Its consensus address (validator address in votes and logs).
    consensus_address: String,
    /// `Some` for validators.
    operator: Option<PrivateKeySigner>,
    p2p: String,
    rpc: SocketAddr,
    metrics: SocketAddr,
}

fn init(args: &InitArgs) -> eyre::Result<()> {
    let dir = &args.dir;
    let replace = check_target(dir, args.force)?;
    if args.host.is_unspecified() {
        bail!(
            "--host {}: nodes dial each other at this address; give one they can reach",
            args.host
        );
    }
    let count = args.validators + args.followers;
    let ports = |name: &str, base: u16| -> eyre::Result<Vec<u16>> {
        (0..count)
            .map(|i| {
                base.checked_add(i).ok_or_else(|| {
                    eyre!(
                        "--{name} {base}: {count} nodes need ports up to {}, above 65535",
                        u32::from(base) + u32::from(count) - 1
                    )
                })
            })
            .collect()
    };
    let (p2p_ports, rpc_ports, metrics_ports) = (
        ports("p2p-port", args.p2p_port)?,
        ports("rpc-port", args.rpc_port)?,
        ports("metrics-port", args.metrics_port)?,
    );
    let mut seen = HashSet::new();
    for port in p2p_ports.iter().chain(&rpc_ports).chain(&metrics_ports) {
        if !seen.insert(*port) {
            bail!(
                "port {port} would be used twice: the P2P, RPC and metrics ranges \
                 ({count} ports each from --p2p-port, --rpc-port, --metrics-port) overlap"
            );
        }
    }

    // The keys' type is Malachite's; this crate does not name it.
    let consensus_keys: Vec<_> = (0..count).map(|_| generate_consensus_key()).collect();
    let nodes: Vec<Node> = consensus_keys
        .iter()
        .zip(0..count)
        .map(|(key, i)| {
            let i_usize = usize::from(i);
            Node {
                name: format!("node{i}"),
                consensus_public: consensus_public_key(key),
                consensus_address: ol_network::context::Address::from_public_key(&key.public_key())
                    .to_string(),
                operator: (i < args.validators).then(PrivateKeySigner::random),
                p2p: multiaddr(args.host, p2p_ports[i_usize]),
                rpc: SocketAddr::new(args.host, rpc_ports[i_usize]),
                metrics: SocketAddr::new(args.host, metrics_ports[i_usize]),
            }
        })
        .collect();
    let genesis = genesis_json(args, &nodes)?;
    ol_ledger::Genesis::from_json(&genesis).wrap_err("the testnet genesis is not valid")?;

    // Build the tree beside the target, then move it into place.
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)
        .wrap_err_with(|| format!("cannot create {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".testnet-")
        .tempdir_in(parent)
        .wrap_err_with(|| format!("cannot create a temporary directory in {}", parent.display()))?;
    write_tree(staging.path(), &nodes, &genesis)?;
    for (node, key) in nodes.iter().zip(&consensus_keys) {
        let path = staging.path().join(&node.name).join(CONSENSUS_KEY_FILE);
        write_consensus_key(&path, key)?;
    }
    match replace {
        Replace::Nothing => {}
        Replace::Empty => std::fs::remove_dir(dir)
            .wrap_err_with(|| format!("cannot replace {}", dir.display()))?,
        Replace::Testnet => std::fs::remove_dir_all(dir)
            .wrap_err_with(|| format!("cannot delete the old testnet in {}", dir.display()))?,
    }
    std::fs::rename(staging.path(), dir)
        .wrap_err_with(|| format!("cannot move the new testnet to {}", dir.display()))?;
    let _ = staging.keep();

    print_summary(args, &nodes);
    Ok(())
}

/// What is at the target directory now.
enum Replace {
    /// Nothing.
    Nothing,
    /// An empty directory.
    Empty,
    /// A testnet, replaced because of `--force`.
    Testnet,
}

/// Checks that `dir` may be written; nothing is changed.
fn check_target(dir: &Path, force: bool) -> eyre::Result<Replace> {
    let metadata = match std::fs::symlink_metadata(dir) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Replace::Nothing),
        Err(e) => return Err(e).wrap_err_with(|| format!("cannot read {}", dir.display())),
    };
    if !metadata.is_dir() {
        bail!("{} exists and is not a directory", dir.display());
    }
    let mut entries =
        std::fs::read_dir(dir).wrap_err_with(|| format!("cannot read {}", dir.display()))?;
    if entries.next().is_none() {
        return Ok(Replace::Empty);
    }
    if !force {
        bail!(
            "{} is not empty; choose another --dir, or pass --force to replace the testnet in it",
            dir.display()
        );
    }
    if !dir.join(GENESIS_FILE).is_file() {
        bail!(
            "{} is not empty and holds no testnet ({GENESIS_FILE}); \
             refusing to delete it, even with --force",
            dir.display()
        );
    }
    Ok(Replace::Testnet)
}

fn multiaddr(host: IpAddr, port: u16) -> String {
    match host {
        IpAddr::V4(ip) => format!("/ip4/{ip}/tcp/{port}"),
        IpAddr::V6(ip) => format!("/ip6/{ip}/tcp/{port}"),
    }
}

/// The genesis file: operators, validators, dev accounts, the rest in a reserve.
fn genesis_json(args: &InitArgs, nodes: &[Node]) -> eyre::Result<String> {
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .wrap_err("the system clock is before 1970")?
        .as_secs();
    let operator_open = args.stake.checked_add(OPERATOR_GAS_OPEN);
    let mut allocations = Vec::new();
    let mut validators = Vec::new();
    let mut allocated: Option<u64> = Some(0);
    for node in nodes {
        let Some(operator) = &node.operator else { continue };
        let amount = operator_open.ok_or_else(|| eyre!("--stake {} is too large", args.stake))?;
        allocated = allocated.and_then(|total| total.checked_add(amount));
        allocations.push(json!({
            "name": format!("{} operator", node.name),
            "address": operator.address().to_string(),
            "amount": amount.to_string(),
        }));
        validators.push(json!({
            "operator": operator.address().to_string(),
            "consensusKey": node.consensus_public.to_string(),
            "moniker": node.name,
            "stake": args.stake.to_string(),
        }));
    }
    if !args.no_dev_accounts {
        for (i, (address, _)) in dev_accounts(DEV_ACCOUNTS).into_iter().enumerate() {
            allocated = allocated.and_then(|total| total.checked_add(DEV_ACCOUNT_OPEN));
            allocations.push(json!({
                "name": format!("dev account {i}"),
                "address": address.to_string(),
                "amount": DEV_ACCOUNT_OPEN.to_string(),
            }));
        }
    }
    let reserve = allocated.and_then(|total| TOTAL_SUPPLY_OPEN.checked_sub(total)).ok_or_else(|| {
        eyre!(
            "--stake {}: {} validators would need more than the supply of {TOTAL_SUPPLY_OPEN} OPEN",
            args.stake,
            args.validators
        )
    })?;
    if reserve > 0 {
        allocations.push(json!({
            "name": "testnet reserve (48 months linear)",
            "address": DEV_RESERVE.to_string(),
            "amount": reserve.to_string(),
            "vesting": { "cliffSeconds": 0, "linearSeconds": FORTY_EIGHT_MONTHS },
        }));
    }
    let genesis = json!({
        "chainId": args.chain_id,
        "timestamp": timestamp,
        "allocations": allocations,
        "validators": validators,
    });
    Ok(serde_json::to_string_pretty(&genesis).expect("a JSON value serializes"))
}

/// Writes the genesis, operator keys and configurations under `root`
/// (the consensus keys are written by the caller).
fn write_tree(root: &Path, nodes: &[Node], genesis: &str) -> eyre::Result<()> {
    let genesis_path = root.join(GENESIS_FILE);
    std::fs::write(&genesis_path, genesis)
        .wrap_err_with(|| format!("cannot write {}", genesis_path.display()))?;
    for node in nodes {
        let folder = root.join(&node.name);
        std::fs::create_dir(&folder)
            .wrap_err_with(|| format!("cannot create {}", folder.display()))?;
        if let Some(operator) = &node.operator {
            let secret = format!("{}\n", operator.to_bytes());
            write_private_file(&folder.join(OPERATOR_KEY_FILE), secret.as_bytes())?;
        }
        let others = nodes.iter().filter(|other| other.name != node.name);
        let config = NetworkConfig {
            moniker: node.name.clone(),
            genesis: Path::new("..").join(GENESIS_FILE),
            datadir: PathBuf::from("data"),
            consensus_key: PathBuf::from(CONSENSUS_KEY_FILE),
            validator: node.operator.is_some(),
            operator_key: node.operator.as_ref().map(|_| PathBuf::from(OPERATOR_KEY_FILE)),
            rpc: node.rpc,
            metrics: Some(node.metrics),
            rpc_peers: others.clone().map(|other| format!("http://{}", other.rpc)).collect(),
            p2p: P2pConfig {
                listen: node.p2p.clone(),
                peers: others.map(|other| other.p2p.clone()).collect(),
            },
            consensus: ConsensusTuning::default(),
        };
        config.write(&folder.join(CONFIG_FILE))?;
    }
    Ok(())
}

fn print_summary(args: &InitArgs, nodes: &[Node]) {
    let dir = args.dir.display();
    let mut out = format!(
        "\nTestnet written to {dir}: chain id {}, {} validator(s) with {} OPEN bonded each, \
         {} follower(s)\n\n",
        args.chain_id, args.validators, args.stake, args.followers
    );
    out.push_str(&format!(
        "{:<7} {:<10} {:<40} {:<42} {}\n",
        "NODE", "ROLE", "CONSENSUS ADDRESS", "OPERATOR", "RPC"
    ));
    for node in nodes {
        let (role, operator) = match &node.operator {
            Some(operator) => ("validator", operator.address().to_string()),
            None => ("follower", "-".to_string()),
        };
        out.push_str(&format!(
            "{:<7} {:<10} {:<40} {:<42} http://{}\n",
            node.name, role, node.consensus_address, operator, node.rpc
        ));
    }
    if args.no_dev_accounts {
        out.push_str("\nNo dev accounts are funded (--no-dev-accounts).\n");
    } else {
        out.push_str(&format!(
            "\nWARNING: the {DEV_ACCOUNTS} well-known dev accounts \
             (mnemonic \"test test … junk\") \
             hold {DEV_ACCOUNT_OPEN} OPEN each.\nTheir keys are public: use this network for local \
             testing only.\n"
        ));
    }
    out.push_str(&format!(
        "\nKeys are in {dir}/nodeI/ ({CONSENSUS_KEY_FILE}, {OPERATOR_KEY_FILE}); configurations in \
         {dir}/nodeI/{CONFIG_FILE}.\nStart the network with:\n\n    \
         openledger testnet run --dir {dir}\n"
    ));
    println!("{out}");
}

/// A node `testnet run` started.
struct Running {
    name: String,
    log: PathBuf,
    child: tokio::process::Child,
}

/// The `node{i}/config.toml` files of `dir`, in node order.
fn find_configs(dir: &Path) -> eyre::Result<Vec<(u32, PathBuf)>> {
    let entries = std::fs::read_dir(dir).wrap_err_with(|| {
        format!(
            "cannot read the testnet directory {} \
             (create one with `openledger testnet init --dir {}`)",
            dir.display(),
            dir.display()
        )
    })?;
    let mut configs = Vec::new();
    for entry in entries {
        let entry = entry.wrap_err_with(|| format!("cannot read {}", dir.display()))?;
        let name = entry.file_name();
        let Some(number) = name.to_str().and_then(|n| n.strip_prefix("node")) else { continue };
        let Ok(number) = number.parse::<u32>() else { continue };
        let config = entry.path().join(CONFIG_FILE);
        if config.is_file() {
            configs.push((number, config));
        }
    }
    configs.sort();
    if configs.is_empty() {
        bail!(
            "{} holds no node*/{CONFIG_FILE}; \
             create a testnet with `openledger testnet init --dir {}`",
            dir.display(),
            dir.display()
        );
    }
    Ok(configs)
}

async fn run_nodes(dir: &Path) -> eyre::Result<()> {
    let configs = find_configs(dir)?;
    let loaded = configs
        .iter()
        .map(|(_, path)| NetworkConfig::load(path).map(|config| (path, config)))
        .collect::<Result<Vec<_>, _>>()?;
    let binary = std::env::current_exe().wrap_err("cannot find the openledger binary")?;

    let mut nodes = Vec::with_capacity(loaded.len());
    for (path, config) in &loaded {
        let folder = path.parent().unwrap_or(Path::new("."));
        let log = folder.join(LOG_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .wrap_err_with(|| format!("cannot open {}", log.display()))?;
        let stderr = file.try_clone().wrap_err_with(|| format!("cannot open {}", log.display()))?;
        let child = tokio::process::Command::new(&binary)
            .arg("node")
            .arg("--network")
            .arg(path)
            // The log is a file: no colour codes in it.
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(e) => {
                stop_all(&mut nodes, None).await;
                return Err(e).wrap_err_with(|| format!("cannot start {}", config.moniker));
            }
        };
        println!("{:<7} http://{:<22} log {}", config.moniker, config.rpc, log.display());
        nodes.push(Running { name: config.moniker.clone(), log, child });
    }
    println!("\n{} node(s) running; Ctrl-C stops them.", nodes.len());

    let shutdown = crate::node_cmd::wait_for_shutdown();
    tokio::pin!(shutdown);
    let exited = loop {
        tokio::select! {
            _ = &mut shutdown => break None,
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                if let Some(exit) = first_exited(&mut nodes) {
                    break Some(exit);
                }
            }
        }
    };
    if let Some((index, status)) = &exited {
        let node = &nodes[*index];
        eprintln!(
            "{} exited ({}); stopping the others. See {}",
            node.name,
            describe(status),
            node.log.display()
        );
    } else {
        println!("stopping {} node(s)", nodes.len());
    }
    let failed = stop_all(&mut nodes, exited.as_ref().map(|(index, _)| *index)).await;
    if let Some((index, status)) = exited {
        bail!(
            "{} exited on its own ({}); see {}",
            nodes[index].name,
            describe(&status),
            nodes[index].log.display()
        );
    }
    if !failed.is_empty() {
        bail!("{} did not stop cleanly; see their node.log", failed.join(", "));
    }
    Ok(())
}

fn first_exited(nodes: &mut [Running]) -> Option<(usize, ExitStatus)> {
    nodes.iter_mut().enumerate().find_map(|(index, node)| {
        node.child.try_wait().ok().flatten().map(|status| (index, status))
    })
}

fn describe(status: &ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => status.to_string(),
    }
}

/// Asks every running node to stop (SIGTERM), kills those still running
/// after [`STOP_GRACE`], and waits for all; returns the names of those that
/// failed or had to be killed (`reported`, one that already exited and was
/// reported, is left out).
async fn stop_all(nodes: &mut [Running], reported: Option<usize>) -> Vec<String> {
    for node in nodes.iter_mut() {
        if matches!(node.child.try_wait(), Ok(None)) {
            terminate(&mut node.child);
        }
    }
    let mut failed = Vec::new();
    for (index, node) in nodes.iter_mut().enumerate() {
        if Some(index) == reported {
            continue;
        }
        let status = match tokio::time::timeout(STOP_GRACE, node.child.wait()).await {
            Ok(status) => status,
            Err(_) => {
                eprintln!(
                    "{} did not stop within {} s; killing it",
                    node.name,
                    STOP_GRACE.as_secs()
                );
                let _ = node.child.start_kill();
                failed.push(node.name.clone());
                let _ = node.child.wait().await;
                continue;
            }
        };
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => {
                eprintln!("{} stopped with {}", node.name, describe(&status));
                failed.push(node.name.clone());
            }
            Err(e) => {
                eprintln!("cannot wait for {}: {e}", node.name);
                failed.push(node.name.clone());
            }
        }
    }
    failed
}

/// Sends SIGTERM (a node's clean shutdown) where there is one; kills otherwise.
fn terminate(child: &mut tokio::process::Child) {
    #[cfg(unix)]
    if let Some(pid) = child.id() {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if sent {
            return;
        }
    }
    let _ = child.start_kill();
}
