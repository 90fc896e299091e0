//! The fuzz input: bytes read through `arbitrary::Unstructured` into one call of the library.
//!
//! Structure-aware: every byte string decodes to some call (a missing byte reads as 0), and
//! what the bytes choose is a meaningful choice — the loss and target form, the element type,
//! lengths that are small, ragged or cross the parallel driver's chunks, logits from ordinary
//! ranges, named extremes or raw bit patterns, options valid or not. Only fixed-size integers
//! are read (little-endian, as `Unstructured` reads them), so [`Writer`] can encode a known
//! case as a seed (`make_seeds`).

use focal_loss::{Reduction, SoftmaxAlpha};
use libfuzzer_sys::arbitrary::Unstructured;

/// Elements per chunk of the library's parallel driver (`src/parallel.rs`).
pub const CHUNK: usize = 16 * 1024;

/// Values the fuzzer can name with one byte: the edges of both element types and of the
/// formulas (saturation of σ in f32/f64, the subnormal exponentials, overflow of `e^x`).
pub const SPECIAL_VALUES: [f64; 48] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    1e30,
    -1e30,
    f32::MAX as f64,
    -(f32::MAX as f64),
    f64::MAX,
    -f64::MAX,
    1e-40,
    -3e-39,
    1.401298464324817e-45,
    5e-324,
    f32::MIN_POSITIVE as f64,
    f64::MIN_POSITIVE,
    17.0,
    -17.0,
    37.0,
    -37.0,
    87.5,
    -87.5,
    88.8,
    -103.9,
    104.0,
    -150.0,
    709.9,
    -745.2,
    746.0,
    1e4,
    -1e4,
    1e38,
    -1e38,
    3.0e38,
    1e300,
    -1e300,
    1e-300,
    1e-50,
    1e-46,
    0.999999,
    1e-7,
    2.0,
    16777217.0,
    -64.7,
];

/// Reads the fuzzer's bytes; past their end every read is 0.
pub struct Reader<'a>(Unstructured<'a>);

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self(Unstructured::new(data))
    }
    pub fn u8(&mut self) -> u8 {
        self.0.arbitrary().unwrap_or(0)
    }
    pub fn u16(&mut self) -> u16 {
        self.0.arbitrary().unwrap_or(0)
    }
    pub fn u32(&mut self) -> u32 {
        self.0.arbitrary().unwrap_or(0)
    }
    pub fn u64(&mut self) -> u64 {
        self.0.arbitrary().unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A real value: `tag < 128` an ordinary value of one of four ranges, then a named
    /// special value, raw `f32` bits (as f64) or raw `f64` bits.
    pub fn real(&mut self) -> f64 {
        let tag = self.u8();
        match tag {
            0..=127 => {
                let unit = f64::from(self.u16()) / 65535.0 * 2.0 - 1.0;
                unit * [1.0, 20.0, 120.0, 1000.0][usize::from(tag % 4)]
            }
            128..=223 => SPECIAL_VALUES[usize::from(tag - 128) % SPECIAL_VALUES.len()],
            224..=239 => f64::from(f32::from_bits(self.u32())),
            _ => f64::from_bits(self.u64()),
        }
    }

    /// A value in [0, 1] (most tags), or any real value (often invalid there).
    pub fn unit(&mut self) -> f64 {
        match self.u8() {
            0..=63 => 0.0,
            64..=127 => 1.0,
            128..=223 => f64::from(self.u16()) / 65535.0,
            _ => self.real(),
        }
    }

    /// A count: small (ragged vectors and tails), around one to three chunk boundaries of
    /// the parallel driver, or anything up to 65535.
    pub fn length(&mut self) -> usize {
        match self.u8() % 16 {
            0..=11 => usize::from(self.u8()) % 70,
            12 | 13 => {
                let chunks = 1 + usize::from(self.u8() % 3);
                (chunks * CHUNK + usize::from(self.u8())).saturating_sub(128)
            }
            _ => usize::from(self.u16()),
        }
    }

    /// `n` values of `one`, the first up to 64 read, the rest repeating them (long inputs
    /// from short byte strings).
    pub fn values<V: Copy + Default>(
        &mut self,
        n: usize,
        mut one: impl FnMut(&mut Self) -> V,
    ) -> Vec<V> {
        let distinct = n.min(64);
        let read: Vec<V> = (0..distinct).map(|_| one(self)).collect();
        (0..n).map(|i| read[i % distinct.max(1)]).collect()
    }
}

impl Reader<'_> {
    /// `n` logits: as [`Reader::values`] (most tags), or a few distinct values and then the
    /// last of them held to the end: rows of many equal logits after a confident one, whose
    /// sums round the same way at every addition.
    pub fn logits(&mut self, n: usize) -> Vec<f64> {
        let pattern = self.u8();
        if pattern < 192 {
            return self.values(n, Reader::real);
        }
        let distinct = (1 + usize::from(pattern % 64)).min(n);
        let read: Vec<f64> = (0..distinct).map(|_| self.real()).collect();
        (0..n).map(|i| read[i.min(distinct.max(1) - 1)]).collect()
    }
}

/// Writes bytes that [`Reader`] reads back as the given choices (for seeds).
#[derive(Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    /// Raw f64 bits: read back exactly.
    pub fn real(&mut self, v: f64) {
        self.u8(255);
        self.u64(v.to_bits());
    }
    pub fn unit(&mut self, v: f64) {
        self.u8(255);
        self.real(v);
    }
    /// A length of at most 65535 (the `u16` form).
    pub fn length(&mut self, n: usize) {
        self.u8(15);
        self.u16(u16::try_from(n).expect("seed lengths fit in u16"));
    }
}

/// The targets of a sigmoid call.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    Soft(Vec<f64>),
    Labels(Vec<u8>),
    Classes { targets: Vec<i32>, classes: usize },
}

/// What a sigmoid call computes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SigmoidMode {
    Loss,
    LossGrad,
    GradHess { floor: Option<f64> },
}

/// The objective of a sigmoid call: which options type of the focal family it passes. Like
/// the C options struct, the objectives share the case's `gamma` and `alpha` where they have
/// such a parameter; the others are their own.
#[derive(Clone, Debug, PartialEq)]
pub enum Objective {
    /// `SigmoidFocalOptions`: γ, α.
    Focal,
    /// `FocalStarOptions`: γ (> 0), α, and the shift β.
    FocalStar { beta: f64 },
    /// `Poly1FocalOptions`: γ, α, and ε.
    Poly1Focal { epsilon: f64 },
    /// `QualityFocalOptions`: the case's γ is β (α not used).
    QualityFocal,
    /// `VarifocalOptions`: γ, and its own α (not optional there).
    Varifocal { alpha: f64 },
    /// `AsymmetricOptions`: the case's γ is γ₊ (α not used).
    Asymmetric { gamma_negative: f64, margin: f64 },
    /// `ReducedFocalOptions`: γ, α, and the threshold.
    ReducedFocal { threshold: f64 },
    /// `PerClassFocalOptions`: α, and one γ per class (the case's γ not used).
    PerClassFocal { class_gamma: Vec<f64> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sigmoid {
    pub logits: Vec<f64>,
    pub targets: Targets,
    pub weights: Option<Vec<f64>>,
    pub gamma: f64,
    pub alpha: Option<f64>,
    pub label_smoothing: f64,
    pub reduction: Reduction,
    pub normalizer: Option<f64>,
    pub mode: SigmoidMode,
    /// Added to the length of the first output buffer (0: the right length).
    pub output_skew: i8,
    pub objective: Objective,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Softmax {
    pub logits: Vec<f64>,
    pub targets: Vec<i32>,
    pub batch: usize,
    pub classes: usize,
    pub spatial: usize,
    pub gamma: f64,
    pub alpha: SoftmaxAlpha,
    pub label_smoothing: f64,
    pub reduction: Reduction,
    pub normalizer: Option<f64>,
    pub ignore_index: i32,
    /// Whether the gradient is asked for too.
    pub grad: bool,
    pub output_skew: i8,
    /// Per-class γ (of any length: one per class is valid).
    pub class_gamma: Option<Vec<f64>>,
    /// Poly-1's ε (0: the focal loss).
    pub epsilon: f64,
    /// Gradient and Hessian (`softmax_focal_grad_hess`) instead of the loss calls; the
    /// reduction and `grad` are then not used, and `output_skew` is the Hessian's.
    pub hessian: bool,
    /// Its floor (any value; NaN is refused).
    pub hessian_floor: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    Sigmoid(Sigmoid),
    Softmax(Softmax),
}

/// One call: its element type and its arguments (values as `f64`, rounded to the element
/// type when the call is made).
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub single: bool,
    pub problem: Problem,
}

impl Case {
    /// A softmax of 2^24 classes or more: kernels_vs_reference checks it (the f32 class
    /// index collision); levels_agree and c_abi leave it out, as each of their many calls
    /// would take 20 s and the row length changes nothing about SIMD lanes or the C boundary.
    pub fn huge(&self) -> bool {
        matches!(&self.problem, Problem::Softmax(s) if s.classes >= HUGE_CLASSES)
    }
}

fn reduction(r: &mut Reader<'_>) -> Reduction {
    match r.u8() % 3 {
        0 => Reduction::None,
        1 => Reduction::Sum,
        _ => Reduction::Mean,
    }
}

fn write_reduction(w: &mut Writer, reduction: Reduction) {
    w.u8(match reduction {
        Reduction::None => 0,
        Reduction::Sum => 1,
        Reduction::Mean => 2,
    });
}

/// γ: the integer fast paths, ordinary values, values that round to 0 or overflow
/// intermediates in f32, and any bits (often invalid).
fn gamma(r: &mut Reader<'_>) -> f64 {
    match r.u8() {
        0..=31 => 2.0,
        32..=63 => f64::from(r.u8() % 4),
        64..=159 => f64::from(r.u16()) / 65535.0 * 8.0,
        160..=191 => [
            0.5, 0.25, 1.5, 4.2, 1e-50, 1e-30, 1e-46, 50.0, 200.0, 1e3, 1e6, 0.3,
        ][usize::from(r.u8()) % 12],
        _ => r.real(),
    }
}

fn option(r: &mut Reader<'_>, mut value: impl FnMut(&mut Reader<'_>) -> f64) -> Option<f64> {
    if r.u8().is_multiple_of(2) {
        None
    } else {
        Some(value(r))
    }
}

fn label_smoothing(r: &mut Reader<'_>) -> f64 {
    match r.u8() {
        0..=127 => 0.0,
        128..=223 => f64::from(r.u16()) / 65535.0 * 0.5,
        _ => r.real(),
    }
}

/// The normaliser: none, ordinary counts, values whose reciprocal over- or underflows f32.
fn normalizer(r: &mut Reader<'_>) -> Option<f64> {
    match r.u8() {
        0..=127 => None,
        128..=191 => Some(f64::from(r.u16() % 1000) + 1.0),
        _ => Some(r.real()),
    }
}

/// Weights: none, or ordinary ones, zeros, and huge or invalid values.
fn weight(r: &mut Reader<'_>) -> f64 {
    match r.u8() {
        0..=31 => 0.0,
        32..=191 => f64::from(r.u16()) / 65535.0 * 4.0,
        _ => r.real(),
    }
}

fn class_index(r: &mut Reader<'_>, classes: usize) -> i32 {
    let c = i32::try_from(classes).unwrap_or(i32::MAX);
    match r.u8() {
        0..=223 => i32::from(r.u8()) % c.saturating_add(3).min(256) - 1,
        224..=239 => -100,
        _ => r.u32() as i32,
    }
}

fn output_skew(r: &mut Reader<'_>) -> i8 {
    if r.u8() == 255 { r.u8() as i8 } else { 0 }
}

/// This many classes or more make a case [`Case::huge`].
pub const HUGE_CLASSES: usize = 1 << 24;

/// Classes of a row; `softmax` rows may, rarely, have more than 2^24.
fn classes(r: &mut Reader<'_>, softmax: bool) -> usize {
    match r.u8() {
        0..=159 => 1 + usize::from(r.u8() % 24),
        160..=223 => 16 + usize::from(r.u8()),
        224..=253 => usize::from(r.u8() % 3),
        254 => 80,
        // Softmax rows beyond 2^24 classes, whose indices f32 cannot all tell apart (a
        // sigmoid row counts its classes in integers). Rare: one such call of 2^24 logits
        // takes 20 s under the fuzzers' instrumentation.
        // Rows longer than a chunk: one sample per chunk, and chunks longer than CHUNK.
        _ => {
            if softmax && r.u8() >= 240 {
                HUGE_CLASSES + usize::from(r.u8() % 5)
            } else {
                CHUNK + usize::from(r.u16())
            }
        }
    }
}

/// γ of an array of them (per class): valid values, or, now and then for the whole array,
/// [`gamma`]'s (some invalid).
fn class_gamma(r: &mut Reader<'_>, classes: usize) -> Vec<f64> {
    let count = match r.u8() {
        255 => classes + 1,
        254 => classes.saturating_sub(1),
        253 => usize::from(r.u8() % 70),
        _ => classes,
    };
    let any = r.u8() >= 224;
    r.values(count.min(1 << 25), |r| {
        if any {
            gamma(r)
        } else {
            match r.u8() {
                0..=63 => 2.0,
                64..=127 => f64::from(r.u8() % 4),
                _ => f64::from(r.u16()) / 65535.0 * 8.0,
            }
        }
    })
}

/// A parameter that takes any finite value (FL*'s β, poly-1's ε): `usual` most of the time,
/// ordinary values of either sign, values beyond `f32` or huge, and any bits.
fn any_finite(r: &mut Reader<'_>, usual: f64) -> f64 {
    match r.u8() {
        0..=63 => usual,
        64..=95 => -usual,
        96..=191 => (f64::from(r.u16()) / 65535.0 * 2.0 - 1.0) * 8.0,
        192..=223 => {
            [0.0, 1e30, 1e39, -1e39, 1e300, -1e-300, 40.0, -700.0][usize::from(r.u8()) % 8]
        }
        _ => r.real(),
    }
}

/// ASL's margin, in [0, 1) and 0 or a normal number of the element type: the default, 0,
/// ordinary values, and values at and beyond the edges.
fn margin(r: &mut Reader<'_>) -> f64 {
    match r.u8() {
        0..=95 => 0.05,
        96..=127 => 0.0,
        128..=223 => f64::from(r.u16()) / 65535.0 * 0.5,
        224..=239 => [
            0.999999,
            1.0,
            1e-40,
            1e-310,
            -0.0,
            f64::from(f32::MIN_POSITIVE),
            -0.1,
            0.5,
        ][usize::from(r.u8()) % 8],
        _ => r.real(),
    }
}

/// The reduced focal loss's threshold, in (0, 1] with `th^−γ` finite in the element type.
fn threshold(r: &mut Reader<'_>) -> f64 {
    match r.u8() {
        0..=95 => 0.5,
        96..=127 => 1.0,
        128..=223 => f64::from(r.u16()) / 65535.0,
        224..=239 => [1e-4, 1e-30, 0.999999, 1e-300, 0.3, 1.5, 0.0, 0.05][usize::from(r.u8()) % 8],
        _ => r.real(),
    }
}

/// The objective of a sigmoid case, read after everything else: a byte past the end of the
/// data (0) is the focal loss, so inputs written before the family decode as they did. The
/// low 3 bits choose the objective; unless bits 3–4 are 0, the case is first fitted to it
/// ([`fit`]), so that most cases of an objective are ones it takes.
fn sigmoid_objective(
    r: &mut Reader<'_>,
    targets: &mut Targets,
    label_smoothing: &mut f64,
) -> Objective {
    let tag = r.u8();
    let mut objective = match tag % 8 {
        0 => Objective::Focal,
        1 => Objective::FocalStar {
            beta: any_finite(r, 0.0),
        },
        2 => Objective::Poly1Focal {
            epsilon: any_finite(r, 1.0),
        },
        3 => Objective::QualityFocal,
        4 => Objective::Varifocal {
            alpha: match r.u8() {
                0..=127 => 0.75,
                _ => r.unit(),
            },
        },
        5 => Objective::Asymmetric {
            gamma_negative: gamma(r),
            margin: margin(r),
        },
        6 => Objective::ReducedFocal {
            threshold: threshold(r),
        },
        // Its values once the targets (and so the classes) are fitted.
        _ => Objective::PerClassFocal {
            class_gamma: Vec::new(),
        },
    };
    if tag & 24 != 0 {
        fit(&objective, targets, label_smoothing);
    }
    if let Objective::PerClassFocal { class_gamma } = &mut objective {
        let classes = match targets {
            Targets::Classes { classes, .. } => *classes,
            _ => 1,
        };
        *class_gamma = self::class_gamma(r, classes);
    }
    objective
}

/// Fits a case to what its objective takes: hard targets and no smoothing for the reduced
/// focal loss, no smoothing for the varifocal loss, class indices for per-class γ (labels
/// and rounded soft targets as a head of one class).
fn fit(objective: &Objective, targets: &mut Targets, label_smoothing: &mut f64) {
    let hard = |y: &[f64]| y.iter().map(|&v| u8::from(v >= 0.5)).collect::<Vec<u8>>();
    match objective {
        Objective::Varifocal { .. } => *label_smoothing = 0.0,
        Objective::ReducedFocal { .. } => {
            *label_smoothing = 0.0;
            if let Targets::Soft(y) = targets {
                *targets = Targets::Labels(hard(y));
            }
        }
        Objective::PerClassFocal { .. } => match targets {
            Targets::Soft(y) => *targets = labels_as_classes(&hard(y)),
            Targets::Labels(y) => *targets = labels_as_classes(y),
            Targets::Classes { .. } => {}
        },
        _ => {}
    }
}

/// Labels as the class indices of a head of one class: 1 is class 0, 0 background (1), and
/// anything else (an invalid label) stays out of range.
fn labels_as_classes(labels: &[u8]) -> Targets {
    Targets::Classes {
        targets: labels
            .iter()
            .map(|&y| match y {
                0 => 1,
                1 => 0,
                other => i32::from(other),
            })
            .collect(),
        classes: 1,
    }
}

/// Decodes one case from the fuzzer's bytes.
pub fn decode(data: &[u8]) -> Case {
    decode_from(&mut Reader::new(data))
}

/// Decodes one case from what is left of `r`.
pub fn decode_from(r: &mut Reader<'_>) -> Case {
    let head = r.u8();
    let single = head & 1 == 0;
    let problem = if head & 2 == 0 {
        Problem::Sigmoid(sigmoid(r))
    } else {
        Problem::Softmax(softmax(r))
    };
    Case { single, problem }
}

fn sigmoid(r: &mut Reader<'_>) -> Sigmoid {
    let form = r.u8() % 3;
    let (n, mut targets) = match form {
        0 => {
            let n = r.length();
            (n, Targets::Soft(r.values(n, Reader::unit)))
        }
        1 => {
            let n = r.length();
            let labels = r.values(n, |r| match r.u8() {
                0..=249 => r.u8() & 1,
                _ => r.u8(),
            });
            (n, Targets::Labels(labels))
        }
        _ => {
            let classes = classes(r, false);
            let rows = if classes > CHUNK {
                usize::from(r.u8() % 2)
            } else {
                r.length() / classes.max(1)
            };
            let targets = r.values(rows, |r| class_index(r, classes));
            (rows * classes, Targets::Classes { targets, classes })
        }
    };
    // A logit count that disagrees with the targets now and then.
    let logit_count = match r.u8() {
        255 => n + 1,
        254 => n.saturating_sub(1),
        _ => n,
    };
    let logits = r.logits(logit_count);
    let weights = match r.u8() % 4 {
        3 => {
            let count = if r.u8() == 255 { n + 1 } else { n };
            Some(r.values(count, weight))
        }
        _ => None,
    };
    let gamma = gamma(r);
    let alpha = option(r, |r| r.unit());
    let mut label_smoothing = label_smoothing(r);
    let reduction = reduction(r);
    let normalizer = normalizer(r);
    let mode = match r.u8() % 3 {
        0 => SigmoidMode::Loss,
        1 => SigmoidMode::LossGrad,
        _ => SigmoidMode::GradHess {
            floor: match r.u8() {
                0..=127 => None,
                128..=191 => Some(1e-6),
                _ => Some(r.real()),
            },
        },
    };
    let output_skew = output_skew(r);
    let objective = sigmoid_objective(r, &mut targets, &mut label_smoothing);
    Sigmoid {
        logits,
        targets,
        weights,
        gamma,
        alpha,
        label_smoothing,
        reduction,
        normalizer,
        mode,
        output_skew,
        objective,
    }
}

fn softmax(r: &mut Reader<'_>) -> Softmax {
    let classes = classes(r, true);
    let huge = classes > CHUNK;
    let spatial = match r.u8() {
        0..=127 => 1,
        128..=239 => 1 + usize::from(r.u8() % 9),
        240..=251 => [16, 64, 1000, 4096][usize::from(r.u8() % 4)],
        _ => usize::from(r.u8() % 2),
    };
    let spatial = if huge { spatial.min(2) } else { spatial };
    let per_sample = classes.max(1) * spatial.max(1);
    let batch = if huge {
        usize::from(r.u8() % 2)
    } else {
        match r.u8() % 8 {
            0..=5 => usize::from(r.u8() % 7),
            _ => r.length() / per_sample,
        }
    };
    let positions = batch * spatial;
    let n = positions * classes;
    let logit_count = match r.u8() {
        255 => n + 1,
        254 => n.saturating_sub(1),
        _ => n,
    };
    let logits = r.logits(logit_count);
    let ignore_index = if r.u8() == 255 { r.u32() as i32 } else { -100 };
    let target_count = if r.u8() == 255 {
        positions + 1
    } else {
        positions
    };
    let targets = r.values(target_count, |r| class_index(r, classes));
    let gamma = gamma(r);
    let alpha = match r.u8() % 4 {
        0 | 1 => SoftmaxAlpha::Off,
        2 => SoftmaxAlpha::Uniform(r.unit()),
        _ => {
            let count = match r.u8() {
                255 => classes + 1,
                _ => classes,
            };
            SoftmaxAlpha::PerClass(r.values(count.min(1 << 25), |r| match r.u8() {
                0..=191 => f64::from(r.u16()) / 65535.0 * 3.0,
                _ => r.real(),
            }))
        }
    };
    let label_smoothing = if huge { 0.0 } else { label_smoothing(r) };
    let reduction = reduction(r);
    let normalizer = normalizer(r);
    let grad = r.u8() % 2 == 1;
    let output_skew = output_skew(r);
    // The family's options and the Hessian, read last (a byte past the end, 0: none of them).
    let family = r.u8();
    let class_gamma = (family & 1 != 0).then(|| class_gamma(r, classes));
    let epsilon = if family & 2 != 0 {
        any_finite(r, 1.0)
    } else {
        0.0
    };
    let hessian = family & 4 != 0;
    let hessian_floor = match (hessian, r.u8()) {
        (true, 128..=255) => Some(any_finite(r, 1e-3)),
        _ => None,
    };
    Softmax {
        logits,
        targets,
        batch,
        classes,
        spatial,
        gamma,
        alpha,
        label_smoothing,
        reduction,
        normalizer,
        ignore_index,
        grad,
        output_skew,
        class_gamma,
        epsilon,
        hessian,
        hessian_floor,
    }
}

/// Encodes a case so that [`decode`] gives it back (lengths up to 65535, at most 64
/// distinct values per array: enough for seeds).
pub fn encode(case: &Case) -> Vec<u8> {
    let mut w = Writer::default();
    match &case.problem {
        Problem::Sigmoid(s) => {
            w.u8(u8::from(!case.single));
            encode_sigmoid(&mut w, s);
        }
        Problem::Softmax(s) => {
            w.u8(u8::from(!case.single) | 2);
            encode_softmax(&mut w, s);
        }
    }
    w.0
}

fn encode_values<V: Copy>(w: &mut Writer, values: &[V], mut one: impl FnMut(&mut Writer, V)) {
    for &v in values.iter().take(64) {
        one(w, v);
    }
}

fn encode_sigmoid(w: &mut Writer, s: &Sigmoid) {
    match &s.targets {
        Targets::Soft(y) => {
            w.u8(0);
            w.length(y.len());
            encode_values(w, y, Writer::unit);
        }
        Targets::Labels(y) => {
            w.u8(1);
            w.length(y.len());
            encode_values(w, y, |w, v| {
                w.u8(255);
                w.u8(v);
            });
        }
        Targets::Classes { targets, classes } => {
            w.u8(2);
            w.u8(0);
            w.u8(u8::try_from(classes - 1).expect("seed classes 1..=24"));
            w.length(targets.len() * classes);
            encode_values(w, targets, |w, t| {
                w.u8(255);
                w.u32(t as u32);
            });
        }
    }
    w.u8(0);
    // Logits as `Reader::values` reads them (pattern tag 0).
    w.u8(0);
    encode_values(w, &s.logits, Writer::real);
    match &s.weights {
        None => w.u8(0),
        Some(weights) => {
            w.u8(3);
            w.u8(0);
            encode_values(w, weights, |w, v| {
                w.u8(255);
                w.real(v);
            });
        }
    }
    w.u8(255);
    w.real(s.gamma);
    match s.alpha {
        None => w.u8(0),
        Some(a) => {
            w.u8(1);
            w.unit(a);
        }
    }
    w.u8(255);
    w.real(s.label_smoothing);
    write_reduction(w, s.reduction);
    encode_normalizer(w, s.normalizer);
    match s.mode {
        SigmoidMode::Loss => w.u8(0),
        SigmoidMode::LossGrad => w.u8(1),
        SigmoidMode::GradHess { floor } => {
            w.u8(2);
            match floor {
                None => w.u8(0),
                Some(f) => {
                    w.u8(255);
                    w.real(f);
                }
            }
        }
    }
    w.u8(0);
    encode_objective(w, &s.objective);
}

/// The objective as [`sigmoid_objective`] reads it, not fitted (the case is written as it
/// is); nothing for the focal loss, which a missing byte gives.
fn encode_objective(w: &mut Writer, objective: &Objective) {
    let raw = |w: &mut Writer, v: f64| {
        w.u8(255);
        w.real(v);
    };
    match objective {
        Objective::Focal => {}
        Objective::FocalStar { beta } => {
            w.u8(1);
            raw(w, *beta);
        }
        Objective::Poly1Focal { epsilon } => {
            w.u8(2);
            raw(w, *epsilon);
        }
        Objective::QualityFocal => w.u8(3),
        Objective::Varifocal { alpha } => {
            w.u8(4);
            w.u8(255);
            w.unit(*alpha);
        }
        Objective::Asymmetric {
            gamma_negative,
            margin,
        } => {
            w.u8(5);
            raw(w, *gamma_negative);
            raw(w, *margin);
        }
        Objective::ReducedFocal { threshold } => {
            w.u8(6);
            raw(w, *threshold);
        }
        Objective::PerClassFocal { class_gamma } => {
            w.u8(7);
            encode_class_gamma(w, class_gamma);
        }
    }
}

/// Per-class γ of one value per class (the count [`class_gamma`] reads by default).
fn encode_class_gamma(w: &mut Writer, values: &[f64]) {
    w.u8(0);
    w.u8(255);
    encode_values(w, values, |w, v| {
        w.u8(255);
        w.real(v);
    });
}

fn encode_normalizer(w: &mut Writer, normalizer: Option<f64>) {
    match normalizer {
        None => w.u8(0),
        Some(v) => {
            w.u8(255);
            w.real(v);
        }
    }
}

fn encode_softmax(w: &mut Writer, s: &Softmax) {
    w.u8(0);
    w.u8(u8::try_from(s.classes - 1).expect("seed classes 1..=24"));
    if s.spatial == 1 {
        w.u8(0);
    } else {
        w.u8(128);
        w.u8(u8::try_from(s.spatial - 1).expect("seed spatial 1..=9"));
    }
    w.u8(0);
    w.u8(u8::try_from(s.batch).expect("seed batch 0..=6"));
    w.u8(0);
    // Logits as `Reader::values` reads them (pattern tag 0).
    w.u8(0);
    encode_values(w, &s.logits, Writer::real);
    if s.ignore_index == -100 {
        w.u8(0);
    } else {
        w.u8(255);
        w.u32(s.ignore_index as u32);
    }
    w.u8(0);
    encode_values(w, &s.targets, |w, t| {
        w.u8(255);
        w.u32(t as u32);
    });
    w.u8(255);
    w.real(s.gamma);
    match &s.alpha {
        SoftmaxAlpha::Off => w.u8(0),
        SoftmaxAlpha::Uniform(a) => {
            w.u8(2);
            w.unit(*a);
        }
        SoftmaxAlpha::PerClass(v) => {
            w.u8(3);
            w.u8(0);
            encode_values(w, v, |w, a| {
                w.u8(255);
                w.real(a);
            });
        }
    }
    w.u8(255);
    w.real(s.label_smoothing);
    write_reduction(w, s.reduction);
    encode_normalizer(w, s.normalizer);
    w.u8(u8::from(s.grad));
    w.u8(0);
    let family = u8::from(s.class_gamma.is_some())
        | (u8::from(s.epsilon != 0.0) << 1)
        | (u8::from(s.hessian) << 2);
    if family != 0 {
        w.u8(family);
    }
    if let Some(values) = &s.class_gamma {
        encode_class_gamma(w, values);
    }
    if s.epsilon != 0.0 {
        w.u8(255);
        w.real(s.epsilon);
    }
    if s.hessian {
        match s.hessian_floor {
            None => w.u8(0),
            Some(floor) => {
                w.u8(255);
                w.u8(255);
                w.real(floor);
            }
        }
    }
}
