//! The verifier must never panic: every truncation and many bit flips of real
//! modules, and random bytes, must give `Ok` or diagnostics.

use kwo_verifier::{verify, Policy};

/// A module touching most sections and constant-expression forms.
const SEED: &str = r#"
(module
  (type $w (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (type $w)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1 4)
  (table $t 4 funcref)
  (table $x 1 externref)
  (global $g (mut i32) (i32.add (i32.const 8) (i32.mul (i32.const 2) (i32.const 4))))
  (global i64 (i64.sub (i64.const 1) (i64.const 2)))
  (global f64 (f64.const 3.25))
  (global funcref (ref.func $main))
  (elem (table $t) (i32.const 1) func $main $helper)
  (elem $p funcref (ref.func $helper) (ref.null func))
  (data (i32.const 16) "Hello, world!\n")
  (data $d "passive")
  (func $helper (param i32) (result i32 i32)
    (local i64 f32)
    (block $out (result i32)
      (br_table 0 0 $out (local.get 0) (local.get 0)))
    (i32.extend8_s (local.get 0)))
  (func $main (export "_start")
    (local i32)
    (memory.init $d (i32.const 0) (i32.const 0) (i32.const 3))
    (table.init $t $p (i32.const 0) (i32.const 0) (i32.const 1))
    (loop $l
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 0) (global.get $g))))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call_indirect $t (type $w)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 2)))
    (drop (i32.trunc_sat_f64_s (f64.const 1e30)))
    (drop (ref.is_null (table.get $x (i32.const 0)))))
  (start $main))
"#;

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn seed() -> Vec<u8> {
    let bytes = wat::parse_str(SEED).unwrap();
    verify(&bytes, &Policy::kernel()).expect("the seed module itself must verify");
    bytes
}

#[test]
fn truncations_never_panic() {
    let bytes = seed();
    // Cutting at a section boundary can leave a valid module (the header
    // alone is one); cutting anywhere else must not.
    let mut boundaries = vec![8];
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let Some((_, range)) = payload.unwrap().as_section() {
            boundaries.push(range.end);
        }
    }
    for len in 0..bytes.len() {
        let accepted = verify(&bytes[..len], &Policy::kernel()).is_ok();
        assert!(
            !accepted || boundaries.contains(&len),
            "truncation to {len} accepted"
        );
    }
}

#[test]
fn bit_flips_never_panic() {
    let bytes = seed();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let policies = [Policy::kernel(), Policy::spectest()];
    // KWO_FUZZ_ROUNDS runs a longer campaign by hand.
    let rounds = std::env::var("KWO_FUZZ_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok());
    for round in 0..rounds.unwrap_or(10_000) {
        let mut mutant = bytes.clone();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(mutant.len());
            mutant[at] ^= 1 << rng.below(8);
        }
        // Either outcome is fine; what matters is getting one.
        if let Err(d) = verify(&mutant, &policies[round % 2]) {
            assert!(!d.is_empty());
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for _ in 0..5_000 {
        let len = rng.below(256);
        // Half get a valid header so that section parsing is exercised.
        let mut bytes: Vec<u8> = if rng.below(2) == 0 {
            b"\0asm\x01\0\0\0".to_vec()
        } else {
            Vec::new()
        };
        bytes.extend((0..len).map(|_| rng.next() as u8));
        let result = verify(&bytes, &Policy::kernel());
        if !bytes.starts_with(b"\0asm") {
            assert!(result.is_err(), "{bytes:x?} accepted without a wasm header");
        }
    }
}
