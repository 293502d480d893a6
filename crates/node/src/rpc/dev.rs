//! Dev-mode accounts and chain control, as Hardhat's and Anvil's nodes serve
//! them, so test suites written for those nodes run unchanged.
//!
//! Accounts: `eth_accounts` lists the dev accounts ([`crate::dev`]);
//! `eth_sendTransaction`, `eth_sign`, `personal_sign` and
//! `eth_signTypedData_v4` sign with their keys. Chain control: `evm_mine`,
//! `hardhat_mine`/`anvil_mine`, `evm_increaseTime` and
//! `evm_setNextBlockTimestamp`, `evm_snapshot` and `evm_revert`. State
//! edits: `hardhat_setBalance`, `hardhat_setNonce`, `hardhat_setCode`,
//! `hardhat_setStorageAt` and their `anvil_` aliases, each sealed as a
//! block (see [`seal_edit`]). A node
//! started without `--dev` refuses every one of them (`-32601`, naming the
//! method) except `eth_accounts`, which lists no accounts there, as geth
//! without a keystore does.

use super::{
    RpcContext,
    errors::{self, internal, invalid_params},
    eth::{Positional, SUGGESTED_TIP},
};
use crate::{
    chain::DevEdit,
    dev::{DEV_ACCOUNTS, DEV_PRODUCER, dev_signer},
};
use alloy_consensus::{
    SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy, TypedTransaction,
};
use alloy_dyn_abi::TypedData;
use alloy_eips::{eip2718::Encodable2718, eip2930::AccessList};
use alloy_primitives::{Address, B256, Bytes, TxKind, U64, U128, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params, error::ErrorCode},
};
use ol_ledger::StateView;
use serde::Deserialize;
use std::sync::OnceLock;

type RpcResult<T> = Result<T, ErrorObjectOwned>;

type Method = fn(Params<'_>, &RpcContext) -> RpcResult<serde_json::Value>;

/// Most blocks one `hardhat_mine` call seals (each is a stored block).
pub const MAX_MINE_BLOCKS: u64 = 10_000;

/// Largest code `hardhat_setCode` sets: EIP-170's limit on deployed code.
pub const MAX_CODE_SIZE: usize = 24_576;

/// Registers the dev methods.
pub fn register(module: &mut RpcModule<RpcContext>) {
    module
        .register_method("eth_accounts", |params, ctx, _| {
            ctx.chain.metrics().rpc_calls.inc();
            Positional::new(params, "eth_accounts")?.finish()?;
            // Checksummed (EIP-55), as wallets display them.
            let accounts: Vec<String> = if ctx.config.dev {
                signers().iter().map(|s| s.address().to_checksum(None)).collect()
            } else {
                vec![]
            };
            json(accounts)
        })
        .expect("eth_accounts is registered once");
    let methods: &[(&'static str, Method)] = &[
        ("eth_sendTransaction", eth_send_transaction),
        ("eth_sign", eth_sign),
        ("personal_sign", personal_sign),
        ("eth_signTypedData_v4", eth_sign_typed_data_v4),
        ("evm_mine", evm_mine),
        ("hardhat_mine", hardhat_mine),
        ("anvil_mine", anvil_mine),
        ("evm_increaseTime", evm_increase_time),
        ("evm_setNextBlockTimestamp", evm_set_next_block_timestamp),
        ("evm_snapshot", evm_snapshot),
        ("evm_revert", evm_revert),
        ("hardhat_setBalance", |p, ctx| set_balance(p, ctx, "hardhat_setBalance")),
        ("anvil_setBalance", |p, ctx| set_balance(p, ctx, "anvil_setBalance")),
        ("hardhat_setNonce", |p, ctx| set_nonce(p, ctx, "hardhat_setNonce")),
        ("anvil_setNonce", |p, ctx| set_nonce(p, ctx, "anvil_setNonce")),
        ("hardhat_setCode", |p, ctx| set_code(p, ctx, "hardhat_setCode")),
        ("anvil_setCode", |p, ctx| set_code(p, ctx, "anvil_setCode")),
        ("hardhat_setStorageAt", |p, ctx| set_storage_at(p, ctx, "hardhat_setStorageAt")),
        ("anvil_setStorageAt", |p, ctx| set_storage_at(p, ctx, "anvil_setStorageAt")),
    ];
    for (name, method) in methods {
        let (name, method) = (*name, *method);
        // Sealing and signing touch storage or take milliseconds: off the
        // calling task.
        module
            .register_blocking_method(name, move |params, ctx, _| {
                ctx.chain.metrics().rpc_calls.inc();
                if !ctx.config.dev {
                    return Err(errors::error(
                        ErrorCode::MethodNotFound.code(),
                        format!(
                            "{name} is a dev-only method: this node was not started with --dev"
                        ),
                    ));
                }
                method(params, &ctx)
            })
            .expect("every dev method name is registered once");
    }
}

fn json<T: serde::Serialize>(value: T) -> RpcResult<serde_json::Value> {
    serde_json::to_value(value).map_err(internal)
}

/// The dev accounts' signers, in Hardhat's and Anvil's order (derived once:
/// each derivation is a PBKDF2 run).
fn signers() -> &'static [PrivateKeySigner] {
    static SIGNERS: OnceLock<Vec<PrivateKeySigner>> = OnceLock::new();
    SIGNERS.get_or_init(|| (0..DEV_ACCOUNTS).map(dev_signer).collect())
}

/// The dev signer of `address`, or a `-32602` naming the method.
fn signer_of(method: &str, address: &Address) -> RpcResult<&'static PrivateKeySigner> {
    signers().iter().find(|s| s.address() == *address).ok_or_else(|| {
        invalid_params(format!(
            "{method}: {address} is not a dev account of this node; eth_accounts lists the {DEV_ACCOUNTS} it signs for"
        ))
    })
}

/// A non-negative integer given as a JSON number or a `0x` hex string, as
/// Hardhat's and Foundry's helpers send them.
#[derive(Debug, Clone, Copy)]
struct Quantity(u64);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        let invalid = || {
            serde::de::Error::custom("expected a non-negative integer (a JSON number or 0x hex)")
        };
        match Raw::deserialize(deserializer).map_err(|_| invalid())? {
            Raw::Number(n) => Ok(Self(n)),
            Raw::Text(text) => {
                let digits = text.strip_prefix("0x").ok_or_else(invalid)?;
                u64::from_str_radix(digits, 16).map(Self).map_err(|_| invalid())
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------

/// The transaction object of `eth_sendTransaction`: the fields Hardhat,
/// ethers, viem and web3.py send; any other is refused.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SendRequest {
    from: Address,
    to: Option<Address>,
    value: Option<U256>,
    data: Option<Bytes>,
    input: Option<Bytes>,
    gas: Option<U64>,
    gas_price: Option<U128>,
    max_fee_per_gas: Option<U128>,
    max_priority_fee_per_gas: Option<U128>,
    nonce: Option<U64>,
    #[serde(rename = "type")]
    kind: Option<U64>,
    access_list: Option<AccessList>,
    chain_id: Option<U64>,
}

/// How the transaction pays for gas.
#[derive(Debug, Clone, Copy)]
enum Fees {
    Legacy { gas_price: u128 },
    AccessList { gas_price: u128 },
    Dynamic { max_fee: u128, tip: u128 },
}

impl SendRequest {
    fn input(&self) -> RpcResult<Bytes> {
        match (&self.input, &self.data) {
            (Some(input), Some(data)) if input != data => Err(invalid_params(
                "eth_sendTransaction: both input and data are set, to different bytes",
            )),
            (Some(bytes), _) | (None, Some(bytes)) => Ok(bytes.clone()),
            (None, None) => Ok(Bytes::new()),
        }
    }

    /// The fee fields, defaulted as Hardhat does: EIP-1559 unless a gas
    /// price or a legacy type is given.
    fn fees(&self, base_fee: u64) -> RpcResult<Fees> {
        let refuse = |why: &str| Err(invalid_params(format!("eth_sendTransaction: {why}")));
        let dynamic = self.max_fee_per_gas.is_some() || self.max_priority_fee_per_gas.is_some();
        let kind = match self.kind.map(|k| k.to::<u64>()) {
            Some(kind) => kind,
            None if self.gas_price.is_none() => 2,
            None if self.access_list.is_some() => 1,
            None => 0,
        };
        let default_price = u128::from(base_fee) + SUGGESTED_TIP;
        match kind {
            0 | 1 if dynamic => {
                refuse("maxFeePerGas and maxPriorityFeePerGas need a type 2 transaction")
            }
            0 if self.access_list.is_some() => {
                refuse("a legacy (type 0) transaction has no access list")
            }
            0 => Ok(Fees::Legacy {
                gas_price: self.gas_price.map_or(default_price, |p| p.to::<u128>()),
            }),
            1 => Ok(Fees::AccessList {
                gas_price: self.gas_price.map_or(default_price, |p| p.to::<u128>()),
            }),
            2 if self.gas_price.is_some() => refuse(
                "gasPrice is for legacy transactions; a type 2 transaction takes maxFeePerGas",
            ),
            2 => {
                let max_fee = self.max_fee_per_gas.map(|f| f.to::<u128>());
                let tip = self
                    .max_priority_fee_per_gas
                    .map_or(SUGGESTED_TIP.min(max_fee.unwrap_or(u128::MAX)), |t| t.to::<u128>());
                let max_fee = max_fee.unwrap_or(2 * u128::from(base_fee) + tip);
                if tip > max_fee {
                    return refuse(&format!(
                        "maxPriorityFeePerGas {tip} is above maxFeePerGas {max_fee}"
                    ));
                }
                Ok(Fees::Dynamic { max_fee, tip })
            }
            other => refuse(&format!(
                "transaction type {other} is not supported: use 0 (legacy), 1 (EIP-2930) or 2 (EIP-1559)"
            )),
        }
    }
}

/// Fills, signs with the dev key of `from` and submits a transaction, as
/// `eth_sendRawTransaction` would (waiting for its block when automining);
/// returns its hash.
fn eth_send_transaction(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_sendTransaction")?;
    let request: SendRequest = p.required("transaction object")?;
    p.finish()?;
    let signer = signer_of("eth_sendTransaction", &request.from)?;
    let chain_id = ctx.chain.spec().chain_id;
    if let Some(given) = request.chain_id
        && given.to::<u64>() != chain_id
    {
        return Err(invalid_params(format!(
            "eth_sendTransaction: chainId {given} is not this chain's ({chain_id})"
        )));
    }
    let input = request.input()?;
    let fees = request.fees(ctx.chain.next_base_fee())?;
    let nonce = match request.nonce {
        Some(nonce) => nonce.to::<u64>(),
        None => ctx.chain.pending_nonce(&request.from)?,
    };
    let gas_limit = match request.gas {
        Some(gas) => gas.to::<u64>(),
        None => estimate_gas(ctx, &request, &input)?,
    };
    let to = request.to.map_or(TxKind::Create, TxKind::Call);
    let value = request.value.unwrap_or_default();
    let access_list = request.access_list.unwrap_or_default();
    let tx: TypedTransaction = match fees {
        Fees::Legacy { gas_price } => {
            TxLegacy { chain_id: Some(chain_id), nonce, gas_price, gas_limit, to, value, input }
                .into()
        }
        Fees::AccessList { gas_price } => {
            TxEip2930 { chain_id, nonce, gas_price, gas_limit, to, value, access_list, input }
                .into()
        }
        Fees::Dynamic { max_fee, tip } => TxEip1559 {
            chain_id,
            nonce,
            gas_limit,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: tip,
            to,
            value,
            access_list,
            input,
        }
        .into(),
    };
    let signature = signer.sign_hash_sync(&tx.signature_hash()).map_err(internal)?;
    let raw = TxEnvelope::from(tx.into_signed(signature)).encoded_2718();
    // On the blocking pool, where waiting for the automined block may block.
    let submitted = tokio::runtime::Handle::current().block_on(ctx.chain.submit_raw_sealed(&raw));
    json(submitted.map_err(errors::submit_error)?)
}

/// The gas `request` needs, by the same rules as `eth_estimateGas`.
fn estimate_gas(ctx: &RpcContext, request: &SendRequest, input: &Bytes) -> RpcResult<u64> {
    let call = serde_json::json!([{
        "from": request.from,
        "to": request.to,
        "value": request.value,
        "input": input,
        "accessList": request.access_list,
    }]);
    let text = call.to_string();
    let estimate = super::eth::eth_estimate_gas(Params::new(Some(&text)), ctx)?;
    let gas: U64 = serde_json::from_value(estimate).map_err(internal)?;
    Ok(gas.to())
}

/// `eth_sign(address, data)`: the EIP-191 personal-message signature of `data`.
fn eth_sign(params: Params<'_>, _ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_sign")?;
    let address: Address = p.required("address")?;
    let message: Bytes = p.required("message bytes (0x hex)")?;
    p.finish()?;
    sign_message(signer_of("eth_sign", &address)?, &message)
}

/// `personal_sign(message, address)`: as `eth_sign`, the parameters swapped;
/// a message that is not `0x` hex is signed as its UTF-8 bytes, as Hardhat does.
fn personal_sign(params: Params<'_>, _ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "personal_sign")?;
    let message: String = p.required("message")?;
    let address: Address = p.required("address")?;
    p.finish()?;
    let bytes = match message.strip_prefix("0x") {
        Some(_) => message.parse::<Bytes>().map_err(|e| {
            invalid_params(format!("personal_sign: invalid parameter 0 (message): {e}"))
        })?,
        None => Bytes::from(message.into_bytes()),
    };
    sign_message(signer_of("personal_sign", &address)?, &bytes)
}

fn sign_message(signer: &PrivateKeySigner, message: &[u8]) -> RpcResult<serde_json::Value> {
    let signature = signer.sign_message_sync(message).map_err(internal)?;
    json(Bytes::from(signature.as_bytes()))
}

/// `eth_signTypedData_v4(address, typedData)`: the EIP-712 signature of the
/// typed data (a JSON object, or a string holding one).
fn eth_sign_typed_data_v4(params: Params<'_>, _ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_signTypedData_v4")?;
    let address: Address = p.required("address")?;
    let typed: TypedData = p.required("typed data")?;
    p.finish()?;
    let signer = signer_of("eth_signTypedData_v4", &address)?;
    let hash = typed
        .eip712_signing_hash()
        .map_err(|e| invalid_params(format!("eth_signTypedData_v4: invalid typed data: {e}")))?;
    let signature = signer.sign_hash_sync(&hash).map_err(internal)?;
    json(Bytes::from(signature.as_bytes()))
}

// ---------------------------------------------------------------------------
// Chain control
// ---------------------------------------------------------------------------

/// Seals one block now, with whatever the pool holds (possibly nothing).
fn mine_one(ctx: &RpcContext) -> RpcResult<u64> {
    Ok(ctx.chain.seal_block(DEV_PRODUCER, usize::MAX)?.header.header.timestamp)
}

fn pin_timestamp(ctx: &RpcContext, method: &str, timestamp: u64) -> RpcResult<()> {
    ctx.chain.set_next_timestamp(timestamp).map_err(|e| invalid_params(format!("{method}: {e}")))
}

/// `evm_mine(timestamp?)`: seals one block (at `timestamp` when given);
/// answers `"0x0"` as Hardhat and Anvil do.
fn evm_mine(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "evm_mine")?;
    let timestamp: Option<Quantity> = p.optional("timestamp")?;
    p.finish()?;
    if let Some(Quantity(timestamp)) = timestamp {
        pin_timestamp(ctx, "evm_mine", timestamp)?;
    }
    mine_one(ctx)?;
    Ok(serde_json::json!("0x0"))
}

/// `hardhat_mine(blocks = 1, interval = 1)`: seals `blocks` blocks,
/// `interval` seconds apart.
fn hardhat_mine(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    mine_many(params, ctx, "hardhat_mine")?;
    Ok(serde_json::Value::Bool(true))
}

/// `anvil_mine(blocks = 1, interval = 1)`: as `hardhat_mine`.
fn anvil_mine(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    mine_many(params, ctx, "anvil_mine")?;
    Ok(serde_json::Value::Null)
}

fn mine_many(params: Params<'_>, ctx: &RpcContext, method: &'static str) -> RpcResult<()> {
    let mut p = Positional::new(params, method)?;
    let blocks = p.optional::<Quantity>("block count")?.map_or(1, |q| q.0);
    let interval = p.optional::<Quantity>("interval in seconds")?.map_or(1, |q| q.0);
    p.finish()?;
    if blocks > MAX_MINE_BLOCKS {
        return Err(invalid_params(format!(
            "{method}: at most {MAX_MINE_BLOCKS} blocks per call, asked for {blocks}"
        )));
    }
    let mut last = None;
    for _ in 0..blocks {
        if let Some(previous) = last {
            pin_timestamp(ctx, method, u64::saturating_add(previous, interval))?;
        }
        last = Some(mine_one(ctx)?);
    }
    Ok(())
}

/// `evm_increaseTime(seconds)`: moves the clock of the next blocks forward;
/// answers the total offset in seconds.
fn evm_increase_time(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "evm_increaseTime")?;
    let Quantity(seconds) = p.required("seconds")?;
    p.finish()?;
    json(ctx.chain.increase_time(seconds))
}

/// `evm_setNextBlockTimestamp(timestamp)`: the next block carries exactly
/// `timestamp` (not before the latest block's), and time runs on from it.
fn evm_set_next_block_timestamp(
    params: Params<'_>,
    ctx: &RpcContext,
) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "evm_setNextBlockTimestamp")?;
    let Quantity(timestamp) = p.required("timestamp")?;
    p.finish()?;
    pin_timestamp(ctx, "evm_setNextBlockTimestamp", timestamp)?;
    Ok(serde_json::Value::Null)
}

/// `evm_snapshot()`: saves the chain as it is; answers the snapshot's id
/// (`"0x1"`, `"0x2"`, …) for `evm_revert`. Snapshots live in the node's
/// memory: a restart forgets them all.
fn evm_snapshot(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    Positional::new(params, "evm_snapshot")?.finish()?;
    json(U64::from(ctx.chain.take_snapshot()?))
}

/// `evm_revert(id)`: returns the chain to snapshot `id` — blocks, receipts,
/// state, head and the dev clock as they were; the pool emptied — and
/// uses up that snapshot and every later one, as Hardhat Network does.
/// `true` if reverted, `false` for an id not held. Installed filters are
/// moved back to report the blocks sealed from the restored head on.
/// Contribution bytes are not part of the chain and stay as they are:
/// bytes uploaded since the snapshot remain, bytes forgotten since remain
/// forgotten.
fn evm_revert(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "evm_revert")?;
    let Quantity(id) = p.required("snapshot id")?;
    p.finish()?;
    let reverted = ctx.chain.revert_to_snapshot(id)?;
    if reverted {
        ctx.filters.rewind(ctx.chain.head().number());
    }
    Ok(serde_json::Value::Bool(reverted))
}

// ---------------------------------------------------------------------------
// State edits
// ---------------------------------------------------------------------------

/// Seals `edit` into a block ([`Chain::seal_dev_edits`]) and answers as the
/// namespace does: Hardhat's `true`, anvil's `null`.
///
/// Hardhat Network and anvil change the state without a block, leaving
/// the head's state root stale until the next one. Here each edit is an
/// empty block carrying it (at its parent's timestamp): what `latest`
/// reads is what the head's state root commits to, `eth_getProof`
/// verifies against it, and the edit is at a block number in the history
/// like any change. The cost: the block number moves by one per edit.
///
/// [`Chain::seal_dev_edits`]: crate::chain::Chain::seal_dev_edits
fn seal_edit(ctx: &RpcContext, method: &str, edit: DevEdit) -> RpcResult<serde_json::Value> {
    ctx.chain.seal_dev_edits(DEV_PRODUCER, &[edit])?;
    Ok(if method.starts_with("hardhat_") {
        serde_json::Value::Bool(true)
    } else {
        serde_json::Value::Null
    })
}

/// `hardhat_setBalance(address, balance)` / `anvil_setBalance`: sets the
/// account's balance (wei, a quantity), in a block of its own (see
/// [`seal_edit`]).
fn set_balance(
    params: Params<'_>,
    ctx: &RpcContext,
    method: &'static str,
) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, method)?;
    let address: Address = p.required("address")?;
    let balance: U256 = p.required("balance (0x quantity)")?;
    p.finish()?;
    seal_edit(ctx, method, DevEdit::Balance(address, balance))
}

/// `hardhat_setNonce(address, nonce)` / `anvil_setNonce`: sets the
/// account's nonce, in a block of its own (see [`seal_edit`]). A nonce
/// below the current one is refused, as Hardhat refuses it (pooled
/// transactions could not follow it back).
fn set_nonce(
    params: Params<'_>,
    ctx: &RpcContext,
    method: &'static str,
) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, method)?;
    let address: Address = p.required("address")?;
    let Quantity(nonce) = p.required("nonce")?;
    p.finish()?;
    let current = ctx.chain.snapshot()?.account(&address).map_err(internal)?.map_or(0, |a| a.nonce);
    if nonce < current {
        return Err(invalid_params(format!(
            "{method}: nonce {nonce} is below {address}'s current nonce {current}; a nonce can only go up"
        )));
    }
    seal_edit(ctx, method, DevEdit::Nonce(address, nonce))
}

/// `hardhat_setCode(address, code)` / `anvil_setCode`: sets the account's
/// code (`0x` removes it), in a block of its own (see [`seal_edit`]).
fn set_code(
    params: Params<'_>,
    ctx: &RpcContext,
    method: &'static str,
) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, method)?;
    let address: Address = p.required("address")?;
    let code: Bytes = p.required("code (0x hex)")?;
    p.finish()?;
    if code.len() > MAX_CODE_SIZE {
        return Err(invalid_params(format!(
            "{method}: code of {} bytes is over the {MAX_CODE_SIZE}-byte limit (EIP-170)",
            code.len()
        )));
    }
    seal_edit(ctx, method, DevEdit::Code(address, code))
}

/// `hardhat_setStorageAt(address, slot, value)` / `anvil_setStorageAt`:
/// sets one storage word (the slot a quantity, the value 32 bytes), in a
/// block of its own (see [`seal_edit`]).
fn set_storage_at(
    params: Params<'_>,
    ctx: &RpcContext,
    method: &'static str,
) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, method)?;
    let address: Address = p.required("address")?;
    let slot: U256 = p.required("storage slot (0x quantity)")?;
    let value: B256 = p.required("value (32 bytes, 0x hex)")?;
    p.finish()?;
    seal_edit(ctx, method, DevEdit::Storage(address, B256::from(slot), value.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::b256;

    /// The "Mail" example of EIP-712: its signing hash as the EIP documents it.
    #[test]
    fn eip712_mail_example_hash() {
        let typed: TypedData = serde_json::from_value(serde_json::json!({
            "types": {
                "EIP712Domain": [
                    { "name": "name", "type": "string" },
                    { "name": "version", "type": "string" },
                    { "name": "chainId", "type": "uint256" },
                    { "name": "verifyingContract", "type": "address" }
                ],
                "Person": [
                    { "name": "name", "type": "string" },
                    { "name": "wallet", "type": "address" }
                ],
                "Mail": [
                    { "name": "from", "type": "Person" },
                    { "name": "to", "type": "Person" },
                    { "name": "contents", "type": "string" }
                ]
            },
            "primaryType": "Mail",
            "domain": {
                "name": "Ether Mail",
                "version": "1",
                "chainId": 1,
                "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
            },
            "message": {
                "from": { "name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
                "to": { "name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
                "contents": "Hello, Bob!"
            }
        }))
        .unwrap();
        assert_eq!(
            typed.eip712_signing_hash().unwrap(),
            b256!("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2")
        );
        // The EIP's signature, by the key keccak256("cow").
        let cow: PrivateKeySigner =
            "0xc85ef7d79691fe79573b1a7064c19c1a9819ebdbd1faaab1a8ec92344438aaf4".parse().unwrap();
        let signature = cow.sign_hash_sync(&typed.eip712_signing_hash().unwrap()).unwrap();
        assert_eq!(
            Bytes::from(signature.as_bytes()).to_string(),
            "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b915621c"
        );
    }

    #[test]
    fn quantities_are_numbers_or_hex() {
        let parse = |v: serde_json::Value| serde_json::from_value::<Quantity>(v).map(|q| q.0);
        assert_eq!(parse(serde_json::json!(3600)).unwrap(), 3600);
        assert_eq!(parse(serde_json::json!("0xe10")).unwrap(), 3600);
        assert!(parse(serde_json::json!(-1)).is_err());
        assert!(parse(serde_json::json!("3600")).is_err());
        assert!(parse(serde_json::json!("0xzz")).is_err());
    }

    #[test]
    fn fee_defaults_follow_hardhat() {
        let request = |v: serde_json::Value| serde_json::from_value::<SendRequest>(v).unwrap();
        let from = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
        let fees = request(serde_json::json!({ "from": from })).fees(7).unwrap();
        assert!(
            matches!(fees, Fees::Dynamic { max_fee, tip } if tip == SUGGESTED_TIP && max_fee == 14 + SUGGESTED_TIP)
        );
        let fees =
            request(serde_json::json!({ "from": from, "gasPrice": "0x10" })).fees(7).unwrap();
        assert!(matches!(fees, Fees::Legacy { gas_price: 16 }));
        let both =
            request(serde_json::json!({ "from": from, "gasPrice": "0x1", "maxFeePerGas": "0x2" }));
        assert!(both.fees(7).is_err());
        let blob = request(serde_json::json!({ "from": from, "type": "0x3" }));
        assert!(blob.fees(7).unwrap_err().message().contains("type 3"));
        assert!(
            serde_json::from_value::<SendRequest>(
                serde_json::json!({ "from": from, "gasLimit": "0x1" })
            )
            .is_err()
        );
    }
}
