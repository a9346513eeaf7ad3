//! [`describe`]: the human-readable summary `kwo inspect` prints.
//!
//! Everything but the code: disassembly needs a disassembler, which this
//! dependency-free crate does not have; the loader appends it.

use crate::layout::{section_name, HDR_CHECKSUM, SEC_COUNT, SEC_KIND, SEC_OFFSET, SEC_SIZE};
use crate::*;
use std::fmt::Write;

/// Describes an object: header, sections, functions, exports, imports,
/// memory, tables, globals, segments, relocations, trap sites and the
/// line table's size. Section offsets are those of the canonical encoding
/// ([`Object::to_bytes`]), which is the layout of every object the
/// compiler writes.
pub fn describe(obj: &Object) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_all(&mut out, obj);
    out
}

fn write_all(out: &mut String, obj: &Object) -> std::fmt::Result {
    write_header(out, obj)?;
    write_types(out, obj)?;
    write_funcs(out, obj)?;
    write_exports(out, obj)?;
    write_storage(out, obj)?;
    write_segments(out, obj)?;
    write_relocs(out, obj)?;
    write_traps(out, obj)?;
    write_lines(out, obj)
}

fn write_header(out: &mut String, obj: &Object) -> std::fmt::Result {
    let bytes = obj.to_bytes();
    let le32 = |at: usize| {
        bytes
            .get(at..at + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let names: Vec<&str> = [
        (KWO_F_USES_FP, "uses-fp"),
        (KWO_F_UNCHECKED, "unchecked"),
        (KWO_F_RESERVED_MEMORY, "reserved-memory"),
        (KWO_F_X86_BMI, "x86-bmi"),
    ]
    .iter()
    .filter(|(bit, _)| obj.flags & bit != 0)
    .map(|&(_, name)| name)
    .collect();
    let uses_fp = if names.is_empty() { String::new() } else { format!(" ({})", names.join(", ")) };
    writeln!(
        out,
        "kwo object v{KWO_VERSION}: {}, {} bytes",
        obj.target.name(),
        bytes.len()
    )?;
    writeln!(
        out,
        "  flags {:#x}{uses_fp}, checksum {:#010x}",
        obj.flags,
        le32(HDR_CHECKSUM)
    )?;
    writeln!(
        out,
        "  max frame {} bytes, code {} bytes",
        obj.max_frame,
        obj.code.len()
    )?;
    match obj.stack_bound {
        0 => writeln!(out, "  stack: recursive, checked in every function that calls Wasm")?,
        n => writeln!(out, "  stack: static bound {n} bytes (no call cycles)")?,
    }
    if let Some((func, tramp)) = obj.start {
        writeln!(
            out,
            "  start: func {func}{} trampoline {tramp:#x}",
            func_label(obj, func)
        )?;
    }
    let count = le32(crate::layout::HDR_SECTION_COUNT) as usize;
    writeln!(out, "sections ({count}):")?;
    for i in 0..count {
        let e = KWO_HEADER_SIZE as usize + i * KWO_SECTION_SIZE as usize;
        let kind = le32(e + SEC_KIND);
        let (off, size, n) = (
            le32(e + SEC_OFFSET),
            le32(e + SEC_SIZE),
            le32(e + SEC_COUNT),
        );
        writeln!(
            out,
            "  {:<8} offset {off:#08x} size {size:>8} count {n}",
            section_name(kind)
        )?;
    }
    Ok(())
}

fn write_types(out: &mut String, obj: &Object) -> std::fmt::Result {
    if obj.types.is_empty() {
        return Ok(());
    }
    writeln!(out, "types ({}):", obj.types.len())?;
    for (i, t) in obj.types.iter().enumerate() {
        writeln!(out, "  {i:>4} {} sig {}", sig_text(obj, i as u32), t.sig_id)?;
    }
    Ok(())
}

/// Functions in wasm index order: imports first, then definitions.
fn write_funcs(out: &mut String, obj: &Object) -> std::fmt::Result {
    let total = obj.imports.len() + obj.funcs.len();
    if total == 0 {
        return Ok(());
    }
    writeln!(out, "functions ({total}):")?;
    for (i, imp) in obj.imports.iter().enumerate() {
        let host = host_name(imp.host_id).unwrap_or("?");
        let sig = sig_text(obj, imp.type_index);
        writeln!(out, "  {i:>4} import {host} (host {}) {sig}", imp.host_id)?;
    }
    for (i, f) in obj.funcs.iter().enumerate() {
        let index = obj.imports.len() + i;
        let name = f
            .name
            .as_deref()
            .map(|n| format!(" <{n}>"))
            .unwrap_or_default();
        let sig = sig_text(obj, f.type_index);
        writeln!(
            out,
            "  {index:>4}{name} code {:#x}+{:#x} type {} {sig} wasm {:#x}",
            f.code_off, f.code_len, f.type_index, f.wasm_off
        )?;
    }
    Ok(())
}

fn write_exports(out: &mut String, obj: &Object) -> std::fmt::Result {
    if obj.exports.is_empty() {
        return Ok(());
    }
    writeln!(out, "exports ({}):", obj.exports.len())?;
    for e in &obj.exports {
        let kind = match e.kind {
            ExportKind::Func => "func",
            ExportKind::Table => "table",
            ExportKind::Memory => "memory",
            ExportKind::Global => "global",
        };
        write!(out, "  {:?} {kind} {}", e.name, e.index)?;
        if e.kind == ExportKind::Func {
            write!(out, "{}", func_label(obj, e.index))?;
        }
        match e.tramp {
            Some(t) => writeln!(out, " trampoline {t:#x}")?,
            None => writeln!(out)?,
        }
    }
    Ok(())
}

/// Memory, tables and globals.
fn write_storage(out: &mut String, obj: &Object) -> std::fmt::Result {
    if let Some(m) = &obj.memory {
        writeln!(
            out,
            "memory: min {} pages, max {}",
            m.min_pages,
            opt(m.max_pages)
        )?;
    }
    for (i, t) in obj.tables.iter().enumerate() {
        let ty = t.elem_type.name();
        writeln!(out, "table {i}: {ty} min {} max {}", t.min, opt(t.max))?;
    }
    for (i, g) in obj.globals.iter().enumerate() {
        let mutability = if g.mutable { "mut " } else { "" };
        let init = match g.init {
            GlobalInit::Value(bits) => format!("{bits:#x}"),
            GlobalInit::RefFunc(f) => format!("ref.func {f}{}", func_label(obj, f)),
            GlobalInit::RefNull => "ref.null".to_string(),
        };
        writeln!(out, "global {i}: {mutability}{} = {init}", g.ty.name())?;
    }
    Ok(())
}

fn write_segments(out: &mut String, obj: &Object) -> std::fmt::Result {
    for (i, d) in obj.data.iter().enumerate() {
        writeln!(
            out,
            "data {i}: {}, {} bytes",
            mode_text(d.mode, "memory"),
            d.bytes.len()
        )?;
    }
    for (i, e) in obj.elems.iter().enumerate() {
        let nulls = e.items.iter().filter(|x| x.is_none()).count();
        writeln!(
            out,
            "elem {i}: {}, {} {} items ({nulls} null)",
            mode_text(e.mode, "table"),
            e.items.len(),
            e.elem_type.name()
        )?;
    }
    Ok(())
}

fn write_relocs(out: &mut String, obj: &Object) -> std::fmt::Result {
    if obj.relocs.is_empty() {
        return Ok(());
    }
    writeln!(out, "relocations ({}):", obj.relocs.len())?;
    for r in &obj.relocs {
        let kind = match r.kind {
            RelocKind::X86Call32 => "x86_call32",
            RelocKind::Arm64Call26 => "arm64_call26",
        };
        let host = host_name(r.host_id).unwrap_or("?");
        writeln!(out, "  {:#06x} {kind} {host} {:+}", r.offset, r.addend)?;
    }
    Ok(())
}

fn write_traps(out: &mut String, obj: &Object) -> std::fmt::Result {
    if obj.traps.is_empty() {
        return Ok(());
    }
    writeln!(out, "trap sites ({}):", obj.traps.len())?;
    for t in &obj.traps {
        let what = match t.trap_code {
            KWO_TRAP_NONE => "host call".to_string(),
            KWO_TRAP_EXIT => "exit".to_string(),
            c => trap_message(c).map_or_else(|| format!("trap {c}"), str::to_string),
        };
        let func = func_label(obj, t.func);
        writeln!(
            out,
            "  {:#06x} {what} in func {}{func} at wasm {:#x}",
            t.code_off, t.func, t.wasm_off
        )?;
    }
    Ok(())
}

/// Whether the object carries a line table, and its size.
fn write_lines(out: &mut String, obj: &Object) -> std::fmt::Result {
    if obj.lines.is_empty() {
        return writeln!(out, "line table: none");
    }
    match crate::lines::LineTable::decode(&obj.lines) {
        Ok(t) => writeln!(
            out,
            "line table: {} rows, {} frames, {} bytes",
            t.row_count(),
            t.frame_count(),
            obj.lines.len()
        ),
        Err(e) => writeln!(out, "line table: unreadable ({e})"),
    }
}

/// " <name>" of a wasm function index, or nothing.
fn func_label(obj: &Object, func: u32) -> String {
    let defined = (func as usize).checked_sub(obj.imports.len());
    match defined
        .and_then(|i| obj.funcs.get(i))
        .and_then(|f| f.name.as_deref())
    {
        Some(name) => format!(" <{name}>"),
        None => String::new(),
    }
}

/// `(i32, i64) -> f32`; several results are parenthesized, none is `()`.
fn sig_text(obj: &Object, type_index: u32) -> String {
    let Some(t) = obj.types.get(type_index as usize) else {
        return "<bad type>".to_string();
    };
    let list = |v: &[ValType]| v.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ");
    let results = match t.results.len() {
        1 => list(&t.results),
        _ => format!("({})", list(&t.results)),
    };
    format!("({}) -> {results}", list(&t.params))
}

fn mode_text(mode: SegmentMode, space: &str) -> String {
    match mode {
        SegmentMode::Passive => "passive".to_string(),
        SegmentMode::Declarative => "declarative".to_string(),
        SegmentMode::Active { index, offset } => {
            format!("active {space} {index} offset {offset:#x}")
        }
    }
}

fn opt(v: Option<u32>) -> String {
    v.map_or_else(|| "none".to_string(), |v| v.to_string())
}
