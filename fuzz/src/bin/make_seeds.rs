//! Writes the seed corpora: every fourth golden case of `tests/golden/cases.txt` (as a plain
//! call, and for the sigmoid ones and the softmax ones with a golden Hessian also as a
//! gradient-and-Hessian call), encoded for each target — every loss, target form, element
//! type, option and reduction is among them — and then the focal family: every fifth case of
//! `tests/golden/family.txt` (every objective, every target form and both element types; at
//! most 64 logits) and per-class γ on more golden class-index cases (the golden softmax cases
//! have per-class γ and poly-1 of their own).
//!
//! ```text
//! cd fuzz && cargo run --bin make_seeds   # rewrites corpus/<target>/golden-*
//! ```

use focal_loss::{Reduction, SoftmaxAlpha};
use focal_loss_fuzz::input::{
    Case, Objective, Problem, Sigmoid, SigmoidMode, Softmax, Targets, encode,
};
use std::collections::HashMap;
use std::path::Path;

type Fields<'a> = HashMap<&'a str, &'a str>;

/// The cases of a golden file: blocks of `key value…` lines ended by `end`.
fn blocks(text: &str) -> Vec<Fields<'_>> {
    text.split("\nend")
        .map(|block| {
            block
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once(' '))
                .collect()
        })
        .collect()
}

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

fn case(fields: &Fields<'_>) -> Option<Vec<Case>> {
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
        return Some(
            vec![Case {
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
                    class_gamma: fields.get("class_gamma").map(|v| numbers(v)),
                    epsilon: fields
                        .get("epsilon")
                        .map_or(Some(0.0), |v| v.parse().ok())?,
                    hessian: false,
                    hessian_floor: None,
                }),
            }]
            .into_iter()
            // The cases with a golden Hessian seed the Hessian calls too.
            .flat_map(|case| {
                let hessian = fields.contains_key("hess").then(|| {
                    let mut case = case.clone();
                    if let Problem::Softmax(s) = &mut case.problem {
                        s.hessian = true;
                        s.hessian_floor = Some(1e-3);
                    }
                    case
                });
                std::iter::once(case).chain(hessian)
            })
            .collect(),
        );
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
        objective: Objective::Focal,
    };
    Some(with_grad_hess(single, sigmoid))
}

/// A sigmoid call as a seed, and the same as a gradient-and-Hessian call.
fn with_grad_hess(single: bool, sigmoid: Sigmoid) -> Vec<Case> {
    let grad_hess = Sigmoid {
        mode: SigmoidMode::GradHess { floor: Some(1e-6) },
        normalizer: None,
        ..sigmoid.clone()
    };
    vec![
        Case {
            single,
            problem: Problem::Sigmoid(sigmoid),
        },
        Case {
            single,
            problem: Problem::Sigmoid(grad_hess),
        },
    ]
}

/// A case of `tests/golden/family.txt` (an objective of the sigmoid family) with `reduction`,
/// its arrays cut to at most 64 logits around their middle (the seeds' limit; whole rows of
/// class-index targets).
fn family_case(fields: &Fields<'_>, reduction: Reduction) -> Option<Vec<Case>> {
    let number = |key: &str| fields[key].parse::<f64>().ok();
    let targets = numbers(fields["targets"]);
    // Logits per target, and the targets kept.
    let per_target: usize = match fields["targets_kind"] {
        "classes" => fields["classes"].parse().ok()?,
        _ => 1,
    };
    let kept = (64 / per_target).min(targets.len());
    let start = (targets.len() - kept) / 2;
    let window = |v: Vec<f64>, per: usize| -> Vec<f64> {
        v.into_iter().skip(start * per).take(kept * per).collect()
    };
    let targets = window(targets, 1);
    let targets = match fields["targets_kind"] {
        "soft" => Targets::Soft(targets),
        "classes" => Targets::Classes {
            targets: targets.iter().map(|&t| t as i32).collect(),
            classes: per_target,
        },
        _ => Targets::Labels(targets.iter().map(|&v| v as u8).collect()),
    };
    // The case's γ and α, which the objectives share (as the C options do), and its own.
    let alpha = || optional(fields["alpha"]);
    let (gamma, alpha, objective) = match fields["objective"] {
        "focal_star" => (
            number("gamma")?,
            alpha(),
            Objective::FocalStar {
                beta: number("beta")?,
            },
        ),
        "poly1_focal" => (
            number("gamma")?,
            alpha(),
            Objective::Poly1Focal {
                epsilon: number("epsilon")?,
            },
        ),
        "quality_focal" => (number("beta")?, None, Objective::QualityFocal),
        "varifocal" => (
            number("gamma")?,
            None,
            Objective::Varifocal {
                alpha: number("alpha")?,
            },
        ),
        "asymmetric" => (
            number("gamma_positive")?,
            None,
            Objective::Asymmetric {
                gamma_negative: number("gamma_negative")?,
                margin: number("margin")?,
            },
        ),
        "reduced_focal" => (
            number("gamma")?,
            alpha(),
            Objective::ReducedFocal {
                threshold: number("threshold")?,
            },
        ),
        "per_class_focal" => (
            2.0,
            alpha(),
            Objective::PerClassFocal {
                class_gamma: numbers(fields["class_gamma"]),
            },
        ),
        _ => return None,
    };
    let sigmoid = Sigmoid {
        logits: window(numbers(fields["logits"]), per_target),
        targets,
        weights: (fields["weights"] != "none")
            .then(|| window(numbers(fields["weights"]), per_target)),
        gamma,
        alpha,
        label_smoothing: number("smoothing")?,
        reduction,
        normalizer: None,
        mode: SigmoidMode::LossGrad,
        output_skew: 0,
        objective,
    };
    Some(with_grad_hess(fields["dtype"] == "f32", sigmoid))
}

/// Per-class γ (`[0.5, 1, 2, 3.5]` repeated over the classes) on a golden sigmoid case of
/// class-index targets, as a loss-and-gradient and a gradient-and-Hessian call.
fn per_class_variant(case: &Case) -> Vec<Case> {
    let Problem::Sigmoid(s) = &case.problem else {
        return Vec::new();
    };
    let Targets::Classes { classes, .. } = s.targets else {
        return Vec::new();
    };
    let objective = Objective::PerClassFocal {
        class_gamma: (0..classes).map(|k| [0.5, 1.0, 2.0, 3.5][k % 4]).collect(),
    };
    with_grad_hess(
        case.single,
        Sigmoid {
            objective,
            ..s.clone()
        },
    )
}

fn main() -> std::io::Result<()> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(here.join("../tests/golden/cases.txt"))?;
    let golden: Vec<Fields<'_>> = blocks(&text)
        .into_iter()
        .filter(|fields| fields.contains_key("family"))
        .step_by(4)
        .collect();
    let mut cases: Vec<Case> = golden
        .iter()
        .flat_map(|fields| case(fields).unwrap_or_default())
        .collect();
    // The family, after the focal loss's seeds (whose names stay as they were).
    let family = std::fs::read_to_string(here.join("../tests/golden/family.txt"))?;
    let reductions = [Reduction::None, Reduction::Sum, Reduction::Mean];
    let family_cases: Vec<Case> = blocks(&family)
        .iter()
        .filter(|fields| fields.contains_key("objective"))
        .step_by(5)
        .enumerate()
        .flat_map(|(i, fields)| family_case(fields, reductions[i % 3]).unwrap_or_default())
        .collect();
    let variants: Vec<Case> = cases
        .iter()
        .filter(|c| {
            matches!(&c.problem, Problem::Sigmoid(s)
                if s.mode == SigmoidMode::LossGrad && matches!(s.targets, Targets::Classes { .. }))
        })
        .step_by(4)
        .flat_map(per_class_variant)
        .collect();
    cases.extend(family_cases);
    cases.extend(variants);
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
