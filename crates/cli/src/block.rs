//! `openledger block`: a block by number, hash or tag, as readable lines or
//! as the node's raw JSON.

use crate::{
    arguments::{BlockReference, format_gwei},
    calendar::format_utc,
    rpc::RpcArgs,
};
use alloy_rpc_types_eth::{Block, BlockTransactions};
use clap::Args;
use eyre::{Result, eyre};
use std::fmt::Write as _;

/// Flags of `openledger block`.
#[derive(Debug, Args)]
pub(crate) struct BlockArgs {
    /// The block: a number, a 0x hash or a tag (latest, pending, earliest,
    /// safe, finalized).
    #[arg(value_name = "BLOCK", default_value = "latest")]
    block: BlockReference,
    /// Print the node's JSON instead of readable lines.
    #[arg(long = "json")]
    json: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Prints the block.
pub(crate) async fn run(args: BlockArgs) -> Result<()> {
    let node = args.rpc.connect()?;
    let value = node
        .block(args.block)
        .await?
        .ok_or_else(|| eyre!("no block {} on the node at {}", args.block, node.url()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let block: Block = serde_json::from_value(value)
        .map_err(|error| eyre!("the node's block {} could not be read: {error}", args.block))?;
    print!("{}", describe(&block));
    Ok(())
}

/// The block as aligned lines.
fn describe(block: &Block) -> String {
    let header = &block.header;
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(text, "block          {}", header.number);
    let _ = writeln!(text, "hash           {}", header.hash);
    let _ = writeln!(text, "parent         {}", header.parent_hash);
    let _ =
        writeln!(text, "time           {} ({})", format_utc(header.timestamp), header.timestamp);
    let _ = writeln!(text, "fee recipient  {}", header.beneficiary);
    let _ = writeln!(text, "gas used       {} of {}", header.gas_used, header.gas_limit);
    if let Some(base_fee) = header.base_fee_per_gas {
        let _ = writeln!(text, "base fee       {}", format_gwei(u128::from(base_fee)));
    }
    let _ = writeln!(text, "state root     {}", header.state_root);
    let hashes: Vec<_> = match &block.transactions {
        BlockTransactions::Hashes(hashes) => hashes.clone(),
        other => other.hashes().collect(),
    };
    let _ = writeln!(text, "transactions   {}", hashes.len());
    for hash in hashes {
        let _ = writeln!(text, "  {hash}");
    }
    text
}
