//! The C API from C: compiles `tests/c/test_focal_loss.c` with the system C compiler against
//! `include/focal_loss.h`, links it with the static library, then with the shared library,
//! and runs both (plus `examples/c/minimal.c`, and the header through a C++ compiler when
//! one is installed).
//!
//! The libraries are the `staticlib` and `cdylib` outputs of this crate that `cargo test`
//! builds next to this test's binary (`target/<profile>/`).

#![cfg(all(unix, not(miri)))]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CRATE_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// `target/<profile>`: this test runs from `target/<profile>/deps/c_abi-<hash>`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("deps directory");
    deps.parent().expect("profile directory").to_path_buf()
}

/// The library file `name` built with this test: `cargo test` compiles the crate once for
/// all its crate types into `target/<profile>/deps/` (the same rustc invocation that produced
/// the rlib this test links), and copies them to `target/<profile>/` only for
/// `cargo build`; `deps/` is therefore preferred, the profile directory is the fallback.
fn library(name: &str) -> PathBuf {
    let profile = profile_dir();
    let candidates = [profile.join("deps").join(name), profile.join(name)];
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "{name} is missing from {} and its deps/: it is built by `cargo test` and \
                 `cargo build` from the crate types of Cargo.toml ([lib] crate-type = \
                 [\"rlib\", \"staticlib\", \"cdylib\"])",
                profile.display()
            )
        })
}

fn static_library() -> PathBuf {
    library("libfocal_loss.a")
}

fn shared_library() -> PathBuf {
    library(if cfg!(target_os = "macos") {
        "libfocal_loss.dylib"
    } else {
        "libfocal_loss.so"
    })
}

/// The system libraries a Rust static library needs (`--print native-static-libs`, minus
/// those the C compiler adds itself).
fn system_libraries() -> &'static [&'static str] {
    if cfg!(target_os = "linux") {
        &["-lm", "-lpthread", "-ldl"]
    } else {
        &["-lm", "-lpthread"]
    }
}

fn compiler() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_string())
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c_abi");
    std::fs::create_dir_all(&dir).expect("create the output directory");
    dir
}

fn show(what: &str, output: &Output) -> String {
    format!(
        "{what}: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `command` and panics with its output unless it succeeds.
fn run(what: &str, command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    assert!(output.status.success(), "{}", show(what, &output));
    output
}

/// Compiles `source` with the strict warning set, linked with `link`.
fn compile(source: &str, executable: &Path, link: &[String]) {
    let mut cc = Command::new(compiler());
    cc.current_dir(CRATE_DIR)
        .args([
            "-std=c11",
            "-O1",
            "-g",
            "-Wall",
            "-Wextra",
            "-Wpedantic",
            "-Werror",
        ])
        .args(["-Iinclude", source])
        .arg(format!(
            "-DFOCAL_EXPECTED_VERSION=\"{}\"",
            env!("CARGO_PKG_VERSION")
        ))
        .arg("-o")
        .arg(executable)
        .args(link);
    run(&format!("compiling {source}"), &mut cc);
}

fn static_link() -> Vec<String> {
    let mut link = vec![static_library().display().to_string()];
    link.extend(system_libraries().iter().map(|s| s.to_string()));
    link
}

#[test]
fn c_test_program_passes_with_the_static_library() {
    let exe = out_dir().join("test_focal_loss_static");
    compile("tests/c/test_focal_loss.c", &exe, &static_link());
    let output = run("the C tests (static library)", &mut Command::new(&exe));
    println!("{}", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn c_test_program_passes_with_the_shared_library() {
    let library = shared_library();
    let exe = out_dir().join("test_focal_loss_shared");
    let dir = library
        .parent()
        .expect("library directory")
        .display()
        .to_string();
    let link = vec![
        format!("-L{dir}"),
        "-lfocal_loss".to_string(),
        format!("-Wl,-rpath,{dir}"),
        "-lm".to_string(),
        "-lpthread".to_string(),
    ];
    compile("tests/c/test_focal_loss.c", &exe, &link);
    // cargo puts `target/<profile>` on LD_LIBRARY_PATH, which takes precedence over the
    // rpath: without it the library found is the one linked, the fresh one in `dir`.
    let output = run(
        "the C tests (shared library)",
        Command::new(&exe).env_remove("LD_LIBRARY_PATH"),
    );
    println!("{}", String::from_utf8_lossy(&output.stdout));
    // `-lfocal_loss` prefers the shared library over the static one next to it: check that
    // it really is the shared library that was loaded.
    if cfg!(target_os = "linux") {
        if let Ok(ldd) = Command::new("ldd")
            .arg(&exe)
            .env_remove("LD_LIBRARY_PATH")
            .output()
        {
            let text = String::from_utf8_lossy(&ldd.stdout);
            let expected = format!("{dir}/libfocal_loss.so");
            assert!(
                text.contains(&expected),
                "ldd (expected {expected}):\n{text}"
            );
        }
    }
}

#[test]
fn minimal_example_compiles_and_runs() {
    let exe = out_dir().join("minimal");
    compile("examples/c/minimal.c", &exe, &static_link());
    let output = run("examples/c/minimal.c", &mut Command::new(&exe));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("focal loss"), "{stdout}");
}

/// The header is also valid C++ (`extern "C"`, plain structs and enums), when a C++ compiler
/// is installed.
#[test]
fn header_compiles_as_cpp() {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".to_string());
    let source = out_dir().join("header.cpp");
    std::fs::write(
        &source,
        "#include \"focal_loss.h\"\n\
         int main() { focal_sigmoid_options o = focal_sigmoid_options_default();\n\
         return o.reduction == FOCAL_REDUCTION_MEAN ? 0 : 1; }\n",
    )
    .expect("write header.cpp");
    let mut command = Command::new(&cxx);
    command
        .current_dir(CRATE_DIR)
        .args([
            "-std=c++11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsyntax-only",
            "-Iinclude",
        ])
        .arg(&source);
    match command.output() {
        Ok(output) => assert!(output.status.success(), "{}", show("c++", &output)),
        Err(e) => eprintln!("skipped: no C++ compiler ({cxx}: {e})"),
    }
}
