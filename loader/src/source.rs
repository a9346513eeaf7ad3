//! The files `kwo` accepts as a program, told apart by their contents: a
//! `.kwo` object, a `.wasm` binary module or `.wat` text, whatever their
//! names; and a module turned into an object for this machine.
//!
//! Shared by the CLI's userspace and kernel paths so both accept the same
//! files under the same import policy. It does not load or run anything.

use kwo_compiler::{OptLevel, Options};
use kwo_format::Target;
use kwo_verifier::{Policy, VerifiedModule};
use std::path::Path;

/// What a program file holds.
pub enum Program {
    /// A compiled `.kwo` object, to be loaded as it is.
    Object(Vec<u8>),
    /// A WebAssembly binary module (`.wat` text already assembled).
    Module(Vec<u8>),
}

/// How a module is verified before it is compiled.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// `NAME=VALUE` verifier limits (`--limit`).
    pub limits: Vec<String>,
    /// Link WASI functions kwo does not provide to ENOSYS stubs
    /// (`--allow-missing-imports`).
    pub allow_missing_imports: bool,
}

/// Whether `bytes` look like WebAssembly text: the first thing after
/// blanks is a `(` or a `;;` comment.
fn looks_like_wat(bytes: &[u8]) -> bool {
    let text = bytes.trim_ascii_start();
    text.starts_with(b"(") || text.starts_with(b";;") || text.starts_with(b"(;")
}

/// Reads `path` and says what it holds. `.wat` text is assembled here; a
/// file that is none of the three is an error naming the file.
pub fn read_program(path: &Path) -> Result<Program, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.starts_with(&kwo_format::KWO_MAGIC.to_le_bytes()) {
        return Ok(Program::Object(bytes));
    }
    if bytes.starts_with(b"\0asm") {
        return Ok(Program::Module(bytes));
    }
    if looks_like_wat(&bytes) || path.extension().is_some_and(|e| e == "wat") {
        let wat = wat::Parser::new();
        return wat
            .parse_bytes(Some(path), &bytes)
            .map(|wasm| Program::Module(wasm.into_owned()))
            .map_err(|e| format!("{}: not valid WebAssembly text: {e}", path.display()));
    }
    Err(format!(
        "{}: not a .wasm or .wat module or a .kwo object (unknown magic)",
        path.display()
    ))
}

/// The verifier's policy for `opts`: the kernel's, with its limits and
/// stubs as asked.
pub fn policy(opts: &VerifyOptions) -> Result<Policy, String> {
    let mut policy = Policy::kernel();
    for flag in &opts.limits {
        policy.limits.apply_flag(flag).map_err(|e| e.to_string())?;
    }
    policy.imports.enosys_stubs = opts.allow_missing_imports;
    Ok(policy)
}

/// Verifies binary module `wasm` under `opts`; the error is the verifier's
/// diagnostics, as `kwo verify` prints them.
pub fn verify(wasm: &[u8], opts: &VerifyOptions) -> Result<VerifiedModule, String> {
    kwo_verifier::verify(wasm, &policy(opts)?).map_err(|d| crate::verify_log::diagnostics(wasm, &d))
}

/// Whether a compiled object carries the module's source line table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebugInfo {
    /// The LINES section, from the module's DWARF if it has any.
    Keep,
    /// No debug data (`kwo compile --strip`).
    Strip,
}

/// Compiles a verified module into object bytes, with the line table of
/// its DWARF unless `debug` strips it. DWARF that cannot be read is
/// reported on stderr as warnings and left out, never an error. `x86_bmi`:
/// x86_64 code that needs BMI1, BMI2 and LZCNT (`Options::x86_bmi`).
pub fn compile(
    module: &VerifiedModule,
    target: Target,
    opt: OptLevel,
    debug: DebugInfo,
    x86_bmi: bool,
) -> Result<Vec<u8>, String> {
    let opts = Options {
        target,
        opt,
        x86_bmi,
        ..Options::default()
    }
    .with_env();
    let mut object = kwo_compiler::compile_object(module, &opts).map_err(|e| crate::verify_log::compile_error(module, &e))?;
    if debug == DebugInfo::Keep {
        let (table, warnings) = kwo_debuginfo::line_table(&module.wasm);
        for w in warnings {
            eprintln!("kwo: warning: {w}");
        }
        if let Some(table) = table {
            object.lines = table.encode();
        }
    }
    Ok(object.to_bytes())
}

/// The object to run from `path`: a `.kwo` as it is, a module verified
/// under `opts` and compiled for this machine (with the BMI code if its
/// CPU has it: the object runs here, in this process or this kernel).
pub fn object_for_host(path: &Path, opts: &VerifyOptions) -> Result<Vec<u8>, String> {
    match read_program(path)? {
        Program::Object(bytes) => Ok(bytes),
        Program::Module(wasm) => {
            let module = verify(&wasm, opts).map_err(|e| format!("{}: {e}", path.display()))?;
            compile(&module, Target::HOST, OptLevel::Speed, DebugInfo::Keep, kwo_compiler::host_has_x86_bmi())
        }
    }
}
