//! `kwo`: verify, compile, inspect and run WebAssembly for the kwo runtime.
//!
//! `kwo run` executes in this process on the userspace runtime (the same C
//! core as the kernel module); its command line follows Wasmtime's `run`:
//! options before FILE, everything after FILE for the program. Every
//! failure is a message on stderr and an exit status that tells its kind:
//! 1 load error, 2 usage error, 134 trap; `proc_exit(n)` exits with n.

use clap::{Args, Parser, Subcommand};
use kwo_compiler::OptLevel;
use kwo_format::{signature, Object, Target, ValType};
use kwo_loader::args::call_args;
use kwo_loader::kernel;
use kwo_loader::runtime::{Config, Instance, Preopen, RunError, Stdio, Val};
use kwo_loader::sign::Signer;
use kwo_loader::source::{
    compile, object_for_host, read_program, verify, DebugInfo, Program as ProgramFile, VerifyOptions,
};
use kwo_loader::verify_log;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Exit status of `kwo run` when the program trapped (as for SIGABRT).
const TRAP_EXIT: u8 = 134;
/// Exit status of a usage error (as clap's own).
const USAGE_EXIT: u8 = 2;
/// Exit status when the module could not be loaded.
const LOAD_EXIT: u8 = 1;

#[derive(Parser)]
#[command(
    name = "kwo",
    version,
    about = "WebAssembly for the Linux kernel: verify, compile, inspect, run",
    after_help = "Exit status: 0 or the program's proc_exit status; 1 the module could not be \
                  loaded (unreadable, refused by the verifier, compiler or runtime); 2 usage error \
                  (bad options, no such export, bad export arguments, no _start); 134 the program \
                  trapped (including --timeout and --fuel)."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Budget and environment of a program: the options `run`, `bench`,
/// `invoke` and `exec` share.
#[derive(Args, Debug, Clone, Default)]
struct ProgramOpts {
    /// Wall-clock budget of each call, e.g. 500ms, 2s, 1m (also -W timeout=).
    #[arg(long, value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Fuel budget of each call, in compiler-placed checkpoints (also -W fuel=).
    #[arg(long)]
    fuel: Option<u64>,
    /// Environment variable for the program: NAME=VALUE, or NAME to pass
    /// the host's value (left out if the host has none); repeatable.
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
    env: Vec<String>,
    /// Link WASI functions kwo does not provide to stubs that fail with
    /// ENOSYS (errno 52), so that a program that never calls them runs
    /// (when FILE is .wasm/.wat; see docs/abi.md).
    #[arg(long)]
    allow_missing_imports: bool,
    /// Wasmtime-style runtime option: timeout=DURATION, fuel=N or
    /// max-memory-size=BYTES (a cap on memory 0 below the runtime's own,
    /// 1 GiB in userspace, kwo.ko's max_pages in the kernel; up to 4GiB;
    /// KiB/MiB/GiB suffixes); comma-separated or repeated.
    #[arg(short = 'W', value_name = "OPT=VALUE")]
    wasm_opts: Vec<String>,
    /// Wasmtime-style WASI option: inherit-env[=y|n] passes the host's
    /// whole environment (before any --env); comma-separated or repeated.
    #[arg(short = 'S', value_name = "OPT[=VALUE]")]
    wasi_opts: Vec<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check a .wasm or .wat module against the kernel policy.
    Verify {
        /// The module (.wasm or .wat); with --stats, a second one to
        /// compare with the first.
        #[arg(required = true, num_args = 1..=2, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The verifier log (docs/debugging.md): per function (level 1) its
        /// instructions, stack, loops and checkpoints, memory accesses
        /// proven in bounds, hoisted or checked, and calls; level 2 adds a
        /// line per loop and per access, with the fact that decided it.
        #[arg(long, value_name = "LEVEL", num_args = 0..=1, require_equals = true,
              default_missing_value = "1", value_parser = clap::value_parser!(u8).range(1..=2))]
        log: Option<u8>,
        /// veristat-like totals of the module, or of two side by side with
        /// their difference: a table, or csv.
        #[arg(long, value_name = "FORMAT", num_args = 0..=1, require_equals = true,
              default_missing_value = "table", value_parser = ["table", "csv"])]
        stats: Option<String>,
        /// Override a verifier limit, e.g. max-memory-pages=1024.
        #[arg(long = "limit", value_name = "NAME=VALUE")]
        limits: Vec<String>,
        /// Accept imports of WASI functions kwo does not provide (they
        /// would be linked to ENOSYS stubs).
        #[arg(long)]
        allow_missing_imports: bool,
    },
    /// Compile a .wasm or .wat module into a .kwo object.
    Compile {
        /// The module (.wasm or .wat).
        file: PathBuf,
        /// The .kwo object to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Target architecture [default: this machine's].
        #[arg(long, value_parser = ["x86_64", "aarch64"])]
        target: Option<String>,
        /// Cranelift optimization level.
        #[arg(short = 'O', default_value = "speed", value_parser = ["speed", "none"])]
        opt: String,
        /// Override a verifier limit, e.g. max-memory-pages=1024.
        #[arg(long = "limit", value_name = "NAME=VALUE")]
        limits: Vec<String>,
        /// Link imports of WASI functions kwo does not provide to stubs
        /// that fail with ENOSYS (errno 52); the object keeps them.
        #[arg(long)]
        allow_missing_imports: bool,
        /// Leave out debug data: the source line table built from the
        /// module's DWARF (docs/debugging.md).
        #[arg(long)]
        strip: bool,
        /// x86_64: use BMI1, BMI2 and LZCNT (faster rotates, shifts and
        /// bit counts); the object then loads only on CPUs that have them.
        /// Off by default, so objects run on any x86-64-v2 machine.
        #[arg(long)]
        x86_bmi: bool,
        /// Sign the object (as `kwo sign` does), recording the limits.
        #[arg(long, requires_all = ["key", "cert"])]
        sign: bool,
        #[command(flatten)]
        keys: SignKeys,
    },
    /// Sign a .kwo object for kwo.ko (docs/security.md): check its machine
    /// code, then append a PKCS#7 signature (SHA-256, RSA) over the object
    /// and a record of the signing kwo's version, flags and policy.
    Sign {
        /// The .kwo object (unsigned).
        file: PathBuf,
        #[command(flatten)]
        keys: SignKeys,
        /// Where to write the signed object [default: FILE, in place].
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Check a .kwo object's machine code: no reachable faulting
    /// instruction, guarded divisions, landing pads, FP flag, frames and
    /// stack bound as the header claims.
    Check {
        /// The .kwo object.
        file: PathBuf,
    },
    /// Describe a .kwo object.
    Inspect {
        /// The .kwo object.
        file: PathBuf,
        /// Also disassemble every function.
        #[arg(long)]
        disasm: bool,
    },
    /// Run a program: `_start`, or the export given with --invoke.
    ///
    /// Everything after FILE goes to the program as it is, even what looks
    /// like an option: `kwo run [OPTIONS] FILE [ARGS]...`.
    #[command(override_usage = "kwo run [OPTIONS] FILE [ARGS]...")]
    Run {
        #[command(flatten)]
        program: ProgramOpts,
        /// Call this export instead of `_start`: the ARGS after FILE are its
        /// arguments, and its results are printed, one a line.
        #[arg(long, value_name = "NAME")]
        invoke: Option<String>,
        /// Run in kwo.ko (/dev/kwo) instead of this process.
        #[arg(long)]
        kernel: bool,
        /// With --kernel: mirror the program's output to the kernel log.
        #[arg(long, requires = "kernel")]
        printk: bool,
        /// Give the program the host directory HOST under the path GUEST
        /// (default: HOST, as Wasmtime): paths it opens there resolve
        /// strictly beneath HOST (no `..`, absolute path or symlink out).
        /// Repeatable; fds 3, 4, ... in order. Not with --kernel.
        #[arg(long = "dir", value_name = "HOST[::GUEST]", conflicts_with = "kernel")]
        dirs: Vec<String>,
        /// With --kernel: open HOSTPATH here (r: read, the default; w:
        /// write, created or truncated; rw: both, created) and give it to
        /// the program as WASI fd GUEST_FD (3-63). Repeatable.
        #[arg(long = "file", value_name = "GUEST_FD=HOSTPATH[:r|w|rw]", requires = "kernel")]
        files: Vec<kernel::PassedFile>,
        /// Profiling support: `perfmap` writes /tmp/perf-PID.map, perf's
        /// symbol map for JIT code, before the program runs. Not with
        /// --kernel (there: kwo perf-map).
        #[arg(long, value_name = "STRATEGY", value_parser = ["perfmap"], conflicts_with = "kernel")]
        profile: Option<String>,
        /// The program (.wasm, .wat or .kwo, told apart by content), then
        /// its arguments (WASI argv[1..], or the export's with --invoke).
        #[arg(value_name = "FILE [ARGS]", required = true, num_args = 1.., trailing_var_arg = true)]
        file_and_args: Vec<String>,
    },
    /// Time repeated calls of one export, in this process or in kwo.ko.
    ///
    /// Instantiates FILE once (and calls a reactor's `_initialize`), makes
    /// one untimed warm-up call, then SAMPLES timed samples of BATCH calls
    /// each; every call must return what the warm-up returned, and a call
    /// that exits (proc_exit) is reported as a usage error. The clock
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
        #[command(flatten)]
        program: ProgramOpts,
        /// The program (.wasm, .wat or .kwo).
        file: PathBuf,
        /// The export, then its arguments.
        #[arg(required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
        call: Vec<String>,
    },
    /// Load a .kwo object into kwo.ko, describe the instance, unload it.
    Load {
        /// The .kwo object.
        file: PathBuf,
        /// Mirror the start function's output to the kernel log.
        #[arg(long)]
        printk: bool,
    },
    /// Call an export of a program in kwo.ko and print its results.
    Invoke {
        #[command(flatten)]
        program: ProgramOpts,
        /// Mirror the output to the kernel log.
        #[arg(long)]
        printk: bool,
        /// The program (.wasm, .wat or .kwo).
        file: PathBuf,
        /// The export, then its arguments.
        #[arg(required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
        call: Vec<String>,
    },
    /// List the instances living in kwo.ko (its debugfs `instances` file;
    /// root, debugfs mounted).
    Ps,
    /// Print kwo.ko's global counters (its debugfs `stats` file).
    Stats,
    /// Name kwo functions in kernel samples: `perf script | kwo perf-map`
    /// rewrites each kernel address in a kwo instance's code as
    /// kwo:OBJECT:FUNCTION+0xOFF (symbols from kwo.ko's debugfs).
    PerfMap {
        /// Read the symbols from FILE, a copy of
        /// /sys/kernel/debug/kwo/symbols saved while the instances lived.
        #[arg(long, value_name = "FILE")]
        symbols: Option<PathBuf>,
    },
    /// Verify, compile, load into kwo.ko, run `_start`, unload: `kwo run
    /// --kernel` for modules.
    #[command(override_usage = "kwo exec [OPTIONS] FILE [ARGS]...")]
    Exec {
        #[command(flatten)]
        program: ProgramOpts,
        /// Mirror the program's output to the kernel log.
        #[arg(long)]
        printk: bool,
        /// Open HOSTPATH here and give it to the program as WASI fd
        /// GUEST_FD (3-63), as for `run --kernel`. Repeatable.
        #[arg(long = "file", value_name = "GUEST_FD=HOSTPATH[:r|w|rw]")]
        files: Vec<kernel::PassedFile>,
        /// The program, then its arguments (WASI argv[1..]), as for `run`.
        #[arg(value_name = "FILE [ARGS]", required = true, num_args = 1.., trailing_var_arg = true)]
        file_and_args: Vec<String>,
    },
}

/// A program's budget, environment and import policy, from [`ProgramOpts`]
/// with the `-W`/`-S` aliases and `--env NAME` resolved.
struct ProgramConfig {
    timeout: Option<Duration>,
    fuel: Option<u64>,
    max_memory_pages: Option<u32>,
    env: Vec<String>,
    verify: VerifyOptions,
}

/// `KEY[=VALUE]` items of repeated, comma-separated `-W`/`-S` options.
fn option_items(flags: &[String]) -> impl Iterator<Item = (&str, Option<&str>)> {
    flags
        .iter()
        .flat_map(|f| f.split(','))
        .filter(|item| !item.is_empty())
        .map(|item| match item.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (item, None),
        })
}

/// A Wasmtime-style boolean: absent value, `y`, `yes` or `true` is true.
fn option_bool(key: &str, value: Option<&str>) -> Result<bool, String> {
    match value {
        None | Some("y" | "yes" | "true") => Ok(true),
        Some("n" | "no" | "false") => Ok(false),
        Some(v) => Err(format!("-S {key}={v}: expected y or n")),
    }
}

/// One value from an option and its `-W` alias; both given is an error.
fn either<T>(flag: Option<T>, alias: Option<T>, name: &str) -> Result<Option<T>, String> {
    match (flag, alias) {
        (Some(_), Some(_)) => Err(format!("--{name} and -W {name}= both given")),
        (a, b) => Ok(a.or(b)),
    }
}

impl ProgramOpts {
    fn resolve(&self) -> Result<ProgramConfig, String> {
        let (mut timeout, mut fuel, mut max_memory_pages) = (None, None, None);
        for (key, value) in option_items(&self.wasm_opts) {
            let value = value.ok_or_else(|| format!("-W {key}: expected {key}=VALUE"))?;
            match key {
                "timeout" => timeout = Some(parse_duration(value)?),
                "fuel" => {
                    fuel = Some(value.parse().map_err(|_| format!("-W fuel={value}: not a number"))?)
                }
                "max-memory-size" => max_memory_pages = Some(parse_memory_size(value)?),
                _ => {
                    return Err(format!(
                        "unknown -W option `{key}` (kwo knows timeout, fuel, max-memory-size)"
                    ))
                }
            }
        }
        let mut inherit_env = false;
        for (key, value) in option_items(&self.wasi_opts) {
            match key {
                "inherit-env" => inherit_env = option_bool(key, value)?,
                _ => return Err(format!("unknown -S option `{key}` (kwo knows inherit-env)")),
            }
        }
        Ok(ProgramConfig {
            timeout: either(self.timeout, timeout, "timeout")?,
            fuel: either(self.fuel, fuel, "fuel")?,
            max_memory_pages,
            env: program_env(inherit_env, &self.env)?,
            verify: VerifyOptions {
                limits: Vec::new(),
                allow_missing_imports: self.allow_missing_imports,
            },
        })
    }
}

/// `-W max-memory-size=BYTES` in 64 KiB pages: whole pages only (a
/// memory grows by pages), at least one, at most 4 GiB.
fn parse_memory_size(value: &str) -> Result<u32, String> {
    let (digits, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => value.split_at(i),
        None => (value, ""),
    };
    let shift = match unit {
        "" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        _ => return Err(format!("-W max-memory-size={value}: expected BYTES, or a number with KiB, MiB or GiB")),
    };
    let bytes = digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("-W max-memory-size={value}: not a number"))?;
    if bytes % 65536 != 0 || bytes == 0 || bytes > 1 << 32 {
        return Err(format!(
            "-W max-memory-size={value}: must be a whole number of 64 KiB pages, from 64KiB to 4GiB"
        ));
    }
    Ok((bytes >> 16) as u32)
}

/// The program's environment: the host's if `inherit`, then each `--env`
/// in order (a later value of a name replaces an earlier one).
fn program_env(inherit: bool, flags: &[String]) -> Result<Vec<String>, String> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |name: String, value: String| match env.iter_mut().find(|(n, _)| *n == name) {
        Some(slot) => slot.1 = value,
        None => env.push((name, value)),
    };
    if inherit {
        for (name, value) in std::env::vars_os() {
            let (Some(name), Some(value)) = (name.to_str(), value.to_str()) else {
                return Err(format!("-S inherit-env: host variable {name:?} is not UTF-8"));
            };
            set(name.into(), value.into());
        }
    }
    for flag in flags {
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (flag.as_str(), std::env::var(flag).ok()),
        };
        if name.is_empty() {
            return Err(format!("--env {flag}: expected NAME=VALUE or NAME"));
        }
        if let Some(value) = value {
            set(name.into(), value);
        }
    }
    Ok(env.into_iter().map(|(n, v)| format!("{n}={v}")).collect())
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

/// The binary module in FILE, for the commands that take only a module.
fn read_module(file: &Path) -> Result<Vec<u8>, String> {
    match read_program(file)? {
        ProgramFile::Module(wasm) => Ok(wasm),
        ProgramFile::Object(_) => Err(format!(
            "{} is a compiled .kwo object, not a module: `kwo inspect` describes it, `kwo run` runs it",
            file.display()
        )),
    }
}

/// The .kwo object in FILE, for the commands that take only an object; a
/// module is a usage error that says what to do.
fn read_object(file: &Path, cmd: &str) -> Result<Object, Failure> {
    match read_program(file).map_err(Failure::Load)? {
        ProgramFile::Object(bytes) => signature::strip(&bytes)
            .and_then(Object::parse)
            .map_err(|e| Failure::Load(format!("{}: {e}", file.display()))),
        ProgramFile::Module(_) => Err(Failure::Usage(format!(
            "{f} is a WebAssembly module, not a .kwo object: compile it first \
             (`kwo compile {f} -o OUT.kwo`, then `kwo {cmd} OUT.kwo`); `kwo verify --log {f}` checks it and counts its proven accesses",
            f = file.display()
        ))),
    }
}

/// `kwo verify`: the verdict of each file, its log at `log` level, and
/// with `stats` its statistics (of two files: compared).
fn cmd_verify(
    files: &[PathBuf],
    opts: &VerifyOptions,
    log: Option<u8>,
    stats: Option<&str>,
) -> Result<ExitCode, Failure> {
    if files.len() > 1 && stats.is_none() {
        return Err(Failure::Usage("a second module is compared with --stats".into()));
    }
    let mut table = Vec::new();
    let mut rejected = false;
    for file in files {
        let measure = log.is_some() || stats.is_some();
        let outcome = verify_log::verify_module(&read_module(file)?, opts, measure)?;
        match &outcome {
            verify_log::Outcome::Rejected { diagnostics, .. } if stats.is_none() => {
                return Err(Failure::Load(diagnostics.clone()));
            }
            verify_log::Outcome::Rejected { diagnostics, .. } => {
                eprintln!("kwo: {}: {diagnostics}", file.display());
                rejected = true;
            }
            verify_log::Outcome::Accepted(v) if stats.is_none() || log.is_some() => {
                out(&format!(
                    "{}: ok ({} functions, {} imports)\n{}\n",
                    file.display(),
                    v.module.funcs.len(),
                    v.module.imports.len(),
                    verify_log::stack_summary(v)
                ));
                if let Some(level) = log {
                    out(&verify_log::log(v, level)?);
                }
            }
            verify_log::Outcome::Accepted(_) => {}
        }
        if stats.is_some() {
            table.push((file.display().to_string(), verify_log::stats(&outcome)?));
        }
    }
    match stats {
        Some("csv") => out(&verify_log::stats_csv(&table)),
        Some(_) => out(&verify_log::stats_table(&table)),
        None => {}
    }
    Ok(if rejected { ExitCode::from(LOAD_EXIT) } else { ExitCode::SUCCESS })
}

fn cmd_check(file: &Path) -> Result<ExitCode, Failure> {
    let obj = read_object(file, "check")?;
    let r = kwo_compiler::check::check(&obj)
        .map_err(|e| Failure::Load(format!("{}: check failed: {e}", file.display())))?;
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

/// The signing key and certificate, PEM files.
#[derive(clap::Args, Debug)]
struct SignKeys {
    /// RSA private key (PEM, unencrypted).
    #[arg(long)]
    key: Option<PathBuf>,
    /// X.509 certificate of the key (PEM); kwo.ko needs it in a keyring.
    #[arg(long)]
    cert: Option<PathBuf>,
}

impl SignKeys {
    fn signer(&self) -> Result<Signer, String> {
        let read = |p: &Option<PathBuf>, what: &str| {
            let p = p.as_ref().ok_or_else(|| format!("signing needs --{what}"))?;
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        };
        Signer::from_pem(&read(&self.key, "key")?, &read(&self.cert, "cert")?)
    }
}

/// The signed form of `kwo` (an unsigned object), after the machine-code
/// checker has passed on it; `policy` is what the signed record states.
fn sign_object(kwo: &[u8], signer: &Signer, compiled: bool, policy: String) -> Result<Vec<u8>, String> {
    if signature::split(kwo).map_err(|e| e.to_string())?.is_some() {
        return Err("the object is already signed".into());
    }
    let obj = Object::parse(kwo).map_err(|e| e.to_string())?;
    kwo_compiler::check::check(&obj).map_err(|e| format!("check failed, not signing: {e}"))?;
    let info = signature::SigInfo {
        kwo_version: signature::version_code(env!("CARGO_PKG_VERSION")),
        flags: signature::SIG_F_CHECKED | if compiled { signature::SIG_F_COMPILED } else { 0 },
        signer: signer.name.clone(),
        policy,
    };
    signer.sign(kwo, &info)
}

/// The policy a signature records: the verifier's limits as overridden.
fn policy_text(opts: &VerifyOptions) -> String {
    let mut words = vec!["limits=".to_string() + if opts.limits.is_empty() { "default" } else { "custom" }];
    words.extend(opts.limits.iter().cloned());
    if opts.allow_missing_imports {
        words.push("allow-missing-imports".into());
    }
    words.join(" ")
}

fn cmd_sign(file: &Path, keys: &SignKeys, output: Option<&Path>) -> Result<ExitCode, String> {
    let kwo = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let signed = sign_object(&kwo, &keys.signer()?, false, "unknown".into())
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let output = output.unwrap_or(file);
    std::fs::write(output, signed).map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::too_many_arguments)]
fn cmd_compile(
    file: &Path,
    output: &Path,
    target: Target,
    opt: &str,
    debug: DebugInfo,
    x86_bmi: bool,
    opts: &VerifyOptions,
    keys: Option<&SignKeys>,
) -> Result<ExitCode, String> {
    let opt = if opt == "none" {
        OptLevel::None
    } else {
        OptLevel::Speed
    };
    let signer = keys.map(SignKeys::signer).transpose()?;
    let mut kwo = compile(&verify(&read_module(file)?, opts)?, target, opt, debug, x86_bmi)?;
    if let Some(signer) = signer {
        kwo = sign_object(&kwo, &signer, true, policy_text(opts))?;
    }
    std::fs::write(output, kwo).map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    Ok(ExitCode::SUCCESS)
}

fn cmd_inspect(file: &Path, disasm: bool) -> Result<ExitCode, Failure> {
    let obj = read_object(file, "inspect")?;
    out(&kwo_format::describe(&obj));
    let bytes = std::fs::read(file).map_err(|e| Failure::Load(e.to_string()))?;
    if let Ok(Some(signed)) = signature::split(&bytes) {
        out(&describe_signature(&signed));
    }
    if disasm {
        out(&disassemble(&obj).map_err(Failure::Load)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// The signature trailer as `kwo inspect` shows it. The signature itself is
/// not checked here: kwo.ko checks it against its keyrings.
fn describe_signature(s: &signature::Signed) -> String {
    use sha2::{Digest, Sha256};
    let v = s.info.kwo_version;
    let digest: String = Sha256::digest(s.signed).iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "signature: PKCS#7, {} bytes, by {:?}, kwo {}.{}.{}, flags {:#x}{}{}\n  policy: {}\n  sha256 of the signed bytes: {digest}\n",
        s.pkcs7.len(),
        s.info.signer,
        v >> 16,
        v >> 8 & 0xff,
        v & 0xff,
        s.info.flags,
        if s.info.flags & signature::SIG_F_CHECKED != 0 { " (machine code checked)" } else { "" },
        if s.info.flags & signature::SIG_F_COMPILED != 0 { " (compiled from a verified module)" } else { "" },
        s.info.policy,
    )
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
    let lines = kwo_format::lines::LineTable::decode(&obj.lines).ok();
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
        let mut notes = kwo_loader::addrmap::WasmNotes::new();
        for insn in insns.iter() {
            out.extend(notes.before(obj, lines.as_ref(), insn.address()));
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

/// Why a command failed, which decides its exit status (see `Cli`'s
/// `after_help` and README "Exit status").
enum Failure {
    /// The module could not be loaded or described: exit 1.
    Load(String),
    /// The command line asks for something impossible: exit 2.
    Usage(String),
}

impl From<String> for Failure {
    fn from(msg: String) -> Self {
        Failure::Load(msg)
    }
}

impl From<RunError> for Failure {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Usage(m) if m == format!("no exported function {:?}", "_start") => {
                Failure::Usage(format!(
                    "{m}: to call another export, put --invoke NAME before FILE"
                ))
            }
            RunError::Usage(m) => Failure::Usage(m),
            e => Failure::Load(e.to_string()),
        }
    }
}

/// The exit status for how a run ended: the program's own, 134 for a trap
/// (reported on stderr), or the failure.
fn finish(result: Result<ExitCode, RunError>) -> Result<ExitCode, Failure> {
    match result {
        Ok(code) => Ok(code),
        Err(RunError::Exit(code)) => Ok(ExitCode::from(code as u8)),
        Err(RunError::Trap(info)) => {
            eprintln!("trap: {info}");
            eprint!("{}", info.backtrace);
            Ok(ExitCode::from(TRAP_EXIT))
        }
        Err(e) => Err(e.into()),
    }
}

/// A `--dir HOST[::GUEST]` value; GUEST defaults to HOST, as in Wasmtime.
fn preopen(flag: &str) -> Preopen {
    let (host, guest) = flag.split_once("::").unwrap_or((flag, flag));
    Preopen {
        host: PathBuf::from(host),
        guest: guest.to_string(),
    }
}

/// `kwo run` in this process: `_start`, or `invoke` with `args` as its
/// arguments (then `args` are not the program's argv).
fn cmd_run(
    file: &Path,
    program: &ProgramConfig,
    preopens: Vec<Preopen>,
    invoke: Option<&str>,
    args: &[String],
    perfmap: bool,
) -> Result<ExitCode, Failure> {
    let kwo = object_for_host(file, &program.verify)?;
    let mut argv = vec![file.display().to_string()];
    if invoke.is_none() {
        argv.extend(args.iter().cloned());
    }
    let config = Config {
        timeout: program.timeout,
        fuel: program.fuel,
        args: argv,
        env: program.env.clone(),
        stdio: Stdio::Inherit,
        preopens,
        max_memory_pages: program.max_memory_pages,
        ..Config::default()
    };
    let mut inst = match Instance::new(&kwo, &config) {
        Ok(inst) => inst,
        Err(e) => return finish(Err(e)),
    };
    if perfmap {
        let name = kernel::observer_name(&file.display().to_string());
        kwo_loader::perfmap::write_perf_map(&inst, &name).map_err(Failure::Load)?;
    }
    let result = run_program(&mut inst, invoke, args)?;
    let lost = inst.lost_output().map(|e| e.to_string());
    kernel::finish_with_output(finish(result.map(|()| ExitCode::SUCCESS)), lost)
}

/// `_initialize` if the module has it, then `_start` or the export to
/// invoke with `args`.
fn run_program(
    inst: &mut Instance,
    invoke: Option<&str>,
    args: &[String],
) -> Result<Result<(), RunError>, Failure> {
    // A WASI reactor initializes itself before any other export is called.
    if inst.func_params("_initialize").is_some() {
        if let Err(e) = inst.invoke("_initialize", &[]) {
            return Ok(Err(e));
        }
    }
    Ok(match invoke {
        None => inst.invoke("_start", &[]).map(|_| ()),
        Some(name) => {
            let params = inst
                .func_params(name)
                .ok_or_else(|| Failure::Usage(format!("no exported function {name:?}")))?;
            let vals = call_args(name, &params, args, parse_arg).map_err(Failure::Usage)?;
            inst.invoke(name, &vals).map(|results| {
                for r in &results {
                    out(&format!("{}\n", show(r)));
                }
            })
        }
    })
}

/// The kernel's options for a program run with `kwo run --kernel`, `kwo
/// exec` or `kwo invoke`: fds 0-2 are this process's, streamed.
fn kernel_options(program: &ProgramConfig, args: &[String], printk: bool) -> kernel::RunOptions {
    kernel::RunOptions {
        timeout: program.timeout,
        fuel: program.fuel,
        env: program.env.clone(),
        args: args.to_vec(),
        printk,
        verify: program.verify.clone(),
        stdio: Stdio::Inherit,
        files: Vec::new(),
        max_memory_pages: program.max_memory_pages,
    }
}

/// One call of an export for `kwo bench`: its results, the time the call
/// took as timed for that path, and the time kwo.ko measured inside it.
type BenchCall = Box<dyn FnMut(&[Val]) -> Result<(Vec<Val>, Duration, Option<Duration>), RunError>>;

/// The instance `kwo bench` calls, userspace or kernel, behind one shape,
/// with the call's argument values.
fn bench_target(
    file: &Path,
    kernel: bool,
    program: &ProgramConfig,
    call: &[String],
) -> Result<(BenchCall, Vec<Val>), RunError> {
    let (name, raw) = call.split_first().expect("clap requires the export");
    let (f, params) = if kernel {
        kernel_bench_call(file, program, name)?
    } else {
        user_bench_call(file, program, name)?
    };
    let params = params.ok_or_else(|| RunError::Usage(format!("no exported function {name:?}")))?;
    let vals = call_args(name, &params, raw, parse_arg).map_err(RunError::Usage)?;
    Ok((f, vals))
}

/// `name` of FILE in kwo.ko, timed around the ioctl; and its parameters.
fn kernel_bench_call(
    file: &Path,
    program: &ProgramConfig,
    name: &str,
) -> Result<(BenchCall, Option<Vec<ValType>>), RunError> {
    let mut inst = kernel::open(file, &kernel_options(program, &[], false))?;
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
    program: &ProgramConfig,
    name: &str,
) -> Result<(BenchCall, Option<Vec<ValType>>), RunError> {
    let kwo = object_for_host(file, &program.verify).map_err(RunError::Load)?;
    let config = Config {
        timeout: program.timeout,
        fuel: program.fuel,
        env: program.env.clone(),
        args: vec![file.display().to_string()],
        max_memory_pages: program.max_memory_pages,
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
}

/// `kwo bench`'s one line of results.
fn bench_line(
    file: &Path,
    flags: &BenchFlags,
    program: &ProgramConfig,
    call: &[String],
) -> Result<String, RunError> {
    let (mut f, args) = bench_target(file, flags.kernel, program, call)?;
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

fn cmd_bench(
    file: &Path,
    flags: &BenchFlags,
    program: &ProgramConfig,
    call: &[String],
) -> Result<ExitCode, Failure> {
    match bench_line(file, flags, program, call) {
        Ok(line) => {
            out(&line);
            Ok(ExitCode::SUCCESS)
        }
        Err(RunError::Exit(code)) => Err(Failure::Usage(format!(
            "the program exited (proc_exit({code})) instead of returning from `{}`: \\
             kwo bench times calls that return; `kwo run` runs a program to its exit",
            call[0]
        ))),
        Err(e) => finish(Err(e)),
    }
}

/// FILE and the arguments after it, from `run`'s and `exec`'s one list.
fn file_and_args(list: &[String]) -> (&Path, &[String]) {
    let (file, args) = list.split_first().expect("clap requires FILE");
    (Path::new(file), args)
}

fn run(cmd: &Cmd) -> Result<ExitCode, Failure> {
    match cmd {
        Cmd::Verify {
            files,
            log,
            stats,
            limits,
            allow_missing_imports,
        } => {
            let opts = VerifyOptions {
                limits: limits.clone(),
                allow_missing_imports: *allow_missing_imports,
            };
            cmd_verify(files, &opts, *log, stats.as_deref())
        }
        Cmd::Compile {
            file,
            output,
            target,
            opt,
            limits,
            allow_missing_imports,
            strip,
            x86_bmi,
            sign,
            keys,
        } => {
            let opts = VerifyOptions {
                limits: limits.clone(),
                allow_missing_imports: *allow_missing_imports,
            };
            let keys = sign.then_some(keys);
            let debug = if *strip { DebugInfo::Strip } else { DebugInfo::Keep };
            let target = match target.as_deref() {
                Some("aarch64") => Target::Aarch64,
                Some(_) => Target::X86_64,
                None => Target::HOST,
            };
            if *x86_bmi && target != Target::X86_64 {
                return Err(Failure::Usage("--x86-bmi applies only to x86_64 code".into()));
            }
            Ok(cmd_compile(file, output, target, opt, debug, *x86_bmi, &opts, keys)?)
        }
        Cmd::Sign { file, keys, output } => Ok(cmd_sign(file, keys, output.as_deref())?),
        Cmd::Check { file } => cmd_check(file),
        Cmd::Inspect { file, disasm } => cmd_inspect(file, *disasm),
        Cmd::Run {
            program,
            invoke,
            kernel,
            printk,
            dirs,
            files,
            profile,
            file_and_args: list,
        } => {
            let program = program.resolve().map_err(Failure::Usage)?;
            let (file, args) = file_and_args(list);
            if !*kernel {
                let preopens = dirs.iter().map(|d| preopen(d)).collect();
                let perfmap = profile.is_some();
                return cmd_run(file, &program, preopens, invoke.as_deref(), args, perfmap);
            }
            // kernel::cmd_run takes the export and its arguments as one list.
            let (call, argv): (Vec<String>, &[String]) = match invoke {
                Some(name) => (std::iter::once(name).chain(args).cloned().collect(), &[]),
                None => (Vec::new(), args),
            };
            let opts = kernel::RunOptions {
                files: files.clone(),
                ..kernel_options(&program, argv, *printk)
            };
            finish(kernel::cmd_run(file, &opts, &call, parse_arg, show))
        }
        Cmd::Bench {
            kernel,
            samples,
            batch,
            program,
            file,
            call,
        } => {
            let flags = BenchFlags {
                kernel: *kernel,
                samples: *samples,
                batch: *batch,
            };
            let program = program.resolve().map_err(Failure::Usage)?;
            cmd_bench(file, &flags, &program, call)
        }
        Cmd::Load { file, printk } => finish(kernel::cmd_load(file, *printk)),
        Cmd::Ps => kwo_loader::ps::cmd_ps().map(|()| ExitCode::SUCCESS).map_err(Failure::Load),
        Cmd::Stats => kwo_loader::ps::cmd_stats().map(|()| ExitCode::SUCCESS).map_err(Failure::Load),
        Cmd::PerfMap { symbols } => kwo_loader::ps::cmd_perf_map(symbols.as_deref())
            .map(|()| ExitCode::SUCCESS)
            .map_err(Failure::Load),
        Cmd::Invoke {
            program,
            printk,
            file,
            call,
        } => {
            let program = program.resolve().map_err(Failure::Usage)?;
            let opts = kernel_options(&program, &[], *printk);
            finish(kernel::cmd_run(file, &opts, call, parse_arg, show))
        }
        Cmd::Exec {
            program,
            printk,
            files,
            file_and_args: list,
        } => {
            let program = program.resolve().map_err(Failure::Usage)?;
            let (file, args) = file_and_args(list);
            let opts = kernel::RunOptions {
                files: files.clone(),
                ..kernel_options(&program, args, *printk)
            };
            finish(kernel::cmd_exec(file, &opts))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    run(&cli.cmd).unwrap_or_else(|failure| {
        let (msg, code) = match failure {
            Failure::Load(msg) => (msg, LOAD_EXIT),
            Failure::Usage(msg) => (msg, USAGE_EXIT),
        };
        eprintln!("kwo: {msg}");
        ExitCode::from(code)
    })
}
