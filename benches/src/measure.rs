//! The measurements: run time per workload and engine (outputs checked
//! against native), compile time, object sizes, load time and invoke
//! round trip. Progress goes to stderr as it happens.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use crate::engines::{self, Engine, Instance, Module};
use crate::workloads::{self, Workload};

/// Seconds of each sample.
#[derive(Debug, Clone, Default)]
pub struct Samples(pub Vec<f64>);

impl Samples {
    pub fn median(&self) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    }

    pub fn min(&self) -> f64 {
        self.0.iter().copied().fold(f64::INFINITY, f64::min)
    }

    pub fn max(&self) -> f64 {
        self.0.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }

    /// (max - min) / median.
    pub fn spread(&self) -> f64 {
        (self.max() - self.min()) / self.median()
    }
}

/// Times `f` `runs` times.
fn sample(runs: usize, mut f: impl FnMut() -> Result<(), String>) -> Result<Samples, String> {
    let mut s = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        s.push(t.elapsed().as_secs_f64());
    }
    Ok(Samples(s))
}

pub struct Settings {
    pub smoke: bool,
    /// Timed calls per workload and engine (after one untimed warm-up).
    pub runs: usize,
    /// Timed calls for the interpreter, which is 10-100x slower.
    pub interp_runs: usize,
    pub engines: Vec<Engine>,
}

/// One workload's results; `times[engine]` is absent when it failed.
pub struct RunResult {
    pub name: &'static str,
    pub arg: i32,
    pub times: BTreeMap<&'static str, Samples>,
}

/// Runs every workload on every engine; returns the results and the
/// failures (errors and checksum mismatches), which never stop the run.
/// The engines take turns call by call, so that a burst of load from
/// elsewhere on the machine hits them all alike.
pub fn run_times(
    set: &Settings,
    workloads: &[Workload],
    modules: &BTreeMap<String, Vec<u8>>,
    errors: &mut Vec<String>,
) -> Vec<RunResult> {
    let mut results = Vec::new();
    for (i, w) in workloads.iter().enumerate() {
        let arg = if set.smoke { w.smoke } else { w.full };
        eprint!("[{}/{}] {} ({arg}):", i + 1, workloads.len(), w.name);
        let want = (w.native)(arg);
        let mut contenders = Vec::new();
        for &engine in &set.engines {
            match Contender::new(engine, w, arg, want, &modules[w.module]) {
                Ok(c) => contenders.push(c),
                Err(e) => errors.push(format!("{} on {}: {e}", w.name, engine.label())),
            }
        }
        for round in 0..set.runs {
            for c in contenders.iter_mut().filter(|c| c.failed.is_none()) {
                if c.engine != Engine::Wasmi || round < set.interp_runs {
                    c.time_call(w, arg, want);
                }
            }
        }
        let mut r = RunResult {
            name: w.name,
            arg,
            times: BTreeMap::new(),
        };
        for c in contenders {
            match c.failed {
                Some(e) => errors.push(format!("{} on {}: {e}", w.name, c.engine.label())),
                None => {
                    r.times.insert(c.engine.label(), c.samples);
                }
            }
        }
        let native = r
            .times
            .get(Engine::Native.label())
            .map_or(f64::NAN, Samples::min);
        for e in set.engines.iter().filter(|&&e| e != Engine::Native) {
            if let Some(s) = r.times.get(e.label()) {
                eprint!(" | {} {:.2}x", e.label(), s.min() / native);
            }
        }
        eprintln!(" (native {:.2} ms)", native * 1e3);
        results.push(r);
    }
    results
}

/// The allocation-heavy workloads again at twice their size, on the main
/// engines: a time that more than doubles says growth is not linear (a
/// memory copied on every `memory.grow`).
pub fn doubled_times(
    set: &Settings,
    workloads: &[Workload],
    modules: &BTreeMap<String, Vec<u8>>,
    errors: &mut Vec<String>,
) -> Vec<RunResult> {
    let doubled: Vec<Workload> = workloads
        .iter()
        .filter(|w| w.fresh)
        .map(|w| Workload {
            full: w.full * 2,
            smoke: w.smoke * 2,
            ..w.clone()
        })
        .collect();
    let main = Settings {
        smoke: set.smoke,
        runs: set.runs,
        interp_runs: set.interp_runs,
        engines: Engine::main()
            .into_iter()
            .filter(|e| set.engines.contains(e))
            .collect(),
    };
    eprintln!("the allocation-heavy workloads at twice their size:");
    run_times(&main, &doubled, modules, errors)
}

/// One engine's instance of one workload, warmed up and checked.
struct Contender {
    engine: Engine,
    /// The compiled module, for workloads that want a fresh instance per call.
    module: Option<Box<dyn Module>>,
    inst: Option<Box<dyn Instance>>,
    samples: Samples,
    failed: Option<String>,
}

impl Contender {
    fn new(
        engine: Engine,
        w: &Workload,
        arg: i32,
        want: i64,
        wasm: &[u8],
    ) -> Result<Contender, String> {
        let module = match engine {
            Engine::Native => None,
            _ => Some(engine.prepare(wasm)?),
        };
        let mut inst = module.as_ref().map(|m| m.instantiate()).transpose()?;
        if let Some(inst) = &mut inst {
            check(inst.call(w.export, arg)?, want)?;
        }
        Ok(Contender {
            engine,
            module: module.filter(|_| w.fresh),
            inst,
            samples: Samples::default(),
            failed: None,
        })
    }

    fn time_call(&mut self, w: &Workload, arg: i32, want: i64) {
        if let Some(module) = &self.module {
            match module.instantiate() {
                Ok(inst) => self.inst = Some(inst),
                Err(e) => {
                    self.failed = Some(e);
                    return;
                }
            }
        }
        let t = Instant::now();
        let got = match &mut self.inst {
            None => Ok(black_box(w.native)(black_box(arg))),
            Some(inst) => inst.call(w.export, arg),
        };
        let elapsed = t.elapsed().as_secs_f64();
        match got.and_then(|v| check(v, want)) {
            Ok(()) => self.samples.0.push(elapsed),
            Err(e) => self.failed = Some(e),
        }
    }
}

fn check(got: i64, want: i64) -> Result<(), String> {
    if got == want {
        return Ok(());
    }
    Err(format!("checksum {got:#x}, native says {want:#x}"))
}

/// Compile-side numbers of one module.
pub struct CompileResult {
    pub module: String,
    /// Memory accesses the verifier proved in bounds, hoisted out of their
    /// loops, and left checked.
    pub accesses: kwo_verifier::analysis::AccessCounts,
    pub wasm_len: usize,
    pub code_len: usize,
    pub kwo_len: usize,
    pub verify: Samples,
    pub kwo_compile: Samples,
    /// Wasmtime's default configuration (guard pages).
    pub wasmtime_compile: Option<Samples>,
    /// The same with epoch interruption: more code (a check per function
    /// entry and loop header), so it compiles slower.
    pub wasmtime_epochs_compile: Option<Samples>,
}

/// Compile time, single-threaded on both sides (kwo in a one-thread rayon
/// pool, Wasmtime built without parallel compilation).
pub fn compile_times(
    set: &Settings,
    modules: &BTreeMap<String, Vec<u8>>,
    errors: &mut Vec<String>,
) -> Vec<CompileResult> {
    let reps = if set.smoke { 1 } else { 3 };
    let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(1).build() else {
        errors.push("cannot build a one-thread pool".into());
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, wasm) in modules {
        eprint!("compile {name}: ");
        match pool.install(|| compile_one(set, reps, name, wasm)) {
            Ok(r) => {
                eprintln!("kwo {:.1} ms", r.kwo_compile.median() * 1e3);
                out.push(r);
            }
            Err(e) => {
                eprintln!("FAILED: {e}");
                errors.push(format!("compile {name}: {e}"));
            }
        }
    }
    out
}

fn compile_one(
    set: &Settings,
    reps: usize,
    name: &str,
    wasm: &[u8],
) -> Result<CompileResult, String> {
    let policy = kwo_verifier::Policy::kernel();
    let verify = sample(reps, || {
        kwo_verifier::verify(wasm, &policy)
            .map(drop)
            .map_err(|d| d.to_string())
    })?;
    let module = kwo_verifier::verify(wasm, &policy).map_err(|d| d.to_string())?;
    let opts = kwo_compiler::Options {
        target: kwo_format::Target::HOST,
        ..Default::default()
    };
    let mut kwo_len = 0;
    let kwo_compile = sample(reps, || {
        kwo_len = kwo_compiler::compile(&module, &opts)
            .map_err(|e| e.to_string())?
            .len();
        Ok(())
    })?;
    Ok(CompileResult {
        module: name.to_string(),
        accesses: module.access_counts(),
        wasm_len: wasm.len(),
        code_len: workloads::code_section_len(wasm),
        kwo_len,
        verify,
        kwo_compile,
        wasmtime_compile: wasmtime_compile(set, reps, wasm, WasmtimeMode::Guard)?,
        wasmtime_epochs_compile: wasmtime_compile(set, reps, wasm, WasmtimeMode::Epochs)?,
    })
}

/// The Wasmtime configurations whose compile time is measured.
#[derive(Clone, Copy)]
enum WasmtimeMode {
    Guard,
    Epochs,
}

/// Wasmtime's compile time in `mode`, when that engine is measured.
#[cfg(feature = "wasmtime")]
fn wasmtime_compile(
    set: &Settings,
    reps: usize,
    wasm: &[u8],
    mode: WasmtimeMode,
) -> Result<Option<Samples>, String> {
    let (engine, mode) = match mode {
        WasmtimeMode::Guard => (Engine::WasmtimeGuard, engines::wt::Mode::Guard),
        WasmtimeMode::Epochs => (Engine::WasmtimeEpochs, engines::wt::Mode::Epochs),
    };
    if !set.engines.contains(&engine) {
        return Ok(None);
    }
    let engine = engines::wt::engine(mode)?;
    let s = sample(reps, || {
        wasmtime::Module::new(&engine, wasm)
            .map(drop)
            .map_err(|e| e.to_string())
    })?;
    Ok(Some(s))
}

#[cfg(not(feature = "wasmtime"))]
fn wasmtime_compile(
    _: &Settings,
    _: usize,
    _: &[u8],
    _: WasmtimeMode,
) -> Result<Option<Samples>, String> {
    Ok(None)
}

/// Load + instantiate time of one module per engine: kwo from a `.kwo`
/// object, Wasmtime from its serialized (precompiled) module, wasmi from
/// the `.wasm` (it translates lazily).
pub fn load_times(
    set: &Settings,
    modules: &BTreeMap<String, Vec<u8>>,
    errors: &mut Vec<String>,
) -> BTreeMap<String, BTreeMap<&'static str, Samples>> {
    let reps = if set.smoke { 1 } else { 10 };
    let mut out = BTreeMap::new();
    for (name, wasm) in modules {
        eprint!("load {name}:");
        let mut row = BTreeMap::new();
        for &engine in &set.engines {
            match load_one(engine, reps, wasm) {
                Ok(Some(s)) => {
                    eprint!(" {} {:.0} us", engine.label(), s.median() * 1e6);
                    row.insert(engine.label(), s);
                }
                Ok(None) => {}
                Err(e) => errors.push(format!("load {name} on {}: {e}", engine.label())),
            }
        }
        eprintln!();
        out.insert(name.clone(), row);
    }
    out
}

fn load_one(engine: Engine, reps: usize, wasm: &[u8]) -> Result<Option<Samples>, String> {
    match engine {
        Engine::Native
        | Engine::KwoNoBounds
        | Engine::KwoNoSpectre
        | Engine::KwoNoCheckpoints
        | Engine::KwoNoStack
        | Engine::KwoNoChecks => Ok(None),
        Engine::Kwo => {
            let obj = engines::kwo_compile(wasm)?;
            sample(reps, || engines::KwoInstance::new(&obj).map(drop)).map(Some)
        }
        #[cfg(feature = "wasmtime")]
        Engine::WasmtimeGuard | Engine::WasmtimeEpochs | Engine::WasmtimeExplicit => {
            let mode = engine.wasmtime_mode().ok_or("not a Wasmtime engine")?;
            let e = engines::wt::engine(mode)?;
            let bytes = wasmtime::Module::new(&e, wasm)
                .and_then(|m| m.serialize())
                .map_err(|e| e.to_string())?;
            let ticker = engines::wt::ticker_for(mode, &e)?;
            sample(reps, || {
                // SAFETY: the bytes were serialized just above by the same engine.
                let m = unsafe { wasmtime::Module::deserialize(&e, &bytes) }
                    .map_err(|e| e.to_string())?;
                engines::wt::instantiate_module(&e, &m, ticker.clone()).map(drop)
            })
            .map(Some)
        }
        Engine::Wasmi => sample(reps, || engines::wi::instantiate(wasm).map(drop)).map(Some),
    }
}

const ROUND_TRIP_WAT: &str =
    r#"(module (func (export "id") (param i32) (result i64) local.get 0 i64.extend_i32_u))"#;

#[inline(never)]
fn native_id(n: i32) -> i64 {
    n as i64
}

/// Nanoseconds per host → guest → host call of a trivial export.
pub fn invoke_round_trip(set: &Settings, errors: &mut Vec<String>) -> BTreeMap<&'static str, f64> {
    let calls: i32 = if set.smoke { 1000 } else { 200_000 };
    let mut out = BTreeMap::new();
    let wasm = match wat::parse_str(ROUND_TRIP_WAT) {
        Ok(w) => w,
        Err(e) => {
            errors.push(format!("round-trip module: {e}"));
            return out;
        }
    };
    for engine in set
        .engines
        .iter()
        .copied()
        .filter(|e| Engine::main().contains(e))
    {
        match round_trip_one(engine, &wasm, calls) {
            Ok(ns) => {
                eprintln!("invoke round trip on {}: {ns:.1} ns", engine.label());
                out.insert(engine.label(), ns);
            }
            Err(e) => errors.push(format!("round trip on {}: {e}", engine.label())),
        }
    }
    out
}

fn round_trip_one(engine: Engine, wasm: &[u8], calls: i32) -> Result<f64, String> {
    let mut call: Box<dyn FnMut(i32) -> Result<i64, String>> = if engine == Engine::Native {
        let f: fn(i32) -> i64 = black_box(native_id);
        Box::new(move |i| Ok(f(black_box(i))))
    } else {
        let mut inst = engine.instantiate(wasm)?;
        Box::new(move |i| inst.call("id", i))
    };
    let t = Instant::now();
    for i in 0..calls {
        check(call(i)?, i as i64)?;
    }
    Ok(t.elapsed().as_secs_f64() * 1e9 / calls as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_samples() {
        let s = Samples(vec![3.0, 1.0, 2.0, 10.0]);
        assert_eq!(s.median(), 2.5);
        assert_eq!(s.min(), 1.0);
        assert_eq!(s.max(), 10.0);
        assert_eq!(s.spread(), 9.0 / 2.5);
        assert_eq!(Samples(vec![4.0, 1.0, 2.0]).median(), 2.0);
        assert!(Samples::default().median().is_nan());
    }

    #[test]
    fn checksum_mismatch_is_an_error() {
        assert!(check(7, 7).is_ok());
        let e = check(7, 8).unwrap_err();
        assert!(e.contains("0x7") && e.contains("0x8"), "{e}");
    }
}
