//! What the machine is (CPU model, cores, last-level cache, SIMD level) and what its memory
//! moves, measured in the same run as the rows.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::time::Instant;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    /// Logical cores the process may use.
    pub cores: usize,
    /// The last-level cache in bytes, where the OS says (Linux sysfs).
    pub last_level_cache: Option<u64>,
    /// The best SIMD level of this CPU, and the level the rows ran at.
    pub simd_detected: String,
    pub simd_used: String,
}

impl Machine {
    pub fn read() -> Machine {
        Machine {
            cpu: cpu_model().unwrap_or_else(|| std::env::consts::ARCH.to_string()),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            last_level_cache: last_level_cache(),
            simd_detected: focal_loss::SimdLevel::best().name().to_string(),
            simd_used: focal_loss::simd_level().name().to_string(),
        }
    }
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name") || l.starts_with("Model"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// The largest cache of cpu0 in sysfs ("260M", "32768K").
fn last_level_cache() -> Option<u64> {
    let mut largest = None;
    for index in 0..8 {
        let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{index}");
        let Ok(size) = std::fs::read_to_string(format!("{dir}/size")) else {
            continue;
        };
        let size = size.trim();
        let digits = size.trim_end_matches(|c: char| !c.is_ascii_digit());
        let Ok(value) = digits.parse::<u64>() else {
            continue;
        };
        let bytes = value
            * match &size[digits.len()..] {
                "K" => 1 << 10,
                "M" => 1 << 20,
                "G" => 1 << 30,
                _ => 1,
            };
        largest = largest.max(Some(bytes));
    }
    largest
}

/// The memory the OS says is available (Linux: MemAvailable), in bytes.
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Memory bandwidth in GB/s on the current rayon pool, each the best of five passes over
/// buffers of `bytes`: a read (sum of words) and a copy (read + write, counting both).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Bandwidth {
    pub bytes: u64,
    pub read_gb_per_s: f64,
    pub copy_gb_per_s: f64,
}

pub fn bandwidth(bytes: usize) -> Bandwidth {
    let words = bytes / 8;
    let source: Vec<u64> = (0..words as u64).into_par_iter().collect();
    let mut target = vec![0u64; words];
    const PIECE: usize = 1 << 16;
    let best = |f: &mut dyn FnMut()| {
        f();
        (0..5)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let read = best(&mut || {
        let sum: u64 = source
            .par_chunks(PIECE)
            .map(|c| c.iter().fold(0u64, |a, &w| a.wrapping_add(w)))
            .reduce(|| 0, u64::wrapping_add);
        black_box(sum);
    });
    let copy = best(&mut || {
        target
            .par_chunks_mut(PIECE)
            .zip(source.par_chunks(PIECE))
            .for_each(|(t, s)| t.copy_from_slice(s));
        black_box(&target);
    });
    let bytes = (words * 8) as f64;
    Bandwidth {
        bytes: (words * 8) as u64,
        read_gb_per_s: bytes / read / 1e9,
        copy_gb_per_s: 2.0 * bytes / copy / 1e9,
    }
}
