//! The signed-transaction decoder: what `eth_sendRawTransaction` receives.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::{
    eip2718::Encodable2718,
    eip2930::{AccessList, AccessListItem},
};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use ol_node::dev::{DEV_CHAIN_ID, dev_signer};
use ol_primitives::{RecoveredTransaction, decode_raw_transaction};

/// Decodes `data` as a signed transaction and checks the codec's invariants:
///
/// * decoding never panics, and its error renders as a sentence;
/// * decoding with and without sender recovery agree on what is well formed;
/// * whatever decodes re-encodes to exactly `data`, and its hash is
///   `keccak256(data)` (the hash a wallet computed before sending it).
pub fn fuzz_transaction_decoder(data: &[u8]) {
    let envelope = match decode_raw_transaction(data) {
        Ok(envelope) => envelope,
        Err(error) => {
            assert!(!error.to_string().is_empty());
            assert!(
                RecoveredTransaction::decode(data).is_err(),
                "malformed bytes recovered a sender"
            );
            return;
        }
    };
    assert_eq!(envelope.encoded_2718(), data, "decoded transaction re-encodes differently");
    assert_eq!(
        *envelope.tx_hash(),
        keccak256(data),
        "transaction hash is not keccak256 of its bytes"
    );
    let decoded = RecoveredTransaction::decode(data);
    match RecoveredTransaction::recover(envelope) {
        Ok(recovered) => {
            assert_eq!(recovered.encoded(), data, "recovered transaction re-encodes differently");
            assert_eq!(recovered.hash, keccak256(data));
            assert_eq!(decoded.as_ref(), Ok(&recovered), "decode and decode-then-recover disagree");
        }
        Err(error) => {
            assert!(!error.to_string().is_empty());
            assert_eq!(decoded, Err(error), "decode and decode-then-recover disagree");
        }
    }
}

/// Well-formed signed transactions of every accepted type (and a few
/// refused but well-formed ones), named, as seeds for the fuzzer.
pub fn transaction_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let to = TxKind::Call(Address::repeat_byte(0x42));
    let legacy = |chain_id, to, input: &[u8]| TxLegacy {
        chain_id,
        nonce: 7,
        gas_price: 1_500_000_000,
        gas_limit: 50_000,
        to,
        value: U256::from(1_000_000u64),
        input: Bytes::copy_from_slice(input),
    };
    let access_list = AccessList(vec![AccessListItem {
        address: Address::repeat_byte(0x11),
        storage_keys: vec![B256::repeat_byte(0x22), B256::ZERO],
    }]);
    let eip2930 = TxEip2930 {
        chain_id: DEV_CHAIN_ID,
        nonce: 1,
        gas_price: 2_000_000_000,
        gas_limit: 30_000,
        to,
        value: U256::from(5u64),
        access_list: access_list.clone(),
        input: Bytes::from_static(&[0xde, 0xad]),
    };
    let eip1559 = |value: u64, input: &[u8], access_list: AccessList| TxEip1559 {
        chain_id: DEV_CHAIN_ID,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to,
        value: U256::from(value),
        access_list,
        input: Bytes::copy_from_slice(input),
    };
    vec![
        ("legacy-eip155", sign(legacy(Some(DEV_CHAIN_ID), to, &[]))),
        ("legacy-pre-eip155", sign(legacy(None, to, &[1, 2, 3]))),
        ("legacy-create", sign(legacy(Some(DEV_CHAIN_ID), TxKind::Create, &[0x60, 0x00]))),
        ("eip2930-access-list", sign(eip2930)),
        ("eip1559-transfer", sign(eip1559(1, &[], AccessList::default()))),
        ("eip1559-calldata", sign(eip1559(0, &[0xa9, 0x05, 0x9c, 0xbb, 0, 0, 0], access_list))),
    ]
}

/// Signs with dev account 1 and returns the EIP-2718 bytes.
fn sign<T>(tx: T) -> Vec<u8>
where
    T: SignableTransaction<alloy_primitives::Signature>,
    alloy_consensus::Signed<T>: Into<TxEnvelope>,
{
    let signature = dev_signer(1)
        .sign_hash_sync(&tx.signature_hash())
        .expect("signing a 32-byte hash with a valid key cannot fail");
    let envelope: TxEnvelope = tx.into_signed(signature).into();
    envelope.encoded_2718()
}
