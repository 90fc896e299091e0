//! Golden values: every loss, target form, option and reduction against an independent
//! high-precision evaluation of the naive definitions (`golden/generate.py`, mpmath).
//!
//! f64 results must be within 1e-13 relative of the golden value wherever it is a normal f64
//! (within the smallest normal, absolutely, elsewhere); f32 results within 2e-6 relative
//! wherever it is a normal f32, where "relative" is to the size of the terms a derivative is
//! made of when they cancel (the file carries them: `grad_scale`, `hess_scale`; for a
//! label-smoothed softmax row, 2(1+γ)·Σ α_k·y_k). Every output for these finite inputs must
//! be finite.

use focal_loss::{
    Float, Reduction, SigmoidFocalOptions, SigmoidTargets, SoftmaxFocalOptions, SoftmaxShape,
    sigmoid_focal_grad_hess, sigmoid_focal_loss, sigmoid_focal_loss_grad, softmax_focal_grad_hess,
    softmax_focal_loss, softmax_focal_loss_grad,
};
use std::collections::HashMap;

const CASES: &str = include_str!("golden/cases.txt");

/// One block of the golden file: its keys with their whitespace-separated tokens.
struct Case {
    fields: HashMap<String, Vec<String>>,
}

impl Case {
    fn tokens(&self, key: &str) -> &[String] {
        self.fields
            .get(key)
            .unwrap_or_else(|| panic!("case {} has no `{key}`", self.id()))
    }
    fn id(&self) -> &str {
        &self.fields["case"][0]
    }
    fn word(&self, key: &str) -> &str {
        &self.tokens(key)[0]
    }
    fn number(&self, key: &str) -> f64 {
        parse_f64(self.word(key))
    }
    fn optional_number(&self, key: &str) -> Option<f64> {
        match self.word(key) {
            "none" => None,
            v => Some(parse_f64(v)),
        }
    }
    fn integer(&self, key: &str) -> i64 {
        self.word(key).parse().expect("integer")
    }
    fn numbers(&self, key: &str) -> Vec<f64> {
        self.tokens(key).iter().map(|t| parse_f64(t)).collect()
    }
    fn optional_numbers(&self, key: &str) -> Option<Vec<f64>> {
        match self.fields.get(key) {
            None => None,
            Some(t) if t.len() == 1 && t[0] == "none" => None,
            Some(_) => Some(self.numbers(key)),
        }
    }
    fn reduction(&self) -> Reduction {
        match self.word("reduction") {
            "none" => Reduction::None,
            "sum" => Reduction::Sum,
            "mean" => Reduction::Mean,
            other => panic!("unknown reduction {other}"),
        }
    }
}

fn parse_f64(token: &str) -> f64 {
    token
        .parse()
        .unwrap_or_else(|e| panic!("bad number {token:?}: {e}"))
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut fields: Option<HashMap<String, Vec<String>>> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut tokens = line.split(' ');
        let key = tokens.next().unwrap().to_string();
        let values: Vec<String> = tokens.map(str::to_string).collect();
        if key == "end" {
            cases.push(Case {
                fields: fields.take().expect("`end` without `case`"),
            });
        } else {
            fields.get_or_insert_with(HashMap::new).insert(key, values);
        }
    }
    assert!(fields.is_none(), "unterminated case");
    cases
}

/// Collects the comparisons that failed, so that one run reports all of them.
#[derive(Default)]
struct Report {
    compared: usize,
    failures: Vec<String>,
    worst_relative: HashMap<&'static str, f64>,
}

impl Report {
    fn compare<T: Float>(
        &mut self,
        case: &Case,
        what: &str,
        got: &[T],
        want: &[f64],
        scale: Option<&[f64]>,
    ) {
        assert_eq!(got.len(), want.len(), "{} {what}: length", case.id());
        let (relative, smallest_normal) = match T::NAME {
            "f64" => (1e-13, f64::MIN_POSITIVE),
            _ => (2e-6, f64::from(f32::MIN_POSITIVE)),
        };
        for (i, (&got, &want)) in got.iter().zip(want).enumerate() {
            self.compared += 1;
            let got = got.to_f64();
            // f64 meets the bound relative to the value itself; f32 relative to the terms,
            // and so does f64 where poly-1 with ε < 0 cancels the focal terms, and the
            // softmax Hessian (whose terms cancel where it changes sign).
            let cancels =
                case.optional_numbers("epsilon").is_some() || what.contains("softmax hess");
            let magnitude = match (T::NAME, scale) {
                ("f32", Some(scale)) => want.abs().max(scale[i]),
                (_, Some(scale)) if cancels => want.abs().max(scale[i]),
                _ => want.abs(),
            };
            let ok = if !got.is_finite() {
                false
            } else if magnitude < smallest_normal {
                (got - want).abs() <= smallest_normal
            } else {
                let error = (got - want).abs() / magnitude;
                let worst = self.worst_relative.entry(T::NAME).or_insert(0.0);
                *worst = worst.max(error);
                error <= relative
            };
            if !ok {
                self.failures.push(format!(
                    "{} {what}[{i}]: got {got:e}, want {want:e} (rel {:.2e})",
                    case.id(),
                    ((got - want) / want).abs()
                ));
            }
        }
    }
}

fn sigmoid_options(case: &Case) -> SigmoidFocalOptions {
    SigmoidFocalOptions::default()
        .gamma(case.number("gamma"))
        .alpha(case.optional_number("alpha"))
        .label_smoothing(case.number("smoothing"))
        .reduction(case.reduction())
        .normalizer(case.optional_number("normalizer"))
}

fn softmax_options(case: &Case) -> SoftmaxFocalOptions {
    let options = SoftmaxFocalOptions::default()
        .gamma(case.number("gamma"))
        .alpha(case.optional_number("alpha"))
        .label_smoothing(case.number("smoothing"))
        .reduction(case.reduction())
        .normalizer(case.optional_number("normalizer"))
        .ignore_index(case.integer("ignore_index") as i32);
    let options = options
        .class_gamma(case.optional_numbers("class_gamma"))
        .epsilon(case.optional_numbers("epsilon").map_or(0.0, |e| e[0]));
    match case.optional_numbers("class_alpha") {
        Some(alpha) => options.class_alpha(alpha),
        None => options,
    }
}

fn to<T: Float>(values: &[f64]) -> Vec<T> {
    values
        .iter()
        .map(|&v| {
            let t = T::from_f64(v);
            assert_eq!(t.to_f64(), v, "golden inputs must be exact in {}", T::NAME);
            t
        })
        .collect()
}

fn run_sigmoid<T: Float>(case: &Case, report: &mut Report) {
    let logits: Vec<T> = to(&case.numbers("logits"));
    let weights: Option<Vec<T>> = case.optional_numbers("weights").map(|w| to(&w));
    let options = sigmoid_options(case);
    let soft: Vec<T>;
    let labels: Vec<u8>;
    let classes_targets: Vec<i32>;
    let targets = match case.word("family") {
        "sigmoid_soft" => {
            soft = to(&case.numbers("targets"));
            SigmoidTargets::Soft(&soft)
        }
        "sigmoid_labels" => {
            labels = case
                .tokens("targets")
                .iter()
                .map(|t| t.parse().unwrap())
                .collect();
            SigmoidTargets::Labels(&labels)
        }
        "sigmoid_classes" => {
            classes_targets = case
                .tokens("targets")
                .iter()
                .map(|t| t.parse().unwrap())
                .collect();
            SigmoidTargets::Classes {
                targets: &classes_targets,
                classes: case.integer("classes") as usize,
            }
        }
        other => panic!("unknown family {other}"),
    };
    let want_loss = case.numbers("loss");
    let want_grad = case.numbers("grad");
    let mut loss = vec![T::default(); want_loss.len()];
    let mut grad = vec![T::default(); logits.len()];
    sigmoid_focal_loss_grad(
        &logits,
        targets,
        weights.as_deref(),
        &options,
        &mut loss,
        &mut grad,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", case.id()));
    let grad_scale = case.optional_numbers("grad_scale");
    report.compare(case, "loss", &loss, &want_loss, None);
    report.compare(case, "grad", &grad, &want_grad, grad_scale.as_deref());

    let mut loss_only = vec![T::default(); want_loss.len()];
    sigmoid_focal_loss(
        &logits,
        targets,
        weights.as_deref(),
        &options,
        &mut loss_only,
    )
    .unwrap();
    assert_eq!(
        loss_only
            .iter()
            .map(|v| v.to_f64().to_bits())
            .collect::<Vec<_>>(),
        loss.iter()
            .map(|v| v.to_f64().to_bits())
            .collect::<Vec<_>>(),
        "{}: the loss-only call gives the fused call's bits",
        case.id()
    );

    if let Some(want_hess) = case.optional_numbers("hess") {
        let mut g = vec![T::default(); logits.len()];
        let mut hess = vec![T::default(); logits.len()];
        sigmoid_focal_grad_hess(
            &logits,
            targets,
            weights.as_deref(),
            &options,
            None,
            &mut g,
            &mut hess,
        )
        .unwrap();
        let hess_scale = case.optional_numbers("hess_scale");
        report.compare(
            case,
            "grad_hess.grad",
            &g,
            &want_grad,
            grad_scale.as_deref(),
        );
        report.compare(case, "hess", &hess, &want_hess, hess_scale.as_deref());
    }
}

fn run_softmax<T: Float>(case: &Case, report: &mut Report) {
    let logits: Vec<T> = to(&case.numbers("logits"));
    let targets: Vec<i32> = case
        .tokens("targets")
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
    let classes = case.integer("classes") as usize;
    let spatial = case.integer("spatial") as usize;
    let batch = targets.len() / spatial;
    let shape = SoftmaxShape::channels_first(batch, classes, spatial);
    let options = softmax_options(case);
    let want_loss = case.numbers("loss");
    let want_grad = case.numbers("grad");
    let mut loss = vec![T::default(); want_loss.len()];
    let mut grad = vec![T::default(); logits.len()];
    softmax_focal_loss_grad(&logits, &targets, shape, &options, &mut loss, &mut grad)
        .unwrap_or_else(|e| panic!("{}: {e}", case.id()));
    // A label-smoothed row's gradient sums terms of size ≤ (1+γ)·α_k·y_k that can cancel,
    // and poly-1's term (of either sign) adds at most |ε|·(2+γ_t).
    let ls = case.number("smoothing");
    let gamma = options
        .class_gamma
        .as_ref()
        .map_or(options.gamma, |g| g.iter().copied().fold(0.0, f64::max));
    let class_alpha = case.optional_numbers("class_alpha");
    let alpha = case.optional_number("alpha");
    let mut scale = vec![0.0; logits.len()];
    for (position, &t) in targets.iter().enumerate() {
        if (ls == 0.0 && options.epsilon == 0.0) || t == options.ignore_index {
            continue;
        }
        let weights: f64 = (0..classes)
            .map(|k| {
                let a = class_alpha.as_ref().map_or(alpha.unwrap_or(1.0), |v| v[k]);
                let y = if k as i32 == t { 1.0 - ls } else { 0.0 } + ls / classes as f64;
                a * y
            })
            .sum();
        let divisor = match options.reduction {
            Reduction::Mean => options.normalizer.unwrap_or_else(|| {
                targets
                    .iter()
                    .filter(|&&t| t != options.ignore_index)
                    .count() as f64
            }),
            _ => 1.0,
        };
        let (n, s) = (position / spatial, position % spatial);
        let poly = options.epsilon.abs() * (2.0 + gamma);
        for j in 0..classes {
            scale[(n * classes + j) * spatial + s] =
                (2.0 * (1.0 + gamma) * weights + poly) / divisor;
        }
    }
    let loss_scale = case.optional_numbers("loss_scale");
    report.compare(case, "loss", &loss, &want_loss, loss_scale.as_deref());
    report.compare(case, "grad", &grad, &want_grad, Some(&scale));
    if let Some(want_hess) = case.optional_numbers("hess") {
        let (mut g, mut hess) = (
            vec![T::default(); logits.len()],
            vec![T::default(); logits.len()],
        );
        softmax_focal_grad_hess(&logits, &targets, shape, &options, None, &mut g, &mut hess)
            .unwrap_or_else(|e| panic!("{}: {e}", case.id()));
        let hess_scale = case.numbers("hess_scale");
        report.compare(case, "grad_hess.grad", &g, &want_grad, Some(&scale));
        report.compare(case, "softmax hess", &hess, &want_hess, Some(&hess_scale));
    }
    let mut loss_only = vec![T::default(); want_loss.len()];
    softmax_focal_loss(&logits, &targets, shape, &options, &mut loss_only).unwrap();
    assert!(
        loss_only
            .iter()
            .zip(&loss)
            .all(|(a, b)| a.to_f64().to_bits() == b.to_f64().to_bits()),
        "{}: the loss-only call gives the fused call's bits",
        case.id()
    );
}

fn run_case<T: Float>(case: &Case, report: &mut Report) {
    if case.word("family") == "softmax" {
        run_softmax::<T>(case, report);
    } else {
        run_sigmoid::<T>(case, report);
    }
}

/// The scalar oracle itself, in f64, on every case (f32 cases included: their inputs are
/// exact in f64): it must meet the f64 bound.
fn run_reference(case: &Case, report: &mut Report) {
    let logits = case.numbers("logits");
    let want_loss = case.numbers("loss");
    let want_grad = case.numbers("grad");
    let mut loss = vec![0.0; want_loss.len()];
    let mut grad = vec![0.0; logits.len()];
    if case.word("family") == "softmax" {
        let targets: Vec<i32> = case
            .tokens("targets")
            .iter()
            .map(|t| t.parse().unwrap())
            .collect();
        let classes = case.integer("classes") as usize;
        let spatial = case.integer("spatial") as usize;
        let shape = SoftmaxShape::channels_first(targets.len() / spatial, classes, spatial);
        focal_loss::reference::softmax_focal(
            &logits,
            &targets,
            shape,
            &softmax_options(case),
            Some(&mut loss),
            Some(&mut grad),
        );
        if let Some(want_hess) = case.optional_numbers("hess") {
            let (mut g, mut hess) = (vec![0.0; logits.len()], vec![0.0; logits.len()]);
            focal_loss::reference::softmax_focal_grad_hess(
                &logits,
                &targets,
                shape,
                &softmax_options(case),
                None,
                &mut g,
                &mut hess,
            );
            let hess_scale = case.numbers("hess_scale");
            report.compare(case, "reference grad_hess.grad", &g, &want_grad, None);
            report.compare(
                case,
                "reference softmax hess",
                &hess,
                &want_hess,
                Some(&hess_scale),
            );
        }
    } else {
        let soft: Vec<f64>;
        let labels: Vec<u8>;
        let class_targets: Vec<i32>;
        let targets = match case.word("family") {
            "sigmoid_soft" => {
                soft = case.numbers("targets");
                SigmoidTargets::Soft(&soft)
            }
            "sigmoid_labels" => {
                labels = case
                    .tokens("targets")
                    .iter()
                    .map(|t| t.parse().unwrap())
                    .collect();
                SigmoidTargets::Labels(&labels)
            }
            _ => {
                class_targets = case
                    .tokens("targets")
                    .iter()
                    .map(|t| t.parse().unwrap())
                    .collect();
                SigmoidTargets::Classes {
                    targets: &class_targets,
                    classes: case.integer("classes") as usize,
                }
            }
        };
        let weights = case.optional_numbers("weights");
        focal_loss::reference::sigmoid_focal(
            &logits,
            &targets,
            weights.as_deref(),
            &sigmoid_options(case),
            Some(&mut loss),
            Some(&mut grad),
        );
    }
    // Where poly-1 with ε < 0 cancels, relative to the terms (`loss_scale`).
    let loss_scale = case.optional_numbers("loss_scale");
    report.compare(
        case,
        "reference loss",
        &loss,
        &want_loss,
        loss_scale.as_deref(),
    );
    report.compare(case, "reference grad", &grad, &want_grad, None);
}

#[test]
fn golden_values() {
    let cases = parse_cases(CASES);
    let mut report = Report::default();
    let mut families: HashMap<(String, String), usize> = HashMap::new();
    for case in &cases {
        *families
            .entry((case.word("family").into(), case.word("dtype").into()))
            .or_default() += 1;
        run_reference(case, &mut report);
        match case.word("dtype") {
            "f64" => run_case::<f64>(case, &mut report),
            "f32" => run_case::<f32>(case, &mut report),
            other => panic!("unknown dtype {other}"),
        }
    }
    // The file must cover every family in both precisions (a truncated file fails here).
    for family in [
        "sigmoid_soft",
        "sigmoid_labels",
        "sigmoid_classes",
        "softmax",
    ] {
        for dtype in ["f32", "f64"] {
            assert!(
                families
                    .get(&(family.to_string(), dtype.to_string()))
                    .is_some_and(|&n| n > 0),
                "no {family} {dtype} cases"
            );
        }
    }
    // And the softmax Hessian in both precisions.
    for dtype in ["f32", "f64"] {
        assert!(
            cases.iter().any(|c| c.word("family") == "softmax"
                && c.word("dtype") == dtype
                && c.fields.contains_key("hess")),
            "no softmax Hessian {dtype} cases"
        );
    }
    println!(
        "{} cases, {} values compared, worst relative error: {:?}",
        cases.len(),
        report.compared,
        report.worst_relative
    );
    assert!(
        report.failures.is_empty(),
        "{} of {} golden values missed:\n{}",
        report.failures.len(),
        report.compared,
        report
            .failures
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
