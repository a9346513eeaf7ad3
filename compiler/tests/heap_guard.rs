//! Every linear-memory access is either Spectre-guarded as a whole or
//! provably inside the memory's minimum size, checked on the optimized IR of
//! every spec-testsuite module.
//!
//! Guarded: the address is the result of a `select_spectre_guard` on a
//! compare and the access's immediate offset is 0, so the wasm offset sits
//! inside the guarded address and a mispredicted bounds check reads the
//! memory base, never `base + offset` for an offset the module chose. (The
//! guard of an access at index 0 folds into the base itself.)
//!
//! Unguarded: the address is the memory base plus terms whose largest
//! values this test bounds on its own, from the final IR (constants, masks,
//! shifts, narrow loads), and the last byte accessed is below the minimum
//! memory size. The compiler drops checks by its own analysis of the IR
//! before optimization; this test is the independent second opinion.

mod common;

use std::collections::HashSet;

use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::{self, BlockArg, InstructionData, Opcode, ValueDef};
use kwo_compiler::{optimized_ir, Options};
use kwo_verifier::{verify, Policy, VerifiedModule};

fn heap_region(func: &ir::Function) -> Option<ir::AliasRegion> {
    func.dfg.alias_regions.iter().find(|(_, data)| data.description == "heap").map(|(region, _)| region)
}

/// The address operand of a load or store, its immediate offset and the
/// number of bytes accessed.
fn access(func: &ir::Function, inst: ir::Inst) -> Option<(ir::Value, i32, u64)> {
    let dfg = &func.dfg;
    let (addr, offset, full) = match dfg.insts[inst] {
        InstructionData::Load { arg, offset, .. } => (arg, offset, dfg.value_type(dfg.first_result(inst))),
        InstructionData::Store { args, offset, .. } => (args[1], offset, dfg.value_type(args[0])),
        _ => return None,
    };
    let bytes = match dfg.insts[inst].opcode() {
        Opcode::Uload8 | Opcode::Sload8 | Opcode::Istore8 => 1,
        Opcode::Uload16 | Opcode::Sload16 | Opcode::Istore16 => 2,
        Opcode::Uload32 | Opcode::Sload32 | Opcode::Istore32 => 4,
        _ => u64::from(full.bytes()),
    };
    Some((addr, offset.into(), bytes))
}

/// Whether `v` is the memory base: the vmctx field at offset 0, directly or
/// through block parameters that only ever receive it.
fn is_heap_base(func: &ir::Function, cfg: &ControlFlowGraph, v: ir::Value, seen: &mut HashSet<ir::Value>) -> bool {
    if !seen.insert(v) {
        return true; // a cycle adds nothing: the other inputs decide
    }
    let vmctx = func.dfg.block_params(func.layout.entry_block().unwrap())[0];
    match func.dfg.value_def(v) {
        ValueDef::Result(inst, _) => matches!(
            func.dfg.insts[inst],
            InstructionData::Load { opcode: Opcode::Load, arg, offset, .. }
                if arg == vmctx && i32::from(offset) == 0
        ),
        ValueDef::Param(block, index) => cfg.pred_iter(block).all(|pred| {
            let data = &func.dfg.insts[pred.inst];
            data.branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables)
                .iter()
                .filter(|call| call.block(&func.dfg.value_lists) == block)
                .all(|call| match call.args(&func.dfg.value_lists).nth(index) {
                    Some(BlockArg::Value(arg)) => is_heap_base(func, cfg, arg, seen),
                    _ => false,
                })
        }),
        _ => false,
    }
}

/// The largest unsigned value of `v`, when its defining instructions bound it.
fn max_value(func: &ir::Function, v: ir::Value) -> Option<u64> {
    let dfg = &func.dfg;
    let ValueDef::Result(inst, _) = dfg.value_def(v) else { return None };
    let arg = |i: usize| max_value(func, dfg.inst_args(inst)[i]);
    let width_max = u64::MAX >> (64 - dfg.value_type(v).bits());
    // Shift counts are taken modulo the width.
    let shift = |i: usize| {
        let ValueDef::Result(count, _) = dfg.value_def(dfg.inst_args(inst)[i]) else { return None };
        match dfg.insts[count] {
            InstructionData::UnaryImm { imm, .. } => Some(imm.bits() as u32 & (dfg.value_type(v).bits() - 1)),
            _ => None,
        }
    };
    match dfg.insts[inst].opcode() {
        Opcode::Iconst => match dfg.insts[inst] {
            InstructionData::UnaryImm { imm, .. } => Some(imm.bits() as u64 & width_max),
            _ => None,
        },
        Opcode::Uextend => arg(0).or(Some(u64::from(u32::MAX))),
        Opcode::Uload8 => Some(0xff),
        Opcode::Uload16 => Some(0xffff),
        Opcode::Band => match (arg(0), arg(1)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
        Opcode::Ushr => Some(arg(0).unwrap_or(width_max) >> shift(1)?),
        Opcode::Ishl => Some(arg(0)?.checked_shl(shift(1)?)?).filter(|m| *m <= width_max),
        Opcode::Iadd => arg(0)?.checked_add(arg(1)?).filter(|m| *m <= width_max),
        Opcode::Imul => arg(0)?.checked_mul(arg(1)?).filter(|m| *m <= width_max),
        _ => None,
    }
}

/// The largest distance of `addr` above the memory base, when `addr` is the
/// base plus bounded terms.
fn max_above_base(func: &ir::Function, cfg: &ControlFlowGraph, addr: ir::Value) -> Option<u64> {
    if is_heap_base(func, cfg, addr, &mut HashSet::new()) {
        return Some(0);
    }
    let ValueDef::Result(inst, _) = func.dfg.value_def(addr) else { return None };
    if func.dfg.insts[inst].opcode() != Opcode::Iadd {
        return None;
    }
    let [a, b] = [0, 1].map(|i| func.dfg.inst_args(inst)[i]);
    let from_a = max_above_base(func, cfg, a).and_then(|m| m.checked_add(max_value(func, b)?));
    from_a.or_else(|| max_above_base(func, cfg, b)?.checked_add(max_value(func, a)?))
}

/// Panics unless every heap access in `func` is guarded or provably in
/// bounds; returns (guarded, proven) counts.
fn check_function(name: &str, func: &ir::Function, min_bytes: u64) -> (usize, usize) {
    let Some(heap) = heap_region(func) else { return (0, 0) };
    let cfg = ControlFlowGraph::with_function(func);
    let (mut guarded, mut proven) = (0, 0);
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            if func.dfg.insts[inst].alias_region(&func.dfg) != Some(heap) {
                continue;
            }
            let show = func.dfg.display_inst(inst);
            let (addr, offset, bytes) = access(func, inst).unwrap_or_else(|| panic!("{name}: {show}: no address"));
            assert_eq!(offset, 0, "{name}: {show} adds an offset after the guard");
            let guard = match func.dfg.value_def(addr) {
                ValueDef::Result(def, _) if func.dfg.insts[def].opcode() == Opcode::SelectSpectreGuard => def,
                // Cranelift folds the guard of an access at index 0 into
                // the base: still checked, and a misprediction reads the base.
                _ if is_heap_base(func, &cfg, addr, &mut HashSet::new()) => {
                    guarded += 1;
                    continue;
                }
                _ => {
                    let max = max_above_base(func, &cfg, addr);
                    assert!(
                        max.is_some_and(|m| m + bytes <= min_bytes),
                        "{name}: {show} is unguarded, {max:?} above the base, {bytes} bytes, min memory {min_bytes}"
                    );
                    proven += 1;
                    continue;
                }
            };
            let cond = func.dfg.inst_args(guard)[0];
            let is_icmp = matches!(func.dfg.value_def(cond), ValueDef::Result(cmp, _)
                if func.dfg.insts[cmp].opcode() == Opcode::Icmp);
            assert!(is_icmp, "{name}: the guard of {show} does not test a compare");
            guarded += 1;
        }
    }
    (guarded, proven)
}

fn check_module(name: &str, module: &VerifiedModule) -> (usize, usize) {
    let min_bytes = module.memory.map_or(0, |m| u64::from(m.min) << 16);
    let funcs = optimized_ir(module, &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    funcs.iter().fold((0, 0), |(g, p), func| {
        let (fg, fp) = check_function(name, func, min_bytes);
        (g + fg, p + fp)
    })
}

#[test]
fn every_spec_heap_access_is_guarded_or_in_bounds() {
    let (mut guarded, mut proven) = (0, 0);
    for (name, bytes) in &common::spec_modules() {
        let Ok(module) = verify(bytes, &Policy::spectest()) else { continue };
        let (g, p) = check_module(name, &module);
        (guarded, proven) = (guarded + g, proven + p);
    }
    println!("heap guard, spec modules: {guarded} guarded accesses, {proven} proven in bounds");
    assert!(guarded > 300 && proven > 500, "only {guarded} guarded and {proven} proven accesses seen");
}

/// A table lookup through a masked index, the pattern of CRC and hash
/// tables in C, needs no check; one more byte than the memory holds, or an
/// unbounded index, does. The compiler and this test must agree.
#[test]
fn masked_index_is_checked_only_when_it_may_leave_the_memory() {
    let wasm = wat::parse_str(
        r#"(module (memory 1)
             (func (export "crc_step") (param i32 i32) (result i32)
               (i32.load offset=1024
                 (i32.shl (i32.and (i32.xor (local.get 0) (local.get 1)) (i32.const 255)) (i32.const 2))))
             (func (export "last_word") (param i32) (result i32)
               (i32.load offset=65529 (i32.and (local.get 0) (i32.const 3))))
             (func (export "one_past") (param i32) (result i32)
               (i32.load offset=65530 (i32.and (local.get 0) (i32.const 3))))
             (func (export "unbounded") (param i32) (result i32)
               (i32.load offset=1024 (i32.shl (local.get 0) (i32.const 2)))))"#,
    )
    .unwrap();
    let module = verify(&wasm, &Policy::kernel()).unwrap();
    assert_eq!(check_module("masked", &module), (2, 2), "(guarded, proven)");
}
