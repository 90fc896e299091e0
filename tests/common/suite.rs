//! One test suite for every elementwise objective of the focal family, stamped out per
//! objective by [`objective_suite!`] (memchr's `define_memchr_quickcheck!` is the model):
//! the kernels against the reference on arbitrary inputs (every target form, weights,
//! smoothing, reductions and normaliser, f32 and f64), every SIMD level and thread count
//! giving the same bits, the gradient-only and loss-only calls equal to the fused one,
//! finite differences of the reference, the limits (±1e4, ±∞, NaN, targets 0 and 1) and
//! the refusal of invalid parameters with the outputs untouched. Golden values are
//! `tests/golden_family.rs`.

#![allow(dead_code)]

use super::tolerance;
use focal_loss::{
    Float, FocalError, Reduction, SigmoidObjective, SigmoidTargets, SimdLevel, reference,
    sigmoid_focal_grad, sigmoid_focal_grad_hess, sigmoid_focal_loss, sigmoid_focal_loss_grad,
    with_simd_level,
};
use proptest::prelude::*;

/// What the suite needs to know about an objective's options type.
pub trait SuiteObjective: SigmoidObjective + Clone + core::fmt::Debug {
    /// The same options with the driver's part replaced.
    fn with_call(&self, reduction: Reduction, label_smoothing: f64, threads: usize) -> Self;
    /// The sizes of the terms of one unweighted element's loss, gradient and Hessian at
    /// logit `x` and (smoothed) target `y` (`tests/common/tolerance.rs`): where they cancel,
    /// the result is only as accurate as they are large.
    fn scales(&self, x: f64, y: f64) -> [f64; 3];
    /// [`Self::scales`] of an element of class `class` of a `[rows, classes]` head.
    fn scales_of_class(&self, x: f64, y: f64, class: Option<usize>) -> [f64; 3] {
        let _ = class;
        self.scales(x, y)
    }
    /// The γ of the accuracy contract (its tolerance grows above 8).
    fn contract_gamma(&self) -> f64;
    /// The reduction the options ask for.
    fn reduction_of(&self) -> Reduction;
    /// Whether the loss is twice differentiable at `(x, y)` with room for finite
    /// differences (not at a kink or cusp).
    fn smooth_at(&self, x: f64, y: f64) -> bool {
        let _ = (x, y);
        true
    }
    /// Whether label smoothing is defined for the objective.
    const SMOOTHING: bool = true;
    /// The form in which the objective takes `form`'s targets (labels as a head of one class
    /// for per-class parameters), or `None` where it refuses them.
    fn adapt(form: &Form) -> Option<Form> {
        Some(form.clone())
    }
    /// The options fitted to a form of targets (one value per class).
    fn fitted(&self, form: &Form) -> Self {
        let _ = form;
        self.clone()
    }
}

/// Labels as class indices of a head of one class: 1 is class 0, 0 is background.
pub fn labels_as_classes(form: &Form) -> Option<Form> {
    match form {
        Form::Labels(y) => Some(Form::Classes(
            y.iter().map(|&label| i32::from(label == 0)).collect(),
            1,
        )),
        Form::Classes(..) => Some(form.clone()),
        Form::Soft(_) => None,
    }
}

/// Hard targets only: labels and class indices.
pub fn hard_only(form: &Form) -> Option<Form> {
    match form {
        Form::Soft(_) => None,
        _ => Some(form.clone()),
    }
}

/// The targets of a case in one of the three forms.
#[derive(Debug, Clone)]
pub enum Form {
    Soft(Vec<f64>),
    Labels(Vec<u8>),
    Classes(Vec<i32>, usize),
}

/// A whole case: logits, targets and optional weights.
#[derive(Debug, Clone)]
pub struct Case {
    pub logits: Vec<f64>,
    pub form: Form,
    pub weights: Option<Vec<f64>>,
}

pub fn logit() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => -30.0..30.0f64,
        2 => -120.0..120.0f64,
        1 => prop_oneof![
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::NAN),
            Just(0.0),
            Just(-0.0),
            Just(1e4),
            Just(-1e4),
            Just(1e30),
            Just(-1e30),
            Just(1e-40),
        ],
    ]
}

pub fn case() -> impl Strategy<Value = Case> {
    let form = prop_oneof![
        prop::collection::vec(
            (logit(), prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64]),
            0..70
        )
        .prop_map(|v| {
            let (x, y): (Vec<f64>, Vec<f64>) = v.into_iter().unzip();
            (x, Form::Soft(y))
        }),
        prop::collection::vec((logit(), 0..=1u8), 0..70).prop_map(|v| {
            let (x, y): (Vec<f64>, Vec<u8>) = v.into_iter().unzip();
            (x, Form::Labels(y))
        }),
        (1..6usize).prop_flat_map(|classes| {
            prop::collection::vec(
                (prop::collection::vec(logit(), classes), -1..=classes as i32),
                0..14,
            )
            .prop_map(move |rows| {
                let x = rows.iter().flat_map(|(x, _)| x.clone()).collect();
                let t = rows.iter().map(|(_, t)| *t).collect();
                (x, Form::Classes(t, classes))
            })
        }),
    ];
    (form, any::<bool>(), prop::collection::vec(0.0..3.0f64, 70)).prop_map(
        |((logits, form), weighted, w)| {
            let weights = weighted.then(|| w[..logits.len()].to_vec());
            Case {
                logits,
                form,
                weights,
            }
        },
    )
}

/// The driver's options a case runs with.
pub fn call() -> impl Strategy<Value = (Reduction, f64)> {
    (
        prop_oneof![
            Just(Reduction::None),
            Just(Reduction::Sum),
            Just(Reduction::Mean)
        ],
        prop_oneof![Just(0.0), 0.0..0.4f64],
    )
}

/// A case's inputs in element type `T`, and the same values as `f64`.
struct Typed<T> {
    x: Vec<T>,
    x64: Vec<f64>,
    soft: Vec<T>,
    soft64: Vec<f64>,
    weights: Option<Vec<T>>,
    weights64: Option<Vec<f64>>,
}

impl<T: Float> Typed<T> {
    fn new(case: &Case) -> Self {
        let round = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
        let widen = |v: &[T]| v.iter().map(|x| x.to_f64()).collect::<Vec<f64>>();
        let x = round(&case.logits);
        let soft = match &case.form {
            Form::Soft(y) => round(y),
            _ => Vec::new(),
        };
        let weights = case.weights.as_deref().map(round);
        Self {
            x64: widen(&x),
            soft64: widen(&soft),
            weights64: weights.as_deref().map(widen),
            x,
            soft,
            weights,
        }
    }
}

fn targets<'a, T>(form: &'a Form, soft: &'a [T]) -> SigmoidTargets<'a, T> {
    match form {
        Form::Soft(_) => SigmoidTargets::Soft(soft),
        Form::Labels(y) => SigmoidTargets::Labels(y),
        Form::Classes(t, c) => SigmoidTargets::Classes {
            targets: t,
            classes: *c,
        },
    }
}

fn widen<T: Float>(values: &[T]) -> Vec<f64> {
    values.iter().map(|v| v.to_f64()).collect()
}

/// Per-element term scales of a call (weighted; the loss and gradient divided as the
/// reduction divides them, the reduced loss's scale the sum of its elements').
fn call_scales<O: SuiteObjective>(
    options: &O,
    reduction: Reduction,
    label_smoothing: f64,
    logits: &[f64],
    targets: &SigmoidTargets<'_, f64>,
    weights: Option<&[f64]>,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = logits.len();
    let mut count = 0usize;
    let (mut loss, mut grad, mut hess) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for i in 0..n {
        if let Some(raw) = reference::element_target(targets, i) {
            count += 1;
            let y = reference::smooth_binary_target(raw, label_smoothing);
            let w = weights.map_or(1.0, |w| w[i]);
            let class = match targets {
                SigmoidTargets::Classes { classes, .. } => Some(i % classes),
                _ => None,
            };
            let [l, g, h] = options.scales_of_class(logits[i], y, class);
            let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
            (loss[i], grad[i], hess[i]) = (finite(w * l), finite(w * g), finite(w * h));
        }
    }
    let divisor = match reduction {
        Reduction::Mean if count > 0 => count as f64,
        _ => 1.0,
    };
    let loss = match reduction {
        Reduction::None => loss,
        _ => vec![loss.iter().sum::<f64>() / divisor],
    };
    (loss, grad.iter().map(|g| g / divisor).collect(), hess)
}

fn check(
    what: &str,
    got: &[f64],
    want: &[f64],
    scale: &[f64],
    single: bool,
    gamma: f64,
) -> Result<(), TestCaseError> {
    tolerance::check(what, got, want, scale, single, gamma).map_err(TestCaseError::fail)
}

/// The kernels of `T` against the reference on the same (rounded) inputs.
pub fn differential<T: Float, O: SuiteObjective>(
    options: &O,
    case: &Case,
    reduction: Reduction,
    label_smoothing: f64,
) -> Result<(), TestCaseError> {
    let single = T::NAME == "f32";
    let Some(form) = O::adapt(&case.form) else {
        return Ok(());
    };
    let case = &Case {
        form,
        ..case.clone()
    };
    let options = options
        .fitted(&case.form)
        .with_call(reduction, label_smoothing, 0);
    let gamma = options.contract_gamma();
    let typed = Typed::<T>::new(case);
    let (t, t64) = (
        targets(&case.form, &typed.soft),
        targets(&case.form, &typed.soft64),
    );
    let n = typed.x.len();
    let loss_len = if reduction == Reduction::None { n } else { 1 };
    let (mut loss, mut grad) = (vec![T::default(); loss_len], vec![T::default(); n]);
    sigmoid_focal_loss_grad(
        &typed.x,
        t,
        typed.weights.as_deref(),
        &options,
        &mut loss,
        &mut grad,
    )
    .map_err(|e| TestCaseError::fail(format!("{e}")))?;
    let (mut want_loss, mut want_grad) = (vec![0.0; loss_len], vec![0.0; n]);
    reference::sigmoid_focal(
        &typed.x64,
        &t64,
        typed.weights64.as_deref(),
        &options,
        Some(&mut want_loss),
        Some(&mut want_grad),
    );
    let (loss_scale, grad_scale, hess_scale) = call_scales(
        &options,
        reduction,
        label_smoothing,
        &typed.x64,
        &t64,
        typed.weights64.as_deref(),
    );
    check(
        "loss",
        &widen(&loss),
        &want_loss,
        &loss_scale,
        single,
        gamma,
    )?;
    check(
        "grad",
        &widen(&grad),
        &want_grad,
        &grad_scale,
        single,
        gamma,
    )?;

    let per_element = options.with_call(Reduction::None, label_smoothing, 0);
    let (mut g, mut h) = (vec![T::default(); n], vec![T::default(); n]);
    sigmoid_focal_grad_hess(
        &typed.x,
        t,
        typed.weights.as_deref(),
        &per_element,
        None,
        &mut g,
        &mut h,
    )
    .map_err(|e| TestCaseError::fail(format!("{e}")))?;
    let (mut want_g, mut want_h) = (vec![0.0; n], vec![0.0; n]);
    reference::sigmoid_focal_grad_hess(
        &typed.x64,
        &t64,
        typed.weights64.as_deref(),
        &per_element,
        None,
        &mut want_g,
        &mut want_h,
    );
    let (_, undivided, _) = call_scales(
        &options,
        Reduction::None,
        label_smoothing,
        &typed.x64,
        &t64,
        typed.weights64.as_deref(),
    );
    check(
        "grad_hess.grad",
        &widen(&g),
        &want_g,
        &undivided,
        single,
        gamma,
    )?;
    check("hess", &widen(&h), &want_h, &hess_scale, single, gamma)?;
    Ok(())
}

fn bits<T: Float>(values: &[T]) -> Vec<u64> {
    // All NaNs are equal: their payload is not part of the contract.
    values
        .iter()
        .map(|v| {
            let v = v.to_f64();
            if v.is_nan() { u64::MAX } else { v.to_bits() }
        })
        .collect()
}

/// Every output of the case at the current level and thread limit, as bits: the fused
/// loss and gradient, the loss alone, the gradient alone, the gradient and Hessian.
fn outputs<T: Float, O: SuiteObjective>(options: &O, case: &Case) -> Vec<Vec<u64>> {
    let typed = Typed::<T>::new(case);
    let t = targets(&case.form, &typed.soft);
    let w = typed.weights.as_deref();
    let n = typed.x.len();
    let loss_len = if options.reduction_of() == Reduction::None {
        n
    } else {
        1
    };
    let (mut loss, mut grad) = (vec![T::default(); loss_len], vec![T::default(); n]);
    sigmoid_focal_loss_grad(&typed.x, t, w, options, &mut loss, &mut grad).unwrap();
    let mut loss_only = vec![T::default(); loss_len];
    sigmoid_focal_loss(&typed.x, t, w, options, &mut loss_only).unwrap();
    let mut grad_only = vec![T::default(); n];
    sigmoid_focal_grad(&typed.x, t, w, options, &mut grad_only).unwrap();
    let (mut g, mut h) = (vec![T::default(); n], vec![T::default(); n]);
    sigmoid_focal_grad_hess(&typed.x, t, w, options, Some(1e-6), &mut g, &mut h).unwrap();
    vec![
        bits(&loss),
        bits(&grad),
        bits(&loss_only),
        bits(&grad_only),
        bits(&g),
        bits(&h),
    ]
}

/// Every level this CPU has and any thread count give the same bits; the loss-only and
/// gradient-only calls give the fused call's bits, and so does grad_hess's gradient for a
/// per-element call.
pub fn levels_threads_and_parts<T: Float, O: SuiteObjective>(
    options: &O,
    case: &Case,
    reduction: Reduction,
    label_smoothing: f64,
) -> Result<(), TestCaseError> {
    let Some(form) = O::adapt(&case.form) else {
        return Ok(());
    };
    let case = &Case {
        form,
        ..case.clone()
    };
    let options = options
        .fitted(&case.form)
        .with_call(reduction, label_smoothing, 0);
    let reference_bits = outputs::<T, O>(&options, case);
    prop_assert_eq!(&reference_bits[0], &reference_bits[2], "loss alone");
    prop_assert_eq!(&reference_bits[1], &reference_bits[3], "gradient alone");
    if reduction == Reduction::None {
        prop_assert_eq!(&reference_bits[1], &reference_bits[4], "grad_hess gradient");
    }
    for level in SimdLevel::ALL {
        if let Ok(bits) = with_simd_level(level, || outputs::<T, O>(&options, case)) {
            prop_assert_eq!(&bits, &reference_bits, "level {}", level.name());
        }
    }
    for threads in [1, 2, 3] {
        let limited = options.with_call(reduction, label_smoothing, threads);
        prop_assert_eq!(
            outputs::<T, O>(&limited, case),
            reference_bits.clone(),
            "{} threads",
            threads
        );
    }
    Ok(())
}

/// Long inputs across chunks (16 Ki elements each): levels and thread counts agree, and the
/// kernels match the reference.
pub fn large<O: SuiteObjective>(options: &O) {
    let n = 3 * 16 * 1024 + 77;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let logits: Vec<f64> = (0..n).map(|_| 40.0 * (uniform() - 0.5)).collect();
    let soft: Vec<f64> = (0..n)
        .map(|i| {
            if i % 3 == 0 {
                uniform()
            } else {
                (i % 2) as f64
            }
        })
        .collect();
    for form in [
        Form::Soft(soft.clone()),
        Form::Labels(soft.iter().map(|&y| u8::from(y >= 0.5)).collect()),
    ] {
        let Some(form) = O::adapt(&form) else {
            continue;
        };
        let case = Case {
            logits: logits.clone(),
            form,
            weights: None,
        };
        for reduction in [Reduction::None, Reduction::Mean] {
            levels_threads_and_parts::<f32, O>(options, &case, reduction, 0.0).unwrap();
            differential::<f32, O>(options, &case, reduction, 0.0).unwrap();
            differential::<f64, O>(options, &case, reduction, 0.0).unwrap();
        }
    }
}

/// The reference's gradient and Hessian against central differences of its loss and
/// gradient (f64, away from infinite and huge logits).
pub fn finite_differences<O: SuiteObjective>(
    options: &O,
    x: f64,
    y: f64,
) -> Result<(), TestCaseError> {
    // Hard targets as labels (and as whatever form the objective takes them in).
    let form = if y == 0.0 || y == 1.0 {
        Form::Labels(vec![y as u8])
    } else {
        Form::Soft(vec![y])
    };
    let Some(form) = O::adapt(&form) else {
        return Ok(());
    };
    let options = options.fitted(&form).with_call(Reduction::None, 0.0, 0);
    if !options.smooth_at(x, y) {
        return Ok(());
    }
    let soft = [y];
    let eval = |x: f64| {
        let (mut loss, mut grad, mut hess) = ([0.0f64], [0.0f64], [0.0f64]);
        let targets = targets(&form, &soft[..]);
        reference::sigmoid_focal(
            &[x],
            &targets,
            None,
            &options,
            Some(&mut loss),
            Some(&mut grad),
        );
        reference::sigmoid_focal_grad_hess(
            &[x],
            &targets,
            None,
            &options,
            None,
            &mut [0.0],
            &mut hess,
        );
        (loss[0], grad[0], hess[0])
    };
    let h = 1e-4 * x.abs().max(1.0);
    let (_, g, hs) = eval(x);
    let (l_plus, g_plus, _) = eval(x + h);
    let (l_minus, g_minus, _) = eval(x - h);
    let fd_grad = (l_plus - l_minus) / (2.0 * h);
    let fd_hess = (g_plus - g_minus) / (2.0 * h);
    let class = matches!(form, Form::Classes(..)).then_some(0);
    let [loss_scale, grad_scale, hess_scale] = options.scales_of_class(x, y, class);
    // Central differences are accurate to h²·f‴ (here below 1e-6 of the terms) and lose
    // ε·|L|/h to rounding.
    let tolerance =
        |scale: f64, value: f64| 1e-5 * scale.max(value.abs()) + 1e-10 * loss_scale.max(1.0) / h;
    prop_assert!(
        (fd_grad - g).abs() <= tolerance(grad_scale, g),
        "gradient {} vs differences {} at x = {}, y = {}",
        g,
        fd_grad,
        x,
        y
    );
    prop_assert!(
        (fd_hess - hs).abs() <= tolerance(hess_scale, hs),
        "Hessian {} vs differences {} at x = {}, y = {}",
        hs,
        fd_hess,
        x,
        y
    );
    Ok(())
}

/// ±1e4, ±∞ and NaN logits with targets 0, 1 and soft ones: finite inputs give finite
/// outputs, NaN gives NaN, and everything agrees with the reference (equal infinities).
pub fn limits<O: SuiteObjective>(options: &O) {
    let xs = [
        -1e4,
        -745.0,
        -100.0,
        -17.0,
        0.0,
        17.0,
        100.0,
        745.0,
        1e4,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    let ys = [0.0, 1e-3, 0.3, 0.5, 0.999, 1.0];
    let logits: Vec<f64> = xs.iter().flat_map(|&x| ys.iter().map(move |_| x)).collect();
    let targets: Vec<f64> = xs.iter().flat_map(|_| ys.iter().copied()).collect();
    let labels: Vec<u8> = xs.iter().flat_map(|_| [0u8, 1, 0, 1, 0, 1]).collect();
    for form in [Form::Soft(targets), Form::Labels(labels)] {
        let Some(form) = O::adapt(&form) else {
            continue;
        };
        let case = Case {
            logits: logits.clone(),
            form,
            weights: None,
        };
        differential::<f32, O>(options, &case, Reduction::None, 0.0).unwrap();
        differential::<f64, O>(options, &case, Reduction::None, 0.0).unwrap();
        let per_element = options
            .fitted(&case.form)
            .with_call(Reduction::None, 0.0, 0);
        for single in [false, true] {
            let (loss, grad, hess) = if single {
                all_outputs::<f32, O>(&per_element, &case)
            } else {
                all_outputs::<f64, O>(&per_element, &case)
            };
            for (i, &x) in logits.iter().enumerate() {
                for (what, v) in [("loss", loss[i]), ("grad", grad[i]), ("hess", hess[i])] {
                    if x.is_nan() {
                        assert!(v.is_nan(), "{what}[{i}] at NaN: {v}");
                    } else if x.is_finite() {
                        assert!(v.is_finite(), "{what}[{i}] at x = {x} (f32: {single}): {v}");
                    }
                }
            }
        }
    }
}

fn all_outputs<T: Float, O: SuiteObjective>(
    options: &O,
    case: &Case,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let typed = Typed::<T>::new(case);
    let t = targets(&case.form, &typed.soft);
    let n = typed.x.len();
    let (mut loss, mut grad) = (vec![T::default(); n], vec![T::default(); n]);
    sigmoid_focal_loss_grad(&typed.x, t, None, options, &mut loss, &mut grad).unwrap();
    let (mut g, mut h) = (vec![T::default(); n], vec![T::default(); n]);
    sigmoid_focal_grad_hess(&typed.x, t, None, options, None, &mut g, &mut h).unwrap();
    (widen(&loss), widen(&grad), widen(&h))
}

/// Each invalid options value is refused with its error, in both element types, every
/// function, and the outputs keep what they held.
pub fn refusals<O: SuiteObjective>(cases: &[(O, FocalError)]) {
    fn one<T: Float, O: SuiteObjective>(options: &O, error: &FocalError) {
        let x = [T::from_f64(0.5), T::from_f64(-2.0)];
        let form = O::adapt(&Form::Labels(vec![1, 0])).expect("the objective takes labels");
        let t = targets(&form, &[]);
        let sentinel = T::from_f64(7.0);
        let (mut loss, mut grad, mut hess) = ([sentinel], [sentinel; 2], [sentinel; 2]);
        let results = [
            sigmoid_focal_loss(&x, t, None, options, &mut loss),
            sigmoid_focal_loss_grad(&x, t, None, options, &mut loss, &mut grad),
            sigmoid_focal_grad(&x, t, None, options, &mut grad),
            sigmoid_focal_grad_hess(&x, t, None, options, None, &mut grad, &mut hess),
        ];
        for result in results {
            assert_eq!(result.as_ref(), Err(error), "{options:?} ({})", T::NAME);
        }
        assert!(loss == [sentinel] && grad == [sentinel; 2] && hess == [sentinel; 2]);
    }
    for (options, error) in cases {
        one::<f32, O>(options, error);
        one::<f64, O>(options, error);
    }
}

/// Stamps the whole suite out for one objective: `$options` is a proptest strategy of its
/// options, `$refused` a list of invalid options with the error each must give.
#[macro_export]
macro_rules! objective_suite {
    ($name:ident, $ty:ty, options: $options:expr, refused: $refused:expr $(,)?) => {
        mod $name {
            use super::*;
            use $crate::common::suite::{self, SuiteObjective};

            proptest! {
                // No failure files: proptest looks for them next to the macro's source.
                #![proptest_config(ProptestConfig {
                    failure_persistence: None,
                    ..ProptestConfig::with_cases(200)
                })]

                #[test]
                fn kernels_match_the_reference(
                    options in $options,
                    case in suite::case(),
                    (reduction, ls) in suite::call(),
                ) {
                    let ls = if <$ty as SuiteObjective>::SMOOTHING { ls } else { 0.0 };
                    suite::differential::<f32, $ty>(&options, &case, reduction, ls)?;
                    suite::differential::<f64, $ty>(&options, &case, reduction, ls)?;
                }

                #[test]
                fn levels_threads_and_parts_agree(
                    options in $options,
                    case in suite::case(),
                    (reduction, ls) in suite::call(),
                ) {
                    let ls = if <$ty as SuiteObjective>::SMOOTHING { ls } else { 0.0 };
                    suite::levels_threads_and_parts::<f32, $ty>(&options, &case, reduction, ls)?;
                    suite::levels_threads_and_parts::<f64, $ty>(&options, &case, reduction, ls)?;
                }

                #[test]
                fn derivatives_match_finite_differences(
                    options in $options,
                    x in -30.0..30.0f64,
                    y in prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64],
                ) {
                    suite::finite_differences(&options, x, y)?;
                }
            }

            #[test]
            fn large_inputs_across_chunks() {
                suite::large(&<$ty>::default());
            }

            #[test]
            fn limits() {
                suite::limits(&<$ty>::default());
            }

            #[test]
            fn invalid_parameters_are_refused() {
                suite::refusals::<$ty>(&$refused);
            }
        }
    };
}
