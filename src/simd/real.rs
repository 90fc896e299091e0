//! [`Real`]: the element types as vectors of any pulp [`Simd`] level, through generic
//! associated types (the pattern faer uses), so that every algorithm is written once.

use pulp::Simd;
use pulp::bytemuck::{self, Pod};

/// A floating-point element type with its vector, mask and bit-pattern types at every SIMD
/// level. Only the operations the kernels need; all of them are exact IEEE operations, so
/// the same sequence gives the same bits on every level (`mul_add` is fused everywhere).
pub trait Real:
    Copy + Default + PartialOrd + Send + Sync + core::fmt::Debug + core::fmt::Display + Pod + 'static
{
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// The largest finite value.
    const MAX: Self;
    /// The value widened to `f64` (exact).
    fn widen(self) -> f64;
    /// The `f64` value rounded to the nearest `Self`.
    fn narrow(value: f64) -> Self;
    /// A byte as a value (exact).
    fn from_u8(value: u8) -> Self;

    /// `LANES` values of `Self`.
    type V<S: Simd>: Copy + Pod;
    /// A lane mask.
    type M<S: Simd>: Copy + bytemuck::NoUninit;
    /// The lanes' bit patterns as unsigned integers of the same width.
    type U<S: Simd>: Copy + Pod;

    /// Bits of the mantissa field (23 or 52).
    const MANTISSA_BITS: u32;
    /// The exponent bias (127 or 1023).
    const EXPONENT_BIAS: u64;
    /// `1.5·2^MANTISSA_BITS`: adding it rounds to an integer held in the low mantissa bits.
    const ROUNDING_MAGIC: f64;

    /// Lanes per vector at level `S`.
    fn lanes<S: Simd>() -> usize;

    fn splat<S: Simd>(s: S, value: Self) -> Self::V<S>;
    fn add<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    fn sub<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    fn mul<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    fn div<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// `a·b + c` with one rounding, on every level.
    fn mul_add<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>, c: Self::V<S>) -> Self::V<S>;
    fn abs<S: Simd>(s: S, a: Self::V<S>) -> Self::V<S>;
    /// The smaller value; if either is NaN, which value results depends on the level, but
    /// `min(a, c)` with a non-NaN `c` gives `c` for a NaN `a` on every level.
    fn min<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// The larger value; NaN as for [`Real::min`].
    fn max<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;

    fn less_than<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::M<S>;
    fn greater_than<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::M<S>;
    fn greater_equal<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::M<S>;
    fn equal<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::M<S>;
    fn and_mask<S: Simd>(s: S, a: Self::M<S>, b: Self::M<S>) -> Self::M<S>;
    fn or_mask<S: Simd>(s: S, a: Self::M<S>, b: Self::M<S>) -> Self::M<S>;
    fn not_mask<S: Simd>(s: S, a: Self::M<S>) -> Self::M<S>;
    /// `mask ? if_true : if_false`, lane by lane.
    fn select<S: Simd>(
        s: S,
        mask: Self::M<S>,
        if_true: Self::V<S>,
        if_false: Self::V<S>,
    ) -> Self::V<S>;

    fn to_bits<S: Simd>(s: S, a: Self::V<S>) -> Self::U<S>;
    fn from_bits<S: Simd>(s: S, a: Self::U<S>) -> Self::V<S>;
    fn splat_bits<S: Simd>(s: S, value: u64) -> Self::U<S>;
    fn and_bits<S: Simd>(s: S, a: Self::U<S>, b: Self::U<S>) -> Self::U<S>;
    fn or_bits<S: Simd>(s: S, a: Self::U<S>, b: Self::U<S>) -> Self::U<S>;
    fn xor_bits<S: Simd>(s: S, a: Self::U<S>, b: Self::U<S>) -> Self::U<S>;
    fn wrapping_add_bits<S: Simd>(s: S, a: Self::U<S>, b: Self::U<S>) -> Self::U<S>;
    fn wrapping_mul_bits<S: Simd>(s: S, a: Self::U<S>, b: Self::U<S>) -> Self::U<S>;
    /// The biased exponent field of each lane, as a value of `Self` (exact).
    fn biased_exponent<S: Simd>(s: S, bits: Self::U<S>) -> Self::V<S>;

    /// The first `min(len, LANES)` values of `slice`, the other lanes 0.
    fn partial_load<S: Simd>(s: S, slice: &[Self]) -> Self::V<S>;
    /// Stores the first `min(len, LANES)` lanes into `slice`.
    fn partial_store<S: Simd>(s: S, slice: &mut [Self], value: Self::V<S>);
}

macro_rules! impl_real {
    ($t:ty, $bits:ty, $f:ident, $u:ident, $m:ident, mantissa = $mant:expr, bias = $bias:expr) => {
        paste::paste! {
            impl Real for $t {
                type V<S: Simd> = S::[<$f s>];
                type M<S: Simd> = S::[<$m s>];
                type U<S: Simd> = S::[<$u s>];

                const NAME: &'static str = stringify!($t);
                const MAX: Self = <$t>::MAX;
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn widen(self) -> f64 {
                    self as f64
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn narrow(value: f64) -> Self {
                    value as $t
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn from_u8(value: u8) -> Self {
                    value as $t
                }
                const MANTISSA_BITS: u32 = $mant;
                const EXPONENT_BIAS: u64 = $bias;
                const ROUNDING_MAGIC: f64 = 1.5 * (1u64 << $mant) as f64;

                #[cfg_attr(not(debug_assertions), inline(always))]
                fn lanes<S: Simd>() -> usize {
                    S::[<$f:upper _LANES>]
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn splat<S: Simd>(s: S, value: Self) -> Self::V<S> {
                    s.[<splat_ $f s>](value)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn add<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                    s.[<add_ $f s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn sub<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                    s.[<sub_ $f s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn mul<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                    s.[<mul_ $f s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn div<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                    s.[<div_ $f s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn mul_add<S: Simd>(
                    s: S,
                    a: Self::V<S>,
                    b: Self::V<S>,
                    c: Self::V<S>,
                ) -> Self::V<S> {
                    s.[<mul_add_ $f s>](a, b, c)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn abs<S: Simd>(s: S, a: Self::V<S>) -> Self::V<S> {
                    s.[<abs_ $f s>](a)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn min<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                    s.[<min_ $f s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn max<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                    s.[<max_ $f s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn less_than<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::M<S> {
                    s.[<less_than_ $f s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn greater_than<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::M<S> {
                    s.[<greater_than_ $f s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn greater_equal<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::M<S> {
                    s.[<greater_than_or_equal_ $f s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn equal<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::M<S> {
                    s.[<equal_ $f s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn and_mask<S: Simd>(s: S, a: Self::M<S>, b: Self::M<S>) -> Self::M<S> {
                    s.[<and_ $m s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn or_mask<S: Simd>(s: S, a: Self::M<S>, b: Self::M<S>) -> Self::M<S> {
                    s.[<or_ $m s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn not_mask<S: Simd>(s: S, a: Self::M<S>) -> Self::M<S> {
                    s.[<not_ $m s>](a)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn select<S: Simd>(
                    s: S,
                    mask: Self::M<S>,
                    if_true: Self::V<S>,
                    if_false: Self::V<S>,
                ) -> Self::V<S> {
                    s.[<select_ $f s>](mask, if_true, if_false)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn to_bits<S: Simd>(s: S, a: Self::V<S>) -> Self::U<S> {
                    s.[<transmute_ $u s_ $f s>](a)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn from_bits<S: Simd>(s: S, a: Self::U<S>) -> Self::V<S> {
                    s.[<transmute_ $f s_ $u s>](a)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn splat_bits<S: Simd>(s: S, value: u64) -> Self::U<S> {
                    s.[<splat_ $u s>](value as $bits)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn and_bits<S: Simd>(s: S, a: Self::U<S>, b: Self::U<S>) -> Self::U<S> {
                    s.[<and_ $u s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn or_bits<S: Simd>(s: S, a: Self::U<S>, b: Self::U<S>) -> Self::U<S> {
                    s.[<or_ $u s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn xor_bits<S: Simd>(s: S, a: Self::U<S>, b: Self::U<S>) -> Self::U<S> {
                    s.[<xor_ $u s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn wrapping_add_bits<S: Simd>(s: S, a: Self::U<S>, b: Self::U<S>) -> Self::U<S> {
                    s.[<add_ $u s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn wrapping_mul_bits<S: Simd>(s: S, a: Self::U<S>, b: Self::U<S>) -> Self::U<S> {
                    s.[<mul_ $u s>](a, b)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn biased_exponent<S: Simd>(s: S, bits: Self::U<S>) -> Self::V<S> {
                    biased_exponent::<S, Self>(s, bits)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn partial_load<S: Simd>(s: S, slice: &[Self]) -> Self::V<S> {
                    s.[<partial_load_ $f s>](slice)
                }
                #[cfg_attr(not(debug_assertions), inline(always))]
                fn partial_store<S: Simd>(s: S, slice: &mut [Self], value: Self::V<S>) {
                    s.[<partial_store_ $f s>](slice, value)
                }
            }
        }
    };
}

impl_real!(f32, u32, f32, u32, m32, mantissa = 23, bias = 127);
impl_real!(f64, u64, f64, u64, m64, mantissa = 52, bias = 1023);

/// The exponent field of `bits` as a float: `(bits >> MANTISSA_BITS) & 0x7ff…`.
///
/// pulp shifts 32-bit lanes only. `f32` shifts directly; `f64` views each 64-bit lane as two
/// 32-bit words, shifts the high word and rebuilds a double `2^52 + e·2^32` from which `e`
/// is recovered exactly. The one-lane scalar level has no 32-bit view of a 64-bit lane; it
/// shifts the `u64` itself. All three give the same exact integer.
#[cfg_attr(not(debug_assertions), inline(always))]
fn biased_exponent<S: Simd, T: Real>(s: S, bits: T::U<S>) -> T::V<S> {
    let exponent_mask = (1u64 << (63 - T::MANTISSA_BITS)) - 1;
    if core::mem::size_of::<T>() == 4 {
        let bits: S::u32s = bytemuck::cast(bits);
        let shifted = s.wrapping_dyn_shr_u32s(bits, s.splat_u32s(T::MANTISSA_BITS));
        let field = s.and_u32s(shifted, s.splat_u32s(exponent_mask as u32));
        // field < 2^23: OR it into the mantissa of 2^23 and subtract 2^23.
        let magic = 8_388_608.0f32;
        let value = s.sub_f32s(
            s.transmute_f32s_u32s(s.or_u32s(field, s.splat_u32s(magic.to_bits()))),
            s.splat_f32s(magic),
        );
        bytemuck::cast(value)
    } else if core::mem::size_of::<S::u64s>() == 8 {
        let bits: u64 = bytemuck::cast(bits);
        let field = (bits >> T::MANTISSA_BITS) & exponent_mask;
        bytemuck::cast(field as f64)
    } else {
        let words: S::u32s = bytemuck::cast(bits);
        let shifted = s.wrapping_dyn_shr_u32s(words, s.splat_u32s(20));
        let shifted: S::u64s = bytemuck::cast(shifted);
        // Keep the exponent now in bits 32..43 of each lane (the high word), drop the low
        // word, and make the lane the double 2^52 + e·2^32.
        let field = s.and_u64s(shifted, s.splat_u64s(exponent_mask << 32));
        let two_52 = 4_503_599_627_370_496.0f64;
        let value = s.transmute_f64s_u64s(s.or_u64s(field, s.splat_u64s(two_52.to_bits())));
        let value = s.mul_f64s(
            s.sub_f64s(value, s.splat_f64s(two_52)),
            s.splat_f64s(1.0 / 4_294_967_296.0),
        );
        bytemuck::cast(value)
    }
}
