//! Softmax (multi-class) focal loss with class-index targets.

use crate::objective::SoftmaxCall;
use crate::{Float, FocalError, PartialLoss, Reduction, parallel, validate};

/// The shape of softmax logits: `[batch, classes, spatial]`, channels-first.
///
/// Class `j` of position `s` of sample `n` is at `(n·classes + j)·spatial + s`; `spatial = 1`
/// is the row-major `[batch, classes]` of classifiers and detection heads, `spatial = H·W`
/// the `[N, C, H, W]` of segmentation. There is one target per `(n, s)`, at `n·spatial + s`.
///
/// ```
/// use focal_loss::SoftmaxShape;
/// let rows = SoftmaxShape::rows(32, 80);                    // [32, 80]
/// let image = SoftmaxShape::channels_first(2, 21, 64 * 64); // [2, 21, 64, 64]
/// assert_eq!(rows.spatial, 1);
/// assert_eq!(image.classes, 21);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SoftmaxShape {
    /// Samples `N`.
    pub batch: usize,
    /// Classes `C` (the softmax axis).
    pub classes: usize,
    /// Positions per sample `S` (1 for row-major `[N, C]`).
    pub spatial: usize,
}

impl SoftmaxShape {
    /// Row-major `[batch, classes]`.
    pub fn rows(batch: usize, classes: usize) -> Self {
        Self {
            batch,
            classes,
            spatial: 1,
        }
    }

    /// Channels-first `[batch, classes, spatial]`.
    pub fn channels_first(batch: usize, classes: usize, spatial: usize) -> Self {
        Self {
            batch,
            classes,
            spatial,
        }
    }
}

/// The class weighting of the softmax focal loss.
///
/// ```
/// use focal_loss::{SoftmaxAlpha, SoftmaxFocalOptions};
/// let uniform = SoftmaxFocalOptions::default().alpha(0.25);
/// assert_eq!(uniform.alpha, SoftmaxAlpha::Uniform(0.25));
/// let per_class = SoftmaxFocalOptions::default().class_alpha(vec![0.1, 0.9]);
/// assert_eq!(per_class.alpha, SoftmaxAlpha::PerClass(vec![0.1, 0.9]));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub enum SoftmaxAlpha {
    /// No weighting (`α_t = 1`).
    #[default]
    Off,
    /// The same α ∈ [0, 1] for every class (a plain scale of the loss); like every α, 0 or at
    /// least the smallest normal number of the element type.
    Uniform(f64),
    /// One weight per class (≥ 0, finite in the element type of the call and 0 or a normal
    /// number of it: an `f32` call refuses 1e39 and 1e-39; values above 1 are allowed, as class weights of a cross-entropy): the
    /// loss of a position with target `t` is scaled by `α_t`.
    PerClass(Vec<f64>),
}

/// Options of the softmax focal loss. Default: γ = 2, α off, no label smoothing, mean
/// reduction, `ignore_index = −100` (PyTorch's).
///
/// With label smoothing `ls` the target distribution is `y_k = onehot·(1 − ls) + ls/C` and
/// the loss of a position is `Σ_k α_k·y_k·(1 − p_k)^γ_k·(−ln p_k)`.
///
/// Two members of the focal family are options here:
/// - **per-class γ** ([`class_gamma`](Self::class_gamma)): class `k` is focused by its own
///   `γ_k` (the target's for one-hot targets, each class term's own with smoothing);
/// - **poly-1** ([`epsilon`](Self::epsilon); PolyLoss, Leng et al. 2022): adds
///   `ε·(1 − p̄_t)^(γ_t+1)` with `p̄_t = Σ_k y_k·p_k` (the probability of the target, or its
///   smoothed expectation), as the paper's code does; ε = 0 is the focal loss.
///
/// ```
/// use focal_loss::{Reduction, SoftmaxFocalOptions};
/// let options = SoftmaxFocalOptions::default()
///     .gamma(2.0)
///     .class_alpha(vec![0.25, 0.75])
///     .label_smoothing(0.1)          // y ← onehot·0.9 + 0.1/C
///     .ignore_index(255)
///     .reduction(Reduction::Sum);
/// assert_eq!(options.ignore_index, 255);
/// let poly = SoftmaxFocalOptions::default().class_gamma(vec![1.0, 3.0]).epsilon(1.0);
/// assert_eq!(poly.epsilon, 1.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SoftmaxFocalOptions {
    /// The focusing parameter γ ∈ [0, 10⁴] (of every class without `class_gamma`).
    pub gamma: f64,
    /// One γ ∈ [0, 10⁴] per class instead of `gamma`, or `None`.
    pub class_gamma: Option<Vec<f64>>,
    /// The class weighting.
    pub alpha: SoftmaxAlpha,
    /// Poly-1's ε, any finite value (finite in the element type); 0 for the focal loss.
    pub epsilon: f64,
    /// Label smoothing `ls ∈ [0, 1)`: the target distribution is `onehot·(1 − ls) + ls/C`.
    pub label_smoothing: f64,
    /// How the per-position losses are combined.
    pub reduction: Reduction,
    /// With [`Reduction::Mean`], divide the sum by this instead of the number of positions
    /// that are not ignored. Must lie in `[2^-126, 2^126]` for `f32` and `[2^-1022, 2^1022]`
    /// for `f64` (its reciprocal scales the gradient).
    pub normalizer: Option<f64>,
    /// Positions whose target equals this are ignored: loss 0, gradient 0, not counted.
    pub ignore_index: i32,
    /// The most threads this call may use: 0 for the library default (rayon's pool), 1 for
    /// the calling thread only. The results are the same bits for any value.
    pub threads: usize,
}

impl Default for SoftmaxFocalOptions {
    fn default() -> Self {
        Self {
            gamma: 2.0,
            class_gamma: None,
            alpha: SoftmaxAlpha::Off,
            epsilon: 0.0,
            label_smoothing: 0.0,
            reduction: Reduction::Mean,
            normalizer: None,
            ignore_index: -100,
            threads: 0,
        }
    }
}

impl SoftmaxFocalOptions {
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
    /// Sets one γ per class (replacing `gamma` for every class), or clears it with `None`.
    pub fn class_gamma(mut self, gamma: impl Into<Option<Vec<f64>>>) -> Self {
        self.class_gamma = gamma.into();
        self
    }
    /// Sets poly-1's ε (0: the focal loss).
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }
    /// Sets one α for every class, or switches α off with `None`.
    pub fn alpha(mut self, alpha: impl Into<Option<f64>>) -> Self {
        self.alpha = alpha
            .into()
            .map_or(SoftmaxAlpha::Off, SoftmaxAlpha::Uniform);
        self
    }
    /// Sets one α per class (replacing a scalar α).
    pub fn class_alpha(mut self, alpha: impl Into<Vec<f64>>) -> Self {
        self.alpha = SoftmaxAlpha::PerClass(alpha.into());
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
    /// Sets the target value that marks an ignored position.
    pub fn ignore_index(mut self, ignore_index: i32) -> Self {
        self.ignore_index = ignore_index;
        self
    }

    /// Checks the options for a call of `classes` classes in element type `T` (class α is
    /// computed with in `T`, so it must be finite there).
    fn validate<T: Float>(&self, classes: usize) -> Result<(), FocalError> {
        validate::gamma(self.gamma)?;
        if let Some(gamma) = &self.class_gamma {
            if gamma.len() != classes {
                return Err(FocalError::ClassGammaLength {
                    expected: classes,
                    actual: gamma.len(),
                });
            }
            validate::class_gamma(gamma)?;
        }
        validate::finite_in::<T>("epsilon", self.epsilon)?;
        match &self.alpha {
            SoftmaxAlpha::Off => {}
            SoftmaxAlpha::Uniform(a) => validate::alpha::<T>(Some(*a))?,
            SoftmaxAlpha::PerClass(alpha) => {
                if alpha.len() != classes {
                    return Err(FocalError::ClassAlphaLength {
                        expected: classes,
                        actual: alpha.len(),
                    });
                }
                validate::class_alpha::<T>(alpha)?;
            }
        }
        validate::label_smoothing(self.label_smoothing)?;
        validate::smoothing_share::<T>(
            self.label_smoothing,
            self.label_smoothing / classes.max(1) as f64,
        )?;
        validate::normalizer::<T>(self.reduction, self.normalizer)
    }
}

/// The softmax call behind the public functions and the C ABI: either output may be absent.
pub(crate) fn softmax_focal_outputs<T: Float>(
    logits: &[T],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
    loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
) -> Result<PartialLoss, FocalError> {
    checked_call(logits, targets, shape, options, loss, grad, None)
}

/// Validates a call (the Hessian needs one-hot targets and a floor that is not NaN), then
/// runs it.
fn checked_call<T: Float>(
    logits: &[T],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
    loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
    hess: Option<(&mut [T], Option<f64>)>,
) -> Result<PartialLoss, FocalError> {
    let SoftmaxShape {
        batch,
        classes,
        spatial,
    } = shape;
    if batch > 0 && spatial == 0 {
        return Err(FocalError::EmptyDimension {
            dimension: "spatial",
        });
    }
    let positions = validate::product(&[batch, spatial])?;
    if positions > 0 && classes == 0 {
        return Err(FocalError::EmptyDimension {
            dimension: "classes",
        });
    }
    let elements = validate::product(&[positions, classes])?;
    options.validate::<T>(classes)?;
    if let Some((_, floor)) = &hess {
        if options.label_smoothing != 0.0 {
            return Err(FocalError::UnsupportedTargets {
                objective: "softmax focal Hessian",
                needs: "one-hot targets (label_smoothing 0)",
            });
        }
        if let Some(floor) = floor.filter(|f| f.is_nan()) {
            return Err(FocalError::InvalidHessianFloor(floor));
        }
    }
    validate::input_length("logits", elements, logits.len())?;
    validate::input_length("targets", positions, targets.len())?;
    validate::output_length(
        "loss",
        validate::loss_length(options.reduction, positions),
        loss.as_deref(),
    )?;
    validate::output_length("grad", elements, grad.as_deref())?;
    if let Some((hess, _)) = &hess {
        validate::output_length("hess", elements, Some(&**hess))?;
    }
    if let Some(index) = targets
        .iter()
        .position(|&t| t != options.ignore_index && !(t >= 0 && (t as usize) < classes))
    {
        return Err(FocalError::SoftmaxClassOutOfRange {
            index,
            value: targets[index],
            classes,
            ignore_index: options.ignore_index,
        });
    }
    Ok(run(logits, targets, shape, options, loss, grad, hess))
}

/// Validated arguments → the parallel kernels, then the reduction; returns the call's sum
/// and count.
fn run<T: Float>(
    logits: &[T],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
    loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
    hess: Option<(&mut [T], Option<f64>)>,
) -> PartialLoss {
    let (hess, hessian_floor) = match hess {
        Some((hess, floor)) => (Some(hess), floor),
        None => (None, None),
    };
    let count = targets
        .iter()
        .filter(|&&t| t != options.ignore_index)
        .count();
    let divisor = crate::reduction::divisor(options.reduction, options.normalizer, count);
    if divisor == 0.0 || shape.classes == 0 {
        // A mean over nothing (or no data): 0, with a zero gradient (not 0/0).
        if let Some(loss) = loss {
            loss.fill(T::from_f64(0.0));
        }
        if let Some(grad) = grad {
            grad.fill(T::from_f64(0.0));
        }
        if let Some(hess) = hess {
            hess.fill(T::from_f64(0.0));
        }
        return PartialLoss::default();
    }
    let call = SoftmaxCall {
        gamma: options.gamma,
        class_gamma: options.class_gamma.as_deref(),
        alpha: &options.alpha,
        epsilon: options.epsilon,
        label_smoothing: options.label_smoothing,
        grad_scale: 1.0 / divisor,
        ignore_index: options.ignore_index,
        hessian_floor,
    };
    let (elementwise_loss, reduced_loss) = match options.reduction {
        Reduction::None => (loss, None),
        Reduction::Sum | Reduction::Mean => (None, loss),
    };
    let sum = parallel::with_threads(options.threads, || {
        T::softmax(
            logits,
            targets,
            shape.classes,
            shape.spatial,
            &call,
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

/// Softmax focal loss of `logits` (shape `shape`) against class-index `targets`.
///
/// `loss` holds one value per position (`batch·spatial`, index `n·spatial + s`) for
/// [`Reduction::None`], one value otherwise. A target equal to `options.ignore_index` is
/// ignored; any other target outside `[0, classes)` is an error.
///
/// # Errors
/// Any invalid option, shape, length or target ([`FocalError`]); `loss` is then untouched.
///
/// ```
/// use focal_loss::{softmax_focal_loss, SoftmaxFocalOptions, SoftmaxShape};
/// // 2 samples × 3 classes, row-major.
/// let logits = [2.0f32, 0.5, -1.0, 0.0, 0.0, 3.0];
/// let targets = [0, 2];
/// let mut loss = [0.0f32];
/// softmax_focal_loss(&logits, &targets, SoftmaxShape::rows(2, 3),
///                    &SoftmaxFocalOptions::default(), &mut loss)?;
/// assert!(loss[0] > 0.0 && loss[0] < 0.1);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
pub fn softmax_focal_loss<T: Float>(
    logits: &[T],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
    loss: &mut [T],
) -> Result<(), FocalError> {
    softmax_focal_outputs(logits, targets, shape, options, Some(loss), None).map(drop)
}

/// Softmax focal loss and its gradient (same layout as `logits`) in one pass.
///
/// For [`Reduction::None`] the gradient is that of each position's loss with respect to its
/// own logits (the gradient of the sum); otherwise the gradient of the reduced scalar.
/// Ignored positions get a zero gradient.
///
/// # Errors
/// As [`softmax_focal_loss`]; `loss` and `grad` are then untouched.
///
/// ```
/// use focal_loss::{softmax_focal_loss_grad, SoftmaxFocalOptions, SoftmaxShape};
/// // [N = 1, C = 2, S = 2] channels-first: position 0 has logits (1, 0), position 1 (0, 4).
/// let logits = [1.0f64, 0.0, 0.0, 4.0];
/// let targets = [0, -100]; // the second position is ignored
/// let (mut loss, mut grad) = ([0.0], [0.0; 4]);
/// softmax_focal_loss_grad(&logits, &targets, SoftmaxShape::channels_first(1, 2, 2),
///                         &SoftmaxFocalOptions::default(), &mut loss, &mut grad)?;
/// assert!(grad[0] < 0.0 && grad[2] > 0.0);     // pushes class 0 up at position 0
/// assert_eq!((grad[1], grad[3]), (0.0, 0.0));  // ignored position
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
pub fn softmax_focal_loss_grad<T: Float>(
    logits: &[T],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
    loss: &mut [T],
    grad: &mut [T],
) -> Result<(), FocalError> {
    softmax_focal_outputs(logits, targets, shape, options, Some(loss), Some(grad)).map(drop)
}

/// The gradient of the softmax focal loss alone (same layout as `logits`), for callers that
/// do not need the loss value.
///
/// # Errors
/// As [`softmax_focal_loss`]; `grad` is then untouched.
///
/// ```
/// use focal_loss::{softmax_focal_grad, SoftmaxFocalOptions, SoftmaxShape};
/// let logits = [2.0f32, 0.5, -1.0];
/// let mut grad = [0.0f32; 3];
/// softmax_focal_grad(&logits, &[1], SoftmaxShape::rows(1, 3),
///                    &SoftmaxFocalOptions::default().threads(1), &mut grad)?;
/// assert!(grad[1] < 0.0 && grad[0] > 0.0);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
pub fn softmax_focal_grad<T: Float>(
    logits: &[T],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
    grad: &mut [T],
) -> Result<(), FocalError> {
    softmax_focal_outputs(logits, targets, shape, options, None, Some(grad)).map(drop)
}

/// Per-position gradient and diagonal Hessian of the softmax focal loss (same layout as
/// `logits`): the multi-class custom objective of a gradient-boosting library (XGBoost's
/// `multi:softprob` layout is `[N, K]` row-major: `SoftmaxShape::rows(N, K)`).
///
/// For one-hot targets (`label_smoothing` must be 0); γ, per-class γ, α, per-class α, poly-1's
/// ε and `ignore_index` apply; the reduction and normaliser of `options` are not used (the
/// values are those of each position's own loss). `H_jj = ∂²L/∂x_j²` is formed from bounded
/// terms for every γ ≥ 0 (docs/MATH.md, "Softmax Hessian"). Like the sigmoid focal Hessian it
/// is negative where the target's probability is small (`p_t` below about 0.06 at γ = 2, and
/// for the other classes of such rows); Newton steps need it positive, so `hessian_floor`
/// raises every value below it to it. Ignored positions get 0 and 0. The gradient has the
/// bits of [`softmax_focal_grad`] with [`Reduction::Sum`] where that call runs across
/// positions (channels-first, or fewer than 16 classes).
///
/// # Errors
/// As [`softmax_focal_loss`], label smoothing (`FocalError::UnsupportedTargets`) and a NaN
/// `hessian_floor`; `grad` and `hess` are then untouched.
///
/// ```
/// use focal_loss::{softmax_focal_grad_hess, SoftmaxFocalOptions, SoftmaxShape};
/// // Two samples, three classes (row-major), γ = 2.
/// let logits = [2.0f64, 0.5, -1.0, -3.0, 0.0, 4.0];
/// let (mut grad, mut hess) = ([0.0; 6], [0.0; 6]);
/// softmax_focal_grad_hess(&logits, &[0, 0], SoftmaxShape::rows(2, 3),
///                         &SoftmaxFocalOptions::default(), Some(1e-6), &mut grad, &mut hess)?;
/// assert!(grad[0] < 0.0 && hess[0] > 0.0);   // a well-classified row: convex
/// assert!(grad[3] < 0.0 && hess[3] == 1e-6); // badly misclassified: floored
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
pub fn softmax_focal_grad_hess<T: Float>(
    logits: &[T],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
    hessian_floor: Option<f64>,
    grad: &mut [T],
    hess: &mut [T],
) -> Result<(), FocalError> {
    // The reduction does not apply here, and so neither does its normaliser.
    let per_position = SoftmaxFocalOptions {
        reduction: Reduction::None,
        normalizer: None,
        ..options.clone()
    };
    checked_call(
        logits,
        targets,
        shape,
        &per_position,
        None,
        Some(grad),
        Some((hess, hessian_floor)),
    )
    .map(drop)
}

/// One shard's part of a reduced softmax loss: the sum of its position losses and the count
/// of positions that are not ignored ([`PartialLoss`], combined across shards), and, when
/// `grad` is given, the gradient the options describe — with `.normalizer(global count)` and
/// [`Reduction::Mean`], the gradient of the whole batch's mean.
///
/// # Errors
/// As [`softmax_focal_loss`]; `grad` is then untouched.
///
/// ```
/// use focal_loss::{softmax_focal_partial, SoftmaxFocalOptions, SoftmaxShape};
/// let logits = [2.0f32, 0.5, -1.0, 0.0, 0.0, 3.0];
/// let part = softmax_focal_partial(&logits, &[0, -100], SoftmaxShape::rows(2, 3),
///                                  &SoftmaxFocalOptions::default(), None)?;
/// assert_eq!(part.count(), 1); // the second row is ignored
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
pub fn softmax_focal_partial<T: Float>(
    logits: &[T],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
    grad: Option<&mut [T]>,
) -> Result<PartialLoss, FocalError> {
    softmax_focal_outputs(logits, targets, shape, options, None, grad)
}
