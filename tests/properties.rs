//! Properties over random inputs: derivatives against finite differences, equivalent
//! formulations giving the same bits, f32 against f64, finiteness.

use focal_loss::{
    Reduction, SigmoidFocalOptions, SigmoidTargets, SoftmaxFocalOptions, SoftmaxShape,
    sigmoid_focal_grad_hess, sigmoid_focal_loss, sigmoid_focal_loss_grad, softmax_focal_loss,
    softmax_focal_loss_grad,
};
use proptest::prelude::*;

fn sigmoid_options() -> impl Strategy<Value = SigmoidFocalOptions> {
    (
        0.0..4.0f64,
        prop::option::of(0.0..=1.0f64),
        prop_oneof![Just(0.0), 0.0..0.5f64],
    )
        .prop_map(|(gamma, alpha, ls)| {
            SigmoidFocalOptions::default()
                .gamma(gamma)
                .alpha(alpha)
                .label_smoothing(ls)
        })
}

fn sum_loss(x: &[f64], targets: SigmoidTargets<'_, f64>, options: &SigmoidFocalOptions) -> f64 {
    let mut loss = [0.0];
    sigmoid_focal_loss(
        x,
        targets,
        None,
        &options.reduction(Reduction::Sum),
        &mut loss,
    )
    .unwrap();
    loss[0]
}

/// The f32 accuracy contract against the f64 result `want`: 2e-6 relative, measured against
/// `max(|want|, scale)` where `scale` is the size of the terms that cancel in it (a gradient
/// or Hessian near its zero cannot be more accurate than its terms). Relative accuracy holds
/// down to 2^-100; below, values computed through a subnormal `e^-|x|` (|x| > 87) keep an
/// absolute error under 2^-120.
fn f32_close(got: f64, want: f64, scale: f64) -> bool {
    let relative_floor = 2f64.powi(-100);
    if want.abs() > f64::from(f32::MAX) {
        return got == want || got.is_infinite() && got.signum() == want.signum();
    }
    let magnitude = want.abs().max(scale);
    if magnitude < relative_floor {
        return (got - want).abs() <= 2f64.powi(-120);
    }
    (got - want).abs() <= 2e-6 * magnitude
}

/// The magnitudes of the terms summed in the gradient and the Hessian of the soft-target
/// sigmoid focal loss (docs/MATH.md): `α_t·q^γ·(γ·C·|ℓ′| + |C′|)` and
/// `α_t·q^γ·(γ²·C·ℓ′² + 2γ·|C′·ℓ′| + γ·C·|ℓ″| + C″)`, evaluated plainly in f64.
fn term_scales(x: f64, y: f64, gamma: f64, alpha: Option<f64>) -> (f64, f64) {
    let sigmoid = |u: f64| 1.0 / (1.0 + (-u).exp());
    let softplus = |u: f64| u.max(0.0) + (-u.abs()).exp().ln_1p();
    let (p, q_of_x) = (sigmoid(x), sigmoid(-x));
    let q = y * q_of_x + (1.0 - y) * p;
    if q == 0.0 {
        return (0.0, 0.0);
    }
    let alpha_t = alpha.map_or(1.0, |a| a * y + (1.0 - a) * (1.0 - y));
    let scale = alpha_t * q.powf(gamma);
    let c = y * softplus(-x) + (1.0 - y) * softplus(x);
    let dc = ((1.0 - y) * p).abs() + (y * q_of_x).abs();
    let r = p * q_of_x / q;
    let dl = (1.0 - 2.0 * y).abs() * r;
    let d2l = dl * (y * q_of_x * q_of_x + (1.0 - y) * p * p) / q;
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let grad = finite(scale * (gamma * c * dl + dc));
    let hess = finite(
        scale
            * (gamma * gamma * c * dl * dl + 2.0 * gamma * dc * dl + gamma * c * d2l + p * q_of_x),
    );
    (grad, hess)
}

/// `|a − b| ≤ rel·max(|a|, |b|) + abs`.
fn near(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + abs
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn sigmoid_gradient_and_hessian_match_finite_differences(
        x in -12.0..12.0f64,
        y in prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64],
        options in sigmoid_options(),
    ) {
        let targets = [y];
        let t = SigmoidTargets::Soft(&targets);
        let h = 1e-5;
        let numeric = (sum_loss(&[x + h], t, &options) - sum_loss(&[x - h], t, &options)) / (2.0 * h);
        let (mut grad, mut hess) = ([0.0], [0.0]);
        sigmoid_focal_grad_hess(&[x], t, None, &options, None, &mut grad, &mut hess).unwrap();
        prop_assert!(near(grad[0], numeric, 1e-6, 1e-9), "grad {} vs {}", grad[0], numeric);

        let grad_at = |x: f64| {
            let (mut g, mut hh) = ([0.0], [0.0]);
            sigmoid_focal_grad_hess(&[x], t, None, &options, None, &mut g, &mut hh).unwrap();
            g[0]
        };
        let numeric_hess = (grad_at(x + h) - grad_at(x - h)) / (2.0 * h);
        prop_assert!(near(hess[0], numeric_hess, 1e-6, 1e-9), "hess {} vs {}", hess[0], numeric_hess);
    }

    #[test]
    fn softmax_gradient_matches_finite_differences(
        logits in prop::collection::vec(-8.0..8.0f64, 2 * 5),
        t0 in 0..5i32,
        t1 in 0..5i32,
        gamma in 0.0..4.0f64,
        class_gamma in prop::option::of(prop::collection::vec(0.0..4.0f64, 5)),
        epsilon in prop_oneof![Just(0.0), -2.0..4.0f64],
        ls in prop_oneof![Just(0.0), 0.0..0.5f64],
        per_class in any::<bool>(),
    ) {
        let mut options = SoftmaxFocalOptions::default()
            .gamma(gamma)
            .class_gamma(class_gamma)
            .epsilon(epsilon)
            .label_smoothing(ls)
            .reduction(Reduction::Sum);
        if per_class {
            options = options.class_alpha(vec![0.1, 0.5, 1.0, 2.0, 0.7]);
        }
        let shape = SoftmaxShape::rows(2, 5);
        let targets = [t0, t1];
        let loss_at = |x: &[f64]| {
            let mut loss = [0.0];
            softmax_focal_loss(x, &targets, shape, &options, &mut loss).unwrap();
            loss[0]
        };
        let (mut loss, mut grad) = ([0.0], [0.0; 10]);
        softmax_focal_loss_grad(&logits, &targets, shape, &options, &mut loss, &mut grad).unwrap();
        let h = 1e-5;
        for i in 0..10 {
            let (mut up, mut down) = (logits.clone(), logits.clone());
            up[i] += h;
            down[i] -= h;
            let numeric = (loss_at(&up) - loss_at(&down)) / (2.0 * h);
            prop_assert!(near(grad[i], numeric, 1e-6, 1e-9), "grad[{}] {} vs {}", i, grad[i], numeric);
        }
    }

    #[test]
    fn target_forms_agree_bit_for_bit(
        rows in prop::collection::vec((prop::collection::vec(-30.0..30.0f32, 3), -1..=3i32), 0..8),
        options in sigmoid_options(),
        reduction in prop_oneof![Just(Reduction::None), Just(Reduction::Sum), Just(Reduction::Mean)],
    ) {
        let options = options.reduction(reduction);
        let classes = 3;
        let logits: Vec<f32> = rows.iter().flat_map(|(x, _)| x.clone()).collect();
        let class_targets: Vec<i32> = rows.iter().map(|(_, t)| *t).collect();
        // Only non-ignored rows can be written as labels; drop the ignored ones there.
        let kept: Vec<usize> = (0..rows.len()).filter(|&r| class_targets[r] >= 0).collect();
        let kept_logits: Vec<f32> = kept.iter().flat_map(|&r| rows[r].0.clone()).collect();
        let labels: Vec<u8> = kept
            .iter()
            .flat_map(|&r| {
                let target = class_targets[r];
                (0..classes).map(move |c| u8::from(target == c as i32))
            })
            .collect();
        let soft: Vec<f32> = labels.iter().map(|&l| f32::from(l)).collect();

        let n = logits.len();
        let loss_len = |n: usize| if reduction == Reduction::None { n } else { 1 };
        let run = |x: &[f32], t: SigmoidTargets<'_, f32>| {
            let mut loss = vec![0.0f32; loss_len(x.len())];
            let mut grad = vec![0.0f32; x.len()];
            sigmoid_focal_loss_grad(x, t, None, &options, &mut loss, &mut grad).unwrap();
            (loss, grad)
        };
        let (class_loss, class_grad) =
            run(&logits, SigmoidTargets::Classes { targets: &class_targets, classes });
        let (label_loss, label_grad) = run(&kept_logits, SigmoidTargets::Labels(&labels));
        let (soft_loss, soft_grad) = run(&kept_logits, SigmoidTargets::Soft(&soft));
        prop_assert_eq!(&label_loss, &soft_loss);
        prop_assert_eq!(&label_grad, &soft_grad);
        let kept_class_grad: Vec<f32> =
            kept.iter().flat_map(|&r| class_grad[r * 3..r * 3 + 3].to_vec()).collect();
        prop_assert_eq!(&kept_class_grad, &label_grad);
        if reduction == Reduction::None {
            let kept_class_loss: Vec<f32> =
                kept.iter().flat_map(|&r| class_loss[r * 3..r * 3 + 3].to_vec()).collect();
            prop_assert_eq!(kept_class_loss, label_loss);
        } else if kept.len() == rows.len() {
            prop_assert_eq!(class_loss, label_loss);
        } else {
            // Ignored rows shift which of the 16 summation slots an element lands in.
            prop_assert!(near(f64::from(class_loss[0]), f64::from(label_loss[0]), 1e-6, 0.0));
        }
        prop_assert_eq!(n, rows.len() * 3);
    }

    #[test]
    fn unit_weights_change_nothing_and_mean_is_sum_over_count(
        x in prop::collection::vec(-50.0..50.0f64, 1..40),
        options in sigmoid_options(),
    ) {
        let y: Vec<f64> = x.iter().map(|v| (v.abs() / 50.0).min(1.0)).collect();
        let t = SigmoidTargets::Soft(&y);
        let ones = vec![1.0; x.len()];
        let mut grad = vec![0.0; x.len()];
        let mut weighted_grad = vec![0.0; x.len()];
        let (mut mean, mut weighted_mean, mut sum) = ([0.0], [0.0], [0.0]);
        sigmoid_focal_loss_grad(&x, t, None, &options, &mut mean, &mut grad).unwrap();
        sigmoid_focal_loss_grad(&x, t, Some(&ones), &options, &mut weighted_mean, &mut weighted_grad)
            .unwrap();
        prop_assert_eq!(mean, weighted_mean);
        prop_assert_eq!(&grad, &weighted_grad);
        sigmoid_focal_loss(&x, t, None, &options.reduction(Reduction::Sum), &mut sum).unwrap();
        prop_assert!(near(mean[0] * x.len() as f64, sum[0], 1e-15, 0.0));
        // An explicit normaliser equal to the count is the mean.
        let mut normalised = [0.0];
        sigmoid_focal_loss(&x, t, None, &options.normalizer(x.len() as f64), &mut normalised)
            .unwrap();
        prop_assert_eq!(normalised, mean);
    }

    #[test]
    fn channels_first_is_row_major_transposed(
        batch in 0..3usize,
        classes in 1..5usize,
        spatial in 1..5usize,
        seed in prop::collection::vec(-20.0..20.0f32, 64),
        target_seed in prop::collection::vec(0..100i32, 16),
        gamma in 0.0..3.0f64,
        ls in prop_oneof![Just(0.0), 0.0..0.3f64],
    ) {
        let options = SoftmaxFocalOptions::default()
            .gamma(gamma)
            .label_smoothing(ls)
            .reduction(Reduction::None);
        let positions = batch * spatial;
        let cf: Vec<f32> = (0..batch * classes * spatial).map(|i| seed[i % 64]).collect();
        let targets: Vec<i32> = (0..positions)
            .map(|p| {
                let t = target_seed[p % 16];
                if t % 7 == 0 { -100 } else { t % classes as i32 }
            })
            .collect();
        // Row-major copy: row (n, s) holds the C logits of position s of sample n.
        let mut rm = vec![0.0f32; cf.len()];
        for n in 0..batch {
            for s in 0..spatial {
                for j in 0..classes {
                    rm[(n * spatial + s) * classes + j] = cf[(n * classes + j) * spatial + s];
                }
            }
        }
        let (mut cf_loss, mut cf_grad) = (vec![0.0f32; positions], vec![0.0f32; cf.len()]);
        let (mut rm_loss, mut rm_grad) = (vec![0.0f32; positions], vec![0.0f32; cf.len()]);
        softmax_focal_loss_grad(&cf, &targets, SoftmaxShape::channels_first(batch, classes, spatial),
            &options, &mut cf_loss, &mut cf_grad).unwrap();
        softmax_focal_loss_grad(&rm, &targets, SoftmaxShape::rows(positions, classes),
            &options, &mut rm_loss, &mut rm_grad).unwrap();
        prop_assert_eq!(cf_loss, rm_loss);
        for n in 0..batch {
            for s in 0..spatial {
                for j in 0..classes {
                    prop_assert_eq!(
                        cf_grad[(n * classes + j) * spatial + s],
                        rm_grad[(n * spatial + s) * classes + j]
                    );
                }
            }
        }
    }

    #[test]
    fn softmax_is_shift_invariant_and_alpha_scales(
        logits in prop::collection::vec(-30.0..30.0f64, 6),
        shift in -100.0..100.0f64,
        alpha in 0.0..=1.0f64,
        gamma in 0.0..3.0f64,
    ) {
        let shape = SoftmaxShape::rows(2, 3);
        let targets = [1, 2];
        let options = SoftmaxFocalOptions::default().gamma(gamma).reduction(Reduction::Sum);
        let run = |x: &[f64], options: &SoftmaxFocalOptions| {
            let (mut loss, mut grad) = ([0.0], [0.0; 6]);
            softmax_focal_loss_grad(x, &targets, shape, options, &mut loss, &mut grad).unwrap();
            (loss[0], grad)
        };
        let (loss, grad) = run(&logits, &options);
        let shifted: Vec<f64> = logits.iter().map(|x| x + shift).collect();
        let (shifted_loss, shifted_grad) = run(&shifted, &options);
        // The shift itself rounds the logits (|x| ≤ 130): allow for that.
        prop_assert!(near(loss, shifted_loss, 1e-12, 1e-300));
        for i in 0..6 {
            prop_assert!(near(grad[i], shifted_grad[i], 1e-12, 1e-14));
        }
        let (weighted_loss, weighted_grad) = run(&logits, &options.clone().alpha(alpha));
        prop_assert!(near(weighted_loss, alpha * loss, 1e-15, 0.0));
        for i in 0..6 {
            prop_assert!(near(weighted_grad[i], alpha * grad[i], 1e-15, 0.0));
        }
    }

    #[test]
    fn f32_results_are_within_2e6_of_f64(
        x in prop::collection::vec(prop_oneof![-100.0..100.0f32, -1e30..1e30f32, -1e-40..1e-40f32], 1..30),
        options in sigmoid_options(),
    ) {
        let y: Vec<f32> = x.iter().enumerate().map(|(i, _)| (i % 5) as f32 / 4.0).collect();
        let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let y64: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
        let options = options.reduction(Reduction::None);
        let n = x.len();
        let (mut g32, mut h32) = (vec![0.0f32; n], vec![0.0f32; n]);
        let (mut g64, mut h64) = (vec![0.0f64; n], vec![0.0f64; n]);
        let (mut l32, mut l64) = (vec![0.0f32; n], vec![0.0f64; n]);
        sigmoid_focal_loss(&x, SigmoidTargets::Soft(&y), None, &options, &mut l32).unwrap();
        sigmoid_focal_loss(&x64, SigmoidTargets::Soft(&y64), None, &options, &mut l64).unwrap();
        sigmoid_focal_grad_hess(&x, SigmoidTargets::Soft(&y), None, &options, None, &mut g32, &mut h32)
            .unwrap();
        sigmoid_focal_grad_hess(&x64, SigmoidTargets::Soft(&y64), None, &options, None, &mut g64, &mut h64)
            .unwrap();
        for i in 0..n {
            let smoothed = y64[i] * (1.0 - options.label_smoothing) + options.label_smoothing / 2.0;
            let scales = term_scales(x64[i], smoothed, options.gamma, options.alpha);
            for (what, got, want, scale) in [
                ("loss", l32[i], l64[i], 0.0),
                ("grad", g32[i], g64[i], scales.0),
                ("hess", h32[i], h64[i], scales.1),
            ] {
                let got = f64::from(got);
                prop_assert!(f32_close(got, want, scale), "{} at x = {}, y = {}: {} vs {}", what, x[i], y[i], got, want);
            }
        }
    }

    #[test]
    fn finite_inputs_give_finite_outputs(
        x in prop::collection::vec(prop_oneof![any::<f64>().prop_filter("finite", |v| v.is_finite()), -1e300..1e300f64, -1e-310..1e-310f64], 1..20),
        y in prop::collection::vec(0.0..=1.0f64, 20),
        options in sigmoid_options(),
        softmax_gamma in 0.0..4.0f64,
    ) {
        let n = x.len();
        let y = &y[..n];
        let none = options.reduction(Reduction::None);
        let (mut loss, mut grad, mut hess) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        sigmoid_focal_loss_grad(&x, SigmoidTargets::Soft(y), None, &none, &mut loss, &mut grad).unwrap();
        sigmoid_focal_grad_hess(&x, SigmoidTargets::Soft(y), None, &none, None, &mut grad, &mut hess).unwrap();
        // The loss grows like |x| and is finite; everything else is bounded.
        prop_assert!(loss.iter().chain(&grad).chain(&hess).all(|v| v.is_finite()));

        let (mut sm_loss, mut sm_grad) = (vec![0.0; n], vec![0.0; n]);
        let options = SoftmaxFocalOptions::default().gamma(softmax_gamma).reduction(Reduction::None);
        softmax_focal_loss_grad(&x, &vec![0; n], SoftmaxShape::channels_first(1, 1, n), &options,
            &mut sm_loss, &mut sm_grad).unwrap();
        prop_assert!(sm_loss.iter().chain(&sm_grad).all(|v| v.is_finite()));
        // One row over all of x: the loss can exceed f64::MAX only when the logit gap does.
        let mut row_loss = [0.0];
        let mut row_grad = vec![0.0; n];
        softmax_focal_loss_grad(&x, &[0], SoftmaxShape::rows(1, n), &options, &mut row_loss, &mut row_grad).unwrap();
        prop_assert!(row_grad.iter().all(|v| v.is_finite()));
        let max = x.iter().cloned().fold(f64::MIN, f64::max);
        if (max - x[0]).is_finite() {
            prop_assert!(row_loss[0].is_finite());
        }
    }
}
