//! Numbers shared with `kmod/core/kwo_format.h` and `kmod/core/kwo_abi.h`.
//!
//! Every `#define KWO_*` of the two headers has a constant of the same name
//! here; `tests/c_headers.rs` parses the headers and fails if any value,
//! name or struct size drifts. Struct sizes, which C expresses with
//! `sizeof`, are the `*_SIZE` constants at the end of the object section.

// ---- kwo_format.h --------------------------------------------------------

pub const KWO_MAGIC: u32 = 0x004f_574b;
pub const KWO_VERSION: u32 = 1;
/// "No index / no offset".
pub const KWO_NONE: u32 = 0xffff_ffff;

pub const KWO_TARGET_X86_64: u32 = 1;
pub const KWO_TARGET_AARCH64: u32 = 2;

/// Code touches FP/SIMD registers (the kernel must save them).
pub const KWO_F_USES_FP: u32 = 1 << 0;
/// Compiled with some safety checks off (benchmarks; the kernel refuses it).
pub const KWO_F_UNCHECKED: u32 = 1 << 1;
/// The code needs its linear memory at the start of a reservation of
/// `KWO_MEM_RESERVE` bytes whose base never moves: it keeps the base across
/// calls and has no Spectre select on accesses (docs/abi.md). A runtime
/// that allocates memories otherwise must refuse the object.
pub const KWO_F_RESERVED_MEMORY: u32 = 1 << 2;
/// x86_64 code that uses BMI1, BMI2 and LZCNT (`rorx`, `shlx`, `andn`,
/// `lzcnt`, ...) beyond the x86-64-v2 baseline: the runtime refuses it on
/// a CPU without them.
pub const KWO_F_X86_BMI: u32 = 1 << 3;
/// Every flag a reader of this version understands.
pub const KWO_F_KNOWN: u32 = KWO_F_USES_FP | KWO_F_UNCHECKED | KWO_F_RESERVED_MEMORY | KWO_F_X86_BMI;

pub const KWO_SEC_CODE: u32 = 1;
pub const KWO_SEC_BLOB: u32 = 2;
pub const KWO_SEC_TYPES: u32 = 3;
pub const KWO_SEC_IMPORTS: u32 = 4;
pub const KWO_SEC_FUNCS: u32 = 5;
pub const KWO_SEC_TABLES: u32 = 6;
pub const KWO_SEC_MEMORY: u32 = 7;
pub const KWO_SEC_GLOBALS: u32 = 8;
pub const KWO_SEC_EXPORTS: u32 = 9;
pub const KWO_SEC_DATA: u32 = 10;
pub const KWO_SEC_ELEMS: u32 = 11;
pub const KWO_SEC_RELOCS: u32 = 12;
pub const KWO_SEC_TRAPS: u32 = 13;
/// Optional source line table (debug data; `crate::lines`).
pub const KWO_SEC_LINES: u32 = 14;
/// The address map: code offset -> wasm offset (backtraces, disassembly).
pub const KWO_SEC_ADDRMAP: u32 = 15;
pub const KWO_SEC_MAX: u32 = 15;

pub const KWO_VAL_I32: u32 = 0x7f;
pub const KWO_VAL_I64: u32 = 0x7e;
pub const KWO_VAL_F32: u32 = 0x7d;
pub const KWO_VAL_F64: u32 = 0x7c;
pub const KWO_VAL_FUNCREF: u32 = 0x70;
pub const KWO_VAL_EXTERNREF: u32 = 0x6f;

pub const KWO_INIT_VALUE: u32 = 0;
pub const KWO_INIT_REF_FUNC: u32 = 1;
pub const KWO_INIT_REF_NULL: u32 = 2;

pub const KWO_EXPORT_FUNC: u32 = 0;
pub const KWO_EXPORT_TABLE: u32 = 1;
pub const KWO_EXPORT_MEMORY: u32 = 2;
pub const KWO_EXPORT_GLOBAL: u32 = 3;

pub const KWO_SEG_PASSIVE: u32 = 0;
pub const KWO_SEG_ACTIVE: u32 = 1;
pub const KWO_SEG_DECLARATIVE: u32 = 2;

/// `*(s32 *)P = S + addend - P`
pub const KWO_RELOC_X86_CALL32: u32 = 1;
/// imm26 of `BL` at P: `(S + addend - P) >> 2`
pub const KWO_RELOC_ARM64_CALL26: u32 = 2;

/// `sizeof(struct kwo_header)`
pub const KWO_HEADER_SIZE: u32 = 64;
/// `sizeof(struct kwo_section)`
pub const KWO_SECTION_SIZE: u32 = 16;
pub const KWO_TYPE_SIZE: u32 = 16;
pub const KWO_IMPORT_SIZE: u32 = 16;
pub const KWO_FUNC_SIZE: u32 = 32;
pub const KWO_TABLE_SIZE: u32 = 16;
pub const KWO_MEMORY_SIZE: u32 = 16;
pub const KWO_GLOBAL_SIZE: u32 = 16;
pub const KWO_EXPORT_SIZE: u32 = 24;
pub const KWO_DATA_SIZE: u32 = 16;
pub const KWO_ELEM_SIZE: u32 = 24;
pub const KWO_RELOC_SIZE: u32 = 16;
pub const KWO_TRAP_SITE_SIZE: u32 = 16;
pub const KWO_ADDR_MAP_SIZE: u32 = 8;
/// Alignment of every section's offset.
pub const KWO_SECTION_ALIGN: u32 = 8;

// ---- kwo_abi.h -----------------------------------------------------------

pub const KWO_VMCTX_MEM_BASE: u32 = 0;
pub const KWO_VMCTX_MEM_SIZE: u32 = 8;
pub const KWO_VMCTX_STACK_LIMIT: u32 = 16;
pub const KWO_VMCTX_EPOCH_PTR: u32 = 24;
pub const KWO_VMCTX_EPOCH_DEADLINE: u32 = 32;
pub const KWO_VMCTX_FUEL: u32 = 40;
pub const KWO_VMCTX_FUNCREFS: u32 = 48;
pub const KWO_VMCTX_TABLES: u32 = 56;
pub const KWO_VMCTX_GLOBALS: u32 = 64;
pub const KWO_VMCTX_INSTANCE: u32 = 72;
pub const KWO_VMCTX_SIZE: u32 = 80;

pub const KWO_FUNCREF_CODE: u32 = 0;
pub const KWO_FUNCREF_SIG_ID: u32 = 8;
pub const KWO_FUNCREF_SIZE: u32 = 16;

pub const KWO_VMTABLE_BASE: u32 = 0;
pub const KWO_VMTABLE_LEN: u32 = 8;
pub const KWO_VMTABLE_SIZE: u32 = 16;

pub const KWO_HOST_TRAP: u32 = 0;
pub const KWO_HOST_YIELD: u32 = 1;
pub const KWO_HOST_MEMORY_GROW: u32 = 2;
pub const KWO_HOST_MEMORY_FILL: u32 = 3;
pub const KWO_HOST_MEMORY_COPY: u32 = 4;
pub const KWO_HOST_MEMORY_INIT: u32 = 5;
pub const KWO_HOST_DATA_DROP: u32 = 6;
pub const KWO_HOST_TABLE_GROW: u32 = 7;
pub const KWO_HOST_TABLE_FILL: u32 = 8;
pub const KWO_HOST_TABLE_COPY: u32 = 9;
pub const KWO_HOST_TABLE_INIT: u32 = 10;
pub const KWO_HOST_ELEM_DROP: u32 = 11;
pub const KWO_HOST_SPECTEST_PRINT: u32 = 12;
pub const KWO_HOST_ENOSYS_STUB: u32 = 13;
pub const KWO_HOST_BUILTIN_COUNT: u32 = 14;

pub const KWO_HOST_WASI_BASE: u32 = 32;
pub const KWO_HOST_WASI_ARGS_GET: u32 = 32;
pub const KWO_HOST_WASI_ARGS_SIZES_GET: u32 = 33;
pub const KWO_HOST_WASI_ENVIRON_GET: u32 = 34;
pub const KWO_HOST_WASI_ENVIRON_SIZES_GET: u32 = 35;
pub const KWO_HOST_WASI_CLOCK_RES_GET: u32 = 36;
pub const KWO_HOST_WASI_CLOCK_TIME_GET: u32 = 37;
pub const KWO_HOST_WASI_FD_CLOSE: u32 = 38;
pub const KWO_HOST_WASI_FD_FDSTAT_GET: u32 = 39;
pub const KWO_HOST_WASI_FD_PRESTAT_GET: u32 = 40;
pub const KWO_HOST_WASI_FD_PRESTAT_DIR_NAME: u32 = 41;
pub const KWO_HOST_WASI_FD_READ: u32 = 42;
pub const KWO_HOST_WASI_FD_SEEK: u32 = 43;
pub const KWO_HOST_WASI_FD_WRITE: u32 = 44;
pub const KWO_HOST_WASI_PROC_EXIT: u32 = 45;
pub const KWO_HOST_WASI_RANDOM_GET: u32 = 46;
pub const KWO_HOST_WASI_SCHED_YIELD: u32 = 47;
pub const KWO_HOST_WASI_FD_RENUMBER: u32 = 48;
pub const KWO_HOST_WASI_POLL_ONEOFF: u32 = 49;
pub const KWO_HOST_WASI_FD_TELL: u32 = 50;
pub const KWO_HOST_WASI_FD_FILESTAT_GET: u32 = 51;
pub const KWO_HOST_WASI_FD_FDSTAT_SET_FLAGS: u32 = 52;
pub const KWO_HOST_WASI_FD_SYNC: u32 = 53;
pub const KWO_HOST_WASI_FD_DATASYNC: u32 = 54;
pub const KWO_HOST_WASI_FD_READDIR: u32 = 55;
pub const KWO_HOST_WASI_PATH_OPEN: u32 = 56;
pub const KWO_HOST_WASI_PATH_FILESTAT_GET: u32 = 57;
pub const KWO_HOST_WASI_PATH_CREATE_DIRECTORY: u32 = 58;
pub const KWO_HOST_WASI_PATH_UNLINK_FILE: u32 = 59;
pub const KWO_HOST_WASI_PATH_REMOVE_DIRECTORY: u32 = 60;
pub const KWO_HOST_WASI_PATH_RENAME: u32 = 61;
pub const KWO_HOST_WASI_END: u32 = 62;

pub const KWO_TRAP_NONE: u32 = 0;
pub const KWO_TRAP_UNREACHABLE: u32 = 1;
pub const KWO_TRAP_INT_DIV_BY_ZERO: u32 = 2;
pub const KWO_TRAP_INT_OVERFLOW: u32 = 3;
pub const KWO_TRAP_BAD_CONVERSION: u32 = 4;
pub const KWO_TRAP_MEMORY_OOB: u32 = 5;
pub const KWO_TRAP_TABLE_OOB: u32 = 6;
pub const KWO_TRAP_UNDEFINED_ELEMENT: u32 = 7;
pub const KWO_TRAP_UNINITIALIZED_ELEMENT: u32 = 8;
pub const KWO_TRAP_SIGNATURE_MISMATCH: u32 = 9;
pub const KWO_TRAP_STACK_EXHAUSTED: u32 = 10;
pub const KWO_TRAP_INTERRUPTED: u32 = 11;
pub const KWO_TRAP_FUEL_EXHAUSTED: u32 = 12;
pub const KWO_TRAP_EXIT: u32 = 13;
pub const KWO_TRAP_COUNT: u32 = 14;

/// The spec testsuite's `assert_trap` wording of a `KWO_TRAP_*` code, or
/// `None` for codes that are not traps (`KWO_TRAP_NONE`, `KWO_TRAP_EXIT`)
/// and unknown codes.
pub fn trap_message(code: u32) -> Option<&'static str> {
    Some(match code {
        KWO_TRAP_UNREACHABLE => "unreachable",
        KWO_TRAP_INT_DIV_BY_ZERO => "integer divide by zero",
        KWO_TRAP_INT_OVERFLOW => "integer overflow",
        KWO_TRAP_BAD_CONVERSION => "invalid conversion to integer",
        KWO_TRAP_MEMORY_OOB => "out of bounds memory access",
        KWO_TRAP_TABLE_OOB => "out of bounds table access",
        KWO_TRAP_UNDEFINED_ELEMENT => "undefined element",
        KWO_TRAP_UNINITIALIZED_ELEMENT => "uninitialized element",
        KWO_TRAP_SIGNATURE_MISMATCH => "indirect call type mismatch",
        KWO_TRAP_STACK_EXHAUSTED => "call stack exhausted",
        KWO_TRAP_INTERRUPTED => "interrupted",
        KWO_TRAP_FUEL_EXHAUSTED => "fuel exhausted",
        _ => return None,
    })
}

/// Short name of a `KWO_HOST_*` id: the builtin's name without the prefix
/// ("memory_grow") or "wasi:" and the WASI function name ("wasi:fd_write").
pub fn host_name(id: u32) -> Option<&'static str> {
    Some(match id {
        KWO_HOST_TRAP => "trap",
        KWO_HOST_YIELD => "yield",
        KWO_HOST_MEMORY_GROW => "memory_grow",
        KWO_HOST_MEMORY_FILL => "memory_fill",
        KWO_HOST_MEMORY_COPY => "memory_copy",
        KWO_HOST_MEMORY_INIT => "memory_init",
        KWO_HOST_DATA_DROP => "data_drop",
        KWO_HOST_TABLE_GROW => "table_grow",
        KWO_HOST_TABLE_FILL => "table_fill",
        KWO_HOST_TABLE_COPY => "table_copy",
        KWO_HOST_TABLE_INIT => "table_init",
        KWO_HOST_ELEM_DROP => "elem_drop",
        KWO_HOST_SPECTEST_PRINT => "spectest_print",
        KWO_HOST_ENOSYS_STUB => "enosys_stub",
        KWO_HOST_WASI_ARGS_GET => "wasi:args_get",
        KWO_HOST_WASI_ARGS_SIZES_GET => "wasi:args_sizes_get",
        KWO_HOST_WASI_ENVIRON_GET => "wasi:environ_get",
        KWO_HOST_WASI_ENVIRON_SIZES_GET => "wasi:environ_sizes_get",
        KWO_HOST_WASI_CLOCK_RES_GET => "wasi:clock_res_get",
        KWO_HOST_WASI_CLOCK_TIME_GET => "wasi:clock_time_get",
        KWO_HOST_WASI_FD_CLOSE => "wasi:fd_close",
        KWO_HOST_WASI_FD_FDSTAT_GET => "wasi:fd_fdstat_get",
        KWO_HOST_WASI_FD_PRESTAT_GET => "wasi:fd_prestat_get",
        KWO_HOST_WASI_FD_PRESTAT_DIR_NAME => "wasi:fd_prestat_dir_name",
        KWO_HOST_WASI_FD_READ => "wasi:fd_read",
        KWO_HOST_WASI_FD_SEEK => "wasi:fd_seek",
        KWO_HOST_WASI_FD_WRITE => "wasi:fd_write",
        KWO_HOST_WASI_PROC_EXIT => "wasi:proc_exit",
        KWO_HOST_WASI_RANDOM_GET => "wasi:random_get",
        KWO_HOST_WASI_SCHED_YIELD => "wasi:sched_yield",
        KWO_HOST_WASI_FD_RENUMBER => "wasi:fd_renumber",
        KWO_HOST_WASI_POLL_ONEOFF => "wasi:poll_oneoff",
        KWO_HOST_WASI_FD_TELL => "wasi:fd_tell",
        KWO_HOST_WASI_FD_FILESTAT_GET => "wasi:fd_filestat_get",
        KWO_HOST_WASI_FD_FDSTAT_SET_FLAGS => "wasi:fd_fdstat_set_flags",
        KWO_HOST_WASI_FD_SYNC => "wasi:fd_sync",
        KWO_HOST_WASI_FD_DATASYNC => "wasi:fd_datasync",
        KWO_HOST_WASI_FD_READDIR => "wasi:fd_readdir",
        KWO_HOST_WASI_PATH_OPEN => "wasi:path_open",
        KWO_HOST_WASI_PATH_FILESTAT_GET => "wasi:path_filestat_get",
        KWO_HOST_WASI_PATH_CREATE_DIRECTORY => "wasi:path_create_directory",
        KWO_HOST_WASI_PATH_UNLINK_FILE => "wasi:path_unlink_file",
        KWO_HOST_WASI_PATH_REMOVE_DIRECTORY => "wasi:path_remove_directory",
        KWO_HOST_WASI_PATH_RENAME => "wasi:path_rename",
        _ => return None,
    })
}

/// Whether `id` names a host function a relocation may target: a builtin
/// or a WASI function.
pub fn is_host_id(id: u32) -> bool {
    id < KWO_HOST_BUILTIN_COUNT || is_import_host_id(id)
}

/// Whether `id` names a host function an import may bind to: a WASI
/// function, the spec-test `print` stub, or the ENOSYS stub of a missing
/// WASI function.
pub fn is_import_host_id(id: u32) -> bool {
    (KWO_HOST_WASI_BASE..KWO_HOST_WASI_END).contains(&id)
        || id == KWO_HOST_SPECTEST_PRINT
        || id == KWO_HOST_ENOSYS_STUB
}
