//! Four validators and a follower, in one process over loopback TCP: they
//! commit the same blocks, a transaction sent to the follower reaches the
//! proposers, and every block is stored with its commit certificate.

mod common;

use alloy_primitives::{Address, U256};
use common::{NetworkSpec, assert_same_chain, signed_call, wait_until};
use ol_ledger::StateView;
use ol_node::dev;
use std::time::Duration;

alloy_sol_types::sol! {
    interface IStakingCalls {
        function stake(address validator, uint256 amount) external;
        function unstake(address validator, uint256 amount) external returns (uint64 completesAt);
        function registerValidator(bytes32 consensusKey, string calldata moniker) external;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_validators_and_a_follower_commit_the_same_blocks() {
    let root = tempfile::tempdir().expect("temp dir");
    let spec = NetworkSpec::new(root.path(), 4, 1);
    let nodes = spec.start_all().await;
    let limit = Duration::from_secs(120);
    wait_until("every node at height 3", limit, || {
        nodes.iter().all(|n| n.chain.head().number() >= 3)
    })
    .await;

    // A transfer sent to the follower is gossiped to the validators and committed.
    let to = Address::repeat_byte(0x42);
    let hash = nodes[4]
        .chain
        .submit_raw(&signed_call(0, 0, to, 12_345, 21_000, Vec::new()))
        .expect("admitted");
    wait_until("the transfer committed everywhere", limit, || {
        nodes.iter().all(|n| n.chain.store().receipt(hash).ok().flatten().is_some())
    })
    .await;
    for node in &nodes {
        let balance =
            node.chain.snapshot().expect("state").account(&to).expect("reads").map(|a| a.balance);
        assert_eq!(balance, Some(U256::from(12_345)));
    }

    let height = nodes.iter().map(|n| n.chain.head().number()).min().expect("nodes");
    let handles: Vec<_> = nodes.iter().collect();
    assert_same_chain(&handles, height);
    // Blocks pay their proposer's operator, and carry certificates.
    let operators: Vec<Address> = (0..4).map(|i| spec.operator(i)).collect();
    for h in 1..=height {
        let header = nodes[0].chain.store().header_by_number(h).unwrap().unwrap();
        assert!(
            operators.contains(&header.header.beneficiary),
            "block {h} pays {}",
            header.header.beneficiary
        );
        for node in &nodes {
            let certificate =
                node.chain.certificate(h).expect("reads").expect("stored with the block");
            let certificate = ol_network::wire::decode_certificate(&certificate).expect("decodes");
            assert_eq!(certificate.value_id.0, header.hash.0);
            assert!(certificate.commit_signatures.len() >= 3, "+2/3 of 4 signed block {h}");
        }
    }
    // The consensus metrics move.
    let metrics = nodes[0].chain.metrics();
    assert!(metrics.consensus_rounds.get() >= height);
    assert_eq!(metrics.consensus_validators.get(), 4);
    let verified: u64 = nodes.iter().map(|n| n.chain.metrics().proposals_valid.get()).sum();
    assert!(verified >= height, "{verified} proposals verified over {height} heights");
    assert_eq!(nodes.iter().map(|n| n.chain.metrics().proposals_invalid.get()).sum::<u64>(), 0);
    for node in nodes {
        node.stop().await;
    }
}

/// The operators in staking's active set on `node`.
fn active_operators(node: &ol_node::NodeHandle) -> Vec<Address> {
    let snapshot = node.chain.snapshot().expect("state");
    ol_ledger::staking::StakingReader::new(&snapshot)
        .active_validators()
        .expect("reads")
        .into_iter()
        .map(|v| v.operator)
        .collect()
}

/// Whether `address` signed the commit certificate of block `h` on `node`.
fn signed(node: &ol_node::NodeHandle, h: u64, address: &ol_network::context::Address) -> bool {
    let certificate = node.chain.certificate(h).expect("reads").expect("stored");
    let certificate = ol_network::wire::decode_certificate(&certificate).expect("decodes");
    certificate.commit_signatures.iter().any(|s| &s.address == address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_validator_set_follows_staking_at_epoch_boundaries() {
    use alloy_sol_types::SolCall;
    let root = tempfile::tempdir().expect("temp dir");
    // Node 4 runs as a validator whose key is not in the genesis set yet;
    // dev account 5 will operate it. Epochs are 5 blocks.
    let mut spec = NetworkSpec::new(root.path(), 4, 1);
    spec.nodes[4].config.validator = true;
    let joiner_key = ol_network::config::consensus_public_key(&spec.nodes[4].key);
    let joiner = ol_network::context::Address::from_public_key(&spec.nodes[4].key.public_key());
    let joiner_operator = dev::dev_signer(5).address();
    let nodes = spec.start_all().await;
    let limit = Duration::from_secs(120);
    wait_until("height 2", limit, || nodes.iter().all(|n| n.chain.head().number() >= 2)).await;

    // Bond 2,000 OPEN (the test genesis' minimum is 1,000) and register the key.
    let staking = ol_primitives::addresses::STAKING;
    let open = ol_primitives::Amount::from_open(2_000).wei();
    let stake = IStakingCalls::stakeCall { validator: joiner_operator, amount: open }.abi_encode();
    let register =
        IStakingCalls::registerValidatorCall { consensusKey: joiner_key, moniker: "node4".into() }
            .abi_encode();
    nodes[0]
        .chain
        .submit_raw(&signed_call(5, 0, staking, 0, 1_000_000, stake))
        .expect("stake admitted");
    let registered = nodes[0]
        .chain
        .submit_raw(&signed_call(5, 1, staking, 0, 1_000_000, register))
        .expect("admitted");
    wait_until("the registration committed", limit, || {
        nodes[0].chain.store().receipt(registered).ok().flatten().is_some()
    })
    .await;
    wait_until("the joiner in the active set", limit, || {
        active_operators(&nodes[0]).contains(&joiner_operator)
    })
    .await;
    // From the epoch it joined, its precommits count: they appear in certificates.
    let joined = nodes[0].chain.head().number();
    wait_until("the joiner signing commits", limit, || {
        let head = nodes[0].chain.head().number();
        (joined + 1..=head).any(|h| signed(&nodes[0], h, &joiner))
    })
    .await;

    // Validator 3's operator unbonds its whole stake: it leaves at the next epoch.
    let leaver = spec.operator(3);
    let unstake = IStakingCalls::unstakeCall { validator: leaver, amount: open }.abi_encode();
    let leaver_account = common::FIRST_OPERATOR + 3;
    nodes[1]
        .chain
        .submit_raw(&signed_call(leaver_account, 0, staking, 0, 1_000_000, unstake))
        .expect("admitted");
    wait_until("the leaver out of the active set", limit, || {
        let active = active_operators(&nodes[0]);
        !active.contains(&leaver) && active.len() == 4
    })
    .await;
    // The set of 0, 1, 2 and the joiner goes on committing.
    let h = nodes[0].chain.head().number();
    wait_until("three more heights", limit, || {
        [0, 1, 2, 4].iter().all(|&i| nodes[i].chain.head().number() >= h + 3)
    })
    .await;
    let handles: Vec<_> = nodes.iter().collect();
    assert_same_chain(&handles, h + 3);
    for node in nodes {
        node.stop().await;
    }
}
