//! Runtime choice of the SIMD level: detected once, overridable by `FOCAL_LOSS_SIMD`, and
//! selectable per call for tests and benchmarks.

use pulp::{Simd, WithSimd};
use std::sync::OnceLock;

/// An instruction-set level the kernels can run at.
///
/// Every level computes the same bits (fused multiply-adds everywhere, no reassociation
/// that depends on the vector width); they differ only in speed.
///
/// ```
/// use focal_loss::SimdLevel;
/// let active = focal_loss::simd_level();
/// assert!(active.is_available());
/// assert!(SimdLevel::Scalar.is_available());
/// assert_eq!(SimdLevel::from_name("avx2"), Some(SimdLevel::Avx2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SimdLevel {
    /// One lane, portable code (fused multiply-add through the library routine).
    Scalar,
    /// x86-64 AVX2 + FMA: 8 × f32 / 4 × f64.
    Avx2,
    /// x86-64 AVX-512 (F, BW, CD, DQ, VL): 16 × f32 / 8 × f64.
    Avx512,
    /// aarch64 NEON: 4 × f32 / 2 × f64.
    Neon,
}

impl SimdLevel {
    /// Every level, fastest first.
    pub const ALL: [SimdLevel; 4] = [Self::Avx512, Self::Avx2, Self::Neon, Self::Scalar];

    /// The name used by `FOCAL_LOSS_SIMD` and the C ABI: `avx512`, `avx2`, `neon`, `scalar`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Scalar => "scalar",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
            Self::Neon => "neon",
        }
    }

    /// The level with this [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.name() == name)
    }

    /// Whether this CPU can run the level.
    pub fn is_available(self) -> bool {
        match self {
            Self::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => pulp::x86::V3::try_new().is_some(),
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => pulp::x86::V4::try_new().is_some(),
            #[cfg(target_arch = "aarch64")]
            Self::Neon => pulp::aarch64::Neon::try_new().is_some(),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The fastest level this CPU can run.
    pub fn best() -> Self {
        Self::ALL
            .into_iter()
            .find(|level| level.is_available())
            .unwrap_or(Self::Scalar)
    }

    /// Runs `op` at this level; the caller has checked that it is available.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn run<Op: WithSimd>(self, op: Op) -> Op::Output {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => match pulp::x86::V3::try_new() {
                Some(simd) => Simd::vectorize(simd, op),
                None => op.with_simd(pulp::Scalar::new()),
            },
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => match pulp::x86::V4::try_new() {
                Some(simd) => Simd::vectorize(simd, op),
                None => op.with_simd(pulp::Scalar::new()),
            },
            #[cfg(target_arch = "aarch64")]
            Self::Neon => match pulp::aarch64::Neon::try_new() {
                Some(simd) => Simd::vectorize(simd, op),
                None => op.with_simd(pulp::Scalar::new()),
            },
            _ => op.with_simd(pulp::Scalar::new()),
        }
    }
}

impl core::fmt::Display for SimdLevel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The level chosen at start-up: `FOCAL_LOSS_SIMD` (`auto`, `avx512`, `avx2`, `neon`,
/// `scalar`) when it names an available level, otherwise the best available one.
fn startup_level() -> SimdLevel {
    static LEVEL: OnceLock<SimdLevel> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        std::env::var("FOCAL_LOSS_SIMD")
            .ok()
            .and_then(|name| SimdLevel::from_name(name.trim()))
            .filter(|level| level.is_available())
            .unwrap_or_else(SimdLevel::best)
    })
}

thread_local! {
    static OVERRIDE: core::cell::Cell<Option<SimdLevel>> = const { core::cell::Cell::new(None) };
}

/// The level the library functions called from this thread run at.
///
/// ```
/// println!("running at {}", focal_loss::simd_level());
/// ```
pub fn simd_level() -> SimdLevel {
    OVERRIDE.with(|o| o.get()).unwrap_or_else(startup_level)
}

/// Runs `f` with every library function called from this thread (and the worker threads it
/// starts) at `level`, or `None` when this CPU cannot run it (the public API turns that into
/// its error: `crate::levels::with_simd_level`).
pub(crate) fn at_level<R>(level: SimdLevel, f: impl FnOnce() -> R) -> Option<R> {
    if !level.is_available() {
        return None;
    }
    struct Restore(Option<SimdLevel>);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(OVERRIDE.with(|o| o.replace(Some(level))));
    Some(f())
}

/// Runs `op` with a pulp level of its own choosing; used by tests to compare emulated
/// vector widths with the native levels.
#[cfg(any(test, feature = "emulated-simd"))]
pub(crate) fn run_emulated<Op: WithSimd>(lanes_bits: usize, op: Op) -> Op::Output {
    match lanes_bits {
        128 => op.with_simd(pulp::Scalar128b),
        256 => op.with_simd(pulp::Scalar256b),
        512 => op.with_simd(pulp::Scalar512b),
        _ => op.with_simd(pulp::Scalar::new()),
    }
}

/// What the kernels of one call run at: the calling thread's level, or (for tests and the
/// fuzzers) one of pulp's portable emulations of a 128/256/512-bit vector. Chosen once per
/// call and handed to every chunk, so worker threads run at the caller's choice.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Dispatch {
    Level(SimdLevel),
    #[cfg(any(test, feature = "emulated-simd"))]
    Emulated(usize),
}

#[cfg(any(test, feature = "emulated-simd"))]
thread_local! {
    static EMULATED: core::cell::Cell<Option<usize>> = const { core::cell::Cell::new(None) };
}

impl Dispatch {
    /// The dispatch of a call made from this thread now.
    pub(crate) fn current() -> Self {
        #[cfg(any(test, feature = "emulated-simd"))]
        if let Some(bits) = EMULATED.with(|e| e.get()) {
            return Self::Emulated(bits);
        }
        Self::Level(simd_level())
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn run<Op: WithSimd>(self, op: Op) -> Op::Output {
        match self {
            Self::Level(level) => level.run(op),
            #[cfg(any(test, feature = "emulated-simd"))]
            Self::Emulated(bits) => run_emulated(bits, op),
        }
    }
}

/// Runs `f` with every library call made from this thread computing at pulp's portable
/// emulation of a `bits`-wide vector (128, 256 or 512; anything else: one lane). For the
/// fuzzers and tests that compare widths; the results must be those of every native level.
///
/// ```
/// let level = focal_loss::with_emulated_simd(256, focal_loss::simd_level);
/// # let _ = level;
/// ```
#[cfg(feature = "emulated-simd")]
#[doc(hidden)]
pub fn with_emulated_simd<R>(bits: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<usize>);
    impl Drop for Restore {
        fn drop(&mut self) {
            EMULATED.with(|e| e.set(self.0));
        }
    }
    let _restore = Restore(EMULATED.with(|e| e.replace(Some(bits))));
    f()
}
