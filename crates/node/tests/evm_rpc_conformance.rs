//! JSON-RPC answers about contract execution that the differential test
//! against anvil (`crates/cli/tests/evm_diff.rs`) found different, checked
//! here without npm: `eth_call` of an Ethereum precompile runs it, a failed
//! creation's receipt still names the address it would have deployed to, and
//! `eth_estimateGas` of a transaction whose caught sub-call burns all the gas
//! it is given is the least limit that succeeds, not nearly the block's.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use jsonrpsee::{
    core::{client::ClientT, params::ArrayParams},
    http_client::{HttpClient, HttpClientBuilder},
};
use ol_node::{GenesisSource, NodeConfig, dev};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn call(client: &HttpClient, method: &str, args: Vec<Value>) -> Value {
    let mut params = ArrayParams::new();
    for arg in args {
        params.insert(arg).expect("a JSON value serializes");
    }
    client.request(method, params).await.unwrap_or_else(|e| panic!("{method}: {e}"))
}

fn quantity(value: &Value) -> u64 {
    let text = value.as_str().unwrap_or_else(|| panic!("{value} is not a quantity"));
    u64::from_str_radix(text.trim_start_matches("0x"), 16).expect("a hex quantity")
}

/// Sends `input` to `to` from dev account 0 at `nonce` and waits for the receipt.
async fn send(client: &HttpClient, nonce: u64, to: TxKind, input: Vec<u8>, gas: u64) -> Value {
    let tx = TxEip1559 {
        chain_id: dev::DEV_CHAIN_ID,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to,
        value: U256::ZERO,
        access_list: Default::default(),
        input: input.into(),
    };
    let signature = dev::dev_signer(0).sign_hash_sync(&tx.signature_hash()).expect("signs");
    let raw = Bytes::from(TxEnvelope::from(tx.into_signed(signature)).encoded_2718());
    let hash = call(client, "eth_sendRawTransaction", vec![json!(raw)]).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let receipt = call(client, "eth_getTransactionReceipt", vec![hash.clone()]).await;
        if !receipt.is_null() {
            return receipt;
        }
        assert!(Instant::now() < deadline, "no receipt for {hash}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Init code deploying `runtime` (at most 255 bytes).
fn deploying(runtime: &[u8]) -> Vec<u8> {
    let size = u8::try_from(runtime.len()).expect("a runtime under 256 bytes");
    // PUSH1 size DUP1 PUSH1 11 PUSH1 0 CODECOPY PUSH1 0 RETURN, then the runtime.
    let mut code = vec![0x60, size, 0x80, 0x60, 0x0b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3];
    code.extend(runtime);
    code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn precompiles_failed_creations_and_estimates_answer_as_ethereum_nodes_do() {
    let datadir = tempfile::tempdir().expect("a temporary directory");
    let handle = ol_node::launch(NodeConfig {
        datadir: datadir.path().to_path_buf(),
        genesis: GenesisSource::Dev,
        dev: true,
        http: "127.0.0.1:0".parse().expect("a literal socket address"),
        ws: None,
        block_time: Duration::ZERO,
        metrics: None,
        serving: None,
    })
    .await
    .expect("the node starts");
    let client = HttpClientBuilder::default()
        .build(format!("http://{}", handle.http))
        .expect("an HTTP client");
    let sender = dev::dev_signer(0).address();

    // sha256("abc") from the precompile at 0x02.
    let sha256 = Address::with_last_byte(2);
    let digest =
        call(&client, "eth_call", vec![json!({"to": sha256, "data": "0x616263"}), json!("latest")])
            .await;
    assert_eq!(
        digest,
        json!("0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        "eth_call of the sha256 precompile"
    );

    // A creation that reverts (PUSH1 0 PUSH1 0 REVERT): status 0, and the
    // receipt names the address, as geth's and anvil's do.
    let failed =
        send(&client, 0, TxKind::Create, vec![0x60, 0x00, 0x60, 0x00, 0xfd], 100_000).await;
    assert_eq!(failed["status"], json!("0x0"), "{failed}");
    assert_eq!(failed["contractAddress"], json!(sender.create(0)), "{failed}");

    // A callee that always halts (INVALID), and a caller that calls it with
    // all its gas and ignores the failure: the call burns 63/64 of whatever
    // the transaction has, yet a small limit is enough to succeed.
    let invalid = send(&client, 1, TxKind::Create, deploying(&[0xfe]), 100_000).await;
    let callee: Address =
        serde_json::from_value(invalid["contractAddress"].clone()).expect("an address");
    // PUSH1 0 (x5: out size, out offset, in size, in offset, value) PUSH20 callee GAS CALL STOP
    let mut runtime = vec![0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x73];
    runtime.extend(callee.as_slice());
    runtime.extend([0x5a, 0xf1, 0x00]);
    let deployed = send(&client, 2, TxKind::Create, deploying(&runtime), 200_000).await;
    assert_eq!(deployed["status"], json!("0x1"), "{deployed}");
    let caller: Address =
        serde_json::from_value(deployed["contractAddress"].clone()).expect("an address");
    let estimate = quantity(
        &call(&client, "eth_estimateGas", vec![json!({"from": sender, "to": caller})]).await,
    );
    assert!(
        (21_000..100_000).contains(&estimate),
        "the least limit that succeeds, not what the call burns at the block's limit: {estimate}"
    );
    let receipt = send(&client, 3, TxKind::Call(caller), Vec::new(), estimate).await;
    assert_eq!(
        receipt["status"],
        json!("0x1"),
        "a transaction with the estimate succeeds: {receipt}"
    );
}
