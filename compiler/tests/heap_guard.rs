//! Every linear-memory access stays inside its memory's reservation even
//! when its bounds check is mispredicted, checked on the optimized IR of
//! every spec-testsuite module (that the checks are right when predicted
//! is the spec testsuite's job).
//!
//! A memory sits at the start of a reservation of `abi::MEM_RESERVE` bytes
//! whose unmapped rest was never mapped (docs/abi.md), so a mispredicted
//! access that stays inside it can only read the memory or fault
//! speculatively, which leaks nothing: the compiler emits no Spectre select
//! for such accesses. The test follows each access's address back to the
//! memory base; every term added to it must be bounded by the instructions
//! computing it (a zero-extended 32-bit index, constants, masks, shifts,
//! narrow loads), and base + the largest sum + the static offset + the
//! access size must not pass the end of the reservation. A
//! `select_spectre_guard`, should one appear, stands for its out-of-bounds
//! value. Accesses that fit in the memory's minimum size whatever their
//! index need no check at all and are counted apart. The compiler decides
//! such things by its own analysis of the IR before optimization; this test
//! is the independent second opinion on the final IR. It also checks that
//! an access an earlier check of its index covers has no check of its own
//! (the behaviour at run time is `loader/tests/one_index_bounds.rs`).

mod common;

use std::collections::HashSet;

use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::{self, condcodes::IntCC, BlockArg, InstructionData, Opcode, ValueDef};
use kwo_compiler::{abi::MEM_RESERVE, optimized_ir, Options};
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

/// The guard's value when its compare says out of bounds, i.e. what a
/// mispredicted bounds check computes with: `select_spectre_guard(c, x, _)`
/// is `x` when `c` holds. Panics when the guard does not test a compare.
fn guard_fallback(func: &ir::Function, inst: ir::Inst) -> ir::Value {
    let [cond, fallback] = [0, 1].map(|i| func.dfg.inst_args(inst)[i]);
    let is_icmp = matches!(func.dfg.value_def(cond), ValueDef::Result(cmp, _)
        if func.dfg.insts[cmp].opcode() == Opcode::Icmp);
    assert!(is_icmp, "{}: a Spectre guard does not test a compare", func.dfg.display_inst(inst));
    fallback
}

/// The largest unsigned value `v` can take, also on a path where a bounds
/// check was mispredicted, when its defining instructions bound it.
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
        Opcode::SelectSpectreGuard => max_value(func, guard_fallback(func, inst)),
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

/// How far above the memory base `addr` can point, also on a path where a
/// bounds check was mispredicted, when `addr` is the base plus bounded
/// terms.
fn max_above_base(func: &ir::Function, cfg: &ControlFlowGraph, addr: ir::Value) -> Option<u64> {
    if is_heap_base(func, cfg, addr, &mut HashSet::new()) {
        return Some(0);
    }
    let ValueDef::Result(inst, _) = func.dfg.value_def(addr) else { return None };
    match func.dfg.insts[inst].opcode() {
        Opcode::SelectSpectreGuard => max_above_base(func, cfg, guard_fallback(func, inst)),
        Opcode::Iadd => {
            let [a, b] = [0, 1].map(|i| func.dfg.inst_args(inst)[i]);
            let term = |base_side: ir::Value, other: ir::Value| {
                max_above_base(func, cfg, base_side)?.checked_add(max_value(func, other)?)
            };
            term(a, b).or_else(|| term(b, a))
        }
        _ => None,
    }
}

/// Panics unless every heap access in `func` stays inside the memory's
/// reservation on mispredicted paths; returns how many may reach past the
/// minimum memory (and so need their bounds check) and how many cannot.
fn check_function(name: &str, func: &ir::Function, min_bytes: u64) -> (usize, usize) {
    let Some(heap) = heap_region(func) else { return (0, 0) };
    let cfg = ControlFlowGraph::with_function(func);
    let (mut checked, mut proven) = (0, 0);
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            if func.dfg.insts[inst].alias_region(&func.dfg) != Some(heap) {
                continue;
            }
            let show = func.dfg.display_inst(inst);
            let (addr, offset, bytes) = access(func, inst).unwrap_or_else(|| panic!("{name}: {show}: no address"));
            let offset = u64::try_from(offset).unwrap_or_else(|_| panic!("{name}: {show}: negative offset"));
            let reach = max_above_base(func, &cfg, addr).map(|max| max + offset + bytes);
            let Some(end) = reach.filter(|&end| end <= MEM_RESERVE) else {
                panic!("{name}: {show}: reaches {reach:?} bytes above the base, the reservation is {MEM_RESERVE}");
            };
            if end <= min_bytes {
                proven += 1;
            } else {
                checked += 1;
            }
        }
    }
    (checked, proven)
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
fn every_spec_heap_access_stays_inside_the_reservation() {
    let (mut checked, mut proven) = (0, 0);
    for (name, bytes) in &common::spec_modules() {
        let Ok(module) = verify(bytes, &Policy::spectest()) else { continue };
        let (c, p) = check_module(name, &module);
        (checked, proven) = (checked + c, proven + p);
    }
    println!("heap guard, spec modules: {checked} accesses inside the reservation, {proven} inside the minimum memory");
    assert!(checked > 200 && proven > 1000, "only {checked} checked and {proven} proven accesses seen");
}

/// The largest index with the largest static offset and an 8-byte access
/// reaches past 8 GiB: inside the reservation, which is made that large.
#[test]
fn largest_offset_stays_inside_the_reservation() {
    let wasm = wat::parse_str(
        r#"(module (memory 1)
             (func (export "far") (param i32) (result i64)
               (i64.load offset=4294967295 (local.get 0))))"#,
    )
    .unwrap();
    let module = verify(&wasm, &Policy::kernel()).unwrap();
    assert_eq!(check_module("far", &module), (1, 0), "(checked, proven)");
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
    assert_eq!(check_module("masked", &module), (2, 2), "(checked, proven)");
}

/// An access the verifier proved in bounds through a loop's exit test has
/// no check, but its index is still clamped for a mispredicted exit: the
/// loop running one iteration too far must not reach past the memory.
#[test]
fn proven_loop_access_stays_inside_when_mispredicted() {
    let wasm = wat::parse_str(
        r#"(module (memory 1)
             (func (export "fill") (local $i i32)
               (loop $l
                 (i32.store offset=1024 (i32.shl (local.get $i) (i32.const 2)) (local.get $i))
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get $i) (i32.const 16128))))))"#,
    )
    .unwrap();
    let module = verify(&wasm, &Policy::kernel()).unwrap();
    assert_eq!(module.access_counts().proven, 1);
    assert_eq!(check_module("proven loop", &module), (1, 0), "(guarded, proven)");
    // The bounds check's trap path is a cold block; elision removes it.
    let cold_blocks = |elide_proven| {
        let funcs = optimized_ir(&module, &Options { elide_proven, ..Options::default() }).unwrap();
        funcs[0].layout.blocks().filter(|b| funcs[0].layout.is_cold(*b)).count()
    };
    let (elided, checked) = (cold_blocks(true), cold_blocks(false));
    assert!(elided < checked, "a proven access has no trap path ({elided} vs {checked} cold blocks)");
}

/// A pointer loop bounded only at run time is versioned behind one check
/// before it: the unchecked copy's store has no trap path and, like the
/// checked copy's, stays inside the reservation even when the check or
/// the loop's exit is mispredicted.
#[test]
fn hoisted_loop_copy_has_no_check_and_stays_inside() {
    let wasm = wat::parse_str(
        r#"(module (memory 1)
             (func (export "fill") (param $p i32) (param $n i32)
               (loop $l
                 (i32.store (local.get $p) (local.get $n))
                 (local.set $p (i32.add (local.get $p) (i32.const 4)))
                 (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#,
    )
    .unwrap();
    let module = verify(&wasm, &Policy::kernel()).unwrap();
    assert_eq!(module.access_counts().hoisted, 1);
    // Three copies of the store (check-free without a header checkpoint
    // for a short run, check-free with one, checked), all may reach past
    // the minimum memory.
    assert_eq!(check_module("hoisted loop", &module), (3, 0), "(checked, proven)");
    // Without checkpoints (each copy's header has one), the unchecked
    // copy adds no trap path: only the checked copy has one.
    let checks = kwo_compiler::Checks { checkpoints: false, ..Default::default() };
    let cold_blocks = |elide_proven| {
        let funcs = optimized_ir(&module, &Options { elide_proven, checks, ..Options::default() }).unwrap();
        funcs[0].layout.blocks().filter(|b| funcs[0].layout.is_cold(*b)).count()
    };
    assert_eq!(cold_blocks(true), cold_blocks(false));
}

/// Loops exited by ordered tests (`i <u n` counting up, `i >=s 0`
/// counting down by two) are versioned too: their unchecked copies add no
/// trap path and every copy's store stays inside the reservation.
#[test]
fn ordered_exit_loop_copies_stay_inside() {
    let wasm = wat::parse_str(
        r#"(module (memory 1)
             (func (export "up") (param $p i32) (param $n i32) (local $i i32)
               (loop $l
                 (i32.store offset=8 (local.get $p) (local.get $i))
                 (local.set $p (i32.add (local.get $p) (i32.const 4)))
                 (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))
             (func (export "down") (param $p i32) (param $i i32)
               (loop $l
                 (i64.store (local.get $p) (i64.const 0))
                 (local.set $p (i32.add (local.get $p) (i32.const 8)))
                 (br_if $l (i32.ge_s (local.tee $i (i32.sub (local.get $i) (i32.const 2))) (i32.const 0))))))"#,
    )
    .unwrap();
    let module = verify(&wasm, &Policy::kernel()).unwrap();
    assert_eq!(module.access_counts().hoisted, 2);
    // Three copies of each store, all may reach past the minimum memory.
    assert_eq!(check_module("ordered exits", &module), (6, 0), "(checked, proven)");
    let checks = kwo_compiler::Checks { checkpoints: false, ..Default::default() };
    let cold_blocks = |elide_proven| {
        let funcs = optimized_ir(&module, &Options { elide_proven, checks, ..Options::default() }).unwrap();
        funcs.iter().map(|f| f.layout.blocks().filter(|b| f.layout.is_cold(*b)).count()).sum::<usize>()
    };
    assert_eq!(cold_blocks(true), cold_blocks(false));
}

/// The right-hand sides of the bounds compares on the hot path: the
/// `icmp sgt index, limit` a branch from a block that is not cold tests
/// to enter its trap. Checkpoints are off, so no other such branch exists.
fn hot_limits(func: &ir::Function) -> Vec<ir::Value> {
    let dfg = &func.dfg;
    let mut limits = Vec::new();
    for block in func.layout.blocks().filter(|b| !func.layout.is_cold(*b)) {
        let Some(last) = func.layout.last_inst(block) else { continue };
        let InstructionData::Brif { arg, blocks, .. } = dfg.insts[last] else { continue };
        if !func.layout.is_cold(blocks[0].block(&dfg.value_lists)) {
            continue;
        }
        let ValueDef::Result(cmp, _) = dfg.value_def(arg) else { continue };
        if let InstructionData::IntCompare { cond: IntCC::SignedGreaterThan, args, .. } = dfg.insts[cmp] {
            limits.push(args[1]);
        }
    }
    limits
}

fn hot_limits_of(wat: &str) -> Vec<Vec<ir::Value>> {
    let module = verify(&wat::parse_str(wat).unwrap(), &Policy::kernel()).unwrap();
    check_module("limits", &module);
    let checks = kwo_compiler::Checks { checkpoints: false, ..Default::default() };
    let funcs = optimized_ir(&module, &Options { checks, ..Options::default() }).unwrap();
    funcs.iter().map(hot_limits).collect()
}

/// A check of an index for 64 bytes covers later accesses of the same
/// index within those bytes, also after a call and `memory.grow`
/// (memories never shrink); one reaching further is checked again (after
/// a call, which ends a group of loads), and so is every field of a
/// pointer stored in the order of its offsets.
#[test]
fn an_access_covered_by_an_earlier_check_has_none() {
    let limits = hot_limits_of(
        r#"(module (memory 1)
             (func $nothing)
             (func (export "covered") (param $p i32) (result i32)
               (drop (i64.load offset=56 (local.get $p)))
               (call $nothing)
               (drop (memory.grow (i32.const 0)))
               (i32.store (local.get $p) (i32.const 1))
               (i32.load offset=60 (local.get $p)))
             (func (export "further") (param $p i32) (result i32)
               (drop (i64.load offset=56 (local.get $p)))
               (call $nothing)
               (i32.load offset=61 (local.get $p)))
             (func (export "fields") (param $p i32) (result i64)
               (i32.store offset=0 (local.get $p) (i32.const 1))
               (i32.store offset=4 (local.get $p) (i32.const 2))
               (i32.store16 offset=8 (local.get $p) (i32.const 3))
               (i64.store offset=16 (local.get $p) (i64.const 4))
               (i64.load offset=56 (local.get $p))))"#,
    );
    assert_eq!(limits[1].len(), 1, "the store and the load at 60 need no check");
    assert_eq!(limits[2].len(), 2, "61 + 4 bytes reach past the first check");
    assert_eq!(limits[3].len(), 5, "each field reaches past the ones before");
}

/// A check made before an `if`, a `block` or a `loop` covers the accesses
/// of the same index in both arms and after the frame's end; a check made
/// inside one arm covers nothing after the join.
#[test]
fn a_check_before_a_frame_covers_its_arms_and_what_follows() {
    let limits = hot_limits_of(
        r#"(module (memory 1)
             (func (export "arms") (param $p i32) (param $n i32) (result i32)
               (drop (i64.load offset=56 (local.get $p)))
               (if (local.get $n)
                 (then (i32.store offset=4 (local.get $p) (i32.const 1)))
                 (else (i32.store offset=8 (local.get $p) (i32.const 2))))
               (block $b
                 (br_if $b (local.get $n))
                 (i32.store offset=12 (local.get $p) (i32.const 3)))
               (loop $l
                 (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
               (i32.load offset=60 (local.get $p)))
             (func (export "one_arm") (param $p i32) (param $n i32) (result i32)
               (if (local.get $n)
                 (then (drop (i64.load offset=56 (local.get $p)))))
               (i32.load offset=60 (local.get $p))))"#,
    );
    assert_eq!(limits[0].len(), 1, "only the first load is checked");
    assert_eq!(limits[1].len(), 2, "the check in the then arm does not dominate the load after it");
}

/// Struct fields loaded through one pointer in the order of their offsets
/// (`p + 0`, `p + 4`, `p + 8`) make one compare on the hot path: the first
/// load is checked for the bytes the last reaches (the verifier's access
/// groups), the cold path finds which load traps. A store, a call or a
/// division between two of them ends the group; without elision (the
/// verifier's facts unused) each load keeps its compare.
#[test]
fn struct_fields_loaded_in_order_make_one_compare() {
    let wat = r#"(module (memory 1)
         (func $nothing)
         (func (export "fields") (param $p i32) (result i64)
           (i64.add
             (i64.extend_i32_u (i32.add (i32.load offset=0 (local.get $p)) (i32.load offset=4 (local.get $p))))
             (i64.load offset=8 (local.get $p))))
         (func (export "store") (param $p i32) (result i64)
           (i32.store offset=16 (i32.const 0) (i32.load offset=0 (local.get $p)))
           (i64.add (i64.extend_i32_u (i32.load offset=4 (local.get $p))) (i64.load offset=8 (local.get $p))))
         (func (export "call") (param $p i32) (result i64) (local $a i32)
           (local.set $a (i32.load offset=0 (local.get $p)))
           (call $nothing)
           (i64.add (i64.extend_i32_u (local.get $a)) (i64.load offset=8 (local.get $p))))
         (func (export "div") (param $p i32) (param $d i32) (result i64)
           (i64.add
             (i64.extend_i32_u (i32.div_u (i32.load offset=0 (local.get $p)) (local.get $d)))
             (i64.load offset=8 (local.get $p)))))"#;
    let limits = hot_limits_of(wat);
    assert_eq!(limits[1].len(), 1, "one compare for the three fields");
    assert_eq!(limits[2].len(), 2, "the store ends the group; the two loads after it form one");
    assert_eq!(limits[3].len(), 2, "the call ends the group");
    assert_eq!(limits[4].len(), 2, "the division ends the group");
    let module = verify(&wat::parse_str(wat).unwrap(), &Policy::kernel()).unwrap();
    let checks = kwo_compiler::Checks { checkpoints: false, ..Default::default() };
    let options = Options { checks, elide_proven: false, ..Options::default() };
    let funcs = optimized_ir(&module, &options).unwrap();
    assert_eq!(hot_limits(&funcs[1]).len(), 3, "without the verifier's facts each load is checked");
}

/// A check made in a block before its first branch out dominates the
/// block's end (every edge into the end carries it), so it covers the
/// accesses after the end; one made after a branch out covers nothing
/// there, nor does one made in the `then` arm of an `if` without `else`.
#[test]
fn a_check_before_every_branch_out_covers_what_follows_the_block() {
    let limits = hot_limits_of(
        r#"(module (memory 1)
             (func (export "before") (param $p i32) (param $n i32) (result i32)
               (block $b
                 (block $c
                   (drop (i32.load offset=8 (local.get $p)))
                   (br_if $c (local.get $n))
                   (br_if $b (i32.eqz (local.get $n))))
                 (i32.store offset=8 (local.get $p) (local.get $n)))
               (i32.load offset=4 (local.get $p)))
             (func (export "after") (param $p i32) (param $n i32) (result i32)
               (block $b
                 (br_if $b (local.get $n))
                 (drop (i32.load offset=8 (local.get $p))))
               (i32.load offset=4 (local.get $p)))
             (func (export "then") (param $p i32) (param $n i32) (result i32)
               (if (local.get $n) (then (drop (i32.load offset=8 (local.get $p)))))
               (i32.load offset=4 (local.get $p))))"#,
    );
    assert_eq!(limits[0].len(), 1, "the first check covers the store and the load after the blocks");
    assert_eq!(limits[1].len(), 2, "the branch out comes before the check");
    assert_eq!(limits[2].len(), 2, "the missing else arm skips the check");
}
