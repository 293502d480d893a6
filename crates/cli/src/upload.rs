//! Uploading contribution bytes to a node's blob store, where the chain's
//! contributions name them by SHA-256.
//!
//! Small files go over JSON-RPC (`ol_putBlob`, hex in a JSON request); files
//! over [`JSON_RPC_UPLOAD_LIMIT`] go as the raw body of a plain HTTP/1.1
//! `PUT /blobs/<sha256>` on the same port, since hex doubles the size and a
//! JSON-RPC request is capped. Either way the node parses the bytes in the
//! datanet's format first and refuses them, with the reason, if they are
//! not a valid contribution of that format.

use crate::rpc::{NodeClient, RpcError};
use alloy_primitives::{B256, Bytes};
use eyre::{Result, bail, eyre};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Largest upload sent over JSON-RPC; larger ones use `PUT /blobs`.
pub(crate) const JSON_RPC_UPLOAD_LIMIT: usize = 1024 * 1024;

/// How long an HTTP upload may take.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// How the node should parse the bytes before storing them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContentCheck {
    /// `txt`, `md`, `jsonl` or `csv`.
    pub(crate) format: &'static str,
    /// The JSON field holding a `.jsonl` row's text.
    pub(crate) jsonl_field: String,
    /// The column holding a `.csv` row's text.
    pub(crate) csv_column: String,
}

/// The SHA-256 of `bytes`: the name of their blob.
pub(crate) fn sha256(bytes: &[u8]) -> B256 {
    B256::from(<[u8; 32]>::from(Sha256::digest(bytes)))
}

/// Stores `bytes` in the node's blob store, checked against `check`, and
/// returns their hash.
pub(crate) async fn upload(node: &NodeClient, bytes: &[u8], check: &ContentCheck) -> Result<B256> {
    let hash = sha256(bytes);
    let over_http = bytes.len() > JSON_RPC_UPLOAD_LIMIT && node.url().starts_with("http://");
    let stored = if over_http {
        put_over_http(node.url(), hash, bytes, check).await?
    } else {
        put_over_json_rpc(node, hash, bytes, check).await?
    };
    if stored != hash {
        bail!("the node stored the upload as {stored}, but its SHA-256 is {hash}");
    }
    Ok(hash)
}

async fn put_over_json_rpc(
    node: &NodeClient,
    hash: B256,
    bytes: &[u8],
    check: &ContentCheck,
) -> Result<B256> {
    let options = json!({
        "sha256": hash,
        "format": check.format,
        "jsonlField": check.jsonl_field,
        "csvColumn": check.csv_column,
    });
    let data = serde_json::to_value(Bytes::copy_from_slice(bytes))
        .expect("bytes serialize as a hex string");
    node.call("ol_putBlob", vec![data, options]).await.map_err(|error| match error {
        RpcError::Node { message, .. } => {
            let reason = message.strip_prefix("ol_putBlob: ").unwrap_or(&message);
            eyre!("the node refused the upload: {reason}")
        }
        other => other.into(),
    })
}

/// The URL of `PUT /blobs/<hash>` on the node at `rpc_url`, with the
/// format check as its query.
fn blob_url(rpc_url: &str, hash: B256, check: &ContentCheck) -> Result<Uri> {
    let base: Uri =
        rpc_url.parse().map_err(|error| eyre!("invalid --rpc-url {rpc_url:?}: {error}"))?;
    let (Some(scheme), Some(authority)) = (base.scheme_str(), base.authority()) else {
        bail!("invalid --rpc-url {rpc_url:?}: expected http://HOST:PORT");
    };
    let url = format!(
        "{scheme}://{authority}/blobs/{hash:x}?format={}&field={}&column={}",
        check.format,
        percent_encode(&check.jsonl_field),
        percent_encode(&check.csv_column)
    );
    url.parse().map_err(|error| eyre!("cannot form the upload URL {url:?}: {error}"))
}

/// `text` with everything but RFC 3986 unreserved characters percent-encoded.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn put_over_http(
    rpc_url: &str,
    hash: B256,
    bytes: &[u8],
    check: &ContentCheck,
) -> Result<B256> {
    let url = blob_url(rpc_url, hash, check)?;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<hyper::body::Bytes>>();
    let request = Request::builder()
        .method(Method::PUT)
        .uri(url.clone())
        .header("content-type", "application/octet-stream")
        .body(Full::new(hyper::body::Bytes::copy_from_slice(bytes)))
        .map_err(|error| eyre!("cannot form the upload request: {error}"))?;
    let exchange = async {
        let response = client.request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>((status, body))
    };
    let (status, body) = tokio::time::timeout(UPLOAD_TIMEOUT, exchange)
        .await
        .map_err(|_| eyre!("the upload to {url} took more than {} s", UPLOAD_TIMEOUT.as_secs()))?
        .map_err(|error| eyre!("cannot upload to {url}: {}", innermost(error.as_ref())))?;
    let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if status == StatusCode::CREATED || status == StatusCode::OK {
        let stored = answer.get("sha256").and_then(Value::as_str).unwrap_or_default();
        return stored.parse().map_err(|_| {
            eyre!(
                "the node's answer to the upload names no blob: {}",
                String::from_utf8_lossy(&body)
            )
        });
    }
    let reason = answer
        .get("error")
        .and_then(Value::as_str)
        .map_or_else(|| String::from_utf8_lossy(&body).trim().to_string(), str::to_string);
    bail!("the node refused the upload (HTTP {}): {reason}", status.as_u16())
}

/// The most specific message in an error's source chain.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        message = inner.to_string();
        source = inner.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_urls_keep_the_authority_and_encode_the_query() {
        let check = ContentCheck {
            format: "jsonl",
            jsonl_field: "body text".into(),
            csv_column: "text".into(),
        };
        let hash = sha256(b"hello");
        let url = blob_url("http://127.0.0.1:8545/rpc", hash, &check).unwrap();
        assert_eq!(
            url.to_string(),
            format!(
                "http://127.0.0.1:8545/blobs/{}?format=jsonl&field=body%20text&column=text",
                &hash.to_string()[2..]
            )
        );
    }

    #[test]
    fn blob_names_are_sha256() {
        assert_eq!(
            sha256(b"abc").to_string(),
            "0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
