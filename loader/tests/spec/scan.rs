//! A shallow walk over a module's binary encoding that finds what kwo does
//! not support by design: imports from other instances, imported memories,
//! tables and globals, and more than one memory.
//!
//! It reads only the section headers, the import section, the memory count
//! and whether there is a start function. It does not validate: anything it cannot read is left for the
//! verifier to reject, so a parse problem here yields "no reason to skip".

pub const LINKING: &str = "cross-module linking not supported by design";
pub const IMPORTED_STATE: &str =
    "imported memories/tables/globals (spectest) not supported by design";
pub const MULTI_MEMORY: &str = "multiple memories not supported by design";

const SECTION_IMPORT: u8 = 2;
const SECTION_MEMORY: u8 = 5;
const SECTION_START: u8 = 8;

const KIND_FUNC: u8 = 0;
const KIND_TABLE: u8 = 1;
const KIND_MEMORY: u8 = 2;
const KIND_GLOBAL: u8 = 3;

/// Why a module that would be instantiated must be skipped, if it must.
/// `registered` tells the names given to earlier instances by `register`.
pub fn skip_reason(wasm: &[u8], registered: impl Fn(&str) -> bool) -> Option<&'static str> {
    let shape = Shape::read(wasm)?;
    if shape.imports.iter().any(|(module, _)| registered(module)) {
        return Some(LINKING);
    }
    let imports_state = shape
        .imports
        .iter()
        .any(|(module, kind)| module == "spectest" && *kind != KIND_FUNC);
    if imports_state {
        return Some(IMPORTED_STATE);
    }
    if shape.memories > 1 {
        return Some(MULTI_MEMORY);
    }
    None
}

/// The instances whose state instantiating this module would change: the
/// ones it imports a memory or table from (its segments write into them),
/// and, if it has a start function, every one it imports from. When such a
/// module is skipped, later results of those instances are unknowable.
pub fn instances_touched(wasm: &[u8]) -> Vec<String> {
    let Some(shape) = Shape::read(wasm) else {
        return Vec::new();
    };
    shape
        .imports
        .into_iter()
        .filter(|(_, kind)| shape.has_start || *kind == KIND_MEMORY || *kind == KIND_TABLE)
        .map(|(module, _)| module)
        .collect()
}

/// The parts of a module the skip decisions need.
struct Shape {
    /// (module name, import kind) of every import.
    imports: Vec<(String, u8)>,
    /// Imported plus defined memories.
    memories: u32,
    has_start: bool,
}

impl Shape {
    fn read(wasm: &[u8]) -> Option<Shape> {
        let mut r = Reader { bytes: wasm.get(8..)?, pos: 0 };
        let mut shape = Shape { imports: Vec::new(), memories: 0, has_start: false };
        while !r.at_end() {
            let id = r.byte()?;
            let size = r.leb()? as usize;
            let body = r.take(size)?;
            let mut s = Reader { bytes: body, pos: 0 };
            match id {
                SECTION_IMPORT => shape.read_imports(&mut s)?,
                SECTION_MEMORY => shape.memories += s.leb()?,
                SECTION_START => shape.has_start = true,
                _ => {}
            }
        }
        Some(shape)
    }

    fn read_imports(&mut self, r: &mut Reader) -> Option<()> {
        for _ in 0..r.leb()? {
            let module = r.name()?;
            let _field = r.name()?;
            let kind = r.byte()?;
            r.skip_import_desc(kind)?;
            if kind == KIND_MEMORY {
                self.memories += 1;
            }
            self.imports.push((module, kind));
        }
        Some(())
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    /// An unsigned LEB128 of at most 32 bits.
    fn leb(&mut self) -> Option<u32> {
        let mut v: u64 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return u32::try_from(v).ok();
            }
        }
        None
    }

    fn name(&mut self) -> Option<String> {
        let len = self.leb()? as usize;
        let bytes = self.take(len)?;
        Some(String::from_utf8_lossy(bytes).into_owned())
    }

    fn limits(&mut self) -> Option<()> {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Some(())
    }

    fn skip_import_desc(&mut self, kind: u8) -> Option<()> {
        match kind {
            KIND_FUNC => self.leb().map(drop),
            KIND_TABLE => {
                self.byte()?;
                self.limits()
            }
            KIND_MEMORY => self.limits(),
            KIND_GLOBAL => self.take(2).map(drop),
            _ => None,
        }
    }
}
