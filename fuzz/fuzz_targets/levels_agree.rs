#![no_main]
//! See `focal_loss_fuzz::checks::levels_agree`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| focal_loss_fuzz::checks::levels_agree(data));
