//! The elementwise driver: one generic loop for every objective with one logit per element
//! (the sigmoid focal loss and its family). It owns everything but the element's maths —
//! the logits, the targets (soft, u8 labels, class indices) and weights, label smoothing, the
//! software pipeline, tails, the outputs and the width-independent sums — and asks an
//! [`ElementLoss`] for the loss and its derivatives of one vector of elements.
//!
//! Every objective here is a function of `σ(x)` and `softplus(x)`: the driver computes
//! `e = e^−|x|`, `ln(1 + e)` and `1/(1 + e)` ahead of the element (the long-latency half,
//! pipelined) and hands them over as [`Transcendentals`].

use super::slots::SLOTS;
use super::{SlotSum, lane_index};
use crate::simd::{Lanes, Real};
use core::marker::PhantomData;
use pulp::{Simd, WithSimd};

/// Which outputs a kernel computes (the sum of the losses is always returned).
pub(crate) trait Mode: Copy + Send + Sync + 'static {
    /// The gradient is computed.
    const GRAD: bool;
    /// The Hessian is computed.
    const HESS: bool;
}

/// Loss only (elementwise output optional).
#[derive(Clone, Copy, Debug)]
pub(crate) struct LossOnly;
/// Loss and gradient.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LossGrad;
/// Gradient and Hessian (and the loss).
#[derive(Clone, Copy, Debug)]
pub(crate) struct GradHess;

impl Mode for LossOnly {
    const GRAD: bool = false;
    const HESS: bool = false;
}
impl Mode for LossGrad {
    const GRAD: bool = true;
    const HESS: bool = false;
}
impl Mode for GradHess {
    const GRAD: bool = true;
    const HESS: bool = true;
}

/// One element's maths: from the logits, the targets and the objective's own parameters, the
/// loss and, as `M` asks, dL/dx and d²L/dx² of one vector of elements, unweighted and
/// unscaled. NaN logits must give NaN in every output.
pub(crate) trait ElementLoss<T: Real>: Sync + Sized {
    /// Hard targets `y ∈ {0, 1}` (the driver's transcendentals may have lost a NaN `x`).
    fn hard<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: T::V<S>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>>;

    /// Soft (or label-smoothed) targets `y ∈ [0, 1]`.
    fn soft<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: SoftTarget<T::V<S>>,
        t: Transcendentals<T::V<S>>,
    ) -> Element<T::V<S>>;

    /// [`Self::hard`] for elements of a `[rows, classes]` head (class-index targets): lane 0
    /// is of class `class`, the next lanes of the next classes (wrapping at `classes`). Only
    /// objectives with per-class parameters look at the classes.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn hard_of_classes<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: T::V<S>,
        t: Transcendentals<T::V<S>>,
        classes: LaneClasses,
    ) -> Element<T::V<S>> {
        let _ = classes;
        self.hard::<S, M>(v, x, y, t)
    }

    /// [`Self::soft`] for elements of a `[rows, classes]` head (label-smoothed class-index
    /// targets), as [`Self::hard_of_classes`].
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn soft_of_classes<S: Simd, M: Mode>(
        &self,
        v: Lanes<T, S>,
        x: T::V<S>,
        y: SoftTarget<T::V<S>>,
        t: Transcendentals<T::V<S>>,
        classes: LaneClasses,
    ) -> Element<T::V<S>> {
        let _ = classes;
        self.soft::<S, M>(v, x, y, t)
    }

    /// The `e` of the [`Transcendentals`] the element is given for logit `x`: `e^−|x|`,
    /// unless the objective's maths are of another quantity that the logit alone determines.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn exponential<S: Simd, const SOFT: bool>(&self, v: Lanes<T, S>, x: T::V<S>) -> T::V<S> {
        exponential::<T, S, SOFT>(v, x)
    }

    /// Runs `run` with this objective, or with an equivalent one that is faster for the
    /// targets (`R::SOFT`) and gives the same bits (focal loss at γ = 2).
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn specialize<R: RunObjective<T>>(&self, run: R) -> R::Output {
        run.run(self)
    }
}

/// The classes of a vector's lanes in a `[rows, classes]` head: lane `i` is of class
/// `(first + i) mod classes`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LaneClasses {
    pub first: usize,
    pub classes: usize,
}

/// What [`ElementLoss::specialize`] runs: generic over the objective it is given.
pub(crate) trait RunObjective<T: Real> {
    type Output;
    /// Whether the loop takes the soft-target arithmetic. A constant, so that a form an
    /// objective picks only for hard targets is not compiled for soft ones (`if R::SOFT`).
    const SOFT: bool;
    fn run<O: ElementLoss<T>>(self, objective: &O) -> Self::Output;
}

/// A soft target as the objectives take it: `y`, `1 − y` and `1 − 2y`, each formed from the
/// raw target before label smoothing (`y·keep + add` and `(1 − y)·keep + add` alike, and
/// `(1 − 2y)·keep`): formed after it, `1 − y` would cancel near `y = 1` and `1 − 2y` near ½.
#[derive(Clone, Copy)]
pub(crate) struct SoftTarget<V> {
    pub y: V,
    pub one_minus_y: V,
    pub one_minus_2y: V,
    /// What rounding `one_minus_2y` lost (for the objectives whose maths multiply it by a
    /// large logit; the others never read it, and the compiler drops it).
    pub one_minus_2y_low: V,
}

/// The targets of one chunk: one of the three sources the kernel has a loop for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Targets<'a, T> {
    Soft(SoftTargets<'a, T>),
    Labels(LabelTargets<'a>),
    Classes(ClassTargets<'a>),
}

/// The driver's part of a call's options, converted once to the element type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DriverParams<T> {
    /// Label smoothing: `y·keep + add`.
    pub smoothing: Option<(T, T)>,
    /// The part of `keep = 1 − ls` that rounding it to `T` lost.
    pub keep_low: T,
    /// Multiplies the gradient: `1/divisor` of the reduction.
    pub grad_scale: T,
    pub hessian_floor: Option<T>,
}

impl<T: Real> DriverParams<T> {
    pub fn new(label_smoothing: f64, grad_scale: f64, hessian_floor: Option<f64>) -> Self {
        Self {
            smoothing: (label_smoothing > 0.0).then(|| {
                (
                    T::narrow(1.0 - label_smoothing),
                    T::narrow(label_smoothing / 2.0),
                )
            }),
            keep_low: T::narrow((1.0 - label_smoothing) - T::narrow(1.0 - label_smoothing).widen()),
            grad_scale: T::narrow(grad_scale),
            hessian_floor: hessian_floor.map(T::narrow),
        }
    }

    /// Whether the soft-target arithmetic is needed (soft targets, or smoothing).
    pub fn needs_soft(&self, targets: &Targets<'_, T>) -> bool {
        matches!(targets, Targets::Soft(_)) || self.smoothing.is_some()
    }
}

/// One chunk of a sigmoid call: inputs and the matching slices of the outputs.
pub(crate) struct Chunk<'a, T> {
    pub logits: &'a [T],
    pub targets: Targets<'a, T>,
    pub weights: Option<&'a [T]>,
    /// Per-element losses (reduction `None`).
    pub loss: Option<&'a mut [T]>,
    pub grad: Option<&'a mut [T]>,
    pub hess: Option<&'a mut [T]>,
}

/// The kernel as a pulp operation for objective `O` and outputs `M`; returns the sum of the
/// chunk's weighted losses. `SOFT`: the soft-target arithmetic for every kind of target
/// (label smoothing); soft targets always take it.
pub(crate) struct Kernel<'a, 'p, T, O, M, const SOFT: bool> {
    pub chunk: Chunk<'a, T>,
    pub params: &'p DriverParams<T>,
    pub objective: &'p O,
    pub mode: PhantomData<M>,
}

impl<'a, 'p, T, O, M, const SOFT: bool> Kernel<'a, 'p, T, O, M, SOFT> {
    pub fn new(chunk: Chunk<'a, T>, params: &'p DriverParams<T>, objective: &'p O) -> Self {
        Self {
            chunk,
            params,
            objective,
            mode: PhantomData,
        }
    }
}

impl<T: Real, O: ElementLoss<T>, M: Mode, const SOFT: bool> WithSimd
    for Kernel<'_, '_, T, O, M, SOFT>
{
    type Output = f64;

    /// Picks the loop for the kind of targets and lets the objective pick its fastest form
    /// once, so that the loop itself has no branches on them.
    ///
    /// Soft targets and the two kinds of hard targets each have a loop of their own; label
    /// smoothing of hard targets (labels or class indices) shares one loop that picks its
    /// target load per vector, a branch the CPU predicts every time. Every loop is compiled
    /// for every objective form, output, level and element type, and compile time and
    /// compiler memory grow with their number: four kinds of loop instead of five. (One
    /// loop for all soft arithmetic, soft targets included, would make three, but costs the
    /// soft-target loops up to 18 % (ASL), where the mask of ignored lanes is no longer a
    /// constant.)
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        let Kernel {
            chunk,
            params,
            objective,
            ..
        } = self;
        let targets = chunk.targets;
        // `if SOFT`, a constant condition alone: a hard kernel never compiles the smoothing
        // loop, and a smoothing kernel never compiles the hard loops.
        match targets {
            Targets::Soft(y) => {
                specialized::<T, S, O, _, M, true>(simd, chunk, params, objective, y)
            }
            Targets::Labels(y) => {
                if SOFT {
                    specialized::<T, S, O, _, M, true>(simd, chunk, params, objective, targets)
                } else {
                    specialized::<T, S, O, _, M, false>(simd, chunk, params, objective, y)
                }
            }
            Targets::Classes(y) => {
                if SOFT {
                    specialized::<T, S, O, _, M, true>(simd, chunk, params, objective, targets)
                } else {
                    specialized::<T, S, O, _, M, false>(simd, chunk, params, objective, y)
                }
            }
        }
    }
}

/// The loop for targets `Y`, with the objective in the form it picks for them.
#[cfg_attr(not(debug_assertions), inline(always))]
fn specialized<
    T: Real,
    S: Simd,
    O: ElementLoss<T>,
    Y: TargetSource<T>,
    M: Mode,
    const SOFT: bool,
>(
    simd: S,
    chunk: Chunk<'_, T>,
    params: &DriverParams<T>,
    objective: &O,
    targets: Y,
) -> f64 {
    let run = Vectorize::<T, S, Y, M, SOFT> {
        simd,
        chunk,
        params,
        targets,
        mode: PhantomData,
    };
    objective.specialize(run)
}

/// Runs the loop for the objective it is given as its own function at the level's target
/// features (`vectorize`), not inlined into the dispatch.
struct Vectorize<'a, 'p, T, S, Y, M, const SOFT: bool> {
    simd: S,
    chunk: Chunk<'a, T>,
    params: &'p DriverParams<T>,
    targets: Y,
    mode: PhantomData<M>,
}

impl<T: Real, S: Simd, Y: TargetSource<T>, M: Mode, const SOFT: bool> RunObjective<T>
    for Vectorize<'_, '_, T, S, Y, M, SOFT>
{
    type Output = f64;
    const SOFT: bool = SOFT;

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn run<O: ElementLoss<T>>(self, objective: &O) -> f64 {
        vectorized(
            self.simd,
            Loop::<T, O, Y, M, SOFT> {
                chunk: self.chunk,
                params: self.params,
                objective,
                targets: self.targets,
                mode: PhantomData,
            },
        )
    }
}

/// Each loop is a function of its own at every level. pulp's `vectorize` is one at the x86
/// levels (it enables the target features), but the scalar level's is inlined: without this
/// boundary the scalar loops of every kind of target, output and objective form piled up
/// in one caller (`sigmoid_chunk`), a function the optimiser takes in whole.
#[inline(never)]
fn vectorized<S: Simd, Op: WithSimd>(simd: S, op: Op) -> Op::Output {
    simd.vectorize(op)
}

/// The loop over a chunk for one objective and kind of targets; returns the sum of the
/// chunk's weighted losses.
struct Loop<'a, 'p, T, O, Y, M, const SOFT: bool> {
    chunk: Chunk<'a, T>,
    params: &'p DriverParams<T>,
    objective: &'p O,
    targets: Y,
    mode: PhantomData<M>,
}

impl<T: Real, O: ElementLoss<T>, Y: TargetSource<T>, M: Mode, const SOFT: bool> WithSimd
    for Loop<'_, '_, T, O, Y, M, SOFT>
{
    type Output = f64;

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        let Loop {
            chunk,
            params,
            objective,
            targets,
            ..
        } = self;
        run::<T, S, O, Y, M, SOFT>(simd, chunk, params, objective, targets)
    }
}

#[cfg_attr(not(debug_assertions), inline(always))]
fn run<T: Real, S: Simd, O: ElementLoss<T>, Y: TargetSource<T>, M: Mode, const SOFT: bool>(
    simd: S,
    chunk: Chunk<'_, T>,
    params: &DriverParams<T>,
    objective: &O,
    targets: Y,
) -> f64 {
    let v = Lanes::<T, S>::new(simd);
    let lanes = v.lanes();
    let Chunk {
        logits,
        weights,
        loss,
        grad,
        hess,
        ..
    } = chunk;
    let mut outputs = Outputs { loss, grad, hess };
    let n = logits.len();
    let mut sum = SlotSum::<T, S>::new(v);
    // Whole vectors, two at a time, software-pipelined. A vector's work is one long
    // dependency chain (about 100 cycles: exp, then the division, then the gradient), and
    // the CPU's scheduler holds too few waiting instructions to overlap enough of them by
    // itself; started a step or two earlier in program order, each stage finds its inputs
    // ready. A multiple of the block, so that the masked remainder starts on a block
    // boundary.
    let step = 2 * lanes;
    let fast_end = n - n % step.max(SLOTS);
    if fast_end > 0 {
        // Three stages: exponentials two steps ahead, their logarithms and reciprocals one
        // step ahead, the rest now. (The last steps recompute their own pairs: no branch.)
        let last = fast_end - step;
        let (e0, e1) = exponentials_of_pair::<T, S, O, SOFT>(v, objective, logits, 0);
        let mut t0 = transcendentals_of_exponential(v, e0);
        let mut t1 = transcendentals_of_exponential(v, e1);
        let (mut next_e0, mut next_e1) =
            exponentials_of_pair::<T, S, O, SOFT>(v, objective, logits, step.min(last));
        for start in (0..fast_end).step_by(step) {
            let (after_e0, after_e1) = exponentials_of_pair::<T, S, O, SOFT>(
                v,
                objective,
                logits,
                (start + 2 * step).min(last),
            );
            let next_t0 = transcendentals_of_exponential(v, next_e0);
            let next_t1 = transcendentals_of_exponential(v, next_e1);
            let second = start + lanes;
            // Loaded again rather than kept from the previous step: AVX2 has 16 registers.
            let x0 = v.load(&logits[start..second]);
            let x1 = v.load(&logits[second..second + lanes]);
            let (y0, active0) = targets.load(v, start, lanes, None);
            let (y1, active1) = targets.load(v, second, lanes, None);
            let (c0, c1) = (targets.classes(start), targets.classes(second));
            let d0 = element::<T, S, O, M, SOFT>(v, params, objective, x0, y0, t0, c0);
            let d1 = element::<T, S, O, M, SOFT>(v, params, objective, x1, y1, t1, c1);
            let w0 = load_weights(v, weights, start, lanes);
            let w1 = load_weights(v, weights, second, lanes);
            let group0 = (start % SLOTS) / lanes;
            let group1 = (second % SLOTS) / lanes;
            finish(
                v,
                params,
                d0,
                active0,
                w0,
                group0,
                start,
                lanes,
                &mut outputs,
                &mut sum,
            );
            finish(
                v,
                params,
                d1,
                active1,
                w1,
                group1,
                second,
                lanes,
                &mut outputs,
                &mut sum,
            );
            (t0, t1) = (next_t0, next_t1);
            (next_e0, next_e1) = (after_e0, after_e1);
        }
    }
    let lane_index = lane_index(v);
    for block in (fast_end..n).step_by(SLOTS) {
        // Every group of the block runs, also past the end (as zeros), so that each slot
        // of the sum sees the same additions at every vector width.
        for group in 0..SLOTS / lanes {
            let start = (block + group * lanes).min(n);
            let len = (n - start).min(lanes);
            let in_range = v.lt(lane_index, v.splat(T::narrow(len as f64)));
            let (y, active) = targets.load(v, start, len, Some(in_range));
            let x = v.load(&logits[start..start + len]);
            let weight = load_weights(v, weights, start, len);
            let t = transcendentals_of_exponential(v, objective.exponential::<S, SOFT>(v, x));
            let classes = targets.classes(start);
            let d = element::<T, S, O, M, SOFT>(v, params, objective, x, y, t, classes);
            finish(
                v,
                params,
                d,
                active,
                weight,
                group,
                start,
                len,
                &mut outputs,
                &mut sum,
            );
        }
    }
    sum.total(v)
}

/// One vector of elements through the objective: soft targets (smoothed here) or hard ones,
/// with the lanes' classes where the targets are class indices.
#[cfg_attr(not(debug_assertions), inline(always))]
fn element<T: Real, S: Simd, O: ElementLoss<T>, M: Mode, const SOFT: bool>(
    v: Lanes<T, S>,
    params: &DriverParams<T>,
    objective: &O,
    x: T::V<S>,
    y: T::V<S>,
    t: Transcendentals<T::V<S>>,
    classes: Option<LaneClasses>,
) -> Element<T::V<S>> {
    if !SOFT {
        return match classes {
            Some(classes) => objective.hard_of_classes::<S, M>(v, x, y, t, classes),
            None => objective.hard::<S, M>(v, x, y, t),
        };
    }
    let one = v.c(1.0);
    let one_minus_y = v.sub(one, y);
    let one_minus_2y = v.fma(v.c(-2.0), y, one);
    // 1 − 2y is exact for y ≥ 1/4; below, 1 − (1 − 2y) is, and gives the rounding error.
    let raw_low = v.select(
        v.lt(y, v.c(0.25)),
        v.fma(v.c(-2.0), y, v.sub(one, one_minus_2y)),
        v.c(0.0),
    );
    let target = match params.smoothing {
        Some((keep, add)) => {
            let (keep, add) = (v.splat(keep), v.splat(add));
            let smoothed = v.mul(one_minus_2y, keep);
            let low = v.fma(
                one_minus_2y,
                v.splat(params.keep_low),
                v.fma(raw_low, keep, v.fma(one_minus_2y, keep, v.neg(smoothed))),
            );
            SoftTarget {
                y: v.fma(y, keep, add),
                one_minus_y: v.fma(one_minus_y, keep, add),
                one_minus_2y: smoothed,
                one_minus_2y_low: low,
            }
        }
        None => SoftTarget {
            y,
            one_minus_y,
            one_minus_2y,
            one_minus_2y_low: raw_low,
        },
    };
    match classes {
        Some(classes) => objective.soft_of_classes::<S, M>(v, x, target, t, classes),
        None => objective.soft::<S, M>(v, x, target, t),
    }
}

/// `value` in the active lanes, 0 in the others (padding, ignored elements).
#[cfg_attr(not(debug_assertions), inline(always))]
fn only_active<T: Real, S: Simd>(
    v: Lanes<T, S>,
    active: Option<T::M<S>>,
    value: T::V<S>,
) -> T::V<S> {
    match active {
        Some(active) => v.select(active, value, v.c(0.0)),
        None => value,
    }
}

/// The weights of lanes `start .. start + len`, if any.
#[cfg_attr(not(debug_assertions), inline(always))]
fn load_weights<T: Real, S: Simd>(
    v: Lanes<T, S>,
    weights: Option<&[T]>,
    start: usize,
    len: usize,
) -> Option<T::V<S>> {
    match weights {
        Some(w) => Some(v.load(&w[start..start + len])),
        None => None,
    }
}

/// The optional outputs of a chunk.
struct Outputs<'a, T> {
    loss: Option<&'a mut [T]>,
    grad: Option<&'a mut [T]>,
    hess: Option<&'a mut [T]>,
}

/// Weights, masks, sums and stores the results of the `len` lanes at `start`.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(debug_assertions), inline(always))]
fn finish<T: Real, S: Simd>(
    v: Lanes<T, S>,
    params: &DriverParams<T>,
    d: Element<T::V<S>>,
    active: Option<T::M<S>>,
    weight: Option<T::V<S>>,
    group: usize,
    start: usize,
    len: usize,
    outputs: &mut Outputs<'_, T>,
    sum: &mut SlotSum<T, S>,
) {
    let end = start + len;
    let element_loss = only_active(v, active, weighted(v, weight, d.loss));
    sum.add(v, group, element_loss);
    if let Some(out) = outputs.loss.as_deref_mut() {
        v.store(&mut out[start..end], element_loss);
    }
    if let Some(out) = outputs.grad.as_deref_mut() {
        let g = v.mul(weighted(v, weight, d.grad), v.splat(params.grad_scale));
        v.store(&mut out[start..end], only_active(v, active, g));
    }
    if let Some(out) = outputs.hess.as_deref_mut() {
        let h = match params.hessian_floor {
            // Comparisons with NaN are false: NaN stays NaN.
            Some(floor) => {
                let floor = v.splat(floor);
                v.select(v.lt(d.hess, floor), floor, d.hess)
            }
            None => d.hess,
        };
        v.store(
            &mut out[start..end],
            only_active(v, active, weighted(v, weight, h)),
        );
    }
}

/// `weight·value` (0 where the weight is 0, even for an infinite value), or `value`.
/// (Functions, not closures, in the kernels: a closure that is not inlined is compiled
/// without the SIMD level's target features, and every vector operation in it becomes a call.)
#[cfg_attr(not(debug_assertions), inline(always))]
fn weighted<T: Real, S: Simd>(v: Lanes<T, S>, weight: Option<T::V<S>>, value: T::V<S>) -> T::V<S> {
    match weight {
        Some(w) => v.zero_times(w, value),
        None => value,
    }
}

/// Where a chunk's targets come from. `load` gives the targets of lanes
/// `start .. start + len` and which lanes count (in range and not ignored; `None`: all).
pub(crate) trait TargetSource<T: Real>: Copy {
    fn load<S: Simd>(
        self,
        v: Lanes<T, S>,
        start: usize,
        len: usize,
        in_range: Option<T::M<S>>,
    ) -> (T::V<S>, Option<T::M<S>>);

    /// The classes of the lanes at `start`, for targets that are class indices.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn classes(self, start: usize) -> Option<LaneClasses> {
        let _ = start;
        None
    }
}

/// Any of the three, chosen per vector: the source of the label-smoothing loop.
impl<T: Real> TargetSource<T> for Targets<'_, T> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn load<S: Simd>(
        self,
        v: Lanes<T, S>,
        start: usize,
        len: usize,
        in_range: Option<T::M<S>>,
    ) -> (T::V<S>, Option<T::M<S>>) {
        match self {
            Targets::Soft(y) => y.load(v, start, len, in_range),
            Targets::Labels(y) => y.load(v, start, len, in_range),
            Targets::Classes(y) => y.load(v, start, len, in_range),
        }
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn classes(self, start: usize) -> Option<LaneClasses> {
        match self {
            Targets::Classes(y) => TargetSource::<T>::classes(y, start),
            _ => None,
        }
    }
}

/// Soft targets `y ∈ [0, 1]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SoftTargets<'a, T>(pub &'a [T]);

impl<T: Real> TargetSource<T> for SoftTargets<'_, T> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn load<S: Simd>(
        self,
        v: Lanes<T, S>,
        start: usize,
        len: usize,
        in_range: Option<T::M<S>>,
    ) -> (T::V<S>, Option<T::M<S>>) {
        (v.load(&self.0[start..start + len]), in_range)
    }
}

/// Hard labels, one byte each.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LabelTargets<'a>(pub &'a [u8]);

impl<T: Real> TargetSource<T> for LabelTargets<'_> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn load<S: Simd>(
        self,
        v: Lanes<T, S>,
        start: usize,
        len: usize,
        in_range: Option<T::M<S>>,
    ) -> (T::V<S>, Option<T::M<S>>) {
        let mut y = [T::default(); SLOTS];
        let lanes = v.lanes();
        if len == lanes {
            // A fixed trip count: the compiler widens the bytes with vector instructions.
            for (out, &label) in y[..lanes].iter_mut().zip(&self.0[start..start + lanes]) {
                *out = T::from_u8(label);
            }
        } else {
            for (out, &label) in y.iter_mut().zip(&self.0[start..start + len]) {
                *out = T::from_u8(label);
            }
        }
        (v.load(&y), in_range)
    }
}

/// Class-index targets of a `[rows, classes]` head; `first` is the index of the chunk's
/// first element in the whole head.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClassTargets<'a> {
    pub targets: &'a [i32],
    pub classes: usize,
    pub first: usize,
}

impl<T: Real> TargetSource<T> for ClassTargets<'_> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn load<S: Simd>(
        self,
        v: Lanes<T, S>,
        start: usize,
        len: usize,
        in_range: Option<T::M<S>>,
    ) -> (T::V<S>, Option<T::M<S>>) {
        let mut y = [T::default(); SLOTS];
        let mut counted = [T::default(); SLOTS];
        let element = self.first + start;
        let (mut row, mut class) = (element / self.classes, element % self.classes);
        for j in 0..len {
            let target = self.targets[row];
            if target >= 0 {
                counted[j] = T::narrow(1.0);
                if target as usize == class {
                    y[j] = T::narrow(1.0);
                }
            }
            class += 1;
            if class == self.classes {
                class = 0;
                row += 1;
            }
        }
        let counted = v.eq(v.load(&counted), v.c(1.0));
        let active = match in_range {
            Some(in_range) => v.and(in_range, counted),
            None => counted,
        };
        (v.load(&y), Some(active))
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn classes(self, start: usize) -> Option<LaneClasses> {
        Some(LaneClasses {
            first: (self.first + start) % self.classes,
            classes: self.classes,
        })
    }
}

/// What the sigmoid losses compute of a logit alone: `e = e^−|x|`, `l = ln(1 + e)` and
/// `r = 1/(1 + e)`, the long-latency first half of an element (see `run`).
#[derive(Clone, Copy)]
pub(crate) struct Transcendentals<V> {
    pub e: V,
    pub l: V,
    pub r: V,
}

/// `e^−|x|`. For hard targets it is finite for a NaN `x` (the objective's hard path patches
/// NaN lanes itself, and a `max` clamp is cheaper than a blend); soft targets keep the NaN.
#[cfg_attr(not(debug_assertions), inline(always))]
fn exponential<T: Real, S: Simd, const SOFT: bool>(v: Lanes<T, S>, x: T::V<S>) -> T::V<S> {
    let minus_abs_x = v.bit_or(x, v.c(-0.0));
    if SOFT {
        v.exp_nonpositive(minus_abs_x, None)
    } else {
        v.exp_nonpositive_not_nan(minus_abs_x)
    }
}

/// The objective's [`ElementLoss::exponential`]s of the two vectors at `start`.
#[cfg_attr(not(debug_assertions), inline(always))]
fn exponentials_of_pair<T: Real, S: Simd, O: ElementLoss<T>, const SOFT: bool>(
    v: Lanes<T, S>,
    objective: &O,
    logits: &[T],
    start: usize,
) -> (T::V<S>, T::V<S>) {
    let lanes = v.lanes();
    let second = start + lanes;
    (
        objective.exponential::<S, SOFT>(v, v.load(&logits[start..second])),
        objective.exponential::<S, SOFT>(v, v.load(&logits[second..second + lanes])),
    )
}

/// The [`Transcendentals`] of `e = e^−|x|`.
#[cfg_attr(not(debug_assertions), inline(always))]
fn transcendentals_of_exponential<T: Real, S: Simd>(
    v: Lanes<T, S>,
    e: T::V<S>,
) -> Transcendentals<T::V<S>> {
    let (l, r) = v.ln_1p_unit_and_reciprocal(e);
    Transcendentals { e, l, r }
}

/// The loss and its derivatives for one vector of elements (unweighted, unscaled).
#[derive(Clone, Copy)]
pub(crate) struct Element<V> {
    pub loss: V,
    pub grad: V,
    pub hess: V,
}
