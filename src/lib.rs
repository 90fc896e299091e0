//! Numerically stable focal loss from logits, with its gradient (and, for the sigmoid
//! family, its Hessian), for `f32` and `f64`.
//!
//! Focal loss (Lin et al., 2017) `FL = −α_t·(1−p_t)^γ·ln p_t` down-weights easy examples.
//! The usual implementations work from probabilities and break: NaN gradients for γ < 1
//! (the chain rule through `(1−p_t)^γ` produces `0^(γ−1)`), a loss of exactly 0 once `σ(x)`
//! rounds to 1, `−inf` from `ln 0`. This crate takes logits and evaluates closed forms that
//! stay accurate and finite for every finite input: `f64` results within 1e-13 relative of a
//! high-precision evaluation, `f32` within 2e-6.
//!
//! - [`sigmoid_focal_loss`], [`sigmoid_focal_loss_grad`], [`sigmoid_focal_grad_hess`]:
//!   binary and multi-label heads with soft targets, `u8` labels or class indices
//!   ([`SigmoidTargets`]).
//! - [`softmax_focal_loss`], [`softmax_focal_loss_grad`]: multi-class heads, row-major
//!   `[N, C]` or channels-first `[N, C, S]` ([`SoftmaxShape`]);
//!   [`softmax_focal_grad_hess`]: its diagonal Hessian, for multi-class gradient boosting.
//! - [`reference`](mod@reference): the plain scalar oracle everything is tested against.
//!
//! Every function validates all of its arguments before it writes anything: on error the
//! output buffers are untouched.
//!
//! ```
//! use focal_loss::{sigmoid_focal_loss_grad, SigmoidFocalOptions, SigmoidTargets};
//!
//! let logits = [4.0f32, -2.0, 0.3, 18.0];
//! let labels = [1u8, 0, 1, 0];
//! let mut loss = [0.0f32];
//! let mut grad = [0.0f32; 4];
//! sigmoid_focal_loss_grad(&logits, SigmoidTargets::Labels(&labels), None,
//!                         &SigmoidFocalOptions::default(), &mut loss, &mut grad)?;
//! // The confidently wrong last example dominates; nothing saturated to zero.
//! assert!(grad[3] > 0.1);
//! # Ok::<(), focal_loss::FocalError>(())
//! ```

#![warn(missing_docs)]

mod error;
mod exact_sum;
/// The C ABI (`include/focal_loss.h`): thin `extern "C"` wrappers over this API.
pub mod ffi;
mod float;
mod kernels;
mod levels;
mod objective;
mod parallel;
mod reduction;
pub mod reference;
mod sigmoid;
mod sigmoid_family;
mod simd;
mod softmax;
mod validate;

/// The README's code blocks are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use error::FocalError;
pub use float::Float;
pub use levels::with_simd_level;
pub use reduction::{PartialLoss, Reduction};
pub use sigmoid::{
    SigmoidFocalOptions, SigmoidObjective, SigmoidTargets, sigmoid_focal_grad,
    sigmoid_focal_grad_hess, sigmoid_focal_loss, sigmoid_focal_loss_grad, sigmoid_focal_partial,
};
pub use sigmoid_family::{
    AsymmetricOptions, FocalStarOptions, PerClassFocalOptions, Poly1FocalOptions,
    QualityFocalOptions, ReducedFocalOptions, VarifocalOptions,
};
#[cfg(feature = "emulated-simd")]
#[doc(hidden)]
pub use simd::with_emulated_simd;
pub use simd::{SimdLevel, simd_level};
pub use softmax::{
    SoftmaxAlpha, SoftmaxFocalOptions, SoftmaxShape, softmax_focal_grad, softmax_focal_grad_hess,
    softmax_focal_loss, softmax_focal_loss_grad, softmax_focal_partial,
};
