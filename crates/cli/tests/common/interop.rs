//! Running the real Ethereum tooling of `tests/interop` next to a dev node.
//!
//! The interop tests (`interop`, `hardhat`, `evm_diff`) install viem,
//! web3.py, anvil, cast, Hardhat and the npm solc through the project's own
//! `scripts/install-interop-deps`, start the node with [`super::NodeProcess`]
//! and run a script against it. This module holds what they share: where the
//! repository and its interop virtual environment are, the npm skip rule, the
//! installation, a child process that dies with the test, and running a
//! script with a deadline while capturing what it prints.

use std::{
    io::Read,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    thread::JoinHandle,
    time::{Duration, Instant},
};

/// The repository root, which holds `scripts/` and `tests/interop/`.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

/// The Python of the interop virtual environment (with web3.py), made by
/// `scripts/install-interop-deps`.
pub(crate) fn venv_python(root: &Path) -> PathBuf {
    root.join("tests/interop/.venv/bin/python")
}

/// A child process killed when the test ends, passed or not.
#[derive(Debug)]
pub(crate) struct ChildProcess(pub(crate) Child);

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The workspace root once `scripts/install-interop-deps` has run; None,
/// with the reason printed, when `npm` is not installed and the test is
/// skipped. `installs` names what npm would have installed.
pub(crate) fn workspace_with_dependencies(installs: &str) -> Option<PathBuf> {
    if skip_without_npm(installs) {
        return None;
    }
    let root = workspace_root();
    install_dependencies(&root);
    Some(root)
}

/// True, with the reason printed, when `npm` is not installed.
fn skip_without_npm(installs: &str) -> bool {
    let npm_is_installed = Command::new("npm")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !npm_is_installed {
        println!("skipped: npm is not installed (need node >= 18 and npm to install {installs})");
    }
    !npm_is_installed
}

/// Runs `scripts/install-interop-deps` (idempotent, quick once done).
pub(crate) fn install_dependencies(root: &Path) {
    let output = Command::new(root.join("scripts/install-interop-deps"))
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .expect("scripts/install-interop-deps runs");
    assert_succeeded(&output, "scripts/install-interop-deps");
}

/// Panics with what `what` printed unless it exited successfully.
pub(crate) fn assert_succeeded(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `command` (named `name` in messages) with its stdout and stderr
/// captured, killing it once `deadline` has passed. Returns whether it
/// exited successfully, and what it printed (stdout, then stderr).
pub(crate) fn run_with_deadline(
    command: &mut Command,
    name: &str,
    deadline: Duration,
) -> (bool, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
    let readers = [
        read_to_end(child.stdout.take().expect("stdout is piped")),
        read_to_end(child.stderr.take().expect("stderr is piped")),
    ];
    let mut child = ChildProcess(child);
    let ends = Instant::now() + deadline;
    let status = loop {
        match child.0.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() > ends => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("{name} cannot be waited on: {e}"),
        }
    };
    drop(child); // kills it if the deadline passed, so the pipes close
    let [stdout, stderr] = readers.map(|reader| reader.join().unwrap_or_default());
    let printed = format!("{stdout}\n{stderr}");
    match status {
        Some(status) => (status.success(), printed),
        None => (false, format!("{name} ran over {deadline:?} and was killed\n{printed}")),
    }
}

/// Reads a pipe on its own thread, so a full pipe never stalls the child.
fn read_to_end(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}
