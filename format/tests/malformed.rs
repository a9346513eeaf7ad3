//! The reader rejects malformed objects with the right error and never
//! panics: one targeted corruption per validation rule (with the checksum
//! recomputed so the structural check is what fires), truncation at every
//! length, every single-bit flip, random bytes and random mutations.

mod common;

use common::*;
use kwo_format::layout::*;
use kwo_format::*;

const X86: Target = Target::X86_64;

/// Parses `bytes` after fixing the checksum and expects an error at
/// `offset` whose message contains `needle`.
#[track_caller]
fn rejects(mut bytes: Vec<u8>, offset: usize, needle: &str) {
    fix_crc(&mut bytes);
    match Object::parse(&bytes) {
        Ok(_) => panic!("accepted; expected {needle:?} at {offset:#x}"),
        Err(e) => {
            assert!(e.message.contains(needle), "got `{e}`, expected {needle:?}");
            assert_eq!(e.offset, offset, "got `{e}`, expected offset {offset:#x}");
        }
    }
}

/// The sample encoded, with one u32 field overwritten.
fn patched(target: Target, at: impl Fn(&[u8]) -> usize, value: u32) -> (Vec<u8>, usize) {
    let mut b = sample(target).to_bytes();
    let at = at(&b);
    set32(&mut b, at, value);
    (b, at)
}

/// Overwrites a u32 field of the sample and expects the error at it.
#[track_caller]
fn field_rejects(at: impl Fn(&[u8]) -> usize, value: u32, needle: &str) {
    let (b, at) = patched(X86, at, value);
    rejects(b, at, needle);
}

fn sec_entry(kind: u32) -> impl Fn(&[u8]) -> usize {
    move |b| section(b, kind).0
}

fn ent(kind: u32, i: usize, field: usize) -> impl Fn(&[u8]) -> usize {
    move |b| entry(b, kind, i) + field
}

#[test]
fn header_rules() {
    let good = sample(X86).to_bytes();
    rejects(good[..63].to_vec(), 0, "shorter than the header");
    field_rejects(|_| HDR_MAGIC, 0x0050_574b, "bad magic");
    field_rejects(|_| HDR_VERSION, 2, "unsupported version 2");
    field_rejects(|_| HDR_HEADER_LEN, 72, "header_len 72");
    let mut longer = good.clone();
    longer.extend_from_slice(&[0; 8]);
    rejects(longer, HDR_OBJECT_LEN, "object_len");
    rejects(
        patched(X86, |_| HDR_OBJECT_LEN + 4, 1).0,
        HDR_OBJECT_LEN,
        "object_len 4294968800",
    );
    field_rejects(|_| HDR_TARGET, 3, "unknown target 3");
    field_rejects(|_| HDR_TARGET, 0, "unknown target 0");
    field_rejects(|_| HDR_FLAGS, 0x12, "unknown flags 0x10");
    for i in 0..2 {
        field_rejects(|_| HDR_RESERVED + 4 * i, 1, "header: reserved field");
    }
    // Not re-checksummed: the checksum itself is what is wrong.
    let mut bad_sum = good.clone();
    bad_sum[0x200] ^= 0x10;
    let e = Object::parse(&bad_sum).unwrap_err();
    assert_eq!(e.offset, HDR_CHECKSUM, "{e}");
    assert!(e.message.contains("checksum"), "{e}");
}

#[test]
fn object_size_limit() {
    // calloc'ed: the pages past the header are never touched.
    let len = limits::MAX_OBJECT_LEN as usize + 8;
    let mut big = vec![0u8; len];
    big[..64].copy_from_slice(&sample(X86).to_bytes()[..64]);
    big[HDR_OBJECT_LEN..HDR_OBJECT_LEN + 8].copy_from_slice(&(len as u64).to_le_bytes());
    let e = Object::parse(&big).unwrap_err();
    assert_eq!(e.offset, HDR_OBJECT_LEN);
    assert!(e.message.contains("exceeds the limit"), "{e}");
}

#[test]
fn section_table_rules() {
    field_rejects(
        |_| HDR_SECTION_COUNT,
        16,
        "16 sections exceed the limit of 15",
    );
    field_rejects(|_| HDR_SECTION_OFF, 68, "not 8-byte aligned");
    field_rejects(|_| HDR_SECTION_OFF, 56, "overlaps the header");
    field_rejects(|_| HDR_SECTION_OFF, 0x4f8, "section table out of bounds");
    field_rejects(|_| 64 + SEC_KIND, 0, "section 0 has unknown kind 0");
    field_rejects(|_| 64 + SEC_KIND, 16, "section 0 has unknown kind 16");
    rejects(
        patched(X86, |_| 80 + SEC_KIND, KWO_SEC_CODE).0,
        80,
        "second code section",
    );
    let code_off = |b: &[u8]| get32(b, 64 + SEC_OFFSET);
    let b = sample(X86).to_bytes();
    field_rejects(|_| 64 + SEC_OFFSET, code_off(&b) + 4, "not 8-byte aligned");
    rejects(
        patched(X86, |_| 64 + SEC_SIZE, 0xffff_fff0).0,
        64,
        "section 0 out of bounds",
    );
    // The code section moved onto the section table, or onto the header.
    field_rejects(
        |_| 64 + SEC_OFFSET,
        80,
        "overlaps the header or section table",
    );
    field_rejects(
        |_| 64 + SEC_OFFSET,
        8,
        "overlaps the header or section table",
    );
    field_rejects(|_| 64 + SEC_COUNT, 1, "section 0 (code) has count 1, not 0");
    field_rejects(|_| 80 + SEC_COUNT, 1, "section 1 (blob) has count 1, not 0");
    field_rejects(sec_entry(KWO_SEC_TYPES), 0, "unknown kind 0");
    let types_count = |b: &[u8]| section(b, KWO_SEC_TYPES).0 + SEC_COUNT;
    field_rejects(|b| types_count(b) + 8, 65, "size 65 is not 4 * 16");
    rejects(
        patched(X86, types_count, 5).0,
        types_count(&b) + 8,
        "size 64 is not 5 * 16",
    );
    // The types section moved onto the start of the code.
    let (b, _) = patched(
        X86,
        |b| section(b, KWO_SEC_TYPES).0 + SEC_OFFSET,
        code_off(&b),
    );
    rejects(
        b,
        section(&sample(X86).to_bytes(), KWO_SEC_TYPES).0,
        "section 2 overlaps section 0",
    );
    // Two memories: the count is checked before the size is used.
    let (mut b, at) = patched(X86, |b| section(b, KWO_SEC_MEMORY).0 + SEC_COUNT, 2);
    set32(&mut b, at + 8, 32);
    rejects(b, at, "2 memories, at most 1");
}

#[test]
fn empty_sections_may_be_anywhere_aligned() {
    // An empty section's offset is only required to be aligned.
    let (mut b, at) = patched(X86, |b| section(b, KWO_SEC_RELOCS).0 + SEC_COUNT, 0);
    set32(&mut b, at + 4, 0x8000);
    set32(&mut b, at + 8, 0);
    fix_crc(&mut b);
    let obj = Object::parse(&b).unwrap();
    assert!(obj.relocs.is_empty());
    // But it still has to name a known kind only once, and be aligned.
    set32(&mut b, at + 4, 0x8004);
    rejects(b, at + 4, "not 8-byte aligned");
}

#[test]
fn type_rules() {
    let b = sample(X86).to_bytes();
    let mut bad = b.clone();
    bad[blob(&b, 1)] = 0x40; // type 1's second value type
    rejects(bad, blob(&b, 1), "type 1: invalid value type 0x40");
    let blob_size = get32(&b, section(&b, KWO_SEC_BLOB).0 + SEC_SIZE);
    field_rejects(
        ent(KWO_SEC_TYPES, 1, TYPE_VALTYPES),
        blob_size - 2,
        "outside the blob",
    );
    let (bad, at) = patched(X86, ent(KWO_SEC_TYPES, 1, TYPE_PARAM_COUNT), u32::MAX);
    rejects(
        bad,
        at + TYPE_VALTYPES,
        "type 1 (0x0, 4294967296) outside the blob",
    );
    field_rejects(
        ent(KWO_SEC_TYPES, 0, TYPE_VALTYPES),
        blob_size + 1,
        "outside the blob",
    );
}

#[test]
fn import_rules() {
    for bad in [
        KWO_HOST_TRAP,
        KWO_HOST_YIELD,
        KWO_HOST_BUILTIN_COUNT,
        KWO_HOST_WASI_END,
        KWO_NONE,
    ] {
        field_rejects(
            ent(KWO_SEC_IMPORTS, 0, IMPORT_HOST_ID),
            bad,
            "cannot be imported",
        );
    }
    field_rejects(
        ent(KWO_SEC_IMPORTS, 1, IMPORT_TYPE),
        4,
        "import 1: type 4 out of range (4 types)",
    );
    field_rejects(
        ent(KWO_SEC_IMPORTS, 1, IMPORT_RESERVED),
        1,
        "import 1: reserved",
    );
    field_rejects(
        ent(KWO_SEC_IMPORTS, 1, IMPORT_RESERVED + 4),
        1,
        "import 1: reserved",
    );
}

#[test]
fn function_rules() {
    field_rejects(
        ent(KWO_SEC_FUNCS, 0, FUNC_TYPE),
        4,
        "function 2: type 4 out of range",
    );
    let b = sample(X86).to_bytes();
    let at = entry(&b, KWO_SEC_FUNCS, 0);
    rejects(
        patched(X86, |_| at + FUNC_CODE_LEN, 0).0,
        at + FUNC_CODE_OFF,
        "empty or outside",
    );
    rejects(
        patched(X86, |_| at + FUNC_CODE_OFF, 0xc1).0,
        at + FUNC_CODE_OFF,
        "outside the code",
    );
    rejects(
        patched(X86, |_| at + FUNC_CODE_LEN, 0x101).0,
        at + FUNC_CODE_OFF,
        "outside the code",
    );
    rejects(
        patched(X86, |_| at + FUNC_NAME_LEN, 0x1000).0,
        at + FUNC_NAME_OFF,
        "outside the blob",
    );
    let mut bad_utf8 = b.clone();
    bad_utf8[blob(&b, 12)] = 0xff; // the "a" of "add"
    rejects(
        bad_utf8,
        at + FUNC_NAME_OFF,
        "function 2 name is not valid UTF-8",
    );
    field_rejects(
        ent(KWO_SEC_FUNCS, 2, FUNC_RESERVED + 4),
        1,
        "function 4: reserved",
    );
    // name_len = 0 is "no name", whatever name_off says.
    let (mut b, _) = patched(X86, ent(KWO_SEC_FUNCS, 0, FUNC_NAME_LEN), 0);
    set32(&mut b, at + FUNC_NAME_OFF, 0xdead_beef);
    fix_crc(&mut b);
    assert_eq!(Object::parse(&b).unwrap().funcs[0].name, None);
}

#[test]
fn function_count_limit() {
    let mut obj = sample(X86);
    let import = obj.imports[0].clone();
    obj.imports.resize(limits::MAX_FUNCS as usize - 2, import);
    let b = obj.to_bytes();
    rejects(
        b.clone(),
        section(&b, KWO_SEC_FUNCS).0 + SEC_COUNT,
        "1000001 functions exceed",
    );
    obj.imports.pop();
    assert!(Object::parse(&obj.to_bytes()).is_ok());
}

#[test]
fn table_and_memory_rules() {
    field_rejects(
        ent(KWO_SEC_TABLES, 0, TABLE_ELEM_TYPE),
        0x7f,
        "table 0: 0x7f is not a reference type",
    );
    field_rejects(
        ent(KWO_SEC_TABLES, 0, TABLE_ELEM_TYPE),
        0x170,
        "not a reference type",
    );
    let b = sample(X86).to_bytes();
    let t0 = entry(&b, KWO_SEC_TABLES, 0);
    rejects(
        patched(X86, |_| t0 + TABLE_MIN, 11).0,
        t0 + TABLE_MAX,
        "max 10 is below min 11",
    );
    field_rejects(
        ent(KWO_SEC_TABLES, 1, TABLE_MIN),
        10_000_001,
        "exceeds 10000000",
    );
    field_rejects(
        ent(KWO_SEC_TABLES, 1, TABLE_RESERVED),
        1,
        "table 1: reserved",
    );
    field_rejects(
        ent(KWO_SEC_MEMORY, 0, MEMORY_MIN_PAGES),
        65_537,
        "exceeds 65536",
    );
    field_rejects(
        ent(KWO_SEC_MEMORY, 0, MEMORY_MAX_PAGES),
        65_537,
        "above 65536",
    );
    field_rejects(
        ent(KWO_SEC_MEMORY, 0, MEMORY_MAX_PAGES),
        0,
        "max 0 is below min 1",
    );
    field_rejects(
        ent(KWO_SEC_MEMORY, 0, MEMORY_RESERVED + 4),
        1,
        "memory: reserved",
    );
    // The extremes that are allowed.
    for (field, value) in [
        (MEMORY_MIN_PAGES, 0),
        (MEMORY_MAX_PAGES, 65_536),
        (MEMORY_MAX_PAGES, KWO_NONE),
    ] {
        let (mut b, _) = patched(X86, ent(KWO_SEC_MEMORY, 0, field), value);
        fix_crc(&mut b);
        Object::parse(&b).unwrap();
    }
}

#[test]
fn global_rules() {
    let g = |i, field| ent(KWO_SEC_GLOBALS, i, field);
    field_rejects(g(0, GLOBAL_TYPE), 0x40, "global 0: invalid value type 0x40");
    let (b, at) = patched(X86, g(0, GLOBAL_TYPE), 0x0000_027f);
    rejects(b, at + GLOBAL_MUTABLE, "global 0: mutable is 2");
    // (type, mutable, init_kind, reserved) bytes that do not fit together.
    for (i, bytes, needle) in [
        (1, 0x0003_007c, "global 1: init kind 3 invalid for f64"),
        (0, 0x0002_017f, "global 0: init kind 2 invalid for i32"),
        (2, 0x0000_0070, "global 2: init kind 0 invalid for funcref"),
        (
            3,
            0x0001_016f,
            "global 3: init kind 1 invalid for externref",
        ),
    ] {
        let (b, at) = patched(X86, g(i, GLOBAL_TYPE), bytes);
        rejects(b, at + GLOBAL_INIT_KIND, needle);
    }
    let (b, at) = patched(X86, g(0, GLOBAL_VALUE + 4), 1);
    rejects(b, at - 4, "global 0: 32-bit value has upper bits set");
    field_rejects(
        g(2, GLOBAL_VALUE),
        5,
        "global 2: function 5 out of range (5 functions)",
    );
    let (b, at) = patched(X86, g(2, GLOBAL_VALUE + 4), 1);
    rejects(b, at - 4, "function 4294967298 out of range");
    field_rejects(
        g(3, GLOBAL_VALUE),
        1,
        "global 3: null reference with value 1",
    );
    field_rejects(g(3, GLOBAL_RESERVED + 1), 1, "global 3: reserved");
    // A 64-bit value may use all its bits.
    let (mut b, _) = patched(X86, g(1, GLOBAL_VALUE + 4), u32::MAX);
    fix_crc(&mut b);
    Object::parse(&b).unwrap();
}

#[test]
fn export_rules() {
    let x = |i, field| ent(KWO_SEC_EXPORTS, i, field);
    field_rejects(x(0, EXPORT_KIND), 4, "export 0: unknown kind 4");
    field_rejects(x(0, EXPORT_INDEX), 5, "export 0: index 5 out of range (5)");
    field_rejects(x(1, EXPORT_INDEX), 1, "export 1: index 1 out of range (1)");
    field_rejects(x(2, EXPORT_INDEX), 2, "export 2: index 2 out of range (2)");
    field_rejects(x(3, EXPORT_INDEX), 4, "export 3: index 4 out of range (4)");
    field_rejects(
        x(0, EXPORT_TRAMP),
        0x100,
        "export 0 trampoline 0x100 outside the code",
    );
    field_rejects(x(5, EXPORT_TRAMP), KWO_NONE, "outside the code");
    field_rejects(
        x(1, EXPORT_TRAMP),
        0,
        "export 1: trampoline on a non-function",
    );
    field_rejects(x(4, EXPORT_RESERVED), 1, "export 4: reserved");
    let (bad, at) = patched(X86, x(4, EXPORT_NAME_LEN), 0x1000);
    rejects(bad, at - 4, "export 4 name (0x2c, 4096) outside the blob");
    // Export 1 renamed to "add", like export 0.
    let b = sample(X86).to_bytes();
    let (name_off, name_len) = (get32(&b, x(0, EXPORT_NAME_OFF)(&b)), 3);
    let (mut b, at) = patched(X86, x(1, EXPORT_NAME_OFF), name_off);
    set32(&mut b, at + 4, name_len);
    rejects(b, at, "export name \"add\" is not unique");
    // Invalid UTF-8 in the name.
    let mut obj = sample(X86);
    obj.exports[2].name = "ok".into();
    let mut b = obj.to_bytes();
    let name = blob(&b, get32(&b, x(2, EXPORT_NAME_OFF)(&b)) as usize);
    b[name + 1] = 0xc3;
    rejects(
        b.clone(),
        x(2, EXPORT_NAME_OFF)(&b),
        "export 2 name is not valid UTF-8",
    );
}

#[test]
fn data_rules() {
    let d = |i, field| ent(KWO_SEC_DATA, i, field);
    field_rejects(
        d(0, DATA_FLAGS),
        KWO_SEG_DECLARATIVE,
        "data segment 0: invalid flags 2",
    );
    field_rejects(
        d(1, DATA_OFFSET),
        1,
        "data segment 1: passive with an offset",
    );
    let (bad, at) = patched(X86, d(1, DATA_DATA_LEN), 0x1000);
    rejects(
        bad,
        at - 4,
        "data segment 1 (0x36, 4096) outside the blob of 88 bytes",
    );
    field_rejects(d(2, DATA_DATA_OFF), 0x1000, "outside the blob");
    // An active segment needs a memory (the memory export goes too, or
    // it would be the first error).
    let mut obj = sample(X86);
    obj.memory = None;
    obj.exports.remove(1);
    let b = obj.to_bytes();
    rejects(
        b.clone(),
        entry(&b, KWO_SEC_DATA, 0),
        "data segment 0: active without a memory",
    );
}

#[test]
fn element_rules() {
    let el = |i, field| ent(KWO_SEC_ELEMS, i, field);
    field_rejects(el(0, ELEM_FLAGS), 3, "element segment 0: invalid flags 3");
    field_rejects(el(0, ELEM_ELEM_TYPE), 0x7e, "0x7e is not a reference type");
    field_rejects(
        el(0, ELEM_TABLE),
        2,
        "element segment 0: table 2 out of range",
    );
    field_rejects(el(0, ELEM_TABLE), 1, "element type differs from table 1");
    field_rejects(
        el(1, ELEM_TABLE),
        1,
        "element segment 1: table set on an inactive segment",
    );
    field_rejects(
        el(2, ELEM_OFFSET),
        1,
        "element segment 2: offset set on an inactive segment",
    );
    for count in [0x1000, 0x4000_0001] {
        let (bad, at) = patched(X86, el(0, ELEM_COUNT), count);
        rejects(bad, at + 4, "element segment 0 (0x3c, ");
    }
    // Items: a function index out of range, a non-null externref.
    let b = sample(X86).to_bytes();
    let items = |i: usize| blob(&b, get32(&b, el(i, ELEM_ITEMS)(&b)) as usize);
    let (mut bad, _) = patched(X86, |_| items(0) + 4, 5);
    rejects(
        bad.clone(),
        items(0) + 4,
        "element segment 0: function 5 out of range",
    );
    bad = b.clone();
    set32(&mut bad, items(3) + 4, 0);
    rejects(
        bad,
        items(3) + 4,
        "element segment 3: externref item 1 is not null",
    );
}

#[test]
fn relocation_rules() {
    let r = |i, field| ent(KWO_SEC_RELOCS, i, field);
    field_rejects(
        r(0, RELOC_KIND),
        KWO_RELOC_ARM64_CALL26,
        "relocation 0: kind 2 invalid for x86_64",
    );
    field_rejects(r(0, RELOC_KIND), 0, "kind 0 invalid");
    let (b, at) = patched(Target::Aarch64, r(1, RELOC_KIND), KWO_RELOC_X86_CALL32);
    rejects(b, at, "relocation 1: kind 1 invalid for aarch64");
    field_rejects(
        r(2, RELOC_OFFSET),
        0xfd,
        "relocation 2: field at 0xfd leaves the code",
    );
    field_rejects(r(2, RELOC_OFFSET), u32::MAX, "leaves the code");
    for id in [
        KWO_HOST_BUILTIN_COUNT,
        KWO_HOST_WASI_BASE - 1,
        KWO_HOST_WASI_END,
        KWO_NONE,
    ] {
        field_rejects(r(1, RELOC_HOST_ID), id, "unknown host id");
    }
    let (b, at) = patched(Target::Aarch64, r(0, RELOC_OFFSET), 0x12);
    rejects(b, at, "relocation 0: BL at 0x12 is not 4-byte aligned");
    // The last 4 bytes of the code can be patched; x86 fields need no
    // alignment, and relocations need no order.
    for (off, target) in [(0xfc, X86), (0xfc, Target::Aarch64), (0x03, X86)] {
        let (mut b, _) = patched(target, r(2, RELOC_OFFSET), off);
        fix_crc(&mut b);
        Object::parse(&b).unwrap();
    }
}

#[test]
fn trap_site_rules() {
    let t = |i, field| ent(KWO_SEC_TRAPS, i, field);
    field_rejects(
        t(2, TRAP_CODE_OFF),
        0x101,
        "trap site 2: 0x101 outside the code of 256 bytes",
    );
    field_rejects(
        t(1, TRAP_CODE_OFF),
        0x14,
        "trap site 1: 0x14 is not after the previous site",
    );
    let (b, at) = patched(X86, t(1, TRAP_CODE_OFF), 0x4c);
    rejects(
        b,
        at + KWO_TRAP_SITE_SIZE as usize,
        "trap site 2: 0x4c is not after the previous",
    );
    field_rejects(
        t(0, TRAP_TRAP_CODE),
        KWO_TRAP_COUNT,
        "trap site 0: unknown trap code 14",
    );
    field_rejects(t(0, TRAP_FUNC), 5, "trap site 0: function 5 out of range");
    // A site may sit at the very end of the code (a call as the last
    // instruction) and at offset 0.
    for (i, off) in [(2, 0x100), (0, 0)] {
        let (mut b, _) = patched(X86, t(i, TRAP_CODE_OFF), off);
        fix_crc(&mut b);
        Object::parse(&b).unwrap();
    }
}

#[test]
fn addr_map_rules() {
    let a = |i, field| ent(KWO_SEC_ADDRMAP, i, field);
    field_rejects(
        a(2, ADDR_CODE_OFF),
        0x100,
        "address map entry 2: 0x100 outside the code of 256 bytes",
    );
    field_rejects(
        a(1, ADDR_CODE_OFF),
        0x10,
        "address map entry 1: 0x10 is not after the previous entry",
    );
    // Any wasm offset is accepted: it only names a place in the .wasm.
    let (mut b, _) = patched(X86, a(0, ADDR_WASM_OFF), 0x1234_5678);
    fix_crc(&mut b);
    Object::parse(&b).unwrap();
}

#[test]
fn start_rules() {
    let (b, _) = patched(X86, |_| HDR_START_FUNC, KWO_NONE);
    rejects(
        b,
        HDR_START_TRAMP,
        "start trampoline without a start function",
    );
    field_rejects(|_| HDR_START_FUNC, 5, "start: function 5 out of range");
    field_rejects(
        |_| HDR_START_TRAMP,
        0x100,
        "start trampoline 0x100 outside the code",
    );
    field_rejects(|_| HDR_START_TRAMP, KWO_NONE, "outside the code");
}

#[test]
fn truncation_at_every_length() {
    let good = sample(X86).to_bytes();
    for len in 0..good.len() {
        assert!(Object::parse(&good[..len]).is_err(), "accepted {len} bytes");
        // Also with a consistent header: object_len and checksum updated,
        // so the sections themselves are what is cut short.
        let mut cut = good[..len].to_vec();
        if len >= 64 {
            cut[HDR_OBJECT_LEN..HDR_OBJECT_LEN + 8].copy_from_slice(&(len as u64).to_le_bytes());
        }
        fix_crc(&mut cut);
        assert!(
            Object::parse(&cut).is_err(),
            "accepted {len} consistent bytes"
        );
    }
}

/// A corrupted object that still parses must be a valid object: encoding
/// it again and parsing gives it back.
fn parse_is_sound(bytes: &[u8]) -> bool {
    match Object::parse(bytes) {
        Ok(obj) => {
            assert_eq!(Object::parse(&obj.to_bytes()).as_ref(), Ok(&obj));
            true
        }
        Err(_) => false,
    }
}

#[test]
fn every_single_bit_flip() {
    for target in [X86, Target::Aarch64] {
        let good = sample(target).to_bytes();
        let mut accepted_after_fix = 0;
        for bit in 0..good.len() * 8 {
            let mut b = good.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            // The CRC detects every single-bit error.
            assert!(Object::parse(&b).is_err(), "bit {bit} flipped was accepted");
            fix_crc(&mut b);
            accepted_after_fix += usize::from(parse_is_sound(&b));
        }
        // Code bytes, data bytes, wasm offsets, names, padding and the like
        // are free-form (about a third of this sample); structural fields
        // are not.
        let flips = good.len() * 8;
        assert!(
            accepted_after_fix < flips / 2,
            "{accepted_after_fix} of {flips} flips accepted"
        );
    }
}

#[test]
fn random_bytes() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..5000 {
        let len = rng.below(2048);
        let b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        assert!(Object::parse(&b).is_err());
    }
}

#[test]
fn random_section_tables() {
    // A valid header over random section tables and contents.
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let header = sample(X86).to_bytes()[..64].to_vec();
    let mut accepted = 0;
    for _ in 0..5000 {
        let len = 64 + rng.below(1024) * 8;
        let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        b[..64].copy_from_slice(&header);
        b[HDR_OBJECT_LEN..HDR_OBJECT_LEN + 8].copy_from_slice(&(len as u64).to_le_bytes());
        let count = rng.below(15) as u32;
        set32(&mut b, HDR_SECTION_COUNT, count);
        for i in 0..(count as usize).min((len - 64) / 16) {
            let e = 64 + i * 16;
            set32(&mut b, e + SEC_KIND, rng.below(16) as u32);
            set32(&mut b, e + SEC_COUNT, rng.below(4) as u32);
            set32(&mut b, e + SEC_OFFSET, (rng.below(len / 8) * 8) as u32);
            set32(&mut b, e + SEC_SIZE, (rng.below(5) * 16) as u32);
        }
        fix_crc(&mut b);
        accepted += usize::from(parse_is_sound(&b));
    }
    assert!(accepted < 5000);
}

#[test]
fn random_mutations() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for target in [X86, Target::Aarch64] {
        let good = sample(target).to_bytes();
        let mut rejected = 0;
        for _ in 0..10_000 {
            let mut b = good.clone();
            for _ in 0..1 + rng.below(6) {
                let at = 24 + rng.below(good.len() - 24);
                b[at] = match rng.below(4) {
                    0 => 0,
                    1 => 0xff,
                    2 => b[at].wrapping_add(1 + rng.below(8) as u8),
                    _ => rng.next() as u8,
                };
            }
            fix_crc(&mut b);
            rejected += usize::from(!parse_is_sound(&b));
        }
        assert!(rejected > 1000, "only {rejected} mutants rejected");
    }
}

/// The LINES section is debug data: the object readers check its place and
/// its count (0, a byte section) like any section's, never its contents,
/// which only `LineTable::decode` judges.
#[test]
fn line_table_contents_do_not_make_an_object_invalid() {
    field_rejects(|b| section(b, KWO_SEC_LINES).0 + SEC_COUNT, 1, "(lines) has count 1, not 0");
    let mut obj = sample(X86);
    obj.lines = b"not a line table".to_vec();
    let parsed = Object::parse(&obj.to_bytes()).expect("garbage LINES contents are accepted");
    assert_eq!(parsed.lines, obj.lines);
    assert!(kwo_format::lines::LineTable::decode(&parsed.lines).is_err());
    assert!(describe(&parsed).contains("\nline table: unreadable (offset 0x0: line table: "));
    let good = sample(X86);
    let table = kwo_format::lines::LineTable::decode(&good.lines).unwrap();
    assert_eq!(table, common::sample_lines());
    assert!(describe(&good).contains("\nline table: 4 rows, 2 frames, "));
    // Found in the object bytes as a runtime finds it, without a parse.
    assert_eq!(kwo_format::lines::LineTable::from_object(&good.to_bytes()), Ok(Some(table)));
    let mut none = sample(X86);
    none.lines.clear();
    assert_eq!(kwo_format::lines::LineTable::from_object(&none.to_bytes()), Ok(None));
}
