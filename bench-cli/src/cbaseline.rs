//! `--c-baseline`: the fused sigmoid focal loss + gradient as a careful C programmer writes it
//! (`c/baseline.c`, built by `build.rs`: `-O3 -march=native`, glibc's vector maths; once as
//! it stays accurate, once with `-ffast-math`), timed beside the library's kernel at every
//! SIMD level this CPU has, on one thread, rounds alternating; and the accuracy of each at
//! the golden cases (`tests/golden/cases.txt`, mpmath) it can express.

use crate::data::Data;
use crate::run::best_and_median;
use focal_loss::{SigmoidFocalOptions, SigmoidTargets, SimdLevel, with_simd_level};
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::time::Instant;

/// A C function of `c/baseline.c`: the mean loss of `x` against labels `y`, and its gradient.
type CFunction = unsafe extern "C" fn(*const f32, *const u8, usize, f32, f32, *mut f32) -> f32;

#[cfg(c_baseline)]
unsafe extern "C" {
    fn focal_c_accurate(
        x: *const f32,
        y: *const u8,
        n: usize,
        gamma: f32,
        alpha: f32,
        grad: *mut f32,
    ) -> f32;
    fn focal_c_fast_math(
        x: *const f32,
        y: *const u8,
        n: usize,
        gamma: f32,
        alpha: f32,
        grad: *mut f32,
    ) -> f32;
}

/// The C functions this build has: `(name, function)`.
fn c_functions() -> Vec<(&'static str, CFunction)> {
    #[cfg(c_baseline)]
    {
        vec![
            ("C -O3 (accurate)", focal_c_accurate as CFunction),
            ("C -ffast-math", focal_c_fast_math as CFunction),
        ]
    }
    #[cfg(not(c_baseline))]
    {
        Vec::new()
    }
}

/// One implementation's figures.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// `focal-loss avx512`, `C -O3 (accurate)`, …
    pub name: String,
    pub melements_per_s: f64,
    /// Largest error at the golden cases, relative to the golden value (to the size of the
    /// gradient's terms where they cancel; absolute below f32's smallest normal).
    pub max_loss_error: f64,
    pub max_grad_error: f64,
    /// The case and value of the largest loss error.
    pub worst_loss: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CBaseline {
    /// What was timed.
    pub call: String,
    pub elements: usize,
    pub rounds: usize,
    /// The golden values compared (loss and gradient per element).
    pub golden_elements: usize,
    pub entries: Vec<Entry>,
}

/// The golden elements the C function can express: sigmoid, u8 labels, f32, α given, no
/// smoothing, no weights, per element: `(case, x, y, γ, α, loss, grad, grad scale)` (γ and α
/// as the case gives them: the library takes them in f64, the C function in f32).
type Golden = (String, f32, u8, f64, f64, f64, f64, f64);

fn golden() -> Vec<Golden> {
    const CASES: &str = include_str!("../../tests/golden/cases.txt");
    let mut out = Vec::new();
    for block in CASES.split("\nend") {
        let field = |key: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
                .unwrap_or("")
        };
        let numbers = |key: &str| -> Vec<f64> {
            field(key)
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect()
        };
        if field("family") != "sigmoid_labels"
            || field("dtype") != "f32"
            || field("smoothing") != "0.0"
            || field("weights") != "none"
            || field("reduction") != "none"
            || field("alpha") == "none"
        {
            continue;
        }
        let (Ok(gamma), Ok(alpha)) = (field("gamma").parse::<f64>(), field("alpha").parse()) else {
            continue;
        };
        let (x, y) = (numbers("logits"), numbers("targets"));
        let (loss, grad, scale) = (numbers("loss"), numbers("grad"), numbers("grad_scale"));
        for i in 0..x.len().min(y.len()).min(loss.len()).min(grad.len()) {
            out.push((
                field("case").to_string(),
                x[i] as f32,
                y[i] as u8,
                gamma,
                alpha,
                loss[i],
                grad[i],
                scale.get(i).copied().unwrap_or(0.0),
            ));
        }
    }
    out
}

/// Relative error, absolute below f32's smallest normal.
fn error(got: f64, want: f64, scale: f64) -> f64 {
    if !got.is_finite() {
        return f64::INFINITY;
    }
    let size = want.abs().max(scale);
    if size < f64::from(f32::MIN_POSITIVE) {
        (got - want).abs() / f64::from(f32::MIN_POSITIVE)
    } else {
        (got - want).abs() / size
    }
}

/// `(max loss error, max grad error, worst loss)` of `one` (loss and gradient of one
/// element) over the golden elements.
fn accuracy(
    golden: &[Golden],
    mut one: impl FnMut(f32, u8, f64, f64) -> (f32, f32),
) -> (f64, f64, String) {
    let (mut loss_error, mut grad_error, mut worst) = (0.0f64, 0.0f64, String::new());
    for (case, x, y, gamma, alpha, loss, grad, scale) in golden {
        let (l, g) = one(*x, *y, *gamma, *alpha);
        let e = error(f64::from(l), *loss, 0.0);
        if e > loss_error {
            loss_error = e;
            worst = format!("{case}: x = {x}, y = {y}: {l:e} for {loss:e}");
        }
        grad_error = grad_error.max(error(f64::from(g), *grad, *scale));
    }
    (loss_error, grad_error, worst)
}

/// The comparison at `n` logits (generated as for the other rows), γ and α of the focal
/// loss's defaults, `rounds` alternating rounds of `min_time` seconds per implementation.
pub fn run(n: usize, rounds: usize, min_time: f64) -> Result<CBaseline, String> {
    let functions = c_functions();
    if functions.is_empty() {
        return Err("this build has no C baseline (it needs x86-64 Linux with glibc and a C compiler when focal-bench is built)".into());
    }
    let (gamma, alpha) = (2.0f32, 0.25f32);
    let data = Data::<f32>::new(n);
    let (x, y) = (&data.logits[..n], &data.labels[..n]);
    let mut grad = vec![0.0f32; n];
    let options = SigmoidFocalOptions::default()
        .gamma(f64::from(gamma))
        .alpha(f64::from(alpha))
        .threads(1);
    let levels: Vec<SimdLevel> = SimdLevel::ALL
        .into_iter()
        .filter(|l| l.is_available() && *l != SimdLevel::Scalar)
        .collect();
    // One timing: calls of `f` for `min_time` seconds; seconds per call, the best.
    let mut time = |f: &mut dyn FnMut(&mut [f32])| {
        let start = Instant::now();
        let mut seconds = Vec::new();
        while seconds.len() < 3 || start.elapsed().as_secs_f64() < min_time {
            let t = Instant::now();
            f(black_box(&mut grad));
            seconds.push(t.elapsed().as_secs_f64());
        }
        best_and_median(&seconds).0
    };
    let library = |level: SimdLevel, grad: &mut [f32]| {
        let mut loss = [0.0f32];
        with_simd_level(level, || {
            focal_loss::sigmoid_focal_loss_grad(
                x,
                SigmoidTargets::Labels(y),
                None,
                &options,
                &mut loss,
                grad,
            )
        })
        .and_then(|r| r)
        .map(|()| loss[0])
    };
    let mut best = vec![f64::INFINITY; levels.len() + functions.len()];
    for _ in 0..rounds.max(1) {
        for (i, &level) in levels.iter().enumerate() {
            let mut failed = None;
            let seconds = time(&mut |g| {
                if let Err(e) = library(level, g) {
                    failed = Some(e);
                }
            });
            if let Some(e) = failed {
                return Err(format!("focal-loss at {}: {e}", level.name()));
            }
            best[i] = best[i].min(seconds);
        }
        for (j, (_, f)) in functions.iter().enumerate() {
            // SAFETY: `x`, `y` and the gradient hold `n` values each.
            let seconds = time(&mut |g| unsafe {
                black_box(f(x.as_ptr(), y.as_ptr(), n, gamma, alpha, g.as_mut_ptr()));
            });
            best[levels.len() + j] = best[levels.len() + j].min(seconds);
        }
    }
    let golden = golden();
    let mut entries = Vec::new();
    for (i, &level) in levels.iter().enumerate() {
        let (max_loss_error, max_grad_error, worst_loss) =
            accuracy(&golden, |x, y, gamma, alpha| {
                let (mut loss, mut grad) = ([0.0f32], [0.0f32]);
                let options = SigmoidFocalOptions::default()
                    .gamma(gamma)
                    .alpha(alpha)
                    .reduction(focal_loss::Reduction::None);
                let _ = with_simd_level(level, || {
                    focal_loss::sigmoid_focal_loss_grad(
                        &[x],
                        SigmoidTargets::Labels(&[y]),
                        None,
                        &options,
                        &mut loss,
                        &mut grad,
                    )
                });
                (loss[0], grad[0])
            });
        entries.push(Entry {
            name: format!("focal-loss {}", level.name()),
            melements_per_s: n as f64 / best[i] / 1e6,
            max_loss_error,
            max_grad_error,
            worst_loss,
        });
    }
    for (j, (name, f)) in functions.iter().enumerate() {
        let (max_loss_error, max_grad_error, worst_loss) =
            accuracy(&golden, |x, y, gamma, alpha| {
                let mut grad = 0.0f32;
                // SAFETY: one logit, one label, one gradient value.
                let loss = unsafe { f(&x, &y, 1, gamma as f32, alpha as f32, &mut grad) };
                (loss, grad)
            });
        entries.push(Entry {
            name: (*name).to_string(),
            melements_per_s: n as f64 / best[levels.len() + j] / 1e6,
            max_loss_error,
            max_grad_error,
            worst_loss,
        });
    }
    Ok(CBaseline {
        call: format!(
            "sigmoid focal loss + gradient, u8 labels, f32, γ = {gamma}, α = {alpha}, mean, one thread"
        ),
        elements: n,
        rounds,
        golden_elements: golden.len(),
        entries,
    })
}
