//! The environment of a function being translated: how the vmctx, globals,
//! tables and function references are reached, how host functions are
//! called, and how traps are raised. Every runtime choice that generated code
//! depends on is made here, in one place.

use cranelift_codegen::ir::{
    self, condcodes::IntCC, types, AbiParam, ArgumentPurpose, Block, ExtFuncData, ExternalName,
    FuncRef, InstBuilder, MemFlagsData, SigRef, Signature, SourceLoc, Type, UserExternalName, Value,
};
use cranelift_codegen::isa::CallConv;
use std::collections::HashMap;
use wasmparser::ValType;

use super::FuncTranslator;
use crate::abi::{self, Builtin, HostArg, Trap};

/// Namespace of `UserExternalName`s that are wasm functions of this module.
pub const NS_WASM_FUNC: u32 = 0;
/// Namespace of `UserExternalName`s that are host functions (`KWO_HOST_*`).
pub const NS_HOST: u32 = 1;
/// Source locations with this bit mark host-call sites; the rest of the value
/// indexes `FuncTranslator::sites`. Every other instruction's source
/// location is its Wasm byte offset (`wasm_srcloc`), which the object's
/// address map records.
pub const SITE_SRCLOC_BIT: u32 = 1 << 31;

/// The source location of code for the Wasm instruction at `wasm_off`
/// (`.wasm` files are far below 2 GiB, so the site bit stays clear).
pub fn wasm_srcloc(wasm_off: u32) -> SourceLoc {
    SourceLoc::new(wasm_off & !SITE_SRCLOC_BIT)
}

/// A host call that may not return normally: its return address identifies
/// it in the object's trap-site table.
#[derive(Debug, Clone, Copy)]
pub struct CallSite {
    /// `KWO_TRAP_*`, or 0 when the host function decides.
    pub trap_code: u32,
    pub wasm_off: u32,
}

/// Cranelift type of a wasm value type (references are pointer-sized).
pub fn ir_type(ty: ValType) -> Type {
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::Ref(_) | ValType::V128 => types::I64,
    }
}

/// The native signature of a wasm function type: vmctx first.
pub fn wasm_signature(call_conv: CallConv, ty: &wasmparser::FuncType) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params.extend(ty.params().iter().map(|t| AbiParam::new(ir_type(*t))));
    sig.returns.extend(ty.results().iter().map(|t| AbiParam::new(ir_type(*t))));
    sig
}

/// Disjoint kinds of memory generated code touches. Tagging accesses with
/// them lets Cranelift keep the memory base and bound in registers across
/// wasm stores, and table loads across global stores.
#[derive(Debug, Clone, Copy)]
pub enum Region {
    /// Linear memory.
    Heap,
    /// Mutable vmctx fields and table descriptors (written only by host calls).
    Vmctx,
    /// Table elements.
    Table,
    /// Global slots.
    Global,
}

const REGIONS: [(Region, &str); 4] = [
    (Region::Heap, "heap"),
    (Region::Vmctx, "vmctx"),
    (Region::Table, "table elements"),
    (Region::Global, "globals"),
];

/// The function's alias regions, indexed by `Region as usize`.
pub fn declare_regions(func: &mut ir::Function) -> [ir::AliasRegion; 4] {
    REGIONS.map(|(r, name)| {
        func.dfg.alias_regions.insert(ir::AliasRegionData {
            user_id: r as u32,
            description: name.into(),
        })
    })
}

/// Flags for vmctx fields that never change while code runs: loads may be
/// shared and hoisted out of loops.
fn fixed_flags() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// Flags for the fields of a funcref record: fixed, but only valid after the
/// null check, so not movable.
fn funcref_flags() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly()
}

/// Per-function caches of imported functions and signatures.
#[derive(Default)]
pub struct Imports {
    host: HashMap<u32, FuncRef>,
    wasm: HashMap<u32, FuncRef>,
    sigs: HashMap<u32, SigRef>,
}

impl FuncTranslator<'_, '_> {
    /// Flags for an access to runtime data in `region` (never faults: the
    /// runtime keeps it mapped).
    pub fn flags(&self, region: Region) -> MemFlagsData {
        MemFlagsData::trusted().with_alias_region(Some(self.regions[region as usize]))
    }

    /// Loads a 64-bit vmctx field that host calls may change.
    pub fn vmctx_load(&mut self, offset: i32) -> Value {
        let (vmctx, flags) = (self.vmctx, self.flags(Region::Vmctx));
        self.b.ins().load(types::I64, flags, vmctx, offset)
    }

    /// Loads a 64-bit vmctx field that is fixed for the whole call.
    pub fn vmctx_fixed(&mut self, offset: i32) -> Value {
        let vmctx = self.vmctx;
        self.b.ins().load(types::I64, fixed_flags(), vmctx, offset)
    }

    /// Calls host function `host_id` with the vmctx and `args`, recording a
    /// trap site for it when `site` is given.
    pub fn call_host(
        &mut self,
        host_id: u32,
        params: &[Type],
        result: Option<Type>,
        args: &[Value],
        site: Option<u32>,
    ) -> Option<Value> {
        let func_ref = self.host_func_ref(host_id, params, result);
        let mut call_args = Vec::with_capacity(args.len() + 1);
        call_args.push(self.vmctx);
        call_args.extend_from_slice(args);
        if let Some(code) = site {
            let index = self.sites.len() as u32;
            self.sites.push(CallSite { trap_code: code, wasm_off: self.wasm_off });
            self.b.set_srcloc(SourceLoc::new(SITE_SRCLOC_BIT | index));
        }
        let call = self.b.ins().call(func_ref, &call_args);
        self.b.set_srcloc(wasm_srcloc(self.wasm_off));
        let result = result.map(|_| self.b.inst_results(call)[0]);
        // Only these two leave the memory alone: trap never returns, and
        // yield only lets the scheduler run.
        if host_id != abi::host::TRAP && host_id != abi::host::YIELD {
            self.reload_bound();
        }
        result
    }

    /// Calls a builtin; every builtin call is a possible trap site.
    pub fn call_builtin(&mut self, builtin: Builtin, args: &[Value]) -> Option<Value> {
        let (params, has_result) = builtin.signature();
        let params: Vec<Type> = params
            .iter()
            .map(|p| match p {
                HostArg::I32 => types::I32,
                HostArg::I64 => types::I64,
            })
            .collect();
        let result = has_result.then_some(types::I32);
        // Site code 0: the host function decides whether and how it traps.
        self.call_host(builtin.host_id(), &params, result, args, Some(0))
    }

    fn host_func_ref(&mut self, host_id: u32, params: &[Type], result: Option<Type>) -> FuncRef {
        if let Some(r) = self.imports.host.get(&host_id) {
            return *r;
        }
        // YIELD sits in every loop: with preserve_all its (cold) call
        // clobbers nothing, so values stay in registers across it; the
        // runtime's shim saves what its C code may clobber.
        let call_conv = if host_id == abi::host::YIELD {
            CallConv::PreserveAll
        } else {
            self.env.call_conv
        };
        let mut sig = Signature::new(call_conv);
        sig.params.push(AbiParam::new(types::I64));
        sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        sig.returns.extend(result.map(AbiParam::new));
        let r = self.import_func(NS_HOST, host_id, sig);
        self.imports.host.insert(host_id, r);
        r
    }

    fn import_func(&mut self, namespace: u32, index: u32, sig: Signature) -> FuncRef {
        let signature = self.b.import_signature(sig);
        let name = self
            .b
            .func
            .declare_imported_user_function(UserExternalName::new(namespace, index));
        self.b.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        })
    }

    /// The callee for a direct call to wasm function `index`: an imported
    /// function is its host function, called with the same convention.
    pub fn wasm_func_ref(&mut self, index: u32) -> FuncRef {
        if let Some(r) = self.imports.wasm.get(&index) {
            return *r;
        }
        let module = self.env.module;
        let sig = wasm_signature(self.env.call_conv, module.func_type(index));
        let r = if index < module.num_imported_funcs() {
            let host_id = module.imports[index as usize].host_id;
            self.import_func(NS_HOST, host_id, sig)
        } else {
            self.import_func(NS_WASM_FUNC, index, sig)
        };
        self.imports.wasm.insert(index, r);
        r
    }

    pub fn sig_ref(&mut self, type_index: u32) -> SigRef {
        if let Some(r) = self.imports.sigs.get(&type_index) {
            return *r;
        }
        let ty = &self.env.module.types[type_index as usize];
        let r = self.b.import_signature(wasm_signature(self.env.call_conv, ty));
        self.imports.sigs.insert(type_index, r);
        r
    }

    /// Branches to a cold block that raises `trap` when `cond` is non-zero.
    pub fn trap_if(&mut self, cond: Value, trap: Trap) {
        let trap_block = self.b.create_block();
        let cont = self.b.create_block();
        self.branch_to_trap(cond, trap, trap_block, cont);
    }

    /// Raises `trap` in `trap_block`, made cold, when `cond` is non-zero;
    /// otherwise goes on in `next`, which it seals and switches to.
    pub fn branch_to_trap(&mut self, cond: Value, trap: Trap, trap_block: Block, next: Block) {
        self.b.set_cold_block(trap_block);
        self.b.ins().brif(cond, trap_block, &[], next, &[]);
        self.b.seal_block(trap_block);
        self.b.switch_to_block(trap_block);
        self.trap_now(trap);
        self.b.switch_to_block(next);
        self.b.seal_block(next);
    }

    /// Raises `trap` here: a call to the host trap function, which unwinds
    /// to the entry stub. The block is terminated by a jump to a return that
    /// is never reached (not by a `trap`, whose ud2 could fault).
    pub fn trap_now(&mut self, trap: Trap) {
        let code = self.b.ins().iconst(types::I32, trap as i64);
        self.call_host(abi::host::TRAP, &[types::I32], None, &[code], Some(trap as u32));
        let dead = self.dead_return_block();
        self.b.ins().jump(dead, &[]);
    }

    fn dead_return_block(&mut self) -> Block {
        if let Some(b) = self.dead_ret {
            return b;
        }
        let b = self.b.create_block();
        self.b.set_cold_block(b);
        self.dead_ret = Some(b);
        b
    }

    /// Fills the never-reached return block, if any trap used it.
    pub fn finish_dead_return(&mut self) {
        if let Some(block) = self.dead_ret {
            self.b.switch_to_block(block);
            self.b.seal_block(block);
            let zeros: Vec<Value> = self
                .results
                .clone()
                .iter()
                .map(|t| self.zero(*t))
                .collect();
            self.b.ins().return_(&zeros);
        }
    }

    pub fn zero(&mut self, ty: Type) -> Value {
        match ty {
            types::F32 => self.b.ins().f32const(0.0),
            types::F64 => self.b.ins().f64const(0.0),
            _ => self.b.ins().iconst(ty, 0),
        }
    }

    /// The preemption checkpoint at function entries and loop headers:
    /// compare the epoch with the deadline and call the host yield function
    /// (cold) once it is reached. The epoch changes behind the code's back,
    /// so it is read with an atomic load, which the optimizer never merges.
    /// Fuel is counted by the host: with a fuel budget the runtime keeps the
    /// deadline at 0, so every checkpoint yields.
    pub fn checkpoint(&mut self) {
        if !self.env.checks.checkpoints {
            return;
        }
        let epoch_ptr = self.vmctx_fixed(abi::VMCTX_EPOCH_PTR);
        let epoch = self
            .b
            .ins()
            .atomic_load(types::I64, MemFlagsData::trusted(), epoch_ptr);
        let deadline = self.vmctx_load(abi::VMCTX_EPOCH_DEADLINE);
        let expired = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
        let slow = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(slow);
        self.b.ins().brif(expired, slow, &[], cont, &[]);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        self.call_builtin(Builtin::Yield, &[]);
        self.b.ins().jump(cont, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// Traps with "call stack exhausted" when the stack pointer is below the
    /// limit the runtime set for this call (it includes room for the largest
    /// frame, so the frame just allocated is still in bounds). Not needed in
    /// a module whose stack use is bounded statically, nor in a function
    /// that calls no Wasm function: its caller's check left room for its
    /// frame and for a host call from it.
    pub fn stack_check(&mut self) {
        let leaf = self.env.module.call_graph.is_leaf(self.defined);
        if !self.env.checks.stack || self.env.static_stack || leaf {
            return;
        }
        let sp = self.b.ins().get_stack_pointer(types::I64);
        let limit = self.vmctx_fixed(abi::VMCTX_STACK_LIMIT);
        let low = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        self.trap_if(low, Trap::StackExhausted);
    }

    /// Address of the u64 slot of global `index`.
    fn global_addr(&mut self, index: u32) -> (Value, i32) {
        let globals = self.vmctx_fixed(abi::VMCTX_GLOBALS);
        (globals, (index as i32) * 8)
    }

    pub fn global_get(&mut self, index: u32) -> Value {
        let ty = ir_type(self.env.module.globals[index as usize].ty);
        let (base, off) = self.global_addr(index);
        let flags = self.flags(Region::Global);
        self.b.ins().load(ty, flags, base, off)
    }

    pub fn global_set(&mut self, index: u32, value: Value) {
        let (base, off) = self.global_addr(index);
        let flags = self.flags(Region::Global);
        self.b.ins().store(flags, value, base, off);
    }

    /// The funcref of wasm function `index` (a pointer into the vmctx's
    /// funcref array).
    pub fn ref_func(&mut self, index: u32) -> Value {
        let funcrefs = self.vmctx_fixed(abi::VMCTX_FUNCREFS);
        self.b.ins().iadd_imm_s(funcrefs, i64::from(index) * abi::FUNCREF_SIZE)
    }

    /// (base, len) of table `table`. A table whose declared maximum is its
    /// minimum can never grow, so the runtime never moves or resizes it
    /// (`host_table_grow` fails, or returns early for a delta of 0): its
    /// length is a constant and its base is fixed for the whole call.
    fn table_bounds(&mut self, table: u32) -> (Value, Value) {
        let tables = self.vmctx_fixed(abi::VMCTX_TABLES);
        let off = table as i32 * abi::VMTABLE_SIZE;
        let desc = self.env.module.tables[table as usize];
        if desc.max == Some(desc.min) {
            let base = self.b.ins().load(types::I64, fixed_flags(), tables, off + abi::VMTABLE_BASE);
            let len = self.b.ins().iconst(types::I64, i64::from(desc.min));
            return (base, len);
        }
        let flags = self.flags(Region::Vmctx);
        let base = self.b.ins().load(types::I64, flags, tables, off + abi::VMTABLE_BASE);
        let len = self.b.ins().load(types::I64, flags, tables, off + abi::VMTABLE_LEN);
        (base, len)
    }

    pub fn table_size(&mut self, table: u32) -> Value {
        let (_, len) = self.table_bounds(table);
        self.b.ins().ireduce(types::I32, len)
    }

    /// Address of element `index` of `table`, trapping with `trap` when out
    /// of bounds; masked so that even a mispredicted check reads the base.
    pub fn table_elem_addr(&mut self, table: u32, index: Value, trap: Trap) -> Value {
        let (base, len) = self.table_bounds(table);
        let index = self.b.ins().uextend(types::I64, index);
        let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.trap_if(oob, trap);
        let scaled = self.b.ins().ishl_imm_s(index, 3);
        let addr = self.b.ins().iadd(base, scaled);
        self.spectre_guard(oob, base, addr)
    }

    /// `addr`, or `safe` when `oob` holds, even under misspeculation.
    pub fn spectre_guard(&mut self, oob: Value, safe: Value, addr: Value) -> Value {
        if self.env.checks.spectre {
            self.b.ins().select_spectre_guard(oob, safe, addr)
        } else {
            addr
        }
    }

    pub fn table_get(&mut self, table: u32, index: Value) -> Value {
        let addr = self.table_elem_addr(table, index, Trap::TableOob);
        let flags = self.flags(Region::Table);
        self.b.ins().load(types::I64, flags, addr, 0)
    }

    pub fn table_set(&mut self, table: u32, index: Value, value: Value) {
        let addr = self.table_elem_addr(table, index, Trap::TableOob);
        let flags = self.flags(Region::Table);
        self.b.ins().store(flags, value, addr, 0);
    }

    /// `call_indirect`: bounds, null and signature checks, then an indirect
    /// call of the funcref's code with this vmctx.
    pub fn call_indirect(&mut self, type_index: u32, table: u32, index: Value, args: &[Value]) -> ir::Inst {
        let addr = self.table_elem_addr(table, index, Trap::UndefinedElement);
        let flags = self.flags(Region::Table);
        let funcref = self.b.ins().load(types::I64, flags, addr, 0);
        let null = self.b.ins().icmp_imm_s(IntCC::Equal, funcref, 0);
        self.trap_if(null, Trap::UninitializedElement);
        let sig_id = self
            .b
            .ins()
            .load(types::I32, funcref_flags(), funcref, abi::FUNCREF_SIG_ID);
        let expected = self.env.sig_ids[type_index as usize];
        let mismatch = self.b.ins().icmp_imm_s(IntCC::NotEqual, sig_id, i64::from(expected));
        self.trap_if(mismatch, Trap::SignatureMismatch);
        let code = self.b.ins().load(types::I64, funcref_flags(), funcref, abi::FUNCREF_CODE);
        let sig = self.sig_ref(type_index);
        let mut call_args = Vec::with_capacity(args.len() + 1);
        call_args.push(self.vmctx);
        call_args.extend_from_slice(args);
        self.b.ins().call_indirect(sig, code, &call_args)
    }
}
