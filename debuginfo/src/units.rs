//! What one DWARF compilation unit contributes: the spans of its line
//! program and its function scopes (subprograms and inlined subroutines)
//! with their code ranges, read with gimli.
//!
//! Addresses here are DWARF addresses, offsets from the start of the
//! code section's contents; only those inside the code (above 0, below its
//! length) are kept, which drops the code ranges linkers leave at 0 or at a
//! tombstone (-1, -2) for functions they removed. Names of files and
//! functions are interned in [`Strings`].

use gimli::{AttributeValue, EndianSlice, LittleEndian, UnitRef};
use std::collections::HashMap;

pub(crate) type Reader<'a> = EndianSlice<'a, LittleEndian>;

/// Interned file and function names.
#[derive(Default)]
pub(crate) struct Strings {
    pub(crate) list: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Strings {
    pub(crate) fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.list.len() as u32;
        self.list.push(s.to_owned());
        self.ids.insert(s.to_owned(), id);
        id
    }
}

/// A code range of a line program row: from `start` up to `end`, the
/// source is `file:line:column`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) file: u32,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

/// Where an inlined function was called from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallSite {
    pub(crate) file: u32,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

/// A function's code or an inlined function's: its name, the scope it
/// sits in and, for an inlined one, the call it replaced.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    pub(crate) name: Option<u32>,
    /// Index of the enclosing scope (in the same list), if any.
    pub(crate) parent: Option<usize>,
    /// Scopes between this one and the outermost.
    pub(crate) depth: u32,
    pub(crate) call: Option<CallSite>,
    pub(crate) ranges: Vec<(u64, u64)>,
}

/// Everything read from the units so far.
#[derive(Default)]
pub(crate) struct Collected {
    pub(crate) strings: Strings,
    pub(crate) spans: Vec<Span>,
    pub(crate) scopes: Vec<Scope>,
}

/// Hops through DW_AT_abstract_origin / DW_AT_specification to a name.
const MAX_NAME_HOPS: usize = 4;

impl Collected {
    /// The spans of the unit's line program. Rows up to an error are kept.
    pub(crate) fn read_lines(&mut self, unit: UnitRef<Reader>, code_len: u64) -> gimli::Result<()> {
        let Some(program) = unit.line_program.clone() else {
            return Ok(());
        };
        let mut files: HashMap<u64, u32> = HashMap::new();
        let mut rows = program.rows();
        // The previous row of the current sequence, if the sequence is kept.
        let mut prev: Option<Span> = None;
        let mut sequence_start = true;
        while let Some((header, row)) = rows.next_row()? {
            let address = row.address();
            if let Some(mut span) = prev.take() {
                span.end = address.min(code_len);
                if span.end > span.start && span.line != 0 {
                    self.spans.push(span);
                }
            }
            if row.end_sequence() {
                sequence_start = true;
                continue;
            }
            if sequence_start {
                sequence_start = false;
                if address == 0 || address >= code_len {
                    // Removed code: skip the whole sequence.
                    skip_sequence(&mut rows)?;
                    sequence_start = true;
                    continue;
                }
            }
            let file = match files.get(&row.file_index()) {
                Some(&id) => id,
                None => {
                    let name = file_path(unit, header, row.file_index());
                    let id = self.strings.id(&name);
                    files.insert(row.file_index(), id);
                    id
                }
            };
            let column = match row.column() {
                gimli::ColumnType::LeftEdge => 0,
                gimli::ColumnType::Column(c) => clamp32(c.get()),
            };
            prev = Some(Span {
                start: address,
                end: address,
                file,
                line: row.line().map_or(0, |l| clamp32(l.get())),
                column,
            });
        }
        Ok(())
    }

    /// The unit's function scopes, walking its DIE tree. Scopes read before
    /// an error are kept.
    pub(crate) fn read_scopes(&mut self, unit: UnitRef<Reader>, code_len: u64) -> gimli::Result<()> {
        let header = unit.line_program.as_ref().map(|p| p.header().clone());
        // Open scopes: (DIE depth, scope index).
        let mut open: Vec<(isize, usize)> = Vec::new();
        let mut entries = unit.entries();
        while let Some(entry) = entries.next_dfs()? {
            let depth = entry.depth();
            while open.last().is_some_and(|&(d, _)| d >= depth) {
                open.pop();
            }
            let inlined = entry.tag() == gimli::DW_TAG_inlined_subroutine;
            if !inlined && entry.tag() != gimli::DW_TAG_subprogram {
                continue;
            }
            let mut ranges = Vec::new();
            let mut iter = unit.die_ranges(entry)?;
            while let Some(r) = iter.next()? {
                if r.begin > 0 && r.begin < r.end && r.begin < code_len {
                    ranges.push((r.begin, r.end.min(code_len)));
                }
            }
            let call = if inlined {
                header.as_ref().map(|h| self.call_site(unit, h, entry))
            } else {
                None
            };
            let parent = open.last().map(|&(_, s)| s);
            let scope = Scope {
                name: die_name(unit, entry).map(|n| self.strings.id(&n)),
                parent,
                depth: parent.map_or(0, |p| self.scopes[p].depth + 1),
                call,
                ranges,
            };
            open.push((depth, self.scopes.len()));
            self.scopes.push(scope);
        }
        Ok(())
    }

    fn call_site<'a>(
        &mut self,
        unit: UnitRef<'_, Reader<'a>>,
        header: &gimli::LineProgramHeader<Reader<'a>>,
        entry: &gimli::DebuggingInformationEntry<Reader<'a>>,
    ) -> CallSite {
        let number = |at| entry.attr_value(at).and_then(|v| v.udata_value()).unwrap_or(0);
        // gimli gives DW_AT_call_file as a file index, not a number.
        let file_index = match entry.attr_value(gimli::DW_AT_call_file) {
            Some(AttributeValue::FileIndex(i)) => i,
            other => other.and_then(|v| v.udata_value()).unwrap_or(0),
        };
        let file = file_path(unit, header, file_index);
        CallSite {
            file: self.strings.id(&file),
            line: clamp32(number(gimli::DW_AT_call_line)),
            column: clamp32(number(gimli::DW_AT_call_column)),
        }
    }
}

/// Reads rows up to and including the end of the current sequence.
fn skip_sequence<'a>(
    rows: &mut gimli::LineRows<Reader<'a>, gimli::IncompleteLineProgram<Reader<'a>>>,
) -> gimli::Result<()> {
    while let Some((_, row)) = rows.next_row()? {
        if row.end_sequence() {
            break;
        }
    }
    Ok(())
}

/// A file of the line program as the compiler named it: the name alone
/// when it is absolute or in the compilation directory (so a file given
/// to the compiler as `src/main.c` stays `src/main.c`), else joined to its
/// include directory. `?` when the index or a string is bad.
fn file_path<'a>(unit: UnitRef<'_, Reader<'a>>, header: &gimli::LineProgramHeader<Reader<'a>>, index: u64) -> String {
    let Some(file) = header.file(index) else {
        return "?".into();
    };
    let Ok(name) = unit.attr_string(file.path_name()) else {
        return "?".into();
    };
    let name = name.to_string_lossy();
    if name.starts_with('/') || file.directory_index() == 0 {
        return name.into_owned();
    }
    let dir = file
        .directory(header)
        .and_then(|d| unit.attr_string(d).ok())
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    if dir.is_empty() {
        name.into_owned()
    } else {
        format!("{}/{name}", dir.trim_end_matches('/'))
    }
}

/// DW_AT_name of a DIE, or of the DIE its abstract origin or
/// specification names in the same unit.
fn die_name<'a>(unit: UnitRef<'_, Reader<'a>>, entry: &gimli::DebuggingInformationEntry<Reader<'a>>) -> Option<String> {
    let mut entry = entry.clone();
    for _ in 0..MAX_NAME_HOPS {
        if let Some(name) = entry.attr_value(gimli::DW_AT_name) {
            return unit.attr_string(name).ok().map(|s| s.to_string_lossy().into_owned());
        }
        let origin = entry
            .attr_value(gimli::DW_AT_abstract_origin)
            .or_else(|| entry.attr_value(gimli::DW_AT_specification));
        match origin {
            Some(AttributeValue::UnitRef(offset)) => entry = unit.entry(offset).ok()?,
            _ => return None,
        }
    }
    None
}

fn clamp32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}
