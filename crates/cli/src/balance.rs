//! `openledger balance`: an account's OPEN, from `eth_getBalance`, or split
//! into total, spendable, locked and vested from `ol_getBalanceBreakdown`.

use crate::{
    arguments::{BlockReference, format_open, parse_address},
    calendar::format_utc,
    rpc::{BalanceBreakdown, RpcArgs, RpcError},
};
use alloy_primitives::Address;
use clap::Args;
use eyre::Result;

/// Flags of `openledger balance`.
#[derive(Debug, Args)]
pub(crate) struct BalanceArgs {
    /// The account.
    #[arg(value_name = "ADDRESS", value_parser = parse_address)]
    address: Address,
    /// The block whose state is read: a number, a hash or a tag (latest,
    /// pending, earliest, safe, finalized).
    #[arg(long = "block", value_name = "BLOCK", default_value = "latest")]
    block: BlockReference,
    /// Show total, spendable, locked and vested OPEN and the vesting
    /// schedule (OpenLedger's `ol_getBalanceBreakdown`).
    #[arg(long = "breakdown")]
    breakdown: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Prints the balance.
pub(crate) async fn run(args: BalanceArgs) -> Result<()> {
    let node = args.rpc.connect()?;
    if !args.breakdown {
        let balance = node.balance(args.address, args.block).await?;
        println!("{}", format_open(balance));
        return Ok(());
    }
    let breakdown =
        node.balance_breakdown(args.address, args.block).await.map_err(|error| match error {
            RpcError::MethodNotFound { url, method } => eyre::eyre!(
                "the node at {url} does not support {method}: --breakdown needs an OpenLedger node"
            ),
            other => other.into(),
        })?;
    print!("{}", describe(&breakdown));
    Ok(())
}

/// The breakdown as aligned lines, amounts in OPEN.
fn describe(breakdown: &BalanceBreakdown) -> String {
    let mut text = format!(
        "total      {}\nspendable  {}\nlocked     {}\nvested     {}\n",
        format_open(breakdown.total),
        format_open(breakdown.spendable),
        format_open(breakdown.locked),
        format_open(breakdown.vested),
    );
    match &breakdown.vesting {
        None => text.push_str("vesting    none\n"),
        Some(schedule) => {
            let start = schedule.start.to::<u64>();
            text.push_str(&format!(
                "vesting    {} from {} ({start}), cliff {} s, then linear over {} s\n",
                format_open(schedule.total),
                format_utc(start),
                schedule.cliff_seconds,
                schedule.linear_seconds,
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::VestingSchedule;
    use alloy_primitives::{U64, U256};

    #[test]
    fn breakdown_lines_are_in_open() {
        let open = |whole: u64| U256::from(whole) * U256::from(10u64).pow(U256::from(18));
        let breakdown = BalanceBreakdown {
            total: open(10),
            spendable: open(4),
            locked: open(6),
            vested: U256::from(500_000_000_000_000_000u64),
            vesting: Some(VestingSchedule {
                total: open(6),
                start: U64::from(0),
                cliff_seconds: U64::from(60),
                linear_seconds: U64::from(120),
            }),
        };
        let text = describe(&breakdown);
        assert!(text.contains("total      10 OPEN\n"), "{text}");
        assert!(text.contains("vested     0.5 OPEN\n"), "{text}");
        assert!(
            text.contains("vesting    6 OPEN from 1970-01-01 00:00:00 UTC (0), cliff 60 s, then linear over 120 s"),
            "{text}"
        );
    }
}
