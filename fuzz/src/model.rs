//! What the documentation says a call must refuse, written independently of the library's
//! validation: the set of errors that apply to a case (a call with several problems may name
//! any one of them; a call with none must succeed).

use crate::input::{Sigmoid, SigmoidMode, Softmax, Targets};
use focal_loss::{Float, FocalError, Reduction, SoftmaxAlpha};

/// The name of an error's variant (`"other"` for a variant this model does not know).
pub fn error_name(error: &FocalError) -> &'static str {
    match error {
        FocalError::LengthMismatch { .. } => "LengthMismatch",
        FocalError::OutputLength { .. } => "OutputLength",
        FocalError::EmptyDimension { .. } => "EmptyDimension",
        FocalError::SizeOverflow => "SizeOverflow",
        FocalError::InvalidGamma(_) => "InvalidGamma",
        FocalError::InvalidAlpha(_) => "InvalidAlpha",
        FocalError::InvalidLabelSmoothing(_) => "InvalidLabelSmoothing",
        FocalError::InvalidNormalizer(_) => "InvalidNormalizer",
        FocalError::NormalizerNeedsMean { .. } => "NormalizerNeedsMean",
        FocalError::ClassAlphaLength { .. } => "ClassAlphaLength",
        FocalError::InvalidClassAlpha { .. } => "InvalidClassAlpha",
        FocalError::SoftTargetOutOfRange { .. } => "SoftTargetOutOfRange",
        FocalError::LabelOutOfRange { .. } => "LabelOutOfRange",
        FocalError::SigmoidClassOutOfRange { .. } => "SigmoidClassOutOfRange",
        FocalError::SoftmaxClassOutOfRange { .. } => "SoftmaxClassOutOfRange",
        FocalError::InvalidWeight { .. } => "InvalidWeight",
        FocalError::InvalidHessianFloor(_) => "InvalidHessianFloor",
        FocalError::SimdLevelUnavailable(_) => "SimdLevelUnavailable",
        _ => "other",
    }
}

/// `v` rounded to `T` (what the call sees of an array value).
pub fn round<T: Float>(v: f64) -> f64 {
    T::from_f64(v).to_f64()
}

fn finite_non_negative(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

fn options<T: Float>(
    errors: &mut Vec<&'static str>,
    gamma: f64,
    label_smoothing: f64,
    reduction: Option<Reduction>,
    normalizer: Option<f64>,
) {
    // γ ∈ [0, 10⁴] (the documented range).
    if !(0.0..=1e4).contains(&gamma) {
        errors.push("InvalidGamma");
    }
    if !(0.0..1.0).contains(&label_smoothing) {
        errors.push("InvalidLabelSmoothing");
    }
    if let (Some(reduction), Some(v)) = (reduction, normalizer) {
        // It and its reciprocal normal numbers of T.
        let limit = if T::NAME == "f32" {
            2f64.powi(126)
        } else {
            2f64.powi(1022)
        };
        if !(v >= 1.0 / limit && v <= limit) {
            errors.push("InvalidNormalizer");
        }
        if reduction != Reduction::Mean {
            errors.push("NormalizerNeedsMean");
        }
    }
}

fn alpha<T: Float>(errors: &mut Vec<&'static str>, alpha: Option<f64>) {
    if alpha.is_some_and(|a| !((0.0..=1.0).contains(&a) && zero_or_normal::<T>(a))) {
        errors.push("InvalidAlpha");
    }
}

fn smallest_normal<T: Float>() -> f64 {
    if T::NAME == "f32" {
        f64::from(f32::MIN_POSITIVE)
    } else {
        f64::MIN_POSITIVE
    }
}

/// An α (scalar or per class) must be 0 or a normal number of `T` (documented).
fn zero_or_normal<T: Float>(a: f64) -> bool {
    a == 0.0 || a >= smallest_normal::<T>()
}

/// Label smoothing whose share of a target is not a normal number of `T` (documented).
fn smoothing_share<T: Float>(errors: &mut Vec<&'static str>, ls: f64, share: f64) {
    if ls != 0.0 && share < smallest_normal::<T>() {
        errors.push("InvalidLabelSmoothing");
    }
}

/// The errors that apply to a sigmoid call at element type `T`.
pub fn sigmoid_errors<T: Float>(s: &Sigmoid) -> Vec<&'static str> {
    let mut errors = Vec::new();
    smoothing_share::<T>(&mut errors, s.label_smoothing, s.label_smoothing / 2.0);
    let grad_hess = matches!(s.mode, SigmoidMode::GradHess { .. });
    // The per-element call has no reduction, so no normaliser to check.
    let reduction = (!grad_hess).then_some(s.reduction);
    options::<T>(
        &mut errors,
        s.gamma,
        s.label_smoothing,
        reduction,
        s.normalizer,
    );
    alpha::<T>(&mut errors, s.alpha);
    let n = s.logits.len();
    match &s.targets {
        Targets::Soft(y) => {
            if y.len() != n {
                errors.push("LengthMismatch");
            }
            if y.iter().any(|&v| !(0.0..=1.0).contains(&round::<T>(v))) {
                errors.push("SoftTargetOutOfRange");
            }
        }
        Targets::Labels(y) => {
            if y.len() != n {
                errors.push("LengthMismatch");
            }
            if y.iter().any(|&v| v > 1) {
                errors.push("LabelOutOfRange");
            }
        }
        Targets::Classes { targets, classes } => {
            if *classes == 0 && !targets.is_empty() {
                errors.push("EmptyDimension");
            }
            if targets.len() * classes != n {
                errors.push("LengthMismatch");
            }
            if targets.iter().any(|&t| t >= 0 && t as usize > *classes) {
                errors.push("SigmoidClassOutOfRange");
            }
        }
    }
    if let Some(w) = &s.weights {
        if w.len() != n {
            errors.push("LengthMismatch");
        }
        if w.iter().any(|&v| !finite_non_negative(round::<T>(v))) {
            errors.push("InvalidWeight");
        }
    }
    if s.output_skew != 0 {
        errors.push("OutputLength");
    }
    if let SigmoidMode::GradHess { floor: Some(f) } = s.mode
        && f.is_nan()
    {
        errors.push("InvalidHessianFloor");
    }
    errors
}

/// The errors that apply to a softmax call at element type `T`.
pub fn softmax_errors<T: Float>(s: &Softmax) -> Vec<&'static str> {
    let mut errors = Vec::new();
    let share = s.label_smoothing / s.classes.max(1) as f64;
    smoothing_share::<T>(&mut errors, s.label_smoothing, share);
    let positions = s.batch * s.spatial;
    if s.batch > 0 && s.spatial == 0 {
        errors.push("EmptyDimension");
    }
    if positions > 0 && s.classes == 0 {
        errors.push("EmptyDimension");
    }
    options::<T>(
        &mut errors,
        s.gamma,
        s.label_smoothing,
        Some(s.reduction),
        s.normalizer,
    );
    match &s.alpha {
        SoftmaxAlpha::Off => {}
        SoftmaxAlpha::Uniform(a) => alpha::<T>(&mut errors, Some(*a)),
        SoftmaxAlpha::PerClass(v) => {
            if v.len() != s.classes {
                errors.push("ClassAlphaLength");
            }
            // Class α is computed with in the element type.
            if v.iter()
                .any(|&a| !(a >= 0.0 && round::<T>(a).is_finite() && zero_or_normal::<T>(a)))
            {
                errors.push("InvalidClassAlpha");
            }
        }
    }
    if s.logits.len() != positions * s.classes || s.targets.len() != positions {
        errors.push("LengthMismatch");
    }
    if s.output_skew != 0 {
        errors.push("OutputLength");
    }
    let in_range = |t: i32| t >= 0 && (t as usize) < s.classes;
    if s.targets
        .iter()
        .any(|&t| t != s.ignore_index && !in_range(t))
    {
        errors.push("SoftmaxClassOutOfRange");
    }
    errors
}
