//! An exact sum of `f64` values (Shewchuk's non-overlapping partials, as Python's
//! `math.fsum`): the chunks' partial sums of a call are combined with it, so that the total
//! is the correctly rounded sum of those partial sums, whatever their order or grouping —
//! which is what lets the shards of a batch combine to exactly one call's result.

/// The exact sum of the values added so far: non-overlapping partials whose sum is exact,
/// plus the sum of the non-finite values (±∞, NaN) apart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExactSum {
    /// Non-overlapping, increasing in magnitude; their exact sum is the finite values' sum.
    partials: Vec<f64>,
    /// The sum of the non-finite values, or of finite ones whose exact sum overflowed.
    special: Option<f64>,
}

impl ExactSum {
    /// Adds `value`, exactly.
    pub fn add(&mut self, value: f64) {
        if !value.is_finite() {
            self.special = Some(self.special.map_or(value, |s| s + value));
            return;
        }
        let mut x = value;
        let mut kept = 0;
        for j in 0..self.partials.len() {
            let mut y = self.partials[j];
            if x.abs() < y.abs() {
                core::mem::swap(&mut x, &mut y);
            }
            let high = x + y;
            if !high.is_finite() {
                // The exact sum of finite values left f64: it is ±∞ as a rounded value
                // (what is added later cannot bring it back into range).
                self.special = Some(self.special.map_or(high, |s| s + high));
                return;
            }
            let low = y - (high - x);
            if low != 0.0 {
                self.partials[kept] = low;
                kept += 1;
            }
            x = high;
        }
        self.partials.truncate(kept);
        self.partials.push(x);
    }

    /// Adds every value `other` holds, exactly.
    pub fn add_sum(&mut self, other: &ExactSum) {
        for &value in &other.partials {
            self.add(value);
        }
        if let Some(special) = other.special {
            self.add(special);
        }
    }

    /// The sum, correctly rounded to `f64` (round half to even), or the non-finite sum.
    pub fn value(&self) -> f64 {
        if let Some(special) = self.special {
            return special;
        }
        let partials = &self.partials;
        let Some(mut n) = partials.len().checked_sub(1) else {
            return 0.0;
        };
        let mut high = partials[n];
        let mut low = 0.0;
        // From the largest partial down, until a step is inexact.
        while n > 0 {
            let x = high;
            n -= 1;
            let y = partials[n];
            high = x + y;
            low = y - (high - x);
            if low != 0.0 {
                break;
            }
        }
        // A half-way case rounded the wrong way by `high = x + y`: the partials below decide.
        if n > 0 && ((low < 0.0 && partials[n - 1] < 0.0) || (low > 0.0 && partials[n - 1] > 0.0)) {
            let y = low * 2.0;
            let x = high + y;
            if y == x - high {
                high = x;
            }
        }
        high
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(values: &[f64]) -> f64 {
        let mut s = ExactSum::default();
        for &v in values {
            s.add(v);
        }
        s.value()
    }

    #[test]
    fn exact_where_plain_addition_is_not() {
        // 1 + 1e100 − 1e100 is 1; plain addition gives 0.
        assert_eq!(sum(&[1.0, 1e100, -1e100]), 1.0);
        assert_eq!(sum(&[1e100, 1.0, -1e100, 1e-100]), 1.0);
        // 0.1 ten times: the correctly rounded sum of the ten doubles 0.1 is 1.0.
        assert_eq!(sum(&[0.1; 10]), 1.0);
        assert_eq!(sum(&[]), 0.0);
        // Half-way: 1 + 2^-53 (a tie, to even: 1) + 2^-106 (breaks the tie upward).
        let (u, t) = (2f64.powi(-53), 2f64.powi(-106));
        assert_eq!(sum(&[1.0, u]), 1.0);
        assert_eq!(sum(&[1.0, u, t]), 1.0 + 2.0 * u);
        assert_eq!(sum(&[1.0, u, -t]), 1.0);
    }

    #[test]
    fn any_order_and_grouping_gives_the_same_bits() {
        let values: Vec<f64> = (0..200)
            .map(|i| ((i * 7919) % 1000) as f64 * 1.37e-3 * if i % 3 == 0 { -1.0 } else { 1.0 })
            .map(|v: f64| v * 10f64.powi((v.to_bits() % 40) as i32 - 20))
            .collect();
        let forward = sum(&values);
        let mut reversed = values.clone();
        reversed.reverse();
        assert_eq!(sum(&reversed).to_bits(), forward.to_bits());
        // Two groups combined.
        let (mut a, mut b) = (ExactSum::default(), ExactSum::default());
        for (i, &v) in values.iter().enumerate() {
            if i % 5 == 0 { &mut a } else { &mut b }.add(v);
        }
        b.add_sum(&a);
        assert_eq!(b.value().to_bits(), forward.to_bits());
    }

    #[test]
    fn non_finite_values() {
        assert_eq!(sum(&[1.0, f64::INFINITY, 2.0]), f64::INFINITY);
        assert!(sum(&[f64::INFINITY, f64::NEG_INFINITY]).is_nan());
        assert!(sum(&[1.0, f64::NAN]).is_nan());
        assert_eq!(sum(&[f64::MAX, f64::MAX]), f64::INFINITY);
    }
}
