//! The `ol_` namespace: OpenLedger-specific reads.

use super::{RpcContext, errors::internal};
use alloy_primitives::{Address, U64, U256};
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use ol_ledger::vesting;
use serde::Serialize;

/// An account's OPEN: total, spendable, locked and vested, with its schedule.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceBreakdown {
    /// Everything the account owns, in wei.
    pub total: U256,
    /// What it may spend now (what `eth_getBalance` returns).
    pub spendable: U256,
    /// Still locked by vesting.
    pub locked: U256,
    /// Vested so far under its schedule.
    pub vested: U256,
    /// Block time the figures are computed at.
    pub timestamp: U64,
    /// The vesting schedule, if any.
    pub vesting: Option<Schedule>,
}

/// A vesting schedule as served over JSON-RPC.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    /// Wei locked at the start.
    pub total: U256,
    /// Block time the schedule starts.
    pub start: U64,
    /// Seconds before anything vests.
    pub cliff_seconds: U64,
    /// Seconds of linear vesting after the cliff.
    pub linear_seconds: U64,
}

/// Registers the namespace.
pub fn register(module: &mut RpcModule<RpcContext>) {
    module
        .register_blocking_method("ol_getBalanceBreakdown", |params, ctx, _| {
            get_balance_breakdown(params, &ctx)
        })
        .expect("ol_getBalanceBreakdown is registered once");
}

fn get_balance_breakdown(
    params: Params<'_>,
    ctx: &RpcContext,
) -> Result<BalanceBreakdown, ErrorObjectOwned> {
    let mut p = super::eth::Positional::new(params, "ol_getBalanceBreakdown")?;
    let address: Address = p.required("address")?;
    let block: Option<alloy_eips::BlockId> = p.optional("block")?;
    p.finish()?;
    let state = super::eth::state_at(ctx, block)?;
    let now = state.header().header.timestamp;
    let b = vesting::balance_at(&state, &address, now).map_err(internal)?;
    Ok(BalanceBreakdown {
        total: b.total,
        spendable: b.spendable,
        locked: b.locked,
        vested: b.vested,
        timestamp: U64::from(now),
        vesting: b.schedule.map(|s| Schedule {
            total: s.total,
            start: U64::from(s.start),
            cliff_seconds: U64::from(s.cliff),
            linear_seconds: U64::from(s.linear),
        }),
    })
}
