//! Sigmoid focal loss per element: loss, gradient and Hessian from one `exp(−|x|)`, one
//! `ln(1 + e)` and (for non-integer γ) one more `exp`; soft targets add one `ln`.
//!
//! With `a = |x|`, `e = e^−a`, `r = 1/(1+e)`: `σ(|x|) = r`, `σ(−|x|) = e·r`. For a target `y`
//! write `q = 1 − p_t = y·σ(−x) + (1−y)·σ(x) = r·w` with `w = u + v·e`, `(u, v) = (1−y, y)`
//! for `x ≥ 0` and `(y, 1−y)` otherwise: a sum of non-negative terms, and `ln q = ln w − ln(1+e)`
//! where `ln w = −a` exactly when `u = 0` (a hard target on the saturated side). The
//! soft-target formulas of `shared/MATH.md` are then evaluated in this form; at `y ∈ {0, 1}`
//! they reduce to the hard-target ones with the same bits as the hard-only kernel.

use super::slots::SLOTS;
use super::{SlotSum, lane_index};
use crate::simd::{Lanes, Real};
use pulp::{Simd, WithSimd};

/// Loss only (elementwise output optional; the sum is always returned).
pub(crate) const LOSS: u8 = 0;
/// Loss and gradient.
pub(crate) const LOSS_GRAD: u8 = 1;
/// Gradient and Hessian.
pub(crate) const GRAD_HESS: u8 = 2;

/// The targets of one chunk: one of the three sources the kernel has a loop for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Targets<'a, T> {
    Soft(SoftTargets<'a, T>),
    Labels(LabelTargets<'a>),
    Classes(ClassTargets<'a>),
}

/// The options of a call, converted once to the element type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Params<T> {
    /// γ rounded to `T`, and the part of γ that rounding lost.
    pub gamma: T,
    pub gamma_low: T,
    /// γ when it is 0, 1, 2 or 3: `q^γ` by multiplication.
    pub integer_gamma: Option<u8>,
    pub alpha: Option<T>,
    pub one_minus_alpha: T,
    /// α_t of a positive label: α, or 1 without α (`one_minus_alpha` is then 1 too).
    pub alpha_positive: T,
    /// α ∈ {0, 1}: some α_t is 0, and `0·∞` needs a guard.
    pub alpha_t_can_be_zero: bool,
    /// Label smoothing: `y·keep + add`.
    pub smoothing: Option<(T, T)>,
    /// Multiplies the gradient: `1/divisor` of the reduction.
    pub grad_scale: T,
    pub hessian_floor: Option<T>,
}

impl<T: Real> Params<T> {
    pub fn new(
        gamma: f64,
        alpha: Option<f64>,
        label_smoothing: f64,
        grad_scale: f64,
        hessian_floor: Option<f64>,
    ) -> Self {
        let gamma_t = T::narrow(gamma);
        // A γ that rounds to 0 in `T` is 0 to better than `T` can tell, except at `q = 0`,
        // where loss and derivatives are 0 either way; on the general path it would give
        // `0·ln 0 = NaN`.
        let integer_gamma = [0.0, 1.0, 2.0, 3.0]
            .iter()
            .position(|&g| g == gamma || (g == 0.0 && gamma_t.widen() == 0.0))
            .map(|g| g as u8);
        Self {
            gamma: gamma_t,
            gamma_low: T::narrow(gamma - gamma_t.widen()),
            integer_gamma,
            alpha: alpha.map(T::narrow),
            one_minus_alpha: T::narrow(1.0 - alpha.unwrap_or(0.0)),
            alpha_positive: T::narrow(alpha.unwrap_or(1.0)),
            alpha_t_can_be_zero: alpha
                .is_some_and(|a| T::narrow(a).widen() == 0.0 || T::narrow(1.0 - a).widen() == 0.0),
            smoothing: (label_smoothing > 0.0).then(|| {
                (
                    T::narrow(1.0 - label_smoothing),
                    T::narrow(label_smoothing / 2.0),
                )
            }),
            grad_scale: T::narrow(grad_scale),
            hessian_floor: hessian_floor.map(T::narrow),
        }
    }

    /// Whether the soft-target arithmetic is needed (soft targets, or smoothing).
    pub fn needs_soft(&self, targets: &Targets<'_, T>) -> bool {
        matches!(targets, Targets::Soft(_)) || self.smoothing.is_some()
    }
}

/// One chunk of a sigmoid call: inputs and the matching slices of the outputs.
pub(crate) struct Chunk<'a, T> {
    pub logits: &'a [T],
    pub targets: Targets<'a, T>,
    pub weights: Option<&'a [T]>,
    /// Per-element losses (reduction `None`).
    pub loss: Option<&'a mut [T]>,
    pub grad: Option<&'a mut [T]>,
    pub hess: Option<&'a mut [T]>,
}

/// The kernel as a pulp operation; returns the sum of the chunk's weighted losses.
pub(crate) struct Kernel<'a, 'p, T, const SOFT: bool, const MODE: u8> {
    pub chunk: Chunk<'a, T>,
    pub params: &'p Params<T>,
}

impl<T: Real, const SOFT: bool, const MODE: u8> WithSimd for Kernel<'_, '_, T, SOFT, MODE> {
    type Output = f64;

    /// Picks the loop for the kind of targets and, for hard targets, for γ = 2 (the default
    /// of every focal loss) once, so that the loop itself has no branches on them. Each loop
    /// is its own function at the level's target features (`vectorize`), not inlined here.
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        // Soft targets spend little of their time on the choice of γ: one loop for any γ
        // keeps the number of compiled loops (and the build time) down.
        let gamma_two = !SOFT && self.params.integer_gamma == Some(2);
        let Kernel { chunk, params } = self;
        macro_rules! run {
            ($targets:expr) => {
                if gamma_two {
                    simd.vectorize(Loop::<T, _, SOFT, MODE, GAMMA_TWO> {
                        chunk,
                        params,
                        targets: $targets,
                    })
                } else {
                    simd.vectorize(Loop::<T, _, SOFT, MODE, GAMMA_ANY> {
                        chunk,
                        params,
                        targets: $targets,
                    })
                }
            };
        }
        match chunk.targets {
            // Soft targets always take the soft kernel (`Params::needs_soft`).
            Targets::Soft(y) if SOFT => run!(y),
            Targets::Soft(_) => unreachable!("soft targets need the soft-target kernel"),
            Targets::Labels(labels) => run!(labels),
            Targets::Classes(classes) => run!(classes),
        }
    }
}

/// γ known to be 2 (`q^γ = q·q`, no branch in the loop).
const GAMMA_TWO: u8 = 2;
/// Any γ, looked up in [`Params`].
const GAMMA_ANY: u8 = u8::MAX;

/// The loop over a chunk for one kind of targets and γ; returns the sum of the chunk's
/// weighted losses.
struct Loop<'a, 'p, T, Y, const SOFT: bool, const MODE: u8, const GAMMA: u8> {
    chunk: Chunk<'a, T>,
    params: &'p Params<T>,
    targets: Y,
}

impl<T: Real, Y: TargetSource<T>, const SOFT: bool, const MODE: u8, const GAMMA: u8> WithSimd
    for Loop<'_, '_, T, Y, SOFT, MODE, GAMMA>
{
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        let Loop {
            chunk,
            params,
            targets,
        } = self;
        run::<T, S, Y, SOFT, MODE, GAMMA>(simd, chunk, params, targets)
    }
}

#[inline(always)]
fn run<T: Real, S: Simd, Y: TargetSource<T>, const SOFT: bool, const MODE: u8, const GAMMA: u8>(
    simd: S,
    chunk: Chunk<'_, T>,
    params: &Params<T>,
    targets: Y,
) -> f64 {
    let v = Lanes::<T, S>::new(simd);
    let lanes = v.lanes();
    let Chunk {
        logits,
        weights,
        loss,
        grad,
        hess,
        ..
    } = chunk;
    let mut outputs = Outputs { loss, grad, hess };
    let n = logits.len();
    let mut sum = SlotSum::<T, S>::new(v);
    // Whole vectors, two at a time, software-pipelined. A vector's work is one long
    // dependency chain (about 100 cycles: exp, then the division, then the gradient), and
    // the CPU's scheduler holds too few waiting instructions to overlap enough of them by
    // itself; started a step or two earlier in program order, each stage finds its inputs
    // ready. A multiple of the block, so that the masked remainder starts on a block
    // boundary.
    let step = 2 * lanes;
    let fast_end = n - n % step.max(SLOTS);
    if fast_end > 0 {
        // Three stages: exponentials two steps ahead, their logarithms and reciprocals one
        // step ahead, the rest now. (The last steps recompute their own pairs: no branch.)
        let last = fast_end - step;
        let (e0, e1) = exponentials_of_pair::<T, S, SOFT>(v, logits, 0);
        let mut t0 = transcendentals_of_exponential(v, e0);
        let mut t1 = transcendentals_of_exponential(v, e1);
        let (mut next_e0, mut next_e1) =
            exponentials_of_pair::<T, S, SOFT>(v, logits, step.min(last));
        for start in (0..fast_end).step_by(step) {
            let (after_e0, after_e1) =
                exponentials_of_pair::<T, S, SOFT>(v, logits, (start + 2 * step).min(last));
            let next_t0 = transcendentals_of_exponential(v, next_e0);
            let next_t1 = transcendentals_of_exponential(v, next_e1);
            let second = start + lanes;
            // Loaded again rather than kept from the previous step: AVX2 has 16 registers.
            let x0 = v.load(&logits[start..second]);
            let x1 = v.load(&logits[second..second + lanes]);
            let (y0, active0) = targets.load(v, start, lanes, None);
            let (y1, active1) = targets.load(v, second, lanes, None);
            let d0 = element::<T, S, SOFT, MODE, GAMMA>(v, params, x0, y0, t0);
            let d1 = element::<T, S, SOFT, MODE, GAMMA>(v, params, x1, y1, t1);
            let w0 = load_weights(v, weights, start, lanes);
            let w1 = load_weights(v, weights, second, lanes);
            let group0 = (start % SLOTS) / lanes;
            let group1 = (second % SLOTS) / lanes;
            finish(
                v,
                params,
                d0,
                active0,
                w0,
                group0,
                start,
                lanes,
                &mut outputs,
                &mut sum,
            );
            finish(
                v,
                params,
                d1,
                active1,
                w1,
                group1,
                second,
                lanes,
                &mut outputs,
                &mut sum,
            );
            (t0, t1) = (next_t0, next_t1);
            (next_e0, next_e1) = (after_e0, after_e1);
        }
    }
    let lane_index = lane_index(v);
    for block in (fast_end..n).step_by(SLOTS) {
        // Every group of the block runs, also past the end (as zeros), so that each slot
        // of the sum sees the same additions at every vector width.
        for group in 0..SLOTS / lanes {
            let start = (block + group * lanes).min(n);
            let len = (n - start).min(lanes);
            let in_range = v.lt(lane_index, v.splat(T::narrow(len as f64)));
            let (y, active) = targets.load(v, start, len, Some(in_range));
            let x = v.load(&logits[start..start + len]);
            let weight = load_weights(v, weights, start, len);
            let t = transcendentals::<T, S, SOFT>(v, x);
            let d = element::<T, S, SOFT, MODE, GAMMA>(v, params, x, y, t);
            finish(
                v,
                params,
                d,
                active,
                weight,
                group,
                start,
                len,
                &mut outputs,
                &mut sum,
            );
        }
    }
    sum.total(v)
}

/// `value` in the active lanes, 0 in the others (padding, ignored elements).
#[inline(always)]
fn only_active<T: Real, S: Simd>(
    v: Lanes<T, S>,
    active: Option<T::M<S>>,
    value: T::V<S>,
) -> T::V<S> {
    match active {
        Some(active) => v.select(active, value, v.c(0.0)),
        None => value,
    }
}

/// The weights of lanes `start .. start + len`, if any.
#[inline(always)]
fn load_weights<T: Real, S: Simd>(
    v: Lanes<T, S>,
    weights: Option<&[T]>,
    start: usize,
    len: usize,
) -> Option<T::V<S>> {
    match weights {
        Some(w) => Some(v.load(&w[start..start + len])),
        None => None,
    }
}

/// The optional outputs of a chunk.
struct Outputs<'a, T> {
    loss: Option<&'a mut [T]>,
    grad: Option<&'a mut [T]>,
    hess: Option<&'a mut [T]>,
}

/// Weights, masks, sums and stores the results of the `len` lanes at `start`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn finish<T: Real, S: Simd>(
    v: Lanes<T, S>,
    params: &Params<T>,
    d: Element<T::V<S>>,
    active: Option<T::M<S>>,
    weight: Option<T::V<S>>,
    group: usize,
    start: usize,
    len: usize,
    outputs: &mut Outputs<'_, T>,
    sum: &mut SlotSum<T, S>,
) {
    let end = start + len;
    let element_loss = only_active(v, active, weighted(v, weight, d.loss));
    sum.add(v, group, element_loss);
    if let Some(out) = outputs.loss.as_deref_mut() {
        v.store(&mut out[start..end], element_loss);
    }
    if let Some(out) = outputs.grad.as_deref_mut() {
        let g = v.mul(weighted(v, weight, d.grad), v.splat(params.grad_scale));
        v.store(&mut out[start..end], only_active(v, active, g));
    }
    if let Some(out) = outputs.hess.as_deref_mut() {
        let h = match params.hessian_floor {
            // Comparisons with NaN are false: NaN stays NaN.
            Some(floor) => {
                let floor = v.splat(floor);
                v.select(v.lt(d.hess, floor), floor, d.hess)
            }
            None => d.hess,
        };
        v.store(
            &mut out[start..end],
            only_active(v, active, weighted(v, weight, h)),
        );
    }
}

/// `weight·value` (0 where the weight is 0, even for an infinite value), or `value`.
/// (Functions, not closures, in the kernels: a closure that is not inlined is compiled
/// without the SIMD level's target features, and every vector operation in it becomes a call.)
#[inline(always)]
fn weighted<T: Real, S: Simd>(v: Lanes<T, S>, weight: Option<T::V<S>>, value: T::V<S>) -> T::V<S> {
    match weight {
        Some(w) => v.zero_times(w, value),
        None => value,
    }
}

/// Where a chunk's targets come from. `load` gives the targets of lanes
/// `start .. start + len` and which lanes count (in range and not ignored; `None`: all).
trait TargetSource<T: Real>: Copy {
    fn load<S: Simd>(
        self,
        v: Lanes<T, S>,
        start: usize,
        len: usize,
        in_range: Option<T::M<S>>,
    ) -> (T::V<S>, Option<T::M<S>>);
}

/// Soft targets `y ∈ [0, 1]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SoftTargets<'a, T>(pub &'a [T]);

impl<T: Real> TargetSource<T> for SoftTargets<'_, T> {
    #[inline(always)]
    fn load<S: Simd>(
        self,
        v: Lanes<T, S>,
        start: usize,
        len: usize,
        in_range: Option<T::M<S>>,
    ) -> (T::V<S>, Option<T::M<S>>) {
        (v.load(&self.0[start..start + len]), in_range)
    }
}

/// Hard labels, one byte each.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LabelTargets<'a>(pub &'a [u8]);

impl<T: Real> TargetSource<T> for LabelTargets<'_> {
    #[inline(always)]
    fn load<S: Simd>(
        self,
        v: Lanes<T, S>,
        start: usize,
        len: usize,
        in_range: Option<T::M<S>>,
    ) -> (T::V<S>, Option<T::M<S>>) {
        let mut y = [T::default(); SLOTS];
        let lanes = v.lanes();
        if len == lanes {
            // A fixed trip count: the compiler widens the bytes with vector instructions.
            for (out, &label) in y[..lanes].iter_mut().zip(&self.0[start..start + lanes]) {
                *out = T::from_u8(label);
            }
        } else {
            for (out, &label) in y.iter_mut().zip(&self.0[start..start + len]) {
                *out = T::from_u8(label);
            }
        }
        (v.load(&y), in_range)
    }
}

/// Class-index targets of a `[rows, classes]` head; `first` is the index of the chunk's
/// first element in the whole head.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClassTargets<'a> {
    pub targets: &'a [i32],
    pub classes: usize,
    pub first: usize,
}

impl<T: Real> TargetSource<T> for ClassTargets<'_> {
    #[inline(always)]
    fn load<S: Simd>(
        self,
        v: Lanes<T, S>,
        start: usize,
        len: usize,
        in_range: Option<T::M<S>>,
    ) -> (T::V<S>, Option<T::M<S>>) {
        let mut y = [T::default(); SLOTS];
        let mut counted = [T::default(); SLOTS];
        let element = self.first + start;
        let (mut row, mut class) = (element / self.classes, element % self.classes);
        for j in 0..len {
            let target = self.targets[row];
            if target >= 0 {
                counted[j] = T::narrow(1.0);
                if target as usize == class {
                    y[j] = T::narrow(1.0);
                }
            }
            class += 1;
            if class == self.classes {
                class = 0;
                row += 1;
            }
        }
        let counted = v.eq(v.load(&counted), v.c(1.0));
        let active = match in_range {
            Some(in_range) => v.and(in_range, counted),
            None => counted,
        };
        (v.load(&y), Some(active))
    }
}

/// `q^γ` where `ln q = ln_w − l`: by multiplication for γ ∈ {0, 1, 2, 3}, else
/// `exp(γ·ln_w − γ·l)` with the exponent carried as a rounded part and its error, so that
/// `exp` sees it to better than an ulp of its result (`γ·ln_w` reaches several hundred).
#[inline(always)]
fn focal_factor<T: Real, S: Simd, const GAMMA: u8>(
    v: Lanes<T, S>,
    params: &Params<T>,
    q: T::V<S>,
    ln_w: T::V<S>,
    l: T::V<S>,
) -> T::V<S> {
    if GAMMA == GAMMA_TWO {
        return v.mul(q, q);
    }
    match params.integer_gamma {
        Some(0) => v.c(1.0),
        Some(1) => q,
        Some(2) => v.mul(q, q),
        Some(3) => v.mul(v.mul(q, q), q),
        _ => {
            let gamma = v.splat(params.gamma);
            let gamma_l = v.mul(gamma, l);
            let high = v.fma(gamma, ln_w, v.neg(gamma_l));
            let rest = v.sub(v.fma(gamma, ln_w, v.neg(high)), gamma_l);
            let rest = v.sub(rest, v.fma(gamma, l, v.neg(gamma_l)));
            let low = v.fma(v.splat(params.gamma_low), v.sub(ln_w, l), rest);
            // At x = ±∞ the exponent is −∞ and its error terms ∞ − ∞: past its clamp,
            // `exp_nonpositive` ignores the tail.
            v.exp_nonpositive(high, Some(low))
        }
    }
}

/// Hard targets `y ∈ {0, 1}` (MATH.md): `s = 2y − 1`, `z = s·x`, `p_t = σ(z)`, `q = σ(−z)`,
/// `CE = softplus(−z)`; loss `α_t·q^γ·CE`, gradient `−s·α_t·q^γ·(q + γ·p_t·CE)`, Hessian
/// `α_t·q^γ·((2γ+1)·p_t·q + γ·p_t·CE·(γ·p_t − q))`.
///
/// Signs are applied as bit flips, choices between two values as bit operations or `max`
/// and `min` where both sides are equal or one is exact, and NaN logits are patched only
/// in a vector that has one: blends are the expensive operations of AVX2.
#[inline(always)]
fn hard_element<T: Real, S: Simd, const MODE: u8, const GAMMA: u8>(
    v: Lanes<T, S>,
    params: &Params<T>,
    x: T::V<S>,
    y: T::V<S>,
    t: Transcendentals<T::V<S>>,
) -> Element<T::V<S>> {
    let zero = v.c(0.0);
    let one = v.c(1.0);
    let sign = v.c(-0.0);
    // y − 1/2 is negative exactly for y = 0: the sign bit of s, and its opposite.
    let negative_label = v.bit_and(v.sub(y, v.c(0.5)), sign);
    let positive_label = v.bit_xor(negative_label, sign);
    let z = v.bit_xor(x, negative_label);
    let minus_z = v.bit_xor(x, positive_label);
    // NaN logits lose their NaN on the way (clamps by max/min); they are patched below.
    let Transcendentals { e, l, r } = t;
    let e_r = v.mul(e, r);
    // σ(z) and σ(−z) are r and e·r for z ≥ 0, the other way round below.
    let (p_t, q) = v.swap_where(v.lt(z, zero), r, e_r);
    // A −0 from `max` disappears in the sum: l ≥ +0.
    let ce = v.add(v.max(minus_z, zero), l);
    let q_pow_gamma = focal_factor::<T, S, GAMMA>(v, params, q, v.min(minus_z, zero), l);
    // Without α both weights are 1 (an exact product): no branch in the loop, where a
    // branch cost AVX-512 a shuffle of registers at its join.
    let alpha_t = v.select(
        v.eq(y, one),
        v.splat(params.alpha_positive),
        v.splat(params.one_minus_alpha),
    );
    let scale = v.mul(alpha_t, q_pow_gamma);
    // CE is infinite only at z = −∞, where q^γ = 1: scale is 0 there only through α_t = 0.
    let loss = v.mul(scale, ce);
    let loss = if params.alpha_t_can_be_zero {
        v.select(v.eq(scale, zero), zero, loss)
    } else {
        loss
    };
    let nan = v.is_nan(x);
    let has_nan = v.any(nan);
    if MODE == LOSS {
        return Element {
            loss: if has_nan {
                v.select(nan, x, loss)
            } else {
                loss
            },
            grad: zero,
            hess: zero,
        };
    }
    let gamma = if GAMMA == GAMMA_TWO {
        v.c(2.0)
    } else {
        v.splat(params.gamma)
    };
    // p_t·CE → 0 as z → −∞ (p_t = 0, CE = ∞); capping CE changes nothing else, as p_t > 0
    // only where CE is finite.
    let p_t_ce = v.mul(p_t, v.min(ce, v.c(T::MAX.widen())));
    let magnitude = v.mul(scale, v.fma(gamma, p_t_ce, q));
    let grad = v.bit_xor(magnitude, positive_label);
    let hess = if MODE == GRAD_HESS {
        let two_gamma_plus_one = v.fma(v.c(2.0), gamma, one);
        v.mul(
            scale,
            v.fma(
                v.mul(two_gamma_plus_one, p_t),
                q,
                v.mul(v.mul(gamma, p_t_ce), v.fma(gamma, p_t, v.neg(q))),
            ),
        )
    } else {
        zero
    };
    if has_nan {
        Element {
            loss: v.select(nan, x, loss),
            grad: v.select(nan, x, grad),
            hess: v.select(nan, x, hess),
        }
    } else {
        Element { loss, grad, hess }
    }
}

/// What the sigmoid losses compute of a logit alone: `e = e^−|x|`, `l = ln(1 + e)` and
/// `r = 1/(1 + e)`, the long-latency first half of an element (see `run`).
#[derive(Clone, Copy)]
struct Transcendentals<V> {
    e: V,
    l: V,
    r: V,
}

/// `e^−|x|`. For hard targets it is finite for a NaN `x` (the hard kernel patches NaN
/// lanes itself, and a `max` clamp is cheaper than a blend); soft targets keep the NaN.
#[inline(always)]
fn exponential<T: Real, S: Simd, const SOFT: bool>(v: Lanes<T, S>, x: T::V<S>) -> T::V<S> {
    let minus_abs_x = v.bit_or(x, v.c(-0.0));
    if SOFT {
        v.exp_nonpositive(minus_abs_x, None)
    } else {
        v.exp_nonpositive_not_nan(minus_abs_x)
    }
}

/// The [`exponential`]s of the two vectors at `start`.
#[inline(always)]
fn exponentials_of_pair<T: Real, S: Simd, const SOFT: bool>(
    v: Lanes<T, S>,
    logits: &[T],
    start: usize,
) -> (T::V<S>, T::V<S>) {
    let lanes = v.lanes();
    let second = start + lanes;
    (
        exponential::<T, S, SOFT>(v, v.load(&logits[start..second])),
        exponential::<T, S, SOFT>(v, v.load(&logits[second..second + lanes])),
    )
}

/// The [`Transcendentals`] of `e = e^−|x|`.
#[inline(always)]
fn transcendentals_of_exponential<T: Real, S: Simd>(
    v: Lanes<T, S>,
    e: T::V<S>,
) -> Transcendentals<T::V<S>> {
    let (l, r) = v.ln_1p_unit_and_reciprocal(e);
    Transcendentals { e, l, r }
}

/// The [`Transcendentals`] of `x`.
#[inline(always)]
fn transcendentals<T: Real, S: Simd, const SOFT: bool>(
    v: Lanes<T, S>,
    x: T::V<S>,
) -> Transcendentals<T::V<S>> {
    transcendentals_of_exponential(v, exponential::<T, S, SOFT>(v, x))
}

/// The loss and its derivatives for one vector of elements (unweighted, unscaled).
#[derive(Clone, Copy)]
struct Element<V> {
    loss: V,
    grad: V,
    hess: V,
}

#[inline(always)]
fn element<T: Real, S: Simd, const SOFT: bool, const MODE: u8, const GAMMA: u8>(
    v: Lanes<T, S>,
    params: &Params<T>,
    x: T::V<S>,
    y: T::V<S>,
    t: Transcendentals<T::V<S>>,
) -> Element<T::V<S>> {
    if !SOFT {
        return hard_element::<T, S, MODE, GAMMA>(v, params, x, y, t);
    }
    let zero = v.c(0.0);
    let one = v.c(1.0);
    // Smoothing maps y and 1 − y alike (y·keep + add); forming 1 − y after smoothing
    // would cancel near y = 1.
    // Likewise 1 − 2y = (1 − 2y_raw)·keep: it cancels near y = 1/2.
    let one_minus_y = v.sub(one, y);
    let one_minus_2y = v.fma(v.c(-2.0), y, one);
    let (y, one_minus_y, one_minus_2y) = match params.smoothing {
        Some((keep, add)) if SOFT => {
            let (keep, add) = (v.splat(keep), v.splat(add));
            (
                v.fma(y, keep, add),
                v.fma(one_minus_y, keep, add),
                v.mul(one_minus_2y, keep),
            )
        }
        _ => (y, one_minus_y, one_minus_2y),
    };
    let a = v.abs(x);
    let Transcendentals { e, l, r } = t;
    let e_r = v.mul(e, r);
    let positive = v.ge(x, zero);
    let p = v.select(positive, r, e_r); // σ(x)
    let q_of_x = v.select(positive, e_r, r); // σ(−x)
    let u = v.select(positive, one_minus_y, y);
    let u_is_zero = v.eq(u, zero);
    let w = v.fma(v.select(positive, y, one_minus_y), e, u);
    let q = v.mul(r, w);
    // e/w, the factor of P·Q/q = e·r/w; w is 1 or e for hard targets.
    let ratio = v.select(v.eq(w, zero), one, v.div(e, w));
    let is_integer_gamma = GAMMA == GAMMA_TWO || params.integer_gamma.is_some();
    let q_pow_gamma = if is_integer_gamma {
        focal_factor::<T, S, GAMMA>(v, params, q, zero, l)
    } else {
        // q^γ = (w/(1+e))^γ. Where u = 0, ln w = −a exactly (w = e may underflow), and where
        // w = 1 (hard targets) it is 0: the hard kernel's arithmetic, with its bits. Elsewhere
        // `ln w` rounded to an ulp would put up to γ·ulp(ln w) into the exponent (4e-6 for
        // w = 2.5e-4, γ = 4 in f32): `pow_ratio` keeps the logarithms in two parts.
        let exact_ln_w = v.select(u_is_zero, v.neg(a), zero);
        let exact_side = focal_factor::<T, S, GAMMA>(v, params, q, exact_ln_w, l);
        let ratio_power = v.pow_ratio(
            w,
            v.add(one, e),
            v.splat(params.gamma),
            v.splat(params.gamma_low),
        );
        v.select(v.or(u_is_zero, v.eq(w, one)), exact_side, ratio_power)
    };
    let alpha_t = match params.alpha {
        Some(alpha) => v.fma(
            v.splat(alpha),
            y,
            v.mul(v.splat(params.one_minus_alpha), one_minus_y),
        ),
        None => one,
    };
    let scale = v.mul(alpha_t, q_pow_gamma);
    let softplus_x = v.add(v.positive_part(x), l);
    let softplus_neg_x = v.add(v.positive_part(v.neg(x)), l);
    let c = v.add(
        v.zero_times(y, softplus_neg_x),
        v.zero_times(one_minus_y, softplus_x),
    );
    // C is infinite only at an infinite logit; where q > 0 and α_t > 0 the loss is +∞ there
    // even when q^γ underflows (a tiny soft target), not 0·∞.
    let loss = v.select(
        v.and(
            v.eq(c, v.c(f64::INFINITY)),
            v.and(v.gt(alpha_t, zero), v.gt(q, zero)),
        ),
        c,
        v.zero_times(scale, c),
    );
    if MODE == LOSS {
        return Element {
            loss,
            grad: zero,
            hess: zero,
        };
    }
    let gamma = v.splat(params.gamma);
    let dc = v.fma(one_minus_y, p, v.neg(v.mul(y, q_of_x)));
    let dl = v.mul(v.mul(one_minus_2y, ratio), r);
    let grad = v.mul(scale, v.fma(gamma, v.zero_times(c, dl), dc));
    if MODE == LOSS_GRAD {
        return Element {
            loss,
            grad,
            hess: zero,
        };
    }
    let d2c = v.mul(p, q_of_x);
    let curvature = v.sub(
        v.mul(v.mul(y, q_of_x), q_of_x),
        v.mul(v.mul(one_minus_y, p), p),
    );
    let d2l = v.select(
        v.eq(q, zero),
        zero,
        v.div(v.mul(v.mul(one_minus_2y, v.mul(ratio, r)), curvature), q),
    );
    let terms = v.add(
        v.add(
            v.mul(v.mul(gamma, gamma), v.zero_times(c, v.mul(dl, dl))),
            v.mul(v.mul(v.c(2.0), gamma), v.mul(dc, dl)),
        ),
        v.add(v.mul(gamma, v.zero_times(c, d2l)), d2c),
    );
    Element {
        loss,
        grad,
        hess: v.mul(scale, terms),
    }
}
