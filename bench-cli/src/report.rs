//! What a run produces, and its forms: the table, JSON (schema `focal-bench/1`), CSV, an SVG
//! plot, and ratios against a saved run.

use crate::machine::{Bandwidth, Machine};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;

pub const SCHEMA: &str = "focal-bench/1";

/// One measured row. Throughputs count logits (elements); bytes count what the call reads
/// and writes (`Row::bytes`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RowResult {
    /// `loss objective output dtype` with the class shape: the key of a baseline.
    pub kind: String,
    pub loss: String,
    pub objective: String,
    pub output: String,
    pub dtype: String,
    pub shape: String,
    pub elements: usize,
    pub bytes: usize,
    pub threads: usize,
    pub simd: String,
    pub repetitions: usize,
    pub best_seconds: f64,
    pub median_seconds: f64,
    /// All timed calls together (at least `--min-time`).
    pub total_seconds: f64,
    /// From the best time.
    pub melements_per_s: f64,
    pub gb_per_s: f64,
    /// GB/s over the bandwidth of the same kind of traffic measured in this run (the copy
    /// loop's for rows that write per-element outputs, the read loop's for the loss alone);
    /// above 1 the data came from cache.
    pub bandwidth_share: Option<f64>,
    /// Speed-ups at `compared_elements` logits: over `focal_loss::reference` and over a
    /// plain scalar loop (focal rows without a Hessian only).
    pub compared_elements: Option<usize>,
    pub vs_reference: Option<f64>,
    pub vs_plain_loop: Option<f64>,
    /// Throughput over the baseline's for the same kind and size.
    pub vs_baseline: Option<f64>,
    /// FNV-1a of the output bits of the last call (builds that agree print the same).
    pub bits: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScalingPoint {
    pub threads: usize,
    pub melements_per_s: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Scaling {
    pub kind: String,
    pub elements: usize,
    pub points: Vec<ScalingPoint>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub version: String,
    pub machine: Machine,
    pub bandwidth: Option<Bandwidth>,
    pub rows: Vec<RowResult>,
    pub thread_scaling: Option<Scaling>,
}

fn or_dash(value: Option<f64>, format: impl Fn(f64) -> String) -> String {
    value.map_or_else(|| "—".to_string(), format)
}

/// A speed-up: whole numbers from 10 up, one decimal below.
fn ratio(value: f64) -> String {
    if value >= 10.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// The human-readable table.
pub fn table(report: &Report) -> String {
    let m = &report.machine;
    let mut out = String::new();
    let cache = m
        .last_level_cache
        .map_or("?".to_string(), |b| format!("{} MiB", b >> 20));
    let _ = writeln!(
        out,
        "focal-bench {} · {} · {} cores · last-level cache {cache} · SIMD {} (best {})",
        report.version, m.cpu, m.cores, m.simd_used, m.simd_detected
    );
    if let Some(b) = &report.bandwidth {
        let _ = writeln!(
            out,
            "memory bandwidth, measured now over {} MiB: read {:.1} GB/s, copy {:.1} GB/s",
            b.bytes >> 20,
            b.read_gb_per_s,
            b.copy_gb_per_s
        );
    }
    let baseline = report.rows.iter().any(|r| r.vs_baseline.is_some());
    let headers = [
        "loss",
        "objective",
        "output",
        "dtype",
        "shape",
        "Melem/s",
        "GB/s",
        "of bw",
        "× ref",
        "× loop",
        "thr",
        "simd",
    ];
    let mut cells: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![
                r.loss.clone(),
                r.objective.clone(),
                r.output.clone(),
                r.dtype.clone(),
                r.shape.clone(),
                format!("{:.0}", r.melements_per_s),
                format!("{:.1}", r.gb_per_s),
                or_dash(r.bandwidth_share, |s| format!("{:.0} %", 100.0 * s)),
                or_dash(r.vs_reference, ratio),
                or_dash(r.vs_plain_loop, ratio),
                r.threads.to_string(),
                r.simd.clone(),
            ];
            if baseline {
                row.push(or_dash(r.vs_baseline, |s| format!("{s:.2}")));
            }
            row
        })
        .collect();
    let mut header: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    if baseline {
        header.push("× base".into());
    }
    cells.insert(0, header);
    let widths: Vec<usize> = (0..cells[0].len())
        .map(|c| {
            cells
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (i, row) in cells.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, &w))| {
                // Text left, numbers right.
                if c < 5 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
        if i == 0 {
            let _ = writeln!(
                out,
                "{}",
                "-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1))
            );
        }
    }
    if let Some(s) = &report.thread_scaling {
        let first = s.points.first().map_or(1.0, |p| p.melements_per_s);
        let points: Vec<String> = s
            .points
            .iter()
            .map(|p| {
                format!(
                    "{} thr {:.0} M/s ({:.2}×)",
                    p.threads,
                    p.melements_per_s,
                    p.melements_per_s / first
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "thread scaling, {} at {} logits: {}",
            s.kind,
            s.elements,
            points.join(", ")
        );
    }
    out
}

/// CSV: a header and one line per row (the JSON fields, `machine` left out).
pub fn csv(report: &Report) -> String {
    let mut out = String::from(
        "kind,loss,objective,output,dtype,shape,elements,bytes,threads,simd,repetitions,best_seconds,median_seconds,total_seconds,melements_per_s,gb_per_s,bandwidth_share,compared_elements,vs_reference,vs_plain_loop,vs_baseline,bits\n",
    );
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for r in &report.rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},\"{}\",{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.kind,
            r.loss,
            r.objective,
            r.output,
            r.dtype,
            r.shape,
            r.elements,
            r.bytes,
            r.threads,
            r.simd,
            r.repetitions,
            r.best_seconds,
            r.median_seconds,
            r.total_seconds,
            r.melements_per_s,
            r.gb_per_s,
            opt(r.bandwidth_share),
            r.compared_elements.map_or(String::new(), |n| n.to_string()),
            opt(r.vs_reference),
            opt(r.vs_plain_loop),
            opt(r.vs_baseline),
            r.bits
        );
    }
    out
}

/// Reads a saved `--json` run.
pub fn read_baseline(path: &str) -> Result<Report, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("--baseline {path}: {e}"))?;
    let report: Report = serde_json::from_str(&text)
        .map_err(|e| format!("--baseline {path}: not a focal-bench JSON report: {e}"))?;
    if report.schema != SCHEMA {
        return Err(format!(
            "--baseline {path}: schema {:?}, this build reads {SCHEMA:?}",
            report.schema
        ));
    }
    Ok(report)
}

/// Sets each row's ratio to the baseline's row of the same kind and size.
pub fn compare(report: &mut Report, baseline: &Report) {
    let theirs: HashMap<(&str, usize), f64> = baseline
        .rows
        .iter()
        .map(|r| ((r.kind.as_str(), r.elements), r.melements_per_s))
        .collect();
    for row in &mut report.rows {
        row.vs_baseline = theirs
            .get(&(row.kind.as_str(), row.elements))
            .map(|&t| row.melements_per_s / t);
    }
}

/// An SVG of throughput against size: one line per row kind.
pub fn plot(report: &Report, path: &str) -> Result<(), String> {
    use plotters::prelude::*;
    let error = |e: &dyn std::fmt::Display| format!("--plot {path}: {e}");
    let mut lines: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for r in &report.rows {
        let point = (r.elements as f64, r.melements_per_s);
        match lines.iter_mut().find(|(k, _)| *k == r.kind) {
            Some((_, points)) => points.push(point),
            None => lines.push((r.kind.clone(), vec![point])),
        }
    }
    let (mut x_min, mut x_max, mut y_max) = (f64::INFINITY, 0.0f64, 0.0f64);
    for (_, points) in &lines {
        for &(x, y) in points {
            x_min = x_min.min(x);
            x_max = x_max.max(x);
            y_max = y_max.max(y);
        }
    }
    if lines.is_empty() {
        return Err(error(&"no rows to plot"));
    }
    let (x_min, x_max) = (x_min / 1.5, x_max * 1.5);
    let root = SVGBackend::new(path, (1100, 700)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| error(&e))?;
    let title = format!(
        "focal-bench: {} ({} cores, SIMD {})",
        report.machine.cpu, report.machine.cores, report.machine.simd_used
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d((x_min..x_max).log_scale(), 0.0..y_max * 1.1)
        .map_err(|e| error(&e))?;
    chart
        .configure_mesh()
        .x_desc("logits per call")
        .y_desc("million logits per second")
        .x_label_formatter(&|x| {
            if *x >= 1e6 {
                format!("{:.0}M", x / 1e6)
            } else {
                format!("{:.0}K", x / 1e3)
            }
        })
        .draw()
        .map_err(|e| error(&e))?;
    for (i, (kind, points)) in lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|e| error(&e))?
            .label(kind.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(|e| error(&e))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 11))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| error(&e))?;
    root.present().map_err(|e| error(&e))?;
    Ok(())
}

/// The `--c-baseline` table: throughput, the ratio to the fastest C loop, and the largest
/// errors at the golden cases.
pub fn c_baseline_table(result: &crate::cbaseline::CBaseline, m: &Machine) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "focal-bench {} · {}", env!("CARGO_PKG_VERSION"), m.cpu);
    let _ = writeln!(
        out,
        "{} · {} logits · best of {} alternating rounds",
        result.call, result.elements, result.rounds
    );
    let fastest_c = result
        .entries
        .iter()
        .filter(|e| e.name.starts_with('C'))
        .map(|e| e.melements_per_s)
        .fold(0.0, f64::max);
    let _ = writeln!(
        out,
        "{:<20} {:>9} {:>10} {:>12} {:>12}",
        "", "Melem/s", "× best C", "loss error", "grad error"
    );
    for e in &result.entries {
        let _ = writeln!(
            out,
            "{:<20} {:>9.0} {:>10.2} {:>12.1e} {:>12.1e}",
            e.name,
            e.melements_per_s,
            e.melements_per_s / fastest_c,
            e.max_loss_error,
            e.max_grad_error
        );
    }
    let _ = writeln!(
        out,
        "errors: the largest relative to the golden value (mpmath) over {} elements of \
         tests/golden/cases.txt (u8 labels, f32, α given); the gradient's relative to its \
         terms where they cancel",
        result.golden_elements
    );
    for e in &result.entries {
        let _ = writeln!(out, "  worst loss of {}: {}", e.name, e.worst_loss);
    }
    out
}
