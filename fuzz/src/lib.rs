//! The fuzz targets of focal-loss, as functions of the fuzzer's bytes (the targets in
//! `fuzz_targets/` are one line each; `cargo test` here runs the harness on a few cases).
//!
//! - [`checks::kernels_vs_reference`]: every public function against the scalar reference
//!   under the accuracy contract (`tests/common/tolerance.rs`, shared with the library's
//!   tests), errors against the documentation, outputs untouched on error, NaN only where a
//!   NaN logit reaches, ±∞ logits at their limits.
//! - [`checks::levels_agree`]: every SIMD level, pulp's emulated widths, 1–3 threads: the
//!   same bits.
//! - [`cabi::c_abi`]: the C functions with raw option structs, NULL, misaligned,
//!   overlapping pointers and overflowing lengths.

pub mod cabi;
pub mod calls;
pub mod checks;
pub mod input;
pub mod model;
#[path = "../../tests/common/tolerance.rs"]
pub mod tolerance;
