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
