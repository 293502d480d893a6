//! Signed Ethereum transactions, decoded once at the edge.
//!
//! Raw bytes from the network are turned into a [`RecoveredTransaction`]
//! (envelope + sender + hash) by [`decode_raw_transaction`] and
//! [`RecoveredTransaction::recover`]; nothing past this point sees
//! undecoded or unauthenticated input. Sender recovery uses libsecp256k1
//! (DESIGN.md decision 1) and [`recover_parallel`] spreads it over all cores.

use alloy_consensus::{
    Transaction, TxEnvelope, TxLegacy, TxType, transaction::RlpEcdsaDecodableTx,
};
use alloy_eips::eip2718::{Decodable2718, Eip2718Error, Encodable2718};
use alloy_primitives::{Address, B256, U256, keccak256};
use rayon::prelude::*;
use secp256k1::{
    Message, SECP256K1,
    ecdsa::{RecoverableSignature, RecoveryId},
};

/// The largest raw transaction accepted, in bytes (128 KiB, as geth's pool).
pub const MAX_TX_SIZE: usize = 128 * 1024;

/// Half the order of the secp256k1 curve: EIP-2 refuses `s` above it.
const SECP256K1N_HALF: U256 = U256::from_be_bytes([
    0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0x5D, 0x57, 0x6E, 0x73, 0x57, 0xA4, 0x50, 0x1D, 0xDF, 0xE9, 0x2F, 0x46, 0x68, 0x1B, 0x20, 0xA0,
]);

/// Why raw bytes are not an acceptable signed transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionDecodeError {
    /// No bytes at all.
    #[error("empty transaction data")]
    Empty,
    /// Larger than [`MAX_TX_SIZE`].
    #[error("oversized data: transaction is {size} bytes, the limit is {MAX_TX_SIZE}")]
    Oversized {
        /// The size received.
        size: usize,
    },
    /// The envelope type byte names a type this chain does not accept.
    #[error(
        "transaction type not supported: type {0} (accepted: 0 legacy, 1 EIP-2930, 2 EIP-1559)"
    )]
    UnsupportedType(u8),
    /// The bytes are not valid RLP for the type they claim.
    #[error("rlp: malformed transaction: {0}")]
    MalformedRlp(String),
    /// Bytes left over after a complete transaction.
    #[error("rlp: {0} trailing bytes after the transaction")]
    TrailingBytes(usize),
    /// `s` above half the curve order: a malleable signature (EIP-2).
    #[error(
        "invalid transaction signature: s value is in the upper half of the curve order (malleable, EIP-2)"
    )]
    MalleableSignature,
    /// The signature does not recover to a public key.
    #[error("invalid transaction signature: sender cannot be recovered")]
    InvalidSignature,
}

/// Decodes the EIP-2718 bytes of a signed transaction (as sent to
/// `eth_sendRawTransaction`), refusing oversized input, unsupported types and
/// trailing bytes. The signature is not checked here; see
/// [`RecoveredTransaction::recover`].
pub fn decode_raw_transaction(raw: &[u8]) -> Result<TxEnvelope, TransactionDecodeError> {
    if raw.is_empty() {
        return Err(TransactionDecodeError::Empty);
    }
    if raw.len() > MAX_TX_SIZE {
        return Err(TransactionDecodeError::Oversized { size: raw.len() });
    }
    // A first byte at or above 0xc0 is an RLP list: a legacy transaction.
    // Below 0x80 it is an EIP-2718 type byte.
    let first = raw[0];
    if first < 0x80 && !matches!(first, 1 | 2) {
        return Err(TransactionDecodeError::UnsupportedType(first));
    }
    if (0x80..0xc0).contains(&first) {
        return Err(TransactionDecodeError::MalformedRlp(
            "expected a typed envelope or an RLP list".to_string(),
        ));
    }
    let mut buf = raw;
    let envelope = if first >= 0xc0 {
        // Decoded as legacy directly: alloy's envelope decoder reports any
        // malformed list as "unexpected type 0", hiding the RLP problem.
        TxLegacy::rlp_decode_signed(&mut buf)
            .map(TxEnvelope::Legacy)
            .map_err(|err| TransactionDecodeError::MalformedRlp(err.to_string()))?
    } else {
        TxEnvelope::decode_2718(&mut buf).map_err(|err| match err {
            Eip2718Error::UnexpectedType(ty) => TransactionDecodeError::UnsupportedType(ty),
            other => TransactionDecodeError::MalformedRlp(other.to_string()),
        })?
    };
    if !buf.is_empty() {
        return Err(TransactionDecodeError::TrailingBytes(buf.len()));
    }
    match envelope.tx_type() {
        TxType::Legacy | TxType::Eip2930 | TxType::Eip1559 => Ok(envelope),
        other => Err(TransactionDecodeError::UnsupportedType(other as u8)),
    }
}

/// A transaction whose signature has been checked and whose sender is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveredTransaction {
    /// The signed envelope as received.
    pub envelope: TxEnvelope,
    /// The account that signed it.
    pub sender: Address,
    /// The transaction hash (keccak of the EIP-2718 encoding).
    pub hash: B256,
}

impl RecoveredTransaction {
    /// Checks the signature (EIP-2 low `s`) and recovers the sender with
    /// libsecp256k1.
    pub fn recover(envelope: TxEnvelope) -> Result<Self, TransactionDecodeError> {
        let signature = envelope.signature();
        if signature.s() > SECP256K1N_HALF {
            return Err(TransactionDecodeError::MalleableSignature);
        }
        let sender = recover_sender(signature, envelope.signature_hash())?;
        let hash = *envelope.tx_hash();
        Ok(Self { envelope, sender, hash })
    }

    /// Decodes raw EIP-2718 bytes and recovers the sender.
    pub fn decode(raw: &[u8]) -> Result<Self, TransactionDecodeError> {
        Self::recover(decode_raw_transaction(raw)?)
    }

    /// The sender's nonce for this transaction.
    pub fn nonce(&self) -> u64 {
        self.envelope.nonce()
    }

    /// The EIP-2718 encoding (what `eth_sendRawTransaction` received).
    pub fn encoded(&self) -> Vec<u8> {
        self.envelope.encoded_2718()
    }

    /// Rebuilds a transaction whose sender was recovered when it was first
    /// accepted (read back from the node's own storage).
    pub fn from_trusted(envelope: TxEnvelope, sender: Address) -> Self {
        let hash = *envelope.tx_hash();
        Self { envelope, sender, hash }
    }
}

/// Why 65 signature bytes do not name a signer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Not 65 bytes.
    #[error("a signature is 65 bytes (r, s, v); got {0}")]
    Length(usize),
    /// `v` is not 0, 1, 27 or 28.
    #[error("signature v must be 27 or 28 (or 0 or 1); got {0}")]
    RecoveryId(u8),
    /// `s` above half the curve order (EIP-2).
    #[error("signature s is in the upper half of the curve order (malleable, EIP-2)")]
    Malleable,
    /// No public key recovers from it.
    #[error("the signature does not recover to a public key")]
    Unrecoverable,
}

/// The address that signed `prehash` with the 65-byte `r ‖ s ‖ v`
/// signature `bytes`, as Ethereum's `ecrecover` and `eth_signTypedData`
/// produce them; malleable (high-s) signatures are refused.
pub fn recover_signer(bytes: &[u8], prehash: B256) -> Result<Address, SignatureError> {
    let bytes: &[u8; 65] = bytes.try_into().map_err(|_| SignatureError::Length(bytes.len()))?;
    let parity = match bytes[64] {
        0 | 27 => false,
        1 | 28 => true,
        other => return Err(SignatureError::RecoveryId(other)),
    };
    let signature = alloy_primitives::Signature::new(
        U256::from_be_slice(&bytes[..32]),
        U256::from_be_slice(&bytes[32..64]),
        parity,
    );
    if signature.s() > SECP256K1N_HALF {
        return Err(SignatureError::Malleable);
    }
    recover_sender(&signature, prehash).map_err(|_| SignatureError::Unrecoverable)
}

/// libsecp256k1 public-key recovery: keccak of the public key, last 20 bytes.
fn recover_sender(
    signature: &alloy_primitives::Signature,
    prehash: B256,
) -> Result<Address, TransactionDecodeError> {
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(&signature.r().to_be_bytes::<32>());
    compact[32..].copy_from_slice(&signature.s().to_be_bytes::<32>());
    let recovery_id = RecoveryId::try_from(i32::from(signature.v()))
        .map_err(|_| TransactionDecodeError::InvalidSignature)?;
    let recoverable = RecoverableSignature::from_compact(&compact, recovery_id)
        .map_err(|_| TransactionDecodeError::InvalidSignature)?;
    let public = SECP256K1
        .recover_ecdsa(Message::from_digest(prehash.0), &recoverable)
        .map_err(|_| TransactionDecodeError::InvalidSignature)?;
    let uncompressed = public.serialize_uncompressed();
    Ok(Address::from_slice(&keccak256(&uncompressed[1..])[12..]))
}

/// Recovers the senders of many transactions on all cores, keeping order.
pub fn recover_parallel(
    envelopes: Vec<TxEnvelope>,
) -> Vec<Result<RecoveredTransaction, TransactionDecodeError>> {
    envelopes.into_par_iter().map(RecoveredTransaction::recover).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{SignableTransaction, TxEip1559, TxLegacy};
    use alloy_primitives::{Bytes, TxKind};
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;

    fn signer() -> PrivateKeySigner {
        // Anvil/Hardhat dev account 0.
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80".parse().unwrap()
    }

    fn signed_1559(nonce: u64) -> TxEnvelope {
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
        let sig = signer().sign_hash_sync(&tx.signature_hash()).unwrap();
        tx.into_signed(sig).into()
    }

    #[test]
    fn decodes_and_recovers() {
        let envelope = signed_1559(0);
        let raw = envelope.encoded_2718();
        let recovered = RecoveredTransaction::decode(&raw).unwrap();
        assert_eq!(recovered.sender, signer().address());
        assert_eq!(recovered.hash, keccak256(&raw));
    }

    #[test]
    fn recovers_signers_of_prehashes() {
        let hash = keccak256(b"authorisation");
        let signature = signer().sign_hash_sync(&hash).unwrap();
        let mut bytes = signature.as_bytes();
        assert_eq!(recover_signer(&bytes, hash), Ok(signer().address()));
        bytes[64] -= 27;
        assert_eq!(recover_signer(&bytes, hash), Ok(signer().address()), "v as 0/1 too");
        assert_ne!(recover_signer(&bytes, keccak256(b"other")), Ok(signer().address()));
        assert_eq!(recover_signer(&bytes[..64], hash), Err(SignatureError::Length(64)));
        bytes[64] = 29;
        assert_eq!(recover_signer(&bytes, hash), Err(SignatureError::RecoveryId(29)));
        // The same signature with s mirrored into the upper half (EIP-2).
        let high_s = SECP256K1N_HALF * U256::from(2) + U256::from(1) - signature.s();
        let mut malleable = signature.as_bytes();
        malleable[32..64].copy_from_slice(&high_s.to_be_bytes::<32>());
        assert_eq!(recover_signer(&malleable, hash), Err(SignatureError::Malleable));
    }

    #[test]
    fn legacy_roundtrip() {
        let tx = TxLegacy {
            chain_id: Some(1337),
            nonce: 3,
            gas_price: 1_000_000_000,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(1)),
            value: U256::from(5),
            input: Bytes::new(),
        };
        let sig = signer().sign_hash_sync(&tx.signature_hash()).unwrap();
        let envelope: TxEnvelope = tx.into_signed(sig).into();
        let recovered = RecoveredTransaction::decode(&envelope.encoded_2718()).unwrap();
        assert_eq!(recovered.sender, signer().address());
        assert_eq!(recovered.nonce(), 3);
    }

    #[test]
    fn refuses_bad_bytes() {
        assert_eq!(decode_raw_transaction(&[]), Err(TransactionDecodeError::Empty));
        assert_eq!(
            decode_raw_transaction(&[3, 0xc0]),
            Err(TransactionDecodeError::UnsupportedType(3))
        );
        assert_eq!(
            decode_raw_transaction(&[4, 0xc0]),
            Err(TransactionDecodeError::UnsupportedType(4))
        );
        assert!(matches!(
            decode_raw_transaction(&[2, 0xc1, 0x00]),
            Err(TransactionDecodeError::MalformedRlp(_))
        ));
        // A malformed legacy list is bad RLP, not "type 0 not supported".
        for bytes in [&[0xc0u8, 0xff, 0xee][..], &[0xc1, 0x80], &[0xf8, 0x05, 0x01]] {
            assert!(
                matches!(
                    decode_raw_transaction(bytes),
                    Err(TransactionDecodeError::MalformedRlp(_))
                ),
                "{bytes:?}: {:?}",
                decode_raw_transaction(bytes)
            );
        }
        let big = vec![0xc0; MAX_TX_SIZE + 1];
        assert!(matches!(
            decode_raw_transaction(&big),
            Err(TransactionDecodeError::Oversized { .. })
        ));
        let mut raw = signed_1559(0).encoded_2718();
        raw.push(0);
        assert_eq!(decode_raw_transaction(&raw), Err(TransactionDecodeError::TrailingBytes(1)));
    }

    #[test]
    fn refuses_high_s() {
        let envelope = signed_1559(1);
        let TxEnvelope::Eip1559(signed) = envelope else { unreachable!() };
        let sig = *signed.signature();
        // Flip to the malleable twin: s' = n - s, parity inverted.
        let n = SECP256K1N_HALF * U256::from(2) + U256::from(1);
        let high = alloy_primitives::Signature::new(sig.r(), n - sig.s(), !sig.v());
        let malleable: TxEnvelope = signed.strip_signature().into_signed(high).into();
        assert_eq!(
            RecoveredTransaction::decode(&malleable.encoded_2718()),
            Err(TransactionDecodeError::MalleableSignature)
        );
    }

    #[test]
    fn parallel_keeps_order() {
        let envelopes: Vec<_> = (0..32).map(signed_1559).collect();
        let recovered = recover_parallel(envelopes);
        for (i, r) in recovered.into_iter().enumerate() {
            assert_eq!(r.unwrap().nonce(), i as u64);
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = RecoveredTransaction::decode(&bytes);
        }
    }
}
