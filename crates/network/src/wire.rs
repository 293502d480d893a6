//! How blocks and commit certificates travel between nodes and sit in
//! storage.
//!
//! A block is the RLP list `[header, [tx, …]]`, each transaction in its
//! EIP-2718 encoding, so the bytes are Ethereum's own; its value in
//! consensus is the header's hash. A commit certificate is borsh of
//! `(height, round, block hash, [(validator address, signature)])`.

use crate::context::{Address, BlockHash, Height, OlContext};
use crate::signing::Sig;
use alloy_consensus::{Header, TxEnvelope};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_rlp::{Decodable, Encodable};
use arc_malachitebft_app_channel::app::types::core::{CommitCertificate, CommitSignature, Round};
use ol_primitives::{Block, SealedHeader};

/// The largest encoded block a node accepts from the network (32 MiB).
pub const MAX_BLOCK_BYTES: usize = 32 << 20;

/// A block as it travels: header and transaction envelopes (senders are
/// recovered again by whoever imports it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireBlock {
    /// The header, hash computed on decoding.
    pub header: SealedHeader,
    /// The transactions, in order.
    pub transactions: Vec<TxEnvelope>,
}

/// Encodes `block` for the network.
pub fn encode_block(block: &Block) -> Vec<u8> {
    let txs: Vec<alloy_primitives::Bytes> =
        block.transactions.iter().map(|t| t.envelope.encoded_2718().into()).collect();
    let mut body = Vec::new();
    block.header.header.encode(&mut body);
    txs.encode(&mut body);
    let mut out = Vec::with_capacity(body.len() + 8);
    alloy_rlp::Header { list: true, payload_length: body.len() }.encode(&mut out);
    out.extend_from_slice(&body);
    out
}

/// Decodes a block from the network; every error names what is wrong.
pub fn decode_block(bytes: &[u8]) -> Result<WireBlock, String> {
    if bytes.len() > MAX_BLOCK_BYTES {
        return Err(format!(
            "block of {} bytes is over the {MAX_BLOCK_BYTES}-byte limit",
            bytes.len()
        ));
    }
    let mut buf = bytes;
    let list = alloy_rlp::Header::decode(&mut buf).map_err(|e| format!("block: {e}"))?;
    if !list.list || list.payload_length != buf.len() {
        return Err("block: not one RLP list spanning the bytes".into());
    }
    let header = Header::decode(&mut buf).map_err(|e| format!("block header: {e}"))?;
    let txs = Vec::<alloy_primitives::Bytes>::decode(&mut buf)
        .map_err(|e| format!("block transactions: {e}"))?;
    if !buf.is_empty() {
        return Err(format!("block: {} bytes after the transactions", buf.len()));
    }
    let transactions = txs
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let mut slice = raw.as_ref();
            let tx = TxEnvelope::decode_2718(&mut slice)
                .map_err(|e| format!("block transaction {i}: {e}"))?;
            if !slice.is_empty() {
                return Err(format!("block transaction {i}: trailing bytes"));
            }
            Ok(tx)
        })
        .collect::<Result<Vec<_>, String>>()?;
    let hash = header.hash_slow();
    Ok(WireBlock { header: SealedHeader { header, hash }, transactions })
}

type WireCertificate = (Height, Round, BlockHash, Vec<(Address, Sig)>);

/// Encodes a commit certificate for storage and block sync.
pub fn encode_certificate(certificate: &CommitCertificate<OlContext>) -> Vec<u8> {
    let signatures =
        certificate.commit_signatures.iter().map(|s| (s.address, s.signature)).collect::<Vec<_>>();
    let wire: WireCertificate =
        (certificate.height, certificate.round, certificate.value_id, signatures);
    borsh::to_vec(&wire).expect("writing to a Vec cannot fail")
}

/// Decodes a stored commit certificate.
pub fn decode_certificate(bytes: &[u8]) -> Result<CommitCertificate<OlContext>, String> {
    let (height, round, value_id, signatures): WireCertificate =
        borsh::from_slice(bytes).map_err(|e| format!("commit certificate: {e}"))?;
    Ok(CommitCertificate {
        height,
        round,
        value_id,
        commit_signatures: signatures
            .into_iter()
            .map(|(address, signature)| CommitSignature::new(address, signature))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_blocks_are_refused_with_a_reason() {
        for (bytes, want) in [
            (vec![], "block:"),
            (vec![0xc0], "block header"),
            (vec![0x80], "not one RLP list"),
            (vec![0xc3, 0x01, 0x02], "block:"),
            (vec![0xc1, 0x01, 0x02], "not one RLP list"),
        ] {
            let error = decode_block(&bytes).unwrap_err();
            assert!(error.contains(want), "{bytes:?}: {error}");
        }
        let big = vec![0u8; MAX_BLOCK_BYTES + 1];
        assert!(decode_block(&big).unwrap_err().contains("limit"));
    }

    #[test]
    fn certificates_round_trip() {
        let certificate = CommitCertificate::<OlContext> {
            height: Height(9),
            round: Round::new(2),
            value_id: BlockHash([7; 32]),
            commit_signatures: vec![CommitSignature::new(Address([1; 20]), Sig([2; 64]))],
        };
        let back = decode_certificate(&encode_certificate(&certificate)).unwrap();
        assert_eq!(back.height, certificate.height);
        assert_eq!(back.round, certificate.round);
        assert_eq!(back.value_id, certificate.value_id);
        assert_eq!(back.commit_signatures, certificate.commit_signatures);
        assert!(decode_certificate(&[1, 2, 3]).is_err());
    }
}
