//! Bounds checks of accesses of one index, and accesses whose check an
//! earlier one covers (compiler/src/translate/bounds.rs), at run time: one
//! index stored at offsets 0, 4, 8, ... and loaded at the largest, for
//! every index around the end of the memory, at several memory sizes
//! (none, one page, grown to two), must trap at exactly the
//! first access that does not fit, with every store before it done, and
//! leave the memory exactly as a byte-by-byte model of the spec says.

mod common;

use kwo_loader::runtime::{Config, Instance, RunError, TrapCode, Val};
use kwo_verifier::VerifiedModule;

/// `fields(p)` stores at `p+0`, `p+4`, `p+8`, `p+10`, `p+16` and loads
/// the 8 bytes at `p+56`, each reaching further than the ones before.
/// `covered(p)` loads at `p+56`, calls a
/// function and grows the memory by 0 pages, then stores at `p+0` in
/// either arm of an `if` and loads at `p+60` after it, without checks of
/// their own. `byte(a)` reads one byte;
/// `grow(n)` grows the memory.
fn module(min_pages: u32) -> String {
    format!(
        r#"(module (memory {min_pages})
      (func $nothing)
      (func (export "fields") (param $p i32) (result i64)
        (i32.store offset=0 (local.get $p) (i32.const 0x14131211))
        (i32.store offset=4 (local.get $p) (i32.const 0x24232221))
        (i32.store16 offset=8 (local.get $p) (i32.const 0x3231))
        (i32.store8 offset=10 (local.get $p) (i32.const 0x41))
        (i64.store offset=16 (local.get $p) (i64.const 0x5857565554535251))
        (i64.load offset=56 (local.get $p)))
      (func (export "covered") (param $p i32) (result i32)
        (drop (i64.load offset=56 (local.get $p)))
        (call $nothing)
        (drop (memory.grow (i32.const 0)))
        (if (i32.and (local.get $p) (i32.const 1))
          (then (i32.store offset=0 (local.get $p) (i32.const 0x64636261)))
          (else (i32.store offset=0 (local.get $p) (i32.const 0x64636261))))
        (i32.load offset=60 (local.get $p)))
      (func (export "byte") (param $a i32) (result i32)
        (i32.load8_u (local.get $a)))
      (func (export "grow") (param i32) (result i32)
        (memory.grow (local.get 0))))"#
    )
}

/// One access of `fields` or `covered`: its encoding (opcode, alignment
/// exponent, one-byte offset), where it reaches and what it stores.
struct Access {
    code: [u8; 3],
    offset: u32,
    size: u32,
    stores: Option<u64>,
}

impl Access {
    const fn store(code: [u8; 3], size: u32, value: u64) -> Self {
        Access { code, offset: code[2] as u32, size, stores: Some(value) }
    }

    const fn load(code: [u8; 3], size: u32) -> Self {
        Access { code, offset: code[2] as u32, size, stores: None }
    }
}

const FIELDS: [Access; 6] = [
    Access::store([0x36, 2, 0], 4, 0x1413_1211),
    Access::store([0x36, 2, 4], 4, 0x2423_2221),
    Access::store([0x3b, 1, 8], 2, 0x3231),
    Access::store([0x3a, 0, 10], 1, 0x41),
    Access::store([0x37, 3, 16], 8, 0x5857_5655_5453_5251),
    Access::load([0x29, 3, 56], 8),
];

/// In `covered`, only the first access has a check; the later ones fit
/// whenever it does, and must never trap.
const COVERED: [Access; 3] =
    [Access::load([0x29, 3, 56], 8), Access::store([0x36, 2, 0], 4, 0x6463_6261), Access::load([0x28, 2, 60], 4)];

/// The module offset of the access encoded `code` in function `func`
/// (a defined function's index; none is imported).
fn site(module: &VerifiedModule, func: usize, code: [u8; 3]) -> u32 {
    let body = &module.bodies[func];
    let bytes = &module.wasm[body.range.clone()];
    let at = bytes.windows(3).position(|w| w == code).expect("the access is in the body");
    (body.range.start + at) as u32
}

fn instance(module: &VerifiedModule, elide_proven: bool) -> Instance {
    common::instance_with(module, elide_proven, &Config::default())
}

/// Runs `export(p)` for every `p` near the end of `model`'s memory, checks
/// each result or trap against the spec, then the memory's last bytes.
fn sweep(inst: &mut Instance, module: &VerifiedModule, func: usize, accesses: &[Access], model: &mut [u8]) {
    let export = if func == 1 { "fields" } else { "covered" };
    let size = model.len() as i64;
    for p in (size - 80..=size + 8).chain([i64::from(u32::MAX)]) {
        if p < 0 {
            continue;
        }
        let mut expected = Ok(vec![Val::I64(0)]);
        for access in accesses {
            let at = (p + i64::from(access.offset)) as usize;
            if at + access.size as usize > model.len() {
                expected = Err(site(module, func, access.code));
                break;
            }
            let bytes = at..at + access.size as usize;
            match access.stores {
                Some(v) => model[bytes].copy_from_slice(&v.to_le_bytes()[..access.size as usize]),
                None => {
                    let mut word = [0; 8];
                    word[..access.size as usize].copy_from_slice(&model[bytes]);
                    let v = u64::from_le_bytes(word);
                    expected = Ok(vec![if access.size == 8 { Val::I64(v as i64) } else { Val::I32(v as i32) }]);
                }
            }
        }
        let got = inst.invoke(export, &[Val::I32(p as u32 as i32)]);
        match (expected, got) {
            (Ok(want), Ok(got)) => assert_eq!(got, want, "{export}({p}), memory {size}"),
            (Err(want_site), Err(RunError::Trap(t))) => {
                assert_eq!(t.code, TrapCode::MemoryOutOfBounds, "{export}({p}), memory {size}");
                assert_eq!(t.wasm_offset, Some(want_site), "{export}({p}), memory {size}: trapping access");
            }
            (want, got) => panic!("{export}({p}), memory {size}: expected {want:?}, got {got:?}"),
        }
    }
    for a in model.len().saturating_sub(100)..model.len() {
        let got = inst.invoke("byte", &[Val::I32(a as i32)]).unwrap();
        assert_eq!(got, vec![Val::I32(i32::from(model[a]))], "byte {a} after {export}, memory {size}");
    }
}

fn check(min_pages: u32) {
    let module = common::verified(&module(min_pages));
    for elide in [true, false] {
        let mut inst = instance(&module, elide);
        let mut model = vec![0u8; min_pages as usize * 65536];
        for _ in 0..2 {
            sweep(&mut inst, &module, 1, &FIELDS, &mut model);
            sweep(&mut inst, &module, 2, &COVERED, &mut model);
            let old_pages = model.len() as i32 / 65536;
            assert_eq!(inst.invoke("grow", &[Val::I32(1)]).unwrap(), vec![Val::I32(old_pages)]);
            model.resize(model.len() + 65536, 0);
        }
        sweep(&mut inst, &module, 1, &FIELDS, &mut model);
        sweep(&mut inst, &module, 2, &COVERED, &mut model);
    }
}

#[test]
fn accesses_of_one_index_trap_at_the_first_that_does_not_fit() {
    check(1);
}

#[test]
fn an_empty_memory_fails_every_access_until_it_grows() {
    check(0);
}
