//! The scalar oracle: every loss of the library written the obvious way, in `f64`.
//!
//! This module is what the fast paths are checked against. It shares no code with them: no
//! SIMD, no approximations of `exp`/`ln` (it calls the standard library), no parallelism,
//! compensated summation for the reductions. `f32` inputs are widened to `f64`, evaluated,
//! and rounded once at the end. It may allocate and it is slow; it is not meant for training
//! loops, but it is public so that users can check results against it too.
//!
//! Its functions assume validated arguments (the public API validates, then calls them);
//! given invalid ones they may panic.

mod elementwise;
mod family;
mod math;
mod sigmoid;
mod softmax;

pub use math::{
    CompensatedSum, exact_difference, exp_of_negative_product, log_add_exp, sigmoid, softplus,
    zero_times,
};
pub use sigmoid::{
    Derivatives, element_target, sigmoid_focal, sigmoid_focal_grad_hess, sigmoid_focal_hard,
    sigmoid_focal_soft, smooth_binary_target,
};
pub use softmax::{
    softmax_focal, softmax_focal_grad_hess, softmax_focal_row, softmax_focal_row_grad_hess,
};

use crate::Reduction;

/// What the reduced loss is divided by; `None` for a mean over nothing (whose result is 0).
fn divisor(reduction: Reduction, normalizer: Option<f64>, count: usize) -> Option<f64> {
    match (reduction, normalizer) {
        (Reduction::None | Reduction::Sum, _) => Some(1.0),
        (Reduction::Mean, Some(v)) => Some(v),
        (Reduction::Mean, None) if count == 0 => None,
        (Reduction::Mean, None) => Some(count as f64),
    }
}
