//! Focal loss against plain binary cross-entropy on an imbalanced (1:99) synthetic problem,
//! both trained through the library's fused loss + gradient.
//!
//! ```sh
//! cargo run --release --example imbalanced
//! cargo run --release --example imbalanced -- --seed 2 --samples 50000 --steps 800 --lr 0.1
//! ```
//!
//! **Data** (2-D, generated from `--seed`; train and test are different draws, the test set
//! 5× larger): 1 % positives in a round blob at the origin, 4 % *hard* negatives on a ring
//! around it that overlaps the blob's tail, and 95 % *easy* negatives far away. The easy
//! negatives are what focal loss is for: each is classified correctly almost at once, yet
//! together they still carry a large share of the cross-entropy gradient.
//!
//! **Model**: a 2-16-1 tanh MLP written here, full-batch gradient descent, the same seeded
//! initial weights for both losses, and RetinaNet's prior-probability bias for the output
//! unit. Each step makes one `sigmoid_focal_loss_grad` call (f32 logits, `u8` labels) and
//! backpropagates its dL/dlogit by hand. BCE is `gamma(0.0).alpha(None)`, focal loss the
//! defaults (γ = 2, α = 0.25); both are the sum divided by the number of positives, as in
//! RetinaNet.
//!
//! **Output**
//! - Test-set recall and precision of the positives at p ≥ 0.5, average precision (AP: the
//!   area under the precision–recall curve, scikit-learn's step-wise definition, tied scores
//!   as one point), the time inside the library's loss calls and the whole training time
//!   (timings only mean something in a release build).
//! - Recall and precision at the threshold with the best F1 on the *training* set: focal
//!   loss outputs lower probabilities (α = 0.25 weights positives by a quarter, and
//!   (1 − p)^γ stops pushing confident ones), so p = 0.5 is not the same operating point for
//!   both models.
//! - A `true posterior` row: the exact posterior of the generator, the best any model can
//!   score on this data (it is not perfect: the classes overlap).
//! - The mechanism: the share of Σ|dL/dlogit| that comes from easy negatives at the first and
//!   last step, and the test AP after 1/16, 1/8, 1/4, 1/2 and all of the steps.
//!
//! **What to expect, honestly.** At the first step easy negatives carry about half of the
//! BCE gradient and about 0.1 % of the focal one: focal loss does what it is designed to do.
//! But on this data both models end close to the true posterior's AP, and neither wins by
//! more than seed noise: with the prior bias, the normaliser and exact full-batch gradients,
//! a 1:99 imbalance does not hurt BCE here. What focal loss changes is calibration (at
//! p = 0.5 it trades recall for precision) and, at a shared learning rate, speed: its
//! gradients are smaller, so it starts more slowly. RetinaNet's gains came with ~1:1000
//! imbalance, deep networks and mini-batch SGD, none of which this toy reproduces. Results
//! depend on the data, the model, the optimiser and its tuning; try `--lr`, `--steps` and
//! `--samples`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use focal_loss::{FocalError, SigmoidFocalOptions, SigmoidTargets, sigmoid_focal_loss_grad};

/// Width of the hidden layer of the classifier.
const HIDDEN: usize = 16;
/// One positive per this many samples.
const SAMPLES_PER_POSITIVE: usize = 100;
/// Share of all samples that are hard negatives (the ring around the positives).
const HARD_NEGATIVE_SHARE: f64 = 0.04;
/// The prior probability the output bias starts at (RetinaNet's π).
const PRIOR: f64 = 0.01;
/// Any constant: mixed into the seed, it gives the initial weights their own stream.
const WEIGHT_STREAM: u64 = 0xD1B5_4A32_D192_ED03;
/// The test set is this many times the training set: evaluation is cheap, and more test
/// positives make the metrics less noisy.
const TEST_SAMPLES_PER_TRAIN_SAMPLE: usize = 5;

/// The generator's geometry, in polar form around the origin.
const POSITIVE_SIGMA: f64 = 0.5;
const RING_RADIUS: f64 = 1.5;
const RING_WIDTH: f64 = 0.4;
const EASY_MIN_RADIUS: f64 = 3.0;
const EASY_MAX_RADIUS: f64 = 7.0;

const DEFAULT_SEED: u64 = 1;
const DEFAULT_SAMPLES: usize = 20_000;
const DEFAULT_STEPS: usize = 400;
/// Shared by both losses, so that the runs differ only in the loss. Chosen once on the
/// default data from 0.03, 0.1, 0.3 and 1: the largest at which BCE (the larger gradients)
/// does not lose AP; focal loss does as well at 0.1 as at 0.3.
const DEFAULT_LEARNING_RATE: f32 = 0.1;
/// Enough for a few positives in each set; below this the metrics are noise.
const MIN_SAMPLES: usize = 1_000;
/// Keeps memory (training set and the larger test set) under a few hundred MB.
const MAX_SAMPLES: usize = 2_000_000;

const USAGE: &str = "usage: imbalanced [--seed N] [--samples N] [--steps N] [--lr X]
  --seed N      seed of the data and the initial weights (default 1)
  --samples N   training samples; the test set has 5 times as many (default 20000, 1000..=2000000)
  --steps N     full-batch gradient-descent steps per model (default 400, 1..=1000000)
  --lr X        learning rate of both models (default 0.1)";

fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("imbalanced: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("imbalanced: the loss call failed: {error}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------
// Command line

#[derive(Clone, Debug, PartialEq)]
struct Config {
    seed: u64,
    samples: usize,
    steps: usize,
    learning_rate: f32,
}

#[derive(Debug, PartialEq)]
enum Command {
    Run(Config),
    Help,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut config = Config {
        seed: DEFAULT_SEED,
        samples: DEFAULT_SAMPLES,
        steps: DEFAULT_STEPS,
        learning_rate: DEFAULT_LEARNING_RATE,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Both `--flag value` and `--flag=value`.
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_string(), Some(value.to_string())),
            None => (arg.clone(), None),
        };
        if flag == "--help" || flag == "-h" {
            return Ok(Command::Help);
        }
        if !matches!(flag.as_str(), "--seed" | "--samples" | "--steps" | "--lr") {
            return Err(format!("unknown argument {arg:?}"));
        }
        let value = match inline_value.or_else(|| args.next()) {
            Some(value) => value,
            None => return Err(format!("{flag} needs a value")),
        };
        match flag.as_str() {
            "--seed" => config.seed = parse_number(&flag, &value, 0, u64::MAX)?,
            "--samples" => config.samples = parse_number(&flag, &value, MIN_SAMPLES, MAX_SAMPLES)?,
            "--steps" => config.steps = parse_number(&flag, &value, 1, 1_000_000)?,
            _ => {
                config.learning_rate = match value.parse::<f32>() {
                    Ok(lr) if lr.is_finite() && lr > 0.0 => lr,
                    _ => return Err(format!("{flag} needs a positive number, got {value:?}")),
                }
            }
        }
    }
    Ok(Command::Run(config))
}

fn parse_number<N>(flag: &str, value: &str, min: N, max: N) -> Result<N, String>
where
    N: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match value.parse::<N>() {
        Ok(n) if min <= n && n <= max => Ok(n),
        _ => Err(format!(
            "{flag} needs a whole number in {min}..={max}, got {value:?}"
        )),
    }
}

// ---------------------------------------------------------------------------------------
// Random numbers: splitmix64 and Box–Muller (no dependency for an example).

struct Rng {
    state: u64,
    spare_normal: Option<f64>,
}

impl Rng {
    fn new(seed: u64) -> Self {
        Self {
            state: seed,
            spare_normal: None,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal.
    fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // 1 − u lies in (0, 1]: the logarithm stays finite.
        let radius = (-2.0 * (1.0 - self.uniform()).ln()).sqrt();
        let angle = std::f64::consts::TAU * self.uniform();
        self.spare_normal = Some(radius * angle.sin());
        radius * angle.cos()
    }
}

// ---------------------------------------------------------------------------------------
// Data

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Positive,
    HardNegative,
    EasyNegative,
}

struct DataSet {
    features: Vec<[f32; 2]>,
    labels: Vec<u8>,
    kinds: Vec<Kind>,
}

impl DataSet {
    /// Fixed class counts (1 % positives, 4 % hard negatives, the rest easy negatives) so
    /// that every seed has the same imbalance; only the positions are random.
    fn generate(samples: usize, rng: &mut Rng) -> Self {
        let (positives, hard_negatives, _) = class_counts(samples);
        let mut data = DataSet {
            features: Vec::with_capacity(samples),
            labels: Vec::with_capacity(samples),
            kinds: Vec::with_capacity(samples),
        };
        for index in 0..samples {
            let kind = if index < positives {
                Kind::Positive
            } else if index < positives + hard_negatives {
                Kind::HardNegative
            } else {
                Kind::EasyNegative
            };
            let point = match kind {
                // A round blob at the origin, σ = 0.5 per coordinate.
                Kind::Positive => [POSITIVE_SIGMA * rng.normal(), POSITIVE_SIGMA * rng.normal()],
                // A ring of radius 1.5 ± 0.4 around it: it overlaps the blob's tail, so the
                // boundary is a circle no straight line can draw, and not a clean one.
                Kind::HardNegative => polar(RING_RADIUS + RING_WIDTH * rng.normal(), rng),
                // Far away (radius 3 to 7): trivially negative once the model has a boundary.
                Kind::EasyNegative => polar(
                    EASY_MIN_RADIUS + (EASY_MAX_RADIUS - EASY_MIN_RADIUS) * rng.uniform(),
                    rng,
                ),
            };
            data.features
                .push(point.map(|coordinate| coordinate as f32));
            data.labels.push(u8::from(kind == Kind::Positive));
            data.kinds.push(kind);
        }
        data
    }

    fn positives(&self) -> usize {
        self.labels.iter().filter(|&&label| label == 1).count()
    }
}

/// How many positives, hard negatives and easy negatives a set of `samples` has.
fn class_counts(samples: usize) -> (usize, usize, usize) {
    let positives = samples / SAMPLES_PER_POSITIVE;
    let hard_negatives = (samples as f64 * HARD_NEGATIVE_SHARE) as usize;
    (
        positives,
        hard_negatives,
        samples - positives - hard_negatives,
    )
}

/// The log posterior odds of "positive" at a point: what a perfect model of this generator
/// would output (the Bayes-optimal score), a ceiling for the metrics of the trained models.
fn true_log_odds(point: [f32; 2], samples: usize) -> f32 {
    use std::f64::consts::TAU;
    let (positives, hard_negatives, easy_negatives) = class_counts(samples);
    let (positives, hard_negatives, easy_negatives) = (
        positives as f64,
        hard_negatives as f64,
        easy_negatives as f64,
    );
    // Densities in the plane; a radius drawn with density g(r) in every direction has
    // density g(r) / (2πr).
    let r = f64::from(point[0])
        .hypot(f64::from(point[1]))
        .max(f64::MIN_POSITIVE);
    let variance = POSITIVE_SIGMA * POSITIVE_SIGMA;
    let positive = (-r * r / (2.0 * variance)).exp() / (TAU * variance);
    // A negative radius drawn for the ring lands on the opposite side: the radial density
    // is the normal folded at 0.
    let normal_density = |z: f64| (-0.5 * z * z).exp() / TAU.sqrt();
    let ring = (normal_density((r - RING_RADIUS) / RING_WIDTH)
        + normal_density((r + RING_RADIUS) / RING_WIDTH))
        / (RING_WIDTH * TAU * r);
    let easy = if (EASY_MIN_RADIUS..EASY_MAX_RADIUS).contains(&r) {
        1.0 / ((EASY_MAX_RADIUS - EASY_MIN_RADIUS) * TAU * r)
    } else {
        0.0
    };
    ((positives * positive).ln() - (hard_negatives * ring + easy_negatives * easy).ln()) as f32
}

/// A point at `radius` from the origin in a uniformly random direction.
fn polar(radius: f64, rng: &mut Rng) -> [f64; 2] {
    let angle = std::f64::consts::TAU * rng.uniform();
    [radius * angle.cos(), radius * angle.sin()]
}

// ---------------------------------------------------------------------------------------
// The classifier: 2 → HIDDEN tanh → 1 logit.

#[derive(Clone)]
struct Mlp {
    input_weights: [[f32; 2]; HIDDEN],
    hidden_bias: [f32; HIDDEN],
    output_weights: [f32; HIDDEN],
    output_bias: f32,
}

/// The gradient of the loss with respect to every parameter of an [`Mlp`], summed in f64.
struct Gradients {
    input_weights: [[f64; 2]; HIDDEN],
    hidden_bias: [f64; HIDDEN],
    output_weights: [f64; HIDDEN],
    output_bias: f64,
}

impl Mlp {
    fn new(rng: &mut Rng) -> Self {
        let mut mlp = Mlp {
            input_weights: [[0.0; 2]; HIDDEN],
            hidden_bias: [0.0; HIDDEN],
            output_weights: [0.0; HIDDEN],
            // RetinaNet's prior-probability initialisation, for both losses: the output
            // starts at p = π for every sample, so the first steps are not spent pushing
            // 99 % of the data down from p = 0.5 (which would swamp either loss).
            output_bias: (-((1.0 - PRIOR) / PRIOR).ln()) as f32,
        };
        // Unit-variance input weights and spread-out biases: hidden units start as lines
        // at varied orientations and offsets across the data's range.
        for (weights, bias) in mlp.input_weights.iter_mut().zip(&mut mlp.hidden_bias) {
            *weights = [rng.normal() as f32, rng.normal() as f32];
            *bias = rng.normal() as f32;
        }
        // Small output weights, as RetinaNet's N(0, 0.01²) last layer.
        for weight in &mut mlp.output_weights {
            *weight = 0.01 * rng.normal() as f32;
        }
        mlp
    }

    /// Writes the hidden activations (kept for the backward pass) and the output logits.
    fn forward(&self, features: &[[f32; 2]], hidden: &mut [[f32; HIDDEN]], logits: &mut [f32]) {
        for ((x, h), logit) in features.iter().zip(hidden).zip(logits) {
            let mut out = self.output_bias;
            for (((activation, w), b), v) in h
                .iter_mut()
                .zip(&self.input_weights)
                .zip(&self.hidden_bias)
                .zip(&self.output_weights)
            {
                *activation = (b + w[0] * x[0] + w[1] * x[1]).tanh();
                out += v * *activation;
            }
            *logit = out;
        }
    }

    fn logits(&self, features: &[[f32; 2]]) -> Vec<f32> {
        let mut hidden = vec![[0.0; HIDDEN]; features.len()];
        let mut logits = vec![0.0; features.len()];
        self.forward(features, &mut hidden, &mut logits);
        logits
    }

    /// Backpropagates dL/dlogit (from the library) through the two layers.
    fn backward(
        &self,
        features: &[[f32; 2]],
        hidden: &[[f32; HIDDEN]],
        logit_grad: &[f32],
    ) -> Gradients {
        let mut grad = Gradients {
            input_weights: [[0.0; 2]; HIDDEN],
            hidden_bias: [0.0; HIDDEN],
            output_weights: [0.0; HIDDEN],
            output_bias: 0.0,
        };
        for ((x, h), &g) in features.iter().zip(hidden).zip(logit_grad) {
            let g = f64::from(g);
            grad.output_bias += g;
            for (j, &activation) in h.iter().enumerate() {
                let activation = f64::from(activation);
                grad.output_weights[j] += g * activation;
                // tanh' = 1 − tanh².
                let pre_activation_grad =
                    g * f64::from(self.output_weights[j]) * (1.0 - activation * activation);
                grad.hidden_bias[j] += pre_activation_grad;
                grad.input_weights[j][0] += pre_activation_grad * f64::from(x[0]);
                grad.input_weights[j][1] += pre_activation_grad * f64::from(x[1]);
            }
        }
        grad
    }

    fn descend(&mut self, grad: &Gradients, learning_rate: f32) {
        let step = |parameter: &mut f32, g: f64| *parameter -= learning_rate * g as f32;
        step(&mut self.output_bias, grad.output_bias);
        for j in 0..HIDDEN {
            step(&mut self.output_weights[j], grad.output_weights[j]);
            step(&mut self.hidden_bias[j], grad.hidden_bias[j]);
            step(&mut self.input_weights[j][0], grad.input_weights[j][0]);
            step(&mut self.input_weights[j][1], grad.input_weights[j][1]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Training

struct Trained {
    model: Mlp,
    /// Time inside the library's loss + gradient calls.
    loss_time: Duration,
    /// Time of the training steps (forward, loss, backward, update), without the
    /// diagnostics and checkpoint evaluations.
    total_time: Duration,
    first_loss: f32,
    last_loss: f32,
    /// Share of Σ|dL/dlogit| that comes from easy negatives, at the first and last step.
    first_easy_share: f64,
    last_easy_share: f64,
    /// Test-set AP after some numbers of steps: how fast each loss gets there.
    test_ap_by_step: Vec<(usize, f64)>,
}

/// After how many steps the test AP is measured: 1/16, 1/8, 1/4, 1/2 and all of them.
fn checkpoints(steps: usize) -> Vec<usize> {
    let mut checkpoints: Vec<usize> = [16, 8, 4, 2, 1]
        .iter()
        .map(|divisor| (steps / divisor).max(1))
        .collect();
    checkpoints.dedup();
    checkpoints
}

fn train(
    initial: &Mlp,
    train_set: &DataSet,
    test_set: &DataSet,
    options: &SigmoidFocalOptions,
    config: &Config,
) -> Result<Trained, FocalError> {
    let n = train_set.labels.len();
    let mut model = initial.clone();
    let mut hidden = vec![[0.0f32; HIDDEN]; n];
    let mut logits = vec![0.0f32; n];
    let mut logit_grad = vec![0.0f32; n];
    let mut loss = [0.0f32];
    let (mut loss_time, mut total_time) = (Duration::ZERO, Duration::ZERO);
    let (mut first_loss, mut first_easy_share) = (0.0, 0.0);
    let mut last_easy_share = 0.0;
    let checkpoints = checkpoints(config.steps);
    let mut test_ap_by_step = Vec::with_capacity(checkpoints.len());
    for step in 1..=config.steps {
        let step_start = Instant::now();
        model.forward(&train_set.features, &mut hidden, &mut logits);
        let call = Instant::now();
        sigmoid_focal_loss_grad(
            &logits,
            SigmoidTargets::Labels(&train_set.labels),
            None,
            options,
            &mut loss,
            &mut logit_grad,
        )?;
        loss_time += call.elapsed();
        let grad = model.backward(&train_set.features, &hidden, &logit_grad);
        model.descend(&grad, config.learning_rate);
        total_time += step_start.elapsed();

        // Diagnostics, outside the timed step.
        if step == 1 || step == config.steps {
            last_easy_share = easy_negative_share(&logit_grad, &train_set.kinds);
            if step == 1 {
                first_easy_share = last_easy_share;
                first_loss = loss[0];
            }
        }
        if checkpoints.contains(&step) {
            let scores = model.logits(&test_set.features);
            test_ap_by_step.push((step, average_precision(&scores, &test_set.labels)));
        }
    }
    Ok(Trained {
        model,
        loss_time,
        total_time,
        first_loss,
        last_loss: loss[0],
        first_easy_share,
        last_easy_share,
        test_ap_by_step,
    })
}

fn easy_negative_share(logit_grad: &[f32], kinds: &[Kind]) -> f64 {
    let (mut easy, mut total) = (0.0f64, 0.0f64);
    for (&g, &kind) in logit_grad.iter().zip(kinds) {
        let magnitude = f64::from(g.abs());
        total += magnitude;
        if kind == Kind::EasyNegative {
            easy += magnitude;
        }
    }
    if total > 0.0 { easy / total } else { 0.0 }
}

// ---------------------------------------------------------------------------------------
// Metrics. Scores are logits: σ is monotone, and logits do not round to 1.0 as f32
// probabilities do, which would tie the most confident samples.

/// Predicting "positive" for every score ≥ `threshold`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct OperatingPoint {
    threshold: f32,
    true_positives: usize,
    false_positives: usize,
}

/// One operating point per distinct score, from the highest score down. Tied scores are
/// one point: a threshold cannot split them.
fn operating_points(scores: &[f32], labels: &[u8]) -> Vec<OperatingPoint> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut points = Vec::new();
    let (mut true_positives, mut false_positives) = (0, 0);
    for (rank, &i) in order.iter().enumerate() {
        if labels[i] == 1 {
            true_positives += 1;
        } else {
            false_positives += 1;
        }
        let last_of_tie = order
            .get(rank + 1)
            .is_none_or(|&next| scores[next] != scores[i]);
        if last_of_tie {
            points.push(OperatingPoint {
                threshold: scores[i],
                true_positives,
                false_positives,
            });
        }
    }
    points
}

/// Area under the precision–recall curve as a step function (scikit-learn's
/// `average_precision_score`): Σ (recall_k − recall_{k−1}) · precision_k. NaN without
/// positives.
fn average_precision(scores: &[f32], labels: &[u8]) -> f64 {
    let positives = labels.iter().filter(|&&label| label == 1).count();
    let mut area = 0.0;
    let mut previous_true_positives = 0;
    for point in operating_points(scores, labels) {
        let precision =
            point.true_positives as f64 / (point.true_positives + point.false_positives) as f64;
        area += (point.true_positives - previous_true_positives) as f64 * precision;
        previous_true_positives = point.true_positives;
    }
    area / positives as f64
}

/// The threshold with the best F1 (the highest such threshold on ties).
fn best_f1_threshold(scores: &[f32], labels: &[u8]) -> f32 {
    let positives = labels.iter().filter(|&&label| label == 1).count();
    let f1 = |p: &OperatingPoint| {
        2.0 * p.true_positives as f64 / (p.true_positives + p.false_positives + positives) as f64
    };
    let mut best: Option<(f64, f32)> = None;
    for point in operating_points(scores, labels) {
        let score = f1(&point);
        if best.is_none_or(|(best_score, _)| score > best_score) {
            best = Some((score, point.threshold));
        }
    }
    best.map_or(0.0, |(_, threshold)| threshold)
}

/// Recall and precision of "positive if score ≥ threshold"; precision is `None` when
/// nothing is predicted positive (0/0).
fn recall_precision(scores: &[f32], labels: &[u8], threshold: f32) -> (f64, Option<f64>) {
    let (mut true_positives, mut predicted, mut positives) = (0usize, 0usize, 0usize);
    for (&score, &label) in scores.iter().zip(labels) {
        let is_predicted = score >= threshold;
        predicted += usize::from(is_predicted);
        positives += usize::from(label == 1);
        true_positives += usize::from(is_predicted && label == 1);
    }
    let recall = true_positives as f64 / positives as f64;
    let precision = (predicted > 0).then(|| true_positives as f64 / predicted as f64);
    (recall, precision)
}

fn sigmoid(x: f32) -> f64 {
    1.0 / (1.0 + (-f64::from(x)).exp())
}

// ---------------------------------------------------------------------------------------
// The experiment

fn run(config: &Config) -> Result<(), FocalError> {
    // One stream for the data (train first, then test: same generator, different draws),
    // another for the initial weights, shared by both models.
    let mut data_rng = Rng::new(config.seed);
    let train_set = DataSet::generate(config.samples, &mut data_rng);
    let test_set = DataSet::generate(
        config.samples * TEST_SAMPLES_PER_TRAIN_SAMPLE,
        &mut data_rng,
    );
    let initial = Mlp::new(&mut Rng::new(config.seed ^ WEIGHT_STREAM));

    // Sum over the batch ÷ number of positives (RetinaNet's normaliser): the gradient's
    // scale then does not shrink with the imbalance ratio or the batch size, so one
    // learning rate suits any --samples. (`Reduction::Mean` is the default; the normaliser
    // replaces its divisor, the element count.)
    let positives = train_set.positives() as f64;
    let bce = SigmoidFocalOptions::default()
        .gamma(0.0)
        .alpha(None)
        .normalizer(positives);
    let focal = SigmoidFocalOptions::default().normalizer(positives); // γ = 2, α = 0.25

    println!(
        "imbalanced: seed {}; {} train / {} test samples, {} / {} positives (1:{} imbalance)",
        config.seed,
        train_set.labels.len(),
        test_set.labels.len(),
        train_set.positives(),
        test_set.positives(),
        SAMPLES_PER_POSITIVE - 1,
    );
    println!(
        "data:  positives N(0, {POSITIVE_SIGMA}²) at the origin; {:.0} % hard negatives on a ring \
         r = {RING_RADIUS} ± {RING_WIDTH}; the rest easy negatives at r in [{EASY_MIN_RADIUS}, {EASY_MAX_RADIUS}]",
        HARD_NEGATIVE_SHARE * 100.0
    );
    println!(
        "model: 2-{HIDDEN}-1 tanh MLP, {} full-batch gradient-descent steps, learning rate {}, \
         output bias starts at p = {PRIOR}",
        config.steps, config.learning_rate,
    );
    println!("loss:  sum / number of positives; f32; one fused loss + gradient call per step");
    println!();

    let runs = [
        (
            "BCE (γ=0, α off)",
            train(&initial, &train_set, &test_set, &bce, config)?,
        ),
        (
            "focal (γ=2, α=.25)",
            train(&initial, &train_set, &test_set, &focal, config)?,
        ),
    ];

    // Scores of each row on both sets: the two models and the true posterior.
    struct Row<'a> {
        name: &'a str,
        train_scores: Vec<f32>,
        test_scores: Vec<f32>,
        times: Option<(Duration, Duration)>,
    }
    let mut rows: Vec<Row> = runs
        .iter()
        .map(|(name, trained)| Row {
            name,
            train_scores: trained.model.logits(&train_set.features),
            test_scores: trained.model.logits(&test_set.features),
            times: Some((trained.loss_time, trained.total_time)),
        })
        .collect();
    let true_scores = |data: &DataSet| -> Vec<f32> {
        let samples = data.labels.len();
        data.features
            .iter()
            .map(|&point| true_log_odds(point, samples))
            .collect()
    };
    rows.push(Row {
        name: "true posterior",
        train_scores: true_scores(&train_set),
        test_scores: true_scores(&test_set),
        times: None,
    });

    let name_width = rows
        .iter()
        .map(|row| row.name.chars().count())
        .max()
        .unwrap_or(0);
    let pad = |name: &str| format!("{name}{}", " ".repeat(name_width - name.chars().count()));
    let show = |precision: Option<f64>| precision.map_or("n/a".to_string(), |p| format!("{p:.3}"));
    let millis = |time: Option<Duration>| {
        time.map_or("-".to_string(), |t| {
            format!("{:.0} ms", t.as_secs_f64() * 1e3)
        })
    };

    println!("test set, threshold p = 0.5:");
    println!(
        "{}  {:>9}  {:>9}  {:>6}  {:>10}  {:>10}",
        pad("scores"),
        "recall",
        "precision",
        "AP",
        "loss time",
        "total time"
    );
    for row in &rows {
        // p ≥ 0.5 ⇔ logit ≥ 0.
        let (recall, precision) = recall_precision(&row.test_scores, &test_set.labels, 0.0);
        println!(
            "{}  {:>9.3}  {:>9}  {:>6.3}  {:>10}  {:>10}",
            pad(row.name),
            recall,
            show(precision),
            average_precision(&row.test_scores, &test_set.labels),
            millis(row.times.map(|(loss, _)| loss)),
            millis(row.times.map(|(_, total)| total)),
        );
    }
    println!();

    println!("test set, threshold chosen for the best F1 on the TRAIN set:");
    println!(
        "{}  {:>9}  {:>9}  {:>9}",
        pad("scores"),
        "p ≥",
        "recall",
        "precision"
    );
    for row in &rows {
        let threshold = best_f1_threshold(&row.train_scores, &train_set.labels);
        let (recall, precision) = recall_precision(&row.test_scores, &test_set.labels, threshold);
        println!(
            "{}  {:>9.3}  {:>9.3}  {:>9}",
            pad(row.name),
            sigmoid(threshold),
            recall,
            show(precision),
        );
    }
    println!();

    println!("training (two different loss functions: compare each row with itself):");
    println!(
        "{}  {:>10}  {:>10}  easy negatives' share of Σ|dL/dlogit|, first → last step",
        pad("loss"),
        "first loss",
        "last loss",
    );
    for (name, trained) in &runs {
        println!(
            "{}  {:>10.4}  {:>10.4}  {:.2} % → {:.2} %",
            pad(name),
            trained.first_loss,
            trained.last_loss,
            trained.first_easy_share * 100.0,
            trained.last_easy_share * 100.0
        );
    }
    println!();

    println!("test AP after this many steps (how fast each loss gets there):");
    let mut header = pad("steps");
    for &(step, _) in &runs[0].1.test_ap_by_step {
        header.push_str(&format!("  {step:>6}"));
    }
    println!("{header}");
    for (name, trained) in &runs {
        let mut line = pad(name);
        for &(_, ap) in &trained.test_ap_by_step {
            line.push_str(&format!("  {ap:>6.3}"));
        }
        println!("{line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|arg| arg.to_string()).collect()
    }

    #[test]
    fn average_precision_of_rankings() {
        let labels = [1, 0, 1, 0];
        assert_eq!(average_precision(&[4.0, 3.0, 2.0, 1.0], &[1, 1, 0, 0]), 1.0);
        let ap = average_precision(&[4.0, 3.0, 2.0, 1.0], &labels);
        assert!((ap - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        // All tied: one operating point, AP = the positive rate.
        assert_eq!(average_precision(&[0.0; 4], &labels), 0.5);
        // A positive tied with a negative shares its precision (1/2), not the best order's 1.
        let ap = average_precision(&[0.5, 0.5, 0.1], &[1, 0, 1]);
        assert!((ap - (0.5 * 0.5 + 0.5 * 2.0 / 3.0)).abs() < 1e-12);
    }

    #[test]
    fn thresholds() {
        let (scores, labels) = ([3.0, 2.0, 1.0, 0.0], [1, 1, 0, 1]);
        // F1 at 2.0 is 2·2/(2+0+3) = 0.8 and at 0.0 is 2·3/(3+1+3) ≈ 0.857.
        assert_eq!(best_f1_threshold(&scores, &labels), 0.0);
        assert_eq!(
            recall_precision(&scores, &labels, 2.0),
            (2.0 / 3.0, Some(1.0))
        );
        assert_eq!(recall_precision(&scores, &labels, 9.0), (0.0, None));
    }

    #[test]
    fn command_line() {
        let default = parse_args(args(&[])).expect("no arguments are valid");
        let Command::Run(config) = default else {
            panic!("expected a run")
        };
        assert_eq!(
            (config.seed, config.samples),
            (DEFAULT_SEED, DEFAULT_SAMPLES)
        );
        let parsed = parse_args(args(&["--seed=7", "--steps", "3", "--lr", "0.5"]));
        let Ok(Command::Run(config)) = parsed else {
            panic!("expected a run, got {parsed:?}")
        };
        assert_eq!(
            (config.seed, config.steps, config.learning_rate),
            (7, 3, 0.5)
        );
        assert_eq!(parse_args(args(&["-h"])), Ok(Command::Help));
        for bad in [
            &["--steps"][..],
            &["--steps", "0"],
            &["--samples", "12"],
            &["--seed", "-1"],
            &["--lr", "nan"],
            &["--lr", "-1"],
            &["--frobnicate"],
            &["5"],
        ] {
            assert!(parse_args(args(bad)).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn true_posterior_is_highest_at_the_centre() {
        let at = |r: f32| true_log_odds([r, 0.0], DEFAULT_SAMPLES);
        assert!(at(0.1) > at(1.0) && at(1.0) > at(1.5) && at(1.5) > at(5.0));
        assert!(at(0.1) > 0.0 && at(1.5) < 0.0);
    }

    #[test]
    fn checkpoints_are_distinct_and_end_at_the_last_step() {
        assert_eq!(checkpoints(400), [25, 50, 100, 200, 400]);
        assert_eq!(checkpoints(3), [1, 3]);
        assert_eq!(checkpoints(1), [1]);
    }

    #[test]
    fn class_counts_add_up() {
        assert_eq!(class_counts(20_000), (200, 800, 19_000));
        let data = DataSet::generate(1_000, &mut Rng::new(3));
        assert_eq!(data.positives(), 10);
        assert_eq!(data.features.len(), 1_000);
    }
}
