//! Source locations in messages: turns a WebAssembly code offset into
//! `file:line:column` text with the line table of an object (the LINES
//! section, docs/kwo-format.md §5.14), for trap reports and anything
//! else that names a code offset.
//!
//! It only formats what the table says; building the table from DWARF is
//! `kwo-debuginfo`'s job, at compile time. An object without a table, or
//! whose table does not decode, gives no location: messages then fall back
//! to function names and offsets.

use kwo_format::lines::{self, LineTable, SourceLoc};
use std::cell::OnceCell;

/// The source location of `wasm_off`, innermost first: `src/main.c:12:5`,
/// or for code inlined from other functions `src/util.h:4:9 in poke,
/// inlined into main at src/main.c:12:5`. `None` when unknown.
pub fn describe_location(table: Option<&LineTable>, wasm_off: u32) -> Option<String> {
    let chain = table?.lookup(wasm_off);
    let (first, callers) = chain.split_first()?;
    let mut text = place(first);
    if callers.is_empty() {
        return Some(text);
    }
    if let Some(f) = &first.function {
        text.push_str(&format!(" in {f}"));
    }
    for caller in callers {
        text.push_str(", inlined into ");
        if let Some(f) = &caller.function {
            text.push_str(&format!("{f} at "));
        }
        text.push_str(&place(caller));
    }
    Some(text)
}

/// `file:line:column`, or `file:line` when the column is unknown.
fn place(loc: &SourceLoc) -> String {
    match loc.column {
        0 => format!("{}:{}", loc.file, loc.line),
        c => format!("{}:{}:{c}", loc.file, loc.line),
    }
}

/// The line table of an object, decoded when first asked for. Only traps
/// name source lines, so an instance keeps the LINES section's bytes (a
/// copy of that section alone; nothing when the object has none) and
/// decodes them once, at its first trap, instead of at every
/// instantiation. A table that does not decode is left out: it is debug
/// data, and `kwo inspect` says what is wrong with it.
#[derive(Debug, Default)]
pub struct LazyLineTable {
    bytes: Option<Box<[u8]>>,
    table: OnceCell<Option<LineTable>>,
}

impl LazyLineTable {
    /// The LINES section of object bytes (signed or not), not decoded yet.
    pub fn of_object(kwo: &[u8]) -> LazyLineTable {
        let object = kwo_format::signature::strip(kwo).ok();
        LazyLineTable {
            bytes: object.and_then(lines::find_section).map(Box::from),
            table: OnceCell::new(),
        }
    }

    /// The decoded table, if the object has one that decodes.
    pub fn get(&self) -> Option<&LineTable> {
        self.table
            .get_or_init(|| LineTable::decode(self.bytes.as_deref()?).ok())
            .as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kwo_format::lines::LineTableBuilder;

    #[test]
    fn plain_and_inlined_locations() {
        let mut b = LineTableBuilder::new();
        let main = b.frame("src/main.c", 12, 5, Some("main"), None);
        let call = b.frame("src/main.c", 17, 2, Some("main"), None);
        let poke = b.frame("src/poke.h", 4, 9, Some("poke"), Some(call));
        let twice = b.frame("src/poke.h", 9, 0, Some("poke2"), Some(poke));
        b.row(0x10, Some(main));
        b.row(0x20, Some(poke));
        b.row(0x30, Some(twice));
        b.row(0x40, None);
        let t = b.finish().unwrap();
        assert_eq!(describe_location(Some(&t), 0x12).as_deref(), Some("src/main.c:12:5"));
        assert_eq!(
            describe_location(Some(&t), 0x20).as_deref(),
            Some("src/poke.h:4:9 in poke, inlined into main at src/main.c:17:2")
        );
        assert_eq!(
            describe_location(Some(&t), 0x3f).as_deref(),
            Some("src/poke.h:9 in poke2, inlined into poke at src/poke.h:4:9, inlined into main at src/main.c:17:2")
        );
        assert_eq!(describe_location(Some(&t), 0x40), None);
        assert_eq!(describe_location(Some(&t), 0x8), None);
        assert_eq!(describe_location(None, 0x12), None);
    }

    /// An object whose one function traps, with a line table unless `lines`
    /// is None; `lines` may be any bytes.
    fn object_with_lines(lines: Option<Vec<u8>>) -> Vec<u8> {
        let wasm = wat::parse_str(r#"(module (func (export "f") unreachable))"#).unwrap();
        let module = kwo_verifier::verify(&wasm, &kwo_verifier::Policy::kernel()).unwrap();
        let opts = kwo_compiler::Options::default();
        let mut object = kwo_compiler::compile_object(&module, &opts).unwrap();
        object.lines = lines.unwrap_or_default();
        object.to_bytes()
    }

    #[test]
    fn the_line_table_is_decoded_at_first_use_only() {
        let mut b = LineTableBuilder::new();
        let main = b.frame("src/main.c", 3, 1, Some("main"), None);
        b.row(0, Some(main));
        let table = b.finish().unwrap();
        let lazy = LazyLineTable::of_object(&object_with_lines(Some(table.encode())));
        assert!(lazy.table.get().is_none(), "decoded before use");
        assert_eq!(lazy.get(), Some(&table));
        assert_eq!(describe_location(lazy.get(), 0x5).as_deref(), Some("src/main.c:3:1"));

        let none = LazyLineTable::of_object(&object_with_lines(None));
        assert!(none.bytes.is_none());
        assert_eq!(none.get(), None);
        // A table that does not decode is left out.
        let broken = LazyLineTable::of_object(&object_with_lines(Some(vec![0xff; 7])));
        assert!(broken.bytes.is_some());
        assert_eq!(broken.get(), None);
    }
}
