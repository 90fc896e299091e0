//! The public face of the SIMD levels: running code at a chosen level.

use crate::FocalError;
use crate::simd::SimdLevel;
use crate::simd::dispatch::at_level;

/// Runs `f` with every library function called from this thread (and the worker threads it
/// starts) at `level`; for tests and benchmarks.
///
/// # Errors
/// [`FocalError::SimdLevelUnavailable`] when this CPU cannot run `level`.
///
/// ```
/// use focal_loss::{with_simd_level, SimdLevel};
/// let level = with_simd_level(SimdLevel::Scalar, focal_loss::simd_level)?;
/// assert_eq!(level, SimdLevel::Scalar);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
pub fn with_simd_level<R>(level: SimdLevel, f: impl FnOnce() -> R) -> Result<R, FocalError> {
    at_level(level, f).ok_or(FocalError::SimdLevelUnavailable(level))
}
