//! Contribution bytes → the datanet formats' parser (see
//! `ol_fuzz_targets::fuzz_contribution_parser`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ol_fuzz_targets::fuzz_contribution_parser(data);
});
