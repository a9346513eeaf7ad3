//! kwo.ko's debugfs files, read for the user: `kwo ps` (the live instances,
//! `instances`), `kwo stats` (the global counters, `stats`) and `kwo
//! perf-map` (perf script output named with `symbols`). The files are
//! root-only; this module reads and explains them, it changes nothing.
//! Their formats are kwo.ko's (`kmod/linux/debugfs.c`, docs/debugging.md).

use crate::perfmap::{unescape, KernelSymbols};
use std::io::{self, BufRead, Write};
use std::path::Path;

/// Where kwo.ko's debugfs files are.
pub const DEBUGFS_KWO: &str = "/sys/kernel/debug/kwo";

/// The text of one of kwo.ko's debugfs files, or an error that says why
/// it cannot be read: debugfs not mounted, kwo.ko not loaded, not root.
pub fn read_debugfs(file: &str) -> Result<String, String> {
    let path = Path::new(DEBUGFS_KWO).join(file);
    std::fs::read_to_string(&path).map_err(|e| {
        let why = if e.kind() == io::ErrorKind::PermissionDenied {
            "root only (and CAP_SYSLOG for symbols)".to_string()
        } else if !debugfs_mounted() {
            "debugfs is not mounted: mount -t debugfs none /sys/kernel/debug".to_string()
        } else if !Path::new("/sys/module/kwo").exists() {
            "kwo.ko is not loaded".to_string()
        } else if !Path::new(DEBUGFS_KWO).exists() {
            "this kwo.ko has no debugfs files (an older module, or debugfs disabled)".to_string()
        } else {
            e.to_string()
        };
        format!("{}: {why}", path.display())
    })
}

fn debugfs_mounted() -> bool {
    std::fs::read_to_string("/proc/self/mounts").is_ok_and(|m| {
        m.lines()
            .any(|l| l.split_whitespace().nth(1) == Some("/sys/kernel/debug"))
    })
}

/// One line of `instances`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRow {
    pub id: u64,
    pub pid: i64,
    pub comm: String,
    pub name: String,
    pub object_bytes: u64,
    pub memory_bytes: u64,
    pub invokes: u64,
    pub traps: u64,
    pub wasm_ns: u64,
}

/// Parse `instances`: a `#` header, then `id pid comm name object_bytes
/// memory_bytes invokes traps wasm_ns` per instance, text fields escaped.
pub fn parse_instances(text: &str) -> Result<Vec<InstanceRow>, String> {
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let bad = || format!("instances: unexpected line {line:?}");
        if f.len() != 9 {
            return Err(bad());
        }
        let num = |i: usize| f[i].parse::<u64>().map_err(|_| bad());
        rows.push(InstanceRow {
            id: num(0)?,
            pid: f[1].parse().map_err(|_| bad())?,
            comm: unescape(f[2]),
            name: unescape(f[3]),
            object_bytes: num(4)?,
            memory_bytes: num(5)?,
            invokes: num(6)?,
            traps: num(7)?,
            wasm_ns: num(8)?,
        });
    }
    Ok(rows)
}

/// Nanoseconds as `kwo ps` shows them: `1.234ms`, `2.500s`.
fn duration(ns: u64) -> String {
    if ns >= 1_000_000_000 {
        format!("{:.3}s", ns as f64 / 1e9)
    } else {
        format!("{:.3}ms", ns as f64 / 1e6)
    }
}

/// The `kwo ps` table.
pub fn format_ps(rows: &[InstanceRow]) -> String {
    let mut table = vec![[
        "PID", "COMM", "NAME", "SIZE", "MEMORY", "INVOKES", "TRAPS", "TIME",
    ]
    .map(String::from)];
    for r in rows {
        table.push([
            r.pid.to_string(),
            r.comm.clone(),
            r.name.clone(),
            r.object_bytes.to_string(),
            r.memory_bytes.to_string(),
            r.invokes.to_string(),
            r.traps.to_string(),
            duration(r.wasm_ns),
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|c| table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &table {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            // Text columns to the left, numbers to the right.
            .map(|(c, (v, w))| if (1..=2).contains(&c) { format!("{v:<w$}") } else { format!("{v:>w$}") })
            .collect();
        out += cells.join("  ").trim_end();
        out.push('\n');
    }
    out
}

/// `kwo ps`: the live instances of kwo.ko.
pub fn cmd_ps() -> Result<(), String> {
    let rows = parse_instances(&read_debugfs("instances")?)?;
    print!("{}", format_ps(&rows));
    Ok(())
}

/// Parse `stats`: `NAME VALUE` lines.
pub fn parse_stats(text: &str) -> Result<Vec<(String, u64)>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split_whitespace();
            match (f.next(), f.next().map(str::parse::<u64>), f.next()) {
                (Some(n), Some(Ok(v)), None) => Ok((n.to_string(), v)),
                _ => Err(format!("stats: unexpected line {l:?}")),
            }
        })
        .collect()
}

/// `kwo stats`: kwo.ko's global counters, one `NAME VALUE` a line.
pub fn cmd_stats() -> Result<(), String> {
    let stats = parse_stats(&read_debugfs("stats")?)?;
    let width = stats.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, value) in stats {
        println!("{name:<width$}  {value}");
    }
    Ok(())
}

/// `kwo perf-map [--symbols FILE]`: `perf script` output on stdin, with
/// kernel addresses in kwo code named, to stdout. The symbols come from
/// `symbols_file` (a copy saved while the instances lived) or from
/// kwo.ko's debugfs now. Lines with no address in kwo code pass
/// unchanged; when no line at all was named, stderr says why that may be
/// (no symbols, or none of the input's objects still loaded), so that
/// samples of closed instances are not left unnamed without a word.
pub fn cmd_perf_map(symbols_file: Option<&Path>) -> Result<(), String> {
    let text = match symbols_file {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?,
        None => read_debugfs("symbols")?,
    };
    let syms = KernelSymbols::parse(&text)?;
    if syms.is_empty() {
        eprintln!("kwo perf-map: no kwo symbols (no instance was loaded): lines pass unchanged");
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut named = 0u64;
    for line in io::stdin().lock().lines() {
        let line = line.map_err(|e| format!("reading perf script output: {e}"))?;
        let rewritten = syms.rewrite_line(&line);
        named += u64::from(rewritten != line);
        writeln!(out, "{rewritten}").map_err(|e| format!("writing: {e}"))?;
    }
    out.flush().map_err(|e| format!("writing: {e}"))?;
    if named == 0 && !syms.is_empty() {
        let whence = if symbols_file.is_some() { "in that file" } else { "loaded now" };
        eprintln!(
            "kwo perf-map: no address lies in kwo code ({} ranges {whence}): lines pass unchanged \
             (instances closed since the recording? name them with --symbols and a copy of the \
             symbols file saved while they lived)",
            syms.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTANCES: &str = "\
# id pid comm name object_bytes memory_bytes invokes traps wasm_ns
3 217 kwo add.kwo 1480 65536 12 1 2500000
7 301 my\\040tool crc-1a2b3c4d 900 0 0 0 0
";

    #[test]
    fn instances_parse_and_print() {
        let rows = parse_instances(INSTANCES).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].name, "add.kwo");
        assert_eq!((rows[0].pid, rows[0].invokes, rows[0].traps), (217, 12, 1));
        assert_eq!(rows[1].comm, "my tool");
        let table = format_ps(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("PID  COMM"), "{table}");
        assert!(lines[1].contains(" add.kwo ") && lines[1].ends_with("2.500ms"), "{table}");
        assert!(lines[2].contains("my tool") && lines[2].contains("crc-1a2b3c4d"), "{table}");
        assert!(parse_instances("1 2 3\n").is_err());
        assert!(parse_instances("# header only\n").unwrap().is_empty());
    }

    #[test]
    fn stats_parse() {
        let s = parse_stats("loads 3\ntrap_unreachable 1\n").unwrap();
        assert_eq!(s, vec![("loads".into(), 3), ("trap_unreachable".into(), 1)]);
        assert!(parse_stats("loads x\n").is_err());
        assert!(parse_stats("loads 1 2\n").is_err());
    }
}
