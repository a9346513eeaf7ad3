//! Shared test fixtures: a hand-built object that has an entry in every
//! section, and helpers to read and patch encoded objects.
#![allow(dead_code)] // each test binary uses a different subset

use kwo_format::layout::*;
use kwo_format::lines::{LineTable, LineTableBuilder};
use kwo_format::*;

/// An object with every section populated, for `target`.
pub fn sample(target: Target) -> Object {
    let reloc_kind = match target {
        Target::X86_64 => RelocKind::X86Call32,
        Target::Aarch64 => RelocKind::Arm64Call26,
    };
    let addend = if target == Target::X86_64 { -4 } else { 0 };
    use ValType::*;
    Object {
        target,
        flags: KWO_F_USES_FP,
        max_frame: 96,
        stack_bound: 208,
        start: Some((3, 0xe0)),
        code: (0..0x100u32).map(|i| (i * 7 + 3) as u8).collect(),
        types: vec![
            sig(&[], &[], 0),
            sig(&[I32, I64], &[F32], 1),
            sig(&[I32, I32, I32, I32], &[I32], 2),
            sig(&[FuncRef, ExternRef], &[F64, I32], 3),
        ],
        imports: vec![
            Import {
                host_id: KWO_HOST_WASI_FD_WRITE,
                type_index: 2,
            },
            Import {
                host_id: KWO_HOST_SPECTEST_PRINT,
                type_index: 0,
            },
        ],
        funcs: vec![
            func(1, 0x00, 0x40, Some("add"), 0x56),
            func(0, 0x40, 0x40, None, 0x90),
            func(3, 0x80, 0x20, Some("refs\u{e9}"), 0xa8),
        ],
        tables: vec![
            Table {
                elem_type: FuncRef,
                min: 3,
                max: Some(10),
            },
            Table {
                elem_type: ExternRef,
                min: 0,
                max: None,
            },
        ],
        memory: Some(Memory {
            min_pages: 1,
            max_pages: Some(2),
        }),
        globals: vec![
            Global {
                ty: I32,
                mutable: true,
                init: GlobalInit::Value(42),
            },
            Global {
                ty: F64,
                mutable: false,
                init: GlobalInit::Value(1.5f64.to_bits()),
            },
            Global {
                ty: FuncRef,
                mutable: false,
                init: GlobalInit::RefFunc(2),
            },
            Global {
                ty: ExternRef,
                mutable: true,
                init: GlobalInit::RefNull,
            },
        ],
        exports: vec![
            export(ExportKind::Func, 2, "add", Some(0xc0)),
            export(ExportKind::Memory, 0, "memory", None),
            export(ExportKind::Table, 1, "externs", None),
            export(ExportKind::Global, 0, "counter", None),
            export(ExportKind::Func, 0, "write", Some(0xd0)),
            export(ExportKind::Func, 4, "", Some(0xd8)),
        ],
        data: vec![
            Data {
                mode: SegmentMode::Active {
                    index: 0,
                    offset: 16,
                },
                bytes: b"hello".to_vec(),
            },
            Data {
                mode: SegmentMode::Passive,
                bytes: b"world!".to_vec(),
            },
            Data {
                mode: SegmentMode::Passive,
                bytes: Vec::new(),
            },
        ],
        elems: vec![
            elem(
                SegmentMode::Active {
                    index: 0,
                    offset: 0,
                },
                FuncRef,
                &[Some(2), None, Some(0)],
            ),
            elem(SegmentMode::Passive, FuncRef, &[Some(3)]),
            elem(SegmentMode::Declarative, FuncRef, &[Some(4)]),
            elem(
                SegmentMode::Active {
                    index: 1,
                    offset: 0,
                },
                ExternRef,
                &[None, None],
            ),
        ],
        relocs: vec![
            Reloc {
                offset: 0x10,
                kind: reloc_kind,
                host_id: KWO_HOST_MEMORY_GROW,
                addend,
            },
            Reloc {
                offset: 0x30,
                kind: reloc_kind,
                host_id: KWO_HOST_WASI_FD_WRITE,
                addend,
            },
            Reloc {
                offset: 0x48,
                kind: reloc_kind,
                host_id: KWO_HOST_TRAP,
                addend,
            },
        ],
        traps: vec![
            TrapSite {
                code_off: 0x14,
                trap_code: KWO_TRAP_MEMORY_OOB,
                func: 2,
                wasm_off: 0x60,
            },
            TrapSite {
                code_off: 0x34,
                trap_code: KWO_TRAP_NONE,
                func: 2,
                wasm_off: 0x70,
            },
            TrapSite {
                code_off: 0x4c,
                trap_code: KWO_TRAP_UNREACHABLE,
                func: 3,
                wasm_off: 0x95,
            },
        ],
        lines: sample_lines().encode(),
        addr_map: vec![
            AddrMapEntry { code_off: 0x10, wasm_off: 0x60 },
            AddrMapEntry { code_off: 0x14, wasm_off: KWO_NONE },
            AddrMapEntry { code_off: 0x40, wasm_off: 0x95 },
        ],
    }
}

/// A line table for the sample: func 2's code in `s.c`, one location
/// inlined into another.
pub fn sample_lines() -> LineTable {
    let mut b = LineTableBuilder::new();
    let outer = b.frame("s.c", 7, 2, Some("run"), None);
    let inner = b.frame("s.h", 3, 9, Some("step"), Some(outer));
    b.row(0x60, Some(outer));
    b.row(0x68, Some(inner));
    b.row(0x70, Some(outer));
    b.row(0x98, None);
    b.finish().expect("rows with locations")
}

pub fn sig(params: &[ValType], results: &[ValType], sig_id: u32) -> FuncSig {
    FuncSig {
        params: params.to_vec(),
        results: results.to_vec(),
        sig_id,
    }
}

fn func(type_index: u32, code_off: u32, code_len: u32, name: Option<&str>, wasm_off: u32) -> Func {
    Func {
        type_index,
        code_off,
        code_len,
        name: name.map(str::to_string),
        wasm_off,
    }
}

fn export(kind: ExportKind, index: u32, name: &str, tramp: Option<u32>) -> Export {
    Export {
        kind,
        index,
        name: name.to_string(),
        tramp,
    }
}

fn elem(mode: SegmentMode, elem_type: ValType, items: &[Option<u32>]) -> Elem {
    Elem {
        mode,
        elem_type,
        items: items.to_vec(),
    }
}

pub fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

pub fn set32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Recomputes the checksum after a deliberate corruption, so the parser
/// gets past it to the structural checks.
pub fn fix_crc(b: &mut [u8]) {
    if b.len() >= KWO_HEADER_SIZE as usize {
        set32(b, HDR_CHECKSUM, 0);
        let crc = crc32(b);
        set32(b, HDR_CHECKSUM, crc);
    }
}

/// (object offset of the section table entry, section offset, count) of
/// a section kind in an encoded object.
pub fn section(b: &[u8], kind: u32) -> (usize, usize, u32) {
    let table = get32(b, HDR_SECTION_OFF) as usize;
    for i in 0..get32(b, HDR_SECTION_COUNT) as usize {
        let e = table + i * KWO_SECTION_SIZE as usize;
        if get32(b, e + SEC_KIND) == kind {
            return (
                e,
                get32(b, e + SEC_OFFSET) as usize,
                get32(b, e + SEC_COUNT),
            );
        }
    }
    panic!("no section of kind {kind}");
}

/// Object offset of entry `i` of a table section.
pub fn entry(b: &[u8], kind: u32, i: usize) -> usize {
    let (_, off, _) = section(b, kind);
    off + i * layout::entry_size(kind).unwrap() as usize
}

/// Object offset of BLOB byte `off`.
pub fn blob(b: &[u8], off: usize) -> usize {
    section(b, KWO_SEC_BLOB).1 + off
}

/// xorshift64*: deterministic pseudo-random numbers for the fuzz tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
