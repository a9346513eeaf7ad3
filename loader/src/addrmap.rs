//! `kwo inspect --disasm` annotations from the object's address map
//! (ADDRMAP section): a `;; wasm 0x56` line before the first machine
//! instruction of each change of Wasm offset, with its source line when the
//! object has a line table (`;; wasm 0x56 (main.c:12:5)`). Reads the parsed
//! object only; it does not disassemble.

use crate::symbols::describe_location;
use kwo_format::lines::LineTable;
use kwo_format::Object;

/// Tracks the Wasm offset of consecutive instructions of one function.
#[derive(Default)]
pub struct WasmNotes {
    last: Option<u32>,
}

impl WasmNotes {
    /// A fresh tracker, for the first instruction of a function.
    pub fn new() -> Self {
        WasmNotes::default()
    }

    /// The annotation line (with its newline) to print before the
    /// instruction at CODE offset `code_off`, when its Wasm offset differs
    /// from the previous instruction's; `lines` is the object's line table.
    pub fn before(&mut self, obj: &Object, lines: Option<&LineTable>, code_off: u64) -> Option<String> {
        let wasm = u32::try_from(code_off).ok().and_then(|off| obj.wasm_offset_at(off));
        if wasm == self.last {
            return None;
        }
        self.last = wasm;
        let w = wasm?;
        Some(match describe_location(lines, w) {
            Some(source) => format!("  ;; wasm {w:#x} ({source})\n"),
            None => format!("  ;; wasm {w:#x}\n"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_at_each_change_of_wasm_offset() {
        let wasm = wat::parse_str(
            r#"(module (func (export "f") (param i32 i32) (result i32)
                 local.get 0 local.get 1 i32.div_u))"#,
        )
        .unwrap();
        let module = kwo_verifier::verify(&wasm, &kwo_verifier::Policy::kernel()).unwrap();
        let bytes = kwo_compiler::compile(&module, &kwo_compiler::Options::default()).unwrap();
        let obj = Object::parse(&bytes).unwrap();
        assert!(!obj.addr_map.is_empty());
        let f = &obj.funcs[0];
        let mut notes = WasmNotes::new();
        let lines: Vec<String> = (f.code_off..f.code_off + f.code_len)
            .filter_map(|off| notes.before(&obj, None, u64::from(off)))
            .collect();
        // Every offset named lies in the function's body in the .wasm, and
        // the division is among them.
        assert!(!lines.is_empty());
        for l in &lines {
            let off = u32::from_str_radix(l.trim().trim_start_matches(";; wasm 0x"), 16).unwrap();
            assert!(off >= f.wasm_off && (off as usize) < wasm.len(), "{l}");
        }
        let div = wasm.iter().rposition(|&b| b == 0x6e).unwrap() as u32;
        assert!(lines.contains(&format!("  ;; wasm {div:#x}\n")), "{lines:?}");
    }
}
