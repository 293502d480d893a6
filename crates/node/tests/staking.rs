//! Staking over JSON-RPC in one dev node: accounts stake to themselves and
//! to another by ordinary signed transactions, one unstakes and delegates
//! its votes; `ol_getStaking` shows positions, unbonding entries with their
//! completion times, votes and delegates, `ol_stakingInfo` the totals and
//! parameters, and malformed parameters are refused.

mod common;

use alloy_primitives::{Bytes, TxKind, U256};
use alloy_sol_types::SolCall;
use common::{Node, address, quantity, transaction};
use ol_ledger::staking::{self, IStaking, STAKING};
use ol_primitives::Amount;
use serde_json::json;

fn open(amount: u64) -> U256 {
    Amount::from_open(amount).wei()
}

impl Node {
    /// Sends a call to the staking contract from dev account `from` and
    /// waits for a successful receipt; returns its block's timestamp.
    async fn succeed(&mut self, from: u32, input: Vec<u8>) -> u64 {
        self.succeed_with_gas(from, input, 2_000_000).await
    }

    /// As [`Node::succeed`] with exactly `gas_limit`.
    async fn succeed_with_gas(&mut self, from: u32, input: Vec<u8>, gas_limit: u64) -> u64 {
        let tx = transaction(TxKind::Call(STAKING), input, gas_limit, 4_000_000_000);
        let receipt = self.succeed_from(from, tx).await;
        let block =
            self.ok("eth_getBlockByNumber", vec![receipt["blockNumber"].clone(), json!(false)]);
        quantity(&block.await["timestamp"])
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn staking_is_served_over_rpc() {
    let mut node = Node::start().await;
    let info = node.ok("ol_stakingInfo", vec![]).await;
    assert_eq!(info["totalBonded"], json!(U256::ZERO));
    assert_eq!(info["params"]["unbondingSeconds"], json!("0x93a80"), "7 days");
    assert_eq!(info["params"]["slashReporterBps"], json!("0x1388"));

    let stake = |validator: u32, amount: U256| {
        IStaking::stakeCall { validator: address(validator), amount }.abi_encode()
    };
    node.succeed(1, stake(1, open(100))).await;
    node.succeed(2, stake(1, open(50))).await;
    node.succeed(2, stake(4, open(5))).await;
    let unstake = IStaking::unstakeCall { validator: address(1), amount: open(10) };
    let unstaked_at = node.succeed(2, unstake.abi_encode()).await;
    node.succeed(2, IStaking::delegateCall { delegatee: address(3) }.abi_encode()).await;

    let two = node.ok("ol_getStaking", vec![json!(address(2))]).await;
    assert_eq!(two["bonded"], json!(open(45)), "{two}");
    assert_eq!(two["votes"], json!(U256::ZERO), "{two}");
    assert_eq!(two["delegate"], json!(address(3)), "{two}");
    let positions = two["positions"].as_array().unwrap();
    assert_eq!(positions.len(), 2, "{two}");
    assert_eq!(positions[0]["validator"], json!(address(1)));
    assert_eq!(positions[0]["bonded"], json!(open(40)));
    assert_eq!(positions[0]["unbondingTotal"], json!(open(10)));
    let completes_at = unstaked_at + staking::Params::default().unbonding_seconds;
    assert_eq!(
        positions[0]["unbonding"],
        json!([{ "amount": open(10), "completesAt": format!("{completes_at:#x}") }])
    );
    assert_eq!(positions[0]["pendingRewards"], json!(U256::ZERO));
    assert_eq!(positions[1]["validator"], json!(address(4)));

    let one = node.ok("ol_getStaking", vec![json!(address(1)), json!("latest")]).await;
    assert_eq!(one["votes"], json!(open(100)));
    assert_eq!(one["delegate"], json!(address(1)));
    assert_eq!(one["validatorStake"], json!(open(140)));
    let three = node.ok("ol_getStaking", vec![json!(address(3))]).await;
    assert_eq!(three["votes"], json!(open(45)));
    assert_eq!(three["positions"], json!([]));

    let info = node.ok("ol_stakingInfo", vec![]).await;
    assert_eq!(info["totalBonded"], json!(open(145)));
    assert_eq!(info["totalUnbonding"], json!(open(10)));
    assert_eq!(info["undistributed"], json!(U256::ZERO));
    assert_eq!(info["stakers"], json!("0x2"));
    // At the genesis block nothing was staked.
    let at_genesis = node.ok("ol_stakingInfo", vec![json!("0x0")]).await;
    assert_eq!(at_genesis["totalBonded"], json!(U256::ZERO));

    for (method, args) in [
        ("ol_getStaking", vec![]),
        ("ol_getStaking", vec![json!("0xnothex")]),
        ("ol_getStaking", vec![json!(address(1)), json!("0x99999")]),
        ("ol_stakingInfo", vec![json!("latest"), json!(1)]),
    ] {
        let error = node.call(method, args.clone()).await.unwrap_err();
        assert_eq!(error.code(), -32602, "{method} {args:?}: {error:?}");
        assert!(!error.message().is_empty());
    }
    node.handle.stop().await;
}

/// An estimate on the head is made for the block the node seals next, at
/// its time: unstaking in a later second appends vote checkpoints (new
/// storage) where the head's own time would only overwrite them, so an
/// estimate at the head's time ran out of gas.
#[tokio::test(flavor = "multi_thread")]
async fn an_estimate_pays_for_the_next_block() {
    let mut node = Node::start().await;
    let stake = IStaking::stakeCall { validator: address(1), amount: open(100) };
    let staked_at = node.succeed(1, stake.abi_encode()).await;
    node.ok("evm_setNextBlockTimestamp", vec![json!(staked_at + 5)]).await;
    let unstake = IStaking::unstakeCall { validator: address(1), amount: open(40) };
    let request =
        json!({ "from": address(1), "to": STAKING, "data": Bytes::from(unstake.abi_encode()) });
    let estimate = quantity(&node.ok("eth_estimateGas", vec![request]).await);
    let unstaked_at = node.succeed_with_gas(1, unstake.abi_encode(), estimate).await;
    assert_eq!(unstaked_at, staked_at + 5);
}

/// `ol_validatorSet` answers the genesis validators as the first epoch's
/// set (largest stake first, with keys, monikers and power in whole OPEN),
/// the dev genesis's empty set as epoch 0, and refuses malformed parameters.
#[tokio::test(flavor = "multi_thread")]
async fn the_validator_set_is_served_over_rpc() {
    let empty = Node::start().await;
    let set = empty.ok("ol_validatorSet", vec![]).await;
    assert_eq!(set["epoch"], json!("0x0"), "{set}");
    assert_eq!(set["validators"], json!([]), "{set}");
    for args in [vec![json!("0xnothex")], vec![json!("latest"), json!(1)]] {
        let error = empty.call("ol_validatorSet", args.clone()).await.unwrap_err();
        assert_eq!(error.code(), -32602, "{args:?}: {error:?}");
    }
    empty.handle.stop().await;

    let mut genesis = ol_node::dev::dev_genesis();
    genesis.validator_params = Some(staking::ValidatorParams {
        epoch_blocks: 10,
        min_validator_stake: open(1_000),
        ..Default::default()
    });
    let key = |byte: u8| alloy_primitives::B256::repeat_byte(byte);
    genesis.validators = vec![
        ol_ledger::genesis::GenesisValidator {
            operator: address(1),
            consensus_key: key(0x11),
            moniker: "one".into(),
            stake: Amount::from_open(2_000),
        },
        ol_ledger::genesis::GenesisValidator {
            operator: address(2),
            consensus_key: key(0x22),
            moniker: "two".into(),
            stake: Amount::from_open(3_000),
        },
    ];
    genesis.validate().expect("a valid genesis with two validators");
    let node = Node::builder().genesis(ol_node::GenesisSource::Value(genesis)).start().await;
    let set = node.ok("ol_validatorSet", vec![json!("latest")]).await;
    assert_eq!(set["epoch"], json!("0x1"), "{set}");
    assert_eq!(set["startBlock"], json!("0x1"), "{set}");
    assert_eq!(set["epochBlocks"], json!("0xa"), "{set}");
    assert_eq!(
        set["validators"],
        json!([
            {"operator": address(2), "consensusKey": key(0x22), "moniker": "two", "power": "0xbb8"},
            {"operator": address(1), "consensusKey": key(0x11), "moniker": "one", "power": "0x7d0"},
        ]),
        "{set}"
    );
    node.handle.stop().await;
}
