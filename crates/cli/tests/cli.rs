//! End-to-end tests of the `openledger` binary: its processes are run as a
//! user runs them, against a real JSON-RPC node.
//!
//! The node is started by [`start_node`], which returns its URL; which
//! implementation serves is chosen by `OPENLEDGER_TEST_NODE`:
//! - `openledger` (the default): this binary's own `openledger node --dev`;
//! - `anvil`: Foundry's anvil, found at
//!   `$OPENLEDGER_ANVIL`, else `tests/interop/node_modules/.bin/anvil`, else
//!   installed by `scripts/install-interop-deps` (whose last line is
//!   `ANVIL=<path>`) — to check that the CLI is an ordinary Ethereum client.
//!
//! When anvil can be neither found nor installed, the tests that need a node
//! print a loud SKIPPED banner and pass, unless `OPENLEDGER_REQUIRE_NODE=1`
//! makes that a failure (for CI). Tests of bad input that is refused before
//! any request need no node.

use std::{
    io::{BufRead, BufReader, Write},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{OnceLock, mpsc},
    thread,
    time::{Duration, Instant},
};

const BINARY: &str = env!("CARGO_BIN_EXE_openledger");

/// Development account 0 of the test mnemonic, funded on anvil and on
/// `openledger node --dev`.
const DEV_ACCOUNT_0: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
/// Development account 1's address and private key.
const DEV_ACCOUNT_1: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const DEV_KEY_1: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// A valid private key whose account holds nothing.
const UNFUNDED_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

const RECEIPT_TIMEOUT: &str = "60";

// ---------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------

/// What one run of the binary did.
#[derive(Debug)]
struct Outcome {
    output: Output,
    command: String,
}

impl Outcome {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Asserts success and returns stdout.
    fn success(&self) -> String {
        assert!(
            self.output.status.success(),
            "`{}` failed ({}):\nstdout: {}\nstderr: {}",
            self.command,
            self.output.status,
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }

    /// Asserts a non-zero exit with a one-sentence error (no Debug dump, no
    /// panic) and returns stderr.
    fn failure(&self) -> String {
        let stderr = self.stderr();
        assert!(
            !self.output.status.success(),
            "`{}` should have failed:\nstdout: {}\nstderr: {stderr}",
            self.command,
            self.stdout()
        );
        assert!(
            stderr.starts_with("error: "),
            "`{}`: stderr should start with 'error: ':\n{stderr}",
            self.command
        );
        for dump in
            ["panicked", "Error {", "Call(", "ErrorObject", "Os {", "Custom {", "Transport("]
        {
            assert!(
                !stderr.contains(dump),
                "`{}`: stderr holds a Debug dump or panic ({dump:?}):\n{stderr}",
                self.command
            );
        }
        stderr
    }
}

/// Runs `openledger ARGS` with a clean environment: no OPENLEDGER_* variable
/// leaks in from the developer's shell.
fn openledger(arguments: &[&str]) -> Outcome {
    run_with(arguments, &[], None)
}

fn run_with(arguments: &[&str], environment: &[(&str, &str)], stdin: Option<&str>) -> Outcome {
    let mut command = Command::new(BINARY);
    command.args(arguments);
    for variable in ["OPENLEDGER_RPC_URL", "OPENLEDGER_KEYSTORE", "OPENLEDGER_PASSWORD", "RUST_LOG"]
    {
        command.env_remove(variable);
    }
    command.envs(environment.iter().copied());
    command
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the openledger binary starts");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin was piped above");
        pipe.write_all(text.as_bytes()).expect("stdin accepts the input");
    }
    let output = child.wait_with_output().expect("the openledger binary runs");
    Outcome { output, command: format!("openledger {}", arguments.join(" ")) }
}

/// A URL where nothing listens: a port the OS just handed out and took back.
fn unreachable_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("a bound address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A keystore directory and password file in a fresh temporary directory.
struct TestKeystore {
    directory: tempfile::TempDir,
}

impl TestKeystore {
    fn new() -> Self {
        let directory = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(directory.path().join("password"), "correct horse battery\n")
            .expect("the password file is written");
        std::fs::write(directory.path().join("wrong-password"), "wrong\n")
            .expect("the password file is written");
        Self { directory }
    }

    fn keystore(&self) -> String {
        self.directory.path().join("keystore").display().to_string()
    }

    fn password_file(&self) -> String {
        self.directory.path().join("password").display().to_string()
    }

    fn wrong_password_file(&self) -> String {
        self.directory.path().join("wrong-password").display().to_string()
    }

    /// Imports `key`, returning the printed address.
    fn import(&self, key: &str) -> String {
        let keystore = self.keystore();
        let password = self.password_file();
        let arguments = [
            "keys",
            "import",
            "--private-key",
            key,
            "--keystore",
            &keystore,
            "--password-file",
            &password,
        ];
        openledger(&arguments).success().trim().to_string()
    }
}

// ---------------------------------------------------------------------------
// The node under test
// ---------------------------------------------------------------------------

/// Which implementation serves JSON-RPC to the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Anvil,
    OpenLedger,
}

impl NodeKind {
    fn from_environment() -> Self {
        match std::env::var("OPENLEDGER_TEST_NODE").as_deref() {
            Ok("openledger") | Err(_) => Self::OpenLedger,
            Ok("anvil") => Self::Anvil,
            Ok(other) => panic!("OPENLEDGER_TEST_NODE={other:?}: expected anvil or openledger"),
        }
    }
}

/// A running node, stopped when dropped.
struct TestNode {
    url: String,
    kind: NodeKind,
    process: Child,
    _data_directory: Option<tempfile::TempDir>,
}

impl Drop for TestNode {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Starts a fresh node (empty chain, funded dev accounts) and returns it;
/// `None` when no node can be had (after a loud message), so the caller
/// returns early.
fn start_node() -> Option<TestNode> {
    match NodeKind::from_environment() {
        NodeKind::Anvil => start_anvil(anvil_path()?),
        NodeKind::OpenLedger => Some(start_openledger()),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The anvil binary, looked up once per test process.
fn anvil_path() -> Option<PathBuf> {
    static ANVIL: OnceLock<Option<PathBuf>> = OnceLock::new();
    ANVIL.get_or_init(find_or_install_anvil).clone()
}

fn find_or_install_anvil() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("OPENLEDGER_ANVIL") {
        return Some(PathBuf::from(path));
    }
    let installed = workspace_root().join("tests/interop/node_modules/.bin/anvil");
    if installed.is_file() {
        return Some(installed);
    }
    let script = workspace_root().join("scripts/install-interop-deps");
    let reason = match Command::new(&script).stderr(Stdio::piped()).output() {
        Ok(output) if output.status.success() => {
            let stdout = String::from_utf8_lossy(&output.stdout);
            let path = stdout.lines().rev().find_map(|line| line.strip_prefix("ANVIL="));
            match path.map(PathBuf::from) {
                Some(path) if path.is_file() => return Some(path),
                _ => format!("{} printed no usable ANVIL= line:\n{stdout}", script.display()),
            }
        }
        Ok(output) => format!(
            "{} failed ({}):\n{}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => format!("cannot run {}: {error}", script.display()),
    };
    if std::env::var_os("OPENLEDGER_REQUIRE_NODE").is_some() {
        panic!("anvil is required (OPENLEDGER_REQUIRE_NODE is set) but unavailable: {reason}");
    }
    eprintln!(
        "\n{banner}\nSKIPPED: the CLI tests that need a JSON-RPC node did not run.\n\
         anvil could not be installed: {reason}\n\
         Install it with scripts/install-interop-deps, or set OPENLEDGER_ANVIL=/path/to/anvil.\n{banner}\n",
        banner = "!".repeat(78)
    );
    None
}

fn start_anvil(anvil: PathBuf) -> Option<TestNode> {
    let process = Command::new(&anvil)
        .args(["--port", "0", "--host", "127.0.0.1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", anvil.display()));
    let (url, process) = await_listening(process, "anvil");
    Some(TestNode { url, kind: NodeKind::Anvil, process, _data_directory: None })
}

fn start_openledger() -> TestNode {
    let data_directory = tempfile::tempdir().expect("a temporary directory");
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("a bound address").port();
    drop(listener);
    let process = Command::new(BINARY)
        .args(["node", "--dev", "--block-time", "0", "--http.port", &port.to_string()])
        .arg("--datadir")
        .arg(data_directory.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("openledger node starts");
    let (url, process) = await_listening(process, "openledger node");
    TestNode { url, kind: NodeKind::OpenLedger, process, _data_directory: Some(data_directory) }
}

/// Waits for the node's `Listening on HOST:PORT` line (anvil and
/// `openledger node` both print one) and returns its URL. The node's output
/// keeps being drained afterwards, so that it never blocks on a full pipe.
fn await_listening(mut process: Child, name: &str) -> (String, Child) {
    let stdout = process.stdout.take().expect("stdout is piped");
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(address) = line.trim().strip_prefix("Listening on ") {
                let _ = sender.send(address.to_string());
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(address) = receiver.recv_timeout(Duration::from_millis(100)) {
            return (format!("http://{address}"), process);
        }
        if let Ok(Some(status)) = process.try_wait() {
            panic!("{name} exited before serving JSON-RPC ({status})");
        }
        assert!(Instant::now() < deadline, "{name} did not say where it listens within 60 s");
    }
}

/// The value of a `label   value` line of human-readable output.
fn field<'a>(output: &'a str, label: &str) -> &'a str {
    output
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(label)?;
            rest.starts_with(' ').then(|| rest.trim())
        })
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{output}"))
}

// ---------------------------------------------------------------------------
// Keys (no node needed)
// ---------------------------------------------------------------------------

#[test]
fn keys_new_list_import_roundtrip() {
    let keys = TestKeystore::new();
    let (keystore, password) = (keys.keystore(), keys.password_file());

    let empty = openledger(&["keys", "list", "--keystore", &keystore]).success();
    assert_eq!(empty, "");

    let created =
        openledger(&["keys", "new", "--keystore", &keystore, "--password-file", &password])
            .success();
    let created = created.trim();
    assert!(created.starts_with("0x") && created.len() == 42, "not an address: {created}");

    let imported = keys.import(DEV_KEY_1);
    assert_eq!(imported, DEV_ACCOUNT_1);

    let listed = openledger(&["keys", "list", "--keystore", &keystore]).success();
    let listed: Vec<_> = listed.lines().collect();
    assert_eq!(listed, vec![created, DEV_ACCOUNT_1]);

    // The environment variables work as the flags do.
    let password_text = "correct horse battery";
    let from_environment = run_with(
        &["keys", "new"],
        &[("OPENLEDGER_KEYSTORE", &keystore), ("OPENLEDGER_PASSWORD", password_text)],
        None,
    )
    .success();
    let listed = openledger(&["keys", "list", "--keystore", &keystore]).success();
    assert!(listed.contains(from_environment.trim()), "{listed}");
}

#[test]
fn keys_import_reads_standard_input_and_refuses_bad_keys() {
    let keys = TestKeystore::new();
    let (keystore, password) = (keys.keystore(), keys.password_file());
    let import = ["keys", "import", "--keystore", &keystore, "--password-file", &password];

    let piped = run_with(&import, &[], Some(&format!("{DEV_KEY_1}\n"))).success();
    assert_eq!(piped.trim(), DEV_ACCOUNT_1);

    let again = run_with(&import, &[], Some(DEV_KEY_1)).failure();
    assert!(again.contains("already in the keystore"), "{again}");

    let short = run_with(&import, &[], Some("0x1234\n")).failure();
    assert!(short.contains("malformed private key"), "{short}");
    assert!(short.contains("64 hex digits"), "{short}");

    let empty = run_with(&import, &[], Some("")).failure();
    assert!(empty.contains("no private key given"), "{empty}");

    let not_hex = format!("0x{}", "zz".repeat(32));
    let flag = [&import[..], &["--private-key", &not_hex]].concat();
    let not_hex_error = openledger(&flag).failure();
    assert!(not_hex_error.contains("--private-key was refused"), "{not_hex_error}");
    assert!(not_hex_error.contains("not a hex digit"), "{not_hex_error}");
    assert!(!not_hex_error.contains(&not_hex), "the key is echoed: {not_hex_error}");

    let zero = format!("0x{}", "00".repeat(32));
    let flag = [&import[..], &["--private-key", &zero]].concat();
    assert!(openledger(&flag).failure().contains("group order"));
}

#[test]
fn keys_need_a_non_empty_password() {
    let keys = TestKeystore::new();
    let keystore = keys.keystore();
    let missing = openledger(&["keys", "new", "--keystore", &keystore]).failure();
    assert!(missing.contains("no password given"), "{missing}");
    assert!(missing.contains("--password-file"), "{missing}");

    let empty_file = keys.directory.path().join("empty");
    std::fs::write(&empty_file, "\n").unwrap();
    let empty_file = empty_file.display().to_string();
    let empty =
        openledger(&["keys", "new", "--keystore", &keystore, "--password-file", &empty_file])
            .failure();
    assert!(empty.contains("password is empty"), "{empty}");

    let absent =
        openledger(&["keys", "new", "--keystore", &keystore, "--password-file", "/nonexistent/pw"])
            .failure();
    assert!(absent.contains("cannot read the password file /nonexistent/pw"), "{absent}");
}

#[test]
fn transfer_from_a_keystore_key_refuses_a_wrong_password_or_missing_key() {
    let keys = TestKeystore::new();
    keys.import(DEV_KEY_1);
    let (keystore, wrong) = (keys.keystore(), keys.wrong_password_file());
    // The key is unlocked before any request, so no node is needed.
    let url = unreachable_url();
    let transfer = |from: &str, password_file: &str| {
        openledger(&[
            "transfer",
            "--to",
            DEV_ACCOUNT_0,
            "--amount",
            "1",
            "--from",
            from,
            "--keystore",
            &keystore,
            "--password-file",
            password_file,
            "--rpc-url",
            &url,
        ])
    };
    let wrong_password = transfer(DEV_ACCOUNT_1, &wrong).failure();
    assert!(
        wrong_password
            .starts_with(&format!("error: wrong password for the key of {DEV_ACCOUNT_1}")),
        "{wrong_password}"
    );

    let missing = transfer(DEV_ACCOUNT_0, &wrong).failure();
    assert!(
        missing.starts_with(&format!("error: no key for {DEV_ACCOUNT_0} in the keystore")),
        "{missing}"
    );
}

// ---------------------------------------------------------------------------
// Bad input refused before any request (no node needed)
// ---------------------------------------------------------------------------

#[test]
fn malformed_addresses_name_the_argument() {
    let url = unreachable_url();
    let to = openledger(&[
        "transfer",
        "--to",
        "0x1234",
        "--amount",
        "1",
        "--dev-account",
        "0",
        "--rpc-url",
        &url,
    ])
    .failure();
    assert!(to.contains("for '--to <ADDRESS>'"), "{to}");
    assert!(to.contains("expected 0x followed by 40 hex digits"), "{to}");

    let balance = openledger(&["balance", "alice", "--rpc-url", &url]).failure();
    assert!(balance.contains("for '<ADDRESS>'"), "{balance}");

    let checksum = "0xF39fd6e51aad88F6F4ce6aB8827279cffFb92266";
    let from = openledger(&[
        "transfer",
        "--to",
        DEV_ACCOUNT_1,
        "--amount",
        "1",
        "--from",
        checksum,
        "--rpc-url",
        &url,
    ])
    .failure();
    assert!(from.contains("for '--from <ADDRESS>'"), "{from}");
    assert!(from.contains("checksum"), "{from}");
}

#[test]
fn bad_amounts_say_what_is_wrong() {
    let url = unreachable_url();
    let cases = [
        ("1.2.3", "is not a decimal number"),
        ("-1", "cannot be negative"),
        ("0.0000000000000000001", "more than 18 decimals"),
        ("1e18", "is not a decimal number"),
        ("", "amount is empty"),
        ("1,5", "is not a decimal number"),
    ];
    for (amount, reason) in cases {
        let stderr = openledger(&[
            "transfer",
            "--to",
            DEV_ACCOUNT_1,
            "--amount",
            amount,
            "--dev-account",
            "0",
            "--rpc-url",
            &url,
        ])
        .failure();
        assert!(stderr.contains("for '--amount <OPEN>'"), "{amount:?}: {stderr}");
        assert!(stderr.contains(reason), "{amount:?}: {stderr}");
    }
}

#[test]
fn other_bad_arguments_are_refused() {
    let url = unreachable_url();
    let block = openledger(&["block", "newest", "--rpc-url", &url]).failure();
    assert!(block.contains("not a block"), "{block}");

    let hash = openledger(&["tx", "0x1234", "--rpc-url", &url]).failure();
    assert!(hash.contains("not a transaction hash"), "{hash}");

    let key = openledger(&[
        "transfer",
        "--to",
        DEV_ACCOUNT_1,
        "--amount",
        "1",
        "--private-key",
        "0x12",
        "--rpc-url",
        &url,
    ])
    .failure();
    assert!(key.contains("--private-key was refused: malformed private key"), "{key}");

    let no_signer =
        openledger(&["transfer", "--to", DEV_ACCOUNT_1, "--amount", "1", "--rpc-url", &url])
            .failure();
    assert!(no_signer.contains("--from") && no_signer.contains("--dev-account"), "{no_signer}");

    let fee = openledger(&[
        "transfer",
        "--to",
        DEV_ACCOUNT_1,
        "--amount",
        "1",
        "--dev-account",
        "0",
        "--max-fee-gwei",
        "1.5.1",
        "--rpc-url",
        &url,
    ])
    .failure();
    assert!(fee.contains("for '--max-fee-gwei <GWEI>'"), "{fee}");

    let url_error =
        openledger(&["balance", DEV_ACCOUNT_0, "--rpc-url", "localhost:8545"]).failure();
    assert!(url_error.contains("invalid --rpc-url"), "{url_error}");
}

#[test]
fn an_unreachable_node_is_named() {
    let url = unreachable_url();
    let expected = format!("error: cannot reach the node at {url}: ");
    let hash = format!("0x{}", "ab".repeat(32));
    for arguments in [
        vec!["balance", DEV_ACCOUNT_0],
        vec!["block", "latest"],
        vec!["tx", &hash],
        vec!["transfer", "--to", DEV_ACCOUNT_1, "--amount", "1", "--dev-account", "0"],
    ] {
        let arguments = [&arguments[..], &["--rpc-url", &url]].concat();
        let stderr = openledger(&arguments).failure();
        assert!(stderr.starts_with(&expected), "{arguments:?}: {stderr}");
    }
    // The environment variable names the node as the flag does.
    let stderr =
        run_with(&["balance", DEV_ACCOUNT_0], &[("OPENLEDGER_RPC_URL", &url)], None).failure();
    assert!(stderr.starts_with(&expected), "{stderr}");
}

// ---------------------------------------------------------------------------
// Against a node
// ---------------------------------------------------------------------------

#[test]
fn transfer_from_a_dev_account_then_read_balance_transaction_and_block() {
    let Some(node) = start_node() else { return };
    let url = node.url.as_str();
    let recipient = "0x1111111111111111111111111111111111111111";

    let before = openledger(&["balance", recipient, "--rpc-url", url]).success();
    assert_eq!(before.trim(), "0 OPEN");

    let sent = openledger(&[
        "transfer",
        "--dev-account",
        "0",
        "--to",
        recipient,
        "--amount",
        "1.5",
        "--timeout",
        RECEIPT_TIMEOUT,
        "--rpc-url",
        url,
    ])
    .success();
    assert_eq!(field(&sent, "status"), "success", "{sent}");
    assert_eq!(field(&sent, "gas used"), "21000", "{sent}");
    assert!(field(&sent, "fee paid").ends_with(" OPEN"), "{sent}");
    let hash = field(&sent, "transaction").to_string();
    let block_number = field(&sent, "block").to_string();

    let after = openledger(&["balance", recipient, "--rpc-url", url]).success();
    assert_eq!(after.trim(), "1.5 OPEN");
    let at_block =
        openledger(&["balance", recipient, "--block", &block_number, "--rpc-url", url]).success();
    assert_eq!(at_block.trim(), "1.5 OPEN");
    // Both nodes serve the state at any committed block.
    let at_genesis =
        openledger(&["balance", recipient, "--block", "0", "--rpc-url", url]).success();
    assert_eq!(at_genesis.trim(), "0 OPEN");

    let transaction = openledger(&["tx", &hash, "--rpc-url", url]).success();
    assert_eq!(field(&transaction, "from"), DEV_ACCOUNT_0, "{transaction}");
    assert_eq!(field(&transaction, "to"), recipient, "{transaction}");
    assert_eq!(field(&transaction, "value"), "1.5 OPEN", "{transaction}");
    assert_eq!(field(&transaction, "status"), "success", "{transaction}");
    assert_eq!(field(&transaction, "block"), block_number, "{transaction}");

    let json = openledger(&["tx", &hash, "--json", "--rpc-url", url]).success();
    let json: serde_json::Value = serde_json::from_str(&json).expect("tx --json prints JSON");
    assert_eq!(json["transaction"]["hash"], hash.as_str());
    assert_eq!(json["receipt"]["transactionHash"], hash.as_str());
    assert_eq!(json["receipt"]["status"], "0x1");

    let latest = openledger(&["block", "latest", "--rpc-url", url]).success();
    assert_eq!(field(&latest, "block"), block_number, "{latest}");
    assert!(latest.contains(&format!("  {hash}")), "{latest}");
    let block_hash = field(&latest, "hash").to_string();

    let by_hash = openledger(&["block", &block_hash, "--rpc-url", url]).success();
    assert_eq!(by_hash, latest);
    let by_number = openledger(&["block", &block_number, "--rpc-url", url]).success();
    assert_eq!(by_number, latest);

    let json = openledger(&["block", "latest", "--json", "--rpc-url", url]).success();
    let json: serde_json::Value = serde_json::from_str(&json).expect("block --json prints JSON");
    assert_eq!(json["hash"], block_hash.as_str());
    assert_eq!(json["transactions"][0], hash.as_str());
}

#[test]
fn transfer_from_a_keystore_key_as_a_legacy_transaction() {
    let Some(node) = start_node() else { return };
    let url = node.url.as_str();
    let keys = TestKeystore::new();
    keys.import(DEV_KEY_1);
    let (keystore, password) = (keys.keystore(), keys.password_file());
    let recipient = "0x2222222222222222222222222222222222222222";

    let sent = openledger(&[
        "transfer",
        "--from",
        DEV_ACCOUNT_1,
        "--keystore",
        &keystore,
        "--password-file",
        &password,
        "--to",
        recipient,
        "--amount",
        "0.000000000000000001",
        "--legacy",
        "--gas-price-gwei",
        "3",
        "--timeout",
        RECEIPT_TIMEOUT,
        "--rpc-url",
        url,
    ])
    .success();
    assert_eq!(field(&sent, "status"), "success", "{sent}");
    assert_eq!(field(&sent, "fee paid"), "0.000063 OPEN", "{sent}");

    let balance = openledger(&["balance", recipient, "--rpc-url", url]).success();
    assert_eq!(balance.trim(), "0.000000000000000001 OPEN");

    let transaction = openledger(&["tx", field(&sent, "transaction"), "--rpc-url", url]).success();
    assert_eq!(field(&transaction, "from"), DEV_ACCOUNT_1, "{transaction}");
    assert_eq!(field(&transaction, "gas price"), "3 gwei", "{transaction}");
}

#[test]
fn transfer_without_waiting_prints_the_hash() {
    let Some(node) = start_node() else { return };
    let url = node.url.as_str();
    let recipient = "0x3333333333333333333333333333333333333333";
    let sent = openledger(&[
        "transfer",
        "--dev-account",
        "2",
        "--to",
        recipient,
        "--amount",
        "7",
        "--max-fee-gwei",
        "100",
        "--priority-fee-gwei",
        "2",
        "--gas-limit",
        "30000",
        "--no-wait",
        "--rpc-url",
        url,
    ])
    .success();
    let hash = sent.trim();
    assert!(hash.starts_with("0x") && hash.len() == 66, "not a hash: {sent}");

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let transaction = openledger(&["tx", hash, "--rpc-url", url]).success();
        assert_eq!(field(&transaction, "gas limit"), "30000", "{transaction}");
        assert_eq!(field(&transaction, "max fee"), "100 gwei", "{transaction}");
        assert_eq!(field(&transaction, "priority fee"), "2 gwei", "{transaction}");
        if field(&transaction, "status") == "success" {
            break;
        }
        assert!(Instant::now() < deadline, "not included within 60 s:\n{transaction}");
        thread::sleep(Duration::from_millis(250));
    }
    let balance = openledger(&["balance", recipient, "--rpc-url", url]).success();
    assert_eq!(balance.trim(), "7 OPEN");
}

#[test]
fn the_node_refusal_is_shown_in_its_own_words() {
    let Some(node) = start_node() else { return };
    let url = node.url.as_str();
    let stderr = openledger(&[
        "transfer",
        "--private-key",
        UNFUNDED_KEY,
        "--to",
        DEV_ACCOUNT_0,
        "--amount",
        "1",
        "--rpc-url",
        url,
    ])
    .failure();
    assert!(stderr.starts_with("error: the node refused the transaction: "), "{stderr}");
    assert!(stderr.to_lowercase().contains("insufficient funds"), "{stderr}");
}

#[test]
fn unknown_transactions_and_blocks_are_reported() {
    let Some(node) = start_node() else { return };
    let url = node.url.as_str();
    let hash = format!("0x{}", "ab".repeat(32));
    let transaction = openledger(&["tx", &hash, "--rpc-url", url]).failure();
    assert!(
        transaction.starts_with(&format!("error: no transaction with hash {hash}")),
        "{transaction}"
    );

    let block = openledger(&["block", "999999", "--rpc-url", url]).failure();
    assert!(block.starts_with("error: no block 999999"), "{block}");

    let block_hash = openledger(&["block", &hash, "--rpc-url", url]).failure();
    assert!(block_hash.starts_with(&format!("error: no block {hash}")), "{block_hash}");
}

#[test]
fn balance_breakdown() {
    let Some(node) = start_node() else { return };
    let url = node.url.as_str();
    let outcome = openledger(&["balance", DEV_ACCOUNT_0, "--breakdown", "--rpc-url", url]);
    match node.kind {
        // anvil has no ol_* methods: the error must say so plainly.
        NodeKind::Anvil => {
            let stderr = outcome.failure();
            assert!(
                stderr.starts_with(&format!(
                    "error: the node at {url} does not support ol_getBalanceBreakdown"
                )),
                "{stderr}"
            );
            assert!(stderr.contains("needs an OpenLedger node"), "{stderr}");
        }
        NodeKind::OpenLedger => {
            let stdout = outcome.success();
            let plain = openledger(&["balance", DEV_ACCOUNT_0, "--rpc-url", url]).success();
            assert_eq!(field(&stdout, "spendable"), plain.trim(), "{stdout}");
            for label in ["total", "locked", "vested", "vesting"] {
                field(&stdout, label);
            }
        }
    }
}
