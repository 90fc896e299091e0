//! `focal-bench`: the throughput of focal-loss on generated data.
//!
//! With no arguments it runs the representative suite (every loss shape, the focal family,
//! f32 and f64, loss / loss + gradient / gradient + Hessian, one size in cache and one well
//! beyond the last-level cache) and prints a table with the memory bandwidth measured in the
//! same run, speed-ups over the scalar reference and a plain loop, and a thread-scaling line.
//! `--help` lists the flags; `--json` is the schema `focal-bench/1` documented in
//! `bench-cli/README.md`.

mod cbaseline;
mod data;
mod machine;
mod report;
mod rows;
mod run;

use clap::Parser;
use data::Data;
use focal_loss::{Float, SimdLevel};
use indicatif::{ProgressBar, ProgressStyle};
use report::{Report, RowResult, Scaling, ScalingPoint};
use rows::{Dtype, Loss, Objective, Output, Row, Shapes, name};
use run::{Alpha, Parameters, Prepared, best_and_median, time};
use std::collections::HashMap;
use std::process::ExitCode;

/// Throughput of focal-loss (million logits per second, GB/s, share of the memory
/// bandwidth, speed-ups over the scalar reference and a plain loop) on generated data.
///
/// With no selection flags: the representative suite. With any of --loss, --objective,
/// --output, --dtype: every combination of them that the library has (unset ones: sigmoid
/// labels, focal, loss-grad, f32).
#[derive(Parser, Debug)]
#[command(name = "focal-bench", version, about, long_about = None, after_help = AFTER_HELP)]
struct Args {
    /// Loss shapes to run.
    #[arg(long, value_enum, value_delimiter = ',')]
    loss: Vec<Loss>,
    /// Members of the focal family to run.
    #[arg(long, value_enum, value_delimiter = ',')]
    objective: Vec<Objective>,
    /// Output modes to run.
    #[arg(long, value_enum, value_delimiter = ',')]
    output: Vec<Output>,
    /// Element types to run.
    #[arg(long, value_enum, value_delimiter = ',')]
    dtype: Vec<Dtype>,
    /// Logits per call, a sweep: e.g. 65536,1M,16M (K = 2^10, M = 2^20). Default: 256K and
    /// a size well beyond the last-level cache (256K alone with --quick).
    #[arg(long, value_delimiter = ',', value_parser = parse_size)]
    sizes: Vec<usize>,
    /// Classes of the sigmoid class-index and softmax [N, C] shapes.
    #[arg(long, default_value_t = 80, value_parser = positive)]
    classes: usize,
    /// Classes of the channels-first softmax [N, C, H·W].
    #[arg(long, default_value_t = 19, value_parser = positive)]
    spatial_classes: usize,
    /// Positions (H·W) of the channels-first softmax.
    #[arg(long, default_value_t = 1024, value_parser = positive)]
    spatial: usize,
    /// The focusing exponent (γ; γ₊ for asymmetric, β for quality). Default: each
    /// objective's own.
    #[arg(long, allow_negative_numbers = true)]
    gamma: Option<f64>,
    /// α in [0, 1], or "off". Default: each objective's own.
    #[arg(long, value_parser = parse_alpha, allow_negative_numbers = true)]
    alpha: Option<Alpha>,
    /// FL*'s shift β.
    #[arg(long, allow_negative_numbers = true)]
    beta: Option<f64>,
    /// Poly-1's ε.
    #[arg(long, allow_negative_numbers = true)]
    epsilon: Option<f64>,
    /// Asymmetric: γ₋.
    #[arg(long, allow_negative_numbers = true)]
    gamma_negative: Option<f64>,
    /// Asymmetric: the margin m.
    #[arg(long, allow_negative_numbers = true)]
    margin: Option<f64>,
    /// Reduced focal: the threshold.
    #[arg(long, allow_negative_numbers = true)]
    threshold: Option<f64>,
    /// Threads per call (0: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// SIMD level (avx512, avx2, neon, scalar); the environment variable FOCAL_LOSS_SIMD
    /// does the same. Default: the best this CPU has.
    #[arg(long, value_parser = parse_level)]
    simd: Option<SimdLevel>,
    /// Timed calls per row, at least.
    #[arg(long, default_value_t = 5, value_parser = positive)]
    repetitions: usize,
    /// Seconds per row, at least (0.3; 0.05 with --quick).
    #[arg(long, value_parser = parse_seconds, allow_negative_numbers = true)]
    min_time: Option<f64>,
    /// About ten seconds: the in-cache size, shorter timing, a smaller bandwidth buffer.
    #[arg(long)]
    quick: bool,
    /// Skip the speed-ups over the scalar reference and the plain loop.
    #[arg(long)]
    no_compare: bool,
    /// Skip the thread-scaling line.
    #[arg(long)]
    no_scaling: bool,
    /// Print JSON (schema focal-bench/1) instead of the table.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV instead of the table.
    #[arg(long)]
    csv: bool,
    /// Write an SVG of throughput against size (one line per row kind) to FILE.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<String>,
    /// A saved --json run: add each row's throughput ratio to it (same kind and size).
    #[arg(long, value_name = "FILE.json")]
    baseline: Option<String>,
    /// Instead of the rows: the fused sigmoid loss + gradient (u8 labels, f32, one thread) at
    /// every SIMD level beside a C loop built with -O3 -march=native and glibc's vector maths
    /// (accurate, and -ffast-math), rounds alternating, and the accuracy of each at the golden
    /// cases. Size: the first of --sizes (default 64K, in cache).
    #[arg(long, conflicts_with_all = ["baseline", "plot", "csv"])]
    c_baseline: bool,
}

const AFTER_HELP: &str = "Examples:
  focal-bench                                   the suite (about a minute)
  focal-bench --quick --json > run.json         ten seconds, machine-readable
  focal-bench --baseline run.json               ratios against a saved run
  focal-bench --objective focal,asymmetric --sizes 64K,1M,16M --plot sweep.svg
  FOCAL_LOSS_SIMD=avx2 focal-bench --quick      another SIMD level
  focal-bench --c-baseline                      beside a careful C loop (gcc -O3, libmvec)";

fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(v) => Ok(v),
        Err(e) => Err(e.to_string()),
    }
}

/// `4096`, `64K`, `16M` (binary multiples), at least 1 and at most 2^31.
fn parse_size(text: &str) -> Result<usize, String> {
    let (digits, scale) = match text.strip_suffix(['K', 'k']) {
        Some(d) => (d, 1usize << 10),
        None => match text.strip_suffix(['M', 'm']) {
            Some(d) => (d, 1 << 20),
            None => (text, 1),
        },
    };
    let value: usize = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size (4096, 64K, 16M)"))?;
    match value.checked_mul(scale) {
        Some(n) if (1..=1 << 31).contains(&n) => Ok(n),
        _ => Err(format!("{text} is outside 1 ..= 2^31 logits")),
    }
}

fn parse_alpha(text: &str) -> Result<Alpha, String> {
    if text == "off" || text == "none" {
        return Ok(Alpha::Off);
    }
    text.parse::<f64>()
        .map(Alpha::Value)
        .map_err(|_| format!("{text:?} is neither a number nor \"off\""))
}

fn parse_level(text: &str) -> Result<SimdLevel, String> {
    SimdLevel::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = SimdLevel::ALL.iter().map(|l| l.name()).collect();
        format!("unknown SIMD level {text:?} (one of {})", names.join(", "))
    })
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.0..=3600.0).contains(&s) => Ok(s),
        _ => Err(format!("{text:?} is not a number of seconds in [0, 3600]")),
    }
}

/// The values given, or the default alone.
fn or_default<V: Clone>(values: &[V], default: V) -> Vec<V> {
    if values.is_empty() {
        vec![default]
    } else {
        values.to_vec()
    }
}

/// A size well beyond the last-level cache: its size in logits (4 or more bytes each, plus
/// outputs), at least 16M and at most 64M.
fn large_size(last_level_cache: Option<u64>) -> usize {
    let cache = last_level_cache.unwrap_or(32 << 20) as usize;
    cache.next_power_of_two().clamp(16 << 20, 64 << 20)
}

struct Settings {
    parameters: Parameters,
    repetitions: usize,
    min_time: f64,
    compare: bool,
}

/// Everything of one run but its printing.
fn run(args: &Args) -> Result<Report, String> {
    let machine = machine::Machine::read();
    let quick = args.quick;
    let sizes = if !args.sizes.is_empty() {
        let mut sizes = args.sizes.clone();
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    } else if quick {
        vec![256 << 10]
    } else {
        vec![256 << 10, large_size(machine.last_level_cache)]
    };
    let shapes = Shapes {
        classes: args.classes,
        spatial_classes: args.spatial_classes,
        spatial: args.spatial,
    };
    let selecting = !(args.loss.is_empty()
        && args.objective.is_empty()
        && args.output.is_empty()
        && args.dtype.is_empty());
    let rows = if selecting {
        rows::selected(
            &sizes,
            &or_default(&args.loss, Loss::SigmoidLabels),
            &or_default(&args.objective, Objective::Focal),
            &or_default(&args.output, Output::LossGrad),
            &or_default(&args.dtype, Dtype::F32),
            shapes,
        )
    } else {
        rows::suite(&sizes, shapes)
    };
    if rows.is_empty() {
        return Err("the library has none of the selected combinations (the softmax takes focal, poly1 and per-class; per-class needs sigmoid-classes or a softmax; reduced needs hard targets)".into());
    }
    let settings = Settings {
        parameters: Parameters {
            gamma: args.gamma,
            alpha: args.alpha.unwrap_or(Alpha::Default),
            beta: args.beta,
            epsilon: args.epsilon,
            gamma_negative: args.gamma_negative,
            margin: args.margin,
            threshold: args.threshold,
            threads: args.threads,
        },
        repetitions: args.repetitions,
        min_time: args.min_time.unwrap_or(if quick { 0.05 } else { 0.3 }),
        compare: !args.no_compare,
    };
    refuse_bad_parameters(&rows, &settings.parameters)?;
    let scaling = !args.no_scaling;
    let steps = rows.len() + usize::from(scaling) + 1;
    let progress = ProgressBar::new(steps as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress.set_message("memory bandwidth");
    let cache = machine.last_level_cache.unwrap_or(32 << 20) as usize;
    let bandwidth_bytes = (4 * cache).clamp(64 << 20, if quick { 256 << 20 } else { 1 << 30 });
    let bandwidth = within_threads(args.threads, || machine::bandwidth(bandwidth_bytes))?;
    progress.inc(1);

    let scaling_n = *sizes.iter().max().unwrap_or(&(256 << 10));
    let largest = |dtype| {
        let rows = rows.iter().filter(|r| r.dtype == dtype).map(|r| r.n);
        let scaling = (scaling && dtype == Dtype::F32).then_some(scaling_n);
        rows.chain(scaling).max()
    };
    let mut results = Vec::new();
    let needed: usize = [Dtype::F32, Dtype::F64]
        .into_iter()
        .filter_map(|dtype| largest(dtype).map(|n| data::bytes_per_element(dtype) * n))
        .sum::<usize>()
        + rows.iter().map(Row::output_bytes).max().unwrap_or(0);
    if let Some(available) = machine::available_memory()
        && needed as f64 > 0.8 * available as f64
    {
        return Err(format!(
            "the largest size needs about {:.1} GB of generated inputs and outputs; {:.1} GB of memory are available",
            needed as f64 / 1e9,
            available as f64 / 1e9
        ));
    }
    let f32_data = largest(Dtype::F32).map(Data::<f32>::new);
    let f64_data = largest(Dtype::F64).map(Data::<f64>::new);
    let mut comparisons = HashMap::new();
    for row in &rows {
        progress.set_message(format!("{} {}", row.kind(), row.shape()));
        let result = match (row.dtype, &f32_data, &f64_data) {
            (Dtype::F32, Some(data), _) => {
                measure(row, data, &settings, &bandwidth, &mut comparisons)
            }
            (Dtype::F64, _, Some(data)) => {
                measure(row, data, &settings, &bandwidth, &mut comparisons)
            }
            _ => Err("no data generated for this element type".into()),
        };
        results.push(result?);
        progress.inc(1);
    }
    let thread_scaling = if scaling {
        progress.set_message("thread scaling");
        let row = Row::new(
            Loss::SigmoidLabels,
            Objective::Focal,
            Output::LossGrad,
            Dtype::F32,
            scaling_n,
            shapes,
        );
        let Some(data) = &f32_data else {
            return Err("no data generated for the thread scaling".into());
        };
        let mut points = Vec::new();
        for threads in 1..=machine.cores {
            let parameters = Parameters {
                threads,
                ..settings.parameters
            };
            let mut prepared = Prepared::new(row, data, &parameters);
            let seconds = time(settings.repetitions, settings.min_time, || prepared.call())
                .map_err(|e| e.to_string())?;
            points.push(ScalingPoint {
                threads,
                melements_per_s: row.n as f64 / best_and_median(&seconds).0 / 1e6,
            });
        }
        progress.inc(1);
        Some(Scaling {
            kind: row.kind(),
            elements: row.n,
            points,
        })
    } else {
        None
    };
    progress.finish_and_clear();
    Ok(Report {
        schema: report::SCHEMA.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        machine,
        bandwidth: Some(bandwidth),
        rows: results,
        thread_scaling,
    })
}

/// The library's refusal of the parameters of any row, before a minute of measuring: each
/// row kind called once on one sample.
fn refuse_bad_parameters(rows: &[Row], parameters: &Parameters) -> Result<(), String> {
    fn check<T: Float + Send + Sync>(row: &Row, parameters: &Parameters) -> Result<(), String> {
        let sample = row.resized(1);
        let data = Data::<T>::new(sample.n);
        Prepared::new(sample, &data, parameters)
            .call()
            .map_err(|e| format!("{}: {e}", row.kind()))
    }
    for row in rows {
        match row.dtype {
            Dtype::F32 => check::<f32>(row, parameters)?,
            Dtype::F64 => check::<f64>(row, parameters)?,
        }
    }
    Ok(())
}

fn within_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> Result<R, String> {
    if threads == 0 {
        return Ok(f());
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map(|pool| pool.install(f))
        .map_err(|e| format!("a pool of {threads} threads: {e}"))
}

/// Speed-ups of a row kind over the reference and the plain loop, at `elements` logits.
#[derive(Clone, Copy)]
struct Comparison {
    elements: usize,
    vs_reference: f64,
    vs_plain_loop: Option<f64>,
}

fn measure<T: Float + Send + Sync>(
    row: &Row,
    data: &Data<T>,
    settings: &Settings,
    bandwidth: &machine::Bandwidth,
    comparisons: &mut HashMap<String, Comparison>,
) -> Result<RowResult, String> {
    let p = &settings.parameters;
    let mut prepared = Prepared::new(*row, data, p);
    let seconds = time(settings.repetitions, settings.min_time, || prepared.call())
        .map_err(|e| format!("{}: {e}", row.kind()))?;
    let (best, median) = best_and_median(&seconds);
    let bits = format!("{:016x}", prepared.bits());
    let comparison = if settings.compare {
        let kind = row.kind();
        match comparisons.get(&kind) {
            Some(c) => Some(*c),
            None => {
                let c = compare(row, data, settings, (row.n, best))?;
                comparisons.insert(kind, c);
                Some(c)
            }
        }
    } else {
        None
    };
    let bytes = row.bytes();
    let gb_per_s = bytes as f64 / best / 1e9;
    let roof = match row.output {
        Output::Loss => bandwidth.read_gb_per_s,
        _ => bandwidth.copy_gb_per_s,
    };
    let threads = match p.threads {
        0 => rayon::current_num_threads(),
        t => t,
    };
    Ok(RowResult {
        kind: row.kind(),
        loss: name(row.loss),
        objective: name(row.objective),
        output: name(row.output),
        dtype: name(row.dtype),
        shape: row.shape(),
        elements: row.n,
        bytes,
        threads,
        simd: focal_loss::simd_level().name().into(),
        repetitions: seconds.len(),
        best_seconds: best,
        median_seconds: median,
        total_seconds: seconds.iter().sum(),
        melements_per_s: row.n as f64 / best / 1e6,
        gb_per_s,
        bandwidth_share: Some(gb_per_s / roof),
        compared_elements: comparison.map(|c| c.elements),
        vs_reference: comparison.map(|c| c.vs_reference),
        vs_plain_loop: comparison.and_then(|c| c.vs_plain_loop),
        vs_baseline: None,
        bits,
    })
}

/// The reference and the plain loop against the library at the row's size, or at 256K
/// logits (whole samples) when the row is larger: the reference is slow.
fn compare<T: Float + Send + Sync>(
    row: &Row,
    data: &Data<T>,
    settings: &Settings,
    (measured_n, measured_best): (usize, f64),
) -> Result<Comparison, String> {
    let p = &settings.parameters;
    let limit = 256 << 10;
    let small = if row.n <= limit {
        *row
    } else {
        row.resized(limit)
    };
    let mut prepared = Prepared::new(small, data, p);
    let library = if small.n == measured_n {
        measured_best
    } else {
        best_and_median(
            &time(settings.repetitions, settings.min_time, || prepared.call())
                .map_err(|e| e.to_string())?,
        )
        .0
    };
    let budget = settings.min_time.min(0.2);
    let reference = time(1, budget, || {
        prepared.call_reference();
        Ok::<(), ()>(())
    })
    .map_or(f64::NAN, |s| best_and_median(&s).0);
    let plain = if prepared.has_plain_loop() {
        let seconds = time(3, budget, || {
            prepared.call_plain(p);
            Ok::<(), ()>(())
        })
        .map_or(f64::NAN, |s| best_and_median(&s).0);
        Some(seconds / library)
    } else {
        None
    };
    Ok(Comparison {
        elements: small.n,
        vs_reference: reference / library,
        vs_plain_loop: plain,
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    // A bad baseline is a bad argument: refused before a minute of measuring.
    let baseline = match args
        .baseline
        .as_deref()
        .map(report::read_baseline)
        .transpose()
    {
        Ok(baseline) => baseline,
        Err(message) => {
            eprintln!("focal-bench: {message}");
            return ExitCode::from(2);
        }
    };
    if args.c_baseline {
        return c_baseline(&args);
    }
    let outcome = match args.simd {
        Some(level) => focal_loss::with_simd_level(level, || run(&args))
            .map_err(|e| format!("--simd {}: {e}", level.name()))
            .and_then(|r| r),
        None => run(&args),
    };
    let mut report = match outcome {
        Ok(report) => report,
        Err(message) => {
            eprintln!("focal-bench: {message}");
            return ExitCode::from(2);
        }
    };
    if let Some(baseline) = &baseline {
        report::compare(&mut report, baseline);
    }
    if let Some(path) = &args.plot
        && let Err(message) = report::plot(&report, path)
    {
        eprintln!("focal-bench: {message}");
        return ExitCode::FAILURE;
    }
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("focal-bench: JSON: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else if args.csv {
        print!("{}", report::csv(&report));
    } else {
        print!("{}", report::table(&report));
    }
    ExitCode::SUCCESS
}

/// `--c-baseline`: its own table (or JSON).
fn c_baseline(args: &Args) -> ExitCode {
    let n = args.sizes.first().copied().unwrap_or(64 << 10);
    let min_time = args.min_time.unwrap_or(if args.quick { 0.05 } else { 0.2 });
    let rounds = if args.quick { 3 } else { 7 };
    match cbaseline::run(n, rounds, min_time) {
        Ok(result) if args.json => match serde_json::to_string_pretty(&result) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("focal-bench: JSON: {e}");
                ExitCode::FAILURE
            }
        },
        Ok(result) => {
            print!(
                "{}",
                report::c_baseline_table(&result, &machine::Machine::read())
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("focal-bench: {message}");
            ExitCode::FAILURE
        }
    }
}
