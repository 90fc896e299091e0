//! Accuracy and cross-level equality of the vector math.

use super::dispatch::run_emulated;
use super::{Lanes, Real, SimdLevel};
use pulp::{Simd, WithSimd};

#[derive(Clone, Copy, Debug)]
enum Function {
    Exp,
    Ln,
    Ln1pUnit,
    ReciprocalOnePlus,
    ExpNonpositive,
    ExpNonpositiveNotNan,
    Ln1p,
}

struct Evaluate<'a, T> {
    function: Function,
    input: &'a [T],
    output: &'a mut [T],
}

impl<T: Real> WithSimd for Evaluate<'_, T> {
    type Output = ();
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let v = Lanes::<T, S>::new(simd);
        let lanes = v.lanes();
        for (x, out) in self.input.chunks(lanes).zip(self.output.chunks_mut(lanes)) {
            let x = v.load(x);
            let y = match self.function {
                Function::Exp => v.exp(x),
                Function::Ln => v.ln(x),
                Function::Ln1pUnit => v.ln_1p_unit_and_reciprocal(x).0,
                Function::ReciprocalOnePlus => v.ln_1p_unit_and_reciprocal(x).1,
                Function::ExpNonpositive => v.exp_nonpositive(x, None),
                Function::ExpNonpositiveNotNan => v.exp_nonpositive_not_nan(x),
                Function::Ln1p => v.ln_1p(x),
            };
            v.store(out, y);
        }
    }
}

fn evaluate<T: Real>(function: Function, input: &[T], level: SimdLevel) -> Vec<T> {
    let mut output = vec![T::default(); input.len()];
    level.run(Evaluate {
        function,
        input,
        output: &mut output,
    });
    output
}

fn evaluate_emulated<T: Real>(function: Function, input: &[T], bits: usize) -> Vec<T> {
    let mut output = vec![T::default(); input.len()];
    run_emulated(
        bits,
        Evaluate {
            function,
            input,
            output: &mut output,
        },
    );
    output
}

fn exact(function: Function, x: f64) -> f64 {
    match function {
        Function::Exp | Function::ExpNonpositive | Function::ExpNonpositiveNotNan => x.exp(),
        Function::ReciprocalOnePlus => 1.0 / (1.0 + x),
        Function::Ln => x.ln(),
        Function::Ln1pUnit | Function::Ln1p => x.ln_1p(),
    }
}

/// Distance in units in the last place between two finite f32 of the same sign.
fn ulps_f32(a: f32, b: f32) -> u32 {
    if a == b {
        return 0;
    }
    if a.is_sign_negative() != b.is_sign_negative() {
        return a.to_bits().max(b.to_bits()) & 0x7fff_ffff;
    }
    a.to_bits().abs_diff(b.to_bits())
}

fn ulps_f64(a: f64, b: f64) -> u64 {
    if a == b {
        return 0;
    }
    if a.is_sign_negative() != b.is_sign_negative() {
        return (a.to_bits() & 0x7fff_ffff_ffff_ffff) + (b.to_bits() & 0x7fff_ffff_ffff_ffff);
    }
    a.to_bits().abs_diff(b.to_bits())
}

/// Every `stride`-th f32 in `[lo, hi]` (by bit pattern, lo and hi of the same sign).
fn f32_grid(lo: f32, hi: f32, stride: u32) -> Vec<f32> {
    let (a, b) = if lo >= 0.0 {
        (lo.to_bits(), hi.to_bits())
    } else {
        (hi.to_bits(), lo.to_bits())
    };
    (a..=b)
        .step_by(stride as usize)
        .map(f32::from_bits)
        .collect()
}

/// Max ulp error of the f32 function against the correctly rounded f64 evaluation.
fn max_ulps_f32(function: Function, input: &[f32]) -> u32 {
    let got = evaluate(function, input, SimdLevel::best());
    let (worst, at) = input
        .iter()
        .zip(&got)
        .map(|(&x, &y)| (ulps_f32(y, exact(function, f64::from(x)) as f32), x))
        .max_by_key(|&(u, _)| u)
        .unwrap_or((0, 0.0));
    let _ = at; // handy when a bound fails: print `at`
    worst
}

fn max_ulps_f64(function: Function, input: &[f64]) -> u64 {
    let got = evaluate(function, input, SimdLevel::best());
    let (worst, at) = input
        .iter()
        .zip(&got)
        .map(|(&x, &y)| (ulps_f64(y, exact(function, x)), x))
        .max_by_key(|&(u, _)| u)
        .unwrap_or((0, 0.0));
    let _ = at;
    worst
}

fn f64_grid(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    (0..=count)
        .map(|i| lo + (hi - lo) * (i as f64 / count as f64))
        .collect()
}

#[test]
fn exp_f32_within_one_ulp() {
    let mut x = f32_grid(-0.0, -104.0, 613);
    x.extend(f32_grid(0.0, 89.0, 613));
    assert!(max_ulps_f32(Function::Exp, &x) <= 1);
}

#[test]
fn exp_f64_within_one_ulp_of_std() {
    // std's exp is itself within 1 ulp: allow the sum.
    let x = f64_grid(-745.0, 709.7, 400_003);
    assert!(max_ulps_f64(Function::Exp, &x) <= 2);
}

#[test]
fn ln_1p_unit_and_reciprocal_within_documented_ulp() {
    let x = f32_grid(0.0, 1.0, 211);
    let ln_f32 = max_ulps_f32(Function::Ln1pUnit, &x);
    let reciprocal_f32 = max_ulps_f32(Function::ReciprocalOnePlus, &x);
    let x = f64_grid(0.0, 1.0, 400_003);
    let ln_f64 = max_ulps_f64(Function::Ln1pUnit, &x);
    let reciprocal_f64 = max_ulps_f64(Function::ReciprocalOnePlus, &x);
    println!(
        "ln(1+u): f32 {ln_f32}, f64 {ln_f64}; 1/(1+u): f32 {reciprocal_f32}, f64 {reciprocal_f64}"
    );
    // Exhaustively (`exhaustive_f32_accuracy`): 2 and 1 ulp.
    assert!(ln_f32 <= 2 && reciprocal_f32 <= 1);
    // The f64 reference ln_1p is itself within 1 ulp.
    assert!(ln_f64 <= 2 && reciprocal_f64 <= 3);
}

#[test]
fn exp_nonpositive_is_exp() {
    let bits = |v: &[f64]| -> Vec<u64> { v.iter().map(|x| x.to_bits()).collect() };
    let mut x = f64_grid(-800.0, 0.0, 100_003);
    x.extend([
        f64::NEG_INFINITY,
        -0.0,
        f64::NAN,
        -708.5,
        -745.1,
        -87.5,
        -103.9,
    ]);
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let widen = |v: Vec<f32>| -> Vec<f64> { v.into_iter().map(f64::from).collect() };
    for level in SimdLevel::ALL.into_iter().filter(|l| l.is_available()) {
        let general = evaluate(Function::Exp, &x, level);
        let lean = evaluate(Function::ExpNonpositive, &x, level);
        assert_eq!(bits(&lean), bits(&general), "f64 {level}");
        // The variant without NaN handling: the same bits wherever x is not NaN.
        let not_nan = |v: &[f64]| -> Vec<u64> {
            v.iter()
                .zip(&x)
                .filter(|(_, x)| !x.is_nan())
                .map(|(y, _)| y.to_bits())
                .collect()
        };
        let leaner = evaluate(Function::ExpNonpositiveNotNan, &x, level);
        assert_eq!(not_nan(&leaner), not_nan(&general), "f64 not-NaN {level}");
        let general = widen(evaluate(Function::Exp, &x32, level));
        let lean = widen(evaluate(Function::ExpNonpositive, &x32, level));
        assert_eq!(bits(&lean), bits(&general), "f32 {level}");
        let leaner = widen(evaluate(Function::ExpNonpositiveNotNan, &x32, level));
        assert_eq!(not_nan(&leaner), not_nan(&general), "f32 not-NaN {level}");
    }
}

#[test]
fn ln_within_one_ulp_including_subnormals() {
    let x = f32_grid(f32::from_bits(1), f32::MAX, 1021);
    assert!(max_ulps_f32(Function::Ln, &x) <= 1);
    let mut x = f64_grid(1e-300, 1e3, 200_003);
    x.extend(f64_grid(0.5, 2.0, 200_003));
    x.extend([f64::from_bits(1), 1e-310, f64::MAX]);
    assert!(max_ulps_f64(Function::Ln, &x) <= 2);
}

#[test]
fn ln_1p_within_two_ulp() {
    let x = f32_grid(0.0, 1e30, 1021);
    assert!(max_ulps_f32(Function::Ln1p, &x) <= 2);
    let x = f64_grid(0.0, 1e4, 400_003);
    assert!(max_ulps_f64(Function::Ln1p, &x) <= 2);
}

#[test]
fn special_values() {
    let inf = f64::INFINITY;
    let x = [inf, -inf, f64::NAN, 1000.0, -1000.0, 0.0];
    let y = evaluate(Function::Exp, &x, SimdLevel::best());
    assert_eq!(y[..2], [inf, 0.0]);
    assert!(y[2].is_nan());
    assert_eq!(y[3..], [inf, 0.0, 1.0]);
    // The smallest subnormal results are rounded correctly, not flushed.
    let y = evaluate(Function::Exp, &[-745.0f64, -744.0], SimdLevel::best());
    assert_eq!(y, [(-745.0f64).exp(), (-744.0f64).exp()]);
    let y = evaluate(Function::Exp, &[-103.0f32, -100.0], SimdLevel::best());
    assert_eq!(y, [(-103.0f64).exp() as f32, (-100.0f64).exp() as f32]);

    let x = [0.0, inf, -1.0, f64::NAN, 1.0];
    let y = evaluate(Function::Ln, &x, SimdLevel::best());
    assert_eq!(y[..2], [-inf, inf]);
    assert!(y[2].is_nan() && y[3].is_nan());
    assert_eq!(y[4], 0.0);
    let y = evaluate(Function::Ln1p, &[inf, 0.0, f64::NAN], SimdLevel::best());
    assert_eq!(y[..2], [inf, 0.0]);
    assert!(y[2].is_nan());
}

fn all_levels_agree<T: Real>(input: &[T]) {
    for function in [
        Function::Exp,
        Function::Ln,
        Function::Ln1pUnit,
        Function::ReciprocalOnePlus,
        Function::ExpNonpositive,
        Function::Ln1p,
    ] {
        let reference = evaluate(function, input, SimdLevel::Scalar);
        let bits = |v: &[T]| -> Vec<u64> { v.iter().map(|x| x.widen().to_bits()).collect() };
        for level in SimdLevel::ALL.into_iter().filter(|l| l.is_available()) {
            assert_eq!(
                bits(&evaluate(function, input, level)),
                bits(&reference),
                "{function:?} {level}"
            );
        }
        for width in [128, 256, 512] {
            assert_eq!(
                bits(&evaluate_emulated(function, input, width)),
                bits(&reference),
                "{function:?} emulated {width}-bit"
            );
        }
    }
}

#[test]
fn every_level_gives_the_same_bits() {
    let mut x: Vec<f64> = f64_grid(-800.0, 800.0, 10_007);
    x.extend(f64_grid(0.0, 1.0, 1001));
    x.extend([f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1e-310, 0.0]);
    for len in 0..67 {
        all_levels_agree(&x[..len]);
    }
    all_levels_agree(&x);
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    all_levels_agree(&x32);
}

/// The measurement behind the accuracy figures in the rustdoc: every f32 in each domain.
/// Slow (minutes in a debug build): `cargo test --release -- --ignored exhaustive`.
#[test]
#[ignore]
fn exhaustive_f32_accuracy() {
    // The bounds the rustdoc states.
    let domains = [
        (Function::Exp, -104.0f32, -0.0f32, 1),
        (Function::Exp, 0.0, 89.0, 1),
        (Function::Ln1pUnit, 0.0, 1.0, 2),
        (Function::ReciprocalOnePlus, 0.0, 1.0, 1),
        (Function::ExpNonpositive, -104.0, -0.0, 1),
        (Function::Ln, f32::from_bits(1), f32::MAX, 1),
        (Function::Ln1p, 0.0, f32::MAX, 1),
    ];
    for (function, lo, hi, bound) in domains {
        let grid = f32_grid(lo, hi, 1);
        let worst = grid
            .chunks(1 << 20)
            .map(|chunk| max_ulps_f32(function, chunk))
            .max()
            .unwrap();
        println!("{function:?} on [{lo:e}, {hi:e}]: max {worst} ulp");
        assert!(
            worst <= bound,
            "{function:?}: {worst} ulp, documented {bound}"
        );
    }
}

struct PowRatio<'a, T> {
    num: &'a [T],
    den: &'a [T],
    gamma: f64,
    output: &'a mut [T],
}

impl<T: Real> WithSimd for PowRatio<'_, T> {
    type Output = ();
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let v = Lanes::<T, S>::new(simd);
        let gamma = T::narrow(self.gamma);
        let gamma_low = T::narrow(self.gamma - gamma.widen());
        for ((num, den), out) in self
            .num
            .chunks(v.lanes())
            .zip(self.den.chunks(v.lanes()))
            .zip(self.output.chunks_mut(v.lanes()))
        {
            let y = v.pow_ratio(v.load(num), v.load(den), v.splat(gamma), v.splat(gamma_low));
            v.store(out, y);
        }
    }
}

#[test]
fn pow_ratio_is_accurate_for_tiny_ratios() {
    // (num/den)^γ with the ratio down to 1e-30: γ·ln(ratio) reaches −300, where rounding
    // the logarithm alone would cost 1e-5 relative in f32.
    let num: Vec<f32> = (0..2000)
        .map(|i| 10f32.powf(-(i as f32) * 0.015) * 3.0)
        .collect();
    let den: Vec<f32> = (0..2000).map(|i| 3.0 + (i % 7) as f32).collect();
    for gamma in [0.5, 2.7, 4.2, 9.5] {
        let mut out = vec![0.0f32; num.len()];
        SimdLevel::best().run(PowRatio {
            num: &num,
            den: &den,
            gamma,
            output: &mut out,
        });
        for i in 0..num.len() {
            let want = (f64::from(num[i]) / f64::from(den[i])).powf(gamma);
            if want < f64::from(f32::MIN_POSITIVE) {
                continue;
            }
            // Each part of the logarithm is within an ulp: γ scales that.
            let error = (f64::from(out[i]) - want).abs() / want;
            let bound = 1.2e-7 * (1.0 + gamma);
            assert!(error < bound, "γ {gamma}: {} vs {want} ({error:e})", out[i]);
        }
    }
}
