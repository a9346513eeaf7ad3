//! `kwo`: verify, compile, inspect and run WebAssembly for the kwo runtime.
//!
//! `kwo run` executes in this process on the userspace runtime (the same C
//! core as the kernel module). Every failure is a one-line message on
//! stderr and a non-zero exit status; a trap exits with 134, `proc_exit(n)`
//! with n.

use clap::{Parser, Subcommand};
use kwo_compiler::{OptLevel, Options};
use kwo_format::{Object, Target, ValType};
use kwo_loader::args::call_args;
use kwo_loader::kernel;
use kwo_loader::runtime::{Config, Instance, RunError, Stdio, Val};
use kwo_verifier::{Policy, VerifiedModule};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Exit status of `kwo run` when the program trapped (as for SIGABRT).
const TRAP_EXIT: u8 = 134;

#[derive(Parser)]
#[command(
    name = "kwo",
    version,
    about = "WebAssembly for the Linux kernel: verify, compile, inspect, run"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check a .wasm module against the kernel policy.
    Verify {
        file: PathBuf,
        /// Override a verifier limit, e.g. max-memory-pages=1024.
        #[arg(long = "limit", value_name = "NAME=VALUE")]
        limits: Vec<String>,
    },
    /// Compile a .wasm module into a .kwo object.
    Compile {
        file: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
        /// Target architecture [default: this machine's].
        #[arg(long, value_parser = ["x86_64", "aarch64"])]
        target: Option<String>,
        #[arg(short = 'O', default_value = "speed", value_parser = ["speed", "none"])]
        opt: String,
        #[arg(long = "limit", value_name = "NAME=VALUE")]
        limits: Vec<String>,
    },
    /// Check a .kwo object's machine code: no reachable faulting
    /// instruction, guarded divisions, landing pads, FP flag, frames and
    /// stack bound as the header claims.
    Check { file: PathBuf },
    /// Describe a .kwo object.
    Inspect {
        file: PathBuf,
        /// Also disassemble every function.
        #[arg(long)]
        disasm: bool,
    },
    /// Run a .wasm or .kwo file (`_start`, or --invoke NAME ARGS...).
    Run {
        file: PathBuf,
        /// Wall-clock budget, e.g. 500ms, 2s, 1m.
        #[arg(long, value_parser = parse_duration)]
        timeout: Option<Duration>,
        /// Fuel budget (compiler-placed checkpoints).
        #[arg(long)]
        fuel: Option<u64>,
        /// Environment variable for the program (WASI environ); repeatable.
        #[arg(long = "env", value_name = "NAME=VALUE")]
        env: Vec<String>,
        /// Call this export with these arguments and print its results.
        #[arg(long, num_args = 1.., value_name = "NAME [ARGS]", allow_hyphen_values = true)]
        invoke: Vec<String>,
        /// Run in kwo.ko (/dev/kwo) instead of this process.
        #[arg(long)]
        kernel: bool,
        /// With --kernel: mirror the program's output to the kernel log.
        #[arg(long, requires = "kernel")]
        printk: bool,
        /// Arguments for the program (WASI argv[1..]), after FILE or `--`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Time repeated calls of one export, in this process or in kwo.ko.
    ///
    /// Instantiates FILE once (and calls a reactor's `_initialize`), makes
    /// one untimed warm-up call, then SAMPLES timed samples of BATCH calls
    /// each; every call must return what the warm-up returned. The clock
    /// (monotonic) is read around each `invoke` in userspace and around
    /// each ioctl with --kernel. Prints one line of NAME=VALUE fields:
    /// `bench: where=user|kernel export= args= samples= batch= min_ns=
    /// median_ns= [inside_min_ns= inside_median_ns=] result=`, where the
    /// times are per call (a sample's time / BATCH) and `inside_*` is the
    /// time inside the call as kwo.ko measured it.
    Bench {
        /// Call the export in kwo.ko (/dev/kwo) instead of this process.
        #[arg(long)]
        kernel: bool,
        /// Timed samples after the warm-up call.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
        samples: u32,
        /// Calls per sample: for exports too short to time one by one.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        batch: u32,
        /// Wall-clock budget of each call, e.g. 500ms, 2s, 1m.
        #[arg(long, value_parser = parse_duration)]
        timeout: Option<Duration>,
        file: PathBuf,
        /// The export, then its arguments.
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
        call: Vec<String>,
    },
    /// Load a .kwo object into kwo.ko, describe the instance, unload it.
    Load {
        file: PathBuf,
        /// Mirror the start function's output to the kernel log.
        #[arg(long)]
        printk: bool,
    },
    /// Call an export of a .kwo (or .wasm) in kwo.ko and print its results.
    Invoke {
        /// Wall-clock budget, e.g. 500ms, 2s, 1m.
        #[arg(long, value_parser = parse_duration)]
        timeout: Option<Duration>,
        /// Fuel budget (compiler-placed checkpoints).
        #[arg(long)]
        fuel: Option<u64>,
        /// Mirror the output to the kernel log.
        #[arg(long)]
        printk: bool,
        file: PathBuf,
        /// The export, then its arguments.
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
        call: Vec<String>,
    },
    /// Verify, compile, load into kwo.ko, run `_start`, unload.
    Exec {
        /// Wall-clock budget, e.g. 500ms, 2s, 1m.
        #[arg(long, value_parser = parse_duration)]
        timeout: Option<Duration>,
        /// Fuel budget (compiler-placed checkpoints).
        #[arg(long)]
        fuel: Option<u64>,
        /// Environment variable for the program (WASI environ); repeatable.
        #[arg(long = "env", value_name = "NAME=VALUE")]
        env: Vec<String>,
        /// Mirror the program's output to the kernel log.
        #[arg(long)]
        printk: bool,
        file: PathBuf,
        /// Arguments for the program (WASI argv[1..]).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// `500ms`, `2s`, `1m`, `100us`; a bare number is seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("bad duration `{s}`"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1e3,
        "us" => n / 1e6,
        "ns" => n / 1e9,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(format!(
                "bad duration unit in `{s}` (use ns, us, ms, s, m, h)"
            ))
        }
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("bad duration `{s}`"))
}

/// Write to stdout; a closed pipe (`kwo inspect | head`) is not an error.
fn out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().write_all(text.as_bytes());
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn policy(limits: &[String]) -> Result<Policy, String> {
    let mut policy = Policy::kernel();
    for flag in limits {
        policy.limits.apply_flag(flag).map_err(|e| e.to_string())?;
    }
    Ok(policy)
}

fn verify(wasm: &[u8], limits: &[String]) -> Result<VerifiedModule, String> {
    if !wasm.starts_with(b"\0asm") {
        return Err("not a .wasm module (bad magic)".into());
    }
    kwo_verifier::verify(wasm, &policy(limits)?).map_err(|d| d.to_string().trim_end().to_string())
}

fn compile(module: &VerifiedModule, target: Target, opt: OptLevel) -> Result<Vec<u8>, String> {
    kwo_compiler::compile(
        module,
        &Options {
            target,
            opt,
            ..Options::default()
        },
    )
    .map_err(|e| format!("compile error: {e}"))
}

fn cmd_verify(file: &Path, limits: &[String]) -> Result<ExitCode, String> {
    let module = verify(&read(file)?, limits)?;
    out(&format!(
        "{}: ok ({} functions, {} imports)\n{}\n",
        file.display(),
        module.funcs.len(),
        module.imports.len(),
        stack_summary(&module)
    ));
    Ok(ExitCode::SUCCESS)
}

/// The stack line of `kwo verify`: the static bound (compiled for this
/// machine to learn the frame sizes) or the call cycle that prevents one.
fn stack_summary(module: &VerifiedModule) -> String {
    let name = |f: &u32| match module.func_name(*f) {
        Some(n) => format!("{f} ({n})"),
        None => f.to_string(),
    };
    if let Some(cycle) = &module.call_graph.cycle {
        let path: Vec<String> = cycle.iter().map(name).collect();
        return format!("stack: recursive (call cycle {}): checked in every function", path.join(" -> "));
    }
    let target = Target::HOST;
    match kwo_compiler::compile_object(module, &Options { target, ..Options::default() }) {
        Ok(obj) => format!("stack: no call cycles; static bound {} bytes on {}", obj.stack_bound, target.name()),
        Err(e) => format!("stack: no call cycles; bound unknown ({e})"),
    }
}

fn cmd_check(file: &Path) -> Result<ExitCode, String> {
    let obj = Object::parse(&read(file)?).map_err(|e| format!("{}: {e}", file.display()))?;
    let r = kwo_compiler::check::check(&obj).map_err(|e| format!("{}: check failed: {e}", file.display()))?;
    let stack = match r.stack_bound {
        Some(b) => format!("worst-case stack {b} bytes"),
        None => "call graph has cycles".into(),
    };
    out(&format!(
        "{}: ok ({} functions, {} instructions; uses FP: {}; largest frame {} bytes; {stack}; \
         {} returns, {} indirect calls)\n",
        file.display(),
        r.functions,
        r.instructions,
        if r.uses_fp { "yes" } else { "no" },
        r.max_frame,
        r.returns,
        r.indirect_calls
    ));
    Ok(ExitCode::SUCCESS)
}

fn cmd_compile(
    file: &Path,
    output: &Path,
    target: Option<&str>,
    opt: &str,
    limits: &[String],
) -> Result<ExitCode, String> {
    let target = match target {
        Some("aarch64") => Target::Aarch64,
        Some(_) => Target::X86_64,
        None => Target::HOST,
    };
    let opt = if opt == "none" {
        OptLevel::None
    } else {
        OptLevel::Speed
    };
    let kwo = compile(&verify(&read(file)?, limits)?, target, opt)?;
    std::fs::write(output, kwo).map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    Ok(ExitCode::SUCCESS)
}

fn cmd_inspect(file: &Path, disasm: bool) -> Result<ExitCode, String> {
    let obj = Object::parse(&read(file)?).map_err(|e| format!("{}: {e}", file.display()))?;
    out(&kwo_format::describe(&obj));
    if disasm {
        out(&disassemble(&obj)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Capstone disassembly of every function, at code-section offsets.
fn disassemble(obj: &Object) -> Result<String, String> {
    use capstone::prelude::*;
    let cs = match obj.target {
        Target::X86_64 => Capstone::new()
            .x86()
            .mode(arch::x86::ArchMode::Mode64)
            .build(),
        Target::Aarch64 => Capstone::new()
            .arm64()
            .mode(arch::arm64::ArchMode::Arm)
            .build(),
    }
    .map_err(|e| format!("disassembler: {e}"))?;
    let mut out = String::new();
    for (i, f) in obj.funcs.iter().enumerate() {
        let index = obj.imports.len() + i;
        let name = f.name.as_deref().unwrap_or("");
        out.push_str(&format!(
            "\nfunc {index} {name} (code {:#x}..{:#x}):\n",
            f.code_off,
            f.code_off + f.code_len
        ));
        let start = f.code_off as usize;
        let Some(code) = obj.code.get(start..start + f.code_len as usize) else {
            continue;
        };
        let insns = cs
            .disasm_all(code, u64::from(f.code_off))
            .map_err(|e| format!("disassembler: {e}"))?;
        for insn in insns.iter() {
            out.push_str(&format!(
                "  {:8x}:  {:<8} {}\n",
                insn.address(),
                insn.mnemonic().unwrap_or(""),
                insn.op_str().unwrap_or("")
            ));
        }
    }
    Ok(out)
}

/// The object to run: `.kwo` bytes as they are, `.wasm` compiled now.
fn load_object(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if bytes.starts_with(&kwo_format::KWO_MAGIC.to_le_bytes()) {
        return Ok(bytes);
    }
    if bytes.starts_with(b"\0asm") {
        return compile(&verify(&bytes, &[])?, Target::HOST, OptLevel::Speed);
    }
    Err("not a .wasm module or a .kwo object (unknown magic)".into())
}

fn parse_arg(ty: ValType, s: &str) -> Result<Val, String> {
    let bad = || format!("argument `{s}` is not a valid {}", ty.name());
    let int = |s: &str| -> Option<i128> {
        match s.strip_prefix("0x") {
            Some(h) => i128::from_str_radix(h, 16).ok(),
            None => s.parse().ok(),
        }
    };
    Ok(match ty {
        ValType::I32 => {
            let v = int(s)
                .filter(|v| *v >= i32::MIN as i128 && *v <= u32::MAX as i128)
                .ok_or_else(bad)?;
            Val::I32(v as u32 as i32)
        }
        ValType::I64 => {
            let v = int(s)
                .filter(|v| *v >= i64::MIN as i128 && *v <= u64::MAX as i128)
                .ok_or_else(bad)?;
            Val::I64(v as u64 as i64)
        }
        ValType::F32 => Val::F32(s.parse::<f32>().map_err(|_| bad())?.to_bits()),
        ValType::F64 => Val::F64(s.parse::<f64>().map_err(|_| bad())?.to_bits()),
        ValType::FuncRef if s == "null" => Val::FuncRef(None),
        ValType::ExternRef if s == "null" => Val::ExternRef(None),
        ValType::ExternRef => Val::ExternRef(Some(
            int(s).and_then(|v| u64::try_from(v).ok()).ok_or_else(bad)?,
        )),
        ValType::FuncRef => return Err(bad()),
    })
}

fn show(v: &Val) -> String {
    match *v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(b) => f32::from_bits(b).to_string(),
        Val::F64(b) => f64::from_bits(b).to_string(),
        Val::FuncRef(None) | Val::ExternRef(None) => "null".into(),
        Val::FuncRef(Some(x)) => format!("funcref {x:#x}"),
        Val::ExternRef(Some(x)) => format!("externref {x}"),
    }
}

/// The exit status for how a run ended.
fn finish(result: Result<(), RunError>) -> Result<ExitCode, String> {
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(RunError::Exit(code)) => Ok(ExitCode::from(code as u8)),
        Err(RunError::Trap(info)) => {
            eprintln!("trap: {info}");
            Ok(ExitCode::from(TRAP_EXIT))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn cmd_run(
    file: &Path,
    timeout: Option<Duration>,
    fuel: Option<u64>,
    env: &[String],
    invoke: &[String],
    args: &[String],
) -> Result<ExitCode, String> {
    let kwo = load_object(read(file)?)?;
    let mut argv = vec![file.display().to_string()];
    argv.extend(args.iter().cloned());
    let config = Config {
        timeout,
        fuel,
        args: argv,
        env: env.to_vec(),
        stdio: Stdio::Inherit,
        ..Config::default()
    };
    let mut inst = match Instance::new(&kwo, &config) {
        Ok(inst) => inst,
        Err(e) => return finish(Err(e)),
    };
    let result = run_program(&mut inst, invoke);
    let lost = inst.lost_output().map(|e| e.to_string());
    kernel::finish_with_output(result.and_then(finish), lost)
}

/// `_initialize` if the module has it, then `_start` or the export to invoke.
fn run_program(inst: &mut Instance, invoke: &[String]) -> Result<Result<(), RunError>, String> {
    // A WASI reactor initializes itself before any other export is called.
    if inst.func_params("_initialize").is_some() {
        if let Err(e) = inst.invoke("_initialize", &[]) {
            return Ok(Err(e));
        }
    }
    Ok(match invoke.split_first() {
        None => inst.invoke("_start", &[]).map(|_| ()),
        Some((name, raw)) => {
            let params = inst
                .func_params(name)
                .ok_or_else(|| format!("no exported function {name:?}"))?;
            let vals = call_args(name, &params, raw, parse_arg)?;
            inst.invoke(name, &vals).map(|results| {
                for r in &results {
                    out(&format!("{}\n", show(r)));
                }
            })
        }
    })
}

/// One call of an export for `kwo bench`: its results, the time the call
/// took as timed for that path, and the time kwo.ko measured inside it.
type BenchCall = Box<dyn FnMut(&[Val]) -> Result<(Vec<Val>, Duration, Option<Duration>), RunError>>;

/// The instance `kwo bench` calls, userspace or kernel, behind one shape,
/// with the call's argument values.
fn bench_target(
    file: &Path,
    kernel: bool,
    timeout: Option<Duration>,
    call: &[String],
) -> Result<(BenchCall, Vec<Val>), RunError> {
    let (name, raw) = call.split_first().expect("clap requires the export");
    let (f, params) = if kernel {
        kernel_bench_call(file, timeout, name)?
    } else {
        user_bench_call(file, timeout, name)?
    };
    let params = params.ok_or_else(|| RunError::Usage(format!("no exported function {name:?}")))?;
    let vals = call_args(name, &params, raw, parse_arg).map_err(RunError::Usage)?;
    Ok((f, vals))
}

/// `name` of FILE in kwo.ko, timed around the ioctl; and its parameters.
fn kernel_bench_call(
    file: &Path,
    timeout: Option<Duration>,
    name: &str,
) -> Result<(BenchCall, Option<Vec<ValType>>), RunError> {
    let opts = kernel::RunOptions {
        timeout,
        ..Default::default()
    };
    let mut inst = kernel::open(file, &opts)?;
    kernel::initialize(&mut inst)?;
    let params = inst.func_params(name);
    let name = name.to_string();
    let f = move |a: &[Val]| {
        let (r, t) = inst.invoke_timed(&name, a)?;
        Ok((r, t.round_trip, Some(t.inside)))
    };
    Ok((Box::new(f), params))
}

/// `name` of FILE in this process, timed around `Instance::invoke`; and
/// its parameters.
fn user_bench_call(
    file: &Path,
    timeout: Option<Duration>,
    name: &str,
) -> Result<(BenchCall, Option<Vec<ValType>>), RunError> {
    let kwo = read(file).and_then(load_object).map_err(RunError::Load)?;
    let config = Config {
        timeout,
        args: vec![file.display().to_string()],
        ..Config::default()
    };
    let mut inst = Instance::new(&kwo, &config)?;
    if inst.func_params("_initialize").is_some() {
        inst.invoke("_initialize", &[])?;
    }
    let params = inst.func_params(name);
    let name = name.to_string();
    let f = move |a: &[Val]| {
        let start = Instant::now();
        let r = inst.invoke(&name, a)?;
        Ok((r, start.elapsed(), None))
    };
    Ok((Box::new(f), params))
}

/// Minimum and median of per-call nanoseconds.
fn min_median(mut ns: Vec<f64>) -> (f64, f64) {
    ns.sort_by(f64::total_cmp);
    let mid = ns.len() / 2;
    let median = if ns.len() % 2 == 1 {
        ns[mid]
    } else {
        (ns[mid - 1] + ns[mid]) / 2.0
    };
    (ns[0], median)
}

fn show_all(vals: &[Val]) -> String {
    if vals.is_empty() {
        return "none".into();
    }
    vals.iter().map(show).collect::<Vec<_>>().join(",")
}

/// Per-call times of `samples` samples of `batch` calls, each call
/// checked against `expect`: (timed by us, timed by kwo.ko if it did).
fn bench_samples(
    call: &mut BenchCall,
    args: &[Val],
    expect: &[Val],
    samples: u32,
    batch: u32,
) -> Result<(Vec<f64>, Vec<f64>), RunError> {
    let (mut outer, mut inside) = (Vec::new(), Vec::new());
    for s in 0..samples {
        let (mut sum, mut sum_inside) = (Duration::ZERO, None);
        for _ in 0..batch {
            let (r, t, t_in) = call(args)?;
            if r != expect {
                return Err(RunError::Usage(format!(
                    "sample {s} returned {} where the warm-up call returned {}",
                    show_all(&r),
                    show_all(expect)
                )));
            }
            sum += t;
            sum_inside = t_in.map(|t| sum_inside.unwrap_or(Duration::ZERO) + t);
        }
        let per_call = |d: Duration| d.as_nanos() as f64 / f64::from(batch);
        outer.push(per_call(sum));
        inside.extend(sum_inside.map(per_call));
    }
    Ok((outer, inside))
}

struct BenchFlags {
    kernel: bool,
    samples: u32,
    batch: u32,
    timeout: Option<Duration>,
}

/// `kwo bench`'s one line of results.
fn bench_line(file: &Path, flags: &BenchFlags, call: &[String]) -> Result<String, RunError> {
    let (mut f, args) = bench_target(file, flags.kernel, flags.timeout, call)?;
    let (expect, _, _) = f(&args)?;
    let (outer, inside) = bench_samples(&mut f, &args, &expect, flags.samples, flags.batch)?;
    let (min, median) = min_median(outer);
    let mut line = format!(
        "bench: where={} export={} args={} samples={} batch={} min_ns={min:.1} median_ns={median:.1}",
        if flags.kernel { "kernel" } else { "user" },
        call[0],
        if call.len() > 1 { call[1..].join(",") } else { "none".into() },
        flags.samples,
        flags.batch,
    );
    if !inside.is_empty() {
        let (min, median) = min_median(inside);
        line += &format!(" inside_min_ns={min:.1} inside_median_ns={median:.1}");
    }
    Ok(line + &format!(" result={}\n", show_all(&expect)))
}

fn cmd_bench(file: &Path, flags: &BenchFlags, call: &[String]) -> Result<ExitCode, String> {
    match bench_line(file, flags, call) {
        Ok(line) => {
            out(&line);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => finish(Err(e)),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.cmd {
        Cmd::Verify { file, limits } => cmd_verify(file, limits),
        Cmd::Compile {
            file,
            output,
            target,
            opt,
            limits,
        } => cmd_compile(file, output, target.as_deref(), opt, limits),
        Cmd::Check { file } => cmd_check(file),
        Cmd::Inspect { file, disasm } => cmd_inspect(file, *disasm),
        Cmd::Run {
            file,
            timeout,
            fuel,
            env,
            invoke,
            kernel: false,
            args,
            ..
        } => cmd_run(file, *timeout, *fuel, env, invoke, args),
        Cmd::Run {
            file,
            timeout,
            fuel,
            env,
            invoke,
            kernel: true,
            printk,
            args,
        } => {
            let opts = kernel::RunOptions {
                timeout: *timeout,
                fuel: *fuel,
                env: env.clone(),
                args: args.clone(),
                printk: *printk,
                stdio: Stdio::Inherit,
            };
            kernel::cmd_run(file, &opts, invoke, parse_arg, show)
        }
        Cmd::Bench {
            kernel,
            samples,
            batch,
            timeout,
            file,
            call,
        } => {
            let flags = BenchFlags {
                kernel: *kernel,
                samples: *samples,
                batch: *batch,
                timeout: *timeout,
            };
            cmd_bench(file, &flags, call)
        }
        Cmd::Load { file, printk } => kernel::cmd_load(file, *printk),
        Cmd::Invoke {
            timeout,
            fuel,
            printk,
            file,
            call,
        } => {
            let opts = kernel::RunOptions {
                timeout: *timeout,
                fuel: *fuel,
                printk: *printk,
                stdio: Stdio::Inherit,
                ..Default::default()
            };
            kernel::cmd_run(file, &opts, call, parse_arg, show)
        }
        Cmd::Exec {
            timeout,
            fuel,
            env,
            printk,
            file,
            args,
        } => {
            let opts = kernel::RunOptions {
                timeout: *timeout,
                fuel: *fuel,
                env: env.clone(),
                args: args.clone(),
                printk: *printk,
                stdio: Stdio::Inherit,
            };
            kernel::cmd_exec(file, &opts)
        }
    };
    result.unwrap_or_else(|msg| {
        eprintln!("kwo: {msg}");
        ExitCode::FAILURE
    })
}
