//! The kernels at pulp's emulated 128/256/512-bit widths give the scalar level's bits.

use super::elementwise::{self, DriverParams, GradHess, Kernel};
use super::focal::Focal;
use super::softmax;
use crate::simd::SimdLevel;
use crate::simd::dispatch::run_emulated;

fn inputs(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| match i % 13 {
            3 => f32::INFINITY,
            5 => f32::NAN,
            7 => -1e30,
            _ => ((i * 37 % 101) as f32 - 50.0) * 0.7,
        })
        .collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter()
        .map(|x| if x.is_nan() { u32::MAX } else { x.to_bits() })
        .collect()
}

fn sigmoid_outputs(
    width: Option<usize>,
    n: usize,
    gamma: f64,
    soft: bool,
) -> (u64, Vec<u32>, Vec<u32>) {
    let x = inputs(n);
    let y: Vec<f32> = (0..n).map(|i| (i % 5) as f32 / 4.0).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
    let params = DriverParams::<f32>::new(if soft { 0.1 } else { 0.0 }, 0.5, Some(0.0));
    let focal = Focal::<f32>::new(gamma, Some(0.25));
    let (mut grad, mut hess) = (vec![0.0f32; n], vec![0.0f32; n]);
    let targets = if soft {
        elementwise::Targets::Soft(elementwise::SoftTargets(&y))
    } else {
        elementwise::Targets::Labels(elementwise::LabelTargets(&labels))
    };
    let chunk = elementwise::Chunk {
        logits: &x,
        targets,
        weights: None,
        loss: None,
        grad: Some(&mut grad),
        hess: Some(&mut hess),
    };
    let sum = if soft {
        let kernel = Kernel::<f32, _, GradHess, true>::new(chunk, &params, &focal);
        match width {
            Some(bits) => run_emulated(bits, kernel),
            None => SimdLevel::Scalar.run(kernel),
        }
    } else {
        let kernel = Kernel::<f32, _, GradHess, false>::new(chunk, &params, &focal);
        match width {
            Some(bits) => run_emulated(bits, kernel),
            None => SimdLevel::Scalar.run(kernel),
        }
    };
    (nan_free(sum), bits(&grad), bits(&hess))
}

fn softmax_outputs(
    width: Option<usize>,
    classes: usize,
    spatial: usize,
    ls: f32,
    poly: bool,
    hessian: bool,
) -> (u64, Vec<u32>, Vec<u32>, Vec<u32>) {
    let batch = 3;
    let x = inputs(batch * classes * spatial);
    let targets: Vec<i32> = (0..batch * spatial)
        .map(|p| {
            if p % 4 == 1 {
                -100
            } else {
                (p % classes) as i32
            }
        })
        .collect();
    let class_alpha = vec![0.5f32; classes];
    // A γ per class, and the part of each that rounding to f32 lost.
    let class_gamma_64: Vec<f64> = (0..classes).map(|j| 1.5 + 0.3 * j as f64).collect();
    let class_gamma: Vec<f32> = class_gamma_64.iter().map(|&g| g as f32).collect();
    let class_gamma_low: Vec<f32> = class_gamma_64
        .iter()
        .zip(&class_gamma)
        .map(|(&g, &h)| (g - f64::from(h)) as f32)
        .collect();
    let params = softmax::Params {
        class_gamma: &class_gamma,
        class_gamma_low: &class_gamma_low,
        integer_gamma: None,
        class_alpha: &class_alpha,
        smoothing: (ls > 0.0).then(|| (1.0 - ls, ls / classes as f32)),
        poly: poly.then(|| softmax::Poly {
            epsilon: -0.75,
            keep: 1.0 - ls,
            offset: ls * (classes - 1) as f32 / classes as f32,
        }),
        grad_scale: 1.0,
        ignore_index: -100,
        hessian_floor: hessian.then_some(-0.01),
    };
    let (mut loss, mut grad) = (vec![0.0f32; batch * spatial], vec![0.0f32; x.len()]);
    let mut hess = vec![0.0f32; if hessian { x.len() } else { 0 }];
    let kernel = softmax::Kernel {
        chunk: softmax::Chunk {
            logits: &x,
            targets: &targets,
            classes,
            spatial,
            loss: (!hessian).then_some(&mut loss),
            grad: Some(&mut grad),
            hess: hessian.then_some(&mut hess),
        },
        params: &params,
    };
    let sum = match width {
        Some(bits) => run_emulated(bits, kernel),
        None => SimdLevel::Scalar.run(kernel),
    };
    (nan_free(sum), bits(&loss), bits(&grad), bits(&hess))
}

#[test]
fn emulated_widths_match_the_scalar_level() {
    for width in [128, 256, 512] {
        for n in [0, 1, 15, 16, 17, 67, 300] {
            for (gamma, soft) in [(2.0, false), (0.5, false), (2.0, true), (3.3, true)] {
                assert_eq!(
                    sigmoid_outputs(Some(width), n, gamma, soft),
                    sigmoid_outputs(None, n, gamma, soft),
                    "sigmoid {width}-bit n {n} γ {gamma} soft {soft}"
                );
            }
        }
        for (classes, spatial) in [(3, 1), (7, 1), (4, 5), (2, 17)] {
            for (ls, poly, hessian) in [
                (0.0, false, false),
                (0.1, false, false),
                (0.0, true, false),
                (0.1, true, false),
                (0.0, false, true),
                (0.0, true, true),
            ] {
                assert_eq!(
                    softmax_outputs(Some(width), classes, spatial, ls, poly, hessian),
                    softmax_outputs(None, classes, spatial, ls, poly, hessian),
                    "softmax {width}-bit C {classes} S {spatial} ls {ls} poly {poly} \
                     hessian {hessian}"
                );
            }
        }
    }
}

/// The bits of a sum; all NaNs alike (their sign and payload are not part of the contract).
fn nan_free(sum: f64) -> u64 {
    if sum.is_nan() {
        u64::MAX
    } else {
        sum.to_bits()
    }
}
