//! CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, initial value and
//! final xor 0xFFFFFFFF), the checksum of a `.kwo` object: the common
//! byte-at-a-time table algorithm, with the table built at compile time.

/// CRC-32 of `bytes`; `crc32(b"123456789") == 0xcbf43926`.
pub fn crc32(bytes: &[u8]) -> u32 {
    !update(0xffff_ffff, bytes)
}

/// CRC-32 of an object with its checksum field (header bytes 20..24) read
/// as zero, without copying the object.
pub(crate) fn object_crc(bytes: &[u8]) -> u32 {
    let field = crate::layout::HDR_CHECKSUM.min(bytes.len());
    let (head, rest) = bytes.split_at(field);
    let zeros = &[0u8; 4][..rest.len().min(4)];
    let tail = rest.get(4..).unwrap_or(&[]);
    !update(update(update(0xffff_ffff, head), zeros), tail)
}

fn update(mut crc: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        crc = TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// `TABLE[n]` is the CRC register after shifting the byte `n` through it.
const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut crc = n as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[n] = crc;
        n += 1;
    }
    table
};
