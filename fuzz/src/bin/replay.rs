//! Runs fuzz inputs through a target's checks without libFuzzer (any toolchain, the current
//! library code): `cargo run --bin replay -- <target> FILE…`. Panics on the first failure.

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let target = args.next().expect("usage: replay TARGET FILE…");
    let check: fn(&[u8]) = match target.as_str() {
        "kernels_vs_reference" => focal_loss_fuzz::checks::kernels_vs_reference,
        "levels_agree" => focal_loss_fuzz::checks::levels_agree,
        "c_abi" => focal_loss_fuzz::cabi::c_abi,
        other => panic!("unknown target {other}"),
    };
    let mut count = 0;
    for path in args {
        check(&std::fs::read(&path)?);
        count += 1;
    }
    println!("{count} inputs passed");
    Ok(())
}
