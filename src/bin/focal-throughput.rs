//! Throughput of the focal losses on generated data.
//!
//! ```text
//! cargo run --release --bin focal-throughput -- [--loss sigmoid-labels] [--dtype f32]
//!     [--n 4000000] [--classes 80] [--spatial 1] [--gamma 2] [--output loss-grad] [--repeat 5]
//! ```
//! Prints the best of `--repeat` runs in million elements (logits) per second, a checksum of
//! the results and a hash of their bits, so that two builds can be compared.

use focal_loss::{
    Float, Reduction, SigmoidFocalOptions, SigmoidTargets, SoftmaxFocalOptions, SoftmaxShape,
    sigmoid_focal_grad_hess, sigmoid_focal_loss, sigmoid_focal_loss_grad, softmax_focal_loss,
    softmax_focal_loss_grad,
};
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str =
    "usage: focal-throughput [--loss sigmoid-labels|sigmoid-soft|sigmoid-classes|softmax]
                        [--dtype f32|f64] [--n LOGITS] [--classes C] [--spatial S]
                        [--gamma G] [--output loss|loss-grad|grad-hess] [--repeat R]";

#[derive(Clone, Copy, PartialEq)]
enum Loss {
    SigmoidLabels,
    SigmoidSoft,
    SigmoidClasses,
    Softmax,
}

#[derive(Clone, Copy, PartialEq)]
enum Output {
    Loss,
    LossGrad,
    GradHess,
}

struct Config {
    loss: Loss,
    f64: bool,
    n: usize,
    classes: usize,
    spatial: usize,
    gamma: f64,
    output: Output,
    repeat: usize,
}

fn parse(args: &[String]) -> Result<Config, String> {
    let mut config = Config {
        loss: Loss::SigmoidLabels,
        f64: false,
        n: 4_000_000,
        classes: 80,
        spatial: 1,
        gamma: 2.0,
        output: Output::LossGrad,
        repeat: 5,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<usize>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--loss" => {
                config.loss = match value.as_str() {
                    "sigmoid-labels" => Loss::SigmoidLabels,
                    "sigmoid-soft" => Loss::SigmoidSoft,
                    "sigmoid-classes" => Loss::SigmoidClasses,
                    "softmax" => Loss::Softmax,
                    other => return Err(format!("unknown loss {other}")),
                }
            }
            "--dtype" => {
                config.f64 = match value.as_str() {
                    "f32" => false,
                    "f64" => true,
                    other => return Err(format!("unknown dtype {other}")),
                }
            }
            "--n" => config.n = number(value)?,
            "--classes" => config.classes = number(value)?.max(1),
            "--spatial" => config.spatial = number(value)?.max(1),
            "--repeat" => config.repeat = number(value)?.max(1),
            "--gamma" => {
                config.gamma = value.parse().map_err(|e| format!("--gamma {value}: {e}"))?
            }
            "--output" => {
                config.output = match value.as_str() {
                    "loss" => Output::Loss,
                    "loss-grad" => Output::LossGrad,
                    "grad-hess" => Output::GradHess,
                    other => return Err(format!("unknown output {other}")),
                }
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if config.output == Output::GradHess && config.loss == Loss::Softmax {
        return Err("grad-hess is only defined for the sigmoid losses".into());
    }
    Ok(config)
}

/// A small deterministic generator (xorshift64*): the same data on every run and machine.
struct Generator(u64);

impl Generator {
    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn run<T: Float>(config: &Config) -> Result<(), String> {
    let mut generator = Generator(0x9E37_79B9_7F4A_7C15);
    let positions = config.n / (config.classes * config.spatial).max(1);
    let n = match config.loss {
        Loss::SigmoidLabels | Loss::SigmoidSoft => config.n,
        Loss::SigmoidClasses | Loss::Softmax => positions * config.classes * config.spatial,
    };
    let logits: Vec<T> = (0..n)
        .map(|_| T::from_f64(12.0 * generator.next_unit() - 6.0))
        .collect();
    let labels: Vec<u8> = (0..n)
        .map(|_| u8::from(generator.next_unit() < 0.1))
        .collect();
    let soft: Vec<T> = labels
        .iter()
        .map(|&l| T::from_f64(f64::from(l) * 0.9 + 0.05))
        .collect();
    let rows = positions * config.spatial;
    let class_targets: Vec<i32> = (0..rows)
        .map(|_| (generator.next_unit() * (config.classes as f64 + 1.0)) as i32)
        .collect();
    let softmax_targets: Vec<i32> = class_targets
        .iter()
        .map(|&t| t.min(config.classes as i32 - 1))
        .collect();
    let sigmoid_targets = match config.loss {
        Loss::SigmoidLabels => SigmoidTargets::Labels(&labels),
        Loss::SigmoidSoft => SigmoidTargets::Soft(&soft),
        _ => SigmoidTargets::Classes {
            targets: &class_targets,
            classes: config.classes,
        },
    };
    let sigmoid_options = SigmoidFocalOptions::default()
        .gamma(config.gamma)
        .reduction(Reduction::Mean);
    let softmax_options = SoftmaxFocalOptions::default().gamma(config.gamma);
    let shape = SoftmaxShape::channels_first(positions, config.classes, config.spatial);

    let mut loss = [T::default()];
    let mut grad = vec![T::default(); n];
    let mut hess = vec![T::default(); n];
    let mut best = f64::INFINITY;
    for _ in 0..config.repeat {
        let start = Instant::now();
        let result = match (config.loss, config.output) {
            (Loss::Softmax, Output::Loss) => softmax_focal_loss(
                &logits,
                &softmax_targets,
                shape,
                &softmax_options,
                &mut loss,
            ),
            (Loss::Softmax, _) => softmax_focal_loss_grad(
                &logits,
                &softmax_targets,
                shape,
                &softmax_options,
                &mut loss,
                &mut grad,
            ),
            (_, Output::Loss) => {
                sigmoid_focal_loss(&logits, sigmoid_targets, None, &sigmoid_options, &mut loss)
            }
            (_, Output::LossGrad) => sigmoid_focal_loss_grad(
                &logits,
                sigmoid_targets,
                None,
                &sigmoid_options,
                &mut loss,
                &mut grad,
            ),
            (_, Output::GradHess) => sigmoid_focal_grad_hess(
                &logits,
                sigmoid_targets,
                None,
                &sigmoid_options,
                Some(1e-6),
                &mut grad,
                &mut hess,
            ),
        };
        result.map_err(|e| e.to_string())?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    let checksum: f64 = grad.iter().chain(&hess).map(|g| g.to_f64()).sum();
    // FNV-1a over every output's bits: equal for two builds exactly when their results are.
    let bits = loss
        .iter()
        .chain(&grad)
        .chain(&hess)
        .flat_map(|v| v.to_f64().to_bits().to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, byte| {
            (h ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    println!(
        "{:<16} {} n={n:<10} gamma={:<5} best of {}: {:>9.3} ms  {:>8.1} M logits/s  loss={:.6e}  grad-checksum={:.6e}  bits={:016x}",
        match config.loss {
            Loss::SigmoidLabels => "sigmoid-labels",
            Loss::SigmoidSoft => "sigmoid-soft",
            Loss::SigmoidClasses => "sigmoid-classes",
            Loss::Softmax => "softmax",
        },
        T::NAME,
        config.gamma,
        config.repeat,
        best * 1e3,
        n as f64 / best / 1e6,
        loss[0].to_f64(),
        checksum,
        bits,
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse(&args) {
        Ok(config) => config,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let result = if config.f64 {
        run::<f64>(&config)
    } else {
        run::<f32>(&config)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
