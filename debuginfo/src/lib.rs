//! Source lines for kwo: reads a WebAssembly module's DWARF and builds the
//! `.kwo` line table ([`kwo_format::lines::LineTable`]) that maps code
//! offsets to `file:line:column`, with the chain of inlined functions.
//!
//! What is read: the custom sections `clang -g` and `rustc -g` leave in a
//! module (`.debug_info`, `.debug_abbrev`, `.debug_line`, `.debug_str`,
//! `.debug_line_str`, `.debug_ranges`, `.debug_rnglists`, `.debug_addr`,
//! `.debug_str_offsets`, ...): every unit's line program, and its
//! `DW_TAG_subprogram` and `DW_TAG_inlined_subroutine` entries for the
//! function names and the call sites of inlined code. DWARF addresses in
//! WebAssembly are offsets from the start of the code section's contents
//! (the WebAssembly DWARF convention, as Wasmtime reads them); the table
//! holds offsets in the `.wasm` file, like trap sites.
//!
//! What is not: variables, types, frame information, split DWARF
//! (`external_debug_info`), and units in other files. Bad DWARF is never an
//! error: a unit that gimli cannot read is left out with a warning, and
//! what could be read is kept. This crate never panics on any input.

mod units;

use kwo_format::lines::{FrameId, LineTable, LineTableBuilder};
use std::collections::HashMap;
use units::{Collected, Reader, Scope, Span};

/// Warnings beyond this many are summed up in one.
const MAX_WARNINGS: usize = 8;
/// Inlined frames kept per location, innermost first.
const MAX_INLINE_DEPTH: usize = 64;

/// The line table of module `wasm`, or `None` when it has no usable DWARF;
/// and warnings about DWARF that could not be read (none for a module
/// without DWARF).
pub fn line_table(wasm: &[u8]) -> (Option<LineTable>, Vec<String>) {
    let mut warnings = Warnings::default();
    let module = match scan(wasm) {
        Ok(m) => m,
        Err(e) => {
            warnings.push(format!("DWARF ignored: the module cannot be read: {e}"));
            return (None, warnings.finish());
        }
    };
    if !module.sections.keys().any(|name| name.starts_with(".debug_")) {
        return (None, Vec::new());
    }
    let collected = read_units(&module, &mut warnings);
    let table = build(&module, &collected);
    let mut warnings = warnings.finish();
    if table.is_none() {
        warnings.push("DWARF has no line information for the code: no line table".into());
    }
    (table, warnings)
}

/// The parts of the module the DWARF reader needs.
struct Module<'a> {
    /// Offset of the code section's contents in the file.
    code_start: u64,
    code_len: u64,
    sections: HashMap<&'a str, &'a [u8]>,
}

fn scan(wasm: &[u8]) -> Result<Module<'_>, wasmparser::BinaryReaderError> {
    let mut module = Module {
        code_start: 0,
        code_len: 0,
        sections: HashMap::new(),
    };
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload? {
            wasmparser::Payload::CustomSection(s) => {
                module.sections.insert(s.name(), s.data());
            }
            wasmparser::Payload::CodeSectionStart { range, .. } => {
                module.code_start = range.start as u64;
                module.code_len = (range.end - range.start) as u64;
            }
            _ => {}
        }
    }
    Ok(module)
}

/// Line spans and scopes of every unit gimli can read.
fn read_units(module: &Module, warnings: &mut Warnings) -> Collected {
    let load = |id: gimli::SectionId| -> Result<Reader, std::convert::Infallible> {
        let bytes = module.sections.get(id.name()).copied().unwrap_or(&[]);
        Ok(Reader::new(bytes, gimli::LittleEndian))
    };
    let mut collected = Collected::default();
    let Ok(dwarf) = gimli::Dwarf::load(load);
    let mut headers = dwarf.units();
    loop {
        let header = match headers.next() {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(e) => {
                warnings.push(format!("DWARF: .debug_info cannot be read further: {e}"));
                break;
            }
        };
        let at = header.debug_info_offset().map_or(0, |o| o.0);
        let unit = match dwarf.unit(header) {
            Ok(u) => u,
            Err(e) => {
                warnings.push(format!("DWARF: unit at .debug_info+{at:#x} left out: {e}"));
                continue;
            }
        };
        let unit = unit.unit_ref(&dwarf);
        if let Err(e) = collected.read_lines(unit, module.code_len) {
            warnings.push(format!("DWARF: line program of unit at .debug_info+{at:#x} cut short: {e}"));
        }
        if let Err(e) = collected.read_scopes(unit, module.code_len) {
            warnings.push(format!("DWARF: functions of unit at .debug_info+{at:#x} cut short: {e}"));
        }
    }
    collected
}

/// The table: the code is cut at every span and scope boundary, and each
/// piece gets the location of its span and the inline chain of the
/// innermost scope around it.
fn build(module: &Module, c: &Collected) -> Option<LineTable> {
    let spans = disjoint_spans(&c.spans);
    let mut ranges: Vec<(u64, u64, usize)> = c
        .scopes
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.ranges.iter().map(move |&(a, b)| (a, b, i)))
        .collect();
    ranges.sort_unstable();
    let mut cuts: Vec<u64> = spans.iter().flat_map(|s| [s.start, s.end]).collect();
    cuts.extend(ranges.iter().flat_map(|&(a, b, _)| [a, b]));
    cuts.sort_unstable();
    cuts.dedup();

    let mut b = LineTableBuilder::new();
    let mut frames: HashMap<(usize, Option<usize>), Option<FrameId>> = HashMap::new();
    let (mut next_span, mut next_range) = (0, 0);
    let mut active: Vec<(u64, usize)> = Vec::new();
    for &at in &cuts {
        while next_span < spans.len() && spans[next_span].end <= at {
            next_span += 1;
        }
        while next_range < ranges.len() && ranges[next_range].0 <= at {
            active.push((ranges[next_range].1, ranges[next_range].2));
            next_range += 1;
        }
        active.retain(|&(end, _)| end > at);
        let Some(wasm_off) = u32::try_from(module.code_start + at).ok() else {
            break;
        };
        let span = spans.get(next_span).filter(|s| s.start <= at);
        let frame = span.map(|s| {
            let scope = active.iter().map(|&(_, i)| i).max_by_key(|&i| c.scopes[i].depth);
            *frames
                .entry((next_span, scope))
                .or_insert_with(|| frame_chain(&mut b, c, s, scope))
        });
        // A chain always has the span's own location, so `frame` is `None`
        // only where no span is.
        let frame = frame.flatten();
        b.row(wasm_off, frame);
    }
    b.finish()
}

/// The spans sorted by start, an overlapping one cut to begin where the
/// previous ends (the first unit to claim code keeps it).
fn disjoint_spans(spans: &[Span]) -> Vec<Span> {
    let mut sorted = spans.to_vec();
    sorted.sort_by_key(|s| (s.start, s.end));
    let mut out: Vec<Span> = Vec::with_capacity(sorted.len());
    for mut s in sorted {
        if let Some(prev) = out.last() {
            s.start = s.start.max(prev.end);
        }
        if s.start < s.end {
            out.push(s);
        }
    }
    out
}

/// Interns the frames of a piece of code: its own location in the
/// innermost scope's function, then each inlined scope's call site in the
/// function around it.
fn frame_chain(b: &mut LineTableBuilder, c: &Collected, span: &Span, scope: Option<usize>) -> Option<FrameId> {
    let name = |s: Option<usize>| {
        s.and_then(|i| c.scopes[i].name)
            .map(|n| c.strings.list[n as usize].as_str())
    };
    let mut chain = vec![(span.file, span.line, span.column, name(scope))];
    let mut current = scope.map(|i| &c.scopes[i]);
    while let Some(Scope { call: Some(call), parent: Some(parent), .. }) = current {
        if chain.len() == MAX_INLINE_DEPTH {
            break;
        }
        chain.push((call.file, call.line, call.column, name(Some(*parent))));
        current = Some(&c.scopes[*parent]);
    }
    let mut inner = None;
    for &(file, line, column, function) in chain.iter().rev() {
        let file = &c.strings.list[file as usize];
        inner = Some(b.frame(file, line, column, function, inner));
    }
    inner
}

/// Warnings, at most [`MAX_WARNINGS`] of them spelled out.
#[derive(Default)]
struct Warnings {
    list: Vec<String>,
    dropped: usize,
}

impl Warnings {
    fn push(&mut self, w: String) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(w);
        } else {
            self.dropped += 1;
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.list.push(format!("DWARF: {} more warnings", self.dropped));
        }
        self.list
    }
}
