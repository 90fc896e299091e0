//! Checks shared by the loss families. Each returns the first problem it finds.

use crate::objective::{Description, Objective};
use crate::{Float, FocalError, Reduction};

/// The largest γ accepted. Beyond it `(1 − p_t)^γ` is 0 for every `p_t` above 0.001 and
/// products such as `γ²·CE` leave the range of `f32`; no use of focal loss comes near it.
pub(crate) const MAX_GAMMA: f64 = 1e4;

pub(crate) fn gamma(gamma: f64) -> Result<(), FocalError> {
    if (0.0..=MAX_GAMMA).contains(&gamma) {
        Ok(())
    } else {
        Err(FocalError::InvalidGamma(gamma))
    }
}

/// A scalar α in [0, 1] that is 0 or a normal number of the element type.
pub(crate) fn alpha<T: Float>(alpha: Option<f64>) -> Result<(), FocalError> {
    match alpha {
        Some(a) if !((0.0..=1.0).contains(&a) && is_zero_or_normal::<T>(a)) => {
            Err(FocalError::InvalidAlpha(a))
        }
        _ => Ok(()),
    }
}

/// A per-class α: ≥ 0, finite in the element type and, unless 0, a normal number of it.
pub(crate) fn class_alpha<T: Float>(alpha: &[f64]) -> Result<(), FocalError> {
    let valid =
        |a: f64| a >= 0.0 && T::from_f64(a).to_f64().is_finite() && is_zero_or_normal::<T>(a);
    match alpha.iter().position(|&a| !valid(a)) {
        Some(class) => Err(FocalError::InvalidClassAlpha {
            class,
            value: alpha[class],
        }),
        None => Ok(()),
    }
}

/// A weight of the options below the smallest normal number of the element type rounds to 0
/// or a subnormal in the kernels (`0·∞` is then 0 where the options describe ∞), so it is
/// refused rather than computed as another loss.
fn is_zero_or_normal<T: Float>(value: f64) -> bool {
    value == 0.0 || value.abs() >= smallest_normal::<T>()
}

fn smallest_normal<T: Float>() -> f64 {
    2f64.powi(1 - T::EXPONENT_BIAS as i32)
}

pub(crate) fn label_smoothing(ls: f64) -> Result<(), FocalError> {
    if (0.0..1.0).contains(&ls) {
        Ok(())
    } else {
        Err(FocalError::InvalidLabelSmoothing(ls))
    }
}

/// Label smoothing gives every target a share (`ls/2` sigmoid, `ls/C` softmax) that must be a
/// normal number of the element type: below it the share rounds away (to 0 or a subnormal) in
/// the kernels, which then compute another loss than the `f64` options describe.
pub(crate) fn smoothing_share<T: Float>(ls: f64, share: f64) -> Result<(), FocalError> {
    if ls == 0.0 || share >= smallest_normal::<T>() {
        Ok(())
    } else {
        Err(FocalError::InvalidLabelSmoothing(ls))
    }
}

/// The normaliser and its reciprocal (the gradient's factor, held in the element type) must
/// be normal numbers of the element type: `[2^-126, 2^126]` for f32, `[2^-1022, 2^1022]` for f64.
pub(crate) fn normalizer<T: Float>(
    reduction: Reduction,
    normalizer: Option<f64>,
) -> Result<(), FocalError> {
    let Some(v) = normalizer else { return Ok(()) };
    let limit = 2f64.powi(T::EXPONENT_BIAS as i32 - 1);
    if !(v >= 1.0 / limit && v <= limit) {
        return Err(FocalError::InvalidNormalizer(v));
    }
    if reduction != Reduction::Mean {
        return Err(FocalError::NormalizerNeedsMean { reduction });
    }
    Ok(())
}

pub(crate) fn input_length(
    argument: &'static str,
    expected: usize,
    actual: usize,
) -> Result<(), FocalError> {
    if expected == actual {
        Ok(())
    } else {
        Err(FocalError::LengthMismatch {
            argument,
            expected,
            actual,
        })
    }
}

pub(crate) fn output_length<T>(
    argument: &'static str,
    expected: usize,
    output: Option<&[T]>,
) -> Result<(), FocalError> {
    match output {
        Some(out) if out.len() != expected => Err(FocalError::OutputLength {
            argument,
            expected,
            actual: out.len(),
        }),
        _ => Ok(()),
    }
}

/// The length of the loss output: one value per element, or one value for a reduction.
pub(crate) fn loss_length(reduction: Reduction, elements: usize) -> usize {
    match reduction {
        Reduction::None => elements,
        Reduction::Sum | Reduction::Mean => 1,
    }
}

pub(crate) fn weights<T: Float>(weights: &[T]) -> Result<(), FocalError> {
    match weights.iter().position(|w| {
        let w = w.to_f64();
        !(w.is_finite() && w >= 0.0)
    }) {
        Some(index) => Err(FocalError::InvalidWeight {
            index,
            value: weights[index].to_f64(),
        }),
        None => Ok(()),
    }
}

pub(crate) fn product(factors: &[usize]) -> Result<usize, FocalError> {
    factors
        .iter()
        .try_fold(1usize, |acc, &f| acc.checked_mul(f))
        .ok_or(FocalError::SizeOverflow)
}

/// A γ of the family under its own name: in [0, 10⁴].
fn named_gamma(name: &'static str, value: f64) -> Result<(), FocalError> {
    gamma(value).map_err(|_| FocalError::InvalidParameter { name, value })
}

/// A per-class γ: each in [0, 10⁴].
pub(crate) fn class_gamma(gamma: &[f64]) -> Result<(), FocalError> {
    match gamma.iter().position(|&g| self::gamma(g).is_err()) {
        Some(class) => Err(FocalError::InvalidClassGamma {
            class,
            value: gamma[class],
        }),
        None => Ok(()),
    }
}

/// A parameter that only has to be finite in the element type (a larger one would round
/// to ±∞ in the kernels).
pub(crate) fn finite_in<T: Float>(name: &'static str, value: f64) -> Result<(), FocalError> {
    if T::from_f64(value).to_f64().is_finite() {
        Ok(())
    } else {
        Err(FocalError::InvalidParameter { name, value })
    }
}

/// Checks every parameter of an elementwise call in element type `T`.
pub(crate) fn description<T: Float>(call: &Description<'_>) -> Result<(), FocalError> {
    match call.objective {
        Objective::Focal { gamma: g, alpha: a } => {
            gamma(g)?;
            alpha::<T>(a)?;
        }
        Objective::FocalStar {
            gamma: g,
            beta,
            alpha: a,
        } => {
            // FL* divides by γ: 0 is not a limit it has, and a γ below the element type's
            // normal range (0 in f32, or subnormal) makes 1/γ overflow.
            if g == 0.0 || !is_zero_or_normal::<T>(g) {
                return Err(FocalError::InvalidGamma(g));
            }
            gamma(g)?;
            finite_in::<T>("beta", beta)?;
            alpha::<T>(a)?;
        }
        Objective::Poly1Focal {
            gamma: g,
            alpha: a,
            epsilon,
        } => {
            gamma(g)?;
            alpha::<T>(a)?;
            finite_in::<T>("epsilon", epsilon)?;
        }
        Objective::QualityFocal { beta } => named_gamma("beta", beta)?,
        Objective::ClassFocal { alpha: a } => {
            alpha::<T>(a)?;
            class_gamma(call.class_gamma.unwrap_or_default())?;
        }
        Objective::Asymmetric {
            gamma_positive,
            gamma_negative,
            margin,
        } => {
            named_gamma("gamma_positive", gamma_positive)?;
            named_gamma("gamma_negative", gamma_negative)?;
            // A margin that rounds away in `T` would compute another loss than the options
            // describe (as α).
            if !((0.0..1.0).contains(&margin) && is_zero_or_normal::<T>(margin)) {
                return Err(FocalError::InvalidParameter {
                    name: "margin",
                    value: margin,
                });
            }
        }
        Objective::ReducedFocal {
            gamma: g,
            threshold,
            alpha: a,
        } => {
            gamma(g)?;
            // The reduced branch is scaled by th^−γ, which must be finite in `T`.
            let scale = T::from_f64(threshold.powf(-g)).to_f64();
            if !(threshold > 0.0 && threshold <= 1.0 && scale.is_finite()) {
                return Err(FocalError::InvalidParameter {
                    name: "threshold",
                    value: threshold,
                });
            }
            alpha::<T>(a)?;
            // Smoothing makes targets soft, whose p_t the threshold cannot be decided on
            // exactly (see ReducedFocalOptions).
            if call.label_smoothing != 0.0 {
                return Err(FocalError::InvalidParameter {
                    name: "label_smoothing (the reduced focal loss takes hard targets)",
                    value: call.label_smoothing,
                });
            }
        }
        Objective::Varifocal { alpha: a, gamma: g } => {
            alpha::<T>(Some(a))?;
            gamma(g)?;
            // The loss is defined by whether a target is 0, which smoothing erases.
            if call.label_smoothing != 0.0 {
                return Err(FocalError::InvalidParameter {
                    name: "label_smoothing (the varifocal loss has none)",
                    value: call.label_smoothing,
                });
            }
        }
    }
    label_smoothing(call.label_smoothing)?;
    smoothing_share::<T>(call.label_smoothing, call.label_smoothing / 2.0)?;
    normalizer::<T>(call.reduction, call.normalizer)
}
