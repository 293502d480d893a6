//! Calldata → the inference settlement system contract (see
//! `ol_fuzz_targets::fuzz_inference_call`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ol_fuzz_targets::fuzz_inference_call(data);
});
