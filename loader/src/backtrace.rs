//! Trap backtraces as the runtimes report them: the wasm call stack at a
//! trap, innermost frame first, and how the `kwo` CLI prints it (one line
//! per frame through [`describe_frame`], the single place that formats a
//! frame).
//!
//! The frames come from the C core's walk over the frame pointers of the
//! generated code (userspace) or from kwo.ko's trap report; this module
//! neither walks stacks nor reads objects.

use std::fmt;

/// One wasm frame of a backtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Wasm function index.
    pub func: u32,
    /// The function's name from the name section.
    pub func_name: Option<String>,
    /// `.wasm` offset of the trapping instruction (frame 0) or of the call
    /// the frame is in (the others), when the object's address map has it.
    pub wasm_offset: Option<u32>,
    /// Its source location, from the object's line table
    /// ([`crate::symbols::describe_location`]).
    pub source: Option<String>,
}

/// The wasm call stack at a trap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backtrace {
    /// Innermost first: frame 0 is the trapping function.
    pub frames: Vec<Frame>,
    /// The stack held more wasm frames than the runtime reports
    /// (`KWO_BACKTRACE_MAX`, or the buffer the caller gave).
    pub truncated: bool,
}

impl Backtrace {
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

/// `  3: func 7 name at wasm offset 0x56 (main.c:12:5)`: frame `index` of a
/// backtrace, leaving out what is unknown.
pub fn describe_frame(index: usize, frame: &Frame) -> String {
    let mut line = format!("  {index}: func {}", frame.func);
    if let Some(name) = &frame.func_name {
        line.push(' ');
        line.push_str(name);
    }
    if let Some(off) = frame.wasm_offset {
        line.push_str(&format!(" at wasm offset {off:#x}"));
    }
    if let Some(source) = &frame.source {
        line.push_str(&format!(" ({source})"));
    }
    line
}

impl fmt::Display for Backtrace {
    /// `backtrace:` and one line per frame, each ending in a newline; a
    /// last line says when frames were cut. Nothing for an empty one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.frames.is_empty() {
            return Ok(());
        }
        writeln!(f, "backtrace:")?;
        for (i, frame) in self.frames.iter().enumerate() {
            writeln!(f, "{}", describe_frame(i, frame))?;
        }
        if self.truncated {
            writeln!(f, "  ... deeper frames not shown (at most {} are reported)", self.frames.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_print_innermost_first_and_say_when_cut() {
        let bt = Backtrace {
            frames: vec![
                Frame {
                    func: 3,
                    func_name: Some("leaf".into()),
                    wasm_offset: Some(0x56),
                    source: Some("leaf.c:4:7".into()),
                },
                Frame { func: 1, func_name: None, wasm_offset: None, source: None },
            ],
            truncated: true,
        };
        assert_eq!(
            bt.to_string(),
            "backtrace:\n  0: func 3 leaf at wasm offset 0x56 (leaf.c:4:7)\n  1: func 1\n  \
             ... deeper frames not shown (at most 2 are reported)\n"
        );
        assert_eq!(Backtrace::default().to_string(), "");
    }
}
