//! The plain driver of every elementwise objective: one logit, one target per element. It
//! walks the elements in order, smooths the targets, weights, reduces and divides; the
//! objective gives one element's loss and derivatives in `f64`.

use super::divisor;
use super::math::{CompensatedSum, zero_times};
use super::sigmoid::{Derivatives, element_target, smooth_binary_target};
use crate::{Float, Reduction, SigmoidTargets};

/// A (smoothed) target `y` with `1 − y` and `1 − 2y` formed from the raw target before the
/// smoothing, where `1.0 − y` and `y − (1 − y)` would cancel.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Target {
    pub y: f64,
    pub one_minus_y: f64,
    pub one_minus_2y: f64,
}

/// One element of an elementwise objective: loss, dL/dx and d²L/dx² at logit `x` for the
/// target `t`.
pub(crate) trait ElementObjective {
    fn derivatives(&self, x: f64, t: &Target) -> Derivatives;

    /// The element of class `class` of a `[rows, classes]` head (class-index targets); only
    /// objectives with per-class parameters look at it.
    fn derivatives_of_class(&self, x: f64, t: &Target, class: Option<usize>) -> Derivatives {
        let _ = class;
        self.derivatives(x, t)
    }
}

/// The options of a call that the driver applies, whatever the objective.
pub(crate) struct Call {
    pub label_smoothing: f64,
    pub reduction: Reduction,
    pub normalizer: Option<f64>,
}

/// The weight and derivatives of element `index`, or `None` when its row is ignored.
fn element<T: Float, O: ElementObjective>(
    logits: &[T],
    targets: &SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    objective: &O,
    label_smoothing: f64,
    index: usize,
) -> Option<(f64, Derivatives)> {
    let raw = element_target(targets, index)?;
    let y = smooth_binary_target(raw, label_smoothing);
    let target = Target {
        y,
        one_minus_y: smooth_binary_target(1.0 - raw, label_smoothing),
        one_minus_2y: (1.0 - 2.0 * raw) * (1.0 - label_smoothing),
    };
    let weight = weights.map_or(1.0, |w| w[index].to_f64());
    let class = match targets {
        SigmoidTargets::Classes { classes, .. } => Some(index % classes),
        _ => None,
    };
    let d = objective.derivatives_of_class(logits[index].to_f64(), &target, class);
    Some((weight, d))
}

/// A whole call: `loss` gets one value per element for [`Reduction::None`], else one value;
/// `grad` the gradient of that loss. Either may be `None`.
pub(crate) fn elementwise<T: Float, O: ElementObjective>(
    logits: &[T],
    targets: &SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    objective: &O,
    call: &Call,
    mut loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
) {
    let n = logits.len();
    let mut count = 0usize;
    let mut sum = CompensatedSum::default();
    let mut element_grads = vec![0.0f64; n];
    for i in 0..n {
        let Some((weight, d)) =
            element(logits, targets, weights, objective, call.label_smoothing, i)
        else {
            if let (Reduction::None, Some(loss)) = (call.reduction, loss.as_deref_mut()) {
                loss[i] = T::from_f64(0.0);
            }
            continue;
        };
        count += 1;
        let weighted_loss = zero_times(weight, d.loss);
        if let (Reduction::None, Some(loss)) = (call.reduction, loss.as_deref_mut()) {
            loss[i] = T::from_f64(weighted_loss);
        }
        sum.add(weighted_loss);
        element_grads[i] = zero_times(weight, d.grad);
    }
    let divisor = divisor(call.reduction, call.normalizer, count);
    if call.reduction != Reduction::None {
        if let Some(loss) = loss {
            loss[0] = T::from_f64(divisor.map_or(0.0, |v| sum.value() / v));
        }
    }
    if let Some(grad) = grad {
        for (out, g) in grad.iter_mut().zip(&element_grads) {
            *out = T::from_f64(divisor.map_or(0.0, |v| g / v));
        }
    }
}

/// Per-element gradient and Hessian (the gradient-boosting objective): the Hessian is
/// `weight · max(h, floor)`; ignored elements get 0 and 0. The reduction does not apply.
#[allow(clippy::too_many_arguments)]
pub(crate) fn elementwise_grad_hess<T: Float, O: ElementObjective>(
    logits: &[T],
    targets: &SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    objective: &O,
    call: &Call,
    hessian_floor: Option<f64>,
    grad: &mut [T],
    hess: &mut [T],
) {
    for i in 0..logits.len() {
        let (g, h) = match element(logits, targets, weights, objective, call.label_smoothing, i) {
            None => (0.0, 0.0),
            Some((weight, d)) => {
                let floored = match hessian_floor {
                    Some(floor) if !d.hess.is_nan() => d.hess.max(floor),
                    _ => d.hess,
                };
                // A zero weight removes the element, also under an infinite floor.
                (zero_times(weight, d.grad), zero_times(weight, floored))
            }
        };
        grad[i] = T::from_f64(g);
        hess[i] = T::from_f64(h);
    }
}
