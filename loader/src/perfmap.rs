//! Symbols for profilers. In userspace, `kwo run --profile=perfmap` writes
//! perf's map for JIT code, `/tmp/perf-<pid>.map`: one line per function,
//! trampoline and the veneers of the instance, `START SIZE NAME` (hex,
//! no `0x`), which `perf report` reads for samples in anonymous executable
//! memory. In the kernel, kwo.ko lists the same pieces of every live
//! instance in its debugfs `symbols` file, `START END NAME`; perf cannot
//! read that, so `kwo perf-map` rewrites `perf script` output, naming the
//! kernel addresses that fall in a kwo range.
//!
//! Names are `kwo:<object>:<function>` (the name section's name, or
//! `func[N]`), `kwo:<object>:<function>[trampoline]` and
//! `kwo:<object>:[veneers]`; every byte up to 0x20, 0x7f and `\` is
//! written as `\ooo` (octal), in both worlds, so that a name is one word.
//! Not done here: jitdump (`perf inject --jit`), source lines, symbols of
//! instances that are gone (save the `symbols` file while they live).

use crate::runtime::{CodeSymbol, Instance, SymbolKind};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;

/// `s` with every byte up to 0x20, 0x7f and `\` as `\ooo` (kwo.ko's rule).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c <= ' ' || c == '\x7f' || c == '\\' {
            let _ = write!(out, "\\{:03o}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// Undoes [`escape`] (and kwo.ko's escaping of debugfs fields); a `\` not
/// followed by three octal digits stays as it is.
pub fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                let v = d.iter().fold(0u32, |v, b| v * 8 + u32::from(b - b'0'));
                out.push(v as u8);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The profiler name of one piece of `inst`'s code, for an object called
/// `object` (already escaped).
fn symbol_name(inst: &Instance, object: &str, sym: &CodeSymbol) -> String {
    let func = |f: u32| inst.func_name(f).map_or_else(|| format!("func[{f}]"), |n| escape(&n));
    match sym.kind {
        SymbolKind::Func(f) => format!("kwo:{object}:{}", func(f)),
        SymbolKind::Trampoline(f) => format!("kwo:{object}:{}[trampoline]", func(f)),
        SymbolKind::Veneers => format!("kwo:{object}:[veneers]"),
    }
}

/// The perf map of `inst`, loaded from a file called `object`: one line
/// per piece of code, in the order of [`Instance::symbols`].
pub fn perf_map(inst: &Instance, object: &str) -> String {
    let object = escape(object);
    let mut map = String::new();
    for sym in inst.symbols() {
        let _ = writeln!(map, "{:x} {:x} {}", sym.start, sym.len, symbol_name(inst, &object, &sym));
    }
    map
}

/// Where perf looks for this process's map.
pub fn perf_map_path() -> PathBuf {
    PathBuf::from(format!("/tmp/perf-{}.map", std::process::id()))
}

/// Write [`perf_map`] to [`perf_map_path`], replacing a file a process of
/// the same pid left behind. The file is created anew (`O_EXCL`, mode
/// 0644), never opened through a symlink another user planted in /tmp.
/// It stays after the process exits, as perf needs it then.
pub fn write_perf_map(inst: &Instance, object: &str) -> Result<PathBuf, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = perf_map_path();
    let err = |e: io::Error| format!("--profile=perfmap: {}: {e}", path.display());
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(err(e)),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&path)
        .map_err(err)?;
    file.write_all(perf_map(inst, object).as_bytes()).map_err(err)?;
    Ok(path)
}

/// One line of kwo.ko's `symbols` file: `[start, end)` and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelSymbol {
    pub start: u64,
    pub end: u64,
    pub name: String,
}

/// kwo.ko's `symbols` file, parsed: ranges sorted by address.
#[derive(Debug, Default)]
pub struct KernelSymbols(Vec<KernelSymbol>);

impl KernelSymbols {
    /// Parse the `symbols` file (`START END NAME`, hex addresses). A line
    /// that does not parse is an error naming it: a file of another
    /// format must not yield silently wrong names.
    pub fn parse(text: &str) -> Result<KernelSymbols, String> {
        let mut syms = Vec::new();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let mut f = line.split_whitespace();
            let bad = || format!("symbols line {}: expected START END NAME, got {line:?}", n + 1);
            let (Some(start), Some(end), Some(name), None) = (f.next(), f.next(), f.next(), f.next()) else {
                return Err(bad());
            };
            let hex = |s: &str| u64::from_str_radix(s, 16).map_err(|_| bad());
            let (start, end) = (hex(start)?, hex(end)?);
            if end <= start {
                return Err(bad());
            }
            syms.push(KernelSymbol { start, end, name: name.to_string() });
        }
        syms.sort_by_key(|s| s.start);
        Ok(KernelSymbols(syms))
    }

    /// The symbol whose range holds `addr`, and the offset into it.
    pub fn lookup(&self, addr: u64) -> Option<(&KernelSymbol, u64)> {
        let i = self.0.partition_point(|s| s.start <= addr).checked_sub(1)?;
        let s = &self.0[i];
        (addr < s.end).then(|| (s, addr - s.start))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One line of `perf script` output with every address in a kwo range
    /// named: perf prints an address (16 hex digits, no `0x`), then the
    /// symbol it found (`[unknown]` for kwo code), then `(dso)`. The
    /// symbol word becomes `kwo:<object>:<function>+0xOFF`; if perf printed
    /// none, the name is added after the address. Everything else, the
    /// spacing included, is kept.
    pub fn rewrite_line(&self, line: &str) -> String {
        let words: Vec<(usize, &str)> = line
            .split_ascii_whitespace()
            .map(|w| (w.as_ptr() as usize - line.as_ptr() as usize, w))
            .collect();
        let mut out = String::with_capacity(line.len() + 32);
        let mut copied = 0;
        let mut k = 0;
        while k < words.len() {
            let (at, word) = words[k];
            k += 1;
            let Some((sym, off)) = perf_address(word).and_then(|a| self.lookup(a)) else {
                continue;
            };
            let name = format!("{}+{off:#x}", sym.name);
            match words.get(k) {
                Some(&(sym_at, sym_word)) if !sym_word.starts_with('(') => {
                    out.push_str(&line[copied..sym_at]);
                    out.push_str(&name);
                    copied = sym_at + sym_word.len();
                    k += 1;
                }
                _ => {
                    out.push_str(&line[copied..at + word.len()]);
                    out.push(' ');
                    out.push_str(&name);
                    copied = at + word.len();
                }
            }
        }
        out.push_str(&line[copied..]);
        out
    }
}

/// An address as `perf script` prints one: 8 to 16 hex digits.
fn perf_address(word: &str) -> Option<u64> {
    (8..=16).contains(&word.len()).then_some(())?;
    word.bytes().all(|b| b.is_ascii_hexdigit()).then_some(())?;
    u64::from_str_radix(word, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips() {
        for s in ["plain", "a b", "tab\there", "back\\slash", "nl\n", "é ü", "\x7f\x01"] {
            let e = escape(s);
            assert!(!e.contains(|c: char| c.is_whitespace() || c.is_control()), "{e:?}");
            assert_eq!(unescape(&e), s);
        }
        assert_eq!(escape("a b\\"), "a\\040b\\134");
        // kwo.ko's comm escaping of a space, and a lone backslash.
        assert_eq!(unescape("kworker\\040x"), "kworker x");
        assert_eq!(unescape("a\\9"), "a\\9");
    }

    const SYMBOLS: &str = "\
ffffffffc0a01000 ffffffffc0a01040 kwo:add.kwo:add
ffffffffc0a01040 ffffffffc0a01080 kwo:add.kwo:add[trampoline]
ffffffffc0a01080 ffffffffc0a01320 kwo:add.kwo:[veneers]
";

    #[test]
    fn symbols_are_looked_up_by_range() {
        let syms = KernelSymbols::parse(SYMBOLS).unwrap();
        assert_eq!(syms.len(), 3);
        let (s, off) = syms.lookup(0xffffffffc0a01005).unwrap();
        assert_eq!((s.name.as_str(), off), ("kwo:add.kwo:add", 5));
        assert_eq!(syms.lookup(0xffffffffc0a01040).unwrap().0.name, "kwo:add.kwo:add[trampoline]");
        assert!(syms.lookup(0xffffffffc0a00fff).is_none());
        assert!(syms.lookup(0xffffffffc0a01320).is_none());
        for bad in ["x y z", "ffff ff kwo:a:b", "10 20", "10 20 a b"] {
            assert!(KernelSymbols::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn perf_script_lines_are_named() {
        let syms = KernelSymbols::parse(SYMBOLS).unwrap();
        // A sample line (perf script's default fields) and callchain lines.
        let sample = "     kwo   217 [000]    52.613280:     250000 cpu-clock:pp:  ffffffffc0a01005 [unknown] ([unknown])";
        assert_eq!(
            syms.rewrite_line(sample),
            "     kwo   217 [000]    52.613280:     250000 cpu-clock:pp:  ffffffffc0a01005 kwo:add.kwo:add+0x5 ([unknown])"
        );
        let chain = "\tffffffffc0a01044 [unknown] ([kernel.kallsyms])";
        assert_eq!(
            syms.rewrite_line(chain),
            "\tffffffffc0a01044 kwo:add.kwo:add[trampoline]+0x4 ([kernel.kallsyms])"
        );
        // -F ip: no symbol printed.
        assert_eq!(syms.rewrite_line("ffffffffc0a01000"), "ffffffffc0a01000 kwo:add.kwo:add+0x0");
        // Addresses outside kwo code, and other lines, stay as they are.
        for same in [
            "\tffffffff81a3c2d5 do_syscall_64+0x35 ([kernel.kallsyms])",
            "kwo   217 [000]    52.613280: cpu-clock:pp:",
            "",
        ] {
            assert_eq!(syms.rewrite_line(same), same);
        }
    }
}
