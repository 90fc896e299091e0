//! What the documentation says a call must refuse, written independently of the library's
//! validation: the set of errors that apply to a case (a call with several problems may name
//! any one of them; a call with none must succeed).

use crate::input::{Objective, Sigmoid, SigmoidMode, Softmax, Targets};
use focal_loss::{Float, FocalError, Reduction, SoftmaxAlpha};

/// The name of an error's variant (`"other"` for a variant this model does not know); an
/// out-of-range parameter of the family is named by the parameter (the first word of its
/// name: `"margin"`, `"label_smoothing"`).
pub fn error_name(error: &FocalError) -> &'static str {
    match error {
        FocalError::InvalidParameter { name, .. } => {
            name.split_whitespace().next().unwrap_or_default()
        }
        FocalError::ClassGammaLength { .. } => "ClassGammaLength",
        FocalError::InvalidClassGamma { .. } => "InvalidClassGamma",
        FocalError::UnsupportedTargets { .. } => "UnsupportedTargets",
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

/// γ ∈ [0, 10⁴] (the documented range).
fn gamma_in_range(gamma: f64) -> bool {
    (0.0..=1e4).contains(&gamma)
}

fn options<T: Float>(
    errors: &mut Vec<&'static str>,
    label_smoothing: f64,
    reduction: Option<Reduction>,
    normalizer: Option<f64>,
) {
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

/// A parameter that takes any value finite in `T` (FL*'s β, poly-1's ε).
fn finite_in<T: Float>(errors: &mut Vec<&'static str>, name: &'static str, value: f64) {
    if !round::<T>(value).is_finite() {
        errors.push(name);
    }
}

/// One γ per class, each in [0, 10⁴].
fn class_gamma(errors: &mut Vec<&'static str>, gamma: &[f64], classes: Option<usize>) {
    if classes.is_some_and(|c| gamma.len() != c) {
        errors.push("ClassGammaLength");
    }
    if !gamma.iter().all(|&g| gamma_in_range(g)) {
        errors.push("InvalidClassGamma");
    }
}

/// The errors of a sigmoid case's objective and its parameters (the options types' and the
/// README's documentation), including the target forms and smoothing it refuses.
fn objective<T: Float>(errors: &mut Vec<&'static str>, s: &Sigmoid) {
    let (gamma, alpha) = (s.gamma, s.alpha);
    let gamma_error = |errors: &mut Vec<&'static str>, name: &'static str| {
        if !gamma_in_range(gamma) {
            errors.push(name);
        }
    };
    // A loss defined by exact targets: label smoothing is refused (as the parameter).
    let no_smoothing = |errors: &mut Vec<&'static str>| {
        if s.label_smoothing != 0.0 {
            errors.push("label_smoothing");
        }
    };
    match &s.objective {
        Objective::Focal => {
            gamma_error(errors, "InvalidGamma");
            self::alpha::<T>(errors, alpha);
        }
        Objective::FocalStar { beta } => {
            // FL* divides by γ: 0 is refused too, and a γ below the element type's normal
            // range (1/γ would overflow).
            if gamma == 0.0 || !zero_or_normal::<T>(gamma) || !gamma_in_range(gamma) {
                errors.push("InvalidGamma");
            }
            finite_in::<T>(errors, "beta", *beta);
            self::alpha::<T>(errors, alpha);
        }
        Objective::Poly1Focal { epsilon } => {
            gamma_error(errors, "InvalidGamma");
            self::alpha::<T>(errors, alpha);
            finite_in::<T>(errors, "epsilon", *epsilon);
        }
        Objective::QualityFocal => gamma_error(errors, "beta"),
        Objective::Varifocal { alpha } => {
            gamma_error(errors, "InvalidGamma");
            self::alpha::<T>(errors, Some(*alpha));
            no_smoothing(errors);
        }
        Objective::Asymmetric {
            gamma_negative,
            margin,
        } => {
            gamma_error(errors, "gamma_positive");
            if !gamma_in_range(*gamma_negative) {
                errors.push("gamma_negative");
            }
            // In [0, 1), and 0 or a normal number of T (a smaller one rounds away).
            if !((0.0..1.0).contains(margin) && zero_or_normal::<T>(*margin)) {
                errors.push("margin");
            }
        }
        Objective::ReducedFocal { threshold } => {
            gamma_error(errors, "InvalidGamma");
            self::alpha::<T>(errors, alpha);
            // In (0, 1], with th^−γ (the reduced branch's factor) finite in T.
            let factor = round::<T>(threshold.powf(-gamma));
            if !(*threshold > 0.0 && *threshold <= 1.0 && factor.is_finite()) {
                errors.push("threshold");
            }
            no_smoothing(errors);
            if matches!(s.targets, Targets::Soft(_)) {
                errors.push("UnsupportedTargets");
            }
        }
        Objective::PerClassFocal { class_gamma } => {
            self::alpha::<T>(errors, alpha);
            // Only class-index targets have classes (the others are refused).
            let classes = match s.targets {
                Targets::Classes { classes, .. } => Some(classes),
                _ => {
                    errors.push("UnsupportedTargets");
                    None
                }
            };
            self::class_gamma(errors, class_gamma, classes);
        }
    }
}

/// The errors that apply to a sigmoid call at element type `T`.
pub fn sigmoid_errors<T: Float>(s: &Sigmoid) -> Vec<&'static str> {
    let mut errors = Vec::new();
    smoothing_share::<T>(&mut errors, s.label_smoothing, s.label_smoothing / 2.0);
    let grad_hess = matches!(s.mode, SigmoidMode::GradHess { .. });
    // The per-element call has no reduction, so no normaliser to check.
    let reduction = (!grad_hess).then_some(s.reduction);
    options::<T>(&mut errors, s.label_smoothing, reduction, s.normalizer);
    objective::<T>(&mut errors, s);
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
    if !gamma_in_range(s.gamma) {
        errors.push("InvalidGamma");
    }
    if let Some(gamma) = &s.class_gamma {
        class_gamma(&mut errors, gamma, Some(s.classes));
    }
    finite_in::<T>(&mut errors, "epsilon", s.epsilon);
    if s.hessian {
        // Per position: no reduction, no normaliser; one-hot targets; a floor that is a
        // number.
        options::<T>(&mut errors, s.label_smoothing, Some(Reduction::None), None);
        if s.label_smoothing != 0.0 {
            errors.push("UnsupportedTargets");
        }
        if s.hessian_floor.is_some_and(f64::is_nan) {
            errors.push("InvalidHessianFloor");
        }
    } else {
        options::<T>(
            &mut errors,
            s.label_smoothing,
            Some(s.reduction),
            s.normalizer,
        );
    }
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
