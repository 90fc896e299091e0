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

fn classes(r: &mut Reader<'_>) -> usize {
    match r.u8() {
        0..=159 => 1 + usize::from(r.u8() % 24),
        160..=223 => 16 + usize::from(r.u8()),
        224..=253 => usize::from(r.u8() % 3),
        254 => 80,
        // Rows longer than 2^24: class indices that f32 cannot all represent.
        _ => (1 << 24) + usize::from(r.u8() % 5),
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
    let (n, targets) = match form {
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
            let classes = classes(r);
            let rows = if classes > 1 << 20 {
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
    let label_smoothing = label_smoothing(r);
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
        output_skew: output_skew(r),
    }
}

fn softmax(r: &mut Reader<'_>) -> Softmax {
    let classes = classes(r);
    let huge = classes > 1 << 20;
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
    Softmax {
        logits,
        targets,
        batch,
        classes,
        spatial,
        gamma,
        alpha,
        label_smoothing,
        reduction: reduction(r),
        normalizer: normalizer(r),
        ignore_index,
        grad: r.u8() % 2 == 1,
        output_skew: output_skew(r),
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
}
