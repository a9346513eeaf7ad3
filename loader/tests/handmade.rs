//! The runtime without the compiler: hand-assembled x86_64 objects built
//! with `kwo_format::Object` exercise trampolines, host calls through
//! relocations and veneers, the trap path with its site table, and the
//! object validator (wrong target, malformed and mutated objects).

use kwo_format::*;
use kwo_loader::runtime::{Config, Instance, RunError, TrapCode, Val};

const I32: ValType = ValType::I32;

/// `vals[0] += 1`: mov eax,[rsi]; add eax,1; mov [rsi],eax; ret
const INC: &[u8] = &[0x8b, 0x06, 0x83, 0xc0, 0x01, 0x89, 0x06, 0xc3];

/// Calls KWO_HOST_TRAP(vmctx, 5): push rbp; mov rbp,rsp; mov esi,5;
/// call rel32 (relocated at +10); pop rbp; ret. Return address at +14.
const TRAP: &[u8] = &[
    0x55, 0x48, 0x89, 0xe5, 0xbe, 0x05, 0x00, 0x00, 0x00, 0xe8, 0, 0, 0, 0, 0x5d, 0xc3,
];

/// `vals[0] = memory_grow(vmctx, vals[0])` through a relocated call at +16.
const GROW: &[u8] = &[
    0x55, // push rbp
    0x48, 0x89, 0xe5, // mov rbp, rsp
    0x53, // push rbx
    0x48, 0x83, 0xec, 0x08, // sub rsp, 8
    0x48, 0x89, 0xf3, // mov rbx, rsi
    0x8b, 0x36, // mov esi, [rsi]
    0xe8, 0, 0, 0, 0, // call memory_grow
    0x89, 0x03, // mov [rbx], eax
    0x48, 0x83, 0xc4, 0x08, // add rsp, 8
    0x5b, // pop rbx
    0x5d, // pop rbp
    0xc3, // ret
];

fn sig(params: usize, results: usize, sig_id: u32) -> FuncSig {
    FuncSig {
        params: vec![I32; params],
        results: vec![I32; results],
        sig_id,
    }
}

fn func(code_off: usize, code: &[u8], name: &str) -> Func {
    Func {
        type_index: 0,
        code_off: code_off as u32,
        code_len: code.len() as u32,
        name: Some(name.into()),
        wasm_off: 0x10,
    }
}

fn export(name: &str, index: u32, tramp: usize) -> Export {
    Export {
        kind: ExportKind::Func,
        index,
        name: name.into(),
        tramp: Some(tramp as u32),
    }
}

/// Three functions, each its own trampoline (they follow the array-call
/// convention directly): inc, trap, grow.
fn object() -> Object {
    let (inc, trap, grow) = (0usize, 16usize, 32usize);
    let mut code = vec![0xccu8; 64];
    code[inc..inc + INC.len()].copy_from_slice(INC);
    code[trap..trap + TRAP.len()].copy_from_slice(TRAP);
    code[grow..grow + GROW.len()].copy_from_slice(GROW);
    Object {
        target: Target::X86_64,
        flags: 0,
        max_frame: 32,
        stack_bound: 0,
        start: None,
        code,
        types: vec![sig(1, 1, 0)],
        imports: vec![],
        funcs: vec![
            func(inc, INC, "inc"),
            func(trap, TRAP, "trapper"),
            func(grow, GROW, "grow"),
        ],
        tables: vec![],
        memory: Some(Memory {
            min_pages: 1,
            max_pages: Some(3),
        }),
        globals: vec![],
        exports: vec![
            export("inc", 0, inc),
            export("trap", 1, trap),
            export("grow", 2, grow),
        ],
        data: vec![],
        elems: vec![],
        relocs: vec![
            Reloc {
                offset: (trap + 10) as u32,
                kind: RelocKind::X86Call32,
                host_id: 0,
                addend: -4,
            },
            Reloc {
                offset: (grow + 15) as u32,
                kind: RelocKind::X86Call32,
                host_id: 2,
                addend: -4,
            },
        ],
        traps: vec![TrapSite {
            code_off: (trap + 14) as u32,
            trap_code: 0,
            func: 1,
            wasm_off: 0x42,
        }],
        lines: Vec::new(),
        addr_map: Vec::new(),
    }
}

fn load(obj: &Object) -> Result<Instance, RunError> {
    Instance::new(&obj.to_bytes(), &Config::default())
}

#[cfg(target_arch = "x86_64")]
#[test]
fn trampoline_call_returns_through_vals() {
    let mut inst = load(&object()).unwrap();
    assert_eq!(
        inst.invoke("inc", &[Val::I32(41)]).unwrap(),
        vec![Val::I32(42)]
    );
    assert_eq!(
        inst.invoke("inc", &[Val::I32(-1)]).unwrap(),
        vec![Val::I32(0)]
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn host_trap_through_veneer_unwinds_with_its_site() {
    let mut inst = load(&object()).unwrap();
    let err = inst.invoke("trap", &[Val::I32(0)]).unwrap_err();
    let RunError::Trap(t) = err else {
        panic!("expected a trap, got {err:?}")
    };
    assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
    assert_eq!(t.func, Some(1));
    assert_eq!(t.func_name.as_deref(), Some("trapper"));
    assert_eq!(t.wasm_offset, Some(0x42));
    assert_eq!(
        t.to_string(),
        "out of bounds memory access in func 1 trapper at wasm offset 0x42"
    );
    // Callee-saved state survived the unwind: calls keep working.
    for i in 0..100 {
        assert!(inst.invoke("trap", &[Val::I32(0)]).is_err());
        assert_eq!(
            inst.invoke("inc", &[Val::I32(i)]).unwrap(),
            vec![Val::I32(i + 1)]
        );
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn returning_host_call_through_relocation() {
    let mut inst = load(&object()).unwrap();
    assert_eq!(
        inst.invoke("grow", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(1)]
    );
    assert_eq!(
        inst.invoke("grow", &[Val::I32(0)]).unwrap(),
        vec![Val::I32(2)]
    );
    assert_eq!(
        inst.invoke("grow", &[Val::I32(2)]).unwrap(),
        vec![Val::I32(-1)]
    );
    assert_eq!(
        inst.invoke("grow", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(2)]
    );
}

#[test]
fn foreign_target_is_rejected_with_a_message() {
    let mut obj = object();
    let theirs = if cfg!(target_arch = "x86_64") {
        Target::Aarch64
    } else {
        Target::X86_64
    };
    obj.target = theirs;
    obj.relocs.clear();
    let Err(RunError::Load(msg)) = load(&obj) else {
        panic!("foreign object accepted")
    };
    assert!(
        msg.starts_with(&format!("object is for {}, this is", theirs.name())),
        "{msg}"
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn structural_errors_are_rejected() {
    type Mutation = Box<dyn Fn(&mut Object)>;
    let cases: Vec<(&str, Mutation)> = vec![
        ("reloc past code", Box::new(|o| o.relocs[0].offset = 62)),
        (
            "reloc kind of the other target",
            Box::new(|o| o.relocs[0].kind = RelocKind::Arm64Call26),
        ),
        ("unknown host id", Box::new(|o| o.relocs[0].host_id = 20)),
        (
            "function past code",
            Box::new(|o| o.funcs[2].code_len = 1000),
        ),
        (
            "trampoline past code",
            Box::new(|o| o.exports[0].tramp = Some(64)),
        ),
        ("bad type index", Box::new(|o| o.funcs[0].type_index = 1)),
        ("trap site function", Box::new(|o| o.traps[0].func = 3)),
        (
            "memory min above max",
            Box::new(|o| {
                o.memory = Some(Memory {
                    min_pages: 4,
                    max_pages: Some(3),
                })
            }),
        ),
        (
            "unsorted trap sites",
            Box::new(|o| {
                o.traps.push(TrapSite {
                    code_off: 1,
                    trap_code: 0,
                    func: 0,
                    wasm_off: 0,
                })
            }),
        ),
        ("start out of range", Box::new(|o| o.start = Some((9, 0)))),
        (
            "duplicate export name",
            Box::new(|o| o.exports[2].name = "inc".into()),
        ),
        (
            "trampoline on a memory export",
            Box::new(|o| {
                o.exports.push(Export {
                    kind: ExportKind::Memory,
                    index: 0,
                    name: "m".into(),
                    tramp: Some(0),
                })
            }),
        ),
    ];
    for (what, mutate) in cases {
        let mut obj = object();
        mutate(&mut obj);
        match load(&obj) {
            Err(RunError::Load(msg)) => assert!(!msg.is_empty(), "{what}"),
            Err(e) => panic!("{what}: unexpected {e:?}"),
            Ok(_) => panic!("{what}: accepted"),
        }
    }
}

/// The C validator checks the address map in one pass and names the first
/// bad entry as a full scan would: out of the code, or not after the one
/// before it (an entry out of the code followed by a smaller one is
/// reported as out of the code).
#[cfg(target_arch = "x86_64")]
#[test]
fn address_map_errors_name_the_first_bad_entry() {
    let with_map = |offs: &[u32]| {
        let mut obj = object();
        obj.addr_map = offs
            .iter()
            .map(|&code_off| AddrMapEntry { code_off, wasm_off: 0x20 })
            .collect();
        kwo_loader::runtime::validate(&obj.to_bytes())
    };
    with_map(&[]).unwrap();
    with_map(&[0, 8, 63]).unwrap();
    let cases: [(&[u32], &str); 5] = [
        (&[0, 8, 64], "section 15 entry 2: offset out of bounds"),
        (&[64], "section 15 entry 0: offset out of bounds"),
        (&[0, 8, 8], "section 15 entry 2: not sorted"),
        (&[0, 9, 8, 70], "section 15 entry 2: not sorted"),
        (&[0, 70, 9], "section 15 entry 1: offset out of bounds"),
    ];
    for (offs, want) in cases {
        assert_eq!(with_map(offs), Err(want.to_string()), "{offs:?}");
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn memory_beyond_the_runtime_cap_is_refused() {
    let mut obj = object();
    obj.relocs.clear();
    obj.memory = Some(Memory {
        min_pages: 60000,
        max_pages: None,
    });
    let Err(RunError::Load(msg)) = load(&obj) else {
        panic!("accepted")
    };
    assert!(msg.contains("memory needs 60000 pages"), "{msg}");
}

/// Recompute the header checksum so mutations reach the structural checks.
fn reseal(bytes: &mut [u8]) {
    bytes[20..24].fill(0);
    let sum = crc32(bytes);
    bytes[20..24].copy_from_slice(&sum.to_le_bytes());
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Objects with no start function: instantiating never runs their code,
/// so any mutation must end in a clean error or a harmless instance.
#[test]
fn mutated_objects_never_crash() {
    let good = object().to_bytes();
    for cut in 0..good.len() {
        assert!(
            Instance::new(&good[..cut], &Config::default()).is_err(),
            "truncated to {cut}"
        );
    }
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for i in 0..20_000 {
        let mut bytes = good.clone();
        let flips = 1 + (rng.next() % 3) as usize;
        for _ in 0..flips {
            let bit = (rng.next() % (bytes.len() as u64 * 8)) as usize;
            bytes[bit / 8] ^= 1 << (bit % 8);
        }
        if i % 2 == 0 {
            // Unsealed: the checksum must catch it.
            assert!(
                Instance::new(&bytes, &Config::default()).is_err(),
                "flip {i} passed the checksum"
            );
            continue;
        }
        reseal(&mut bytes);
        let _ = Instance::new(&bytes, &Config::default());
    }
    for len in [0usize, 1, 63, 64, 65, 200, 4096] {
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        assert!(Instance::new(&bytes, &Config::default()).is_err());
    }
}

/// The C validator and the Rust reader (`kwo_format`) implement the same
/// rules (docs/kwo-format.md §9): on resealed mutations of compiled objects
/// with every section kind, they accept and reject the same inputs.
#[cfg(target_arch = "x86_64")]
#[test]
fn c_and_rust_readers_agree() {
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (memory 1 2) (table 4 funcref) (global (export "g") (mut i32) (i32.const 7))
      (data (i32.const 8) "abc") (data "passive")
      (elem (i32.const 0) $f) (elem func $f)
      (func $f (export "f") (param i32) (result i32) (call $w (local.get 0) (i32.const 0) (i32.const 0) (i32.const 0)))
      (func $s) (start $s))"#;
    let wasm = wat::parse_str(wat).unwrap();
    let module = kwo_verifier::verify(&wasm, &kwo_verifier::Policy::kernel()).unwrap();
    let good = kwo_compiler::compile(&module, &kwo_compiler::Options::default()).unwrap();
    kwo_loader::runtime::validate(&good).expect("the compiled object is valid");
    let mut rng = Rng(0x0dd_ba11_cafe_f00d);
    let (mut accepted, mut rejected) = (0, 0);
    for i in 0..30_000 {
        let mut bytes = good.clone();
        // Concentrate on the tables (after the code) half of the time.
        let code_end = u32::from_le_bytes(bytes[64 + 8..64 + 12].try_into().unwrap()) as usize;
        let from = if i % 2 == 0 {
            0
        } else {
            code_end.min(bytes.len() - 1)
        };
        let bit = from * 8 + (rng.next() % ((bytes.len() - from) as u64 * 8)) as usize;
        bytes[bit / 8] ^= 1 << (bit % 8);
        reseal(&mut bytes);
        let c = kwo_loader::runtime::validate(&bytes);
        let rust = Object::parse(&bytes);
        assert_eq!(
            c.is_ok(),
            rust.is_ok(),
            "bit {bit}: C says {c:?}, Rust says {rust:?}"
        );
        if c.is_ok() {
            accepted += 1;
        } else {
            rejected += 1;
        }
    }
    assert!(
        accepted > 0 && rejected > 0,
        "{accepted} accepted, {rejected} rejected"
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn many_large_tables_are_refused() {
    let mut obj = object();
    let table = Table { elem_type: ValType::FuncRef, min: 600_000, max: None };
    obj.tables = vec![table.clone(), table];
    let Err(RunError::Load(msg)) = load(&obj) else { panic!("accepted") };
    assert!(msg.contains("tables need 1200000 elements"), "{msg}");
}
