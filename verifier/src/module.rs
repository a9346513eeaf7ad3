//! The verified module: everything the compiler needs, with constant
//! expressions already folded. Produced only by [`crate::verify`], so holding
//! one means the module passed validation and the policy.

use crate::analysis::{AccessCounts, CallGraph, Checkpoints, FuncAccesses, FuncGroups};
use std::ops::Range;
use wasmparser::{FuncType, RefType, ValType};

/// A Wasm module that passed validation and the kernel policy.
#[derive(Debug, Clone)]
pub struct VerifiedModule {
    /// The original `.wasm` bytes; function bodies and data are ranges into it.
    pub wasm: Vec<u8>,
    /// Function types, indexed by type index.
    pub types: Vec<FuncType>,
    /// Imported functions; they come first in the function index space.
    pub imports: Vec<ImportedFunc>,
    /// Type index of every function defined in the module, in index order.
    pub funcs: Vec<u32>,
    /// Bodies of the defined functions (parallel to `funcs`).
    pub bodies: Vec<FuncBody>,
    pub tables: Vec<TableDesc>,
    pub memory: Option<MemoryDesc>,
    pub globals: Vec<GlobalDesc>,
    pub exports: Vec<Export>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment>,
    pub data: Vec<DataSegment>,
    /// Function names from the name section, by wasm function index.
    pub func_names: Vec<(u32, String)>,
    /// Who calls whom; whether the module is recursive.
    pub call_graph: CallGraph,
    /// Which function entries and loop headers need a preemption
    /// checkpoint.
    pub checkpoints: Checkpoints,
    /// Which loads and stores the range analysis proved inside the minimum
    /// memory, per defined function (parallel to `funcs`).
    pub accesses: Vec<FuncAccesses>,
    /// Loads through one unchanged pointer that one compare can check,
    /// per defined function (parallel to `funcs`).
    pub access_groups: Vec<FuncGroups>,
}

/// An import of a host function from the WASI table.
#[derive(Debug, Clone)]
pub struct ImportedFunc {
    pub module: String,
    pub name: String,
    pub type_index: u32,
    /// `KWO_HOST_WASI_*` id from the policy's import table.
    pub host_id: u32,
}

/// Where a defined function's body lives in [`VerifiedModule::wasm`].
#[derive(Debug, Clone)]
pub struct FuncBody {
    /// Byte range of the body (locals + code, without the size prefix).
    pub range: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDesc {
    pub elem: RefType,
    pub min: u32,
    pub max: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryDesc {
    /// In 64 KiB pages.
    pub min: u32,
    pub max: Option<u32>,
}

/// A folded constant expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstValue {
    I32(i32),
    I64(i64),
    /// Bit pattern.
    F32(u32),
    /// Bit pattern.
    F64(u64),
    RefNull,
    RefFunc(u32),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlobalDesc {
    pub ty: ValType,
    pub mutable: bool,
    pub init: ConstValue,
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
    pub name: String,
    pub kind: ExportKind,
    pub index: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentMode {
    Passive,
    /// Active segment with its folded destination offset.
    Active {
        index: u32,
        offset: u32,
    },
    Declarative,
}

#[derive(Debug, Clone)]
pub struct ElemSegment {
    pub mode: SegmentMode,
    pub elem: RefType,
    /// Function indices; `None` is a null reference.
    pub items: Vec<Option<u32>>,
}

#[derive(Debug, Clone)]
pub struct DataSegment {
    /// `Active { index: 0, .. }` or `Passive`.
    pub mode: SegmentMode,
    /// Byte range of the contents in [`VerifiedModule::wasm`].
    pub range: Range<usize>,
}

impl VerifiedModule {
    /// Number of imported functions (the first function indices).
    pub fn num_imported_funcs(&self) -> u32 {
        self.imports.len() as u32
    }

    /// Type of any function in the index space.
    pub fn func_type_index(&self, func: u32) -> u32 {
        let imported = self.num_imported_funcs();
        if func < imported {
            self.imports[func as usize].type_index
        } else {
            self.funcs[(func - imported) as usize]
        }
    }

    pub fn func_type(&self, func: u32) -> &FuncType {
        &self.types[self.func_type_index(func) as usize]
    }

    /// Proven and checked memory accesses over the whole module.
    pub fn access_counts(&self) -> AccessCounts {
        AccessCounts::of(&self.accesses)
    }

    /// The name-section name of a function, if any.
    pub fn func_name(&self, func: u32) -> Option<&str> {
        self.func_names
            .binary_search_by_key(&func, |(i, _)| *i)
            .ok()
            .map(|i| self.func_names[i].1.as_str())
    }
}
