//! Reduced focal loss (Sergievskiy & Ponamarev 2019), one element at a time: the focal
//! factor applies only to well-classified examples, rescaled so that it is 1 at the
//! threshold: `α_t·((1 − p_t)/th)^γ·CE` where `p_t ≥ th`, the cross-entropy `α_t·CE`
//! below. Both branches are the focal element (γ, and γ = 0), the first times the
//! constant `th^−γ`.
//!
//! Hard targets only: `p_t ≥ th` is decided on the logit, `z = (2y − 1)·x ≥ logit(th)`,
//! which is exact (`z` is `±x`, and the threshold is the smallest value of the element type
//! not below `logit(th)` in `f64`), so that every precision and the reference take the same
//! branch. (For a soft target `p_t` is a rounded sum, and an element next to the threshold
//! could fall on either side of a jump of the loss: the API refuses soft targets and label
//! smoothing for this loss.)

use super::elementwise::{Element, ElementLoss, Mode, SoftTarget, Transcendentals};
use super::focal::{Focal, hard_element};
use crate::simd::{Lanes, Real};
use pulp::Simd;

/// The reduced focal loss's two focal elements, the scale of the first and the threshold.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReducedFocal<T> {
    /// γ and α: the branch `p_t ≥ th`.
    reduced: Focal<T>,
    /// α alone (γ = 0): the branch `p_t < th`.
    cross_entropy: Focal<T>,
    /// `th^−γ`.
    scale: T,
    /// The smallest value of `T` not below `logit(th) = ln(th/(1 − th))` (`+∞` for th = 1).
    threshold_logit: T,
}

impl<T: Real> ReducedFocal<T> {
    pub fn new(gamma: f64, threshold: f64, alpha: Option<f64>) -> Self {
        Self {
            reduced: Focal::new(gamma, alpha),
            cross_entropy: Focal::new(0.0, alpha),
            scale: T::narrow(threshold.powf(-gamma)),
            threshold_logit: rounded_up::<T>((threshold / (1.0 - threshold)).ln()),
        }
    }

    /// Which lanes take the reduced branch, `(2y − 1)·x ≥ logit(th)`: a bit flip of `x`
    /// for negatives, exact. NaN takes neither (its lanes are NaN in both).
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn reduced_lanes<S: Simd>(&self, v: Lanes<T, S>, x: T::V<S>, y: T::V<S>) -> T::M<S> {
        let negative_label = v.bit_and(v.sub(y, v.c(0.5)), v.c(-0.0));
        let z = v.bit_xor(x, negative_label);
        v.ge(z, v.splat(self.threshold_logit))
    }
}

/// The smallest `T` that is not below `value`.
fn rounded_up<T: Real>(value: f64) -> T {
    let nearest = T::narrow(value);
    if nearest.widen() >= value || value.is_nan() {
        return nearest;
    }
    // Only f32 rounds an f64 down: step to the next f32 above.
    let below = nearest.widen() as f32;
    let bits = below.to_bits();
    let above = if below == 0.0 {
        f32::from_bits(1)
    } else if below > 0.0 {
        f32::from_bits(bits + 1)
    } else {
        f32::from_bits(bits - 1)
    };
    T::narrow(f64::from(above))
}

impl<T: Real> ElementLoss<T> for ReducedFocal<T> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn hard<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: T::V<S>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        let reduced = hard_element::<T, S, M, _>(v, &self.reduced, x, y, t, None);
        let cross_entropy = hard_element::<T, S, M, _>(v, &self.cross_entropy, x, y, t, None);
        let take_reduced = self.reduced_lanes(v, x, y);
        let scale = v.splat(self.scale);
        Element {
            loss: v.select(take_reduced, v.mul(scale, reduced.loss), cross_entropy.loss),
            grad: v.select(take_reduced, v.mul(scale, reduced.grad), cross_entropy.grad),
            hess: v.select(take_reduced, v.mul(scale, reduced.hess), cross_entropy.hess),
        }
    }

    /// Never given (the API refuses soft targets and label smoothing for this loss; see the
    /// module's notes): the hard form of the rounded target.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn soft<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        target: SoftTarget<T::V<S>>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        let label = v.select(v.ge(target.y, v.c(0.5)), v.c(1.0), v.c(0.0));
        self.hard::<S, M>(v, x, label, t)
    }
}
