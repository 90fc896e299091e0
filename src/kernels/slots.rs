//! Width-independent compensated summation.

use crate::simd::{Lanes, Real};
use pulp::Simd;

/// The number of slots: a multiple of every vector width (1, 2, 4, 8, 16 lanes).
pub(crate) const SLOTS: usize = 16;

/// Kahan sums of 16 interleaved slots: the vector of group `g` of a 16-element block adds
/// into slots `g·L .. g·L + L`. Every block must offer all of its 16 positions (padding with
/// zeros) so that each slot sees the same sequence of additions at every width.
pub(crate) struct SlotSum<T: Real, S: Simd> {
    sums: [T::V<S>; SLOTS],
    compensations: [T::V<S>; SLOTS],
}

impl<T: Real, S: Simd> SlotSum<T, S> {
    #[inline(always)]
    pub fn new(v: Lanes<T, S>) -> Self {
        Self {
            sums: [v.c(0.0); SLOTS],
            compensations: [v.c(0.0); SLOTS],
        }
    }

    /// Adds the vector of group `group` of the current block.
    #[inline(always)]
    pub fn add(&mut self, v: Lanes<T, S>, group: usize, value: T::V<S>) {
        let y = v.sub(value, self.compensations[group]);
        let t = v.add(self.sums[group], y);
        let compensation = v.sub(v.sub(t, self.sums[group]), y);
        // Past an infinite sum the compensation would be ±∞ or ∞ − ∞ = NaN, and the sum NaN
        // at the next step. Capped at ±MAX it keeps the sum infinite; finite compensations
        // are far below the cap. (`min(c, MAX)` gives MAX for a NaN c on every level.)
        let max = v.c(T::MAX.widen());
        self.compensations[group] = v.max(v.min(compensation, max), v.c(-T::MAX.widen()));
        self.sums[group] = t;
    }

    /// The total, combined in a fixed order in `f64`.
    #[inline(always)]
    pub fn total(&self, v: Lanes<T, S>) -> f64 {
        let lanes = v.lanes();
        let mut sums = [T::default(); SLOTS];
        let mut compensations = [T::default(); SLOTS];
        for group in 0..SLOTS / lanes {
            v.store(&mut sums[group * lanes..], self.sums[group]);
            v.store(
                &mut compensations[group * lanes..],
                self.compensations[group],
            );
        }
        let slot = |j: usize| sums[j].widen() - compensations[j].widen();
        // Pairwise: ((0+1)+(2+3)) + … , the same tree for every width.
        let mut level: [f64; SLOTS] = core::array::from_fn(slot);
        let mut width = SLOTS;
        while width > 1 {
            width /= 2;
            for j in 0..width {
                level[j] = level[2 * j] + level[2 * j + 1];
            }
        }
        level[0]
    }
}

/// `[0, 1, …, LANES − 1]` as a vector: compared with a length it masks a partial vector.
#[inline(always)]
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
    #[inline(always)]
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
