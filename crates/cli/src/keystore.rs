//! The keystore: a directory of encrypted Ethereum V3 key files (scrypt +
//! AES-128-CTR, the Web3 Secret Storage format geth, foundry and wallets
//! read).
//!
//! Files are named as geth names them, `UTC--<time>--<address>`, and carry
//! the geth `address` field, so listing keys needs no password. Keys are
//! written with permissions `0600` in a directory with `0700`, and a key is
//! never written twice.

use crate::{arguments::parse_private_key, calendar::format_keystore_time};
use alloy_primitives::Address;
use alloy_signer::k256::elliptic_curve::rand_core::OsRng;
use alloy_signer_local::{LocalSignerError, PrivateKeySigner};
use clap::Args;
use eyre::{Context, Result, bail, eyre};
use serde_json::Value;
use std::{
    fs,
    io::{IsTerminal, Read, Write},
    path::{Path, PathBuf},
    str::FromStr,
    time::{SystemTime, UNIX_EPOCH},
};

/// The environment variable that may hold the keystore password.
const PASSWORD_VARIABLE: &str = "OPENLEDGER_PASSWORD";

/// Where the keys are and how to unlock them.
#[derive(Debug, Clone, Args)]
pub(crate) struct KeystoreArgs {
    /// Keystore directory [default: ~/.openledger/keystore].
    #[arg(long = "keystore", env = "OPENLEDGER_KEYSTORE", value_name = "DIR")]
    pub(crate) keystore: Option<PathBuf>,
    /// File whose first line is the keystore password (otherwise the
    /// OPENLEDGER_PASSWORD environment variable is read).
    #[arg(long = "password-file", value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,
}

impl KeystoreArgs {
    /// The keystore directory.
    pub(crate) fn keystore(&self) -> Result<Keystore> {
        let directory = match &self.keystore {
            Some(directory) => directory.clone(),
            None => {
                let home = std::env::var_os("HOME").ok_or_else(|| {
                    eyre!("HOME is not set: pass --keystore DIR or set OPENLEDGER_KEYSTORE")
                })?;
                PathBuf::from(home).join(".openledger").join("keystore")
            }
        };
        Ok(Keystore { directory })
    }

    /// The password, from `--password-file` or `OPENLEDGER_PASSWORD`.
    pub(crate) fn password(&self) -> Result<String> {
        if let Some(file) = &self.password_file {
            let text = fs::read_to_string(file)
                .wrap_err_with(|| format!("cannot read the password file {}", file.display()))?;
            // Like geth: the first line is the password, so a trailing newline
            // written by an editor or `echo` is not part of it.
            return Ok(text.lines().next().unwrap_or_default().to_string());
        }
        match std::env::var(PASSWORD_VARIABLE) {
            Ok(password) => Ok(password),
            Err(_) => {
                bail!("no password given: pass --password-file FILE or set {PASSWORD_VARIABLE}")
            }
        }
    }

    /// A password for encrypting a new key: like [`Self::password`], but an
    /// empty one is refused because it would leave the key unprotected.
    pub(crate) fn new_password(&self) -> Result<String> {
        let password = self.password()?;
        if password.is_empty() {
            bail!("the password is empty; an encrypted key needs a password");
        }
        Ok(password)
    }
}

/// A keystore directory.
#[derive(Debug, Clone)]
pub(crate) struct Keystore {
    directory: PathBuf,
}

/// One key file of a keystore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyFile {
    /// The account the key signs for.
    pub(crate) address: Address,
    /// The encrypted file.
    pub(crate) path: PathBuf,
}

impl Keystore {
    /// The directory.
    pub(crate) fn directory(&self) -> &Path {
        &self.directory
    }

    /// The key files, oldest first (geth's names sort by creation time).
    /// A missing directory is an empty keystore.
    pub(crate) fn list(&self) -> Result<Vec<KeyFile>> {
        let entries = match fs::read_dir(&self.directory) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => {
                return Err(error).wrap_err_with(|| {
                    format!("cannot read the keystore {}", self.directory.display())
                });
            }
        };
        let mut keys = Vec::new();
        for entry in entries {
            let path = entry
                .wrap_err_with(|| format!("cannot read the keystore {}", self.directory.display()))?
                .path();
            if !path.is_file() {
                continue;
            }
            match address_of_key_file(&path) {
                Some(address) => keys.push(KeyFile { address, path }),
                None => {
                    tracing::warn!(path = %path.display(), "skipping a file that is not a keystore key")
                }
            }
        }
        keys.sort_by(|left, right| left.path.cmp(&right.path));
        Ok(keys)
    }

    /// The key file of `address`.
    pub(crate) fn find(&self, address: Address) -> Result<KeyFile> {
        self.list()?.into_iter().find(|key| key.address == address).ok_or_else(|| {
            eyre!(
                "no key for {address} in the keystore {} (see `openledger keys list`)",
                self.directory.display()
            )
        })
    }

    /// Decrypts the key of `address`.
    pub(crate) fn unlock(&self, address: Address, password: &str) -> Result<PrivateKeySigner> {
        let key = self.find(address)?;
        let signer = PrivateKeySigner::decrypt_keystore(&key.path, password).map_err(|error| {
            if is_wrong_password(&error) {
                eyre!("wrong password for the key of {address} ({})", key.path.display())
            } else {
                eyre!("cannot decrypt the key file {}: {error}", key.path.display())
            }
        })?;
        if signer.address() != address {
            bail!(
                "the key file {} claims address {address} but holds the key of {}",
                key.path.display(),
                signer.address()
            );
        }
        Ok(signer)
    }

    /// Encrypts `signer`'s key with `password` into a new file.
    pub(crate) fn store(&self, signer: &PrivateKeySigner, password: &str) -> Result<KeyFile> {
        let address = signer.address();
        if let Ok(existing) = self.find(address) {
            bail!("the key of {address} is already in the keystore ({})", existing.path.display());
        }
        self.create_directory()?;
        let encrypted = encrypt(signer, password, &self.directory)?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let name = format!(
            "UTC--{}--{}",
            format_keystore_time(now.as_secs(), now.subsec_nanos()),
            alloy_primitives::hex::encode(address)
        );
        let path = self.directory.join(name);
        write_private_file(&path, &encrypted)?;
        Ok(KeyFile { address, path })
    }

    fn create_directory(&self) -> Result<()> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&self.directory)
            .wrap_err_with(|| format!("cannot create the keystore {}", self.directory.display()))
    }
}

/// The V3 JSON of `signer`'s key encrypted with `password`, with the geth
/// `address` field added.
fn encrypt(signer: &PrivateKeySigner, password: &str, keystore: &Path) -> Result<Vec<u8>> {
    // eth-keystore only writes to a directory; let it write into a private
    // scratch directory beside the keystore, then move the JSON into place.
    let scratch = tempfile::Builder::new()
        .prefix(".new-key")
        .tempdir_in(keystore)
        .wrap_err_with(|| format!("cannot write to the keystore {}", keystore.display()))?;
    let secret = signer.to_bytes();
    PrivateKeySigner::encrypt_keystore(scratch.path(), &mut OsRng, secret, password, Some("key"))
        .map_err(|error| eyre!("cannot encrypt the key: {error}"))?;
    let written = fs::read(scratch.path().join("key")).wrap_err("cannot read the encrypted key")?;
    let mut json: Value =
        serde_json::from_slice(&written).wrap_err("the encrypted key is not JSON")?;
    let object =
        json.as_object_mut().ok_or_else(|| eyre!("the encrypted key is not a JSON object"))?;
    object.insert(
        "address".to_string(),
        Value::from(alloy_primitives::hex::encode(signer.address())),
    );
    serde_json::to_vec_pretty(&json).wrap_err("cannot encode the encrypted key")
}

/// Creates `path` (it must not exist) readable by its owner only, with
/// `contents`, synced to disk.
pub(crate) fn write_private_file(path: &Path, contents: &[u8]) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .wrap_err_with(|| format!("cannot create the key file {}", path.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .wrap_err_with(|| format!("cannot write the key file {}", path.display()))
}

/// The address a key file is for: its `address` field, or else the
/// `--<address>` suffix of a geth file name.
fn address_of_key_file(path: &Path) -> Option<Address> {
    let contents = fs::read(path).ok()?;
    let json: Value = serde_json::from_slice(&contents).ok()?;
    json.get("crypto").or_else(|| json.get("Crypto"))?;
    if let Some(field) = json.get("address").and_then(Value::as_str) {
        let digits = field.strip_prefix("0x").unwrap_or(field);
        return Address::from_str(digits).ok();
    }
    let name = path.file_name()?.to_str()?;
    let (_, suffix) = name.rsplit_once("--")?;
    Address::from_str(suffix).ok()
}

/// Whether decryption failed because the password is wrong. eth-keystore
/// reports that as `KeystoreError::MacMismatch`, which this crate can only
/// see through its message; the unit test below pins that message.
fn is_wrong_password(error: &LocalSignerError) -> bool {
    matches!(error, LocalSignerError::EthKeystoreError(inner) if inner.to_string() == "Mac Mismatch")
}

/// Reads a private key piped on standard input; refuses an interactive
/// terminal so that a secret is never echoed on screen.
pub(crate) fn read_private_key_from_stdin() -> Result<PrivateKeySigner> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        bail!("no private key given: pass --private-key HEX or pipe the key on standard input");
    }
    let mut text = String::new();
    stdin.read_to_string(&mut text).wrap_err("cannot read the private key from standard input")?;
    if text.trim().is_empty() {
        bail!(
            "no private key given: standard input was empty (pass --private-key HEX or pipe the key)"
        );
    }
    parse_private_key(&text).wrap_err("the private key on standard input was refused")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keystore_in(directory: &Path) -> Keystore {
        Keystore { directory: directory.join("keys") }
    }

    #[test]
    fn a_stored_key_is_listed_and_unlocks_only_with_its_password() {
        let scratch = tempfile::tempdir().unwrap();
        let keystore = keystore_in(scratch.path());
        let signer = PrivateKeySigner::random();
        let stored = keystore.store(&signer, "correct horse").unwrap();
        assert_eq!(stored.address, signer.address());
        assert_eq!(keystore.list().unwrap(), vec![stored.clone()]);

        let unlocked = keystore.unlock(signer.address(), "correct horse").unwrap();
        assert_eq!(unlocked.address(), signer.address());

        let wrong = keystore.unlock(signer.address(), "battery staple").unwrap_err();
        assert!(wrong.to_string().starts_with("wrong password"), "{wrong}");

        let twice = keystore.store(&signer, "correct horse").unwrap_err();
        assert!(twice.to_string().contains("already in the keystore"), "{twice}");

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&stored.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_missing_key_or_directory_is_reported() {
        let scratch = tempfile::tempdir().unwrap();
        let keystore = keystore_in(scratch.path());
        assert!(keystore.list().unwrap().is_empty());
        let missing = keystore.find(Address::ZERO).unwrap_err();
        assert!(missing.to_string().starts_with("no key for"), "{missing}");
    }

    #[test]
    fn geth_file_names_give_the_address_when_the_field_is_absent() {
        let scratch = tempfile::tempdir().unwrap();
        let address = "f39fd6e51aad88f6f4ce6ab8827279cfffb92266";
        let path = scratch.path().join(format!("UTC--2016-05-17T16-32-05.612530000Z--{address}"));
        fs::write(&path, r#"{"crypto":{},"id":"x","version":3}"#).unwrap();
        assert_eq!(address_of_key_file(&path), Some(Address::from_str(address).unwrap()));
        let unrelated = scratch.path().join("notes.txt");
        fs::write(&unrelated, "hello").unwrap();
        assert_eq!(address_of_key_file(&unrelated), None);
    }
}
