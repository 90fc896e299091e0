#![no_main]
//! See `focal_loss_fuzz::checks::kernels_vs_reference`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| focal_loss_fuzz::checks::kernels_vs_reference(data));
