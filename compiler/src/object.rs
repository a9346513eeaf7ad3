//! Assembles the `.kwo` object model from the verified module and the linked
//! code. Constant expressions were folded by the verifier, so globals and
//! segment offsets are plain values here.

use kwo_format::{
    Data, Elem, Export, ExportKind, Func, FuncSig, Global, GlobalInit, Import, Memory, Object,
    SegmentMode, Table, Target, ValType, KWO_F_RESERVED_MEMORY, KWO_F_UNCHECKED, KWO_F_X86_BMI,
};
use kwo_verifier::module::{self as v, ConstValue, VerifiedModule};
use wasmparser::{RefType, ValType as WasmValType};

use crate::link::Linked;
use crate::Options;

fn val_type(t: WasmValType) -> ValType {
    match t {
        WasmValType::I32 => ValType::I32,
        WasmValType::I64 => ValType::I64,
        WasmValType::F32 => ValType::F32,
        WasmValType::F64 => ValType::F64,
        WasmValType::Ref(r) => ref_type(r),
        // The verifier rejects SIMD.
        WasmValType::V128 => unreachable!("v128 in a verified module"),
    }
}

fn ref_type(r: RefType) -> ValType {
    if r.is_func_ref() {
        ValType::FuncRef
    } else {
        ValType::ExternRef
    }
}

fn mode(m: v::SegmentMode) -> SegmentMode {
    match m {
        v::SegmentMode::Passive => SegmentMode::Passive,
        v::SegmentMode::Active { index, offset } => SegmentMode::Active { index, offset },
        v::SegmentMode::Declarative => SegmentMode::Declarative,
    }
}

fn global_init(c: ConstValue) -> GlobalInit {
    match c {
        ConstValue::I32(x) => GlobalInit::Value(u64::from(x as u32)),
        ConstValue::I64(x) => GlobalInit::Value(x as u64),
        ConstValue::F32(bits) => GlobalInit::Value(u64::from(bits)),
        ConstValue::F64(bits) => GlobalInit::Value(bits),
        ConstValue::RefNull => GlobalInit::RefNull,
        ConstValue::RefFunc(f) => GlobalInit::RefFunc(f),
    }
}

pub fn build(module: &VerifiedModule, opts: &Options, linked: Linked) -> Object {
    let target = opts.target;
    // The FP flag, largest frame and stack bound come from the machine-code
    // checker (`crate::apply_check`).
    let mut flags = 0;
    if !opts.checks.all_on() {
        flags |= KWO_F_UNCHECKED;
    }
    // The code keeps the memory base across calls and leaves the Spectre
    // select out of accesses (translate::bounds): only runtimes that give
    // memories a reservation whose base never moves may run it.
    if module.memory.is_some() {
        flags |= KWO_F_RESERVED_MEMORY;
    }
    // Instructions beyond x86-64-v2: the runtime checks the CPU has them.
    if opts.x86_bmi && target == Target::X86_64 {
        flags |= KWO_F_X86_BMI;
    }
    let imported = module.num_imported_funcs();
    let types = module
        .types
        .iter()
        .zip(&linked.sig_ids)
        .map(|(t, id)| FuncSig {
            params: t.params().iter().map(|p| val_type(*p)).collect(),
            results: t.results().iter().map(|p| val_type(*p)).collect(),
            sig_id: *id,
        })
        .collect();
    let funcs = linked
        .funcs
        .iter()
        .enumerate()
        .map(|(i, placed)| {
            let index = imported + i as u32;
            Func {
                type_index: module.funcs[i],
                code_off: placed.entry,
                code_len: placed.len,
                name: module.func_name(index).map(str::to_owned),
                wasm_off: module.bodies[i].range.start as u32,
            }
        })
        .collect();
    let exports = module
        .exports
        .iter()
        .map(|e| Export {
            kind: match e.kind {
                v::ExportKind::Func => ExportKind::Func,
                v::ExportKind::Table => ExportKind::Table,
                v::ExportKind::Memory => ExportKind::Memory,
                v::ExportKind::Global => ExportKind::Global,
            },
            index: e.index,
            name: e.name.clone(),
            tramp: match e.kind {
                v::ExportKind::Func => linked.trampolines.get(&e.index).copied(),
                _ => None,
            },
        })
        .collect();
    Object {
        target,
        flags,
        max_frame: 0,
        stack_bound: 0,
        start: module
            .start
            .and_then(|s| linked.trampolines.get(&s).map(|t| (s, *t))),
        types,
        imports: module
            .imports
            .iter()
            .map(|i| Import { host_id: i.host_id, type_index: i.type_index })
            .collect(),
        funcs,
        tables: module
            .tables
            .iter()
            .map(|t| Table { elem_type: ref_type(t.elem), min: t.min, max: t.max })
            .collect(),
        memory: module.memory.map(|m| Memory { min_pages: m.min, max_pages: m.max }),
        globals: module
            .globals
            .iter()
            .map(|g| Global { ty: val_type(g.ty), mutable: g.mutable, init: global_init(g.init) })
            .collect(),
        exports,
        data: module
            .data
            .iter()
            .map(|d| Data { mode: mode(d.mode), bytes: module.wasm[d.range.clone()].to_vec() })
            .collect(),
        elems: module
            .elems
            .iter()
            .map(|e| Elem { mode: mode(e.mode), elem_type: ref_type(e.elem), items: e.items.clone() })
            .collect(),
        relocs: linked.relocs,
        traps: linked.traps,
        addr_map: linked.addr_map,
        code: linked.code,
        // The CLI adds the line table from the module's DWARF (kwo-debuginfo).
        lines: Vec::new(),
    }
}
