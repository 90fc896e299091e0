//! Quality focal loss (GFL), one element at a time: `L = C·|d|^β` with `C` the binary
//! cross-entropy and `d = y − σ(x)`, formed as `y·σ(−x) − (1−y)·σ(x)` (both terms
//! accurate, so that `d` is as accurate as they are). With `D = |d|^β`, `P·Q = σ(x)·σ(−x)`:
//! gradient `−d·D − β·C·P·Q·D/d`, Hessian
//! `P·Q·((2β+1)·D − β·C·(1−2P)·D/d + β(β−1)·C·P·Q·D/d²)`. At `d = 0` (y = σ(x) exactly)
//! the gradient is 0, a minimum, and `D/d²` is its limit 1 at β = 2, else 0. Hard targets
//! are the focal loss with γ = β and no α, with its kernel.

use super::elementwise::{Element, ElementLoss, Mode, SoftTarget, Transcendentals};
use super::focal::{Focal, hard_element};
use crate::simd::{Lanes, Real};
use pulp::Simd;

/// QFL's β, and the focal loss it is at hard targets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QualityFocal<T> {
    focal: Focal<T>,
    beta: T,
    beta_low: T,
    /// β when it is 0, 1, 2 or 3: `|d|^β` by multiplication.
    integer_beta: Option<u8>,
}

impl<T: Real> QualityFocal<T> {
    pub fn new(beta: f64) -> Self {
        let beta_t = T::narrow(beta);
        Self {
            focal: Focal::new(beta, None),
            beta: beta_t,
            beta_low: T::narrow(beta - beta_t.widen()),
            integer_beta: [0.0, 1.0, 2.0, 3.0]
                .iter()
                .position(|&b| b == beta)
                .map(|b| b as u8),
        }
    }
}

impl<T: Real> ElementLoss<T> for QualityFocal<T> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn hard<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: T::V<S>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        hard_element::<T, S, M, _>(v, &self.focal, x, y, t, None)
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn soft<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        target: SoftTarget<T::V<S>>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        let zero = v.c(0.0);
        let one = v.c(1.0);
        let SoftTarget { y, one_minus_y, .. } = target;
        let Transcendentals { e, l, r } = t;
        let e_r = v.mul(e, r);
        let positive = v.ge(x, zero);
        let p = v.select(positive, r, e_r); // σ(x)
        let q = v.select(positive, e_r, r); // σ(−x)
        let pq = v.mul(e_r, r);
        let d = v.fma(y, q, v.neg(v.mul(one_minus_y, p)));
        let a = v.abs(d);
        let power = match self.integer_beta {
            Some(0) => one,
            Some(1) => a,
            Some(2) => v.mul(a, a),
            Some(3) => v.mul(v.mul(a, a), a),
            _ => v.pow_ratio(a, one, v.splat(self.beta), v.splat(self.beta_low)),
        };
        let softplus_x = v.add(v.positive_part(x), l);
        let softplus_neg_x = v.add(v.positive_part(v.neg(x)), l);
        let c = v.add(
            v.zero_times(y, softplus_neg_x),
            v.zero_times(one_minus_y, softplus_x),
        );
        // C is infinite only at an infinite logit; |d| > 0 there for a soft target.
        let loss = v.select(
            v.and(v.eq(c, v.c(f64::INFINITY)), v.gt(a, zero)),
            c,
            v.zero_times(c, power),
        );
        let nan = v.is_nan(x);
        if !M::GRAD {
            return Element {
                loss: v.select(nan, x, loss),
                grad: zero,
                hess: zero,
            };
        }
        // P·Q/d rather than D/d: d can be tiny (a target of 0 at a very negative logit,
        // d = −σ(x)) where P·Q/d is not.
        let d_is_zero = v.eq(d, zero);
        let ratio = v.select(d_is_zero, zero, v.div(pq, d));
        let beta = v.splat(self.beta);
        // C is infinite only where P·Q = 0: C·P·Q → 0.
        let grad = v.sub(
            v.neg(v.mul(d, power)),
            v.mul(beta, v.zero_times(c, v.mul(ratio, power))),
        );
        let hess = if M::HESS {
            // (P·Q)²·D/d² at d = 0: its limit (P·Q)² at β = 2, else 0.
            let limit = if self.integer_beta == Some(2) {
                v.mul(pq, pq)
            } else {
                zero
            };
            let pq2_over_d2 = v.select(d_is_zero, limit, v.mul(v.mul(ratio, ratio), power));
            let one_minus_2p = v.sub(q, p);
            let first = v.mul(v.mul(v.fma(v.c(2.0), beta, one), power), pq);
            let second = v.mul(
                beta,
                v.zero_times(c, v.mul(v.mul(ratio, one_minus_2p), power)),
            );
            let third = v.mul(v.mul(beta, v.sub(beta, one)), v.zero_times(c, pq2_over_d2));
            v.add(v.sub(first, second), third)
        } else {
            zero
        };
        Element {
            loss: v.select(nan, x, loss),
            grad: v.select(nan, x, grad),
            hess: v.select(nan, x, hess),
        }
    }
}
