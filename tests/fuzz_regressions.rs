//! What the fuzzers (`fuzz/`) found, one test per defect, each failing before its fix.
//!
//! Every case is checked against the scalar reference under the shared accuracy contract
//! (`tests/common/tolerance.rs`), and where the reference itself was wrong, against the
//! mathematical value.

use focal_loss::{
    Float, Reduction, SigmoidFocalOptions, SigmoidTargets, SoftmaxFocalOptions, SoftmaxShape,
    reference, sigmoid_focal_grad_hess, sigmoid_focal_loss_grad, softmax_focal_loss_grad,
};

mod common;
use common::tolerance;

fn typed<T: Float>(values: &[f64]) -> Vec<T> {
    values.iter().map(|&v| T::from_f64(v)).collect()
}

fn widen<T: Float>(values: &[T]) -> Vec<f64> {
    values.iter().map(|v| v.to_f64()).collect()
}

/// Loss and gradient of a soft-target sigmoid call, against the reference.
fn sigmoid_soft<T: Float>(
    logits: &[f64],
    targets: &[f64],
    weights: Option<&[f64]>,
    options: &SigmoidFocalOptions,
) -> (Vec<f64>, Vec<f64>) {
    let (x, y, w) = (
        typed::<T>(logits),
        typed::<T>(targets),
        weights.map(typed::<T>),
    );
    let n = x.len();
    let loss_len = if options.reduction == Reduction::None {
        n
    } else {
        1
    };
    let (mut loss, mut grad) = (vec![T::default(); loss_len], vec![T::default(); n]);
    sigmoid_focal_loss_grad(
        &x,
        SigmoidTargets::Soft(&y),
        w.as_deref(),
        options,
        &mut loss,
        &mut grad,
    )
    .unwrap();
    let (mut want_loss, mut want_grad) = (vec![T::default(); loss_len], vec![T::default(); n]);
    reference::sigmoid_focal(
        &x,
        &SigmoidTargets::Soft(&y),
        w.as_deref(),
        options,
        Some(&mut want_loss),
        Some(&mut want_grad),
    );
    let single = T::NAME == "f32";
    let (x64, y64, w64) = (widen(&x), widen(&y), w.as_deref().map(widen));
    let (grad_scale, _) =
        tolerance::sigmoid_scales(&x64, &SigmoidTargets::Soft(&y64), w64.as_deref(), options);
    let (loss, grad) = (widen(&loss), widen(&grad));
    let (want_loss, want_grad) = (widen(&want_loss), widen(&want_grad));
    let zeros = vec![0.0; loss_len];
    tolerance::check("loss", &loss, &want_loss, &zeros, single, options.gamma).unwrap();
    tolerance::check(
        "grad",
        &grad,
        &want_grad,
        &grad_scale,
        single,
        options.gamma,
    )
    .unwrap();
    (loss, grad)
}

/// Loss and gradient of a softmax call, against the reference.
fn softmax<T: Float>(
    logits: &[f64],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
) -> (Vec<f64>, Vec<f64>) {
    let x = typed::<T>(logits);
    let positions = shape.batch * shape.spatial;
    let loss_len = if options.reduction == Reduction::None {
        positions
    } else {
        1
    };
    let (mut loss, mut grad) = (vec![T::default(); loss_len], vec![T::default(); x.len()]);
    softmax_focal_loss_grad(&x, targets, shape, options, &mut loss, &mut grad).unwrap();
    let (mut want_loss, mut want_grad) =
        (vec![T::default(); loss_len], vec![T::default(); x.len()]);
    reference::softmax_focal(
        &x,
        targets,
        shape,
        options,
        Some(&mut want_loss),
        Some(&mut want_grad),
    );
    let single = T::NAME == "f32";
    let count = targets
        .iter()
        .filter(|&&t| t != options.ignore_index)
        .count();
    let divisor = match (options.reduction, options.normalizer) {
        (Reduction::Mean, Some(v)) => v,
        (Reduction::Mean, None) if count > 0 => count as f64,
        _ => 1.0,
    };
    let want_grad = widen(&want_grad);
    let scale =
        tolerance::softmax_grad_scales(&widen(&x), &want_grad, targets, shape, options, divisor);
    let (loss, grad) = (widen(&loss), widen(&grad));
    let zeros = vec![0.0; loss_len];
    tolerance::check(
        "loss",
        &loss,
        &widen(&want_loss),
        &zeros,
        single,
        options.gamma,
    )
    .unwrap();
    tolerance::check("grad", &grad, &want_grad, &scale, single, options.gamma).unwrap();
    (loss, grad)
}

/// kernels_vs_reference: a positive γ that rounds to 0 in f32 (1e-50) took the general
/// `q^γ = e^(γ·ln q)` path with γ = 0 and `ln q = −∞` at an infinite logit: `0·∞ = NaN`.
/// Such a γ is 0 to within 1e-50 relative, and `q^γ` is 1 except at `q = 0`, where the loss
/// and its derivatives are 0 for γ = 0 too.
#[test]
fn gamma_that_rounds_to_zero_at_infinite_logits() {
    let options = SigmoidFocalOptions::default()
        .gamma(1e-50)
        .reduction(Reduction::None);
    let logits = [f64::NEG_INFINITY, f64::INFINITY, 2.0];
    let (mut loss, mut grad, mut hess) = ([0.0f32; 3], [0.0f32; 3], [0.0f32; 3]);
    let x = typed::<f32>(&logits);
    sigmoid_focal_loss_grad(
        &x,
        SigmoidTargets::Labels(&[0, 0, 1]),
        None,
        &options,
        &mut loss,
        &mut grad,
    )
    .unwrap();
    assert_eq!(loss[0], 0.0);
    assert_eq!(loss[1], f32::INFINITY);
    assert!(grad.iter().all(|g| g.is_finite()), "{grad:?}");
    sigmoid_focal_grad_hess(
        &x,
        SigmoidTargets::Labels(&[0, 0, 1]),
        None,
        &options,
        None,
        &mut grad,
        &mut hess,
    )
    .unwrap();
    assert!(
        grad.iter().chain(&hess).all(|v| v.is_finite()),
        "{grad:?} {hess:?}"
    );
    sigmoid_soft::<f32>(&logits, &[0.0, 0.0, 1.0], None, &options);
    let softmax_options = SoftmaxFocalOptions::default()
        .gamma(1e-50)
        .reduction(Reduction::None);
    let (loss, grad) = softmax::<f32>(
        &[f64::NEG_INFINITY, 0.0, 1.0, f64::INFINITY],
        &[0, 1],
        SoftmaxShape::rows(2, 2),
        &softmax_options,
    );
    assert_eq!(loss[0], f64::INFINITY);
    assert!(grad.iter().all(|g| g.is_finite()), "{grad:?}");
}

/// kernels_vs_reference: with a large γ, `q^γ` for a soft target or a softmax row was
/// `e^(γ·Δρ)·2^n` with `e^(γ·Δρ)` overflowing while the product underflows: `inf` for a loss
/// of 1e-20. (Also the f32 γ = 745 case the fuzzer found: logits −286, −380.)
#[test]
fn large_gamma_does_not_overflow_inside_the_power() {
    for gamma in [37.0, 150.0, 745.0, 3000.0] {
        let options = SigmoidFocalOptions::default()
            .gamma(gamma)
            .alpha(None)
            .reduction(Reduction::None);
        let logits = [-286.3, -380.4, -0.9375, 3.0, -12.5, 0.25];
        let targets = [0.7, 0.3, 0.7, 0.55, 0.999, 0.25];
        for (loss, grad) in [
            sigmoid_soft::<f32>(&logits, &targets, None, &options),
            sigmoid_soft::<f64>(&logits, &targets, None, &options),
        ] {
            assert!(
                loss.iter().chain(&grad).all(|v| v.is_finite()),
                "γ {gamma}: {loss:?} {grad:?}"
            );
        }
        let options = SoftmaxFocalOptions::default()
            .gamma(gamma)
            .reduction(Reduction::None);
        let logits = [0.3, 0.0, -0.4, 2.0, 1.9, 0.0, 5.0, -5.0, 0.0];
        for shape in [
            SoftmaxShape::rows(3, 3),
            SoftmaxShape::channels_first(1, 3, 3),
        ] {
            for (loss, grad) in [
                softmax::<f32>(&logits, &[0, 1, 2], shape, &options),
                softmax::<f64>(&logits, &[0, 1, 2], shape, &options),
            ] {
                assert!(
                    loss.iter().chain(&grad).all(|v| v.is_finite()),
                    "γ {gamma}: {loss:?} {grad:?}"
                );
            }
        }
    }
}

/// kernels_vs_reference: γ = 5.3e83 is finite in f64 and `inf` in f32, where `q^γ·(…)` gave
/// `0·∞ = NaN`. γ above 10⁴ is now refused (`(1 − p_t)^γ` is 0 there for every `p_t` above
/// 0.001), and 10⁴ itself computes finite values.
#[test]
fn gamma_beyond_ten_thousand_is_refused() {
    let x = [1.4e-45f32, 0.5, -3.0];
    let (mut loss, mut grad) = ([7.0f32], [7.0f32; 3]);
    let options = SigmoidFocalOptions::default().gamma(5.256256835471592e83);
    let error = sigmoid_focal_loss_grad(
        &x,
        SigmoidTargets::Labels(&[0, 1, 0]),
        None,
        &options,
        &mut loss,
        &mut grad,
    )
    .unwrap_err();
    assert_eq!(
        error,
        focal_loss::FocalError::InvalidGamma(5.256256835471592e83)
    );
    assert_eq!((loss, grad), ([7.0], [7.0; 3]));
    let options = SigmoidFocalOptions::default()
        .gamma(1e4)
        .reduction(Reduction::None);
    let (loss, grad) = sigmoid_soft::<f32>(
        &[1.4e-45, 0.5, -3.0, 30.0],
        &[0.0, 1.0, 0.3, 1.0],
        None,
        &options,
    );
    assert!(
        loss.iter().chain(&grad).all(|v| v.is_finite()),
        "{loss:?} {grad:?}"
    );
}

/// Issue #10: the per-position softmax kernel (channels-first, or fewer than 16 classes) summed
/// the exponentials without compensation. Random heads stay within the contract (errors of a
/// recursive sum grow like √C); the error is systematic when a confident class comes first and
/// many equal small ones follow (a segmentation head sure of its background class): every
/// addition to a partial sum near 1 rounds the same way. Z of 1 + 149·e^−9.925 was off by
/// 8.7e-6 relative in f32, and with it the gradient of the confident class (4.4× the contract).
#[test]
fn per_position_softmax_sums_the_exponentials_with_compensation() {
    for (classes, low) in [(150, -9.925), (128, -8.31), (100, -7.0)] {
        let (batch, spatial) = (2, 16);
        let shape = SoftmaxShape::channels_first(batch, classes, spatial);
        let logits: Vec<f64> = (0..batch * classes * spatial)
            .map(|i| {
                if (i / spatial) % classes == 0 {
                    0.0
                } else {
                    low
                }
            })
            .collect();
        // Targets: a rare class (the confident background class gets the large gradient).
        let targets: Vec<i32> = (0..batch * spatial).map(|p| 1 + (p % 5) as i32).collect();
        for options in [
            SoftmaxFocalOptions::default().gamma(0.0),
            SoftmaxFocalOptions::default().reduction(Reduction::None),
            SoftmaxFocalOptions::default()
                .gamma(0.5)
                .reduction(Reduction::Sum),
        ] {
            softmax::<f32>(&logits, &targets, shape, &options);
            softmax::<f64>(&logits, &targets, shape, &options);
        }
    }
}

/// Issue #10: with label smoothing the gradient of class `j` is `g_j·q_j − p_j·Σ_{k≠j} g_k`, and
/// the kernels formed the sum as `Σ_k g_k − g_j`. When one class's slope `g_j` dominates (a
/// confident class with a large α among classes of small α), that difference cancels: its
/// rounding error `ε·|g_j|` swamped the component's own terms (f32 off by 1.7% of the component
/// itself, f64 by 1.4e-11 relative). The sum without the largest slope is now formed directly.
#[test]
fn smoothing_with_unequal_alpha_does_not_cancel() {
    for (classes, spatial) in [(20, 1), (6, 1), (20, 3)] {
        let batch = 2;
        let shape = if spatial == 1 {
            SoftmaxShape::rows(batch, classes)
        } else {
            SoftmaxShape::channels_first(batch, classes, spatial)
        };
        let small = spread(batch * classes * spatial, classes as u64, 1.0);
        // Class 0 is confident (logit 30) and weighs 1; the others weigh 1e-8.
        let logits: Vec<f64> = (0..small.len())
            .map(|i| {
                if (i / spatial) % classes == 0 {
                    30.0
                } else {
                    small[i]
                }
            })
            .collect();
        let targets: Vec<i32> = (0..batch * spatial).map(|p| 1 + (p % 3) as i32).collect();
        let alpha: Vec<f64> = (0..classes)
            .map(|k| if k == 0 { 1.0 } else { 1e-8 })
            .collect();
        for gamma in [0.0, 2.0, 0.7] {
            let options = SoftmaxFocalOptions::default()
                .gamma(gamma)
                .label_smoothing(0.1)
                .class_alpha(alpha.clone());
            softmax::<f32>(&logits, &targets, shape, &options);
            softmax::<f64>(&logits, &targets, shape, &options);
        }
    }
}

/// Deterministic logits in `[-scale, scale]`.
fn spread(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut state = seed | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// Random segmentation heads of 100–150 classes (with smoothing and unequal class α): a guard
/// of the shapes that issue #10 named, next to the systematic case above.
#[test]
fn segmentation_heads_of_many_classes_within_the_contract() {
    for classes in [100, 128, 150] {
        let (batch, spatial) = (2, 16);
        let logits = spread(batch * classes * spatial, classes as u64, 0.5);
        let targets: Vec<i32> = (0..batch * spatial)
            .map(|p| ((p * 37) % classes) as i32)
            .collect();
        let shape = SoftmaxShape::channels_first(batch, classes, spatial);
        let alpha: Vec<f64> = (0..classes)
            .map(|k| {
                if k % 7 == 0 {
                    3.0
                } else {
                    0.05 + 0.01 * (k % 5) as f64
                }
            })
            .collect();
        for options in [
            SoftmaxFocalOptions::default().reduction(Reduction::None),
            SoftmaxFocalOptions::default().gamma(0.5),
            SoftmaxFocalOptions::default()
                .label_smoothing(0.1)
                .class_alpha(alpha.clone()),
            SoftmaxFocalOptions::default()
                .gamma(1.5)
                .label_smoothing(0.3)
                .class_alpha(alpha.clone())
                .reduction(Reduction::Sum),
        ] {
            softmax::<f32>(&logits, &targets, shape, &options);
            softmax::<f64>(&logits, &targets, shape, &options);
        }
    }
}

/// Issue #10 (reproduced by hand): the reference gave `0·∞ = NaN` for a Hessian floor of +∞
/// on an element of weight 0, where the kernels (and the meaning of a zero weight) give 0.
#[test]
fn reference_zero_weight_times_an_infinite_floor_is_zero() {
    let options = SigmoidFocalOptions::default();
    let (logits, weights) = ([0.5f64, -1.0], [0.0, 1.0]);
    let (mut g, mut h) = ([0.0; 2], [0.0; 2]);
    reference::sigmoid_focal_grad_hess(
        &logits,
        &SigmoidTargets::Labels(&[1, 0]),
        Some(&weights),
        &options,
        Some(f64::INFINITY),
        &mut g,
        &mut h,
    );
    assert_eq!(h, [0.0, f64::INFINITY]);
    assert_eq!(g[0], 0.0);
    let (mut kg, mut kh) = ([0.0; 2], [0.0; 2]);
    sigmoid_focal_grad_hess(
        &logits,
        SigmoidTargets::Labels(&[1, 0]),
        Some(&weights),
        &options,
        Some(f64::INFINITY),
        &mut kg,
        &mut kh,
    )
    .unwrap();
    assert_eq!(kh, h);
}

/// Issue #10 (reproduced by hand): a class α of 1e39 is finite as the `f64` the options
/// hold but `inf` in an f32 kernel: with smoothing the loss became `inf` and a gradient NaN
/// where the true values (3.5e27) are representable. Class α must now be finite in the
/// element type; the f64 call computes it.
#[test]
fn class_alpha_beyond_the_element_type_is_refused() {
    let options = SoftmaxFocalOptions::default()
        .class_alpha(vec![1e39, 1.0])
        .label_smoothing(0.1);
    let (mut loss, mut grad) = ([7.0f32], [7.0f32; 2]);
    let error = softmax_focal_loss_grad(
        &[0.0f32, 1.0],
        &[1],
        SoftmaxShape::rows(1, 2),
        &options,
        &mut loss,
        &mut grad,
    )
    .unwrap_err();
    assert_eq!(
        error,
        focal_loss::FocalError::InvalidClassAlpha {
            class: 0,
            value: 1e39
        }
    );
    assert_eq!((loss, grad), ([7.0], [7.0; 2]));
    let (loss, grad) = softmax::<f64>(&[0.0, 1.0], &[1], SoftmaxShape::rows(1, 2), &options);
    assert!(loss[0].is_finite() && grad.iter().all(|g| g.is_finite()));
}

/// kernels_vs_reference: a soft target so small that `q^γ` underflows (y = 5e-324, or 1e-45 in
/// f32) at an infinite logit: the loss is `α_t·q^γ·∞ = +∞` (q > 0), but the reference gave
/// `0·∞ = NaN` and the kernels 0.
#[test]
fn tiny_soft_target_at_an_infinite_logit_is_infinite() {
    let options = SigmoidFocalOptions::default()
        .alpha(None)
        .reduction(Reduction::None);
    for (y, tiny) in [(5e-324, false), (1.401298464324817e-45, true)] {
        let logits = [f64::NEG_INFINITY, f64::INFINITY];
        let targets = [y, 1.0 - 1e-3];
        let (loss, _) = if tiny {
            sigmoid_soft::<f32>(&logits, &targets, None, &options)
        } else {
            sigmoid_soft::<f64>(&logits, &targets, None, &options)
        };
        assert_eq!(loss, [f64::INFINITY, f64::INFINITY], "y = {y:e}");
    }
}

/// kernels_vs_reference: label smoothing of 1.4e-309 smooths y = 0 to 7e-310 in the f64
/// reference but to 0 in an f32 kernel (ls/2 rounds to 0): at an infinite logit one says
/// +∞ (or NaN), the other 0. A smoothing whose share (ls/2 sigmoid, ls/C softmax) is below the
/// smallest normal number of the element type is now refused.
#[test]
fn label_smoothing_below_the_element_type_is_refused() {
    fn refused<T: Float>(ls: f64) -> (bool, bool) {
        let options = SigmoidFocalOptions::default().label_smoothing(ls);
        let softmax_options = SoftmaxFocalOptions::default().label_smoothing(ls);
        let logits = typed::<T>(&[0.0, 1.0]);
        let (mut loss, mut grad) = ([T::default()], [T::default(); 2]);
        let invalid = Err(focal_loss::FocalError::InvalidLabelSmoothing(ls));
        let sigmoid = sigmoid_focal_loss_grad(
            &logits,
            SigmoidTargets::Labels(&[0, 1]),
            None,
            &options,
            &mut loss,
            &mut grad,
        );
        let softmax = softmax_focal_loss_grad(
            &logits,
            &[1],
            SoftmaxShape::rows(1, 2),
            &softmax_options,
            &mut loss,
            &mut grad,
        );
        (sigmoid == invalid, softmax == invalid)
    }
    assert_eq!(refused::<f64>(1.389329291936154e-309), (true, true));
    assert_eq!(refused::<f64>(1e-300), (false, false));
    assert_eq!(refused::<f32>(1e-300), (true, true));
    // f32's smallest normal number is 1.18e-38: ls/2 = 1.5e-38 is, 1e-38 is not.
    assert_eq!(refused::<f32>(3e-38), (false, false));
    assert_eq!(refused::<f32>(2e-38), (true, true));
    assert_eq!(refused::<f32>(0.0), (false, false));
}

/// Issue #10 (kernels_vs_reference, 30-minute run): f32 intermediates overflowed where the
/// result is representable — a class α of 2.1 times a cross-entropy of f32::MAX (target
/// logit −f32::MAX) is 7.1e38, beyond f32, but the mean over 4 rows is 1.8e38; a weight of
/// 3e38 times a loss of 100 is 3e40, its mean over 1000 elements 3e37; two losses of 2e38 in
/// the same summation slot overflowed the slot. The kernels gave inf. Such chunks are now
/// computed again in f64 from the exactly widened inputs.
#[test]
fn f32_intermediates_that_overflow_before_the_reduction() {
    let max = f64::from(f32::MAX);
    let logits = [-max, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0];
    let targets = [0, 1, 1, 1];
    let options = SoftmaxFocalOptions::default()
        .gamma(0.0)
        .class_alpha(vec![2.1, 1.0]);
    let (loss, _) = softmax::<f32>(&logits, &targets, SoftmaxShape::rows(4, 2), &options);
    assert!((loss[0] / (2.1 * max / 4.0) - 1.0).abs() < 1e-6, "{loss:?}");
    // Per row the loss is beyond f32: inf is right there.
    let none = options.clone().reduction(Reduction::None);
    let (loss, _) = softmax::<f32>(&logits, &targets, SoftmaxShape::rows(4, 2), &none);
    assert_eq!(loss[0], f64::INFINITY);

    let n = 1000;
    let mut weights = vec![1.0; n];
    weights[0] = 3e38;
    let mut x = vec![0.0; n];
    x[0] = -100.0;
    let options = SigmoidFocalOptions::default().gamma(0.0);
    let (loss, _) = sigmoid_soft::<f32>(&x, &vec![1.0; n], Some(&weights), &options);
    // α_t = 0.25 (the default α) of 3e38·100, over 1000 elements.
    assert!((loss[0] / 7.5e36 - 1.0).abs() < 1e-5, "{loss:?}");

    // Elements 0 and 16 share a summation slot: 2·2.1e38 overflows it, not the mean.
    let mut weights = vec![0.0; 17];
    weights[0] = 3e38;
    weights[16] = 3e38;
    let (loss, _) = sigmoid_soft::<f32>(&[0.0; 17], &[1.0; 17], Some(&weights), &options);
    let want = 0.25 * 2.0 * 3e38f32 as f64 * std::f64::consts::LN_2 / 17.0;
    assert!((loss[0] / want - 1.0).abs() < 1e-6, "{loss:?}");
}

/// Issue #10 (kernels_vs_reference): f32 label smoothing with logits near ±f32::MAX — the
/// difference `x − max` of the smallest logit overflows f32 and its cross-entropy became inf,
/// although its smoothed share of the loss (0.1/3 · 6.8e38) is representable. Computed in f64
/// now (the chunk's sum was infinite).
#[test]
fn f32_smoothing_with_logits_near_the_limits() {
    let max = f64::from(f32::MAX);
    let logits = [max, -max, 1.0];
    for reduction in [Reduction::Mean, Reduction::None] {
        let options = SoftmaxFocalOptions::default()
            .label_smoothing(0.1)
            .reduction(reduction);
        let (loss, grad) = softmax::<f32>(&logits, &[0], SoftmaxShape::rows(1, 3), &options);
        // Σ_k (ls/3)·CE_k with CE = (0, 2·max, max − 1): 0.1·max; q^γ = 1 for both.
        assert!((loss[0] / (0.1 * max) - 1.0).abs() < 1e-6, "{loss:?}");
        assert!(grad.iter().all(|g| g.is_finite()), "{grad:?}");
    }
}

/// Issue #10: the reference (and the f64 kernels) gave inf for a smoothed row near
/// ±f64::MAX: `x − max` overflows f64, but the loss `Σ_k (ls/C)·CE_k = 0.1·f64::MAX` is
/// representable. `scale·CE` is now formed as `scale·(ln Z − err) + 2·scale·(m/2 − x/2)`.
#[test]
fn smoothing_with_logits_near_the_f64_limits() {
    let max = f64::MAX;
    let logits = [max, -max, 1.0];
    for reduction in [Reduction::Mean, Reduction::None] {
        let options = SoftmaxFocalOptions::default()
            .label_smoothing(0.1)
            .reduction(reduction);
        let mut want = [0.0];
        reference::softmax_focal(
            &logits,
            &[0],
            SoftmaxShape::rows(1, 3),
            &options,
            Some(&mut want),
            None,
        );
        assert!((want[0] / (0.1 * max) - 1.0).abs() < 1e-15, "{want:?}");
        let (loss, grad) = softmax::<f64>(&logits, &[0], SoftmaxShape::rows(1, 3), &options);
        assert!((loss[0] / (0.1 * max) - 1.0).abs() < 1e-12, "{loss:?}");
        assert!(grad.iter().all(|g| g.is_finite()), "{grad:?}");
    }
}

/// Issue #10: an f32 row of more than 2^24 classes — the kernels compare class indices as
/// f32, and 2^24 + 1 rounds to 2^24: the target class and its neighbour collided and the
/// neighbour's large exponential left the sum. Such rows are now computed in f64.
#[test]
fn f32_softmax_beyond_two_to_the_24_classes() {
    let classes = (1 << 24) + 2;
    let mut logits = vec![0.0; classes];
    logits[1 << 24] = 20.0;
    let options = SoftmaxFocalOptions::default();
    let target = [(1 << 24) + 1];
    let (loss, _) = softmax::<f32>(&logits, &target, SoftmaxShape::rows(1, classes), &options);
    let z = 20f64.exp() + (classes - 1) as f64;
    assert!((loss[0] / z.ln() - 1.0).abs() < 1e-5, "{loss:?}");
}

/// Issue #10: `1/normaliser` was rounded to f32 for the gradient: a normaliser of 1e-40
/// gave inf (and 0·inf = NaN), one of 1e39 a subnormal or 0. Normalisers whose reciprocal is
/// not a normal number of the element type are refused; f64 takes them.
#[test]
fn normaliser_beyond_the_element_type_is_refused() {
    for normalizer in [1e-40, 1e39, 1e-320] {
        let options = SigmoidFocalOptions::default().normalizer(normalizer);
        let (mut loss, mut grad) = ([7.0f32], [7.0f32; 2]);
        let error = sigmoid_focal_loss_grad(
            &[-30.0f32, 1.0],
            SigmoidTargets::Labels(&[0, 1]),
            None,
            &options,
            &mut loss,
            &mut grad,
        )
        .unwrap_err();
        assert_eq!(error, focal_loss::FocalError::InvalidNormalizer(normalizer));
        assert_eq!((loss, grad), ([7.0], [7.0; 2]));
        let options = SoftmaxFocalOptions::default().normalizer(normalizer);
        let (mut loss, mut grad) = ([7.0f32], [7.0f32; 2]);
        let error = softmax_focal_loss_grad(
            &[0.0f32, 1.0],
            &[1],
            SoftmaxShape::rows(1, 2),
            &options,
            &mut loss,
            &mut grad,
        )
        .unwrap_err();
        assert_eq!(error, focal_loss::FocalError::InvalidNormalizer(normalizer));
        assert_eq!((loss, grad), ([7.0], [7.0; 2]));
    }
    // In f64 these are normal (1e-320 is not: refused there too).
    for normalizer in [1e-40, 1e39] {
        let options = SigmoidFocalOptions::default().normalizer(normalizer);
        let (_, grad) = sigmoid_soft::<f64>(&[-30.0, 1.0], &[0.0, 1.0], None, &options);
        assert!(grad.iter().all(|g| g.is_finite() && *g != 0.0), "{grad:?}");
    }
}

/// kernels_vs_reference (30-minute run, this session): the reference took its hard-target
/// shortcut for a smoothed target that rounds to 1 (raw 1, ls = 1.3e-21 in f64) although its
/// complement `ls/2` does not round to 0: with α = 0, α_t = 1 − y = 6.6e-22 and the gradient
/// 3.2e-22, where the reference gave 0 (the kernels were right). The shortcut now needs the
/// complement to be exact too.
#[test]
fn reference_keeps_the_complement_of_a_smoothed_target_that_rounds_to_one() {
    let ls = 1.3234889824341707e-21;
    let options = SigmoidFocalOptions::default()
        .gamma(0.3125)
        .alpha(0.0)
        .label_smoothing(ls)
        .reduction(Reduction::Sum);
    let x = [1e-40, -0.7];
    let (_, grad) = sigmoid_soft::<f64>(&x, &[1.0, 1.0], None, &options);
    for (i, &x) in x.iter().enumerate() {
        // α = 0: α_t = 1 − y = ls/2, times the α-free loss of a target that is 1 to 1e-21.
        let hard = reference::sigmoid_focal_hard(x, true, 0.3125, None);
        let want = ls / 2.0 * hard.grad;
        assert!(
            (grad[i] / want - 1.0).abs() < 1e-12,
            "{i}: {} vs {want}",
            grad[i]
        );
    }
}

/// CI's fuzz run (kernels_vs_reference): a per-class α of 2.2e-308 in an `f32` softmax call
/// rounds to 0 in the element type, so the kernels computed `0·∞ = 0` for a target logit of
/// −∞ where the options describe `2.2e-308·∞ = ∞`. A non-zero α (scalar or per class) below
/// the smallest normal number of the element type is now refused, as label smoothing is.
#[test]
fn alpha_below_the_element_type_is_refused() {
    let tiny = 2.2250738585072014e-308;
    let softmax_options = SoftmaxFocalOptions::default()
        .class_alpha(vec![tiny; 3])
        .label_smoothing(1.9455252918287938e-3);
    let (mut loss, mut grad) = ([7.0f32], [7.0f32; 3]);
    let error = softmax_focal_loss_grad(
        &[2.0f32, 0.5, f32::NEG_INFINITY],
        &[2],
        SoftmaxShape::rows(1, 3),
        &softmax_options,
        &mut loss,
        &mut grad,
    )
    .unwrap_err();
    assert_eq!(
        error,
        focal_loss::FocalError::InvalidClassAlpha {
            class: 0,
            value: tiny
        }
    );
    assert_eq!((loss, grad), ([7.0], [7.0; 3]));
    // The same α is a normal f64: the loss is +∞ in f64, as the reference says.
    let (loss, _) = softmax::<f64>(
        &[2.0, 0.5, f64::NEG_INFINITY],
        &[2],
        SoftmaxShape::rows(1, 3),
        &softmax_options,
    );
    assert_eq!(loss[0], f64::INFINITY);

    for (alpha, refused_f32, refused_f64) in [
        (1e-300, true, false),
        (1e-39, true, false),
        (1e-320, true, true),
        (2e-38, false, false),
        (0.0, false, false),
    ] {
        let sigmoid_options = SigmoidFocalOptions::default().alpha(alpha);
        let uniform = SoftmaxFocalOptions::default().alpha(alpha);
        let per_class = SoftmaxFocalOptions::default().class_alpha(vec![0.5, alpha]);
        fn refusals<T: Float>(
            sigmoid: &SigmoidFocalOptions,
            uniform: &SoftmaxFocalOptions,
            per_class: &SoftmaxFocalOptions,
        ) -> [bool; 3] {
            let logits = typed::<T>(&[0.0, 1.0]);
            let (mut loss, mut grad) = ([T::default()], [T::default(); 2]);
            let s = sigmoid_focal_loss_grad(
                &logits,
                SigmoidTargets::Labels(&[0, 1]),
                None,
                sigmoid,
                &mut loss,
                &mut grad,
            );
            let mut softmax = |options| {
                softmax_focal_loss_grad(
                    &logits,
                    &[1],
                    SoftmaxShape::rows(1, 2),
                    options,
                    &mut loss,
                    &mut grad,
                )
            };
            let u = softmax(uniform);
            let p = softmax(per_class);
            [
                matches!(s, Err(focal_loss::FocalError::InvalidAlpha(_))),
                matches!(u, Err(focal_loss::FocalError::InvalidAlpha(_))),
                matches!(
                    p,
                    Err(focal_loss::FocalError::InvalidClassAlpha { class: 1, .. })
                ),
            ]
        }
        assert_eq!(
            refusals::<f32>(&sigmoid_options, &uniform, &per_class),
            [refused_f32; 3],
            "f32, α = {alpha:e}"
        );
        assert_eq!(
            refusals::<f64>(&sigmoid_options, &uniform, &per_class),
            [refused_f64; 3],
            "f64, α = {alpha:e}"
        );
    }
}

/// kernels_vs_reference (20-minute run after the family extension): FL* divides by γ, and
/// a positive γ of 1e-312 is 0 in f32 (and subnormal in f64, where 1/γ overflows): the f32
/// loss at x = 0 was NaN. FL*'s γ must be a normal number of the element type; smaller
/// ones are refused, outputs untouched.
#[test]
fn focal_star_gamma_below_the_element_type_is_refused() {
    use focal_loss::{FocalError, FocalStarOptions, sigmoid_focal_loss};
    fn refused<T: Float>(gamma: f64) {
        let options = FocalStarOptions::default()
            .gamma(gamma)
            .reduction(Reduction::None);
        let mut loss = vec![T::from_f64(7.0); 2];
        let x = typed::<T>(&[0.0, 1.0]);
        let error = sigmoid_focal_loss(
            &x,
            SigmoidTargets::Labels(&[0, 1]),
            None,
            &options,
            &mut loss,
        )
        .unwrap_err();
        assert_eq!(error, FocalError::InvalidGamma(gamma));
        assert_eq!(widen(&loss), [7.0, 7.0]);
    }
    for gamma in [1.0397781804e-312, 1e-40, 1e-39] {
        refused::<f32>(gamma);
    }
    refused::<f64>(1.0397781804e-312);
    // The smallest normal γ is taken: at x = 0 the loss is ln 2/γ = 3.1e307, finite.
    let options = FocalStarOptions::default()
        .gamma(f64::MIN_POSITIVE)
        .reduction(Reduction::None);
    let mut loss = [0.0f64];
    sigmoid_focal_loss(
        &[0.0],
        SigmoidTargets::Labels(&[1]),
        None,
        &options,
        &mut loss,
    )
    .unwrap();
    assert!((loss[0] / (std::f64::consts::LN_2 / f64::MIN_POSITIVE) - 1.0).abs() < 1e-15);
}
