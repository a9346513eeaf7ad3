//! kwo's fuzz targets as plain functions of one input (`&[u8]`), so that the
//! same code runs under libFuzzer (`fuzz_targets/`, nightly, `cargo fuzz`)
//! and as a deterministic smoke loop on stable (`tests/smoke.rs`, CI).
//!
//! Every target asserts something beyond "no panic": a failed assertion is a
//! finding. Inputs that the generators cannot turn into a module are simply
//! skipped. What is fuzzed where, and the results so far, are in
//! `README.md`.

pub mod compile;
pub mod differential;
pub mod smith;
pub mod verify;

/// A named target: the entry point each `fuzz_targets/*.rs` wraps.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, in the order they were built.
pub const TARGETS: &[Target] = &[
    Target { name: "verify", run: verify::run },
    Target { name: "compile", run: compile::run },
    Target { name: "differential", run: differential::run },
];

/// xorshift64*: a fixed seed gives the same inputs on every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// `len` pseudo-random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}
