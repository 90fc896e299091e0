//! The vectorized kernels: one generic body per loss, run at any SIMD level.
//!
//! Kernels see one chunk of validated data and the outputs for that chunk; they never
//! allocate, validate or know about threads. Sums are accumulated in 16 fixed slots
//! (element `p` goes to slot `p mod 16`, whatever the vector width), so a chunk's sum has
//! the same bits at every level.

pub(crate) mod sigmoid;
mod slots;
pub(crate) mod softmax;
pub(crate) mod softmax_rows;

pub(crate) use slots::{OrderedSum, SlotSum, lane_index};

#[cfg(test)]
mod tests;
