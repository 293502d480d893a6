//! State at older blocks over JSON-RPC, as an archive node serves it.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::{eip2718::Encodable2718, eip2930::AccessList};
use alloy_primitives::{Address, B256, Bytes, TxKind, U64, U256, address};
use alloy_signer::SignerSync;
use jsonrpsee::{
    core::{ClientError, client::ClientT, params::ArrayParams},
    http_client::HttpClientBuilder,
};
use ol_node::{
    GenesisSource, NodeConfig,
    dev::{self, DEV_RESERVE},
};
use ol_primitives::addresses;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const RECIPIENT: Address = address!("0x5555555555555555555555555555555555555555");

fn params(values: Vec<Value>) -> ArrayParams {
    let mut params = ArrayParams::new();
    for value in values {
        params.insert(value).unwrap();
    }
    params
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_at_older_blocks_is_served() {
    let datadir = tempfile::tempdir().unwrap();
    let handle = ol_node::launch(NodeConfig {
        datadir: datadir.path().to_path_buf(),
        genesis: GenesisSource::Dev,
        dev: true,
        http: "127.0.0.1:0".parse().unwrap(),
        ws: None,
        block_time: Duration::ZERO,
        metrics: None,
        serving: None,
    })
    .await
    .unwrap();
    let client = HttpClientBuilder::default().build(format!("http://{}", handle.http)).unwrap();
    let call = |method: &'static str, args: Vec<Value>| {
        let client = client.clone();
        async move {
            match client.request::<Value, _>(method, params(args)).await {
                Ok(v) => Ok(v),
                Err(ClientError::Call(e)) => Err(e),
                Err(e) => panic!("{e}"),
            }
        }
    };
    let key = dev::dev_signer(3);
    let mut blocks = Vec::new();
    for nonce in 0..3u64 {
        let tx = TxEip1559 {
            chain_id: dev::DEV_CHAIN_ID,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(RECIPIENT),
            value: U256::from(1000 + nonce),
            access_list: AccessList::default(),
            input: Bytes::new(),
        };
        let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
        let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
        let hash = call("eth_sendRawTransaction", vec![json!(Bytes::from(raw))]).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let r = call("eth_getTransactionReceipt", vec![json!(hash)]).await.unwrap();
            if !r.is_null() {
                blocks.push(r["blockNumber"].as_str().unwrap().to_string());
                break;
            }
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    println!("blocks {blocks:?}");
    let at_genesis = call("eth_getBalance", vec![json!(RECIPIENT), json!("0x0")]).await.unwrap();
    assert_eq!(at_genesis, json!("0x0"));
    let at_earliest =
        call("eth_getBalance", vec![json!(RECIPIENT), json!("earliest")]).await.unwrap();
    assert_eq!(at_earliest, json!("0x0"));
    let mut expected = 0u64;
    for (i, block) in blocks.iter().enumerate() {
        expected += 1000 + i as u64;
        let b = call("eth_getBalance", vec![json!(RECIPIENT), json!(block)]).await.unwrap();
        assert_eq!(
            serde_json::from_value::<U256>(b).unwrap(),
            U256::from(expected),
            "block {block}"
        );
        let n = call("eth_getTransactionCount", vec![json!(key.address()), json!(block)])
            .await
            .unwrap();
        assert_eq!(serde_json::from_value::<U64>(n).unwrap(), U64::from(i as u64 + 1));
        // By hash too.
        let header = call("eth_getBlockByNumber", vec![json!(block), json!(false)]).await.unwrap();
        let by_hash =
            call("eth_getBalance", vec![json!(RECIPIENT), json!({"blockHash": header["hash"]})])
                .await
                .unwrap();
        assert_eq!(serde_json::from_value::<U256>(by_hash).unwrap(), U256::from(expected));
    }
    let n0 =
        call("eth_getTransactionCount", vec![json!(key.address()), json!("0x0")]).await.unwrap();
    assert_eq!(n0, json!("0x0"));
    // The reserve's vesting slot exists from genesis.
    let slot = ol_ledger::vesting::schedule_slot(&DEV_RESERVE);
    let s0 = call("eth_getStorageAt", vec![json!(addresses::VESTING), json!(slot), json!("0x0")])
        .await
        .unwrap();
    let sl =
        call("eth_getStorageAt", vec![json!(addresses::VESTING), json!(slot), json!("latest")])
            .await
            .unwrap();
    assert_eq!(s0, sl);
    assert_ne!(serde_json::from_value::<B256>(s0).unwrap(), B256::ZERO);
    // Spendable at genesis time vs now for the reserve.
    let r0 = call("eth_getBalance", vec![json!(DEV_RESERVE), json!("0x0")]).await.unwrap();
    let bd0 = call("ol_getBalanceBreakdown", vec![json!(DEV_RESERVE), json!("0x0")]).await.unwrap();
    println!("reserve at 0: {r0} breakdown {bd0}");
    assert_eq!(bd0["spendable"], r0);
    let bd_latest =
        call("ol_getBalanceBreakdown", vec![json!(DEV_RESERVE), json!("latest")]).await.unwrap();
    let bd_none = call("ol_getBalanceBreakdown", vec![json!(DEV_RESERVE)]).await.unwrap();
    println!("latest {bd_latest}\nnone {bd_none}");
    // Proofs at the head only.
    let ok =
        call("eth_getProof", vec![json!(RECIPIENT), json!([]), json!("latest")]).await.unwrap();
    assert!(ok["accountProof"].is_array());
    let head = call("eth_blockNumber", vec![]).await.unwrap();
    call("eth_getProof", vec![json!(RECIPIENT), json!([]), head.clone()]).await.unwrap();
    let err =
        call("eth_getProof", vec![json!(RECIPIENT), json!([]), json!("0x0")]).await.unwrap_err();
    println!("getProof at 0: {} {}", err.code(), err.message());
    let future = call("eth_getBalance", vec![json!(RECIPIENT), json!("0x99")]).await.unwrap_err();
    println!("future: {} {}", future.code(), future.message());
    let future =
        call("ol_getBalanceBreakdown", vec![json!(RECIPIENT), json!("0x99")]).await.unwrap_err();
    println!("future breakdown: {} {}", future.code(), future.message());
    // eth_call at an old block checks funds there.
    let c = call(
        "eth_call",
        vec![json!({"from": RECIPIENT, "to": RECIPIENT, "value": "0x1"}), json!("0x0")],
    )
    .await
    .unwrap_err();
    println!("eth_call at 0 from unfunded: {}", c.message());
    call(
        "eth_call",
        vec![json!({"from": RECIPIENT, "to": RECIPIENT, "value": "0x1"}), json!("latest")],
    )
    .await
    .unwrap();
    handle.stop().await;
}
