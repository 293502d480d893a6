//! Running the `openledger` binary as a user does, against a dev node.
//!
//! [`Scenario`] starts a node ([`NodeProcess`]) and runs client commands
//! against it; [`Outcome`] checks how a run ended (success, or one `error:`
//! sentence with no panic or Debug dump).

use super::{BINARY, NodeProcess, Rpc};
use serde_json::json;
use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

/// What one run of the binary did.
pub(crate) struct Outcome {
    pub(crate) output: Output,
    pub(crate) command: String,
}

impl Outcome {
    pub(crate) fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Asserts success and returns stdout.
    pub(crate) fn success(&self) -> String {
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

    /// Asserts a non-zero exit with a one-line `error: ` sentence (no panic,
    /// no Debug dump) and returns stderr.
    pub(crate) fn failure(&self) -> String {
        let stderr = self.usage_error();
        assert_eq!(stderr.trim_end().lines().count(), 1, "`{}`: {stderr}", self.command);
        stderr
    }

    /// Like [`Outcome::failure`], but allows clap's usage lines after the
    /// error.
    pub(crate) fn usage_error(&self) -> String {
        let stderr = self.stderr();
        assert!(
            !self.output.status.success(),
            "`{}` should have failed:\nstdout: {}\nstderr: {stderr}",
            self.command,
            self.stdout()
        );
        assert!(stderr.starts_with("error: "), "`{}`: {stderr}", self.command);
        for dump in ["panicked", "Error {", "Call(", "ErrorObject", "Os {", "Custom {"] {
            assert!(!stderr.contains(dump), "`{}`: a Debug dump or panic:\n{stderr}", self.command);
        }
        stderr
    }
}

/// Runs `openledger ARGS` with no OPENLEDGER_* variable from the shell.
pub(crate) fn openledger(arguments: &[&str]) -> Outcome {
    let mut command = Command::new(BINARY);
    command.args(arguments);
    for variable in ["OPENLEDGER_RPC_URL", "OPENLEDGER_KEYSTORE", "OPENLEDGER_PASSWORD", "RUST_LOG"]
    {
        command.env_remove(variable);
    }
    let output = command.stdin(Stdio::null()).output().expect("the openledger binary runs");
    Outcome { output, command: format!("openledger {}", arguments.join(" ")) }
}

/// The value of the `label   value` line of `output`.
pub(crate) fn field(output: &str, label: &str) -> String {
    output
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(label)?;
            rest.starts_with(' ').then(|| rest.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{output}"))
}

/// A node and the paths the scenario needs.
pub(crate) struct Scenario {
    pub(crate) node: NodeProcess,
    pub(crate) url: String,
    pub(crate) files: tempfile::TempDir,
    _data: tempfile::TempDir,
}

impl Scenario {
    pub(crate) fn start() -> Self {
        let data = tempfile::tempdir().expect("a temporary directory");
        let files = tempfile::tempdir().expect("a temporary directory");
        let node = NodeProcess::start(&data.path().join("node"), 0, data.path());
        let url = format!("http://{}", node.address);
        Self { node, url, files, _data: data }
    }

    pub(crate) fn rpc(&self) -> Rpc {
        self.node.rpc()
    }

    /// Writes `contents` to a file named `name`; returns its path.
    pub(crate) fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.files.path().join(name);
        std::fs::write(&path, contents).expect("the file is written");
        path
    }

    /// Runs `openledger ARGS --rpc-url URL`.
    pub(crate) fn run(&self, arguments: &[&str]) -> Outcome {
        let with_url = [arguments, &["--rpc-url", &self.url]].concat();
        openledger(&with_url)
    }

    /// Runs a signing command as development account `account`.
    pub(crate) fn send(&self, account: u32, arguments: &[&str]) -> Outcome {
        let account = account.to_string();
        self.run(&[arguments, &["--dev-account", &account]].concat())
    }

    pub(crate) fn nonce(&self, address: &str) -> u64 {
        let count = self.rpc().expect("eth_getTransactionCount", json!([address, "latest"]));
        u64::from_str_radix(count.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    }
}

pub(crate) fn path(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}
