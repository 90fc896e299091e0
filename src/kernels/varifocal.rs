//! Varifocal loss (VarifocalNet), one element at a time: a target `y > 0` (an IoU-aware
//! score) weights its own binary cross-entropy, `y·C` (gradient `y·((1−y)·σ(x) − y·σ(−x))`,
//! Hessian `y·σ(x)·σ(−x)`); a target of 0 takes the focal loss of a negative scaled by α,
//! `α·σ(x)^γ·softplus(x)`, with the focal kernel.

use super::elementwise::{Element, ElementLoss, Mode, SoftTarget, Transcendentals};
use super::focal::{Focal, hard_element, soft_element};
use crate::simd::{Lanes, Real};
use pulp::Simd;

/// VFL's α (of the negatives) and the focal loss of its negatives.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Varifocal<T> {
    negatives: Focal<T>,
    alpha: T,
}

impl<T: Real> Varifocal<T> {
    pub fn new(alpha: f64, gamma: f64) -> Self {
        Self {
            negatives: Focal::new(gamma, None),
            alpha: T::narrow(alpha),
        }
    }
}

/// `α·negative` for targets of 0, `positive` elsewhere (a zero α also at an infinite loss).
#[cfg_attr(not(debug_assertions), inline(always))]
fn by_target<T: Real, S: Simd>(
    v: Lanes<T, S>,
    y: T::V<S>,
    alpha: T,
    negative: Element<T::V<S>>,
    positive: Element<T::V<S>>,
) -> Element<T::V<S>> {
    let is_negative = v.eq(y, v.c(0.0));
    let alpha = v.splat(alpha);
    Element {
        loss: v.select(
            is_negative,
            v.zero_times(alpha, negative.loss),
            positive.loss,
        ),
        grad: v.select(is_negative, v.mul(alpha, negative.grad), positive.grad),
        hess: v.select(is_negative, v.mul(alpha, negative.hess), positive.hess),
    }
}

impl<T: Real> ElementLoss<T> for Varifocal<T> {
    /// Labels: a positive is plain cross-entropy (y = 1).
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn hard<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: T::V<S>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        let negative = hard_element::<T, S, M, _>(v, &self.negatives, x, y, t, None);
        let zero = v.c(0.0);
        let Transcendentals { e, l, r } = t;
        let e_r = v.mul(e, r);
        let nonnegative = v.ge(x, zero);
        let q = v.select(nonnegative, e_r, r); // σ(−x)
        let nan = v.is_nan(x);
        // NaN logits lost their NaN in the hard path's transcendentals.
        let positive = Element {
            loss: v.select(nan, x, v.add(v.positive_part(v.neg(x)), l)),
            grad: v.select(nan, x, v.neg(q)),
            hess: v.select(nan, x, v.mul(e_r, r)),
        };
        by_target(v, y, self.alpha, negative, positive)
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn soft<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        target: SoftTarget<T::V<S>>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        let negative = soft_element::<T, S, M, _>(v, &self.negatives, x, target, t, None);
        let zero = v.c(0.0);
        let SoftTarget { y, one_minus_y, .. } = target;
        let Transcendentals { e, l, r } = t;
        let e_r = v.mul(e, r);
        let nonnegative = v.ge(x, zero);
        let p = v.select(nonnegative, r, e_r);
        let q = v.select(nonnegative, e_r, r);
        let c = v.add(
            v.zero_times(y, v.add(v.positive_part(v.neg(x)), l)),
            v.zero_times(one_minus_y, v.add(v.positive_part(x), l)),
        );
        let positive = Element {
            loss: v.mul(y, c),
            grad: v.mul(y, v.fma(one_minus_y, p, v.neg(v.mul(y, q)))),
            hess: v.mul(y, v.mul(e_r, r)),
        };
        by_target(v, y, self.alpha, negative, positive)
    }
}
