//! Objects the real compiler produced (`tests/data/add_grow.*.kwo`, from
//! `add_grow.wasm`: `add` and `grow` over one memory) parse, re-encode
//! byte for byte, and are the ones docs/kwo-format.md walks through.
//!
//! They are fixtures, not regenerated: the reader must keep accepting what
//! a compiler of this format version wrote.

mod common;

use common::*;
use kwo_format::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn compiled_objects_parse_and_reencode() {
    for (name, target, kind) in [
        ("add_grow.x86_64.kwo", Target::X86_64, RelocKind::X86Call32),
        (
            "add_grow.aarch64.kwo",
            Target::Aarch64,
            RelocKind::Arm64Call26,
        ),
    ] {
        let bytes = fixture(name);
        let obj = Object::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            obj.to_bytes(),
            bytes,
            "{name}: the compiler's encoding is canonical"
        );
        assert_eq!(obj.target, target);
        let names: Vec<_> = obj.funcs.iter().map(|f| f.name.as_deref()).collect();
        assert_eq!(names, [Some("add"), Some("grow")]);
        let exports: Vec<_> = obj
            .exports
            .iter()
            .map(|e| (e.name.as_str(), e.index))
            .collect();
        assert_eq!(exports, [("add", 0), ("grow", 1)]);
        assert_eq!(
            obj.memory,
            Some(Memory {
                min_pages: 1,
                max_pages: None
            })
        );
        assert!(obj.relocs.iter().all(|r| r.kind == kind));
        let grow = obj
            .relocs
            .iter()
            .filter(|r| r.host_id == KWO_HOST_MEMORY_GROW);
        assert_eq!(grow.count(), 1, "{name}: memory.grow is one host call");
        // Every trap site is the return address of a relocated call
        // (the call instruction's field ends at the return address).
        for t in &obj.traps {
            assert!(
                obj.relocs.iter().any(|r| r.offset + 4 == t.code_off),
                "{name}: {t:?}"
            );
        }
    }
}

#[test]
fn doc_example_is_the_fixture() {
    let bytes = fixture("add_grow.x86_64.kwo");
    let doc_path = format!("{}/../docs/kwo-format.md", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(&doc_path).unwrap();
    // The header and section table rows of the doc's hexdump.
    for row in (0..0xc0).step_by(16) {
        let words: Vec<String> = (0..16)
            .step_by(4)
            .map(|i| format!("{:08x}", get32(&bytes, row + i).swap_bytes()))
            .collect();
        let line = format!("{row:08x}: {}", words.join(" "));
        assert!(doc.contains(&line), "docs/kwo-format.md lacks `{line}`");
    }
    assert!(doc.contains(&format!("is a {}-byte object", bytes.len())));
}
