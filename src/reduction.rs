//! How per-element losses are combined.

/// How the per-element losses are combined into the returned loss.
///
/// | reduction | loss output | gradient output |
/// | --- | --- | --- |
/// | `None` | one value per element (per position for softmax) | derivative of each element's loss |
/// | `Sum` | 1 value: the sum | gradient of the sum |
/// | `Mean` | 1 value: the sum ÷ the number of elements that are not ignored, or ÷ the normaliser when one is set | gradient of that value |
///
/// A mean over nothing (empty input, every element ignored) is 0 with a zero gradient, not NaN.
///
/// ```
/// use focal_loss::{Reduction, SigmoidFocalOptions};
/// let options = SigmoidFocalOptions::default().reduction(Reduction::Sum);
/// assert_eq!(options.reduction, Reduction::Sum);
/// assert_eq!(Reduction::default(), Reduction::Mean);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// Per-element losses.
    None,
    /// The sum of the per-element losses.
    Sum,
    /// The sum divided by the count of elements that are not ignored (or by the normaliser).
    #[default]
    Mean,
}

/// What the summed loss is divided by: 1 for `None`/`Sum`, the normaliser or the count of
/// counted elements for `Mean`; 0 for a mean over nothing (whose result is 0, not 0/0).
pub(crate) fn divisor(reduction: Reduction, normalizer: Option<f64>, count: usize) -> f64 {
    match (reduction, normalizer) {
        (Reduction::None | Reduction::Sum, _) => 1.0,
        (Reduction::Mean, Some(v)) => v,
        (Reduction::Mean, None) => count as f64,
    }
}
