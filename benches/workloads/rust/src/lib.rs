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
