//! Width-independent compensated summation.

use crate::simd::{Lanes, Real};
use pulp::Simd;

/// The number of slots: a multiple of every vector width (1, 2, 4, 8, 16 lanes).
pub(crate) const SLOTS: usize = 16;

/// A Kahan sum per lane: each lane adds its own sequence of values (the classes of one
/// position), so the result does not depend on the vector width.
#[derive(Clone, Copy)]
pub(crate) struct LaneSum<V> {
    sum: V,
    compensation: V,
}

impl<V: Copy> LaneSum<V> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn new<T: Real<V<S> = V>, S: Simd>(v: Lanes<T, S>) -> Self {
        Self {
            sum: v.c(0.0),
            compensation: v.c(0.0),
        }
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn add<T: Real<V<S> = V>, S: Simd>(&mut self, v: Lanes<T, S>, value: V) {
        let y = v.sub(value, self.compensation);
        let t = v.add(self.sum, y);
        let compensation = v.sub(v.sub(t, self.sum), y);
        // Past an infinite sum the compensation would be ±∞ or ∞ − ∞ = NaN, and the sum NaN
        // at the next step. Capped at ±MAX it keeps the sum infinite; finite compensations
        // are far below the cap. (`min(c, MAX)` gives MAX for a NaN c on every level.)
        let max = v.c(T::MAX.widen());
        self.compensation = v.max(v.min(compensation, max), v.c(-T::MAX.widen()));
        self.sum = t;
    }

    /// The sum in the element type (the compensation folded in).
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn value<T: Real<V<S> = V>, S: Simd>(&self, v: Lanes<T, S>) -> V {
        // An infinite sum minus its capped compensation stays infinite.
        v.sub(self.sum, self.compensation)
    }

    /// The sum's two parts `(sum, compensation)`: `sum − compensation` is the value.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn parts(&self) -> (V, V) {
        (self.sum, self.compensation)
    }
}

/// Kahan sums of 16 interleaved slots: the vector of group `g` of a 16-element block adds
/// into slots `g·L .. g·L + L`. Every block must offer all of its 16 positions (padding with
/// zeros) so that each slot sees the same sequence of additions at every width.
pub(crate) struct SlotSum<T: Real, S: Simd> {
    slots: [LaneSum<T::V<S>>; SLOTS],
}

impl<T: Real, S: Simd> SlotSum<T, S> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn new(v: Lanes<T, S>) -> Self {
        Self {
            slots: [LaneSum::new(v); SLOTS],
        }
    }

    /// Adds the vector of group `group` of the current block.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn add(&mut self, v: Lanes<T, S>, group: usize, value: T::V<S>) {
        self.slots[group].add(v, value);
    }

    /// The total, combined in a fixed order in `f64`.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn total(&self, v: Lanes<T, S>) -> f64 {
        pairwise(self.slot_values(v))
    }

    /// Each slot's compensated value in `f64`.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn slot_values(&self, v: Lanes<T, S>) -> [f64; SLOTS] {
        let lanes = v.lanes();
        let mut sums = [T::default(); SLOTS];
        let mut compensations = [T::default(); SLOTS];
        for group in 0..SLOTS / lanes {
            let (sum, compensation) = self.slots[group].parts();
            v.store(&mut sums[group * lanes..], sum);
            v.store(&mut compensations[group * lanes..], compensation);
        }
        core::array::from_fn(|j| sums[j].widen() - compensations[j].widen())
    }
}

/// The 16 slot values added pairwise, ((0+1)+(2+3)) + …: the same tree for every width.
#[cfg_attr(not(debug_assertions), inline(always))]
fn pairwise(mut level: [f64; SLOTS]) -> f64 {
    let mut width = SLOTS;
    while width > 1 {
        width /= 2;
        for j in 0..width {
            level[j] = level[2 * j] + level[2 * j + 1];
        }
    }
    level[0]
}

/// Slot sums of values `≤ 0` that also form the sum without the most negative value (the
/// first of equal ones): `Σ_{k≠M} g_k` directly, where `Σ g − g_M` cancels when `g_M`
/// dominates.
pub(crate) struct SlotSumWithoutLargest<T: Real, S: Simd> {
    without: SlotSum<T, S>,
    largest: [T::V<S>; SLOTS],
    largest_index: [T::V<S>; SLOTS],
}

impl<T: Real, S: Simd> SlotSumWithoutLargest<T, S> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn new(v: Lanes<T, S>) -> Self {
        Self {
            without: SlotSum::new(v),
            largest: [v.c(0.0); SLOTS],
            largest_index: [v.c(-1.0); SLOTS],
        }
    }

    /// Adds the values of group `group` of the current block, whose indices are `index`.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn add(&mut self, v: Lanes<T, S>, group: usize, value: T::V<S>, index: T::V<S>) {
        let larger = v.lt(value, self.largest[group]);
        self.without
            .add(v, group, v.select(larger, self.largest[group], value));
        self.largest[group] = v.select(larger, value, self.largest[group]);
        self.largest_index[group] = v.select(larger, index, self.largest_index[group]);
    }

    /// The sum without the most negative value, and that value's index (−1 when every value
    /// was 0).
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn total(&self, v: Lanes<T, S>) -> (f64, f64) {
        let lanes = v.lanes();
        let mut largest = [T::default(); SLOTS];
        let mut index = [T::default(); SLOTS];
        for group in 0..SLOTS / lanes {
            v.store(&mut largest[group * lanes..], self.largest[group]);
            v.store(&mut index[group * lanes..], self.largest_index[group]);
        }
        let mut winner = 0;
        for slot in 1..SLOTS {
            let (value, best) = (largest[slot].widen(), largest[winner].widen());
            let first = index[slot].widen() < index[winner].widen();
            if value < best || (value == best && first) {
                winner = slot;
            }
        }
        let mut level = self.without.slot_values(v);
        for (slot, value) in level.iter_mut().enumerate() {
            if slot != winner {
                *value += largest[slot].widen();
            }
        }
        (pairwise(level), index[winner].widen())
    }
}

/// `[0, 1, …, LANES − 1]` as a vector: compared with a length it masks a partial vector.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn lane_index<T: Real, S: Simd>(v: Lanes<T, S>) -> T::V<S> {
    let values: [T; SLOTS] = core::array::from_fn(|j| T::narrow(j as f64));
    v.load(&values)
}

/// Neumaier's compensated sum of `f64` values added in a fixed order.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct OrderedSum {
    sum: f64,
    compensation: f64,
}

impl OrderedSum {
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn add(&mut self, value: f64) {
        let t = self.sum + value;
        self.compensation += if self.sum.abs() >= value.abs() {
            (self.sum - t) + value
        } else {
            (value - t) + self.sum
        };
        self.sum = t;
    }

    /// The sum; an infinite or NaN sum as it is (its compensation would be ∞ − ∞).
    pub fn total(&self) -> f64 {
        if self.sum.is_finite() {
            self.sum + self.compensation
        } else {
            self.sum
        }
    }
}
