//! `openledger keys`: create, list and import the encrypted keys of the
//! local keystore.

use crate::{
    arguments::parse_private_key,
    keystore::{KeystoreArgs, read_private_key_from_stdin},
};
use alloy_signer_local::PrivateKeySigner;
use clap::{Args, Subcommand};
use eyre::{Context, Result};

/// `openledger keys` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Create a new random key, encrypt it into the keystore and print its address.
    New(NewArgs),
    /// Print the address of every key in the keystore.
    List(ListArgs),
    /// Encrypt an existing private key into the keystore and print its address.
    Import(ImportArgs),
}

/// Flags of `openledger keys new`.
#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    #[command(flatten)]
    keystore: KeystoreArgs,
}

/// Flags of `openledger keys list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Keystore directory [default: ~/.openledger/keystore].
    #[arg(long = "keystore", env = "OPENLEDGER_KEYSTORE", value_name = "DIR")]
    keystore: Option<std::path::PathBuf>,
}

/// Flags of `openledger keys import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The private key in hex (64 digits, optionally after 0x); read from
    /// standard input when absent.
    #[arg(long = "private-key", value_name = "HEX")]
    private_key: Option<String>,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

/// Runs a `keys` subcommand.
pub(crate) fn run(command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::New(args) => {
            let password = args.keystore.new_password()?;
            store(&args.keystore, &PrivateKeySigner::random(), &password)
        }
        KeysCommand::List(args) => {
            let keystore =
                KeystoreArgs { keystore: args.keystore, password_file: None }.keystore()?;
            let keys = keystore.list()?;
            if keys.is_empty() {
                eprintln!("no keys in {}", keystore.directory().display());
            }
            for key in keys {
                println!("{}", key.address);
            }
            Ok(())
        }
        KeysCommand::Import(args) => {
            let signer = match &args.private_key {
                Some(text) => parse_private_key(text).wrap_err("--private-key was refused")?,
                None => read_private_key_from_stdin()?,
            };
            let password = args.keystore.new_password()?;
            store(&args.keystore, &signer, &password)
        }
    }
}

fn store(arguments: &KeystoreArgs, signer: &PrivateKeySigner, password: &str) -> Result<()> {
    let key = arguments.keystore()?.store(signer, password)?;
    println!("{}", key.address);
    eprintln!("key saved to {}", key.path.display());
    Ok(())
}
