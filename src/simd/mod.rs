//! Portable SIMD: the element trait, vector math and the runtime dispatch.

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
