//! The validating reader: [`Object::parse`].
//!
//! Every rule of docs/kwo-format.md ("Validation") is checked here, in the
//! order the document lists them, and the first violation is reported with
//! the offset of the offending field. Reads go through [`Bytes`], whose
//! accessors are bounds-checked, so no input can make this panic; all
//! offset arithmetic is done in `u64`, where `u32 + u32` cannot overflow.

use crate::layout::*;
use crate::limits::*;
use crate::*;

type Result<T> = std::result::Result<T, FormatError>;

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T> {
    Err(FormatError {
        offset,
        message: message.into(),
    })
}

/// Bounds-checked little-endian loads.
#[derive(Clone, Copy)]
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn slice(&self, at: usize, len: usize) -> Result<&'a [u8]> {
        match at.checked_add(len).and_then(|end| self.0.get(at..end)) {
            Some(s) => Ok(s),
            None => err(at, "read past the end of the object"),
        }
    }

    fn u8(&self, at: usize) -> Result<u8> {
        Ok(self.slice(at, 1)?[0])
    }

    fn u32(&self, at: usize) -> Result<u32> {
        let mut b = [0; 4];
        b.copy_from_slice(self.slice(at, 4)?);
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&self, at: usize) -> Result<u64> {
        let mut b = [0; 8];
        b.copy_from_slice(self.slice(at, 8)?);
        Ok(u64::from_le_bytes(b))
    }

    /// Checks that `len` bytes at `at` are zero (reserved fields); reports
    /// the first byte that is not.
    fn zero(&self, at: usize, len: usize, what: &str) -> Result<()> {
        match self.slice(at, len)?.iter().position(|&b| b != 0) {
            Some(i) => err(at + i, format!("{what}: reserved field is not zero")),
            None => Ok(()),
        }
    }
}

/// One validated section table entry.
#[derive(Clone, Copy)]
struct Section {
    /// Object offset of the section table entry.
    entry: usize,
    /// Position in the section table.
    index: u32,
    count: u32,
    offset: usize,
    size: usize,
}

struct Parser<'a> {
    b: Bytes<'a>,
    /// Indexed by kind; slot 0 unused.
    sections: [Option<Section>; KWO_SEC_MAX as usize + 1],
    code_len: u64,
    blob_off: usize,
    blob: &'a [u8],
    /// Imported plus defined functions.
    total_funcs: u64,
}

impl Object {
    /// Decodes and validates an untrusted object. Rejects anything that
    /// breaks a rule of docs/kwo-format.md; never panics.
    pub fn parse(bytes: &[u8]) -> Result<Object> {
        let b = Bytes(bytes);
        let (target, flags) = check_header(b)?;
        let p = Parser::new(b)?;
        let types = p.types()?;
        let imports = p.imports(&types)?;
        let funcs = p.funcs(&types, imports.len())?;
        let tables = p.tables()?;
        let memory = p.memory()?;
        let globals = p.globals()?;
        let exports = p.exports(tables.len(), memory.is_some(), globals.len())?;
        let data = p.data(memory.is_some())?;
        let elems = p.elems(&tables)?;
        let relocs = p.relocs(target)?;
        let traps = p.traps()?;
        let start = p.start()?;
        let addr_map = p.addr_map()?;
        Ok(Object {
            target,
            flags,
            max_frame: b.u32(HDR_MAX_FRAME)?,
            stack_bound: b.u32(HDR_STACK_BOUND)?,
            start,
            code: p.section_bytes(KWO_SEC_CODE).to_vec(),
            types,
            imports,
            funcs,
            tables,
            memory,
            globals,
            exports,
            data,
            elems,
            relocs,
            traps,
            lines: p.section_bytes(KWO_SEC_LINES).to_vec(),
            addr_map,
        })
    }
}

/// Header rules 1-9 of docs/kwo-format.md §9.
fn check_header(b: Bytes) -> Result<(Target, u32)> {
    let len = b.0.len();
    if len < KWO_HEADER_SIZE as usize {
        return err(0, format!("object is {len} bytes, shorter than the header"));
    }
    let magic = b.u32(HDR_MAGIC)?;
    if magic != KWO_MAGIC {
        return err(HDR_MAGIC, format!("bad magic {magic:#010x}"));
    }
    let version = b.u32(HDR_VERSION)?;
    if version != KWO_VERSION {
        return err(HDR_VERSION, format!("unsupported version {version}"));
    }
    let header_len = b.u32(HDR_HEADER_LEN)?;
    if header_len != KWO_HEADER_SIZE {
        return err(
            HDR_HEADER_LEN,
            format!("header_len {header_len}, expected 64"),
        );
    }
    let object_len = b.u64(HDR_OBJECT_LEN)?;
    if object_len != len as u64 {
        let msg = format!("object_len {object_len} but the object is {len} bytes");
        return err(HDR_OBJECT_LEN, msg);
    }
    if object_len > MAX_OBJECT_LEN {
        let msg = format!("object of {object_len} bytes exceeds the limit of {MAX_OBJECT_LEN}");
        return err(HDR_OBJECT_LEN, msg);
    }
    let checksum = b.u32(HDR_CHECKSUM)?;
    let actual = crc::object_crc(b.0);
    if checksum != actual {
        let msg = format!("checksum {checksum:#010x} does not match the object ({actual:#010x})");
        return err(HDR_CHECKSUM, msg);
    }
    let code = b.u32(HDR_TARGET)?;
    let Some(target) = Target::from_code(code) else {
        return err(HDR_TARGET, format!("unknown target {code}"));
    };
    let flags = b.u32(HDR_FLAGS)?;
    if flags & !KWO_F_KNOWN != 0 {
        return err(
            HDR_FLAGS,
            format!("unknown flags {:#x}", flags & !KWO_F_KNOWN),
        );
    }
    b.zero(HDR_RESERVED, 8, "header")?;
    Ok((target, flags))
}

impl<'a> Parser<'a> {
    /// Validates the section table (rules 10-18) and locates CODE and BLOB.
    fn new(b: Bytes<'a>) -> Result<Parser<'a>> {
        let mut p = Parser {
            b,
            sections: [None; KWO_SEC_MAX as usize + 1],
            code_len: 0,
            blob_off: 0,
            blob: &[],
            total_funcs: 0,
        };
        let (table_off, count) = p.section_table()?;
        let table_end = table_off + count as usize * KWO_SECTION_SIZE as usize;
        for index in 0..count {
            let entry = table_off + index as usize * KWO_SECTION_SIZE as usize;
            p.section(entry, index, table_end)?;
        }
        p.check_overlaps()?;
        p.code_len = p.section_bytes(KWO_SEC_CODE).len() as u64;
        p.blob = p.section_bytes(KWO_SEC_BLOB);
        p.blob_off = p.sections[KWO_SEC_BLOB as usize].map_or(0, |s| s.offset);
        p.total_funcs = u64::from(p.count(KWO_SEC_IMPORTS)) + u64::from(p.count(KWO_SEC_FUNCS));
        if p.total_funcs > u64::from(MAX_FUNCS) {
            let at = p.sections[KWO_SEC_FUNCS as usize].map_or(0, |s| s.entry + SEC_COUNT);
            let msg = format!(
                "{} functions exceed the limit of {MAX_FUNCS}",
                p.total_funcs
            );
            return err(at, msg);
        }
        Ok(p)
    }

    /// Checks the table's position; returns its offset and entry count.
    fn section_table(&self) -> Result<(usize, u32)> {
        let count = self.b.u32(HDR_SECTION_COUNT)?;
        if count > MAX_SECTIONS {
            let msg = format!("{count} sections exceed the limit of {MAX_SECTIONS}");
            return err(HDR_SECTION_COUNT, msg);
        }
        let off = self.b.u32(HDR_SECTION_OFF)?;
        if off % KWO_SECTION_ALIGN != 0 {
            return err(
                HDR_SECTION_OFF,
                format!("section table at {off:#x} is not 8-byte aligned"),
            );
        }
        if off < KWO_HEADER_SIZE {
            return err(HDR_SECTION_OFF, "section table overlaps the header");
        }
        let end = u64::from(off) + u64::from(count) * u64::from(KWO_SECTION_SIZE);
        if end > self.b.0.len() as u64 {
            return err(HDR_SECTION_OFF, "section table out of bounds");
        }
        Ok((off as usize, count))
    }

    fn section(&mut self, entry: usize, index: u32, table_end: usize) -> Result<()> {
        let kind = self.b.u32(entry + SEC_KIND)?;
        let Some(esize) = entry_size(kind) else {
            return err(entry, format!("section {index} has unknown kind {kind}"));
        };
        let name = section_name(kind);
        if self.sections[kind as usize].is_some() {
            return err(entry, format!("section {index} is a second {name} section"));
        }
        let count = self.b.u32(entry + SEC_COUNT)?;
        let offset = self.b.u32(entry + SEC_OFFSET)?;
        let size = self.b.u32(entry + SEC_SIZE)?;
        if offset % KWO_SECTION_ALIGN != 0 {
            let msg = format!("section {index} ({name}) offset {offset:#x} is not 8-byte aligned");
            return err(entry + SEC_OFFSET, msg);
        }
        if size != 0 {
            self.check_placement(entry, index, offset, size, table_end)?;
        }
        if esize == 0 && count != 0 {
            return err(
                entry + SEC_COUNT,
                format!("section {index} ({name}) has count {count}, not 0"),
            );
        }
        if esize != 0 && u64::from(size) != u64::from(count) * u64::from(esize) {
            let msg = format!("section {index} ({name}) size {size} is not {count} * {esize}");
            return err(entry + SEC_SIZE, msg);
        }
        if kind == KWO_SEC_MEMORY && count > MAX_MEMORIES {
            let msg = format!("section {index}: {count} memories, at most {MAX_MEMORIES}");
            return err(entry + SEC_COUNT, msg);
        }
        let (offset, size) = (offset as usize, size as usize);
        self.sections[kind as usize] = Some(Section {
            entry,
            index,
            count,
            offset,
            size,
        });
        Ok(())
    }

    /// A non-empty section lies inside the object, after the header and
    /// outside the section table.
    fn check_placement(
        &self,
        entry: usize,
        index: u32,
        offset: u32,
        size: u32,
        table_end: usize,
    ) -> Result<()> {
        let end = u64::from(offset) + u64::from(size);
        if end > self.b.0.len() as u64 {
            return err(entry, format!("section {index} out of bounds"));
        }
        let table_off = u64::from(self.b.u32(HDR_SECTION_OFF)?);
        let in_table = u64::from(offset) < table_end as u64 && end > table_off;
        if offset < KWO_HEADER_SIZE || in_table {
            let msg = format!("section {index} overlaps the header or section table");
            return err(entry + SEC_OFFSET, msg);
        }
        Ok(())
    }

    /// Non-empty sections must not share a byte.
    fn check_overlaps(&self) -> Result<()> {
        let mut secs: Vec<Section> = self.sections.iter().flatten().copied().collect();
        secs.retain(|s| s.size != 0);
        secs.sort_by_key(|s| s.offset);
        for w in secs.windows(2) {
            if w[0].offset + w[0].size > w[1].offset {
                let msg = format!("section {} overlaps section {}", w[1].index, w[0].index);
                return err(w[1].entry, msg);
            }
        }
        Ok(())
    }

    fn section_bytes(&self, kind: u32) -> &'a [u8] {
        let Some(s) = self.sections[kind as usize] else {
            return &[];
        };
        self.b.0.get(s.offset..s.offset + s.size).unwrap_or(&[])
    }

    fn count(&self, kind: u32) -> u32 {
        self.sections[kind as usize].map_or(0, |s| s.count)
    }

    /// Object offsets of the entries of a table section.
    fn entries(&self, kind: u32) -> impl Iterator<Item = (u32, usize)> {
        let (count, offset) = self.sections[kind as usize].map_or((0, 0), |s| (s.count, s.offset));
        let esize = entry_size(kind).unwrap_or(0) as usize;
        (0..count).map(move |i| (i, offset + i as usize * esize))
    }

    /// The blob bytes of an (off, len) pair stored at `at`: `off + len`
    /// must not exceed the blob's size, so even an empty range needs
    /// `off <= size`.
    fn blob_range(&self, off: u32, len: u64, at: usize, what: &str) -> Result<&'a [u8]> {
        let end = u64::from(off) + len;
        match usize::try_from(end)
            .ok()
            .and_then(|end| self.blob.get(off as usize..end))
        {
            Some(s) => Ok(s),
            None => {
                let n = self.blob.len();
                err(
                    at,
                    format!("{what} ({off:#x}, {len}) outside the blob of {n} bytes"),
                )
            }
        }
    }

    fn string(&self, at: usize, what: &str) -> Result<String> {
        let off = self.b.u32(at)?;
        let len = self.b.u32(at + 4)?;
        let bytes = self.blob_range(off, u64::from(len), at, what)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => err(at, format!("{what} is not valid UTF-8")),
        }
    }

    fn type_index(&self, at: usize, ntypes: usize, what: &str) -> Result<u32> {
        let ty = self.b.u32(at)?;
        if ty as usize >= ntypes {
            return err(
                at,
                format!("{what}: type {ty} out of range ({ntypes} types)"),
            );
        }
        Ok(ty)
    }

    fn func_index(&self, at: usize, func: u64, what: &str) -> Result<()> {
        if func >= self.total_funcs {
            let msg = format!(
                "{what}: function {func} out of range ({} functions)",
                self.total_funcs
            );
            return err(at, msg);
        }
        Ok(())
    }

    /// A trampoline or other entry point: a code offset inside CODE.
    fn code_offset(&self, at: usize, what: &str) -> Result<u32> {
        let off = self.b.u32(at)?;
        if u64::from(off) >= self.code_len {
            return err(
                at,
                format!(
                    "{what} {off:#x} outside the code of {} bytes",
                    self.code_len
                ),
            );
        }
        Ok(off)
    }

    fn types(&self) -> Result<Vec<FuncSig>> {
        let mut types = Vec::new();
        for (i, e) in self.entries(KWO_SEC_TYPES) {
            let what = format!("type {i}");
            let params = self.b.u32(e + TYPE_PARAM_COUNT)?;
            let results = self.b.u32(e + TYPE_RESULT_COUNT)?;
            let off = self.b.u32(e + TYPE_VALTYPES)?;
            let n = u64::from(params) + u64::from(results);
            let codes = self.blob_range(off, n, e + TYPE_VALTYPES, &what)?;
            let mut vals = Vec::with_capacity(codes.len());
            for (j, &c) in codes.iter().enumerate() {
                let Some(v) = ValType::from_code(u32::from(c)) else {
                    let at = self.blob_off + off as usize + j;
                    return err(at, format!("{what}: invalid value type {c:#x}"));
                };
                vals.push(v);
            }
            let results = vals.split_off(params as usize);
            let sig_id = self.b.u32(e + TYPE_SIG_ID)?;
            types.push(FuncSig {
                params: vals,
                results,
                sig_id,
            });
        }
        Ok(types)
    }

    fn entry_at(&self, kind: u32, i: usize) -> usize {
        let offset = self.sections[kind as usize].map_or(0, |s| s.offset);
        offset + i * entry_size(kind).unwrap_or(0) as usize
    }

    fn imports(&self, types: &[FuncSig]) -> Result<Vec<Import>> {
        let mut imports = Vec::new();
        for (i, e) in self.entries(KWO_SEC_IMPORTS) {
            let what = format!("import {i}");
            let host_id = self.b.u32(e + IMPORT_HOST_ID)?;
            if !is_import_host_id(host_id) {
                return err(e, format!("{what}: host id {host_id} cannot be imported"));
            }
            let type_index = self.type_index(e + IMPORT_TYPE, types.len(), &what)?;
            self.b.zero(e + IMPORT_RESERVED, 8, &what)?;
            imports.push(Import {
                host_id,
                type_index,
            });
        }
        Ok(imports)
    }

    fn funcs(&self, types: &[FuncSig], nimports: usize) -> Result<Vec<Func>> {
        let mut funcs = Vec::new();
        for (i, e) in self.entries(KWO_SEC_FUNCS) {
            let what = format!("function {}", nimports + i as usize);
            let type_index = self.type_index(e + FUNC_TYPE, types.len(), &what)?;
            let code_off = self.b.u32(e + FUNC_CODE_OFF)?;
            let code_len = self.b.u32(e + FUNC_CODE_LEN)?;
            if code_len == 0 || u64::from(code_off) + u64::from(code_len) > self.code_len {
                let msg = format!(
                    "{what}: code ({code_off:#x}, {code_len}) empty or outside the code of {} bytes",
                    self.code_len
                );
                return err(e + FUNC_CODE_OFF, msg);
            }
            // name_len = 0 means no name; name_off is then ignored.
            let name = match self.b.u32(e + FUNC_NAME_LEN)? {
                0 => None,
                _ => Some(self.string(e + FUNC_NAME_OFF, &format!("{what} name"))?),
            };
            self.b.zero(e + FUNC_RESERVED, 8, &what)?;
            funcs.push(Func {
                type_index,
                code_off,
                code_len,
                name,
                wasm_off: self.b.u32(e + FUNC_WASM_OFF)?,
            });
        }
        Ok(funcs)
    }

    fn tables(&self) -> Result<Vec<Table>> {
        let mut tables = Vec::new();
        for (i, e) in self.entries(KWO_SEC_TABLES) {
            let what = format!("table {i}");
            let elem_type = self.ref_type(e + TABLE_ELEM_TYPE, &what)?;
            let min = self.b.u32(e + TABLE_MIN)?;
            if min > MAX_TABLE_ELEMS {
                let msg = format!("{what}: min {min} exceeds {MAX_TABLE_ELEMS}");
                return err(e + TABLE_MIN, msg);
            }
            let max = self.limits_max(e + TABLE_MAX, min, u32::MAX, &what)?;
            self.b.zero(e + TABLE_RESERVED, 4, &what)?;
            tables.push(Table {
                elem_type,
                min,
                max,
            });
        }
        Ok(tables)
    }

    /// A max field (`KWO_NONE` for none) that must be >= min and <= limit.
    fn limits_max(&self, at: usize, min: u32, limit: u32, what: &str) -> Result<Option<u32>> {
        let max = self.b.u32(at)?;
        if max == KWO_NONE {
            return Ok(None);
        }
        if max < min || max > limit {
            return err(
                at,
                format!("{what}: max {max} is below min {min} or above {limit}"),
            );
        }
        Ok(Some(max))
    }

    fn ref_type(&self, at: usize, what: &str) -> Result<ValType> {
        let code = self.b.u32(at)?;
        match ValType::from_code(code) {
            Some(v) if v.is_ref() => Ok(v),
            _ => err(at, format!("{what}: {code:#x} is not a reference type")),
        }
    }

    fn memory(&self) -> Result<Option<Memory>> {
        let Some((_, e)) = self.entries(KWO_SEC_MEMORY).next() else {
            return Ok(None);
        };
        let min_pages = self.b.u32(e + MEMORY_MIN_PAGES)?;
        if min_pages > MAX_PAGES {
            return err(
                e,
                format!("memory: min {min_pages} pages exceeds {MAX_PAGES}"),
            );
        }
        let max_pages = self.limits_max(e + MEMORY_MAX_PAGES, min_pages, MAX_PAGES, "memory")?;
        self.b.zero(e + MEMORY_RESERVED, 8, "memory")?;
        Ok(Some(Memory {
            min_pages,
            max_pages,
        }))
    }

    fn globals(&self) -> Result<Vec<Global>> {
        let mut globals = Vec::new();
        for (i, e) in self.entries(KWO_SEC_GLOBALS) {
            let what = format!("global {i}");
            let code = self.b.u8(e + GLOBAL_TYPE)?;
            let Some(ty) = ValType::from_code(u32::from(code)) else {
                return err(e, format!("{what}: invalid value type {code:#x}"));
            };
            let mutable = match self.b.u8(e + GLOBAL_MUTABLE)? {
                0 => false,
                1 => true,
                m => return err(e + GLOBAL_MUTABLE, format!("{what}: mutable is {m}")),
            };
            self.b.zero(e + GLOBAL_RESERVED, 5, &what)?;
            let init = self.global_init(e, ty, &what)?;
            globals.push(Global { ty, mutable, init });
        }
        Ok(globals)
    }

    /// The init kind must fit the type: numbers by value (32-bit types
    /// with the upper half zero), references by function index or null.
    fn global_init(&self, e: usize, ty: ValType, what: &str) -> Result<GlobalInit> {
        let kind = self.b.u8(e + GLOBAL_INIT_KIND)?;
        let value = self.b.u64(e + GLOBAL_VALUE)?;
        let narrow = matches!(ty, ValType::I32 | ValType::F32);
        match u32::from(kind) {
            KWO_INIT_VALUE if !ty.is_ref() => {
                if narrow && value >> 32 != 0 {
                    return err(
                        e + GLOBAL_VALUE,
                        format!("{what}: 32-bit value has upper bits set"),
                    );
                }
                Ok(GlobalInit::Value(value))
            }
            KWO_INIT_REF_FUNC if ty == ValType::FuncRef => {
                self.func_index(e + GLOBAL_VALUE, value, what)?;
                Ok(GlobalInit::RefFunc(value as u32))
            }
            KWO_INIT_REF_NULL if ty.is_ref() => {
                if value != 0 {
                    return err(
                        e + GLOBAL_VALUE,
                        format!("{what}: null reference with value {value}"),
                    );
                }
                Ok(GlobalInit::RefNull)
            }
            _ => {
                let msg = format!("{what}: init kind {kind} invalid for {}", ty.name());
                err(e + GLOBAL_INIT_KIND, msg)
            }
        }
    }

    fn exports(&self, ntables: usize, has_memory: bool, nglobals: usize) -> Result<Vec<Export>> {
        let mut exports = Vec::new();
        for (i, e) in self.entries(KWO_SEC_EXPORTS) {
            let what = format!("export {i}");
            let code = self.b.u32(e + EXPORT_KIND)?;
            let (kind, limit) = match code {
                KWO_EXPORT_FUNC => (ExportKind::Func, self.total_funcs),
                KWO_EXPORT_TABLE => (ExportKind::Table, ntables as u64),
                KWO_EXPORT_MEMORY => (ExportKind::Memory, u64::from(has_memory)),
                KWO_EXPORT_GLOBAL => (ExportKind::Global, nglobals as u64),
                _ => return err(e, format!("{what}: unknown kind {code}")),
            };
            let index = self.b.u32(e + EXPORT_INDEX)?;
            if u64::from(index) >= limit {
                return err(
                    e + EXPORT_INDEX,
                    format!("{what}: index {index} out of range ({limit})"),
                );
            }
            let name = self.string(e + EXPORT_NAME_OFF, &format!("{what} name"))?;
            let tramp = match kind {
                ExportKind::Func => {
                    Some(self.code_offset(e + EXPORT_TRAMP, &format!("{what} trampoline"))?)
                }
                _ if self.b.u32(e + EXPORT_TRAMP)? != KWO_NONE => {
                    return err(
                        e + EXPORT_TRAMP,
                        format!("{what}: trampoline on a non-function"),
                    );
                }
                _ => None,
            };
            self.b.zero(e + EXPORT_RESERVED, 4, &what)?;
            exports.push(Export {
                kind,
                index,
                name,
                tramp,
            });
        }
        self.check_unique_names(&exports)?;
        Ok(exports)
    }

    fn check_unique_names(&self, exports: &[Export]) -> Result<()> {
        let mut order: Vec<usize> = (0..exports.len()).collect();
        order.sort_by(|&a, &b| exports[a].name.cmp(&exports[b].name).then(a.cmp(&b)));
        for w in order.windows(2) {
            if exports[w[0]].name == exports[w[1]].name {
                let at = self.entry_at(KWO_SEC_EXPORTS, w[1]) + EXPORT_NAME_OFF;
                return err(
                    at,
                    format!("export name {:?} is not unique", exports[w[1]].name),
                );
            }
        }
        Ok(())
    }

    fn data(&self, has_memory: bool) -> Result<Vec<Data>> {
        let mut data = Vec::new();
        for (i, e) in self.entries(KWO_SEC_DATA) {
            let what = format!("data segment {i}");
            let flags = self.b.u32(e + DATA_FLAGS)?;
            let offset = self.b.u32(e + DATA_OFFSET)?;
            let mode = match flags {
                KWO_SEG_ACTIVE if has_memory => SegmentMode::Active { index: 0, offset },
                KWO_SEG_ACTIVE => return err(e, format!("{what}: active without a memory")),
                KWO_SEG_PASSIVE if offset == 0 => SegmentMode::Passive,
                KWO_SEG_PASSIVE => {
                    return err(e + DATA_OFFSET, format!("{what}: passive with an offset"))
                }
                _ => return err(e, format!("{what}: invalid flags {flags}")),
            };
            let off = self.b.u32(e + DATA_DATA_OFF)?;
            let len = self.b.u32(e + DATA_DATA_LEN)?;
            let bytes = self
                .blob_range(off, u64::from(len), e + DATA_DATA_OFF, &what)?
                .to_vec();
            data.push(Data { mode, bytes });
        }
        Ok(data)
    }

    fn elems(&self, tables: &[Table]) -> Result<Vec<Elem>> {
        let mut elems = Vec::new();
        for (i, e) in self.entries(KWO_SEC_ELEMS) {
            let what = format!("element segment {i}");
            let elem_type = self.ref_type(e + ELEM_ELEM_TYPE, &what)?;
            let mode = self.elem_mode(e, elem_type, tables, &what)?;
            let items = self.elem_items(e, elem_type, &what)?;
            elems.push(Elem {
                mode,
                elem_type,
                items,
            });
        }
        Ok(elems)
    }

    fn elem_mode(
        &self,
        e: usize,
        ty: ValType,
        tables: &[Table],
        what: &str,
    ) -> Result<SegmentMode> {
        let flags = self.b.u32(e + ELEM_FLAGS)?;
        let table = self.b.u32(e + ELEM_TABLE)?;
        let offset = self.b.u32(e + ELEM_OFFSET)?;
        match flags {
            KWO_SEG_ACTIVE => match tables.get(table as usize) {
                Some(t) if t.elem_type == ty => Ok(SegmentMode::Active {
                    index: table,
                    offset,
                }),
                Some(_) => err(
                    e + ELEM_TABLE,
                    format!("{what}: element type differs from table {table}"),
                ),
                None => err(
                    e + ELEM_TABLE,
                    format!("{what}: table {table} out of range"),
                ),
            },
            KWO_SEG_PASSIVE | KWO_SEG_DECLARATIVE if table != 0 => err(
                e + ELEM_TABLE,
                format!("{what}: table set on an inactive segment"),
            ),
            KWO_SEG_PASSIVE | KWO_SEG_DECLARATIVE if offset != 0 => err(
                e + ELEM_OFFSET,
                format!("{what}: offset set on an inactive segment"),
            ),
            KWO_SEG_PASSIVE => Ok(SegmentMode::Passive),
            KWO_SEG_DECLARATIVE => Ok(SegmentMode::Declarative),
            _ => err(e, format!("{what}: invalid flags {flags}")),
        }
    }

    fn elem_items(&self, e: usize, ty: ValType, what: &str) -> Result<Vec<Option<u32>>> {
        let count = self.b.u32(e + ELEM_COUNT)?;
        let off = self.b.u32(e + ELEM_ITEMS)?;
        let raw = self.blob_range(off, u64::from(count) * 4, e + ELEM_ITEMS, what)?;
        let mut items = Vec::with_capacity(count as usize);
        for (j, chunk) in raw.chunks_exact(4).enumerate() {
            let item = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let at = self.blob_off + off as usize + j * 4;
            if item == KWO_NONE {
                items.push(None);
            } else if ty == ValType::ExternRef {
                return err(at, format!("{what}: externref item {j} is not null"));
            } else {
                self.func_index(at, u64::from(item), what)?;
                items.push(Some(item));
            }
        }
        Ok(items)
    }

    fn relocs(&self, target: Target) -> Result<Vec<Reloc>> {
        let mut relocs = Vec::new();
        for (i, e) in self.entries(KWO_SEC_RELOCS) {
            let what = format!("relocation {i}");
            let offset = self.b.u32(e + RELOC_OFFSET)?;
            let code = self.b.u32(e + RELOC_KIND)?;
            let kind = match (code, target) {
                (KWO_RELOC_X86_CALL32, Target::X86_64) => RelocKind::X86Call32,
                (KWO_RELOC_ARM64_CALL26, Target::Aarch64) => RelocKind::Arm64Call26,
                _ => {
                    let msg = format!("{what}: kind {code} invalid for {}", target.name());
                    return err(e + RELOC_KIND, msg);
                }
            };
            let host_id = self.b.u32(e + RELOC_HOST_ID)?;
            if !is_host_id(host_id) {
                return err(
                    e + RELOC_HOST_ID,
                    format!("{what}: unknown host id {host_id}"),
                );
            }
            let addend = self.b.u32(e + RELOC_ADDEND)? as i32;
            if u64::from(offset) + u64::from(RELOC_FIELD_SIZE) > self.code_len {
                let msg = format!("{what}: field at {offset:#x} leaves the code");
                return err(e + RELOC_OFFSET, msg);
            }
            if kind == RelocKind::Arm64Call26 && offset % 4 != 0 {
                let msg = format!("{what}: BL at {offset:#x} is not 4-byte aligned");
                return err(e + RELOC_OFFSET, msg);
            }
            relocs.push(Reloc {
                offset,
                kind,
                host_id,
                addend,
            });
        }
        Ok(relocs)
    }

    fn traps(&self) -> Result<Vec<TrapSite>> {
        let mut traps = Vec::new();
        let mut prev: Option<u32> = None;
        for (i, e) in self.entries(KWO_SEC_TRAPS) {
            let what = format!("trap site {i}");
            let code_off = self.b.u32(e + TRAP_CODE_OFF)?;
            if u64::from(code_off) > self.code_len {
                let n = self.code_len;
                let msg = format!("{what}: {code_off:#x} outside the code of {n} bytes");
                return err(e + TRAP_CODE_OFF, msg);
            }
            if prev.is_some_and(|p| code_off <= p) {
                let msg = format!("{what}: {code_off:#x} is not after the previous site");
                return err(e + TRAP_CODE_OFF, msg);
            }
            prev = Some(code_off);
            let trap_code = self.b.u32(e + TRAP_TRAP_CODE)?;
            if trap_code >= KWO_TRAP_COUNT {
                return err(
                    e + TRAP_TRAP_CODE,
                    format!("{what}: unknown trap code {trap_code}"),
                );
            }
            let func = self.b.u32(e + TRAP_FUNC)?;
            self.func_index(e + TRAP_FUNC, u64::from(func), &what)?;
            let wasm_off = self.b.u32(e + TRAP_WASM_OFF)?;
            traps.push(TrapSite {
                code_off,
                trap_code,
                func,
                wasm_off,
            });
        }
        Ok(traps)
    }

    fn addr_map(&self) -> Result<Vec<AddrMapEntry>> {
        let mut map = Vec::new();
        let mut prev: Option<u32> = None;
        for (i, e) in self.entries(KWO_SEC_ADDRMAP) {
            let code_off = self.b.u32(e + ADDR_CODE_OFF)?;
            if u64::from(code_off) >= self.code_len {
                let n = self.code_len;
                let msg = format!("address map entry {i}: {code_off:#x} outside the code of {n} bytes");
                return err(e + ADDR_CODE_OFF, msg);
            }
            if prev.is_some_and(|p| code_off <= p) {
                let msg = format!("address map entry {i}: {code_off:#x} is not after the previous entry");
                return err(e + ADDR_CODE_OFF, msg);
            }
            prev = Some(code_off);
            let wasm_off = self.b.u32(e + ADDR_WASM_OFF)?;
            map.push(AddrMapEntry { code_off, wasm_off });
        }
        Ok(map)
    }

    fn start(&self) -> Result<Option<(u32, u32)>> {
        let func = self.b.u32(HDR_START_FUNC)?;
        let tramp = self.b.u32(HDR_START_TRAMP)?;
        match (func, tramp) {
            (KWO_NONE, KWO_NONE) => Ok(None),
            (KWO_NONE, _) => err(HDR_START_TRAMP, "start trampoline without a start function"),
            _ => {
                self.func_index(HDR_START_FUNC, u64::from(func), "start")?;
                Ok(Some((
                    func,
                    self.code_offset(HDR_START_TRAMP, "start trampoline")?,
                )))
            }
        }
    }
}
