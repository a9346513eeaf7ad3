//! The kernel policy: which imports a module may have, and its limits.
//!
//! A module may import functions only, and only the WASI
//! (`wasi_snapshot_preview1`) functions in [`WASI_IMPORTS`], with exactly
//! the signatures listed there; each maps to a `KWO_HOST_WASI_*` host id of
//! `kmod/core/kwo_abi.h`. Imported memories, tables and globals are refused:
//! a kwo instance owns all its state. The spec-test policy also admits the
//! `spectest.print*` functions, which the runtime implements as no-ops.
//! Any other import is refused with what it is for and what to do
//! ([`crate::wasi_preview1`]), or, if [`ImportPolicy::enosys_stubs`] is set
//! and it is a preview1 function returning an errno, bound to the ENOSYS
//! stub.

use crate::limits::Limits;
use crate::wasi_preview1::resolve_missing;
use wasmparser::{FuncType, ValType};

/// `KWO_HOST_SPECTEST_PRINT` in `kwo_abi.h`.
pub const HOST_SPECTEST_PRINT: u32 = 12;

/// The module every allowed WASI import comes from.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";

/// One entry of the WASI import table.
#[derive(Debug, Clone, Copy)]
pub struct WasiImport {
    pub name: &'static str,
    pub params: &'static [ValType],
    pub results: &'static [ValType],
    /// `KWO_HOST_WASI_*` id.
    pub host_id: u32,
}

const I32: ValType = ValType::I32;
const I64: ValType = ValType::I64;

const fn wasi(
    name: &'static str,
    params: &'static [ValType],
    results: &'static [ValType],
    host_id: u32,
) -> WasiImport {
    WasiImport {
        name,
        params,
        results,
        host_id,
    }
}

/// The WASI functions a module may import, with their exact signatures.
pub const WASI_IMPORTS: &[WasiImport] = &[
    wasi("args_get", &[I32, I32], &[I32], 32),
    wasi("args_sizes_get", &[I32, I32], &[I32], 33),
    wasi("environ_get", &[I32, I32], &[I32], 34),
    wasi("environ_sizes_get", &[I32, I32], &[I32], 35),
    wasi("clock_res_get", &[I32, I32], &[I32], 36),
    wasi("clock_time_get", &[I32, I64, I32], &[I32], 37),
    wasi("fd_close", &[I32], &[I32], 38),
    wasi("fd_fdstat_get", &[I32, I32], &[I32], 39),
    wasi("fd_prestat_get", &[I32, I32], &[I32], 40),
    wasi("fd_prestat_dir_name", &[I32, I32, I32], &[I32], 41),
    wasi("fd_read", &[I32, I32, I32, I32], &[I32], 42),
    wasi("fd_seek", &[I32, I64, I32, I32], &[I32], 43),
    wasi("fd_write", &[I32, I32, I32, I32], &[I32], 44),
    wasi("proc_exit", &[I32], &[], 45),
    wasi("random_get", &[I32, I32], &[I32], 46),
    wasi("sched_yield", &[], &[I32], 47),
    wasi("fd_renumber", &[I32, I32], &[I32], 48),
    wasi("poll_oneoff", &[I32, I32, I32, I32], &[I32], 49),
    wasi("fd_tell", &[I32, I32], &[I32], 50),
    wasi("fd_filestat_get", &[I32, I32], &[I32], 51),
    wasi("fd_fdstat_set_flags", &[I32, I32], &[I32], 52),
    wasi("fd_sync", &[I32], &[I32], 53),
    wasi("fd_datasync", &[I32], &[I32], 54),
    wasi("fd_readdir", &[I32, I32, I32, I64, I32], &[I32], 55),
    wasi("path_open", &[I32, I32, I32, I32, I32, I64, I64, I32, I32], &[I32], 56),
    wasi("path_filestat_get", &[I32, I32, I32, I32, I32], &[I32], 57),
    wasi("path_create_directory", &[I32, I32, I32], &[I32], 58),
    wasi("path_unlink_file", &[I32, I32, I32], &[I32], 59),
    wasi("path_remove_directory", &[I32, I32, I32], &[I32], 60),
    wasi("path_rename", &[I32, I32, I32, I32, I32, I32], &[I32], 61),
];

/// The `spectest` functions [`Policy::spectest`] admits (any signature
/// without results).
pub const SPECTEST_PRINTS: &[&str] = &[
    "print",
    "print_i32",
    "print_i64",
    "print_f32",
    "print_f64",
    "print_i32_f32",
    "print_f64_f64",
];

/// Which function imports are allowed. Only function imports ever are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportPolicy {
    /// Allow the `spectest.print*` functions (spec testsuite only).
    pub spectest_print: bool,
    /// Bind preview1 functions kwo does not provide, if they return an
    /// errno, to a stub returning ENOSYS (`--allow-missing-imports`).
    pub enosys_stubs: bool,
}

/// Everything the verifier enforces beyond the WebAssembly spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub limits: Limits,
    pub imports: ImportPolicy,
}

impl Policy {
    /// The default: WASI imports only, default limits.
    pub fn kernel() -> Policy {
        Policy {
            limits: Limits::default(),
            imports: ImportPolicy {
                spectest_print: false,
                enosys_stubs: false,
            },
        }
    }

    /// The spec testsuite's policy: also `spectest.print*` imports.
    pub fn spectest() -> Policy {
        Policy {
            imports: ImportPolicy {
                spectest_print: true,
                enosys_stubs: false,
            },
            ..Policy::kernel()
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::kernel()
    }
}

impl ImportPolicy {
    /// The host id for importing `module.name` with type `ty`, or why not.
    pub(crate) fn resolve(&self, module: &str, name: &str, ty: &FuncType) -> Result<u32, String> {
        if self.spectest_print && module == "spectest" && SPECTEST_PRINTS.contains(&name) {
            return match ty.results() {
                [] => Ok(HOST_SPECTEST_PRINT),
                _ => Err(format!(
                    "import `{module}.{name}` must not return values, found {}",
                    sig_string(ty.params(), ty.results())
                )),
            };
        }
        let Some(entry) = (module == WASI_MODULE)
            .then(|| WASI_IMPORTS.iter().find(|w| w.name == name))
            .flatten()
        else {
            return resolve_missing(module, name, ty, self.enosys_stubs);
        };
        if ty.params() != entry.params || ty.results() != entry.results {
            return Err(format!(
                "import `{module}.{name}` has type {}, expected {}",
                sig_string(ty.params(), ty.results()),
                sig_string(entry.params, entry.results)
            ));
        }
        Ok(entry.host_id)
    }
}

/// A signature in the form `(i32, i64) -> i32`.
pub fn sig_string(params: &[ValType], results: &[ValType]) -> String {
    let list = |tys: &[ValType]| {
        tys.iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(params), list(results))
}
