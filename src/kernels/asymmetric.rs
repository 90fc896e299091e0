//! Asymmetric loss (ASL, Ben-Baruch et al. 2021), one element at a time. With `P = σ(x)`,
//! `Q = σ(−x)`: positives `L₊ = Q^γ₊·softplus(−x)` (the focal loss of a positive without α),
//! negatives `L₋ = p_m^γ₋·(−ln(1 − p_m))` with the shifted probability `p_m = max(P − m, 0)`
//! (for `m = 0` the focal loss of a negative without α); a soft target mixes them,
//! `y·L₊ + (1−y)·L₋`.
//!
//! For `m > 0` and `p_m > 0`, with `s = 1 − p_m = Q + m` and `ρ = −ln s` (formed as
//! `ln` of the exact sum `Q + m`, its rounding error carried): loss `p_m^γ·ρ`, gradient
//! `p_m^γ·(γ·ρ·k + P·Q/s)` with `k = P·Q/p_m`, Hessian
//! `p_m^γ·(γ(γ−1)·ρ·k² + 2γ·k·P·Q/s + (P·Q/s)²) + grad·(Q − P)` (docs/MATH.md). `ρ·k` and
//! `ρ·k²` are formed as `(ρ/p_m)·P·Q·k`, `ρ/p_m → 1` as `p_m → 0`: no power of `p_m` below
//! `γ` appears on its own. Where `p_m = 0` (`P ≤ m`) the loss is 0 and locally constant.

use super::Gamma;
use super::elementwise::{Element, ElementLoss, Mode, SoftTarget, Transcendentals};
use super::focal::{Focal, hard_element};
use crate::simd::{Lanes, Real};
use pulp::Simd;

/// ASL's parameters: the focal losses of its positives (γ₊) and negatives (γ₋), and the
/// margin with the negatives' γ for `m > 0`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Asymmetric<T> {
    positives: Focal<T>,
    negatives: Focal<T>,
    /// `m`, or `None` for 0 (the negatives are then the focal loss's).
    margin: Option<T>,
    /// γ₋ when it is 0, 1, 2, 3 or 4 (ASL's default): `p_m^γ₋` of the shifted negatives by
    /// multiplication rather than by `exp(γ₋·ln p_m)`.
    shifted_integer_gamma: Option<u8>,
}

impl<T: Real> Asymmetric<T> {
    pub fn new(gamma_positive: f64, gamma_negative: f64, margin: f64) -> Self {
        let negatives = Focal::new(gamma_negative, None);
        let shifted_integer_gamma = match negatives.integer_gamma {
            Some(g) => Some(g),
            None => (gamma_negative == 4.0).then_some(4),
        };
        Self {
            positives: Focal::new(gamma_positive, None),
            negatives,
            margin: (margin != 0.0).then(|| T::narrow(margin)),
            shifted_integer_gamma,
        }
    }

    /// Both halves of the loss at `x`: positives (a label of 1), then negatives.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn halves<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        t: Transcendentals<T::V<S>>,
    ) -> [Element<T::V<S>>; 2] {
        let positive = hard_element::<T, S, M, _>(v, &self.positives, x, v.c(1.0), t, None);
        let negative = match self.margin {
            None => hard_element::<T, S, M, _>(v, &self.negatives, x, v.c(0.0), t, None),
            Some(margin) => shifted_negative::<T, S, M>(
                v,
                &self.negatives,
                self.shifted_integer_gamma,
                margin,
                x,
                t,
            ),
        };
        [positive, negative]
    }
}

impl<T: Real> ElementLoss<T> for Asymmetric<T> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn hard<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: T::V<S>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        let [positive, negative] = self.halves::<S, M>(v, x, t);
        let is_positive = v.eq(y, v.c(1.0));
        Element {
            loss: v.select(is_positive, positive.loss, negative.loss),
            grad: v.select(is_positive, positive.grad, negative.grad),
            hess: v.select(is_positive, positive.hess, negative.hess),
        }
    }

    /// `y·L₊ + (1−y)·L₋` (a zero weight also where its half is infinite).
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn soft<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        target: SoftTarget<T::V<S>>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        let [positive, negative] = self.halves::<S, M>(v, x, t);
        let SoftTarget { y, one_minus_y, .. } = target;
        let nan = v.is_nan(x);
        Element {
            loss: v.select(
                nan,
                x,
                mixed(v, y, one_minus_y, positive.loss, negative.loss),
            ),
            grad: v.select(
                nan,
                x,
                mixed(v, y, one_minus_y, positive.grad, negative.grad),
            ),
            hess: v.select(
                nan,
                x,
                mixed(v, y, one_minus_y, positive.hess, negative.hess),
            ),
        }
    }
}

/// `y·a + (1−y)·b`, a zero weight also of an infinite value. (Functions, not closures, in
/// the kernels: a closure that is not inlined loses the SIMD level's target features.)
#[cfg_attr(not(debug_assertions), inline(always))]
fn mixed<T: Real, S: Simd>(
    v: Lanes<T, S>,
    y: T::V<S>,
    one_minus_y: T::V<S>,
    a: T::V<S>,
    b: T::V<S>,
) -> T::V<S> {
    v.add(v.zero_times(y, a), v.zero_times(one_minus_y, b))
}

/// `value` where the shifted probability is positive, 0 where it is not, NaN for NaN logits.
#[cfg_attr(not(debug_assertions), inline(always))]
fn where_active<T: Real, S: Simd>(
    v: Lanes<T, S>,
    x: T::V<S>,
    active: T::M<S>,
    value: T::V<S>,
) -> T::V<S> {
    v.select(v.is_nan(x), x, v.select(active, value, v.c(0.0)))
}

/// The negatives' loss `p_m^γ·(−ln(1 − p_m))` with `p_m = max(σ(x) − m, 0)`, `m > 0`, and
/// its derivatives (the module's notes). NaN logits give NaN.
#[cfg_attr(not(debug_assertions), inline(always))]
fn shifted_negative<T: Real, S: Simd, M: Mode>(
    v: Lanes<T, S>,
    negatives: &Focal<T>,
    integer_gamma: Option<u8>,
    margin: T,
    x: T::V<S>,
    t: Transcendentals<T::V<S>>,
) -> Element<T::V<S>> {
    let zero = v.c(0.0);
    let one = v.c(1.0);
    let m = v.splat(margin);
    let Transcendentals { e, r, .. } = t;
    let e_r = v.mul(e, r);
    let nonnegative = v.ge(x, zero);
    let p = v.select(nonnegative, r, e_r); // σ(x)
    let q = v.select(nonnegative, e_r, r); // σ(−x)
    let shifted = v.sub(p, m);
    let active = v.gt(shifted, zero);
    // Inactive lanes compute with p_m = 1/2 (any value in (0, 1) keeps them finite) and
    // give 0 below.
    let p_m = v.select(active, shifted, v.c(0.5));
    // s = q + m exactly as `s + s_err`: ln s = ln(s) + s_err/s to better than an ulp of
    // ln s, also where s is close to 1 (ρ small).
    let s = v.add(q, m);
    let m_part = v.sub(s, q);
    let s_err = v.add(v.sub(q, v.sub(s, m_part)), v.sub(m, m_part));
    // One division for 1/s and (with the gradient) one for 1/p_m, not one per quotient:
    // divisions dominated the cost of this path.
    let inv_s = v.div(one, s);
    let rho = v.neg(v.add(v.ln(s), v.mul(s_err, inv_s)));
    let gamma = negatives.gamma_lanes(v);
    let power = match integer_gamma {
        Some(0) => one,
        Some(1) => p_m,
        Some(2) => v.mul(p_m, p_m),
        Some(3) => v.mul(v.mul(p_m, p_m), p_m),
        Some(4) => {
            let square = v.mul(p_m, p_m);
            v.mul(square, square)
        }
        _ => {
            let Gamma { high, low } = gamma;
            v.pow_ratio(p_m, one, high, low)
        }
    };
    let loss = v.mul(power, rho);
    if !M::GRAD {
        return Element {
            loss: where_active(v, x, active, loss),
            grad: zero,
            hess: zero,
        };
    }
    let pq = v.mul(p, q);
    // ρ·k = (ρ/p_m)·P·Q: ρ/p_m → 1 as p_m → 0. 1/p_m overflows only for a p_m below
    // 1/MAX, which needs a margin that small: those vectors divide.
    let (k, rho_over_p_m) = if v.any(v.lt(p_m, v.c(4.0 / T::MAX.widen()))) {
        (v.div(pq, p_m), v.div(rho, p_m))
    } else {
        let inv_p_m = v.div(one, p_m);
        (v.mul(pq, inv_p_m), v.mul(rho, inv_p_m))
    };
    let rho_k = v.mul(rho_over_p_m, pq);
    let pq_over_s = v.mul(pq, inv_s);
    let gamma = gamma.high;
    let grad = v.mul(power, v.fma(gamma, rho_k, pq_over_s));
    let hess = if M::HESS {
        let curvature = v.fma(
            v.mul(v.mul(gamma, v.sub(gamma, one)), rho_k),
            k,
            v.fma(
                v.mul(v.c(2.0), gamma),
                v.mul(k, pq_over_s),
                v.mul(pq_over_s, pq_over_s),
            ),
        );
        v.fma(power, curvature, v.mul(grad, v.sub(q, p)))
    } else {
        zero
    };
    Element {
        loss: where_active(v, x, active, loss),
        grad: where_active(v, x, active, grad),
        hess: where_active(v, x, active, hess),
    }
}
