//! Portable SIMD: the element trait, vector math and the runtime dispatch.
//!
//! The kernels and the vector maths are `#[inline(always)]` only in optimised builds
//! (`cfg_attr(not(debug_assertions), …)` throughout): pulp needs the inlining to compile them
//! for the dispatched level's target features, but at `-O0` the forced inlining of every
//! kernel instantiation took 5 minutes and 15 GB of compiler memory (14 s and 0.8 GB
//! without it). Inlining does not change the results: no operation is contracted or
//! reassociated, so debug and release builds give the same bits.

pub(crate) mod dispatch;
mod math;
mod real;

#[cfg(feature = "emulated-simd")]
pub use dispatch::with_emulated_simd;
pub use dispatch::{SimdLevel, simd_level};
pub(crate) use math::Lanes;
pub use real::Real;

#[cfg(test)]
mod tests;
