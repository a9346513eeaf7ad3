//! Rust workloads of the kwo benchmarks, built twice from this one source:
//! natively (linked into the `kwo-bench` harness) and for wasm32-wasip1 (a
//! cdylib whose exports the Wasm engines call). Each export takes a size
//! and returns a checksum that every engine must reproduce exactly.
//!
//! Nothing here reads the clock, the environment or randomness: a WASI
//! import reached at run time would make the engines disagree.

use sha2::{Digest, Sha256};

/// A small deterministic generator (xorshift64*), the same on every target.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Text-like bytes with repetition, so that compression has work to do.
fn text(len: usize) -> Vec<u8> {
    const WORDS: [&[u8]; 8] = [
        b"kernel ",
        b"wasm ",
        b"packet ",
        b"filter ",
        b"the ",
        b"of ",
        b"checksum ",
        b"\n",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        let r = rng.next();
        out.extend_from_slice(WORDS[(r >> 61) as usize]);
        if r & 0xf == 0 {
            out.push(b'0' + (r >> 8) as u8 % 10);
        }
    }
    out.truncate(len);
    out
}

fn first_u64(bytes: &[u8]) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    i64::from_le_bytes(b)
}

/// SHA-256 (the `sha2` crate, portable code) over `kib` KiB, re-hashed
/// eight times with the previous digest mixed in.
#[no_mangle]
pub extern "C" fn bench_sha256(kib: i32) -> i64 {
    let data = text(kib.max(1) as usize * 1024);
    let mut digest = [0u8; 32];
    for _ in 0..8 {
        let mut h = Sha256::new();
        h.update(digest);
        h.update(&data);
        digest.copy_from_slice(&h.finalize());
    }
    first_u64(&digest)
}

/// Deflate (`miniz_oxide`, level 6) round trip over `kib` KiB of text; the
/// inflated copy must equal the input (-1 otherwise).
#[no_mangle]
pub extern "C" fn bench_deflate(kib: i32) -> i64 {
    let data = text(kib.max(1) as usize * 1024);
    let packed = miniz_oxide::deflate::compress_to_vec(&data, 6);
    match miniz_oxide::inflate::decompress_to_vec(&packed) {
        Ok(back) if back == data => {
            packed.len() as i64 ^ (first_u64(&packed[packed.len() - 8..]) << 20)
        }
        _ => -1,
    }
}

/// Sorts `n` pseudo-random keys with the standard library's unstable sort,
/// then counts distinct keys in an open-addressing hash table.
#[no_mangle]
pub extern "C" fn bench_sort_hash(n: i32) -> i64 {
    let n = n.max(1) as usize;
    let mut rng = Rng(42);
    let mut keys: Vec<u32> = (0..n)
        .map(|_| (rng.next() >> 40) as u32 % (n as u32 * 2))
        .collect();
    keys.sort_unstable();
    let mut sum = 0u64;
    for (i, k) in keys.iter().enumerate().step_by(97) {
        sum = sum.wrapping_mul(31).wrapping_add(*k as u64 ^ i as u64);
    }
    let cap = (n * 2).next_power_of_two();
    let mut table = vec![u32::MAX; cap];
    let mut distinct = 0u64;
    for &k in &keys {
        let mut slot = (k.wrapping_mul(0x9e37_79b1) as usize) & (cap - 1);
        loop {
            if table[slot] == u32::MAX {
                table[slot] = k;
                distinct += 1;
                break;
            }
            if table[slot] == k {
                break;
            }
            slot = (slot + 1) & (cap - 1);
        }
    }
    (sum ^ (distinct << 40)) as i64
}

// The allocation-heavy workloads below grow their data a little at a time,
// as real programs do, so that the Wasm engines' `memory.grow` is on the
// timed path: the harness gives each of their timed calls a fresh instance
// (`Workload::fresh`), whose memory starts at the module's minimum.

/// Builds a JSON document of `n` records with `serde_json`, prints it,
/// parses the text back and sums what it reads.
#[no_mangle]
pub extern "C" fn bench_json(n: i32) -> i64 {
    use serde_json::{json, Value};
    let n = n.max(1) as usize;
    let mut rng = Rng(7);
    let records: Vec<Value> = (0..n)
        .map(|i| {
            let r = rng.next();
            json!({
                "id": i,
                "name": format!("user-{:x}", r >> 40),
                "score": (r >> 11) as f64 / (1u64 << 53) as f64,
                "tags": ["kernel", "wasm", (r % 97).to_string()],
                "active": r & 1 == 1,
            })
        })
        .collect();
    let text = serde_json::to_string(&Value::Array(records)).expect("serialisable");
    let parsed: Value = serde_json::from_str(&text).expect("own output parses");
    let mut sum = text.len() as u64;
    for rec in parsed.as_array().expect("an array") {
        let id = rec["id"].as_u64().unwrap_or(0);
        let name_len = rec["name"].as_str().map_or(0, str::len) as u64;
        let score = (rec["score"].as_f64().unwrap_or(0.0) * 1e6) as u64;
        let tags = rec["tags"].as_array().map_or(0, Vec::len) as u64;
        sum = sum.wrapping_mul(31).wrapping_add(
            id ^ name_len ^ score ^ tags ^ rec["active"].as_bool().unwrap_or(false) as u64,
        );
    }
    sum as i64
}

/// Pushes `n` values one at a time into 64 vectors that grow independently,
/// so the allocator keeps asking for more memory.
#[no_mangle]
pub extern "C" fn bench_vec_grow(n: i32) -> i64 {
    let n = n.max(1) as usize;
    let mut rng = Rng(11);
    let mut lists: Vec<Vec<u64>> = (0..64).map(|_| Vec::new()).collect();
    for _ in 0..n {
        let r = rng.next();
        lists[(r >> 58) as usize].push(r);
    }
    let mut sum = 0u64;
    for list in &lists {
        sum = sum.wrapping_mul(31).wrapping_add(list.len() as u64);
        sum ^= list.iter().step_by(61).fold(0, |a, v| a ^ v);
    }
    sum as i64
}

/// Counts the words of `n` generated lines in a `HashMap<String, u64>`
/// (a fixed-key hasher: no randomness is asked of WASI).
#[no_mangle]
pub extern "C" fn bench_hash_map(n: i32) -> i64 {
    use std::collections::hash_map::DefaultHasher;
    use std::collections::HashMap;
    use std::hash::BuildHasherDefault;
    let n = n.max(1) as usize;
    let mut rng = Rng(13);
    let mut counts: HashMap<String, u64, BuildHasherDefault<DefaultHasher>> = HashMap::default();
    for _ in 0..n {
        let r = rng.next();
        let word = format!("w{}", (r >> 40) % (n as u64 / 2 + 1));
        *counts.entry(word).or_insert(0) += 1;
    }
    let mut sum = counts.len() as u64;
    for (word, count) in &counts {
        // Order-independent: the map's iteration order is not portable.
        sum = sum.wrapping_add((word.len() as u64).wrapping_mul(*count) ^ count);
    }
    sum as i64
}

/// Builds a report of `n` formatted lines in one growing `String`, then
/// splits it and parses every number back.
#[no_mangle]
pub extern "C" fn bench_strings(n: i32) -> i64 {
    use std::fmt::Write;
    let n = n.max(1) as usize;
    let mut rng = Rng(17);
    let mut report = String::new();
    for i in 0..n {
        let r = rng.next();
        writeln!(
            report,
            "{i}\t{}\t{:.3}\tpacket-{:08x}",
            r >> 44,
            (r >> 11) as f64 / 1e12,
            r as u32
        )
        .expect("writing to a String");
    }
    let mut sum = report.len() as u64;
    for line in report.lines() {
        let mut fields = line.split('\t');
        let i: u64 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
        let v: u64 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
        let x: f64 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0.0);
        sum = sum.wrapping_mul(31).wrapping_add(i ^ v ^ x as u64);
    }
    sum as i64
}
