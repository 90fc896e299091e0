//! How per-element losses are combined.

use crate::exact_sum::ExactSum;

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

/// What one shard of a batch contributes to its reduced loss: the sum of its weighted losses
/// and the number of elements (softmax: positions) a mean counts — what a data-parallel
/// trainer all-reduces before it divides. From
/// [`sigmoid_focal_partial`](crate::sigmoid_focal_partial) and
/// [`softmax_focal_partial`](crate::softmax_focal_partial).
///
/// The sum is kept exact: shards [`combine`](Self::combine)d in any order give the sum of one
/// call over the whole batch with the same bits when every shard but the last covers whole
/// chunks of the parallel driver (multiples of 16 384 elements; softmax: of
/// `max(16 384 / (classes·spatial), 1)` samples), and within the accuracy contract otherwise.
/// The global mean is `T::from_f64(total.mean())`, and the gradient of the global mean is
/// what each shard's call writes with `.normalizer(global count)`.
///
/// ```
/// use focal_loss::{sigmoid_focal_loss, sigmoid_focal_partial, PartialLoss,
///                  SigmoidFocalOptions, SigmoidTargets};
/// let (logits, labels) = ([0.5f32, -1.0, 3.0, -2.0], [1u8, 0, 0, 1]);
/// let options = SigmoidFocalOptions::default();
/// // Two shards: partial sums and counts, combined as an all-reduce would.
/// let mut total = PartialLoss::default();
/// for shard in [0..2, 2..4] {
///     let targets = SigmoidTargets::Labels(&labels[shard.clone()]);
///     let part = sigmoid_focal_partial(&logits[shard], targets, None, &options, None)?;
///     total.combine(&part);
/// }
/// let mut whole = [0.0f32];
/// sigmoid_focal_loss(&logits, SigmoidTargets::Labels(&labels), None, &options, &mut whole)?;
/// assert_eq!((total.count(), f32::from_f64(total.mean())), (4, whole[0]));
/// # use focal_loss::Float;
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PartialLoss {
    sum: ExactSum,
    count: usize,
}

impl PartialLoss {
    pub(crate) fn new(sum: ExactSum, count: usize) -> Self {
        Self { sum, count }
    }

    /// The sum of the weighted losses, correctly rounded.
    pub fn sum(&self) -> f64 {
        self.sum.value()
    }

    /// How many elements (positions) a mean counts: those that are not ignored.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Adds another shard's sum and count (exactly: the order does not matter).
    pub fn combine(&mut self, other: &PartialLoss) {
        self.sum.add_sum(&other.sum);
        self.count += other.count;
    }

    /// The mean, `sum / count` (0 for a mean over nothing, as the reductions give).
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum() / self.count as f64
        }
    }
}
