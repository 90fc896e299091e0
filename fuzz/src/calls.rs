//! A case as a call of the public Rust API or of the scalar reference, at element type `T`.

use crate::input::{Objective, Sigmoid, SigmoidMode, Softmax, Targets};
use focal_loss::{
    AsymmetricOptions, Float, FocalError, FocalStarOptions, PerClassFocalOptions,
    Poly1FocalOptions, QualityFocalOptions, ReducedFocalOptions, Reduction, SigmoidFocalOptions,
    SigmoidObjective, SigmoidTargets, SoftmaxFocalOptions, SoftmaxShape, VarifocalOptions,
    reference,
};

/// What the output buffers hold before a call: a call that fails must leave exactly this.
pub const SENTINEL: f64 = -7.25;

/// The outputs of a call, widened to `f64` (empty where the call has no such output).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outputs {
    pub loss: Vec<f64>,
    pub grad: Vec<f64>,
    pub hess: Vec<f64>,
}

impl Outputs {
    /// Every output value's bits, NaNs alike (their sign and payload are not promised).
    pub fn bits(&self) -> Vec<u64> {
        self.loss
            .iter()
            .chain(&self.grad)
            .chain(&self.hess)
            .map(|v| if v.is_nan() { u64::MAX } else { v.to_bits() })
            .collect()
    }

    /// Whether every value is still the sentinel, bit for bit.
    pub fn untouched(&self) -> bool {
        self.loss
            .iter()
            .chain(&self.grad)
            .chain(&self.hess)
            .all(|v| v.to_bits() == SENTINEL.to_bits())
    }
}

pub fn typed<T: Float>(values: &[f64]) -> Vec<T> {
    values.iter().map(|&v| T::from_f64(v)).collect()
}

pub fn widen<T: Float>(values: &[T]) -> Vec<f64> {
    values.iter().map(|v| v.to_f64()).collect()
}

/// The arrays of a sigmoid case at element type `T`.
pub struct SigmoidArrays<T> {
    pub logits: Vec<T>,
    pub soft: Vec<T>,
    pub weights: Option<Vec<T>>,
}

impl<T: Float> SigmoidArrays<T> {
    pub fn new(s: &Sigmoid) -> Self {
        Self {
            logits: typed(&s.logits),
            soft: match &s.targets {
                Targets::Soft(y) => typed(y),
                _ => Vec::new(),
            },
            weights: s.weights.as_deref().map(typed),
        }
    }

    pub fn targets<'a>(&'a self, s: &'a Sigmoid) -> SigmoidTargets<'a, T> {
        match &s.targets {
            Targets::Soft(_) => SigmoidTargets::Soft(&self.soft),
            Targets::Labels(y) => SigmoidTargets::Labels(y),
            Targets::Classes { targets, classes } => SigmoidTargets::Classes {
                targets,
                classes: *classes,
            },
        }
    }
}

/// The options of a sigmoid case: the options type of its objective.
pub enum SigmoidOptions {
    Focal(SigmoidFocalOptions),
    FocalStar(FocalStarOptions),
    Poly1Focal(Poly1FocalOptions),
    QualityFocal(QualityFocalOptions),
    Varifocal(VarifocalOptions),
    Asymmetric(AsymmetricOptions),
    ReducedFocal(ReducedFocalOptions),
    PerClassFocal(PerClassFocalOptions),
}

impl SigmoidOptions {
    /// The options as every `sigmoid_focal_*` function (and the reference) takes them.
    pub fn get(&self) -> &dyn SigmoidObjective {
        match self {
            Self::Focal(o) => o,
            Self::FocalStar(o) => o,
            Self::Poly1Focal(o) => o,
            Self::QualityFocal(o) => o,
            Self::Varifocal(o) => o,
            Self::Asymmetric(o) => o,
            Self::ReducedFocal(o) => o,
            Self::PerClassFocal(o) => o,
        }
    }
}

/// The options of a sigmoid case (its objective's type, with its parameters and the
/// driver's), with `reduction` and `normalizer` in place of the case's.
pub fn sigmoid_options_with(
    s: &Sigmoid,
    reduction: Reduction,
    normalizer: Option<f64>,
) -> SigmoidOptions {
    // The driver's options, which every options type has.
    macro_rules! with_call {
        ($options:expr) => {
            $options
                .label_smoothing(s.label_smoothing)
                .reduction(reduction)
                .normalizer(normalizer)
        };
    }
    let (gamma, alpha) = (s.gamma, s.alpha);
    match &s.objective {
        Objective::Focal => SigmoidOptions::Focal(with_call!(
            SigmoidFocalOptions::default().gamma(gamma).alpha(alpha)
        )),
        Objective::FocalStar { beta } => SigmoidOptions::FocalStar(with_call!(
            FocalStarOptions::default()
                .gamma(gamma)
                .beta(*beta)
                .alpha(alpha)
        )),
        Objective::Poly1Focal { epsilon } => SigmoidOptions::Poly1Focal(with_call!(
            Poly1FocalOptions::default()
                .gamma(gamma)
                .alpha(alpha)
                .epsilon(*epsilon)
        )),
        Objective::QualityFocal => {
            SigmoidOptions::QualityFocal(with_call!(QualityFocalOptions::default().beta(gamma)))
        }
        Objective::Varifocal { alpha } => SigmoidOptions::Varifocal(with_call!(
            VarifocalOptions::default().alpha(*alpha).gamma(gamma)
        )),
        Objective::Asymmetric {
            gamma_negative,
            margin,
        } => SigmoidOptions::Asymmetric(with_call!(
            AsymmetricOptions::default()
                .gamma_positive(gamma)
                .gamma_negative(*gamma_negative)
                .margin(*margin)
        )),
        Objective::ReducedFocal { threshold } => SigmoidOptions::ReducedFocal(with_call!(
            ReducedFocalOptions::default()
                .gamma(gamma)
                .threshold(*threshold)
                .alpha(alpha)
        )),
        Objective::PerClassFocal { class_gamma } => SigmoidOptions::PerClassFocal(with_call!(
            PerClassFocalOptions::default()
                .class_gamma(class_gamma.clone())
                .alpha(alpha)
        )),
    }
}

/// The options of a sigmoid case.
pub fn sigmoid_options(s: &Sigmoid) -> SigmoidOptions {
    sigmoid_options_with(s, s.reduction, s.normalizer)
}

/// The options of a sigmoid case's per-element call (gradient and Hessian): no reduction,
/// so no normaliser.
pub fn per_element_options(s: &Sigmoid) -> SigmoidOptions {
    sigmoid_options_with(s, Reduction::None, None)
}

pub fn softmax_options(s: &Softmax) -> SoftmaxFocalOptions {
    let mut options = SoftmaxFocalOptions::default()
        .gamma(s.gamma)
        .class_gamma(s.class_gamma.clone())
        .epsilon(s.epsilon)
        .label_smoothing(s.label_smoothing)
        .reduction(s.reduction)
        .normalizer(s.normalizer)
        .ignore_index(s.ignore_index);
    options.alpha = s.alpha.clone();
    options
}

fn loss_length(reduction: Reduction, elements: usize) -> usize {
    match reduction {
        Reduction::None => elements,
        _ => 1,
    }
}

/// A buffer length `skew` away from `len` (never `len` itself for a non-zero skew).
pub fn skewed(len: usize, skew: i8) -> usize {
    match len.checked_add_signed(isize::from(skew)) {
        Some(skewed) => skewed,
        None => len + usize::from(skew.unsigned_abs()),
    }
}

/// The gradient-only functions give the fused call's gradient bit for bit (NaNs alike), or
/// its error — unless the error was about the loss buffer, which they do not take (their
/// own gradient is then computed).
fn gradient_alone_agrees<T: Float>(
    fused: &Result<(), FocalError>,
    grad: &[T],
    alone: &Result<(), FocalError>,
    alone_grad: &[T],
) {
    let bits = |v: &[T]| -> Vec<u64> {
        v.iter()
            .map(|x| {
                let x = x.to_f64();
                if x.is_nan() { u64::MAX } else { x.to_bits() }
            })
            .collect()
    };
    let loss_error = matches!(
        fused,
        Err(FocalError::OutputLength {
            argument: "loss",
            ..
        })
    );
    if !loss_error {
        // Compared as printed: an error with a NaN field is not equal to itself.
        assert_eq!(
            format!("{fused:?}"),
            format!("{alone:?}"),
            "gradient alone vs fused: result"
        );
        assert_eq!(
            bits(grad),
            bits(alone_grad),
            "gradient alone vs fused: gradient bits"
        );
    }
}

/// The sigmoid case through the public API, into sentinel-filled buffers.
pub fn sigmoid_api<T: Float>(s: &Sigmoid) -> (Result<(), FocalError>, Outputs) {
    let arrays = SigmoidArrays::<T>::new(s);
    let targets = arrays.targets(s);
    let options = sigmoid_options(s);
    let options = options.get();
    let n = s.logits.len();
    let sentinel = T::from_f64(SENTINEL);
    let weights = arrays.weights.as_deref();
    match s.mode {
        SigmoidMode::Loss | SigmoidMode::LossGrad => {
            let mut loss = vec![sentinel; skewed(loss_length(s.reduction, n), s.output_skew)];
            if s.mode == SigmoidMode::Loss {
                let result = focal_loss::sigmoid_focal_loss(
                    &arrays.logits,
                    targets,
                    weights,
                    options,
                    &mut loss,
                );
                (
                    result,
                    Outputs {
                        loss: widen(&loss),
                        ..Outputs::default()
                    },
                )
            } else {
                let mut grad = vec![sentinel; n];
                let result = focal_loss::sigmoid_focal_loss_grad(
                    &arrays.logits,
                    targets,
                    weights,
                    options,
                    &mut loss,
                    &mut grad,
                );
                // The gradient-only function: the fused call's gradient (or error), bit for bit.
                let mut alone = vec![sentinel; n];
                let alone_result = focal_loss::sigmoid_focal_grad(
                    &arrays.logits,
                    targets,
                    weights,
                    options,
                    &mut alone,
                );
                gradient_alone_agrees(&result, &grad, &alone_result, &alone);
                (
                    result,
                    Outputs {
                        loss: widen(&loss),
                        grad: widen(&grad),
                        hess: Vec::new(),
                    },
                )
            }
        }
        SigmoidMode::GradHess { floor } => {
            let mut grad = vec![sentinel; skewed(n, s.output_skew)];
            let mut hess = vec![sentinel; n];
            let result = focal_loss::sigmoid_focal_grad_hess(
                &arrays.logits,
                targets,
                weights,
                options,
                floor,
                &mut grad,
                &mut hess,
            );
            (
                result,
                Outputs {
                    loss: Vec::new(),
                    grad: widen(&grad),
                    hess: widen(&hess),
                },
            )
        }
    }
}

/// The sigmoid case through the reference (valid cases only), with `logits` in place of the
/// case's own (the limit checks substitute finite values for infinite ones).
pub fn sigmoid_reference<T: Float>(s: &Sigmoid, logits: &[f64]) -> Outputs {
    let mut arrays = SigmoidArrays::<T>::new(s);
    arrays.logits = typed(logits);
    let targets = arrays.targets(s);
    let n = logits.len();
    let weights = arrays.weights.as_deref();
    match s.mode {
        SigmoidMode::Loss | SigmoidMode::LossGrad => {
            let mut loss = vec![T::default(); loss_length(s.reduction, n)];
            let mut grad = vec![T::default(); n];
            let with_grad = s.mode == SigmoidMode::LossGrad;
            reference::sigmoid_focal(
                &arrays.logits,
                &targets,
                weights,
                sigmoid_options(s).get(),
                Some(&mut loss),
                with_grad.then_some(&mut grad[..]),
            );
            Outputs {
                loss: widen(&loss),
                grad: if with_grad { widen(&grad) } else { Vec::new() },
                hess: Vec::new(),
            }
        }
        SigmoidMode::GradHess { floor } => {
            let (mut grad, mut hess) = (vec![T::default(); n], vec![T::default(); n]);
            reference::sigmoid_focal_grad_hess(
                &arrays.logits,
                &targets,
                weights,
                per_element_options(s).get(),
                floor,
                &mut grad,
                &mut hess,
            );
            Outputs {
                loss: Vec::new(),
                grad: widen(&grad),
                hess: widen(&hess),
            }
        }
    }
}

pub fn shape(s: &Softmax) -> SoftmaxShape {
    SoftmaxShape::channels_first(s.batch, s.classes, s.spatial)
}

/// The softmax case through the public API, into sentinel-filled buffers.
pub fn softmax_api<T: Float>(s: &Softmax) -> (Result<(), FocalError>, Outputs) {
    let logits: Vec<T> = typed(&s.logits);
    let options = softmax_options(s);
    let positions = s.batch * s.spatial;
    let sentinel = T::from_f64(SENTINEL);
    if s.hessian {
        let n = positions * s.classes;
        let mut grad = vec![sentinel; n];
        let mut hess = vec![sentinel; skewed(n, s.output_skew)];
        let result = focal_loss::softmax_focal_grad_hess(
            &logits,
            &s.targets,
            shape(s),
            &options,
            s.hessian_floor,
            &mut grad,
            &mut hess,
        );
        // Across positions (channels-first, or few classes) the gradient is the loss
        // kernel's, bit for bit: that of the sum.
        if result.is_ok() && (s.spatial > 1 || s.classes < 16) {
            let mut alone = vec![sentinel; n];
            let sum = options
                .clone()
                .reduction(focal_loss::Reduction::Sum)
                .normalizer(None);
            let alone_result =
                focal_loss::softmax_focal_grad(&logits, &s.targets, shape(s), &sum, &mut alone);
            gradient_alone_agrees(&result, &grad, &alone_result, &alone);
        }
        return (
            result,
            Outputs {
                loss: Vec::new(),
                grad: widen(&grad),
                hess: widen(&hess),
            },
        );
    }
    let mut loss = vec![sentinel; skewed(loss_length(s.reduction, positions), s.output_skew)];
    if s.grad {
        let mut grad = vec![sentinel; positions * s.classes];
        let result = focal_loss::softmax_focal_loss_grad(
            &logits,
            &s.targets,
            shape(s),
            &options,
            &mut loss,
            &mut grad,
        );
        let mut alone = vec![sentinel; positions * s.classes];
        let alone_result =
            focal_loss::softmax_focal_grad(&logits, &s.targets, shape(s), &options, &mut alone);
        gradient_alone_agrees(&result, &grad, &alone_result, &alone);
        (
            result,
            Outputs {
                loss: widen(&loss),
                grad: widen(&grad),
                hess: Vec::new(),
            },
        )
    } else {
        let result =
            focal_loss::softmax_focal_loss(&logits, &s.targets, shape(s), &options, &mut loss);
        (
            result,
            Outputs {
                loss: widen(&loss),
                ..Outputs::default()
            },
        )
    }
}

/// The softmax case through the reference (valid cases only), with `logits` in its place.
pub fn softmax_reference<T: Float>(s: &Softmax, logits: &[f64]) -> Outputs {
    let logits: Vec<T> = typed(logits);
    let options = softmax_options(s);
    let positions = s.batch * s.spatial;
    if s.hessian {
        let (mut grad, mut hess) = (
            vec![T::default(); logits.len()],
            vec![T::default(); logits.len()],
        );
        reference::softmax_focal_grad_hess(
            &logits,
            &s.targets,
            shape(s),
            &options,
            s.hessian_floor,
            &mut grad,
            &mut hess,
        );
        return Outputs {
            loss: Vec::new(),
            grad: widen(&grad),
            hess: widen(&hess),
        };
    }
    let mut loss = vec![T::default(); loss_length(s.reduction, positions)];
    let mut grad = vec![T::default(); positions * s.classes];
    reference::softmax_focal(
        &logits,
        &s.targets,
        shape(s),
        &options,
        Some(&mut loss),
        s.grad.then_some(&mut grad[..]),
    );
    Outputs {
        loss: widen(&loss),
        grad: if s.grad { widen(&grad) } else { Vec::new() },
        hess: Vec::new(),
    }
}
