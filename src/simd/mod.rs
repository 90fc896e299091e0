//! Portable SIMD: the element trait, vector math and the runtime dispatch.

pub(crate) mod dispatch;
mod math;
mod real;

pub use dispatch::{SimdLevel, simd_level, with_simd_level};
pub(crate) use math::Lanes;
pub use real::Real;

#[cfg(test)]
mod tests;
