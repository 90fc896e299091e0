//! The CLI as a user runs it: what it prints parses, every flag does what --help says, and
//! bad arguments get a message and exit status 2. The runs are tiny (`--sizes 4K
//! --min-time 0`): the tests build in debug, where the kernels are slow.

use std::process::{Command, Output};

fn focal_bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_focal-bench"))
        .args(args)
        .output()
        .expect("the focal-bench binary runs")
}

const TINY: [&str; 6] = ["--sizes", "4K", "--min-time", "0", "--repetitions", "1"];

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--quick", "--json"];
    // TINY's flags unless the test sets them itself.
    for pair in TINY.chunks(2) {
        if !args.contains(&pair[0]) {
            all.extend_from_slice(pair);
        }
    }
    all.extend_from_slice(args);
    let out = focal_bench(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn quick_json_is_the_documented_schema() {
    let report = json(&[]);
    assert_eq!(report["schema"], "focal-bench/1");
    assert!(report["machine"]["cores"].as_u64().unwrap_or(0) >= 1);
    assert!(report["bandwidth"]["copy_gb_per_s"].as_f64().unwrap_or(0.0) > 0.0);
    let rows = report["rows"].as_array().expect("rows");
    // The suite: 19 row kinds at the one size.
    assert_eq!(rows.len(), 19);
    let kinds: Vec<&str> = rows.iter().filter_map(|r| r["kind"].as_str()).collect();
    for kind in [
        "sigmoid-labels focal loss f32",
        "sigmoid-labels focal grad-hess f64",
        "softmax-spatial[19x1024] focal loss-grad f32",
        "sigmoid-classes[80] per-class loss-grad f32",
        "softmax[80] poly1 loss-grad f32",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    for row in rows {
        let positive = |key: &str| row[key].as_f64().is_some_and(|v| v > 0.0 && v.is_finite());
        for key in [
            "melements_per_s",
            "gb_per_s",
            "best_seconds",
            "vs_reference",
        ] {
            assert!(positive(key), "{key} of {row}");
        }
        assert!(row["best_seconds"].as_f64() <= row["median_seconds"].as_f64());
        // Elements per second and bytes per second from the same time.
        let (n, bytes) = (
            row["elements"].as_f64().unwrap_or(0.0),
            row["bytes"].as_f64().unwrap_or(0.0),
        );
        let ratio = row["gb_per_s"].as_f64().unwrap_or(0.0) * 1e3
            / row["melements_per_s"].as_f64().unwrap_or(1.0);
        assert!((ratio / (bytes / n) - 1.0).abs() < 1e-9, "{row}");
        assert_eq!(row["bits"].as_str().map(str::len), Some(16));
        // Only focal rows without a Hessian have a plain loop.
        let plain = row["objective"] == "focal" && row["output"] != "grad-hess";
        assert_eq!(row["vs_plain_loop"].is_number(), plain, "{row}");
    }
    let scaling = report["thread_scaling"]["points"]
        .as_array()
        .expect("scaling");
    assert_eq!(
        scaling.len() as u64,
        report["machine"]["cores"].as_u64().unwrap_or(0)
    );
}

#[test]
fn the_same_inputs_give_the_same_bits_at_any_thread_count() {
    let bits = |threads: &str| -> Vec<String> {
        json(&["--threads", threads, "--no-compare", "--no-scaling"])["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["bits"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(bits("1"), bits("2"));
}

#[test]
fn selections_are_every_combination_the_library_has() {
    let report = json(&[
        "--loss",
        "sigmoid-labels,softmax",
        "--objective",
        "focal,asymmetric",
        "--dtype",
        "f32,f64",
        "--sizes",
        "4K,8K",
        "--gamma",
        "1.5",
        "--threads",
        "1",
        "--no-compare",
    ]);
    let rows = report["rows"].as_array().expect("rows");
    // Sizes × (labels: focal, asymmetric; softmax: focal) × dtypes; asymmetric softmax
    // does not exist.
    assert_eq!(rows.len(), 2 * 3 * 2);
    assert!(
        rows.iter()
            .all(|r| r["threads"] == 1 && r["vs_reference"].is_null())
    );
    assert!(rows.iter().any(|r| r["elements"] == 8192));
}

#[test]
fn parameters_reach_the_loss() {
    let bits = |extra: &[&str]| {
        let mut args = vec!["--objective", "asymmetric", "--no-compare", "--no-scaling"];
        args.extend_from_slice(extra);
        json(&args)["rows"][0]["bits"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let default = bits(&[]);
    for extra in [
        &["--gamma", "0.5"][..],
        &["--gamma-negative", "2"],
        &["--margin", "0"],
    ] {
        assert_ne!(bits(extra), default, "{extra:?} changed nothing");
    }
    assert_eq!(bits(&["--margin", "0.05"]), default);
}

/// The fields of a CSV line (quotes around a field that holds commas).
fn fields(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[test]
fn csv_plot_and_baseline() {
    let dir = std::env::temp_dir().join(format!("focal-bench-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let saved = dir.join("run.json");
    let plot = dir.join("sweep.svg");
    let run = focal_bench(&[&["--quick", "--json", "--no-scaling"][..], &TINY].concat());
    assert!(run.status.success(), "{}", stderr(&run));
    std::fs::write(&saved, &run.stdout).expect("the saved run");

    let saved_arg = saved.to_str().expect("a UTF-8 path");
    let plot_arg = plot.to_str().expect("a UTF-8 path");
    let out = focal_bench(
        &[
            &[
                "--quick",
                "--csv",
                "--no-scaling",
                "--baseline",
                saved_arg,
                "--plot",
                plot_arg,
            ][..],
            &TINY,
        ]
        .concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("kind,loss,objective,output,dtype,shape,elements"));
    assert_eq!(lines.len(), 1 + 19);
    let header = fields(lines[0]);
    let column = header
        .iter()
        .position(|c| c == "vs_baseline")
        .expect("a vs_baseline column");
    for line in &lines[1..] {
        let fields = fields(line);
        assert_eq!(fields.len(), header.len(), "{line}");
        let ratio: f64 = fields[column].parse().unwrap_or(0.0);
        assert!(ratio > 0.0, "{line}");
    }
    let svg = std::fs::read_to_string(&plot).expect("--plot wrote a file");
    assert!(svg.starts_with("<svg") && svg.contains("sigmoid-labels focal loss-grad f32"));

    // The table marks the baseline column.
    let table = focal_bench(
        &[
            &["--quick", "--no-scaling", "--baseline", saved_arg][..],
            &TINY,
        ]
        .concat(),
    );
    assert!(String::from_utf8_lossy(&table.stdout).contains("× base"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    let missing = std::env::temp_dir().join("focal-bench-no-such-file.json");
    let not_json =
        std::env::temp_dir().join(format!("focal-bench-not-json-{}.json", std::process::id()));
    std::fs::write(&not_json, "{\"schema\": 1}").expect("a file");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--no-such-flag"], "--no-such-flag"),
        (vec!["--sizes", "0"], "outside"),
        (vec!["--sizes", "12Q"], "not a size"),
        (vec!["--loss", "hinge"], "hinge"),
        (vec!["--simd", "sse9"], "unknown SIMD level"),
        (vec!["--alpha", "maybe"], "neither a number"),
        (vec!["--min-time", "-1"], "seconds"),
        (vec!["--json", "--csv"], "cannot be used with"),
        (vec!["--classes", "0"], "at least 1"),
        // 2^31 f64 logits: more than this machine has, refused before allocating.
        (
            vec!["--sizes", "2048M", "--dtype", "f64"],
            "GB of memory are available",
        ),
        (
            vec!["--baseline", missing.to_str().unwrap_or("")],
            "--baseline",
        ),
        (
            vec!["--baseline", not_json.to_str().unwrap_or("")],
            "not a focal-bench JSON report",
        ),
        // Values the library refuses: its own message.
        (vec!["--gamma", "-1"], "gamma must be in [0, 10000], got -1"),
        (vec!["--alpha", "2"], "alpha"),
        (
            vec!["--objective", "reduced", "--threshold", "0"],
            "threshold",
        ),
        (
            vec!["--objective", "reduced", "--loss", "softmax"],
            "none of the selected",
        ),
    ];
    for (args, expected) in cases {
        let out = focal_bench(&[&args[..], &TINY, &["--quick", "--no-scaling"]].concat());
        let message = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {message}");
        assert!(message.contains(expected), "{args:?}: {message}");
        assert!(!message.contains("panicked"), "{args:?}: {message}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    std::fs::remove_file(&not_json).ok();
}

/// 2^31 f64 logits with gradient and Hessian need about 80 GB: refused before allocating
/// (on machines with less available memory than that, which is where it would fail).
#[test]
fn sizes_beyond_the_memory_are_refused() {
    let available_gb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info
                .lines()
                .find(|l| l.starts_with("MemAvailable:"))?
                .to_string();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map(|kib| kib * 1024.0 / 1e9);
    if available_gb.is_none_or(|gb| gb > 60.0) {
        return;
    }
    let args = [
        "--sizes",
        "2048M",
        "--dtype",
        "f64",
        "--output",
        "grad-hess",
        "--quick",
    ];
    let out = focal_bench(&args);
    let message = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{message}");
    assert!(message.contains("GB of memory are available"), "{message}");
}

#[test]
fn help_lists_every_flag() {
    let out = focal_bench(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--loss",
        "--objective",
        "--output",
        "--dtype",
        "--sizes",
        "--classes",
        "--spatial-classes",
        "--spatial",
        "--gamma",
        "--alpha",
        "--beta",
        "--epsilon",
        "--gamma-negative",
        "--margin",
        "--threshold",
        "--threads",
        "--simd",
        "--repetitions",
        "--min-time",
        "--quick",
        "--no-compare",
        "--no-scaling",
        "--json",
        "--csv",
        "--plot",
        "--baseline",
        "--c-baseline",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn every_simd_level_gives_the_same_bits() {
    let run = |args: &[&str]| -> Vec<(String, String)> {
        let mut all = vec!["--no-compare", "--no-scaling"];
        all.extend_from_slice(args);
        json(&all)["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                let field = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                (field("bits"), field("simd"))
            })
            .collect()
    };
    let best = run(&[]);
    let scalar = run(&["--simd", "scalar"]);
    assert!(scalar.iter().all(|(_, simd)| simd == "scalar"));
    let bits = |rows: &[(String, String)]| rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>();
    assert_eq!(bits(&best), bits(&scalar));
    // The environment variable does what --simd does.
    let out = Command::new(env!("CARGO_BIN_EXE_focal-bench"))
        .args(
            [
                &["--quick", "--json", "--no-compare", "--no-scaling"][..],
                &TINY,
            ]
            .concat(),
        )
        .env("FOCAL_LOSS_SIMD", "scalar")
        .output()
        .expect("the focal-bench binary runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["machine"]["simd_used"], "scalar");
}

#[test]
fn shapes_outputs_and_timing_flags() {
    let report = json(&[
        "--loss",
        "sigmoid-classes,softmax,softmax-spatial",
        "--output",
        "loss,loss-grad",
        "--classes",
        "10",
        "--spatial-classes",
        "3",
        "--spatial",
        "64",
        "--repetitions",
        "4",
        "--no-scaling",
        "--no-compare",
    ]);
    let rows = report["rows"].as_array().expect("rows");
    let shapes: Vec<&str> = rows.iter().filter_map(|r| r["shape"].as_str()).collect();
    // 4K logits: 409 rows of 10, 21 samples of 3 × 64; each with loss and loss-grad.
    assert_eq!(
        shapes,
        [
            "[409, 10]",
            "[409, 10]",
            "[409, 10]",
            "[409, 10]",
            "[21, 3, 64]",
            "[21, 3, 64]"
        ]
    );
    assert!(rows.iter().all(|r| r["repetitions"].as_u64() >= Some(4)));
    // The loss alone moves no gradient: fewer bytes than loss + gradient of the same shape.
    assert!(rows[0]["bytes"].as_u64() < rows[1]["bytes"].as_u64());
    // --min-time: at least that long in all.
    let report = json(&[
        "--min-time",
        "0.2",
        "--no-scaling",
        "--no-compare",
        "--objective",
        "focal",
    ]);
    let row = &report["rows"][0];
    assert!(row["total_seconds"].as_f64() >= Some(0.2), "{row}");
}

/// `--c-baseline`: every SIMD level of the library and both C loops (where the build has
/// them), with the accuracy at the golden cases: the library's within its contract there.
#[test]
fn c_baseline_times_and_checks_the_c_loops() {
    let out = focal_bench(&[
        "--c-baseline",
        "--quick",
        "--json",
        "--sizes",
        "4K",
        "--min-time",
        "0",
    ]);
    if !out.status.success() {
        // A build without a C compiler or glibc: said so.
        assert!(stderr(&out).contains("no C baseline"), "{}", stderr(&out));
        return;
    }
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(result["elements"], 4096);
    assert!(result["golden_elements"].as_u64().unwrap() >= 100);
    let entries = result["entries"].as_array().unwrap();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"C -O3 (accurate)") && names.contains(&"C -ffast-math"),
        "{names:?}"
    );
    for entry in entries {
        assert!(entry["melements_per_s"].as_f64().unwrap() > 0.0, "{entry}");
        if entry["name"].as_str().unwrap().starts_with("focal-loss") {
            // The golden test's f32 contract.
            assert!(entry["max_loss_error"].as_f64().unwrap() <= 2e-6, "{entry}");
            assert!(entry["max_grad_error"].as_f64().unwrap() <= 2e-6, "{entry}");
        }
    }
    // The table form.
    let out = focal_bench(&[
        "--c-baseline",
        "--quick",
        "--sizes",
        "4K",
        "--min-time",
        "0",
    ]);
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("× best C") && table.contains("worst loss of C -ffast-math"),
        "{table}"
    );
}
