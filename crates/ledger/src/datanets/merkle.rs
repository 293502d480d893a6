//! The identity of a datanet version: a Merkle root over its contributions.
//!
//! Leaf `i` is `keccak256(abi.encode(datanetId, contributionId, contentHash,
//! contributor))` of the `i`-th included contribution in acceptance order.
//! Each level hashes adjacent pairs, `keccak256(left ‖ right)`, in order; an
//! odd last node moves up unchanged. The root of one leaf is the leaf. The
//! order matters: the same contributions accepted in another order give
//! another version.

use alloy_primitives::{Address, B256, keccak256};
use alloy_sol_types::SolValue;

/// The leaf of one contribution.
pub fn leaf(datanet: u64, contribution: u64, content_hash: B256, contributor: Address) -> B256 {
    keccak256((datanet, contribution, content_hash, contributor).abi_encode())
}

/// The root over `leaves` in order (zero for none).
pub fn root(leaves: &[B256]) -> B256 {
    if leaves.is_empty() {
        return B256::ZERO;
    }
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => {
                    let mut preimage = [0u8; 64];
                    preimage[..32].copy_from_slice(left.as_slice());
                    preimage[32..].copy_from_slice(right.as_slice());
                    keccak256(preimage)
                }
                [single] => *single,
                _ => unreachable!("chunks(2) yields one or two items"),
            })
            .collect();
    }
    level[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_shapes() {
        let a = B256::repeat_byte(1);
        let b = B256::repeat_byte(2);
        let c = B256::repeat_byte(3);
        assert_eq!(root(&[]), B256::ZERO);
        assert_eq!(root(&[a]), a);
        let ab = keccak256([a.as_slice(), b.as_slice()].concat());
        assert_eq!(root(&[a, b]), ab);
        assert_eq!(root(&[a, b, c]), keccak256([ab.as_slice(), c.as_slice()].concat()));
        assert_ne!(root(&[a, b]), root(&[b, a]), "order is part of the identity");
    }
}
