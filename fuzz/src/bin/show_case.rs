//! Prints a fuzz input as the call it decodes to (every value), for turning a crash into a
//! regression test: `cargo run --bin show_case -- artifacts/<target>/crash-… [c_abi]`.

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: show_case FILE [c_abi]");
    let data = std::fs::read(path)?;
    let case = if args.next().as_deref() == Some("c_abi") {
        focal_loss_fuzz::cabi::decode(&data)
    } else {
        focal_loss_fuzz::input::decode(&data)
    };
    println!("{case:#?}");
    Ok(())
}
