//! Our stored types → the JSON-RPC types Ethereum clients read.

use alloy_consensus::{Sealed, transaction::Recovered};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, U256};
use alloy_rlp::Encodable;
use alloy_rpc_types_eth::{
    Block as RpcBlock, BlockTransactions, Header as RpcHeader, Log as RpcLog,
    Transaction as RpcTransaction, TransactionReceipt,
};
use ol_primitives::{Block, Receipt, RecoveredTransaction, SealedHeader};
use ol_storage::TxLocation;

/// A header as JSON-RPC serves it.
pub(crate) fn header(header: &SealedHeader, size: Option<u64>) -> RpcHeader {
    RpcHeader::from_consensus(
        Sealed::new_unchecked(header.header.clone(), header.hash),
        Some(U256::ZERO),
        size.map(U256::from),
    )
}

/// Size in bytes of the block's RLP encoding.
fn block_size(block: &Block) -> u64 {
    let transactions: usize = block.transactions.iter().map(|t| t.envelope.encode_2718_len()).sum();
    (block.header.header.length() + transactions + 8) as u64
}

/// A transaction as JSON-RPC serves it; `location` is `None` while pending.
pub(crate) fn transaction(
    tx: &RecoveredTransaction,
    location: Option<(&TxLocation, &SealedHeader)>,
) -> RpcTransaction {
    let recovered = Recovered::new_unchecked(tx.envelope.clone(), tx.sender);
    let info = alloy_consensus::transaction::TransactionInfo {
        hash: Some(tx.hash),
        index: location.map(|(l, _)| l.index),
        block_hash: location.map(|(l, _)| l.block_hash),
        block_number: location.map(|(l, _)| l.block_number),
        base_fee: location.and_then(|(_, h)| h.header.base_fee_per_gas),
        block_timestamp: location.map(|(_, h)| h.header.timestamp),
    };
    RpcTransaction::from_transaction(recovered, info)
}

/// A block, with full transactions or their hashes.
pub(crate) fn block(block: &Block, full: bool) -> RpcBlock {
    let size = block_size(block);
    let transactions = if full {
        let items = block
            .transactions
            .iter()
            .enumerate()
            .map(|(index, tx)| {
                let location = TxLocation {
                    block_number: block.header.number(),
                    block_hash: block.header.hash,
                    index: index as u64,
                };
                transaction(tx, Some((&location, &block.header)))
            })
            .collect();
        BlockTransactions::Full(items)
    } else {
        BlockTransactions::Hashes(block.transactions.iter().map(|t| t.hash).collect())
    };
    RpcBlock {
        header: header(&block.header, Some(size)),
        uncles: Vec::new(),
        transactions,
        withdrawals: Some(Default::default()),
    }
}

/// The logs of one receipt with their positions; `first_log_index` is the
/// number of logs in the block before this receipt.
pub(crate) fn logs(
    receipt: &Receipt,
    location: &TxLocation,
    timestamp: u64,
    first_log_index: u64,
) -> Vec<RpcLog> {
    receipt
        .envelope
        .logs()
        .iter()
        .enumerate()
        .map(|(i, log)| RpcLog {
            inner: log.clone(),
            block_hash: Some(location.block_hash),
            block_number: Some(location.block_number),
            block_timestamp: Some(timestamp),
            transaction_hash: Some(receipt.transaction_hash),
            transaction_index: Some(location.index),
            log_index: Some(first_log_index + i as u64),
            removed: false,
        })
        .collect()
}

/// A receipt as JSON-RPC serves it.
pub(crate) fn receipt(
    receipt: &Receipt,
    location: &TxLocation,
    timestamp: u64,
    first_log_index: u64,
    contract_address: Option<Address>,
) -> TransactionReceipt {
    let rpc_logs = logs(receipt, location, timestamp, first_log_index);
    let mut rpc_logs = rpc_logs.into_iter();
    let inner = receipt
        .envelope
        .clone()
        .map_logs(|_| rpc_logs.next().expect("one RPC log was built per consensus log above"));
    TransactionReceipt {
        inner,
        transaction_hash: receipt.transaction_hash,
        transaction_index: Some(location.index),
        block_hash: Some(location.block_hash),
        block_number: Some(location.block_number),
        gas_used: receipt.gas_used,
        effective_gas_price: receipt.effective_gas_price,
        blob_gas_used: None,
        // No blobs exist on this chain; the minimum blob price, as anvil reports.
        blob_gas_price: Some(1),
        from: receipt.from,
        to: receipt.to,
        contract_address,
    }
}
