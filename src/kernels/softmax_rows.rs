//! Softmax focal loss for row-major `[N, C]` with many classes: vectorized over the classes
//! of one row. Sums over a row go through the 16 fixed slots of [`SlotSum`], so a row's
//! result does not depend on the vector width; the per-row scalars (Z, CE, q^γ, …) are
//! computed on broadcast vectors with the same vector math as everything else.

use super::slots::SLOTS;
use super::softmax::{
    Chunk, OneHotScan, Params, SmoothedTerms, TargetTerms, focal_factor, poly_term, shifted_exp,
};
use super::{Gamma, OrderedSum, SlotSum, SlotSumWithoutLargest, lane_index};
use crate::simd::{Lanes, Real};
use pulp::{Simd, WithSimd};

pub(crate) struct RowsKernel<'a, 'p, T> {
    pub chunk: Chunk<'a, T>,
    pub params: &'p Params<'p, T>,
}

/// The vectors of a row of `classes` values in blocks of 16 — every group of every block, past
/// the end as empty vectors, as the slot sums need: `(group, start, len)`. An iterator rather
/// than a closure-taking helper: closures that are not inlined lose the SIMD target features.
struct Vectors {
    classes: usize,
    lanes: usize,
    block: usize,
    group: usize,
}

impl Vectors {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn new(classes: usize, lanes: usize) -> Self {
        Self {
            classes,
            lanes,
            block: 0,
            group: 0,
        }
    }
}

impl Iterator for Vectors {
    type Item = (usize, usize, usize);

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn next(&mut self) -> Option<Self::Item> {
        if self.block >= self.classes {
            return None;
        }
        let group = self.group;
        let start = (self.block + group * self.lanes).min(self.classes);
        let len = (start + self.lanes).min(self.classes) - start;
        self.group += 1;
        if self.group == SLOTS / self.lanes {
            self.group = 0;
            self.block += SLOTS;
        }
        Some((group, start, len))
    }
}

impl<T: Real> WithSimd for RowsKernel<'_, '_, T> {
    type Output = f64;

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        let v = Lanes::<T, S>::new(simd);
        let Chunk {
            logits,
            targets,
            classes,
            mut loss,
            mut grad,
            ..
        } = self.chunk;
        let params = self.params;
        let mut sum = OrderedSum::default();
        // Rows go in groups of one per lane: each row's exponentials are scanned alone,
        // then the per-row terms (Z, CE, q^γ, the slope: a long chain of dependent
        // operations) of the whole group are computed at once, one row per lane, before
        // each row's gradient is scaled. A lane's result never depends on the other lanes',
        // so every row has the bits it had when its terms were computed on their own.
        let lanes = v.lanes();
        for (group, group_targets) in targets.chunks(lanes).enumerate() {
            let first_row = group * lanes;
            let mut scans = HardScans::<T>::default();
            let mut row_losses = [0.0; SLOTS];
            for (i, &target) in group_targets.iter().enumerate() {
                let r = first_row + i;
                let row = &logits[r * classes..(r + 1) * classes];
                let grad_row = grad
                    .as_deref_mut()
                    .map(|g| &mut g[r * classes..(r + 1) * classes]);
                if target == params.ignore_index {
                    if let Some(g) = grad_row {
                        g.fill(T::default());
                    }
                } else if params.smoothing.is_some() {
                    row_losses[i] = smoothed_row(v, params, row, target as usize, grad_row);
                } else {
                    scans.add(v, params, i, row, target as usize, grad_row);
                }
            }
            if scans.any {
                let finished = scans.finish(v, params, grad.is_some());
                for (i, &target) in group_targets.iter().enumerate() {
                    if !scans.hard[i] {
                        continue;
                    }
                    row_losses[i] = finished.loss[i].widen();
                    if let Some(g) = grad.as_deref_mut() {
                        let r = first_row + i;
                        let g = &mut g[r * classes..(r + 1) * classes];
                        let factor = v.splat(finished.factor[i]);
                        for chunk in g.chunks_mut(lanes) {
                            let e = v.load(chunk);
                            v.store(chunk, v.mul(factor, e));
                        }
                        g[target as usize] = finished.target_grad[i];
                    }
                }
            }
            for (i, &row_loss) in row_losses[..group_targets.len()].iter().enumerate() {
                if let Some(out) = loss.as_deref_mut() {
                    out[first_row + i] = T::narrow(row_loss);
                }
                sum.add(row_loss);
            }
        }
        sum.total()
    }
}

/// What the first pass over each one-hot row of a group leaves for the per-row terms: one
/// lane per row (lanes of other rows stay at harmless values and are never read).
struct HardScans<T> {
    any: bool,
    hard: [bool; SLOTS],
    m: [T; SLOTS],
    others: [T; SLOTS],
    x_t: [T; SLOTS],
    alpha: [T; SLOTS],
    gamma: [T; SLOTS],
    gamma_low: [T; SLOTS],
}

impl<T: Real> Default for HardScans<T> {
    fn default() -> Self {
        let zero = T::default();
        Self {
            any: false,
            hard: [false; SLOTS],
            m: [zero; SLOTS],
            others: [T::narrow(1.0); SLOTS],
            x_t: [zero; SLOTS],
            alpha: [zero; SLOTS],
            gamma: [zero; SLOTS],
            gamma_low: [zero; SLOTS],
        }
    }
}

/// The per-row results of a group, one lane per row: the loss, the factor of the others'
/// gradient (`−c/Z`, times the gradient's scale) and the target's gradient.
struct FinishedRows<T> {
    loss: [T; SLOTS],
    factor: [T; SLOTS],
    target_grad: [T; SLOTS],
}

impl<T: Real> HardScans<T> {
    /// Scans row `row` into lane `lane`: its maximum and the sum of the others'
    /// exponentials; each `e_j` goes into the gradient, to be scaled once the terms are known.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn add<S: Simd>(
        &mut self,
        v: Lanes<T, S>,
        params: &Params<'_, T>,
        lane: usize,
        row: &[T],
        target: usize,
        mut grad: Option<&mut [T]>,
    ) {
        let zero = v.c(0.0);
        let classes = row.len();
        let max = row_max(v, row);
        let m = v.splat(max);
        let target_index = v.splat(T::narrow(target as f64));
        let mut others = SlotSum::<T, S>::new(v);
        let first_lanes = lane_index(v);
        for (group, start, len) in Vectors::new(classes, v.lanes()) {
            let index = v.add(first_lanes, v.splat(T::narrow(start as f64)));
            let x = v.load(&row[start..start + len]);
            let (e, _, _) = shifted_exp(v, x, m);
            let in_row = v.lt(index, v.splat(T::narrow(classes as f64)));
            let counted = v.and(in_row, v.not(v.eq(index, target_index)));
            others.add(v, group, v.select(counted, e, zero));
            if let Some(grad) = grad.as_deref_mut() {
                v.store(&mut grad[start..start + len], e);
            }
        }
        self.any = true;
        self.hard[lane] = true;
        self.m[lane] = max;
        self.others[lane] = T::narrow(others.total(v));
        self.x_t[lane] = row[target];
        self.alpha[lane] = params.class_alpha[target];
        self.gamma[lane] = params.class_gamma[target];
        self.gamma_low[lane] = params.class_gamma_low[target];
    }

    /// The terms of every scanned row at once.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn finish<S: Simd>(
        &self,
        v: Lanes<T, S>,
        params: &Params<'_, T>,
        with_grad: bool,
    ) -> FinishedRows<T> {
        let m = v.load(&self.m);
        let x_t = v.load(&self.x_t);
        let gamma = Gamma {
            high: v.load(&self.gamma),
            low: v.load(&self.gamma_low),
        };
        let scan = OneHotScan {
            m,
            others: v.load(&self.others),
            x_t,
            target_parts: shifted_exp(v, x_t, m),
            first_max: None,
        };
        let t = TargetTerms::new(v, params, gamma, v.load(&self.alpha), &scan);
        let mut finished = FinishedRows {
            loss: [T::default(); SLOTS],
            factor: [T::default(); SLOTS],
            target_grad: [T::default(); SLOTS],
        };
        v.store(&mut finished.loss, t.loss);
        if with_grad {
            let c = t.slope(v, gamma);
            let grad_scale = v.splat(params.grad_scale);
            v.store(
                &mut finished.factor,
                v.mul(v.neg(v.div(c, t.z)), grad_scale),
            );
            v.store(&mut finished.target_grad, v.mul(v.mul(c, t.q), grad_scale));
        }
        finished
    }
}

/// The maximum of a row, NaN when it holds a NaN.
#[cfg_attr(not(debug_assertions), inline(always))]
fn row_max<T: Real, S: Simd>(v: Lanes<T, S>, row: &[T]) -> T {
    let mut m = v.c(f64::NEG_INFINITY);
    let mut nan = v.c(0.0);
    for chunk in row.chunks(v.lanes()) {
        let x = v.load(chunk);
        // Missing lanes load as 0: keep them out of the maximum.
        let x = if chunk.len() < v.lanes() {
            let mut padded = [T::narrow(f64::NEG_INFINITY); SLOTS];
            padded[..chunk.len()].copy_from_slice(chunk);
            v.load(&padded)
        } else {
            x
        };
        m = v.select(v.gt(x, m), x, m);
        nan = v.select(v.is_nan(x), x, nan);
    }
    let mut lanes = [T::default(); SLOTS];
    v.store(&mut lanes, m);
    let mut nans = [T::default(); SLOTS];
    v.store(&mut nans, nan);
    if nans[..v.lanes()].iter().any(|x| x.widen().is_nan()) {
        return T::narrow(f64::NAN);
    }
    lanes[..v.lanes()].iter().fold(
        T::narrow(f64::NEG_INFINITY),
        |m, &x| if x > m { x } else { m },
    )
}

#[cfg_attr(not(debug_assertions), inline(always))]
fn smoothed_row<T: Real, S: Simd>(
    v: Lanes<T, S>,
    params: &Params<'_, T>,
    row: &[T],
    target: usize,
    mut grad: Option<&mut [T]>,
) -> f64 {
    let zero = v.c(0.0);
    let one = v.c(1.0);
    let classes = row.len();
    let (keep, add) = params.smoothing.expect("smoothing");
    let max = row_max(v, row);
    let m = v.splat(max);
    // The first maximum (e = 1) is left out of S*; a NaN row has none (everything is NaN).
    let first_max = row.iter().position(|&x| x == max).unwrap_or(classes);
    let first_max_index = v.splat(T::narrow(first_max as f64));
    let target_index = v.splat(T::narrow(target as f64));
    let classes_v = v.splat(T::narrow(classes as f64));
    let mut without_max = SlotSum::<T, S>::new(v);
    let first_lanes = lane_index(v);
    for (group, start, len) in Vectors::new(classes, v.lanes()) {
        let index = v.add(first_lanes, v.splat(T::narrow(start as f64)));
        let (e, _, _) = shifted_exp(v, v.load(&row[start..start + len]), m);
        let counted = v.and(v.lt(index, classes_v), v.not(v.eq(index, first_max_index)));
        without_max.add(v, group, v.select(counted, e, zero));
    }
    let without_max = v.splat(T::narrow(without_max.total(v)));
    let z = v.add(without_max, one);
    let ln_z = v.ln(z);
    let ln_1p_without_max = v.ln_1p(without_max);
    let target_weight = v.splat(T::narrow(keep.widen() + add.widen()));
    let row_terms = SmoothedTerms {
        m,
        z,
        ln_z,
        without_max,
        ln_1p_without_max,
        first_max_index,
        target_index,
        target_weight,
        other_weight: v.splat(add),
    };
    let mut loss = SlotSum::<T, S>::new(v);
    let mut g_sum = SlotSum::<T, S>::new(v);
    // All g ≤ 0: `Σ_{k≠j} g_k = Σ g − g_j` cancels only for the most negative g, whose sum is
    // formed without it.
    let mut without_largest = SlotSumWithoutLargest::<T, S>::new(v);
    let first_lanes = lane_index(v);
    for (group, start, len) in Vectors::new(classes, v.lanes()) {
        let index = v.add(first_lanes, v.splat(T::narrow(start as f64)));
        let x = v.load(&row[start..start + len]);
        let alpha = v.load(&params.class_alpha[start..start + len]);
        let gamma = params.gammas_of_classes(v, start, len);
        let (l, g, _, _) = row_terms.class(v, params, index, x, alpha, gamma);
        let in_row = v.lt(index, classes_v);
        loss.add(v, group, v.select(in_row, l, zero));
        g_sum.add(v, group, v.select(in_row, g, zero));
        without_largest.add(v, group, v.select(in_row, g, zero), index);
        if let Some(grad) = grad.as_deref_mut() {
            v.store(&mut grad[start..start + len], g);
        }
    }
    // Poly-1, from the target class's q and p (the same bits as in the loop above).
    let (poly_loss, poly_slope) = match &params.poly {
        Some(poly) => {
            let alpha = v.splat(params.class_alpha[target]);
            let gamma = params.gamma_of_class(v, target);
            let x_t = v.splat(row[target]);
            let (_, _, q_t, p_t) = row_terms.class(v, params, target_index, x_t, alpha, gamma);
            let u = v.fma(v.splat(poly.keep), q_t, v.splat(poly.offset));
            let u_pow_gamma = focal_factor(v, params, gamma, u, one);
            let (term, slope) = poly_term(v, poly, gamma, u_pow_gamma, u, p_t);
            (v.first(term).widen(), slope)
        }
        None => (0.0, zero),
    };
    if let Some(grad) = grad {
        let g_sum = v.splat(T::narrow(g_sum.total(v)));
        let (without, largest_index) = without_largest.total(v);
        let (without, largest_index) = (
            v.splat(T::narrow(without)),
            v.splat(T::narrow(largest_index)),
        );
        let grad_scale = v.splat(params.grad_scale);
        let first_lanes = lane_index(v);
        for (_, start, len) in Vectors::new(classes, v.lanes()) {
            let index = v.add(first_lanes, v.splat(T::narrow(start as f64)));
            if len == 0 {
                continue;
            }
            let x = v.load(&row[start..start + len]);
            let alpha = v.load(&params.class_alpha[start..start + len]);
            let gamma = params.gammas_of_classes(v, start, len);
            let (_, _, q, p) = row_terms.class(v, params, index, x, alpha, gamma);
            let g = v.load(&grad[start..start + len]);
            // ∂L/∂x_j = g_j·q_j − p_j·Σ_{k≠j} g_k, and poly-1's `c_poly·q_t` at the target,
            // `−c_poly·p_j` elsewhere.
            let g_others = v.select(v.eq(index, largest_index), without, v.sub(g_sum, g));
            let value = v.fma(g, q, v.neg(v.mul(p, g_others)));
            let value = if params.poly.is_some() {
                let is_target = v.eq(index, target_index);
                v.fma(poly_slope, v.select(is_target, q, v.neg(p)), value)
            } else {
                value
            };
            v.store(&mut grad[start..start + len], v.mul(value, grad_scale));
        }
    }
    match params.poly {
        Some(_) => loss.total(v) + poly_loss,
        None => loss.total(v),
    }
}
