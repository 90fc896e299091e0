//! Sigmoid focal loss: binary and multi-label heads, one independent logit per element.

use crate::objective::{Description, Objective};
use crate::parallel::{self, ElementwiseCall, SigmoidOutputs, SigmoidTargetSlices};
use crate::{Float, FocalError, PartialLoss, Reduction, validate};

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
    /// `None` switches the weighting off (`α_t = 1`). A non-zero α below the smallest normal
    /// number of the element type (2⁻¹²⁶ for `f32`) is refused: it would round away.
    pub alpha: Option<f64>,
    /// Label smoothing `ls ∈ [0, 1)`: targets become `y·(1 − ls) + ls/2` (Keras semantics).
    pub label_smoothing: f64,
    /// How the per-element losses are combined.
    pub reduction: Reduction,
    /// With [`Reduction::Mean`], divide the sum by this value instead of the element count
    /// (RetinaNet's number of positives, mmdet's `avg_factor`). Must lie in `[2^-126, 2^126]`
    /// for `f32` and `[2^-1022, 2^1022]` for `f64` (its reciprocal scales the gradient).
    pub normalizer: Option<f64>,
    /// The most threads this call may use: 0 for the library default (rayon's pool), 1 for
    /// the calling thread only. The results are the same bits for any value.
    pub threads: usize,
}

impl Default for SigmoidFocalOptions {
    fn default() -> Self {
        Self {
            gamma: 2.0,
            alpha: Some(0.25),
            label_smoothing: 0.0,
            reduction: Reduction::Mean,
            normalizer: None,
            threads: 0,
        }
    }
}

impl SigmoidFocalOptions {
    /// Sets the most threads a call may use (0: the library default).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }
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
}

/// An objective of the sigmoid focal family: its options type carries its parameters, the
/// label smoothing, the reduction and the thread limit. Every `sigmoid_focal_*` function
/// takes any of them. The trait is sealed: the kernels of every objective are the library's.
///
/// ```
/// use focal_loss::{sigmoid_focal_loss, SigmoidFocalOptions, SigmoidObjective, SigmoidTargets};
/// fn mean_loss(options: &impl SigmoidObjective) -> f32 {
///     let mut loss = [0.0f32];
///     sigmoid_focal_loss(&[2.0f32, -1.0], SigmoidTargets::Labels(&[1, 0]), None, options,
///                        &mut loss).unwrap();
///     loss[0]
/// }
/// assert!(mean_loss(&SigmoidFocalOptions::default()) > 0.0);
/// ```
pub trait SigmoidObjective: Sync + sealed::Sealed {
    /// The call these options describe, before validation.
    #[doc(hidden)]
    fn describe(&self) -> Description<'_>;
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

impl sealed::Sealed for SigmoidFocalOptions {}

impl SigmoidObjective for SigmoidFocalOptions {
    fn describe(&self) -> Description<'_> {
        Description {
            objective: Objective::Focal {
                gamma: self.gamma,
                alpha: self.alpha,
            },
            class_gamma: None,
            label_smoothing: self.label_smoothing,
            reduction: self.reduction,
            normalizer: self.normalizer,
            threads: self.threads,
        }
    }
}

/// Checks everything about a sigmoid call that does not depend on the outputs.
fn validate_inputs<T: Float>(
    logits: &[T],
    targets: &SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    call: &Description<'_>,
) -> Result<(), FocalError> {
    validate::description::<T>(call)?;
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
    match (call.objective, *targets) {
        (Objective::ClassFocal { .. }, SigmoidTargets::Classes { classes, .. }) => {
            let gamma = call.class_gamma.unwrap_or_default();
            if gamma.len() != classes {
                return Err(FocalError::ClassGammaLength {
                    expected: classes,
                    actual: gamma.len(),
                });
            }
        }
        (Objective::ClassFocal { .. }, _) => {
            return Err(FocalError::UnsupportedTargets {
                objective: "per-class focal loss",
                needs: "class-index targets (SigmoidTargets::Classes)",
            });
        }
        (Objective::ReducedFocal { .. }, SigmoidTargets::Soft(_)) => {
            return Err(FocalError::UnsupportedTargets {
                objective: "reduced focal loss",
                needs: "hard targets (labels or class indices)",
            });
        }
        _ => {}
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
pub(crate) fn sigmoid_focal_outputs<T: Float, O: SigmoidObjective + ?Sized>(
    logits: &[T],
    targets: SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    options: &O,
    loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
) -> Result<PartialLoss, FocalError> {
    let call = options.describe();
    validate_inputs(logits, &targets, weights, &call)?;
    let n = logits.len();
    validate::output_length(
        "loss",
        validate::loss_length(call.reduction, n),
        loss.as_deref(),
    )?;
    validate::output_length("grad", n, grad.as_deref())?;
    validate_values(&targets, weights)?;
    let outputs = if grad.is_some() {
        SigmoidOutputs::LossGrad
    } else {
        SigmoidOutputs::Loss
    };
    Ok(run(
        logits, &targets, weights, &call, None, outputs, loss, grad, None,
    ))
}

/// One shard's part of a reduced sigmoid loss: the sum of its weighted losses and its count
/// ([`PartialLoss`], combined across shards), and, when `grad` is given, the gradient the
/// options describe — with `.normalizer(global count)` and [`Reduction::Mean`], the gradient
/// of the whole batch's mean (the same bits a single call over the batch writes there).
///
/// # Errors
/// As [`sigmoid_focal_loss`]; `grad` is then untouched.
///
/// ```
/// use focal_loss::{sigmoid_focal_partial, SigmoidFocalOptions, SigmoidTargets};
/// // A shard of 2 elements of a batch of 8 (the global count, known before the call).
/// let options = SigmoidFocalOptions::default().normalizer(8.0);
/// let mut grad = [0.0f32; 2];
/// let part = sigmoid_focal_partial(&[0.5f32, -1.0], SigmoidTargets::Labels(&[1, 0]), None,
///                                  &options, Some(&mut grad))?;
/// assert_eq!(part.count(), 2);
/// assert!(part.sum() > 0.0 && grad[0] < 0.0 && grad[1] > 0.0);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
pub fn sigmoid_focal_partial<T: Float>(
    logits: &[T],
    targets: SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    options: &(impl SigmoidObjective + ?Sized),
    grad: Option<&mut [T]>,
) -> Result<PartialLoss, FocalError> {
    sigmoid_focal_outputs(logits, targets, weights, options, None, grad)
}

/// Validated arguments → the parallel kernels, then the reduction; returns the call's sum
/// and count.
#[allow(clippy::too_many_arguments)]
fn run<T: Float>(
    logits: &[T],
    targets: &SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    call: &Description<'_>,
    hessian_floor: Option<f64>,
    outputs: SigmoidOutputs,
    loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
    hess: Option<&mut [T]>,
) -> PartialLoss {
    let count = match *targets {
        SigmoidTargets::Classes { targets, classes } => {
            targets.iter().filter(|&&t| t >= 0).count() * classes
        }
        _ => logits.len(),
    };
    let divisor = crate::reduction::divisor(call.reduction, call.normalizer, count);
    if divisor == 0.0 {
        // A mean over nothing: 0, with a zero gradient (not 0/0).
        if let Some(loss) = loss {
            loss[0] = T::from_f64(0.0);
        }
        if let Some(grad) = grad {
            grad.fill(T::from_f64(0.0));
        }
        return PartialLoss::default();
    }
    let kernel_call = ElementwiseCall {
        objective: call.objective,
        class_gamma: call.class_gamma,
        label_smoothing: call.label_smoothing,
        grad_scale: 1.0 / divisor,
        hessian_floor,
    };
    let target_slices = match *targets {
        SigmoidTargets::Soft(y) => SigmoidTargetSlices::Soft(y),
        SigmoidTargets::Labels(y) => SigmoidTargetSlices::Labels(y),
        SigmoidTargets::Classes { targets, classes } => {
            SigmoidTargetSlices::Classes { targets, classes }
        }
    };
    let (elementwise_loss, reduced_loss) = match call.reduction {
        Reduction::None => (loss, None),
        Reduction::Sum | Reduction::Mean => (None, loss),
    };
    let sum = parallel::with_threads(call.threads, || {
        T::elementwise(
            logits,
            target_slices,
            weights,
            &kernel_call,
            outputs,
            elementwise_loss,
            grad,
            hess,
        )
    });
    if let Some(loss) = reduced_loss {
        loss[0] = T::from_f64(sum.value() / divisor);
    }
    PartialLoss::new(sum, count)
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
    options: &(impl SigmoidObjective + ?Sized),
    loss: &mut [T],
) -> Result<(), FocalError> {
    sigmoid_focal_outputs(logits, targets, weights, options, Some(loss), None).map(drop)
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
    options: &(impl SigmoidObjective + ?Sized),
    loss: &mut [T],
    grad: &mut [T],
) -> Result<(), FocalError> {
    sigmoid_focal_outputs(logits, targets, weights, options, Some(loss), Some(grad)).map(drop)
}

/// The gradient of the sigmoid focal loss alone (of the reduced loss, or of each element's
/// loss for [`Reduction::None`]), for callers that do not need the loss value.
///
/// # Errors
/// As [`sigmoid_focal_loss`]; `grad` is then untouched.
///
/// ```
/// use focal_loss::{sigmoid_focal_grad, sigmoid_focal_loss_grad, SigmoidFocalOptions, SigmoidTargets};
/// let (logits, labels) = ([1.5f32, -0.5, 3.0], [1u8, 0, 0]);
/// let options = SigmoidFocalOptions::default().threads(1); // on the calling thread only
/// let mut grad = [0.0f32; 3];
/// sigmoid_focal_grad(&logits, SigmoidTargets::Labels(&labels), None, &options, &mut grad)?;
/// let (mut loss, mut fused) = ([0.0f32], [0.0f32; 3]);
/// sigmoid_focal_loss_grad(&logits, SigmoidTargets::Labels(&labels), None, &options,
///                         &mut loss, &mut fused)?;
/// assert_eq!(grad, fused);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
pub fn sigmoid_focal_grad<T: Float>(
    logits: &[T],
    targets: SigmoidTargets<'_, T>,
    weights: Option<&[T]>,
    options: &(impl SigmoidObjective + ?Sized),
    grad: &mut [T],
) -> Result<(), FocalError> {
    sigmoid_focal_outputs(logits, targets, weights, options, None, Some(grad)).map(drop)
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
    options: &(impl SigmoidObjective + ?Sized),
    hessian_floor: Option<f64>,
    grad: &mut [T],
    hess: &mut [T],
) -> Result<(), FocalError> {
    // The reduction does not apply here, and so neither does its normaliser.
    let call = options.describe().per_element();
    validate_inputs(logits, &targets, weights, &call)?;
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
        &call,
        hessian_floor,
        SigmoidOutputs::GradHess,
        None,
        Some(grad),
        Some(hess),
    );
    Ok(())
}
