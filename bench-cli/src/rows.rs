//! What a row of the benchmark is: a loss shape, an objective, an output mode, an element
//! type and a size; the default suite and the rows that flags select.

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// The loss and the form of its targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// Sigmoid, `u8` labels (one per logit).
    SigmoidLabels,
    /// Sigmoid, soft targets in [0, 1] (one per logit).
    SigmoidSoft,
    /// Sigmoid, one class index per row of `classes` logits.
    SigmoidClasses,
    /// Softmax over rows: `[N, classes]`.
    Softmax,
    /// Softmax channels-first: `[N, classes, spatial]`.
    SoftmaxSpatial,
}

/// The member of the focal family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    Focal,
    FocalStar,
    Poly1,
    Asymmetric,
    Quality,
    Varifocal,
    Reduced,
    PerClass,
}

/// What a call computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Output {
    /// The loss (mean).
    Loss,
    /// The loss and its gradient, fused.
    LossGrad,
    /// Per-element gradient and Hessian (the softmax's: one-hot targets).
    GradHess,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dtype {
    F32,
    F64,
}

impl Dtype {
    pub fn bytes(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }
}

/// The name a value has on the command line and in JSON.
pub fn name<V: ValueEnum>(value: V) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// One measurement: `n` logits of a shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    pub loss: Loss,
    pub objective: Objective,
    pub output: Output,
    pub dtype: Dtype,
    /// Logits the call reads (whole rows or samples of the shape).
    pub n: usize,
    /// Columns of a class-index row, or softmax classes (1 for the elementwise forms).
    pub classes: usize,
    /// Softmax positions per sample (1 elsewhere).
    pub spatial: usize,
}

/// The shape's class and position counts, from the flags.
#[derive(Clone, Copy, Debug)]
pub struct Shapes {
    pub classes: usize,
    pub spatial_classes: usize,
    pub spatial: usize,
}

impl Row {
    /// A row of `size` logits rounded down to whole rows or samples (at least one).
    pub fn new(
        loss: Loss,
        objective: Objective,
        output: Output,
        dtype: Dtype,
        size: usize,
        shapes: Shapes,
    ) -> Row {
        let (classes, spatial) = match loss {
            Loss::SigmoidLabels | Loss::SigmoidSoft => (1, 1),
            Loss::SigmoidClasses | Loss::Softmax => (shapes.classes, 1),
            Loss::SoftmaxSpatial => (shapes.spatial_classes, shapes.spatial),
        };
        let sample = classes * spatial;
        let n = (size / sample).max(1) * sample;
        Row {
            loss,
            objective,
            output,
            dtype,
            n,
            classes,
            spatial,
        }
    }

    /// The same row at `size` logits, rounded down to whole rows or samples (at least one).
    pub fn resized(&self, size: usize) -> Row {
        let sample = self.classes * self.spatial;
        Row {
            n: (size / sample).max(1) * sample,
            ..*self
        }
    }

    /// Whether the library has this combination (the sigmoid family on the sigmoid forms
    /// it means something for; the softmax with focal, poly-1 and per-class γ).
    pub fn exists(&self) -> bool {
        let softmax = matches!(self.loss, Loss::Softmax | Loss::SoftmaxSpatial);
        if softmax {
            return matches!(
                self.objective,
                Objective::Focal | Objective::Poly1 | Objective::PerClass
            );
        }
        match self.objective {
            Objective::PerClass => self.loss == Loss::SigmoidClasses,
            Objective::Reduced => self.loss != Loss::SigmoidSoft,
            _ => true,
        }
    }

    /// The shape as people write it: `[N]`, `[N, 80]`, `[N, 19, 4096]`.
    pub fn shape(&self) -> String {
        let samples = self.n / (self.classes * self.spatial);
        match self.loss {
            Loss::SigmoidLabels | Loss::SigmoidSoft => format!("[{samples}]"),
            Loss::SigmoidClasses | Loss::Softmax => format!("[{samples}, {}]", self.classes),
            Loss::SoftmaxSpatial => format!("[{samples}, {}, {}]", self.classes, self.spatial),
        }
    }

    /// The row's kind without its size: a line of the plot, a key of a baseline.
    pub fn kind(&self) -> String {
        let shape = match self.loss {
            Loss::SigmoidLabels | Loss::SigmoidSoft => String::new(),
            Loss::SigmoidClasses | Loss::Softmax => format!("[{}]", self.classes),
            Loss::SoftmaxSpatial => format!("[{}x{}]", self.classes, self.spatial),
        };
        format!(
            "{}{shape} {} {} {}",
            name(self.loss),
            name(self.objective),
            name(self.output),
            name(self.dtype)
        )
    }

    /// Bytes of the output buffers a call writes into (gradient and Hessian).
    pub fn output_bytes(&self) -> usize {
        let per_element = match self.output {
            Output::Loss => 0,
            Output::LossGrad => 1,
            Output::GradHess => 2,
        };
        per_element * self.n * self.dtype.bytes()
    }

    /// Bytes a call reads and writes: logits, targets (and nothing else per element: the
    /// per-class parameters are a few bytes per class), the gradient and Hessian, and the
    /// loss (one value: the mean).
    pub fn bytes(&self) -> usize {
        let value = self.dtype.bytes();
        let rows = self.n / (self.classes * self.spatial);
        let targets = match self.loss {
            Loss::SigmoidLabels => self.n,
            Loss::SigmoidSoft => self.n * value,
            Loss::SigmoidClasses | Loss::Softmax => rows * 4,
            Loss::SoftmaxSpatial => rows * self.spatial * 4,
        };
        let outputs = match self.output {
            Output::Loss => value,
            Output::LossGrad => value + self.n * value,
            Output::GradHess => 2 * self.n * value,
        };
        self.n * value + targets + outputs
    }
}

/// The representative suite (no selection flags): every loss shape, the focal family, both
/// element types and the three output modes, at each size.
pub fn suite(sizes: &[usize], shapes: Shapes) -> Vec<Row> {
    use Dtype::{F32, F64};
    use Loss::{SigmoidClasses, SigmoidLabels, SigmoidSoft, Softmax, SoftmaxSpatial};
    use Objective::{Asymmetric, Focal, FocalStar, PerClass, Poly1, Quality, Reduced, Varifocal};
    use Output::{GradHess, LossGrad};
    let kinds = [
        (SigmoidLabels, Focal, Output::Loss, F32),
        (SigmoidLabels, Focal, LossGrad, F32),
        (SigmoidLabels, Focal, GradHess, F32),
        (SigmoidSoft, Focal, LossGrad, F32),
        (SigmoidClasses, Focal, LossGrad, F32),
        (Softmax, Focal, LossGrad, F32),
        (SoftmaxSpatial, Focal, LossGrad, F32),
        (SigmoidLabels, Focal, LossGrad, F64),
        (SigmoidLabels, Focal, GradHess, F64),
        (Softmax, Focal, LossGrad, F64),
        (SigmoidLabels, FocalStar, LossGrad, F32),
        (SigmoidLabels, Poly1, LossGrad, F32),
        (SigmoidLabels, Asymmetric, LossGrad, F32),
        (SigmoidSoft, Quality, LossGrad, F32),
        (SigmoidSoft, Varifocal, LossGrad, F32),
        (SigmoidLabels, Reduced, LossGrad, F32),
        (SigmoidClasses, PerClass, LossGrad, F32),
        (Softmax, Poly1, LossGrad, F32),
        (Softmax, PerClass, LossGrad, F32),
    ];
    sizes
        .iter()
        .flat_map(|&size| {
            kinds.iter().map(move |&(loss, objective, output, dtype)| {
                Row::new(loss, objective, output, dtype, size, shapes)
            })
        })
        .collect()
}

/// Every combination of the selections that the library has, at each size.
pub fn selected(
    sizes: &[usize],
    losses: &[Loss],
    objectives: &[Objective],
    outputs: &[Output],
    dtypes: &[Dtype],
    shapes: Shapes,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for &size in sizes {
        for &loss in losses {
            for &objective in objectives {
                for &output in outputs {
                    for &dtype in dtypes {
                        let row = Row::new(loss, objective, output, dtype, size, shapes);
                        if row.exists() {
                            rows.push(row);
                        }
                    }
                }
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPES: Shapes = Shapes {
        classes: 80,
        spatial_classes: 19,
        spatial: 1024,
    };

    #[test]
    fn rows_hold_whole_samples() {
        let row = Row::new(
            Loss::SoftmaxSpatial,
            Objective::Focal,
            Output::LossGrad,
            Dtype::F32,
            100_000,
            SHAPES,
        );
        assert_eq!(
            (row.n, row.shape()),
            (5 * 19 * 1024, "[5, 19, 1024]".into())
        );
        let tiny = Row::new(
            Loss::Softmax,
            Objective::Focal,
            Output::Loss,
            Dtype::F64,
            3,
            SHAPES,
        );
        assert_eq!(tiny.n, 80);
    }

    #[test]
    fn bytes_count_what_a_call_moves() {
        let labels = Row::new(
            Loss::SigmoidLabels,
            Objective::Focal,
            Output::LossGrad,
            Dtype::F32,
            1000,
            SHAPES,
        );
        // 4 B logit + 1 B label + 4 B gradient per element, and the loss.
        assert_eq!(labels.bytes(), 9 * 1000 + 4);
        let softmax = Row::new(
            Loss::Softmax,
            Objective::Focal,
            Output::GradHess,
            Dtype::F64,
            800,
            SHAPES,
        );
        // The softmax's gradient and Hessian: 800 logits, 10 indices, two outputs of 8 B.
        assert!(softmax.exists());
        assert_eq!(softmax.bytes(), 6400 + 40 + 2 * 6400);
        let softmax = Row {
            output: Output::Loss,
            ..softmax
        };
        // 10 rows: 800 logits of 8 B, 10 class indices of 4 B, one loss.
        assert_eq!(softmax.bytes(), 6400 + 40 + 8);
    }

    #[test]
    fn selections_skip_what_the_library_does_not_have() {
        let rows = selected(
            &[1000],
            &[Loss::SigmoidLabels, Loss::SigmoidSoft, Loss::Softmax],
            &[Objective::Reduced, Objective::PerClass, Objective::Poly1],
            &[Output::GradHess],
            &[Dtype::F32],
            SHAPES,
        );
        let kinds: Vec<String> = rows.iter().map(Row::kind).collect();
        assert_eq!(
            kinds,
            [
                "sigmoid-labels reduced grad-hess f32",
                "sigmoid-labels poly1 grad-hess f32",
                "sigmoid-soft poly1 grad-hess f32",
                "softmax[80] per-class grad-hess f32",
                "softmax[80] poly1 grad-hess f32",
            ]
        );
        assert!(suite(&[4096], SHAPES).iter().all(Row::exists));
    }
}
