//! The element types the library computes with.

use crate::parallel::Kernels;
use crate::simd::Real;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type: `f32` or `f64`.
///
/// Every loss is written once, generically over this trait; it is sealed because the
/// accuracy guarantees are stated (and tested) for exactly these two types.
///
/// ```
/// use focal_loss::Float;
/// assert_eq!(<f32 as Float>::from_f64(0.5), 0.5f32);
/// assert_eq!(2.0f32.to_f64(), 2.0);
/// ```
pub trait Float: sealed::Sealed + Real + Kernels {
    /// The value widened to `f64` (exact).
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn to_f64(self) -> f64 {
        self.widen()
    }
    /// The `f64` value rounded to the nearest `Self`.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn from_f64(value: f64) -> Self {
        Self::narrow(value)
    }
}

impl Float for f32 {}
impl Float for f64 {}
