//! The shared objective suite (`tests/common/suite.rs`) for every objective of the sigmoid
//! focal family: one invocation each, with its options strategy, its term scales and its
//! invalid parameters.

use focal_loss::{
    AsymmetricOptions, FocalError, FocalStarOptions, PerClassFocalOptions, Poly1FocalOptions,
    QualityFocalOptions, ReducedFocalOptions, Reduction, SigmoidFocalOptions, SigmoidTargets,
    VarifocalOptions, reference, sigmoid_focal_grad_hess, sigmoid_focal_loss,
    sigmoid_focal_loss_grad,
};
use proptest::prelude::*;

mod common;
use common::suite::{Form, SuiteObjective};
use common::tolerance;

fn alpha() -> impl Strategy<Value = Option<f64>> {
    prop::option::of(prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64])
}

fn gamma() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(1.0), Just(2.0), Just(3.0), 0.0..4.5f64]
}

impl SuiteObjective for SigmoidFocalOptions {
    fn with_call(&self, reduction: Reduction, label_smoothing: f64, threads: usize) -> Self {
        self.reduction(reduction)
            .label_smoothing(label_smoothing)
            .threads(threads)
    }
    fn scales(&self, x: f64, y: f64) -> [f64; 3] {
        tolerance::focal_scales(x, y, self.gamma, self.alpha)
    }
    fn contract_gamma(&self) -> f64 {
        self.gamma
    }
    fn reduction_of(&self) -> Reduction {
        self.reduction
    }
}

objective_suite!(
    focal,
    SigmoidFocalOptions,
    options: (gamma(), alpha()).prop_map(|(g, a)| SigmoidFocalOptions::default().gamma(g).alpha(a)),
    refused: [
        (SigmoidFocalOptions::default().gamma(-1.0), FocalError::InvalidGamma(-1.0)),
        (SigmoidFocalOptions::default().alpha(1.5), FocalError::InvalidAlpha(1.5)),
    ],
);

impl SuiteObjective for FocalStarOptions {
    fn with_call(&self, reduction: Reduction, label_smoothing: f64, threads: usize) -> Self {
        self.reduction(reduction)
            .label_smoothing(label_smoothing)
            .threads(threads)
    }
    /// Products of positive factors: no cancellation.
    fn scales(&self, _: f64, _: f64) -> [f64; 3] {
        [0.0; 3]
    }
    fn contract_gamma(&self) -> f64 {
        0.0
    }
    fn reduction_of(&self) -> Reduction {
        self.reduction
    }
}

objective_suite!(
    focal_star,
    FocalStarOptions,
    options: (
        prop_oneof![Just(1.0), Just(2.0), 0.05..6.0f64],
        prop_oneof![Just(0.0), -3.0..3.0f64],
        alpha(),
    )
        .prop_map(|(g, b, a)| FocalStarOptions::default().gamma(g).beta(b).alpha(a)),
    refused: [
        (FocalStarOptions::default().gamma(0.0), FocalError::InvalidGamma(0.0)),
        (FocalStarOptions::default().gamma(-2.0), FocalError::InvalidGamma(-2.0)),
        (
            FocalStarOptions::default().beta(f64::INFINITY),
            FocalError::InvalidParameter { name: "beta", value: f64::INFINITY },
        ),
        (FocalStarOptions::default().alpha(-0.5), FocalError::InvalidAlpha(-0.5)),
    ],
);

/// FL* at β = 0 and γ = 1 is binary cross-entropy (detectron2's default), for any target.
#[test]
fn focal_star_at_gamma_one_is_cross_entropy() {
    let options = FocalStarOptions::default().reduction(Reduction::None);
    let logits = [-3.0f64, 0.5, 7.0];
    let labels = [1u8, 0, 1];
    let mut loss = [0.0; 3];
    focal_loss::sigmoid_focal_loss(
        &logits,
        focal_loss::SigmoidTargets::Labels(&labels),
        None,
        &options,
        &mut loss,
    )
    .unwrap();
    for i in 0..3 {
        let z = if labels[i] == 1 {
            logits[i]
        } else {
            -logits[i]
        };
        assert!((loss[i] - reference::softplus(-z)).abs() <= 1e-16 * loss[i].max(1.0));
    }
}

impl SuiteObjective for Poly1FocalOptions {
    fn with_call(&self, reduction: Reduction, label_smoothing: f64, threads: usize) -> Self {
        self.reduction(reduction)
            .label_smoothing(label_smoothing)
            .threads(threads)
    }
    /// The focal loss's scales plus the sizes of the ε terms (which cancel the focal terms
    /// for ε < 0).
    fn scales(&self, x: f64, y: f64) -> [f64; 3] {
        tolerance::poly1_focal_scales(x, y, self.gamma, self.alpha, self.epsilon)
    }
    fn contract_gamma(&self) -> f64 {
        self.gamma
    }
    fn reduction_of(&self) -> Reduction {
        self.reduction
    }
}

objective_suite!(
    poly1_focal,
    Poly1FocalOptions,
    options: (gamma(), alpha(), prop_oneof![Just(1.0), Just(-1.0), -2.0..8.0f64])
        .prop_map(|(g, a, e)| Poly1FocalOptions::default().gamma(g).alpha(a).epsilon(e)),
    refused: [
        (Poly1FocalOptions::default().gamma(-0.5), FocalError::InvalidGamma(-0.5)),
        (Poly1FocalOptions::default().alpha(2.0), FocalError::InvalidAlpha(2.0)),
        (
            Poly1FocalOptions::default().epsilon(f64::INFINITY),
            FocalError::InvalidParameter { name: "epsilon", value: f64::INFINITY },
        ),
    ],
);

impl SuiteObjective for QualityFocalOptions {
    fn with_call(&self, reduction: Reduction, label_smoothing: f64, threads: usize) -> Self {
        self.reduction(reduction)
            .label_smoothing(label_smoothing)
            .threads(threads)
    }
    /// Hard targets: the focal loss's (γ = β). Soft: the terms, and what an error of `d`
    /// the size of `sens = y·σ(−x) + (1−y)·σ(x)` (the terms `d` is formed from) moves them.
    fn scales(&self, x: f64, y: f64) -> [f64; 3] {
        tolerance::quality_focal_scales(x, y, self.beta)
    }
    fn contract_gamma(&self) -> f64 {
        self.beta
    }
    fn reduction_of(&self) -> Reduction {
        self.reduction
    }
    /// |y − σ(x)|^β has a cusp where y = σ(x).
    fn smooth_at(&self, x: f64, y: f64) -> bool {
        (y - reference::sigmoid(x)).abs() > 0.05
    }
}

objective_suite!(
    quality_focal,
    QualityFocalOptions,
    options: prop_oneof![Just(2.0), Just(0.0), Just(1.0), 0.0..4.5f64]
        .prop_map(|b| QualityFocalOptions::default().beta(b)),
    refused: [
        (
            QualityFocalOptions::default().beta(-1.0),
            FocalError::InvalidParameter { name: "beta", value: -1.0 },
        ),
        (
            QualityFocalOptions::default().beta(2e4),
            FocalError::InvalidParameter { name: "beta", value: 2e4 },
        ),
    ],
);

impl SuiteObjective for VarifocalOptions {
    fn with_call(&self, reduction: Reduction, label_smoothing: f64, threads: usize) -> Self {
        self.reduction(reduction)
            .label_smoothing(label_smoothing)
            .threads(threads)
    }
    /// Negatives: α times the focal loss's; positives: the two terms of `C′ = (1−y)·P − y·Q`.
    fn scales(&self, x: f64, y: f64) -> [f64; 3] {
        tolerance::varifocal_scales(x, y, self.alpha, self.gamma)
    }
    fn contract_gamma(&self) -> f64 {
        self.gamma
    }
    fn reduction_of(&self) -> Reduction {
        self.reduction
    }
    const SMOOTHING: bool = false;
}

objective_suite!(
    varifocal,
    VarifocalOptions,
    options: (prop_oneof![Just(0.75), Just(0.0), 0.0..=1.0f64], gamma())
        .prop_map(|(a, g)| VarifocalOptions::default().alpha(a).gamma(g)),
    refused: [
        (VarifocalOptions::default().alpha(1.5), FocalError::InvalidAlpha(1.5)),
        (VarifocalOptions::default().gamma(-1.0), FocalError::InvalidGamma(-1.0)),
        (
            VarifocalOptions::default().label_smoothing(0.1),
            FocalError::InvalidParameter {
                name: "label_smoothing (the varifocal loss has none)",
                value: 0.1,
            },
        ),
    ],
);

impl SuiteObjective for AsymmetricOptions {
    fn with_call(&self, reduction: Reduction, label_smoothing: f64, threads: usize) -> Self {
        self.reduction(reduction)
            .label_smoothing(label_smoothing)
            .threads(threads)
    }
    /// The halves' sizes mixed by the target (their gradients have opposite signs); for a
    /// margin, what an error of `p_m = p − m` the size of `p + m` moves (relative to `p_m`,
    /// `γ + 2` times in the gradient, `γ + 3` times in the Hessian).
    fn scales(&self, x: f64, y: f64) -> [f64; 3] {
        let (positive, negative) = (self.gamma_positive, self.gamma_negative);
        tolerance::asymmetric_scales(x, y, positive, negative, self.margin)
    }
    fn contract_gamma(&self) -> f64 {
        self.gamma_positive.max(self.gamma_negative)
    }
    fn reduction_of(&self) -> Reduction {
        self.reduction
    }
    /// The negatives' loss has a kink at p = m.
    fn smooth_at(&self, x: f64, y: f64) -> bool {
        y == 1.0 || self.margin == 0.0 || (reference::sigmoid(x) - self.margin).abs() > 0.02
    }
}

objective_suite!(
    asymmetric,
    AsymmetricOptions,
    options: (gamma(), gamma(), prop_oneof![Just(0.05), Just(0.0), 0.0..0.5f64])
        .prop_map(|(gp, gn, m)| {
            AsymmetricOptions::default().gamma_positive(gp).gamma_negative(gn).margin(m)
        }),
    refused: [
        (
            AsymmetricOptions::default().gamma_negative(-1.0),
            FocalError::InvalidParameter { name: "gamma_negative", value: -1.0 },
        ),
        (
            AsymmetricOptions::default().gamma_positive(2e4),
            FocalError::InvalidParameter { name: "gamma_positive", value: 2e4 },
        ),
        (
            AsymmetricOptions::default().margin(1.0),
            FocalError::InvalidParameter { name: "margin", value: 1.0 },
        ),
        (
            AsymmetricOptions::default().margin(-0.1),
            FocalError::InvalidParameter { name: "margin", value: -0.1 },
        ),
        // A margin below the smallest normal f32 rounds away there (refused in both types).
        (
            AsymmetricOptions::default().margin(1e-310),
            FocalError::InvalidParameter { name: "margin", value: 1e-310 },
        ),
    ],
);

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(64) })]

    /// Without a margin, ASL at labels is the focal loss without α: γ₊ on the positives,
    /// γ₋ on the negatives, with the focal kernel's bits.
    #[test]
    fn asymmetric_without_margin_is_focal_loss_per_label(
        x in prop::collection::vec(-40.0..40.0f32, 1..40),
        positive in any::<bool>(),
        gamma_positive in prop_oneof![Just(0.0), Just(1.0), Just(2.0), 0.0..4.0f64],
        gamma_negative in prop_oneof![Just(4.0), Just(2.0), 0.0..6.0f64],
    ) {
        let labels = vec![u8::from(positive); x.len()];
        let targets = SigmoidTargets::Labels(&labels);
        let asl = AsymmetricOptions::default()
            .gamma_positive(gamma_positive)
            .gamma_negative(gamma_negative)
            .margin(0.0)
            .reduction(Reduction::None);
        let gamma = if positive { gamma_positive } else { gamma_negative };
        let focal = SigmoidFocalOptions::default().gamma(gamma).alpha(None).reduction(Reduction::None);
        let n = x.len();
        let (mut al, mut ag) = (vec![0.0f32; n], vec![0.0f32; n]);
        let (mut fl, mut fg) = (vec![0.0f32; n], vec![0.0f32; n]);
        sigmoid_focal_loss_grad(&x, targets, None, &asl, &mut al, &mut ag).unwrap();
        sigmoid_focal_loss_grad(&x, targets, None, &focal, &mut fl, &mut fg).unwrap();
        prop_assert_eq!(al, fl);
        prop_assert_eq!(ag, fg);
    }
}

/// A margin near the smallest normal f32: σ(x) − m can then be far below 1/MAX, where a
/// reciprocal of the shifted probability overflows; the results stay finite and agree with the
/// reference.
#[test]
fn asymmetric_tiny_margin_keeps_the_shift_finite() {
    let options = AsymmetricOptions::default()
        .margin(1e-37)
        .reduction(Reduction::None);
    let x: Vec<f32> = (0..2000).map(|i| -85.3 + i as f32 * 1e-4).collect();
    let labels = vec![0u8; x.len()];
    let targets = SigmoidTargets::Labels(&labels);
    let (mut grad, mut hess) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
    sigmoid_focal_grad_hess(&x, targets, None, &options, None, &mut grad, &mut hess).unwrap();
    let (mut want_grad, mut want_hess) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
    reference::sigmoid_focal_grad_hess(
        &x,
        &targets,
        None,
        &options,
        None,
        &mut want_grad,
        &mut want_hess,
    );
    for i in 0..x.len() {
        for (got, want) in [(grad[i], want_grad[i]), (hess[i], want_hess[i])] {
            assert!(got.is_finite(), "x {}: {got}", x[i]);
            assert!(
                (got - want).abs() <= 2e-6 * want.abs() + f32::MIN_POSITIVE,
                "x {}: {got} vs {want}",
                x[i]
            );
        }
    }
}

/// The margin discards easy negatives: no loss and no gradient where σ(x) ≤ m.
#[test]
fn asymmetric_margin_discards_easy_negatives() {
    let options = AsymmetricOptions::default().reduction(Reduction::None);
    // σ(−3) = 0.047 ≤ 0.05 < σ(−2.9) = 0.052.
    let (x, labels) = ([-3.0f64, -2.9, -40.0], [0u8, 0, 0]);
    let (mut loss, mut grad) = ([1.0; 3], [1.0; 3]);
    sigmoid_focal_loss_grad(
        &x,
        SigmoidTargets::Labels(&labels),
        None,
        &options,
        &mut loss,
        &mut grad,
    )
    .unwrap();
    assert_eq!((loss[0], grad[0], loss[2], grad[2]), (0.0, 0.0, 0.0, 0.0));
    // (σ(−2.9) − 0.05)^4 · −ln(1 − σ(−2.9) + 0.05) by mpmath at 50 digits. The shift cancels
    // 23-fold and the loss's condition number in x is about 260 here: the f64 contract's
    // 1e-13, not a few ulps.
    let want = 4.637202324122349e-14;
    assert!(
        (loss[1] - want).abs() <= 1e-13 * want,
        "{} vs {want}",
        loss[1]
    );
    assert!(grad[1] > 0.0);
}

impl SuiteObjective for ReducedFocalOptions {
    fn with_call(&self, reduction: Reduction, label_smoothing: f64, threads: usize) -> Self {
        self.reduction(reduction)
            .label_smoothing(label_smoothing)
            .threads(threads)
    }
    /// The focal loss's (γ, times th^−γ) on the reduced side, cross-entropy's below.
    fn scales(&self, x: f64, y: f64) -> [f64; 3] {
        tolerance::reduced_focal_scales(x, y, self.gamma, self.threshold, self.alpha)
    }
    fn contract_gamma(&self) -> f64 {
        self.gamma
    }
    fn reduction_of(&self) -> Reduction {
        self.reduction
    }
    /// The loss has a kink (th = 0.5) or a jump at the threshold.
    fn smooth_at(&self, x: f64, y: f64) -> bool {
        let z = if y == 1.0 { x } else { -x };
        (z - (self.threshold / (1.0 - self.threshold)).ln()).abs() > 0.01
    }
    const SMOOTHING: bool = false;
    fn adapt(form: &Form) -> Option<Form> {
        common::suite::hard_only(form)
    }
}

objective_suite!(
    reduced_focal,
    ReducedFocalOptions,
    options: (
        gamma(),
        prop_oneof![Just(0.5), Just(1.0), 0.05..1.0f64],
        alpha(),
    )
        .prop_map(|(g, th, a)| ReducedFocalOptions::default().gamma(g).threshold(th).alpha(a)),
    refused: [
        (ReducedFocalOptions::default().gamma(-1.0), FocalError::InvalidGamma(-1.0)),
        (
            ReducedFocalOptions::default().threshold(0.0),
            FocalError::InvalidParameter { name: "threshold", value: 0.0 },
        ),
        (
            ReducedFocalOptions::default().threshold(1.5),
            FocalError::InvalidParameter { name: "threshold", value: 1.5 },
        ),
        // th^−γ = 1e4000 is beyond both types.
        (
            ReducedFocalOptions::default().threshold(1e-4).gamma(1000.0),
            FocalError::InvalidParameter { name: "threshold", value: 1e-4 },
        ),
        (ReducedFocalOptions::default().alpha(1.5), FocalError::InvalidAlpha(1.5)),
        (
            ReducedFocalOptions::default().label_smoothing(0.1),
            FocalError::InvalidParameter {
                name: "label_smoothing (the reduced focal loss takes hard targets)",
                value: 0.1,
            },
        ),
    ],
);

/// The reduced focal loss decides its threshold on hard targets only: soft ones are refused.
#[test]
fn reduced_focal_refuses_soft_targets() {
    let mut loss = [7.0f32];
    let result = sigmoid_focal_loss(
        &[0.5f32],
        SigmoidTargets::Soft(&[1.0]),
        None,
        &ReducedFocalOptions::default(),
        &mut loss,
    );
    assert_eq!(
        result,
        Err(FocalError::UnsupportedTargets {
            objective: "reduced focal loss",
            needs: "hard targets (labels or class indices)",
        })
    );
    assert_eq!(loss, [7.0]);
}

/// Across the threshold the branch is the focal loss times th^−γ above, cross-entropy
/// below; the f32 logits next to logit(th) fall on the side the real numbers put them.
#[test]
fn reduced_focal_threshold_is_exact_on_the_logit() {
    let th = 0.3f64;
    let logit = (th / (1.0 - th)).ln();
    let at = logit as f32;
    let neighbours = [
        f32::from_bits(at.to_bits() - 1),
        at,
        f32::from_bits(at.to_bits() + 1),
    ];
    let options = ReducedFocalOptions::default()
        .threshold(th)
        .gamma(2.0)
        .reduction(Reduction::None);
    let mut loss = [0.0f32; 3];
    sigmoid_focal_loss(
        &neighbours,
        SigmoidTargets::Labels(&[1, 1, 1]),
        None,
        &options,
        &mut loss,
    )
    .unwrap();
    for (x, got) in neighbours.iter().zip(loss) {
        let x = f64::from(*x);
        let ce = reference::softplus(-x);
        let want = if x >= logit {
            (reference::sigmoid(-x) / th).powi(2) * ce
        } else {
            ce
        };
        assert!(
            (f64::from(got) - want).abs() <= 2e-6 * want,
            "x {x}: {got} vs {want}"
        );
    }
}

impl SuiteObjective for PerClassFocalOptions {
    fn with_call(&self, reduction: Reduction, label_smoothing: f64, threads: usize) -> Self {
        self.clone()
            .reduction(reduction)
            .label_smoothing(label_smoothing)
            .threads(threads)
    }
    fn scales(&self, x: f64, y: f64) -> [f64; 3] {
        self.scales_of_class(x, y, Some(0))
    }
    fn scales_of_class(&self, x: f64, y: f64, class: Option<usize>) -> [f64; 3] {
        tolerance::focal_scales(x, y, self.class_gamma[class.unwrap_or(0)], self.alpha)
    }
    fn contract_gamma(&self) -> f64 {
        self.class_gamma.iter().copied().fold(0.0, f64::max)
    }
    fn reduction_of(&self) -> Reduction {
        self.reduction
    }
    fn adapt(form: &Form) -> Option<Form> {
        common::suite::labels_as_classes(form)
    }
    /// γ of as many classes as the head has, the strategy's values repeated.
    fn fitted(&self, form: &Form) -> Self {
        let classes = match form {
            Form::Classes(_, classes) => *classes,
            _ => 1,
        };
        let given: &[f64] = if self.class_gamma.is_empty() {
            &[2.0]
        } else {
            &self.class_gamma
        };
        let gamma = (0..classes)
            .map(|k| given[k % given.len()])
            .collect::<Vec<_>>();
        self.clone().class_gamma(gamma)
    }
}

objective_suite!(
    per_class_focal,
    PerClassFocalOptions,
    options: (prop::collection::vec(gamma(), 1..6), alpha())
        .prop_map(|(g, a)| PerClassFocalOptions::default().class_gamma(g).alpha(a)),
    refused: [
        (
            PerClassFocalOptions::default().class_gamma(vec![2.0, 1.0]),
            FocalError::ClassGammaLength { expected: 1, actual: 2 },
        ),
        (
            PerClassFocalOptions::default().class_gamma(vec![-1.0]),
            FocalError::InvalidClassGamma { class: 0, value: -1.0 },
        ),
        (
            PerClassFocalOptions::default().class_gamma(vec![2.0]).alpha(1.5),
            FocalError::InvalidAlpha(1.5),
        ),
    ],
);

/// Per-class γ has no classes to go by for labels and soft targets: refused.
#[test]
fn per_class_focal_needs_class_indices() {
    let options = PerClassFocalOptions::default().class_gamma(vec![2.0]);
    let mut loss = [7.0f64];
    let refused = Err(FocalError::UnsupportedTargets {
        objective: "per-class focal loss",
        needs: "class-index targets (SigmoidTargets::Classes)",
    });
    for targets in [SigmoidTargets::Labels(&[1]), SigmoidTargets::Soft(&[1.0])] {
        assert_eq!(
            sigmoid_focal_loss(&[0.5], targets, None, &options, &mut loss),
            refused
        );
    }
    assert_eq!(loss, [7.0]);
}

/// A class whose γ is 0 at a saturated logit: `q^0 = 1` although `q = 0` there (the general
/// power gave `0·ln 0 = NaN`; a proptest found it).
#[test]
fn per_class_focal_gamma_zero_at_infinite_logits() {
    let x = [
        f64::INFINITY,
        f64::NEG_INFINITY,
        800.0,
        -800.0,
        f64::INFINITY,
        3.0,
    ];
    let targets = [0, 1, 0];
    let classes = SigmoidTargets::Classes {
        targets: &targets,
        classes: 2,
    };
    let options = PerClassFocalOptions::default()
        .class_gamma(vec![0.0, 0.5])
        .reduction(Reduction::None);
    let (mut loss, mut grad) = ([0.0; 6], [0.0; 6]);
    sigmoid_focal_loss_grad(&x, classes, None, &options, &mut loss, &mut grad).unwrap();
    let (mut want_loss, mut want_grad) = ([0.0; 6], [0.0; 6]);
    reference::sigmoid_focal(
        &x,
        &classes,
        None,
        &options,
        Some(&mut want_loss),
        Some(&mut want_grad),
    );
    for (got, want) in loss
        .iter()
        .chain(&grad)
        .zip(want_loss.iter().chain(&want_grad))
    {
        assert!((got - want).abs() <= 1e-14 * want.abs(), "{got} vs {want}");
    }
    // Class 0 of the first row is its target: cross-entropy 0 at +∞, and γ = 0 changes nothing.
    assert_eq!((loss[0], grad[0]), (0.0, 0.0));
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(64) })]

    /// Column k of the head is the focal loss with γ_k: the same bits as the focal loss's
    /// own kernel on that column (non-integer γ, which both compute by the power).
    #[test]
    fn per_class_focal_is_focal_loss_column_by_column(
        rows in prop::collection::vec((prop::collection::vec(-30.0..30.0f64, 3), -1..=3i32), 1..20),
        ls in prop_oneof![Just(0.0), 0.0..0.3f64],
    ) {
        let gammas = [0.5, 1.75, 3.25];
        let x: Vec<f64> = rows.iter().flat_map(|(r, _)| r.clone()).collect();
        let targets: Vec<i32> = rows.iter().map(|(_, t)| *t).collect();
        let classes = SigmoidTargets::Classes { targets: &targets, classes: 3 };
        let options = PerClassFocalOptions::default()
            .class_gamma(gammas.to_vec())
            .label_smoothing(ls)
            .reduction(Reduction::None);
        let n = x.len();
        let (mut grad, mut hess) = (vec![0.0; n], vec![0.0; n]);
        sigmoid_focal_grad_hess(&x, classes, None, &options, None, &mut grad, &mut hess).unwrap();
        for (k, &gamma) in gammas.iter().enumerate() {
            let focal = SigmoidFocalOptions::default().gamma(gamma).label_smoothing(ls);
            let (mut g, mut h) = (vec![0.0; n], vec![0.0; n]);
            sigmoid_focal_grad_hess(&x, classes, None, &focal, None, &mut g, &mut h).unwrap();
            for i in (k..n).step_by(3) {
                prop_assert_eq!(grad[i].to_bits(), g[i].to_bits(), "grad[{}]", i);
                prop_assert_eq!(hess[i].to_bits(), h[i].to_bits(), "hess[{}]", i);
            }
        }
    }
}
