//! Bytes → one JSON-RPC request handled by the node's real RPC module over a
//! chain on a temporary store; no method may panic (see
//! `ol_fuzz_targets::fuzz_rpc_request`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ol_fuzz_targets::fuzz_rpc_request(data);
});
