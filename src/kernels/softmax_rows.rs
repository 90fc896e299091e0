//! Softmax focal loss for row-major `[N, C]` with many classes: vectorized over the classes
//! of one row. Sums over a row go through the 16 fixed slots of [`SlotSum`], so a row's
//! result does not depend on the vector width; the per-row scalars (Z, CE, q^γ, …) are
//! computed on broadcast vectors with the same vector math as everything else.

use super::slots::SLOTS;
use super::softmax::{
    Chunk, OneHotScan, Params, SmoothedTerms, TargetTerms, focal_factor, poly_term, shifted_exp,
};
use super::{OrderedSum, SlotSum, SlotSumWithoutLargest, lane_index};
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
        for (r, &target) in targets.iter().enumerate() {
            let row = &logits[r * classes..(r + 1) * classes];
            let grad_row = grad
                .as_deref_mut()
                .map(|g| &mut g[r * classes..(r + 1) * classes]);
            let row_loss = if target == params.ignore_index {
                if let Some(g) = grad_row {
                    g.fill(T::default());
                }
                0.0
            } else if params.smoothing.is_some() {
                smoothed_row(v, params, row, target as usize, grad_row)
            } else {
                hard_row(v, params, row, target as usize, grad_row)
            };
            if let Some(out) = loss.as_deref_mut() {
                out[r] = T::narrow(row_loss);
            }
            sum.add(row_loss);
        }
        sum.total()
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
fn hard_row<T: Real, S: Simd>(
    v: Lanes<T, S>,
    params: &Params<'_, T>,
    row: &[T],
    target: usize,
    mut grad: Option<&mut [T]>,
) -> f64 {
    let zero = v.c(0.0);
    let classes = row.len();
    let m = v.splat(row_max(v, row));
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
    let others = v.splat(T::narrow(others.total(v)));
    let x_t = v.splat(row[target]);
    let gamma = params.gamma_of_class(v, target);
    let alpha = v.splat(params.class_alpha[target]);
    let scan = OneHotScan {
        m,
        others,
        x_t,
        target_parts: shifted_exp(v, x_t, m),
        first_max: None,
    };
    let t = TargetTerms::new(v, params, gamma, alpha, &scan);
    if let Some(grad) = grad {
        let c = t.slope(v, gamma);
        let grad_scale = v.splat(params.grad_scale);
        let factor = v.mul(v.neg(v.div(c, t.z)), grad_scale);
        for chunk in grad.chunks_mut(v.lanes()) {
            let e = v.load(chunk);
            v.store(chunk, v.mul(factor, e));
        }
        grad[target] = v.first(v.mul(v.mul(c, t.q), grad_scale));
    }
    v.first(t.loss).widen()
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
