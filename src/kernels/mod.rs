//! The vectorized kernels: one generic body per loss, run at any SIMD level.
//!
//! Kernels see one chunk of validated data and the outputs for that chunk; they never
//! allocate, validate or know about threads. Sums are accumulated in 16 fixed slots
//! (element `p` goes to slot `p mod 16`, whatever the vector width), so a chunk's sum has
//! the same bits at every level.

pub(crate) mod asymmetric;
pub(crate) mod elementwise;
pub(crate) mod focal;
pub(crate) mod focal_star;
pub(crate) mod quality_focal;
pub(crate) mod reduced_focal;
mod slots;
pub(crate) mod softmax;
mod softmax_hessian;
pub(crate) mod softmax_rows;
pub(crate) mod varifocal;

pub(crate) use slots::{LaneSum, OrderedSum, SlotSum, SlotSumWithoutLargest, lane_index};

/// A focusing exponent γ per lane as the vector math takes it: rounded to `T`, and the part
/// that rounding lost (a broadcast γ, or one per class).
#[derive(Clone, Copy)]
pub(crate) struct Gamma<V> {
    pub high: V,
    pub low: V,
}

#[cfg(test)]
mod tests;
