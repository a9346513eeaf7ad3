//! `cargo run --example dump TARGET INPUT OUT.wasm`: writes the module a
//! fuzz input of the `compile` or `differential` target stands for, to
//! minimize and turn into a regression test.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, target, input, out] = &args[..] else {
        eprintln!("usage: dump compile|differential INPUT OUT.wasm");
        std::process::exit(2);
    };
    let data = std::fs::read(input).expect("input readable");
    let wasm = match target.as_str() {
        "compile" => kwo_fuzz::compile::module(&data).map(|(_, w)| w),
        "differential" => kwo_fuzz::differential::module(&data),
        _ => panic!("no such target {target}"),
    };
    let wasm = wasm.expect("the input makes no module");
    std::fs::write(out, wasm).expect("output writable");
}
