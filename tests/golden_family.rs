//! Golden values of the focal family: every objective, target form and parameter set of
//! `golden/family.txt` against an independent high-precision evaluation of the naive
//! definitions (`golden/family.py`, mpmath).
//!
//! Results must be within 1e-13 (f64) or 2e-6 (f32) of the golden value relative to
//! `max(|value|, scale)`, the scale being the size of the terms the value is made of where
//! they cancel (the file carries it); below the smallest normal number of the element type
//! the error must be below it. Every output is finite. The scalar reference, in f64 on the
//! same inputs, is held to 1e-13 on every case.

use focal_loss::{
    AsymmetricOptions, Float, FocalStarOptions, PerClassFocalOptions, Poly1FocalOptions,
    QualityFocalOptions, ReducedFocalOptions, Reduction, SigmoidObjective, SigmoidTargets,
    VarifocalOptions, reference, sigmoid_focal_grad_hess, sigmoid_focal_loss_grad,
};
use std::collections::HashMap;

const CASES: &str = include_str!("golden/family.txt");

struct Case(HashMap<String, Vec<String>>);

impl Case {
    fn tokens(&self, key: &str) -> &[String] {
        self.0
            .get(key)
            .unwrap_or_else(|| panic!("case {} has no `{key}`", self.id()))
    }
    fn id(&self) -> &str {
        &self.0["case"][0]
    }
    fn word(&self, key: &str) -> &str {
        &self.tokens(key)[0]
    }
    fn number(&self, key: &str) -> f64 {
        self.word(key).parse().expect("number")
    }
    fn optional(&self, key: &str) -> Option<f64> {
        (self.word(key) != "none").then(|| self.number(key))
    }
    fn numbers(&self, key: &str) -> Vec<f64> {
        match self.word(key) {
            "none" => Vec::new(),
            _ => self
                .tokens(key)
                .iter()
                .map(|t| t.parse().expect("number"))
                .collect(),
        }
    }
}

fn parse(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut fields = HashMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "end" {
            cases.push(Case(std::mem::take(&mut fields)));
            continue;
        }
        let mut tokens = line.split_whitespace().map(String::from);
        let key = tokens.next().expect("key");
        fields.insert(key, tokens.collect());
    }
    cases
}

#[derive(Default)]
struct Report {
    compared: usize,
    failures: Vec<String>,
    worst: HashMap<String, f64>,
}

impl Report {
    fn compare(&mut self, case: &Case, what: &str, single: bool, got: &[f64], key: &str) {
        let want = case.numbers(key);
        let scale = case.numbers(&format!("{key}_scale"));
        assert_eq!(got.len(), want.len(), "{} {what}: length", case.id());
        let (relative, smallest_normal) = if single {
            (2e-6, f64::from(f32::MIN_POSITIVE))
        } else {
            (1e-13, f64::MIN_POSITIVE)
        };
        for i in 0..want.len() {
            self.compared += 1;
            let magnitude = want[i].abs().max(scale[i]);
            let error = (got[i] - want[i]).abs();
            let ok = got[i].is_finite()
                && if magnitude < smallest_normal {
                    error <= smallest_normal
                } else {
                    let worst = self
                        .worst
                        .entry(format!(
                            "{} {} {what}",
                            case.word("objective"),
                            case.word("dtype")
                        ))
                        .or_insert(0.0);
                    *worst = worst.max(error / magnitude);
                    error <= relative * magnitude
                };
            if !ok {
                self.failures.push(format!(
                    "{} {what}[{i}] (x {}): got {:e}, want {:e}, scale {:e}",
                    case.id(),
                    case.numbers("logits")[i],
                    got[i],
                    want[i],
                    scale[i]
                ));
            }
        }
    }
}

fn run<T: Float>(case: &Case, options: &impl SigmoidObjective, report: &mut Report) {
    let logits: Vec<T> = case
        .numbers("logits")
        .iter()
        .map(|&v| T::from_f64(v))
        .collect();
    let soft: Vec<T> = case
        .numbers("targets")
        .iter()
        .map(|&v| T::from_f64(v))
        .collect();
    let labels: Vec<u8> = case.numbers("targets").iter().map(|&v| v as u8).collect();
    let rows: Vec<i32> = case.numbers("targets").iter().map(|&v| v as i32).collect();
    let classes = match case.word("targets_kind") {
        "classes" => case.number("classes") as usize,
        _ => 0,
    };
    let weights: Option<Vec<T>> = match case.word("weights") {
        "none" => None,
        _ => Some(
            case.numbers("weights")
                .iter()
                .map(|&v| T::from_f64(v))
                .collect(),
        ),
    };
    let targets = match case.word("targets_kind") {
        "soft" => SigmoidTargets::Soft(&soft[..]),
        "classes" => SigmoidTargets::Classes {
            targets: &rows,
            classes,
        },
        _ => SigmoidTargets::Labels(&labels[..]),
    };
    let n = logits.len();
    let widen = |v: &[T]| v.iter().map(|x| x.to_f64()).collect::<Vec<f64>>();
    let single = T::NAME == "f32";
    let (mut loss, mut grad) = (vec![T::default(); n], vec![T::default(); n]);
    sigmoid_focal_loss_grad(
        &logits,
        targets,
        weights.as_deref(),
        options,
        &mut loss,
        &mut grad,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", case.id()));
    let (mut g, mut h) = (vec![T::default(); n], vec![T::default(); n]);
    sigmoid_focal_grad_hess(
        &logits,
        targets,
        weights.as_deref(),
        options,
        None,
        &mut g,
        &mut h,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", case.id()));
    report.compare(case, "loss", single, &widen(&loss), "loss");
    report.compare(case, "grad", single, &widen(&grad), "grad");
    report.compare(case, "grad_hess.grad", single, &widen(&g), "grad");
    report.compare(case, "hess", single, &widen(&h), "hess");

    // The reference in f64 on the same inputs.
    let x64 = widen(&logits);
    let soft64 = widen(&soft);
    let weights64 = weights.as_deref().map(widen);
    let targets64 = match case.word("targets_kind") {
        "soft" => SigmoidTargets::Soft(&soft64[..]),
        "classes" => SigmoidTargets::Classes {
            targets: &rows,
            classes,
        },
        _ => SigmoidTargets::Labels(&labels[..]),
    };
    let (mut loss, mut grad) = (vec![0.0; n], vec![0.0; n]);
    reference::sigmoid_focal(
        &x64,
        &targets64,
        weights64.as_deref(),
        options,
        Some(&mut loss),
        Some(&mut grad),
    );
    let (mut g, mut h) = (vec![0.0; n], vec![0.0; n]);
    reference::sigmoid_focal_grad_hess(
        &x64,
        &targets64,
        weights64.as_deref(),
        options,
        None,
        &mut g,
        &mut h,
    );
    report.compare(case, "reference loss", false, &loss, "loss");
    report.compare(case, "reference grad", false, &grad, "grad");
    report.compare(case, "reference hess", false, &h, "hess");
}

fn run_case(case: &Case, report: &mut Report) {
    let ls = case.number("smoothing");
    let single = case.word("dtype") == "f32";
    macro_rules! with {
        ($options:expr) => {{
            let options = $options.label_smoothing(ls).reduction(Reduction::None);
            if single {
                run::<f32>(case, &options, report)
            } else {
                run::<f64>(case, &options, report)
            }
        }};
    }
    match case.word("objective") {
        "focal_star" => with!(
            FocalStarOptions::default()
                .gamma(case.number("gamma"))
                .beta(case.number("beta"))
                .alpha(case.optional("alpha"))
        ),
        "poly1_focal" => with!(
            Poly1FocalOptions::default()
                .gamma(case.number("gamma"))
                .alpha(case.optional("alpha"))
                .epsilon(case.number("epsilon"))
        ),
        "quality_focal" => with!(QualityFocalOptions::default().beta(case.number("beta"))),
        "varifocal" => with!(
            VarifocalOptions::default()
                .alpha(case.number("alpha"))
                .gamma(case.number("gamma"))
        ),
        "asymmetric" => with!(
            AsymmetricOptions::default()
                .gamma_positive(case.number("gamma_positive"))
                .gamma_negative(case.number("gamma_negative"))
                .margin(case.number("margin"))
        ),
        "reduced_focal" => with!(
            ReducedFocalOptions::default()
                .gamma(case.number("gamma"))
                .threshold(case.number("threshold"))
                .alpha(case.optional("alpha"))
        ),
        "per_class_focal" => with!(
            PerClassFocalOptions::default()
                .class_gamma(case.numbers("class_gamma"))
                .alpha(case.optional("alpha"))
        ),
        other => panic!("unknown objective {other}"),
    }
}

#[test]
fn golden_values_of_the_family() {
    let cases = parse(CASES);
    assert!(
        cases.len() > 100,
        "the golden file has {} cases",
        cases.len()
    );
    let mut report = Report::default();
    let mut objectives = std::collections::BTreeSet::new();
    for case in &cases {
        run_case(case, &mut report);
        objectives.insert(case.word("objective").to_string());
    }
    // Every objective of the family is in the file (a truncated file fails here).
    assert_eq!(
        objectives.into_iter().collect::<Vec<_>>(),
        [
            "asymmetric",
            "focal_star",
            "per_class_focal",
            "poly1_focal",
            "quality_focal",
            "reduced_focal",
            "varifocal"
        ]
    );
    let mut worst: Vec<_> = report.worst.iter().collect();
    worst.sort_by(|a, b| a.0.cmp(b.0));
    for (what, error) in worst {
        println!("worst relative error, {what}: {error:.2e}");
    }
    println!(
        "{} values compared in {} cases",
        report.compared,
        cases.len()
    );
    assert!(
        report.failures.is_empty(),
        "{} failures:\n{}",
        report.failures.len(),
        report.failures[..report.failures.len().min(30)].join("\n")
    );
}
