//! Builds the C workloads natively with `clang -O2` (the "native" engine of
//! the benchmarks), each with its `run` renamed to `kwo_bench_<name>`.
//! The Wasm builds of the same files happen at run time in the harness.

use std::path::Path;

fn main() {
    let dir = Path::new("workloads/c");
    println!("cargo:rerun-if-changed=workloads/c");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("benches/workloads/c is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    files.sort();
    for file in files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name");
        cc::Build::new()
            .compiler("clang")
            .opt_level(2)
            .debug(false)
            .warnings(true)
            .define("RUN", format!("kwo_bench_{stem}").as_str())
            .file(&file)
            .compile(&format!("kwo_bench_{stem}"));
    }
}
