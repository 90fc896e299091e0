//! Softmax focal loss in `f64`, one row (one position) at a time.

use super::divisor;
use super::math::{CompensatedSum, exact_difference, zero_times};
use crate::{Float, Reduction, SoftmaxAlpha, SoftmaxFocalOptions, SoftmaxShape};

/// The largest logit of a row; NaN when any logit is NaN (`f64::max` would skip it).
fn row_max(logits: &[f64]) -> f64 {
    logits.iter().fold(f64::NEG_INFINITY, |m, &x| {
        if x.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(x)
        }
    })
}

/// What the row's softmax says about one class.
struct ClassTerms {
    /// `p_k`.
    p: f64,
    /// `1 − p_k`, formed as `Σ_{j≠k} e_j / Z` (no cancellation).
    q: f64,
    /// `Σ_{j≠k} e_j`.
    others: f64,
    /// `−ln p_k`.
    ce: f64,
    /// `(ln Z, m/2 − x_k/2)` where `x_k − m` overflowed although both are finite: CE is
    /// then beyond `f64`, but a small weight times it need not be.
    overflow: Option<(f64, f64)>,
}

impl ClassTerms {
    /// `scale · CE`, with `0·∞ = 0`; where `x_k − m` overflowed, formed as
    /// `scale·ln Z + 2·scale·(m/2 − x_k/2)`.
    fn weighted_ce(&self, scale: f64) -> f64 {
        match self.overflow {
            Some((ln_z, half_gap)) if scale > 0.0 && scale.is_finite() => {
                scale * ln_z + 2.0 * (scale * half_gap)
            }
            _ => zero_times(scale, self.ce),
        }
    }

    /// `CE / q`, with its limit 1 where `q = 0`.
    fn ce_over_q(&self) -> f64 {
        if self.q == 0.0 { 1.0 } else { self.ce / self.q }
    }
}

/// The exponentials `e_j = exp(x_j − m)` of a row, with the exact low part of each difference.
struct ShiftedRow {
    logits: Vec<f64>,
    max: f64,
    /// `x_j − m` rounded, and its rounding error.
    differences: Vec<(f64, f64)>,
    exponentials: Vec<f64>,
    total: f64,
}

impl ShiftedRow {
    fn new(logits: &[f64]) -> Self {
        let m = row_max(logits);
        let mut differences = Vec::with_capacity(logits.len());
        let mut exponentials = Vec::with_capacity(logits.len());
        let mut total = CompensatedSum::default();
        for &x in logits {
            // x == m also covers infinite maxima: the limit shares p among the equal logits.
            let (d, err) = if x == m {
                (0.0, 0.0)
            } else {
                exact_difference(x, m)
            };
            let e = d.exp();
            let e = e.mul_add(err, e);
            differences.push((d, err));
            exponentials.push(e);
            total.add(e);
        }
        Self {
            logits: logits.to_vec(),
            max: m,
            differences,
            exponentials,
            total: total.value(),
        }
    }

    fn class(&self, k: usize) -> ClassTerms {
        let mut others = CompensatedSum::default();
        for (j, &e) in self.exponentials.iter().enumerate() {
            if j != k {
                others.add(e);
            }
        }
        let others = others.value();
        let (d, err) = self.differences[k];
        let ln_p = if d == 0.0 && err == 0.0 {
            // x_k is the maximum: Z = 1 + Σ_{j≠k} e_j.
            -others.ln_1p()
        } else {
            (d - self.total.ln()) + err
        };
        let x = self.logits[k];
        let overflow = (d == f64::NEG_INFINITY && x.is_finite() && self.max.is_finite())
            .then(|| (self.total.ln(), self.max / 2.0 - x / 2.0));
        ClassTerms {
            p: self.exponentials[k] / self.total,
            q: others / self.total,
            others,
            ce: -ln_p,
            overflow,
        }
    }
}

/// `q^γ` with `0^0 = 1`.
fn focal_factor(q: f64, gamma: f64) -> f64 {
    if gamma == 0.0 { 1.0 } else { q.powf(gamma) }
}

/// Softmax focal loss of one row of logits with target class `target`.
///
/// `class_gamma[k]` and `class_alpha[k]` are the γ_k and α_k of class k (all equal without
/// per-class values; all ones when α is off). With label smoothing `ls` the target
/// distribution is `y_k = onehot·(1 − ls) + ls/C` and the loss is
/// `Σ_k α_k·y_k·(1−p_k)^γ_k·(−ln p_k)`; poly-1's `epsilon` adds `ε·u^(γ_t+1)` with
/// `u = 1 − Σ_k y_k·p_k = (1 − ls)·(1 − p_t) + ls·(C − 1)/C`. When `grad` is given, the
/// gradient with respect to each logit is written into it.
///
/// ```
/// use focal_loss::reference::softmax_focal_row;
/// let mut grad = [0.0; 2];
/// // Two equal logits, γ = 0: cross-entropy ln 2, gradient p − onehot.
/// let loss = softmax_focal_row(&[1.0, 1.0], 0, &[0.0, 0.0], &[1.0, 1.0], 0.0, 0.0,
///                              Some(&mut grad));
/// assert!((loss - std::f64::consts::LN_2).abs() < 1e-16);
/// assert_eq!(grad, [-0.5, 0.5]);
/// ```
pub fn softmax_focal_row(
    logits: &[f64],
    target: usize,
    class_gamma: &[f64],
    class_alpha: &[f64],
    epsilon: f64,
    label_smoothing: f64,
    grad: Option<&mut [f64]>,
) -> f64 {
    let row = ShiftedRow::new(logits);
    let classes = logits.len();
    let smooth = label_smoothing / classes as f64;
    let t = row.class(target);
    // Poly-1's term and its slope through p_t (as g_k below for the class terms).
    let (poly_loss, poly_slope) = if epsilon != 0.0 {
        let gamma = class_gamma[target];
        let keep = 1.0 - label_smoothing;
        let u = keep * t.q + label_smoothing * (classes - 1) as f64 / classes as f64;
        let u_pow_gamma = focal_factor(u, gamma);
        (
            epsilon * u_pow_gamma * u,
            -epsilon * (gamma + 1.0) * u_pow_gamma * keep * t.p,
        )
    } else {
        (0.0, 0.0)
    };
    // Poly-1's part of ∂L/∂x_j: `c·q_t` at the target, `−c·p_j` elsewhere.
    let poly_grad = |j: usize, p_j: f64| {
        if j == target {
            poly_slope * t.q
        } else {
            -poly_slope * p_j
        }
    };
    if label_smoothing == 0.0 {
        let gamma = class_gamma[target];
        let scale = class_alpha[target] * focal_factor(t.q, gamma);
        if let Some(grad) = grad {
            let c = -scale * (1.0 + gamma * zero_times(t.p, t.ce_over_q()));
            for (j, g) in grad.iter_mut().enumerate() {
                let p_j = row.exponentials[j] / row.total;
                let focal = if j == target { c * t.q } else { -c * p_j };
                *g = focal + poly_grad(j, p_j);
            }
        }
        let loss = t.weighted_ce(scale);
        return if epsilon != 0.0 {
            loss + poly_loss
        } else {
            loss
        };
    }

    let terms: Vec<ClassTerms> = (0..classes).map(|k| row.class(k)).collect();
    let mut loss = CompensatedSum::default();
    // g_k = w_k · f′(p_k) · p_k, the derivative of the class-k term through p_k.
    let mut g = Vec::with_capacity(classes);
    for (k, t) in terms.iter().enumerate() {
        let y = if k == target {
            (1.0 - label_smoothing) + smooth
        } else {
            smooth
        };
        let gamma = class_gamma[k];
        let scale = class_alpha[k] * y * focal_factor(t.q, gamma);
        loss.add(t.weighted_ce(scale));
        g.push(-scale * (1.0 + gamma * zero_times(t.p, t.ce_over_q())));
    }
    if epsilon != 0.0 {
        loss.add(poly_loss);
    }
    if let Some(grad) = grad {
        for (j, out) in grad.iter_mut().enumerate() {
            // ∂L/∂x_j = g_j − p_j·Σ_k g_k = g_j·q_j − p_j·Σ_{k≠j} g_k (no 1 − p_j).
            let mut others = CompensatedSum::default();
            for (k, &gk) in g.iter().enumerate() {
                if k != j {
                    others.add(gk);
                }
            }
            *out = g[j] * terms[j].q - terms[j].p * others.value() + poly_grad(j, terms[j].p);
        }
    }
    loss.value()
}

/// The indices of the logits of position `s` of sample `n`, class by class.
fn row_indices(shape: SoftmaxShape, n: usize, s: usize) -> impl Iterator<Item = usize> {
    (0..shape.classes).map(move |j| (n * shape.classes + j) * shape.spatial + s)
}

/// α and γ of each class (all ones when α is off; all `options.gamma` without per-class γ).
fn class_parameters(options: &SoftmaxFocalOptions, classes: usize) -> (Vec<f64>, Vec<f64>) {
    let alpha = match &options.alpha {
        SoftmaxAlpha::Off => vec![1.0; classes],
        SoftmaxAlpha::Uniform(a) => vec![*a; classes],
        SoftmaxAlpha::PerClass(alpha) => alpha.clone(),
    };
    let gamma = match &options.class_gamma {
        Some(gamma) => gamma.clone(),
        None => vec![options.gamma; classes],
    };
    (alpha, gamma)
}

/// Gradient and diagonal Hessian of one row's softmax focal loss with a one-hot target
/// (no label smoothing); returns the row's loss.
///
/// With `u = ln p_t`, `q = 1 − p_t` and `F(u) = α_t·q^γ·(−u) + ε·q^(γ+1)` (γ = γ_t, ε
/// poly-1's), the loss is `F(u)`, `∂u/∂x_j = δ_jt − p_j` and `∂²u/∂x_j² = −p_j·q_j`, so
/// `g_j = F′·(δ_jt − p_j)` and `H_jj = F″·(δ_jt − p_j)² − F′·p_j·q_j`. `F″·q²` is bounded for
/// every γ ≥ 0 where `F″` alone is not (γ < 2, `q → 0`), and `(δ_jt − p_j)² ≤ q²`, so the
/// Hessian is formed from `F″·q²`, scaled by `1` at the target and `(p_j/q)²` elsewhere:
///
/// - `F′ = −α_t·q^γ·(1 + γ·p_t·CE/q) − ε·(γ+1)·q^γ·p_t`,
/// - `F″·q² = α_t·γ·q^γ·(q·(2·p_t − p_t·CE) + (γ−1)·p_t·(p_t·CE))
///   + ε·(γ+1)·q^γ·p_t·q·(γ·p_t − q)`.
///
/// ```
/// use focal_loss::reference::softmax_focal_row_grad_hess;
/// let (mut grad, mut hess) = ([0.0; 2], [0.0; 2]);
/// // Two equal logits, γ = 0 (cross-entropy): gradient p − onehot, Hessian p·(1 − p).
/// softmax_focal_row_grad_hess(&[1.0, 1.0], 0, &[0.0, 0.0], &[1.0, 1.0], 0.0,
///                             &mut grad, &mut hess);
/// assert_eq!((grad, hess), ([-0.5, 0.5], [0.25, 0.25]));
/// ```
pub fn softmax_focal_row_grad_hess(
    logits: &[f64],
    target: usize,
    class_gamma: &[f64],
    class_alpha: &[f64],
    epsilon: f64,
    grad: &mut [f64],
    hess: &mut [f64],
) -> f64 {
    let row = ShiftedRow::new(logits);
    let t = row.class(target);
    let (gamma, alpha) = (class_gamma[target], class_alpha[target]);
    let (p, q) = (t.p, t.q);
    let q_pow_gamma = focal_factor(q, gamma);
    // p_t·CE → 0 as p_t → 0 (also where CE is infinite).
    let p_ce = zero_times(p, t.ce);
    let focal_slope = -alpha * q_pow_gamma * (1.0 + gamma * zero_times(p, t.ce_over_q()));
    let focal_curvature =
        alpha * gamma * q_pow_gamma * (q * (2.0 * p - p_ce) + (gamma - 1.0) * p * p_ce);
    let (poly_loss, poly_slope, poly_curvature) = if epsilon != 0.0 {
        let e = epsilon * (gamma + 1.0) * q_pow_gamma;
        (
            epsilon * q_pow_gamma * q,
            -e * p,
            e * p * q * (gamma * p - q),
        )
    } else {
        (0.0, 0.0, 0.0)
    };
    // F′ and F″·q².
    let slope = focal_slope + poly_slope;
    let curvature = focal_curvature + poly_curvature;
    for j in 0..logits.len() {
        if j == target {
            grad[j] = slope * q;
            hess[j] = curvature - p * q * slope;
        } else {
            let other = row.class(j);
            // p_j / q = e_j / Σ_{k≠t} e_k (0 where that sum is 0: then e_j = 0 too).
            let ratio = if t.others == 0.0 {
                0.0
            } else {
                row.exponentials[j] / t.others
            };
            grad[j] = -slope * other.p;
            hess[j] = ratio * ratio * curvature - other.p * other.q * slope;
        }
    }
    let loss = t.weighted_ce(alpha * q_pow_gamma);
    if epsilon != 0.0 {
        loss + poly_loss
    } else {
        loss
    }
}

/// Per-position gradient and diagonal Hessian of the softmax focal loss (see
/// [`crate::softmax_focal_grad_hess`]) on validated arguments: one-hot targets, the
/// reduction not used, Hessian values below `hessian_floor` raised to it, ignored positions
/// 0 and 0.
///
/// ```
/// use focal_loss::{reference, SoftmaxFocalOptions, SoftmaxShape};
/// let (mut grad, mut hess) = ([0.0f64; 4], [0.0f64; 4]);
/// let options = SoftmaxFocalOptions::default().gamma(0.0);
/// reference::softmax_focal_grad_hess(&[0.0, 0.0, 5.0, 5.0], &[1, -100],
///     SoftmaxShape::rows(2, 2), &options, None, &mut grad, &mut hess);
/// assert_eq!((grad, hess), ([0.5, -0.5, 0.0, 0.0], [0.25, 0.25, 0.0, 0.0]));
/// ```
pub fn softmax_focal_grad_hess<T: Float>(
    logits: &[T],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
    hessian_floor: Option<f64>,
    grad: &mut [T],
    hess: &mut [T],
) {
    let SoftmaxShape {
        batch,
        classes,
        spatial,
    } = shape;
    let (class_alpha, class_gamma) = class_parameters(options, classes);
    let mut row = vec![0.0f64; classes];
    let (mut row_grad, mut row_hess) = (vec![0.0f64; classes], vec![0.0f64; classes]);
    for n in 0..batch {
        for s in 0..spatial {
            let target = targets[n * spatial + s];
            if target == options.ignore_index {
                row_grad.fill(0.0);
                row_hess.fill(0.0);
            } else {
                for (x, i) in row.iter_mut().zip(row_indices(shape, n, s)) {
                    *x = logits[i].to_f64();
                }
                softmax_focal_row_grad_hess(
                    &row,
                    target as usize,
                    &class_gamma,
                    &class_alpha,
                    options.epsilon,
                    &mut row_grad,
                    &mut row_hess,
                );
                if let Some(floor) = hessian_floor {
                    for h in &mut row_hess {
                        if *h < floor {
                            *h = floor;
                        }
                    }
                }
            }
            for (j, i) in row_indices(shape, n, s).enumerate() {
                grad[i] = T::from_f64(row_grad[j]);
                hess[i] = T::from_f64(row_hess[j]);
            }
        }
    }
}

/// The whole softmax focal loss call (see [`crate::softmax_focal_loss_grad`]) on validated
/// arguments. Either output may be `None`.
///
/// ```
/// use focal_loss::{reference, SoftmaxFocalOptions, SoftmaxShape};
/// let mut loss = [0.0f32; 2];
/// let options = SoftmaxFocalOptions::default().gamma(0.0).reduction(focal_loss::Reduction::None);
/// reference::softmax_focal(&[0.0f32, 0.0, 5.0, 5.0], &[1, -100], SoftmaxShape::rows(2, 2),
///     &options, Some(&mut loss), None);
/// assert_eq!(loss, [std::f32::consts::LN_2, 0.0]); // the second row is ignored
/// ```
pub fn softmax_focal<T: Float>(
    logits: &[T],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
    mut loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
) {
    let SoftmaxShape {
        batch,
        classes,
        spatial,
    } = shape;
    let (class_alpha, class_gamma) = class_parameters(options, classes);
    let mut row = vec![0.0f64; classes];
    let mut row_grad = vec![0.0f64; classes];
    let mut grads = vec![0.0f64; logits.len()];
    let mut sum = CompensatedSum::default();
    let mut count = 0usize;
    for n in 0..batch {
        for s in 0..spatial {
            let position = n * spatial + s;
            let target = targets[position];
            let position_loss = if target == options.ignore_index {
                0.0
            } else {
                count += 1;
                for (x, i) in row.iter_mut().zip(row_indices(shape, n, s)) {
                    *x = logits[i].to_f64();
                }
                let value = softmax_focal_row(
                    &row,
                    target as usize,
                    &class_gamma,
                    &class_alpha,
                    options.epsilon,
                    options.label_smoothing,
                    Some(&mut row_grad),
                );
                for (g, i) in row_grad.iter().zip(row_indices(shape, n, s)) {
                    grads[i] = *g;
                }
                value
            };
            if let (Reduction::None, Some(loss)) = (options.reduction, loss.as_deref_mut()) {
                loss[position] = T::from_f64(position_loss);
            }
            sum.add(position_loss);
        }
    }
    let divisor = divisor(options.reduction, options.normalizer, count);
    if options.reduction != Reduction::None {
        if let Some(loss) = loss {
            loss[0] = T::from_f64(divisor.map_or(0.0, |v| sum.value() / v));
        }
    }
    if let Some(grad) = grad {
        for (out, g) in grad.iter_mut().zip(&grads) {
            *out = T::from_f64(divisor.map_or(0.0, |v| g / v));
        }
    }
}
