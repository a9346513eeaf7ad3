//! The signature trailer of a signed `.kwo` object (docs/kwo-format.md,
//! "Signature trailer"): splitting a file into the object, the signed
//! information record and the detached PKCS#7 signature, and writing the
//! trailer around a signature made elsewhere.
//!
//! This module does no cryptography: it neither makes nor checks a
//! signature (the `kwo` CLI signs, kwo.ko verifies with the kernel's
//! `verify_pkcs7_signature`). It only validates lengths and the magic, the
//! same rules as `kmod/linux/sign.c`.

use crate::FormatError;

/// Last 8 bytes of a signed object.
pub const SIG_MAGIC: [u8; 8] = *b"KWOSIG1\n";
/// `struct kwo_sig_trailer`: info_len, sig_len, magic.
pub const SIG_TRAILER_LEN: usize = 16;
/// `struct kwo_sig_info` without its strings.
pub const SIG_INFO_FIXED_LEN: usize = 16;
/// Largest signed information record (fixed part and strings).
pub const SIG_INFO_MAX: usize = 4096;
/// Largest PKCS#7 signature.
pub const SIG_MAX: usize = 65536;
/// `kwo_sig_info.flags`: `kwo check` (the machine-code checker) passed on
/// the object's code before it was signed.
pub const SIG_F_CHECKED: u32 = 1 << 0;
/// `kwo_sig_info.flags`: the object was compiled from a module the
/// verifier accepted, in the same run that signed it (`kwo compile --sign`).
pub const SIG_F_COMPILED: u32 = 1 << 1;

/// What the signer states about the object, covered by the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigInfo {
    /// The kwo that signed: `major << 16 | minor << 8 | patch`.
    pub kwo_version: u32,
    /// `SIG_F_*`.
    pub flags: u32,
    /// The signer's name (the certificate's subject common name).
    pub signer: String,
    /// The verifier policy and limits, `name=value` separated by spaces,
    /// or `unknown` when the signer did not compile the object.
    pub policy: String,
}

/// A file split at the signature trailer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed<'a> {
    /// The object itself (what `Object::parse` reads).
    pub object: &'a [u8],
    /// The bytes the signature covers: the object and the info record.
    pub signed: &'a [u8],
    pub info: SigInfo,
    /// The DER PKCS#7 `ContentInfo` (detached, SHA-256).
    pub pkcs7: &'a [u8],
}

fn err(offset: usize, message: String) -> FormatError {
    FormatError { offset, message }
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// Encode a kwo version string `MAJOR.MINOR.PATCH` as `kwo_version`.
pub fn version_code(version: &str) -> u32 {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0).min(255));
    let (a, b, c) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    a << 16 | b << 8 | c
}

impl SigInfo {
    /// The record's bytes: the fixed part, then signer and policy.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(SIG_INFO_FIXED_LEN + self.signer.len() + self.policy.len());
        for v in [self.kwo_version, self.flags, self.signer.len() as u32, self.policy.len() as u32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(self.signer.as_bytes());
        b.extend_from_slice(self.policy.as_bytes());
        b
    }

    fn parse(b: &[u8], at: usize) -> Result<SigInfo, FormatError> {
        if b.len() < SIG_INFO_FIXED_LEN {
            return Err(err(at, format!("signature info of {} bytes is too short", b.len())));
        }
        let signer_len = u32_at(b, 8) as usize;
        let policy_len = u32_at(b, 12) as usize;
        if SIG_INFO_FIXED_LEN + signer_len + policy_len != b.len() {
            return Err(err(at, "signature info: signer and policy lengths do not add up".into()));
        }
        let text = |from: usize, len: usize| {
            String::from_utf8(b[from..from + len].to_vec())
                .map_err(|_| err(at + from, "signature info: text is not UTF-8".into()))
        };
        Ok(SigInfo {
            kwo_version: u32_at(b, 0),
            flags: u32_at(b, 4),
            signer: text(SIG_INFO_FIXED_LEN, signer_len)?,
            policy: text(SIG_INFO_FIXED_LEN + signer_len, policy_len)?,
        })
    }
}

/// Split `bytes` at its signature trailer: `Ok(None)` if it has none (an
/// unsigned object), an error if the trailer is malformed.
pub fn split(bytes: &[u8]) -> Result<Option<Signed<'_>>, FormatError> {
    let len = bytes.len();
    if len < SIG_TRAILER_LEN || bytes[len - 8..] != SIG_MAGIC {
        return Ok(None);
    }
    let trailer = len - SIG_TRAILER_LEN;
    let info_len = u32_at(bytes, trailer) as usize;
    let sig_len = u32_at(bytes, trailer + 4) as usize;
    if !(SIG_INFO_FIXED_LEN..=SIG_INFO_MAX).contains(&info_len) || sig_len == 0 || sig_len > SIG_MAX {
        return Err(err(trailer, format!("signature trailer: info_len {info_len}, sig_len {sig_len} out of range")));
    }
    let Some(object_len) = trailer.checked_sub(info_len + sig_len) else {
        return Err(err(trailer, "signature trailer: lengths exceed the file".into()));
    };
    let signed_len = object_len + info_len;
    Ok(Some(Signed {
        object: &bytes[..object_len],
        signed: &bytes[..signed_len],
        info: SigInfo::parse(&bytes[object_len..signed_len], object_len)?,
        pkcs7: &bytes[signed_len..trailer],
    }))
}

/// The object without its trailer, if it has one.
pub fn strip(bytes: &[u8]) -> Result<&[u8], FormatError> {
    Ok(split(bytes)?.map_or(bytes, |s| s.object))
}

/// `object ‖ info` (what a signature must cover) for an unsigned object.
pub fn signed_content(object: &[u8], info: &SigInfo) -> Vec<u8> {
    let mut b = object.to_vec();
    b.extend_from_slice(&info.to_bytes());
    b
}

/// The signed file: `signed_content ‖ pkcs7 ‖ trailer`.
pub fn append(signed_content: &[u8], info_len: usize, pkcs7: &[u8]) -> Vec<u8> {
    let mut b = signed_content.to_vec();
    b.extend_from_slice(pkcs7);
    b.extend_from_slice(&(info_len as u32).to_le_bytes());
    b.extend_from_slice(&(pkcs7.len() as u32).to_le_bytes());
    b.extend_from_slice(&SIG_MAGIC);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> SigInfo {
        SigInfo { kwo_version: version_code("1.2.3"), flags: SIG_F_CHECKED, signer: "me".into(), policy: "limits=default".into() }
    }

    #[test]
    fn append_then_split_gives_the_parts_back() {
        let object = b"not really an object".to_vec();
        let content = signed_content(&object, &info());
        let file = append(&content, info().to_bytes().len(), b"pkcs7");
        let s = split(&file).unwrap().unwrap();
        assert_eq!((s.object, s.signed, s.pkcs7), (&object[..], &content[..], &b"pkcs7"[..]));
        assert_eq!(s.info, info());
        assert_eq!(s.info.kwo_version, 0x010203);
        assert_eq!(strip(&file).unwrap(), &object[..]);
        assert_eq!(strip(&object).unwrap(), &object[..]);
        assert_eq!(split(&object).unwrap(), None);
    }

    #[test]
    fn malformed_trailers_are_errors() {
        let content = signed_content(b"object", &info());
        let good = append(&content, info().to_bytes().len(), b"pkcs7");
        let n = good.len();
        let with = |at: usize, v: u32| {
            let mut b = good.clone();
            b[at..at + 4].copy_from_slice(&v.to_le_bytes());
            split(&b).map(|_| ()).unwrap_err().message
        };
        assert!(with(n - 16, 15).contains("out of range"));
        assert!(with(n - 16, SIG_INFO_MAX as u32 + 1).contains("out of range"));
        assert!(with(n - 12, 0).contains("out of range"));
        assert!(with(n - 12, SIG_MAX as u32).contains("exceed the file"));
        assert!(with(n - 12, 6).contains("do not add up"));
        // The signer's length past the record.
        assert!(with(6 + 8, 100).contains("do not add up"));
        assert!(split(&good[n - 16..]).is_err());
    }
}
