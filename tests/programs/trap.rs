// SPDX-License-Identifier: Apache-2.0
//! A Rust program that traps, for the source lines of traps (built with
//! debuginfo): an out-of-bounds store in a function inlined into main. The
//! address is the first argument (default 0xfffffff0, past any linear
//! memory).

#[inline(always)]
fn poke(addr: usize, value: u32) {
    // SAFETY: none: the store is meant to leave the linear memory.
    unsafe { std::ptr::write_volatile(addr as *mut u32, value) }
}

fn main() {
    let addr = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(0xffff_fff0);
    println!("poking {addr:#x}");
    poke(addr, 42);
}
