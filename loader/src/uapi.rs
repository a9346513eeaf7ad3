//! The `/dev/kwo` userspace API, mirrored from `kmod/include/uapi/linux/kwo.h`:
//! the ioctl request structs and numbers, nothing else. Layouts are
//! `#[repr(C)]` field for field; the test at the bottom compiles the C header
//! and compares every size and offset. [`crate::kernel`] is the only user.

#![allow(non_camel_case_types)]

pub const KWO_API_VERSION: u32 = 1;
pub const KWO_MAX_VALS: usize = 16;
pub const KWO_MAX_NAME: usize = 256;
pub const KWO_MAX_FILES: usize = 61;

pub const KWO_FEAT_FPU: u32 = 1 << 0;
pub const KWO_FEAT_PRINTK: u32 = 1 << 1;
pub const KWO_FEAT_STDIO: u32 = 1 << 2;
pub const KWO_FEAT_FILES: u32 = 1 << 3;
pub const KWO_FEAT_NAME: u32 = 1 << 4;
pub const KWO_FEAT_BACKTRACE: u32 = 1 << 5;
pub const KWO_FEAT_LOAD_BACKTRACE: u32 = 1 << 6;

pub const KWO_LOAD_PRINTK: u32 = 1 << 0;
pub const KWO_LOAD_STDIO: u32 = 1 << 1;
pub const KWO_LOAD_FILES: u32 = 1 << 2;
pub const KWO_INVOKE_STDIO: u32 = 1 << 0;

pub const KWO_STATUS_OK: u32 = 0;
pub const KWO_STATUS_TRAP: u32 = 1;
pub const KWO_STATUS_EXIT: u32 = 2;

pub const KWO_OUT_STDOUT_TRUNC: u32 = 1 << 0;
pub const KWO_OUT_STDERR_TRUNC: u32 = 1 << 1;
pub const KWO_OUT_FRAMES_TRUNC: u32 = 1 << 2;
pub const KWO_MAX_FRAMES: usize = 32;

pub const KWO_INFO_SIGNED: u32 = 1 << 0;
pub const KWO_SIGNER_LEN: usize = 24;

/// `struct kwo_version`
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct kwo_version {
    pub api_version: u32,
    pub object_version: u32,
    pub targets: u32,
    pub features: u32,
    pub max_object_size: u64,
    pub reserved: [u64; 4],
}

/// `struct kwo_trap_report`
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct kwo_trap_report {
    pub code: u32,
    pub func: u32,
    pub wasm_off: u32,
    pub reserved: u32,
}

/// Bytes of `struct kwo_load` before the frames fields: the request of a
/// module without [`KWO_FEAT_LOAD_BACKTRACE`] ([`KWO_IOC_LOAD_VER0`]).
pub const KWO_LOAD_SIZE_VER0: usize = 144;

/// `struct kwo_load`
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct kwo_load {
    pub object: u64,
    pub object_len: u32,
    pub flags: u32,
    pub log_buf: u64,
    pub log_size: u32,
    pub log_len: u32,
    pub args: u64,
    pub env: u64,
    pub args_len: u32,
    pub env_len: u32,
    pub stdin_buf: u64,
    pub stdin_len: u32,
    pub max_pages: u32,
    pub timeout_ns: u64,
    pub fuel: u64,
    pub status: u32,
    pub exit_code: i32,
    pub trap: kwo_trap_report,
    pub stdio: [i32; 3],
    pub write_errno: u32,
    pub files: u64,
    pub nfiles: u32,
    pub reserved: u32,
    pub frames: u64,
    pub frames_cap: u32,
    pub nframes: u32,
    pub out_flags: u32,
    pub reserved2: [u32; 3],
}

/// `struct kwo_frame`
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct kwo_frame {
    pub func: u32,
    pub wasm_off: u32,
}

/// `struct kwo_invoke`
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct kwo_invoke {
    pub name: u64,
    pub name_len: u32,
    pub flags: u32,
    pub nvals: u32,
    pub status: u32,
    pub types: [u8; KWO_MAX_VALS],
    pub vals: [u64; KWO_MAX_VALS],
    pub stdout_buf: u64,
    pub stderr_buf: u64,
    pub stdout_size: u32,
    pub stderr_size: u32,
    pub stdout_len: u32,
    pub stderr_len: u32,
    pub out_flags: u32,
    pub exit_code: i32,
    pub timeout_ns: u64,
    pub fuel: u64,
    pub duration_ns: u64,
    pub trap: kwo_trap_report,
    pub stdio: [i32; 3],
    pub write_errno: u32,
    pub frames: u64,
    pub frames_cap: u32,
    pub nframes: u32,
}

/// `struct kwo_info`
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct kwo_info {
    pub target: u32,
    pub obj_flags: u32,
    pub exports: u32,
    pub load_flags: u32,
    pub object_len: u64,
    pub mem_size: u64,
    pub mem_max: u64,
    pub invocations: u64,
    pub traps: u64,
    pub sig_flags: u32,
    pub sig_kwo_version: u32,
    pub signer: [u8; KWO_SIGNER_LEN],
}

pub const KWO_NAME_LEN: usize = 64;

/// `struct kwo_name`
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kwo_name {
    pub name: [u8; KWO_NAME_LEN],
    pub reserved: [u64; 2],
}

impl Default for kwo_name {
    fn default() -> Self {
        kwo_name {
            name: [0; KWO_NAME_LEN],
            reserved: [0; 2],
        }
    }
}

const KWO_IOC_MAGIC: u32 = 0xb7;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

/// The generic `_IOC()` encoding (x86_64 and aarch64 share it).
const fn ioc(dir: u32, nr: u32, size: usize) -> u32 {
    (dir << 30) | ((size as u32) << 16) | (KWO_IOC_MAGIC << 8) | nr
}

pub const KWO_IOC_VERSION: u32 = ioc(
    IOC_READ | IOC_WRITE,
    0x00,
    std::mem::size_of::<kwo_version>(),
);
pub const KWO_IOC_LOAD: u32 = ioc(IOC_READ | IOC_WRITE, 0x01, std::mem::size_of::<kwo_load>());
pub const KWO_IOC_LOAD_VER0: u32 = ioc(IOC_READ | IOC_WRITE, 0x01, KWO_LOAD_SIZE_VER0);
// The frames fields start where the older request ends.
const _: () = assert!(std::mem::offset_of!(kwo_load, frames) == KWO_LOAD_SIZE_VER0);
pub const KWO_IOC_INVOKE: u32 = ioc(
    IOC_READ | IOC_WRITE,
    0x02,
    std::mem::size_of::<kwo_invoke>(),
);
pub const KWO_IOC_INFO: u32 = ioc(IOC_READ, 0x03, std::mem::size_of::<kwo_info>());
pub const KWO_IOC_SET_NAME: u32 = ioc(IOC_WRITE, 0x04, std::mem::size_of::<kwo_name>());

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};
    use std::path::Path;
    use std::process::Command;

    /// Every size, offset and number, as (name, value) from the Rust side.
    fn rust_layout() -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = Vec::new();
        macro_rules! size {
            ($t:ident) => {
                v.push((format!("sizeof {}", stringify!($t)), size_of::<$t>() as u64))
            };
        }
        macro_rules! off {
            ($t:ident, $($f:ident),+) => {
                $(v.push((format!("{}.{}", stringify!($t), stringify!($f)), offset_of!($t, $f) as u64));)+
            };
        }
        macro_rules! num {
            ($($n:ident),+) => { $(v.push((stringify!($n).to_string(), $n as u64));)+ };
        }
        size!(kwo_version);
        off!(
            kwo_version,
            api_version,
            object_version,
            targets,
            features,
            max_object_size,
            reserved
        );
        size!(kwo_trap_report);
        off!(kwo_trap_report, code, func, wasm_off, reserved);
        size!(kwo_load);
        off!(kwo_load, object, object_len, flags, log_buf, log_size, log_len, args, env, args_len);
        off!(kwo_load, env_len, stdin_buf, stdin_len, max_pages, timeout_ns, fuel, status);
        off!(kwo_load, exit_code, trap, stdio, write_errno, files, nfiles, reserved);
        off!(kwo_load, frames, frames_cap, nframes, out_flags, reserved2);
        num!(KWO_FEAT_LOAD_BACKTRACE, KWO_LOAD_SIZE_VER0, KWO_IOC_LOAD_VER0);
        size!(kwo_invoke);
        off!(kwo_invoke, name, name_len, flags, nvals, status, types, vals, stdout_buf);
        off!(
            kwo_invoke,
            stderr_buf,
            stdout_size,
            stderr_size,
            stdout_len,
            stderr_len,
            out_flags
        );
        off!(
            kwo_invoke,
            exit_code,
            timeout_ns,
            fuel,
            duration_ns,
            trap,
            stdio,
            write_errno,
            frames,
            frames_cap,
            nframes
        );
        size!(kwo_frame);
        off!(kwo_frame, func, wasm_off);
        size!(kwo_info);
        off!(kwo_info, target, obj_flags, exports, load_flags, object_len, mem_size, mem_max);
        off!(kwo_info, invocations, traps, sig_flags, sig_kwo_version, signer);
        size!(kwo_name);
        off!(kwo_name, name, reserved);
        num!(KWO_FEAT_NAME, KWO_NAME_LEN, KWO_IOC_SET_NAME);
        num!(
            KWO_API_VERSION,
            KWO_MAX_VALS,
            KWO_MAX_NAME,
            KWO_FEAT_FPU,
            KWO_FEAT_PRINTK,
            KWO_FEAT_STDIO,
            KWO_FEAT_FILES,
            KWO_FEAT_BACKTRACE
        );
        num!(KWO_LOAD_STDIO, KWO_INVOKE_STDIO, KWO_LOAD_FILES, KWO_MAX_FILES);
        num!(
            KWO_LOAD_PRINTK,
            KWO_STATUS_OK,
            KWO_STATUS_TRAP,
            KWO_STATUS_EXIT
        );
        num!(KWO_OUT_STDOUT_TRUNC, KWO_OUT_STDERR_TRUNC, KWO_OUT_FRAMES_TRUNC, KWO_MAX_FRAMES);
        num!(KWO_INFO_SIGNED, KWO_SIGNER_LEN);
        num!(KWO_IOC_VERSION, KWO_IOC_LOAD, KWO_IOC_INVOKE, KWO_IOC_INFO);
        v
    }

    /// A C program printing the same names with the C header's values.
    fn c_program(layout: &[(String, u64)]) -> String {
        let mut src = String::from(
            "#include <stdio.h>\n#include <stddef.h>\n#include <linux/kwo.h>\nint main(void)\n{\n",
        );
        for (name, _) in layout {
            let expr = if let Some(t) = name.strip_prefix("sizeof ") {
                format!("sizeof(struct {t})")
            } else if let Some((t, f)) = name.split_once('.') {
                format!("offsetof(struct {t}, {f})")
            } else {
                name.clone()
            };
            src +=
                &format!("\tprintf(\"%s %llu\\n\", \"{name}\", (unsigned long long)({expr}));\n");
        }
        src + "\treturn 0;\n}\n"
    }

    #[test]
    fn layout_matches_c_header() {
        let rust = rust_layout();
        let dir = std::env::temp_dir().join(format!("kwo-uapi-layout-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("layout.c");
        let exe = dir.join("layout");
        std::fs::write(&src, c_program(&rust)).unwrap();
        let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kmod/include/uapi");
        let status = Command::new("cc")
            .arg("-Wall")
            .arg("-Werror")
            .arg("-I")
            .arg(&include)
            .arg("-o")
            .arg(&exe)
            .arg(&src)
            .status()
            .expect("running cc");
        assert!(status.success(), "compiling the layout probe failed");
        let out = Command::new(&exe)
            .output()
            .expect("running the layout probe");
        let text = String::from_utf8(out.stdout).unwrap();
        let c: Vec<(String, u64)> = text
            .lines()
            .map(|l| {
                let (n, v) = l.rsplit_once(' ').unwrap();
                (n.to_string(), v.parse().unwrap())
            })
            .collect();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(c.len(), rust.len());
        for ((rn, rv), (cn, cv)) in rust.iter().zip(&c) {
            assert_eq!(rn, cn);
            assert_eq!(rv, cv, "{rn}: Rust {rv}, C {cv}");
        }
    }
}
