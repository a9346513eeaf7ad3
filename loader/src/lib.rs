//! The kwo loader library: the userspace runtime over the portable C core
//! ([`runtime`]). The `kwo` command-line tool (`src/main.rs`) is built on
//! it; [`kernel`] is the ioctl client for `kwo.ko` (`/dev/kwo`, [`uapi`]);
//! [`source`] reads the program files both accept; [`backtrace`] holds a
//! trap's wasm call stack, [`addrmap`] annotates disassembly with it.

pub mod addrmap;
pub mod args;
pub mod backtrace;
mod ffi;
pub mod kernel;
pub mod runtime;
pub mod sign;
pub mod source;
pub mod uapi;
