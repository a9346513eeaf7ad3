//! The `.kwo` object format: an owned, in-memory model of an object
//! ([`Object`]), its byte encoding ([`Object::to_bytes`]) and a reader that
//! validates untrusted bytes ([`Object::parse`]).
//!
//! The layout is specified in `docs/kwo-format.md` and defined for C in
//! `kmod/core/kwo_format.h`; the C core is the reader the kernel trusts, this
//! crate is the writer the compiler uses and the reader `kwo inspect` uses.
//! This crate has no dependencies and never panics on input. It does not
//! disassemble code or check that the code is safe: the code is trusted
//! output of the compiler; the format rules only keep every index, offset
//! and size inside the object.

/// Numbers fixed by the format and the ABI (mirrors both C headers).
pub mod consts;
mod crc;
mod describe;
pub mod layout;
pub mod limits;
pub mod lines;
pub mod signature;
mod read;
mod write;

pub use consts::*;
pub use crc::crc32;
pub use describe::describe;

use std::fmt;

/// Why [`Object::parse`] rejected its input: the byte offset in the object
/// of the offending field (or of the entry holding it) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offset {:#x}: {}", self.offset, self.message)
    }
}

impl std::error::Error for FormatError {}

/// Target architecture of an object's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    X86_64,
    Aarch64,
}

impl Target {
    /// The architecture this program was built for: what objects to run
    /// here are compiled for.
    pub const HOST: Target = if cfg!(target_arch = "aarch64") { Target::Aarch64 } else { Target::X86_64 };

    /// The `KWO_TARGET_*` code.
    pub fn code(self) -> u32 {
        match self {
            Target::X86_64 => KWO_TARGET_X86_64,
            Target::Aarch64 => KWO_TARGET_AARCH64,
        }
    }

    pub fn from_code(code: u32) -> Option<Target> {
        match code {
            KWO_TARGET_X86_64 => Some(Target::X86_64),
            KWO_TARGET_AARCH64 => Some(Target::Aarch64),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Target::X86_64 => "x86_64",
            Target::Aarch64 => "aarch64",
        }
    }
}

/// A value type, in the WebAssembly binary encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    FuncRef,
    ExternRef,
}

impl ValType {
    /// The `KWO_VAL_*` code (the Wasm binary encoding).
    pub fn code(self) -> u8 {
        match self {
            ValType::I32 => 0x7f,
            ValType::I64 => 0x7e,
            ValType::F32 => 0x7d,
            ValType::F64 => 0x7c,
            ValType::FuncRef => 0x70,
            ValType::ExternRef => 0x6f,
        }
    }

    pub fn from_code(code: u32) -> Option<ValType> {
        Some(match code {
            KWO_VAL_I32 => ValType::I32,
            KWO_VAL_I64 => ValType::I64,
            KWO_VAL_F32 => ValType::F32,
            KWO_VAL_F64 => ValType::F64,
            KWO_VAL_FUNCREF => ValType::FuncRef,
            KWO_VAL_EXTERNREF => ValType::ExternRef,
            _ => return None,
        })
    }

    pub fn is_ref(self) -> bool {
        matches!(self, ValType::FuncRef | ValType::ExternRef)
    }

    /// The Wasm text name ("i32", "funcref").
    pub fn name(self) -> &'static str {
        match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncSig {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
    /// Canonical signature id compared by `call_indirect`.
    pub sig_id: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// `KWO_HOST_WASI_*` id.
    pub host_id: u32,
    pub type_index: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Func {
    pub type_index: u32,
    /// Offset of the entry (landing pad) in the code.
    pub code_off: u32,
    pub code_len: u32,
    pub name: Option<String>,
    /// Offset of the body in the `.wasm`.
    pub wasm_off: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub elem_type: ValType,
    pub min: u32,
    pub max: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    pub min_pages: u32,
    pub max_pages: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalInit {
    /// Raw bits (f32 in the low 32 bits).
    Value(u64),
    RefFunc(u32),
    RefNull,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    pub ty: ValType,
    pub mutable: bool,
    pub init: GlobalInit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Func,
    Table,
    Memory,
    Global,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub kind: ExportKind,
    pub index: u32,
    pub name: String,
    /// Functions: offset of the array-call trampoline in the code.
    pub tramp: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentMode {
    Passive,
    Active { index: u32, offset: u32 },
    Declarative,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    /// `Active { index: 0, .. }` or `Passive`.
    pub mode: SegmentMode,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elem {
    pub mode: SegmentMode,
    pub elem_type: ValType,
    /// Wasm function indices; `None` is null.
    pub items: Vec<Option<u32>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelocKind {
    /// `KWO_RELOC_X86_CALL32`
    X86Call32,
    /// `KWO_RELOC_ARM64_CALL26`
    Arm64Call26,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reloc {
    pub offset: u32,
    pub kind: RelocKind,
    /// `KWO_HOST_*` id of the target.
    pub host_id: u32,
    pub addend: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrapSite {
    /// Code offset of the return address of the host call.
    pub code_off: u32,
    /// `KWO_TRAP_*`, 0 when the host function decides.
    pub trap_code: u32,
    pub func: u32,
    pub wasm_off: u32,
}

/// One entry of the address map: from `code_off` up to the next entry's
/// `code_off`, the code implements the Wasm instruction at `wasm_off`
/// (`KWO_NONE`: no instruction, e.g. a prologue or a trampoline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrMapEntry {
    pub code_off: u32,
    pub wasm_off: u32,
}

/// A whole `.kwo` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub target: Target,
    /// `KWO_F_*`.
    pub flags: u32,
    /// Largest native frame of any function, in bytes.
    pub max_frame: u32,
    /// Worst-case native stack of any call into the object, in bytes, for
    /// a module without call cycles, whose functions then have no stack
    /// check of their own; 0 for a recursive module (checks in every
    /// function).
    pub stack_bound: u32,
    /// Start function: (wasm function index, trampoline code offset).
    pub start: Option<(u32, u32)>,
    pub code: Vec<u8>,
    pub types: Vec<FuncSig>,
    pub imports: Vec<Import>,
    pub funcs: Vec<Func>,
    pub tables: Vec<Table>,
    pub memory: Option<Memory>,
    pub globals: Vec<Global>,
    pub exports: Vec<Export>,
    pub data: Vec<Data>,
    pub elems: Vec<Elem>,
    pub relocs: Vec<Reloc>,
    /// Sorted by `code_off`.
    pub traps: Vec<TrapSite>,
    /// The LINES section's bytes, empty when there is none: debug data
    /// the readers keep without interpreting; [`lines::LineTable::decode`]
    /// validates and decodes it.
    pub lines: Vec<u8>,
    /// Sorted by `code_off`, strictly increasing; empty in objects built
    /// before the section existed.
    pub addr_map: Vec<AddrMapEntry>,
}

impl Object {
    /// The Wasm offset of the instruction whose code holds CODE offset
    /// `code_off` (for a return address, look up `ret - 1`), or `None`.
    pub fn wasm_offset_at(&self, code_off: u32) -> Option<u32> {
        let next = self.addr_map.partition_point(|e| e.code_off <= code_off);
        let entry = self.addr_map[..next].last()?;
        (entry.wasm_off != consts::KWO_NONE).then_some(entry.wasm_off)
    }
}
