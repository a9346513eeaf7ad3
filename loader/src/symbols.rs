//! Source locations in messages: turns a WebAssembly code offset into
//! `file:line:column` text with the line table of an object (the LINES
//! section, docs/kwo-format.md §5.14), for trap reports and anything
//! else that names a code offset.
//!
//! It only formats what the table says; building the table from DWARF is
//! `kwo-debuginfo`'s job, at compile time. An object without a table, or
//! whose table does not decode, gives no location: messages then fall back
//! to function names and offsets.

use kwo_format::lines::{LineTable, SourceLoc};

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

/// The line table carried by object bytes (signed or not), if it has one
/// that decodes. A table that does not decode is left out: it is debug
/// data, and `kwo inspect` says what is wrong with it.
pub fn object_line_table(kwo: &[u8]) -> Option<LineTable> {
    let object = kwo_format::signature::strip(kwo).ok()?;
    LineTable::from_object(object).ok().flatten()
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
}
