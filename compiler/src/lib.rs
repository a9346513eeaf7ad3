//! kwo's ahead-of-time compiler: a [`VerifiedModule`] in, `.kwo` object bytes
//! out.
//!
//! Each defined function is translated to Cranelift IR by our own translator
//! (`translate`), compiled in parallel, and laid out into one code blob with
//! a landing pad (ENDBR64 on x86_64) at every entry (`link`). The generated
//! code never executes an instruction that can fault: memory and table
//! accesses are bounds-checked and Spectre-masked, divisions and float→int
//! conversions are guarded, every trap is a call to the host trap function,
//! and the link step proves from Cranelift's trap records that no other
//! faulting instruction survived (see `docs/abi.md`).
//!
//! This crate does not validate Wasm (the verifier did) and does not load or
//! run objects (the loader and the C core do).

pub mod abi;
pub mod check;
mod isa;
mod link;
mod object;
mod trampoline;
mod translate;

use std::fmt;

use kwo_format::Target;
use kwo_verifier::VerifiedModule;

pub use isa::OptLevel;
pub use link::GuardedRecord;

/// What to compile for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub target: Target,
    pub opt: OptLevel,
    /// Safety checks; all on unless a benchmark measures their cost.
    pub checks: Checks,
    /// Run Cranelift's IR verifier on every function (always on in debug
    /// builds; the test suites turn it on in release builds too).
    pub verify_ir: bool,
    /// Drop the bounds check of every access the verifier's range analysis
    /// proved inside the minimum memory (`VerifiedModule::accesses`).
    /// Off only to compare with the fully checked code (tests,
    /// [`NO_ELISION_ENV`]).
    pub elide_proven: bool,
    /// x86_64: also use BMI1, BMI2 and LZCNT (`rorx`, `shlx`, `andn`,
    /// `lzcnt`, ...), as Wasmtime does on a CPU that has them. The object
    /// is flagged `KWO_F_X86_BMI` and runs only on such CPUs (the runtime
    /// checks at load time); off, objects need only x86-64-v2. No effect
    /// on aarch64.
    pub x86_bmi: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            target: Target::X86_64,
            opt: OptLevel::Speed,
            checks: Checks::default(),
            verify_ir: false,
            elide_proven: true,
            x86_bmi: false,
        }
    }
}

/// Environment variable that, set to `1`, keeps the bounds checks of
/// proven accesses (see [`Options::with_env`]).
pub const NO_ELISION_ENV: &str = "KWO_NO_ELISION";

/// Environment variable that, set to `1`, compiles x86_64 code with BMI1,
/// BMI2 and LZCNT ([`Options::x86_bmi`]; see [`Options::with_env`]).
pub const X86_BMI_ENV: &str = "KWO_X86_BMI";

/// Whether this machine's CPU has what [`Options::x86_bmi`] code needs
/// (always false off x86_64): code compiled here to run here can use it.
pub fn host_has_x86_bmi() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::is_x86_feature_detected!("bmi1")
        && std::is_x86_feature_detected!("bmi2")
        && std::is_x86_feature_detected!("lzcnt");
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

impl Options {
    /// These options with [`NO_ELISION_ENV`] and [`X86_BMI_ENV`] applied:
    /// the `kwo` command and the test suites honour them, so a run can be
    /// compared with and without check elision, and with the BMI code.
    pub fn with_env(self) -> Options {
        let off = std::env::var(NO_ELISION_ENV).is_ok_and(|v| v == "1");
        let bmi = std::env::var(X86_BMI_ENV).is_ok_and(|v| v == "1");
        Options { elide_proven: self.elide_proven && !off, x86_bmi: self.x86_bmi || bmi, ..self }
    }
}

/// The run-time checks the compiler emits. Turning one off exists only to
/// measure its cost (`benches/`); such an object is flagged
/// `KWO_F_UNCHECKED`, which the kernel module refuses to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checks {
    /// Linear-memory bounds checks (off: accesses are unchecked).
    pub bounds: bool,
    /// Spectre masking of checked memory and table addresses.
    pub spectre: bool,
    /// Epoch/fuel checkpoints at function entries and loop headers.
    pub checkpoints: bool,
    /// Stack-limit check at function entries.
    pub stack: bool,
}

impl Default for Checks {
    fn default() -> Self {
        Checks { bounds: true, spectre: true, checkpoints: true, stack: true }
    }
}

impl Checks {
    pub fn all_on(&self) -> bool {
        *self == Checks::default()
    }
}

/// A compilation failure, with the `.wasm` byte offset it concerns when
/// there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub offset: Option<usize>,
    pub message: String,
}

impl CompileError {
    pub(crate) fn at(offset: usize, message: impl Into<String>) -> Self {
        CompileError { offset: Some(offset), message: message.into() }
    }

    pub(crate) fn new(message: impl Into<String>) -> Self {
        CompileError { offset: None, message: message.into() }
    }

    pub(crate) fn wasm(e: &wasmparser::BinaryReaderError) -> Self {
        CompileError::at(e.offset(), e.message())
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(off) => write!(f, "offset 0x{off:x}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for CompileError {}

/// Compiles a verified module into `.kwo` object bytes.
pub fn compile(module: &VerifiedModule, opts: &Options) -> Result<Vec<u8>, CompileError> {
    compile_object(module, opts).map(|obj| obj.to_bytes())
}

/// Compiles a verified module into an in-memory object.
pub fn compile_object(module: &VerifiedModule, opts: &Options) -> Result<kwo_format::Object, CompileError> {
    compile_with_report(module, opts).map(|c| c.object)
}

/// Every defined function of `module` as Cranelift IR after the mid-end
/// optimizer, in function-index order: for tests that check properties of
/// the generated code (e.g. that every heap access is Spectre-guarded).
pub fn optimized_ir(module: &VerifiedModule, opts: &Options) -> Result<Vec<cranelift_codegen::ir::Function>, CompileError> {
    let isa = isa::build(opts)?;
    link::optimized_ir(module, &*isa, opts)
}

/// An object plus what the no-fault proof saw.
pub struct Compiled {
    pub object: kwo_format::Object,
    /// Every trap record Cranelift left, each proven to be behind a guard.
    pub guarded_records: Vec<GuardedRecord>,
}

/// Compiles a verified module and reports the trap records the no-fault
/// proof accepted (for tests and `kwo inspect`-style tooling).
pub fn compile_with_report(module: &VerifiedModule, opts: &Options) -> Result<Compiled, CompileError> {
    let isa = isa::build(opts)?;
    let mut linked = link::compile_and_link(module, &*isa, opts)?;
    let guarded_records = std::mem::take(&mut linked.guarded_records);
    let mut object = object::build(module, opts, linked);
    apply_check(module, opts, &mut object)?;
    Ok(Compiled { object, guarded_records })
}

/// Runs the machine-code checker on a fresh object and takes the header's
/// FP flag, largest frame and static stack bound from what it measured.
fn apply_check(module: &VerifiedModule, opts: &Options, object: &mut kwo_format::Object) -> Result<(), CompileError> {
    let failed = |e: check::CheckError| CompileError::new(format!("machine-code check: {e}"));
    let report = check::measure(object).map_err(failed)?;
    if report.uses_fp {
        object.flags |= kwo_format::KWO_F_USES_FP;
    }
    object.max_frame = report.max_frame;
    if module.call_graph.cycle.is_none() {
        let bound = report
            .stack_bound
            .ok_or_else(|| CompileError::new("machine-code check: a call cycle the verifier did not see"))?;
        object.stack_bound = u32::try_from(bound.max(1))
            .map_err(|_| CompileError::new(format!("worst-case stack of {bound} bytes")))?;
    }
    // Objects built without stack checks (benchmarks only) have none to find.
    if opts.checks.stack {
        check::verify_header(object, &report).map_err(failed)?;
    }
    Ok(())
}
