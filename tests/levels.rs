//! Every SIMD level this CPU has, and any number of threads, give the same bits.

use focal_loss::{
    Reduction, SigmoidFocalOptions, SigmoidTargets, SimdLevel, SoftmaxFocalOptions, SoftmaxShape,
    sigmoid_focal_grad_hess, sigmoid_focal_loss_grad, softmax_focal_grad_hess,
    softmax_focal_loss_grad, with_simd_level,
};

/// Deterministic inputs with every kind of extreme value mixed into ordinary ones.
fn logits(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed | 1;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            match i % 23 {
                3 => f64::INFINITY,
                7 => f64::NEG_INFINITY,
                11 => f64::NAN,
                13 => 1e30 * (u - 0.5),
                17 => 1e-40 * (u - 0.5),
                19 => 150.0 * (u - 0.5),
                _ => 40.0 * (u - 0.5),
            }
        })
        .collect()
}

fn bits<T: focal_loss::Float>(values: &[T]) -> Vec<u64> {
    // All NaNs compare equal: their payload is not part of the contract.
    values
        .iter()
        .map(|v| {
            let v = v.to_f64();
            if v.is_nan() { u64::MAX } else { v.to_bits() }
        })
        .collect()
}

/// Every output of every loss for `x` (as `T`), as bit patterns.
fn outputs<T: focal_loss::Float>(x: &[f64], gamma: f64, ls: f64) -> Vec<Vec<u64>> {
    let n = x.len();
    let xt: Vec<T> = x.iter().map(|&v| T::from_f64(v)).collect();
    let labels: Vec<u8> = (0..n).map(|i| u8::from(i % 3 == 0)).collect();
    let soft: Vec<T> = (0..n).map(|i| T::from_f64((i % 5) as f64 / 4.0)).collect();
    let weights: Vec<T> = (0..n).map(|i| T::from_f64((i % 4) as f64 * 0.5)).collect();
    let mut results = Vec::new();
    for reduction in [Reduction::None, Reduction::Sum, Reduction::Mean] {
        let options = SigmoidFocalOptions::default()
            .gamma(gamma)
            .label_smoothing(ls)
            .reduction(reduction);
        let loss_len = if reduction == Reduction::None { n } else { 1 };
        for (targets, w) in [
            (SigmoidTargets::Labels(&labels), None),
            (SigmoidTargets::Soft(&soft), Some(&weights[..])),
        ] {
            let (mut loss, mut grad) = (vec![T::default(); loss_len], vec![T::default(); n]);
            sigmoid_focal_loss_grad(&xt, targets, w, &options, &mut loss, &mut grad).unwrap();
            results.push(bits(&loss));
            results.push(bits(&grad));
        }
    }
    let options = SigmoidFocalOptions::default()
        .gamma(gamma)
        .label_smoothing(ls);
    let (mut grad, mut hess) = (vec![T::default(); n], vec![T::default(); n]);
    sigmoid_focal_grad_hess(
        &xt,
        SigmoidTargets::Soft(&soft),
        None,
        &options,
        Some(1e-6),
        &mut grad,
        &mut hess,
    )
    .unwrap();
    results.push(bits(&grad));
    results.push(bits(&hess));
    for (classes, spatial) in [(3, 1), (5, 1), (20, 1), (3, 4), (4, 7)] {
        let rows = n / (classes * spatial);
        let m = rows * classes * spatial;
        let targets: Vec<i32> = (0..rows * spatial)
            .map(|p| {
                if p % 9 == 4 {
                    -100
                } else {
                    (p % classes) as i32
                }
            })
            .collect();
        // The focal loss, and with per-class γ and poly-1.
        for (reduction, family) in [
            (Reduction::None, false),
            (Reduction::Mean, false),
            (Reduction::None, true),
        ] {
            let options = SoftmaxFocalOptions::default()
                .gamma(gamma)
                .label_smoothing(ls)
                .reduction(reduction);
            let options = if family {
                options
                    .class_gamma(
                        (0..classes)
                            .map(|k| 0.5 + 0.7 * k as f64)
                            .collect::<Vec<_>>(),
                    )
                    .epsilon(-0.5)
            } else {
                options
            };
            let loss_len = if reduction == Reduction::None {
                rows * spatial
            } else {
                1
            };
            let (mut loss, mut grad) = (vec![T::default(); loss_len], vec![T::default(); m]);
            softmax_focal_loss_grad(
                &xt[..m],
                &targets,
                SoftmaxShape::channels_first(rows, classes, spatial),
                &options,
                &mut loss,
                &mut grad,
            )
            .unwrap();
            results.push(bits(&loss));
            results.push(bits(&grad));
            if ls == 0.0 {
                let mut hess = vec![T::default(); m];
                softmax_focal_grad_hess(
                    &xt[..m],
                    &targets,
                    SoftmaxShape::channels_first(rows, classes, spatial),
                    &options,
                    Some(-0.05),
                    &mut grad,
                    &mut hess,
                )
                .unwrap();
                results.push(bits(&grad));
                results.push(bits(&hess));
            }
        }
    }
    results
}

fn available_levels() -> Vec<SimdLevel> {
    SimdLevel::ALL
        .into_iter()
        .filter(|l| l.is_available())
        .collect()
}

fn all_levels_agree<T: focal_loss::Float>(x: &[f64], gamma: f64, ls: f64) {
    let reference = with_simd_level(SimdLevel::Scalar, || outputs::<T>(x, gamma, ls)).unwrap();
    for level in available_levels() {
        let got = with_simd_level(level, || outputs::<T>(x, gamma, ls)).unwrap();
        assert!(
            got == reference,
            "{level} differs from scalar: {} {} elements, γ {gamma}, ls {ls}",
            T::NAME,
            x.len()
        );
    }
}

#[test]
fn every_length_up_to_67() {
    for n in 0..=67 {
        let x = logits(n, n as u64 + 1);
        for (gamma, ls) in [(2.0, 0.0), (0.5, 0.0), (3.7, 0.1)] {
            all_levels_agree::<f32>(&x, gamma, ls);
            all_levels_agree::<f64>(&x, gamma, ls);
        }
    }
}

#[test]
fn large_inputs_across_chunks() {
    // Several chunks of the parallel driver, with a ragged end.
    let x = logits(3 * 16 * 1024 + 37, 99);
    all_levels_agree::<f32>(&x, 2.0, 0.0);
    all_levels_agree::<f64>(&x, 0.75, 0.05);
}

#[test]
fn any_thread_count_gives_the_same_bits() {
    let x = logits(5 * 16 * 1024 + 11, 7);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| outputs::<f32>(&x, 2.0, 0.0))
    };
    let one = run(1);
    for threads in [2, 3, 4, 8] {
        assert!(run(threads) == one, "{threads} threads");
    }
}

#[test]
fn unavailable_levels_are_refused() {
    for level in SimdLevel::ALL {
        let result = with_simd_level(level, focal_loss::simd_level);
        if level.is_available() {
            assert_eq!(result, Ok(level));
        } else {
            assert_eq!(
                result,
                Err(focal_loss::FocalError::SimdLevelUnavailable(level))
            );
        }
    }
    // The override ends with the closure.
    let before = focal_loss::simd_level();
    let _ = with_simd_level(SimdLevel::Scalar, || ());
    assert_eq!(focal_loss::simd_level(), before);
}
