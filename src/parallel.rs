//! Chunking over rayon and the deterministic reduction.
//!
//! Work is cut into chunks of a fixed number of elements (never a function of the thread
//! count), each chunk returns its partial sum, and the partial sums are combined in chunk
//! order: the result has the same bits for any number of threads.

use crate::kernels::OrderedSum;
use crate::kernels::sigmoid::{
    Chunk, ClassTargets, GRAD_HESS, Kernel, LOSS, LOSS_GRAD, LabelTargets, Params, SoftTargets,
    Targets,
};
use crate::kernels::softmax;
use crate::kernels::softmax_rows::RowsKernel;
use crate::simd::Real;
use crate::simd::dispatch::Dispatch;
use rayon::prelude::*;

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

/// The partial sums of `run` over `chunks`, in chunk order, on at most the thread limit.
fn map_chunks<C: Send>(chunks: Vec<C>, run: impl Fn(C) -> f64 + Sync + Send) -> Vec<f64> {
    let limit = THREAD_LIMIT.with(|l| l.get());
    if chunks.len() <= 1 || limit == 1 {
        return chunks.into_iter().map(run).collect();
    }
    if limit == 0 || limit >= rayon::current_num_threads() {
        return chunks.into_par_iter().map(run).collect();
    }
    // At most `limit` tasks, each a contiguous run of chunks.
    let per_task = chunks.len().div_ceil(limit);
    let mut tasks: Vec<Vec<C>> = Vec::with_capacity(limit);
    for chunk in chunks {
        match tasks.last_mut() {
            Some(task) if task.len() < per_task => task.push(chunk),
            _ => tasks.push(vec![chunk]),
        }
    }
    tasks
        .into_par_iter()
        .map(|task| task.into_iter().map(&run).collect::<Vec<f64>>())
        .collect::<Vec<_>>()
        .concat()
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
pub(crate) enum SigmoidOutputs {
    Loss,
    LossGrad,
    GradHess,
}

/// Runs the sigmoid kernel over all elements and returns the sum of the weighted losses.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sigmoid<T: Real>(
    level: Dispatch,
    logits: &[T],
    targets: Targets<'_, T>,
    weights: Option<&[T]>,
    params: &Params<T>,
    outputs: SigmoidOutputs,
    loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
    hess: Option<&mut [T]>,
) -> f64 {
    let soft = params.needs_soft(&targets);
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
    let run = |chunk: Chunk<'_, T>| -> f64 {
        macro_rules! kernel {
            ($soft:literal, $mode:expr) => {
                level.run(Kernel::<T, $soft, { $mode }> { chunk, params })
            };
        }
        match (soft, outputs) {
            (false, SigmoidOutputs::Loss) => kernel!(false, LOSS),
            (false, SigmoidOutputs::LossGrad) => kernel!(false, LOSS_GRAD),
            (false, SigmoidOutputs::GradHess) => kernel!(false, GRAD_HESS),
            (true, SigmoidOutputs::Loss) => kernel!(true, LOSS),
            (true, SigmoidOutputs::LossGrad) => kernel!(true, LOSS_GRAD),
            (true, SigmoidOutputs::GradHess) => kernel!(true, GRAD_HESS),
        }
    };
    ordered_sum(&map_chunks(chunks, run))
}

/// Runs the softmax kernel over `batch` samples of `classes × spatial` logits and returns the
/// sum of the position losses. Chunks hold whole samples (so that each chunk owns its part
/// of the gradient), about [`CHUNK`] logits each.
#[allow(clippy::too_many_arguments)]
pub(crate) fn softmax<T: Real>(
    level: Dispatch,
    logits: &[T],
    targets: &[i32],
    classes: usize,
    spatial: usize,
    params: &softmax::Params<'_, T>,
    loss: Option<&mut [T]>,
    grad: Option<&mut [T]>,
) -> f64 {
    let sample = classes * spatial;
    if sample == 0 {
        return 0.0;
    }
    let samples_per_chunk = (CHUNK / sample).max(1);
    let logits_per_chunk = samples_per_chunk * sample;
    let positions_per_chunk = samples_per_chunk * spatial;
    let chunks: Vec<softmax::Chunk<'_, T>> = logits
        .chunks(logits_per_chunk)
        .zip(targets.chunks(positions_per_chunk))
        .zip(optional_chunks(loss, positions_per_chunk))
        .zip(optional_chunks(grad, logits_per_chunk))
        .map(|(((logits, targets), loss), grad)| softmax::Chunk {
            logits,
            targets,
            classes,
            spatial,
            loss,
            grad,
        })
        .collect();
    // Rows of many classes are vectorized along the row; the rest across positions.
    let along_rows = spatial == 1 && classes >= ROW_KERNEL_MIN_CLASSES;
    let run = |chunk| {
        if along_rows {
            level.run(RowsKernel { chunk, params })
        } else {
            level.run(softmax::Kernel { chunk, params })
        }
    };
    ordered_sum(&map_chunks(chunks, run))
}

/// The chunks' partial sums added in chunk order.
fn ordered_sum(values: &[f64]) -> f64 {
    let mut sum = OrderedSum::default();
    for &value in values {
        sum.add(value);
    }
    sum.total()
}
