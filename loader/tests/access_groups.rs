//! Groups of loads through one unchanged pointer, checked with one compare
//! (verifier/src/analysis/access_groups.rs, compiler/src/translate/
//! bounds.rs), at run time. `group(p)` loads `p+0` (i32), `p+4` (i32) and
//! `p+8` (i64) with a `global.get`, a `select` and `local.set`s of other
//! locals between them; for every `p` around the end of the memory it must
//! return what the spec says or trap at exactly the first load that does
//! not fit — all fit, only the last fails, the middle one fails, the first
//! fails — with the checks of proven accesses elided and without (the
//! latter compiles no group). Four more functions put between two such
//! loads something that must end the group, and must behave as the spec
//! says: a store (done before the later trap), a division (its trap comes
//! first), a call (it grows the memory, so the later load fits) and a
//! `local.set` of the pointer (the later load reads elsewhere). And a
//! check made in a block before its branch out covers the loads after the
//! block's end, one made after the branch does not (`joined`).

mod common;

use kwo_loader::runtime::{Config, Instance, RunError, TrapCode, Val};
use kwo_verifier::VerifiedModule;

const MODULE: &str = r#"(module (memory 1)
  (global $calls (export "calls") (mut i32) (i32.const 0))
  (data (i32.const 65500) "\01\12\23\34\45\56\67\78\89\9a\ab\bc\cd\de\ef\f0\0f\1e\2d\3c\4b\5a\69\78\87\96\a5\b4\c3\d2\e1\f0\11\22\33\44")
  (func $grow_one
    (drop (memory.grow (i32.const 1)))
    (global.set $calls (i32.add (global.get $calls) (i32.const 1))))
  (func (export "group") (param $p i32) (result i64) (local $a i32) (local $b i32)
    (local.set $a (i32.load offset=0 (local.get $p)))
    (local.set $b (i32.xor (global.get $calls) (i32.load offset=4 (local.get $p))))
    (local.set $b (select (local.get $b) (local.get $a) (i32.const 1)))
    (i64.xor
      (i64.xor (i64.extend_i32_u (local.get $a)) (i64.shl (i64.extend_i32_u (local.get $b)) (i64.const 16)))
      (i64.load offset=8 (local.get $p))))
  (func (export "store") (param $p i32) (result i64) (local $a i32)
    (local.set $a (i32.load offset=0 (local.get $p)))
    (i32.store offset=16 (i32.const 0) (local.get $a))
    (i64.add (i64.extend_i32_u (local.get $a)) (i64.load offset=8 (local.get $p))))
  (func (export "div") (param $p i32) (param $d i32) (result i64) (local $a i32)
    (local.set $a (i32.div_u (i32.load offset=0 (local.get $p)) (local.get $d)))
    (i64.add (i64.extend_i32_u (local.get $a)) (i64.load offset=8 (local.get $p))))
  (func (export "call") (param $p i32) (result i64) (local $a i32)
    (local.set $a (i32.load offset=0 (local.get $p)))
    (call $grow_one)
    (i64.add (i64.extend_i32_u (local.get $a)) (i64.load offset=8 (local.get $p))))
  (func (export "set") (param $p i32) (param $q i32) (result i64) (local $a i32)
    (local.set $a (i32.load offset=0 (local.get $p)))
    (local.set $p (local.get $q))
    (i64.add (i64.extend_i32_u (local.get $a)) (i64.load offset=8 (local.get $p))))
  (func (export "joined") (param $p i32) (param $c i32) (result i64) (local $a i32)
    (block $b
      (local.set $a (i32.load offset=8 (local.get $p)))
      (br_if $b (local.get $c))
      (local.set $a (i32.add (local.get $a) (i32.load16_u offset=14 (local.get $p)))))
    (i64.add
      (i64.extend_i32_u (i32.add (local.get $a) (i32.load offset=4 (local.get $p))))
      (i64.load32_u offset=12 (local.get $p)))))"#;

const PAGE: u64 = 65536;

/// Defined function indexes (none is imported).
const GROUP: usize = 1;
const STORE: usize = 2;
const DIV: usize = 3;
const CALL: usize = 4;
const SET: usize = 5;
const JOINED: usize = 6;

/// Encodings (opcode, alignment exponent, offset) of the three loads.
const LOAD0: [u8; 3] = [0x28, 2, 0];
const LOAD4: [u8; 3] = [0x28, 2, 4];
const LOAD8: [u8; 3] = [0x29, 3, 8];

/// The module offset of the first occurrence of `code` in defined function
/// `func`, plus `skip` bytes.
fn site(module: &VerifiedModule, func: usize, code: &[u8], skip: usize) -> u32 {
    let body = &module.bodies[func];
    let bytes = &module.wasm[body.range.clone()];
    let at = bytes.windows(code.len()).position(|w| w == code).expect("the operator is in the body");
    (body.range.start + at + skip) as u32
}

/// The memory as the data segment leaves it, `pages` long.
fn initial_memory(pages: u64) -> Vec<u8> {
    let mut mem = vec![0; (pages * PAGE) as usize];
    let data = b"\x01\x12\x23\x34\x45\x56\x67\x78\x89\x9a\xab\xbc\xcd\xde\xef\xf0\x0f\x1e\x2d\x3c\x4b\x5a\x69\x78\x87\x96\xa5\xb4\xc3\xd2\xe1\xf0\x11\x22\x33\x44";
    mem[65500..65500 + data.len()].copy_from_slice(data);
    mem
}

/// The little-endian value of `size` bytes at `at`, or `None` when they do
/// not all fit in `mem`.
fn read(mem: &[u8], at: u64, size: usize) -> Option<u64> {
    let at = usize::try_from(at).ok()?;
    let bytes = mem.get(at..at.checked_add(size)?)?;
    let mut word = [0; 8];
    word[..size].copy_from_slice(bytes);
    Some(u64::from_le_bytes(word))
}

/// The outcome the spec gives: the result, or the trap's code and site.
type Expected = Result<i64, (TrapCode, u32)>;

fn outcome(inst: &mut Instance, export: &str, args: &[Val]) -> Expected {
    match inst.invoke(export, args) {
        Ok(v) => match v.as_slice() {
            [Val::I64(r)] => Ok(*r),
            other => panic!("{export}{args:?}: unexpected results {other:?}"),
        },
        Err(RunError::Trap(t)) => Err((t.code, t.wasm_offset.expect("a trap site"))),
        Err(e) => panic!("{export}{args:?}: {e:?}"),
    }
}

fn instance(module: &VerifiedModule, elide_proven: bool) -> Instance {
    common::instance_with(module, elide_proven, &Config::default())
}

/// `group(p)` by the spec, over `mem`.
fn group_model(module: &VerifiedModule, mem: &[u8], p: u64) -> Expected {
    let oob = |code| Err((TrapCode::MemoryOutOfBounds, site(module, GROUP, code, 0)));
    let Some(a) = read(mem, p, 4) else { return oob(&LOAD0) };
    let Some(b) = read(mem, p + 4, 4) else { return oob(&LOAD4) };
    let Some(c) = read(mem, p + 8, 8) else { return oob(&LOAD8) };
    // `calls` is 0: nothing calls `grow_one` in these instances.
    Ok((a ^ (b << 16) ^ c) as i64)
}

/// The indexes tried: around the end of the memory, and the largest.
fn indexes() -> impl Iterator<Item = u64> {
    (PAGE - 28..=PAGE + 2).chain([0, u64::from(u32::MAX)])
}

#[test]
fn a_group_traps_at_its_first_load_that_does_not_fit() {
    let module = common::verified(MODULE);
    let groups = &module.access_groups[GROUP];
    let first = groups
        .suffix_at(site(&module, GROUP, &LOAD0, 0) as usize)
        .expect("the three loads form a group");
    assert_eq!(first.entries.len(), 3, "each load reaches further than the one before");
    assert_eq!(first.reach(), 16);
    let mem = initial_memory(1);
    let mut seen = [0; 4];
    for elide in [true, false] {
        let mut inst = instance(&module, elide);
        for p in indexes() {
            let want = group_model(&module, &mem, p);
            let got = outcome(&mut inst, "group", &[Val::I32(p as u32 as i32)]);
            assert_eq!(got, want, "group({p}), elision {elide}");
            // Which case this index is: all fit, or which load failed.
            let case = match want {
                Ok(_) => 0,
                Err((_, s)) if s == site(&module, GROUP, &LOAD8, 0) => 1,
                Err((_, s)) if s == site(&module, GROUP, &LOAD4, 0) => 2,
                Err(_) => 3,
            };
            seen[case] += 1;
        }
    }
    assert!(seen.iter().all(|&n| n > 0), "every case is tried: {seen:?}");
}

/// A store between two loads ends the group: it happens before the later
/// load traps.
#[test]
fn a_store_between_ends_the_group() {
    let module = common::verified(MODULE);
    assert!(module.access_groups[STORE].suffixes.is_empty(), "no group across the store");
    let load0 = site(&module, STORE, &LOAD0, 0);
    let load8 = site(&module, STORE, &LOAD8, 0);
    for elide in [true, false] {
        let mut inst = instance(&module, elide);
        for p in indexes() {
            let mut mem = initial_memory(1);
            mem[16..20].copy_from_slice(&inst.memory()[16..20]);
            let want = match read(&mem, p, 4) {
                None => Err((TrapCode::MemoryOutOfBounds, load0)),
                Some(a) => {
                    mem[16..20].copy_from_slice(&(a as u32).to_le_bytes());
                    read(&mem, p + 8, 8)
                        .map(|c| (a + c) as i64)
                        .ok_or((TrapCode::MemoryOutOfBounds, load8))
                }
            };
            let got = outcome(&mut inst, "store", &[Val::I32(p as u32 as i32)]);
            assert_eq!(got, want, "store({p}), elision {elide}");
            assert_eq!(inst.memory()[16..20], mem[16..20], "store({p}): the store is done");
        }
    }
}

/// A division between two loads ends the group: dividing by zero traps
/// before the later load would.
#[test]
fn a_division_between_ends_the_group() {
    let module = common::verified(MODULE);
    assert!(module.access_groups[DIV].suffixes.is_empty(), "no group across the division");
    let load0 = site(&module, DIV, &LOAD0, 0);
    let load8 = site(&module, DIV, &LOAD8, 0);
    // `local.get $d; i32.div_u`: the division is the third byte.
    let div = site(&module, DIV, &[0x20, 0x01, 0x6e], 2);
    let mem = initial_memory(1);
    for elide in [true, false] {
        let mut inst = instance(&module, elide);
        for p in indexes() {
            for d in [0u64, 1] {
                let want = match read(&mem, p, 4) {
                    None => Err((TrapCode::MemoryOutOfBounds, load0)),
                    Some(_) if d == 0 => Err((TrapCode::IntegerDivideByZero, div)),
                    Some(a) => read(&mem, p + 8, 8)
                        .map(|c| (a / d + c) as i64)
                        .ok_or((TrapCode::MemoryOutOfBounds, load8)),
                };
                let args = [Val::I32(p as u32 as i32), Val::I32(d as i32)];
                assert_eq!(outcome(&mut inst, "div", &args), want, "div({p}, {d}), elision {elide}");
            }
        }
    }
}

/// A call between two loads ends the group: here it grows the memory, so
/// the later load fits where it would not have before the call.
#[test]
fn a_call_between_ends_the_group() {
    let module = common::verified(MODULE);
    assert!(module.access_groups[CALL].suffixes.is_empty(), "no group across the call");
    let load0 = site(&module, CALL, &LOAD0, 0);
    let load8 = site(&module, CALL, &LOAD8, 0);
    for elide in [true, false] {
        for p in indexes() {
            // A fresh instance each time: the call grows the memory.
            let mut inst = instance(&module, elide);
            let mem = initial_memory(1);
            let (want, calls) = match read(&mem, p, 4) {
                None => (Err((TrapCode::MemoryOutOfBounds, load0)), 0),
                Some(a) => {
                    let grown = initial_memory(2);
                    let r = read(&grown, p + 8, 8)
                        .map(|c| (a + c) as i64)
                        .ok_or((TrapCode::MemoryOutOfBounds, load8));
                    (r, 1)
                }
            };
            let got = outcome(&mut inst, "call", &[Val::I32(p as u32 as i32)]);
            assert_eq!(got, want, "call({p}), elision {elide}");
            assert_eq!(inst.global("calls"), Some(Val::I32(calls)), "call({p}): the call ran");
        }
    }
}

/// A `local.set` of the pointer between two loads ends the group: the
/// later load reads through the new value.
#[test]
fn setting_the_pointer_ends_the_group() {
    let module = common::verified(MODULE);
    assert!(module.access_groups[SET].suffixes.is_empty(), "no group across the local.set");
    let load0 = site(&module, SET, &LOAD0, 0);
    let load8 = site(&module, SET, &LOAD8, 0);
    let mem = initial_memory(1);
    for elide in [true, false] {
        let mut inst = instance(&module, elide);
        for p in indexes() {
            for q in [PAGE - 36, PAGE - 16, PAGE - 15, p] {
                let want = match read(&mem, p, 4) {
                    None => Err((TrapCode::MemoryOutOfBounds, load0)),
                    Some(a) => read(&mem, q + 8, 8)
                        .map(|c| (a + c) as i64)
                        .ok_or((TrapCode::MemoryOutOfBounds, load8)),
                };
                let args = [Val::I32(p as u32 as i32), Val::I32(q as u32 as i32)];
                assert_eq!(outcome(&mut inst, "set", &args), want, "set({p}, {q}), elision {elide}");
            }
        }
    }
}

/// In `joined`, the load at `p+8` (12 bytes) is checked before the
/// `br_if` out of the block, the one at `p+14` (16 bytes) after it: after
/// the block's end only the first dominates, so the load at `p+4` needs no
/// check of its own and the one at `p+12` (16 bytes) keeps its check on
/// both paths.
#[test]
fn a_check_before_a_branch_out_of_a_block_covers_the_code_after_it() {
    let module = common::verified(MODULE);
    let load8 = site(&module, JOINED, &[0x28, 2, 8], 0);
    let load14 = site(&module, JOINED, &[0x2f, 1, 14], 0);
    let load4 = site(&module, JOINED, &[0x28, 2, 4], 0);
    let load12 = site(&module, JOINED, &[0x35, 2, 12], 0);
    let mem = initial_memory(1);
    for elide in [true, false] {
        let mut inst = instance(&module, elide);
        for p in indexes() {
            for c in [0u64, 1] {
                let want = (|| {
                    let mut a = read(&mem, p + 8, 4).ok_or((TrapCode::MemoryOutOfBounds, load8))?;
                    if c == 0 {
                        a += read(&mem, p + 14, 2).ok_or((TrapCode::MemoryOutOfBounds, load14))?;
                    }
                    let b = read(&mem, p + 4, 4).ok_or((TrapCode::MemoryOutOfBounds, load4))?;
                    let d = read(&mem, p + 12, 4).ok_or((TrapCode::MemoryOutOfBounds, load12))?;
                    Ok(u64::from((a as u32).wrapping_add(b as u32)) as i64 + d as i64)
                })();
                let args = [Val::I32(p as u32 as i32), Val::I32(c as i32)];
                assert_eq!(outcome(&mut inst, "joined", &args), want, "joined({p}, {c}), elision {elide}");
            }
        }
    }
}
