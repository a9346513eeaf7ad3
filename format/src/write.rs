//! The encoder: [`Object::to_bytes`].
//!
//! The encoding is deterministic: the 64-byte header, the section table
//! right after it, then the non-empty sections in kind order, each at an
//! 8-byte aligned offset with zero padding. Every string, value-type list,
//! data segment and element item list is appended to the BLOB in the order
//! the entries reference it, without deduplication.
//!
//! The writer trusts its input (it comes from the compiler): it does not
//! validate, and lengths beyond `u32` saturate, which `Object::parse`
//! then rejects.

use crate::layout::*;
use crate::*;

impl Object {
    /// Encodes the object; see `docs/kwo-format.md`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut blob = Vec::new();
        let mut sections = Vec::new();
        let mut add = |kind: u32, count: usize, bytes: Vec<u8>| {
            if !bytes.is_empty() {
                sections.push((kind, len32(count), bytes));
            }
        };
        add(KWO_SEC_CODE, 0, self.code.clone());
        let types = self.encode_types(&mut blob);
        let funcs = self.encode_funcs(&mut blob);
        let exports = self.encode_exports(&mut blob);
        let data = self.encode_data(&mut blob);
        let elems = self.encode_elems(&mut blob);
        add(KWO_SEC_BLOB, 0, blob);
        add(KWO_SEC_TYPES, self.types.len(), types);
        add(KWO_SEC_IMPORTS, self.imports.len(), self.encode_imports());
        add(KWO_SEC_FUNCS, self.funcs.len(), funcs);
        add(KWO_SEC_TABLES, self.tables.len(), self.encode_tables());
        let memories = usize::from(self.memory.is_some());
        add(KWO_SEC_MEMORY, memories, self.encode_memory());
        add(KWO_SEC_GLOBALS, self.globals.len(), self.encode_globals());
        add(KWO_SEC_EXPORTS, self.exports.len(), exports);
        add(KWO_SEC_DATA, self.data.len(), data);
        add(KWO_SEC_ELEMS, self.elems.len(), elems);
        add(KWO_SEC_RELOCS, self.relocs.len(), self.encode_relocs());
        add(KWO_SEC_TRAPS, self.traps.len(), self.encode_traps());
        add(KWO_SEC_LINES, 0, self.lines.clone());
        add(KWO_SEC_ADDRMAP, self.addr_map.len(), self.encode_addr_map());
        self.assemble(&sections)
    }

    /// Lays out header, section table and sections, then fills in the
    /// length and checksum.
    fn assemble(&self, sections: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
        let table_len = sections.len() * KWO_SECTION_SIZE as usize;
        let mut out = vec![0u8; KWO_HEADER_SIZE as usize + table_len];
        for (i, (kind, count, bytes)) in sections.iter().enumerate() {
            out.resize(align8(out.len()), 0);
            let entry = KWO_HEADER_SIZE as usize + i * KWO_SECTION_SIZE as usize;
            put32(&mut out, entry + SEC_KIND, *kind);
            put32(&mut out, entry + SEC_COUNT, *count);
            let offset = len32(out.len());
            put32(&mut out, entry + SEC_OFFSET, offset);
            put32(&mut out, entry + SEC_SIZE, len32(bytes.len()));
            out.extend_from_slice(bytes);
        }
        let (start_func, start_tramp) = self.start.unwrap_or((KWO_NONE, KWO_NONE));
        put32(&mut out, HDR_MAGIC, KWO_MAGIC);
        put32(&mut out, HDR_VERSION, KWO_VERSION);
        put32(&mut out, HDR_HEADER_LEN, KWO_HEADER_SIZE);
        put32(&mut out, HDR_TARGET, self.target.code());
        put32(&mut out, HDR_FLAGS, self.flags);
        let object_len = out.len() as u64;
        put64(&mut out, HDR_OBJECT_LEN, object_len);
        put32(&mut out, HDR_SECTION_OFF, KWO_HEADER_SIZE);
        put32(&mut out, HDR_SECTION_COUNT, len32(sections.len()));
        put32(&mut out, HDR_MAX_FRAME, self.max_frame);
        put32(&mut out, HDR_STACK_BOUND, self.stack_bound);
        put32(&mut out, HDR_START_FUNC, start_func);
        put32(&mut out, HDR_START_TRAMP, start_tramp);
        let crc = crc32(&out);
        put32(&mut out, HDR_CHECKSUM, crc);
        out
    }

    fn encode_types(&self, blob: &mut Vec<u8>) -> Vec<u8> {
        let mut out = Vec::new();
        for t in &self.types {
            let codes: Vec<u8> = t
                .params
                .iter()
                .chain(&t.results)
                .map(|v| v.code())
                .collect();
            out_u32(&mut out, len32(t.params.len()));
            out_u32(&mut out, len32(t.results.len()));
            out_u32(&mut out, blob_put(blob, &codes).0);
            out_u32(&mut out, t.sig_id);
        }
        out
    }

    fn encode_imports(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for i in &self.imports {
            out_u32(&mut out, i.host_id);
            out_u32(&mut out, i.type_index);
            out_u64(&mut out, 0);
        }
        out
    }

    fn encode_funcs(&self, blob: &mut Vec<u8>) -> Vec<u8> {
        let mut out = Vec::new();
        for f in &self.funcs {
            let name = f.name.as_deref().unwrap_or("");
            let (name_off, name_len) = blob_put(blob, name.as_bytes());
            out_u32(&mut out, f.type_index);
            out_u32(&mut out, f.code_off);
            out_u32(&mut out, f.code_len);
            out_u32(&mut out, name_off);
            out_u32(&mut out, name_len);
            out_u32(&mut out, f.wasm_off);
            out_u64(&mut out, 0);
        }
        out
    }

    fn encode_tables(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for t in &self.tables {
            out_u32(&mut out, u32::from(t.elem_type.code()));
            out_u32(&mut out, t.min);
            out_u32(&mut out, t.max.unwrap_or(KWO_NONE));
            out_u32(&mut out, 0);
        }
        out
    }

    fn encode_memory(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(m) = &self.memory {
            out_u32(&mut out, m.min_pages);
            out_u32(&mut out, m.max_pages.unwrap_or(KWO_NONE));
            out_u64(&mut out, 0);
        }
        out
    }

    fn encode_globals(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for g in &self.globals {
            let (kind, value) = match g.init {
                GlobalInit::Value(bits) => (KWO_INIT_VALUE, bits),
                GlobalInit::RefFunc(f) => (KWO_INIT_REF_FUNC, u64::from(f)),
                GlobalInit::RefNull => (KWO_INIT_REF_NULL, 0),
            };
            out.extend_from_slice(&[g.ty.code(), u8::from(g.mutable), kind as u8]);
            out.extend_from_slice(&[0; 5]);
            out_u64(&mut out, value);
        }
        out
    }

    fn encode_exports(&self, blob: &mut Vec<u8>) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.exports {
            let (name_off, name_len) = blob_put(blob, e.name.as_bytes());
            out_u32(&mut out, export_kind_code(e.kind));
            out_u32(&mut out, e.index);
            out_u32(&mut out, name_off);
            out_u32(&mut out, name_len);
            out_u32(&mut out, e.tramp.unwrap_or(KWO_NONE));
            out_u32(&mut out, 0);
        }
        out
    }

    fn encode_data(&self, blob: &mut Vec<u8>) -> Vec<u8> {
        let mut out = Vec::new();
        for d in &self.data {
            let (flags, _, offset) = segment_fields(d.mode);
            let (data_off, data_len) = blob_put(blob, &d.bytes);
            out_u32(&mut out, flags);
            out_u32(&mut out, offset);
            out_u32(&mut out, data_off);
            out_u32(&mut out, data_len);
        }
        out
    }

    fn encode_elems(&self, blob: &mut Vec<u8>) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.elems {
            let (flags, table, offset) = segment_fields(e.mode);
            let mut items = Vec::with_capacity(e.items.len() * 4);
            for item in &e.items {
                out_u32(&mut items, item.unwrap_or(KWO_NONE));
            }
            out_u32(&mut out, flags);
            out_u32(&mut out, u32::from(e.elem_type.code()));
            out_u32(&mut out, table);
            out_u32(&mut out, offset);
            out_u32(&mut out, len32(e.items.len()));
            out_u32(&mut out, blob_put(blob, &items).0);
        }
        out
    }

    fn encode_relocs(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for r in &self.relocs {
            let kind = match r.kind {
                RelocKind::X86Call32 => KWO_RELOC_X86_CALL32,
                RelocKind::Arm64Call26 => KWO_RELOC_ARM64_CALL26,
            };
            out_u32(&mut out, r.offset);
            out_u32(&mut out, kind);
            out_u32(&mut out, r.host_id);
            out.extend_from_slice(&r.addend.to_le_bytes());
        }
        out
    }

    fn encode_traps(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for t in &self.traps {
            out_u32(&mut out, t.code_off);
            out_u32(&mut out, t.trap_code);
            out_u32(&mut out, t.func);
            out_u32(&mut out, t.wasm_off);
        }
        out
    }

    fn encode_addr_map(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for a in &self.addr_map {
            out_u32(&mut out, a.code_off);
            out_u32(&mut out, a.wasm_off);
        }
        out
    }
}

/// The `KWO_EXPORT_*` code of an export kind.
pub(crate) fn export_kind_code(kind: ExportKind) -> u32 {
    match kind {
        ExportKind::Func => KWO_EXPORT_FUNC,
        ExportKind::Table => KWO_EXPORT_TABLE,
        ExportKind::Memory => KWO_EXPORT_MEMORY,
        ExportKind::Global => KWO_EXPORT_GLOBAL,
    }
}

/// (flags, table, offset) of a segment; the index of an active data
/// segment is implicitly memory 0.
fn segment_fields(mode: SegmentMode) -> (u32, u32, u32) {
    match mode {
        SegmentMode::Passive => (KWO_SEG_PASSIVE, 0, 0),
        SegmentMode::Active { index, offset } => (KWO_SEG_ACTIVE, index, offset),
        SegmentMode::Declarative => (KWO_SEG_DECLARATIVE, 0, 0),
    }
}

/// Appends `bytes` to the blob and returns their (off, len); an empty
/// range is always (0, 0).
fn blob_put(blob: &mut Vec<u8>, bytes: &[u8]) -> (u32, u32) {
    if bytes.is_empty() {
        return (0, 0);
    }
    let off = len32(blob.len());
    blob.extend_from_slice(bytes);
    (off, len32(bytes.len()))
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn align8(n: usize) -> usize {
    n.next_multiple_of(KWO_SECTION_ALIGN as usize)
}

fn out_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn out_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Overwrites a field of the already sized header or section table.
fn put32(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(out: &mut [u8], at: usize, v: u64) {
    out[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
