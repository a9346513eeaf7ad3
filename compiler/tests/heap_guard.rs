//! Every linear-memory access is Spectre-guarded as a whole, checked on the
//! optimized IR of every spec-testsuite module: its address is the result
//! of a `select_spectre_guard` and its immediate offset is 0, so the wasm
//! offset sits inside the guarded address and a mispredicted bounds check
//! chose. The guard's condition must be a compare. The only other address
//! allowed is the memory base itself (Cranelift folds the guard of an access
//! at constant address 0 into it).

mod common;

use std::collections::HashSet;

use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::{self, BlockArg, InstructionData, Opcode, ValueDef};
use kwo_compiler::{optimized_ir, Options};
use kwo_verifier::{verify, Policy};

fn heap_region(func: &ir::Function) -> Option<ir::AliasRegion> {
    func.dfg
        .alias_regions
        .iter()
        .find(|(_, data)| data.description == "heap")
        .map(|(region, _)| region)
}

/// The address operand of a load or store, with its immediate offset.
fn address(data: &InstructionData) -> Option<(ir::Value, i32)> {
    match *data {
        InstructionData::Load { arg, offset, .. } => Some((arg, offset.into())),
        InstructionData::Store { args, offset, .. } => Some((args[1], offset.into())),
        _ => None,
    }
}

/// Whether `v` is the memory base: the vmctx field at offset 0, directly or
/// through block parameters that only ever receive it.
fn is_heap_base(
    func: &ir::Function,
    cfg: &ControlFlowGraph,
    v: ir::Value,
    seen: &mut HashSet<ir::Value>,
) -> bool {
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

/// Panics unless every heap access in `func` is guarded; returns how many
/// accesses it checked.
fn check_function(name: &str, func: &ir::Function) -> usize {
    let Some(heap) = heap_region(func) else {
        return 0;
    };
    let cfg = ControlFlowGraph::with_function(func);
    let mut accesses = 0;
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            let data = &func.dfg.insts[inst];
            if data.alias_region(&func.dfg) != Some(heap) {
                continue;
            }
            let (addr, offset) = address(data).unwrap_or_else(|| {
                panic!(
                    "{name}: heap access {} has no address",
                    func.dfg.display_inst(inst)
                )
            });
            assert_eq!(
                offset,
                0,
                "{name}: {} adds an offset after the guard",
                func.dfg.display_inst(inst)
            );
            let guard = match func.dfg.value_def(addr) {
                ValueDef::Result(def, _)
                    if func.dfg.insts[def].opcode() == Opcode::SelectSpectreGuard =>
                {
                    def
                }
                _ => {
                    assert!(
                        is_heap_base(func, &cfg, addr, &mut HashSet::new()),
                        "{name}: {} is neither behind select_spectre_guard nor at the memory base",
                        func.dfg.display_inst(inst)
                    );
                    accesses += 1;
                    continue;
                }
            };
            let cond = func.dfg.inst_args(guard)[0];
            let ValueDef::Result(cmp, _) = func.dfg.value_def(cond) else {
                panic!(
                    "{name}: guard condition of {} is not a compare",
                    func.dfg.display_inst(inst)
                );
            };
            assert_eq!(
                func.dfg.insts[cmp].opcode(),
                Opcode::Icmp,
                "{name}: guard condition is not an icmp"
            );
            accesses += 1;
        }
    }
    accesses
}

#[test]
fn every_heap_access_is_guarded_with_its_offset() {
    let modules = common::spec_modules();
    let (mut functions, mut accesses) = (0, 0);
    for (name, bytes) in &modules {
        let Ok(module) = verify(bytes, &Policy::spectest()) else {
            continue;
        };
        let funcs =
            optimized_ir(&module, &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        for func in &funcs {
            accesses += check_function(name, func);
            functions += 1;
        }
    }
    println!("heap guard: {accesses} accesses in {functions} functions");
    assert!(accesses > 2000, "only {accesses} heap accesses seen");
}
