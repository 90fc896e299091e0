//! Writes the seed corpora: every fourth golden case of `tests/golden/cases.txt` (as a plain
//! call, and for the sigmoid ones also as a gradient-and-Hessian call), encoded for each
//! target — every loss, target form, element type, option and reduction is among them.
//!
//! ```text
//! cd fuzz && cargo run --bin make_seeds   # rewrites corpus/<target>/golden-*
//! ```

use focal_loss::{Reduction, SoftmaxAlpha};
use focal_loss_fuzz::input::{Case, Problem, Sigmoid, SigmoidMode, Softmax, Targets, encode};
use std::collections::HashMap;
use std::path::Path;

fn numbers(text: &str) -> Vec<f64> {
    text.split_whitespace()
        .map(|v| v.parse().expect("a number"))
        .collect()
}

fn optional(text: &str) -> Option<f64> {
    (text != "none").then(|| text.parse().expect("a number"))
}

fn reduction(text: &str) -> Reduction {
    match text {
        "none" => Reduction::None,
        "sum" => Reduction::Sum,
        _ => Reduction::Mean,
    }
}

fn case(fields: &HashMap<&str, &str>) -> Option<Vec<Case>> {
    let single = fields["dtype"] == "f32";
    let gamma: f64 = fields["gamma"].parse().ok()?;
    let logits = numbers(fields["logits"]);
    let label_smoothing: f64 = fields["smoothing"].parse().ok()?;
    let reduction = reduction(fields["reduction"]);
    let normalizer = optional(fields["normalizer"]);
    let weights = (fields["weights"] != "none").then(|| numbers(fields["weights"]));
    let family = fields["family"];
    if family == "softmax" {
        let classes: usize = fields["classes"].parse().ok()?;
        let spatial: usize = fields["spatial"].parse().ok()?;
        let targets: Vec<i32> = numbers(fields["targets"])
            .iter()
            .map(|&t| t as i32)
            .collect();
        let alpha = match (fields.get("class_alpha"), optional(fields["alpha"])) {
            (Some(v), _) => SoftmaxAlpha::PerClass(numbers(v)),
            (None, Some(a)) => SoftmaxAlpha::Uniform(a),
            (None, None) => SoftmaxAlpha::Off,
        };
        if classes > 24 || spatial > 9 || targets.len() / spatial > 6 {
            return None;
        }
        return Some(vec![Case {
            single,
            problem: Problem::Softmax(Softmax {
                batch: targets.len() / spatial,
                logits,
                targets,
                classes,
                spatial,
                gamma,
                alpha,
                label_smoothing,
                reduction,
                normalizer,
                ignore_index: fields["ignore_index"].parse().ok()?,
                grad: true,
                output_skew: 0,
            }),
        }]);
    }
    let targets = match family {
        "sigmoid_soft" => Targets::Soft(numbers(fields["targets"])),
        "sigmoid_labels" => Targets::Labels(
            numbers(fields["targets"])
                .iter()
                .map(|&v| v as u8)
                .collect(),
        ),
        _ => Targets::Classes {
            targets: numbers(fields["targets"])
                .iter()
                .map(|&t| t as i32)
                .collect(),
            classes: fields["classes"].parse().ok()?,
        },
    };
    let sigmoid = Sigmoid {
        logits,
        targets,
        weights,
        gamma,
        alpha: optional(fields["alpha"]),
        label_smoothing,
        reduction,
        normalizer,
        mode: SigmoidMode::LossGrad,
        output_skew: 0,
    };
    let grad_hess = Sigmoid {
        mode: SigmoidMode::GradHess { floor: Some(1e-6) },
        normalizer: None,
        ..sigmoid.clone()
    };
    Some(vec![
        Case {
            single,
            problem: Problem::Sigmoid(sigmoid),
        },
        Case {
            single,
            problem: Problem::Sigmoid(grad_hess),
        },
    ])
}

fn main() -> std::io::Result<()> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(here.join("../tests/golden/cases.txt"))?;
    let mut cases = Vec::new();
    let mut blocks = 0usize;
    for block in text.split("\nend") {
        let fields: HashMap<&str, &str> = block
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(' '))
            .collect();
        if fields.contains_key("family") {
            blocks += 1;
            if blocks % 4 == 1 {
                cases.extend(case(&fields).unwrap_or_default());
            }
        }
    }
    for target in ["kernels_vs_reference", "levels_agree", "c_abi"] {
        let dir = here.join("corpus").join(target);
        std::fs::create_dir_all(&dir)?;
        for (i, case) in cases.iter().enumerate() {
            let mut bytes = encode(case);
            if target == "c_abi" {
                // No departure from a plain C call, library-default threads.
                bytes.splice(0..0, [0u8, 0]);
            }
            std::fs::write(dir.join(format!("golden-{i:03}")), bytes)?;
        }
    }
    println!("{} seeds per target", cases.len());
    Ok(())
}
