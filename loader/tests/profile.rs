//! `kwo run --profile=perfmap`: the perf map of a real program (the Rust
//! hello world of `tests/programs/`, wasm32-wasip1, hundreds of functions
//! with names) lists every defined function exactly once, with its size
//! and its place in the code as the object says, every trampoline, and
//! the veneers, without overlaps. In-process, every function's map range
//! holds that function's machine code, byte for byte (relocated call
//! fields aside). perf itself is not run here: docs/debugging.md has the
//! manual check. `kwo perf-map --symbols` passes the lines it cannot name
//! unchanged and says why on stderr (real kernel samples: the VM suite's
//! tests/vm/guest/perf.sh).

use kwo_format::{ExportKind, Object};
use kwo_loader::perfmap::{escape, perf_map};
use kwo_loader::runtime::{Config, Instance};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

mod common;
use common::{kwo_command, run_tool};

/// tests/programs/hello.rs, built for wasm32-wasip1 and compiled to a
/// `.kwo` for this machine, once per test binary.
fn hello_kwo() -> &'static Path {
    static KWO: OnceLock<PathBuf> = OnceLock::new();
    KWO.get_or_init(|| {
        let wasm = common::scratch("profile", "hello-rs.wasm");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs/hello.rs");
        run_tool(Command::new("rustc").args(["--target", "wasm32-wasip1", "-O", "-o"]).arg(&wasm).arg(src));
        let kwo = common::scratch("profile", "hello-rs.kwo");
        let out = kwo_command(&["compile", wasm.to_str().unwrap(), "-o", kwo.to_str().unwrap()])
            .output()
            .expect("running kwo compile");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        kwo
    })
}

/// One map line: start, size, name.
fn parse_map(text: &str) -> Vec<(u64, u64, String)> {
    text.lines()
        .map(|l| {
            let mut f = l.splitn(3, ' ');
            let mut hex = || u64::from_str_radix(f.next().unwrap(), 16).unwrap_or_else(|_| panic!("bad line {l:?}"));
            let (start, size) = (hex(), hex());
            (start, size, f.next().unwrap_or_else(|| panic!("no name in {l:?}")).to_string())
        })
        .collect()
}

/// What the map must say of each defined function: its name, and its
/// CODE offset and length.
fn expected_funcs(obj: &Object, object: &str) -> Vec<(String, u64, u64)> {
    let imports = obj.imports.len();
    obj.funcs
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let func = f.name.as_deref().map_or_else(|| format!("func[{}]", imports + i), escape);
            (format!("kwo:{object}:{func}"), u64::from(f.code_off), u64::from(f.code_len))
        })
        .collect()
}

#[test]
fn perfmap_lists_every_function_once_in_the_code() {
    let kwo = hello_kwo();
    let obj = Object::parse(&std::fs::read(kwo).unwrap()).unwrap();
    let child = kwo_command(&["run", "--profile=perfmap", kwo.to_str().unwrap(), "alpha"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running kwo run");
    let map_path = PathBuf::from(format!("/tmp/perf-{}.map", child.id()));
    let out = child.wait_with_output().unwrap();
    // hello.rs exits with 3 after printing.
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Hello from Rust on kwo!"));
    let text = std::fs::read_to_string(&map_path)
        .unwrap_or_else(|e| panic!("{}: {e}", map_path.display()));
    let _ = std::fs::remove_file(&map_path);
    let mut lines = parse_map(&text);
    assert!(obj.funcs.len() > 100, "hello.rs should have many functions");

    // Every defined function exactly once, with the object's length, at
    // the object's offset from one common base.
    let mut by_name: BTreeMap<&str, Vec<(u64, u64)>> = BTreeMap::new();
    for (start, size, name) in &lines {
        by_name.entry(name).or_default().push((*start, *size));
    }
    let funcs = expected_funcs(&obj, "hello-rs.kwo");
    let (first_name, first_off, _) = &funcs[0];
    let base = by_name[first_name.as_str()][0].0 - first_off;
    let mut want: BTreeMap<&str, Vec<(u64, u64)>> = BTreeMap::new();
    for (name, off, len) in &funcs {
        want.entry(name).or_default().push((base + off, *len));
    }
    for (name, places) in &want {
        let mut got = by_name.get(name).cloned().unwrap_or_default();
        let mut places = places.clone();
        got.sort();
        places.sort();
        assert_eq!(got, places, "{name}: map {got:x?}, object {places:x?}");
    }
    let func_lines = lines
        .iter()
        .filter(|(_, _, n)| !n.ends_with("[trampoline]") && !n.ends_with("[veneers]"))
        .count();
    assert_eq!(func_lines, obj.funcs.len());

    // One trampoline per exported function (here _start), one veneers line.
    let tramps: Vec<&str> = lines.iter().map(|l| l.2.as_str()).filter(|n| n.ends_with("[trampoline]")).collect();
    let exported = obj.exports.iter().filter(|x| x.kind == ExportKind::Func).count();
    assert_eq!(tramps.len(), exported, "{tramps:?}");
    assert!(tramps.contains(&"kwo:hello-rs.kwo:_start[trampoline]"), "{tramps:?}");
    assert_eq!(lines.iter().filter(|l| l.2 == "kwo:hello-rs.kwo:[veneers]").count(), 1);

    // No overlaps, nothing outside the code and veneers.
    lines.sort();
    for w in lines.windows(2) {
        assert!(w[0].0 + w[0].1 <= w[1].0, "{:x?} overlaps {:x?}", w[0], w[1]);
    }
    // The veneers come right after the code (16-byte aligned), last.
    let veneers = lines.iter().find(|l| l.2.ends_with("[veneers]")).unwrap();
    assert_eq!(veneers.0, base + (obj.code.len() as u64).next_multiple_of(16));
    assert!(lines[0].0 >= base && lines.last() == Some(veneers), "map starts at {:x}", lines[0].0);
}

#[test]
fn map_ranges_hold_the_functions_machine_code() {
    let bytes = std::fs::read(hello_kwo()).unwrap();
    let obj = Object::parse(&bytes).unwrap();
    let inst = Instance::new(&bytes, &Config::default()).unwrap();
    let (base, size) = inst.code_range();
    let lines = parse_map(&perf_map(&inst, "hello-rs.kwo"));
    assert_eq!(lines.len(), inst.symbols().len());
    let funcs = expected_funcs(&obj, "hello-rs.kwo");
    for (start, len, name) in &lines {
        assert!(*start as usize >= base && (*start + *len) as usize <= base + size, "{name} outside the code");
    }
    for (i, (name, off, len)) in funcs.iter().enumerate() {
        let (start, size, got_name) = &lines[i];
        assert_eq!((got_name, *size), (name, *len));
        // SAFETY: the range lies in the instance's sealed code (checked
        // above), which is mapped readable until the instance is dropped.
        let live = unsafe { std::slice::from_raw_parts(*start as usize as *const u8, *len as usize) };
        let mut want = obj.code[*off as usize..(*off + *len) as usize].to_vec();
        // The loader patched the 4-byte fields of host calls.
        for r in obj.relocs.iter().filter(|r| (*off..*off + *len).contains(&u64::from(r.offset))) {
            let at = (u64::from(r.offset) - off) as usize;
            want[at..at + 4].copy_from_slice(&live[at..at + 4]);
        }
        assert!(live == &want[..], "{name}: code at {start:x} differs from the object's");
    }
}

/// perf itself, where it can sample this process (the `perf` binary
/// installed and `perf_event_paranoid` letting this user record): a loop
/// in a Wasm function gets most samples, and `perf report` names them by
/// the map. Where perf cannot run, the test says so on stderr and checks
/// nothing more (docs/debugging.md has the same steps by hand).
#[test]
fn perf_report_names_the_hot_wasm_function() {
    if std::env::var_os("KWO_TEST_RUNNER").is_some() {
        eprintln!("perf check not run: kwo runs under an emulator (KWO_TEST_RUNNER)");
        return;
    }
    let wat = common::scratch("profile", "loop.wat");
    std::fs::write(
        &wat,
        r#"(module
  (func $busy (export "busy") (param $n i32) (result i32)
    (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $n) (local.get $n))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (local.get $acc)))"#,
    )
    .unwrap();
    let data = common::scratch("profile", "perf.data");
    let kwo = env!("CARGO_BIN_EXE_kwo");
    let record = Command::new("perf")
        .args(["record", "-q", "-F", "499", "-o"])
        .arg(&data)
        .args(["--", kwo, "run", "--profile=perfmap", "--invoke", "busy"])
        .arg(&wat)
        .arg("300000000")
        .output();
    let record = match record {
        Ok(out) if out.status.success() => out,
        Ok(out) => {
            eprintln!("perf check not run: perf record failed: {}", String::from_utf8_lossy(&out.stderr));
            return;
        }
        Err(e) => {
            eprintln!("perf check not run: no perf ({e})");
            return;
        }
    };
    assert!(String::from_utf8_lossy(&record.stdout).trim().parse::<i64>().is_ok());
    let report = Command::new("perf")
        .args(["report", "--stdio", "--sort", "sym", "-i"])
        .arg(&data)
        .output()
        .expect("running perf report");
    let text = String::from_utf8_lossy(&report.stdout);
    let share: f64 = text
        .lines()
        .find(|l| l.contains("kwo:loop.wat:busy"))
        .and_then(|l| l.split_whitespace().next()?.trim_end_matches('%').parse().ok())
        .unwrap_or_else(|| panic!("perf report does not name kwo:loop.wat:busy:\n{text}"));
    assert!(share > 50.0, "busy has {share}% of the samples:\n{text}");
}

/// `kwo perf-map --symbols FILE` with `input` on stdin: (stdout, stderr,
/// success).
fn perf_map_cli(symbols: &str, input: &str) -> (String, String, bool) {
    use std::io::Write as _;
    let file = common::scratch("profile", &format!("symbols-{:08x}", name_hash(symbols)));
    std::fs::write(&file, symbols).unwrap();
    let mut child = kwo_command(&["perf-map", "--symbols", common::path_str(&file)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running kwo perf-map");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (String::from_utf8_lossy(&out.stdout).into_owned(), common::stderr(&out), out.status.success())
}

/// FNV-1a of the symbols text: a scratch file name per text, so that tests
/// running in parallel do not share one.
fn name_hash(s: &str) -> u32 {
    s.bytes().fold(0x811c9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x01000193))
}

/// What `kwo perf-map` does with samples it cannot name (docs/debugging.md,
/// "Kernel samples"): the lines pass unchanged and the exit status is 0,
/// and stderr says why when not one line was named — no symbols at all, or
/// none of the input's addresses in the ranges (the instances recorded
/// were closed); when some line was named, stderr stays quiet.
#[test]
fn perf_map_passes_unnamed_samples_and_says_why() {
    let symbols = "ffffffffc0a01000 ffffffffc0a01040 kwo:hot.kwo:burn\n";
    let sample = |addr: &str| {
        format!("             kwo   106 [001]    28.143497:    1001001 cpu-clock:  {addr} [unknown] ([unknown])\n")
    };
    let kernel = "             kwo   106 [001]    28.143500:    1001001 cpu-clock:  ffffffff8105c0de do_syscall_64+0x3e ([kernel.kallsyms])\n";

    let input = sample("ffffffffc0a0101c") + kernel;
    let (out, err, ok) = perf_map_cli(symbols, &input);
    assert!(ok, "{err}");
    assert_eq!(out, sample("ffffffffc0a0101c").replace("[unknown] (", "kwo:hot.kwo:burn+0x1c (") + kernel);
    assert_eq!(err, "");

    // The object of these samples is gone: another one's ranges only.
    let input = sample("ffffffffc0b0101c") + kernel;
    let (out, err, ok) = perf_map_cli(symbols, &input);
    assert!(ok, "{err}");
    assert_eq!(out, input);
    assert!(err.contains("no address lies in kwo code (1 ranges in that file)"), "{err}");

    // No kwo symbols at all.
    let (out, err, ok) = perf_map_cli("", &input);
    assert!(ok, "{err}");
    assert_eq!(out, input);
    assert!(err.contains("no kwo symbols"), "{err}");
}
