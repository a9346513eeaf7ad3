//! The LINES section: an optional table that maps WebAssembly code offsets
//! to source locations, innermost inlined function first
//! (docs/kwo-format.md §5.14).
//!
//! [`LineTable`] is the model, [`LineTableBuilder`] builds one (the DWARF
//! reader in `kwo-debuginfo` fills it), [`LineTable::encode`] and
//! [`LineTable::decode`] convert to and from the section's bytes, and
//! [`LineTable::lookup`] answers "where in the source is this offset".
//!
//! The table is debug data that no runtime needs: the object readers
//! ([`crate::Object::parse`], `kmod/core/object.c`) only check that the
//! section lies inside the object and keep its bytes. Its contents are
//! validated here, when a tool decodes it; a table that breaks a rule is
//! reported as an error the caller turns into a warning, never a reason to
//! refuse the object. Decoding never panics and allocates no more than the
//! section's size allows.

use crate::layout::{HDR_SECTION_COUNT, HDR_SECTION_OFF, SEC_KIND, SEC_OFFSET, SEC_SIZE};
use crate::{FormatError, KWO_HEADER_SIZE, KWO_NONE, KWO_SECTION_SIZE, KWO_SEC_LINES};
use std::collections::HashMap;

/// Bytes of the section header: row, frame and string counts, the pool
/// length and two reserved words.
pub const LINES_HEADER_SIZE: usize = 24;
/// Bytes of a row: `wasm_off`, `frame`.
pub const LINES_ROW_SIZE: usize = 8;
/// Bytes of a frame: `file`, `line`, `column`, `function`, `parent`.
pub const LINES_FRAME_SIZE: usize = 20;
/// Bytes of a string entry: `off`, `len` in the pool.
pub const LINES_STRING_SIZE: usize = 8;

/// One source location of a code offset.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceLoc {
    /// The source file as the compiler named it (relative to the
    /// directory it ran in, or absolute).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column; 0 when the compiler gave none.
    pub column: u32,
    /// The function this location is in, when the debug info names it.
    pub function: Option<String>,
}

/// A code offset from which a frame chain applies, up to the next row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    wasm_off: u32,
    /// Index into `frames`, or `KWO_NONE`: no known location.
    frame: u32,
}

/// A source location and the frame of the function it was inlined into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Frame {
    /// Index into `strings`.
    file: u32,
    line: u32,
    column: u32,
    /// Index into `strings`, or `KWO_NONE`.
    function: u32,
    /// Index of the caller's frame (always lower than this frame's), or
    /// `KWO_NONE` for the outermost frame.
    parent: u32,
}

/// Source locations of the WebAssembly code offsets of one module.
///
/// Offsets are offsets in the `.wasm` file, as a trap site's `wasm_off`.
/// The table is a step function: a row gives the frames of every offset
/// from its own up to the next row's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineTable {
    /// Strictly increasing `wasm_off`.
    rows: Vec<Row>,
    frames: Vec<Frame>,
    strings: Vec<String>,
}

/// The frame index of an interned location, from
/// [`LineTableBuilder::frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameId(u32);

/// Builds a [`LineTable`] row by row, sharing equal strings and frames.
#[derive(Debug, Default)]
pub struct LineTableBuilder {
    table: LineTable,
    string_ids: HashMap<String, u32>,
    frame_ids: HashMap<Frame, u32>,
}

impl LineTableBuilder {
    pub fn new() -> LineTableBuilder {
        LineTableBuilder::default()
    }

    fn string(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.string_ids.get(s) {
            return id;
        }
        let id = index32(self.table.strings.len());
        self.table.strings.push(s.to_owned());
        self.string_ids.insert(s.to_owned(), id);
        id
    }

    /// The frame for a location in `function` at `file:line:column`,
    /// inlined into the frame `parent` (`None`: not inlined).
    pub fn frame(
        &mut self,
        file: &str,
        line: u32,
        column: u32,
        function: Option<&str>,
        parent: Option<FrameId>,
    ) -> FrameId {
        let frame = Frame {
            file: self.string(file),
            line,
            column,
            function: function.map_or(KWO_NONE, |f| self.string(f)),
            parent: parent.map_or(KWO_NONE, |p| p.0),
        };
        if let Some(&id) = self.frame_ids.get(&frame) {
            return FrameId(id);
        }
        let id = index32(self.table.frames.len());
        self.table.frames.push(frame);
        self.frame_ids.insert(frame, id);
        FrameId(id)
    }

    /// From `wasm_off` on, the location is `frame` (`None`: unknown).
    /// Offsets must increase; a row at or before the last one replaces
    /// nothing and is dropped. A row that repeats the previous frame is
    /// merged into it.
    pub fn row(&mut self, wasm_off: u32, frame: Option<FrameId>) {
        let frame = frame.map_or(KWO_NONE, |f| f.0);
        let rows = &mut self.table.rows;
        if let Some(last) = rows.last() {
            if wasm_off <= last.wasm_off || frame == last.frame {
                return;
            }
        } else if frame == KWO_NONE {
            return;
        }
        rows.push(Row { wasm_off, frame });
    }

    /// The table; `None` if no row has a location.
    pub fn finish(self) -> Option<LineTable> {
        (!self.table.rows.is_empty()).then_some(self.table)
    }
}

impl LineTable {
    /// The source locations of `wasm_off`: the innermost first, then the
    /// location of each call an inlined function was inlined at, out to
    /// the function the code belongs to. Empty when unknown.
    pub fn lookup(&self, wasm_off: u32) -> Vec<SourceLoc> {
        let at = self.rows.partition_point(|r| r.wasm_off <= wasm_off);
        let Some(row) = at.checked_sub(1).and_then(|i| self.rows.get(i)) else {
            return Vec::new();
        };
        let mut chain = Vec::new();
        let mut index = row.frame;
        // Parents have lower indices than their children (checked by
        // decode, guaranteed by the builder), so this ends.
        while let Some(frame) = self.frames.get(index as usize) {
            chain.push(SourceLoc {
                file: self.string(frame.file).unwrap_or_default().to_owned(),
                line: frame.line,
                column: frame.column,
                function: self.string(frame.function).map(str::to_owned),
            });
            if frame.parent >= index {
                break;
            }
            index = frame.parent;
        }
        chain
    }

    fn string(&self, index: u32) -> Option<&str> {
        self.strings.get(index as usize).map(String::as_str)
    }

    /// Number of rows: code ranges with one location chain (or none).
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// Number of distinct frames (location, function, caller).
    pub fn frame_count(&self) -> usize {
        self.frames.len()
    }

    /// The first code offset of every row, in order.
    pub fn row_offsets(&self) -> impl Iterator<Item = u32> + '_ {
        self.rows.iter().map(|r| r.wasm_off)
    }

    /// The section's bytes (docs/kwo-format.md §5.14).
    pub fn encode(&self) -> Vec<u8> {
        let mut pool = Vec::new();
        let mut strings = Vec::with_capacity(self.strings.len() * LINES_STRING_SIZE);
        for s in &self.strings {
            put(&mut strings, index32(pool.len()));
            put(&mut strings, index32(s.len()));
            pool.extend_from_slice(s.as_bytes());
        }
        let mut out = Vec::new();
        for v in [
            index32(self.rows.len()),
            index32(self.frames.len()),
            index32(self.strings.len()),
            index32(pool.len()),
            0,
            0,
        ] {
            put(&mut out, v);
        }
        for r in &self.rows {
            put(&mut out, r.wasm_off);
            put(&mut out, r.frame);
        }
        for f in &self.frames {
            for v in [f.file, f.line, f.column, f.function, f.parent] {
                put(&mut out, v);
            }
        }
        out.extend_from_slice(&strings);
        out.extend_from_slice(&pool);
        out
    }

    /// Decodes and validates section bytes. The error's offset is from
    /// the start of the section.
    pub fn decode(bytes: &[u8]) -> Result<LineTable, FormatError> {
        let r = Reader(bytes);
        let counts = r.counts()?;
        let strings = r.strings(&counts)?;
        let frames = r.frames(&counts, strings.len())?;
        let rows = r.rows(&counts, frames.len())?;
        Ok(LineTable {
            rows,
            frames,
            strings,
        })
    }

    /// Decodes the LINES section of an object's bytes: `Ok(None)` when
    /// the object has none. Locates the section with bounds-checked reads
    /// of the header and section table only, so it is cheap to call on an
    /// object a runtime has already validated; any bytes are safe.
    pub fn from_object(object: &[u8]) -> Result<Option<LineTable>, FormatError> {
        match find_section(object) {
            Some(bytes) => LineTable::decode(bytes).map(Some),
            None => Ok(None),
        }
    }
}

/// The bytes of the LINES section of `object`, if its section table has a
/// non-empty one inside the object: what [`LineTable::decode`] takes, for a
/// reader that keeps them to decode later. Any bytes are safe.
pub fn find_section(object: &[u8]) -> Option<&[u8]> {
    let r = Reader(object);
    let table = r.u32(HDR_SECTION_OFF).ok()? as usize;
    let count = r.u32(HDR_SECTION_COUNT).ok()? as usize;
    if table < KWO_HEADER_SIZE as usize {
        return None;
    }
    (0..count.min(crate::KWO_SEC_MAX as usize)).find_map(|i| {
        let entry = table.checked_add(i * KWO_SECTION_SIZE as usize)?;
        if r.u32(entry + SEC_KIND).ok()? != KWO_SEC_LINES {
            return None;
        }
        let offset = r.u32(entry + SEC_OFFSET).ok()? as usize;
        let size = r.u32(entry + SEC_SIZE).ok()? as usize;
        object.get(offset..offset.checked_add(size)?).filter(|b| !b.is_empty())
    })
}

/// The counts of the section header, with the offsets of the parts.
struct Counts {
    rows: usize,
    frames: usize,
    strings: usize,
    rows_at: usize,
    frames_at: usize,
    strings_at: usize,
    pool_at: usize,
    pool_len: usize,
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, FormatError> {
    Err(FormatError {
        offset,
        message: format!("line table: {}", message.into()),
    })
}

/// Bounds-checked little-endian loads from the section.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u32(&self, at: usize) -> Result<u32, FormatError> {
        match at.checked_add(4).and_then(|end| self.0.get(at..end)) {
            Some(b) => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            None => err(at, "read past the end of the section"),
        }
    }

    /// Header rules: the reserved words are zero and the parts add up to
    /// exactly the section's size.
    fn counts(&self) -> Result<Counts, FormatError> {
        if self.0.len() < LINES_HEADER_SIZE {
            return err(0, format!("{} bytes, shorter than its header", self.0.len()));
        }
        let [rows, frames, strings, pool_len, r0, r1] =
            [0, 4, 8, 12, 16, 20].map(|at| self.u32(at).unwrap_or(0) as u64);
        if r0 != 0 || r1 != 0 {
            return err(16, "reserved field is not zero");
        }
        let size = LINES_HEADER_SIZE as u64
            + rows * LINES_ROW_SIZE as u64
            + frames * LINES_FRAME_SIZE as u64
            + strings * LINES_STRING_SIZE as u64
            + pool_len;
        if size != self.0.len() as u64 {
            let msg = format!(
                "{rows} rows, {frames} frames, {strings} strings and {pool_len} pool bytes \
                 need {size} bytes, the section has {}",
                self.0.len()
            );
            return err(0, msg);
        }
        // Each part fits the section, so the products fit usize.
        let rows_at = LINES_HEADER_SIZE;
        let frames_at = rows_at + rows as usize * LINES_ROW_SIZE;
        let strings_at = frames_at + frames as usize * LINES_FRAME_SIZE;
        let pool_at = strings_at + strings as usize * LINES_STRING_SIZE;
        Ok(Counts {
            rows: rows as usize,
            frames: frames as usize,
            strings: strings as usize,
            rows_at,
            frames_at,
            strings_at,
            pool_at,
            pool_len: pool_len as usize,
        })
    }

    /// Every string lies in the pool and is UTF-8.
    fn strings(&self, c: &Counts) -> Result<Vec<String>, FormatError> {
        let pool = self.0.get(c.pool_at..c.pool_at + c.pool_len).unwrap_or(&[]);
        let mut out = Vec::with_capacity(c.strings);
        for i in 0..c.strings {
            let at = c.strings_at + i * LINES_STRING_SIZE;
            let (off, len) = (self.u32(at)? as usize, self.u32(at + 4)? as usize);
            let Some(bytes) = off.checked_add(len).and_then(|end| pool.get(off..end)) else {
                return err(at, format!("string {i} ({off:#x}, {len}) outside the pool"));
            };
            match std::str::from_utf8(bytes) {
                Ok(s) => out.push(s.to_owned()),
                Err(_) => return err(at, format!("string {i} is not valid UTF-8")),
            }
        }
        Ok(out)
    }

    /// Every frame names strings that exist and a parent before itself.
    fn frames(&self, c: &Counts, strings: usize) -> Result<Vec<Frame>, FormatError> {
        let mut out = Vec::with_capacity(c.frames);
        for i in 0..c.frames {
            let at = c.frames_at + i * LINES_FRAME_SIZE;
            let [file, line, column, function, parent] =
                [0, 4, 8, 12, 16].map(|f| self.u32(at + f).unwrap_or(0));
            if file as usize >= strings {
                return err(at, format!("frame {i}: file {file} out of range ({strings} strings)"));
            }
            if function != KWO_NONE && function as usize >= strings {
                let msg = format!("frame {i}: function {function} out of range ({strings} strings)");
                return err(at + 12, msg);
            }
            if parent != KWO_NONE && parent as usize >= i {
                return err(at + 16, format!("frame {i}: parent {parent} is not an earlier frame"));
            }
            out.push(Frame {
                file,
                line,
                column,
                function,
                parent,
            });
        }
        Ok(out)
    }

    /// Rows are sorted by strictly increasing offset and name frames that
    /// exist.
    fn rows(&self, c: &Counts, frames: usize) -> Result<Vec<Row>, FormatError> {
        let mut out: Vec<Row> = Vec::with_capacity(c.rows);
        for i in 0..c.rows {
            let at = c.rows_at + i * LINES_ROW_SIZE;
            let (wasm_off, frame) = (self.u32(at)?, self.u32(at + 4)?);
            if out.last().is_some_and(|prev| prev.wasm_off >= wasm_off) {
                return err(at, format!("row {i}: offset {wasm_off:#x} is not above the previous row's"));
            }
            if frame != KWO_NONE && frame as usize >= frames {
                return err(at + 4, format!("row {i}: frame {frame} out of range ({frames} frames)"));
            }
            out.push(Row { wasm_off, frame });
        }
        Ok(out)
    }
}

fn put(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn index32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(file: &str, line: u32, column: u32, function: Option<&str>) -> SourceLoc {
        SourceLoc {
            file: file.into(),
            line,
            column,
            function: function.map(Into::into),
        }
    }

    /// `main` at 0x100.., `poke` inlined into it at 0x110..0x118, then no
    /// location from 0x120.
    fn sample() -> LineTable {
        let mut b = LineTableBuilder::new();
        let main = b.frame("t.c", 10, 3, Some("main"), None);
        let call = b.frame("t.c", 12, 5, Some("main"), None);
        let poke = b.frame("t.c", 4, 9, Some("poke"), Some(call));
        b.row(0x100, Some(main));
        b.row(0x108, Some(main));
        b.row(0x110, Some(poke));
        b.row(0x118, Some(main));
        b.row(0x120, None);
        b.finish().unwrap()
    }

    #[test]
    fn lookup_gives_the_inline_chain_innermost_first() {
        let t = sample();
        assert_eq!(t.row_count(), 4, "the repeated row at 0x108 is merged");
        assert_eq!(t.lookup(0xff), vec![]);
        assert_eq!(t.lookup(0x100), vec![loc("t.c", 10, 3, Some("main"))]);
        assert_eq!(t.lookup(0x10f), vec![loc("t.c", 10, 3, Some("main"))]);
        let inlined = vec![loc("t.c", 4, 9, Some("poke")), loc("t.c", 12, 5, Some("main"))];
        assert_eq!(t.lookup(0x110), inlined);
        assert_eq!(t.lookup(0x117), inlined);
        assert_eq!(t.lookup(0x118), vec![loc("t.c", 10, 3, Some("main"))]);
        assert_eq!(t.lookup(0x120), vec![]);
        assert_eq!(t.lookup(u32::MAX), vec![]);
    }

    #[test]
    fn encoding_round_trips_and_shares_strings() {
        let t = sample();
        let bytes = t.encode();
        // 3 frames, 3 strings ("t.c", "main", "poke": 11 pool bytes).
        assert_eq!(bytes.len(), 24 + 4 * 8 + 3 * 20 + 3 * 8 + 11);
        assert_eq!(LineTable::decode(&bytes).unwrap(), t);
    }

    #[test]
    fn empty_builder_gives_no_table() {
        let mut b = LineTableBuilder::new();
        b.row(0x10, None);
        assert_eq!(b.finish(), None);
    }

    fn set(bytes: &mut [u8], at: usize, v: u32) {
        bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn rejects(bytes: &[u8], at: usize, what: &str) {
        let e = LineTable::decode(bytes).unwrap_err();
        assert_eq!(e.offset, at, "{e}");
        assert!(e.message.contains(what), "{e} does not say {what:?}");
    }

    #[test]
    fn every_rule_is_checked() {
        let good = sample().encode();
        let frames_at = 24 + 4 * 8;
        let strings_at = frames_at + 3 * 20;
        let patched = |at: usize, v: u32| {
            let mut b = good.clone();
            set(&mut b, at, v);
            b
        };
        rejects(&good[..23], 0, "shorter than its header");
        rejects(&patched(16, 1), 16, "reserved");
        rejects(&patched(0, 5), 0, "need");
        rejects(&good[..good.len() - 1], 0, "need");
        rejects(&patched(24 + 8, 0x100), 24 + 8, "not above");
        rejects(&patched(24 + 4, 3), 24 + 4, "frame 3 out of range");
        rejects(&patched(frames_at, 3), frames_at, "file 3 out of range");
        rejects(&patched(frames_at + 12, 7), frames_at + 12, "function 7");
        rejects(&patched(frames_at + 16, 0), frames_at + 16, "not an earlier frame");
        rejects(&patched(frames_at + 40 + 16, 2), frames_at + 40 + 16, "not an earlier frame");
        rejects(&patched(strings_at + 4, 12), strings_at, "outside the pool");
        rejects(&patched(strings_at, u32::MAX), strings_at, "outside the pool");
        let mut bad_utf8 = good.clone();
        let last = bad_utf8.len() - 1;
        bad_utf8[last] = 0xff;
        rejects(&bad_utf8, strings_at + 16, "UTF-8");
    }

    /// Truncations, bit flips and random bytes: decode answers, never
    /// panics, and what it accepts looks up without panicking.
    #[test]
    fn garbage_never_panics() {
        let good = sample().encode();
        for len in 0..good.len() {
            assert!(LineTable::decode(&good[..len]).is_err());
        }
        for bit in 0..good.len() * 8 {
            let mut b = good.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            if let Ok(t) = LineTable::decode(&b) {
                for off in [0, 0x100, 0x110, 0x11f, u32::MAX] {
                    t.lookup(off);
                }
            }
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 200) as usize;
            let bytes: Vec<u8> = (0..len).map(|i| (state >> (i % 56)) as u8).collect();
            let _ = LineTable::decode(&bytes);
            let _ = LineTable::from_object(&bytes);
        }
    }
}
