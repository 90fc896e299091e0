//! Sigmoid focal loss: binary and multi-label heads, one independent logit per element.

use crate::kernels::sigmoid::{ClassTargets, LabelTargets, Params, SoftTargets, Targets};
use crate::parallel::{self, SigmoidOutputs};
use crate::{Float, FocalError, Reduction, validate};

/// The targets of a sigmoid focal loss, in one of three forms.
///
/// ```
/// use focal_loss::SigmoidTargets;
/// let soft = SigmoidTargets::Soft(&[0.0f32, 0.3, 1.0]);      // y ∈ [0, 1]
/// let labels = SigmoidTargets::<f32>::Labels(&[0, 1, 1]);     // y ∈ {0, 1}, one byte each
/// // A multi-label head of 2 rows × 3 classes: row 0 is class 2, row 1 is ignored.
/// let classes: SigmoidTargets<f32> = SigmoidTargets::Classes { targets: &[2, -1], classes: 3 };
/// assert_eq!(classes.len(), 6);
/// # let _ = (soft, labels);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SigmoidTargets<'a, T> {
    /// One soft target in [0, 1] per logit (torchvision / optax semantics).
    Soft(&'a [T]),
    /// One hard label, 0 or 1, per logit: a quarter of the bytes of `f32` targets.
    Labels(&'a [u8]),
    /// One class index per row of a multi-label head whose logits are row-major
    /// `[targets.len(), classes]` (mmcv's form): a value in `[0, classes)` makes that class
    /// positive and the others negative, `classes` means background (all negative), a
    /// negative value (detectron2 uses −1) ignores the row.
    Classes {
        /// One target per row.
        targets: &'a [i32],
        /// The number of classes (logits per row).
        classes: usize,
    },
}

impl<T> SigmoidTargets<'_, T> {
    /// The number of logits these targets describe.
    ///
    /// ```
    /// use focal_loss::SigmoidTargets;
    /// assert_eq!(SigmoidTargets::<f64>::Labels(&[1, 0]).len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            Self::Soft(y) => y.len(),
            Self::Labels(y) => y.len(),
            Self::Classes { targets, classes } => targets.len().saturating_mul(*classes),
        }
    }

    /// Whether there are no logits to score.
    ///
    /// ```
    /// use focal_loss::SigmoidTargets;
    /// assert!(SigmoidTargets::<f64>::Soft(&[]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Options of the sigmoid focal loss. The default is the published one (Lin et al. 2017):
/// γ = 2, α = 0.25, no label smoothing, mean reduction.
///
/// ```
/// use focal_loss::{Reduction, SigmoidFocalOptions};
/// let options = SigmoidFocalOptions::default()
///     .gamma(1.5)
///     .alpha(None)               // α off: α_t = 1
///     .label_smoothing(0.1)      // y ← y·(1 − 0.1) + 0.05
///     .reduction(Reduction::Mean)
///     .normalizer(128.0);        // sum ÷ 128 (e.g. the number of positive anchors)
/// assert_eq!(options.gamma, 1.5);
/// assert_eq!(options.normalizer, Some(128.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SigmoidFocalOptions {
    /// The focusing parameter γ ∈ [0, 10⁴] (any real; 0 gives α-weighted cross-entropy).
    pub gamma: f64,
    /// α ∈ [0, 1] weights positives by α and negatives by 1 − α (`α_t = α·y + (1−α)·(1−y)`);
    /// `None` switches the weighting off (`α_t = 1`).
    pub alpha: Option<f64>,
    /// Label smoothing `ls ∈ [0, 1)`: targets become `y·(1 − ls) + ls/2` (Keras semantics).
    pub label_smoothing: f64,
    /// How the per-element losses are combined.
    pub reduction: Reduction,
    /// With [`Reduction::Mean`], divide the sum by this value instead of the element count
    /// (RetinaNet's number of positives, mmdet's `avg_factor`). Must be finite and > 0.
    pub normalizer: Option<f64>,
}

impl Default for SigmoidFocalOptions {
    fn default() -> Self {
        Self {
            gamma: 2.0,
            alpha: Some(0.25),
            label_smoothing: 0.0,
            reduction: Reduction::Mean,
            normalizer: None,
        }
    }
}

impl SigmoidFocalOptions {
    /// Sets γ.
    pub fn gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }
    /// Sets α (`Some(a)` or a plain `f64`), or switches it off with `None`.
    pub fn alpha(mut self, alpha: impl Into<Option<f64>>) -> Self {
        self.alpha = alpha.into();
        self
    }
    /// Sets the label smoothing.
    pub fn label_smoothing(mut self, label_smoothing: f64) -> Self {
        self.label_smoothing = label_smoothing;
        self
    }
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// Sets (or with `None` clears) the normaliser of the mean.
    pub fn normalizer(mut self, normalizer: impl Into<Option<f64>>) -> Self {
        self.normalizer = normalizer.into();
        self
    }

    fn validate(&self) -> Result<(), FocalError> {
        validate::gamma(self.gamma)?;
        validate::alpha(self.alpha)?;
        validate::label_smoothing(self.label_smoothing)?;
        validate::normalizer(self.reduction, self.normalizer)
    }
}

/// Checks everything about a sigmoid call that does not depend on the outputs.
fn validate_inputs<T: Float>(
    logits: &[T],
    targets: &SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    options: &SigmoidFocalOptions,
) -> Result<(), FocalError> {
    options.validate()?;
    validate::smoothing_share::<T>(options.label_smoothing, options.label_smoothing / 2.0)?;
    let n = logits.len();
    match *targets {
        SigmoidTargets::Soft(y) => validate::input_length("targets", n, y.len())?,
        SigmoidTargets::Labels(y) => validate::input_length("labels", n, y.len())?,
        SigmoidTargets::Classes { targets, classes } => {
            if classes == 0 && !targets.is_empty() {
                return Err(FocalError::EmptyDimension {
                    dimension: "classes",
                });
            }
            let expected = validate::product(&[targets.len(), classes])?;
            validate::input_length("logits", expected, n)?;
        }
    }
    if let Some(w) = weights {
        validate::input_length("weights", n, w.len())?;
    }
    Ok(())
}

/// Checks the values of the targets and weights (one pass over each).
fn validate_values<T: Float>(
    targets: &SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
) -> Result<(), FocalError> {
    match *targets {
        SigmoidTargets::Soft(y) => {
            let in_range = |v: &T| (0.0..=1.0).contains(&v.to_f64());
            // A branch-free pass first (it vectorises); the position only on failure.
            if !y.iter().fold(true, |ok, v| ok & in_range(v)) {
                let index = y.iter().position(|v| !in_range(v)).unwrap_or(0);
                return Err(FocalError::SoftTargetOutOfRange {
                    index,
                    value: y[index].to_f64(),
                });
            }
        }
        SigmoidTargets::Labels(y) => {
            if y.iter().fold(0u8, |m, &v| m.max(v)) > 1 {
                let index = y.iter().position(|&v| v > 1).unwrap_or(0);
                return Err(FocalError::LabelOutOfRange {
                    index,
                    value: y[index],
                });
            }
        }
        SigmoidTargets::Classes { targets, classes } => {
            if let Some(index) = targets.iter().position(|&t| t >= 0 && t as usize > classes) {
                return Err(FocalError::SigmoidClassOutOfRange {
                    index,
                    value: targets[index],
                    classes,
                });
            }
        }
    }
    weights.map_or(Ok(()), validate::weights)
}

/// The sigmoid call behind the public functions and the C ABI: either output may be absent.
pub(crate) fn sigmoid_focal_outputs<T: Float>(
    logits: &[T],
    targets: SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    options: &SigmoidFocalOptions,
    loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
) -> Result<(), FocalError> {
    validate_inputs(logits, &targets, weights, options)?;
    let n = logits.len();
    validate::output_length(
        "loss",
        validate::loss_length(options.reduction, n),
        loss.as_deref(),
    )?;
    validate::output_length("grad", n, grad.as_deref())?;
    validate_values(&targets, weights)?;
    let outputs = if grad.is_some() {
        SigmoidOutputs::LossGrad
    } else {
        SigmoidOutputs::Loss
    };
    run(
        logits, &targets, weights, options, None, outputs, loss, grad, None,
    );
    Ok(())
}

/// Validated arguments → the parallel kernels, then the reduction.
#[allow(clippy::too_many_arguments)]
fn run<T: Float>(
    logits: &[T],
    targets: &SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    options: &SigmoidFocalOptions,
    hessian_floor: Option<f64>,
    outputs: SigmoidOutputs,
    loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
    hess: Option<&mut [T]>,
) {
    let count = match *targets {
        SigmoidTargets::Classes { targets, classes } => {
            targets.iter().filter(|&&t| t >= 0).count() * classes
        }
        _ => logits.len(),
    };
    let divisor = crate::reduction::divisor(options.reduction, options.normalizer, count);
    if divisor == 0.0 {
        // A mean over nothing: 0, with a zero gradient (not 0/0).
        if let Some(loss) = loss {
            loss[0] = T::from_f64(0.0);
        }
        if let Some(grad) = grad {
            grad.fill(T::from_f64(0.0));
        }
        return;
    }
    let params = Params::new(
        options.gamma,
        options.alpha,
        options.label_smoothing,
        1.0 / divisor,
        hessian_floor,
    );
    let kernel_targets = match *targets {
        SigmoidTargets::Soft(y) => Targets::Soft(SoftTargets(y)),
        SigmoidTargets::Labels(y) => Targets::Labels(LabelTargets(y)),
        SigmoidTargets::Classes { targets, classes } => Targets::Classes(ClassTargets {
            targets,
            classes,
            first: 0,
        }),
    };
    let (elementwise_loss, reduced_loss) = match options.reduction {
        Reduction::None => (loss, None),
        Reduction::Sum | Reduction::Mean => (None, loss),
    };
    let sum = parallel::sigmoid(
        crate::simd::dispatch::Dispatch::current(),
        logits,
        kernel_targets,
        weights,
        &params,
        outputs,
        elementwise_loss,
        grad,
        hess,
    );
    if let Some(loss) = reduced_loss {
        loss[0] = T::from_f64(sum / divisor);
    }
}

/// Sigmoid focal loss of `logits` against `targets`, written into `loss`.
///
/// `loss` holds one value per logit for [`Reduction::None`] (ignored rows get 0), one value
/// otherwise. `weights`, when given, has one non-negative weight per logit; it multiplies
/// the per-element loss (the mean still divides by the count, as PyTorch does).
///
/// # Errors
/// Any invalid option, length, target or weight ([`FocalError`]); `loss` is then untouched.
///
/// ```
/// use focal_loss::{sigmoid_focal_loss, SigmoidFocalOptions, SigmoidTargets};
/// let logits = [3.0f32, -1.0, 0.5, -4.0];
/// let labels = [1u8, 0, 0, 1];
/// let mut loss = [0.0f32];
/// sigmoid_focal_loss(&logits, SigmoidTargets::Labels(&labels), None,
///                    &SigmoidFocalOptions::default(), &mut loss)?;
/// assert!(loss[0] > 0.0);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
pub fn sigmoid_focal_loss<T: Float>(
    logits: &[T],
    targets: SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    options: &SigmoidFocalOptions,
    loss: &mut [T],
) -> Result<(), FocalError> {
    sigmoid_focal_outputs(logits, targets, weights, options, Some(loss), None)
}

/// Sigmoid focal loss and its gradient in one pass.
///
/// `loss` as in [`sigmoid_focal_loss`]; `grad` (one value per logit) receives the gradient
/// of that loss: for [`Reduction::None`] the derivative of each element's loss, otherwise
/// the gradient of the reduced scalar. Ignored rows get a zero gradient.
///
/// # Errors
/// As [`sigmoid_focal_loss`]; `loss` and `grad` are then untouched.
///
/// ```
/// use focal_loss::{sigmoid_focal_loss_grad, Reduction, SigmoidFocalOptions, SigmoidTargets};
/// let logits = [20.0f32, -20.0];
/// let targets = [0.0f32, 1.0];
/// let options = SigmoidFocalOptions::default().reduction(Reduction::Sum);
/// let (mut loss, mut grad) = ([0.0f32], [0.0f32; 2]);
/// sigmoid_focal_loss_grad(&logits, SigmoidTargets::Soft(&targets), None, &options,
///                         &mut loss, &mut grad)?;
/// // Both examples are confidently wrong: the loss is large and nothing saturates to 0.
/// assert!(loss[0] > 19.0 && grad[0] > 0.0 && grad[1] < 0.0);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
pub fn sigmoid_focal_loss_grad<T: Float>(
    logits: &[T],
    targets: SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    options: &SigmoidFocalOptions,
    loss: &mut [T],
    grad: &mut [T],
) -> Result<(), FocalError> {
    sigmoid_focal_outputs(logits, targets, weights, options, Some(loss), Some(grad))
}

/// Per-element gradient and Hessian of the sigmoid focal loss: the custom objective of a
/// gradient-boosting library (XGBoost, LightGBM, CatBoost).
///
/// The reduction and normaliser of `options` are not used (the values are per element).
/// The Hessian of the focal loss is negative for badly misclassified examples (`p_t < 0.058`
/// at γ = 2); Newton steps need it positive, so `hessian_floor` raises every Hessian below
/// it to it. With weights, each element's gradient is `w·g` and its Hessian `w·max(h, floor)`.
/// Ignored rows get 0 and 0.
///
/// # Errors
/// As [`sigmoid_focal_loss`], and a NaN `hessian_floor`; `grad` and `hess` are then untouched.
///
/// ```
/// use focal_loss::{sigmoid_focal_grad_hess, SigmoidFocalOptions, SigmoidTargets};
/// let logits = [2.0f64, -6.0, 0.0];
/// let labels = [1u8, 1, 0];
/// let (mut grad, mut hess) = ([0.0; 3], [0.0; 3]);
/// sigmoid_focal_grad_hess(&logits, SigmoidTargets::Labels(&labels), None,
///                         &SigmoidFocalOptions::default(), Some(1e-6), &mut grad, &mut hess)?;
/// assert!(hess.iter().all(|&h| h >= 1e-6));
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
pub fn sigmoid_focal_grad_hess<T: Float>(
    logits: &[T],
    targets: SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    options: &SigmoidFocalOptions,
    hessian_floor: Option<f64>,
    grad: &mut [T],
    hess: &mut [T],
) -> Result<(), FocalError> {
    // The reduction does not apply here, and so neither does its normaliser.
    let options = SigmoidFocalOptions {
        reduction: Reduction::None,
        normalizer: None,
        ..*options
    };
    validate_inputs(logits, &targets, weights, &options)?;
    if let Some(floor) = hessian_floor.filter(|f| f.is_nan()) {
        return Err(FocalError::InvalidHessianFloor(floor));
    }
    let n = logits.len();
    validate::output_length("grad", n, Some(&*grad))?;
    validate::output_length("hess", n, Some(&*hess))?;
    validate_values(&targets, weights)?;
    run(
        logits,
        &targets,
        weights,
        &options,
        hessian_floor,
        SigmoidOutputs::GradHess,
        None,
        Some(grad),
        Some(hess),
    );
    Ok(())
}
