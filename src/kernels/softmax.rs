//! Softmax focal loss, vectorized over positions: each lane is one position (one row of
//! `classes` logits), the classes are walked in order, so a lane's result never depends on
//! its neighbours or on the vector width.
//!
//! Channels-first `[N, C, S]` reads class `j` of consecutive positions with one vector load;
//! row-major `[N, C]` (S = 1) gathers a block of rows into the lanes.
//!
//! Per position (docs/MATH.md): `m = max x`, `e_j = e^(x_j − m)` with the rounding error of
//! `x_j − m` folded into the exponential, `S_o = Σ_{j≠t} e_j`, `Z = e_t + S_o`,
//! `CE = ln(1 + S_o)` when `x_t = m` else `ln Z − (x_t − m)`, `q = S_o/Z`, `h = CE/q`,
//! `c = −α_t·q^γ·(1 + γ·p_t·h)`; loss `α_t·q^γ·CE`, gradient `c·q` at the target and
//! `−c·p_j` elsewhere. Label smoothing uses the soft-target form with
//! `S_o,k = Z − e_k` (or the sum without the maximum, for the maximum).

use super::slots::SLOTS;
use super::softmax_hessian;
use super::{Gamma, LaneSum, SlotSum, lane_index};
use crate::simd::{Lanes, Real};
use pulp::{Simd, WithSimd};

/// The options of a softmax call, converted once to the element type.
#[derive(Clone, Debug)]
pub(crate) struct Params<'a, T> {
    /// γ of each class rounded to `T` (all equal without per-class γ), and the parts that
    /// rounding lost.
    pub class_gamma: &'a [T],
    pub class_gamma_low: &'a [T],
    /// γ when every class has the same γ and it is 0, 1, 2 or 3: `q^γ` by multiplication.
    pub integer_gamma: Option<u8>,
    /// α of each class (all ones when α is off).
    pub class_alpha: &'a [T],
    /// Label smoothing: target weight `1 − ls + ls/C` and others `ls/C`.
    pub smoothing: Option<(T, T)>,
    /// Poly-1's term `ε·(1 − p̄_t)^(γ_t+1)`, `None` for the focal loss.
    pub poly: Option<Poly<T>>,
    pub grad_scale: T,
    pub ignore_index: i32,
    /// With a Hessian: values below this are raised to it.
    pub hessian_floor: Option<T>,
}

/// Poly-1 (PolyLoss, Leng et al. 2022) for the softmax focal loss: `ε·u^(γ_t+1)` with
/// `u = 1 − Σ_k y_k·p_k = keep·q_t + offset` (`keep = 1 − ls`, `offset = ls·(C−1)/C`, since
/// `Σ_k q_k = C − 1`), whose slope through `p_t` is `−ε·(γ_t+1)·u^γ_t·keep`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Poly<T> {
    pub epsilon: T,
    pub keep: T,
    pub offset: T,
}

impl<T: Real> Params<'_, T> {
    /// γ of class `class` in every lane.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn gamma_of_class<S: Simd>(&self, v: Lanes<T, S>, class: usize) -> Gamma<T::V<S>> {
        Gamma {
            high: v.splat(self.class_gamma[class]),
            low: v.splat(self.class_gamma_low[class]),
        }
    }

    /// γ of classes `start .. start + len`, one per lane.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn gammas_of_classes<S: Simd>(
        &self,
        v: Lanes<T, S>,
        start: usize,
        len: usize,
    ) -> Gamma<T::V<S>> {
        Gamma {
            high: v.load(&self.class_gamma[start..start + len]),
            low: v.load(&self.class_gamma_low[start..start + len]),
        }
    }
}

/// A run of positions of one call.
pub(crate) struct Chunk<'a, T> {
    /// The logits of the samples that hold these positions (whole samples).
    pub logits: &'a [T],
    /// One target per position.
    pub targets: &'a [i32],
    pub classes: usize,
    pub spatial: usize,
    /// Per-position losses (reduction `None`).
    pub loss: Option<&'a mut [T]>,
    /// Same layout as `logits`.
    pub grad: Option<&'a mut [T]>,
    /// The diagonal of the Hessian (same layout; one-hot targets, with `grad`).
    pub hess: Option<&'a mut [T]>,
}

pub(crate) struct Kernel<'a, 'p, T> {
    pub chunk: Chunk<'a, T>,
    pub params: &'p Params<'p, T>,
}

/// Lanes `0..len` of a vector of positions starting at `position`.
#[derive(Clone, Copy)]
pub(crate) struct Lanes1D {
    position: usize,
    len: usize,
}

/// Reads and writes class `j` of the lanes' positions.
#[derive(Clone, Copy)]
pub(crate) struct Layout {
    pub classes: usize,
    spatial: usize,
}

impl Layout {
    /// Index of class `j` of `position`.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn index(self, position: usize, j: usize) -> usize {
        if self.spatial == 1 {
            return position * self.classes + j;
        }
        let (n, s) = (position / self.spatial, position % self.spatial);
        (n * self.classes + j) * self.spatial + s
    }

    /// Whether the lanes are consecutive in memory (same sample, channels-first).
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn contiguous(self, lanes: Lanes1D) -> bool {
        self.spatial > 1 && lanes.position % self.spatial + lanes.len <= self.spatial
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn load<T: Real, S: Simd>(
        self,
        v: Lanes<T, S>,
        data: &[T],
        lanes: Lanes1D,
        j: usize,
    ) -> T::V<S> {
        let start = self.index(lanes.position, j);
        if self.contiguous(lanes) {
            v.load(&data[start..start + lanes.len])
        } else {
            let mut gathered = [T::default(); SLOTS];
            for (i, out) in gathered[..lanes.len].iter_mut().enumerate() {
                *out = data[self.index(lanes.position + i, j)];
            }
            v.load(&gathered)
        }
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn store<T: Real, S: Simd>(
        self,
        v: Lanes<T, S>,
        data: &mut [T],
        lanes: Lanes1D,
        j: usize,
        value: T::V<S>,
    ) {
        let start = self.index(lanes.position, j);
        if self.contiguous(lanes) {
            v.store(&mut data[start..start + lanes.len], value);
        } else {
            let mut scattered = [T::default(); SLOTS];
            v.store(&mut scattered, value);
            for (i, value) in scattered[..lanes.len].iter().enumerate() {
                data[self.index(lanes.position + i, j)] = *value;
            }
        }
    }
}

impl<T: Real> WithSimd for Kernel<'_, '_, T> {
    type Output = f64;

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        let v = Lanes::<T, S>::new(simd);
        let lanes = v.lanes();
        let Chunk {
            logits,
            targets,
            classes,
            spatial,
            mut loss,
            mut grad,
            mut hess,
        } = self.chunk;
        let params = self.params;
        let layout = Layout { classes, spatial };
        let lane_index = lane_index(v);
        let positions = targets.len();
        let mut sum = SlotSum::<T, S>::new(v);
        for block in (0..positions).step_by(SLOTS) {
            for group in 0..SLOTS / lanes {
                let position = (block + group * lanes).min(positions);
                let len = (position + lanes).min(positions) - position;
                let vector = Lanes1D { position, len };
                // Per lane: the target as a float (−1 when ignored), its α and γ, whether
                // counted.
                let mut target = [T::narrow(-1.0); SLOTS];
                let mut alpha = [T::default(); SLOTS];
                let (mut gamma, mut gamma_low) = ([T::default(); SLOTS], [T::default(); SLOTS]);
                for (i, &t) in targets[position..position + len].iter().enumerate() {
                    if t != params.ignore_index {
                        target[i] = T::narrow(t as f64);
                        alpha[i] = params.class_alpha[t as usize];
                        gamma[i] = params.class_gamma[t as usize];
                        gamma_low[i] = params.class_gamma_low[t as usize];
                    }
                }
                let target = v.load(&target);
                let in_range = v.lt(lane_index, v.splat(T::narrow(len as f64)));
                let active = v.and(in_range, v.ge(target, v.c(0.0)));
                let alpha = v.load(&alpha);
                let target_gamma = Gamma {
                    high: v.load(&gamma),
                    low: v.load(&gamma_low),
                };
                let position_loss = if len == 0 {
                    v.c(0.0)
                } else if let (Some(grad), Some(hess)) = (grad.as_deref_mut(), hess.as_deref_mut())
                {
                    softmax_hessian::grad_hess(
                        v,
                        params,
                        layout,
                        logits,
                        grad,
                        hess,
                        vector,
                        target,
                        alpha,
                        target_gamma,
                        active,
                    )
                } else if params.smoothing.is_some() {
                    smoothed(
                        v,
                        params,
                        layout,
                        logits,
                        grad.as_deref_mut(),
                        vector,
                        target,
                        target_gamma,
                        active,
                    )
                } else {
                    hard(
                        v,
                        params,
                        layout,
                        logits,
                        grad.as_deref_mut(),
                        vector,
                        target,
                        alpha,
                        target_gamma,
                        active,
                    )
                };
                let position_loss = v.select(active, position_loss, v.c(0.0));
                sum.add(v, group, position_loss);
                if let Some(out) = loss.as_deref_mut() {
                    v.store(&mut out[position..position + len], position_loss);
                }
            }
        }
        sum.total(v)
    }
}

/// The row maximum of each lane, NaN when any of its logits is NaN.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn row_max<T: Real, S: Simd>(
    v: Lanes<T, S>,
    layout: Layout,
    logits: &[T],
    vector: Lanes1D,
) -> T::V<S> {
    let mut m = v.c(f64::NEG_INFINITY);
    let mut nan = v.c(0.0);
    for j in 0..layout.classes {
        let x = layout.load(v, logits, vector, j);
        m = v.select(v.gt(x, m), x, m);
        nan = v.select(v.is_nan(x), x, nan);
    }
    v.select(v.is_nan(nan), nan, m)
}

/// `(e^(x − m), x − m rounded, its rounding error)`: 1 where `x = m` (also infinite).
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn shifted_exp<T: Real, S: Simd>(
    v: Lanes<T, S>,
    x: T::V<S>,
    m: T::V<S>,
) -> (T::V<S>, T::V<S>, T::V<S>) {
    let zero = v.c(0.0);
    let d = v.sub(x, m);
    // TwoSum: d + err = x − m exactly (err = 0 where d is not finite).
    let x_part = v.add(d, m);
    let m_part = v.sub(d, x_part);
    let err = v.add(v.sub(x, x_part), v.sub(v.neg(m), m_part));
    let is_max = v.eq(x, m);
    let err = v.select(v.or(is_max, v.eq(v.abs(d), v.c(f64::INFINITY))), zero, err);
    let d = v.select(is_max, zero, d);
    let e = v.select(is_max, v.c(1.0), v.exp_nonpositive(d, Some(err)));
    (e, d, err)
}

/// `q^γ = (num/den)^γ`.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn focal_factor<T: Real, S: Simd>(
    v: Lanes<T, S>,
    params: &Params<'_, T>,
    gamma: Gamma<T::V<S>>,
    num: T::V<S>,
    den: T::V<S>,
) -> T::V<S> {
    match params.integer_gamma {
        Some(0) => v.c(1.0),
        Some(1) => v.div(num, den),
        Some(2) => {
            let q = v.div(num, den);
            v.mul(q, q)
        }
        Some(3) => {
            let q = v.div(num, den);
            v.mul(v.mul(q, q), q)
        }
        _ => v.pow_ratio(num, den, gamma.high, gamma.low),
    }
}

/// `−scale·(1 + γ·p·h)` with `h = CE/q` (1 where `q = 0`, its limit) and `p·h = 0` where
/// `p = 0`: the derivative of a class's focal term through its probability, times `p`.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn focal_slope<T: Real, S: Simd>(
    v: Lanes<T, S>,
    gamma: Gamma<T::V<S>>,
    scale: T::V<S>,
    ce: T::V<S>,
    q: T::V<S>,
    p: T::V<S>,
) -> T::V<S> {
    let (zero, one) = (v.c(0.0), v.c(1.0));
    let h = v.select(v.eq(q, zero), one, v.div(ce, q));
    let p_h = v.select(v.eq(p, zero), zero, v.mul(p, h));
    v.neg(v.mul(scale, v.fma(gamma.high, p_h, one)))
}

/// `scale·CE` with `CE = ln Z − (x − m)` (`d = x − m` rounded), also where `x − m`
/// overflows although both are finite (logits near ±MAX): there CE is beyond the type but
/// `scale·ln Z + 2·scale·(m/2 − x/2)` is representable wherever the product is.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn weighted_ce<T: Real, S: Simd>(
    v: Lanes<T, S>,
    scale: T::V<S>,
    ce: T::V<S>,
    ln_z: T::V<S>,
    x: T::V<S>,
    m: T::V<S>,
    d: T::V<S>,
) -> T::V<S> {
    let product = v.zero_times(scale, ce);
    let overflowed = v.and(
        v.eq(d, v.c(f64::NEG_INFINITY)),
        v.and(v.gt(x, v.c(f64::NEG_INFINITY)), v.lt(m, v.c(f64::INFINITY))),
    );
    if !v.any(overflowed) {
        return product;
    }
    let half = v.c(0.5);
    let half_gap = v.sub(v.mul(m, half), v.mul(x, half));
    let split = v.add(v.mul(scale, ln_z), v.mul(v.c(2.0), v.mul(scale, half_gap)));
    v.select(overflowed, split, product)
}

/// Poly-1's loss term `ε·u^(γ+1)` and its slope `c_poly = −ε·(γ+1)·u^γ·keep·p_t`, which
/// joins a position's `c` (gradient `c·q_t` at the target, `−c·p_j` elsewhere); `u = q_t`
/// and `keep = 1` for one-hot targets.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn poly_term<T: Real, S: Simd>(
    v: Lanes<T, S>,
    poly: &Poly<T>,
    gamma: Gamma<T::V<S>>,
    u_pow_gamma: T::V<S>,
    u: T::V<S>,
    p_t: T::V<S>,
) -> (T::V<S>, T::V<S>) {
    let epsilon = v.splat(poly.epsilon);
    let term = v.mul(v.mul(epsilon, u_pow_gamma), u);
    let gamma_plus_one = v.add(gamma.high, v.c(1.0));
    let slope = v.mul(
        v.mul(v.mul(epsilon, gamma_plus_one), u_pow_gamma),
        v.mul(v.splat(poly.keep), p_t),
    );
    (term, v.neg(slope))
}

/// One-hot targets: returns the position losses; writes the gradient when asked.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(debug_assertions), inline(always))]
fn hard<T: Real, S: Simd>(
    v: Lanes<T, S>,
    params: &Params<'_, T>,
    layout: Layout,
    logits: &[T],
    mut grad: Option<&mut [T]>,
    vector: Lanes1D,
    target: T::V<S>,
    alpha: T::V<S>,
    gamma: Gamma<T::V<S>>,
    active: T::M<S>,
) -> T::V<S> {
    let zero = v.c(0.0);
    // The exponentials wait in the gradient buffer for Z.
    let row = OneHotScan::new(
        v,
        layout,
        logits,
        vector,
        target,
        false,
        grad.as_deref_mut(),
    );
    let t = TargetTerms::new(v, params, gamma, alpha, &row);
    if let Some(grad) = grad {
        let c = t.slope(v, gamma);
        let grad_scale = v.splat(params.grad_scale);
        let c_over_z = v.div(c, t.z);
        let at_target = v.mul(v.mul(c, t.q), grad_scale);
        for j in 0..layout.classes {
            let e = layout.load(v, grad, vector, j);
            let is_target = v.eq(target, v.splat(T::narrow(j as f64)));
            let g = v.select(
                is_target,
                at_target,
                v.mul(v.neg(v.mul(c_over_z, e)), grad_scale),
            );
            layout.store(v, grad, vector, j, v.select(active, g, zero));
        }
    }
    t.loss
}

/// The first pass over the one-hot rows of a vector of positions: the row maximum `m`, the
/// other classes' compensated sum `S_o`, the target's logit and [`shifted_exp`] parts, and,
/// when asked, the sum without the row's first maximum and that class's index (for
/// `q_j = 1 − p_j` of every class without cancellation: the Hessian's).
pub(crate) struct OneHotScan<V> {
    pub m: V,
    pub others: V,
    pub x_t: V,
    /// `(e_t, d_t, err_t)` of [`shifted_exp`].
    pub target_parts: (V, V, V),
    /// `(index of the first maximum, Σ_{j ≠ it} e_j)`.
    pub first_max: Option<(V, V)>,
}

impl<V: Copy> OneHotScan<V> {
    /// Scans the row (storing each `e_j` into `exponentials` when given).
    #[allow(clippy::too_many_arguments)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn new<T: Real<V<S> = V>, S: Simd>(
        v: Lanes<T, S>,
        layout: Layout,
        logits: &[T],
        vector: Lanes1D,
        target: V,
        with_first_max: bool,
        mut exponentials: Option<&mut [T]>,
    ) -> Self {
        let (zero, one) = (v.c(0.0), v.c(1.0));
        let m = row_max(v, layout, logits, vector);
        // Compensated: a confident class first and many equal small ones after it would
        // otherwise round every addition the same way.
        let mut others = LaneSum::new(v);
        let mut without_max = LaneSum::new(v);
        let (mut found, mut first_max_index) = (zero, v.c(-1.0));
        let (mut e_t, mut d_t, mut err_t, mut x_t) = (zero, zero, zero, zero);
        for j in 0..layout.classes {
            let x = layout.load(v, logits, vector, j);
            let (e, d, err) = shifted_exp(v, x, m);
            let index = v.splat(T::narrow(j as f64));
            let is_target = v.eq(target, index);
            others.add(v, v.select(is_target, zero, e));
            if with_first_max {
                let first_max = v.and(v.eq(x, m), v.eq(found, zero));
                found = v.select(first_max, one, found);
                first_max_index = v.select(first_max, index, first_max_index);
                without_max.add(v, v.select(first_max, zero, e));
            }
            e_t = v.select(is_target, e, e_t);
            d_t = v.select(is_target, d, d_t);
            err_t = v.select(is_target, err, err_t);
            x_t = v.select(is_target, x, x_t);
            if let Some(out) = exponentials.as_deref_mut() {
                layout.store(v, out, vector, j, e);
            }
        }
        Self {
            m,
            others: others.value(v),
            x_t,
            target_parts: (e_t, d_t, err_t),
            first_max: with_first_max.then(|| (first_max_index, without_max.value(v))),
        }
    }
}

/// What a one-hot row's loss and derivatives take of its target class: `Z = e_t + S_o`,
/// `CE`, `q = S_o/Z`, `p_t`, `q^γ`, `α_t·q^γ` and the position's loss (poly-1's term
/// included), from the row's [`OneHotScan`].
pub(crate) struct TargetTerms<V> {
    pub z: V,
    pub ce: V,
    pub q: V,
    pub p_t: V,
    pub q_pow_gamma: V,
    pub scale: V,
    pub loss: V,
    /// Poly-1's part of the slope, when it is on.
    poly_slope: Option<V>,
}

impl<V: Copy> TargetTerms<V> {
    #[allow(clippy::too_many_arguments, clippy::manual_map)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn new<T: Real<V<S> = V>, S: Simd>(
        v: Lanes<T, S>,
        params: &Params<'_, T>,
        gamma: Gamma<V>,
        alpha: V,
        row: &OneHotScan<V>,
    ) -> Self {
        let OneHotScan {
            m,
            others,
            x_t,
            target_parts: (e_t, d_t, err_t),
            ..
        } = *row;
        let z = v.add(e_t, others);
        let ln_z = v.ln(z);
        let ce = v.select(
            v.eq(x_t, m),
            v.ln_1p(others),
            v.sub(v.sub(ln_z, d_t), err_t),
        );
        let q = v.div(others, z);
        let p_t = v.div(e_t, z);
        let q_pow_gamma = focal_factor(v, params, gamma, others, z);
        let scale = v.mul(alpha, q_pow_gamma);
        // α_t = 0 with an infinite CE (x_t = −∞) is 0; a NaN row stays NaN.
        let loss = weighted_ce(v, scale, ce, ln_z, x_t, m, d_t);
        // A match, not `Option::map`: a closure that is not inlined loses the level's features.
        let poly = match &params.poly {
            Some(poly) => Some(poly_term(v, poly, gamma, q_pow_gamma, q, p_t)),
            None => None,
        };
        let (loss, poly_slope) = match poly {
            Some((term, slope)) => (v.add(loss, term), Some(slope)),
            None => (loss, None),
        };
        Self {
            z,
            ce,
            q,
            p_t,
            q_pow_gamma,
            scale,
            loss,
            poly_slope,
        }
    }

    /// `c = F′`, the derivative of the position's loss through `ln p_t` (poly-1 included):
    /// the gradient is `c·q` at the target and `−c·p_j` elsewhere.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn slope<T: Real<V<S> = V>, S: Simd>(&self, v: Lanes<T, S>, gamma: Gamma<V>) -> V {
        let c = focal_slope(v, gamma, self.scale, self.ce, self.q, self.p_t);
        match self.poly_slope {
            Some(slope) => v.add(c, slope),
            None => c,
        }
    }
}

/// Label smoothing: every class has weight `α_k·y_k`.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(debug_assertions), inline(always))]
fn smoothed<T: Real, S: Simd>(
    v: Lanes<T, S>,
    params: &Params<'_, T>,
    layout: Layout,
    logits: &[T],
    mut grad: Option<&mut [T]>,
    vector: Lanes1D,
    target: T::V<S>,
    target_gamma: Gamma<T::V<S>>,
    active: T::M<S>,
) -> T::V<S> {
    let zero = v.c(0.0);
    let one = v.c(1.0);
    let (keep, add) = params.smoothing.expect("smoothing");
    let m = row_max(v, layout, logits, vector);
    // Z, and S* = the sum without the first maximum (whose e is 1).
    let mut without_max = LaneSum::new(v);
    let mut found = zero;
    let mut first_max_index = v.c(-1.0);
    for j in 0..layout.classes {
        let x = layout.load(v, logits, vector, j);
        let (e, _, _) = shifted_exp(v, x, m);
        let first_max = v.and(v.eq(x, m), v.eq(found, zero));
        found = v.select(first_max, one, found);
        first_max_index = v.select(first_max, v.splat(T::narrow(j as f64)), first_max_index);
        without_max.add(v, v.select(first_max, zero, e));
    }
    let without_max = without_max.value(v);
    let z = v.add(without_max, one);
    let terms = SmoothedTerms {
        m,
        z,
        ln_z: v.ln(z),
        without_max,
        ln_1p_without_max: v.ln_1p(without_max),
        first_max_index,
        target_index: target,
        target_weight: v.splat(T::narrow(keep.widen() + add.widen())),
        other_weight: v.splat(add),
    };
    let mut loss = LaneSum::new(v);
    // All g ≤ 0. `Σ_{k≠j} g_k = Σ g − g_j` cancels only for the class of the most negative g
    // (when it dominates): that class's sum is formed without it.
    let (mut g_sum, mut without_largest) = (LaneSum::new(v), LaneSum::new(v));
    let (mut largest, mut largest_index) = (zero, v.c(-1.0));
    // q and p of the target class, for poly-1.
    let (mut q_t, mut p_t) = (zero, zero);
    for j in 0..layout.classes {
        let x = layout.load(v, logits, vector, j);
        let index = v.splat(T::narrow(j as f64));
        let alpha = v.splat(params.class_alpha[j]);
        let (l, g, q, p) = terms.class(v, params, index, x, alpha, params.gamma_of_class(v, j));
        loss.add(v, l);
        let is_target = v.eq(index, target);
        q_t = v.select(is_target, q, q_t);
        p_t = v.select(is_target, p, p_t);
        if let Some(grad) = grad.as_deref_mut() {
            g_sum.add(v, g);
            let larger = v.lt(g, largest);
            without_largest.add(v, v.select(larger, largest, g));
            largest = v.select(larger, g, largest);
            largest_index = v.select(larger, index, largest_index);
            layout.store(v, grad, vector, j, g);
        }
    }
    let (poly_loss, poly_slope) = match &params.poly {
        Some(poly) => {
            let u = v.fma(v.splat(poly.keep), q_t, v.splat(poly.offset));
            let u_pow_gamma = focal_factor(v, params, target_gamma, u, one);
            poly_term(v, poly, target_gamma, u_pow_gamma, u, p_t)
        }
        None => (zero, zero),
    };
    if let Some(grad) = grad {
        let (g_sum, without_largest) = (g_sum.value(v), without_largest.value(v));
        let grad_scale = v.splat(params.grad_scale);
        for j in 0..layout.classes {
            let x = layout.load(v, logits, vector, j);
            let index = v.splat(T::narrow(j as f64));
            let alpha = v.splat(params.class_alpha[j]);
            let gamma = params.gamma_of_class(v, j);
            let (_, _, q, p) = terms.class(v, params, index, x, alpha, gamma);
            let g = layout.load(v, grad, vector, j);
            // ∂L/∂x_j = g_j·q_j − p_j·Σ_{k≠j} g_k, and poly-1's `c_poly·q_t` at the target,
            // `−c_poly·p_j` elsewhere.
            let g_others = v.select(v.eq(index, largest_index), without_largest, v.sub(g_sum, g));
            let value = v.fma(g, q, v.neg(v.mul(p, g_others)));
            let value = if params.poly.is_some() {
                let is_target = v.eq(index, target);
                v.fma(poly_slope, v.select(is_target, q, v.neg(p)), value)
            } else {
                value
            };
            let value = v.mul(value, grad_scale);
            layout.store(v, grad, vector, j, v.select(active, value, zero));
        }
    }
    match params.poly {
        Some(_) => v.add(loss.value(v), poly_loss),
        None => loss.value(v),
    }
}

/// The per-row quantities of a label-smoothed row (broadcast, or one row per lane).
pub(crate) struct SmoothedTerms<V> {
    pub m: V,
    pub z: V,
    pub ln_z: V,
    pub without_max: V,
    pub ln_1p_without_max: V,
    pub first_max_index: V,
    pub target_index: V,
    pub target_weight: V,
    pub other_weight: V,
}

impl<V: Copy> SmoothedTerms<V> {
    /// For the classes `index` with logits `x` and weights `alpha`: the loss terms, the
    /// slopes `g_k`, `q_k` and `p_k`. (A method, not a closure: closures do not inherit the
    /// SIMD level's target features when they are not inlined.)
    #[allow(clippy::too_many_arguments)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn class<T: Real<V<S> = V>, S: Simd>(
        &self,
        v: Lanes<T, S>,
        params: &Params<'_, T>,
        index: V,
        x: V,
        alpha: V,
        gamma: Gamma<V>,
    ) -> (V, V, V, V) {
        let (e, d, err) = shifted_exp(v, x, self.m);
        let others = v.select(
            v.eq(index, self.first_max_index),
            self.without_max,
            v.sub(self.z, e),
        );
        let ce = v.select(
            v.eq(x, self.m),
            self.ln_1p_without_max,
            v.sub(v.sub(self.ln_z, d), err),
        );
        let q = v.div(others, self.z);
        let p = v.div(e, self.z);
        let y = v.select(
            v.eq(index, self.target_index),
            self.target_weight,
            self.other_weight,
        );
        let scale = v.mul(
            v.mul(alpha, y),
            focal_factor(v, params, gamma, others, self.z),
        );
        let g = focal_slope(v, gamma, scale, ce, q, p);
        let loss = weighted_ce(v, scale, ce, self.ln_z, x, self.m, d);
        (loss, g, q, p)
    }
}
