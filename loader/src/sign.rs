//! `kwo sign`: a detached PKCS#7 signature over a `.kwo` object and the
//! signed information record, as the kernel's `scripts/sign-file` makes
//! them for modules: SHA-256, RSA PKCS#1 v1.5, no signed attributes, no
//! certificates, the signer identified by issuer and serial number. That is
//! the form kwo.ko's `verify_pkcs7_signature()` checks (docs/security.md,
//! "Signed objects").
//!
//! The key is an RSA private key in PEM (PKCS#8 or PKCS#1, unencrypted, as
//! `openssl req -new -x509 -nodes` writes it) and the certificate an X.509
//! PEM. Only the few DER structures needed are read and written here; this
//! module does not verify signatures (the kernel does, and the tests
//! cross-check with `openssl cms -verify`).

use kwo_format::signature::{self, SigInfo};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};

const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];

/// A signing key with the certificate that names it.
pub struct Signer {
    key: RsaPrivateKey,
    /// DER of the certificate's issuer `Name`.
    issuer: Vec<u8>,
    /// DER of the certificate's serial `INTEGER`.
    serial: Vec<u8>,
    /// The subject's common name (or the whole subject's hex if it has none).
    pub name: String,
}

impl Signer {
    /// Read the PEM key and certificate.
    pub fn from_pem(key_pem: &str, cert_pem: &str) -> Result<Signer, String> {
        let key = RsaPrivateKey::from_pkcs8_pem(key_pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(key_pem))
            .map_err(|e| format!("key: not an unencrypted RSA private key in PEM ({e})"))?;
        let der = pem_block(cert_pem, "CERTIFICATE")?;
        let cert = parse_cert(&der).ok_or("certificate: not an X.509 certificate in DER")?;
        Ok(Signer { key, issuer: cert.issuer, serial: cert.serial, name: cert.common_name })
    }

    /// The signed file for an (unsigned) object: the object, `info`, the
    /// PKCS#7 signature over both, the trailer.
    pub fn sign(&self, object: &[u8], info: &SigInfo) -> Result<Vec<u8>, String> {
        let content = signature::signed_content(object, info);
        let digest = Sha256::digest(&content);
        let sig = self
            .key
            .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
            .map_err(|e| format!("signing failed: {e}"))?;
        let pkcs7 = self.pkcs7(&sig);
        Ok(signature::append(&content, info.to_bytes().len(), &pkcs7))
    }

    /// ContentInfo { signedData, [0] SignedData } with one SignerInfo.
    fn pkcs7(&self, sig: &[u8]) -> Vec<u8> {
        let sha256 = tlv(0x30, &tlv(0x06, OID_SHA256));
        let rsa = tlv(0x30, &[tlv(0x06, OID_RSA), vec![0x05, 0x00]].concat());
        let signer_info = tlv(
            0x30,
            &[
                tlv(0x02, &[1]),
                tlv(0x30, &[self.issuer.clone(), self.serial.clone()].concat()),
                sha256.clone(),
                rsa,
                tlv(0x04, sig),
            ]
            .concat(),
        );
        let signed_data = tlv(
            0x30,
            &[
                tlv(0x02, &[1]),
                tlv(0x31, &sha256),
                tlv(0x30, &tlv(0x06, OID_DATA)),
                tlv(0x31, &signer_info),
            ]
            .concat(),
        );
        tlv(0x30, &[tlv(0x06, OID_SIGNED_DATA), tlv(0xa0, &signed_data)].concat())
    }
}

/// DER tag, definite length, contents.
fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(body);
    out
}

/// One DER element at the start of `b`: (tag, contents, whole element).
fn element(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (rest[..n].iter().fold(0usize, |acc, &x| acc << 8 | x as usize), &rest[n..])
    };
    let header = b.len() - rest.len();
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &b[..header + len]))
}

/// The elements inside a constructed element's contents.
fn children(mut b: &[u8]) -> Option<Vec<(u8, &[u8], &[u8])>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let e = element(b)?;
        b = &b[e.2.len()..];
        out.push(e);
    }
    Some(out)
}

struct CertIds {
    issuer: Vec<u8>,
    serial: Vec<u8>,
    common_name: String,
}

/// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version
/// OPTIONAL, serial, signature, issuer, validity, subject, ... }, ... }
fn parse_cert(der: &[u8]) -> Option<CertIds> {
    let (_, cert, _) = element(der)?;
    let (_, tbs, _) = element(cert)?;
    let fields = children(tbs)?;
    let skip = usize::from(fields.first()?.0 == 0xa0);
    let serial = fields.get(skip)?;
    let issuer = fields.get(skip + 2)?;
    let subject = fields.get(skip + 4)?;
    if serial.0 != 0x02 || issuer.0 != 0x30 || subject.0 != 0x30 {
        return None;
    }
    Some(CertIds {
        issuer: issuer.2.to_vec(),
        serial: serial.2.to_vec(),
        common_name: common_name(subject.1).unwrap_or_else(|| {
            subject.1.iter().map(|b| format!("{b:02x}")).collect()
        }),
    })
}

/// Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value string }
fn common_name(name: &[u8]) -> Option<String> {
    for (_, rdn, _) in children(name)? {
        for (_, atv, _) in children(rdn)? {
            let parts = children(atv)?;
            if parts.len() == 2 && parts[0].1 == OID_COMMON_NAME {
                return String::from_utf8(parts[1].1.to_vec()).ok();
            }
        }
    }
    None
}

/// The DER inside the first `-----BEGIN LABEL-----` block.
fn pem_block(pem: &str, label: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = pem
        .split_once(&begin)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(body, _)| body)
        .ok_or_else(|| format!("certificate: no `{begin}` block"))?;
    base64_decode(body).ok_or_else(|| "certificate: bad base64".into())
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
