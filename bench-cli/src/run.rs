//! Running a row: the library's call, the scalar reference and a plain loop, timed.

use crate::data::Data;
use crate::rows::{Loss, Objective, Output, Row};
use focal_loss::{
    AsymmetricOptions, Float, FocalError, FocalStarOptions, PerClassFocalOptions,
    Poly1FocalOptions, QualityFocalOptions, ReducedFocalOptions, Reduction, SigmoidFocalOptions,
    SigmoidObjective, SigmoidTargets, SoftmaxFocalOptions, SoftmaxShape, VarifocalOptions,
    reference,
};
use std::hint::black_box;
use std::time::Instant;

/// α as the flag gives it: the objective's default, off, or a value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Alpha {
    Default,
    Off,
    Value(f64),
}

/// The objectives' parameters from the flags (`None`: the objective's default).
#[derive(Clone, Copy, Debug)]
pub struct Parameters {
    /// The focusing exponent: γ (γ₊ for ASL, β for QFL).
    pub gamma: Option<f64>,
    pub alpha: Alpha,
    /// FL*'s shift β.
    pub beta: Option<f64>,
    /// Poly-1's ε.
    pub epsilon: Option<f64>,
    /// ASL's γ₋ and margin.
    pub gamma_negative: Option<f64>,
    pub margin: Option<f64>,
    /// The reduced focal loss's threshold.
    pub threshold: Option<f64>,
    /// The library's thread limit (0: all).
    pub threads: usize,
}

impl Parameters {
    fn alpha(&self, default: Option<f64>) -> Option<f64> {
        match self.alpha {
            Alpha::Default => default,
            Alpha::Off => None,
            Alpha::Value(a) => Some(a),
        }
    }
}

/// The per-class γ of the benchmark: 1, 1.5, …, 3 in turn (most of them not integers, so
/// the general power, as per-class γ learned or tuned per class would be).
pub fn class_gamma(classes: usize) -> Vec<f64> {
    (0..classes).map(|k| 1.0 + 0.5 * (k % 5) as f64).collect()
}

/// The options of a sigmoid row.
fn sigmoid_options(row: &Row, p: &Parameters) -> Box<dyn SigmoidObjective> {
    let mean = Reduction::Mean;
    match row.objective {
        Objective::Focal => {
            let o = SigmoidFocalOptions::default();
            Box::new(
                o.gamma(p.gamma.unwrap_or(o.gamma))
                    .alpha(p.alpha(o.alpha))
                    .reduction(mean)
                    .threads(p.threads),
            )
        }
        Objective::FocalStar => {
            let o = FocalStarOptions::default();
            Box::new(
                o.gamma(p.gamma.unwrap_or(o.gamma))
                    .beta(p.beta.unwrap_or(o.beta))
                    .alpha(p.alpha(o.alpha))
                    .reduction(mean)
                    .threads(p.threads),
            )
        }
        Objective::Poly1 => {
            let o = Poly1FocalOptions::default();
            Box::new(
                o.gamma(p.gamma.unwrap_or(o.gamma))
                    .alpha(p.alpha(o.alpha))
                    .epsilon(p.epsilon.unwrap_or(o.epsilon))
                    .reduction(mean)
                    .threads(p.threads),
            )
        }
        Objective::Asymmetric => {
            let o = AsymmetricOptions::default();
            Box::new(
                o.gamma_positive(p.gamma.unwrap_or(o.gamma_positive))
                    .gamma_negative(p.gamma_negative.unwrap_or(o.gamma_negative))
                    .margin(p.margin.unwrap_or(o.margin))
                    .reduction(mean)
                    .threads(p.threads),
            )
        }
        Objective::Quality => {
            let o = QualityFocalOptions::default();
            Box::new(
                o.beta(p.gamma.unwrap_or(o.beta))
                    .reduction(mean)
                    .threads(p.threads),
            )
        }
        Objective::Varifocal => {
            let o = VarifocalOptions::default();
            Box::new(
                o.gamma(p.gamma.unwrap_or(o.gamma))
                    .alpha(p.alpha(Some(o.alpha)).unwrap_or(o.alpha))
                    .reduction(mean)
                    .threads(p.threads),
            )
        }
        Objective::Reduced => {
            let o = ReducedFocalOptions::default();
            Box::new(
                o.gamma(p.gamma.unwrap_or(o.gamma))
                    .threshold(p.threshold.unwrap_or(o.threshold))
                    .alpha(p.alpha(o.alpha))
                    .reduction(mean)
                    .threads(p.threads),
            )
        }
        Objective::PerClass => {
            let o = PerClassFocalOptions::default();
            let alpha = p.alpha(o.alpha);
            Box::new(
                o.class_gamma(class_gamma(row.classes))
                    .alpha(alpha)
                    .reduction(mean)
                    .threads(p.threads),
            )
        }
    }
}

/// The options of a softmax row (focal, poly-1 or per-class γ).
fn softmax_options(row: &Row, p: &Parameters) -> SoftmaxFocalOptions {
    let o = SoftmaxFocalOptions::default();
    let gamma = p.gamma.unwrap_or(o.gamma);
    let alpha = match p.alpha {
        Alpha::Default => o.alpha.clone(),
        Alpha::Off => focal_loss::SoftmaxAlpha::Off,
        Alpha::Value(a) => focal_loss::SoftmaxAlpha::Uniform(a),
    };
    let mut o = o.gamma(gamma).reduction(Reduction::Mean).threads(p.threads);
    o.alpha = alpha;
    match row.objective {
        Objective::Poly1 => o.epsilon(p.epsilon.unwrap_or(1.0)),
        Objective::PerClass => o.class_gamma(class_gamma(row.classes)),
        _ => o,
    }
}

/// A row's inputs and output buffers.
pub struct Prepared<'a, T> {
    row: Row,
    inputs: Inputs<'a, T>,
    sigmoid: Option<Box<dyn SigmoidObjective>>,
    softmax: Option<SoftmaxFocalOptions>,
    loss: Vec<T>,
    grad: Vec<T>,
    hess: Vec<T>,
}

/// A row's inputs, sliced from the generated data.
struct Inputs<'a, T> {
    row: Row,
    logits: &'a [T],
    labels: &'a [u8],
    soft: &'a [T],
    classes: Vec<i32>,
}

impl<T> Inputs<'_, T> {
    fn targets(&self) -> SigmoidTargets<'_, T> {
        match self.row.loss {
            Loss::SigmoidSoft => SigmoidTargets::Soft(self.soft),
            Loss::SigmoidClasses => SigmoidTargets::Classes {
                targets: &self.classes,
                classes: self.row.classes,
            },
            _ => SigmoidTargets::Labels(self.labels),
        }
    }

    fn shape(&self) -> SoftmaxShape {
        let samples = self.row.n / (self.row.classes * self.row.spatial);
        SoftmaxShape::channels_first(samples, self.row.classes, self.row.spatial)
    }
}

impl<'a, T: Float> Prepared<'a, T> {
    pub fn new(row: Row, data: &'a Data<T>, p: &Parameters) -> Prepared<'a, T>
    where
        T: Send + Sync,
    {
        let n = row.n;
        let softmax = matches!(row.loss, Loss::Softmax | Loss::SoftmaxSpatial);
        let class_count = match row.loss {
            Loss::SigmoidClasses | Loss::Softmax => n / row.classes,
            Loss::SoftmaxSpatial => n / row.classes,
            _ => 0,
        };
        let (grad, hess) = match row.output {
            Output::Loss => (0, 0),
            Output::LossGrad => (n, 0),
            Output::GradHess => (n, n),
        };
        Prepared {
            row,
            inputs: Inputs {
                row,
                logits: &data.logits[..n],
                labels: &data.labels[..n],
                soft: &data.soft[..n],
                classes: data.class_targets(class_count, row.classes),
            },
            sigmoid: (!softmax).then(|| sigmoid_options(&row, p)),
            softmax: softmax.then(|| softmax_options(&row, p)),
            loss: vec![T::from_f64(0.0); 1],
            grad: vec![T::from_f64(0.0); grad],
            hess: vec![T::from_f64(0.0); hess],
        }
    }

    /// One call of the library.
    pub fn call(&mut self) -> Result<(), FocalError> {
        let targets = self.inputs.targets();
        let shape = self.inputs.shape();
        let (loss, grad, hess) = (&mut self.loss, &mut self.grad, &mut self.hess);
        if let Some(options) = &self.softmax {
            return match self.row.output {
                Output::Loss => focal_loss::softmax_focal_loss(
                    self.inputs.logits,
                    &self.inputs.classes,
                    shape,
                    options,
                    loss,
                ),
                Output::GradHess => focal_loss::softmax_focal_grad_hess(
                    self.inputs.logits,
                    &self.inputs.classes,
                    shape,
                    options,
                    Some(1e-6),
                    grad,
                    hess,
                ),
                Output::LossGrad => focal_loss::softmax_focal_loss_grad(
                    self.inputs.logits,
                    &self.inputs.classes,
                    shape,
                    options,
                    loss,
                    grad,
                ),
            };
        }
        let Some(options) = self.sigmoid.as_deref() else {
            return Ok(());
        };
        match self.row.output {
            Output::Loss => {
                focal_loss::sigmoid_focal_loss(self.inputs.logits, targets, None, options, loss)
            }
            Output::LossGrad => focal_loss::sigmoid_focal_loss_grad(
                self.inputs.logits,
                targets,
                None,
                options,
                loss,
                grad,
            ),
            Output::GradHess => focal_loss::sigmoid_focal_grad_hess(
                self.inputs.logits,
                targets,
                None,
                options,
                Some(1e-6),
                grad,
                hess,
            ),
        }
    }

    /// One call of the scalar reference (`focal_loss::reference`) on the same arguments.
    pub fn call_reference(&mut self) {
        let targets = self.inputs.targets();
        let shape = self.inputs.shape();
        let grad = (!self.grad.is_empty()).then_some(&mut self.grad[..]);
        if let Some(options) = &self.softmax {
            if self.row.output == Output::GradHess {
                reference::softmax_focal_grad_hess(
                    self.inputs.logits,
                    &self.inputs.classes,
                    shape,
                    options,
                    Some(1e-6),
                    &mut self.grad,
                    &mut self.hess,
                );
                return;
            }
            reference::softmax_focal(
                self.inputs.logits,
                &self.inputs.classes,
                shape,
                options,
                Some(&mut self.loss),
                grad,
            );
            return;
        }
        let Some(options) = self.sigmoid.as_deref() else {
            return;
        };
        match self.row.output {
            Output::GradHess => reference::sigmoid_focal_grad_hess(
                self.inputs.logits,
                &targets,
                None,
                options,
                Some(1e-6),
                &mut self.grad,
                &mut self.hess,
            ),
            _ => reference::sigmoid_focal(
                self.inputs.logits,
                &targets,
                None,
                options,
                Some(&mut self.loss),
                grad,
            ),
        }
    }

    /// Whether [`Prepared::call_plain`] has a loop for this row: the focal loss, loss and
    /// loss + gradient.
    pub fn has_plain_loop(&self) -> bool {
        self.row.objective == Objective::Focal && self.row.output != Output::GradHess
    }

    /// One call of a plain loop as people write it: one thread, from probabilities, the
    /// gradient by the chain rule through `(1 − p_t)^γ` (which is NaN for γ < 1 once
    /// `p_t` rounds to 1 — the library's reason to exist, not this benchmark's concern).
    pub fn call_plain(&mut self, p: &Parameters) {
        let gamma = p.gamma.unwrap_or(2.0);
        let want_grad = self.row.output == Output::LossGrad;
        let n = self.row.n;
        let grad = &mut self.grad;
        let mut total = 0.0;
        if matches!(self.row.loss, Loss::Softmax | Loss::SoftmaxSpatial) {
            let alpha = match p.alpha {
                Alpha::Value(a) => a,
                _ => 1.0,
            };
            let (classes, spatial) = (self.row.classes, self.row.spatial);
            let mut e = vec![0.0f64; classes];
            let positions = self.inputs.classes.len() as f64;
            for (position, &t) in self.inputs.classes.iter().enumerate() {
                let (sample, s) = (position / spatial, position % spatial);
                let at = |j: usize| (sample * classes + j) * spatial + s;
                let max = (0..classes)
                    .map(|j| self.inputs.logits[at(j)].to_f64())
                    .fold(f64::NEG_INFINITY, f64::max);
                let mut z = 0.0;
                for (j, e) in e.iter_mut().enumerate() {
                    *e = (self.inputs.logits[at(j)].to_f64() - max).exp();
                    z += *e;
                }
                let t = t as usize;
                let pt = e[t] / z;
                let q = 1.0 - pt;
                let loss = -alpha * q.powf(gamma) * pt.ln();
                total += loss;
                if want_grad {
                    let dl_dpt =
                        alpha * (gamma * q.powf(gamma - 1.0) * pt.ln() - q.powf(gamma) / pt);
                    for (j, &e) in e.iter().enumerate() {
                        let pj = e / z;
                        let delta = if j == t { 1.0 } else { 0.0 };
                        grad[at(j)] = T::from_f64(dl_dpt * pt * (delta - pj) / positions);
                    }
                }
            }
            total /= positions;
        } else {
            let alpha = match p.alpha {
                Alpha::Off => None,
                Alpha::Value(a) => Some(a),
                Alpha::Default => Some(0.25),
            };
            let classes = self.row.classes;
            for (i, x) in self.inputs.logits.iter().enumerate() {
                let x = x.to_f64();
                let y = match self.row.loss {
                    Loss::SigmoidSoft => self.inputs.soft[i].to_f64(),
                    Loss::SigmoidClasses => {
                        f64::from(self.inputs.classes[i / classes] == (i % classes) as i32)
                    }
                    _ => f64::from(self.inputs.labels[i]),
                };
                let prob = 1.0 / (1.0 + (-x).exp());
                let ce = x.max(0.0) - x * y + (-x.abs()).exp().ln_1p();
                let q = prob * (1.0 - y) + (1.0 - prob) * y;
                let alpha_t = alpha.map_or(1.0, |a| a * y + (1.0 - a) * (1.0 - y));
                let loss = alpha_t * q.powf(gamma) * ce;
                total += loss;
                if want_grad {
                    let dq = prob * (1.0 - prob) * (1.0 - 2.0 * y);
                    let g = alpha_t
                        * (gamma * q.powf(gamma - 1.0) * dq * ce + q.powf(gamma) * (prob - y));
                    grad[i] = T::from_f64(g / n as f64);
                }
            }
            total /= n as f64;
        }
        self.loss[0] = T::from_f64(total);
        black_box(&self.grad);
    }

    /// A hash of the bits of every output (FNV-1a): two builds that agree print the same.
    pub fn bits(&self) -> u64 {
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for v in self.loss.iter().chain(&self.grad).chain(&self.hess) {
            for byte in v.to_f64().to_bits().to_le_bytes() {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
            }
        }
        hash
    }
}

/// Times `call` until it has run `repetitions` times and for `min_seconds` (after one
/// call that warms the caches and reports an error): the seconds of each run.
pub fn time<E>(
    repetitions: usize,
    min_seconds: f64,
    mut call: impl FnMut() -> Result<(), E>,
) -> Result<Vec<f64>, E> {
    call()?;
    let mut seconds = Vec::new();
    // The timed calls' own time (what `total_seconds` reports), not the wall clock, which
    // also counts the loop between calls and can reach the minimum first.
    let mut timed = 0.0;
    while seconds.len() < repetitions.max(1) || timed < min_seconds {
        let t = Instant::now();
        call()?;
        let s = t.elapsed().as_secs_f64();
        seconds.push(s);
        timed += s;
        if seconds.len() >= 10_000 {
            break;
        }
    }
    Ok(seconds)
}

/// The smallest and the median of some timings.
pub fn best_and_median(seconds: &[f64]) -> (f64, f64) {
    let mut sorted = seconds.to_vec();
    sorted.sort_by(f64::total_cmp);
    (sorted[0], sorted[sorted.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::{Dtype, Shapes};

    const SHAPES: Shapes = Shapes {
        classes: 8,
        spatial_classes: 3,
        spatial: 5,
    };
    const DEFAULTS: Parameters = Parameters {
        gamma: None,
        alpha: Alpha::Default,
        beta: None,
        epsilon: None,
        gamma_negative: None,
        margin: None,
        threshold: None,
        threads: 0,
    };

    /// The plain loop computes the same focal loss (it is a baseline, not a strawman).
    #[test]
    fn the_plain_loop_agrees_with_the_library_on_ordinary_inputs() {
        let data: Data<f64> = Data::new(3000);
        for loss in [
            Loss::SigmoidLabels,
            Loss::SigmoidSoft,
            Loss::SigmoidClasses,
            Loss::Softmax,
            Loss::SoftmaxSpatial,
        ] {
            let row = Row::new(
                loss,
                Objective::Focal,
                Output::LossGrad,
                Dtype::F64,
                3000,
                SHAPES,
            );
            let parameters = if matches!(loss, Loss::Softmax | Loss::SoftmaxSpatial) {
                Parameters {
                    alpha: Alpha::Value(0.25),
                    ..DEFAULTS
                }
            } else {
                DEFAULTS
            };
            let mut prepared = Prepared::new(row, &data, &parameters);
            prepared.call().expect("valid arguments");
            let (loss_value, grad) = (prepared.loss[0], prepared.grad.clone());
            prepared.call_plain(&parameters);
            assert!(
                (prepared.loss[0] / loss_value - 1.0).abs() < 1e-12,
                "{loss:?}"
            );
            for (a, b) in prepared.grad.iter().zip(&grad) {
                assert!(
                    (a - b).abs() <= 1e-12 * b.abs().max(1e-12),
                    "{loss:?}: {a} {b}"
                );
            }
        }
    }

    #[test]
    fn every_suite_row_runs_and_matches_the_reference() {
        let data: Data<f32> = Data::new(4000);
        // The suite, and the softmax Hessian rows (not in the suite).
        let softmax_hessian = crate::rows::selected(
            &[800],
            &[Loss::Softmax, Loss::SoftmaxSpatial],
            &[Objective::Focal, Objective::Poly1, Objective::PerClass],
            &[Output::GradHess],
            &[Dtype::F32],
            SHAPES,
        );
        assert_eq!(softmax_hessian.len(), 6);
        for row in crate::rows::suite(&[800], SHAPES)
            .into_iter()
            .chain(softmax_hessian)
        {
            if row.dtype == Dtype::F64 {
                continue;
            }
            let mut prepared = Prepared::new(row, &data, &DEFAULTS);
            prepared.call().expect("valid arguments");
            let outputs = (
                prepared.loss.clone(),
                prepared.grad.clone(),
                prepared.hess.clone(),
            );
            prepared.call_reference();
            let close = |a: &[f32], b: &[f32]| {
                a.iter()
                    .zip(b)
                    .all(|(a, b)| (a - b).abs() <= 1e-5 * b.abs().max(1e-6))
            };
            assert!(close(&outputs.0, &prepared.loss), "{}", row.kind());
            assert!(close(&outputs.1, &prepared.grad), "{}", row.kind());
            // A Hessian entry is a difference of terms that can cancel (the library's tests
            // hold it to their size): here, to the largest entry's.
            let largest = prepared.hess.iter().fold(0.0f32, |m, h| m.max(h.abs()));
            assert!(
                outputs
                    .2
                    .iter()
                    .zip(&prepared.hess)
                    .all(|(a, b)| (a - b).abs() <= 1e-5 * largest.max(1e-6)),
                "{}",
                row.kind()
            );
        }
    }

    #[test]
    fn invalid_parameters_are_the_library_s_error() {
        let data: Data<f32> = Data::new(100);
        let row = Row::new(
            Loss::SigmoidLabels,
            Objective::Focal,
            Output::Loss,
            Dtype::F32,
            100,
            SHAPES,
        );
        let parameters = Parameters {
            gamma: Some(-1.0),
            ..DEFAULTS
        };
        let mut prepared = Prepared::new(row, &data, &parameters);
        let error = time(3, 0.0, || prepared.call()).unwrap_err();
        assert!(
            error.to_string().contains("γ") || error.to_string().contains("gamma"),
            "{error}"
        );
    }
}
