//! Raw bindings to the portable C core (`kmod/core/kwo_core.h`), built by
//! `build.rs`. Only [`crate::runtime`] uses them; layouts mirror the header
//! field for field.

use std::os::raw::{c_char, c_int, c_void};

#[repr(C)]
pub struct KwoObject {
    _private: [u8; 0],
}

#[repr(C)]
pub struct KwoInstance {
    _private: [u8; 0],
}

/// `struct kwo_config`
#[repr(C)]
pub struct KwoConfig {
    pub max_memory_pages: u32,
    pub max_table_elems: u32,
    pub stack_budget: u64,
    pub host_reserve: u64,
    pub argv: *const *const c_char,
    pub argc: u32,
    pub envc: u32,
    pub envp: *const *const c_char,
    pub files: *const *mut c_void,
    pub nfiles: u32,
    pub pad: u32,
    pub preopens: *const *const c_char,
}

/// `KWO_BACKTRACE_MAX`: most frames a trap's backtrace reports.
pub const KWO_BACKTRACE_MAX: usize = 32;

/// `struct kwo_bt_frame`
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KwoBtFrame {
    pub func: u32,
    pub wasm_off: u32,
}

/// `struct kwo_call`
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct KwoCall {
    pub fuel: u64,
    pub timeout_ns: u64,
    pub frames: *mut KwoBtFrame,
    pub frames_cap: u32,
    pub nframes: u32,
    pub truncated: u32,
    pub pad: u32,
    pub status: u32,
    pub trap_code: u32,
    pub func: u32,
    pub wasm_off: u32,
    pub exit_code: i32,
    pub write_errno: u32,
    pub fuel_left: u64,
}

impl Default for KwoCall {
    fn default() -> Self {
        KwoCall {
            fuel: 0,
            timeout_ns: 0,
            frames: std::ptr::null_mut(),
            frames_cap: 0,
            nframes: 0,
            truncated: 0,
            pad: 0,
            status: 0,
            trap_code: 0,
            func: 0,
            wasm_off: 0,
            exit_code: 0,
            write_errno: 0,
            fuel_left: 0,
        }
    }
}

/// `struct kwo_export_info`
#[repr(C)]
pub struct KwoExportInfo {
    pub kind: u32,
    pub index: u32,
    pub name: *const c_char,
    pub name_len: u32,
    pub param_count: u32,
    pub result_count: u32,
    pub params: *const u8,
    pub results: *const u8,
}

/// `struct kwo_symbol`
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct KwoSymbol {
    pub kind: u32,
    pub func: u32,
    pub code_off: u32,
    pub code_len: u32,
}

pub const KWO_SYM_FUNC: u32 = 0;
pub const KWO_SYM_TRAMP: u32 = 1;
pub const KWO_STATUS_TRAP: u32 = 1;
pub const KWO_STATUS_EXIT: u32 = 2;
pub const KWO_TRAPPED: c_int = 1;
pub const KWO_FUEL_UNLIMITED: u64 = u64::MAX;
pub const KWO_NONE: u32 = u32::MAX;
pub const KWO_EXPORT_FUNC: u32 = 0;
pub const KWO_EXPORT_GLOBAL: u32 = 3;

extern "C" {
    pub fn kwo_object_load(
        bytes: *const u8,
        len: usize,
        out: *mut *mut KwoObject,
        log: *mut c_char,
        log_len: usize,
    ) -> c_int;
    pub fn kwo_object_free(obj: *mut KwoObject);
    pub fn kwo_config_init(cfg: *mut KwoConfig);
    pub fn kwo_call_init(call: *mut KwoCall);
    pub fn kwo_instance_new(
        obj: *const KwoObject,
        cfg: *const KwoConfig,
        call: *mut KwoCall,
        out: *mut *mut KwoInstance,
        log: *mut c_char,
        log_len: usize,
    ) -> c_int;
    pub fn kwo_instance_free(inst: *mut KwoInstance);
    pub fn kwo_set_stack_budget(inst: *mut KwoInstance, bytes: u64);
    pub fn kwo_export_find(
        obj: *const KwoObject,
        name: *const c_char,
        name_len: usize,
        info: *mut KwoExportInfo,
    ) -> c_int;
    pub fn kwo_func_name(obj: *const KwoObject, func: u32, len: *mut u32) -> *const c_char;
    pub fn kwo_invoke(
        inst: *mut KwoInstance,
        export_pos: u32,
        vals: *mut u64,
        nvals: u32,
        call: *mut KwoCall,
    ) -> c_int;
    pub fn kwo_global_get(
        inst: *const KwoInstance,
        global: u32,
        value: *mut u64,
        ty: *mut u8,
    ) -> c_int;
    pub fn kwo_symbol_count(obj: *const KwoObject) -> u32;
    pub fn kwo_symbol_get(obj: *const KwoObject, i: u32, sym: *mut KwoSymbol) -> c_int;
    pub fn kwo_instance_code(inst: *const KwoInstance, size: *mut usize) -> *const c_void;
    pub fn kwo_memory_get(inst: *const KwoInstance, base: *mut *mut u8, size: *mut u64);
    /// `csrc/platform_user.h`: a file handle owning host descriptor `fd`.
    pub fn kwo_user_file_open(fd: c_int) -> *mut c_void;
    /// Releases a handle that was not given to an instance.
    pub fn kwo_plat_file_close(file: *mut c_void);
}

#[cfg(test)]
mod tests {
    use std::os::raw::c_void;

    extern "C" {
        /// `kwo_platform.h`: the object checksum, from `csrc/platform_user.c`.
        fn kwo_plat_crc32(crc: u32, p: *const c_void, len: usize) -> u32;
    }

    fn platform_crc(crc: u32, bytes: &[u8]) -> u32 {
        // SAFETY: reads bytes.len() bytes of a live slice.
        unsafe { kwo_plat_crc32(crc, bytes.as_ptr().cast(), bytes.len()) }
    }

    /// The platform's CRC (folded with carry-less multiplication or the
    /// CRC instructions where the CPU has them, tables otherwise) equals
    /// the format crate's byte-at-a-time CRC for every length around the
    /// 16- and 64-byte steps of the fast path, at every alignment, from
    /// any starting value, and when continued piece by piece.
    #[test]
    fn platform_crc32_matches_the_format_crate() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let data: Vec<u8> = (0..4096 + 64)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        assert_eq!(platform_crc(0, b"123456789"), 0xcbf4_3926);
        for align in 0..16 {
            for len in (0..300).chain([1000, 1023, 4096]) {
                let bytes = &data[align..align + len];
                assert_eq!(platform_crc(0, bytes), kwo_format::crc32(bytes), "len {len} at +{align}");
            }
        }
        let whole = kwo_format::crc32(&data);
        for cut in [1, 20, 63, 64, 65, 100, 2000] {
            let first = platform_crc(0, &data[..cut]);
            assert_eq!(platform_crc(first, &data[cut..]), whole, "split at {cut}");
        }
    }
}
