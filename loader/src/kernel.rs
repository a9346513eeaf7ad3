//! The kernel path: an ioctl client for `/dev/kwo` (the `kwo.ko` module) and
//! the `kwo` subcommands built on it (`load`, `invoke`, `run --kernel`,
//! `exec`).
//!
//! [`KernelInstance`] has the same shape as [`crate::runtime::Instance`]:
//! the same [`Config`], values, errors and exit conventions, so a program
//! behaves alike in both places. What differs: the kernel applies its own
//! native stack budget (`Config::stack_budget` is ignored), loading needs
//! `CAP_SYS_ADMIN`, and output can be mirrored to the kernel log. With
//! [`Stdio::Inherit`] the process's fds 0-2 are passed in each request and
//! kwo.ko reads and writes them while the call runs (streamed); with
//! [`Stdio::Capture`] the module's buffers are used (stdin given at load,
//! output copied back by each invoke, at most [`CAPTURE_LIMIT`] bytes). The
//! object is validated by the kernel; this side only reads it (after the
//! kernel accepted it) for signatures and function names.
//!
//! Files the user names with `--file GUEST_FD=HOSTPATH[:r|w|rw]`
//! ([`PassedFile`]) are opened here, with this process's credentials, and
//! passed at load (`KWO_LOAD_FILES`): the program reads and writes them as
//! its WASI fds 3 and up for the instance's lifetime. Whole directories
//! (`--dir`) are not passed to the kernel.

use crate::args::call_args;
use crate::backtrace::{Backtrace, Frame};
use crate::runtime::{Config, RunError, Stdio, TrapCode, TrapInfo, Val};
use crate::symbols::describe_location;
use crate::uapi::*;
use kwo_format::lines::LineTable;
use kwo_format::{Object, ValType};
use std::ffi::{c_void, CString};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The device node of `kwo.ko`.
pub const DEVICE: &str = "/dev/kwo";

/// Exit status when the program trapped (as `kwo run`).
const TRAP_EXIT: u8 = 134;

const LOG_SIZE: usize = 512;

/// Bytes of fd 1 and of fd 2 output one invoke copies back with
/// [`Stdio::Capture`]; more is reported as lost output.
pub const CAPTURE_LIMIT: usize = 1 << 20;

/// The stdio[] of a streamed request: the process's own fds 0-2.
const STREAMED: [i32; 3] = [0, 1, 2];

/// `ioctl(fd, request, arg)`, with errno as an `io::Error`.
fn ioctl<T>(fd: RawFd, request: u32, arg: &mut T) -> io::Result<i32> {
    // SAFETY: every request number is paired with the struct type the kernel
    // reads and writes for it (uapi.rs, checked against the C header), and
    // `arg` is a live, exclusively borrowed value of that type.
    let ret = unsafe { libc::ioctl(fd, request as _, arg as *mut T as *mut c_void) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn addr<T>(p: *const T) -> u64 {
    p as usize as u64
}

/// An open `/dev/kwo`.
pub struct Device {
    file: File,
}

impl Device {
    /// Open the device (root only: the node is 0600).
    pub fn open() -> Result<Device, RunError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(DEVICE)
            .map_err(|e| {
                let hint = match e.kind() {
                    io::ErrorKind::NotFound => " (is kwo.ko loaded?)",
                    io::ErrorKind::PermissionDenied => " (root only)",
                    _ => "",
                };
                RunError::Load(format!("{DEVICE}: {e}{hint}"))
            })?;
        Ok(Device { file })
    }

    /// The API handshake: the module's version and limits.
    pub fn version(&self) -> Result<kwo_version, RunError> {
        let mut v = kwo_version {
            api_version: KWO_API_VERSION,
            ..Default::default()
        };
        ioctl(self.file.as_raw_fd(), KWO_IOC_VERSION, &mut v)
            .map_err(|e| RunError::Load(format!("{DEVICE}: version handshake: {e}")))?;
        if v.api_version != KWO_API_VERSION {
            return Err(RunError::Load(format!(
                "kwo.ko speaks API {}, this kwo speaks {KWO_API_VERSION}",
                v.api_version
            )));
        }
        Ok(v)
    }

    /// Validate and instantiate an object in the kernel, running its start
    /// function. `printk` mirrors the instance's output to the kernel log.
    pub fn load(
        &self,
        kwo: &[u8],
        config: &Config,
        printk: bool,
    ) -> Result<KernelInstance, RunError> {
        self.load_with_files(kwo, config, printk, &[])
    }

    /// [`Device::load`], passing this process's descriptors: `files[i]`
    /// becomes the program's WASI fd 3 + i (-1 leaves it free).
    pub fn load_with_files(
        &self,
        kwo: &[u8],
        config: &Config,
        printk: bool,
        files: &[RawFd],
    ) -> Result<KernelInstance, RunError> {
        let args = nul_block(&config.args, "argument")?;
        let env = nul_block(&config.env, "environment variable")?;
        let (stream, stdin) = match &config.stdio {
            Stdio::Inherit => (true, &[][..]),
            Stdio::Capture(input) => (false, &input[..]),
        };
        let features = self.version()?.features;
        if stream && features & KWO_FEAT_STDIO == 0 {
            return Err(RunError::Load(
                "this kwo.ko cannot stream stdio (no KWO_FEAT_STDIO): load the matching module"
                    .into(),
            ));
        }
        if !files.is_empty() && features & KWO_FEAT_FILES == 0 {
            return Err(RunError::Load(
                "this kwo.ko cannot take files (no KWO_FEAT_FILES): load the matching module"
                    .into(),
            ));
        }
        let mut flags = if printk { KWO_LOAD_PRINTK } else { 0 };
        if stream {
            flags |= KWO_LOAD_STDIO;
        }
        if !files.is_empty() {
            flags |= KWO_LOAD_FILES;
        }
        let mut log = [0u8; LOG_SIZE];
        // A module without start-function backtraces knows only the first
        // KWO_LOAD_SIZE_VER0 bytes of the request (the whole struct's
        // request number is ENOTTY there): it gets those, frames unset.
        let (request, mut start_frames) = if features & KWO_FEAT_LOAD_BACKTRACE != 0 {
            (KWO_IOC_LOAD, vec![kwo_frame::default(); KWO_MAX_FRAMES])
        } else {
            (KWO_IOC_LOAD_VER0, Vec::new())
        };
        let mut req = kwo_load {
            object: addr(kwo.as_ptr()),
            object_len: u32::try_from(kwo.len())
                .map_err(|_| RunError::Load("object too large".into()))?,
            flags,
            log_buf: addr(log.as_mut_ptr()),
            log_size: LOG_SIZE as u32,
            args: addr(args.as_ptr()),
            args_len: len32(&args)?,
            env: addr(env.as_ptr()),
            env_len: len32(&env)?,
            stdin_buf: addr(stdin.as_ptr()),
            stdin_len: len32(stdin)?,
            max_pages: config.max_memory_pages.unwrap_or(0),
            timeout_ns: timeout_ns(config.timeout),
            fuel: config.fuel.unwrap_or(0),
            stdio: if stream { STREAMED } else { [0; 3] },
            files: if files.is_empty() { 0 } else { addr(files.as_ptr()) },
            nfiles: files.len() as u32,
            frames: if start_frames.is_empty() { 0 } else { addr(start_frames.as_mut_ptr()) },
            frames_cap: start_frames.len() as u32,
            ..Default::default()
        };
        let fd = match ioctl(self.file.as_raw_fd(), request, &mut req) {
            // SAFETY: on success KWO_IOC_LOAD returns a new descriptor that
            // nothing else owns.
            Ok(fd) => unsafe { OwnedFd::from_raw_fd(fd) },
            Err(e) => return Err(load_error(&e, &req, &log, kwo, &start_frames)),
        };
        let object = kwo_format::signature::strip(kwo).and_then(Object::parse).map_err(|e| {
            RunError::Load(format!(
                "the kernel accepted an object kwo cannot read: {e}"
            ))
        })?;
        let capture = if stream { 0 } else { CAPTURE_LIMIT };
        // An older module refuses a frames array (reserved words there).
        let frames = if features & KWO_FEAT_BACKTRACE != 0 { KWO_MAX_FRAMES } else { 0 };
        let mut inst = KernelInstance {
            fd,
            object,
            timeout: config.timeout,
            fuel: config.fuel,
            stream,
            out_buf: vec![0; capture],
            err_buf: vec![0; capture],
            stdout: Vec::new(),
            stderr: Vec::new(),
            lost_output: None,
            frames: vec![kwo_frame::default(); frames],
        };
        inst.note_write_errno(req.write_errno);
        Ok(inst)
    }
}

fn len32(b: &[u8]) -> Result<u32, RunError> {
    u32::try_from(b.len()).map_err(|_| RunError::Usage("input larger than 4 GiB".into()))
}

fn timeout_ns(t: Option<Duration>) -> u64 {
    t.map_or(0, |d| {
        u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1)
    })
}

/// NUL-terminated strings, back to back, as KWO_IOC_LOAD takes argv/environ.
fn nul_block(strs: &[String], what: &str) -> Result<Vec<u8>, RunError> {
    let mut block = Vec::new();
    for s in strs {
        let c = CString::new(s.as_bytes())
            .map_err(|_| RunError::Usage(format!("{what} contains a NUL byte")))?;
        block.extend_from_slice(c.as_bytes_with_nul());
    }
    Ok(block)
}

/// The error for a refused KWO_IOC_LOAD: the kernel's message, or how the
/// start function of object `kwo` ended (with its backtrace from `frames`,
/// where the request had them written).
fn load_error(
    e: &io::Error,
    req: &kwo_load,
    log: &[u8],
    kwo: &[u8],
    frames: &[kwo_frame],
) -> RunError {
    if e.raw_os_error() == Some(libc::ECANCELED) {
        let object = kwo_format::signature::strip(kwo).and_then(Object::parse).ok();
        let n = (req.nframes as usize).min(frames.len());
        let truncated = req.out_flags & KWO_OUT_FRAMES_TRUNC != 0;
        return match req.status {
            KWO_STATUS_EXIT => RunError::Exit(req.exit_code),
            _ => RunError::Trap(trap_info(&req.trap, object.as_ref(), &frames[..n], truncated)),
        };
    }
    let msg_len = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    let msg = String::from_utf8_lossy(&log[..msg_len]);
    if msg.is_empty() {
        RunError::Load(format!("kwo.ko refused the object: {e}"))
    } else {
        RunError::Load(format!("kwo.ko refused the object: {msg} ({e})"))
    }
}

/// Name of wasm function `func` from the object's name section.
fn func_name(object: &Object, func: u32) -> Option<String> {
    let defined = func.checked_sub(object.imports.len() as u32)?;
    object.funcs.get(defined as usize)?.name.clone()
}

/// The frames of a kernel trap report, named from the object and its line
/// table.
fn backtrace(
    frames: &[kwo_frame],
    truncated: bool,
    object: &Object,
    lines: Option<&LineTable>,
) -> Backtrace {
    let frames = frames
        .iter()
        .map(|f| {
            let wasm_offset = (f.wasm_off != u32::MAX).then_some(f.wasm_off);
            Frame {
                func: f.func,
                func_name: func_name(object, f.func),
                wasm_offset,
                source: wasm_offset.and_then(|off| describe_location(lines, off)),
            }
        })
        .collect();
    Backtrace { frames, truncated }
}

/// A kernel trap report with the backtrace kwo.ko wrote (`frames`; empty
/// from a module without the feature), named from the object when it is
/// known.
fn trap_info(
    t: &kwo_trap_report,
    object: Option<&Object>,
    frames: &[kwo_frame],
    truncated: bool,
) -> TrapInfo {
    let known = |v: u32| (v != u32::MAX).then_some(v);
    let func = known(t.func);
    let func_name = func.zip(object).and_then(|(f, o)| func_name(o, f));
    let wasm_offset = known(t.wasm_off);
    let lines = object.and_then(|o| LineTable::decode(&o.lines).ok());
    let backtrace = object
        .map(|o| backtrace(frames, truncated, o, lines.as_ref()))
        .unwrap_or_default();
    TrapInfo {
        // An unknown code from a newer module reads as "interrupted".
        code: TrapCode::from_code(t.code).unwrap_or(TrapCode::Interrupted),
        func,
        func_name,
        wasm_offset,
        source: wasm_offset.and_then(|off| describe_location(lines.as_ref(), off)),
        backtrace,
    }
}

/// How long one call took, from [`KernelInstance::invoke_timed`].
#[derive(Debug, Clone, Copy)]
pub struct CallTimes {
    /// The ioctl round trip, measured by the caller.
    pub round_trip: Duration,
    /// Time spent in the call, measured by kwo.ko (`duration_ns`).
    pub inside: Duration,
}

/// An instance living in the kernel; dropping it closes the descriptor,
/// which frees the instance.
pub struct KernelInstance {
    fd: OwnedFd,
    object: Object,
    timeout: Option<Duration>,
    fuel: Option<u64>,
    /// Stdio::Inherit: every call streams the process's fds 0-2.
    stream: bool,
    /// Stdio::Capture: where KWO_IOC_INVOKE copies fd 1 and fd 2 output.
    out_buf: Vec<u8>,
    err_buf: Vec<u8>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// The first output that did not arrive, in any call.
    lost_output: Option<String>,
    /// Where KWO_IOC_INVOKE writes a trap's backtrace (empty: the module
    /// has no KWO_FEAT_BACKTRACE).
    frames: Vec<kwo_frame>,
}

impl KernelInstance {
    /// The parameter types of an exported function.
    pub fn func_params(&self, export: &str) -> Option<Vec<ValType>> {
        self.export_sig(export).map(|(p, _)| p)
    }

    /// The result types of an exported function.
    pub fn func_results(&self, export: &str) -> Option<Vec<ValType>> {
        self.export_sig(export).map(|(_, r)| r)
    }

    fn export_sig(&self, export: &str) -> Option<(Vec<ValType>, Vec<ValType>)> {
        let o = &self.object;
        let x = o
            .exports
            .iter()
            .find(|x| x.name == export && x.kind == kwo_format::ExportKind::Func)?;
        let type_index = match (x.index as usize).checked_sub(o.imports.len()) {
            Some(i) => o.funcs.get(i)?.type_index,
            None => o.imports.get(x.index as usize)?.type_index,
        };
        let sig = o.types.get(type_index as usize)?;
        Some((sig.params.clone(), sig.results.clone()))
    }

    /// Call an export; output goes to [`Self::take_stdout`] / `take_stderr`.
    pub fn invoke(&mut self, export: &str, args: &[Val]) -> Result<Vec<Val>, RunError> {
        self.invoke_timed(export, args).map(|(vals, _)| vals)
    }

    /// [`Self::invoke`], also returning how long the call took: the
    /// KWO_IOC_INVOKE round trip as seen from here (monotonic clock around
    /// the ioctl alone), and the time inside the call as the kernel
    /// measured it.
    pub fn invoke_timed(
        &mut self,
        export: &str,
        args: &[Val],
    ) -> Result<(Vec<Val>, CallTimes), RunError> {
        let (mut req, results) = self.request(export, args)?;
        let start = Instant::now();
        let ret = ioctl(self.fd.as_raw_fd(), KWO_IOC_INVOKE, &mut req);
        let times = CallTimes {
            round_trip: start.elapsed(),
            inside: Duration::from_nanos(req.duration_ns),
        };
        ret.map_err(|e| RunError::Load(format!("KWO_IOC_INVOKE {export:?}: {e}")))?;
        self.reply(&req, &results).map(|vals| (vals, times))
    }

    /// The KWO_IOC_INVOKE request for a call, and the export's result types.
    fn request(
        &mut self,
        export: &str,
        args: &[Val],
    ) -> Result<(kwo_invoke, Vec<ValType>), RunError> {
        let (params, results) = self
            .export_sig(export)
            .ok_or_else(|| RunError::Usage(format!("no exported function {export:?}")))?;
        if params.len() != args.len() || args.len() > KWO_MAX_VALS || results.len() > KWO_MAX_VALS {
            return Err(RunError::Usage(format!(
                "{export:?} takes {} arguments, {} given",
                params.len(),
                args.len()
            )));
        }
        let mut req = kwo_invoke {
            name: addr(export.as_ptr()),
            name_len: export.len() as u32,
            flags: if self.stream { KWO_INVOKE_STDIO } else { 0 },
            stdio: if self.stream { STREAMED } else { [0; 3] },
            nvals: args.len() as u32,
            stdout_buf: addr(self.out_buf.as_mut_ptr()),
            stdout_size: self.out_buf.len() as u32,
            stderr_buf: addr(self.err_buf.as_mut_ptr()),
            stderr_size: self.err_buf.len() as u32,
            timeout_ns: timeout_ns(self.timeout),
            fuel: self.fuel.unwrap_or(0),
            frames: if self.frames.is_empty() { 0 } else { addr(self.frames.as_mut_ptr()) },
            frames_cap: self.frames.len() as u32,
            ..Default::default()
        };
        for (i, (a, t)) in args.iter().zip(&params).enumerate() {
            let (ty, bits) = to_slot(a)?;
            if ty != t.code() {
                return Err(RunError::Usage(format!(
                    "argument {i} of {export:?} must be {}",
                    t.name()
                )));
            }
            req.types[i] = ty;
            req.vals[i] = bits;
        }
        Ok((req, results))
    }

    /// The output and outcome of a completed KWO_IOC_INVOKE.
    fn reply(&mut self, req: &kwo_invoke, results: &[ValType]) -> Result<Vec<Val>, RunError> {
        let (out_len, err_len) = (req.stdout_len as usize, req.stderr_len as usize);
        self.stdout
            .extend_from_slice(&self.out_buf[..out_len.min(self.out_buf.len())]);
        self.stderr
            .extend_from_slice(&self.err_buf[..err_len.min(self.err_buf.len())]);
        self.note_write_errno(req.write_errno);
        if req.out_flags & (KWO_OUT_STDOUT_TRUNC | KWO_OUT_STDERR_TRUNC) != 0 {
            self.lost_output
                .get_or_insert_with(|| format!("output over {CAPTURE_LIMIT} bytes in one call"));
        }
        match req.status {
            KWO_STATUS_OK => Ok(results
                .iter()
                .zip(req.vals)
                .map(|(t, v)| from_slot(*t, v))
                .collect()),
            KWO_STATUS_EXIT => Err(RunError::Exit(req.exit_code)),
            _ => {
                let n = (req.nframes as usize).min(self.frames.len());
                let truncated = req.out_flags & KWO_OUT_FRAMES_TRUNC != 0;
                let info = trap_info(&req.trap, Some(&self.object), &self.frames[..n], truncated);
                Err(RunError::Trap(info))
            }
        }
    }

    /// Name the instance for observers (`KWO_IOC_SET_NAME`: debugfs,
    /// `kwo ps`, `kwo perf-map`), as [`observer_name`] shapes it.
    pub fn set_name(&self, name: &str) -> Result<(), RunError> {
        let mut req = kwo_name::default();
        let name = observer_name(name);
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        ioctl(self.fd.as_raw_fd(), KWO_IOC_SET_NAME, &mut req)
            .map(|_| ())
            .map_err(|e| RunError::Load(format!("KWO_IOC_SET_NAME {name:?}: {e}")))
    }

    /// The module's view of the instance (KWO_IOC_INFO).
    pub fn info(&self) -> Result<kwo_info, RunError> {
        let mut info = kwo_info::default();
        ioctl(self.fd.as_raw_fd(), KWO_IOC_INFO, &mut info)
            .map_err(|e| RunError::Load(format!("KWO_IOC_INFO: {e}")))?;
        Ok(info)
    }

    pub fn object(&self) -> &Object {
        &self.object
    }

    pub fn take_stdout(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.stdout)
    }

    /// Output the program wrote that did not arrive (a failed write, a
    /// full capture buffer), as [`crate::runtime::Instance::lost_output`].
    pub fn lost_output(&self) -> Option<&str> {
        self.lost_output.as_deref()
    }

    fn note_write_errno(&mut self, errno: u32) {
        if errno != 0 && self.lost_output.is_none() {
            self.lost_output = Some(io::Error::from_raw_os_error(errno as i32).to_string());
        }
    }

    pub fn take_stderr(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.stderr)
    }
}

fn to_slot(v: &Val) -> Result<(u8, u64), RunError> {
    Ok(match *v {
        Val::I32(x) => (ValType::I32.code(), x as u32 as u64),
        Val::I64(x) => (ValType::I64.code(), x as u64),
        Val::F32(x) => (ValType::F32.code(), x as u64),
        Val::F64(x) => (ValType::F64.code(), x),
        Val::FuncRef(_) | Val::ExternRef(_) => {
            return Err(RunError::Usage(
                "the kernel path passes numbers only".into(),
            ))
        }
    })
}

fn from_slot(t: ValType, bits: u64) -> Val {
    let opt = (bits != 0).then_some(bits);
    match t {
        ValType::I32 => Val::I32(bits as u32 as i32),
        ValType::I64 => Val::I64(bits as i64),
        ValType::F32 => Val::F32(bits as u32),
        ValType::F64 => Val::F64(bits),
        ValType::FuncRef => Val::FuncRef(opt),
        ValType::ExternRef => Val::ExternRef(opt),
    }
}

pub use crate::args::{ParseArg, ShowVal};

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn flush(inst: &mut KernelInstance) {
    let _ = io::stdout().write_all(&inst.take_stdout());
    let _ = io::stdout().flush();
    let _ = io::stderr().write_all(&inst.take_stderr());
}

/// The exit status for how a run ended (as `kwo run`).
fn finish(result: Result<(), RunError>) -> Result<ExitCode, RunError> {
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(RunError::Exit(code)) => Ok(ExitCode::from(code as u8)),
        Err(RunError::Trap(info)) => {
            eprintln!("trap: {info}");
            eprint!("{}", info.backtrace);
            Ok(ExitCode::from(TRAP_EXIT))
        }
        Err(e) => Err(e),
    }
}

/// A name kwo.ko accepts for an instance (`KWO_IOC_SET_NAME`): `file`'s
/// base name, control characters as `?`, cut to fit `KWO_NAME_LEN - 1`
/// bytes at a character boundary; `-` if nothing is left.
pub fn observer_name(file: &str) -> String {
    let base = Path::new(file)
        .file_name()
        .map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned());
    let mut name = String::new();
    for c in base.chars().map(|c| if c.is_control() { '?' } else { c }) {
        if name.len() + c.len_utf8() > KWO_NAME_LEN - 1 {
            break;
        }
        name.push(c);
    }
    if name.is_empty() {
        name.push('-');
    }
    name
}

/// Load `kwo` and name the instance after `file` (when kwo.ko can name
/// instances: an older module shows the object's checksum instead).
fn load(
    kwo: &[u8],
    file: &Path,
    config: &Config,
    printk: bool,
    files: &[PassedFile],
) -> Result<KernelInstance, RunError> {
    let dev = Device::open()?;
    let features = dev.version()?.features;
    let opened = open_passed(files)?;
    let inst = dev.load_with_files(kwo, config, printk, &passed_fds(&opened))?;
    if features & KWO_FEAT_NAME != 0 {
        inst.set_name(&file.display().to_string())?;
    }
    Ok(inst)
}

/// How `--file` opens a host file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `r` (the default): read only.
    Read,
    /// `w`: write only, created if missing, truncated.
    Write,
    /// `rw`: read and write, created if missing, not truncated.
    ReadWrite,
}

/// A host file handed to a program in the kernel as WASI fd `guest_fd`:
/// `--file GUEST_FD=HOSTPATH[:r|w|rw]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassedFile {
    pub guest_fd: u32,
    pub path: PathBuf,
    pub access: Access,
}

/// The WASI fds a passed file can take: after stdio, within kwo.ko's table.
const PASSED_FDS: std::ops::RangeInclusive<u32> = 3..=(2 + KWO_MAX_FILES as u32);

impl std::str::FromStr for PassedFile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (fd, rest) = s
            .split_once('=')
            .ok_or_else(|| format!("--file {s}: expected GUEST_FD=HOSTPATH[:r|w|rw]"))?;
        let guest_fd = fd
            .parse()
            .ok()
            .filter(|n| PASSED_FDS.contains(n))
            .ok_or_else(|| {
                format!(
                    "--file {s}: GUEST_FD must be {} to {} (0-2 are stdio)",
                    PASSED_FDS.start(),
                    PASSED_FDS.end()
                )
            })?;
        // A path may contain ':'; only a known suffix is the access mode.
        let (path, access) = match rest.rsplit_once(':') {
            Some((p, "r")) => (p, Access::Read),
            Some((p, "w")) => (p, Access::Write),
            Some((p, "rw")) => (p, Access::ReadWrite),
            _ => (rest, Access::Read),
        };
        if path.is_empty() {
            return Err(format!("--file {s}: no HOSTPATH"));
        }
        Ok(PassedFile {
            guest_fd,
            path: PathBuf::from(path),
            access,
        })
    }
}

/// Open each passed file with this process's credentials; a guest fd
/// named twice is a usage error.
fn open_passed(files: &[PassedFile]) -> Result<Vec<(u32, File)>, RunError> {
    let mut opened: Vec<(u32, File)> = Vec::with_capacity(files.len());
    for f in files {
        if opened.iter().any(|(fd, _)| *fd == f.guest_fd) {
            return Err(RunError::Usage(format!(
                "--file: guest fd {} given twice",
                f.guest_fd
            )));
        }
        let mut o = OpenOptions::new();
        match f.access {
            Access::Read => o.read(true),
            Access::Write => o.write(true).create(true).truncate(true),
            Access::ReadWrite => o.read(true).write(true).create(true),
        };
        let file = o
            .open(&f.path)
            .map_err(|e| RunError::Load(format!("--file {}: {e}", f.path.display())))?;
        opened.push((f.guest_fd, file));
    }
    Ok(opened)
}

/// The `files[]` array of `KWO_IOC_LOAD`: entry i is WASI fd 3 + i.
fn passed_fds(opened: &[(u32, File)]) -> Vec<RawFd> {
    let first = *PASSED_FDS.start();
    let n = opened.iter().map(|(fd, _)| fd - first + 1).max().unwrap_or(0);
    let mut fds = vec![-1; n as usize];
    for (fd, file) in opened {
        fds[(fd - first) as usize] = file.as_raw_fd();
    }
    fds
}

/// How to run a program in the kernel (the flags of `kwo run`).
#[derive(Debug, Default, Clone)]
pub struct RunOptions {
    pub timeout: Option<Duration>,
    pub fuel: Option<u64>,
    /// WASI environ, `NAME=VALUE`.
    pub env: Vec<String>,
    /// WASI argv[1..]; argv[0] is the file name.
    pub args: Vec<String>,
    /// Mirror the program's output to the kernel log.
    pub printk: bool,
    /// How a `.wasm`/`.wat` FILE is verified before it is compiled.
    pub verify: crate::source::VerifyOptions,
    /// fds 0-2: the process's own (streamed) or captured.
    pub stdio: Stdio,
    /// Host files the program gets as WASI fds 3 and up.
    pub files: Vec<PassedFile>,
    /// Cap on memory 0 in 64 KiB pages, below the module's `max_pages`.
    pub max_memory_pages: Option<u32>,
}

fn program_config(file: &Path, opts: &RunOptions) -> Config {
    let mut argv = vec![file.display().to_string()];
    argv.extend(opts.args.iter().cloned());
    Config {
        timeout: opts.timeout,
        fuel: opts.fuel,
        args: argv,
        env: opts.env.clone(),
        stdio: opts.stdio.clone(),
        max_memory_pages: opts.max_memory_pages,
        ..Config::default()
    }
}

/// FILE (`.kwo`, or `.wasm`/`.wat` compiled for this machine) loaded into
/// kwo.ko as `kwo run --kernel FILE` loads it; its start function has run.
pub fn open(file: &Path, opts: &RunOptions) -> Result<KernelInstance, RunError> {
    let kwo = crate::source::object_for_host(file, &opts.verify).map_err(RunError::Load)?;
    load(&kwo, file, &program_config(file, opts), opts.printk, &opts.files)
}

/// A WASI reactor initializes itself before any other export is called
/// (as `kwo run` does in userspace).
pub fn initialize(inst: &mut KernelInstance) -> Result<(), RunError> {
    if inst.func_params("_initialize").is_none() {
        return Ok(());
    }
    inst.invoke("_initialize", &[]).map(|_| ())
}

/// `kwo load FILE.kwo`: load an object into the kernel, describe the
/// instance, unload it. Checks that the kernel accepts the object.
pub fn cmd_load(file: &Path, printk: bool) -> Result<ExitCode, RunError> {
    let kwo = read(file).map_err(RunError::Load)?;
    let inst = match load(&kwo, file, &Config::default(), printk, &[]) {
        Ok(inst) => inst,
        Err(e) => return finish(Err(e)),
    };
    let info = inst.info()?;
    let target = kwo_format::Target::from_code(info.target).map_or("?", |t| t.name());
    println!(
        "loaded {}: {target}, {} bytes, {} exports, memory {} of {} bytes{}",
        file.display(),
        info.object_len,
        info.exports,
        info.mem_size,
        info.mem_max,
        if info.obj_flags & kwo_format::KWO_F_USES_FP != 0 {
            ", uses FP"
        } else {
            ""
        }
    );
    if info.sig_flags & KWO_INFO_SIGNED != 0 {
        let name = info.signer.split(|&b| b == 0).next().unwrap_or_default();
        let v = info.sig_kwo_version;
        println!(
            "  signed by {:?} with kwo {}.{}.{} (signature verified by kwo.ko)",
            String::from_utf8_lossy(name),
            v >> 16,
            v >> 8 & 0xff,
            v & 0xff
        );
    }
    for x in inst.object().exports.iter() {
        println!("  export {:?} ({:?} {})", x.name, x.kind, x.index);
    }
    Ok(ExitCode::SUCCESS)
}

/// `kwo run --kernel [--invoke NAME] FILE [ARGS...]`: as `kwo run`, in
/// the kernel (`.wasm`/`.wat` is compiled first); also `kwo invoke FILE
/// NAME ARGS...`. `parse_arg` and `show` are `kwo run`'s value syntax.
pub fn cmd_run(
    file: &Path,
    opts: &RunOptions,
    invoke: &[String],
    parse_arg: ParseArg,
    show: ShowVal,
) -> Result<ExitCode, RunError> {
    let mut inst = match open(file, opts) {
        Ok(inst) => inst,
        Err(e) => return finish(Err(e)),
    };
    if let Err(e) = initialize(&mut inst) {
        flush(&mut inst);
        return finish(Err(e));
    }
    let result = match invoke.split_first() {
        None => inst.invoke("_start", &[]).map(|_| ()),
        Some((name, raw)) => {
            let params = inst
                .func_params(name)
                .ok_or_else(|| RunError::Usage(format!("no exported function {name:?}")))?;
            let vals = call_args(name, &params, raw, parse_arg).map_err(RunError::Usage)?;
            inst.invoke(name, &vals).map(|results| {
                flush(&mut inst);
                for r in &results {
                    println!("{}", show(r));
                }
            })
        }
    };
    flush(&mut inst);
    let lost = inst.lost_output().map(str::to_owned);
    finish_with_output(finish(result), lost)
}

/// A run whose output did not all arrive fails, whatever the program did.
pub fn finish_with_output<E>(
    status: Result<ExitCode, E>,
    lost: Option<String>,
) -> Result<ExitCode, E> {
    match lost {
        Some(e) => {
            eprintln!("kwo: output lost: {e}");
            status.map(|_| ExitCode::FAILURE)
        }
        None => status,
    }
}

/// `kwo exec APP.wasm [ARGS...]`: verify, compile for this machine, load
/// into the kernel, run `_start`, unload.
pub fn cmd_exec(file: &Path, opts: &RunOptions) -> Result<ExitCode, RunError> {
    let no_args: ParseArg = |_, s| Err(format!("unexpected argument {s}"));
    cmd_run(file, opts, &[], no_args, |_| String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_block_is_nul_terminated_strings() {
        let block = nul_block(&["a".into(), "".into(), "bc".into()], "argument").unwrap();
        assert_eq!(block, b"a\0\0bc\0");
        assert!(matches!(
            nul_block(&["x\0y".into()], "argument"),
            Err(RunError::Usage(_))
        ));
    }

    #[test]
    fn trap_report_names_the_function() {
        let wasm = wat::parse_str(r#"(module (func $f (export "f") unreachable))"#).unwrap();
        let module = kwo_verifier::verify(&wasm, &kwo_verifier::Policy::kernel()).unwrap();
        let kwo = kwo_compiler::compile(&module, &kwo_compiler::Options::default()).unwrap();
        let object = Object::parse(&kwo).unwrap();
        let report = kwo_trap_report {
            code: 1,
            func: 0,
            wasm_off: 0x1c,
            reserved: 0,
        };
        let info = trap_info(&report, Some(&object), &[], false);
        assert_eq!(
            info.to_string(),
            "unreachable in func 0 f at wasm offset 0x1c"
        );
        let unknown = kwo_trap_report {
            code: 5,
            func: u32::MAX,
            wasm_off: u32::MAX,
            reserved: 0,
        };
        assert_eq!(
            trap_info(&unknown, None, &[], false).to_string(),
            "out of bounds memory access"
        );
    }

    #[test]
    fn a_trapped_start_function_reports_the_kernels_frames() {
        let wasm = wat::parse_str(
            r#"(module (func $leaf unreachable) (func $init (call $leaf) (nop)) (start $init))"#,
        )
        .unwrap();
        let module = kwo_verifier::verify(&wasm, &kwo_verifier::Policy::kernel()).unwrap();
        let kwo = kwo_compiler::compile(&module, &kwo_compiler::Options::default()).unwrap();
        let frames = [
            kwo_frame { func: 0, wasm_off: 0x20 },
            kwo_frame { func: 1, wasm_off: 0x24 },
            kwo_frame { func: 7, wasm_off: 7 }, // past nframes: not read
        ];
        let req = kwo_load {
            status: KWO_STATUS_TRAP,
            trap: kwo_trap_report { code: 1, func: 0, wasm_off: 0x20, reserved: 0 },
            nframes: 2,
            out_flags: KWO_OUT_FRAMES_TRUNC,
            ..Default::default()
        };
        let canceled = io::Error::from_raw_os_error(libc::ECANCELED);
        let RunError::Trap(info) = load_error(&canceled, &req, &[0], &kwo, &frames) else {
            panic!("not a trap");
        };
        let bt = info.backtrace.to_string();
        assert!(bt.contains("  0: func 0 leaf at wasm offset 0x20\n"), "{bt}");
        assert!(bt.contains("  1: func 1 init at wasm offset 0x24\n"), "{bt}");
        assert!(!bt.contains("  2:"), "{bt}");
        assert!(bt.contains("deeper frames not shown"), "{bt}");
        // A module without the feature wrote no frames: the top one only.
        let old = kwo_load { nframes: 0, out_flags: 0, ..req };
        let RunError::Trap(info) = load_error(&canceled, &old, &[0], &kwo, &[]) else {
            panic!("not a trap");
        };
        assert_eq!(info.to_string(), "unreachable in func 0 leaf at wasm offset 0x20");
        assert!(info.backtrace.frames.is_empty());
    }

    #[test]
    fn observer_names_fit_the_uapi() {
        assert_eq!(observer_name("/objects/add.kwo"), "add.kwo");
        assert_eq!(observer_name("a\nb.wasm"), "a?b.wasm");
        assert_eq!(observer_name("/"), "/");
        assert_eq!(observer_name(""), "-");
        let long = "é".repeat(40);
        let cut = observer_name(&long);
        assert_eq!(cut, "é".repeat(31));
        assert!(cut.len() < KWO_NAME_LEN);
    }

    #[test]
    fn passed_file_syntax() {
        let f: PassedFile = "3=/tmp/a:b:rw".parse().unwrap();
        assert_eq!((f.guest_fd, f.access), (3, Access::ReadWrite));
        assert_eq!(f.path, Path::new("/tmp/a:b"));
        let f: PassedFile = "63=x".parse().unwrap();
        assert_eq!((f.guest_fd, f.access, f.path), (63, Access::Read, "x".into()));
        for bad in ["2=x", "64=x", "x", "3=", "3=:w", "-1=x"] {
            assert!(bad.parse::<PassedFile>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn passed_fds_leave_gaps_free() {
        let dev_null = || File::open("/dev/null").unwrap();
        let (a, b) = (dev_null(), dev_null());
        let (ra, rb) = (a.as_raw_fd(), b.as_raw_fd());
        assert_eq!(passed_fds(&[(5, a), (3, b)]), vec![rb, -1, ra]);
        assert!(passed_fds(&[]).is_empty());
    }

    /// Without kwo.ko (as on a build machine), the error says what to do.
    #[test]
    fn missing_device_is_explained() {
        if Path::new(DEVICE).exists() {
            return; // a machine with kwo.ko loaded: nothing to explain
        }
        match Device::open() {
            Err(RunError::Load(msg)) => assert!(msg.contains("is kwo.ko loaded?"), "{msg}"),
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("{DEVICE} opened although it does not exist"),
        }
    }
}
