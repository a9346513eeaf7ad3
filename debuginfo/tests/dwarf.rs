//! The DWARF reader on real compiler output: `tests/programs/trap.c` built
//! with `clang -g` (and wasi-libc, whose archive has DWARF of its own)
//! gives a table whose locations include the inlined store; modules with no
//! DWARF or that are not modules give no table; and thousands of corrupted
//! copies of the DWARF sections never make it panic. Needs clang with
//! wasi-libc, as `loader/tests/programs.rs`.

use kwo_format::lines::{LineTable, SourceLoc};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const TRAP_C: &str = "tests/programs/trap.c";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// tests/programs/trap.c built with `clang -O2 -g` from the repository
/// root, once per test binary.
fn trap_wasm() -> &'static [u8] {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    WASM.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("debuginfo-trap.wasm");
        let res = Command::new("clang")
            .current_dir(repo_root())
            .args(["--target=wasm32-wasi", "-O2", "-g", "-o"])
            .arg(&out)
            .arg(TRAP_C)
            .output()
            .expect("running clang (scripts/setup installs it)");
        assert!(res.status.success(), "clang: {}", String::from_utf8_lossy(&res.stderr));
        std::fs::read(&out).unwrap()
    })
}

fn line_of(text: &str) -> u32 {
    let source = std::fs::read_to_string(repo_root().join(TRAP_C)).unwrap();
    source.lines().position(|l| l.contains(text)).unwrap() as u32 + 1
}

fn loc(line: u32, column: u32, function: &str) -> SourceLoc {
    SourceLoc {
        file: TRAP_C.into(),
        line,
        column,
        function: Some(function.into()),
    }
}

#[test]
fn clang_output_gives_the_inlined_store() {
    let (table, warnings) = kwo_debuginfo::line_table(trap_wasm());
    assert_eq!(warnings, Vec::<String>::new());
    let table = table.expect("a table");
    let inlined = vec![loc(line_of("= value;"), 35, "poke"), loc(line_of("poke(addr, 42);"), 2, "main")];
    let chains: Vec<Vec<SourceLoc>> = table.row_offsets().map(|off| table.lookup(off)).collect();
    assert!(chains.contains(&inlined), "no row is the store in poke inlined into main");
    // main's own lines are there, not inlined.
    let printf = vec![loc(line_of("printf("), 2, "main")];
    assert!(chains.contains(&printf), "no row is main's printf call");
    // Every row of a code range has a real line (line 0, "no source", is
    // left out), and the encoding round-trips.
    for chain in &chains {
        assert!(chain.iter().all(|l| l.line > 0 && !l.file.is_empty()), "{chain:?}");
    }
    assert_eq!(LineTable::decode(&table.encode()).unwrap(), table);
}

#[test]
fn no_dwarf_gives_no_table_and_no_warning() {
    let wasm = wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 1))"#).unwrap();
    assert_eq!(kwo_debuginfo::line_table(&wasm), (None, vec![]));
}

#[test]
fn not_a_module_gives_a_warning() {
    let (table, warnings) = kwo_debuginfo::line_table(b"\0asm\x01\0\0\0\x0a\xff");
    assert_eq!(table, None);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("DWARF ignored: the module cannot be read"), "{warnings:?}");
}

/// The file ranges of the contents of every `.debug_*` custom section.
fn debug_sections(wasm: &[u8]) -> Vec<(String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CustomSection(s)) = payload {
            if s.name().starts_with(".debug_") {
                out.push((s.name().to_owned(), s.data_offset()..s.data_offset() + s.data().len()));
            }
        }
    }
    out
}

/// Random bytes written over random places of each DWARF section (the
/// module's structure intact): the reader answers every time, and what it
/// answers encodes and decodes.
#[test]
fn corrupted_sections_never_panic() {
    let good = trap_wasm();
    let sections = debug_sections(good);
    assert!(sections.len() >= 4, "{sections:?}");
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut tables = 0;
    for (name, range) in &sections {
        for round in 0..150 {
            let mut wasm = good.to_vec();
            // A few bytes early on (headers) or anywhere, some runs of 0xff.
            let span = if round % 2 == 0 { range.len().min(64) } else { range.len() };
            for _ in 0..1 + next() % 4 {
                let at = range.start + (next() as usize) % span;
                wasm[at] = if round % 3 == 0 { 0xff } else { next() as u8 };
            }
            let (table, warnings) = kwo_debuginfo::line_table(&wasm);
            assert!(warnings.len() <= 10, "{name}: {warnings:?}");
            if let Some(t) = table {
                tables += 1;
                assert_eq!(LineTable::decode(&t.encode()).as_ref(), Ok(&t), "{name}");
            }
        }
    }
    assert!(tables > 0, "some corruptions leave a usable table");
}
