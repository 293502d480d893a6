//! The blob store over the node's port: `PUT`/`GET`/`HEAD /blobs/<sha256>`
//! and `ol_putBlob`/`ol_getBlob`/`ol_hasBlob`, with good and hostile input.
//!
//! Each test launches a dev node in-process and talks raw HTTP/1.1 over a
//! `TcpStream` (so it can send what no well-behaved client would) and
//! JSON-RPC through jsonrpsee's client. Every refusal is checked for its
//! status or code, for a message that names the problem, and for storing
//! nothing.

mod common;

use alloy_primitives::{B256, Bytes, hex};
use common::Node;
use ol_storage::BlobStore;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const INVALID_PARAMS: i32 = -32602;

fn sha256(bytes: &[u8]) -> B256 {
    B256::from_slice(&Sha256::digest(bytes))
}

/// A hash as the path wants it: 0x and 64 lowercase hex digits.
fn name(hash: B256) -> String {
    format!("{hash}")
}

impl Node {
    async fn has(&self, hash: B256) -> bool {
        self.ok("ol_hasBlob", vec![json!(hash)]).await == json!(true)
    }

    /// One HTTP/1.1 request with a `Content-Length` body.
    async fn http(&self, method: &str, path: &str, headers: &[&str], body: &[u8]) -> Response {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.handle.http,
            body.len()
        );
        for header in headers {
            head.push_str(header);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        self.exchange(&request).await
    }

    /// Sends raw request bytes and reads the whole response.
    async fn exchange(&self, request: &[u8]) -> Response {
        let mut stream =
            tokio::net::TcpStream::connect(self.handle.http).await.expect("the node listens");
        stream.write_all(request).await.expect("the request is written");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("the response is read");
        Response::parse(&raw)
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn parse(raw: &[u8]) -> Response {
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP response head");
        let head = std::str::from_utf8(&raw[..split]).expect("the head is text");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().expect("a status line");
        let status = status_line.split(' ').nth(1).expect("a status code").parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|line| {
                let (key, value) = line.split_once(':').expect("a header line");
                (key.trim().to_ascii_lowercase(), value.trim().to_string())
            })
            .collect();
        let mut body = raw[split + 4..].to_vec();
        let chunked =
            headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
        if chunked {
            body = dechunk(&body);
        }
        Response { status, headers, body }
    }

    fn header(&self, key: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The `error` sentence of a refusal, after checking the status.
    fn refusal(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.header("content-type"), Some("application/json"), "{self:?}");
        self.json()["error"].as_str().expect("an error sentence").to_string()
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = body.windows(2).position(|w| w == b"\r\n").expect("a chunk size line");
        let size = std::str::from_utf8(&body[..end]).unwrap();
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap();
        body = &body[end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn put_get_head_over_http() {
    let node = Node::start().await;
    let bytes = b"Tide tables for the northern harbour are printed each winter.\n".to_vec();
    let hash = sha256(&bytes);
    let path = format!("/blobs/{}", name(hash));

    let created = node.http("PUT", &path, &[], &bytes).await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.json(), json!({ "sha256": hash, "size": bytes.len() }));

    let got = node.http("GET", &path, &[], b"").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, bytes);
    assert_eq!(got.header("content-type"), Some("application/octet-stream"));

    let head = node.http("HEAD", &path, &[], b"").await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some(bytes.len().to_string().as_str()));
    assert!(head.body.is_empty());

    // The name without 0x, or in capitals, is the same blob.
    let bare = format!("/blobs/{}", hex::encode(hash));
    assert_eq!(node.http("GET", &bare, &[], b"").await.body, bytes);
    let upper = format!("/blobs/0x{}", hex::encode(hash).to_uppercase());
    assert_eq!(node.http("GET", &upper, &[], b"").await.body, bytes);
    // Putting it again is harmless.
    assert_eq!(node.http("PUT", &bare, &[], &bytes).await.status, 201);

    // JSON-RPC sees the same store.
    assert!(node.has(hash).await);
    let served = node.ok("ol_getBlob", vec![json!(hash)]).await;
    assert_eq!(served, json!(Bytes::from(bytes.clone())));

    // JSON-RPC itself still answers on the same port, and CORS covers the blob routes.
    let chain_id = node.ok("eth_chainId", vec![]).await;
    assert_eq!(chain_id, json!(format!("{:#x}", ol_node::dev::DEV_CHAIN_ID)));
    let cors = node.http("GET", &path, &["Origin: http://example.com"], b"").await;
    assert_eq!(cors.header("access-control-allow-origin"), Some("*"));
}

#[tokio::test(flavor = "multi_thread")]
async fn streamed_upload_in_chunks() {
    let node = Node::start().await;
    let bytes: Vec<u8> =
        (0..6 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let hash = sha256(&bytes);
    let mut request = format!(
        "PUT /blobs/{} HTTP/1.1\r\nHost: node\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n",
        name(hash)
    )
    .into_bytes();
    for chunk in bytes.chunks(100_000) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let created = node.exchange(&request).await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.json()["size"], json!(bytes.len()));
    assert_eq!(node.http("GET", &format!("/blobs/{}", name(hash)), &[], b"").await.body, bytes);

    // Many writers of the same bytes at once all succeed.
    let small = b"written by many at once".to_vec();
    let path = format!("/blobs/{}", name(sha256(&small)));
    let answers =
        futures::future::join_all((0..16).map(|_| node.http("PUT", &path, &[], &small))).await;
    assert!(answers.iter().all(|answer| answer.status == 201), "{answers:?}");
    assert_eq!(node.http("GET", &path, &[], b"").await.body, small);
}

#[tokio::test(flavor = "multi_thread")]
async fn content_is_checked_before_storing() {
    let node = Node::start().await;

    let jsonl = b"{\"body\": \"first row\"}\n{\"body\": \"second row\"}\n";
    let path = format!("/blobs/{}?format=jsonl&field=body", name(sha256(jsonl)));
    let created = node.http("PUT", &path, &[], jsonl).await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.json()["rows"], json!(2));

    let csv = b"id,body\n1,a row\n";
    let path = format!("/blobs/{}?format=csv&column=body", name(sha256(csv)));
    assert_eq!(node.http("PUT", &path, &[], csv).await.status, 201);

    // Invalid UTF-8 declared as text.
    let bad_utf8 = b"fine until \xff\xfe here";
    let path = format!("/blobs/{}?format=txt", name(sha256(bad_utf8)));
    let message = node.http("PUT", &path, &[], bad_utf8).await.refusal(422);
    assert!(message.contains("UTF-8") && message.contains("byte offset 11"), "{message}");
    assert!(!node.has(sha256(bad_utf8)).await);

    // JSONL missing its field on line 2.
    let jsonl = b"{\"text\": \"ok\"}\n{\"other\": 1}\n";
    let path = format!("/blobs/{}?format=jsonl", name(sha256(jsonl)));
    let message = node.http("PUT", &path, &[], jsonl).await.refusal(422);
    assert!(message.contains("line 2") && message.contains("no field \"text\""), "{message}");
    assert!(!node.has(sha256(jsonl)).await);

    // Ragged CSV, an empty file.
    let ragged = b"text\nx\ny,z\n";
    let path = format!("/blobs/{}?format=csv", name(sha256(ragged)));
    let message = node.http("PUT", &path, &[], ragged).await.refusal(422);
    assert!(message.contains("record 2"), "{message}");
    let path = format!("/blobs/{}?format=md", name(sha256(b"")));
    let message = node.http("PUT", &path, &[], b"").await.refusal(422);
    assert!(message.contains("no text rows"), "{message}");

    // Query mistakes.
    let text = b"plain";
    let base = format!("/blobs/{}", name(sha256(text)));
    let message = node.http("PUT", &format!("{base}?format=pdf"), &[], text).await.refusal(400);
    assert!(message.contains("\"pdf\""), "{message}");
    let message = node.http("PUT", &format!("{base}?fromat=txt"), &[], text).await.refusal(400);
    assert!(message.contains("fromat"), "{message}");
    let message = node.http("PUT", &format!("{base}?column=text"), &[], text).await.refusal(400);
    assert!(message.contains("format"), "{message}");
    assert!(!node.has(sha256(text)).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_http_requests_store_nothing() {
    let node = Node::start().await;
    let bytes = b"hello".to_vec();
    let other = sha256(b"something else");

    // Bytes under another name.
    let refused = node.http("PUT", &format!("/blobs/{}", name(other)), &[], &bytes).await;
    let message = refused.refusal(422);
    assert!(message.contains("hash mismatch"), "{message}");
    assert_eq!(refused.json()["expected"], json!(other));
    assert_eq!(refused.json()["actual"], json!(sha256(&bytes)));
    assert!(!node.has(sha256(&bytes)).await);
    assert!(!node.has(other).await);

    // Names that are not hashes.
    let hash = hex::encode(sha256(&bytes));
    for bad in [
        "xyz".to_string(),
        "0x1234".to_string(),
        format!("{hash}00"),
        format!("0x{}", &hash[1..]),
        "..%2F..%2Fetc%2Fpasswd".to_string(),
        "%2e%2e".to_string(),
        "0x%00".to_string(),
    ] {
        let message = node.http("PUT", &format!("/blobs/{bad}"), &[], &bytes).await.refusal(400);
        assert!(message.contains("not a blob name"), "{bad}: {message}");
        let message = node.http("GET", &format!("/blobs/{bad}"), &[], b"").await.refusal(400);
        assert!(message.contains("not a blob name"), "{bad}: {message}");
    }
    assert!(!node.has(sha256(&bytes)).await);

    // Paths that are not routes.
    for path in ["/blobs", "/blobs/", "/blobs/a/b", "/blobs/../../etc/passwd"] {
        let message = node.http("GET", path, &[], b"").await.refusal(404);
        assert!(message.contains("no HTTP route"), "{path}: {message}");
    }
    let message = node.http("DELETE", &format!("/blobs/0x{hash}"), &[], b"").await.refusal(405);
    assert!(message.contains("DELETE"), "{message}");

    // Absent blobs.
    let message = node.http("GET", &format!("/blobs/0x{hash}"), &[], b"").await.refusal(404);
    assert!(message.contains("no blob"), "{message}");
    let head = node.http("HEAD", &format!("/blobs/0x{hash}"), &[], b"").await;
    assert_eq!(head.status, 404);

    // A declared size over the limit is refused before any byte is read.
    let request = format!(
        "PUT /blobs/0x{hash} HTTP/1.1\r\nHost: node\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        BlobStore::MAX_BLOB_BYTES + 1
    );
    let message = node.exchange(request.as_bytes()).await.refusal(413);
    assert!(message.contains("larger than the limit"), "{message}");
    assert!(!node.has(sha256(&bytes)).await);

    // A body shorter than declared breaks off: nothing is stored.
    let request =
        format!("PUT /blobs/0x{hash} HTTP/1.1\r\nHost: node\r\nContent-Length: 100\r\n\r\nhello");
    let mut stream = tokio::net::TcpStream::connect(node.handle.http).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let message = Response::parse(&raw).refusal(400);
    assert!(message.contains("could not be read"), "{message}");
    assert!(!node.has(sha256(&bytes)).await);
    // Refused and broken uploads leave no temporary files behind.
    let temp = node.datadir.path().join("blobs").join("tmp");
    assert_eq!(std::fs::read_dir(temp).expect("the store's temporary directory").count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn blobs_over_json_rpc() {
    let node = Node::start().await;
    let bytes = Bytes::from_static(b"{\"text\": \"a row\"}\n");
    let hash = sha256(&bytes);

    assert_eq!(node.ok("ol_hasBlob", vec![json!(hash)]).await, json!(false));
    assert_eq!(node.ok("ol_getBlob", vec![json!(hash)]).await, Value::Null);
    let options = json!({ "sha256": hash, "format": "jsonl", "jsonlField": "text" });
    assert_eq!(node.ok("ol_putBlob", vec![json!(bytes), options]).await, json!(hash));
    assert_eq!(node.ok("ol_hasBlob", vec![json!(hash)]).await, json!(true));
    assert_eq!(node.ok("ol_getBlob", vec![json!(hash)]).await, json!(bytes));
    // Without options, any bytes.
    let binary = Bytes::from_static(&[0, 159, 146, 150]);
    assert_eq!(node.ok("ol_putBlob", vec![json!(binary)]).await, json!(sha256(&binary)));
    assert_eq!(
        node.http("GET", &format!("/blobs/{}", name(sha256(&binary))), &[], b"").await.body,
        binary.to_vec()
    );

    let plain = Bytes::from_static(b"plain");
    let refusals: Vec<(Vec<Value>, &str)> = vec![
        (vec![json!(plain), json!({ "sha256": sha256(b"other") })], "hash mismatch"),
        (vec![json!("0xzz")], "invalid parameter 0 (data)"),
        (vec![json!("0x123")], "invalid parameter 0 (data)"),
        (vec![json!(42)], "invalid parameter 0 (data)"),
        (vec![], "missing parameter 0 (data)"),
        (vec![json!(plain), json!({ "format": "pdf" })], "unknown contribution format"),
        (vec![json!(plain), json!({ "fromat": "txt" })], "unknown field `fromat`"),
        (vec![json!(plain), json!({ "csvColumn": "x" })], "need a format"),
        (vec![json!(plain), json!({ "sha256": "0x12" })], "invalid parameter 1 (options)"),
        (vec![json!(plain), json!({}), json!(1)], "too many parameters"),
        (
            vec![json!(Bytes::from_static(b"ok\xff")), json!({ "format": "txt" })],
            "not UTF-8 text: invalid byte sequence at byte offset 2",
        ),
        (vec![json!(plain), json!({ "format": "csv" })], "the CSV header has no column \"text\""),
    ];
    for (args, phrase) in refusals {
        let error = node.refused("ol_putBlob", args.clone()).await;
        assert_eq!(error.code(), INVALID_PARAMS, "{args:?}: {error:?}");
        assert!(error.message().contains(phrase), "{args:?}: {}", error.message());
    }
    assert!(!node.has(sha256(&plain)).await);
    assert!(!node.has(sha256(b"ok\xff")).await);

    for method in ["ol_getBlob", "ol_hasBlob"] {
        for bad in [json!("0x1234"), json!("../../etc/passwd"), json!(7)] {
            let error = node.refused(method, vec![bad.clone()]).await;
            assert_eq!(error.code(), INVALID_PARAMS, "{method} {bad}: {error:?}");
            assert!(error.message().contains("invalid parameter 0 (hash)"), "{error:?}");
        }
    }
}
