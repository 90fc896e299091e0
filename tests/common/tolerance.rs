//! The accuracy contract as code: how close a kernel's output must be to the scalar reference.
//!
//! One file, used by the differential tests (`tests/differential.rs`), the regression tests
//! of what the fuzzers found (`tests/fuzz_regressions.rs`) and the fuzz targets (`fuzz/`,
//! through `#[path]`), so that all of them hold the kernels to the same bounds.
//!
//! - f64: within 1e-12 of the reference (which is itself within 1e-13 of the golden values);
//! - f32: within 2e-6 of the f64 reference on the same (f32) inputs;
//! - both times `γ/8` for γ > 8: `q^γ` multiplies the relative rounding error of `q` (or the
//!   absolute error of `ln q`) by γ, and `q` is formed in the element type;
//! - relative to `max(|reference|, scale)`, where `scale` is the size of the terms that make
//!   up the value: where terms cancel, no finite-precision evaluation does better;
//! - below `tiny` (f32: 2^-100, f64: 2^-960) an absolute error of `tiny` (intermediates there
//!   can be subnormal);
//! - NaN exactly where the reference is NaN, infinities equal.

#![allow(dead_code)]

use focal_loss::{
    Reduction, SigmoidFocalOptions, SigmoidTargets, SoftmaxAlpha, SoftmaxFocalOptions,
    SoftmaxShape, reference,
};

/// `(relative tolerance, tiny)` of the contract of `f32` (`single`) or `f64` at γ.
pub fn contract(single: bool, gamma: f64) -> (f64, f64) {
    let growth = (gamma / 8.0).max(1.0);
    if single {
        (2e-6 * growth, 2f64.powi(-100))
    } else {
        (1e-12 * growth, 2f64.powi(-960))
    }
}

/// `got` is close to `want` (the reference): NaN where it is NaN, equal infinities, and
/// within `tolerance·max(|want|, scale)` otherwise, `scale` being the size of the terms.
pub fn agrees(got: f64, want: f64, tolerance: f64, scale: f64, tiny: f64) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if want.is_infinite() || got.is_infinite() {
        return got == want;
    }
    let magnitude = want.abs().max(scale);
    if magnitude < tiny {
        return (got - want).abs() <= tiny;
    }
    (got - want).abs() <= tolerance * magnitude
}

/// Every `got[i]` agrees with `want[i]` under the contract of `f32` (`single`) or `f64` at γ.
pub fn check(
    what: &str,
    got: &[f64],
    want: &[f64],
    scale: &[f64],
    single: bool,
    gamma: f64,
) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!(
            "{what}: {} values, reference {}",
            got.len(),
            want.len()
        ));
    }
    let (tolerance, tiny) = contract(single, gamma);
    for i in 0..want.len() {
        let s = scale.get(i).copied().unwrap_or(0.0);
        if !agrees(got[i], want[i], tolerance, s, tiny) {
            return Err(format!(
                "{what}[{i}]: got {:e}, reference {:e} (term scale {:e}, tolerance {:e})",
                got[i], want[i], s, tolerance
            ));
        }
    }
    Ok(())
}

/// Sizes of the terms that make up one element's gradient and Hessian (docs/MATH.md): the sums of
/// the absolute values of the terms that are added.
pub fn sigmoid_term_scales(x: f64, y: f64, gamma: f64, alpha: Option<f64>) -> (f64, f64) {
    if !x.is_finite() {
        return (0.0, 0.0);
    }
    let p = reference::sigmoid(x);
    let q_of_x = reference::sigmoid(-x);
    let q = y * q_of_x + (1.0 - y) * p;
    let alpha_t = alpha.map_or(1.0, |a| a * y + (1.0 - a) * (1.0 - y));
    let scale = alpha_t * q.powf(gamma);
    let c = y * reference::softplus(-x) + (1.0 - y) * reference::softplus(x);
    let dc = (1.0 - y) * p + y * q_of_x;
    let dl = if q > 0.0 {
        (1.0 - 2.0 * y).abs() * p * q_of_x / q
    } else {
        0.0
    };
    let d2l = if q > 0.0 {
        dl * (y * q_of_x * q_of_x + (1.0 - y) * p * p) / q
    } else {
        0.0
    };
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    (
        finite(scale * (gamma * c * dl + dc)),
        finite(
            scale
                * (gamma * gamma * c * dl * dl
                    + 2.0 * gamma * dc * dl
                    + gamma * c * d2l
                    + p * q_of_x),
        ),
    )
}

/// The per-element term scales of a whole sigmoid call (inputs as `f64`): of the gradient of
/// the returned loss (divided like it) and of the per-element Hessian, weights included.
pub fn sigmoid_scales(
    logits: &[f64],
    targets: &SigmoidTargets<'_, f64>,
    weights: Option<&[f64]>,
    options: &SigmoidFocalOptions,
) -> (Vec<f64>, Vec<f64>) {
    let call = SigmoidCall {
        reduction: options.reduction,
        normalizer: options.normalizer,
        label_smoothing: options.label_smoothing,
    };
    let [_, grad, hess] = sigmoid_call_scales(logits, targets, weights, call, |x, y, _| {
        focal_scales(x, y, options.gamma, options.alpha)
    });
    (grad, hess)
}

/// The driver's part of a sigmoid call, which every objective of the family shares.
#[derive(Clone, Copy, Debug)]
pub struct SigmoidCall {
    pub reduction: Reduction,
    pub normalizer: Option<f64>,
    pub label_smoothing: f64,
}

/// The term scales of a whole sigmoid call of any objective (inputs as `f64`), from
/// `element(x, y, class)`, the `[loss, grad, hess]` scales of one unweighted element at logit
/// `x`, smoothed target `y` and (class-index targets) column `class`: the loss's (per element
/// for [`Reduction::None`], else their sum divided like the loss), the gradient's of the
/// returned loss (divided like it) and the per-element Hessian's, weights included.
pub fn sigmoid_call_scales(
    logits: &[f64],
    targets: &SigmoidTargets<'_, f64>,
    weights: Option<&[f64]>,
    call: SigmoidCall,
    element: impl Fn(f64, f64, Option<usize>) -> [f64; 3],
) -> [Vec<f64>; 3] {
    let n = logits.len();
    let (columns, count) = match *targets {
        SigmoidTargets::Classes { targets, classes } => (
            Some(classes),
            targets.iter().filter(|&&t| t >= 0).count() * classes,
        ),
        _ => (None, n),
    };
    let divisor = match (call.reduction, call.normalizer) {
        (Reduction::Mean, Some(v)) => v,
        (Reduction::Mean, None) if count > 0 => count as f64,
        _ => 1.0,
    };
    let (mut loss, mut grad, mut hess) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for i in 0..n {
        if let Some(y) = reference::element_target(targets, i) {
            let y = reference::smooth_binary_target(y, call.label_smoothing);
            let w = weights.map_or(1.0, |w| w[i]);
            let [l, g, h] = element(logits[i], y, columns.map(|c| i % c))
                .map(|v| if v.is_finite() { v } else { 0.0 });
            loss[i] = w * l;
            grad[i] = w * g / divisor;
            hess[i] = w * h;
        }
    }
    let loss = match call.reduction {
        Reduction::None => loss,
        Reduction::Sum | Reduction::Mean => vec![loss.iter().sum::<f64>() / divisor],
    };
    [loss, grad, hess]
}

// The term scales `[loss, grad, hess]` of one unweighted element of each objective of the
// sigmoid family, at logit `x` and smoothed target `y`: where terms cancel, a result is only
// as accurate as they are large. (FL* has none that cancel: products of positive factors.)

/// The focal loss (and, with γ_k, each column of the per-class focal loss): no loss terms
/// that cancel.
pub fn focal_scales(x: f64, y: f64, gamma: f64, alpha: Option<f64>) -> [f64; 3] {
    let (grad, hess) = sigmoid_term_scales(x, y, gamma, alpha);
    [0.0, grad, hess]
}

/// `q = 1 − p_t` with `|ℓ′|` and `|ℓ″|` (`ℓ = ln q`) in plain f64.
fn q_and_slopes(x: f64, y: f64) -> (f64, f64, f64) {
    let (p, q_of_x) = (reference::sigmoid(x), reference::sigmoid(-x));
    let q = y * q_of_x + (1.0 - y) * p;
    if q == 0.0 {
        return (0.0, 0.0, 0.0);
    }
    let dl = (1.0 - 2.0 * y).abs() * p * q_of_x / q;
    let d2l = dl * (y * q_of_x * q_of_x + (1.0 - y) * p * p) / q;
    (q, dl, d2l)
}

/// Poly-1: the focal loss's scales plus the sizes of the ε terms (which cancel the focal
/// terms for ε < 0).
pub fn poly1_focal_scales(
    x: f64,
    y: f64,
    gamma: f64,
    alpha: Option<f64>,
    epsilon: f64,
) -> [f64; 3] {
    if !x.is_finite() {
        return [0.0; 3];
    }
    let focal = reference::sigmoid_focal_soft(x, y, gamma, alpha);
    let (grad, hess) = sigmoid_term_scales(x, y, gamma, alpha);
    let (q, dl, d2l) = q_and_slopes(x, y);
    let k = gamma + 1.0;
    let term = epsilon.abs() * q.powf(k);
    [
        focal.loss.abs() + term,
        grad + term * k * dl,
        hess + term * k * (k * dl * dl + d2l),
    ]
}

/// QFL. Hard targets: the focal loss's (γ = β). Soft: the terms, and what an error of `d`
/// the size of `sens = y·σ(−x) + (1−y)·σ(x)` (the terms `d` is formed from) moves them.
pub fn quality_focal_scales(x: f64, y: f64, beta: f64) -> [f64; 3] {
    let b = beta;
    if y == 0.0 || y == 1.0 {
        return focal_scales(x, y, b, None);
    }
    if !x.is_finite() {
        return [0.0; 3];
    }
    let (p, q) = (reference::sigmoid(x), reference::sigmoid(-x));
    let d = y * q - (1.0 - y) * p;
    let a = d.abs();
    let sens = y * q + (1.0 - y) * p;
    let c = y * reference::softplus(-x) + (1.0 - y) * reference::softplus(x);
    let pq = p * q;
    let power = a.powf(b);
    let (over_a, over_a2, over_a3) = (power / a, power / (a * a), power / (a * a * a));
    let loss = c * power + c * b * over_a * sens;
    let grad = a * power
        + b * c * pq * over_a
        + sens * ((b + 1.0) * power + (b - 1.0).abs() * b * c * pq * over_a2);
    let hess = (2.0 * b + 1.0) * power * pq
        + b * c * pq * over_a
        + b * (b - 1.0).abs() * c * pq * pq * over_a2
        + sens
            * (b * (2.0 * b + 1.0) * pq * over_a
                + b * (b - 1.0).abs() * c * pq * over_a2
                + b * (b - 1.0).abs() * (b - 2.0).abs() * c * pq * pq * over_a3);
    [loss, grad, hess]
}

/// VFL. Negatives: α times the focal loss's; positives: the two terms of
/// `C′ = (1−y)·P − y·Q`.
pub fn varifocal_scales(x: f64, y: f64, alpha: f64, gamma: f64) -> [f64; 3] {
    if !x.is_finite() {
        return [0.0; 3];
    }
    if y == 0.0 {
        let (grad, hess) = sigmoid_term_scales(x, 0.0, gamma, None);
        return [0.0, alpha * grad, alpha * hess];
    }
    let (p, q) = (reference::sigmoid(x), reference::sigmoid(-x));
    [0.0, y * ((1.0 - y) * p + y * q), 0.0]
}

/// `[loss, grad, hess]` of the focal loss at a label (no α), with its terms' sizes.
fn focal_half(x: f64, positive: bool, gamma: f64) -> [f64; 3] {
    let value = reference::sigmoid_focal_hard(x, positive, gamma, None);
    let y = if positive { 1.0 } else { 0.0 };
    let (grad, hess) = sigmoid_term_scales(x, y, gamma, None);
    [
        value.loss.abs(),
        value.grad.abs().max(grad),
        value.hess.abs().max(hess),
    ]
}

/// ASL: the halves' sizes mixed by the target (their gradients have opposite signs); for a
/// margin, what an error of `p_m = p − m` the size of `p + m` moves (relative to `p_m`,
/// `γ + 2` times in the gradient, `γ + 3` times in the Hessian).
pub fn asymmetric_scales(
    x: f64,
    y: f64,
    gamma_positive: f64,
    gamma_negative: f64,
    margin: f64,
) -> [f64; 3] {
    if !x.is_finite() {
        return [0.0; 3];
    }
    let positive = focal_half(x, true, gamma_positive);
    let negative = if margin == 0.0 {
        focal_half(x, false, gamma_negative)
    } else {
        let (p, q) = (reference::sigmoid(x), reference::sigmoid(-x));
        let p_m = p - margin;
        if p_m <= 0.0 {
            [0.0; 3]
        } else {
            let g = gamma_negative;
            let power = p_m.powf(g);
            let rho = -(-p_m).ln_1p();
            let (pq, s) = (p * q, q + margin);
            let k = pq / p_m;
            let rho_k = rho / p_m * pq;
            let condition = (p + margin) / p_m;
            let grad = power * (g * rho_k + pq / s);
            let hess = power
                * (g * (g - 1.0).abs() * rho_k * k + 2.0 * g * k * pq / s + (pq / s).powi(2))
                + grad * (q + p);
            [
                power * rho * (1.0 + (g + 1.0) * condition),
                grad * (1.0 + (g + 2.0) * condition),
                hess * (1.0 + (g + 3.0) * condition),
            ]
        }
    };
    core::array::from_fn(|i| y * positive[i] + (1.0 - y) * negative[i])
}

/// The reduced focal loss (hard targets): the focal loss's (γ, times th^−γ) on the reduced
/// side, cross-entropy's below.
pub fn reduced_focal_scales(
    x: f64,
    y: f64,
    gamma: f64,
    threshold: f64,
    alpha: Option<f64>,
) -> [f64; 3] {
    let z = if y == 1.0 { x } else { -x };
    let reduced = z >= (threshold / (1.0 - threshold)).ln();
    let (gamma, scale) = if reduced {
        (gamma, threshold.powf(-gamma))
    } else {
        (0.0, 1.0)
    };
    let [_, grad, hess] = focal_scales(x, y, gamma, alpha);
    [0.0, scale * grad, scale * hess]
}

/// The per-logit term scales of a softmax gradient (`logits` the inputs and `want` the
/// reference's gradient, both in the layout of the logits, as `f64`).
///
/// One-hot rows without poly-1 have no cancelling terms: the row's largest component is the
/// scale. With smoothing the gradient of a class is `g_j·q_j − p_j·Σ_{k≠j} g_k`, all
/// `g_k ≤ 0` the slopes of the classes' terms (docs/MATH.md), and poly-1 adds `c·q_t` at the
/// target and `−c·p_j` elsewhere (of either sign: ε may be negative): the scale of component
/// `j` is `|g_j|·q_j + p_j·Σ_{k≠j} |g_k|` plus poly-1's `|c|·q_t` or `|c|·p_j` (divided like
/// the gradient), the size of its own terms, not the row's — a component whose terms are
/// small must be as accurate as they are. Rows with infinite logits keep the coarse bound
/// `2·(1+γ)·Σ α_k·y_k` (and `|ε|·(2+γ)`).
pub fn softmax_grad_scales(
    logits: &[f64],
    want: &[f64],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
    divisor: f64,
) -> Vec<f64> {
    let SoftmaxShape {
        batch,
        classes,
        spatial,
    } = shape;
    let label_smoothing = options.label_smoothing;
    let class_alpha = |k: usize| match &options.alpha {
        SoftmaxAlpha::Off => 1.0,
        SoftmaxAlpha::Uniform(a) => *a,
        SoftmaxAlpha::PerClass(v) => v[k],
    };
    let class_gamma = |k: usize| options.class_gamma.as_ref().map_or(options.gamma, |g| g[k]);
    let largest_gamma = (0..classes).map(class_gamma).fold(0.0, f64::max);
    let mut scale = vec![0.0; want.len()];
    for n in 0..batch {
        for s in 0..spatial {
            let index = |j: usize| (n * classes + j) * spatial + s;
            let t = targets[n * spatial + s];
            let row_max = (0..classes)
                .map(|j| want[index(j)].abs())
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max);
            if t == options.ignore_index || (label_smoothing == 0.0 && options.epsilon == 0.0) {
                for j in 0..classes {
                    scale[index(j)] = row_max;
                }
                continue;
            }
            let t = t as usize;
            let y = |k: usize| {
                let onehot = if k == t { 1.0 - label_smoothing } else { 0.0 };
                onehot + label_smoothing / classes as f64
            };
            let x: Vec<f64> = (0..classes).map(|j| logits[index(j)]).collect();
            if x.iter().any(|v| !v.is_finite()) {
                let weights: f64 = (0..classes).map(|k| class_alpha(k) * y(k)).sum();
                let poly = options.epsilon.abs() * (2.0 + largest_gamma);
                for j in 0..classes {
                    scale[index(j)] =
                        row_max.max(2.0 * (1.0 + largest_gamma) * weights / divisor + poly);
                }
                continue;
            }
            let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = x.iter().map(|&v| (v - m).exp()).collect();
            let z: f64 = e.iter().sum();
            let (mut p, mut q, mut g) =
                (vec![0.0; classes], vec![0.0; classes], vec![0.0; classes]);
            for k in 0..classes {
                p[k] = e[k] / z;
                q[k] = (0..classes).filter(|&j| j != k).map(|j| e[j]).sum::<f64>() / z;
                let ce = z.ln() - (x[k] - m);
                let h = if q[k] > 0.0 { ce / q[k] } else { 1.0 };
                let gamma = class_gamma(k);
                let focal = if gamma == 0.0 { 1.0 } else { q[k].powf(gamma) };
                g[k] = class_alpha(k) * y(k) * focal * (1.0 + gamma * p[k] * h);
            }
            let poly_slope = if options.epsilon != 0.0 {
                let gamma = class_gamma(t);
                let keep = 1.0 - label_smoothing;
                let u = keep * q[t] + label_smoothing * (classes - 1) as f64 / classes as f64;
                options.epsilon.abs() * (gamma + 1.0) * u.powf(gamma) * keep * p[t]
            } else {
                0.0
            };
            // Σ_{k≠j} g_k as the total minus g_j, except for the largest g (where that cancels).
            let total: f64 = g.iter().sum();
            let largest = (0..classes).fold(0, |a, k| if g[k] > g[a] { k } else { a });
            let without_largest: f64 = (0..classes).filter(|&k| k != largest).map(|k| g[k]).sum();
            for j in 0..classes {
                let others = if j == largest {
                    without_largest
                } else {
                    total - g[j]
                };
                let poly = poly_slope * if j == t { q[t] } else { p[j] };
                let terms = g[j] * q[j] + p[j] * others + poly;
                scale[index(j)] = if terms.is_finite() {
                    terms / divisor
                } else {
                    0.0
                };
            }
        }
    }
    scale
}

/// Sizes of the terms of the softmax focal Hessian (one-hot targets, docs/MATH.md "Softmax
/// Hessian"): with `A = F′` and `B = F″·q²` written as sums of terms, component `j` is
/// `B·(δ_jt − p_j)²/q² − p_j·q_j·A`; its scale is `|B|ₜ·r_j² + p_j·q_j·|A|ₜ` (`r_j = 1` at
/// the target, `p_j/q_t` elsewhere), `|·|ₜ` the sum of the terms' sizes. Rows with a NaN or
/// a +∞ logit get no scale (the reference's value is the bound).
pub fn softmax_hess_scales(
    logits: &[f64],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
) -> Vec<f64> {
    let SoftmaxShape {
        batch,
        classes,
        spatial,
    } = shape;
    let mut scale = vec![0.0; logits.len()];
    for n in 0..batch {
        for s in 0..spatial {
            let index = |j: usize| (n * classes + j) * spatial + s;
            let t = targets[n * spatial + s];
            if t == options.ignore_index {
                continue;
            }
            let t = t as usize;
            let x: Vec<f64> = (0..classes).map(|j| logits[index(j)]).collect();
            let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            // −∞ logits are exponentials of 0; a NaN or an infinite maximum gets no scale.
            if !m.is_finite() || x.iter().any(|v| v.is_nan()) {
                continue;
            }
            let alpha = match &options.alpha {
                SoftmaxAlpha::Off => 1.0,
                SoftmaxAlpha::Uniform(a) => *a,
                SoftmaxAlpha::PerClass(v) => v[t],
            };
            let gamma = options.class_gamma.as_ref().map_or(options.gamma, |g| g[t]);
            let e: Vec<f64> = x.iter().map(|&v| (v - m).exp()).collect();
            let z: f64 = e.iter().sum();
            let others: f64 = (0..classes).filter(|&j| j != t).map(|j| e[j]).sum();
            let (p, q) = (e[t] / z, others / z);
            let ce = z.ln() - (x[t] - m);
            let q_pow_gamma = if gamma == 0.0 { 1.0 } else { q.powf(gamma) };
            let p_ce = if p == 0.0 { 0.0 } else { p * ce };
            let p_h = if p == 0.0 || q == 0.0 { p } else { p * ce / q };
            let poly = options.epsilon.abs() * (gamma + 1.0) * q_pow_gamma;
            let a = alpha * q_pow_gamma * (1.0 + gamma * p_h) + poly * p;
            let b = alpha
                * gamma
                * q_pow_gamma
                * (q * (2.0 * p + p_ce) + (gamma - 1.0).abs() * p * p_ce)
                + poly * p * q * (gamma * p + q);
            for j in 0..classes {
                let (r, p_j) = if j == t {
                    (1.0, p)
                } else {
                    (if others > 0.0 { e[j] / others } else { 0.0 }, e[j] / z)
                };
                let q_j = 1.0 - p_j;
                let terms = b * r * r + p_j * q_j * a;
                scale[index(j)] = if terms.is_finite() { terms } else { 0.0 };
            }
        }
    }
    scale
}

/// The term scales of a softmax loss (one per position for [`Reduction::None`], else their sum
/// divided by `divisor`, like the loss). The focal terms are ≥ 0; poly-1's `ε·u^(γ_t+1)`
/// (`u = (1 − ls)·(1 − p_t) + ls·(C − 1)/C`) is negative for ε < 0 and cancels them: the
/// scale of a position is `|focal terms| + |ε|·u^(γ_t+1)` (0 without poly-1, where nothing
/// cancels).
pub fn softmax_loss_scales(
    logits: &[f64],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
    divisor: f64,
) -> Vec<f64> {
    let SoftmaxShape {
        batch,
        classes,
        spatial,
    } = shape;
    let mut scale = vec![0.0; batch * spatial];
    if options.epsilon != 0.0 {
        let class_alpha: Vec<f64> = (0..classes)
            .map(|k| match &options.alpha {
                SoftmaxAlpha::Off => 1.0,
                SoftmaxAlpha::Uniform(a) => *a,
                SoftmaxAlpha::PerClass(v) => v[k],
            })
            .collect();
        let class_gamma = options
            .class_gamma
            .clone()
            .unwrap_or_else(|| vec![options.gamma; classes]);
        let ls = options.label_smoothing;
        for n in 0..batch {
            for s in 0..spatial {
                let t = targets[n * spatial + s];
                if t == options.ignore_index {
                    continue;
                }
                let t = t as usize;
                let row: Vec<f64> = (0..classes)
                    .map(|j| logits[(n * classes + j) * spatial + s])
                    .collect();
                let focal = reference::softmax_focal_row(
                    &row,
                    t,
                    &class_gamma,
                    &class_alpha,
                    0.0,
                    ls,
                    None,
                );
                let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = row.iter().map(|&v| (v - m).exp()).collect();
                let others: f64 = (0..classes).filter(|&j| j != t).map(|j| e[j]).sum();
                let q = others / (others + e[t]);
                let u = (1.0 - ls) * q + ls * (classes - 1) as f64 / classes as f64;
                let poly = options.epsilon.abs() * u.powf(class_gamma[t] + 1.0);
                let total = focal.abs() + poly;
                scale[n * spatial + s] = if total.is_finite() { total } else { 0.0 };
            }
        }
    }
    match options.reduction {
        Reduction::None => scale,
        Reduction::Sum | Reduction::Mean => vec![scale.iter().sum::<f64>() / divisor],
    }
}
