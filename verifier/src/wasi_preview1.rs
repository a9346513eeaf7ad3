//! Every WASI preview1 function, with its signature and what programs use
//! it for: the one table behind the refusal of an import kwo does not
//! provide, and behind `--allow-missing-imports` stubs.
//!
//! Which functions kwo *provides* is [`crate::policy::WASI_IMPORTS`]; this
//! table only describes the whole preview1 interface so that a refusal can
//! say what the missing function is for and what to do. A missing function
//! that returns an errno may be linked to the ENOSYS stub
//! (`KWO_HOST_ENOSYS_STUB`) when the policy allows it; `proc_exit` (no
//! result) and functions of other modules never are.

use crate::policy::{sig_string, WASI_MODULE};
use wasmparser::{FuncType, ValType};

/// `KWO_HOST_ENOSYS_STUB` in `kwo_abi.h`: returns errno 52 (ENOSYS).
pub const HOST_ENOSYS_STUB: u32 = 13;

/// One preview1 function: name, signature and purpose.
#[derive(Debug, Clone, Copy)]
pub struct Preview1Fn {
    pub name: &'static str,
    pub params: &'static [ValType],
    pub results: &'static [ValType],
    /// What a program uses it for, in a user's words.
    pub purpose: Purpose,
}

/// What a group of preview1 functions is for, as a refusal explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Args,
    Clock,
    Stdio,
    Files,
    Poll,
    Process,
    Random,
    Sockets,
}

impl Purpose {
    /// Why a program calls such a function (e.g. C's `fopen`).
    pub fn describe(self) -> &'static str {
        match self {
            Purpose::Args => "command-line arguments and environment",
            Purpose::Clock => "clocks",
            Purpose::Stdio => "reading and writing descriptors: stdin, stdout, stderr",
            Purpose::Files => {
                "file system access: C `fopen`, `opendir`, `stat`, Rust `std::fs` \
                 (kwo gives programs the directories named with `kwo run --dir` and \
                 provides the common file calls on them, but not this one yet)"
            }
            Purpose::Poll => "sleeping and waiting for events: C `sleep`, Rust `thread::sleep`",
            Purpose::Process => "signals to the process: C `raise`",
            Purpose::Random => "random numbers",
            Purpose::Sockets => "network sockets",
        }
    }
}

const I32: ValType = ValType::I32;
const I64: ValType = ValType::I64;

const fn f(
    name: &'static str,
    params: &'static [ValType],
    results: &'static [ValType],
    purpose: Purpose,
) -> Preview1Fn {
    Preview1Fn {
        name,
        params,
        results,
        purpose,
    }
}

use Purpose::*;

/// The preview1 interface (`wasi_snapshot_preview1`), every function.
#[rustfmt::skip]
pub const PREVIEW1: &[Preview1Fn] = &[
    f("args_get", &[I32, I32], &[I32], Args),
    f("args_sizes_get", &[I32, I32], &[I32], Args),
    f("environ_get", &[I32, I32], &[I32], Args),
    f("environ_sizes_get", &[I32, I32], &[I32], Args),
    f("clock_res_get", &[I32, I32], &[I32], Clock),
    f("clock_time_get", &[I32, I64, I32], &[I32], Clock),
    f("fd_advise", &[I32, I64, I64, I32], &[I32], Files),
    f("fd_allocate", &[I32, I64, I64], &[I32], Files),
    f("fd_close", &[I32], &[I32], Stdio),
    f("fd_datasync", &[I32], &[I32], Files),
    f("fd_fdstat_get", &[I32, I32], &[I32], Stdio),
    f("fd_fdstat_set_flags", &[I32, I32], &[I32], Stdio),
    f("fd_fdstat_set_rights", &[I32, I64, I64], &[I32], Stdio),
    f("fd_filestat_get", &[I32, I32], &[I32], Files),
    f("fd_filestat_set_size", &[I32, I64], &[I32], Files),
    f("fd_filestat_set_times", &[I32, I64, I64, I32], &[I32], Files),
    f("fd_pread", &[I32, I32, I32, I64, I32], &[I32], Files),
    f("fd_prestat_get", &[I32, I32], &[I32], Files),
    f("fd_prestat_dir_name", &[I32, I32, I32], &[I32], Files),
    f("fd_pwrite", &[I32, I32, I32, I64, I32], &[I32], Files),
    f("fd_read", &[I32, I32, I32, I32], &[I32], Stdio),
    f("fd_readdir", &[I32, I32, I32, I64, I32], &[I32], Files),
    f("fd_renumber", &[I32, I32], &[I32], Stdio),
    f("fd_seek", &[I32, I64, I32, I32], &[I32], Stdio),
    f("fd_sync", &[I32], &[I32], Files),
    f("fd_tell", &[I32, I32], &[I32], Stdio),
    f("fd_write", &[I32, I32, I32, I32], &[I32], Stdio),
    f("path_create_directory", &[I32, I32, I32], &[I32], Files),
    f("path_filestat_get", &[I32, I32, I32, I32, I32], &[I32], Files),
    f("path_filestat_set_times", &[I32, I32, I32, I32, I64, I64, I32], &[I32], Files),
    f("path_link", &[I32, I32, I32, I32, I32, I32, I32], &[I32], Files),
    f("path_open", &[I32, I32, I32, I32, I32, I64, I64, I32, I32], &[I32], Files),
    f("path_readlink", &[I32, I32, I32, I32, I32, I32], &[I32], Files),
    f("path_remove_directory", &[I32, I32, I32], &[I32], Files),
    f("path_rename", &[I32, I32, I32, I32, I32, I32], &[I32], Files),
    f("path_symlink", &[I32, I32, I32, I32, I32], &[I32], Files),
    f("path_unlink_file", &[I32, I32, I32], &[I32], Files),
    f("poll_oneoff", &[I32, I32, I32, I32], &[I32], Poll),
    f("proc_exit", &[I32], &[], Process),
    f("proc_raise", &[I32], &[I32], Process),
    f("random_get", &[I32, I32], &[I32], Random),
    f("sched_yield", &[], &[I32], Process),
    f("sock_accept", &[I32, I32, I32], &[I32], Sockets),
    f("sock_recv", &[I32, I32, I32, I32, I32, I32], &[I32], Sockets),
    f("sock_send", &[I32, I32, I32, I32, I32], &[I32], Sockets),
    f("sock_shutdown", &[I32, I32], &[I32], Sockets),
];

/// The preview1 function `name`, if there is one.
pub fn preview1_fn(name: &str) -> Option<&'static Preview1Fn> {
    PREVIEW1.iter().find(|p| p.name == name)
}

/// The host id for `module.name` of type `ty`, which kwo does not provide:
/// the ENOSYS stub if `stubs` allows it and the function returns an errno,
/// otherwise why the import is refused and what to do.
pub fn resolve_missing(
    module: &str,
    name: &str,
    ty: &FuncType,
    stubs: bool,
) -> Result<u32, String> {
    let head = format!("import `{module}.{name}` is not in the WASI table");
    if module != WASI_MODULE {
        return Err(format!(
            "{head}: kwo provides only WASI preview1 functions (module `{WASI_MODULE}`); \
             `{module}` is an interface of another host (an undefined symbol at link time \
             or a toolchain's JavaScript glue), so the program cannot run on kwo"
        ));
    }
    let Some(known) = preview1_fn(name) else {
        return Err(format!(
            "{head}: `{name}` is not a WASI preview1 function (check the toolchain's WASI version)"
        ));
    };
    let sig = sig_string(ty.params(), ty.results());
    let expected = sig_string(known.params, known.results);
    let what = format!(
        "{head}: kwo does not provide `{name}`, used for {}",
        known.purpose.describe()
    );
    if sig != expected {
        return Err(format!(
            "{what}; the import has type {sig}, not preview1's {expected}"
        ));
    }
    if known.results != [ValType::I32] {
        return Err(format!(
            "{what}; it returns no errno, so it cannot be stubbed"
        ));
    }
    if stubs {
        return Ok(HOST_ENOSYS_STUB);
    }
    Err(format!(
        "{what}. If the program does not need it, run with --allow-missing-imports: \
         the call then fails with ENOSYS (errno 52) and the program can handle that"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::WASI_IMPORTS;

    #[test]
    fn every_provided_function_is_in_preview1_with_its_signature() {
        for w in WASI_IMPORTS {
            let p = preview1_fn(w.name).unwrap_or_else(|| panic!("{} not in PREVIEW1", w.name));
            assert_eq!((p.params, p.results), (w.params, w.results), "{}", w.name);
        }
    }

    #[test]
    fn names_are_unique_and_only_proc_exit_returns_no_errno() {
        for (i, p) in PREVIEW1.iter().enumerate() {
            assert!(
                PREVIEW1[..i].iter().all(|q| q.name != p.name),
                "{} twice",
                p.name
            );
            assert_eq!(
                p.results == [ValType::I32],
                p.name != "proc_exit",
                "{}",
                p.name
            );
        }
    }
}
