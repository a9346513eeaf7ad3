//! Numbers shared with `kmod/core/kwo_format.h` and `kmod/core/kwo_abi.h`.

pub const KWO_MAGIC: u32 = 0x004f_574b;
pub const KWO_VERSION: u32 = 1;
pub const KWO_NONE: u32 = 0xffff_ffff;
pub const KWO_F_USES_FP: u32 = 1 << 0;
