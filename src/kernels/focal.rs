//! Sigmoid focal loss, one element at a time: loss, gradient and Hessian from the driver's
//! `e^−|x|`, `ln(1 + e)` and `1/(1 + e)`, and for non-integer γ one more `exp`; soft targets
//! add one `ln`.
//!
//! With `a = |x|`, `e = e^−a`, `r = 1/(1+e)`: `σ(|x|) = r`, `σ(−|x|) = e·r`. For a target `y`
//! write `q = 1 − p_t = y·σ(−x) + (1−y)·σ(x) = r·w` with `w = u + v·e`, `(u, v) = (1−y, y)`
//! for `x ≥ 0` and `(y, 1−y)` otherwise: a sum of non-negative terms, and `ln q = ln w − ln(1+e)`
//! where `ln w = −a` exactly when `u = 0` (a hard target on the saturated side). The
//! soft-target formulas of `docs/MATH.md` are then evaluated in this form; at `y ∈ {0, 1}`
//! they reduce to the hard-target ones with the same bits as the hard-target path.

use super::Gamma;
use super::elementwise::{
    Element, ElementLoss, LaneClasses, Mode, RunObjective, SoftTarget, Transcendentals,
};
use super::slots::SLOTS;
use crate::simd::{Lanes, Real};
use core::marker::PhantomData;
use pulp::Simd;

/// How `q^γ` is formed: for any γ, or for a γ known to be 2 (`q·q`, no branch in the loop).
pub(crate) trait FocusingPower: Copy + Send + Sync + 'static {
    const TWO: bool;
}

/// Any γ, looked up in [`Focal`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct AnyGamma;
/// γ = 2, the default of every focal loss.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GammaTwo;

impl FocusingPower for AnyGamma {
    const TWO: bool = false;
}
impl FocusingPower for GammaTwo {
    const TWO: bool = true;
}

/// The focal loss's parameters, converted once to the element type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Focal<T, G = AnyGamma> {
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
    /// Some lane's γ (given per class) is 0 in `T`: `q^0 = 1` needs a guard against the
    /// general path's `0·ln 0 = NaN` at `q = 0`.
    pub gamma_can_be_zero: bool,
    power: PhantomData<G>,
}

impl<T: Real> Focal<T> {
    pub fn new(gamma: f64, alpha: Option<f64>) -> Self {
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
            gamma_can_be_zero: false,
            power: PhantomData,
        }
    }
}

impl<T: Real> Focal<T> {
    /// α only: for γ given per lane ([`ClassFocal`]), never by `q^γ`'s integer shortcuts.
    /// `gamma_can_be_zero`: whether some lane's γ will be 0 in `T`.
    pub fn without_gamma(alpha: Option<f64>, gamma_can_be_zero: bool) -> Self {
        Self {
            integer_gamma: None,
            gamma_can_be_zero,
            ..Self::new(0.0, alpha)
        }
    }
}

impl<T: Real, G> Focal<T, G> {
    /// γ in every lane.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn gamma_lanes<S: Simd>(&self, v: Lanes<T, S>) -> Gamma<T::V<S>> {
        Gamma {
            high: v.splat(self.gamma),
            low: v.splat(self.gamma_low),
        }
    }

    /// The same parameters with `q^γ` formed as `H` says.
    fn with_power<H>(&self) -> Focal<T, H> {
        Focal {
            gamma: self.gamma,
            gamma_low: self.gamma_low,
            integer_gamma: self.integer_gamma,
            alpha: self.alpha,
            one_minus_alpha: self.one_minus_alpha,
            alpha_positive: self.alpha_positive,
            alpha_t_can_be_zero: self.alpha_t_can_be_zero,
            gamma_can_be_zero: self.gamma_can_be_zero,
            power: PhantomData,
        }
    }
}

impl<T: Real, G: FocusingPower> ElementLoss<T> for Focal<T, G> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn hard<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: T::V<S>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        hard_element::<T, S, M, G>(v, self, x, y, t, None)
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn soft<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: SoftTarget<T::V<S>>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        soft_element::<T, S, M, G>(v, self, x, y, t, None)
    }

    /// Hard targets at γ = 2 (the default of every focal loss) get a loop without the
    /// choice of γ.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn specialize<R: RunObjective<T>>(&self, run: R) -> R::Output {
        // A constant condition alone, so that soft loops never compile the γ = 2 form.
        if R::SOFT {
            return run.run(self);
        }
        if !G::TWO && self.integer_gamma == Some(2) {
            run.run(&self.with_power::<GammaTwo>())
        } else {
            run.run(self)
        }
    }
}

/// Poly-1 focal loss (Leng et al. 2022): the focal loss plus `ε·(1 − p_t)^(γ+1)`, the same
/// element with one more product.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Poly1Focal<T, G = AnyGamma> {
    pub focal: Focal<T, G>,
    pub epsilon: T,
}

impl<T: Real, G: FocusingPower> ElementLoss<T> for Poly1Focal<T, G> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn hard<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: T::V<S>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        hard_element::<T, S, M, G>(v, &self.focal, x, y, t, Some(self.epsilon))
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn soft<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: SoftTarget<T::V<S>>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        soft_element::<T, S, M, G>(v, &self.focal, x, y, t, Some(self.epsilon))
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn specialize<R: RunObjective<T>>(&self, run: R) -> R::Output {
        if R::SOFT {
            return run.run(self);
        }
        if !G::TWO && self.focal.integer_gamma == Some(2) {
            run.run(&Poly1Focal {
                focal: self.focal.with_power::<GammaTwo>(),
                epsilon: self.epsilon,
            })
        } else {
            run.run(self)
        }
    }
}

/// Focal loss with one γ per class of a `[rows, classes]` head (class-index targets): the
/// focal element with each lane's γ looked up by its class.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClassFocal<'a, T> {
    /// α (its γ is not used).
    pub focal: Focal<T>,
    /// γ of each class rounded to `T`, and the parts that rounding lost.
    pub gamma: &'a [T],
    pub gamma_low: &'a [T],
}

impl<T: Real> ClassFocal<'_, T> {
    /// The γ of each lane's class.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn gammas<S: Simd>(&self, v: Lanes<T, S>, classes: LaneClasses) -> Gamma<T::V<S>> {
        let (mut high, mut low) = ([T::default(); SLOTS], [T::default(); SLOTS]);
        let mut class = classes.first;
        for lane in 0..v.lanes() {
            high[lane] = self.gamma[class];
            low[lane] = self.gamma_low[class];
            class += 1;
            if class == classes.classes {
                class = 0;
            }
        }
        Gamma {
            high: v.load(&high),
            low: v.load(&low),
        }
    }
}

/// Lanes without classes: only class-index targets carry per-class γ (the API refuses the
/// other forms); were they ever given, every lane would take class 0's γ.
const NO_CLASSES: LaneClasses = LaneClasses {
    first: 0,
    classes: 1,
};

impl<T: Real> ElementLoss<T> for ClassFocal<'_, T> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn hard<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: T::V<S>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        self.hard_of_classes::<S, M>(v, x, y, t, NO_CLASSES)
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn soft<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: SoftTarget<T::V<S>>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>> {
        self.soft_of_classes::<S, M>(v, x, y, t, NO_CLASSES)
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn hard_of_classes<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: T::V<S>,
        t: Transcendentals<T::V<S>>,
        classes: LaneClasses,
    ) -> Element<T::V<S>> {
        let gamma = self.gammas(v, classes);
        hard_element_with_gamma::<T, S, M, AnyGamma>(v, &self.focal, gamma, x, y, t, None)
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn soft_of_classes<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: SoftTarget<T::V<S>>,
        t: Transcendentals<T::V<S>>,
        classes: LaneClasses,
    ) -> Element<T::V<S>> {
        let gamma = self.gammas(v, classes);
        soft_element_with_gamma::<T, S, M, AnyGamma>(v, &self.focal, gamma, x, y, t, None)
    }
}

/// `q^γ` where `ln q = ln_w − l`: by multiplication for γ ∈ {0, 1, 2, 3}, else
/// `exp(γ·ln_w − γ·l)` with the exponent carried as a rounded part and its error, so that
/// `exp` sees it to better than an ulp of its result (`γ·ln_w` reaches several hundred).
#[cfg_attr(not(debug_assertions), inline(always))]
fn focal_factor<T: Real, S: Simd, G: FocusingPower>(
    v: Lanes<T, S>,
    params: &Focal<T, G>,
    gamma: Gamma<T::V<S>>,
    q: T::V<S>,
    ln_w: T::V<S>,
    l: T::V<S>,
) -> T::V<S> {
    if G::TWO {
        return v.mul(q, q);
    }
    match params.integer_gamma {
        Some(0) => v.c(1.0),
        Some(1) => q,
        Some(2) => v.mul(q, q),
        Some(3) => v.mul(v.mul(q, q), q),
        _ => {
            let Gamma {
                high: gamma,
                low: gamma_low,
            } = gamma;
            let gamma_l = v.mul(gamma, l);
            let high = v.fma(gamma, ln_w, v.neg(gamma_l));
            let rest = v.sub(v.fma(gamma, ln_w, v.neg(high)), gamma_l);
            let rest = v.sub(rest, v.fma(gamma, l, v.neg(gamma_l)));
            let low = v.fma(gamma_low, v.sub(ln_w, l), rest);
            // At x = ±∞ the exponent is −∞ and its error terms ∞ − ∞: past its clamp,
            // `exp_nonpositive` ignores the tail.
            let power = v.exp_nonpositive(high, Some(low));
            if params.gamma_can_be_zero {
                v.select(v.eq(gamma, v.c(0.0)), v.c(1.0), power)
            } else {
                power
            }
        }
    }
}

/// Hard targets `y ∈ {0, 1}` (docs/MATH.md): `s = 2y − 1`, `z = s·x`, `p_t = σ(z)`, `q = σ(−z)`,
/// `CE = softplus(−z)`; loss `α_t·q^γ·CE`, gradient `−s·α_t·q^γ·(q + γ·p_t·CE)`, Hessian
/// `α_t·q^γ·((2γ+1)·p_t·q + γ·p_t·CE·(γ·p_t − q))`.
///
/// Signs are applied as bit flips, choices between two values as bit operations or `max`
/// and `min` where both sides are equal or one is exact, and NaN logits are patched only
/// in a vector that has one: blends are the expensive operations of AVX2.
///
/// `poly`: the ε of poly-1 focal loss, whose term `ε·q^(γ+1)` adds `−s·ε·(γ+1)·q^(γ+1)·p_t`
/// to the gradient and `ε·(γ+1)·q^(γ+1)·p_t·((γ+1)·p_t − q)` to the Hessian (`None` for focal
/// loss: the branches fold away).
#[cfg_attr(not(debug_assertions), inline(always))]
pub(super) fn hard_element<T: Real, S: Simd, M: Mode, G: FocusingPower>(
    v: Lanes<T, S>,
    params: &Focal<T, G>,
    x: T::V<S>,
    y: T::V<S>,
    t: Transcendentals<T::V<S>>,
    poly: Option<T>,
) -> Element<T::V<S>> {
    hard_element_with_gamma::<T, S, M, G>(v, params, params.gamma_lanes(v), x, y, t, poly)
}

/// [`hard_element`] with a γ per lane (per-class γ; `params.integer_gamma` must then be
/// `None`).
// Matches rather than `Option::map` closures: a closure that is not inlined is compiled
// without the SIMD level's target features (see `weighted` in the driver).
#[allow(clippy::manual_map, clippy::too_many_arguments)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(super) fn hard_element_with_gamma<T: Real, S: Simd, M: Mode, G: FocusingPower>(
    v: Lanes<T, S>,
    params: &Focal<T, G>,
    gamma_lanes: Gamma<T::V<S>>,
    x: T::V<S>,
    y: T::V<S>,
    t: Transcendentals<T::V<S>>,
    poly: Option<T>,
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
    let q_pow_gamma = focal_factor::<T, S, G>(v, params, gamma_lanes, q, v.min(minus_z, zero), l);
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
    // ε·q^(γ+1), finite everywhere (q ≤ 1).
    let poly_term = match poly {
        Some(epsilon) => Some(v.mul(v.mul(v.splat(epsilon), q_pow_gamma), q)),
        None => None,
    };
    let loss = match poly_term {
        Some(term) => v.add(loss, term),
        None => loss,
    };
    let nan = v.is_nan(x);
    let has_nan = v.any(nan);
    if !M::GRAD {
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
    let gamma = if G::TWO { v.c(2.0) } else { gamma_lanes.high };
    // p_t·CE → 0 as z → −∞ (p_t = 0, CE = ∞); capping CE changes nothing else, as p_t > 0
    // only where CE is finite.
    let p_t_ce = v.mul(p_t, v.min(ce, v.c(T::MAX.widen())));
    let magnitude = v.mul(scale, v.fma(gamma, p_t_ce, q));
    // (γ+1)·ε·q^(γ+1)·p_t, the poly term's slope in z.
    let gamma_plus_one = v.add(gamma, one);
    let poly_slope = match poly_term {
        Some(term) => Some(v.mul(v.mul(gamma_plus_one, term), p_t)),
        None => None,
    };
    let magnitude = match poly_slope {
        Some(slope) => v.add(magnitude, slope),
        None => magnitude,
    };
    let grad = v.bit_xor(magnitude, positive_label);
    let hess = if M::HESS {
        let two_gamma_plus_one = v.fma(v.c(2.0), gamma, one);
        let hess = v.mul(
            scale,
            v.fma(
                v.mul(two_gamma_plus_one, p_t),
                q,
                v.mul(v.mul(gamma, p_t_ce), v.fma(gamma, p_t, v.neg(q))),
            ),
        );
        match poly_slope {
            Some(slope) => v.fma(slope, v.fma(gamma_plus_one, p_t, v.neg(q)), hess),
            None => hess,
        }
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

/// Soft targets (the module's notes): loss `α_t·q^γ·C`, gradient `α_t·q^γ·(γ·C·ℓ′ + C′)`,
/// Hessian `α_t·q^γ·(γ²·C·ℓ′² + 2γ·C′·ℓ′ + γ·C·ℓ″ + C″)`.
///
/// `poly`: poly-1's ε, whose term `ε·q^(γ+1)` adds `ε·(γ+1)·q^(γ+1)·ℓ′` to the gradient and
/// `ε·(γ+1)·q^(γ+1)·((γ+1)·ℓ′² + ℓ″)` to the Hessian.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(super) fn soft_element<T: Real, S: Simd, M: Mode, G: FocusingPower>(
    v: Lanes<T, S>,
    params: &Focal<T, G>,
    x: T::V<S>,
    target: SoftTarget<T::V<S>>,
    t: Transcendentals<T::V<S>>,
    poly: Option<T>,
) -> Element<T::V<S>> {
    soft_element_with_gamma::<T, S, M, G>(v, params, params.gamma_lanes(v), x, target, t, poly)
}

/// [`soft_element`] with a γ per lane (per-class γ; `params.integer_gamma` must then be
/// `None`).
#[allow(clippy::manual_map, clippy::too_many_arguments)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(super) fn soft_element_with_gamma<T: Real, S: Simd, M: Mode, G: FocusingPower>(
    v: Lanes<T, S>,
    params: &Focal<T, G>,
    gamma_lanes: Gamma<T::V<S>>,
    x: T::V<S>,
    target: SoftTarget<T::V<S>>,
    t: Transcendentals<T::V<S>>,
    poly: Option<T>,
) -> Element<T::V<S>> {
    let zero = v.c(0.0);
    let one = v.c(1.0);
    let SoftTarget {
        y,
        one_minus_y,
        one_minus_2y,
        ..
    } = target;
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
    let is_integer_gamma = G::TWO || params.integer_gamma.is_some();
    let q_pow_gamma = if is_integer_gamma {
        focal_factor::<T, S, G>(v, params, gamma_lanes, q, zero, l)
    } else {
        // q^γ = (w/(1+e))^γ. Where u = 0, ln w = −a exactly (w = e may underflow), and where
        // w = 1 (hard targets) it is 0: the hard-target arithmetic, with its bits. Elsewhere
        // `ln w` rounded to an ulp would put up to γ·ulp(ln w) into the exponent (4e-6 for
        // w = 2.5e-4, γ = 4 in f32): `pow_ratio` keeps the logarithms in two parts.
        let exact_ln_w = v.select(u_is_zero, v.neg(a), zero);
        let exact_side = focal_factor::<T, S, G>(v, params, gamma_lanes, q, exact_ln_w, l);
        let ratio_power = v.pow_ratio(w, v.add(one, e), gamma_lanes.high, gamma_lanes.low);
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
    let poly_term = match poly {
        Some(epsilon) => Some(v.mul(v.mul(v.splat(epsilon), q_pow_gamma), q)),
        None => None,
    };
    let loss = match poly_term {
        Some(term) => v.add(loss, term),
        None => loss,
    };
    if !M::GRAD {
        return Element {
            loss,
            grad: zero,
            hess: zero,
        };
    }
    let gamma = gamma_lanes.high;
    let dc = v.fma(one_minus_y, p, v.neg(v.mul(y, q_of_x)));
    let dl = v.mul(v.mul(one_minus_2y, ratio), r);
    let grad = v.mul(scale, v.fma(gamma, v.zero_times(c, dl), dc));
    let gamma_plus_one = v.add(gamma, one);
    let poly_slope = match poly_term {
        Some(term) => Some(v.mul(gamma_plus_one, term)),
        None => None,
    };
    let grad = match poly_slope {
        Some(slope) => v.fma(slope, dl, grad),
        None => grad,
    };
    if !M::HESS {
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
    let hess = v.mul(scale, terms);
    let hess = match poly_slope {
        Some(slope) => v.fma(slope, v.fma(v.mul(gamma_plus_one, dl), dl, d2l), hess),
        None => hess,
    };
    Element { loss, grad, hess }
}
