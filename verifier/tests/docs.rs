//! `docs/policy.md` must list exactly what the code enforces: every WASI
//! import with its signature and host id, and every limit with its default.

use kwo_verifier::{LIMIT_TABLE, WASI_IMPORTS};
use wasmparser::ValType;

fn policy_md() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/policy.md");
    std::fs::read_to_string(path).expect("docs/policy.md must exist")
}

fn list(tys: &[ValType]) -> String {
    tys.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn wasi_table_matches_the_docs() {
    let doc = policy_md();
    for import in WASI_IMPORTS {
        let results = match import.results {
            [one] => one.to_string(),
            more => format!("({})", list(more)),
        };
        let row = format!(
            "| `{}` | `({}) -> {results}` | {} |",
            import.name,
            list(import.params),
            import.host_id
        );
        assert!(doc.contains(&row), "docs/policy.md lacks the row {row}");
    }
    let rows = doc.lines().filter(|l| l.contains("` | `(")).count();
    assert_eq!(rows, WASI_IMPORTS.len(), "docs list other WASI imports");
}

#[test]
fn limits_table_matches_the_docs() {
    let doc = policy_md();
    for limit in LIMIT_TABLE {
        let row = format!("| `{}` | {}", limit.name, limit.default);
        assert!(doc.contains(&row), "docs/policy.md lacks the row {row}");
    }
    let rows = doc.lines().filter(|l| l.starts_with("| `max-")).count();
    assert_eq!(rows, LIMIT_TABLE.len(), "docs list other limits");
}

#[test]
fn host_ids_match_kwo_abi_h() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../kmod/core/kwo_abi.h");
    let header = std::fs::read_to_string(path).expect("kwo_abi.h");
    for import in WASI_IMPORTS {
        let name = format!("KWO_HOST_WASI_{}", import.name.to_ascii_uppercase());
        let value = header
            .lines()
            .find_map(|l| {
                let mut words = l.split_whitespace();
                (words.next() == Some("#define") && words.next() == Some(name.as_str()))
                    .then(|| words.next())
                    .flatten()
            })
            .unwrap_or_else(|| panic!("{name} missing from kwo_abi.h"));
        assert_eq!(value, import.host_id.to_string(), "{name}");
    }
    assert!(header.contains(&format!(
        "#define KWO_HOST_SPECTEST_PRINT\t{}",
        kwo_verifier::HOST_SPECTEST_PRINT
    )));
}

/// The worked example at the top of the document is real output.
#[test]
fn example_output_is_real() {
    let doc = policy_md();
    let block = |from: usize, fence: &str| {
        let start = from + doc[from..].find(fence).expect("example block") + fence.len();
        let len = doc[start..].find("```").expect("closing fence");
        (start + len, doc[start..start + len].to_string())
    };
    let (end, wat) = block(0, "```wat\n");
    let (_, expected) = block(end + 3, "```\n");
    let wasm = wat::parse_str(&wat).expect("example parses");
    let diags = kwo_verifier::verify(&wasm, &kwo_verifier::Policy::kernel()).unwrap_err();
    assert_eq!(format!("{diags}\n"), expected);
}
