//! The C ABI: `include/focal_loss.h` (generated from this file by cbindgen) and the
//! `staticlib` / `cdylib` builds of the crate.
//!
//! A thin skin over the Rust API: every entry point (one `float_and_double!` definition for
//! each f32/f64 pair, one prologue `call` for all) checks its pointers (NULL, alignment for
//! the element type, buffers that would alias an output) and lengths (element counts and byte
//! sizes that overflow), converts the C options, calls the Rust function, and maps
//! [`FocalError`](crate::FocalError) to a [`FocalStatus`](crate::ffi::FocalStatus). Nothing
//! is written unless the status is `FOCAL_OK`; no panic crosses the boundary (it becomes
//! `FOCAL_ERROR_INTERNAL`).
//!
//! The doc comments of the public items are copied into the C header: they are written for
//! C callers.

use crate::sigmoid::sigmoid_focal_outputs;
use crate::softmax::softmax_focal_outputs;
use crate::{
    AsymmetricOptions, Float, FocalError, FocalStarOptions, PerClassFocalOptions,
    Poly1FocalOptions, QualityFocalOptions, ReducedFocalOptions, Reduction, SigmoidFocalOptions,
    SigmoidObjective, SigmoidTargets, SimdLevel, SoftmaxAlpha, SoftmaxFocalOptions, SoftmaxShape,
    VarifocalOptions,
};
use core::ffi::{CStr, c_char};
use core::mem::{align_of, size_of};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The result of every computing function of the C API.
///
/// - `FOCAL_OK`: success; the outputs hold the results.
/// - `FOCAL_ERROR_NULL_POINTER`: a required pointer is NULL (logits, targets, options; `grad`
///   and `hess` of the grad_hess functions), even when the length is 0.
/// - `FOCAL_ERROR_INVALID_ARGUMENT`: an option out of range or NaN, an unknown `reduction`
///   value, a soft target outside [0, 1] or NaN, a negative or non-finite weight or class
///   alpha, a non-zero alpha or class alpha below the smallest normal number of the element
///   type (2^-126 f32, 2^-1022 f64), a non-zero normalizer with reduction NONE or SUM or
///   outside [2^-126, 2^126] (f32) / [2^-1022, 2^1022] (f64), both `loss` and `grad` NULL,
///   `class_alpha` given while `opt->alpha` >= 0, a misaligned pointer, an output that
///   overlaps another buffer of the call, a NaN `hess_floor`.
/// - `FOCAL_ERROR_TARGET_OUT_OF_RANGE`: a u8 label other than 0/1; a multi-label class index
///   above `classes`; a softmax target outside [0, classes) that is not `ignore_index`.
/// - `FOCAL_ERROR_LENGTH`: `classes` or `spatial` is 0 while there is data, or an element
///   count or byte size overflows.
/// - `FOCAL_ERROR_INTERNAL`: a bug in the library (a Rust panic was caught); please report it.
///
/// When the status is not `FOCAL_OK`, no output has been written: every check runs before
/// the computation (only after `FOCAL_ERROR_INTERNAL` may the outputs hold partial results).
// The variant names carry the `Focal` prefix because cbindgen can only turn them into the
// C names (`FocalErrorLength` → `FOCAL_ERROR_LENGTH`), not add a prefix that is not the
// enum's name.
/// cbindgen:rename-all=ScreamingSnakeCase
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(clippy::enum_variant_names)]
pub enum FocalStatus {
    /// Success.
    FocalOk = 0,
    /// A required pointer is NULL.
    FocalErrorNullPointer = 1,
    /// An argument is out of range (see `focal_status`).
    FocalErrorInvalidArgument = 2,
    /// An integer target is out of range.
    FocalErrorTargetOutOfRange = 3,
    /// A dimension is 0 while there is data, or a size overflows.
    FocalErrorLength = 4,
    /// A bug in the library (a caught Rust panic).
    FocalErrorInternal = 5,
}

/// How the per-element losses are combined into `loss`.
///
/// - `FOCAL_REDUCTION_NONE`: one loss per element (per position for softmax).
/// - `FOCAL_REDUCTION_SUM`: one value, the sum.
/// - `FOCAL_REDUCTION_MEAN`: one value, the sum divided by the number of elements that are
///   not ignored, or by `normalizer` when it is > 0. A mean over nothing (no element, every
///   element ignored) is 0 with a zero gradient.
///
/// The gradient is that of the returned loss (for NONE, of each element's own loss).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FocalReduction {
    /// One loss per element.
    None = 0,
    /// The sum of the losses.
    Sum = 1,
    /// The mean of the losses (or the sum divided by `normalizer`).
    Mean = 2,
}

/// A `focal_reduction` as C passes it: any `int`-sized value.
///
/// C can store any integer in an enum-typed field, and a Rust enum holding a value that is
/// not one of its variants is undefined behaviour. The option structs therefore hold this
/// transparent `u32` (same size and alignment as the C enum), which cbindgen writes as
/// `focal_reduction` in the header (`[export.rename]` in `cbindgen.toml`, and this type itself
/// is not emitted); the value is checked when the options are converted (unknown value:
/// `FOCAL_ERROR_INVALID_ARGUMENT`). Rust callers build it with
/// `FocalReductionCode::from(FocalReduction::Mean)`.
/// cbindgen:no-export
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FocalReductionCode(pub u32);

impl From<FocalReduction> for FocalReductionCode {
    fn from(reduction: FocalReduction) -> Self {
        Self(reduction as u32)
    }
}

/// A `focal_status` as C passes it to [`focal_status_message`]: any `int`-sized value (see
/// [`FocalReductionCode`] for why this is not the Rust enum).
/// cbindgen:no-export
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FocalStatusCode(pub u32);

impl From<FocalStatus> for FocalStatusCode {
    fn from(status: FocalStatus) -> Self {
        Self(status as u32)
    }
}

/// The loss a sigmoid call computes (the `objective` field of `focal_sigmoid_options`); each
/// reads the option fields its documentation names and ignores the others. Start from
/// `focal_sigmoid_options_for(objective)` for an objective's published defaults.
///
/// - `FOCAL_OBJECTIVE_FOCAL` (0, the default): focal loss, `alpha_t*(1-p_t)^gamma*CE`;
///   `gamma`, `alpha`, and `class_gamma` (one gamma per class, `focal_sigmoid_classes_*` only).
/// - `FOCAL_OBJECTIVE_FOCAL_STAR`: FL*, `-alpha_t*log(sigmoid(gamma*z + beta))/gamma` with
///   `z = (2y-1)*x` (RetinaNet appendix A); `gamma` > 0 and a normal number of the element
///   type (at least 2^-126 for f32, 2^-1022 for f64), `beta`, `alpha`. Defaults 1, 0, off.
/// - `FOCAL_OBJECTIVE_POLY1`: poly-1 focal loss, the focal loss plus
///   `epsilon*(1-p_t)^(gamma+1)` (PolyLoss); `gamma`, `alpha`, `epsilon` (default 1).
/// - `FOCAL_OBJECTIVE_ASYMMETRIC`: ASL, `y*(1-p)^gamma*(-log p) +
///   (1-y)*p_m^gamma_negative*(-log(1-p_m))`, `p_m = max(p - margin, 0)`; `gamma` (the
///   positives' gamma), `gamma_negative`, `margin`. Defaults 1, 4, 0.05.
/// - `FOCAL_OBJECTIVE_QUALITY_FOCAL`: QFL, `CE(x, y)*|y - sigmoid(x)|^gamma` for a quality
///   target y (GFL's beta is `gamma` here); default 2.
/// - `FOCAL_OBJECTIVE_VARIFOCAL`: VFL, `y*CE` for y > 0 and
///   `alpha*sigmoid(x)^gamma*CE` for y = 0; `alpha` in [0, 1] (required), `gamma`; no label
///   smoothing. Defaults 0.75, 2.
/// - `FOCAL_OBJECTIVE_REDUCED_FOCAL`: reduced focal loss, the focal factor
///   `((1-p_t)/threshold)^gamma` where `p_t >= threshold`, 1 below; `gamma`, `threshold`,
///   `alpha`; hard targets only (u8 labels, class indices), no label smoothing. Defaults 2,
///   0.5, off.
///
/// The README's family table has the formulas, sources and the peers' names.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FocalObjective {
    /// Focal loss (Lin et al. 2017).
    Focal = 0,
    /// FL* (RetinaNet appendix A).
    FocalStar = 1,
    /// Poly-1 focal loss (Leng et al. 2022).
    Poly1 = 2,
    /// Asymmetric loss (Ben-Baruch et al. 2021).
    Asymmetric = 3,
    /// Quality focal loss (Li et al. 2020).
    QualityFocal = 4,
    /// Varifocal loss (Zhang et al. 2021).
    Varifocal = 5,
    /// Reduced focal loss (Sergievskiy & Ponamarev 2019).
    ReducedFocal = 6,
}

/// A `focal_objective` as C passes it: any `int`-sized value (see [`FocalReductionCode`]).
/// cbindgen:no-export
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FocalObjectiveCode(pub u32);

impl From<FocalObjective> for FocalObjectiveCode {
    fn from(objective: FocalObjective) -> Self {
        Self(objective as u32)
    }
}

// The newtypes stand for C enums in `#[repr(C)]` structs and signatures: same layout.
const _: () = assert!(size_of::<FocalObjectiveCode>() == size_of::<FocalObjective>());
const _: () = assert!(align_of::<FocalObjectiveCode>() == align_of::<FocalObjective>());
const _: () = assert!(size_of::<FocalReductionCode>() == size_of::<FocalReduction>());
const _: () = assert!(align_of::<FocalReductionCode>() == align_of::<FocalReduction>());
const _: () = assert!(size_of::<FocalStatusCode>() == size_of::<FocalStatus>());
const _: () = assert!(align_of::<FocalStatusCode>() == align_of::<FocalStatus>());

/// Options of the sigmoid losses (binary and multi-label heads). Start from
/// `focal_sigmoid_options_default()` (the focal loss) or `focal_sigmoid_options_for(objective)`
/// and change fields. `objective` says which loss; fields it does not use are ignored.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FocalSigmoidOptions {
    /// The focusing parameter gamma, in [0, 10000] (0: alpha-weighted cross-entropy); the
    /// positives' gamma of ASYMMETRIC, the exponent beta of QUALITY_FOCAL; for FOCAL_STAR
    /// > 0 and a normal number of the element type (FL* divides by it).
    pub gamma: f64,
    /// alpha in [0, 1] weights positives by alpha and negatives by 1 - alpha; any negative
    /// value switches the weighting off. NaN, > 1, or in (0, 2^-126) for f32 (0, 2^-1022) for
    /// f64: `FOCAL_ERROR_INVALID_ARGUMENT`. VARIFOCAL: the negatives' weight, in [0, 1].
    /// Not used by ASYMMETRIC and QUALITY_FOCAL.
    pub alpha: f64,
    /// Label smoothing in [0, 1): targets become y*(1 - ls) + ls/2.
    pub label_smoothing: f64,
    /// How the losses are combined (not used by the grad_hess functions).
    pub reduction: FocalReductionCode,
    /// 0: not used. Positive: with `FOCAL_REDUCTION_MEAN`, the sum is divided by it instead
    /// of the element count (e.g. the number of positive anchors); NONE and SUM refuse it.
    /// Negative, NaN, infinite or outside [2^-126, 2^126] (f32) / [2^-1022, 2^1022] (f64):
    /// `FOCAL_ERROR_INVALID_ARGUMENT`. Not used by grad_hess.
    pub normalizer: f64,
    /// The most threads one call may use: 0 for the library default (a global pool of one
    /// thread per CPU, or `RAYON_NUM_THREADS`), 1 for a single thread, k for at most k.
    /// The calling thread works on the call too; small inputs (one chunk of work, 16K
    /// logits) run on it alone. Every value is
    /// valid, and the results have the same bits for every value.
    pub threads: u32,
    /// The loss (`focal_objective`); an unknown value is `FOCAL_ERROR_INVALID_ARGUMENT`.
    pub objective: FocalObjectiveCode,
    /// FOCAL_STAR: the shift beta, any finite value.
    pub beta: f64,
    /// POLY1: epsilon, any finite value (finite in the element type).
    pub epsilon: f64,
    /// ASYMMETRIC: the negatives' gamma, in [0, 10000].
    pub gamma_negative: f64,
    /// ASYMMETRIC: the margin m in [0, 1) (0 or a normal number of the element type).
    pub margin: f64,
    /// REDUCED_FOCAL: the threshold in (0, 1]; threshold^-gamma must be finite in the
    /// element type.
    pub threshold: f64,
    /// FOCAL with `focal_sigmoid_classes_*`: NULL, or `classes` values of gamma in
    /// [0, 10000], one per class, used instead of `gamma`. Non-NULL with another function or
    /// objective: `FOCAL_ERROR_INVALID_ARGUMENT`.
    pub class_gamma: *const f64,
}

/// Options of the softmax (multi-class) focal loss. Start from
/// `focal_softmax_options_default()` and change fields.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FocalSoftmaxOptions {
    /// The focusing parameter gamma, in [0, 10000].
    pub gamma: f64,
    /// One alpha in [0, 1] for every class (a plain scale of the loss); any negative value
    /// switches it off. Per-class weights are the separate `class_alpha` argument: give one or
    /// the other.
    pub alpha: f64,
    /// Label smoothing in [0, 1): the target distribution is onehot*(1 - ls) + ls/classes.
    pub label_smoothing: f64,
    /// How the per-position losses are combined.
    pub reduction: FocalReductionCode,
    /// 0: not used. Positive: with `FOCAL_REDUCTION_MEAN`, the sum is divided by it instead
    /// of the number of positions that are not ignored; NONE and SUM refuse it, and so does
    /// a value outside [2^-126, 2^126] (f32) / [2^-1022, 2^1022] (f64).
    pub normalizer: f64,
    /// Positions whose target equals this are ignored: loss 0, gradient 0, not counted by
    /// the mean. Default -100 (PyTorch's).
    pub ignore_index: i32,
    /// The most threads one call may use, as in `focal_sigmoid_options`.
    pub threads: u32,
    /// Poly-1 (PolyLoss): adds `epsilon*(1 - sum_k y_k*p_k)^(gamma_t+1)`; 0 (the default)
    /// for the focal loss. Any finite value (finite in the element type).
    pub epsilon: f64,
    /// NULL, or `classes` values of gamma in [0, 10000], one per class, used instead of
    /// `gamma` (the target's for one-hot rows, each class term's own with label smoothing).
    pub class_gamma: *const f64,
}

/// The default sigmoid options, the focal loss of Lin et al. 2017: gamma 2, alpha 0.25, no
/// label smoothing, `FOCAL_REDUCTION_MEAN`, no normalizer, threads 0 (library default), the
/// other objectives' fields at their defaults, `class_gamma` NULL.
#[unsafe(no_mangle)]
pub extern "C" fn focal_sigmoid_options_default() -> FocalSigmoidOptions {
    FocalSigmoidOptions {
        gamma: 2.0,
        alpha: 0.25,
        label_smoothing: 0.0,
        reduction: FocalReduction::Mean.into(),
        normalizer: 0.0,
        threads: 0,
        objective: FocalObjective::Focal.into(),
        beta: 0.0,
        epsilon: 1.0,
        gamma_negative: 4.0,
        margin: 0.05,
        threshold: 0.5,
        class_gamma: core::ptr::null(),
    }
}

/// The sigmoid options of `objective` with its published defaults (see `focal_objective`;
/// reduction MEAN, no smoothing, no normalizer, threads 0). An unknown value gives the focal
/// loss's defaults with that `objective` value, which a call then refuses.
#[unsafe(no_mangle)]
pub extern "C" fn focal_sigmoid_options_for(objective: FocalObjectiveCode) -> FocalSigmoidOptions {
    let focal = FocalSigmoidOptions {
        objective,
        ..focal_sigmoid_options_default()
    };
    match objective_of(objective) {
        Ok(FocalObjective::Focal) | Err(_) => focal,
        Ok(FocalObjective::FocalStar) => FocalSigmoidOptions {
            gamma: 1.0,
            alpha: -1.0,
            ..focal
        },
        Ok(FocalObjective::Poly1) => focal,
        Ok(FocalObjective::Asymmetric) => FocalSigmoidOptions {
            gamma: 1.0,
            alpha: -1.0,
            ..focal
        },
        Ok(FocalObjective::QualityFocal) => FocalSigmoidOptions {
            alpha: -1.0,
            ..focal
        },
        Ok(FocalObjective::Varifocal) => FocalSigmoidOptions {
            alpha: 0.75,
            ..focal
        },
        Ok(FocalObjective::ReducedFocal) => FocalSigmoidOptions {
            alpha: -1.0,
            ..focal
        },
    }
}

/// The default softmax options: gamma 2, alpha off (-1), no label smoothing,
/// `FOCAL_REDUCTION_MEAN`, no normalizer, ignore_index -100, threads 0 (library default).
#[unsafe(no_mangle)]
pub extern "C" fn focal_softmax_options_default() -> FocalSoftmaxOptions {
    FocalSoftmaxOptions {
        gamma: 2.0,
        alpha: -1.0,
        label_smoothing: 0.0,
        reduction: FocalReduction::Mean.into(),
        normalizer: 0.0,
        ignore_index: -100,
        threads: 0,
        epsilon: 0.0,
        class_gamma: core::ptr::null(),
    }
}

/// One C function for `float` and for `double` from one definition (C has no generics, so the
/// header needs both, with concrete types): `fn name_f32 / name_f64(...)` with one parameter
/// list, in which `T` stands for the element type (every other parameter type is a single
/// name, optionally behind `*const` / `*mut`), and one body, generic code that infers `T` from
/// the arguments. The doc comment is the f32 function's; the f64 one refers to it. Both are
/// `#[unsafe(no_mangle)] pub unsafe extern "C"` and return a `FocalStatus`.
///
/// cbindgen sees the two functions in the expanded crate (`[parse.expand]` in cbindgen.toml).
macro_rules! float_and_double {
    (
        $(#[$attr:meta])*
        fn $f32:ident / $f64:ident(
            $($arg:ident: $(*$pointer:ident)? $ty:ident),* $(,)?
        ) $body:block
    ) => {
        $(#[$attr])*
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $f32($($arg: $(*$pointer)? element!($ty, f32)),*) -> FocalStatus
            $body

        #[doc = concat!(" `", stringify!($f32), "` with `double` values.")]
        ///
        /// # Safety
        #[doc = concat!(" As `", stringify!($f32), "`.")]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $f64($($arg: $(*$pointer)? element!($ty, f64)),*) -> FocalStatus
            $body
    };
}

/// A parameter type of `float_and_double!`: `T` is the element type, any other name itself.
macro_rules! element {
    (T, $float:ty) => {
        $float
    };
    ($other:ident, $float:ty) => {
        $other
    };
}

float_and_double! {
    /// Sigmoid focal loss with soft targets in [0, 1], one per logit.
    ///
    /// - `logits`, `targets`: `n` values each (required).
    /// - `weights`: NULL, or `n` finite values >= 0 multiplying each element's loss (the mean
    ///   still divides by `n`).
    /// - `opt`: required.
    /// - `loss`: `n` values for `FOCAL_REDUCTION_NONE`, else 1; `grad`: `n` values. Either may be
    ///   NULL (not computed), not both.
    ///
    /// Nothing is written when the status is not `FOCAL_OK`. Every buffer is the caller's; the
    /// outputs must not overlap each other or an input (checked).
    ///
    /// # Safety
    /// Every non-NULL pointer must be valid for the number of elements above (reads for the
    /// inputs, writes for the outputs) for the duration of the call, and `opt` must point to a
    /// `focal_sigmoid_options`.
    fn focal_sigmoid_f32 / focal_sigmoid_f64(
        logits: *const T,
        targets: *const T,
        weights: *const T,
        n: usize,
        opt: *const FocalSigmoidOptions,
        loss: *mut T,
        grad: *mut T,
    ) {
        let targets = RawTargets::Soft(targets);
        // SAFETY: the caller's contract is that of `sigmoid`.
        unsafe { sigmoid(logits, targets, weights, n, opt, loss, grad) }
    }
}

float_and_double! {
    /// Sigmoid focal loss with hard labels, one byte (0 or 1) per logit; any other label value is
    /// `FOCAL_ERROR_TARGET_OUT_OF_RANGE`. Arguments otherwise as `focal_sigmoid_f32`.
    ///
    /// # Safety
    /// As `focal_sigmoid_f32`, with `labels` valid for `n` bytes.
    fn focal_sigmoid_labels_f32 / focal_sigmoid_labels_f64(
        logits: *const T,
        labels: *const u8,
        weights: *const T,
        n: usize,
        opt: *const FocalSigmoidOptions,
        loss: *mut T,
        grad: *mut T,
    ) {
        let targets = RawTargets::Labels(labels);
        // SAFETY: the caller's contract is that of `sigmoid`.
        unsafe { sigmoid(logits, targets, weights, n, opt, loss, grad) }
    }
}

float_and_double! {
    /// Sigmoid focal loss of a multi-label head: `logits` is row-major [rows, classes] and
    /// `targets` holds one class index per row (mmcv's form): a value in [0, classes) makes that
    /// class positive and the others negative, `classes` means background (all negative), a
    /// negative value ignores the row (loss 0, gradient 0, not counted by the mean). A value
    /// above `classes` is `FOCAL_ERROR_TARGET_OUT_OF_RANGE`; `classes` = 0 with rows > 0 is
    /// `FOCAL_ERROR_LENGTH`.
    ///
    /// `loss`: rows*classes values for `FOCAL_REDUCTION_NONE`, else 1; `grad`: rows*classes.
    /// Either may be NULL, not both.
    ///
    /// # Safety
    /// `logits` valid for rows*classes reads, `targets` for `rows`, the outputs for the writes
    /// above, `opt` pointing to a `focal_sigmoid_options`.
    fn focal_sigmoid_classes_f32 / focal_sigmoid_classes_f64(
        logits: *const T,
        targets: *const i32,
        rows: usize,
        classes: usize,
        opt: *const FocalSigmoidOptions,
        loss: *mut T,
        grad: *mut T,
    ) {
        let targets = RawTargets::Classes {
            targets,
            rows,
            classes,
        };
        // SAFETY: the caller's contract is that of `sigmoid`.
        unsafe { sigmoid(logits, targets, core::ptr::null(), 0, opt, loss, grad) }
    }
}

float_and_double! {
    /// Softmax focal loss with class-index targets.
    ///
    /// - `logits`: [batch, classes, spatial], channels-first (spatial = 1 for row-major
    ///   [batch, classes]; spatial = H*W for [N, C, H, W]).
    /// - `targets`: batch*spatial class indices in [0, classes), or `opt->ignore_index`.
    /// - `class_alpha`: NULL, or `classes` finite weights, each 0 or a normal number > 0 (one per
    ///   class; requires `opt->alpha` < 0).
    /// - `loss`: batch*spatial values for `FOCAL_REDUCTION_NONE` (index n*spatial + s), else 1;
    ///   `grad`: batch*classes*spatial (the layout of `logits`). Either may be NULL, not both.
    ///
    /// Ignored positions get loss 0 and gradient 0. `classes` or `spatial` = 0 while there is
    /// data is `FOCAL_ERROR_LENGTH`.
    ///
    /// # Safety
    /// Every non-NULL pointer must be valid for the number of elements above (reads for the
    /// inputs, writes for the outputs) for the duration of the call, and `opt` must point to a
    /// `focal_softmax_options`.
    fn focal_softmax_f32 / focal_softmax_f64(
        logits: *const T,
        targets: *const i32,
        batch: usize,
        classes: usize,
        spatial: usize,
        class_alpha: *const T,
        opt: *const FocalSoftmaxOptions,
        loss: *mut T,
        grad: *mut T,
    ) {
        let shape = SoftmaxShape::channels_first(batch, classes, spatial);
        let loss = SoftmaxOutput::Loss(loss);
        // SAFETY: the caller's contract is that of `softmax`.
        unsafe { softmax(logits, targets, shape, class_alpha, opt, loss, grad) }
    }
}

float_and_double! {
    /// Per-position gradient and diagonal Hessian of the softmax focal loss with one-hot
    /// class-index targets: the multi-class custom objective of gradient boosting (XGBoost's
    /// `multi:softprob` scores are [batch, classes] row-major: spatial = 1).
    ///
    /// Shapes, `targets` and `class_alpha` as `focal_softmax_f32`; `grad` and `hess`:
    /// batch*classes*spatial values each (the layout of `logits`), both required. Uses gamma,
    /// alpha, class_gamma, epsilon, ignore_index and threads of `opt`; ignores reduction and
    /// normalizer; label_smoothing must be 0 (else `FOCAL_ERROR_INVALID_ARGUMENT`: the Hessian
    /// is for one-hot targets). Hessian values below `hess_floor` are raised to it (it is
    /// negative for badly misclassified rows; Newton steps need it positive): pass -HUGE_VAL
    /// for no floor; NaN is `FOCAL_ERROR_INVALID_ARGUMENT`. Ignored positions get 0 and 0.
    ///
    /// # Safety
    /// Every non-NULL pointer must be valid for the number of elements above (reads for the
    /// inputs, writes for the outputs) for the duration of the call, and `opt` must point to a
    /// `focal_softmax_options`.
    fn focal_softmax_grad_hess_f32 / focal_softmax_grad_hess_f64(
        logits: *const T,
        targets: *const i32,
        batch: usize,
        classes: usize,
        spatial: usize,
        class_alpha: *const T,
        opt: *const FocalSoftmaxOptions,
        hess_floor: f64,
        grad: *mut T,
        hess: *mut T,
    ) {
        let shape = SoftmaxShape::channels_first(batch, classes, spatial);
        let hessian = SoftmaxOutput::Hessian(hess, hess_floor);
        // SAFETY: the caller's contract is that of `softmax`.
        unsafe { softmax(logits, targets, shape, class_alpha, opt, hessian, grad) }
    }
}

float_and_double! {
    /// Per-element gradient and Hessian of the sigmoid focal loss with soft targets: the custom
    /// objective of gradient boosting (XGBoost, LightGBM, CatBoost).
    ///
    /// Uses gamma, alpha, label_smoothing and threads of `opt`; ignores reduction and
    /// normalizer. Hessian values below `hess_floor` are raised to it (the focal Hessian is
    /// negative for badly misclassified examples; Newton steps need it positive): pass
    /// -HUGE_VAL for no floor; NaN is `FOCAL_ERROR_INVALID_ARGUMENT`.
    ///
    /// `logits`, `targets`, `grad`, `hess`: `n` values each, all required.
    ///
    /// # Safety
    /// Every pointer must be valid for `n` elements (reads for the inputs, writes for the
    /// outputs) for the duration of the call, and `opt` must point to a `focal_sigmoid_options`.
    fn focal_sigmoid_grad_hess_f32 / focal_sigmoid_grad_hess_f64(
        logits: *const T,
        targets: *const T,
        n: usize,
        opt: *const FocalSigmoidOptions,
        hess_floor: f64,
        grad: *mut T,
        hess: *mut T,
    ) {
        // SAFETY: the caller's contract is that of `grad_hess`.
        unsafe { grad_hess(logits, targets, n, opt, hess_floor, grad, hess) }
    }
}

/// A static, NUL-terminated English description of `status`; never NULL (an unknown value
/// gets a message saying so). Do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn focal_status_message(status: FocalStatusCode) -> *const c_char {
    let message: &'static CStr = match status.0 {
        0 => c"success",
        1 => c"a required pointer is NULL",
        2 => {
            c"invalid argument: an option out of range or NaN, an unknown reduction, a soft \
                target outside [0, 1], a negative or non-finite weight, a normalizer without \
                MEAN, no output, class_alpha with alpha >= 0, a misaligned or overlapping \
                pointer, or a NaN hess_floor"
        }
        3 => c"an integer target is out of range",
        4 => c"a dimension is 0 while there is data, or a size overflows",
        5 => c"internal error in focal-loss (a bug: please report it)",
        _ => c"unknown focal_status value",
    };
    message.as_ptr()
}

/// The library version ("major.minor.patch"), a static NUL-terminated string.
#[unsafe(no_mangle)]
pub extern "C" fn focal_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The SIMD level the calling thread computes at: "avx512", "avx2", "neon" or "scalar"
/// (a static NUL-terminated string). Detected once from the CPU; the environment variable
/// `FOCAL_LOSS_SIMD` (one of these names, read once) can force a lower level. Every level
/// produces the same bits.
#[unsafe(no_mangle)]
pub extern "C" fn focal_simd_level() -> *const c_char {
    let name: &'static CStr = match catch_unwind(crate::simd_level) {
        Ok(SimdLevel::Avx512) => c"avx512",
        Ok(SimdLevel::Avx2) => c"avx2",
        Ok(SimdLevel::Neon) => c"neon",
        Ok(SimdLevel::Scalar) | Err(_) => c"scalar",
    };
    name.as_ptr()
}

// ---------------------------------------------------------------------------------------
// The generic implementations behind the exported functions.

type Status<T = ()> = Result<T, FocalStatus>;

impl From<FocalError> for FocalStatus {
    fn from(error: FocalError) -> Self {
        match error {
            FocalError::LabelOutOfRange { .. }
            | FocalError::SigmoidClassOutOfRange { .. }
            | FocalError::SoftmaxClassOutOfRange { .. } => Self::FocalErrorTargetOutOfRange,
            FocalError::EmptyDimension { .. }
            | FocalError::SizeOverflow
            | FocalError::LengthMismatch { .. }
            | FocalError::OutputLength { .. } => Self::FocalErrorLength,
            _ => Self::FocalErrorInvalidArgument,
        }
    }
}

/// Runs `body`, turning its error into the status and a panic into `FOCAL_ERROR_INTERNAL`.
fn guard(body: impl FnOnce() -> Status) -> FocalStatus {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => FocalStatus::FocalOk,
        Ok(Err(status)) => status,
        Err(_) => FocalStatus::FocalErrorInternal,
    }
}

/// `FOCAL_ERROR_NULL_POINTER` when any of the required pointers is NULL.
fn require(non_null: &[bool]) -> Status {
    if non_null.iter().all(|&ok| ok) {
        Ok(())
    } else {
        Err(FocalStatus::FocalErrorNullPointer)
    }
}

/// `FOCAL_ERROR_INVALID_ARGUMENT` when a non-NULL pointer is not aligned for `T`.
fn check_aligned<T>(ptr: *const T) -> Status {
    if ptr.is_null() || ptr.is_aligned() {
        Ok(())
    } else {
        Err(FocalStatus::FocalErrorInvalidArgument)
    }
}

/// `a·b`, or `FOCAL_ERROR_LENGTH` when it overflows.
fn checked_product(a: usize, b: usize) -> Status<usize> {
    a.checked_mul(b).ok_or(FocalStatus::FocalErrorLength)
}

/// The address range of a buffer of `len` `T`s at `ptr`: checked alignment, byte size at
/// most `isize::MAX` (the limit of a Rust slice), no wrap-around of the address space. NULL
/// (an absent optional buffer; required ones are refused before) is empty.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

fn span<T>(ptr: *const T, len: usize) -> Status<Span> {
    if ptr.is_null() {
        return Ok(Span::EMPTY);
    }
    check_aligned(ptr)?;
    let bytes = len
        .checked_mul(size_of::<T>())
        .filter(|&bytes| bytes <= isize::MAX as usize)
        .ok_or(FocalStatus::FocalErrorLength)?;
    let start = ptr.addr();
    let end = start
        .checked_add(bytes)
        .ok_or(FocalStatus::FocalErrorLength)?;
    Ok(Span { start, end })
}

impl Span {
    /// An absent optional buffer: no size, nothing to overlap.
    const EMPTY: Span = Span { start: 0, end: 0 };

    fn overlaps(self, other: Span) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// `FOCAL_ERROR_INVALID_ARGUMENT` when an output overlaps any other buffer of the call
/// (Rust slices must not alias a mutable slice). Empty buffers overlap nothing.
fn check_disjoint(outputs: &[Span], inputs: &[Span]) -> Status {
    for (i, output) in outputs.iter().enumerate() {
        let others = outputs[i + 1..].iter().chain(inputs);
        if others.into_iter().any(|other| output.overlaps(*other)) {
            return Err(FocalStatus::FocalErrorInvalidArgument);
        }
    }
    Ok(())
}

/// An input slice; `ptr` is non-NULL (checked by `require`) or `len` is 0.
///
/// # Safety
/// `ptr` valid for `len` reads for `'a`, `span(ptr, len)` has succeeded.
unsafe fn input<'a, T>(ptr: *const T, len: usize) -> &'a [T] {
    if len == 0 {
        return &[];
    }
    // SAFETY: non-NULL, aligned and at most isize::MAX bytes (checked by `span`), valid for
    // `len` reads (the caller's contract); inputs are only read.
    unsafe { core::slice::from_raw_parts(ptr, len) }
}

/// An optional input slice: `None` for NULL.
///
/// # Safety
/// As [`input`] when `ptr` is not NULL.
unsafe fn optional_input<'a, T>(ptr: *const T, len: usize) -> Option<&'a [T]> {
    // SAFETY: forwarded.
    (!ptr.is_null()).then(|| unsafe { input(ptr, len) })
}

/// An optional output slice: `None` for NULL.
///
/// # Safety
/// `ptr` NULL or valid for `len` writes for `'a`, `span(ptr, len)` has succeeded, and the
/// buffer overlaps no other buffer of the call (`check_disjoint`).
unsafe fn output<'a, T>(ptr: *mut T, len: usize) -> Option<&'a mut [T]> {
    if ptr.is_null() {
        return None;
    }
    if len == 0 {
        return Some(&mut []);
    }
    // SAFETY: non-NULL, aligned, at most isize::MAX bytes, valid for `len` writes (checked
    // or the caller's contract), and not aliased by any other slice of the call
    // (`check_disjoint`). C callers often pass uninitialised buffers (malloc): the results
    // of the Rust API do not depend on the initial contents of its outputs (a kernel may use
    // one as scratch, written before it is read), and f32/f64 have no invalid bit patterns.
    Some(unsafe { core::slice::from_raw_parts_mut(ptr, len) })
}

/// The options struct behind `opt` (non-NULL, checked by `require`).
///
/// # Safety
/// `opt` valid for one read. Every field type of the option structs (f64, i32, u32, the u32
/// codes [`FocalReductionCode`] and [`FocalObjectiveCode`], and raw pointers, which are only
/// dereferenced once their span is checked) accepts every bit pattern, so reading what C
/// wrote is sound.
unsafe fn read_options<O: Copy>(opt: *const O) -> Status<O> {
    check_aligned(opt)?;
    // SAFETY: non-NULL, aligned, valid for reads (the caller's contract).
    Ok(unsafe { opt.read() })
}

fn reduction(code: FocalReductionCode) -> Status<Reduction> {
    match code.0 {
        0 => Ok(Reduction::None),
        1 => Ok(Reduction::Sum),
        2 => Ok(Reduction::Mean),
        _ => Err(FocalStatus::FocalErrorInvalidArgument),
    }
}

/// Negative: alpha off. Anything else (NaN and > 1 included) goes to the Rust validation.
fn alpha(value: f64) -> Option<f64> {
    if value < 0.0 { None } else { Some(value) }
}

/// 0: not used. Anything else (negative, NaN, infinite included) goes to the Rust validation.
fn normalizer(value: f64) -> Option<f64> {
    (value != 0.0).then_some(value)
}

fn objective_of(code: FocalObjectiveCode) -> Status<FocalObjective> {
    Ok(match code.0 {
        0 => FocalObjective::Focal,
        1 => FocalObjective::FocalStar,
        2 => FocalObjective::Poly1,
        3 => FocalObjective::Asymmetric,
        4 => FocalObjective::QualityFocal,
        5 => FocalObjective::Varifocal,
        6 => FocalObjective::ReducedFocal,
        _ => return Err(FocalStatus::FocalErrorInvalidArgument),
    })
}

/// A sigmoid call's options as the Rust options type of its objective.
enum SigmoidObjectiveOptions {
    Focal(SigmoidFocalOptions),
    PerClassFocal(PerClassFocalOptions),
    FocalStar(FocalStarOptions),
    Poly1(Poly1FocalOptions),
    Asymmetric(AsymmetricOptions),
    QualityFocal(QualityFocalOptions),
    Varifocal(VarifocalOptions),
    ReducedFocal(ReducedFocalOptions),
}

impl SigmoidObjectiveOptions {
    fn get(&self) -> &dyn SigmoidObjective {
        match self {
            Self::Focal(options) => options,
            Self::PerClassFocal(options) => options,
            Self::FocalStar(options) => options,
            Self::Poly1(options) => options,
            Self::Asymmetric(options) => options,
            Self::QualityFocal(options) => options,
            Self::Varifocal(options) => options,
            Self::ReducedFocal(options) => options,
        }
    }
}

/// The objective of `opt`, checked before any buffer is looked at: a known code, and
/// `class_gamma` only with the focal loss of a call that takes class indices.
fn sigmoid_objective_of(opt: &FocalSigmoidOptions, takes_classes: bool) -> Status<FocalObjective> {
    let objective = objective_of(opt.objective)?;
    let per_class = takes_classes && objective == FocalObjective::Focal;
    if !(opt.class_gamma.is_null() || per_class) {
        return Err(FocalStatus::FocalErrorInvalidArgument);
    }
    Ok(objective)
}

/// The C options as the Rust options of their objective (checked by `sigmoid_objective_of`),
/// with the call's reduction and normaliser and, for per-class γ, the values `class_gamma`
/// points to.
fn sigmoid_options(
    opt: &FocalSigmoidOptions,
    objective: FocalObjective,
    reduction: Reduction,
    normalizer: Option<f64>,
    class_gamma: Option<Vec<f64>>,
) -> SigmoidObjectiveOptions {
    // The options every objective has. (The C call's thread limit is applied around the
    // call, by `call`.)
    macro_rules! with_call {
        ($options:expr) => {
            $options
                .label_smoothing(opt.label_smoothing)
                .reduction(reduction)
                .normalizer(normalizer)
        };
    }
    let alpha = alpha(opt.alpha);
    match (objective, class_gamma) {
        (FocalObjective::Focal, None) => SigmoidObjectiveOptions::Focal(with_call!(
            SigmoidFocalOptions::default().gamma(opt.gamma).alpha(alpha)
        )),
        (FocalObjective::Focal, Some(gamma)) => SigmoidObjectiveOptions::PerClassFocal(with_call!(
            PerClassFocalOptions::default()
                .class_gamma(gamma)
                .alpha(alpha)
        )),
        (FocalObjective::FocalStar, _) => SigmoidObjectiveOptions::FocalStar(with_call!(
            FocalStarOptions::default()
                .gamma(opt.gamma)
                .beta(opt.beta)
                .alpha(alpha)
        )),
        (FocalObjective::Poly1, _) => SigmoidObjectiveOptions::Poly1(with_call!(
            Poly1FocalOptions::default()
                .gamma(opt.gamma)
                .alpha(alpha)
                .epsilon(opt.epsilon)
        )),
        (FocalObjective::Asymmetric, _) => SigmoidObjectiveOptions::Asymmetric(with_call!(
            AsymmetricOptions::default()
                .gamma_positive(opt.gamma)
                .gamma_negative(opt.gamma_negative)
                .margin(opt.margin)
        )),
        (FocalObjective::QualityFocal, _) => SigmoidObjectiveOptions::QualityFocal(with_call!(
            QualityFocalOptions::default().beta(opt.gamma)
        )),
        // VFL's α is not optional: a negative one is refused (InvalidAlpha).
        (FocalObjective::Varifocal, _) => SigmoidObjectiveOptions::Varifocal(with_call!(
            VarifocalOptions::default()
                .alpha(opt.alpha)
                .gamma(opt.gamma)
        )),
        (FocalObjective::ReducedFocal, _) => SigmoidObjectiveOptions::ReducedFocal(with_call!(
            ReducedFocalOptions::default()
                .gamma(opt.gamma)
                .threshold(opt.threshold)
                .alpha(alpha)
        )),
    }
}

/// The softmax options with a uniform alpha or none; per-class alphas (`class_alpha` given,
/// which a uniform alpha excludes) are filled in once their slice exists.
/// The options of a softmax call; `per_position` calls (the Hessian) use no reduction, so an
/// unknown `reduction` value is no error there.
fn softmax_options(
    opt: &FocalSoftmaxOptions,
    class_alpha: bool,
    per_position: bool,
) -> Status<SoftmaxFocalOptions> {
    let reduction = if per_position {
        Reduction::None
    } else {
        reduction(opt.reduction)?
    };
    let alpha = match (class_alpha, alpha(opt.alpha)) {
        (true, Some(_)) => return Err(FocalStatus::FocalErrorInvalidArgument),
        (false, Some(a)) => SoftmaxAlpha::Uniform(a),
        (_, None) => SoftmaxAlpha::Off,
    };
    Ok(SoftmaxFocalOptions {
        gamma: opt.gamma,
        // Filled in once its slice exists.
        class_gamma: None,
        alpha,
        epsilon: opt.epsilon,
        label_smoothing: opt.label_smoothing,
        reduction,
        normalizer: if per_position {
            None
        } else {
            normalizer(opt.normalizer)
        },
        ignore_index: opt.ignore_index,
        threads: 0,
    })
}

/// The number of loss values a call writes.
fn loss_len(reduction: Reduction, elements: usize) -> usize {
    match reduction {
        Reduction::None => elements,
        Reduction::Sum | Reduction::Mean => 1,
    }
}

/// Runs `f` with at most `threads` threads (0: the library default, 1: the calling thread
/// only). The limit bounds how many chunks run at once; the results do not depend on it.
/// `f` itself runs on the calling thread (the limit is the thread's).
fn with_threads<R>(threads: u32, f: impl FnOnce() -> R) -> R {
    let limit = usize::try_from(threads).unwrap_or(usize::MAX);
    crate::parallel::with_thread_limit(limit, f)
}

/// What the prologue reads from either options struct.
trait CallOptions: Copy {
    /// The call's thread limit (the `threads` field).
    fn threads(&self) -> u32;
}

impl CallOptions for FocalSigmoidOptions {
    fn threads(&self) -> u32 {
        self.threads
    }
}

impl CallOptions for FocalSoftmaxOptions {
    fn threads(&self) -> u32 {
        self.threads
    }
}

/// A computing function's buffers once its options are converted and its element counts
/// known, and its computation.
struct Plan<const N: usize, R> {
    /// The spans of the buffers the call reads, in the order their faults are reported.
    inputs: [Status<Span>; N],
    /// The spans of the two buffers it writes, reported after the inputs'.
    outputs: [Status<Span>; 2],
    /// Builds the slices of these buffers and computes. [`call`] runs it only once every span
    /// is checked (aligned, sized, no output overlapping another buffer), which is what makes
    /// building those slices sound.
    run: R,
}

/// Every computing function: its checks, then its computation under the thread limit. The
/// order of the checks is part of the behaviour (it decides the status of a call with several
/// faults), so it is written down here once:
///
/// 1. A required pointer (`required`: whether each is non-NULL) or `opt` is NULL:
///    `FOCAL_ERROR_NULL_POINTER`, even for empty buffers.
/// 2. Both outputs are NULL (`outputs`: whether each is non-NULL): nothing to compute,
///    `FOCAL_ERROR_INVALID_ARGUMENT`.
/// 3. `opt` is misaligned: `FOCAL_ERROR_INVALID_ARGUMENT`; otherwise it is read.
/// 4. `plan` converts the options and computes the element counts (their errors), and lists
///    the buffers' spans: the first misaligned (`FOCAL_ERROR_INVALID_ARGUMENT`) or too large
///    (`FOCAL_ERROR_LENGTH`), inputs before outputs; then an output that overlaps another
///    buffer (`FOCAL_ERROR_INVALID_ARGUMENT`).
/// 5. `run` builds the slices and calls the Rust API, which validates the values and writes
///    nothing when it refuses them.
///
/// So a refused call writes nothing, and a panic anywhere is `FOCAL_ERROR_INTERNAL` (`guard`;
/// only then may the outputs hold partial results).
///
/// # Safety
/// `opt` NULL or valid for one read, and every pointer `run` turns into a slice valid for the
/// length of its span (reads for the inputs, writes for the outputs) for the duration of the
/// call: the exported functions' contract.
unsafe fn call<O: CallOptions, const N: usize, R>(
    required: &[bool],
    outputs: [bool; 2],
    opt: *const O,
    plan: impl FnOnce(&O) -> Status<Plan<N, R>>,
) -> FocalStatus
where
    R: FnOnce() -> Result<(), FocalError>,
{
    guard(|| {
        require(required)?;
        require(&[!opt.is_null()])?;
        if outputs == [false, false] {
            return Err(FocalStatus::FocalErrorInvalidArgument);
        }
        // SAFETY: non-NULL; valid for reads (the caller's contract).
        let opt = unsafe { read_options(opt)? };
        let plan = plan(&opt)?;
        let inputs = first_error(plan.inputs)?;
        check_disjoint(&first_error(plan.outputs)?, &inputs)?;
        with_threads(opt.threads(), plan.run)?;
        Ok(())
    })
}

/// The spans, or the error of the first one that has one.
fn first_error<const N: usize>(spans: [Status<Span>; N]) -> Status<[Span; N]> {
    let mut checked = [Span::EMPTY; N];
    for (span, result) in checked.iter_mut().zip(spans) {
        *span = result?;
    }
    Ok(checked)
}

/// The targets of a sigmoid call as C passes them.
enum RawTargets<T> {
    Soft(*const T),
    Labels(*const u8),
    Classes {
        targets: *const i32,
        rows: usize,
        classes: usize,
    },
}

impl<T> RawTargets<T> {
    fn is_null(&self) -> bool {
        match *self {
            Self::Soft(ptr) => ptr.is_null(),
            Self::Labels(ptr) => ptr.is_null(),
            Self::Classes { targets, .. } => targets.is_null(),
        }
    }
}

/// The sigmoid loss functions. `n` is the element count for soft targets and labels; for
/// class targets it is ignored (rows·classes) and `weights` is NULL.
///
/// # Safety
/// Every non-NULL pointer valid for the element counts of the exported functions' contract
/// (reads for the inputs, writes for the outputs) for the duration of the call.
unsafe fn sigmoid<T: Float>(
    logits: *const T,
    targets: RawTargets<T>,
    weights: *const T,
    n: usize,
    opt: *const FocalSigmoidOptions,
    loss: *mut T,
    grad: *mut T,
) -> FocalStatus {
    let required = [!logits.is_null(), !targets.is_null()];
    let outputs = [!loss.is_null(), !grad.is_null()];
    let plan = |opt: &FocalSigmoidOptions| {
        let opt = *opt;
        let reduction = reduction(opt.reduction)?;
        let takes_classes = matches!(targets, RawTargets::Classes { .. });
        let objective = sigmoid_objective_of(&opt, takes_classes)?;
        let n = match targets {
            RawTargets::Classes { rows, classes, .. } => checked_product(rows, classes)?,
            _ => n,
        };
        let (target_span, target_len) = match targets {
            RawTargets::Soft(y) => (span(y, n), n),
            RawTargets::Labels(y) => (span(y, n), n),
            RawTargets::Classes { targets, rows, .. } => (span(targets, rows), rows),
        };
        let classes = match targets {
            RawTargets::Classes { classes, .. } => classes,
            _ => 0,
        };
        let loss_len = loss_len(reduction, n);
        Ok(Plan {
            inputs: [
                target_span,
                span(logits, n),
                span(weights, n),
                span(opt.class_gamma, classes),
            ],
            outputs: [span(loss, loss_len), span(grad, n)],
            run: move || {
                // SAFETY: checked by `call` as the other spans; NULL is `None`.
                let class_gamma = unsafe { optional_input(opt.class_gamma, classes) };
                let options = sigmoid_options(
                    &opt,
                    objective,
                    reduction,
                    normalizer(opt.normalizer),
                    class_gamma.map(<[f64]>::to_vec),
                );
                // SAFETY: `call` has checked the spans above (alignment, size, no overlap
                // with an output); the pointers are valid for these lengths (the caller's
                // contract).
                let (logits, weights, loss, grad) = unsafe {
                    (
                        input(logits, n),
                        optional_input(weights, n),
                        output(loss, loss_len),
                        output(grad, n),
                    )
                };
                // SAFETY: as above.
                let targets = unsafe {
                    match targets {
                        RawTargets::Soft(y) => SigmoidTargets::Soft(input(y, target_len)),
                        RawTargets::Labels(y) => SigmoidTargets::Labels(input(y, target_len)),
                        RawTargets::Classes {
                            targets, classes, ..
                        } => SigmoidTargets::Classes {
                            targets: input(targets, target_len),
                            classes,
                        },
                    }
                };
                sigmoid_focal_outputs(logits, targets, weights, options.get(), loss, grad).map(drop)
            },
        })
    };
    // SAFETY: the caller's contract is that of `call`.
    unsafe { call(&required, outputs, opt, plan) }
}

/// What a softmax call writes besides the gradient.
#[derive(Clone, Copy)]
enum SoftmaxOutput<T> {
    /// The loss (it or the gradient may be NULL, not both).
    Loss(*mut T),
    /// The Hessian, with its floor (-inf: none); it and the gradient are required.
    Hessian(*mut T, f64),
}

/// The softmax functions: loss and gradient, or gradient and Hessian.
///
/// # Safety
/// As [`sigmoid`].
unsafe fn softmax<T: Float>(
    logits: *const T,
    targets: *const i32,
    shape: SoftmaxShape,
    class_alpha: *const T,
    opt: *const FocalSoftmaxOptions,
    second: SoftmaxOutput<T>,
    grad: *mut T,
) -> FocalStatus {
    let (other, floor) = match second {
        SoftmaxOutput::Loss(loss) => (loss, None),
        // -inf: no floor; NaN is refused by the Rust validation.
        SoftmaxOutput::Hessian(hess, floor) => {
            (hess, Some((floor != f64::NEG_INFINITY).then_some(floor)))
        }
    };
    let hessian = floor.is_some();
    let required = [
        !logits.is_null(),
        !targets.is_null(),
        !hessian || !grad.is_null(),
        !hessian || !other.is_null(),
    ];
    let outputs = [!other.is_null(), !grad.is_null()];
    let plan = |opt: &FocalSoftmaxOptions| {
        let mut options = softmax_options(opt, !class_alpha.is_null(), hessian)?;
        let class_gamma = opt.class_gamma;
        let positions = checked_product(shape.batch, shape.spatial)?;
        let elements = checked_product(positions, shape.classes)?;
        let other_len = if hessian {
            elements
        } else {
            loss_len(options.reduction, positions)
        };
        Ok(Plan {
            inputs: [
                span(logits, elements),
                span(targets, positions),
                span(class_alpha, shape.classes),
                span(class_gamma, shape.classes),
            ],
            outputs: [span(other, other_len), span(grad, elements)],
            run: move || {
                // SAFETY: `call` has checked the spans above (alignment, size, no overlap
                // with an output); the pointers are valid for these lengths (the caller's
                // contract).
                let (logits, targets, class_alpha, other, grad) = unsafe {
                    (
                        input(logits, elements),
                        input(targets, positions),
                        optional_input(class_alpha, shape.classes),
                        output(other, other_len),
                        output(grad, elements),
                    )
                };
                if let Some(values) = class_alpha {
                    options.alpha =
                        SoftmaxAlpha::PerClass(values.iter().map(|a| a.to_f64()).collect());
                }
                // SAFETY: checked by `call` as the other spans; NULL is `None`.
                options.class_gamma =
                    unsafe { optional_input(class_gamma, shape.classes) }.map(<[f64]>::to_vec);
                match floor {
                    Some(floor) => {
                        let (Some(grad), Some(hess)) = (grad, other) else {
                            unreachable!("grad and hess are non-NULL (checked by `call`)")
                        };
                        crate::softmax_focal_grad_hess(
                            logits, targets, shape, &options, floor, grad, hess,
                        )
                    }
                    None => softmax_focal_outputs(logits, targets, shape, &options, other, grad)
                        .map(drop),
                }
            },
        })
    };
    // SAFETY: the caller's contract is that of `call`.
    unsafe { call(&required, outputs, opt, plan) }
}

/// The grad_hess functions.
///
/// # Safety
/// As [`sigmoid`].
unsafe fn grad_hess<T: Float>(
    logits: *const T,
    targets: *const T,
    n: usize,
    opt: *const FocalSigmoidOptions,
    hess_floor: f64,
    grad: *mut T,
    hess: *mut T,
) -> FocalStatus {
    // Both outputs are required here, which also satisfies "at least one output".
    let required = [
        !logits.is_null(),
        !targets.is_null(),
        !grad.is_null(),
        !hess.is_null(),
    ];
    let outputs = [!grad.is_null(), !hess.is_null()];
    let plan = |opt: &FocalSigmoidOptions| {
        // Reduction and normalizer are not used by the per-element functions (an unknown
        // `reduction` value is no error here).
        let objective = sigmoid_objective_of(opt, false)?;
        let options = sigmoid_options(opt, objective, Reduction::None, None, None);
        // -inf: no floor; NaN is refused by the Rust validation.
        let floor = (hess_floor != f64::NEG_INFINITY).then_some(hess_floor);
        Ok(Plan {
            inputs: [span(logits, n), span(targets, n)],
            outputs: [span(grad, n), span(hess, n)],
            run: move || {
                // SAFETY: `call` has checked the spans above (alignment, size, no overlap
                // with an output); the pointers are non-NULL and valid for `n` elements (the
                // caller's contract).
                let (logits, targets, grad, hess) = unsafe {
                    (
                        input(logits, n),
                        input(targets, n),
                        output(grad, n),
                        output(hess, n),
                    )
                };
                let (Some(grad), Some(hess)) = (grad, hess) else {
                    unreachable!("grad and hess are non-NULL (checked by `call`)")
                };
                crate::sigmoid_focal_grad_hess(
                    logits,
                    SigmoidTargets::Soft(targets),
                    None,
                    options.get(),
                    floor,
                    grad,
                    hess,
                )
            },
        })
    };
    // SAFETY: the caller's contract is that of `call`.
    unsafe { call(&required, outputs, opt, plan) }
}

#[cfg(test)]
mod tests {
    //! The C entry points called from Rust with NULL, misaligned and valid pointers (small
    //! enough to run under Miri: `cargo +nightly miri test --lib ffi`).

    use super::*;
    use core::ptr::{null, null_mut};

    const SENTINEL: f32 = -7.0;

    fn sum_options() -> FocalSigmoidOptions {
        FocalSigmoidOptions {
            reduction: FocalReduction::Sum.into(),
            ..focal_sigmoid_options_default()
        }
    }

    #[test]
    fn valid_call_matches_the_rust_api() {
        let logits = [0.5f32, -1.0, 3.0];
        let labels = [1u8, 0, 0];
        let opt = sum_options();
        let (mut loss, mut grad) = ([SENTINEL], [SENTINEL; 3]);
        // SAFETY: every buffer is valid for the lengths given.
        let status = unsafe {
            focal_sigmoid_labels_f32(
                logits.as_ptr(),
                labels.as_ptr(),
                null(),
                3,
                &opt,
                loss.as_mut_ptr(),
                grad.as_mut_ptr(),
            )
        };
        assert_eq!(status, FocalStatus::FocalOk);
        let options = SigmoidFocalOptions::default().reduction(Reduction::Sum);
        let (mut want_loss, mut want_grad) = ([0.0f32], [0.0f32; 3]);
        crate::sigmoid_focal_loss_grad(
            &logits,
            SigmoidTargets::Labels(&labels),
            None,
            &options,
            &mut want_loss,
            &mut want_grad,
        )
        .unwrap();
        assert_eq!((loss, grad), (want_loss, want_grad));
    }

    /// Every objective through the C functions, from `focal_sigmoid_options_for`'s defaults:
    /// the bits of the Rust API with the Rust options' defaults.
    #[test]
    fn every_objective_matches_the_rust_api_with_the_same_defaults() {
        let logits = [0.5f32, -1.0, 3.0, -0.25];
        let labels = [1u8, 0, 0, 1];
        let sum = Reduction::Sum;
        let rust: [(FocalObjective, &dyn SigmoidObjective); 7] = [
            (
                FocalObjective::Focal,
                &SigmoidFocalOptions::default().reduction(sum),
            ),
            (
                FocalObjective::FocalStar,
                &FocalStarOptions::default().reduction(sum),
            ),
            (
                FocalObjective::Poly1,
                &Poly1FocalOptions::default().reduction(sum),
            ),
            (
                FocalObjective::Asymmetric,
                &AsymmetricOptions::default().reduction(sum),
            ),
            (
                FocalObjective::QualityFocal,
                &QualityFocalOptions::default().reduction(sum),
            ),
            (
                FocalObjective::Varifocal,
                &VarifocalOptions::default().reduction(sum),
            ),
            (
                FocalObjective::ReducedFocal,
                &ReducedFocalOptions::default().reduction(sum),
            ),
        ];
        for (objective, options) in rust {
            let opt = FocalSigmoidOptions {
                reduction: FocalReduction::Sum.into(),
                ..focal_sigmoid_options_for(objective.into())
            };
            let (mut loss, mut grad) = ([SENTINEL], [SENTINEL; 4]);
            // SAFETY: every buffer is valid for the lengths given.
            let status = unsafe {
                focal_sigmoid_labels_f32(
                    logits.as_ptr(),
                    labels.as_ptr(),
                    null(),
                    4,
                    &opt,
                    loss.as_mut_ptr(),
                    grad.as_mut_ptr(),
                )
            };
            assert_eq!(status, FocalStatus::FocalOk, "{objective:?}");
            let (mut want_loss, mut want_grad) = ([0.0f32], [0.0f32; 4]);
            crate::sigmoid_focal_loss_grad(
                &logits,
                SigmoidTargets::Labels(&labels),
                None,
                options,
                &mut want_loss,
                &mut want_grad,
            )
            .unwrap();
            assert_eq!((loss, grad), (want_loss, want_grad), "{objective:?}");
        }
        // An unknown objective keeps its code (and is refused by a call).
        assert_eq!(
            focal_sigmoid_options_for(FocalObjectiveCode(99)).objective,
            FocalObjectiveCode(99)
        );
    }

    #[test]
    fn null_pointers_are_refused_even_when_empty() {
        let opt = focal_sigmoid_options_default();
        let mut loss = [SENTINEL];
        // SAFETY: NULL is refused before anything is read; `loss` is valid for 1 write.
        let status = unsafe {
            focal_sigmoid_f32(
                null(),
                null(),
                null(),
                0,
                &opt,
                loss.as_mut_ptr(),
                null_mut(),
            )
        };
        assert_eq!(status, FocalStatus::FocalErrorNullPointer);
        // SAFETY: as above; the options pointer is NULL.
        let status = unsafe {
            focal_sigmoid_f64(
                [0.0f64].as_ptr(),
                [1.0f64].as_ptr(),
                null(),
                1,
                null(),
                null_mut(),
                [0.0f64].as_mut_ptr(),
            )
        };
        assert_eq!(status, FocalStatus::FocalErrorNullPointer);
        assert_eq!(loss, [SENTINEL]);
    }

    #[test]
    fn misaligned_and_overlapping_pointers_are_refused() {
        let storage = [0.0f64; 4];
        let misaligned = storage.as_ptr().cast::<u8>().wrapping_add(1).cast::<f32>();
        let opt = focal_sigmoid_options_default();
        let mut loss = [SENTINEL];
        // SAFETY: the misaligned pointer is refused before a slice is built.
        let status = unsafe {
            focal_sigmoid_labels_f32(
                misaligned,
                [1u8, 0].as_ptr(),
                null(),
                2,
                &opt,
                loss.as_mut_ptr(),
                null_mut(),
            )
        };
        assert_eq!(status, FocalStatus::FocalErrorInvalidArgument);
        // grad written over the logits.
        let mut logits = [0.5f32, 1.0];
        let p = logits.as_mut_ptr();
        // SAFETY: the overlap is refused before a slice is built.
        let status = unsafe {
            focal_sigmoid_labels_f32(p, [1u8, 0].as_ptr(), null(), 2, &opt, null_mut(), p)
        };
        assert_eq!(status, FocalStatus::FocalErrorInvalidArgument);
        assert_eq!(loss, [SENTINEL]);
        assert_eq!(logits, [0.5, 1.0]);
    }

    #[test]
    fn bad_enum_values_and_lengths_are_refused() {
        let mut opt = sum_options();
        opt.reduction = FocalReductionCode(7);
        let mut loss = [SENTINEL];
        // SAFETY: valid buffers of 1 element.
        let status = unsafe {
            focal_sigmoid_f32(
                [0.0f32].as_ptr(),
                [1.0f32].as_ptr(),
                null(),
                1,
                &opt,
                loss.as_mut_ptr(),
                null_mut(),
            )
        };
        assert_eq!(status, FocalStatus::FocalErrorInvalidArgument);
        // rows·classes overflows: refused before anything is read.
        let opt = sum_options();
        // SAFETY: the overflow is refused before a slice is built.
        let status = unsafe {
            focal_sigmoid_classes_f32(
                [0.0f32].as_ptr(),
                [0i32].as_ptr(),
                usize::MAX / 2,
                3,
                &opt,
                loss.as_mut_ptr(),
                null_mut(),
            )
        };
        assert_eq!(status, FocalStatus::FocalErrorLength);
        assert_eq!(loss, [SENTINEL]);
        for code in 0..8 {
            // SAFETY: a static NUL-terminated string for every value.
            let message = unsafe { CStr::from_ptr(focal_status_message(FocalStatusCode(code))) };
            assert!(!message.is_empty());
        }
    }

    #[test]
    fn softmax_and_grad_hess_with_valid_pointers() {
        let opt = FocalSoftmaxOptions {
            reduction: FocalReduction::None.into(),
            ..focal_softmax_options_default()
        };
        let logits = [1.0f64, 0.0, 0.0, 4.0];
        let (mut loss, mut grad) = ([0.0f64; 2], [0.0f64; 4]);
        // SAFETY: [1, 2, 2] logits, 2 targets, 2 losses, 4 gradients.
        let status = unsafe {
            focal_softmax_f64(
                logits.as_ptr(),
                [0i32, -100].as_ptr(),
                1,
                2,
                2,
                null(),
                &opt,
                loss.as_mut_ptr(),
                grad.as_mut_ptr(),
            )
        };
        assert_eq!(status, FocalStatus::FocalOk);
        assert!(loss[0] > 0.0 && loss[1] == 0.0 && grad[1] == 0.0 && grad[3] == 0.0);

        let opt = focal_sigmoid_options_default();
        let (mut g, mut h) = ([SENTINEL; 2], [SENTINEL; 2]);
        // SAFETY: 2 elements each; a NaN floor is refused before anything is written.
        let status = unsafe {
            focal_sigmoid_grad_hess_f32(
                [2.0f32, -6.0].as_ptr(),
                [1.0f32, 1.0].as_ptr(),
                2,
                &opt,
                f64::NAN,
                g.as_mut_ptr(),
                h.as_mut_ptr(),
            )
        };
        assert_eq!(status, FocalStatus::FocalErrorInvalidArgument);
        assert_eq!((g, h), ([SENTINEL; 2], [SENTINEL; 2]));
        // SAFETY: as above, with no floor.
        let status = unsafe {
            focal_sigmoid_grad_hess_f32(
                [2.0f32, -6.0].as_ptr(),
                [1.0f32, 1.0].as_ptr(),
                2,
                &opt,
                f64::NEG_INFINITY,
                g.as_mut_ptr(),
                h.as_mut_ptr(),
            )
        };
        assert_eq!(status, FocalStatus::FocalOk);
        assert!(g[0] < 0.0 && g[1] < 0.0);
    }

    /// Above one chunk the work is shared by the calling thread and up to `limit − 1` of
    /// rayon's: same bits for every limit, and the SIMD level of the calling thread (here a
    /// thread-local override) is the one used.
    #[test]
    #[cfg_attr(miri, ignore = "too large for Miri")]
    fn every_thread_limit_gives_the_same_bits() {
        let n = 3 * crate::parallel::CHUNK + 5;
        let logits: Vec<f32> = (0..n).map(|i| (i % 401) as f32 / 20.0 - 10.0).collect();
        let labels: Vec<u8> = (0..n).map(|i| u8::from(i % 3 == 0)).collect();
        let call = |threads: u32| {
            let opt = FocalSigmoidOptions {
                threads,
                ..focal_sigmoid_options_default()
            };
            let (mut loss, mut grad) = (0.0f32, vec![SENTINEL; n]);
            // SAFETY: `n` logits, labels and gradients, one loss.
            let status = unsafe {
                focal_sigmoid_labels_f32(
                    logits.as_ptr(),
                    labels.as_ptr(),
                    null(),
                    n,
                    &opt,
                    &mut loss,
                    grad.as_mut_ptr(),
                )
            };
            assert_eq!(status, FocalStatus::FocalOk);
            (loss.to_bits(), grad)
        };
        let expected = call(0);
        for threads in [1, 2, 3, u32::MAX] {
            assert!(call(threads) == expected, "threads = {threads}");
        }
        let scalar = crate::with_simd_level(SimdLevel::Scalar, || call(1)).unwrap();
        assert!(scalar == expected, "scalar level in a one-thread pool");
    }

    #[test]
    fn version_and_simd_level_are_static_strings() {
        // SAFETY: static NUL-terminated strings.
        let (version, level) = unsafe {
            (
                CStr::from_ptr(focal_version()),
                CStr::from_ptr(focal_simd_level()),
            )
        };
        assert_eq!(version.to_str(), Ok(env!("CARGO_PKG_VERSION")));
        assert!(SimdLevel::from_name(level.to_str().unwrap()).is_some());
    }
}
