//! Raw bytes → `RecoveredTransaction::decode`; a decoded transaction
//! re-encodes to the same bytes (see `ol_fuzz_targets::fuzz_transaction_decoder`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ol_fuzz_targets::fuzz_transaction_decoder(data);
});
