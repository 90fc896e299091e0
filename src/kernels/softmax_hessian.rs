//! Gradient and diagonal Hessian of the softmax focal loss with one-hot targets, for Newton
//! steps (gradient boosting): each lane is one position, as in the loss kernel.
//!
//! Per position (docs/MATH.md, "Softmax Hessian"): the loss kernel's `m`, `e_j`, `Z`, `CE`,
//! `q = 1 − p_t`, `q^γ` and `c = F′` (the derivative of the position's loss through
//! `u = ln p_t`), and the bounded `F″·q² = α_t·γ·q^γ·(q·(2p_t − p_t·CE) + (γ−1)·p_t·(p_t·CE))`
//! (plus poly-1's `ε·(γ+1)·q^γ·p_t·q·(γ·p_t − q)`). Then `H_tt = F″q² − p_t·q·c` and, for
//! `j ≠ t`, `H_jj = (e_j/S_o)²·F″q² − p_j·q_j·c` with `S_o = Σ_{k≠t} e_k` and `q_j` formed
//! without cancellation (`Z − e_j ≥ 1` below the row's first maximum, the sum of the others
//! at it). The gradient is the loss kernel's, bit for bit.

use super::Gamma;
use super::softmax::{Lanes1D, Layout, OneHotScan, Params, TargetTerms};
use crate::simd::{Lanes, Real};
use pulp::Simd;

/// The lanes' gradient and Hessian (the Hessian raised to `params.hessian_floor`), 0 and 0
/// in lanes that are not `active`; returns the position losses.
#[allow(clippy::too_many_arguments, clippy::manual_map)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn grad_hess<T: Real, S: Simd>(
    v: Lanes<T, S>,
    params: &Params<'_, T>,
    layout: Layout,
    logits: &[T],
    grad: &mut [T],
    hess: &mut [T],
    vector: Lanes1D,
    target: T::V<S>,
    alpha: T::V<S>,
    gamma: Gamma<T::V<S>>,
    active: T::M<S>,
) -> T::V<S> {
    let (zero, one) = (v.c(0.0), v.c(1.0));
    // The exponentials wait in the gradient buffer.
    let row = OneHotScan::new(v, layout, logits, vector, target, true, Some(&mut *grad));
    let t = TargetTerms::new(v, params, gamma, alpha, &row);
    let others = row.others;
    let (first_max_index, without_max) = match row.first_max {
        Some(first_max) => first_max,
        None => (v.c(-1.0), zero),
    };
    let (z, q, p_t) = (t.z, t.q, t.p_t);
    // p_t·CE → 0 as p_t → 0 (also where CE is infinite).
    let p_ce = v.select(v.eq(p_t, zero), zero, v.mul(p_t, t.ce));
    let gamma_minus_one = v.sub(gamma.high, one);
    let curvature = v.mul(
        v.mul(t.scale, gamma.high),
        v.fma(
            q,
            v.sub(v.add(p_t, p_t), p_ce),
            v.mul(gamma_minus_one, v.mul(p_t, p_ce)),
        ),
    );
    let c = t.slope(v, gamma);
    let curvature = match &params.poly {
        Some(poly) => {
            // Poly-1's ε·q^(γ+1) (one-hot: u = q): curvature·q² = ε·(γ+1)·q^γ·p_t·q·(γ·p_t − q).
            let e = v.mul(
                v.mul(v.splat(poly.epsilon), v.add(gamma.high, one)),
                t.q_pow_gamma,
            );
            let poly_curvature = v.mul(v.mul(e, v.mul(p_t, q)), v.sub(v.mul(gamma.high, p_t), q));
            v.add(curvature, poly_curvature)
        }
        None => curvature,
    };
    let c_over_z = v.div(c, z);
    let at_target = v.mul(c, q);
    let hess_at_target = v.sub(curvature, v.mul(v.mul(p_t, q), c));
    // A match, not `Option::map`: a closure that is not inlined loses the level's features.
    let floor = match params.hessian_floor {
        Some(f) => Some(v.splat(f)),
        None => None,
    };
    for j in 0..layout.classes {
        let e = layout.load(v, grad, vector, j);
        let index = v.splat(T::narrow(j as f64));
        let is_target = v.eq(target, index);
        let p = v.div(e, z);
        let q_j = v.div(
            v.select(v.eq(index, first_max_index), without_max, v.sub(z, e)),
            z,
        );
        // p_j / q = e_j / S_o, 0 where S_o = 0 (then e_j = 0 too).
        let ratio = v.select(v.eq(others, zero), zero, v.div(e, others));
        let h = v.sub(
            v.mul(v.mul(ratio, ratio), curvature),
            v.mul(v.mul(p, q_j), c),
        );
        let h = v.select(is_target, hess_at_target, h);
        let h = match floor {
            // `h < floor` is false for NaN: a NaN row stays NaN.
            Some(floor) => v.select(v.lt(h, floor), floor, h),
            None => h,
        };
        let g = v.select(is_target, at_target, v.neg(v.mul(c_over_z, e)));
        layout.store(v, grad, vector, j, v.select(active, g, zero));
        layout.store(v, hess, vector, j, v.select(active, h, zero));
    }
    t.loss
}
