//! How records are laid out in the database (schema version
//! [`SCHEMA_VERSION`]).
//!
//! Fixed layouts, big-endian integers:
//! - account: `flags | nonce | balance [| code_hash]`, see [`encode_account`];
//! - storage key: `address 20 | slot 32`; storage value: the word, 32 bytes;
//! - contract code: keyed by its keccak256 (32 bytes), the raw bytes (since
//!   version 3);
//! - header: its Ethereum RLP (the hash is recomputed on read);
//! - a block's transactions and receipts: one value each, see
//!   [`encode_records`]; a transaction is `sender 20 | EIP-2718 envelope`;
//! - receipt: `tx type u8 | tx hash 32 | from 20 | to flag u8 [| to 20] |
//!   gas_used u64 | effective_gas_price u128 | RLP(status) RLP(cumulative
//!   gas) RLP(logs)` — the 256-byte bloom is not stored but derived from the
//!   logs on read;
//! - transaction location: `block number u64 | index u64`;
//! - recent transaction hashes of a block: the 32-byte hashes in order;
//! - a block's account changes: see [`encode_account_changes`];
//! - account and storage history: runs of changes per block span, see
//!   `history` (an account as above; a word without leading zeros, see
//!   [`put_history_word`]).
//!
//! Every decoder refuses bad bytes with a message instead of panicking.

use alloy_consensus::{Eip658Value, Header, ReceiptEnvelope, TxEnvelope, TxType};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256, Log, U256};
use alloy_rlp::{Decodable, Encodable};
use ol_ledger::{Account, state::EMPTY_CODE_HASH};
use ol_primitives::{Receipt, RecoveredTransaction, SealedHeader};

/// The version of the layouts above. A file written with another version is
/// refused at open.
pub const SCHEMA_VERSION: u32 = 3;

/// A decoding failure: what was wrong with the bytes.
pub(crate) type DecodeResult<T> = Result<T, String>;

fn take<'a>(bytes: &mut &'a [u8], len: usize, field: &str) -> DecodeResult<&'a [u8]> {
    if bytes.len() < len {
        return Err(format!("{field}: needs {len} bytes, {} left", bytes.len()));
    }
    let (head, tail) = bytes.split_at(len);
    *bytes = tail;
    Ok(head)
}

fn take_array<const N: usize>(bytes: &mut &[u8], field: &str) -> DecodeResult<[u8; N]> {
    let slice = take(bytes, N, field)?;
    let mut out = [0u8; N];
    out.copy_from_slice(slice);
    Ok(out)
}

fn finish(bytes: &[u8], what: &str) -> DecodeResult<()> {
    if bytes.is_empty() {
        Ok(())
    } else {
        Err(format!("{} trailing bytes after the {what}", bytes.len()))
    }
}

/// Account record flag: a code hash follows (the account has code).
const HAS_CODE: u8 = 1;

/// Appends `bytes` without leading zeros, after a length byte.
fn put_trimmed(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    out.push((bytes.len() - start) as u8);
    out.extend_from_slice(&bytes[start..]);
}

/// Reads what [`put_trimmed`] wrote into the low end of `N` bytes.
fn take_trimmed<const N: usize>(bytes: &mut &[u8], field: &str) -> DecodeResult<[u8; N]> {
    let len = usize::from(take_array::<1>(bytes, field)?[0]);
    if len > N {
        return Err(format!("{field}: {len} bytes, at most {N} allowed"));
    }
    let mut out = [0u8; N];
    out[N - len..].copy_from_slice(take(bytes, len, field)?);
    Ok(out)
}

/// Encodes an account: `flags u8 | nonce (len u8, bytes) | balance (len u8,
/// bytes) [| code_hash 32 when flags has HAS_CODE]`, integers big-endian
/// without leading zeros. Typical accounts take 10–20 bytes instead of 72,
/// which keeps the accounts table, and the pages a block rewrites, small.
pub(crate) fn encode_account(account: &Account) -> Vec<u8> {
    let has_code = account.code_hash != EMPTY_CODE_HASH;
    let mut out = Vec::with_capacity(if has_code { 76 } else { 44 });
    put_account(account, &mut out);
    out
}

/// Appends the record [`encode_account`] makes to `out`.
pub(crate) fn put_account(account: &Account, out: &mut Vec<u8>) {
    let has_code = account.code_hash != EMPTY_CODE_HASH;
    out.push(if has_code { HAS_CODE } else { 0 });
    put_trimmed(out, &account.nonce.to_be_bytes());
    put_trimmed(out, &account.balance.to_be_bytes::<32>());
    if has_code {
        out.extend_from_slice(account.code_hash.as_slice());
    }
}

/// Decodes an account.
pub(crate) fn decode_account(bytes: &[u8]) -> DecodeResult<Account> {
    let mut buf = bytes;
    let flags = take_array::<1>(&mut buf, "account flags")?[0];
    if flags & !HAS_CODE != 0 {
        return Err(format!("unknown account flags {flags:#04x}"));
    }
    let nonce = u64::from_be_bytes(take_trimmed(&mut buf, "nonce")?);
    let balance = U256::from_be_bytes(take_trimmed::<32>(&mut buf, "balance")?);
    let code_hash = if flags & HAS_CODE != 0 {
        B256::from(take_array::<32>(&mut buf, "code hash")?)
    } else {
        EMPTY_CODE_HASH
    };
    finish(buf, "account")?;
    Ok(Account { nonce, balance, code_hash })
}

/// The key of one storage slot: address then slot, so one account's slots
/// are contiguous.
pub(crate) fn storage_key(address: &Address, slot: &B256) -> [u8; 52] {
    let mut out = [0u8; 52];
    out[..20].copy_from_slice(address.as_slice());
    out[20..].copy_from_slice(slot.as_slice());
    out
}

/// Splits a storage key.
pub(crate) fn decode_storage_key(bytes: &[u8]) -> DecodeResult<(Address, B256)> {
    if bytes.len() != 52 {
        return Err(format!("storage key is {} bytes, expected 52", bytes.len()));
    }
    Ok((Address::from_slice(&bytes[..20]), B256::from_slice(&bytes[20..])))
}

/// Decodes a storage word.
pub(crate) fn decode_word(bytes: &[u8]) -> DecodeResult<U256> {
    let word: [u8; 32] = bytes
        .try_into()
        .map_err(|_| format!("storage word is {} bytes, expected 32", bytes.len()))?;
    Ok(U256::from_be_bytes(word))
}

/// Appends a word big-endian without leading zeros (nothing for zero), as
/// the storage history keeps it.
pub(crate) fn put_history_word(word: &U256, out: &mut Vec<u8>) {
    let bytes = word.to_be_bytes::<32>();
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    out.extend_from_slice(&bytes[start..]);
}

/// Decodes what [`put_history_word`] wrote.
pub(crate) fn decode_history_word(bytes: &[u8]) -> DecodeResult<U256> {
    if bytes.len() > 32 {
        return Err(format!("history word is {} bytes, at most 32 allowed", bytes.len()));
    }
    let mut word = [0u8; 32];
    word[32 - bytes.len()..].copy_from_slice(bytes);
    Ok(U256::from_be_bytes(word))
}

/// Encodes a header.
pub(crate) fn encode_header(header: &Header) -> Vec<u8> {
    alloy_rlp::encode(header)
}

/// Decodes a header and seals it.
pub(crate) fn decode_header(bytes: &[u8]) -> DecodeResult<SealedHeader> {
    let mut buf = bytes;
    let header = Header::decode(&mut buf).map_err(|e| format!("header RLP: {e}"))?;
    finish(buf, "header")?;
    Ok(SealedHeader::seal(header))
}

/// Encodes a transaction with its sender.
pub(crate) fn encode_transaction(transaction: &RecoveredTransaction, out: &mut Vec<u8>) {
    out.extend_from_slice(transaction.sender.as_slice());
    transaction.envelope.encode_2718(out);
}

/// Decodes a transaction stored with its sender.
pub(crate) fn decode_transaction(bytes: &[u8]) -> DecodeResult<RecoveredTransaction> {
    let mut buf = bytes;
    let sender = Address::from(take_array::<20>(&mut buf, "sender")?);
    let envelope =
        TxEnvelope::decode_2718(&mut buf).map_err(|e| format!("transaction envelope: {e}"))?;
    finish(buf, "transaction")?;
    Ok(RecoveredTransaction::from_trusted(envelope, sender))
}

/// Encodes a receipt (without its bloom, which the logs determine).
pub(crate) fn encode_receipt(receipt: &Receipt, out: &mut Vec<u8>) {
    let envelope = &receipt.envelope;
    out.push(envelope.tx_type() as u8);
    out.extend_from_slice(receipt.transaction_hash.as_slice());
    out.extend_from_slice(receipt.from.as_slice());
    match receipt.to {
        Some(to) => {
            out.push(1);
            out.extend_from_slice(to.as_slice());
        }
        None => out.push(0),
    }
    out.extend_from_slice(&receipt.gas_used.to_be_bytes());
    out.extend_from_slice(&receipt.effective_gas_price.to_be_bytes());
    let (status, cumulative, logs) = match envelope.as_receipt() {
        Some(inner) => (inner.status, inner.cumulative_gas_used, inner.logs.as_slice()),
        None => (
            Eip658Value::Eip658(envelope.status()),
            envelope.cumulative_gas_used(),
            envelope.logs(),
        ),
    };
    status.encode(out);
    cumulative.encode(out);
    alloy_rlp::encode_list(logs, out);
}

fn tx_type(byte: u8) -> DecodeResult<TxType> {
    Ok(match byte {
        0 => TxType::Legacy,
        1 => TxType::Eip2930,
        2 => TxType::Eip1559,
        3 => TxType::Eip4844,
        4 => TxType::Eip7702,
        other => return Err(format!("unknown receipt type {other}")),
    })
}

/// Decodes a receipt, recomputing its bloom.
pub(crate) fn decode_receipt(bytes: &[u8]) -> DecodeResult<Receipt> {
    let mut buf = bytes;
    let kind = tx_type(take_array::<1>(&mut buf, "receipt type")?[0])?;
    let transaction_hash = B256::from(take_array::<32>(&mut buf, "transaction hash")?);
    let from = Address::from(take_array::<20>(&mut buf, "from")?);
    let to = match take_array::<1>(&mut buf, "to flag")?[0] {
        0 => None,
        1 => Some(Address::from(take_array::<20>(&mut buf, "to")?)),
        other => return Err(format!("bad 'to' flag {other}")),
    };
    let gas_used = u64::from_be_bytes(take_array(&mut buf, "gas used")?);
    let effective_gas_price = u128::from_be_bytes(take_array(&mut buf, "gas price")?);
    let status = Eip658Value::decode(&mut buf).map_err(|e| format!("receipt status: {e}"))?;
    let cumulative_gas_used = u64::decode(&mut buf).map_err(|e| format!("cumulative gas: {e}"))?;
    let logs = Vec::<Log>::decode(&mut buf).map_err(|e| format!("receipt logs: {e}"))?;
    finish(buf, "receipt")?;
    let inner = alloy_consensus::Receipt { status, cumulative_gas_used, logs };
    Ok(Receipt {
        envelope: ReceiptEnvelope::from_typed(kind, inner.with_bloom()),
        transaction_hash,
        from,
        to,
        gas_used,
        effective_gas_price,
    })
}

/// Encodes a block's records (transactions or receipts) as one value:
/// `count u32 | end offset u32 per record | records`, offsets relative to
/// the first record, so that one record is read without decoding the others.
pub(crate) fn encode_records<T>(items: &[T], encode: impl Fn(&T, &mut Vec<u8>)) -> Vec<u8> {
    let header = 4 + 4 * items.len();
    let mut out = vec![0u8; header];
    out.reserve(items.len() * 160);
    out[..4].copy_from_slice(&(items.len() as u32).to_be_bytes());
    for (index, item) in items.iter().enumerate() {
        encode(item, &mut out);
        let end = (out.len() - header) as u32;
        out[4 + 4 * index..8 + 4 * index].copy_from_slice(&end.to_be_bytes());
    }
    out
}

/// The records of a value written by [`encode_records`].
pub(crate) struct Records<'a> {
    ends: &'a [u8],
    body: &'a [u8],
}

impl<'a> Records<'a> {
    /// Checks the layout of `bytes`.
    pub(crate) fn parse(bytes: &'a [u8]) -> DecodeResult<Self> {
        let mut buf = bytes;
        let count = u32::from_be_bytes(take_array(&mut buf, "record count")?) as usize;
        let ends = take(&mut buf, count.saturating_mul(4), "record offsets")?;
        let records = Self { ends, body: buf };
        let mut start = 0;
        for index in 0..count {
            let end = records.end(index);
            if end < start || end > buf.len() {
                return Err(format!(
                    "record {index} ends at {end}, outside {start}..={}",
                    buf.len()
                ));
            }
            start = end;
        }
        if start != buf.len() {
            return Err(format!("{} bytes after the last record", buf.len() - start));
        }
        Ok(records)
    }

    fn end(&self, index: usize) -> usize {
        let at = 4 * index;
        u32::from_be_bytes([self.ends[at], self.ends[at + 1], self.ends[at + 2], self.ends[at + 3]])
            as usize
    }

    /// How many records there are.
    pub(crate) fn len(&self) -> usize {
        self.ends.len() / 4
    }

    /// Record `index`, if there is one.
    pub(crate) fn get(&self, index: usize) -> Option<&'a [u8]> {
        if index >= self.len() {
            return None;
        }
        let start = if index == 0 { 0 } else { self.end(index - 1) };
        self.body.get(start..self.end(index))
    }
}

/// Encodes a block's account changes (final values): records of
/// `address 20 | account`, see [`encode_records`].
pub(crate) fn encode_account_changes(accounts: &[(Address, Account)]) -> Vec<u8> {
    encode_records(accounts, |(address, account), out| {
        out.extend_from_slice(address.as_slice());
        out.extend_from_slice(&encode_account(account));
    })
}

/// Decodes a block's account changes.
pub(crate) fn decode_account_changes(bytes: &[u8]) -> DecodeResult<Vec<(Address, Account)>> {
    let records = Records::parse(bytes)?;
    (0..records.len())
        .map(|index| {
            let mut record = records.get(index).unwrap_or_default();
            let address = Address::from(take_array::<20>(&mut record, "address")?);
            let account = decode_account(record).map_err(|e| format!("account {address}: {e}"))?;
            Ok((address, account))
        })
        .collect()
}

/// Encodes where a transaction is: block number and index.
pub(crate) fn encode_location(number: u64, index: u64) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&number.to_be_bytes());
    out[8..].copy_from_slice(&index.to_be_bytes());
    out
}

/// Decodes a transaction location.
pub(crate) fn decode_location(bytes: &[u8]) -> DecodeResult<(u64, u64)> {
    let mut buf = bytes;
    let number = u64::from_be_bytes(take_array(&mut buf, "block number")?);
    let index = u64::from_be_bytes(take_array(&mut buf, "index")?);
    finish(buf, "transaction location")?;
    Ok((number, index))
}

/// Decodes the schema version stored in the meta table.
pub(crate) fn decode_version(bytes: &[u8]) -> DecodeResult<u32> {
    let version: [u8; 4] = bytes
        .try_into()
        .map_err(|_| format!("schema version is {} bytes, expected 4", bytes.len()))?;
    Ok(u32::from_be_bytes(version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{ReceiptWithBloom, SignableTransaction, TxEip1559, TxLegacy};
    use alloy_primitives::{Bytes, LogData, Signature, TxKind};
    use proptest::prelude::*;

    pub(crate) fn sample_transaction(nonce: u64) -> RecoveredTransaction {
        let tx = TxEip1559 {
            chain_id: 1337,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(Address::repeat_byte(7)),
            value: U256::from(1),
            access_list: Default::default(),
            input: Bytes::new(),
        };
        let signature = Signature::new(U256::from(1), U256::from(2), false);
        RecoveredTransaction::from_trusted(
            tx.into_signed(signature).into(),
            Address::repeat_byte(9),
        )
    }

    fn sample_receipt(logs: usize, legacy: bool) -> Receipt {
        let logs: Vec<Log> = (0..logs)
            .map(|i| Log {
                address: Address::repeat_byte(i as u8),
                data: LogData::new_unchecked(
                    vec![B256::repeat_byte(3)],
                    Bytes::from(vec![i as u8; 3]),
                ),
            })
            .collect();
        let inner = alloy_consensus::Receipt {
            status: Eip658Value::Eip658(logs.len() % 2 == 0),
            cumulative_gas_used: 42_000,
            logs,
        };
        let with_bloom: ReceiptWithBloom = inner.with_bloom();
        Receipt {
            envelope: if legacy {
                ReceiptEnvelope::Legacy(with_bloom)
            } else {
                ReceiptEnvelope::Eip1559(with_bloom)
            },
            transaction_hash: B256::repeat_byte(5),
            from: Address::repeat_byte(1),
            to: if legacy { None } else { Some(Address::repeat_byte(2)) },
            gas_used: 21_000,
            effective_gas_price: 1_500_000_000,
        }
    }

    fn encoded<T>(item: &T, encode: impl Fn(&T, &mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        encode(item, &mut out);
        out
    }

    #[test]
    fn record_lists_roundtrip_and_refuse_bad_offsets() {
        let items: Vec<Vec<u8>> = vec![vec![1, 2], vec![], vec![3; 5]];
        let blob = encode_records(&items, |item, out| out.extend_from_slice(item));
        let records = Records::parse(&blob).unwrap();
        assert_eq!(records.len(), 3);
        for (index, item) in items.iter().enumerate() {
            assert_eq!(records.get(index), Some(item.as_slice()));
        }
        assert_eq!(records.get(3), None);
        let empty = encode_records::<u8>(&[], |_, _| {});
        assert_eq!(Records::parse(&empty).unwrap().len(), 0);
        assert!(Records::parse(&blob[..blob.len() - 1]).is_err());
        let mut backwards = blob.clone();
        backwards[7] = 9; // first record ends after the second
        assert!(Records::parse(&backwards).is_err());
        assert!(Records::parse(&[0, 0, 0, 9]).is_err());
    }

    #[test]
    fn records_roundtrip() {
        let account =
            Account { nonce: 7, balance: U256::from(123_456u64), code_hash: B256::repeat_byte(4) };
        assert_eq!(decode_account(&encode_account(&account)), Ok(account));

        let tx = sample_transaction(3);
        assert_eq!(decode_transaction(&encoded(&tx, encode_transaction)), Ok(tx));

        let legacy = TxLegacy {
            chain_id: Some(1),
            nonce: 1,
            gas_price: 1,
            gas_limit: 21_000,
            to: TxKind::Create,
            value: U256::ZERO,
            input: Bytes::new(),
        };
        let legacy = RecoveredTransaction::from_trusted(
            legacy.into_signed(Signature::new(U256::from(1), U256::from(2), true)).into(),
            Address::repeat_byte(8),
        );
        assert_eq!(decode_transaction(&encoded(&legacy, encode_transaction)), Ok(legacy));

        for receipt in [sample_receipt(0, false), sample_receipt(3, false), sample_receipt(2, true)]
        {
            assert_eq!(decode_receipt(&encoded(&receipt, encode_receipt)), Ok(receipt));
        }

        let header = Header { number: 9, gas_limit: 30_000_000, ..Default::default() };
        let sealed = decode_header(&encode_header(&header)).unwrap();
        assert_eq!(sealed, SealedHeader::seal(header));

        assert_eq!(decode_location(&encode_location(5, 9)), Ok((5, 9)));
        let changes = vec![
            (Address::repeat_byte(1), Account::default()),
            (
                Address::repeat_byte(2),
                Account { nonce: 3, balance: U256::from(9), code_hash: B256::repeat_byte(7) },
            ),
        ];
        assert_eq!(decode_account_changes(&encode_account_changes(&changes)), Ok(changes));
        let key = storage_key(&Address::repeat_byte(1), &B256::repeat_byte(2));
        assert_eq!(decode_storage_key(&key), Ok((Address::repeat_byte(1), B256::repeat_byte(2))));
        for word in [U256::ZERO, U256::from(1), U256::from(0x1234), U256::MAX] {
            let mut out = Vec::new();
            put_history_word(&word, &mut out);
            assert_eq!(decode_history_word(&out), Ok(word));
        }
        let mut zero = Vec::new();
        put_history_word(&U256::ZERO, &mut zero);
        assert!(zero.is_empty());
        assert!(decode_history_word(&[1; 33]).is_err());
    }

    #[test]
    fn truncated_or_padded_records_are_refused() {
        let tx = encoded(&sample_transaction(1), encode_transaction);
        assert!(decode_transaction(&tx[..tx.len() - 1]).is_err());
        let mut padded = tx.clone();
        padded.push(0);
        assert!(decode_transaction(&padded).unwrap_err().contains("trailing"));
        let receipt = encoded(&sample_receipt(2, false), encode_receipt);
        for cut in 0..receipt.len() {
            assert!(decode_receipt(&receipt[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode_account(&[0, 0, 0, 0]).unwrap_err().contains("trailing"));
        assert!(decode_account(&[2, 0, 0]).unwrap_err().contains("flags"));
        assert!(decode_account(&[0, 9, 0]).is_err());
        assert!(decode_account(&[1, 0, 0]).unwrap_err().contains("code hash"));
        assert!(decode_location(&[0; 15]).is_err());
        assert!(decode_header(&[0xc0]).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_account(&bytes);
            let _ = decode_transaction(&bytes);
            let _ = decode_receipt(&bytes);
            let _ = decode_header(&bytes);
            let _ = decode_location(&bytes);
            let _ = decode_storage_key(&bytes);
            let _ = decode_word(&bytes);
            let _ = decode_version(&bytes);
            let _ = decode_account_changes(&bytes);
            let _ = decode_history_word(&bytes);
            if let Ok(records) = Records::parse(&bytes) {
                for index in 0..records.len() + 1 {
                    let _ = records.get(index);
                }
            }
        }

        #[test]
        fn corrupted_receipts_never_panic(index in 0usize..200, byte: u8) {
            let mut bytes = encoded(&sample_receipt(3, false), encode_receipt);
            let index = index % bytes.len();
            bytes[index] = byte;
            let _ = decode_receipt(&bytes);
        }
    }
}
