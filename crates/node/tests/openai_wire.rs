//! The OpenAI-compatible API (`/v1/...`) on the node's RPC port, over raw
//! HTTP/1.1 and through the official `openai` Python client.
//!
//! Each test starts the node's RPC server with [`ReversingTestEngine`], a
//! deterministic stand-in for a model (it answers the prompt reversed, in
//! three-character pieces, with a fixed `attribution` object), so every
//! answer is known in advance. Raw HTTP lets the tests send what no
//! well-behaved client would; each refusal is checked for its status, its
//! OpenAI error body (`type`, `param`, `code`) and a message naming the
//! value. Streams are checked frame by frame, and a client that leaves
//! mid-stream must not stop the node serving others nor the generation
//! finishing.

use futures::future::BoxFuture;
use ol_node::{
    metrics::Metrics,
    openai::{
        EngineError, FinishReason, GenerationOutcome, GenerationRequest, InferenceEngine,
        ModelEntry,
    },
    rpc::{self, RpcConfig, RpcContext},
};
use serde_json::{Value, json};
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::mpsc,
};

const MODEL: &str = "test-reverser";
const LIMIT: u32 = 64;

/// A TEST engine, not a model: answers the prompt reversed (one "token" per
/// character), in pieces of three characters, honouring `max_tokens` and
/// `stop`. Prompts containing `PAYMENT`, `UNAVAILABLE` or `INTERNAL` fail
/// with that error; `FAIL_MIDWAY` fails after streaming a piece; `SLOW`
/// waits between pieces.
#[derive(Debug, Default)]
struct ReversingTestEngine {
    /// Generations that ran to their end.
    finished: Arc<AtomicUsize>,
}

fn attribution(request: &GenerationRequest) -> Value {
    json!({
        "method": "test-reversal",
        "contributions": [{"datanet": 1, "contribution": 7, "weight_bps": 10000}],
        "payment": request.payment,
        "seed": request.seed,
        "user": request.user,
        "stop": request.stop,
    })
}

impl InferenceEngine for ReversingTestEngine {
    fn models(&self) -> Vec<ModelEntry> {
        vec![ModelEntry {
            id: MODEL.to_string(),
            created: 1_700_000_000,
            owned_by: "openledger-test".to_string(),
        }]
    }

    fn max_tokens_limit(&self) -> u32 {
        LIMIT
    }

    fn generate(
        &self,
        request: GenerationRequest,
        text: mpsc::Sender<String>,
    ) -> BoxFuture<'static, Result<GenerationOutcome, EngineError>> {
        let finished = self.finished.clone();
        Box::pin(async move {
            let prompt = &request.prompt;
            if prompt.contains("PAYMENT") {
                return Err(EngineError::Payment(
                    "the payment authorisation is missing: send a signed `payment` object".into(),
                ));
            }
            if prompt.contains("UNAVAILABLE") {
                return Err(EngineError::Unavailable("the model is still loading".into()));
            }
            if prompt.contains("INTERNAL") {
                return Err(EngineError::Internal("the test engine broke on purpose".into()));
            }
            let mut answer: String = prompt.chars().rev().collect();
            let mut finish_reason = FinishReason::Stop;
            if let Some(at) =
                request.stop.iter().filter_map(|stop| answer.find(stop.as_str())).min()
            {
                answer.truncate(at);
            }
            if answer.chars().count() > request.max_tokens as usize {
                answer = answer.chars().take(request.max_tokens as usize).collect();
                finish_reason = FinishReason::Length;
            }
            let characters: Vec<char> = answer.chars().collect();
            for (index, piece) in characters.chunks(3).enumerate() {
                if prompt.contains("SLOW") {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                if prompt.contains("FAIL_MIDWAY") && index == 1 {
                    return Err(EngineError::Internal("the test engine failed midway".into()));
                }
                // The client may have left: keep going, as a real engine settles anyway.
                let _ = text.send(piece.iter().collect()).await;
            }
            finished.fetch_add(1, Ordering::SeqCst);
            Ok(GenerationOutcome {
                finish_reason,
                prompt_tokens: prompt.chars().count() as u32,
                completion_tokens: characters.len() as u32,
                attribution: attribution(&request),
            })
        })
    }
}

fn reversed(text: &str) -> String {
    text.chars().rev().collect()
}

struct Node {
    address: SocketAddr,
    finished: Arc<AtomicUsize>,
    _server: jsonrpsee::server::ServerHandle,
    _datadir: tempfile::TempDir,
}

impl Node {
    /// The RPC server of a fresh dev chain, with the test engine (or none).
    async fn start(with_engine: bool) -> Self {
        let datadir = tempfile::tempdir().expect("a temporary directory");
        let store = ol_storage::Store::open(datadir.path()).expect("a store opens");
        let chain = ol_node::chain::Chain::open(
            store,
            ol_node::dev::dev_genesis(),
            Arc::new(Metrics::new()),
        )
        .expect("the dev chain opens");
        let blobs =
            Arc::new(ol_storage::BlobStore::open(datadir.path().join("blobs")).expect("blobs"));
        let indexes = Arc::new(ol_node::indexes::IndexService::new(
            datadir.path().join("indexes"),
            blobs.clone(),
        ));
        let engine = Arc::new(ReversingTestEngine::default());
        let finished = engine.finished.clone();
        let context = RpcContext {
            chain: Arc::new(chain),
            config: RpcConfig { dev: true },
            blobs,
            indexes,
            inference: with_engine.then_some(engine as Arc<dyn InferenceEngine>),
            filters: Default::default(),
        };
        let (address, server) = rpc::serve(context, "127.0.0.1:0".parse().expect("an address"))
            .await
            .expect("the RPC server starts");
        Self { address, finished, _server: server, _datadir: datadir }
    }

    async fn get(&self, path: &str) -> Response {
        self.http("GET", path, &[], b"").await
    }

    async fn post(&self, path: &str, body: &Value) -> Response {
        self.http("POST", path, &["Content-Type: application/json"], body.to_string().as_bytes())
            .await
    }

    /// One HTTP/1.1 request with a `Content-Length` body.
    async fn http(&self, method: &str, path: &str, headers: &[&str], body: &[u8]) -> Response {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.address,
            body.len()
        );
        for header in headers {
            head.push_str(header);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        self.exchange(request).await
    }

    /// Sends raw request bytes (writing on while reading, ignoring write
    /// errors: the node may answer before reading all of a hostile body) and
    /// reads the whole response.
    async fn exchange(&self, request: Vec<u8>) -> Response {
        let stream = TcpStream::connect(self.address).await.expect("the node listens");
        let (mut reader, mut writer) = stream.into_split();
        let writing = tokio::spawn(async move {
            let _ = writer.write_all(&request).await;
            writer
        });
        let mut raw = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(60), reader.read_to_end(&mut raw)).await;
        assert!(read.is_ok(), "the node answered within 60 s");
        drop(writing);
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
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| {
            panic!("an HTTP response head in {:?}", String::from_utf8_lossy(raw))
        });
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
        if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
            body = dechunk(&body);
        }
        Response { status, headers, body }
    }

    fn header(&self, key: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("the body is UTF-8")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The answer of a 200.
    fn ok(&self) -> Value {
        assert_eq!(self.status, 200, "{}", self.text());
        self.json()
    }

    /// Checks an OpenAI refusal: status, `type`, `param`, and that the
    /// message contains each of `words`; returns the `error` object.
    fn refusal(&self, status: u16, param: Option<&str>, words: &[&str]) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.header("content-type"), Some("application/json"), "{self:?}");
        let body = self.json();
        let error = &body["error"];
        let message = error["message"].as_str().expect("an error message");
        assert!(
            ["invalid_request_error", "server_error"].contains(&error["type"].as_str().unwrap()),
            "{body}"
        );
        assert_eq!(error["param"], json!(param), "{body}");
        assert!(error.get("code").is_some(), "`code` is always present: {body}");
        for word in words {
            assert!(message.contains(word), "{message:?} lacks {word:?}");
        }
        error.clone()
    }

    /// The `data:` payloads of a server-sent event stream, checking the
    /// framing: every event is one `data: ...` line and a blank line.
    fn events(&self) -> Vec<String> {
        assert_eq!(self.status, 200, "{}", self.text());
        assert_eq!(self.header("content-type"), Some("text/event-stream"), "{self:?}");
        let text = self.text();
        assert!(text.ends_with("\n\n"), "{text:?}");
        text.strip_suffix("\n\n")
            .expect("checked above")
            .split("\n\n")
            .map(|event| {
                let data = event.strip_prefix("data: ").unwrap_or_else(|| panic!("{event:?}"));
                assert!(!data.contains('\n'), "one line per event: {event:?}");
                data.to_string()
            })
            .collect()
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = body.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
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

fn chunks(events: &[String]) -> Vec<Value> {
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{events:?}");
    events[..events.len() - 1]
        .iter()
        .map(|data| serde_json::from_str(data).expect("each chunk is JSON"))
        .collect()
}

fn expected_attribution(payment: Value, seed: Value, user: Value, stop: Value) -> Value {
    json!({
        "method": "test-reversal",
        "contributions": [{"datanet": 1, "contribution": 7, "weight_bps": 10000}],
        "payment": payment, "seed": seed, "user": user, "stop": stop,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_are_listed() {
    let node = Node::start(true).await;
    let models = node.get("/v1/models").await.ok();
    assert_eq!(
        models,
        json!({"object": "list", "data": [
            {"id": MODEL, "object": "model", "created": 1_700_000_000, "owned_by": "openledger-test"}
        ]})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_answers_in_openai_shape() {
    let node = Node::start(true).await;
    let payment = json!({"authorization": {"from": "0xab", "value": "100"}, "signature": "0x12"});
    let body = node
        .post(
            "/v1/completions",
            &json!({"model": MODEL, "prompt": "Hello, ledger", "max_tokens": 40, "seed": 9,
                    "user": "ann", "payment": payment, "frequency_penalty": 0.1, "logit_bias": {}}),
        )
        .await
        .ok();
    assert!(body["id"].as_str().unwrap().starts_with("cmpl-"), "{body}");
    assert_eq!(body["object"], "text_completion");
    assert_eq!(body["model"], MODEL);
    let created = body["created"].as_u64().expect("created is unix seconds");
    assert!(created > 1_700_000_000, "{created}");
    assert_eq!(
        body["choices"],
        json!([{"index": 0, "text": "regdel ,olleH", "logprobs": null, "finish_reason": "stop"}])
    );
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 13, "completion_tokens": 13, "total_tokens": 26})
    );
    assert_eq!(
        body["attribution"],
        expected_attribution(payment, json!(9), json!("ann"), json!([]))
    );

    let cut = node
        .post("/v1/completions", &json!({"model": MODEL, "prompt": ["abcdefgh"], "max_tokens": 5}))
        .await
        .ok();
    assert_eq!(cut["choices"][0]["text"], "hgfed");
    assert_eq!(cut["choices"][0]["finish_reason"], "length");
    let stopped = node
        .post("/v1/completions", &json!({"model": MODEL, "prompt": "abcdefgh", "stop": ["d", "f"]}))
        .await
        .ok();
    assert_eq!(stopped["choices"][0]["text"], "hg");
    assert_eq!(stopped["choices"][0]["finish_reason"], "stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_completion_renders_the_messages() {
    let node = Node::start(true).await;
    let body = node
        .post(
            "/v1/chat/completions",
            &json!({"model": MODEL, "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "!"}]},
            ]}),
        )
        .await
        .ok();
    let prompt = "system: Be brief.\nuser: Hi!\nassistant: ";
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"), "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(
        body["choices"],
        json!([{"index": 0, "message": {"role": "assistant", "content": reversed(prompt)},
                "logprobs": null, "finish_reason": "stop"}])
    );
    let tokens = prompt.chars().count();
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": tokens, "completion_tokens": tokens, "total_tokens": 2 * tokens})
    );
    assert_eq!(body["attribution"]["method"], "test-reversal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_chat_completion_is_framed_as_openai_does() {
    let node = Node::start(true).await;
    let messages = json!([{"role": "user", "content": "abcdefg"}]);
    let prompt = "user: abcdefg\nassistant: ";
    for include_usage in [false, true] {
        let response = node
            .post(
                "/v1/chat/completions",
                &json!({"model": MODEL, "messages": messages, "stream": true,
                        "stream_options": {"include_usage": include_usage}}),
            )
            .await;
        assert_eq!(response.header("cache-control"), Some("no-cache"));
        let chunks = chunks(&response.events());
        let id = chunks[0]["id"].clone();
        for chunk in &chunks {
            assert_eq!(chunk["object"], "chat.completion.chunk", "{chunk}");
            assert_eq!(chunk["id"], id, "one id per stream");
            assert_eq!(chunk["model"], MODEL);
            assert_eq!(chunk.get("usage").is_some(), include_usage, "{chunk}");
        }
        assert_eq!(chunks[0]["choices"][0]["delta"], json!({"role": "assistant", "content": ""}));
        let text: String = chunks
            .iter()
            .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, reversed(prompt));
        // Pieces of three characters, each in its own chunk.
        assert!(chunks.len() > prompt.len() / 3, "{chunks:?}");
        let finishing: Vec<&Value> =
            chunks.iter().filter(|chunk| !chunk["choices"][0]["finish_reason"].is_null()).collect();
        assert_eq!(finishing.len(), 1, "{chunks:?}");
        assert_eq!(finishing[0]["choices"][0]["finish_reason"], "stop");
        assert_eq!(finishing[0]["choices"][0]["delta"], json!({}));
        let last = chunks.last().expect("chunks");
        assert_eq!(last["attribution"]["method"], "test-reversal", "attribution on the last chunk");
        for chunk in &chunks[..chunks.len() - 1] {
            assert!(chunk.get("attribution").is_none(), "{chunk}");
        }
        if include_usage {
            assert_eq!(last["choices"], json!([]));
            let tokens = prompt.chars().count();
            assert_eq!(
                last["usage"],
                json!({"prompt_tokens": tokens, "completion_tokens": tokens, "total_tokens": 2 * tokens})
            );
        } else {
            assert_eq!(last["choices"][0]["finish_reason"], "stop");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_completion_is_framed_as_openai_does() {
    let node = Node::start(true).await;
    let response = node
        .post(
            "/v1/completions",
            &json!({"model": MODEL, "prompt": "abcdefghij", "max_tokens": 8, "stream": true}),
        )
        .await;
    let chunks = chunks(&response.events());
    for chunk in &chunks {
        assert_eq!(chunk["object"], "text_completion", "{chunk}");
        assert_eq!(chunk["choices"][0]["index"], 0);
        assert!(chunk["choices"][0]["logprobs"].is_null());
    }
    let text: String =
        chunks.iter().map(|chunk| chunk["choices"][0]["text"].as_str().unwrap()).collect();
    assert_eq!(text, "jihgfedc");
    let last = chunks.last().expect("chunks");
    assert_eq!(last["choices"][0]["finish_reason"], "length");
    assert_eq!(last["attribution"]["method"], "test-reversal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_openai_errors() {
    let node = Node::start(true).await;
    let chat = "/v1/chat/completions";
    let completions = "/v1/completions";
    let user = json!([{"role": "user", "content": "hi"}]);
    let raw = |body: &'static [u8]| node.http("POST", completions, &[], body);
    raw(b"{not json").await.refusal(400, None, &["not valid JSON"]);
    raw(b"\xff\xfe").await.refusal(400, None, &["not valid JSON"]);
    raw(b"").await.refusal(400, None, &["not valid JSON"]);
    raw(b"[1,2]").await.refusal(400, None, &["JSON object", "[1,2]"]);
    let cases: Vec<(&str, Value, Option<&str>, Vec<&str>)> = vec![
        (completions, json!({"prompt": "x"}), Some("model"), vec!["model"]),
        (completions, json!({"model": MODEL}), Some("prompt"), vec!["prompt"]),
        (completions, json!({"model": MODEL, "prompt": ""}), Some("prompt"), vec!["empty"]),
        (completions, json!({"model": MODEL, "prompt": [1, 2]}), Some("prompt"), vec!["token ids"]),
        (
            completions,
            json!({"model": MODEL, "prompt": ["a", "b"]}),
            Some("prompt"),
            vec!["one prompt"],
        ),
        (
            completions,
            json!({"model": MODEL, "prompt": "x", "max_tokens": "ten"}),
            Some("max_tokens"),
            vec!["\"ten\""],
        ),
        (
            completions,
            json!({"model": MODEL, "prompt": "x", "max_tokens": 0}),
            Some("max_tokens"),
            vec!["0"],
        ),
        (
            completions,
            json!({"model": MODEL, "prompt": "x", "max_tokens": 65}),
            Some("max_tokens"),
            vec!["65", "64"],
        ),
        (
            completions,
            json!({"model": MODEL, "prompt": "x", "temperature": "hot"}),
            Some("temperature"),
            vec!["\"hot\""],
        ),
        (
            completions,
            json!({"model": MODEL, "prompt": "x", "temperature": 2.5}),
            Some("temperature"),
            vec!["2.5"],
        ),
        (completions, json!({"model": MODEL, "prompt": "x", "top_p": 0}), Some("top_p"), vec!["0"]),
        (
            completions,
            json!({"model": MODEL, "prompt": "x", "top_p": 1.5}),
            Some("top_p"),
            vec!["1.5"],
        ),
        (completions, json!({"model": MODEL, "prompt": "x", "n": 3}), Some("n"), vec!["3"]),
        (
            completions,
            json!({"model": MODEL, "prompt": "x", "stop": ["a", "b", "c", "d", "e"]}),
            Some("stop"),
            vec!["5"],
        ),
        (completions, json!({"model": MODEL, "prompt": "x", "stop": 1}), Some("stop"), vec!["1"]),
        (chat, json!({"model": MODEL, "messages": "hi"}), Some("messages"), vec!["\"hi\""]),
        (chat, json!({"model": MODEL, "messages": []}), Some("messages"), vec!["empty"]),
        (chat, json!({"model": MODEL}), Some("messages"), vec!["messages"]),
        (
            chat,
            json!({"model": MODEL, "messages": [{"role": "wizard", "content": "x"}]}),
            Some("messages[0].role"),
            vec!["wizard"],
        ),
        (
            chat,
            json!({"model": MODEL, "messages": [{"role": "user", "content": 5}]}),
            Some("messages[0].content"),
            vec!["5"],
        ),
        (
            chat,
            json!({"model": MODEL, "messages": user, "max_completion_tokens": 100}),
            Some("max_completion_tokens"),
            vec!["100"],
        ),
        (
            chat,
            json!({"model": MODEL, "messages": user, "payment": "0xsig"}),
            Some("payment"),
            vec!["\"0xsig\""],
        ),
    ];
    for (path, body, param, words) in cases {
        let response = node.post(path, &body).await;
        assert_eq!(response.status, 400, "{body} -> {}", response.text());
        let error = response.refusal(400, param, &words);
        assert_eq!(error["type"], "invalid_request_error");
    }
    for (path, body) in [
        (completions, json!({"model": "gpt-9", "prompt": "x"})),
        (chat, json!({"model": "gpt-9", "messages": user, "stream": true})),
    ] {
        let error = node.post(path, &body).await.refusal(404, Some("model"), &["gpt-9"]);
        assert_eq!(error["code"], "model_not_found");
    }
    node.get("/v1/completions").await.refusal(405, None, &["GET"]);
    node.http("DELETE", "/v1/models", &[], b"").await.refusal(405, None, &["DELETE"]);
    node.get("/v1/embeddings").await.refusal(404, None, &["/v1/embeddings"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_one_mebibyte_is_refused() {
    let node = Node::start(true).await;
    let prompt = "x".repeat(1024 * 1024);
    let body = json!({"model": MODEL, "prompt": prompt}).to_string();
    let error = node.http("POST", "/v1/completions", &[], body.as_bytes()).await.refusal(
        413,
        None,
        &["1048576"],
    );
    assert_eq!(error["code"], "request_too_large");
    // Without a Content-Length the node counts the bytes as they come.
    let mut request = b"POST /v1/chat/completions HTTP/1.1\r\nHost: node\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..20 {
        let chunk = vec![b' '; 64 * 1024];
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(&chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    node.exchange(request).await.refusal(413, None, &["1048576"]);
    // Just under the limit is read (and refused only for what it says).
    let under =
        format!("{{\"model\": \"{MODEL}\", \"prompt\": \"\"{}}}", " ".repeat(1024 * 1024 - 64));
    node.http("POST", "/v1/completions", &[], under.as_bytes()).await.refusal(
        400,
        Some("prompt"),
        &["empty"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_errors_map_to_statuses() {
    let node = Node::start(true).await;
    for stream in [false, true] {
        let ask = |prompt: &str| json!({"model": MODEL, "messages": [{"role": "user", "content": prompt}], "stream": stream});
        let error = node.post("/v1/chat/completions", &ask("PAYMENT")).await.refusal(
            402,
            Some("payment"),
            &["payment authorisation is missing"],
        );
        assert_eq!(error["code"], "payment_required");
        node.post("/v1/chat/completions", &ask("UNAVAILABLE")).await.refusal(
            503,
            None,
            &["still loading"],
        );
        node.post("/v1/chat/completions", &ask("INTERNAL")).await.refusal(
            500,
            None,
            &["broke on purpose"],
        );
    }
    // Once a stream has begun, a failure is an `error` event and no [DONE].
    let response = node
        .post(
            "/v1/completions",
            &json!({"model": MODEL, "prompt": "FAIL_MIDWAY and more", "stream": true}),
        )
        .await;
    let events = response.events();
    assert_ne!(events.last().map(String::as_str), Some("[DONE]"), "{events:?}");
    let last: Value = serde_json::from_str(events.last().expect("events")).expect("JSON");
    assert_eq!(last["error"]["type"], "server_error", "{last}");
    assert!(last["error"]["message"].as_str().unwrap().contains("failed midway"), "{last}");
    assert!(events.len() >= 2, "a piece came before the failure: {events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_leaving_mid_stream_does_not_stop_the_node() {
    let node = Node::start(true).await;
    let prompt = format!("SLOW {}", "z".repeat(60));
    let body =
        json!({"model": MODEL, "prompt": prompt, "stream": true, "max_tokens": 64}).to_string();
    let request = format!(
        "POST /v1/completions HTTP/1.1\r\nHost: node\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(node.address).await.expect("the node listens");
    stream.write_all(request.as_bytes()).await.expect("written");
    let mut seen = Vec::new();
    let mut buffer = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("data: ") {
        let read = stream.read(&mut buffer).await.expect("the stream starts");
        assert!(read > 0, "the node closed before streaming");
        seen.extend_from_slice(&buffer[..read]);
    }
    drop(stream);
    // Others are still served, while the abandoned generation runs on.
    let answer =
        node.post("/v1/completions", &json!({"model": MODEL, "prompt": "still here"})).await.ok();
    assert_eq!(answer["choices"][0]["text"], "ereh llits");
    let models = node.get("/v1/models").await.ok();
    assert_eq!(models["data"][0]["id"], MODEL);
    // The abandoned generation finished (it would settle) despite the client.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while node.finished.load(Ordering::SeqCst) < 2 {
        assert!(tokio::time::Instant::now() < deadline, "the abandoned generation never finished");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_an_engine_answers_503() {
    let node = Node::start(false).await;
    node.get("/v1/models").await.refusal(503, None, &["serves no models"]);
    for path in ["/v1/completions", "/v1/chat/completions"] {
        let error = node.post(path, &json!({"model": MODEL, "prompt": "x"})).await.refusal(
            503,
            None,
            &["serves no models"],
        );
        assert_eq!(error["type"], "server_error");
    }
    // JSON-RPC on the same port is untouched.
    let rpc = node
        .post("/", &json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}))
        .await
        .ok();
    assert!(rpc["result"].is_string(), "{rpc}");
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

/// The official `openai` Python package (tests/interop/openai_client.py)
/// against the node with the test engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_python_client_works() {
    let root = workspace_root();
    let install = tokio::process::Command::new(root.join("scripts/install-interop-deps"))
        .current_dir(&root)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("scripts/install-interop-deps runs");
    assert!(
        install.status.success(),
        "scripts/install-interop-deps failed:\n{}\n{}",
        String::from_utf8_lossy(&install.stdout),
        String::from_utf8_lossy(&install.stderr)
    );
    let node = Node::start(true).await;
    let payment_file = tempfile::NamedTempFile::new().expect("a temporary file");
    let payment = json!({"authorization": {"from": "0x01", "value": "7"}, "signature": "0xfeed"});
    std::fs::write(payment_file.path(), payment.to_string()).expect("written");
    let run = tokio::process::Command::new(root.join("tests/interop/.venv/bin/python"))
        .arg(root.join("tests/interop/openai_client.py"))
        .args(["--base-url", &format!("http://{}/v1", node.address), "--model", MODEL])
        .arg("--payment-json")
        .arg(payment_file.path())
        .stdin(Stdio::null())
        .output();
    let output = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("the client finishes within 300 s")
        .expect("the client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "openai_client.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_str(&stdout).expect("a JSON summary");
    assert_eq!(summary["failed"], json!([]));
    assert_eq!(summary["models"], json!([MODEL]));
    assert_eq!(summary["completion"]["text"], reversed("Hello, ledger"));
    let chat_prompt = "system: You answer briefly.\nuser: Who contributed the data?\nassistant: ";
    let chat_answer: String = reversed(chat_prompt).chars().take(32).collect();
    assert_eq!(summary["chat"]["text"], json!(chat_answer));
    assert_eq!(summary["chat"]["finish_reason"], "length");
    assert_eq!(summary["stream"]["text"], json!(chat_answer));
    for answer in ["completion", "chat", "stream"] {
        assert_eq!(summary[answer]["attribution"]["payment"], payment, "{answer}");
        assert_eq!(summary[answer]["attribution"]["method"], "test-reversal", "{answer}");
    }
}
