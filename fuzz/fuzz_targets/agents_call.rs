//! Calldata → the agents contract (see `ol_fuzz_targets::fuzz_agents_call`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ol_fuzz_targets::fuzz_agents_call(data);
});
