//! The Rust mirror of the C contracts cannot drift: this parses
//! `kmod/core/kwo_format.h` and `kmod/core/kwo_abi.h` and checks every
//! `#define KWO_*` number, every struct's size and field offsets (laid out
//! as C does), the trap messages in the comments, the host function names,
//! and the validator limits of `kmod/core/kwo_core.h`.

use kwo_format::layout::*;
use kwo_format::limits::*;
use kwo_format::*;
use std::collections::BTreeMap;

fn header(name: &str) -> String {
    let path = format!("{}/../kmod/core/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Removes `/* ... */` comments.
fn strip_comments(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out
}

/// Evaluates the constant expressions these headers use: numbers with a
/// `u` suffix, parentheses, `<<`, `|` and earlier macros.
fn eval(expr: &str, defs: &BTreeMap<String, u64>) -> Option<u64> {
    let e = expr.trim();
    if let Some(inner) = e.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
        return eval(inner, defs);
    }
    if let Some((a, b)) = e.split_once('|') {
        return Some(eval(a, defs)? | eval(b, defs)?);
    }
    if let Some((a, b)) = e.split_once("<<") {
        return Some(eval(a, defs)? << eval(b, defs)?);
    }
    let n = e.trim_end_matches(['u', 'U', 'l', 'L']);
    if let Some(hex) = n.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16).ok();
    }
    n.parse().ok().or_else(|| defs.get(e).copied())
}

/// Every numeric `#define` of a header whose name starts with `prefix`,
/// in order, with its comment.
fn defines(text: &str, prefix: &str) -> Vec<(String, u64, String)> {
    let mut defs = BTreeMap::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("#define") else {
            continue;
        };
        let code = strip_comments(rest);
        let mut parts = code.trim().splitn(2, char::is_whitespace);
        let name = parts.next().unwrap_or("").to_string();
        let expr = parts.next().unwrap_or("").trim();
        if !name.starts_with(prefix) || expr.is_empty() {
            continue; // include guards
        }
        let value = eval(expr, &defs).unwrap_or_else(|| panic!("cannot evaluate {name} = {expr}"));
        defs.insert(name.clone(), value);
        let comment = line.find("/*").map_or("", |i| &line[i..]).to_string();
        out.push((name, value, comment));
    }
    out
}

macro_rules! table {
    ($($name:ident),* $(,)?) => {
        vec![$((stringify!($name), $name as u64)),*]
    };
}

/// Every `KWO_*` constant of `consts.rs` that mirrors a C `#define`.
fn rust_defines() -> Vec<(&'static str, u64)> {
    table![
        KWO_MAGIC,
        KWO_VERSION,
        KWO_NONE,
        KWO_TARGET_X86_64,
        KWO_TARGET_AARCH64,
        KWO_F_USES_FP,
        KWO_F_UNCHECKED,
        KWO_F_RESERVED_MEMORY,
        KWO_F_X86_BMI,
        KWO_F_KNOWN,
        KWO_SEC_CODE,
        KWO_SEC_BLOB,
        KWO_SEC_TYPES,
        KWO_SEC_IMPORTS,
        KWO_SEC_FUNCS,
        KWO_SEC_TABLES,
        KWO_SEC_MEMORY,
        KWO_SEC_GLOBALS,
        KWO_SEC_EXPORTS,
        KWO_SEC_DATA,
        KWO_SEC_ELEMS,
        KWO_SEC_RELOCS,
        KWO_SEC_TRAPS,
        KWO_SEC_LINES,
        KWO_SEC_ADDRMAP,
        KWO_SEC_MAX,
        KWO_VAL_I32,
        KWO_VAL_I64,
        KWO_VAL_F32,
        KWO_VAL_F64,
        KWO_VAL_FUNCREF,
        KWO_VAL_EXTERNREF,
        KWO_INIT_VALUE,
        KWO_INIT_REF_FUNC,
        KWO_INIT_REF_NULL,
        KWO_EXPORT_FUNC,
        KWO_EXPORT_TABLE,
        KWO_EXPORT_MEMORY,
        KWO_EXPORT_GLOBAL,
        KWO_SEG_PASSIVE,
        KWO_SEG_ACTIVE,
        KWO_SEG_DECLARATIVE,
        KWO_RELOC_X86_CALL32,
        KWO_RELOC_ARM64_CALL26,
        KWO_VMCTX_MEM_BASE,
        KWO_VMCTX_MEM_SIZE,
        KWO_VMCTX_STACK_LIMIT,
        KWO_VMCTX_EPOCH_PTR,
        KWO_VMCTX_EPOCH_DEADLINE,
        KWO_VMCTX_FUEL,
        KWO_VMCTX_FUNCREFS,
        KWO_VMCTX_TABLES,
        KWO_VMCTX_GLOBALS,
        KWO_VMCTX_INSTANCE,
        KWO_VMCTX_SIZE,
        KWO_FUNCREF_CODE,
        KWO_FUNCREF_SIG_ID,
        KWO_FUNCREF_SIZE,
        KWO_VMTABLE_BASE,
        KWO_VMTABLE_LEN,
        KWO_VMTABLE_SIZE,
        KWO_HOST_TRAP,
        KWO_HOST_YIELD,
        KWO_HOST_MEMORY_GROW,
        KWO_HOST_MEMORY_FILL,
        KWO_HOST_MEMORY_COPY,
        KWO_HOST_MEMORY_INIT,
        KWO_HOST_DATA_DROP,
        KWO_HOST_TABLE_GROW,
        KWO_HOST_TABLE_FILL,
        KWO_HOST_TABLE_COPY,
        KWO_HOST_TABLE_INIT,
        KWO_HOST_ELEM_DROP,
        KWO_HOST_SPECTEST_PRINT,
        KWO_HOST_ENOSYS_STUB,
        KWO_HOST_BUILTIN_COUNT,
        KWO_HOST_WASI_BASE,
        KWO_HOST_WASI_ARGS_GET,
        KWO_HOST_WASI_ARGS_SIZES_GET,
        KWO_HOST_WASI_ENVIRON_GET,
        KWO_HOST_WASI_ENVIRON_SIZES_GET,
        KWO_HOST_WASI_CLOCK_RES_GET,
        KWO_HOST_WASI_CLOCK_TIME_GET,
        KWO_HOST_WASI_FD_CLOSE,
        KWO_HOST_WASI_FD_FDSTAT_GET,
        KWO_HOST_WASI_FD_PRESTAT_GET,
        KWO_HOST_WASI_FD_PRESTAT_DIR_NAME,
        KWO_HOST_WASI_FD_READ,
        KWO_HOST_WASI_FD_SEEK,
        KWO_HOST_WASI_FD_WRITE,
        KWO_HOST_WASI_PROC_EXIT,
        KWO_HOST_WASI_RANDOM_GET,
        KWO_HOST_WASI_SCHED_YIELD,
        KWO_HOST_WASI_FD_RENUMBER,
        KWO_HOST_WASI_POLL_ONEOFF,
        KWO_HOST_WASI_FD_TELL,
        KWO_HOST_WASI_FD_FILESTAT_GET,
        KWO_HOST_WASI_FD_FDSTAT_SET_FLAGS,
        KWO_HOST_WASI_FD_SYNC,
        KWO_HOST_WASI_FD_DATASYNC,
        KWO_HOST_WASI_FD_READDIR,
        KWO_HOST_WASI_PATH_OPEN,
        KWO_HOST_WASI_PATH_FILESTAT_GET,
        KWO_HOST_WASI_PATH_CREATE_DIRECTORY,
        KWO_HOST_WASI_PATH_UNLINK_FILE,
        KWO_HOST_WASI_PATH_REMOVE_DIRECTORY,
        KWO_HOST_WASI_PATH_RENAME,
        KWO_HOST_WASI_END,
        KWO_TRAP_NONE,
        KWO_TRAP_UNREACHABLE,
        KWO_TRAP_INT_DIV_BY_ZERO,
        KWO_TRAP_INT_OVERFLOW,
        KWO_TRAP_BAD_CONVERSION,
        KWO_TRAP_MEMORY_OOB,
        KWO_TRAP_TABLE_OOB,
        KWO_TRAP_UNDEFINED_ELEMENT,
        KWO_TRAP_UNINITIALIZED_ELEMENT,
        KWO_TRAP_SIGNATURE_MISMATCH,
        KWO_TRAP_STACK_EXHAUSTED,
        KWO_TRAP_INTERRUPTED,
        KWO_TRAP_FUEL_EXHAUSTED,
        KWO_TRAP_EXIT,
        KWO_TRAP_COUNT,
    ]
}

fn all_header_defines() -> Vec<(String, u64, String)> {
    let mut all = defines(&header("kwo_format.h"), "KWO_");
    all.extend(defines(&header("kwo_abi.h"), "KWO_"));
    all
}

#[test]
fn every_define_matches() {
    let c: BTreeMap<String, u64> = all_header_defines()
        .into_iter()
        .map(|(n, v, _)| (n, v))
        .collect();
    let rust: BTreeMap<&str, u64> = rust_defines().into_iter().collect();
    assert!(c.len() > 100, "parsed only {} defines", c.len());
    for (name, value) in &c {
        match rust.get(name.as_str()) {
            Some(r) => assert_eq!(r, value, "{name}: Rust {r:#x}, C {value:#x}"),
            None => panic!("{name} = {value:#x} has no Rust constant in consts.rs"),
        }
    }
    for name in rust.keys() {
        assert!(
            c.contains_key(*name),
            "{name} is not defined in the C headers"
        );
    }
}

/// A struct as C lays it out: (field, offset, size) and the total size.
struct CStruct {
    fields: Vec<(String, usize, usize)>,
    size: usize,
    /// The "/* N bytes */" on the opening line, if any.
    comment_size: Option<usize>,
}

/// Parses every `struct kwo_* { ... };` of a header, assuming natural
/// alignment (what both x86_64 and aarch64 ABIs do for these types).
fn structs(text: &str) -> BTreeMap<String, CStruct> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, CStruct)> = None;
    for line in text.lines() {
        let code = strip_comments(line);
        let code = code.trim();
        if let Some(rest) = code
            .strip_prefix("struct kwo_")
            .filter(|r| r.ends_with('{'))
        {
            let name = rest.trim_end_matches('{').trim().to_string();
            let comment_size = line
                .split("/*")
                .nth(1)
                .and_then(|c| c.split("bytes").next())
                .and_then(|c| c.split_whitespace().last()?.parse().ok());
            current = Some((
                name,
                CStruct {
                    fields: Vec::new(),
                    size: 0,
                    comment_size,
                },
            ));
        } else if code == "};" {
            if let Some((name, mut s)) = current.take() {
                let align = s.fields.iter().map(|f| f.2.min(8)).max().unwrap_or(1);
                s.size = s.size.next_multiple_of(align);
                out.insert(name, s);
            }
        } else if let Some((_, s)) = current.as_mut() {
            let Some(decl) = code.strip_suffix(';') else {
                continue;
            };
            let (ty, name) = decl.split_once(char::is_whitespace).expect("field");
            let elem = match ty {
                "__u8" | "__s8" => 1,
                "__u16" | "__s16" => 2,
                "__u32" | "__s32" => 4,
                "__u64" | "__s64" => 8,
                _ => panic!("unknown field type {ty}"),
            };
            let (name, n) = match name.trim().split_once('[') {
                Some((n, count)) => (n, count.trim_end_matches(']').parse::<usize>().unwrap()),
                None => (name.trim(), 1),
            };
            let offset = s.size.next_multiple_of(elem);
            s.fields.push((name.to_string(), offset, elem * n));
            s.size = offset + elem * n;
        }
    }
    out
}

/// `_Static_assert(sizeof(struct kwo_X) == N, ...)` lines, if any.
fn static_asserts(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.split("sizeof(struct kwo_").nth(1) else {
            continue;
        };
        if !line.contains("_Static_assert") {
            continue;
        }
        let (name, rest) = rest.split_once(')').unwrap();
        let n = rest.trim_start().trim_start_matches("==").trim();
        let n: String = n
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let n = eval(&n, &BTreeMap::new()).unwrap() as usize;
        out.push((name.to_string(), n));
    }
    out
}

#[test]
fn format_struct_sizes_and_offsets() {
    let text = header("kwo_format.h");
    let structs = structs(&text);
    let sizes = [
        ("header", KWO_HEADER_SIZE),
        ("section", KWO_SECTION_SIZE),
        ("type", KWO_TYPE_SIZE),
        ("import", KWO_IMPORT_SIZE),
        ("func", KWO_FUNC_SIZE),
        ("table", KWO_TABLE_SIZE),
        ("memory", KWO_MEMORY_SIZE),
        ("global", KWO_GLOBAL_SIZE),
        ("export", KWO_EXPORT_SIZE),
        ("data", KWO_DATA_SIZE),
        ("elem", KWO_ELEM_SIZE),
        ("reloc", KWO_RELOC_SIZE),
        ("trap_site", KWO_TRAP_SITE_SIZE),
        ("addr_map", KWO_ADDR_MAP_SIZE),
    ];
    assert_eq!(structs.len(), sizes.len(), "structs: {:?}", structs.keys());
    for (name, size) in sizes {
        let s = &structs[name];
        assert_eq!(s.size, size as usize, "sizeof(struct kwo_{name})");
        assert_eq!(
            s.comment_size,
            Some(size as usize),
            "comment of struct kwo_{name}"
        );
    }
    for (name, size) in static_asserts(&text) {
        assert_eq!(
            structs[&name].size, size,
            "_Static_assert on struct kwo_{name}"
        );
    }
    // Entry sizes by section kind agree with the structs.
    for kind in [
        KWO_SEC_TYPES,
        KWO_SEC_FUNCS,
        KWO_SEC_EXPORTS,
        KWO_SEC_ELEMS,
        KWO_SEC_TRAPS,
        KWO_SEC_ADDRMAP,
    ] {
        let name = match section_name(kind) {
            "traps" => "trap_site",
            "addrmap" => "addr_map",
            n => n.trim_end_matches('s'),
        };
        assert_eq!(entry_size(kind), Some(structs[name].size as u32), "{name}");
    }

    let offsets: &[(&str, &str, usize)] = &[
        ("header", "magic", HDR_MAGIC),
        ("header", "version", HDR_VERSION),
        ("header", "header_len", HDR_HEADER_LEN),
        ("header", "target", HDR_TARGET),
        ("header", "flags", HDR_FLAGS),
        ("header", "checksum", HDR_CHECKSUM),
        ("header", "object_len", HDR_OBJECT_LEN),
        ("header", "section_off", HDR_SECTION_OFF),
        ("header", "section_count", HDR_SECTION_COUNT),
        ("header", "max_frame", HDR_MAX_FRAME),
        ("header", "start_func", HDR_START_FUNC),
        ("header", "start_tramp", HDR_START_TRAMP),
        ("header", "stack_bound", HDR_STACK_BOUND),
        ("header", "reserved", HDR_RESERVED),
        ("section", "kind", SEC_KIND),
        ("section", "count", SEC_COUNT),
        ("section", "offset", SEC_OFFSET),
        ("section", "size", SEC_SIZE),
        ("type", "param_count", TYPE_PARAM_COUNT),
        ("type", "result_count", TYPE_RESULT_COUNT),
        ("type", "valtypes", TYPE_VALTYPES),
        ("type", "sig_id", TYPE_SIG_ID),
        ("import", "host_id", IMPORT_HOST_ID),
        ("import", "type", IMPORT_TYPE),
        ("import", "reserved", IMPORT_RESERVED),
        ("func", "type", FUNC_TYPE),
        ("func", "code_off", FUNC_CODE_OFF),
        ("func", "code_len", FUNC_CODE_LEN),
        ("func", "name_off", FUNC_NAME_OFF),
        ("func", "name_len", FUNC_NAME_LEN),
        ("func", "wasm_off", FUNC_WASM_OFF),
        ("func", "reserved", FUNC_RESERVED),
        ("table", "elem_type", TABLE_ELEM_TYPE),
        ("table", "min", TABLE_MIN),
        ("table", "max", TABLE_MAX),
        ("table", "reserved", TABLE_RESERVED),
        ("memory", "min_pages", MEMORY_MIN_PAGES),
        ("memory", "max_pages", MEMORY_MAX_PAGES),
        ("memory", "reserved", MEMORY_RESERVED),
        ("global", "type", GLOBAL_TYPE),
        ("global", "mutable", GLOBAL_MUTABLE),
        ("global", "init_kind", GLOBAL_INIT_KIND),
        ("global", "reserved", GLOBAL_RESERVED),
        ("global", "value", GLOBAL_VALUE),
        ("export", "kind", EXPORT_KIND),
        ("export", "index", EXPORT_INDEX),
        ("export", "name_off", EXPORT_NAME_OFF),
        ("export", "name_len", EXPORT_NAME_LEN),
        ("export", "tramp", EXPORT_TRAMP),
        ("export", "reserved", EXPORT_RESERVED),
        ("data", "flags", DATA_FLAGS),
        ("data", "offset", DATA_OFFSET),
        ("data", "data_off", DATA_DATA_OFF),
        ("data", "data_len", DATA_DATA_LEN),
        ("elem", "flags", ELEM_FLAGS),
        ("elem", "elem_type", ELEM_ELEM_TYPE),
        ("elem", "table", ELEM_TABLE),
        ("elem", "offset", ELEM_OFFSET),
        ("elem", "count", ELEM_COUNT),
        ("elem", "items", ELEM_ITEMS),
        ("reloc", "offset", RELOC_OFFSET),
        ("reloc", "kind", RELOC_KIND),
        ("reloc", "host_id", RELOC_HOST_ID),
        ("reloc", "addend", RELOC_ADDEND),
        ("trap_site", "code_off", TRAP_CODE_OFF),
        ("trap_site", "trap_code", TRAP_TRAP_CODE),
        ("trap_site", "func", TRAP_FUNC),
        ("trap_site", "wasm_off", TRAP_WASM_OFF),
        ("addr_map", "code_off", ADDR_CODE_OFF),
        ("addr_map", "wasm_off", ADDR_WASM_OFF),
    ];
    let mut covered = 0;
    for (sname, s) in &structs {
        for (field, offset, _) in &s.fields {
            let rust = offsets.iter().find(|(n, f, _)| n == sname && f == field);
            let Some((_, _, r)) = rust else {
                panic!("struct kwo_{sname}.{field} has no layout constant");
            };
            assert_eq!(r, offset, "kwo_{sname}.{field}");
            covered += 1;
        }
    }
    assert_eq!(
        covered,
        offsets.len(),
        "layout constants for fields C does not have"
    );
}

#[test]
fn abi_struct_offsets_match_defines() {
    let text = header("kwo_abi.h");
    let defs: BTreeMap<String, u64> = defines(&text, "KWO_")
        .into_iter()
        .map(|(n, v, _)| (n, v))
        .collect();
    let structs = structs(&text);
    assert_eq!(structs.len(), 3, "structs: {:?}", structs.keys());
    for (sname, s) in &structs {
        let prefix = format!("KWO_{}_", sname.to_uppercase());
        assert_eq!(
            defs[&format!("{prefix}SIZE")],
            s.size as u64,
            "sizeof(struct kwo_{sname})"
        );
        let mut named = 0;
        for (field, offset, _) in &s.fields {
            if let Some(&v) = defs.get(&format!("{prefix}{}", field.to_uppercase())) {
                assert_eq!(v, *offset as u64, "kwo_{sname}.{field}");
                named += 1;
            }
        }
        // Every offset define names a field (only SIZE is not one).
        let offset_defs = defs.keys().filter(|k| k.starts_with(&prefix)).count() - 1;
        assert_eq!(named, offset_defs, "{prefix}* defines that name no field");
    }
    for (name, size) in static_asserts(&text) {
        assert_eq!(
            structs[&name].size, size,
            "_Static_assert on struct kwo_{name}"
        );
    }
}

#[test]
fn trap_messages_match_comments() {
    let mut seen = 0;
    for (name, value, comment) in all_header_defines() {
        if !name.starts_with("KWO_TRAP_") || name == "KWO_TRAP_COUNT" {
            continue;
        }
        let quoted = comment.split('"').nth(1);
        assert_eq!(trap_message(value as u32), quoted, "{name}");
        seen += 1;
    }
    assert_eq!(seen, KWO_TRAP_COUNT);
}

#[test]
fn host_names_match_defines() {
    let mut seen = 0;
    for (name, value, _) in all_header_defines() {
        let Some(suffix) = name.strip_prefix("KWO_HOST_") else {
            continue;
        };
        if matches!(suffix, "BUILTIN_COUNT" | "WASI_BASE" | "WASI_END") {
            continue;
        }
        let want = match suffix.strip_prefix("WASI_") {
            Some(wasi) => format!("wasi:{}", wasi.to_lowercase()),
            None => suffix.to_lowercase(),
        };
        assert_eq!(host_name(value as u32), Some(want.as_str()), "{name}");
        assert!(is_host_id(value as u32), "{name}");
        seen += 1;
    }
    let builtins = KWO_HOST_BUILTIN_COUNT;
    assert_eq!(seen, builtins + KWO_HOST_WASI_END - KWO_HOST_WASI_BASE);
}

#[test]
fn limits_match_the_c_core() {
    let rust = [
        ("KWO_MAX_OBJECT_LEN", MAX_OBJECT_LEN),
        ("KWO_MAX_FUNCS", u64::from(MAX_FUNCS)),
        ("KWO_MAX_TABLE_ELEMS", u64::from(MAX_TABLE_ELEMS)),
        ("KWO_MAX_PAGES", u64::from(MAX_PAGES)),
    ];
    let c = defines(&header("kwo_core.h"), "KWO_MAX_");
    for (name, value, _) in &c {
        let r = rust.iter().find(|(n, _)| n == name);
        assert_eq!(
            r.map(|r| r.1),
            Some(*value),
            "{name}: no or another limit in limits.rs"
        );
    }
    assert_eq!(c.len(), rust.len(), "limits.rs has limits kwo_core.h lacks");
}
