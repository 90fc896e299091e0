//! Compiles the C baseline (`c/baseline.c`) twice with the system's C compiler, `-O3
//! -march=native` and glibc's vector maths (libmvec): as it stays accurate, and with
//! `-ffast-math`. Only on x86-64 Linux with glibc; elsewhere, or when the compiler fails, the
//! CLI is built without it (`--c-baseline` then says so).

fn main() {
    println!("cargo:rerun-if-changed=c/baseline.c");
    println!("cargo::rustc-check-cfg=cfg(c_baseline)");
    let target = |key: &str| std::env::var(key).unwrap_or_default();
    if target("CARGO_CFG_TARGET_ARCH") != "x86_64"
        || target("CARGO_CFG_TARGET_OS") != "linux"
        || target("CARGO_CFG_TARGET_ENV") != "gnu"
    {
        return;
    }
    for (name, fast_math) in [("focal_c_accurate", false), ("focal_c_fast_math", true)] {
        let mut build = cc::Build::new();
        build
            .file("c/baseline.c")
            .define("BASELINE_NAME", name)
            .opt_level(3)
            .flag("-march=native")
            .flag("-fopenmp-simd")
            .flag(if fast_math {
                "-ffast-math"
            } else {
                "-fno-math-errno"
            })
            .cargo_warnings(false);
        if let Err(error) = build.try_compile(name) {
            println!("cargo:warning=the C baseline is left out: {error}");
            return;
        }
    }
    println!("cargo:rustc-link-lib=mvec");
    println!("cargo:rustc-link-lib=m");
    println!("cargo:rustc-cfg=c_baseline");
}
