//! Checks shared by the loss families. Each returns the first problem it finds.

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

pub(crate) fn alpha(alpha: Option<f64>) -> Result<(), FocalError> {
    match alpha {
        Some(a) if !(0.0..=1.0).contains(&a) => Err(FocalError::InvalidAlpha(a)),
        _ => Ok(()),
    }
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
    let smallest_normal = 2f64.powi(1 - T::EXPONENT_BIAS as i32);
    if ls == 0.0 || share >= smallest_normal {
        Ok(())
    } else {
        Err(FocalError::InvalidLabelSmoothing(ls))
    }
}

pub(crate) fn normalizer(reduction: Reduction, normalizer: Option<f64>) -> Result<(), FocalError> {
    let Some(v) = normalizer else { return Ok(()) };
    if !(v.is_finite() && v > 0.0) {
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
