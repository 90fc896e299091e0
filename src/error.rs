//! The one error type of the library.

use crate::Reduction;
use core::fmt;

/// Why a call was refused. Every check runs before anything is written: when a function
/// returns an error, its output buffers are exactly as the caller left them.
///
/// ```
/// use focal_loss::{sigmoid_focal_loss, FocalError, SigmoidFocalOptions, SigmoidTargets};
///
/// let options = SigmoidFocalOptions::default().gamma(-1.0);
/// let mut loss = [7.0f32];
/// let err = sigmoid_focal_loss(&[0.5f32], SigmoidTargets::Labels(&[1]), None, &options, &mut loss)
///     .unwrap_err();
/// assert_eq!(err, FocalError::InvalidGamma(-1.0));
/// assert_eq!(loss, [7.0]); // untouched
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum FocalError {
    /// An input slice does not have the length the other arguments imply.
    LengthMismatch {
        /// The argument that has the wrong length.
        argument: &'static str,
        /// The length it must have.
        expected: usize,
        /// The length it has.
        actual: usize,
    },
    /// An output buffer does not have the length the call produces.
    OutputLength {
        /// The output that has the wrong length.
        argument: &'static str,
        /// The length it must have.
        expected: usize,
        /// The length it has.
        actual: usize,
    },
    /// A dimension (number of classes, spatial size) is zero while there is data.
    EmptyDimension {
        /// The dimension that is zero.
        dimension: &'static str,
    },
    /// The product of the dimensions does not fit in `usize`.
    SizeOverflow,
    /// γ is negative, NaN or above 10⁴ (where `(1 − p_t)^γ` is 0 for every `p_t` > 0.001).
    InvalidGamma(f64),
    /// A parameter of a loss of the focal family is out of its range (its documentation
    /// says which values it takes).
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// A scalar α is outside [0, 1] or NaN, or non-zero and below the smallest normal number
    /// of the element type (it would round to 0 or a subnormal in the kernels).
    InvalidAlpha(f64),
    /// Label smoothing is outside [0, 1) or NaN, or so small that its share of a target
    /// (`ls/2` sigmoid, `ls/C` softmax) is below the smallest normal number of the element type.
    InvalidLabelSmoothing(f64),
    /// The normaliser is not > 0 with it and its reciprocal normal numbers of the element
    /// type: it must lie in `[2^-126, 2^126]` for `f32`, `[2^-1022, 2^1022]` for `f64`.
    InvalidNormalizer(f64),
    /// A normaliser was given with a reduction other than [`Reduction::Mean`]: it replaces the
    /// divisor of the mean and means nothing for `Sum` or `None` (as in mmdet).
    NormalizerNeedsMean {
        /// The reduction that was asked for.
        reduction: Reduction,
    },
    /// The per-class α does not have one value per class.
    ClassAlphaLength {
        /// The number of classes.
        expected: usize,
        /// The number of values given.
        actual: usize,
    },
    /// A per-class α is negative, NaN, not finite in the element type of the call, or non-zero
    /// and below its smallest normal number.
    InvalidClassAlpha {
        /// The class.
        class: usize,
        /// Its value.
        value: f64,
    },
    /// The per-class γ does not have one value per class.
    ClassGammaLength {
        /// The number of classes.
        expected: usize,
        /// The number of values given.
        actual: usize,
    },
    /// A per-class γ is negative, NaN or above 10⁴.
    InvalidClassGamma {
        /// The class.
        class: usize,
        /// Its value.
        value: f64,
    },
    /// The objective is not defined for this form of targets (e.g. the reduced focal loss,
    /// whose threshold is on the probability of the true class, for soft targets).
    UnsupportedTargets {
        /// The objective.
        objective: &'static str,
        /// What it needs.
        needs: &'static str,
    },
    /// A soft target is outside [0, 1] or NaN.
    SoftTargetOutOfRange {
        /// Its position in the targets.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A hard label is neither 0 nor 1.
    LabelOutOfRange {
        /// Its position in the labels.
        index: usize,
        /// Its value.
        value: u8,
    },
    /// A class-index target of the sigmoid (multi-label) head is above the number of classes
    /// (valid: `0..classes` a positive class, `classes` background, negative ignores the row).
    SigmoidClassOutOfRange {
        /// The row.
        index: usize,
        /// Its target.
        value: i32,
        /// The number of classes.
        classes: usize,
    },
    /// A softmax target is outside `[0, classes)` and is not the `ignore_index`.
    SoftmaxClassOutOfRange {
        /// The position of the target.
        index: usize,
        /// Its value.
        value: i32,
        /// The number of classes.
        classes: usize,
        /// The value that would have been ignored.
        ignore_index: i32,
    },
    /// A per-element weight is negative, NaN or infinite.
    InvalidWeight {
        /// Its position.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// The Hessian floor is NaN.
    InvalidHessianFloor(f64),
    /// A SIMD level was requested that this CPU cannot run.
    SimdLevelUnavailable(crate::SimdLevel),
}

impl fmt::Display for FocalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LengthMismatch {
                argument,
                expected,
                actual,
            } => write!(
                f,
                "`{argument}` has {actual} elements, but the other arguments imply {expected}"
            ),
            Self::OutputLength {
                argument,
                expected,
                actual,
            } => write!(
                f,
                "output `{argument}` has {actual} elements, but the call produces {expected}"
            ),
            Self::EmptyDimension { dimension } => {
                write!(f, "`{dimension}` is 0 while there is data")
            }
            Self::SizeOverflow => write!(f, "the product of the dimensions overflows usize"),
            Self::InvalidGamma(g) => write!(f, "gamma must be in [0, 10000], got {g}"),
            Self::InvalidParameter { name, value } => {
                write!(f, "parameter `{name}` is out of its range, got {value}")
            }
            Self::InvalidAlpha(a) => write!(
                f,
                "alpha must be in [0, 1] and 0 or a normal number of the element type, got {a}"
            ),
            Self::InvalidLabelSmoothing(ls) => {
                write!(f, "label smoothing must be in [0, 1), got {ls}")
            }
            Self::InvalidNormalizer(v) => {
                write!(
                    f,
                    "the normalizer must be in [2^-126, 2^126] for f32 and [2^-1022, 2^1022] for f64 (it and its reciprocal normal numbers), got {v}"
                )
            }
            Self::NormalizerNeedsMean { reduction } => write!(
                f,
                "a normalizer replaces the divisor of the mean; it cannot be used with reduction {reduction:?}"
            ),
            Self::ClassAlphaLength { expected, actual } => write!(
                f,
                "per-class alpha has {actual} values, but there are {expected} classes"
            ),
            Self::InvalidClassAlpha { class, value } => write!(
                f,
                "per-class alpha of class {class} must be >= 0, finite and 0 or normal in the element type, got {value}"
            ),
            Self::ClassGammaLength { expected, actual } => write!(
                f,
                "per-class gamma has {actual} values, but there are {expected} classes"
            ),
            Self::InvalidClassGamma { class, value } => write!(
                f,
                "per-class gamma of class {class} must be in [0, 10000], got {value}"
            ),
            Self::UnsupportedTargets { objective, needs } => {
                write!(f, "the {objective} needs {needs}")
            }
            Self::SoftTargetOutOfRange { index, value } => {
                write!(f, "target {index} must be in [0, 1], got {value}")
            }
            Self::LabelOutOfRange { index, value } => {
                write!(f, "label {index} must be 0 or 1, got {value}")
            }
            Self::SigmoidClassOutOfRange {
                index,
                value,
                classes,
            } => write!(
                f,
                "target of row {index} is {value}; with {classes} classes it must be in [0, {classes}) \
                 (a positive class), {classes} (background) or negative (ignored)"
            ),
            Self::SoftmaxClassOutOfRange {
                index,
                value,
                classes,
                ignore_index,
            } => write!(
                f,
                "target {index} is {value}; it must be in [0, {classes}) or the ignore_index {ignore_index}"
            ),
            Self::InvalidWeight { index, value } => {
                write!(f, "weight {index} must be finite and >= 0, got {value}")
            }
            Self::InvalidHessianFloor(v) => write!(f, "the Hessian floor must not be NaN, got {v}"),
            Self::SimdLevelUnavailable(level) => {
                write!(f, "this CPU cannot run the SIMD level {level}")
            }
        }
    }
}

impl std::error::Error for FocalError {}
