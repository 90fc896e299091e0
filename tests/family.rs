//! The shared objective suite (`tests/common/suite.rs`) for every objective of the sigmoid
//! focal family: one invocation each, with its options strategy, its term scales and its
//! invalid parameters.

use focal_loss::{
    FocalError, FocalStarOptions, Poly1FocalOptions, QualityFocalOptions, Reduction,
    SigmoidFocalOptions, VarifocalOptions, reference,
};
use proptest::prelude::*;

mod common;
use common::suite::SuiteObjective;
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
        let (grad, hess) = tolerance::sigmoid_term_scales(x, y, self.gamma, self.alpha);
        [0.0, grad, hess]
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

/// `q = 1 − p_t` with `|ℓ′|` and `|ℓ″|` (`ℓ = ln q`) in plain f64, for the term scales.
fn q_and_slopes(x: f64, y: f64) -> (f64, f64, f64) {
    let (p, q_of_x) = (reference::sigmoid(x), reference::sigmoid(-x));
    let q = y * q_of_x + (1.0 - y) * p;
    if q == 0.0 {
        return (0.0, 0.0, 0.0);
    }
    let dl = (1.0 - 2.0 * y).abs() * p * q_of_x / q;
    let d2l = dl * (y * q_of_x * q_of_x + (1.0 - y) * p * p) / q;
    (q, dl, d2l)
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
        if !x.is_finite() {
            return [0.0; 3];
        }
        let focal = reference::sigmoid_focal_soft(x, y, self.gamma, self.alpha);
        let (grad, hess) = tolerance::sigmoid_term_scales(x, y, self.gamma, self.alpha);
        let (q, dl, d2l) = q_and_slopes(x, y);
        let k = self.gamma + 1.0;
        let term = self.epsilon.abs() * q.powf(k);
        [
            focal.loss.abs() + term,
            grad + term * k * dl,
            hess + term * k * (k * dl * dl + d2l),
        ]
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
        let b = self.beta;
        if y == 0.0 || y == 1.0 {
            let (grad, hess) = tolerance::sigmoid_term_scales(x, y, b, None);
            return [0.0, grad, hess];
        }
        if !x.is_finite() {
            return [0.0; 3];
        }
        let (p, q) = (reference::sigmoid(x), reference::sigmoid(-x));
        let d = y * q - (1.0 - y) * p;
        let a = d.abs();
        let sens = y * q + (1.0 - y) * p;
        let c = y * reference::softplus(-x) + (1.0 - y) * reference::softplus(x);
        let pq = p * q;
        let power = a.powf(b);
        let (over_a, over_a2, over_a3) = (power / a, power / (a * a), power / (a * a * a));
        let loss = c * power + c * b * over_a * sens;
        let grad = a * power
            + b * c * pq * over_a
            + sens * ((b + 1.0) * power + (b - 1.0).abs() * b * c * pq * over_a2);
        let hess = (2.0 * b + 1.0) * power * pq
            + b * c * pq * over_a
            + b * (b - 1.0).abs() * c * pq * pq * over_a2
            + sens
                * (b * (2.0 * b + 1.0) * pq * over_a
                    + b * (b - 1.0).abs() * c * pq * over_a2
                    + b * (b - 1.0).abs() * (b - 2.0).abs() * c * pq * pq * over_a3);
        [loss, grad, hess]
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
        if !x.is_finite() {
            return [0.0; 3];
        }
        if y == 0.0 {
            let (grad, hess) = tolerance::sigmoid_term_scales(x, 0.0, self.gamma, None);
            return [0.0, self.alpha * grad, self.alpha * hess];
        }
        let (p, q) = (reference::sigmoid(x), reference::sigmoid(-x));
        [0.0, y * ((1.0 - y) * p + y * q), 0.0]
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
