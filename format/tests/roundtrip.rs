//! Encoding a hand-built object and parsing it back gives the same object,
//! the encoding is the documented canonical layout, and `describe` shows
//! every part of it.

mod common;

use common::*;
use kwo_format::layout::*;
use kwo_format::*;

#[test]
fn crc32_check_value() {
    // The standard CRC-32 check value, and the empty input.
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    assert_eq!(crc32(b""), 0);
    assert_eq!(
        crc32(b"The quick brown fox jumps over the lazy dog"),
        0x414f_a339
    );
}

#[test]
fn round_trip_every_section() {
    for target in [Target::X86_64, Target::Aarch64] {
        let obj = sample(target);
        let bytes = obj.to_bytes();
        let back = Object::parse(&bytes).unwrap_or_else(|e| panic!("{target:?}: {e}"));
        assert_eq!(back, obj);
        assert_eq!(back.to_bytes(), bytes, "re-encoding is byte-identical");
    }
}

#[test]
fn canonical_layout() {
    let bytes = sample(Target::X86_64).to_bytes();
    assert_eq!(get32(&bytes, HDR_MAGIC), KWO_MAGIC);
    assert_eq!(&bytes[..4], b"KWO\0");
    assert_eq!(get32(&bytes, HDR_VERSION), KWO_VERSION);
    assert_eq!(get32(&bytes, HDR_HEADER_LEN), 64);
    assert_eq!(get32(&bytes, HDR_TARGET), KWO_TARGET_X86_64);
    assert_eq!(get32(&bytes, HDR_FLAGS), KWO_F_USES_FP);
    let len = u64::from_le_bytes(
        bytes[HDR_OBJECT_LEN..HDR_OBJECT_LEN + 8]
            .try_into()
            .unwrap(),
    );
    assert_eq!(len, bytes.len() as u64);
    assert_eq!(
        get32(&bytes, HDR_SECTION_OFF),
        64,
        "table right after the header"
    );
    assert_eq!(
        get32(&bytes, HDR_SECTION_COUNT),
        KWO_SEC_MAX,
        "every section present"
    );
    assert_eq!(get32(&bytes, HDR_MAX_FRAME), 96);
    assert_eq!(get32(&bytes, HDR_START_FUNC), 3);
    assert_eq!(get32(&bytes, HDR_START_TRAMP), 0xe0);
    assert!(bytes[HDR_RESERVED..64].iter().all(|&b| b == 0));

    // Sections in kind order, 8-byte aligned, packed with < 8 bytes of
    // zero padding between them.
    let sections = KWO_SEC_MAX as usize;
    let mut end = 64 + sections * 16;
    for i in 0..sections {
        let e = 64 + i * 16;
        assert_eq!(get32(&bytes, e + SEC_KIND), i as u32 + 1);
        let off = get32(&bytes, e + SEC_OFFSET) as usize;
        assert_eq!(off % 8, 0);
        assert!(off >= end && off - end < 8);
        assert!(bytes[end..off].iter().all(|&b| b == 0));
        end = off + get32(&bytes, e + SEC_SIZE) as usize;
    }
    assert_eq!(end, bytes.len());

    // The checksum is the CRC of the object with the field zeroed.
    let mut zeroed = bytes.clone();
    set32(&mut zeroed, HDR_CHECKSUM, 0);
    assert_eq!(get32(&bytes, HDR_CHECKSUM), crc32(&zeroed));
}

#[test]
fn blob_contents_in_reference_order() {
    let bytes = sample(Target::X86_64).to_bytes();
    let (e, off, _) = section(&bytes, KWO_SEC_BLOB);
    let size = get32(&bytes, e + SEC_SIZE) as usize;
    let blob = &bytes[off..off + size];
    // Type valtypes first (0+0, 2+1, 4+1, 2+2 bytes), then function names.
    assert_eq!(&blob[..3], &[0x7f, 0x7e, 0x7d]);
    assert_eq!(&blob[3..8], &[0x7f, 0x7f, 0x7f, 0x7f, 0x7f]);
    assert_eq!(&blob[8..12], &[0x70, 0x6f, 0x7c, 0x7f]);
    assert_eq!(&blob[12..15], b"add");
    let t1 = entry(&bytes, KWO_SEC_TYPES, 1);
    assert_eq!(get32(&bytes, t1 + TYPE_VALTYPES), 0);
    // The type with no value types and the unnamed function use (0, 0).
    let t0 = entry(&bytes, KWO_SEC_TYPES, 0);
    assert_eq!(get32(&bytes, t0 + TYPE_VALTYPES), 0);
    let f1 = entry(&bytes, KWO_SEC_FUNCS, 1);
    assert_eq!(get32(&bytes, f1 + FUNC_NAME_LEN), 0);
    // Element items are little-endian u32 with KWO_NONE for null.
    let el = entry(&bytes, KWO_SEC_ELEMS, 0);
    let items = off + get32(&bytes, el + ELEM_ITEMS) as usize;
    assert_eq!(get32(&bytes, items + 4), KWO_NONE);
    assert_eq!(get32(&bytes, items + 8), 0);
}

#[test]
fn empty_object_has_no_sections() {
    let obj = Object {
        target: Target::Aarch64,
        flags: 0,
        max_frame: 0,
        stack_bound: 0,
        start: None,
        code: Vec::new(),
        types: Vec::new(),
        imports: Vec::new(),
        funcs: Vec::new(),
        tables: Vec::new(),
        memory: None,
        globals: Vec::new(),
        exports: Vec::new(),
        data: Vec::new(),
        elems: Vec::new(),
        relocs: Vec::new(),
        traps: Vec::new(),
        lines: Vec::new(),
        addr_map: Vec::new(),
    };
    let bytes = obj.to_bytes();
    assert_eq!(bytes.len(), 64);
    assert_eq!(get32(&bytes, HDR_SECTION_COUNT), 0);
    assert_eq!(get32(&bytes, HDR_START_FUNC), KWO_NONE);
    assert_eq!(get32(&bytes, HDR_START_TRAMP), KWO_NONE);
    assert_eq!(Object::parse(&bytes).unwrap(), obj);
}

#[test]
fn encoding_is_deterministic() {
    let a = sample(Target::Aarch64).to_bytes();
    let b = sample(Target::Aarch64).clone().to_bytes();
    assert_eq!(a, b);
}

#[test]
fn describe_shows_everything() {
    let text = describe(&sample(Target::X86_64));
    for needle in [
        "x86_64",
        "flags 0x1 (uses-fp)",
        "start: func 3 trampoline 0xe0",
        "types",
        "     1 (i32, i64) -> f32 sig 1",
        "relocs",
        "   0 import wasi:fd_write (host 44) (i32, i32, i32, i32) -> i32",
        "   1 import spectest_print (host 12) () -> ()",
        "   2 <add> code 0x0+0x40 type 1 (i32, i64) -> f32 wasm 0x56",
        "   4 <refs\u{e9}> code 0x80+0x20 type 3 (funcref, externref) -> (f64, i32)",
        "\"add\" func 2 <add> trampoline 0xc0",
        "\"memory\" memory 0",
        "memory: min 1 pages, max 2",
        "table 1: externref min 0 max none",
        "global 0: mut i32 = 0x2a",
        "global 2: funcref = ref.func 2 <add>",
        "global 3: mut externref = ref.null",
        "data 0: active memory 0 offset 0x10, 5 bytes",
        "data 1: passive, 6 bytes",
        "elem 0: active table 0 offset 0x0, 3 funcref items (1 null)",
        "elem 2: declarative, 1 funcref items (0 null)",
        "0x0010 x86_call32 memory_grow -4",
        "0x0014 out of bounds memory access in func 2 <add> at wasm 0x60",
        "0x0034 host call in func 2 <add> at wasm 0x70",
        "0x004c unreachable in func 3 at wasm 0x95",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn trap_messages_and_host_names() {
    assert_eq!(
        trap_message(KWO_TRAP_MEMORY_OOB),
        Some("out of bounds memory access")
    );
    assert_eq!(
        trap_message(KWO_TRAP_SIGNATURE_MISMATCH),
        Some("indirect call type mismatch")
    );
    assert_eq!(trap_message(KWO_TRAP_NONE), None);
    assert_eq!(trap_message(KWO_TRAP_EXIT), None);
    assert_eq!(trap_message(KWO_TRAP_COUNT), None);
    assert_eq!(host_name(KWO_HOST_TRAP), Some("trap"));
    assert_eq!(host_name(KWO_HOST_MEMORY_GROW), Some("memory_grow"));
    assert_eq!(host_name(KWO_HOST_WASI_FD_WRITE), Some("wasi:fd_write"));
    assert_eq!(host_name(KWO_HOST_BUILTIN_COUNT), None);
    assert_eq!(host_name(KWO_HOST_WASI_END), None);
    // Every id in the two ranges has a distinct name.
    let ids = (0..KWO_HOST_BUILTIN_COUNT).chain(KWO_HOST_WASI_BASE..KWO_HOST_WASI_END);
    let mut names: Vec<_> = ids.map(|id| host_name(id).expect("named")).collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n);
}
