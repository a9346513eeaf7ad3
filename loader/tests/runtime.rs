//! The userspace runtime end to end: Wasm text → verifier → compiler →
//! `.kwo` → `Instance` over the C core. Invocation, results, traps with
//! their sites, unwinding out of deep recursion, budgets (time, fuel,
//! stack), memory growth, bulk memory and tables, WASI output and exit.

use kwo_loader::runtime::{Config, Instance, RunError, Stdio, TrapCode, Val};
use kwo_verifier::Policy;
use std::time::{Duration, Instant};

fn kwo_of(wat: &str, policy: &Policy) -> Vec<u8> {
    let wasm = wat::parse_str(wat).expect("test module parses");
    let module = kwo_verifier::verify(&wasm, policy).expect("test module verifies");
    let options = kwo_compiler::Options {
        target: kwo_format::Target::HOST,
        ..kwo_compiler::Options::default()
    };
    kwo_compiler::compile(&module, &options).expect("test module compiles")
}

fn instance(wat: &str) -> Instance {
    instance_with(wat, &Config::default())
}

fn instance_with(wat: &str, config: &Config) -> Instance {
    Instance::new(&kwo_of(wat, &Policy::kernel()), config).expect("instantiates")
}

fn trap_of(r: Result<Vec<Val>, RunError>) -> kwo_loader::runtime::TrapInfo {
    match r {
        Err(RunError::Trap(t)) => t,
        other => panic!("expected a trap, got {other:?}"),
    }
}

const ARITH: &str = r#"(module
  (func $add (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func $div (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func $wide (export "wide") (param i64 f64) (result i64 f64) local.get 0 local.get 1)
  (func $boom (export "boom") unreachable))"#;

#[test]
fn invoke_returns_results() {
    let mut inst = instance(ARITH);
    assert_eq!(
        inst.invoke("add", &[Val::I32(2), Val::I32(40)]).unwrap(),
        vec![Val::I32(42)]
    );
    assert_eq!(
        inst.invoke("add", &[Val::I32(-1), Val::I32(1)]).unwrap(),
        vec![Val::I32(0)]
    );
    let f = 1.5f64.to_bits();
    assert_eq!(
        inst.invoke("wide", &[Val::I64(-7), Val::F64(f)]).unwrap(),
        vec![Val::I64(-7), Val::F64(f)]
    );
}

#[test]
fn traps_report_code_and_site_and_instance_stays_usable() {
    let mut inst = instance(ARITH);
    let t = trap_of(inst.invoke("div", &[Val::I32(1), Val::I32(0)]));
    assert_eq!(t.code, TrapCode::IntegerDivideByZero);
    assert_eq!(t.func, Some(1));
    assert!(t.wasm_offset.is_some());
    let t = trap_of(inst.invoke("div", &[Val::I32(i32::MIN), Val::I32(-1)]));
    assert_eq!(t.code, TrapCode::IntegerOverflow);
    let t = trap_of(inst.invoke("boom", &[]));
    assert_eq!(t.code.message(), "unreachable");
    assert_eq!(t.func, Some(3));
    assert_eq!(
        inst.invoke("div", &[Val::I32(-9), Val::I32(2)]).unwrap(),
        vec![Val::I32(-4)]
    );
}

#[test]
fn usage_errors_are_reported() {
    let mut inst = instance(ARITH);
    assert!(matches!(inst.invoke("nope", &[]), Err(RunError::Usage(_))));
    assert!(matches!(
        inst.invoke("add", &[Val::I32(1)]),
        Err(RunError::Usage(_))
    ));
    assert!(matches!(
        inst.invoke("add", &[Val::I32(1), Val::I64(1)]),
        Err(RunError::Usage(_))
    ));
}

#[test]
fn deep_recursion_exhausts_the_stack_budget_and_unwinds() {
    let wat = r#"(module
      (func $rec (export "rec") (param i32) (result i32)
        local.get 0 i32.eqz if (result i32) i32.const 0 else
        local.get 0 i32.const 1 i32.sub call $rec i32.const 1 i32.add end))"#;
    let mut inst = instance(wat);
    assert_eq!(
        inst.invoke("rec", &[Val::I32(1000)]).unwrap(),
        vec![Val::I32(1000)]
    );
    let t = trap_of(inst.invoke("rec", &[Val::I32(100_000_000)]));
    assert_eq!(t.code, TrapCode::StackExhausted);
    // The unwind restored the stack: the same instance recurses again.
    assert_eq!(
        inst.invoke("rec", &[Val::I32(500)]).unwrap(),
        vec![Val::I32(500)]
    );
}

#[test]
fn infinite_loop_is_interrupted_by_the_timeout() {
    let wat = r#"(module (func (export "spin") (loop br 0)))"#;
    let config = Config {
        timeout: Some(Duration::from_millis(100)),
        ..Config::default()
    };
    let mut inst = instance_with(wat, &config);
    let start = Instant::now();
    let t = trap_of(inst.invoke("spin", &[]));
    assert_eq!(t.code, TrapCode::Interrupted);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn fuel_runs_out() {
    let wat = r#"(module (func (export "spin") (loop br 0)))"#;
    let config = Config {
        fuel: Some(10_000),
        ..Config::default()
    };
    let mut inst = instance_with(wat, &config);
    let t = trap_of(inst.invoke("spin", &[]));
    assert_eq!(t.code, TrapCode::FuelExhausted);
}

/// A function of about `ops` straight-line operators, no call.
fn straight_line(name: &str, ops: usize) -> String {
    let adds = "(local.set 0 (i32.add (local.get 0) (i32.const 1)))\n".repeat(ops / 4);
    format!("(func ${name} (param i32) (result i32)\n{adds} (local.get 0))")
}

#[test]
fn only_call_trees_within_the_budget_run_without_checkpoints() {
    // With fuel 0 the first checkpoint traps. `small` and its callees fit
    // the verifier's budget and have none; `big` calls `small` more times
    // than the budget allows, so it keeps its entry checkpoint.
    let ops = kwo_verifier::analysis::SMALL_FUNCTION_BUDGET as usize / 4;
    let wat = format!(
        r#"(module {}
          (func $small (export "small") (param i32) (result i32) (call $leaf (local.get 0)))
          (func (export "big") (param i32) (result i32)
            (call $small (call $small (call $small (call $small (call $small (local.get 0))))))))"#,
        straight_line("leaf", ops)
    );
    let config = Config { fuel: Some(0), ..Config::default() };
    let mut inst = instance_with(&wat, &config);
    let added = (ops / 4) as i32;
    assert_eq!(inst.invoke("small", &[Val::I32(1)]).unwrap(), vec![Val::I32(1 + added)]);
    assert_eq!(trap_of(inst.invoke("big", &[Val::I32(1)])).code, TrapCode::FuelExhausted);
    let mut unlimited = instance(&wat);
    assert_eq!(unlimited.invoke("big", &[Val::I32(1)]).unwrap(), vec![Val::I32(1 + 5 * added)]);
}

/// A loop whose header has no checkpoint: every iteration first calls
/// `$rec`, which keeps its entry checkpoint (it is recursive).
const LOOP_AROUND_A_CALL: &str = r#"(module
  (func $rec (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (call $rec (i32.sub (local.get 0) (i32.const 1))))
      (else (i32.const 0))))
  (func (export "spin") (loop (drop (call $rec (i32.const 2))) (br 0))))"#;

#[test]
fn a_loop_without_its_own_checkpoint_still_yields_in_its_callee() {
    let fuel = Config { fuel: Some(10_000), ..Config::default() };
    let mut inst = instance_with(LOOP_AROUND_A_CALL, &fuel);
    assert_eq!(trap_of(inst.invoke("spin", &[])).code, TrapCode::FuelExhausted);
    let timeout = Config { timeout: Some(Duration::from_millis(100)), ..Config::default() };
    let mut inst = instance_with(LOOP_AROUND_A_CALL, &timeout);
    assert_eq!(trap_of(inst.invoke("spin", &[])).code, TrapCode::Interrupted);
}

/// `$spin` has no entry checkpoint (its loop keeps its header's, and it
/// calls nothing): the header is what stops it.
const SPIN_WITHOUT_ENTRY_CHECKPOINT: &str = r#"(module
  (func $spin (param i32) (result i32)
    (loop $l (br_if $l (local.tee 0 (i32.rotl (local.get 0) (i32.const 1)))))
    (local.get 0))
  (func (export "spin") (param i32) (result i32) (call $spin (local.get 0))))"#;

#[test]
fn a_function_without_entry_checkpoint_stops_at_its_loop_header() {
    let wasm = wat::parse_str(SPIN_WITHOUT_ENTRY_CHECKPOINT).unwrap();
    let module = kwo_verifier::verify(&wasm, &Policy::kernel()).unwrap();
    assert_eq!(module.checkpoints.entry, vec![false, false]);
    // From 0 the loop runs once and returns.
    let mut inst = instance(SPIN_WITHOUT_ENTRY_CHECKPOINT);
    assert_eq!(inst.invoke("spin", &[Val::I32(0)]).unwrap(), vec![Val::I32(0)]);
    // From 1 it would never end: fuel or the clock stops it.
    let fuel = Config { fuel: Some(10_000), ..Config::default() };
    let mut inst = instance_with(SPIN_WITHOUT_ENTRY_CHECKPOINT, &fuel);
    assert_eq!(trap_of(inst.invoke("spin", &[Val::I32(1)])).code, TrapCode::FuelExhausted);
    let timeout = Config { timeout: Some(Duration::from_millis(50)), ..Config::default() };
    let mut inst = instance_with(SPIN_WITHOUT_ENTRY_CHECKPOINT, &timeout);
    assert_eq!(trap_of(inst.invoke("spin", &[Val::I32(1)])).code, TrapCode::Interrupted);
}

#[test]
fn memory_grow_and_bounds() {
    let wat = r#"(module (memory 1 4)
      (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
      (func (export "size") (result i32) memory.size)
      (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
      (func (export "load") (param i32) (result i32) local.get 0 i32.load))"#;
    let mut inst = instance(wat);
    inst.invoke("store", &[Val::I32(65532), Val::I32(77)])
        .unwrap();
    let t = trap_of(inst.invoke("load", &[Val::I32(65533)]));
    assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
    assert_eq!(
        inst.invoke("grow", &[Val::I32(2)]).unwrap(),
        vec![Val::I32(1)]
    );
    assert_eq!(inst.invoke("size", &[]).unwrap(), vec![Val::I32(3)]);
    // The old contents stay; the new pages are zero.
    assert_eq!(
        inst.invoke("load", &[Val::I32(65532)]).unwrap(),
        vec![Val::I32(77)]
    );
    assert_eq!(
        inst.invoke("load", &[Val::I32(3 * 65536 - 4)]).unwrap(),
        vec![Val::I32(0)]
    );
    assert_eq!(
        inst.invoke("grow", &[Val::I32(2)]).unwrap(),
        vec![Val::I32(-1)]
    );
}

const GROWER: &str = r#"(module (memory 1)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store))"#;

/// Pages the runtime allows a memory without a declared maximum
/// (`kwo_config.max_memory_pages`'s default: 1 GiB).
const CONFIG_MAX_PAGES: usize = 16384;

#[test]
fn memory_grows_in_place() {
    let mut inst = instance(GROWER);
    let base = inst.memory().as_ptr();
    inst.invoke("store", &[Val::I32(65532), Val::I32(77)]).unwrap();
    for pages in 1..300usize {
        assert_eq!(inst.invoke("grow", &[Val::I32(1)]).unwrap(), vec![Val::I32(pages as i32)]);
        let mem = inst.memory();
        assert_eq!(mem.as_ptr(), base, "the memory moved at grow {pages}");
        assert_eq!(mem.len(), (pages + 1) << 16);
        assert_eq!(mem[65532..65536], 77u32.to_le_bytes(), "contents lost at grow {pages}");
        assert!(mem[pages << 16..].iter().all(|&b| b == 0), "new page {pages} is not zero");
        let last = ((pages + 1) << 16) - 4;
        inst.invoke("store", &[Val::I32(last as i32), Val::I32(pages as i32)]).unwrap();
    }
    // Up to the runtime's cap in one grow, then one page more fails and
    // changes nothing; the last byte of the memory is writable.
    let size = inst.memory().len() >> 16;
    let delta = (CONFIG_MAX_PAGES - size) as i32;
    assert_eq!(inst.invoke("grow", &[Val::I32(delta)]).unwrap(), vec![Val::I32(size as i32)]);
    assert_eq!(inst.invoke("grow", &[Val::I32(1)]).unwrap(), vec![Val::I32(-1)]);
    let end = CONFIG_MAX_PAGES << 16;
    inst.invoke("store", &[Val::I32((end - 4) as i32), Val::I32(-1)]).unwrap();
    let t = trap_of(inst.invoke("store", &[Val::I32((end - 3) as i32), Val::I32(0)]));
    assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
    let mem = inst.memory();
    assert_eq!((mem.as_ptr(), mem.len()), (base, end));
    assert_eq!(mem[end - 4..], [0xff; 4]);
    assert_eq!(mem[(size << 16) - 4..size << 16], ((size - 1) as u32).to_le_bytes());
}

#[test]
fn many_instances_each_have_their_own_reservation() {
    // 8 GiB of address space each: 256 of them are 2 TiB, well inside a
    // 47-bit address space, and cost only the pages they map.
    let kwo = kwo_of(GROWER, &Policy::kernel());
    let mut insts: Vec<Instance> =
        (0..256).map(|_| Instance::new(&kwo, &Config::default()).expect("instantiates")).collect();
    let bases: Vec<usize> = insts.iter().map(|i| i.memory().as_ptr() as usize).collect();
    let mut sorted = bases.clone();
    sorted.sort_unstable();
    assert!(sorted.windows(2).all(|w| w[1] - w[0] >= 8 << 30), "reservations overlap");
    for (n, inst) in insts.iter_mut().enumerate() {
        assert_eq!(inst.invoke("grow", &[Val::I32(1)]).unwrap(), vec![Val::I32(1)]);
        inst.invoke("store", &[Val::I32(0x1fffc), Val::I32(n as i32)]).unwrap();
    }
    for (n, inst) in insts.iter().enumerate() {
        let mem = inst.memory();
        assert_eq!(mem.as_ptr() as usize, bases[n]);
        assert_eq!(mem[0x1fffc..], (n as u32).to_le_bytes());
    }
}

#[test]
fn bulk_memory_and_data_segments() {
    let wat = r#"(module (memory 1)
      (data (i32.const 16) "hello")
      (data $p "world")
      (func (export "init") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.init $p)
      (func (export "drop") data.drop $p)
      (func (export "fill") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.fill)
      (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.copy)
      (func (export "byte") (param i32) (result i32) local.get 0 i32.load8_u))"#;
    let mut inst = instance(wat);
    let byte = |inst: &mut Instance, a: i32| inst.invoke("byte", &[Val::I32(a)]).unwrap()[0];
    assert_eq!(byte(&mut inst, 16), Val::I32(b'h' as i32));
    inst.invoke("init", &[Val::I32(100), Val::I32(1), Val::I32(4)])
        .unwrap();
    assert_eq!(byte(&mut inst, 100), Val::I32(b'o' as i32));
    inst.invoke("copy", &[Val::I32(17), Val::I32(16), Val::I32(5)])
        .unwrap();
    assert_eq!(byte(&mut inst, 21), Val::I32(b'o' as i32));
    inst.invoke("fill", &[Val::I32(200), Val::I32(0x1ab), Val::I32(3)])
        .unwrap();
    assert_eq!(byte(&mut inst, 202), Val::I32(0xab));
    let t = trap_of(inst.invoke("fill", &[Val::I32(65530), Val::I32(0), Val::I32(7)]));
    assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
    inst.invoke("drop", &[]).unwrap();
    let t = trap_of(inst.invoke("init", &[Val::I32(0), Val::I32(0), Val::I32(1)]));
    assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
}

/// memory.fill and memory.copy past 1 MiB run in 1 MiB pieces with a
/// reschedule point between them (kmod/core/builtins.c): overlapping copies
/// in both directions, lengths that are no multiple of a piece, and a
/// refused out-of-bounds fill, each against the same operation on a copy.
#[test]
fn bulk_memory_in_pieces() {
    let wat = r#"(module (memory 64)
      (func (export "iota") (local $i i32)
        (loop $l
          (i32.store8 (local.get $i)
            (i32.add (i32.mul (local.get $i) (i32.const 31))
                     (i32.shr_u (local.get $i) (i32.const 16))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 0x400000)))))
      (func (export "fill") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.fill)
      (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.copy))"#;
    let iota: Vec<u8> = (0..0x40_0000u32).map(|i| (i.wrapping_mul(31) + (i >> 16)) as u8).collect();
    let mut inst = instance(wat);
    let args = |a: u32, b: u32, c: u32| [Val::I32(a as i32), Val::I32(b as i32), Val::I32(c as i32)];
    // (dst, src, len): up by a piece and 3 bytes, down, and down by less
    // than a piece over several pieces.
    for (dst, src, len) in [(1_048_579, 17, 2_500_001), (5, 1_048_580, 2_900_000), (100, 4196, 3_000_000)] {
        inst.invoke("iota", &[]).unwrap();
        inst.invoke("copy", &args(dst, src, len)).unwrap();
        let mut want = iota.clone();
        want.copy_within(src as usize..(src + len) as usize, dst as usize);
        assert!(inst.memory() == &want[..], "copy {len} bytes from {src} to {dst}");
    }
    inst.invoke("iota", &[]).unwrap();
    inst.invoke("fill", &args(3, 0x1ab, 3 * 1_048_576 + 7)).unwrap();
    let mut want = iota.clone();
    want[3..3 + 3 * 1_048_576 + 7].fill(0xab);
    assert!(inst.memory() == &want[..], "fill of 3 MiB + 7");
    let t = trap_of(inst.invoke("fill", &args(1, 0, 0x40_0000)));
    assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
    assert!(inst.memory() == &want[..], "an out-of-bounds fill wrote");
}

#[test]
fn out_of_bounds_data_segment_fails_instantiation() {
    let wasm = kwo_of(
        r#"(module (memory 1) (data (i32.const 65534) "abc"))"#,
        &Policy::kernel(),
    );
    match Instance::new(&wasm, &Config::default()) {
        Err(RunError::Trap(t)) => assert_eq!(t.code.message(), "out of bounds memory access"),
        other => panic!("expected a trap, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn tables_and_indirect_calls() {
    let wat = r#"(module
      (type $t (func (result i32)))
      (table $tab 2 10 funcref)
      (elem (i32.const 0) $one $two)
      (func $one (result i32) i32.const 1)
      (func $two (result i32) i32.const 2)
      (func (export "call") (param i32) (result i32) local.get 0 call_indirect (type $t))
      (func (export "grow") (param i32) (result i32) ref.null func local.get 0 table.grow $tab)
      (func (export "size") (result i32) table.size $tab)
      (func (export "fill") (param i32 i32) local.get 0 ref.func $two local.get 1 table.fill $tab)
      (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 table.copy))"#;
    let mut inst = instance(wat);
    assert_eq!(
        inst.invoke("call", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(2)]
    );
    let t = trap_of(inst.invoke("call", &[Val::I32(2)]));
    assert_eq!(t.code, TrapCode::UndefinedElement);
    assert_eq!(
        inst.invoke("grow", &[Val::I32(3)]).unwrap(),
        vec![Val::I32(2)]
    );
    assert_eq!(inst.invoke("size", &[]).unwrap(), vec![Val::I32(5)]);
    let t = trap_of(inst.invoke("call", &[Val::I32(4)]));
    assert_eq!(t.code, TrapCode::UninitializedElement);
    inst.invoke("fill", &[Val::I32(3), Val::I32(2)]).unwrap();
    assert_eq!(
        inst.invoke("call", &[Val::I32(4)]).unwrap(),
        vec![Val::I32(2)]
    );
    inst.invoke("copy", &[Val::I32(3), Val::I32(0), Val::I32(1)])
        .unwrap();
    assert_eq!(
        inst.invoke("call", &[Val::I32(3)]).unwrap(),
        vec![Val::I32(1)]
    );
    let t = trap_of(inst.invoke("fill", &[Val::I32(4), Val::I32(2)]));
    assert_eq!(t.code, TrapCode::TableOutOfBounds);
    assert_eq!(
        inst.invoke("grow", &[Val::I32(6)]).unwrap(),
        vec![Val::I32(-1)]
    );
}

#[test]
fn a_table_that_cannot_grow_keeps_its_bounds_and_contents() {
    // min = max: the compiler takes the length as a constant and the base
    // as fixed; growing fails (or, by 0, changes nothing) and every bound
    // still traps where the spec says, in a loop that calls through it.
    let wat = r#"(module
      (type $t (func (result i32)))
      (table $tab 3 3 funcref)
      (elem (i32.const 0) $one $two)
      (func $one (result i32) i32.const 1)
      (func $two (result i32) i32.const 2)
      (func (export "call") (param i32) (result i32) local.get 0 call_indirect (type $t))
      (func (export "sum") (param $n i32) (result i32) (local $s i32)
        (loop $l
          (local.set $s (i32.add (local.get $s)
            (call_indirect (type $t) (i32.and (local.get $n) (i32.const 1)))))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
        (local.get $s))
      (func (export "grow") (param i32) (result i32) ref.null func local.get 0 table.grow $tab)
      (func (export "size") (result i32) table.size $tab)
      (func (export "set") (param i32) local.get 0 ref.func $one table.set $tab)
      (func (export "get_null") (param i32) (result i32) local.get 0 table.get $tab ref.is_null))"#;
    let mut inst = instance(wat);
    assert_eq!(inst.invoke("sum", &[Val::I32(10)]).unwrap(), vec![Val::I32(15)]);
    assert_eq!(inst.invoke("grow", &[Val::I32(1)]).unwrap(), vec![Val::I32(-1)]);
    assert_eq!(inst.invoke("grow", &[Val::I32(0)]).unwrap(), vec![Val::I32(3)]);
    assert_eq!(inst.invoke("size", &[]).unwrap(), vec![Val::I32(3)]);
    assert_eq!(trap_of(inst.invoke("call", &[Val::I32(2)])).code, TrapCode::UninitializedElement);
    assert_eq!(trap_of(inst.invoke("call", &[Val::I32(3)])).code, TrapCode::UndefinedElement);
    assert_eq!(trap_of(inst.invoke("call", &[Val::I32(-1)])).code, TrapCode::UndefinedElement);
    assert_eq!(inst.invoke("get_null", &[Val::I32(2)]).unwrap(), vec![Val::I32(1)]);
    inst.invoke("set", &[Val::I32(2)]).unwrap();
    assert_eq!(inst.invoke("call", &[Val::I32(2)]).unwrap(), vec![Val::I32(1)]);
    assert_eq!(trap_of(inst.invoke("set", &[Val::I32(3)])).code, TrapCode::TableOutOfBounds);
    assert_eq!(trap_of(inst.invoke("get_null", &[Val::I32(3)])).code, TrapCode::TableOutOfBounds);
}

#[test]
fn globals_are_readable() {
    let wat = r#"(module (global (export "g") (mut i64) (i64.const -5))
      (func (export "set") (param i64) local.get 0 global.set 0))"#;
    let mut inst = instance(wat);
    assert_eq!(inst.global("g"), Some(Val::I64(-5)));
    inst.invoke("set", &[Val::I64(9)]).unwrap();
    assert_eq!(inst.global("g"), Some(Val::I64(9)));
    assert_eq!(inst.global("nope"), None);
}

const WASI: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $asz (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 8) "hi there\n")
  (func (export "out") (param i32) (result i32)
    (i32.store (i32.const 0) (i32.const 8)) (i32.store (i32.const 4) (i32.const 9))
    (call $w (local.get 0) (i32.const 0) (i32.const 1) (i32.const 100)))
  (func (export "bad_ptr") (result i32)
    (call $w (i32.const 1) (i32.const 65535) (i32.const 1) (i32.const 100)))
  (func (export "argc") (result i32)
    (drop (call $asz (i32.const 200) (i32.const 204))) (i32.load (i32.const 200)))
  (func (export "echo") (result i32)
    (i32.store (i32.const 0) (i32.const 300)) (i32.store (i32.const 4) (i32.const 64))
    (drop (call $r (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 100)))
    (i32.store (i32.const 4) (i32.load (i32.const 100)))
    (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 100)))
  (func (export "_start") (call $exit (i32.const 7))))"#;

#[test]
fn wasi_output_exit_args_stdin() {
    let config = Config {
        args: vec!["prog".into(), "a".into(), "b".into()],
        stdio: Stdio::Capture(b"from stdin".to_vec()),
        ..Config::default()
    };
    let mut inst = instance_with(WASI, &config);
    assert_eq!(
        inst.invoke("out", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(0)]
    );
    assert_eq!(
        inst.invoke("out", &[Val::I32(2)]).unwrap(),
        vec![Val::I32(0)]
    );
    assert_eq!(
        inst.invoke("out", &[Val::I32(5)]).unwrap(),
        vec![Val::I32(8)],
        "EBADF"
    );
    assert_eq!(
        inst.invoke("bad_ptr", &[]).unwrap(),
        vec![Val::I32(21)],
        "EFAULT"
    );
    assert_eq!(inst.take_stdout(), b"hi there\n");
    assert_eq!(inst.take_stderr(), b"hi there\n");
    assert_eq!(inst.invoke("argc", &[]).unwrap(), vec![Val::I32(3)]);
    inst.invoke("echo", &[]).unwrap();
    assert_eq!(inst.take_stdout(), b"from stdin");
    assert_eq!(inst.invoke("_start", &[]), Err(RunError::Exit(7)));
}

#[test]
fn output_is_never_cut() {
    // The old per-call buffer kept 1 MiB; captured output has no bound.
    let mut inst = instance_with(WASI, &Config::default());
    let calls = 150_000;
    for _ in 0..calls {
        assert_eq!(inst.invoke("out", &[Val::I32(1)]).unwrap(), vec![Val::I32(0)]);
    }
    let out = inst.take_stdout();
    assert_eq!(out.len(), calls * 9);
    assert!(out.chunks(9).all(|c| c == b"hi there\n"));
    assert!(inst.take_stdout().is_empty(), "taken once");
    assert!(inst.lost_output().is_none());
}

#[test]
fn start_function_runs_at_instantiation() {
    let wat = r#"(module (global (export "g") (mut i32) (i32.const 0))
      (func $s (global.set 0 (i32.const 11))) (start $s))"#;
    assert_eq!(instance(wat).global("g"), Some(Val::I32(11)));
    let wasm = kwo_of(
        r#"(module (func $s unreachable) (start $s))"#,
        &Policy::kernel(),
    );
    assert!(matches!(
        Instance::new(&wasm, &Config::default()),
        Err(RunError::Trap(_))
    ));
}

#[test]
fn budget_is_clamped_to_a_small_thread_stack() {
    let wat = r#"(module
      (func $rec (export "rec") (param i32) (result i32)
        local.get 0 i32.eqz if (result i32) i32.const 0 else
        local.get 0 i32.const 1 i32.sub call $rec i32.const 1 i32.add end))"#;
    let kwo = kwo_of(wat, &Policy::kernel());
    // A 64 MiB budget on a 1 MiB thread: without the clamp this overruns.
    let config = Config {
        stack_budget: 64 << 20,
        ..Config::default()
    };
    let worker = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let mut inst = Instance::new(&kwo, &config).expect("instantiates");
            let t = trap_of(inst.invoke("rec", &[Val::I32(10_000_000)]));
            assert_eq!(t.code, TrapCode::StackExhausted);
            assert_eq!(
                inst.invoke("rec", &[Val::I32(100)]).unwrap(),
                vec![Val::I32(100)]
            );
        })
        .unwrap();
    worker.join().expect("the small-stack thread survived");
}

#[test]
fn code_memory_is_never_writable_and_executable() {
    let mut inst = instance(ARITH);
    assert_eq!(
        inst.invoke("add", &[Val::I32(1), Val::I32(2)]).unwrap(),
        vec![Val::I32(3)]
    );
    let maps = std::fs::read_to_string("/proc/self/maps").expect("reading /proc/self/maps");
    let wx: Vec<&str> = maps
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|p| p.starts_with("rwx"))
        })
        .collect();
    assert!(wx.is_empty(), "writable+executable mappings: {wx:?}");
}
