//! `openledger testnet init` and `run`: the directory `init` writes loads
//! as a network (every config, the genesis, the keys agree, ports are
//! distinct), and hostile input is refused with a sentence and nothing
//! written. Running the network itself is tested in `crates/network`.

use ol_network::config::{
    CONFIG_FILE, CONSENSUS_KEY_FILE, NetworkConfig, OPERATOR_KEY_FILE, consensus_public_key,
    load_consensus_key, load_operator_key,
};
use std::{
    collections::HashSet,
    path::Path,
    process::{Command, Output, Stdio},
};

const BINARY: &str = env!("CARGO_BIN_EXE_openledger");

fn openledger(args: &[&str], dir: &Path) -> Output {
    Command::new(BINARY)
        .args(args)
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn succeeds(args: &[&str], dir: &Path) -> String {
    let output = openledger(args, dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "`{}` failed: {stderr}", args.join(" "));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs a command that must be refused; returns its stderr.
fn refused(args: &[&str], dir: &Path) -> String {
    let output = openledger(args, dir);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "`{}` should have been refused", args.join(" "));
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// Every file under `dir`, with its contents.
fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("the directory is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("the file is readable");
                files.push((path, bytes));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn init_writes_a_network_that_loads() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = root.path().join("net");
    let stdout = succeeds(&["testnet", "init"], &dir);
    assert!(stdout.contains("openledger testnet run --dir"), "{stdout}");
    assert!(stdout.contains("local testing only"), "{stdout}");

    let text = std::fs::read_to_string(dir.join("genesis.json")).expect("genesis.json is written");
    let genesis = ol_ledger::Genesis::from_json(&text).expect("the genesis is valid");
    assert_eq!(genesis.chain_id, 7447);
    assert_eq!(genesis.validators.len(), 4);
    let dev = ol_node::dev::dev_accounts(1)[0].0;
    assert!(genesis.allocations.iter().any(|a| a.address == dev), "dev accounts are funded");

    let mut ports = HashSet::new();
    let mut listens = Vec::new();
    let mut consensus_keys = HashSet::new();
    for i in 0..5 {
        let folder = dir.join(format!("node{i}"));
        let config = NetworkConfig::load(&folder.join(CONFIG_FILE)).expect("the config loads");
        assert_eq!(config.moniker, format!("node{i}"));
        assert_eq!(config.genesis, folder.join("../genesis.json"));
        assert_eq!(config.p2p.peers.len(), 4, "every other node is a peer");
        assert_eq!(config.rpc_peers.len(), 4);
        assert!(!config.p2p.peers.contains(&config.p2p.listen));
        listens.push(config.p2p.listen.clone());
        assert!(ports.insert(config.rpc.port()));
        assert!(ports.insert(config.metrics.expect("metrics are configured").port()));
        let p2p_port = config.p2p.listen.rsplit('/').next().expect("a port").parse::<u16>();
        assert!(ports.insert(p2p_port.expect("a numeric port")));

        let key = load_consensus_key(&config.consensus_key).expect("the consensus key loads");
        let public = consensus_public_key(&key);
        assert!(consensus_keys.insert(public), "consensus keys are distinct");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(folder.join(CONSENSUS_KEY_FILE)).unwrap().permissions();
            assert_eq!(mode.mode() & 0o777, 0o600);
        }
        if i < 4 {
            assert!(config.validator);
            let operator =
                load_operator_key(config.operator_key.as_deref().expect("validators have one"))
                    .expect("the operator key loads");
            let validator = &genesis.validators[i];
            assert_eq!(validator.operator, operator.address());
            assert_eq!(validator.consensus_key, public);
            assert_eq!(validator.moniker, format!("node{i}"));
        } else {
            assert!(!config.validator, "node4 is a follower");
            assert!(config.operator_key.is_none());
            assert!(!folder.join(OPERATOR_KEY_FILE).exists());
            assert!(!genesis.validators.iter().any(|v| v.consensus_key == public));
        }
    }
    assert_eq!(ports.len(), 15);
    assert!(!dir.join("node5").exists());
    for (i, listen) in listens.iter().enumerate() {
        let config = NetworkConfig::load(&dir.join(format!("node{i}")).join(CONFIG_FILE)).unwrap();
        let others: HashSet<_> = listens.iter().filter(|l| *l != listen).cloned().collect();
        assert_eq!(config.p2p.peers.into_iter().collect::<HashSet<_>>(), others);
    }
}

#[test]
fn init_takes_its_options() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = root.path().join("small");
    succeeds(
        &[
            "testnet",
            "init",
            "--validators",
            "1",
            "--followers",
            "0",
            "--chain-id",
            "99",
            "--rpc-port",
            "28545",
            "--stake",
            "20000",
            "--no-dev-accounts",
        ],
        &dir,
    );
    let text = std::fs::read_to_string(dir.join("genesis.json")).unwrap();
    let genesis = ol_ledger::Genesis::from_json(&text).unwrap();
    assert_eq!(genesis.chain_id, 99);
    assert_eq!(genesis.validators.len(), 1);
    assert_eq!(genesis.validators[0].stake, ol_primitives::Amount::from_open(20_000));
    let dev = ol_node::dev::dev_accounts(1)[0].0;
    assert!(!genesis.allocations.iter().any(|a| a.address == dev));
    let config = NetworkConfig::load(&dir.join("node0").join(CONFIG_FILE)).unwrap();
    assert_eq!(config.rpc.port(), 28545);
    assert!(config.p2p.peers.is_empty());
    assert!(!dir.join("node1").exists());
}

#[test]
fn an_existing_directory_is_refused_and_left_alone() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = root.path().join("net");
    succeeds(&["testnet", "init", "--validators", "1", "--followers", "0"], &dir);
    let before = snapshot(&dir);
    let stderr = refused(&["testnet", "init", "--validators", "2"], &dir);
    assert!(stderr.contains("not empty") && stderr.contains("net"), "{stderr}");
    assert_eq!(snapshot(&dir), before, "a refused init changes nothing");

    // --force replaces a testnet…
    succeeds(&["testnet", "init", "--validators", "2", "--followers", "0", "--force"], &dir);
    assert!(dir.join("node1").join(CONFIG_FILE).is_file());
    assert_ne!(snapshot(&dir), before);

    // …but never a directory that holds something else.
    let other = root.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "keep me").unwrap();
    let stderr = refused(&["testnet", "init", "--force"], &other);
    assert!(stderr.contains("refusing"), "{stderr}");
    assert_eq!(std::fs::read_to_string(other.join("notes.txt")).unwrap(), "keep me");

    // An empty directory is fine.
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    succeeds(&["testnet", "init", "--validators", "1", "--followers", "0"], &empty);
    assert!(empty.join("genesis.json").is_file());
}

#[test]
fn malformed_options_are_refused_and_write_nothing() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = root.path().join("net");
    for args in [
        &["testnet", "init", "--validators", "0"][..],
        &["testnet", "init", "--validators", "65"],
        &["testnet", "init", "--validators", "-1"],
        &["testnet", "init", "--followers", "65"],
        &["testnet", "init", "--chain-id", "0"],
        &["testnet", "init", "--chain-id", "seven"],
        &["testnet", "init", "--chain-id", "99999999999999999999999"],
        &["testnet", "init", "--host", "localhost:1"],
        &["testnet", "init", "--host", "0.0.0.0"],
        &["testnet", "init", "--p2p-port", "0"],
        &["testnet", "init", "--p2p-port", "65534"],
        &["testnet", "init", "--rpc-port", "26602"],
        &["testnet", "init", "--stake", "1"],
        &["testnet", "init", "--stake", "18446744073709551615"],
        &["testnet", "init", "--validators", "64", "--stake", "20000000"],
    ] {
        let stderr = refused(args, &dir);
        assert!(!stderr.trim().is_empty(), "{args:?} gave no reason");
        assert!(!dir.exists(), "{args:?} wrote {}", dir.display());
    }
    let leftovers: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "no temporary directory is left behind: {leftovers:?}");

    let file = root.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let stderr = refused(&["testnet", "init"], &file);
    assert!(stderr.contains("not a directory"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn run_without_configs_says_what_to_do() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let stderr = refused(&["testnet", "run"], root.path());
    assert!(stderr.contains("testnet init"), "{stderr}");
    let stderr = refused(&["testnet", "run"], &root.path().join("missing"));
    assert!(stderr.contains("missing") && stderr.contains("testnet init"), "{stderr}");

    // A broken config is named before anything starts.
    let dir = root.path().join("net");
    succeeds(&["testnet", "init", "--validators", "1", "--followers", "0"], &dir);
    std::fs::write(dir.join("node0").join(CONFIG_FILE), "moniker = 1").unwrap();
    let stderr = refused(&["testnet", "run"], &dir);
    assert!(stderr.contains("config.toml"), "{stderr}");
    assert!(!dir.join("node0").join("node.log").exists(), "no node was started");
}

/// `openledger node --network` with a missing or broken config, or with
/// flags that belong to the dev chain, says what is wrong and starts nothing.
#[test]
fn node_network_refuses_bad_configs() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let node = |args: &[&str]| {
        let output =
            Command::new(BINARY).args(args).stdin(Stdio::null()).output().expect("the binary runs");
        assert!(!output.status.success(), "`{}` should have been refused", args.join(" "));
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    };
    let missing = dir.path().join("missing.toml");
    let stderr = node(&["node", "--network", missing.to_str().unwrap()]);
    assert!(stderr.contains("cannot read") && stderr.contains("missing.toml"), "{stderr}");

    let broken = dir.path().join("config.toml");
    std::fs::write(&broken, "moniker = \"x\"\n[p2p]\nlisten = \"nowhere\"\n").unwrap();
    let stderr = node(&["node", "--network", broken.to_str().unwrap()]);
    assert!(stderr.contains("config.toml"), "{stderr}");

    let stderr = node(&["node", "--network", broken.to_str().unwrap(), "--dev"]);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    let stderr = node(&["node", "--fault", "equivocate"]);
    assert!(stderr.contains("--network"), "{stderr}");
    // A config whose genesis does not exist.
    succeeds(
        &["testnet", "init", "--validators", "1", "--followers", "0"],
        &dir.path().join("net"),
    );
    std::fs::remove_file(dir.path().join("net").join("genesis.json")).unwrap();
    let config = dir.path().join("net").join("node0").join(CONFIG_FILE);
    let stderr = node(&["node", "--network", config.to_str().unwrap()]);
    assert!(stderr.contains("genesis"), "{stderr}");
    assert!(!dir.path().join("net").join("node0").join("data").exists(), "nothing written");

    // A P2P port another process holds: refused at start, not a node that
    // runs without peers.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = taken.local_addr().expect("bound").port().to_string();
    let net = dir.path().join("taken");
    succeeds(
        &["testnet", "init", "--validators", "1", "--followers", "0", "--p2p-port", &port],
        &net,
    );
    let config = net.join("node0").join(CONFIG_FILE);
    let stderr = node(&["node", "--network", config.to_str().unwrap()]);
    assert!(stderr.contains(&format!("/ip4/127.0.0.1/tcp/{port}")), "{stderr}");
    assert!(stderr.contains("p2p.listen"), "{stderr}");
    assert!(!net.join("node0").join("data").exists(), "nothing written");
    drop(taken);
}
