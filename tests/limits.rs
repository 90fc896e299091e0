//! Infinite and NaN logits, saturated inputs, and reductions over nothing.

use focal_loss::{
    Reduction, SigmoidFocalOptions, SigmoidTargets, SoftmaxFocalOptions, SoftmaxShape,
    sigmoid_focal_grad_hess, sigmoid_focal_loss_grad, softmax_focal_loss_grad,
};

const INF: f64 = f64::INFINITY;

fn sigmoid_elementwise(
    x: &[f64],
    y: &[f64],
    options: SigmoidFocalOptions,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let options = options.reduction(Reduction::None);
    let (mut loss, mut grad) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    let targets = SigmoidTargets::Soft(y);
    sigmoid_focal_loss_grad(x, targets, None, &options, &mut loss, &mut grad).unwrap();
    let (mut g, mut hess) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    sigmoid_focal_grad_hess(x, targets, None, &options, None, &mut g, &mut hess).unwrap();
    assert_eq!(g, grad, "grad_hess and the fused call agree");
    (loss, grad, hess)
}

#[test]
fn sigmoid_infinite_logits_give_the_limits() {
    for gamma in [0.0, 0.25, 0.5, 1.0, 2.0, 3.7] {
        let options = SigmoidFocalOptions::default().gamma(gamma);
        // Confidently right: everything is 0. Confidently wrong: the loss is infinite and the
        // gradient tends to ∓α_t (that of cross-entropy), the Hessian to 0.
        let (loss, grad, hess) =
            sigmoid_elementwise(&[INF, -INF, -INF, INF], &[1.0, 0.0, 1.0, 0.0], options);
        assert_eq!(loss, [0.0, 0.0, INF, INF], "gamma {gamma}");
        assert_eq!(grad, [0.0, 0.0, -0.25, 0.75], "gamma {gamma}");
        assert_eq!(hess, [0.0; 4], "gamma {gamma}");

        // Soft target 0.3 at x = +∞: q → 0.7, BCE → ∞, gradient → α_t·0.7^γ·0.7.
        let (loss, grad, hess) = sigmoid_elementwise(&[INF], &[0.3], options);
        let alpha_t = 0.25 * 0.3 + 0.75 * 0.7;
        assert_eq!(loss[0], INF);
        let expected = alpha_t * 0.7f64.powf(gamma + 1.0);
        assert!(
            (grad[0] - expected).abs() <= 1e-15 * expected,
            "gamma {gamma}"
        );
        assert_eq!(hess[0], 0.0);
    }
}

#[test]
fn huge_finite_logits_approach_the_limits() {
    // x = ±1e30: finite, so results must be finite except where the loss itself is huge.
    let options = SigmoidFocalOptions::default().gamma(0.5);
    let (loss, grad, hess) = sigmoid_elementwise(&[1e30, -1e30, -1e30], &[1.0, 0.0, 1.0], options);
    assert_eq!(loss[..2], [0.0, 0.0]);
    assert_eq!(loss[2], 0.25 * 1e30);
    assert_eq!(grad, [0.0, 0.0, -0.25]);
    assert!(hess.iter().all(|h| h.is_finite()));
}

#[test]
fn alpha_zero_times_infinite_loss_is_zero() {
    // α = 0 gives positives no weight: their loss is 0 even at x = −∞ (not 0·∞ = NaN).
    let options = SigmoidFocalOptions::default().alpha(0.0);
    let (loss, grad, _) = sigmoid_elementwise(&[-INF, -INF], &[1.0, 0.0], options);
    assert_eq!(loss, [0.0, 0.0]);
    assert_eq!(grad, [0.0, 0.0]);
    // A weight of 0 does the same.
    let mut loss = [f64::NAN];
    let mut grad = [f64::NAN];
    sigmoid_focal_loss_grad(
        &[-INF],
        SigmoidTargets::Labels(&[1]),
        Some(&[0.0]),
        &SigmoidFocalOptions::default().reduction(Reduction::Sum),
        &mut loss,
        &mut grad,
    )
    .unwrap();
    assert_eq!((loss[0], grad[0]), (0.0, 0.0));
}

#[test]
fn nan_logits_propagate() {
    let x = [0.5f32, f32::NAN, -2.0];
    let labels = [1u8, 1, 0];
    let targets = SigmoidTargets::Labels(&labels);
    let mut loss = [0.0f32; 3];
    let mut grad = [0.0f32; 3];
    let none = SigmoidFocalOptions::default().reduction(Reduction::None);
    sigmoid_focal_loss_grad(&x, targets, None, &none, &mut loss, &mut grad).unwrap();
    assert!(loss[1].is_nan() && grad[1].is_nan());
    assert!(loss[0].is_finite() && loss[2].is_finite() && grad[0].is_finite());

    let mut reduced = [0.0f32];
    for reduction in [Reduction::Sum, Reduction::Mean] {
        let options = SigmoidFocalOptions::default().reduction(reduction);
        // Even a zero weight does not hide a NaN logit.
        sigmoid_focal_loss_grad(
            &x,
            targets,
            Some(&[1.0, 0.0, 1.0]),
            &options,
            &mut reduced,
            &mut grad,
        )
        .unwrap();
        assert!(reduced[0].is_nan(), "{reduction:?}");
    }
    let mut hess = [0.0f32; 3];
    sigmoid_focal_grad_hess(&x, targets, None, &none, Some(0.0), &mut grad, &mut hess).unwrap();
    assert!(hess[1].is_nan(), "the Hessian floor does not mask NaN");

    // Softmax: a NaN logit poisons its own row only.
    let logits = [0.0f64, f64::NAN, 1.0, 0.0, 1.0, 2.0];
    let mut loss = [0.0; 2];
    let mut grad = [0.0; 6];
    let options = SoftmaxFocalOptions::default().reduction(Reduction::None);
    softmax_focal_loss_grad(
        &logits,
        &[2, 2],
        SoftmaxShape::rows(2, 3),
        &options,
        &mut loss,
        &mut grad,
    )
    .unwrap();
    assert!(loss[0].is_nan() && grad[..3].iter().all(|g| g.is_nan()));
    assert!(loss[1].is_finite() && grad[3..].iter().all(|g| g.is_finite()));
}

#[test]
fn softmax_infinite_logits_give_the_limits() {
    let options = SoftmaxFocalOptions::default()
        .gamma(2.0)
        .reduction(Reduction::None);
    // Row 0: target is the +∞ logit (certain): 0 loss, 0 gradient.
    // Row 1: target is not the +∞ logit: infinite loss, gradient p − onehot = (1, −1, 0).
    // Row 2: target is −∞: infinite loss, gradient (−1, 1/2, 1/2).
    let logits = [INF, 0.0, 0.0, INF, 0.0, 0.0, -INF, 3.0, 3.0];
    let (mut loss, mut grad) = ([0.0; 3], [0.0; 9]);
    softmax_focal_loss_grad(
        &logits,
        &[0, 1, 0],
        SoftmaxShape::rows(3, 3),
        &options,
        &mut loss,
        &mut grad,
    )
    .unwrap();
    assert_eq!(loss, [0.0, INF, INF]);
    assert_eq!(grad, [0.0, 0.0, 0.0, 1.0, -1.0, 0.0, -1.0, 0.5, 0.5]);
}

#[test]
fn saturated_inputs_do_not_collapse_for_small_gamma() {
    // The probability-space implementations give NaN gradients for γ < 1 and exactly 0 once
    // σ(x) rounds to 1 (x ≳ 17 in f32). The true values are tiny but representable.
    for gamma in [0.25f64, 0.5] {
        let x = [20.0f32, 40.0, -20.0, -40.0];
        let labels = [1u8, 1, 0, 0];
        let options = SigmoidFocalOptions::default()
            .gamma(gamma)
            .reduction(Reduction::None);
        let (mut loss, mut grad) = ([0.0f32; 4], [0.0f32; 4]);
        sigmoid_focal_loss_grad(
            &x,
            SigmoidTargets::Labels(&labels),
            None,
            &options,
            &mut loss,
            &mut grad,
        )
        .unwrap();
        for i in 0..4 {
            assert!(
                loss[i] > 0.0 && loss[i].is_finite(),
                "loss {i} at γ {gamma}"
            );
            assert!(
                grad[i] != 0.0 && grad[i].is_finite(),
                "grad {i} at γ {gamma}"
            );
        }
        // Easy positives are pushed up, easy negatives down.
        assert!(grad[0] < 0.0 && grad[2] > 0.0);
    }
}

#[test]
fn mean_over_nothing_is_zero_with_zero_gradient() {
    let mean = SigmoidFocalOptions::default();
    let mut loss = [f32::NAN];
    sigmoid_focal_loss_grad::<f32>(
        &[],
        SigmoidTargets::Labels(&[]),
        None,
        &mean,
        &mut loss,
        &mut [],
    )
    .unwrap();
    assert_eq!(loss, [0.0]);

    // Every row ignored (negative class index), even with NaN logits in them.
    let (mut loss, mut grad) = ([f32::NAN], [f32::NAN; 4]);
    sigmoid_focal_loss_grad(
        &[1.0f32, f32::NAN, 3.0, 4.0],
        SigmoidTargets::Classes {
            targets: &[-1, -1],
            classes: 2,
        },
        None,
        &mean,
        &mut loss,
        &mut grad,
    )
    .unwrap();
    assert_eq!(loss, [0.0]);
    assert_eq!(grad, [0.0; 4]);

    let (mut loss, mut grad) = ([f64::NAN], [f64::NAN; 6]);
    softmax_focal_loss_grad(
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        &[-100, -100],
        SoftmaxShape::rows(2, 3),
        &SoftmaxFocalOptions::default(),
        &mut loss,
        &mut grad,
    )
    .unwrap();
    assert_eq!(loss, [0.0]);
    assert_eq!(grad, [0.0; 6]);

    let mut loss = [f64::NAN];
    softmax_focal_loss_grad::<f64>(
        &[],
        &[],
        SoftmaxShape::rows(0, 5),
        &SoftmaxFocalOptions::default(),
        &mut loss,
        &mut [],
    )
    .unwrap();
    assert_eq!(loss, [0.0]);
}

#[test]
fn hessian_floor_raises_negative_curvature() {
    // γ = 2: the Hessian is negative for p_t < 0.058 (x = −4 for a positive).
    let x = [-4.0f64, -4.0, 2.0];
    let labels = [1u8, 1, 1];
    let options = SigmoidFocalOptions::default();
    let (mut grad, mut raw) = ([0.0; 3], [0.0; 3]);
    let targets = SigmoidTargets::Labels(&labels);
    sigmoid_focal_grad_hess(&x, targets, None, &options, None, &mut grad, &mut raw).unwrap();
    assert!(raw[0] < 0.0 && raw[2] > 0.0);
    let mut floored = [0.0; 3];
    let weights = [1.0, 3.0, 2.0];
    sigmoid_focal_grad_hess(
        &x,
        targets,
        Some(&weights),
        &options,
        Some(1e-3),
        &mut grad,
        &mut floored,
    )
    .unwrap();
    // The floor applies per example, before the weight scales it.
    assert_eq!(floored, [1e-3, 3e-3, 2.0 * raw[2].max(1e-3)]);
    assert_eq!(grad[1], 3.0 * grad[0]);
}
