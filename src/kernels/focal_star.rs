//! FL* (RetinaNet, appendix A), one element at a time: with `z = (2y − 1)·x` and
//! `u = γ·z + β`, loss `α_t·softplus(−u)/γ`, gradient `−(2y − 1)·α_t·σ(−u)`, Hessian
//! `α_t·γ·(2y − 1)²·σ(u)·σ(−u)`.
//!
//! Without a shift (β = 0, the published form) and with hard targets, `|u| = γ·|x|` does
//! not depend on the target: the driver's transcendentals are those of `γ·|x|`
//! ([`ElementLoss::exponential`]) and the element is a few multiplications. Otherwise the
//! element forms `u` itself, as a rounded part and its error (`e^−|u|` for `|u|` in the
//! hundreds needs `u` to better than an ulp), and its own `e^−|u|`, `ln(1 + e)`, `1/(1 + e)`.

use super::elementwise::{Element, ElementLoss, Mode, RunObjective, SoftTarget, Transcendentals};
use crate::simd::{Lanes, Real};
use pulp::Simd;

/// FL*'s parameters in the element type. `SHIFTED`: β ≠ 0.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FocalStar<T, const SHIFTED: bool = false> {
    /// γ rounded to `T`, and the part of γ that rounding lost.
    gamma: T,
    gamma_low: T,
    inverse_gamma: T,
    beta: T,
    beta_low: T,
    alpha: Option<T>,
    one_minus_alpha: T,
    alpha_positive: T,
}

impl<T: Real> FocalStar<T> {
    pub fn new(gamma: f64, beta: f64, alpha: Option<f64>) -> Self {
        let gamma_t = T::narrow(gamma);
        let beta_t = T::narrow(beta);
        Self {
            gamma: gamma_t,
            gamma_low: T::narrow(gamma - gamma_t.widen()),
            inverse_gamma: T::narrow(1.0 / gamma),
            beta: beta_t,
            beta_low: T::narrow(beta - beta_t.widen()),
            alpha: alpha.map(T::narrow),
            one_minus_alpha: T::narrow(1.0 - alpha.unwrap_or(0.0)),
            alpha_positive: T::narrow(alpha.unwrap_or(1.0)),
        }
    }
}

impl<T: Real, const SHIFTED: bool> FocalStar<T, SHIFTED> {
    fn shifted(&self) -> FocalStar<T, true> {
        let Self {
            gamma,
            gamma_low,
            inverse_gamma,
            beta,
            beta_low,
            alpha,
            one_minus_alpha,
            alpha_positive,
        } = *self;
        FocalStar {
            gamma,
            gamma_low,
            inverse_gamma,
            beta,
            beta_low,
            alpha,
            one_minus_alpha,
            alpha_positive,
        }
    }
}

impl<T: Real, const SHIFTED: bool> ElementLoss<T> for FocalStar<T, SHIFTED> {
    /// `e^−γ·|x|`, with the rounding of `γ·|x|` carried into `exp`.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn exponential<S: Simd, const SOFT: bool>(&self, v: Lanes<T, S>, x: T::V<S>) -> T::V<S> {
        if SHIFTED || SOFT {
            // Not used: the element forms its own.
            return v.c(0.0);
        }
        let a = v.abs(x);
        let gamma = v.splat(self.gamma);
        let high = v.mul(gamma, a);
        let low = v.fma(v.splat(self.gamma_low), a, v.fma(gamma, a, v.neg(high)));
        v.exp_nonpositive(v.neg(high), Some(v.neg(low)))
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn hard<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: T::V<S>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        let one = v.c(1.0);
        let alpha_t = v.select(
            v.eq(y, one),
            v.splat(self.alpha_positive),
            v.splat(self.one_minus_alpha),
        );
        let one_minus_2y = v.fma(v.c(-2.0), y, one);
        if SHIFTED {
            return general::<T, S, M, SHIFTED>(v, self, x, one_minus_2y, v.c(0.0), alpha_t);
        }
        let zero = v.c(0.0);
        // z = s·x with s = 2y − 1 = −(1 − 2y) = ±1; u = γ·z has the sign of z.
        let z = v.mul(v.neg(one_minus_2y), x);
        let Transcendentals { e, l, r } = t;
        let e_r = v.mul(e, r);
        // σ(−u): e·r for u ≥ 0, r below.
        let sigma_minus_u = v.select(v.lt(z, zero), r, e_r);
        // softplus(−u)/γ = max(−z, 0) + ln(1 + e^−|u|)/γ.
        let loss = v.fma(l, v.splat(self.inverse_gamma), v.positive_part(v.neg(z)));
        finish::<T, S, M>(
            v,
            x,
            alpha_t,
            one_minus_2y,
            loss,
            sigma_minus_u,
            v.mul(e_r, r),
            self.gamma,
        )
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn soft<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: SoftTarget<T::V<S>>,
        _: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        let alpha_t = match self.alpha {
            Some(alpha) => v.fma(
                v.splat(alpha),
                y.y,
                v.mul(v.splat(self.one_minus_alpha), y.one_minus_y),
            ),
            None => v.c(1.0),
        };
        general::<T, S, M, SHIFTED>(v, self, x, y.one_minus_2y, y.one_minus_2y_low, alpha_t)
    }

    /// A shift (β ≠ 0) takes the element's own transcendentals, chosen once.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn specialize<R: RunObjective<T>>(&self, run: R) -> R::Output {
        if !SHIFTED && self.beta.widen() != 0.0 {
            run.run(&self.shifted())
        } else {
            run.run(self)
        }
    }
}

/// Any target and shift: `u = β − γ·(1 − 2y)·x` in two parts, then its transcendentals.
#[cfg_attr(not(debug_assertions), inline(always))]
fn general<T: Real, S: Simd, M: Mode, const SHIFTED: bool>(
    v: Lanes<T, S>,
    params: &FocalStar<T, SHIFTED>,
    x: T::V<S>,
    one_minus_2y: T::V<S>,
    one_minus_2y_low: T::V<S>,
    alpha_t: T::V<S>,
) -> Element<T::V<S>> {
    let zero = v.c(0.0);
    let gamma = v.splat(params.gamma);
    // γ·(1 − 2y) = c + c_low, then c·x = p + p_low, then u = β − p − p_low = high + low.
    let c = v.mul(gamma, one_minus_2y);
    // The smoothed target's own rounding counts as much as γ's: u = γ·(1 − 2y)·x reaches
    // the hundreds.
    let c_low = v.fma(
        gamma,
        one_minus_2y_low,
        v.fma(
            v.splat(params.gamma_low),
            one_minus_2y,
            v.fma(gamma, one_minus_2y, v.neg(c)),
        ),
    );
    // 0·∞ is 0: at y = ½ the loss does not depend on x.
    let p = v.zero_times(c, x);
    let p_low = v.fma(c_low, x, v.fma(c, x, v.neg(p)));
    let beta = v.splat(params.beta);
    let minus_p = v.neg(p);
    let high = v.add(beta, minus_p);
    let beta_part = v.sub(high, beta);
    let sum_error = v.add(
        v.sub(beta, v.sub(high, beta_part)),
        v.sub(minus_p, beta_part),
    );
    let low = v.add(v.sub(sum_error, p_low), v.splat(params.beta_low));
    // e^−|u| with the tail of |u| (at an infinite u the tail is NaN, and `exp` ignores it).
    let negative = v.lt(high, zero);
    let minus_abs_high = v.bit_or(high, v.c(-0.0));
    let tail = v.select(negative, low, v.neg(low));
    let e = v.exp_nonpositive(minus_abs_high, Some(tail));
    let (l, r) = v.ln_1p_unit_and_reciprocal(e);
    let e_r = v.mul(e, r);
    let sigma_minus_u = v.select(negative, r, e_r);
    // softplus(−u) = max(−u, 0) + ln(1 + e^−|u|), over γ; the tail of u is below an ulp of
    // max(−u, 0) where that is not 0.
    let loss = v.mul(
        v.add(v.positive_part(v.neg(high)), l),
        v.splat(params.inverse_gamma),
    );
    finish::<T, S, M>(
        v,
        x,
        alpha_t,
        one_minus_2y,
        loss,
        sigma_minus_u,
        v.mul(e_r, r),
        params.gamma,
    )
}

/// The outputs from `softplus(−u)/γ`, `σ(−u)` and `σ(u)·σ(−u)`: the gradient's sign is that
/// of `1 − 2y`, `(1 − 2y)²` scales the Hessian. A zero α_t gives 0, also at infinite logits.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(debug_assertions), inline(always))]
fn finish<T: Real, S: Simd, M: Mode>(
    v: Lanes<T, S>,
    x: T::V<S>,
    alpha_t: T::V<S>,
    one_minus_2y: T::V<S>,
    softplus_over_gamma: T::V<S>,
    sigma_minus_u: T::V<S>,
    sigma_product: T::V<S>,
    gamma: T,
) -> Element<T::V<S>> {
    let zero = v.c(0.0);
    let loss = v.zero_times(alpha_t, softplus_over_gamma);
    let grad = if M::GRAD {
        v.mul(v.mul(alpha_t, one_minus_2y), sigma_minus_u)
    } else {
        zero
    };
    let hess = if M::HESS {
        let weight = v.mul(
            v.mul(alpha_t, v.splat(gamma)),
            v.mul(one_minus_2y, one_minus_2y),
        );
        v.mul(weight, sigma_product)
    } else {
        zero
    };
    let nan = v.is_nan(x);
    if v.any(nan) {
        Element {
            loss: v.select(nan, x, loss),
            grad: v.select(nan, x, grad),
            hess: v.select(nan, x, hess),
        }
    } else {
        Element { loss, grad, hess }
    }
}
