//! An in-memory, persistent Merkle-Patricia trie with cached node hashes.
//!
//! Every node carries its own RLP reference (the node's RLP when shorter
//! than 32 bytes, else its keccak hash), computed once when the node is
//! built. Nodes are immutable and shared through [`Arc`]: applying a batch
//! of changes copies only the nodes on the changed paths and rehashes only
//! those, so committing k changes to a trie of n leaves costs
//! O(k · log16 n) hashes, and the previous version stays valid for readers
//! (snapshots, proofs) and for rollback when a commit fails.
//!
//! Keys are 32-byte hashes (a secure trie: 64 nibbles each), so branch nodes
//! never carry values. The encoding is Ethereum's, produced with
//! `alloy-trie`'s node types; the property tests check every root against
//! `alloy_trie::HashBuilder` computed from scratch.

use alloy_primitives::{B256, Bytes, keccak256};
use alloy_trie::{
    EMPTY_ROOT_HASH, Nibbles, TrieMask,
    nodes::{BranchNodeRef, ExtensionNodeRef, LeafNodeRef, RlpNode},
};
use rayon::prelude::*;
use std::{cell::RefCell, sync::Arc};

/// Batches at least this large are split over threads at a branch.
const PARALLEL_THRESHOLD: usize = 512;

/// What a leaf holds: anything that can write the bytes the trie commits to.
pub(crate) trait LeafValue: Clone + Send + Sync {
    /// Appends the leaf's value bytes (for Ethereum tries: an RLP item).
    fn encode_value(&self, out: &mut Vec<u8>);
}

/// One node and its RLP reference.
#[derive(Debug)]
pub(crate) struct Node<V> {
    rlp: RlpNode,
    kind: Kind<V>,
}

#[derive(Debug)]
enum Kind<V> {
    /// A leaf keeps its whole key; the path it encodes is the part below the
    /// depth it sits at.
    Leaf {
        key: B256,
        value: V,
    },
    Extension {
        path: Nibbles,
        child: Arc<Node<V>>,
    },
    Branch {
        children: Children<V>,
    },
}

type Children<V> = [Option<Arc<Node<V>>>; 16];

/// A set or a delete (`None`) of one key.
pub(crate) type Change<V> = (B256, Option<V>);

/// Turns a change and the value currently at its key into the new value.
pub(crate) trait Resolve<C, V>: Sync {
    /// The new value of a key (`None`: delete it).
    fn resolve(&self, change: &C, current: Option<&V>) -> Option<V>;
}

impl<C, V, F: Fn(&C, Option<&V>) -> Option<V> + Sync> Resolve<C, V> for F {
    fn resolve(&self, change: &C, current: Option<&V>) -> Option<V> {
        self(change, current)
    }
}

/// A trie version: an empty trie or a root node.
#[derive(Debug)]
pub(crate) struct Trie<V> {
    root: Option<Arc<Node<V>>>,
}

impl<V> Clone for Trie<V> {
    fn clone(&self) -> Self {
        Self { root: self.root.clone() }
    }
}

impl<V> Default for Trie<V> {
    fn default() -> Self {
        Self { root: None }
    }
}

/// The nibble of `key` at position `index` (0..64).
fn nibble(key: &B256, index: usize) -> u8 {
    let byte = key[index / 2];
    if index.is_multiple_of(2) { byte >> 4 } else { byte & 0x0f }
}

/// The 64 nibbles of `key` from position `depth` on.
fn suffix(key: &B256, depth: usize) -> Nibbles {
    Nibbles::unpack(key).slice(depth..)
}

impl<V: LeafValue> Trie<V> {
    /// The empty trie.
    #[cfg(test)]
    pub(crate) fn empty() -> Self {
        Self::default()
    }

    /// True when the trie has no leaves.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.root.is_none()
    }

    /// Builds a trie from leaves sorted by key, without duplicates.
    pub(crate) fn from_sorted(leaves: &[(B256, V)]) -> Self {
        debug_assert!(leaves.windows(2).all(|w| w[0].0 < w[1].0));
        Self { root: build(0, leaves) }
    }

    /// The root hash (the empty root for an empty trie).
    pub(crate) fn root_hash(&self) -> B256 {
        match &self.root {
            None => EMPTY_ROOT_HASH,
            Some(node) => node.rlp.as_hash().unwrap_or_else(|| keccak256(node.rlp.as_slice())),
        }
    }

    /// The value at `key`.
    pub(crate) fn get(&self, key: &B256) -> Option<&V> {
        let mut node = self.root.as_deref()?;
        let mut depth = 0;
        loop {
            match &node.kind {
                Kind::Leaf { key: leaf_key, value } => {
                    return (leaf_key == key).then_some(value);
                }
                Kind::Extension { path, child } => {
                    if (0..path.len()).any(|i| path.get_unchecked(i) != nibble(key, depth + i)) {
                        return None;
                    }
                    depth += path.len();
                    node = child;
                }
                Kind::Branch { children } => {
                    node = children[usize::from(nibble(key, depth))].as_deref()?;
                    depth += 1;
                }
            }
        }
    }

    /// A new version with `changes` applied. `changes` must be sorted by key
    /// without duplicates; a `None` value deletes the key (absent keys are
    /// ignored). The result does not depend on how the work is split over
    /// threads.
    pub(crate) fn update(&self, changes: &[Change<V>]) -> Self {
        self.update_with(changes, &|value: &Option<V>, _: Option<&V>| value.clone())
    }

    /// Like [`Trie::update`], but each change is resolved against the value
    /// currently at its key: `resolve(change, current)` gives the new value
    /// (`None` deletes). This reads each old leaf on the way down instead of
    /// with a separate lookup.
    pub(crate) fn update_with<C: Sync>(
        &self,
        changes: &[(B256, C)],
        resolve: &(impl Resolve<C, V> + ?Sized),
    ) -> Self {
        debug_assert!(changes.windows(2).all(|w| w[0].0 < w[1].0));
        Self { root: update(self.root.as_ref(), 0, changes, resolve) }
    }

    /// The proof of `key`: the RLP of every node on its path that is
    /// referenced by hash (inline nodes travel inside their parent), from the
    /// root down, as EIP-1186 and `alloy_trie::proof::verify_proof` expect.
    /// Proves absence as well as presence.
    pub(crate) fn proof(&self, key: &B256) -> Vec<Bytes> {
        let mut proof = Vec::new();
        let Some(mut node) = self.root.as_deref() else {
            return proof;
        };
        let mut depth = 0;
        let mut buf = Vec::with_capacity(600);
        loop {
            if !proof.is_empty() && !node.rlp.is_hash() {
                // Inline in its parent, and so is everything below it.
                return proof;
            }
            buf.clear();
            node.encode(depth, &mut buf);
            proof.push(Bytes::copy_from_slice(&buf));
            match &node.kind {
                Kind::Leaf { .. } => return proof,
                Kind::Extension { path, child } => {
                    if (0..path.len()).any(|i| path.get_unchecked(i) != nibble(key, depth + i)) {
                        return proof;
                    }
                    depth += path.len();
                    node = child;
                }
                Kind::Branch { children } => {
                    match children[usize::from(nibble(key, depth))].as_deref() {
                        Some(child) => {
                            node = child;
                            depth += 1;
                        }
                        None => return proof,
                    }
                }
            }
        }
    }

    /// Every leaf, in key order.
    #[cfg(test)]
    pub(crate) fn leaves(&self) -> Vec<(B256, V)> {
        fn walk<V: Clone>(node: &Node<V>, out: &mut Vec<(B256, V)>) {
            match &node.kind {
                Kind::Leaf { key, value } => out.push((*key, value.clone())),
                Kind::Extension { child, .. } => walk(child, out),
                Kind::Branch { children } => children.iter().flatten().for_each(|c| walk(c, out)),
            }
        }
        let mut out = Vec::new();
        if let Some(root) = &self.root {
            walk(root, &mut out);
        }
        out
    }
}

thread_local! {
    /// Encoding buffers reused by every node built on this thread.
    static SCRATCH: RefCell<(Vec<u8>, Vec<u8>)> = RefCell::new((Vec::with_capacity(256), Vec::with_capacity(1024)));
}

/// Runs `f` with two cleared scratch buffers.
fn with_scratch<T>(f: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffers) => {
            let (first, second) = &mut *buffers;
            first.clear();
            second.clear();
            f(first, second)
        }
        // Only if a value's encoder builds nodes itself.
        Err(_) => f(&mut Vec::new(), &mut Vec::new()),
    })
}

impl<V: LeafValue> Node<V> {
    fn leaf(key: B256, value: V, depth: usize) -> Arc<Self> {
        let rlp = with_scratch(|value_bytes, buf| {
            value.encode_value(value_bytes);
            LeafNodeRef::new(&suffix(&key, depth), value_bytes).rlp(buf)
        });
        Arc::new(Self { rlp, kind: Kind::Leaf { key, value } })
    }

    fn extension(path: Nibbles, child: Arc<Self>) -> Arc<Self> {
        debug_assert!(!path.is_empty());
        let rlp = with_scratch(|_, buf| ExtensionNodeRef::new(&path, &child.rlp).rlp(buf));
        Arc::new(Self { rlp, kind: Kind::Extension { path, child } })
    }

    fn branch(children: Children<V>) -> Arc<Self> {
        let rlp = with_scratch(|_, buf| encode_branch(&children, buf));
        Arc::new(Self { rlp, kind: Kind::Branch { children } })
    }

    /// The node's full RLP, for proofs. `depth` is where the node sits.
    fn encode(&self, depth: usize, out: &mut Vec<u8>) {
        match &self.kind {
            Kind::Leaf { key, value } => {
                let mut value_bytes = Vec::with_capacity(128);
                value.encode_value(&mut value_bytes);
                LeafNodeRef::new(&suffix(key, depth), &value_bytes).rlp(out);
            }
            Kind::Extension { path, child } => {
                ExtensionNodeRef::new(path, &child.rlp).rlp(out);
            }
            Kind::Branch { children } => {
                encode_branch(children, out);
            }
        }
    }
}

fn encode_branch<V>(children: &Children<V>, out: &mut Vec<u8>) -> RlpNode {
    let mut stack: [RlpNode; 16] = Default::default();
    let mut mask = TrieMask::default();
    let mut count = 0;
    for (index, child) in children.iter().enumerate() {
        if let Some(child) = child {
            stack[count] = child.rlp.clone();
            count += 1;
            mask.set_bit(index as u8);
        }
    }
    BranchNodeRef::new(&stack[..count], mask).rlp(out)
}

/// Splits `items` (sorted by key, sharing the nibbles before `depth`) into
/// the 16 groups of their nibble at `depth`.
fn groups<T>(items: &[T], depth: usize, key: impl Fn(&T) -> &B256) -> [&[T]; 16] {
    let mut out: [&[T]; 16] = [&[]; 16];
    let mut rest = items;
    while let Some(first) = rest.first() {
        let n = nibble(key(first), depth);
        let len = rest.partition_point(|item| nibble(key(item), depth) <= n);
        let (group, tail) = rest.split_at(len);
        out[usize::from(n)] = group;
        rest = tail;
    }
    out
}

/// Builds the subtrie at `depth` holding exactly `leaves`.
fn build<V: LeafValue>(depth: usize, leaves: &[(B256, V)]) -> Option<Arc<Node<V>>> {
    match leaves {
        [] => None,
        [(key, value)] => Some(Node::leaf(*key, value.clone(), depth)),
        [(first, _), .., (last, _)] => {
            let mut common = 0;
            while nibble(first, depth + common) == nibble(last, depth + common) {
                common += 1;
            }
            let branch = build_branch(depth + common, leaves);
            if common == 0 {
                Some(branch)
            } else {
                let path = Nibbles::unpack(first).slice(depth..depth + common);
                Some(Node::extension(path, branch))
            }
        }
    }
}

fn build_branch<V: LeafValue>(depth: usize, leaves: &[(B256, V)]) -> Arc<Node<V>> {
    let parts = groups(leaves, depth, |(key, _)| key);
    let built: Vec<Option<Arc<Node<V>>>> = if leaves.len() >= PARALLEL_THRESHOLD {
        parts.par_iter().map(|part| build(depth + 1, part)).collect()
    } else {
        parts.iter().map(|part| build(depth + 1, part)).collect()
    };
    let mut children: Children<V> = Default::default();
    for (slot, child) in children.iter_mut().zip(built) {
        *slot = child;
    }
    Node::branch(children)
}

/// Applies `changes` (sorted, all sharing the nibbles before `depth`) to the
/// subtrie `node` sitting at `depth`.
fn update<V: LeafValue, C: Sync, R: Resolve<C, V> + ?Sized>(
    node: Option<&Arc<Node<V>>>,
    depth: usize,
    changes: &[(B256, C)],
    resolve: &R,
) -> Option<Arc<Node<V>>> {
    if changes.is_empty() {
        return node.cloned();
    }
    let Some(node) = node else {
        return build_resolved(depth, changes, None, resolve);
    };
    match &node.kind {
        Kind::Leaf { key, value } => build_resolved(depth, changes, Some((key, value)), resolve),
        Kind::Extension { path, child } => {
            let follows_path = |key: &B256| {
                (0..path.len()).all(|i| path.get_unchecked(i) == nibble(key, depth + i))
            };
            // Sorted keys: all follow the path when the first and last do.
            let all_follow =
                follows_path(&changes[0].0) && follows_path(&changes[changes.len() - 1].0);
            if all_follow {
                let child = update(Some(child), depth + path.len(), changes, resolve);
                return extend(path, child, depth);
            }
            // Some keys leave the path: restate the extension as a branch with
            // one child and let the branch rules split and normalise it.
            let below = if path.len() == 1 {
                child.clone()
            } else {
                Node::extension(path.slice(1..), child.clone())
            };
            let mut children: Children<V> = Default::default();
            children[usize::from(path.get_unchecked(0))] = Some(below);
            update_branch(children, depth, changes, resolve)
        }
        Kind::Branch { children } => update_branch(children.clone(), depth, changes, resolve),
    }
}

/// The subtrie at `depth` holding the resolved values of `changes`, plus
/// `existing` unless a change names its key.
fn build_resolved<V: LeafValue, C: Sync, R: Resolve<C, V> + ?Sized>(
    depth: usize,
    changes: &[(B256, C)],
    existing: Option<(&B256, &V)>,
    resolve: &R,
) -> Option<Arc<Node<V>>> {
    // The common cases: a new key alone, or a change of the one key here.
    if let [(key, change)] = changes {
        match existing {
            None => {
                return resolve.resolve(change, None).map(|value| Node::leaf(*key, value, depth));
            }
            Some((existing_key, value)) if existing_key == key => {
                return resolve
                    .resolve(change, Some(value))
                    .map(|value| Node::leaf(*key, value, depth));
            }
            Some(_) => {}
        }
    }
    let mut leaves: Vec<(B256, V)> = Vec::with_capacity(changes.len() + 1);
    let mut pending = existing;
    for (key, change) in changes {
        let mut current = None;
        if let Some((existing_key, existing_value)) = pending {
            if existing_key < key {
                leaves.push((*existing_key, existing_value.clone()));
                pending = None;
            } else if existing_key == key {
                current = Some(existing_value);
                pending = None;
            }
        }
        if let Some(value) = resolve.resolve(change, current) {
            leaves.push((*key, value));
        }
    }
    if let Some((key, value)) = pending {
        leaves.push((*key, value.clone()));
    }
    build(depth, &leaves)
}

/// Applies `changes` to a branch's children, then normalises the branch.
fn update_branch<V: LeafValue, C: Sync, R: Resolve<C, V> + ?Sized>(
    mut children: Children<V>,
    depth: usize,
    changes: &[(B256, C)],
    resolve: &R,
) -> Option<Arc<Node<V>>> {
    let parts = groups(changes, depth, |(key, _)| key);
    if changes.len() >= PARALLEL_THRESHOLD {
        let updated: Vec<(usize, Option<Arc<Node<V>>>)> = parts
            .par_iter()
            .enumerate()
            .filter(|(_, part)| !part.is_empty())
            .map(|(index, part)| {
                (index, update(children[index].as_ref(), depth + 1, part, resolve))
            })
            .collect();
        for (index, child) in updated {
            children[index] = child;
        }
    } else {
        for (index, part) in parts.iter().enumerate() {
            if !part.is_empty() {
                children[index] = update(children[index].as_ref(), depth + 1, part, resolve);
            }
        }
    }
    normalise_branch(children, depth)
}

/// A branch with fewer than two children is not a valid node: fold it into
/// its only child, or into nothing.
fn normalise_branch<V: LeafValue>(children: Children<V>, depth: usize) -> Option<Arc<Node<V>>> {
    let mut present = children.iter().enumerate().filter_map(|(i, c)| c.as_ref().map(|c| (i, c)));
    let (index, only) = match (present.next(), present.next()) {
        (None, _) => return None,
        (Some(first), None) => first,
        (Some(_), Some(_)) => return Some(Node::branch(children)),
    };
    let mut path = Nibbles::new();
    path.push(index as u8);
    Some(match &only.kind {
        Kind::Leaf { key, value } => Node::leaf(*key, value.clone(), depth),
        Kind::Extension { path: rest, child } => Node::extension(path.join(rest), child.clone()),
        Kind::Branch { .. } => Node::extension(path, only.clone()),
    })
}

/// An extension of `path` above `child` (at `depth`), folded into the child
/// when the child is a leaf or another extension.
fn extend<V: LeafValue>(
    path: &Nibbles,
    child: Option<Arc<Node<V>>>,
    depth: usize,
) -> Option<Arc<Node<V>>> {
    let child = child?;
    Some(match &child.kind {
        Kind::Leaf { key, value } => Node::leaf(*key, value.clone(), depth),
        Kind::Extension { path: rest, child: grandchild } => {
            Node::extension(path.join(rest), grandchild.clone())
        }
        Kind::Branch { .. } => Node::extension(*path, child),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;
    use alloy_trie::{HashBuilder, proof::verify_proof};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    impl LeafValue for u64 {
        fn encode_value(&self, out: &mut Vec<u8>) {
            alloy_rlp::Encodable::encode(&U256::from(*self), out);
        }
    }

    fn reference(map: &BTreeMap<B256, u64>) -> B256 {
        let mut builder = HashBuilder::default();
        for (key, value) in map {
            let mut bytes = Vec::new();
            value.encode_value(&mut bytes);
            builder.add_leaf(Nibbles::unpack(key), &bytes);
        }
        builder.root()
    }

    /// Keys drawn from a small alphabet of bytes share long prefixes, which
    /// exercises extensions, splits and merges far more than random hashes.
    fn key_strategy() -> impl Strategy<Value = B256> {
        prop_oneof![
            any::<[u8; 32]>().prop_map(B256::from),
            (0u8..4, 0u8..4, 0u8..3).prop_map(|(a, b, c)| {
                let mut key = [0u8; 32];
                key[0] = a * 0x11;
                key[1] = b;
                key[31] = c;
                B256::from(key)
            }),
        ]
    }

    fn batch_strategy() -> impl Strategy<Value = Vec<(B256, Option<u64>)>> {
        proptest::collection::vec((key_strategy(), proptest::option::of(1u64..1_000_000)), 0..40)
    }

    fn sorted(batch: Vec<(B256, Option<u64>)>) -> Vec<Change<u64>> {
        let map: BTreeMap<B256, Option<u64>> = batch.into_iter().collect();
        map.into_iter().collect()
    }

    #[test]
    fn empty_trie_has_the_empty_root() {
        let trie = Trie::<u64>::empty();
        assert_eq!(trie.root_hash(), EMPTY_ROOT_HASH);
        assert!(trie.proof(&B256::ZERO).is_empty());
    }

    #[test]
    fn deleting_everything_returns_to_empty() {
        let keys: Vec<Change<u64>> =
            (0u8..50).map(|i| (keccak256([i]), Some(u64::from(i) + 1))).collect();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort_by_key(|(k, _)| *k);
        let trie = Trie::empty().update(&sorted_keys);
        let deletes: Vec<Change<u64>> = sorted_keys.iter().map(|(k, _)| (*k, None)).collect();
        let trie = trie.update(&deletes);
        assert!(trie.is_empty());
        assert_eq!(trie.root_hash(), EMPTY_ROOT_HASH);
    }

    #[test]
    fn large_batches_match_the_reference() {
        // Big enough to take the parallel paths.
        let mut map = BTreeMap::new();
        let mut changes = Vec::new();
        for i in 0u32..5_000 {
            let key = keccak256(i.to_be_bytes());
            map.insert(key, u64::from(i) + 1);
            changes.push((key, Some(u64::from(i) + 1)));
        }
        changes.sort_by_key(|(k, _)| *k);
        let trie = Trie::empty().update(&changes);
        assert_eq!(trie.root_hash(), reference(&map));
        let leaves: Vec<(B256, u64)> = map.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(Trie::from_sorted(&leaves).root_hash(), reference(&map));

        let mut second = Vec::new();
        for i in (0u32..5_000).step_by(3) {
            let key = keccak256(i.to_be_bytes());
            if i % 2 == 0 {
                map.remove(&key);
                second.push((key, None));
            } else {
                map.insert(key, 7);
                second.push((key, Some(7)));
            }
        }
        second.sort_by_key(|(k, _)| *k);
        let trie = trie.update(&second);
        assert_eq!(trie.root_hash(), reference(&map));
    }

    proptest! {
        #[test]
        fn incremental_root_matches_reference(batches in proptest::collection::vec(batch_strategy(), 1..6)) {
            let mut trie = Trie::empty();
            let mut map = BTreeMap::new();
            for batch in batches {
                let changes = sorted(batch);
                for (key, value) in &changes {
                    match value {
                        Some(v) => { map.insert(*key, *v); }
                        None => { map.remove(key); }
                    }
                }
                let before = trie.root_hash();
                let next = trie.update(&changes);
                // The old version is untouched.
                prop_assert_eq!(trie.root_hash(), before);
                trie = next;
                prop_assert_eq!(trie.root_hash(), reference(&map));
                let expected: Vec<(B256, u64)> = map.iter().map(|(k, v)| (*k, *v)).collect();
                prop_assert_eq!(trie.leaves(), expected.clone());
                prop_assert_eq!(Trie::from_sorted(&expected).root_hash(), trie.root_hash());
            }
        }

        #[test]
        fn proofs_verify_for_present_and_absent_keys(
            batch in batch_strategy(),
            probes in proptest::collection::vec(key_strategy(), 1..8),
        ) {
            let changes = sorted(batch);
            let trie = Trie::empty().update(&changes);
            let root = trie.root_hash();
            let present: Vec<B256> = trie.leaves().into_iter().map(|(k, _)| k).collect();
            for key in present.iter().chain(probes.iter()) {
                let proof = trie.proof(key);
                let expected = trie.get(key).map(|v| {
                    let mut bytes = Vec::new();
                    v.encode_value(&mut bytes);
                    bytes
                });
                prop_assert!(verify_proof(root, Nibbles::unpack(key), expected.clone(), &proof).is_ok());
                if let Some(value) = expected {
                    // Claiming absence, or another value, must fail.
                    prop_assert!(verify_proof(root, Nibbles::unpack(key), None, &proof).is_err());
                    let mut other = value.clone();
                    other.push(0);
                    prop_assert!(verify_proof(root, Nibbles::unpack(key), Some(other), &proof).is_err());
                }
            }
        }
    }
}
