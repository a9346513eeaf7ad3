//! One workload on one engine, for instruction counts under callgrind, or
//! Wasmtime's machine code for comparison with `kwo inspect --disasm`
//! (docs/benchmarks.md, "Code quality against Wasmtime"):
//!
//!     gap ENGINE WASM EXPORT N CALLS    # ENGINE: kwo, nochecks, guard, epochs, explicit
//!     gap dump-wt WASM OUT.elf [epochs|explicit]
//!
//! The first form instantiates once, calls `EXPORT(N)` CALLS times and
//! prints the fastest; the instructions of one call are a CALLS=3 run's
//! minus a CALLS=1 run's, halved. The second writes Wasmtime's compiled
//! module, an ELF object `objdump -d` reads (functions named
//! `wasm[0]::function[INDEX]`, the index `kwo inspect` gives).
//!
//! Build: `cargo build --release -p kwo-bench --features wasmtime --example gap`.

#[path = "../src/engines.rs"]
#[allow(dead_code)]
mod engines;

use engines::Engine;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Err(e) = run(&args) {
        eprintln!("gap: {e}\nusage: gap ENGINE WASM EXPORT N CALLS | gap dump-wt WASM OUT.elf [epochs|explicit]");
        std::process::exit(2);
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let arg = |i: usize| args.get(i).cloned().ok_or("missing argument");
    let wasm = std::fs::read(arg(2)?).map_err(|e| e.to_string())?;
    if arg(1)? == "dump-wt" {
        let mode = match args.get(4).map(String::as_str) {
            Some("explicit") => engines::wt::Mode::Explicit,
            Some("epochs") => engines::wt::Mode::Epochs,
            _ => engines::wt::Mode::Guard,
        };
        let bytes = engines::wt::engine(mode)?
            .precompile_module(&wasm)
            .map_err(|e| e.to_string())?;
        return std::fs::write(arg(3)?, bytes).map_err(|e| e.to_string());
    }
    let engine = match arg(1)?.as_str() {
        "kwo" => Engine::Kwo,
        "nochecks" => Engine::KwoNoChecks,
        "guard" => Engine::WasmtimeGuard,
        "epochs" => Engine::WasmtimeEpochs,
        "explicit" => Engine::WasmtimeExplicit,
        other => return Err(format!("unknown engine {other}")),
    };
    let export = arg(3)?;
    let n: i32 = arg(4)?.parse().map_err(|_| "bad N")?;
    let calls: usize = arg(5)?.parse().map_err(|_| "bad CALLS")?;
    // A spawned thread with a large stack, as kwo-bench runs (see main.rs).
    let worker = std::thread::Builder::new().stack_size(64 << 20).spawn(move || {
        let mut inst = engine.instantiate(&wasm)?;
        let (mut best, mut result) = (f64::MAX, 0);
        for _ in 0..calls {
            let start = Instant::now();
            result = inst.call(&export, n)?;
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!("{} {export}({n}) = {result}, fastest of {calls}: {:.3} ms", engine.label(), best * 1e3);
        Ok::<(), String>(())
    });
    worker.map_err(|e| e.to_string())?.join().map_err(|_| "the worker panicked")?
}
