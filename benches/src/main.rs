//! `kwo-bench`: kwo against native code, Wasmtime and the wasmi interpreter
//! on the same workloads, in one run.
//!
//!     kwo-bench [--smoke] [--runs N] [--out DIR] [--only NAME,NAME]
//!     kwo-bench --build-only [--only NAME,NAME]
//!     kwo-bench --compile-only [--only NAME,NAME]
//!
//! Builds the workloads for wasm32 (the native builds are linked in),
//! measures run time (every engine's output checked against native),
//! compile time and throughput, object sizes, load time and invoke round
//! trip, and writes `report.md` plus SVG plots to `--out` (default
//! `benches/results`; `target/bench-smoke` with `--smoke`). `--smoke` uses
//! tiny sizes and one run: it checks that the harness and every engine
//! still work, and its numbers mean nothing. Exit status 1 when any engine
//! failed or disagreed with native.
//!
//! `--build-only` builds the `.wasm` modules into `target/bench-wasm/`
//! and prints one line per workload, `NAME WASM EXPORT FULL_N SMOKE_N`,
//! then exits: the in-kernel runs (`tests/vm/run.sh bench`, see
//! `docs/benchmarks.md`) take the same modules from there.
//!
//! `--compile-only` measures compile time alone, as the full run does
//! (kwo and Wasmtime, one thread each), and prints it per module and in
//! total: for work on the compiler's speed, without the hour of a full
//! run. It writes no report.

mod engines;
mod measure;
mod report;
mod workloads;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use engines::Engine;
use measure::Settings;

struct Args {
    smoke: bool,
    build_only: bool,
    compile_only: bool,
    runs: Option<usize>,
    out: Option<PathBuf>,
    only: Option<Vec<String>>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        smoke: false,
        build_only: false,
        compile_only: false,
        runs: None,
        out: None,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--smoke" => args.smoke = true,
            "--build-only" => args.build_only = true,
            "--compile-only" => args.compile_only = true,
            "--runs" => {
                let v = it.next().ok_or("--runs needs a number")?;
                args.runs = Some(v.parse().map_err(|_| format!("bad --runs {v}"))?);
            }
            "--out" => args.out = Some(it.next().ok_or("--out needs a directory")?.into()),
            "--only" => {
                let v = it.next().ok_or("--only needs names")?;
                args.only = Some(v.split(',').map(str::to_string).collect());
            }
            "-h" | "--help" => return Err(USAGE.into()),
            _ => return Err(format!("unknown argument {a}\n{USAGE}")),
        }
    }
    Ok(args)
}

const USAGE: &str = "usage: kwo-bench [--smoke] [--runs N] [--out DIR] [--only NAME,NAME]
       kwo-bench --build-only [--only NAME,NAME]
       kwo-bench --compile-only [--only NAME,NAME]";

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // A spawned thread: glibc answers the kwo runtime's per-call stack
    // query (pthread_getattr_np) by reading /proc/self/maps on the main
    // thread only, which would add ~100 us to every kwo call.
    let worker = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || run(&args));
    let result = match worker.map(|h| h.join()) {
        Ok(Ok(r)) => r,
        _ => Err("the benchmark thread could not start or panicked".into()),
    };
    match result {
        Ok(0) => ExitCode::SUCCESS,
        Ok(failures) => {
            eprintln!("kwo-bench: {failures} failure(s), see the report");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("kwo-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--build-only`: the `.wasm` of every workload as `DIR/MODULE.wasm`, and
/// one line per workload on stdout: `NAME WASM EXPORT FULL_N SMOKE_N`.
fn build_only(workloads: &[workloads::Workload], dir: &std::path::Path) -> Result<usize, String> {
    let modules = workloads::build_wasm(workloads, dir)?;
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    for (key, bytes) in &modules {
        let path = dir.join(format!("{key}.wasm"));
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    for w in workloads {
        let path = dir.join(format!("{}.wasm", w.module));
        println!(
            "{} {} {} {} {}",
            w.name,
            path.display(),
            w.export,
            w.full,
            w.smoke
        );
    }
    Ok(0)
}

/// `--compile-only`'s table: per module, the code section's size, kwo's
/// verification + compilation and Wasmtime's compilation (medians) with
/// their throughput in MB of code section per second (Wasmtime in its
/// default configuration, then with epoch interruption).
fn print_compile_times(compile: &[measure::CompileResult]) {
    println!(
        "module          code B   kwo ms  kwo MB/s   wasmtime ms  wasmtime MB/s   +epochs ms  +epochs MB/s"
    );
    let (mut code, mut kwo, mut wt, mut wte) = (0usize, 0.0, Some(0.0), Some(0.0));
    let line = |name: &str, code: usize, kwo: f64, wt: Option<f64>, wte: Option<f64>| {
        let mbs = |t: f64| code as f64 / t / 1e6;
        let cells = |t: Option<f64>| {
            t.map_or("-".to_string(), |t| {
                format!("{:9.1} {:14.2}", t * 1e3, mbs(t))
            })
        };
        println!(
            "{name:<14} {code:>8} {:8.1} {:9.2}   {}  {}",
            kwo * 1e3,
            mbs(kwo),
            cells(wt),
            cells(wte)
        );
    };
    for c in compile {
        let k = c.verify.median() + c.kwo_compile.median();
        let w = c.wasmtime_compile.as_ref().map(|s| s.median());
        let we = c.wasmtime_epochs_compile.as_ref().map(|s| s.median());
        line(&c.module, c.code_len, k, w, we);
        code += c.code_len;
        kwo += k;
        wt = wt.zip(w).map(|(sum, t)| sum + t);
        wte = wte.zip(we).map(|(sum, t)| sum + t);
    }
    line("all", code, kwo, wt, wte);
}

fn run(args: &Args) -> Result<usize, String> {
    let started = Instant::now();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = match &args.out {
        Some(o) => o.clone(),
        None if args.smoke => root.join("../target/bench-smoke"),
        None => root.join("results"),
    };
    let mut workloads = workloads::all();
    if let Some(only) = &args.only {
        workloads.retain(|w| only.iter().any(|o| o == w.name));
    }
    if args.build_only {
        return build_only(&workloads, &root.join("../target/bench-wasm"));
    }
    let runs = args.runs.unwrap_or(if args.smoke { 1 } else { 11 });
    let set = Settings {
        smoke: args.smoke,
        runs,
        interp_runs: runs.min(3),
        engines: Engine::all(),
    };

    eprintln!("building {} workloads for wasm32 ...", workloads.len());
    let modules = workloads::build_wasm(&workloads, &root.join("../target/bench-wasm"))?;
    let mut errors = Vec::new();
    let compile = measure::compile_times(&set, &modules, &mut errors);
    if args.compile_only {
        print_compile_times(&compile);
        for e in &errors {
            eprintln!("{e}");
        }
        return Ok(errors.len());
    }
    let load = measure::load_times(&set, &modules, &mut errors);
    let round_trip = measure::invoke_round_trip(&set, &mut errors);
    let times = measure::run_times(&set, &workloads, &modules, &mut errors);
    let doubled = measure::doubled_times(&set, &workloads, &modules, &mut errors);

    let data = report::Data {
        set: &set,
        times,
        doubled,
        compile,
        load,
        round_trip,
        errors,
        elapsed: started.elapsed(),
    };
    report::write(&out, &data)?;
    eprintln!(
        "report: {} ({:.0} s)",
        out.join("report.md").display(),
        started.elapsed().as_secs_f64()
    );
    // One check per workload and engine whose every output matched native.
    let passed: usize = data.times.iter().map(|r| r.times.len()).sum();
    println!("kwo-bench: {passed} passed, {} failed", data.errors.len());
    Ok(data.errors.len())
}
