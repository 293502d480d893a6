//! Importing blocks another node built: two chains from the same dev
//! genesis, A producing (sealing, or building then committing) and B
//! importing each of A's blocks, which must give the same head hash and
//! state root at every height; and hostile blocks B must refuse, naming
//! what is wrong and writing nothing.

use alloy_consensus::{Header, SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{Address, B256, Bloom, Bytes, Signature, TxKind, U256};
use alloy_signer::SignerSync;
use ol_ledger::{InvalidTransaction, StateView};
use ol_node::{
    chain::{Chain, ChainError, HeaderField, ImportError, MAX_FUTURE_BLOCK_SECS},
    dev,
    metrics::Metrics,
};
use ol_primitives::{
    Block, RecoveredTransaction, SealedHeader, TransactionDecodeError, block::transactions_root,
};
use ol_storage::Store;
use std::sync::Arc;

/// A chain from the dev genesis, its data in a temporary directory.
struct Node {
    chain: Chain,
    _datadir: tempfile::TempDir,
}

impl Node {
    fn open() -> Self {
        let datadir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open(datadir.path()).expect("a fresh store opens");
        let chain = Chain::open(store, dev::dev_genesis(), Arc::new(Metrics::new()))
            .expect("the dev genesis is written");
        Self { chain, _datadir: datadir }
    }

    /// Block `number` as this node stored it.
    fn block(&self, number: u64) -> Block {
        self.chain
            .store()
            .block_by_number(number)
            .expect("the store reads")
            .unwrap_or_else(|| panic!("block {number} is stored"))
    }
}

/// A signed EIP-1559 transaction of dev account `from`.
fn signed(from: u32, nonce: u64, to: TxKind, value: u64, input: Vec<u8>) -> RecoveredTransaction {
    let tx = TxEip1559 {
        chain_id: dev::DEV_CHAIN_ID,
        nonce,
        gas_limit: 300_000,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to,
        value: U256::from(value),
        access_list: Default::default(),
        input: input.into(),
    };
    let signature = dev::dev_signer(from).sign_hash_sync(&tx.signature_hash()).expect("signs");
    RecoveredTransaction::recover(tx.into_signed(signature).into()).expect("a valid signature")
}

/// A plain transfer of `value` wei.
fn transfer(from: u32, nonce: u64, to: Address, value: u64) -> RecoveredTransaction {
    signed(from, nonce, TxKind::Call(to), value, Vec::new())
}

/// Init code deploying a runtime that stores its calldata's first word in
/// slot 0 and logs it as LOG1's topic.
fn init_code() -> Vec<u8> {
    let runtime = [
        0x60, 0x00, 0x35, // CALLDATALOAD(0)
        0x80, // DUP1
        0x60, 0x00, 0x55, // SSTORE(0, word)
        0x60, 0x00, 0x60, 0x00, 0xa1, // LOG1(0, 0, word)
        0x00, // STOP
    ];
    let mut code = vec![
        0x60, 0x0d, 0x60, 0x0c, 0x60, 0x00, 0x39, // CODECOPY(0, 12, 13)
        0x60, 0x0d, 0x60, 0x00, 0xf3, // RETURN(0, 13)
    ];
    code.extend_from_slice(&runtime);
    code
}

fn submit(node: &Node, tx: &RecoveredTransaction) {
    node.chain.submit(tx.clone()).unwrap_or_else(|e| panic!("{} is pooled: {e}", tx.hash));
}

/// Asserts both chains have the same head, state root and last block.
fn assert_same_head(a: &Node, b: &Node) {
    let (head_a, head_b) = (a.chain.head(), b.chain.head());
    assert_eq!(head_b, head_a, "same head at block {}", head_a.number());
    let number = head_a.number();
    assert_eq!(
        b.chain.snapshot().unwrap().state_root(),
        a.chain.snapshot().unwrap().state_root(),
        "same state root at block {number}"
    );
    assert_eq!(
        b.chain.store().recompute_state_root().unwrap(),
        head_a.header.state_root,
        "B's stored state is the one A's header commits to at block {number}"
    );
    assert_eq!(
        b.chain.store().block_receipts(number).unwrap(),
        a.chain.store().block_receipts(number).unwrap(),
        "same receipts in block {number}"
    );
    assert_eq!(b.block(number), a.block(number));
}

#[test]
fn imported_blocks_give_the_producers_chain() {
    let (a, b) = (Node::open(), Node::open());
    let recipient = Address::repeat_byte(0x77);
    let deployer = dev::dev_signer(0).address();
    let contract = deployer.create(1);

    // Block 1, sealed as the dev sealer does: transfers from two accounts,
    // one of them also waiting in B's pool.
    let shared = transfer(0, 0, recipient, 1_000);
    for tx in [&shared, &transfer(1, 0, recipient, 2_000), &transfer(1, 1, deployer, 3)] {
        submit(&a, tx);
    }
    submit(&b, &shared);
    let sealed = a.chain.seal_block(dev::DEV_PRODUCER, usize::MAX).unwrap();
    assert_eq!(sealed.transactions, 3);
    let mut heads = b.chain.subscribe_heads();
    let imported = b.chain.import_block(a.block(1)).unwrap();
    assert_eq!(imported, sealed.header);
    assert_same_head(&a, &b);
    assert_eq!(b.chain.pool_len(), 0, "the imported block settled B's pooled transaction");
    assert_eq!(heads.try_recv().unwrap(), sealed.header, "B broadcast the imported head");

    // Block 2, built then committed, as a proposer does: a contract
    // deployment and a transfer, another beneficiary; B imports the
    // proposal before A commits it.
    submit(&a, &signed(0, 1, TxKind::Create, 0, init_code()));
    submit(&a, &transfer(2, 0, recipient, 5));
    let proposer = Address::repeat_byte(0x42);
    let built = a.chain.build_block(proposer, usize::MAX, None).unwrap();
    assert_eq!(built.transactions().len(), 2);
    assert_eq!(a.chain.head(), sealed.header, "building commits nothing");
    assert_eq!(a.chain.pool_len(), 2, "building leaves the pool as it was");
    assert!(a.chain.store().block_by_number(2).unwrap().is_none());
    let imported = b.chain.import_block(built.block()).unwrap();
    assert_eq!(&imported, built.header());
    let committed = a.chain.commit_built(built).unwrap();
    assert_eq!(committed.header, imported);
    assert_eq!(committed.header.header.beneficiary, proposer);
    assert_eq!(a.chain.pool_len(), 0);
    assert_same_head(&a, &b);
    let code_hash = b.chain.snapshot().unwrap().account(&contract).unwrap().unwrap().code_hash;
    assert_eq!(&b.chain.store().code(&code_hash).unwrap().unwrap()[..], &init_code()[12..]);

    // Block 3: a call that stores and logs, and a transfer.
    let word = B256::from(U256::from(0x2a));
    submit(&a, &signed(0, 2, TxKind::Call(contract), 0, word.to_vec()));
    submit(&a, &transfer(3, 0, recipient, 7));
    a.chain.seal_block(dev::DEV_PRODUCER, usize::MAX).unwrap();
    b.chain.import_block(a.block(3)).unwrap();
    assert_same_head(&a, &b);
    let receipts = b.chain.store().block_receipts(3).unwrap().unwrap();
    assert!(receipts[0].success(), "the call succeeded");
    assert_eq!(receipts[0].logs()[0].topics(), &[word]);
    assert_ne!(b.chain.head().header.logs_bloom, Bloom::ZERO);
    let stored = b.chain.snapshot().unwrap().storage(&contract, &B256::ZERO).unwrap();
    assert_eq!(stored, U256::from(0x2a));

    // Block 4: empty, with a pinned timestamp (the base fee falls).
    let next = a.chain.head().header.timestamp + 2;
    a.chain.set_next_timestamp(next).unwrap();
    a.chain.seal_block(dev::DEV_PRODUCER, usize::MAX).unwrap();
    b.chain.import_block(a.block(4)).unwrap();
    assert_same_head(&a, &b);
    assert_eq!(b.chain.head().header.timestamp, next);
    assert_eq!(b.chain.head().number(), 4);
}

#[test]
fn a_built_block_is_not_committed_once_the_head_moved() {
    let a = Node::open();
    submit(&a, &transfer(0, 0, Address::repeat_byte(1), 1));
    let built = a.chain.build_block(dev::DEV_PRODUCER, usize::MAX, None).unwrap();
    let sealed = a.chain.seal_block(dev::DEV_PRODUCER, usize::MAX).unwrap();
    let error = a.chain.commit_built(built.clone()).unwrap_err();
    match &error {
        ChainError::NotOnHead { number, parent_hash, head_number, head_hash } => {
            assert_eq!(*number, 1);
            assert_eq!(*parent_hash, built.header().header.parent_hash);
            assert_eq!((*head_number, *head_hash), (1, sealed.header.hash));
        }
        other => panic!("expected NotOnHead, got {other}"),
    }
    assert!(error.to_string().contains("build it again"), "{error}");
    assert_eq!(a.chain.head(), sealed.header);
    assert!(a.chain.store().block_by_number(2).unwrap().is_none());
}

/// What a validator does: verify a proposed block without committing it
/// (nothing written), commit it once decided with its certificate in the
/// same write; a verified block is refused once the head moved.
#[test]
fn verified_blocks_commit_with_their_certificates() {
    let (a, b) = (Node::open(), Node::open());
    submit(&a, &transfer(0, 0, Address::repeat_byte(1), 1));
    a.chain.seal_block(dev::DEV_PRODUCER, usize::MAX).unwrap();
    let verified = b.chain.verify_block(a.block(1)).unwrap();
    assert_eq!(verified.header().hash, a.block(1).header.hash);
    assert_eq!(verified.transactions().len(), 1);
    assert_eq!(b.chain.head().number(), 0, "verifying writes nothing");
    assert!(b.chain.certificate(1).unwrap().is_none());
    let header = b.chain.commit_verified(verified.clone(), Some(b"signatures")).unwrap();
    assert_eq!(header.hash, a.block(1).header.hash);
    assert_eq!(b.chain.certificate(1).unwrap().as_deref(), Some(&b"signatures"[..]));
    assert_same_head(&a, &b);
    // The same verified block again: its parent is no longer the head.
    match b.chain.commit_verified(verified, None).unwrap_err() {
        ImportError::ParentNotHead { number, .. } => assert_eq!(number, 1),
        other => panic!("expected ParentNotHead, got {other}"),
    }
    // A block verified on a head that then moved is refused, nothing written.
    submit(&a, &transfer(0, 1, Address::repeat_byte(1), 1));
    a.chain.seal_block(dev::DEV_PRODUCER, usize::MAX).unwrap();
    let stale = b.chain.verify_block(a.block(2)).unwrap();
    b.chain.import_block(a.block(2)).unwrap();
    assert!(matches!(
        b.chain.commit_verified(stale, Some(b"x")),
        Err(ImportError::ParentNotHead { .. })
    ));
    assert!(b.chain.certificate(2).unwrap().is_none());
    // A block built here commits with its certificate too.
    let built = a.chain.build_block(dev::DEV_PRODUCER, usize::MAX, None).unwrap();
    let header = a.chain.commit_built_certified(built, b"cert 3").unwrap();
    assert_eq!(header.number(), 3);
    assert_eq!(a.chain.certificate(3).unwrap().as_deref(), Some(&b"cert 3"[..]));
}

/// Imports `block` into `node`, which must refuse it and stay exactly as it
/// was: head, state, stored blocks, pool.
fn refused(node: &Node, block: Block) -> ImportError {
    let chain = &node.chain;
    let head = chain.head();
    let state_root = chain.snapshot().unwrap().state_root();
    let pooled = chain.pool_len();
    let error = chain.import_block(block).expect_err("the block is refused");
    assert_eq!(chain.head(), head, "{error}: the head moved");
    assert_eq!(chain.store().head().unwrap(), head, "{error}: the stored head moved");
    assert_eq!(chain.snapshot().unwrap().state_root(), state_root, "{error}: the state moved");
    assert_eq!(
        chain.store().recompute_state_root().unwrap(),
        head.header.state_root,
        "{error}: the stored state moved"
    );
    assert!(
        chain.store().block_by_number(head.number() + 1).unwrap().is_none(),
        "{error}: a block was stored"
    );
    assert_eq!(chain.pool_len(), pooled, "{error}: the pool changed");
    error
}

/// `block` with its header changed by `edit` and sealed again (the hash
/// right for the tampered header).
fn tampered(block: &Block, edit: impl FnOnce(&mut Header)) -> Block {
    let mut header = block.header.header.clone();
    edit(&mut header);
    Block { header: SealedHeader::seal(header), transactions: block.transactions.clone() }
}

/// `block` with its transactions changed by `edit`, the header's
/// transactions root recomputed to match (as a hostile producer would).
fn with_transactions(block: &Block, edit: impl FnOnce(&mut Vec<RecoveredTransaction>)) -> Block {
    let mut transactions = block.transactions.clone();
    edit(&mut transactions);
    let envelopes: Vec<TxEnvelope> = transactions.iter().map(|t| t.envelope.clone()).collect();
    let Block { header, .. } =
        tampered(block, |h| h.transactions_root = transactions_root(&envelopes));
    Block { header, transactions }
}

/// Asserts `error` is a mismatch of `field` whose message carries both values.
fn assert_mismatch(error: &ImportError, field: HeaderField, block: &str, computed: &str) {
    match error {
        ImportError::HeaderMismatch { field: got, block: b, computed: c, .. } => {
            assert_eq!(*got, field, "{error}");
            assert_eq!((b.as_str(), c.as_str()), (block, computed), "{error}");
        }
        other => panic!("expected a {field} mismatch, got: {other}"),
    }
    let message = error.to_string();
    for part in [&field.to_string(), block, computed] {
        assert!(message.contains(part), "{message:?} names {part}");
    }
}

#[test]
fn hostile_blocks_are_refused_and_change_nothing() {
    let (a, b) = (Node::open(), Node::open());
    let recipient = Address::repeat_byte(0x55);
    submit(&a, &transfer(0, 0, recipient, 1));
    a.chain.seal_block(dev::DEV_PRODUCER, usize::MAX).unwrap();
    b.chain.import_block(a.block(1)).unwrap();
    // Block 2: three transfers from three accounts, not yet on B; one of
    // them waits in B's pool.
    let pooled = transfer(1, 0, recipient, 2);
    for tx in [transfer(0, 1, recipient, 3), pooled.clone(), transfer(2, 0, recipient, 4)] {
        submit(&a, &tx);
    }
    submit(&b, &pooled);
    a.chain.seal_block(dev::DEV_PRODUCER, usize::MAX).unwrap();
    let good = a.block(2);
    assert_eq!(good.transactions.len(), 3);
    let parent = b.chain.head();
    let header = &good.header.header;

    let error = refused(&b, tampered(&good, |h| h.parent_hash = B256::repeat_byte(1)));
    assert!(
        matches!(error, ImportError::ParentNotHead { number: 2, parent_hash, head_hash }
            if parent_hash == B256::repeat_byte(1) && head_hash == parent.hash),
        "{error}"
    );

    let error = refused(&b, tampered(&good, |h| h.number = 3));
    assert!(matches!(error, ImportError::NotNext { number: 3, head: 1 }), "{error}");
    let error = refused(&b, a.block(1));
    assert!(matches!(error, ImportError::NotNext { number: 1, head: 1 }), "{error}");

    let forged = Block {
        header: SealedHeader { header: header.clone(), hash: B256::repeat_byte(9) },
        transactions: good.transactions.clone(),
    };
    let error = refused(&b, forged);
    assert!(
        matches!(error, ImportError::HashMismatch { claimed, computed, .. }
            if claimed == B256::repeat_byte(9) && computed == good.header.hash),
        "{error}"
    );

    let state_root = B256::repeat_byte(0xee);
    let error = refused(&b, tampered(&good, |h| h.state_root = state_root));
    assert_mismatch(
        &error,
        HeaderField::StateRoot,
        &state_root.to_string(),
        &header.state_root.to_string(),
    );

    let receipts_root = B256::repeat_byte(0xdd);
    let error = refused(&b, tampered(&good, |h| h.receipts_root = receipts_root));
    assert_mismatch(
        &error,
        HeaderField::ReceiptsRoot,
        &receipts_root.to_string(),
        &header.receipts_root.to_string(),
    );

    let error = refused(&b, tampered(&good, |h| h.gas_used += 1));
    let gas_used = header.gas_used.to_string();
    assert_mismatch(&error, HeaderField::GasUsed, &(header.gas_used + 1).to_string(), &gas_used);

    let bloom = Bloom::repeat_byte(0xff);
    let error = refused(&b, tampered(&good, |h| h.logs_bloom = bloom));
    assert_mismatch(&error, HeaderField::LogsBloom, &bloom.to_string(), &Bloom::ZERO.to_string());

    let error = refused(&b, tampered(&good, |h| h.extra_data = Bytes::from_static(b"mine")));
    assert_mismatch(&error, HeaderField::ExtraData, "0x6d696e65", "0x");

    let base_fee = header.base_fee_per_gas.unwrap();
    let error = refused(&b, tampered(&good, |h| h.base_fee_per_gas = Some(base_fee + 1)));
    assert_mismatch(
        &error,
        HeaderField::BaseFeePerGas,
        &(base_fee + 1).to_string(),
        &base_fee.to_string(),
    );

    let error = refused(&b, tampered(&good, |h| h.gas_limit += 1));
    assert_mismatch(
        &error,
        HeaderField::GasLimit,
        &(header.gas_limit + 1).to_string(),
        &header.gas_limit.to_string(),
    );

    let before = parent.header.timestamp - 1;
    let error = refused(&b, tampered(&good, |h| h.timestamp = before));
    assert!(
        matches!(error, ImportError::TimestampBeforeParent { number: 2, timestamp, parent: p }
            if timestamp == before && p == parent.header.timestamp),
        "{error}"
    );
    let ahead = b.chain.now() + MAX_FUTURE_BLOCK_SECS + 60;
    let error = refused(&b, tampered(&good, |h| h.timestamp = ahead));
    assert!(
        matches!(error, ImportError::TimestampInFuture { timestamp, .. } if timestamp == ahead),
        "{error}"
    );

    // The body is not the one the header commits to.
    let mut removed = good.clone();
    removed.transactions.pop();
    let error = refused(&b, removed);
    assert_eq!(
        field_of(&error),
        Some(HeaderField::TransactionsRoot),
        "one transaction removed: {error}"
    );
    let mut reordered = good.clone();
    reordered.transactions.swap(0, 1);
    let error = refused(&b, reordered);
    assert_eq!(field_of(&error), Some(HeaderField::TransactionsRoot), "reordered: {error}");

    // A body matching its transactions root, but not the rest of the header.
    let error = refused(&b, with_transactions(&good, |txs| drop(txs.pop())));
    assert_eq!(field_of(&error), Some(HeaderField::ReceiptsRoot), "removed, root fixed: {error}");

    // An invalid signature (r = 0): no sender can be recovered.
    let error = refused(
        &b,
        with_transactions(&good, |txs| {
            let TxEnvelope::Eip1559(signed) = &txs[1].envelope else { panic!("an EIP-1559 tx") };
            let signature = Signature::new(U256::ZERO, signed.signature().s(), false);
            let envelope = TxEnvelope::from(signed.tx().clone().into_signed(signature));
            txs[1] = RecoveredTransaction::from_trusted(envelope, txs[1].sender);
        }),
    );
    assert!(
        matches!(
            error,
            ImportError::Transaction {
                number: 2,
                index: 1,
                source: TransactionDecodeError::InvalidSignature
            }
        ),
        "{error}"
    );

    // A transaction that is invalid where it stands: a nonce gap.
    let gapped = transfer(2, 5, recipient, 4);
    let gapped_hash = gapped.hash;
    let error = refused(&b, with_transactions(&good, |txs| txs[2] = gapped));
    match &error {
        ImportError::InvalidTransaction { number: 2, index: 2, hash, reason } => {
            assert_eq!(*hash, gapped_hash);
            assert!(
                matches!(**reason, InvalidTransaction::NonceTooHigh { expected: 0, got: 5 }),
                "{reason}"
            );
        }
        other => panic!("expected an invalid transaction, got: {other}"),
    }
    assert!(error.to_string().contains(&gapped_hash.to_string()), "{error}");

    // After all that, the genuine block imports; the senders a block
    // claims play no part (each is recovered again).
    let mut genuine = good.clone();
    for tx in &mut genuine.transactions {
        tx.sender = Address::ZERO;
    }
    assert_eq!(b.chain.import_block(genuine).unwrap(), good.header);
    assert_eq!(b.chain.snapshot().unwrap().state_root(), a.chain.snapshot().unwrap().state_root());
    assert_eq!(b.chain.pool_len(), 0, "the included transaction left B's pool");
}

/// The header field an error names, if it names one.
fn field_of(error: &ImportError) -> Option<HeaderField> {
    match error {
        ImportError::HeaderMismatch { field, .. } => Some(*field),
        _ => None,
    }
}
