//! Diagnostics: why a module was rejected.
//!
//! Every problem is one [`Diagnostic`] carrying the byte offset in the
//! `.wasm`, the function it is in (index and name-section name) if any, and
//! a message. [`Diagnostics`] is the verifier's error type; its `Display` is
//! one line per problem.

use std::fmt;

/// What kind of rule a module broke. Harnesses use this to tell a module the
/// WebAssembly spec calls invalid from one kwo refuses by design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagKind {
    /// Malformed or invalid per the WebAssembly specification.
    Invalid,
    /// Uses a WebAssembly feature outside kwo's feature set (e.g. SIMD).
    Unsupported,
    /// Breaks the import policy (not in the WASI table, imported memory, ...).
    Policy,
    /// Exceeds one of the [`crate::Limits`].
    Limit,
}

/// One problem found in a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Byte offset in the `.wasm` where the problem is.
    pub offset: usize,
    /// The function the problem is in: wasm function index and its name from
    /// the `name` section, if there is one.
    pub func: Option<(u32, Option<String>)>,
    pub kind: DiagKind,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("error: ")?;
        match &self.func {
            Some((index, Some(name))) => write!(f, "func {index} <{name}>: ")?,
            Some((index, None)) => write!(f, "func {index}: ")?,
            None => {}
        }
        write!(f, "offset {:#x}: {}", self.offset, self.message)
    }
}

/// All problems found in a module, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True if the module was rejected only by kwo's choices (features,
    /// import policy, limits) and is valid WebAssembly as far as the
    /// verifier got.
    pub fn only_by_design(&self) -> bool {
        self.iter().all(|d| d.kind != DiagKind::Invalid)
    }

    pub(crate) fn push(&mut self, offset: usize, kind: DiagKind, message: String) {
        self.0.push(Diagnostic {
            offset,
            func: None,
            kind,
            message,
        });
    }

    pub(crate) fn push_in_func(
        &mut self,
        func: u32,
        offset: usize,
        kind: DiagKind,
        message: String,
    ) {
        self.0.push(Diagnostic {
            offset,
            func: Some((func, None)),
            kind,
            message,
        });
    }

    /// Fills in name-section names of the functions diagnostics point at;
    /// the name section usually comes after the code.
    pub(crate) fn name_functions(&mut self, names: &[(u32, String)]) {
        for d in &mut self.0 {
            if let Some((index, name @ None)) = &mut d.func {
                *name = names
                    .binary_search_by_key(index, |(i, _)| *i)
                    .ok()
                    .map(|i| names[i].1.clone());
            }
        }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
