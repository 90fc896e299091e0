//! Chunking over rayon and the deterministic reduction.
//!
//! Work is cut into chunks of a fixed number of elements (never a function of the thread
//! count), each chunk returns its partial sum, and the partial sums are combined in chunk
//! order: the result has the same bits for any number of threads.

use crate::SoftmaxAlpha;
use crate::exact_sum::ExactSum;
use crate::kernels::asymmetric::Asymmetric;
use crate::kernels::elementwise::{
    Chunk, ClassTargets, DriverParams, ElementLoss, GradHess, Kernel, LabelTargets, LossGrad,
    LossOnly, SoftTargets, Targets,
};
use crate::kernels::focal::{ClassFocal, Focal, Poly1Focal};
use crate::kernels::focal_star::FocalStar;
use crate::kernels::quality_focal::QualityFocal;
use crate::kernels::reduced_focal::ReducedFocal;
use crate::kernels::softmax;
use crate::kernels::softmax_rows::RowsKernel;
use crate::kernels::varifocal::Varifocal;
use crate::objective::{Objective, SoftmaxCall};
use crate::simd::Real;
use crate::simd::dispatch::Dispatch;
use helpers::{lock, run_with_helpers};
use std::sync::Mutex;

mod helpers;

/// Elements per chunk: a multiple of the 16 summation slots, large enough to amortise a
/// task, small enough to balance two cores on a few hundred thousand elements.
pub(crate) const CHUNK: usize = 16 * 1024;

/// Row-major softmax rows with at least this many classes run the kernel vectorized along
/// the row (a property of the shape only, so results do not depend on the SIMD level).
pub(crate) const ROW_KERNEL_MIN_CLASSES: usize = 16;

thread_local! {
    /// At most this many threads for the calls made from this thread (0: no limit).
    static THREAD_LIMIT: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// Runs `f` with the library calls it makes from this thread using at most `limit` threads
/// (0: rayon's pool as it is; 1: the calling thread only). The results do not change.
pub(crate) fn with_thread_limit<R>(limit: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREAD_LIMIT.with(|l| l.set(self.0));
        }
    }
    let _restore = Restore(THREAD_LIMIT.with(|l| l.replace(limit)));
    f()
}

/// Runs `f` with at most `threads` threads for the calls it makes (0: the limit already in
/// place, e.g. the C ABI's, or none).
pub(crate) fn with_threads<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    if threads == 0 {
        f()
    } else {
        with_thread_limit(threads, f)
    }
}

/// The partial sums of `run` over `chunks`, in chunk order, on at most the thread limit.
///
/// The calling thread takes chunks in order from a queue, and up to `threads − 1` helpers
/// from rayon's pool take them too once they start: a helper that starts late takes fewer
/// chunks (or none) instead of holding the call up. Each partial sum goes to its chunk's
/// place, so the result does not depend on who computed what.
fn map_chunks<C: Send>(chunks: Vec<C>, run: impl Fn(C) -> f64 + Sync) -> Vec<f64> {
    let limit = THREAD_LIMIT.with(|l| l.get());
    // Decided before asking rayon anything: a call that stays on this thread never starts
    // rayon's pool.
    if chunks.len() <= 1 || limit == 1 {
        return chunks.into_iter().map(run).collect();
    }
    let pool = rayon::current_num_threads();
    let threads = match limit {
        0 => pool,
        limit => limit.min(pool),
    };
    let helpers = threads.min(chunks.len()).saturating_sub(1);
    let sums = Mutex::new(vec![0.0; chunks.len()]);
    let queue = Mutex::new(chunks.into_iter().enumerate());
    run_with_helpers(helpers, &|| {
        let mut done = Vec::new();
        loop {
            // The queue's guard is dropped at the end of this statement, before the chunk runs.
            let next = lock(&queue).next();
            let Some((index, chunk)) = next else { break };
            done.push((index, run(chunk)));
        }
        let mut sums = lock(&sums);
        for (index, sum) in done {
            sums[index] = sum;
        }
    });
    sums.into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `Some` chunks of `out` of `size` elements, or `None` forever.
fn optional_chunks<T>(
    out: Option<&mut [T]>,
    size: usize,
) -> impl Iterator<Item = Option<&mut [T]>> {
    let mut chunks = out.map(|o| o.chunks_mut(size));
    std::iter::from_fn(move || Some(chunks.as_mut().and_then(|c| c.next())))
}

fn optional_input_chunks<T>(
    input: Option<&[T]>,
    size: usize,
) -> impl Iterator<Item = Option<&[T]>> {
    let mut chunks = input.map(|i| i.chunks(size));
    std::iter::from_fn(move || Some(chunks.as_mut().and_then(|c| c.next())))
}

/// Which outputs a sigmoid call fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigmoidOutputs {
    Loss,
    LossGrad,
    GradHess,
}

/// An elementwise objective with the driver's part of the options, in one element type.
pub(crate) struct Elementwise<T, O> {
    pub driver: DriverParams<T>,
    pub objective: O,
}

/// A validated elementwise call as the API describes it.
#[derive(Clone, Copy, Debug)]
pub struct ElementwiseCall<'a> {
    pub objective: Objective,
    /// One γ per class, for [`Objective::ClassFocal`].
    pub class_gamma: Option<&'a [f64]>,
    pub label_smoothing: f64,
    /// Multiplies the gradient: `1/divisor` of the reduction.
    pub grad_scale: f64,
    pub hessian_floor: Option<f64>,
}

/// The targets of an elementwise call (the API's three forms).
#[derive(Clone, Copy, Debug)]
pub enum SigmoidTargetSlices<'a, T> {
    Soft(&'a [T]),
    Labels(&'a [u8]),
    Classes { targets: &'a [i32], classes: usize },
}

/// The entry points of the kernels for one element type. Implemented for `f32` and `f64`
/// by functions that are not generic, so that the kernels are compiled once, in this crate,
/// and not again in every crate that calls the generic API (a release build of a caller
/// would otherwise compile every kernel of every objective and level itself: gigabytes of
/// compiler memory and minutes).
pub trait Kernels: Sized {
    /// [`elementwise`] in this element type: the exact sum of the weighted losses.
    #[allow(clippy::too_many_arguments)]
    fn elementwise(
        logits: &[Self],
        targets: SigmoidTargetSlices<'_, Self>,
        weights: Option<&[Self]>,
        call: &ElementwiseCall<'_>,
        outputs: SigmoidOutputs,
        loss: Option<&mut [Self]>,
        grad: Option<&mut [Self]>,
        hess: Option<&mut [Self]>,
    ) -> ExactSum;

    /// [`softmax`] in this element type: the exact sum of the position losses.
    #[allow(clippy::too_many_arguments)]
    fn softmax(
        logits: &[Self],
        targets: &[i32],
        classes: usize,
        spatial: usize,
        call: &SoftmaxCall<'_>,
        loss: Option<&mut [Self]>,
        grad: Option<&mut [Self]>,
        hess: Option<&mut [Self]>,
    ) -> ExactSum;
}

macro_rules! kernels_of {
    ($($t:ty),*) => {$(
        impl Kernels for $t {
            #[inline(never)]
            fn elementwise(
                logits: &[Self],
                targets: SigmoidTargetSlices<'_, Self>,
                weights: Option<&[Self]>,
                call: &ElementwiseCall<'_>,
                outputs: SigmoidOutputs,
                loss: Option<&mut [Self]>,
                grad: Option<&mut [Self]>,
                hess: Option<&mut [Self]>,
            ) -> ExactSum {
                elementwise(logits, targets, weights, call, outputs, loss, grad, hess)
            }

            #[inline(never)]
            fn softmax(
                logits: &[Self],
                targets: &[i32],
                classes: usize,
                spatial: usize,
                call: &SoftmaxCall<'_>,
                loss: Option<&mut [Self]>,
                grad: Option<&mut [Self]>,
                hess: Option<&mut [Self]>,
            ) -> ExactSum {
                softmax(logits, targets, classes, spatial, call, loss, grad, hess)
            }
        }
    )*};
}

kernels_of!(f32, f64);

/// Runs `call` over all elements with the kernel of its objective, and returns the sum of
/// the weighted losses.
#[allow(clippy::too_many_arguments)]
fn elementwise<T: Real>(
    logits: &[T],
    targets: SigmoidTargetSlices<'_, T>,
    weights: Option<&[T]>,
    call: &ElementwiseCall<'_>,
    outputs: SigmoidOutputs,
    loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
    hess: Option<&mut [T]>,
) -> ExactSum {
    let targets = match targets {
        SigmoidTargetSlices::Soft(y) => Targets::Soft(SoftTargets(y)),
        SigmoidTargetSlices::Labels(y) => Targets::Labels(LabelTargets(y)),
        SigmoidTargetSlices::Classes { targets, classes } => Targets::Classes(ClassTargets {
            targets,
            classes,
            first: 0,
        }),
    };
    let (smoothing, scale, floor) = (call.label_smoothing, call.grad_scale, call.hessian_floor);
    // The objective in `T`, and in `f64` for the chunks `T` cannot compute (`needs_wide`).
    macro_rules! with {
        ($narrow:expr, $wide:expr) => {{
            let call = Elementwise {
                driver: DriverParams::<T>::new(smoothing, scale, floor),
                objective: $narrow,
            };
            let wide = Elementwise {
                driver: DriverParams::<f64>::new(smoothing, scale, floor),
                objective: $wide,
            };
            sigmoid(
                logits, targets, weights, &call, &wide, outputs, loss, grad, hess,
            )
        }};
    }
    match call.objective {
        Objective::Focal { gamma, alpha } => {
            with!(
                Focal::<T>::new(gamma, alpha),
                Focal::<f64>::new(gamma, alpha)
            )
        }
        Objective::FocalStar { gamma, beta, alpha } => with!(
            FocalStar::<T>::new(gamma, beta, alpha),
            FocalStar::<f64>::new(gamma, beta, alpha)
        ),
        Objective::Poly1Focal {
            gamma,
            alpha,
            epsilon,
        } => with!(
            Poly1Focal {
                focal: Focal::<T>::new(gamma, alpha),
                epsilon: T::narrow(epsilon),
            },
            Poly1Focal {
                focal: Focal::<f64>::new(gamma, alpha),
                epsilon,
            }
        ),
        Objective::QualityFocal { beta } => {
            with!(QualityFocal::<T>::new(beta), QualityFocal::<f64>::new(beta))
        }
        Objective::Varifocal { alpha, gamma } => with!(
            Varifocal::<T>::new(alpha, gamma),
            Varifocal::<f64>::new(alpha, gamma)
        ),
        Objective::Asymmetric {
            gamma_positive,
            gamma_negative,
            margin,
        } => with!(
            Asymmetric::<T>::new(gamma_positive, gamma_negative, margin),
            Asymmetric::<f64>::new(gamma_positive, gamma_negative, margin)
        ),
        Objective::ReducedFocal {
            gamma,
            threshold,
            alpha,
        } => with!(
            ReducedFocal::<T>::new(gamma, threshold, alpha),
            ReducedFocal::<f64>::new(gamma, threshold, alpha)
        ),
        Objective::ClassFocal { alpha } => {
            let class_gamma = call.class_gamma.unwrap_or_default();
            let (gamma, gamma_low) = split_gammas::<T>(class_gamma);
            let (wide_gamma, wide_gamma_low) = split_gammas::<f64>(class_gamma);
            let zero_in = |gamma: &[T]| gamma.iter().any(|g| g.widen() == 0.0);
            with!(
                ClassFocal {
                    focal: Focal::<T>::without_gamma(alpha, zero_in(&gamma)),
                    gamma: &gamma,
                    gamma_low: &gamma_low,
                },
                ClassFocal {
                    focal: Focal::<f64>::without_gamma(alpha, wide_gamma.contains(&0.0)),
                    gamma: &wide_gamma,
                    gamma_low: &wide_gamma_low,
                }
            )
        }
    }
}

/// Each γ rounded to `T`, and the parts that rounding lost.
fn split_gammas<T: Real>(gamma: &[f64]) -> (Vec<T>, Vec<T>) {
    let rounded: Vec<T> = gamma.iter().map(|&g| T::narrow(g)).collect();
    let low = gamma
        .iter()
        .zip(&rounded)
        .map(|(&g, r)| T::narrow(g - r.widen()))
        .collect();
    (rounded, low)
}

/// Runs the elementwise kernel of `call.objective` over all elements and returns the sum of
/// the weighted losses.
///
/// `wide` is the same call in `f64`: an `f32` chunk whose sum is not finite is computed
/// again from its inputs widened to `f64` (see [`needs_wide`]).
#[allow(clippy::too_many_arguments)]
fn sigmoid<T: Real, O: ElementLoss<T>, W: ElementLoss<f64>>(
    logits: &[T],
    targets: Targets<'_, T>,
    weights: Option<&[T]>,
    call: &Elementwise<T, O>,
    wide: &Elementwise<f64, W>,
    outputs: SigmoidOutputs,
    loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
    hess: Option<&mut [T]>,
) -> ExactSum {
    let level = Dispatch::current();
    let soft = call.driver.needs_soft(&targets);
    let target_chunk = |index: usize| {
        let range = |len: usize| (index * CHUNK).min(len)..((index + 1) * CHUNK).min(len);
        match targets {
            Targets::Soft(SoftTargets(y)) => Targets::Soft(SoftTargets(&y[range(y.len())])),
            Targets::Labels(LabelTargets(y)) => Targets::Labels(LabelTargets(&y[range(y.len())])),
            Targets::Classes(classes) => Targets::Classes(ClassTargets {
                first: classes.first + index * CHUNK,
                ..classes
            }),
        }
    };
    let chunks: Vec<Chunk<'_, T>> = logits
        .chunks(CHUNK)
        .zip((0..).map(target_chunk))
        .zip(optional_input_chunks(weights, CHUNK))
        .zip(optional_chunks(loss, CHUNK))
        .zip(optional_chunks(grad, CHUNK))
        .zip(optional_chunks(hess, CHUNK))
        .map(
            |(((((logits, targets), weights), loss), grad), hess)| Chunk {
                logits,
                targets,
                weights,
                loss,
                grad,
                hess,
            },
        )
        .collect();
    let run = |mut chunk: Chunk<'_, T>| -> f64 {
        let sum = sigmoid_chunk(level, reborrow(&mut chunk), call, soft, outputs);
        if needs_wide::<T>(sum) {
            sigmoid_chunk_widened(level, chunk, wide, soft, outputs)
        } else {
            sum
        }
    };
    exact_sum(&map_chunks(chunks, run))
}

/// `f32` intermediates can overflow where the result does not (a huge weight or class α
/// times a loss, a partial sum of such losses); the `f64` kernel on the exactly widened
/// inputs is then the `f32` call's answer, rounded once. A chunk whose inputs hold NaN or
/// ±∞ takes this path as well, to the same results.
fn needs_wide<T: Real>(chunk_sum: f64) -> bool {
    T::MANTISSA_BITS < f64::MANTISSA_BITS && !chunk_sum.is_finite()
}

/// The chunk again, its outputs borrowed for one more run.
fn reborrow<'s, T: Real>(chunk: &'s mut Chunk<'_, T>) -> Chunk<'s, T> {
    Chunk {
        logits: chunk.logits,
        targets: chunk.targets,
        weights: chunk.weights,
        loss: chunk.loss.as_deref_mut(),
        grad: chunk.grad.as_deref_mut(),
        hess: chunk.hess.as_deref_mut(),
    }
}

fn sigmoid_chunk<T: Real, O: ElementLoss<T>>(
    level: Dispatch,
    chunk: Chunk<'_, T>,
    call: &Elementwise<T, O>,
    soft: bool,
    outputs: SigmoidOutputs,
) -> f64 {
    let (params, objective) = (&call.driver, &call.objective);
    macro_rules! kernel {
        ($soft:literal, $mode:ty) => {
            level.run(Kernel::<T, O, $mode, $soft>::new(chunk, params, objective))
        };
    }
    match (soft, outputs) {
        (false, SigmoidOutputs::Loss) => kernel!(false, LossOnly),
        (false, SigmoidOutputs::LossGrad) => kernel!(false, LossGrad),
        (false, SigmoidOutputs::GradHess) => kernel!(false, GradHess),
        (true, SigmoidOutputs::Loss) => kernel!(true, LossOnly),
        (true, SigmoidOutputs::LossGrad) => kernel!(true, LossGrad),
        (true, SigmoidOutputs::GradHess) => kernel!(true, GradHess),
    }
}

/// The chunk computed in `f64`, its outputs rounded to `T`.
fn sigmoid_chunk_widened<T: Real, W: ElementLoss<f64>>(
    level: Dispatch,
    chunk: Chunk<'_, T>,
    wide: &Elementwise<f64, W>,
    soft: bool,
    outputs: SigmoidOutputs,
) -> f64 {
    let logits = widened(chunk.logits);
    let soft_targets = match chunk.targets {
        Targets::Soft(SoftTargets(y)) => widened(y),
        _ => Vec::new(),
    };
    let targets = match chunk.targets {
        Targets::Soft(_) => Targets::Soft(SoftTargets(&soft_targets)),
        Targets::Labels(labels) => Targets::Labels(labels),
        Targets::Classes(classes) => Targets::Classes(classes),
    };
    let weights = chunk.weights.map(widened);
    let mut loss = chunk.loss.as_deref().map(widened);
    let mut grad = chunk.grad.as_deref().map(widened);
    let mut hess = chunk.hess.as_deref().map(widened);
    let wide_chunk = Chunk {
        logits: &logits,
        targets,
        weights: weights.as_deref(),
        loss: loss.as_deref_mut(),
        grad: grad.as_deref_mut(),
        hess: hess.as_deref_mut(),
    };
    let sum = sigmoid_chunk(level, wide_chunk, wide, soft, outputs);
    narrow_into(chunk.loss, loss);
    narrow_into(chunk.grad, grad);
    narrow_into(chunk.hess, hess);
    sum
}

fn widened<T: Real>(values: &[T]) -> Vec<f64> {
    values.iter().map(|v| v.widen()).collect()
}

fn narrow_into<T: Real>(out: Option<&mut [T]>, values: Option<Vec<f64>>) {
    if let (Some(out), Some(values)) = (out, values) {
        for (o, v) in out.iter_mut().zip(values) {
            *o = T::narrow(v);
        }
    }
}

/// The per-class parameters of a softmax call in one element type.
struct ClassParameters<T> {
    alpha: Vec<T>,
    gamma: Vec<T>,
    gamma_low: Vec<T>,
}

impl<T: Real> ClassParameters<T> {
    fn new(call: &SoftmaxCall<'_>, classes: usize) -> Self {
        let alpha = match call.alpha {
            SoftmaxAlpha::Off => vec![T::narrow(1.0); classes],
            SoftmaxAlpha::Uniform(a) => vec![T::narrow(*a); classes],
            SoftmaxAlpha::PerClass(alpha) => alpha.iter().map(|&a| T::narrow(a)).collect(),
        };
        let gammas: Vec<f64> = match call.class_gamma {
            Some(gamma) => gamma.to_vec(),
            None => vec![call.gamma; classes],
        };
        let (gamma, gamma_low) = split_gammas::<T>(&gammas);
        Self {
            alpha,
            gamma,
            gamma_low,
        }
    }

    /// The kernels' parameters in `T`.
    fn params(&self, call: &SoftmaxCall<'_>, classes: usize) -> softmax::Params<'_, T> {
        let ls = call.label_smoothing;
        // One γ for every class that is 0, 1, 2 or 3: q^γ by multiplication. A γ that rounds
        // to 0 in `T` is 0 (see `Focal::new` in src/kernels/focal.rs).
        let rounded = T::narrow(call.gamma).widen();
        let integer_gamma = match call.class_gamma {
            Some(_) => None,
            None => [0.0, 1.0, 2.0, 3.0]
                .iter()
                .position(|&g| g == call.gamma || (g == 0.0 && rounded == 0.0))
                .map(|g| g as u8),
        };
        let keep = 1.0 - ls;
        softmax::Params {
            class_gamma: &self.gamma,
            class_gamma_low: &self.gamma_low,
            integer_gamma,
            class_alpha: &self.alpha,
            smoothing: (ls > 0.0).then(|| (T::narrow(keep), T::narrow(ls / classes as f64))),
            poly: (call.epsilon != 0.0).then(|| softmax::Poly {
                epsilon: T::narrow(call.epsilon),
                keep: T::narrow(keep),
                offset: T::narrow(ls * (classes - 1) as f64 / classes as f64),
            }),
            grad_scale: T::narrow(call.grad_scale),
            ignore_index: call.ignore_index,
            hessian_floor: call.hessian_floor.map(T::narrow),
        }
    }
}

/// Runs the softmax kernel over `batch` samples of `classes × spatial` logits and returns the
/// sum of the position losses. Chunks hold whole samples (so that each chunk owns its part
/// of the gradient), about [`CHUNK`] logits each.
///
/// `f32` chunks whose sum is not finite are computed again in `f64` ([`needs_wide`]), and so
/// are `f32` rows of more than 2^24 classes, whose class indices `f32` cannot all tell apart.
#[allow(clippy::too_many_arguments)]
fn softmax<T: Real>(
    logits: &[T],
    targets: &[i32],
    classes: usize,
    spatial: usize,
    call: &SoftmaxCall<'_>,
    loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
    hess: Option<&mut [T]>,
) -> ExactSum {
    let sample = classes * spatial;
    if sample == 0 {
        return ExactSum::default();
    }
    let narrow = ClassParameters::<T>::new(call, classes);
    let params = &narrow.params(call, classes);
    let wide_parameters = ClassParameters::<f64>::new(call, classes);
    let wide = &wide_parameters.params(call, classes);
    let level = Dispatch::current();
    let samples_per_chunk = (CHUNK / sample).max(1);
    let logits_per_chunk = samples_per_chunk * sample;
    let positions_per_chunk = samples_per_chunk * spatial;
    let chunks: Vec<softmax::Chunk<'_, T>> = logits
        .chunks(logits_per_chunk)
        .zip(targets.chunks(positions_per_chunk))
        .zip(optional_chunks(loss, positions_per_chunk))
        .zip(optional_chunks(grad, logits_per_chunk))
        .zip(optional_chunks(hess, logits_per_chunk))
        .map(|((((logits, targets), loss), grad), hess)| softmax::Chunk {
            logits,
            targets,
            classes,
            spatial,
            loss,
            grad,
            hess,
        })
        .collect();
    let exact_indices = classes as f64 <= 2f64.powi(T::MANTISSA_BITS as i32 + 1);
    let run = |mut chunk: softmax::Chunk<'_, T>| {
        if exact_indices {
            let sum = softmax_chunk(level, reborrow_softmax(&mut chunk), params);
            if !needs_wide::<T>(sum) {
                return sum;
            }
        }
        let logits = widened(chunk.logits);
        let mut loss = chunk.loss.as_deref().map(widened);
        let mut grad = chunk.grad.as_deref().map(widened);
        let mut hess = chunk.hess.as_deref().map(widened);
        let wide_chunk = softmax::Chunk {
            logits: &logits,
            targets: chunk.targets,
            classes,
            spatial,
            loss: loss.as_deref_mut(),
            grad: grad.as_deref_mut(),
            hess: hess.as_deref_mut(),
        };
        let sum = softmax_chunk(level, wide_chunk, wide);
        narrow_into(chunk.loss, loss);
        narrow_into(chunk.grad, grad);
        narrow_into(chunk.hess, hess);
        sum
    };
    exact_sum(&map_chunks(chunks, run))
}

fn reborrow_softmax<'s, T>(chunk: &'s mut softmax::Chunk<'_, T>) -> softmax::Chunk<'s, T> {
    softmax::Chunk {
        logits: chunk.logits,
        targets: chunk.targets,
        classes: chunk.classes,
        spatial: chunk.spatial,
        loss: chunk.loss.as_deref_mut(),
        grad: chunk.grad.as_deref_mut(),
        hess: chunk.hess.as_deref_mut(),
    }
}

/// Rows of many classes are vectorized along the row; the rest, and every Hessian, across
/// positions.
fn softmax_chunk<T: Real>(
    level: Dispatch,
    chunk: softmax::Chunk<'_, T>,
    params: &softmax::Params<'_, T>,
) -> f64 {
    if chunk.spatial == 1 && chunk.classes >= ROW_KERNEL_MIN_CLASSES && chunk.hess.is_none() {
        level.run(RowsKernel { chunk, params })
    } else {
        level.run(softmax::Kernel { chunk, params })
    }
}

/// The exact sum of the chunks' partial sums: its rounded value depends neither on their
/// order nor on how a batch is split into calls at chunk boundaries (see `PartialLoss`).
fn exact_sum(values: &[f64]) -> ExactSum {
    let mut sum = ExactSum::default();
    for &value in values {
        sum.add(value);
    }
    sum
}
