//! Sigmoid focal loss in `f64`, one element at a time, with the stable formulas of
//! `docs/MATH.md` written out term by term.

use super::elementwise::{Call, ElementObjective, Target, elementwise, elementwise_grad_hess};
use super::family::Element;
use super::math::{exp_of_negative_product, log_add_exp, sigmoid, softplus, zero_times};
use crate::{Float, SigmoidObjective, SigmoidTargets};

/// A loss value with its first and second derivative with respect to the logit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Derivatives {
    /// The loss.
    pub loss: f64,
    /// ∂loss/∂x.
    pub grad: f64,
    /// ∂²loss/∂x².
    pub hess: f64,
}

/// Focal loss of one logit `x` with a hard target (`positive` is `y = 1`).
///
/// With `s = ±1`, `z = s·x`, `p_t = σ(z)`, `q = σ(−z)`, `CE = softplus(−z)` and
/// `q^γ = e^(−γ·softplus(z))`: loss `α_t·q^γ·CE`, gradient `−s·α_t·q^γ·(q + γ·p_t·CE)`,
/// Hessian `α_t·q^γ·((2γ+1)·p_t·q + γ·p_t·CE·(γ·p_t − q))`.
///
/// ```
/// use focal_loss::reference::sigmoid_focal_hard;
/// // γ = 0 and no α is binary cross-entropy: −ln σ(0) = ln 2.
/// let d = sigmoid_focal_hard(0.0, true, 0.0, None);
/// assert!((d.loss - std::f64::consts::LN_2).abs() < 1e-16);
/// assert!((d.grad + 0.5).abs() < 1e-16);
/// ```
pub fn sigmoid_focal_hard(x: f64, positive: bool, gamma: f64, alpha: Option<f64>) -> Derivatives {
    let sign = if positive { 1.0 } else { -1.0 };
    let alpha_t = match alpha {
        Some(a) if positive => a,
        Some(a) => 1.0 - a,
        None => 1.0,
    };
    let z = sign * x;
    let p_t = sigmoid(z);
    let q = sigmoid(-z);
    let ce = softplus(-z);
    let q_pow_gamma = exp_of_negative_product(gamma, softplus(z));
    let p_t_ce = zero_times(p_t, ce);
    let scale = alpha_t * q_pow_gamma;
    Derivatives {
        loss: zero_times(scale, ce),
        grad: -sign * scale * (q + gamma * p_t_ce),
        hess: scale * ((2.0 * gamma + 1.0) * p_t * q + gamma * p_t_ce * (gamma * p_t - q)),
    }
}

/// Focal loss of one logit `x` with a soft target `y ∈ [0, 1]` (torchvision/optax semantics:
/// `α_t·(1−p_t)^γ·BCEwithlogits(x, y)` with `p_t = σ(x)·y + σ(−x)·(1−y)`).
///
/// Targets 0 and 1 take [`sigmoid_focal_hard`]; the others use, with `P = σ(x)`, `Q = σ(−x)`:
/// `q = y·Q + (1−y)·P`, `C = y·sp(−x) + (1−y)·sp(x)`, `C′ = (1−y)·P − y·Q`, `C″ = P·Q`,
/// `r = P·Q/q`, `ℓ′ = (1−2y)·r`, `ℓ″ = (1−2y)·r·(y·Q² − (1−y)·P²)/q`.
///
/// ```
/// use focal_loss::reference::{sigmoid_focal_hard, sigmoid_focal_soft};
/// let soft = sigmoid_focal_soft(1.5, 1.0, 2.0, Some(0.25));
/// assert_eq!(soft, sigmoid_focal_hard(1.5, true, 2.0, Some(0.25)));
/// ```
pub fn sigmoid_focal_soft(x: f64, y: f64, gamma: f64, alpha: Option<f64>) -> Derivatives {
    sigmoid_focal_soft_with_complement(x, y, 1.0 - y, gamma, alpha)
}

/// [`sigmoid_focal_soft`] with `1 − y` given separately: a smoothed target near 1 has a
/// complement that `1.0 − y` would compute with cancellation.
fn sigmoid_focal_soft_with_complement(
    x: f64,
    y: f64,
    one_minus_y: f64,
    gamma: f64,
    alpha: Option<f64>,
) -> Derivatives {
    // Hard only when the complement is exact as well: a smoothed target can round to 1 (or
    // 0) while its complement `ls/2` does not vanish.
    if (y == 0.0 && one_minus_y == 1.0) || (y == 1.0 && one_minus_y == 0.0) {
        return sigmoid_focal_hard(x, y == 1.0, gamma, alpha);
    }
    let alpha_t = alpha.map_or(1.0, |a| a * y + (1.0 - a) * one_minus_y);
    let p = sigmoid(x);
    let q_of_x = sigmoid(-x);
    let minus_ln_q_of_x = softplus(x);
    let minus_ln_p = softplus(-x);

    // q = 1 − p_t: a sum of two non-negative terms, no cancellation.
    let q = y * q_of_x + one_minus_y * p;
    let ln_q = log_add_exp(y.ln() - minus_ln_q_of_x, one_minus_y.ln() - minus_ln_p);
    let q_pow_gamma = if gamma == 0.0 {
        1.0
    } else {
        (gamma * ln_q).exp()
    };

    let c = y * minus_ln_p + one_minus_y * minus_ln_q_of_x;
    let dc = one_minus_y.mul_add(p, -(y * q_of_x));
    let d2c = p * q_of_x;
    let r = if d2c >= f64::MIN_POSITIVE {
        d2c / q
    } else {
        // P·Q underflows: form the ratio in log space.
        (-minus_ln_p - minus_ln_q_of_x - ln_q).exp()
    };
    let one_minus_2y = one_minus_y - y;
    let dl = one_minus_2y * r;
    let d2l = one_minus_2y * r * (y * q_of_x * q_of_x - one_minus_y * p * p) / q;

    let scale = alpha_t * q_pow_gamma;
    Derivatives {
        // C = ∞ only at an infinite logit: the loss is +∞ there (q > 0 and α_t > 0 for
        // y ∈ (0, 1)) even where q^γ underflows.
        loss: if c == f64::INFINITY { c } else { scale * c },
        grad: scale * (gamma * zero_times(c, dl) + dc),
        hess: scale
            * (gamma * gamma * zero_times(c, dl * dl)
                + 2.0 * gamma * dc * dl
                + gamma * zero_times(c, d2l)
                + d2c),
    }
}

/// The smoothed target `y·(1 − ls) + ls/2` (Keras semantics).
///
/// ```
/// assert_eq!(focal_loss::reference::smooth_binary_target(1.0, 0.2), 0.9);
/// ```
pub fn smooth_binary_target(y: f64, label_smoothing: f64) -> f64 {
    if label_smoothing == 0.0 {
        y
    } else {
        y * (1.0 - label_smoothing) + label_smoothing / 2.0
    }
}

/// The (unsmoothed) target of element `index`, or `None` when its row is ignored.
///
/// ```
/// use focal_loss::{reference::element_target, SigmoidTargets};
/// let targets: SigmoidTargets<f32> = SigmoidTargets::Classes { targets: &[2, -1], classes: 3 };
/// assert_eq!(element_target(&targets, 2), Some(1.0));
/// assert_eq!(element_target(&targets, 1), Some(0.0));
/// assert_eq!(element_target(&targets, 4), None);
/// ```
pub fn element_target<T: Float>(targets: &SigmoidTargets<'_, T>, index: usize) -> Option<f64> {
    match *targets {
        SigmoidTargets::Soft(y) => Some(y[index].to_f64()),
        SigmoidTargets::Labels(labels) => Some(f64::from(labels[index])),
        SigmoidTargets::Classes { targets, classes } => {
            let target = targets[index / classes];
            if target < 0 {
                None
            } else {
                Some(if target as usize == index % classes {
                    1.0
                } else {
                    0.0
                })
            }
        }
    }
}

/// The focal loss as the elementwise driver takes it.
pub(super) struct Focal {
    pub gamma: f64,
    pub alpha: Option<f64>,
}

impl ElementObjective for Focal {
    fn derivatives(&self, x: f64, t: &Target) -> Derivatives {
        sigmoid_focal_soft_with_complement(x, t.y, t.one_minus_y, self.gamma, self.alpha)
    }
}

/// The reference's element of an objective, and the driver's options of the call.
fn described<O: SigmoidObjective + ?Sized>(options: &O) -> (Element, Call) {
    let call = options.describe();
    (
        Element::of(&call),
        Call {
            label_smoothing: call.label_smoothing,
            reduction: call.reduction,
            normalizer: call.normalizer,
        },
    )
}

/// The whole sigmoid focal loss call (see [`crate::sigmoid_focal_loss_grad`]) on validated
/// arguments: `loss` gets one value per element for [`Reduction::None`], else one value;
/// `grad` the gradient of that loss. Either may be `None`.
///
/// ```
/// use focal_loss::{reference, SigmoidFocalOptions, SigmoidTargets};
/// let mut loss = [0.0f64];
/// reference::sigmoid_focal(&[0.0, 0.0], &SigmoidTargets::Labels(&[0, 1]), None,
///     &SigmoidFocalOptions::default().alpha(None).gamma(0.0), Some(&mut loss), None);
/// assert!((loss[0] - std::f64::consts::LN_2).abs() < 1e-16);
/// ```
pub fn sigmoid_focal<T: Float>(
    logits: &[T],
    targets: &SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    options: &(impl SigmoidObjective + ?Sized),
    loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
) {
    let (objective, call) = described(options);
    elementwise(logits, targets, weights, &objective, &call, loss, grad);
}

/// Per-element gradient and Hessian (the gradient-boosting objective) on validated
/// arguments. The Hessian is `weight · max(h, floor)`; ignored elements get 0 and 0.
///
/// ```
/// use focal_loss::{reference, SigmoidFocalOptions, SigmoidTargets};
/// let (mut g, mut h) = ([0.0f64], [0.0f64]);
/// reference::sigmoid_focal_grad_hess(&[-8.0], &SigmoidTargets::Labels(&[1]), None,
///     &SigmoidFocalOptions::default(), Some(1e-6), &mut g, &mut h);
/// assert!(g[0] < 0.0 && h[0] == 1e-6); // badly misclassified: the true Hessian is negative
/// ```
pub fn sigmoid_focal_grad_hess<T: Float>(
    logits: &[T],
    targets: &SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    options: &(impl SigmoidObjective + ?Sized),
    hessian_floor: Option<f64>,
    grad: &mut [T],
    hess: &mut [T],
) {
    let (objective, call) = described(options);
    elementwise_grad_hess(
        logits,
        targets,
        weights,
        &objective,
        &call,
        hessian_floor,
        grad,
        hess,
    );
}
