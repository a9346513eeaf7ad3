//! The kwo loader library: the userspace runtime over the portable C core
//! ([`runtime`]). The `kwo` command-line tool (`src/main.rs`) is built on
//! it; [`kernel`] is the ioctl client for `kwo.ko` (`/dev/kwo`, [`uapi`]);
//! [`source`] reads the program files both accept; [`symbols`] names the
//! source lines of code offsets; [`backtrace`] holds a trap's wasm call
//! stack, [`addrmap`] annotates disassembly with it; [`verify_log`] is
//! `kwo verify`'s log, statistics and diagnostics.

pub mod addrmap;
pub mod args;
pub mod backtrace;
mod ffi;
pub mod kernel;
pub mod perfmap;
pub mod ps;
pub mod runtime;
pub mod sign;
pub mod source;
pub mod symbols;
pub mod uapi;
pub mod verify_log;
