//! The userspace runtime: loads a `.kwo` object into the portable C core
//! (the same code the kernel module runs), instantiates it and invokes its
//! exports. WASI fds 0/1/2 are either the process's own stdin/stdout/stderr,
//! read and written directly as the program asks ([`Stdio::Inherit`]), or
//! memory files the caller fills and reads back ([`Stdio::Capture`]).
//!
//! Calls run on the calling thread's stack. Each call may use
//! [`Config::stack_budget`] bytes of it below the point of the call (the
//! generated code checks a limit derived from it), but never more than the
//! thread has left minus a safety margin: before every call the runtime asks
//! the C library for the thread's stack bounds (`pthread_getattr_np`, once
//! per thread) and lowers the budget to fit, so deep recursion traps with "call stack
//! exhausted" instead of overrunning a small thread stack. The default
//! budget, 512 KiB, fits the 8 MiB main thread and the 2 MiB threads of
//! `cargo test`.
//!
//! Not provided: imports other than the WASI subset, linking modules
//! together, sharing memories, threads.

use crate::backtrace::{Backtrace, Frame};
use crate::ffi::{self, KwoCall, KwoConfig, KwoExportInfo, KwoInstance, KwoObject};
use crate::symbols::{describe_location, LazyLineTable};
use std::ffi::CString;
use std::fmt;
use std::fs::File;
use std::io::{Seek, Write};
use std::os::fd::{IntoRawFd, OwnedFd};
use std::os::raw::{c_char, c_void};
use std::os::unix::fs::FileExt;
use std::time::Duration;

/// Where a program's fds 0, 1 and 2 lead.
#[derive(Debug, Clone)]
pub enum Stdio {
    /// The process's own stdin, stdout and stderr (duplicated, so that the
    /// program closing them leaves the process's alone): output appears as
    /// it is written and nothing is kept in memory.
    Inherit,
    /// fd 0 reads these bytes; fds 1 and 2 go to memory files read back
    /// with [`Instance::take_stdout`] / [`Instance::take_stderr`].
    Capture(Vec<u8>),
}

impl Default for Stdio {
    /// Captured, with empty input: nothing of the process's is touched.
    fn default() -> Self {
        Stdio::Capture(Vec::new())
    }
}

/// Per-instance settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Wall-clock budget of each call (and of the start function).
    pub timeout: Option<Duration>,
    /// Fuel (compiler-placed checkpoints) per call; `None` is unlimited.
    pub fuel: Option<u64>,
    /// WASI `argv`.
    pub args: Vec<String>,
    /// WASI environment, `"KEY=VALUE"` strings.
    pub env: Vec<String>,
    /// fds 0-2.
    pub stdio: Stdio,
    /// Native stack each call may use, in bytes.
    pub stack_budget: usize,
    /// Directories given to the program, as fds 3, 4, ... in this order.
    pub preopens: Vec<Preopen>,
    /// Cap on memory 0, in 64 KiB pages (`-W max-memory-size`): `None` is
    /// the runtime's default (16384 pages, 1 GiB here; kwo.ko's `max_pages`
    /// parameter in the kernel, which this can only lower).
    pub max_memory_pages: Option<u32>,
}

/// A host directory the program may use under a guest path (WASI
/// preopen): its files are reached by paths resolved strictly beneath it.
#[derive(Debug, Clone)]
pub struct Preopen {
    pub host: std::path::PathBuf,
    /// The path the program opens it by (`fd_prestat_dir_name`).
    pub guest: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout: None,
            fuel: None,
            args: Vec::new(),
            env: Vec::new(),
            stdio: Stdio::default(),
            stack_budget: 512 * 1024,
            preopens: Vec::new(),
            max_memory_pages: None,
        }
    }
}

/// A Wasm value crossing the runtime boundary. Floats are raw bits;
/// references are `None` for null. An externref is an opaque non-zero
/// integer (`Some(0)` reads back as `None`); a funcref is an address in
/// the instance and cannot be passed in from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    FuncRef(Option<u64>),
    ExternRef(Option<u64>),
}

/// Why a call trapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapCode {
    Unreachable,
    IntegerDivideByZero,
    IntegerOverflow,
    BadConversionToInteger,
    MemoryOutOfBounds,
    TableOutOfBounds,
    UndefinedElement,
    UninitializedElement,
    IndirectCallTypeMismatch,
    StackExhausted,
    Interrupted,
    FuelExhausted,
}

impl TrapCode {
    /// From a `KWO_TRAP_*` number (exit and unknown codes are `None`).
    pub fn from_code(code: u32) -> Option<TrapCode> {
        use TrapCode::*;
        Some(match code {
            1 => Unreachable,
            2 => IntegerDivideByZero,
            3 => IntegerOverflow,
            4 => BadConversionToInteger,
            5 => MemoryOutOfBounds,
            6 => TableOutOfBounds,
            7 => UndefinedElement,
            8 => UninitializedElement,
            9 => IndirectCallTypeMismatch,
            10 => StackExhausted,
            11 => Interrupted,
            12 => FuelExhausted,
            _ => return None,
        })
    }

    /// The spec testsuite's `assert_trap` wording.
    pub fn message(&self) -> &'static str {
        use TrapCode::*;
        match self {
            Unreachable => "unreachable",
            IntegerDivideByZero => "integer divide by zero",
            IntegerOverflow => "integer overflow",
            BadConversionToInteger => "invalid conversion to integer",
            MemoryOutOfBounds => "out of bounds memory access",
            TableOutOfBounds => "out of bounds table access",
            UndefinedElement => "undefined element",
            UninitializedElement => "uninitialized element",
            IndirectCallTypeMismatch => "indirect call type mismatch",
            StackExhausted => "call stack exhausted",
            Interrupted => "interrupted",
            FuelExhausted => "fuel exhausted",
        }
    }
}

/// Where and why a call trapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrapInfo {
    pub code: TrapCode,
    /// Wasm function index, when the trap site is known.
    pub func: Option<u32>,
    /// That function's name from the name section.
    pub func_name: Option<String>,
    /// Offset of the trapping instruction in the `.wasm`.
    pub wasm_offset: Option<u32>,
    /// Its source location from the object's line table
    /// ([`crate::symbols::describe_location`]).
    pub source: Option<String>,
    /// The wasm call stack at the trap, innermost first (empty when the
    /// runtime could not walk it).
    pub backtrace: Backtrace,
}

impl fmt::Display for TrapInfo {
    /// `<kind> in func 3 <name> at wasm offset 0x.. (file:line:column)`,
    /// omitting what is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.message())?;
        if let Some(func) = self.func {
            write!(f, " in func {func}")?;
            if let Some(name) = &self.func_name {
                write!(f, " {name}")?;
            }
        }
        if let Some(off) = self.wasm_offset {
            write!(f, " at wasm offset {off:#x}")?;
        }
        if let Some(source) = &self.source {
            write!(f, " ({source})")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The object was rejected or could not be instantiated.
    Load(String),
    Trap(TrapInfo),
    /// The program called `proc_exit`.
    Exit(i32),
    /// The caller asked for something impossible (no such export, wrong
    /// argument count or types).
    Usage(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Load(m) => write!(f, "load error: {m}"),
            RunError::Trap(t) => write!(f, "trap: {t}"),
            RunError::Exit(c) => write!(f, "exit status {c}"),
            RunError::Usage(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RunError {}

const LOG_LEN: usize = 256;

/// Stack kept free below a call's budget for the runtime's own frames
/// (Rust, the C core) on top of the core's host reserve.
const STACK_MARGIN: usize = 64 * 1024;

/// Lowest address of the calling thread's stack, if the C library can tell.
/// Asked once per thread: for the main thread glibc reads
/// `/proc/self/maps`, which would dominate the cost of a call.
fn stack_low() -> Option<usize> {
    thread_local! {
        static LOW: Option<usize> = query_stack_low();
    }
    LOW.with(|low| *low)
}

fn query_stack_low() -> Option<usize> {
    // SAFETY: plain libc queries on the current thread; attr is
    // initialized by pthread_getattr_np before use and destroyed once.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut low = std::ptr::null_mut();
        let mut size = 0usize;
        let rc = libc::pthread_attr_getstack(&attr, &mut low, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        (rc == 0).then_some(low as usize)
    }
}

/// Bytes of stack between here and the calling thread's stack limit, if
/// the C library can tell.
fn stack_left() -> Option<usize> {
    stack_low().map(|low| stack_pointer().saturating_sub(low))
}

/// The current stack pointer, read from the register rather than taken as
/// a local's address: under AddressSanitizer's use-after-return detection
/// (cargo-fuzz builds) locals live in heap-allocated fake frames, and the
/// budget came out as 0.
fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer register, nothing else.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    // SAFETY: as above.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        std::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let here = 0u8;
        sp = std::hint::black_box(&here) as *const u8 as usize;
    }
    sp
}

/// The configured budget, lowered to what this thread can really give.
fn stack_budget(configured: usize) -> u64 {
    let left = stack_left().map_or(configured, |l| l.saturating_sub(STACK_MARGIN));
    configured.min(left) as u64
}

fn log_message(log: &[c_char; LOG_LEN]) -> String {
    let bytes: Vec<u8> = log
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `KWO_VAL_*` byte of a value.
fn val_type(v: &Val) -> u8 {
    match v {
        Val::I32(_) => 0x7f,
        Val::I64(_) => 0x7e,
        Val::F32(_) => 0x7d,
        Val::F64(_) => 0x7c,
        Val::FuncRef(_) => 0x70,
        Val::ExternRef(_) => 0x6f,
    }
}

fn type_name(t: u8) -> &'static str {
    match t {
        0x7f => "i32",
        0x7e => "i64",
        0x7d => "f32",
        0x7c => "f64",
        0x70 => "funcref",
        0x6f => "externref",
        _ => "?",
    }
}

fn to_slot(v: &Val) -> Result<u64, RunError> {
    Ok(match *v {
        Val::I32(x) => x as u32 as u64,
        Val::I64(x) => x as u64,
        Val::F32(x) => x as u64,
        Val::F64(x) => x,
        Val::ExternRef(x) => x.unwrap_or(0),
        Val::FuncRef(None) => 0,
        Val::FuncRef(Some(_)) => {
            return Err(RunError::Usage(
                "non-null funcref arguments are not supported".into(),
            ))
        }
    })
}

fn from_slot(t: u8, s: u64) -> Val {
    let opt = if s == 0 { None } else { Some(s) };
    match t {
        0x7f => Val::I32(s as u32 as i32),
        0x7e => Val::I64(s as i64),
        0x7d => Val::F32(s as u32),
        0x7c => Val::F64(s),
        0x70 => Val::FuncRef(opt),
        _ => Val::ExternRef(opt),
    }
}

/// A C string list for WASI; interior NULs are a usage error.
fn c_strings(strs: &[String], what: &str) -> Result<Vec<CString>, RunError> {
    strs.iter()
        .map(|s| {
            CString::new(s.as_bytes())
                .map_err(|_| RunError::Usage(format!("{what} contains a NUL byte")))
        })
        .collect()
}

/// Validate `kwo` with the C core's object validator alone (the reader the
/// kernel trusts), without instantiating or running anything.
pub fn validate(kwo: &[u8]) -> Result<(), String> {
    let obj = load_object(kwo)?;
    // SAFETY: loaded just above, freed once.
    unsafe { ffi::kwo_object_free(obj) };
    Ok(())
}

/// Validate and parse `kwo` into a core object the caller must free.
fn load_object(kwo: &[u8]) -> Result<*mut KwoObject, String> {
    // A signature means something to kwo.ko only: userspace runs the object.
    let kwo = kwo_format::signature::strip(kwo).map_err(|e| e.to_string())?;
    let mut log = [0 as c_char; LOG_LEN];
    let mut obj = std::ptr::null_mut();
    // SAFETY: the core copies the bytes; log is LOG_LEN bytes.
    let rc = unsafe {
        ffi::kwo_object_load(kwo.as_ptr(), kwo.len(), &mut obj, log.as_mut_ptr(), LOG_LEN)
    };
    if rc != 0 {
        return Err(log_message(&log));
    }
    Ok(obj)
}

/// An instantiated object.
pub struct Instance {
    obj: *mut KwoObject,
    inst: *mut KwoInstance,
    fuel: Option<u64>,
    timeout: Option<Duration>,
    stack_budget: usize,
    /// Stdio::Capture: fds 1 and 2's memory files and how far each was read.
    captured: Option<[(File, u64); 2]>,
    /// The first failed write of any call: output that did not arrive.
    lost_output: Option<std::io::Error>,
    /// The object's line table, for the source lines of traps.
    lines: LazyLineTable,
}

// The core instance has no thread affinity; it only must not be used from
// two threads at once, which `&mut self` on every call guarantees.
unsafe impl Send for Instance {}

impl Instance {
    /// Validate `kwo`, instantiate it and run its start function.
    pub fn new(kwo: &[u8], config: &Config) -> Result<Instance, RunError> {
        let mut this = Instance {
            obj: load_object(kwo).map_err(RunError::Load)?,
            inst: std::ptr::null_mut(),
            fuel: config.fuel,
            timeout: config.timeout,
            stack_budget: config.stack_budget,
            captured: None,
            lost_output: None,
            lines: LazyLineTable::of_object(kwo),
        };
        this.instantiate(config)?;
        Ok(this)
    }

    fn instantiate(&mut self, config: &Config) -> Result<(), RunError> {
        let args = c_strings(&config.args, "an argument")?;
        let env = c_strings(&config.env, "an environment string")?;
        let argv: Vec<*const c_char> = args.iter().map(|s| s.as_ptr()).collect();
        let envp: Vec<*const c_char> = env.iter().map(|s| s.as_ptr()).collect();
        // SAFETY: kwo_config_init fills in every field.
        let mut cfg: KwoConfig = unsafe {
            let mut cfg = std::mem::MaybeUninit::<KwoConfig>::uninit();
            ffi::kwo_config_init(cfg.as_mut_ptr());
            cfg.assume_init()
        };
        let mut files = self.stdio_files(&config.stdio)?;
        let guest_names = preopen_files(&config.preopens, &mut files)?;
        let preopen_ptrs = preopen_names(&guest_names);
        cfg.stack_budget = stack_budget(config.stack_budget);
        if let Some(pages) = config.max_memory_pages {
            cfg.max_memory_pages = pages;
        }
        cfg.argv = argv.as_ptr();
        cfg.argc = argv.len() as u32;
        cfg.envp = envp.as_ptr();
        cfg.envc = envp.len() as u32;
        let handles = files.into_handles()?;
        cfg.files = handles.as_ptr();
        cfg.nfiles = handles.len() as u32;
        cfg.preopens = preopen_ptrs.as_ptr();
        let mut frames = [ffi::KwoBtFrame::default(); ffi::KWO_BACKTRACE_MAX];
        let mut call = self.call_budget(&mut frames);
        let mut log = [0 as c_char; LOG_LEN];
        // SAFETY: every pointer in cfg outlives the call (the core copies
        // argv and env and takes the file handles); self.obj is loaded.
        let rc = unsafe {
            ffi::kwo_instance_new(
                self.obj,
                &cfg,
                &mut call,
                &mut self.inst,
                log.as_mut_ptr(),
                LOG_LEN,
            )
        };
        self.note_lost_output(&call);
        match rc {
            0 => Ok(()),
            ffi::KWO_TRAPPED => Err(self
                .call_error(&call, &frames)
                .unwrap_or_else(|| RunError::Load(log_message(&log)))),
            _ => Err(RunError::Load(log_message(&log))),
        }
    }

    /// A call's budgets, with `frames` as the room for a trap's backtrace.
    fn call_budget(&self, frames: &mut [ffi::KwoBtFrame; ffi::KWO_BACKTRACE_MAX]) -> KwoCall {
        let mut call = KwoCall::default();
        // SAFETY: plain initialization of a repr(C) struct.
        unsafe { ffi::kwo_call_init(&mut call) };
        call.frames = frames.as_mut_ptr();
        call.frames_cap = frames.len() as u32;
        call.fuel = self.fuel.unwrap_or(ffi::KWO_FUEL_UNLIMITED);
        call.timeout_ns = self
            .timeout
            .map_or(0, |t| (t.as_nanos().min(u64::MAX as u128) as u64).max(1));
        call
    }

    /// How a call that did not return normally ended (None if it did).
    fn call_error(&self, call: &KwoCall, frames: &[ffi::KwoBtFrame]) -> Option<RunError> {
        match call.status {
            ffi::KWO_STATUS_EXIT => Some(RunError::Exit(call.exit_code)),
            ffi::KWO_STATUS_TRAP => {
                let code = TrapCode::from_code(call.trap_code).unwrap_or(TrapCode::Unreachable);
                let func = (call.func != ffi::KWO_NONE).then_some(call.func);
                let wasm_offset = (call.wasm_off != ffi::KWO_NONE).then_some(call.wasm_off);
                Some(RunError::Trap(TrapInfo {
                    code,
                    func,
                    func_name: func.and_then(|f| self.func_name(f)),
                    wasm_offset,
                    source: wasm_offset.and_then(|off| describe_location(self.lines.get(), off)),
                    backtrace: self.backtrace(call, frames),
                }))
            }
            _ => None,
        }
    }

    /// The frames the core wrote for a trap, named.
    fn backtrace(&self, call: &KwoCall, frames: &[ffi::KwoBtFrame]) -> Backtrace {
        let n = (call.nframes as usize).min(frames.len());
        let frames = frames[..n]
            .iter()
            .map(|f| {
                let wasm_offset = (f.wasm_off != ffi::KWO_NONE).then_some(f.wasm_off);
                Frame {
                    func: f.func,
                    func_name: self.func_name(f.func),
                    wasm_offset,
                    source: wasm_offset.and_then(|off| describe_location(self.lines.get(), off)),
                }
            })
            .collect();
        Backtrace { frames, truncated: call.truncated != 0 }
    }

    /// Name of wasm function `func` from the name section.
    pub fn func_name(&self, func: u32) -> Option<String> {
        let mut len = 0u32;
        // SAFETY: the name lives in the object, which outlives this copy.
        unsafe {
            let p = ffi::kwo_func_name(self.obj, func, &mut len);
            if p.is_null() {
                return None;
            }
            let bytes = std::slice::from_raw_parts(p as *const u8, len as usize);
            Some(String::from_utf8_lossy(bytes).into_owned())
        }
    }

    fn find_export(&self, name: &str) -> Option<(u32, KwoExportInfo)> {
        let mut info = KwoExportInfo {
            kind: 0,
            index: 0,
            name: std::ptr::null(),
            name_len: 0,
            param_count: 0,
            result_count: 0,
            params: std::ptr::null(),
            results: std::ptr::null(),
        };
        // SAFETY: name is valid for name.len() bytes; info is written.
        let pos = unsafe {
            ffi::kwo_export_find(
                self.obj,
                name.as_ptr() as *const c_char,
                name.len(),
                &mut info,
            )
        };
        (pos >= 0).then_some((pos as u32, info))
    }

    /// Call the exported function `export` with `args`.
    pub fn invoke(&mut self, export: &str, args: &[Val]) -> Result<Vec<Val>, RunError> {
        let (pos, info) = self
            .find_export(export)
            .filter(|(_, info)| info.kind == ffi::KWO_EXPORT_FUNC)
            .ok_or_else(|| RunError::Usage(format!("no exported function {export:?}")))?;
        // SAFETY: params/results point at param_count/result_count bytes in the object.
        let (params, results) = unsafe {
            (
                std::slice::from_raw_parts(info.params, info.param_count as usize),
                std::slice::from_raw_parts(info.results, info.result_count as usize),
            )
        };
        check_args(export, params, args)?;
        let mut vals = vec![0u64; params.len().max(results.len()).max(1)];
        for (slot, a) in vals.iter_mut().zip(args) {
            *slot = to_slot(a)?;
        }
        let mut frames = [ffi::KwoBtFrame::default(); ffi::KWO_BACKTRACE_MAX];
        let mut call = self.call_budget(&mut frames);
        // SAFETY: vals has max(params, results) slots of the right types;
        // the instance is not running (we hold &mut self).
        let rc = unsafe {
            ffi::kwo_set_stack_budget(self.inst, stack_budget(self.stack_budget));
            ffi::kwo_invoke(
                self.inst,
                pos,
                vals.as_mut_ptr(),
                vals.len() as u32,
                &mut call,
            )
        };
        self.note_lost_output(&call);
        if rc != 0 {
            return Err(RunError::Usage(format!(
                "cannot call {export:?} (error {rc})"
            )));
        }
        if let Some(e) = self.call_error(&call, &frames) {
            return Err(e);
        }
        Ok(results
            .iter()
            .zip(&vals)
            .map(|(&t, &s)| from_slot(t, s))
            .collect())
    }

    /// Parameter types of the exported function `export`.
    pub fn func_params(&self, export: &str) -> Option<Vec<kwo_format::ValType>> {
        let (_, info) = self
            .find_export(export)
            .filter(|(_, i)| i.kind == ffi::KWO_EXPORT_FUNC)?;
        // SAFETY: params points at param_count bytes in the object.
        let params = unsafe { std::slice::from_raw_parts(info.params, info.param_count as usize) };
        params
            .iter()
            .map(|&t| kwo_format::ValType::from_code(u32::from(t)))
            .collect()
    }

    /// The current value of the exported global `export`.
    pub fn global(&self, export: &str) -> Option<Val> {
        let (_, info) = self
            .find_export(export)
            .filter(|(_, i)| i.kind == ffi::KWO_EXPORT_GLOBAL)?;
        let (mut value, mut ty) = (0u64, 0u8);
        // SAFETY: out-parameters only.
        let rc = unsafe { ffi::kwo_global_get(self.inst, info.index, &mut value, &mut ty) };
        (rc == 0).then(|| from_slot(ty, value))
    }

    /// The linear memory as it is now (empty without one). Its address
    /// stays the same for the instance's life: memories grow in place.
    pub fn memory(&self) -> &[u8] {
        let (mut base, mut size) = (std::ptr::null_mut(), 0u64);
        // SAFETY: out-parameters only.
        unsafe { ffi::kwo_memory_get(self.inst, &mut base, &mut size) };
        if base.is_null() || size == 0 {
            return &[];
        }
        // SAFETY: the core maps `size` bytes at `base` until the instance is
        // freed or invoked, neither of which can happen while `&self` is
        // borrowed (invoke takes `&mut self`).
        unsafe { std::slice::from_raw_parts(base, size as usize) }
    }

    /// The instance's sealed code: where it starts and how many bytes.
    pub fn code_range(&self) -> (usize, usize) {
        let mut size = 0usize;
        // SAFETY: out-parameter only; the instance is live.
        let base = unsafe { ffi::kwo_instance_code(self.inst, &mut size) };
        (base as usize, size)
    }

    /// Every piece of the instance's code, from the C core's code map (the
    /// one kwo.ko's debugfs `symbols` file lists): defined functions, then
    /// trampolines, then the veneers.
    pub fn symbols(&self) -> Vec<CodeSymbol> {
        let (base, _) = self.code_range();
        // SAFETY: the object is loaded; i stays below the count.
        let count = unsafe { ffi::kwo_symbol_count(self.obj) };
        (0..count)
            .filter_map(|i| {
                let mut sym = ffi::KwoSymbol::default();
                // SAFETY: as above; sym is written on success.
                (unsafe { ffi::kwo_symbol_get(self.obj, i, &mut sym) } == 0).then_some(sym)
            })
            .map(|sym| CodeSymbol {
                start: base + sym.code_off as usize,
                len: sym.code_len as usize,
                kind: match sym.kind {
                    ffi::KWO_SYM_FUNC => SymbolKind::Func(sym.func),
                    ffi::KWO_SYM_TRAMP => SymbolKind::Trampoline(sym.func),
                    _ => SymbolKind::Veneers,
                },
            })
            .collect()
    }

    /// With [`Stdio::Capture`]: bytes the program wrote to fd 1 since the
    /// last take (empty with [`Stdio::Inherit`]).
    pub fn take_stdout(&mut self) -> Vec<u8> {
        self.take_captured(0)
    }

    /// As [`Self::take_stdout`], for fd 2.
    pub fn take_stderr(&mut self) -> Vec<u8> {
        self.take_captured(1)
    }

    fn take_captured(&mut self, i: usize) -> Vec<u8> {
        let Some((file, pos)) = self.captured.as_mut().map(|c| &mut c[i]) else {
            return Vec::new();
        };
        let end = file.metadata().map_or(*pos, |m| m.len());
        let mut buf = vec![0; end.saturating_sub(*pos) as usize];
        match file.read_exact_at(&mut buf, *pos) {
            Ok(()) => *pos = end,
            Err(_) => buf.clear(),
        }
        buf
    }

    /// The error of the first write that failed in any call so far: output
    /// the program wrote that did not arrive (a closed pipe, a full disk),
    /// whether or not the program noticed.
    pub fn lost_output(&self) -> Option<&std::io::Error> {
        self.lost_output.as_ref()
    }

    fn note_lost_output(&mut self, call: &KwoCall) {
        if call.write_errno != 0 && self.lost_output.is_none() {
            self.lost_output = Some(std::io::Error::from_raw_os_error(call.write_errno as i32));
        }
    }

    /// The descriptors behind fds 0-2, keeping the capture files' readers.
    fn stdio_files(&mut self, stdio: &Stdio) -> Result<StdioFiles, RunError> {
        let io = |e: std::io::Error| RunError::Load(format!("cannot set up stdio: {e}"));
        let fds = match stdio {
            Stdio::Inherit => [0, 1, 2].map(|fd| dup_fd(fd).map_err(io)),
            Stdio::Capture(input) => {
                let mut stdin = memory_file("kwo-stdin").map_err(io)?;
                stdin.write_all(input).map_err(io)?;
                stdin.rewind().map_err(io)?;
                let out = memory_file("kwo-stdout").map_err(io)?;
                let err = memory_file("kwo-stderr").map_err(io)?;
                let fds = [
                    Ok(Some(OwnedFd::from(stdin))),
                    out.try_clone().map(|f| Some(f.into())).map_err(io),
                    err.try_clone().map(|f| Some(f.into())).map_err(io),
                ];
                self.captured = Some([(out, 0), (err, 0)]);
                fds
            }
        };
        let [a, b, c] = fds;
        Ok(StdioFiles(vec![a?, b?, c?]))
    }
}

/// A piece of an instance's code ([`Instance::symbols`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSymbol {
    /// Its address in this process.
    pub start: usize,
    pub len: usize,
    pub kind: SymbolKind,
}

/// What a [`CodeSymbol`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    /// The body of the wasm function with this index.
    Func(u32),
    /// The array-call trampoline calling this wasm function.
    Trampoline(u32),
    /// The jumps to host functions appended after the object's code.
    Veneers,
}

/// Open each preopen's directory after `files` (fds 3, 4, ...); returns
/// the guest names of every fd, None for the ones that are not preopens.
fn preopen_files(
    preopens: &[Preopen],
    files: &mut StdioFiles,
) -> Result<Vec<Option<CString>>, RunError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut names: Vec<Option<CString>> = files.0.iter().map(|_| None).collect();
    for p in preopens {
        let dir = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(&p.host)
            .map_err(|e| {
                RunError::Load(format!("cannot preopen directory {}: {e}", p.host.display()))
            })?;
        if !has_openat2(&dir) {
            return Err(RunError::Load(format!(
                "cannot preopen directory {}: this kernel has no openat2 (Linux 5.6 or later), \
                 which kwo needs to keep the program's paths beneath the directory",
                p.host.display()
            )));
        }
        let name = CString::new(p.guest.as_str())
            .map_err(|_| RunError::Load(format!("guest path {:?} contains a NUL byte", p.guest)))?;
        files.0.push(Some(OwnedFd::from(dir)));
        names.push(Some(name));
    }
    Ok(names)
}

/// Whether the kernel has openat2, which the platform resolves every path
/// of a preopen with (`RESOLVE_BENEATH`): without it no path could be
/// opened, so a preopen is refused up front rather than failing each call.
fn has_openat2(dir: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: open_how is plain data, all zero is valid; the fields are set below.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
    // SAFETY: a valid descriptor, a NUL-terminated path and an open_how of
    // the size given; a descriptor returned is closed here.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            c".".as_ptr(),
            &how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd >= 0 {
        // SAFETY: fd was just opened and is ours.
        unsafe { libc::close(fd as i32) };
        return true;
    }
    std::io::Error::last_os_error().raw_os_error() != Some(libc::ENOSYS)
}

/// The C view of [`preopen_files`]' names (NULL for non-preopens).
fn preopen_names(names: &[Option<CString>]) -> Vec<*const c_char> {
    names.iter().map(|n| n.as_ref().map_or(std::ptr::null(), |n| n.as_ptr())).collect()
}

/// Descriptors on their way into an instance's fd table (None: not open):
/// fds 0-2, then any preopened directories.
struct StdioFiles(Vec<Option<OwnedFd>>);

impl StdioFiles {
    /// Wrap each descriptor in a core file handle (which then owns it).
    fn into_handles(self) -> Result<Vec<*mut c_void>, RunError> {
        let mut handles: Vec<*mut c_void> = Vec::with_capacity(self.0.len());
        for fd in self.0 {
            let Some(fd) = fd else {
                handles.push(std::ptr::null_mut());
                continue;
            };
            let raw = fd.into_raw_fd();
            // SAFETY: raw is an open descriptor we own; on success the
            // handle owns it, on failure it is still ours to close.
            let h = unsafe { ffi::kwo_user_file_open(raw) };
            if h.is_null() {
                // SAFETY: raw is ours (see above); the handles made so far
                // were not given to an instance.
                unsafe {
                    libc::close(raw);
                    for &h in handles.iter().filter(|h| !h.is_null()) {
                        ffi::kwo_plat_file_close(h);
                    }
                }
                return Err(RunError::Load("out of memory".into()));
            }
            handles.push(h);
        }
        Ok(handles)
    }
}

/// A close-on-exec duplicate of one of the process's descriptors; None if
/// the process does not have it open.
fn dup_fd(fd: i32) -> std::io::Result<Option<OwnedFd>> {
    // SAFETY: F_DUPFD_CLOEXEC only reads fd; the result is checked.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if new < 0 {
        let e = std::io::Error::last_os_error();
        return if e.raw_os_error() == Some(libc::EBADF) { Ok(None) } else { Err(e) };
    }
    // SAFETY: new is a fresh descriptor nobody else owns.
    Ok(Some(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(new) }))
}

/// An anonymous file in memory (memfd), close-on-exec.
fn memory_file(name: &str) -> std::io::Result<File> {
    let name = CString::new(name).expect("no NUL in the name");
    // SAFETY: name is a valid C string; the result is checked.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is a new descriptor nobody else owns.
    Ok(unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fd) })
}

fn check_args(export: &str, params: &[u8], args: &[Val]) -> Result<(), RunError> {
    if params.len() != args.len() {
        return Err(RunError::Usage(format!(
            "{export:?} takes {} arguments, {} given",
            params.len(),
            args.len()
        )));
    }
    for (i, (&t, a)) in params.iter().zip(args).enumerate() {
        if val_type(a) != t {
            return Err(RunError::Usage(format!(
                "argument {i} of {export:?} must be {}, not {}",
                type_name(t),
                type_name(val_type(a))
            )));
        }
    }
    Ok(())
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: both were created by the core and are freed once; the
        // instance goes first because it refers to the object.
        unsafe {
            ffi::kwo_instance_free(self.inst);
            ffi::kwo_object_free(self.obj);
        }
    }
}
