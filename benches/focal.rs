//! Throughput of the kernels against the scalar reference, a plain std scalar loop and a
//! `wide` f32x8 version (portable SIMD without runtime dispatch), on one thread.
//!
//! `cargo bench --bench focal` (all groups) or e.g. `cargo bench --bench focal -- sigmoid`.
//! The sizes go up to 16M logits; `FOCAL_BENCH_QUICK=1` stops at 1M.

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use focal_loss::{
    AsymmetricOptions, Float, FocalStarOptions, PerClassFocalOptions, Poly1FocalOptions,
    QualityFocalOptions, ReducedFocalOptions, Reduction, SigmoidFocalOptions, SigmoidObjective,
    SigmoidTargets, SoftmaxFocalOptions, SoftmaxShape, VarifocalOptions, reference,
    sigmoid_focal_grad_hess, sigmoid_focal_loss_grad, softmax_focal_loss_grad,
};
use std::time::Duration;
use wide::{CmpGe, f32x8};

fn sizes() -> Vec<usize> {
    if std::env::var_os("FOCAL_BENCH_QUICK").is_some() {
        vec![1 << 10, 1 << 16, 1 << 20]
    } else {
        vec![1 << 10, 1 << 16, 1 << 20, 1 << 24]
    }
}

/// Logits in [−6, 6] and 10 % positives, from a fixed generator.
fn data<T: Float>(n: usize) -> (Vec<T>, Vec<u8>) {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let logits = (0..n).map(|_| T::from_f64(12.0 * next() - 6.0)).collect();
    let labels = (0..n).map(|_| u8::from(next() < 0.1)).collect();
    (logits, labels)
}

/// One thread: the library's rayon work runs inside a one-thread pool.
fn single_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    thread_local! {
        static POOL: rayon::ThreadPool =
            rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    }
    POOL.with(|pool| pool.install(f))
}

/// The fused sigmoid focal loss + gradient (hard labels, γ = 2, α = 0.25, mean) written the
/// way one would without this library: a std scalar loop over the stable closed forms.
fn std_scalar(logits: &[f32], labels: &[u8], grad: &mut [f32]) -> f32 {
    let n = logits.len() as f32;
    let mut sum = 0.0f32;
    for ((&x, &y), g) in logits.iter().zip(labels).zip(grad.iter_mut()) {
        let s = if y == 1 { 1.0 } else { -1.0 };
        let alpha_t = if y == 1 { 0.25 } else { 0.75 };
        let z = s * x;
        let e = (-z.abs()).exp();
        let r = 1.0 / (1.0 + e);
        let (p_t, q) = if z >= 0.0 { (r, e * r) } else { (e * r, r) };
        let ce = (-z).max(0.0) + e.ln_1p();
        sum += alpha_t * q * q * ce;
        *g = -s * alpha_t * q * q * (q + 2.0 * p_t * ce) / n;
    }
    sum / n
}

/// The same with `wide::f32x8` (its own exp/ln, no runtime dispatch).
fn wide_f32x8(logits: &[f32], labels: &[u8], grad: &mut [f32]) -> f32 {
    let inv_n = f32x8::splat(1.0 / logits.len() as f32);
    let mut sum = f32x8::ZERO;
    let one = f32x8::ONE;
    let chunks = logits.len() / 8;
    for c in 0..chunks {
        let x = f32x8::from(<[f32; 8]>::try_from(&logits[c * 8..c * 8 + 8]).unwrap());
        let y: [f32; 8] = core::array::from_fn(|j| f32::from(labels[c * 8 + j]));
        let y = f32x8::from(y);
        let s = y * 2.0 - one;
        let alpha_t = y * (-0.5) + f32x8::splat(0.75);
        let z = s * x;
        let e = (-z.abs()).exp();
        let r = one / (one + e);
        let positive = z.cmp_ge(f32x8::ZERO);
        let p_t = positive.blend(r, e * r);
        let q = positive.blend(e * r, r);
        let ce = (-z).max(f32x8::ZERO) + (one + e).ln();
        let scale = alpha_t * q * q;
        sum += scale * ce;
        let g = -s * scale * (q + f32x8::splat(2.0) * p_t * ce) * inv_n;
        grad[c * 8..c * 8 + 8].copy_from_slice(&g.to_array());
    }
    let tail = chunks * 8;
    let rest = std_scalar(&logits[tail..], &labels[tail..], &mut grad[tail..]);
    (sum.reduce_add() + rest * (logits.len() - tail) as f32) * inv_n.to_array()[0]
}

fn sigmoid_labels(c: &mut Criterion) {
    for (name, gamma) in [
        ("sigmoid_labels_gamma2", 2.0),
        ("sigmoid_labels_gamma0.5", 0.5),
    ] {
        let mut group = c.benchmark_group(name);
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_millis(300));
        for n in sizes() {
            group.throughput(Throughput::Elements(n as u64));
            let (logits32, labels) = data::<f32>(n);
            let (logits64, _) = data::<f64>(n);
            let options = SigmoidFocalOptions::default().gamma(gamma);
            let targets = SigmoidTargets::Labels(&labels);
            let mut loss32 = [0.0f32];
            let mut grad32 = vec![0.0f32; n];
            let mut loss64 = [0.0f64];
            let mut grad64 = vec![0.0f64; n];
            group.bench_function(BenchmarkId::new("f32/simd", n), |b| {
                b.iter(|| {
                    single_thread(|| {
                        sigmoid_focal_loss_grad(
                            &logits32,
                            targets,
                            None,
                            &options,
                            &mut loss32,
                            &mut grad32,
                        )
                        .expect("the benchmark's call is valid")
                    })
                })
            });
            group.bench_function(BenchmarkId::new("f64/simd", n), |b| {
                b.iter(|| {
                    single_thread(|| {
                        sigmoid_focal_loss_grad(
                            &logits64,
                            SigmoidTargets::Labels(&labels),
                            None,
                            &options,
                            &mut loss64,
                            &mut grad64,
                        )
                        .expect("the benchmark's call is valid")
                    })
                })
            });
            if n <= 1 << 20 {
                group.bench_function(BenchmarkId::new("f32/reference", n), |b| {
                    b.iter(|| {
                        reference::sigmoid_focal(
                            &logits32,
                            &targets,
                            None,
                            &options,
                            Some(&mut loss32),
                            Some(&mut grad32),
                        )
                    })
                });
                group.bench_function(BenchmarkId::new("f64/reference", n), |b| {
                    b.iter(|| {
                        reference::sigmoid_focal(
                            &logits64,
                            &SigmoidTargets::Labels(&labels),
                            None,
                            &options,
                            Some(&mut loss64),
                            Some(&mut grad64),
                        )
                    })
                });
            }
            if gamma == 2.0 {
                group.bench_function(BenchmarkId::new("f32/std-scalar", n), |b| {
                    b.iter(|| black_box(std_scalar(&logits32, &labels, &mut grad32)))
                });
                group.bench_function(BenchmarkId::new("f32/wide-f32x8", n), |b| {
                    b.iter(|| black_box(wide_f32x8(&logits32, &labels, &mut grad32)))
                });
            }
        }
        group.finish();
    }
}

fn sigmoid_other_forms(c: &mut Criterion) {
    let mut group = c.benchmark_group("sigmoid_forms");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    let n = 1 << 20;
    group.throughput(Throughput::Elements(n as u64));
    let (logits, labels) = data::<f32>(n);
    let soft: Vec<f32> = labels.iter().map(|&l| f32::from(l) * 0.9 + 0.05).collect();
    let rows: Vec<i32> = (0..n / 80).map(|i| (i % 81) as i32).collect();
    let options = SigmoidFocalOptions::default();
    let none = options.reduction(Reduction::None);
    let mut loss = [0.0f32];
    let mut grad = vec![0.0f32; n];
    let mut hess = vec![0.0f32; n];
    let classes = SigmoidTargets::Classes {
        targets: &rows,
        classes: 80,
    };
    let cases: [(&str, SigmoidTargets<'_, f32>); 3] = [
        ("soft", SigmoidTargets::Soft(&soft)),
        ("labels", SigmoidTargets::Labels(&labels)),
        ("classes80", classes),
    ];
    for (name, targets) in cases {
        let len = targets.len();
        group.bench_function(BenchmarkId::new(format!("{name}/loss-grad/simd"), n), |b| {
            b.iter(|| {
                single_thread(|| {
                    sigmoid_focal_loss_grad(
                        &logits[..len],
                        targets,
                        None,
                        &options,
                        &mut loss,
                        &mut grad[..len],
                    )
                    .expect("the benchmark's call is valid")
                })
            })
        });
        group.bench_function(
            BenchmarkId::new(format!("{name}/loss-grad/reference"), n),
            |b| {
                b.iter(|| {
                    reference::sigmoid_focal(
                        &logits[..len],
                        &targets,
                        None,
                        &options,
                        Some(&mut loss),
                        Some(&mut grad[..len]),
                    )
                })
            },
        );
        group.bench_function(BenchmarkId::new(format!("{name}/grad-hess/simd"), n), |b| {
            b.iter(|| {
                single_thread(|| {
                    sigmoid_focal_grad_hess(
                        &logits[..len],
                        targets,
                        None,
                        &none,
                        Some(1e-6),
                        &mut grad[..len],
                        &mut hess[..len],
                    )
                    .expect("the benchmark's call is valid")
                })
            })
        });
        group.bench_function(
            BenchmarkId::new(format!("{name}/grad-hess/reference"), n),
            |b| {
                b.iter(|| {
                    reference::sigmoid_focal_grad_hess(
                        &logits[..len],
                        &targets,
                        None,
                        &none,
                        Some(1e-6),
                        &mut grad[..len],
                        &mut hess[..len],
                    )
                })
            },
        );
    }
    group.finish();
}

fn softmax(c: &mut Criterion) {
    let mut group = c.benchmark_group("softmax");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    let n = 80 * (1 << 14);
    for (name, shape, smoothing) in [
        ("rows80", SoftmaxShape::rows(n / 80, 80), 0.0),
        ("rows80-smoothed", SoftmaxShape::rows(n / 80, 80), 0.1),
        ("rows4", SoftmaxShape::rows(n / 4, 4), 0.0),
        (
            "channels-first21",
            SoftmaxShape::channels_first(n / (21 * 4096), 21, 4096),
            0.0,
        ),
    ] {
        let elements = shape.batch * shape.classes * shape.spatial;
        group.throughput(Throughput::Elements(elements as u64));
        for single in [true, false] {
            let dtype = if single { "f32" } else { "f64" };
            let positions = shape.batch * shape.spatial;
            let targets: Vec<i32> = (0..positions)
                .map(|p| (p * 7 % shape.classes) as i32)
                .collect();
            let options = SoftmaxFocalOptions::default().label_smoothing(smoothing);
            macro_rules! run {
                ($t:ty) => {{
                    let (logits, _) = data::<$t>(elements);
                    let mut loss = [<$t>::default()];
                    let mut grad = vec![<$t>::default(); elements];
                    group.bench_function(
                        BenchmarkId::new(format!("{name}/{dtype}/simd"), elements),
                        |b| {
                            b.iter(|| {
                                single_thread(|| {
                                    softmax_focal_loss_grad(
                                        &logits, &targets, shape, &options, &mut loss, &mut grad,
                                    )
                                    .expect("the benchmark's call is valid")
                                })
                            })
                        },
                    );
                    group.bench_function(
                        BenchmarkId::new(format!("{name}/{dtype}/reference"), elements),
                        |b| {
                            b.iter(|| {
                                reference::softmax_focal(
                                    &logits,
                                    &targets,
                                    shape,
                                    &options,
                                    Some(&mut loss),
                                    Some(&mut grad),
                                )
                            })
                        },
                    );
                }};
            }
            if single { run!(f32) } else { run!(f64) }
        }
    }
    group.finish();
}

/// Every objective of the family at its defaults against the focal loss in the same run:
/// fused loss + gradient of 1M f32 logits on one thread, labels and soft targets (the
/// quality scores QFL and VFL are made for), class indices `[N, 80]` for per-class γ, and
/// the softmax options of the family on `[N, 80]`.
fn family(c: &mut Criterion) {
    let mut group = c.benchmark_group("family");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    let n = 1 << 20;
    group.throughput(Throughput::Elements(n as u64));
    let (logits, labels) = data::<f32>(n);
    let soft: Vec<f32> = labels
        .iter()
        .enumerate()
        .map(|(i, &l)| f32::from(l) * (0.5 + (i % 5) as f32 * 0.1))
        .collect();
    let classes = 80;
    let rows = n / classes;
    let class_targets: Vec<i32> = (0..rows).map(|r| (r * 7 % (classes + 1)) as i32).collect();
    let head = SigmoidTargets::Classes {
        targets: &class_targets,
        classes,
    };
    let mut loss = [0.0f32];
    let mut grad = vec![0.0f32; n];
    let labels = SigmoidTargets::Labels(&labels);
    let soft = SigmoidTargets::Soft(&soft);
    let class_gamma: Vec<f64> = (0..classes).map(|k| 1.0 + (k % 4) as f64 * 0.5).collect();
    // An objective's name and options, and the target forms it is measured on.
    type Case<'a> = (
        &'a str,
        &'a dyn SigmoidObjective,
        &'a [(&'a str, SigmoidTargets<'a, f32>)],
    );
    let cases: [Case<'_>; 9] = [
        (
            "focal",
            &SigmoidFocalOptions::default(),
            &[("labels", labels), ("soft", soft), ("classes80", head)],
        ),
        (
            "focal_star",
            &FocalStarOptions::default(),
            &[("labels", labels), ("soft", soft)],
        ),
        (
            "poly1_focal",
            &Poly1FocalOptions::default(),
            &[("labels", labels), ("soft", soft)],
        ),
        (
            "asymmetric",
            &AsymmetricOptions::default(),
            &[("labels", labels), ("soft", soft)],
        ),
        (
            "quality_focal",
            &QualityFocalOptions::default(),
            &[("labels", labels), ("soft", soft)],
        ),
        (
            "varifocal",
            &VarifocalOptions::default(),
            &[("labels", labels), ("soft", soft)],
        ),
        (
            "reduced_focal",
            &ReducedFocalOptions::default(),
            &[("labels", labels)],
        ),
        (
            "focal_gamma_1.5",
            &SigmoidFocalOptions::default().gamma(1.5),
            &[("classes80", head)],
        ),
        (
            "per_class_focal",
            &PerClassFocalOptions::default().class_gamma(class_gamma.clone()),
            &[("classes80", head)],
        ),
    ];
    for (name, options, targets) in cases {
        for &(kind, targets) in targets {
            // A class-index head covers whole rows only: the first `targets.len()` logits.
            let len = targets.len();
            group.throughput(Throughput::Elements(len as u64));
            group.bench_function(BenchmarkId::new(format!("{name}/{kind}"), len), |b| {
                b.iter(|| {
                    single_thread(|| {
                        sigmoid_focal_loss_grad(
                            &logits[..len],
                            targets,
                            None,
                            options,
                            &mut loss,
                            &mut grad[..len],
                        )
                        .expect("the benchmark's call is valid")
                    })
                })
            });
        }
    }
    let softmax_targets: Vec<i32> = (0..rows).map(|r| (r * 7 % classes) as i32).collect();
    let shape = SoftmaxShape::rows(rows, classes);
    let softmax_cases = [
        ("softmax_focal", SoftmaxFocalOptions::default()),
        ("softmax_poly1", SoftmaxFocalOptions::default().epsilon(1.0)),
        (
            "softmax_class_gamma",
            SoftmaxFocalOptions::default().class_gamma(class_gamma),
        ),
    ];
    for (name, options) in &softmax_cases {
        group.bench_function(BenchmarkId::new(format!("{name}/rows80"), n), |b| {
            b.iter(|| {
                single_thread(|| {
                    softmax_focal_loss_grad(
                        &logits[..rows * classes],
                        &softmax_targets,
                        shape,
                        options,
                        &mut loss,
                        &mut grad[..rows * classes],
                    )
                    .expect("the benchmark's call is valid")
                })
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    sigmoid_labels,
    sigmoid_other_forms,
    softmax,
    family
);
criterion_main!(benches);
