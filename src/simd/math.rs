//! Vector math on [`Real`] lanes: `exp`, `ln`, `ln(1+u)`, written once for `f32` and `f64`.
//!
//! Only exact IEEE operations and fused multiply-adds are used, in an order that does not
//! depend on the vector width, so every SIMD level (and pulp's scalar level) returns the
//! same bits. Accuracy, measured by `src/simd/tests.rs`: f32 against the correctly rounded
//! value for every f32 of each domain (`exhaustive_f32_accuracy`, run by hand in release:
//! exp, ln, ln(1+u) ≤ 1 ulp; the sigmoid kernels' ln(1+u) on [0, 1] ≤ 2 ulp and 1/(1+u)
//! ≤ 1 ulp), f64 against std on 400 000 points per domain (≤ 1 ulp of
//! std's, which is itself within 1 ulp); the ordinary test run samples both.

use super::real::Real;
use core::marker::PhantomData;
use pulp::Simd;

/// `1/k!` for k = 0..=13: the Taylor series of `e^r` (f64; f32 uses [`EXP_MINIMAX_F32`]).
const EXP_TAYLOR: [f64; 14] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362880.0,
    1.0 / 3628800.0,
    1.0 / 39916800.0,
    1.0 / 479001600.0,
    1.0 / 6227020800.0,
];

/// `e^r = 1 + r·Q(r)` for f32 on `|r| ≤ ln2/2`: Q of degree 5, near-minimax for the relative
/// error of `e^r` (2^−28.9 before rounding the coefficients; `tests/golden/minimax.py`). One
/// multiply-add fewer than Taylor's degree 7.
const EXP_MINIMAX_F32: [f64; 6] = [
    1.0000000321837799,
    0.49999994205564835,
    0.1666643117012918,
    0.041668002574193966,
    0.008374163377326204,
    0.0013843644124081867,
];

/// `ln(1 + u) = u + u²·C(u)` for f32 on `u ∈ [0, 1]`: C of degree 7, near-minimax for the
/// relative error of the logarithm (2^−24.85 before rounding the coefficients;
/// `tests/golden/minimax.py`).
const LN_1P_MINIMAX_F32: [f64; 8] = [
    -0.49999647949342124,
    0.3332132228006387,
    -0.24857160862649483,
    0.1915364376086298,
    -0.13753778339666275,
    0.07920425108317951,
    -0.030065617003936125,
    0.005364780491073353,
];

/// `2/(2k+1)` for k = 1..=16: `ln((1+s)/(1−s)) = 2·atanh(s) = 2s + s·Σ 2·s^(2k)/(2k+1)`.
/// For `s ≤ 1/3` the 16 terms leave a truncation error below `2^−54` of the f64 result (f32
/// uses a polynomial in `u` instead); for `s ≤ 0.2` (fdlibm's reduction) 5 or 11.
const ATANH_SERIES: [f64; 16] = [
    2.0 / 3.0,
    2.0 / 5.0,
    2.0 / 7.0,
    2.0 / 9.0,
    2.0 / 11.0,
    2.0 / 13.0,
    2.0 / 15.0,
    2.0 / 17.0,
    2.0 / 19.0,
    2.0 / 21.0,
    2.0 / 23.0,
    2.0 / 25.0,
    2.0 / 27.0,
    2.0 / 29.0,
    2.0 / 31.0,
    2.0 / 33.0,
];

/// The exponent offset of [`Lanes::exp_nonpositive`]: `k + 64` is a normal exponent for
/// every `k` from the smallest subnormal (−150 / −1075) to 63.
const EXP_SCALE_OFFSET: i32 = 64;

const LN2_HI_F64: f64 = 6.931_471_803_691_238e-1;
const LN2_LO_F64: f64 = 1.908_214_929_270_587_7e-10;
// ln 2 split so that k·LN2_HI is exact for |k| < 2^8 (f32) / 2^11 (f64).
const LN2_HI_F32: f64 = 0.693_145_751_953_125;
const LN2_LO_F32: f64 = 1.428_606_765_330_187e-6;

/// A SIMD level seen as lanes of `T`: the arithmetic of [`Real`] with short names, and the
/// vector math built on it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lanes<T: Real, S: Simd> {
    pub simd: S,
    _element: PhantomData<T>,
}

impl<T: Real, S: Simd> Lanes<T, S> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn new(simd: S) -> Self {
        Self {
            simd,
            _element: PhantomData,
        }
    }

    /// Whether `T` is `f32` (selects polynomial degrees and constants at compile time).
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn single(self) -> bool {
        core::mem::size_of::<T>() == 4
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn lanes(self) -> usize {
        T::lanes::<S>()
    }
    /// A constant, rounded to `T`.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn c(self, value: f64) -> T::V<S> {
        T::splat(self.simd, T::narrow(value))
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn splat(self, value: T) -> T::V<S> {
        T::splat(self.simd, value)
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn add(self, a: T::V<S>, b: T::V<S>) -> T::V<S> {
        T::add(self.simd, a, b)
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn sub(self, a: T::V<S>, b: T::V<S>) -> T::V<S> {
        T::sub(self.simd, a, b)
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn mul(self, a: T::V<S>, b: T::V<S>) -> T::V<S> {
        T::mul(self.simd, a, b)
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn div(self, a: T::V<S>, b: T::V<S>) -> T::V<S> {
        T::div(self.simd, a, b)
    }
    /// `a·b + c`, fused.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn fma(self, a: T::V<S>, b: T::V<S>, c: T::V<S>) -> T::V<S> {
        T::mul_add(self.simd, a, b, c)
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn abs(self, a: T::V<S>) -> T::V<S> {
        T::abs(self.simd, a)
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn neg(self, a: T::V<S>) -> T::V<S> {
        self.mul(a, self.c(-1.0))
    }
    /// See [`Real::min`] for NaN.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn min(self, a: T::V<S>, b: T::V<S>) -> T::V<S> {
        T::min(self.simd, a, b)
    }
    /// See [`Real::max`] for NaN.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn max(self, a: T::V<S>, b: T::V<S>) -> T::V<S> {
        T::max(self.simd, a, b)
    }
    /// The bitwise exclusive or of two vectors' bit patterns (with a sign-only operand: a
    /// sign flip).
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn bit_xor(self, a: T::V<S>, b: T::V<S>) -> T::V<S> {
        let s = self.simd;
        T::from_bits(s, T::xor_bits(s, T::to_bits(s, a), T::to_bits(s, b)))
    }
    /// The bitwise or of two vectors' bit patterns.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn bit_or(self, a: T::V<S>, b: T::V<S>) -> T::V<S> {
        let s = self.simd;
        T::from_bits(s, T::or_bits(s, T::to_bits(s, a), T::to_bits(s, b)))
    }
    /// The bitwise and of two vectors' bit patterns.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn bit_and(self, a: T::V<S>, b: T::V<S>) -> T::V<S> {
        let s = self.simd;
        T::from_bits(s, T::and_bits(s, T::to_bits(s, a), T::to_bits(s, b)))
    }
    /// Whether any lane of `mask` is set.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn any(self, mask: T::M<S>) -> bool {
        // Masks are all-ones lanes (vector levels), bit masks (AVX-512) or bools (scalar):
        // any set bit is a set lane. Read as one integer where the size allows (one test
        // instruction), else as words.
        let bytes = pulp::bytemuck::bytes_of(&mask);
        match bytes.len() {
            1 => bytes[0] != 0,
            2 => u16::from_ne_bytes([bytes[0], bytes[1]]) != 0,
            _ => {
                let mut words = bytes.chunks_exact(8);
                let mut acc = 0u64;
                for word in &mut words {
                    acc |= u64::from_ne_bytes(word.try_into().unwrap());
                }
                for &byte in words.remainder() {
                    acc |= u64::from(byte);
                }
                acc != 0
            }
        }
    }
    /// `(mask ? b : a, mask ? a : b)`: `a` and `b` trade places where `mask` is set. With
    /// all-ones vector masks as four bit operations instead of two blends.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn swap_where(self, mask: T::M<S>, a: T::V<S>, b: T::V<S>) -> (T::V<S>, T::V<S>) {
        if core::mem::size_of::<T::M<S>>() == core::mem::size_of::<T::V<S>>() {
            let s = self.simd;
            let mask: T::U<S> = pulp::bytemuck::cast(mask);
            let (a, b) = (T::to_bits(s, a), T::to_bits(s, b));
            let trade = T::and_bits(s, T::xor_bits(s, a, b), mask);
            (
                T::from_bits(s, T::xor_bits(s, a, trade)),
                T::from_bits(s, T::xor_bits(s, b, trade)),
            )
        } else {
            (self.select(mask, b, a), self.select(mask, a, b))
        }
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn lt(self, a: T::V<S>, b: T::V<S>) -> T::M<S> {
        T::less_than(self.simd, a, b)
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn gt(self, a: T::V<S>, b: T::V<S>) -> T::M<S> {
        T::greater_than(self.simd, a, b)
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn ge(self, a: T::V<S>, b: T::V<S>) -> T::M<S> {
        T::greater_equal(self.simd, a, b)
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn eq(self, a: T::V<S>, b: T::V<S>) -> T::M<S> {
        T::equal(self.simd, a, b)
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn and(self, a: T::M<S>, b: T::M<S>) -> T::M<S> {
        T::and_mask(self.simd, a, b)
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn or(self, a: T::M<S>, b: T::M<S>) -> T::M<S> {
        T::or_mask(self.simd, a, b)
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn not(self, a: T::M<S>) -> T::M<S> {
        T::not_mask(self.simd, a)
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn select(self, mask: T::M<S>, if_true: T::V<S>, if_false: T::V<S>) -> T::V<S> {
        T::select(self.simd, mask, if_true, if_false)
    }
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn is_nan(self, a: T::V<S>) -> T::M<S> {
        self.not(self.eq(a, a))
    }
    /// `max(a, 0)`, NaN-propagating.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn positive_part(self, a: T::V<S>) -> T::V<S> {
        self.select(self.lt(a, self.c(0.0)), self.c(0.0), a)
    }
    /// `a·b`, except that an exact 0 times an infinity is 0 (the limit of every such
    /// product in the losses); NaN in either still gives NaN.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn zero_times(self, a: T::V<S>, b: T::V<S>) -> T::V<S> {
        let zero = self.c(0.0);
        let has_zero = self.or(self.eq(a, zero), self.eq(b, zero));
        let has_nan = self.or(self.is_nan(a), self.is_nan(b));
        self.select(self.and(has_zero, self.not(has_nan)), zero, self.mul(a, b))
    }
    /// The first `min(len, LANES)` values of `slice`; missing lanes are 0.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn load(self, slice: &[T]) -> T::V<S> {
        let lanes = self.lanes();
        if slice.len() >= lanes {
            // A plain unaligned load: pulp's partial load is an out-of-line masked routine.
            pulp::bytemuck::pod_read_unaligned(pulp::bytemuck::cast_slice(&slice[..lanes]))
        } else {
            T::partial_load(self.simd, slice)
        }
    }
    /// Stores the first `min(len, LANES)` lanes into `slice`.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn store(self, slice: &mut [T], value: T::V<S>) {
        let lanes = self.lanes();
        if slice.len() >= lanes {
            slice[..lanes]
                .copy_from_slice(pulp::bytemuck::cast_slice(core::slice::from_ref(&value)));
        } else {
            T::partial_store(self.simd, slice, value)
        }
    }
    /// The first lane.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn first(self, value: T::V<S>) -> T {
        let mut out = [T::default()];
        self.store(&mut out, value);
        out[0]
    }

    /// `Σ scale·c_k·x^k` over `coefficients` (lowest degree first; `scale` a power of two,
    /// so the scaled coefficients are exact): pairs `c_2j + c_2j+1·x`, then Horner's rule
    /// in `x²`. Half the dependent steps of Horner's rule in `x` (the kernels are bound by
    /// the length of their dependency chains), and as accurate for the series used here.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn polynomial(self, x: T::V<S>, coefficients: &[f64], scale: f64) -> T::V<S> {
        // A loop, not a fold: closures are not guaranteed to get the target features.
        let x2 = self.mul(x, x);
        let mut acc: Option<T::V<S>> = None;
        for pair in coefficients.chunks(2).rev() {
            let term = match *pair {
                [low, high] => self.fma(self.c(high * scale), x, self.c(low * scale)),
                _ => self.c(pair[0] * scale),
            };
            acc = Some(match acc {
                Some(acc) => self.fma(acc, x2, term),
                None => term,
            });
        }
        acc.unwrap()
    }

    /// `2^(k + offset)` from `t = k + ROUNDING_MAGIC` (k an integer held in the low mantissa
    /// bits): the exponent field `(k + offset + bias) << MANTISSA_BITS`, built in integers.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn power_of_two(self, t: T::V<S>, offset: i32) -> T::V<S> {
        let s = self.simd;
        let magic_bits = T::narrow(T::ROUNDING_MAGIC).widen();
        let magic_bits = if self.single() {
            u64::from((magic_bits as f32).to_bits())
        } else {
            magic_bits.to_bits()
        };
        // bits(t) − bits(magic) = k; wrapping arithmetic in the lane's width.
        let offset = T::EXPONENT_BIAS
            .wrapping_add(offset as i64 as u64)
            .wrapping_sub(magic_bits);
        let biased = T::wrapping_add_bits(s, T::to_bits(s, t), T::splat_bits(s, offset));
        let field = T::wrapping_mul_bits(s, biased, T::splat_bits(s, 1u64 << T::MANTISSA_BITS));
        T::from_bits(s, field)
    }

    /// `e^x`. Max error 1 ulp (f32 and f64, measured), correctly rounded into the subnormal
    /// range, `+∞` above `ln(MAX)`, `0` below the smallest subnormal, NaN for NaN.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn exp(self, x: T::V<S>) -> T::V<S> {
        self.exp_with_tail(x, self.c(0.0))
    }

    /// `e^(x + tail)` where `tail` is a small correction of `x` (the rounding error of the
    /// product or difference that produced `x`): it is folded into the reduced argument, so
    /// the result is as accurate as if `x + tail` had been exact.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn exp_with_tail(self, x: T::V<S>, tail: T::V<S>) -> T::V<S> {
        let (max_arg, min_arg) = if self.single() {
            (89.0, -104.0)
        } else {
            (710.0, -746.0)
        };
        // Comparisons are false for NaN: it passes through to the result. Past the
        // clamps the result is 0 or ∞ whatever the tail.
        let above = self.gt(x, self.c(max_arg));
        let below = self.lt(x, self.c(min_arg));
        let tail = self.select(self.or(above, below), self.c(0.0), tail);
        let x = self.select(above, self.c(max_arg), x);
        let x = self.select(below, self.c(min_arg), x);
        let (_, k, p) = self.exp_reduced(x, Some(tail), 1.0);
        self.scale_by_power_of_two(p, k)
    }

    /// The common part of the exponentials, for a clamped `x`: `x + tail = k·ln 2 + r` and
    /// `p = scale·e^r` (`scale` a power of two that keeps `p` normal, folded into the
    /// polynomial's coefficients: the product is exact and costs nothing), with
    /// `t = k + ROUNDING_MAGIC` (the bits [`Self::power_of_two`] reads).
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn exp_reduced(
        self,
        x: T::V<S>,
        tail: Option<T::V<S>>,
        scale: f64,
    ) -> (T::V<S>, T::V<S>, T::V<S>) {
        let magic = self.c(T::ROUNDING_MAGIC);
        let t = self.fma(x, self.c(core::f64::consts::LOG2_E), magic);
        let k = self.sub(t, magic);
        let (ln2_hi, ln2_lo) = if self.single() {
            (LN2_HI_F32, LN2_LO_F32)
        } else {
            (LN2_HI_F64, LN2_LO_F64)
        };
        let r = self.fma(k, self.c(-ln2_hi), x);
        let r = self.fma(k, self.c(-ln2_lo), r);
        let r = match tail {
            Some(tail) => self.add(r, tail),
            None => r,
        };
        let p = if self.single() {
            self.fma(
                r,
                self.polynomial(r, &EXP_MINIMAX_F32, scale),
                self.c(scale),
            )
        } else {
            self.polynomial(r, &EXP_TAYLOR, scale)
        };
        (t, k, p)
    }

    /// `e^(x + tail)` for `x ≤ 0` (or NaN), with an optional small correction `tail` as in
    /// [`Self::exp_with_tail`], and the same bits as it; the kernels' exponentials are all
    /// of this kind. Cheaper: no upper clamp, and `p·2^k` as one product `(2^−64·p)·2^(k+64)`
    /// of two normal numbers, rounded once, also into the subnormal range. Max error 1 ulp
    /// (f32 exhaustively).
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn exp_nonpositive(self, x: T::V<S>, tail: Option<T::V<S>>) -> T::V<S> {
        let min_arg = self.c(self.exp_min_arg());
        let below = self.lt(x, min_arg);
        let x = self.select(below, min_arg, x);
        // Past the clamp the result is 0 whatever the tail (which may be NaN there).
        // A match, not `Option::map`: closures need not get the SIMD level's target features.
        #[allow(clippy::manual_map)]
        let tail = match tail {
            Some(tail) => Some(self.select(below, self.c(0.0), tail)),
            None => None,
        };
        self.exp_nonpositive_clamped(x, tail)
    }

    /// `e^x` for `x ≤ 0` with the same bits as [`Self::exp_nonpositive`] (no tail), for
    /// callers that handle NaN lanes themselves: a NaN `x` gives a finite value here. The
    /// lower clamp is one `max` instead of a compare and a blend.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn exp_nonpositive_not_nan(self, x: T::V<S>) -> T::V<S> {
        // `max(x, c)` gives c for a NaN x on every level (the constant is the second operand).
        let x = self.max(x, self.c(self.exp_min_arg()));
        self.exp_nonpositive_clamped(x, None)
    }

    /// Below this argument `e^x` rounds to 0 (half the smallest subnormal).
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn exp_min_arg(self) -> f64 {
        if self.single() { -104.0 } else { -746.0 }
    }

    /// `e^(x + tail)` for `exp_min_arg ≤ x ≤ 0`: `p·2^k` as `(2^−64·p)·2^(k+64)`, where
    /// `2^−64·p` is exact (and comes from the polynomial at no cost) and the product rounds
    /// once, also into the subnormal range.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn exp_nonpositive_clamped(self, x: T::V<S>, tail: Option<T::V<S>>) -> T::V<S> {
        let unscale = (-(EXP_SCALE_OFFSET as f64)).exp2();
        let (t, _, p) = self.exp_reduced(x, tail, unscale);
        self.mul(p, self.power_of_two(t, EXP_SCALE_OFFSET))
    }

    /// `p·2^k` for an integer-valued `k`, as `p·2^k1·2^k2` with `k1 = floor(k/2)`: both
    /// factors are normal numbers, so the result is rounded once, also when it is subnormal
    /// or overflows. `k` is clamped to where that holds (beyond it the result is 0 or ∞
    /// for any `p` in `[2^-2, 2^2]`).
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn scale_by_power_of_two(self, p: T::V<S>, k: T::V<S>) -> T::V<S> {
        let (low, high) = if self.single() {
            (-252.0, 254.0)
        } else {
            (-2044.0, 2046.0)
        };
        let k = self.select(self.lt(k, self.c(low)), self.c(low), k);
        let k = self.select(self.gt(k, self.c(high)), self.c(high), k);
        let magic = self.c(T::ROUNDING_MAGIC);
        let k1 = self.add(self.fma(k, self.c(0.5), self.c(-0.25)), magic);
        let k2 = self.add(self.sub(k, self.sub(k1, magic)), magic);
        self.mul(
            self.mul(p, self.power_of_two(k1, 0)),
            self.power_of_two(k2, 0),
        )
    }

    /// `k·ln 2 + ln(1 + f) + extra` for an exact `f` with `s = f/(2+f)`, `|s| ≤ 0.2`, and a
    /// small `extra` (fdlibm's scheme): `ln(1+f) = f − f²/2 + s·(f²/2 + R(s²))`, the large
    /// term exact and the corrections small, `ln 2` split so that `k·ln2_hi` is exact.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn ln_reduced(self, k: T::V<S>, f: T::V<S>, extra: T::V<S>) -> T::V<S> {
        let s = self.div(f, self.add(self.c(2.0), f));
        let z = self.mul(s, s);
        let terms = if self.single() { 5 } else { 11 };
        let r = self.mul(z, self.polynomial(z, &ATANH_SERIES[..terms], 1.0));
        let half_f_squared = self.mul(self.c(0.5), self.mul(f, f));
        let (ln2_hi, ln2_lo) = if self.single() {
            (LN2_HI_F32, LN2_LO_F32)
        } else {
            (LN2_HI_F64, LN2_LO_F64)
        };
        let low = self.fma(k, self.c(ln2_lo), extra);
        let small = self.sub(
            half_f_squared,
            self.fma(s, self.add(half_f_squared, r), low),
        );
        self.fma(k, self.c(ln2_hi), self.sub(f, small))
    }

    /// `(ln(1 + u), 1/(1 + u))` for `u ∈ [0, 1]`, the range of `e^−|x|` in the sigmoid
    /// losses. f32: the reciprocal is one division (of the rounded `1 + u`) and
    /// `ln(1 + u) = u + u²·C(u)` a polynomial that does not wait for it, so the two run side
    /// by side. f64 (where `C` would need degree 20 on all of `[0, 1]`: 2^−56 relative, by
    /// mpmath's Chebyshev fit, against degree 7 for f32): one
    /// division `D = 1/((1+u)(2+u))` gives `1/(1+u) = (2+u)·D` and `s = u/(2+u) = u·(1+u)·D`,
    /// and `ln(1+u) = 2·atanh(s) = 2s + s³·R(s²)` with `s ≤ 1/3`.
    /// Max error (measured; `exhaustive_f32_accuracy` for f32) against the exact `u`:
    /// `ln(1+u)` 2 ulp, the reciprocal 1 ulp (f32; `1 + u` rounds) and 3 ulp (f64).
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn ln_1p_unit_and_reciprocal(self, u: T::V<S>) -> (T::V<S>, T::V<S>) {
        let one_plus = self.add(self.c(1.0), u);
        if self.single() {
            let reciprocal = self.div(self.c(1.0), one_plus);
            let u2 = self.mul(u, u);
            let ln = self.fma(u2, self.polynomial(u, &LN_1P_MINIMAX_F32, 1.0), u);
            return (ln, reciprocal);
        }
        let two_plus = self.add(self.c(2.0), u);
        let d = self.div(self.c(1.0), self.mul(one_plus, two_plus));
        let reciprocal = self.mul(two_plus, d);
        let s = self.mul(self.mul(u, one_plus), d);
        // fdlibm's form: ln(1+u) = u − (u²/2 − s·(u²/2 + R)), the error of `s` enters only
        // the correction, which is below a third of the result.
        let z = self.mul(s, s);
        let r = self.mul(z, self.polynomial(z, &ATANH_SERIES, 1.0));
        let half_u_squared = self.mul(self.c(0.5), self.mul(u, u));
        let small = self.fma(self.neg(s), self.add(half_u_squared, r), half_u_squared);
        (self.sub(u, small), reciprocal)
    }

    /// `ln x = k·ln 2 + ρ` for a positive normal or subnormal `x`, with `k` an integer and
    /// `ρ = ln m ∈ [−ln√2, ln√2]` (within 1 ulp of ρ): the two parts keep `ln x` to better
    /// than an ulp of `ln x` itself, which `x^γ = e^(γ·ln x)` needs.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn ln_parts(self, x: T::V<S>) -> (T::V<S>, T::V<S>) {
        let s = self.simd;
        let mantissa_bits = T::MANTISSA_BITS;
        let smallest_normal = if self.single() {
            f64::from(f32::MIN_POSITIVE)
        } else {
            f64::MIN_POSITIVE
        };
        let scale = (1u64 << mantissa_bits) as f64;
        let subnormal = self.lt(x, self.c(smallest_normal));
        let scaled = self.select(subnormal, self.mul(x, self.c(scale)), x);
        let bits = T::to_bits(s, scaled);
        let mantissa_mask = (1u64 << mantissa_bits) - 1;
        let one_bits = if self.single() {
            u64::from(1.0f32.to_bits())
        } else {
            1.0f64.to_bits()
        };
        // m ∈ [1, 2) with x = 2^k·m.
        let m = T::from_bits(
            s,
            T::or_bits(
                s,
                T::and_bits(s, bits, T::splat_bits(s, mantissa_mask)),
                T::splat_bits(s, one_bits),
            ),
        );
        let k = self.sub(T::biased_exponent(s, bits), self.c(T::EXPONENT_BIAS as f64));
        let k = self.select(subnormal, self.sub(k, self.c(f64::from(mantissa_bits))), k);
        let big = self.gt(m, self.c(core::f64::consts::SQRT_2));
        let m = self.select(big, self.mul(m, self.c(0.5)), m);
        let k = self.select(big, self.add(k, self.c(1.0)), k);
        let zero = self.c(0.0);
        (k, self.ln_reduced(zero, self.sub(m, self.c(1.0)), zero))
    }

    /// `ln x` for `x ≥ 0` (subnormals included): `−∞` at 0, `+∞` at `+∞`, NaN below 0 or for
    /// NaN. Max error 1 ulp.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn ln(self, x: T::V<S>) -> T::V<S> {
        let (k, rho) = self.ln_parts(x);
        let result = self.ln_reduced(k, self.c(0.0), rho);
        // Special values: the bit manipulation knows nothing of 0, ∞, NaN, x < 0.
        let zero = self.c(0.0);
        let infinity = self.c(f64::INFINITY);
        let result = self.select(self.eq(x, zero), self.c(f64::NEG_INFINITY), result);
        let result = self.select(self.eq(x, infinity), infinity, result);
        let invalid = self.or(self.lt(x, zero), self.is_nan(x));
        self.select(invalid, self.c(f64::NAN), result)
    }

    /// `(num/den)^γ` for `0 ≤ num ≤ den` (both finite, `den > 0`), from the logarithms of
    /// `num` and `den` in two parts: `γ·ln(num/den) = (γ·K)·ln 2 + γ·(ρ_n − ρ_d)` with
    /// `K = k_n − k_d`; `γ·K = n + frac` exactly (`n` an integer), and the result is
    /// `e^(frac·ln 2 + γ·(ρ_n − ρ_d))·2^n`, whose exponent is small and accurate.
    /// `gamma_low` is the part of γ lost by rounding it to `T`.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn pow_ratio(
        self,
        num: T::V<S>,
        den: T::V<S>,
        gamma: T::V<S>,
        gamma_low: T::V<S>,
    ) -> T::V<S> {
        let (k_num, rho_num) = self.ln_parts(num);
        let (k_den, rho_den) = self.ln_parts(den);
        let k = self.sub(k_num, k_den);
        let rho = self.sub(rho_num, rho_den);
        let a = self.mul(gamma, k);
        let a_low = self.fma(gamma_low, k, self.fma(gamma, k, self.neg(a)));
        let magic = self.c(T::ROUNDING_MAGIC);
        let n = self.sub(self.add(a, magic), magic);
        let frac = self.add(self.sub(a, n), a_low);
        let small = self.fma(
            frac,
            self.c(core::f64::consts::LN_2),
            self.fma(gamma, rho, self.mul(gamma_low, rho)),
        );
        // For a large γ, `γ·(ρ_n − ρ_d)` is large too (of either sign) while `n` is its
        // opposite: `e^small` alone would overflow although the product underflows. Its
        // whole powers of two join `n`, so `exp` sees less than ln 2.
        let m = self.sub(
            self.fma(small, self.c(core::f64::consts::LOG2_E), magic),
            magic,
        );
        let (ln2_hi, ln2_lo) = if self.single() {
            (LN2_HI_F32, LN2_LO_F32)
        } else {
            (LN2_HI_F64, LN2_LO_F64)
        };
        let small = self.fma(m, self.c(-ln2_lo), self.fma(m, self.c(-ln2_hi), small));
        let result = self.scale_by_power_of_two(self.exp(small), self.add(n, m));
        let zero = self.c(0.0);
        self.select(self.eq(num, zero), zero, result)
    }

    /// `ln(1 + u)` for any `u ≥ 0`. Max error 2 ulp.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn ln_1p(self, u: T::V<S>) -> T::V<S> {
        let one = self.c(1.0);
        let w = self.add(one, u);
        let correction = self.div(self.sub(u, self.sub(w, one)), w);
        // For w = ∞ the correction is NaN (∞ − ∞): ln(∞) = ∞ is the answer.
        let correction = self.select(self.is_nan(correction), self.c(0.0), correction);
        let result = self.add(self.ln(w), correction);
        self.select(self.is_nan(u), u, result)
    }
}
