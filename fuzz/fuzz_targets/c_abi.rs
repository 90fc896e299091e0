#![no_main]
//! See `focal_loss_fuzz::cabi::c_abi`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| focal_loss_fuzz::cabi::c_abi(data));
