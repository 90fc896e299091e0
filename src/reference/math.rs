//! Scalar building blocks in `f64`, written the obvious way (branch-wise, no approximations).

/// `σ(u) = 1 / (1 + e^-u)`, evaluated on the branch where the exponential cannot overflow.
pub fn sigmoid(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    }
}

/// `softplus(u) = ln(1 + e^u) = max(u, 0) + ln(1 + e^-|u|)`; note `−ln σ(u) = softplus(−u)`.
pub fn softplus(u: f64) -> f64 {
    let positive_part = if u > 0.0 { u } else { 0.0 };
    positive_part + (-u.abs()).exp().ln_1p()
}

/// `ln(e^a + e^b)` without overflow; `−∞` when both are `−∞`.
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if hi == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// `a · b`, except that an exact zero times an infinity is 0.
///
/// The losses multiply factors whose limits are `0` and `∞` at infinite logits (for
/// example `p_t · CE` as `z → −∞`, or a weight of 0 times an infinite loss); the
/// mathematical limit of every such product here is 0. NaN still propagates.
pub fn zero_times(a: f64, b: f64) -> f64 {
    if (a == 0.0 && b.is_infinite()) || (b == 0.0 && a.is_infinite()) {
        0.0
    } else {
        a * b
    }
}

/// `e^-(γ·s)` with the rounding error of the product `γ·s` put back.
///
/// `exp` turns an absolute error of its argument into the same relative error of its
/// result, and `γ·s` reaches several hundred before the result underflows.
pub fn exp_of_negative_product(gamma: f64, s: f64) -> f64 {
    if gamma == 0.0 {
        // x^0 = 1 also where s is infinite.
        return 1.0;
    }
    let t = gamma * s;
    if !t.is_finite() {
        return (-t).exp();
    }
    let t_error = gamma.mul_add(s, -t);
    let result = (-t).exp();
    result - result * t_error
}

/// `(d, err)` with `d + err = a − b` exactly (Knuth's TwoSum); `err = 0` when `d` is not finite.
pub fn exact_difference(a: f64, b: f64) -> (f64, f64) {
    let d = a - b;
    if !d.is_finite() {
        return (d, 0.0);
    }
    let a_part = d + b;
    let b_part = d - a_part;
    let err = (a - a_part) + (-b - b_part);
    (d, err)
}

/// Neumaier's compensated sum: the error of a plain sum does not grow with the count.
#[derive(Clone, Copy, Debug, Default)]
pub struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    /// Adds one value.
    pub fn add(&mut self, value: f64) {
        let t = self.sum + value;
        if self.sum.abs() >= value.abs() {
            self.compensation += (self.sum - t) + value;
        } else {
            self.compensation += (value - t) + self.sum;
        }
        self.sum = t;
    }

    /// The sum so far.
    pub fn value(&self) -> f64 {
        // Once the sum is infinite or NaN the compensation holds inf − inf: ignore it.
        if self.sum.is_finite() {
            self.sum + self.compensation
        } else {
            self.sum
        }
    }
}
