//! The Wasm → CLIF translator: the driver (locals, operand stack, control
//! frames, the operator loop). Per-operator lowering that takes more than an
//! instruction lives in `ops`, memory addressing in `bounds` (with the value
//! ranges that let it drop checks in `range`), loops translated twice
//! behind one hoisted check in `hoist`, and everything
//! that touches runtime data structures in `env`.
//!
//! The input is a verified module, so operand types and stack heights are
//! known to be consistent; the translator still never panics on them but
//! reports an internal error.

mod bounds;
mod env;
mod hoist;
mod ops;
mod range;

pub use env::{ir_type, wasm_signature, CallSite, NS_HOST, NS_WASM_FUNC, SITE_SRCLOC_BIT};

use cranelift_codegen::ir::{
    self,
    condcodes::{FloatCC, IntCC},
    types, Block, BlockArg, InstBuilder, Type, UserFuncName, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use kwo_verifier::analysis::{FuncAccesses, FuncGroups, HoistedLoop};
use kwo_verifier::VerifiedModule;
use wasmparser::{BinaryReader, BlockType, FunctionBody, Operator, OperatorsReader, ValType};

use crate::CompileError;
use env::Imports;
use ops::DivOp;

/// Module-wide facts every function translation needs.
pub struct ModuleEnv<'m> {
    pub module: &'m VerifiedModule,
    pub frontend: cranelift_codegen::isa::TargetFrontendConfig,
    pub checks: crate::Checks,
    /// Drop the checks of accesses the verifier proved in bounds.
    pub elide_proven: bool,
    /// No call cycles: the stack is bounded statically (the loader checks
    /// the bound once per call), so functions check nothing themselves.
    pub static_stack: bool,
    /// Canonical signature id of each type index.
    pub sig_ids: Vec<u32>,
    pub call_conv: CallConv,
}

/// A translated function, ready for Cranelift's backend.
pub struct TranslatedFunc {
    pub func: ir::Function,
    /// Host-call sites, indexed by the source location of the call.
    pub sites: Vec<CallSite>,
    /// Number of division/remainder instructions behind our guards.
    pub guarded_divs: u32,
}

enum FrameKind {
    Block,
    /// `more_copies`: a copy of a versioned loop (`hoist`) other than the
    /// last, whose `end` leaves `dest` to the next one.
    Loop { header: Block, more_copies: bool },
    If { else_block: Block, else_seen: bool },
}

struct Frame {
    kind: FrameKind,
    /// Where `end` (and branches, except for loops) continue.
    dest: Block,
    params: Vec<Type>,
    results: Vec<Type>,
    /// Operand stack height below the frame's parameters.
    height: usize,
    /// Whether anything reaches `dest`.
    dest_reachable: bool,
}

impl Frame {
    /// Types carried by a branch to this frame.
    fn branch_types(&self) -> &[Type] {
        match self.kind {
            FrameKind::Loop { .. } => &self.params,
            _ => &self.results,
        }
    }
}

pub struct FuncTranslator<'a, 'b> {
    env: &'a ModuleEnv<'a>,
    /// Index of the function among the defined ones.
    defined: usize,
    b: FunctionBuilder<'b>,
    vmctx: Value,
    locals: Vec<(Variable, Type)>,
    stack: Vec<Value>,
    control: Vec<Frame>,
    reachable: bool,
    /// Depth of blocks opened while unreachable (skipped entirely).
    skipped_depth: u32,
    results: Vec<Type>,
    dead_ret: Option<Block>,
    imports: Imports,
    sites: Vec<CallSite>,
    guarded_divs: u32,
    wasm_off: u32,
    regions: [ir::AliasRegion; 4],
    heap: Option<bounds::Heap>,
    /// The verifier's proofs for this function's loads and stores.
    proofs: Option<&'a FuncAccesses>,
    /// The verifier's groups of loads one compare can check (with the
    /// proofs: both are off without `elide_proven`).
    groups: Option<&'a FuncGroups>,
    /// While translating the unchecked copy of a versioned loop: its
    /// hoisted check, whose accesses need none of their own.
    unchecked_loop: Option<&'a HoistedLoop>,
    /// Whether the copy just translated falls through its end.
    copy_reaches_dest: bool,
    /// While translating a copy of a versioned loop other than the last.
    in_copy: bool,
}

fn internal(off: usize, what: &str) -> CompileError {
    CompileError::at(off, format!("internal error: {what}"))
}

/// Translates defined function `index` (in the wasm function index space).
pub fn translate_function(env: &ModuleEnv<'_>, index: u32) -> Result<TranslatedFunc, CompileError> {
    let module = env.module;
    let defined = (index - module.num_imported_funcs()) as usize;
    let range = module.bodies[defined].range.clone();
    let body = FunctionBody::new(BinaryReader::new(&module.wasm[range.clone()], range.start));
    let ty = module.func_type(index);
    let sig = wasm_signature(env.call_conv, ty);
    let mut func = ir::Function::with_name_signature(UserFuncName::user(NS_WASM_FUNC, index), sig);
    let regions = env::declare_regions(&mut func);
    let mut ctx = FunctionBuilderContext::new();
    let b = FunctionBuilder::new(&mut func, &mut ctx);
    let results: Vec<Type> = ty.results().iter().map(|t| ir_type(*t)).collect();
    let mut t = FuncTranslator {
        env,
        defined,
        b,
        vmctx: Value::from_u32(0),
        locals: Vec::new(),
        stack: Vec::new(),
        control: Vec::new(),
        reachable: true,
        skipped_depth: 0,
        results: results.clone(),
        dead_ret: None,
        imports: Imports::default(),
        sites: Vec::new(),
        guarded_divs: 0,
        wasm_off: range.start as u32,
        regions,
        heap: None,
        proofs: module.accesses.get(defined).filter(|_| env.elide_proven),
        groups: module.access_groups.get(defined).filter(|_| env.elide_proven),
        unchecked_loop: None,
        copy_reaches_dest: false,
        in_copy: false,
    };
    t.translate_body(&body, ty.params(), results)?;
    let FuncTranslator { b, sites, guarded_divs, .. } = t;
    b.finalize(env.frontend);
    Ok(TranslatedFunc { func, sites, guarded_divs })
}

impl<'a> FuncTranslator<'a, '_> {
    fn translate_body(
        &mut self,
        body: &FunctionBody<'_>,
        params: &[ValType],
        results: Vec<Type>,
    ) -> Result<(), CompileError> {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        self.b.seal_block(entry);
        // The prologue's checks belong to the function's first byte.
        self.b.set_srcloc(env::wasm_srcloc(self.wasm_off));
        let block_params = self.b.block_params(entry).to_vec();
        self.vmctx = block_params[0];
        for (i, ty) in params.iter().enumerate() {
            let t = ir_type(*ty);
            let var = self.b.declare_var(t);
            self.b.def_var(var, block_params[i + 1]);
            self.locals.push((var, t));
        }
        let mut locals = body.get_locals_reader().map_err(|e| CompileError::wasm(&e))?;
        for _ in 0..locals.get_count() {
            let (count, ty) = locals.read().map_err(|e| CompileError::wasm(&e))?;
            let t = ir_type(ty);
            for _ in 0..count {
                let var = self.b.declare_var(t);
                let zero = self.zero(t);
                self.b.def_var(var, zero);
                self.locals.push((var, t));
            }
        }
        self.stack_check();
        self.declare_heap();
        if self.env.module.checkpoints.at_entry(self.defined) {
            self.checkpoint();
        }

        let ret = self.b.create_block();
        for t in &results {
            self.b.append_block_param(ret, *t);
        }
        self.control.push(Frame {
            kind: FrameKind::Block,
            dest: ret,
            params: Vec::new(),
            results,
            height: 0,
            dest_reachable: false,
        });
        let mut reader = body.get_operators_reader().map_err(|e| CompileError::wasm(&e))?;
        while !self.control.is_empty() {
            self.translate_next(&mut reader)?;
        }
        // The function's own frame has ended; when reachable, the builder is
        // in its dest, the return block.
        if self.reachable {
            let values = self.b.block_params(ret).to_vec();
            self.b.ins().return_(&values);
        }
        self.finish_dead_return();
        self.b.seal_all_blocks();
        self.drop_unused_heap_loads();
        Ok(())
    }

    /// Translates the next operator (a hoistable loop: both its copies).
    fn translate_next(&mut self, reader: &mut OperatorsReader<'_>) -> Result<(), CompileError> {
        let (op, off) = reader.read_with_offset().map_err(|e| CompileError::wasm(&e))?;
        self.wasm_off = off as u32;
        self.b.set_srcloc(env::wasm_srcloc(self.wasm_off));
        let depth = self.control.len();
        if self.reachable && matches!(op, Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. }) {
            // The bounds checks made so far dominate the whole frame and
            // the code after its end.
            self.save_checks(depth);
        }
        self.translate_or_skip(&op, off, reader)?;
        // Join points: the else arm and the code after an end are not
        // dominated by the checks of the code just translated, only by
        // those made before the frame.
        match op {
            Operator::Else => self.restore_checks(depth.saturating_sub(1), true),
            Operator::End if self.control.len() < depth => self.restore_checks(self.control.len(), false),
            _ => {}
        }
        Ok(())
    }

    /// Translates `op`, or skips it in unreachable code.
    fn translate_or_skip(
        &mut self,
        op: &Operator<'_>,
        off: usize,
        reader: &mut OperatorsReader<'_>,
    ) -> Result<(), CompileError> {
        if !self.reachable {
            return self.skip_op(op, off);
        }
        if let Operator::Loop { blockty } = *op {
            return self.enter_loop(blockty, off, reader);
        }
        self.translate_op(op, off)
    }

    fn pop(&mut self, off: usize) -> Result<Value, CompileError> {
        self.stack.pop().ok_or_else(|| internal(off, "operand stack underflow"))
    }

    fn pop2(&mut self, off: usize) -> Result<(Value, Value), CompileError> {
        let b = self.pop(off)?;
        let a = self.pop(off)?;
        Ok((a, b))
    }

    fn pop3(&mut self, off: usize) -> Result<(Value, Value, Value), CompileError> {
        let c = self.pop(off)?;
        let (a, b) = self.pop2(off)?;
        Ok((a, b, c))
    }

    fn popn(&mut self, n: usize, off: usize) -> Result<Vec<Value>, CompileError> {
        if self.stack.len() < n {
            return Err(internal(off, "operand stack underflow"));
        }
        Ok(self.stack.split_off(self.stack.len() - n))
    }

    fn peekn(&self, n: usize, off: usize) -> Result<&[Value], CompileError> {
        if self.stack.len() < n {
            return Err(internal(off, "operand stack underflow"));
        }
        Ok(&self.stack[self.stack.len() - n..])
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn unop(&mut self, off: usize, f: impl FnOnce(&mut Self, Value) -> Value) -> Result<(), CompileError> {
        let a = self.pop(off)?;
        let r = f(self, a);
        self.push(r);
        Ok(())
    }

    fn binop(
        &mut self,
        off: usize,
        f: impl FnOnce(&mut Self, Value, Value) -> Value,
    ) -> Result<(), CompileError> {
        let (a, b) = self.pop2(off)?;
        let r = f(self, a, b);
        self.push(r);
        Ok(())
    }

    fn block_types(&self, bt: BlockType) -> (Vec<Type>, Vec<Type>) {
        match bt {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (Vec::new(), vec![ir_type(t)]),
            BlockType::FuncType(i) => {
                let ty = &self.env.module.types[i as usize];
                (
                    ty.params().iter().map(|t| ir_type(*t)).collect(),
                    ty.results().iter().map(|t| ir_type(*t)).collect(),
                )
            }
        }
    }

    fn new_block_with(&mut self, types: &[Type]) -> Block {
        let block = self.b.create_block();
        for t in types {
            self.b.append_block_param(block, *t);
        }
        block
    }

    fn frame_at(&mut self, depth: u32, off: usize) -> Result<&mut Frame, CompileError> {
        let n = self.control.len();
        let i = n
            .checked_sub(1 + depth as usize)
            .ok_or_else(|| internal(off, "branch depth out of range"))?;
        Ok(&mut self.control[i])
    }

    /// Remembers, for the bounds checks, that a branch to `depth` reaches
    /// the end of a `block` or `if` with the checks made so far (a branch
    /// to a loop goes to its header instead).
    fn note_branch(&mut self, depth: u32) {
        let Some(index) = self.control.len().checked_sub(1 + depth as usize) else { return };
        if !matches!(self.control[index].kind, FrameKind::Loop { .. }) {
            self.note_edge_to_end(index, false);
        }
    }

    /// Target block and argument count of a branch to `depth`; marks the
    /// target reachable.
    fn branch_target(&mut self, depth: u32, off: usize) -> Result<(Block, usize), CompileError> {
        let frame = self.frame_at(depth, off)?;
        let n = frame.branch_types().len();
        let target = match frame.kind {
            FrameKind::Loop { header, .. } => header,
            _ => {
                frame.dest_reachable = true;
                frame.dest
            }
        };
        Ok((target, n))
    }

    fn block_args(values: &[Value]) -> Vec<BlockArg> {
        values.iter().map(|v| BlockArg::Value(*v)).collect()
    }

    fn translate_op(&mut self, op: &Operator<'_>, off: usize) -> Result<(), CompileError> {
        use Operator as O;
        match *op {
            O::Unreachable => {
                self.trap_now(crate::abi::Trap::Unreachable);
                self.reachable = false;
            }
            O::Nop => {}
            O::Block { blockty } => {
                let (params, results) = self.block_types(blockty);
                let dest = self.new_block_with(&results);
                let height = self.stack.len() - params.len();
                self.control.push(Frame {
                    kind: FrameKind::Block,
                    dest,
                    params,
                    results,
                    height,
                    dest_reachable: false,
                });
            }
            O::Loop { .. } => return Err(internal(off, "loops are entered by enter_loop")),
            O::If { blockty } => {
                let cond = self.pop(off)?;
                let (params, results) = self.block_types(blockty);
                let then_block = self.new_block_with(&params);
                let else_block = self.new_block_with(&params);
                let dest = self.new_block_with(&results);
                let args = Self::block_args(self.peekn(params.len(), off)?);
                self.b.ins().brif(cond, then_block, &args, else_block, &args);
                self.b.seal_block(then_block);
                self.b.seal_block(else_block);
                self.b.switch_to_block(then_block);
                let height = self.stack.len() - params.len();
                self.stack.truncate(height);
                self.stack.extend_from_slice(self.b.block_params(then_block));
                self.control.push(Frame {
                    kind: FrameKind::If { else_block, else_seen: false },
                    dest,
                    params,
                    results,
                    height,
                    dest_reachable: false,
                });
            }
            O::Else => self.op_else(off)?,
            O::End => self.op_end(off)?,
            O::Br { relative_depth } => {
                self.note_branch(relative_depth);
                let (target, n) = self.branch_target(relative_depth, off)?;
                let args = Self::block_args(self.peekn(n, off)?);
                self.b.ins().jump(target, &args);
                self.reachable = false;
            }
            O::BrIf { relative_depth } => {
                let cond = self.pop(off)?;
                self.note_branch(relative_depth);
                let (target, n) = self.branch_target(relative_depth, off)?;
                let args = Self::block_args(self.peekn(n, off)?);
                let cont = self.b.create_block();
                self.b.ins().brif(cond, target, &args, cont, &[]);
                self.b.seal_block(cont);
                self.b.switch_to_block(cont);
            }
            O::BrTable { ref targets } => {
                let index = self.pop(off)?;
                let mut depths = Vec::with_capacity(targets.len() as usize + 1);
                for t in targets.targets() {
                    depths.push(t.map_err(|e| CompileError::wasm(&e))?);
                }
                let default = targets.default();
                self.br_table(index, &depths, default, off)?;
                self.reachable = false;
            }
            O::Return => {
                let n = self.results.len();
                let values = self.popn(n, off)?;
                self.b.ins().return_(&values);
                self.reachable = false;
            }
            O::Call { function_index } => {
                let ty = self.env.module.func_type(function_index);
                let (np, nr) = (ty.params().len(), ty.results().len());
                let args = self.popn(np, off)?;
                let callee = self.wasm_func_ref(function_index);
                let mut call_args = Vec::with_capacity(np + 1);
                call_args.push(self.vmctx);
                call_args.extend_from_slice(&args);
                let call = self.b.ins().call(callee, &call_args);
                let results = self.b.inst_results(call).to_vec();
                debug_assert_eq!(results.len(), nr);
                self.reload_bound();
                self.stack.extend_from_slice(&results);
            }
            O::CallIndirect { type_index, table_index } => {
                let index = self.pop(off)?;
                let np = self.env.module.types[type_index as usize].params().len();
                let args = self.popn(np, off)?;
                let call = self.call_indirect(type_index, table_index, index, &args);
                let results = self.b.inst_results(call).to_vec();
                self.reload_bound();
                self.stack.extend_from_slice(&results);
            }
            O::Drop => {
                self.pop(off)?;
            }
            O::Select | O::TypedSelect { .. } => {
                let (a, b, c) = self.pop3(off)?;
                let r = self.b.ins().select(c, a, b);
                self.push(r);
            }
            O::LocalGet { local_index } => {
                let (var, _) = self.local(local_index, off)?;
                let v = self.b.use_var(var);
                self.push(v);
            }
            O::LocalSet { local_index } => {
                let v = self.pop(off)?;
                let (var, _) = self.local(local_index, off)?;
                self.b.def_var(var, v);
            }
            O::LocalTee { local_index } => {
                let v = *self.peekn(1, off)?.first().ok_or_else(|| internal(off, "tee"))?;
                let (var, _) = self.local(local_index, off)?;
                self.b.def_var(var, v);
            }
            O::GlobalGet { global_index } => {
                let v = self.global_get(global_index);
                self.push(v);
            }
            O::GlobalSet { global_index } => {
                let v = self.pop(off)?;
                self.global_set(global_index, v);
            }
            O::TableGet { table } => {
                let i = self.pop(off)?;
                let v = self.table_get(table, i);
                self.push(v);
            }
            O::TableSet { table } => {
                let (i, v) = self.pop2(off)?;
                self.table_set(table, i, v);
            }
            O::TableSize { table } => {
                let v = self.table_size(table);
                self.push(v);
            }
            O::TableGrow { table } => {
                let (init, delta) = self.pop2(off)?;
                let t = self.b.ins().iconst(types::I32, i64::from(table));
                let r = self.call_builtin(crate::abi::Builtin::TableGrow, &[t, init, delta]);
                self.push(r.ok_or_else(|| internal(off, "table.grow result"))?);
            }
            O::TableFill { table } => {
                let (dst, val, len) = self.pop3(off)?;
                let t = self.b.ins().iconst(types::I32, i64::from(table));
                self.call_builtin(crate::abi::Builtin::TableFill, &[t, dst, val, len]);
            }
            O::TableCopy { dst_table, src_table } => {
                let (dst, src, len) = self.pop3(off)?;
                let d = self.b.ins().iconst(types::I32, i64::from(dst_table));
                let s = self.b.ins().iconst(types::I32, i64::from(src_table));
                self.call_builtin(crate::abi::Builtin::TableCopy, &[d, s, dst, src, len]);
            }
            O::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3(off)?;
                let t = self.b.ins().iconst(types::I32, i64::from(table));
                let e = self.b.ins().iconst(types::I32, i64::from(elem_index));
                self.call_builtin(crate::abi::Builtin::TableInit, &[t, e, dst, src, len]);
            }
            O::ElemDrop { elem_index } => {
                let e = self.b.ins().iconst(types::I32, i64::from(elem_index));
                self.call_builtin(crate::abi::Builtin::ElemDrop, &[e]);
            }
            O::MemorySize { .. } => {
                let v = self.memory_pages();
                self.push(v);
            }
            O::MemoryGrow { .. } => {
                let delta = self.pop(off)?;
                let r = self.call_builtin(crate::abi::Builtin::MemoryGrow, &[delta]);
                self.push(r.ok_or_else(|| internal(off, "memory.grow result"))?);
            }
            O::MemoryFill { .. } => {
                let (dst, val, len) = self.pop3(off)?;
                self.call_builtin(crate::abi::Builtin::MemoryFill, &[dst, val, len]);
            }
            O::MemoryCopy { .. } => {
                let (dst, src, len) = self.pop3(off)?;
                self.call_builtin(crate::abi::Builtin::MemoryCopy, &[dst, src, len]);
            }
            O::MemoryInit { data_index, .. } => {
                let (dst, src, len) = self.pop3(off)?;
                let seg = self.b.ins().iconst(types::I32, i64::from(data_index));
                self.call_builtin(crate::abi::Builtin::MemoryInit, &[seg, dst, src, len]);
            }
            O::DataDrop { data_index } => {
                let seg = self.b.ins().iconst(types::I32, i64::from(data_index));
                self.call_builtin(crate::abi::Builtin::DataDrop, &[seg]);
            }
            O::RefNull { .. } => {
                let v = self.b.ins().iconst(types::I64, 0);
                self.push(v);
            }
            O::RefIsNull => self.unop(off, |t, a| t.eqz(a))?,
            O::RefFunc { function_index } => {
                let v = self.ref_func(function_index);
                self.push(v);
            }
            _ => {
                if !self.translate_memory_op(op, off)? && !self.translate_numeric_op(op, off)? {
                    return Err(CompileError::at(off, format!("unsupported operator {op:?}")));
                }
            }
        }
        Ok(())
    }

    /// Enters a loop continuing at `dest` after its `end`; `more_copies`:
    /// another copy of it follows (`hoist`); `checkpoint`: its header
    /// runs one.
    fn open_loop(
        &mut self,
        blockty: BlockType,
        dest: Block,
        more_copies: bool,
        checkpoint: bool,
        off: usize,
    ) -> Result<(), CompileError> {
        let (params, results) = self.block_types(blockty);
        let header = self.new_block_with(&params);
        let args = self.popn(params.len(), off)?;
        self.b.ins().jump(header, &Self::block_args(&args));
        self.b.switch_to_block(header);
        let height = self.stack.len();
        self.stack.extend_from_slice(self.b.block_params(header));
        self.control.push(Frame {
            kind: FrameKind::Loop { header, more_copies },
            dest,
            params,
            results,
            height,
            dest_reachable: false,
        });
        // Either fact can drop the checkpoint: the loop is short (this
        // copy's `checkpoint`), or every iteration calls a function that
        // keeps its entry checkpoint.
        if checkpoint && self.env.module.checkpoints.at_loop(self.defined, off as u32) {
            self.checkpoint();
        }
        Ok(())
    }

    fn local(&self, index: u32, off: usize) -> Result<(Variable, Type), CompileError> {
        self.locals
            .get(index as usize)
            .copied()
            .ok_or_else(|| internal(off, "local index out of range"))
    }

    /// Skips an operator in unreachable code, tracking only nesting.
    fn skip_op(&mut self, op: &Operator<'_>, off: usize) -> Result<(), CompileError> {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.skipped_depth += 1;
            }
            Operator::Else if self.skipped_depth == 0 => self.op_else(off)?,
            Operator::End => {
                if self.skipped_depth > 0 {
                    self.skipped_depth -= 1;
                } else {
                    self.op_end(off)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn op_else(&mut self, off: usize) -> Result<(), CompileError> {
        let reachable = self.reachable;
        if reachable {
            // The then arm falls through to the end.
            self.note_edge_to_end(self.control.len().saturating_sub(1), false);
        }
        let frame = self.control.last_mut().ok_or_else(|| internal(off, "else without if"))?;
        let FrameKind::If { else_block, ref mut else_seen } = frame.kind else {
            return Err(internal(off, "else without if"));
        };
        *else_seen = true;
        let (dest, height, nres) = (frame.dest, frame.height, frame.results.len());
        if reachable {
            frame.dest_reachable = true;
            let args = Self::block_args(self.peekn(nres, off)?);
            self.b.ins().jump(dest, &args);
        }
        self.stack.truncate(height);
        self.b.switch_to_block(else_block);
        self.stack.extend_from_slice(self.b.block_params(else_block));
        // If frames are only opened in reachable code.
        self.reachable = true;
        Ok(())
    }

    fn op_end(&mut self, off: usize) -> Result<(), CompileError> {
        // The edges into the end, for the bounds checks: a missing else
        // arm, and the fall-through of the code just translated (a loop's
        // end has only that one, and keeps the checks made before it).
        let depth = self.control.len().saturating_sub(1);
        let kind = self.control.last().map(|f| &f.kind);
        let is_loop = matches!(kind, Some(FrameKind::Loop { .. }));
        if matches!(kind, Some(FrameKind::If { else_seen: false, .. })) {
            self.note_edge_to_end(depth, true);
        }
        if self.reachable && !is_loop {
            self.note_edge_to_end(depth, false);
        }
        let frame = self.control.pop().ok_or_else(|| internal(off, "end without block"))?;
        let mut dest_reachable = frame.dest_reachable;
        if self.reachable {
            dest_reachable = true;
            let args = Self::block_args(self.peekn(frame.results.len(), off)?);
            self.b.ins().jump(frame.dest, &args);
        }
        if let FrameKind::If { else_block, else_seen: false } = frame.kind {
            // No else: the false edge carries the parameters straight to dest.
            self.b.switch_to_block(else_block);
            let params = self.b.block_params(else_block).to_vec();
            self.b.ins().jump(frame.dest, &Self::block_args(&params));
            dest_reachable = true;
        }
        if let FrameKind::Loop { header, more_copies } = frame.kind {
            self.b.seal_block(header);
            if more_copies {
                // Another copy comes next and joins the same dest.
                self.copy_reaches_dest = dest_reachable;
                self.reachable = false;
                return Ok(());
            }
        }
        self.stack.truncate(frame.height);
        self.reachable = dest_reachable;
        if !dest_reachable {
            // Nothing continues after this block: leave dest out of the
            // layout and skip what follows until the enclosing end.
            return Ok(());
        }
        self.b.switch_to_block(frame.dest);
        self.b.seal_block(frame.dest);
        if !self.control.is_empty() {
            self.stack.extend_from_slice(self.b.block_params(frame.dest));
        }
        Ok(())
    }

    /// `br_table` as a balanced tree of comparisons (never a jump table:
    /// jump-table targets would need ENDBR64, which Cranelift cannot emit
    /// inside a function).
    fn br_table(&mut self, index: Value, depths: &[u32], default: u32, off: usize) -> Result<(), CompileError> {
        let mut targets = Vec::with_capacity(depths.len() + 1);
        for d in depths.iter().chain(std::iter::once(&default)) {
            self.note_branch(*d);
            targets.push(self.branch_target(*d, off)?);
        }
        let n = targets[0].1;
        let args = Self::block_args(self.peekn(n, off)?);
        // Indices >= len go to the default (last) target.
        let len = depths.len() as u32;
        let in_range = self.b.create_block();
        let is_default = self.b.ins().icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, index, i64::from(len));
        let (default_block, _) = targets[len as usize];
        self.b.ins().brif(is_default, default_block, &args, in_range, &[]);
        self.b.seal_block(in_range);
        self.b.switch_to_block(in_range);
        self.br_tree(index, &targets[..len as usize], 0, &args);
        Ok(())
    }

    /// Dispatches on `index` in `[base, base + targets.len())`.
    fn br_tree(&mut self, index: Value, targets: &[(Block, usize)], base: u32, args: &[BlockArg]) {
        match targets.len() {
            // Only the default target: the range check sent every index there.
            0 => self.trap_now(crate::abi::Trap::Unreachable),
            1 => {
                self.b.ins().jump(targets[0].0, args);
            }
            _ => {
                let mid = targets.len() / 2;
                let left = self.b.create_block();
                let right = self.b.create_block();
                let below = self.b.ins().icmp_imm_s(IntCC::UnsignedLessThan, index, i64::from(base + mid as u32));
                self.b.ins().brif(below, left, &[], right, &[]);
                self.b.seal_block(left);
                self.b.seal_block(right);
                self.b.switch_to_block(left);
                self.br_tree(index, &targets[..mid], base, args);
                self.b.switch_to_block(right);
                self.br_tree(index, &targets[mid..], base + mid as u32, args);
            }
        }
    }

    fn translate_memory_op(&mut self, op: &Operator<'_>, off: usize) -> Result<bool, CompileError> {
        use Operator as O;
        let (i32t, i64t, f32t, f64t) = (types::I32, types::I64, types::F32, types::F64);
        let load = match *op {
            O::I32Load { memarg } => Some((memarg, i32t, 4, false)),
            O::I64Load { memarg } => Some((memarg, i64t, 8, false)),
            O::F32Load { memarg } => Some((memarg, f32t, 4, false)),
            O::F64Load { memarg } => Some((memarg, f64t, 8, false)),
            O::I32Load8S { memarg } => Some((memarg, i32t, 1, true)),
            O::I32Load8U { memarg } => Some((memarg, i32t, 1, false)),
            O::I32Load16S { memarg } => Some((memarg, i32t, 2, true)),
            O::I32Load16U { memarg } => Some((memarg, i32t, 2, false)),
            O::I64Load8S { memarg } => Some((memarg, i64t, 1, true)),
            O::I64Load8U { memarg } => Some((memarg, i64t, 1, false)),
            O::I64Load16S { memarg } => Some((memarg, i64t, 2, true)),
            O::I64Load16U { memarg } => Some((memarg, i64t, 2, false)),
            O::I64Load32S { memarg } => Some((memarg, i64t, 4, true)),
            O::I64Load32U { memarg } => Some((memarg, i64t, 4, false)),
            _ => None,
        };
        if let Some((memarg, ty, width, signed)) = load {
            let index = self.pop(off)?;
            let v = self.heap_load(index, memarg.offset, ty, width, signed);
            self.push(v);
            return Ok(true);
        }
        let store = match *op {
            O::I32Store { memarg } | O::F32Store { memarg } | O::I64Store32 { memarg } => Some((memarg, 4)),
            O::I64Store { memarg } | O::F64Store { memarg } => Some((memarg, 8)),
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => Some((memarg, 1)),
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => Some((memarg, 2)),
            _ => None,
        };
        if let Some((memarg, width)) = store {
            let (index, value) = self.pop2(off)?;
            self.heap_store(index, memarg.offset, value, width);
            return Ok(true);
        }
        Ok(false)
    }

    fn translate_numeric_op(&mut self, op: &Operator<'_>, off: usize) -> Result<bool, CompileError> {
        use Operator as O;
        let (i32t, i64t, f32t, f64t) = (types::I32, types::I64, types::F32, types::F64);
        match *op {
            O::I32Const { value } => {
                let v = self.b.ins().iconst(i32t, i64::from(value));
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.b.ins().iconst(i64t, value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v = self.b.ins().f32const(ir::immediates::Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self.b.ins().f64const(ir::immediates::Ieee64::with_bits(value.bits()));
                self.push(v);
            }
            O::I32Eqz | O::I64Eqz => self.unop(off, |t, a| t.eqz(a))?,
            O::I32Eq | O::I64Eq => self.binop(off, |t, a, b| t.icmp(IntCC::Equal, a, b))?,
            O::I32Ne | O::I64Ne => self.binop(off, |t, a, b| t.icmp(IntCC::NotEqual, a, b))?,
            O::I32LtS | O::I64LtS => self.binop(off, |t, a, b| t.icmp(IntCC::SignedLessThan, a, b))?,
            O::I32LtU | O::I64LtU => self.binop(off, |t, a, b| t.icmp(IntCC::UnsignedLessThan, a, b))?,
            O::I32GtS | O::I64GtS => self.binop(off, |t, a, b| t.icmp(IntCC::SignedGreaterThan, a, b))?,
            O::I32GtU | O::I64GtU => {
                self.binop(off, |t, a, b| t.icmp(IntCC::UnsignedGreaterThan, a, b))?
            }
            O::I32LeS | O::I64LeS => {
                self.binop(off, |t, a, b| t.icmp(IntCC::SignedLessThanOrEqual, a, b))?
            }
            O::I32LeU | O::I64LeU => {
                self.binop(off, |t, a, b| t.icmp(IntCC::UnsignedLessThanOrEqual, a, b))?
            }
            O::I32GeS | O::I64GeS => {
                self.binop(off, |t, a, b| t.icmp(IntCC::SignedGreaterThanOrEqual, a, b))?
            }
            O::I32GeU | O::I64GeU => {
                self.binop(off, |t, a, b| t.icmp(IntCC::UnsignedGreaterThanOrEqual, a, b))?
            }
            O::F32Eq | O::F64Eq => self.binop(off, |t, a, b| t.fcmp(FloatCC::Equal, a, b))?,
            O::F32Ne | O::F64Ne => self.binop(off, |t, a, b| t.fcmp(FloatCC::NotEqual, a, b))?,
            O::F32Lt | O::F64Lt => self.binop(off, |t, a, b| t.fcmp(FloatCC::LessThan, a, b))?,
            O::F32Gt | O::F64Gt => self.binop(off, |t, a, b| t.fcmp(FloatCC::GreaterThan, a, b))?,
            O::F32Le | O::F64Le => self.binop(off, |t, a, b| t.fcmp(FloatCC::LessThanOrEqual, a, b))?,
            O::F32Ge | O::F64Ge => {
                self.binop(off, |t, a, b| t.fcmp(FloatCC::GreaterThanOrEqual, a, b))?
            }
            O::I32Clz | O::I64Clz => self.unop(off, |t, a| t.b.ins().clz(a))?,
            O::I32Ctz | O::I64Ctz => self.unop(off, |t, a| t.b.ins().ctz(a))?,
            O::I32Popcnt | O::I64Popcnt => self.unop(off, |t, a| t.b.ins().popcnt(a))?,
            O::I32Add | O::I64Add => self.binop(off, |t, a, b| t.b.ins().iadd(a, b))?,
            O::I32Sub | O::I64Sub => self.binop(off, |t, a, b| t.b.ins().isub(a, b))?,
            O::I32Mul | O::I64Mul => self.binop(off, |t, a, b| t.b.ins().imul(a, b))?,
            O::I32DivS | O::I64DivS => self.binop(off, |t, a, b| t.guarded_div(DivOp::DivS, a, b))?,
            O::I32DivU | O::I64DivU => self.binop(off, |t, a, b| t.guarded_div(DivOp::DivU, a, b))?,
            O::I32RemS | O::I64RemS => self.binop(off, |t, a, b| t.guarded_div(DivOp::RemS, a, b))?,
            O::I32RemU | O::I64RemU => self.binop(off, |t, a, b| t.guarded_div(DivOp::RemU, a, b))?,
            O::I32And | O::I64And => self.binop(off, |t, a, b| t.b.ins().band(a, b))?,
            O::I32Or | O::I64Or => self.binop(off, |t, a, b| t.b.ins().bor(a, b))?,
            O::I32Xor | O::I64Xor => self.binop(off, |t, a, b| t.b.ins().bxor(a, b))?,
            O::I32Shl | O::I64Shl => self.binop(off, |t, a, b| t.b.ins().ishl(a, b))?,
            O::I32ShrS | O::I64ShrS => self.binop(off, |t, a, b| t.b.ins().sshr(a, b))?,
            O::I32ShrU | O::I64ShrU => self.binop(off, |t, a, b| t.b.ins().ushr(a, b))?,
            O::I32Rotl | O::I64Rotl => self.binop(off, |t, a, b| t.b.ins().rotl(a, b))?,
            O::I32Rotr | O::I64Rotr => self.binop(off, |t, a, b| t.b.ins().rotr(a, b))?,
            O::F32Abs | O::F64Abs => self.unop(off, |t, a| t.b.ins().fabs(a))?,
            O::F32Neg | O::F64Neg => self.unop(off, |t, a| t.b.ins().fneg(a))?,
            O::F32Ceil | O::F64Ceil => self.unop(off, |t, a| t.b.ins().ceil(a))?,
            O::F32Floor | O::F64Floor => self.unop(off, |t, a| t.b.ins().floor(a))?,
            O::F32Trunc | O::F64Trunc => self.unop(off, |t, a| t.b.ins().trunc(a))?,
            O::F32Nearest | O::F64Nearest => self.unop(off, |t, a| t.b.ins().nearest(a))?,
            O::F32Sqrt | O::F64Sqrt => self.unop(off, |t, a| t.b.ins().sqrt(a))?,
            O::F32Add | O::F64Add => self.binop(off, |t, a, b| t.b.ins().fadd(a, b))?,
            O::F32Sub | O::F64Sub => self.binop(off, |t, a, b| t.b.ins().fsub(a, b))?,
            O::F32Mul | O::F64Mul => self.binop(off, |t, a, b| t.b.ins().fmul(a, b))?,
            O::F32Div | O::F64Div => self.binop(off, |t, a, b| t.b.ins().fdiv(a, b))?,
            O::F32Min | O::F64Min => self.binop(off, |t, a, b| t.b.ins().fmin(a, b))?,
            O::F32Max | O::F64Max => self.binop(off, |t, a, b| t.b.ins().fmax(a, b))?,
            O::F32Copysign | O::F64Copysign => self.binop(off, |t, a, b| t.b.ins().fcopysign(a, b))?,
            O::I32WrapI64 => self.unop(off, |t, a| t.b.ins().ireduce(i32t, a))?,
            O::I64ExtendI32S => self.unop(off, |t, a| t.b.ins().sextend(i64t, a))?,
            O::I64ExtendI32U => self.unop(off, |t, a| t.b.ins().uextend(i64t, a))?,
            O::I32TruncF32S | O::I32TruncF64S => self.unop(off, |t, a| t.trapping_trunc(a, i32t, true))?,
            O::I32TruncF32U | O::I32TruncF64U => self.unop(off, |t, a| t.trapping_trunc(a, i32t, false))?,
            O::I64TruncF32S | O::I64TruncF64S => self.unop(off, |t, a| t.trapping_trunc(a, i64t, true))?,
            O::I64TruncF32U | O::I64TruncF64U => self.unop(off, |t, a| t.trapping_trunc(a, i64t, false))?,
            O::I32TruncSatF32S | O::I32TruncSatF64S => {
                self.unop(off, |t, a| t.saturating_trunc(a, i32t, true))?
            }
            O::I32TruncSatF32U | O::I32TruncSatF64U => {
                self.unop(off, |t, a| t.saturating_trunc(a, i32t, false))?
            }
            O::I64TruncSatF32S | O::I64TruncSatF64S => {
                self.unop(off, |t, a| t.saturating_trunc(a, i64t, true))?
            }
            O::I64TruncSatF32U | O::I64TruncSatF64U => {
                self.unop(off, |t, a| t.saturating_trunc(a, i64t, false))?
            }
            O::F32ConvertI32S | O::F32ConvertI64S => {
                self.unop(off, |t, a| t.b.ins().fcvt_from_sint(f32t, a))?
            }
            O::F32ConvertI32U | O::F32ConvertI64U => {
                self.unop(off, |t, a| t.b.ins().fcvt_from_uint(f32t, a))?
            }
            O::F64ConvertI32S | O::F64ConvertI64S => {
                self.unop(off, |t, a| t.b.ins().fcvt_from_sint(f64t, a))?
            }
            O::F64ConvertI32U | O::F64ConvertI64U => {
                self.unop(off, |t, a| t.b.ins().fcvt_from_uint(f64t, a))?
            }
            O::F32DemoteF64 => self.unop(off, |t, a| t.b.ins().fdemote(f32t, a))?,
            O::F64PromoteF32 => self.unop(off, |t, a| t.b.ins().fpromote(f64t, a))?,
            O::I32ReinterpretF32 => self.unop(off, |t, a| t.b.ins().bitcast(i32t, ir::MemFlagsData::new(), a))?,
            O::I64ReinterpretF64 => self.unop(off, |t, a| t.b.ins().bitcast(i64t, ir::MemFlagsData::new(), a))?,
            O::F32ReinterpretI32 => {
                self.unop(off, |t, a| t.b.ins().bitcast(f32t, ir::MemFlagsData::new(), a))?
            }
            O::F64ReinterpretI64 => {
                self.unop(off, |t, a| t.b.ins().bitcast(f64t, ir::MemFlagsData::new(), a))?
            }
            O::I32Extend8S | O::I64Extend8S => self.unop(off, |t, a| t.sign_extend_low(a, 8))?,
            O::I32Extend16S | O::I64Extend16S => self.unop(off, |t, a| t.sign_extend_low(a, 16))?,
            O::I64Extend32S => self.unop(off, |t, a| t.sign_extend_low(a, 32))?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}
