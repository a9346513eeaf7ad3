//! `kwo sign` and `kwo compile --sign` with keys `openssl req` makes at test
//! time: the signature is a standard detached PKCS#7 that `openssl cms
//! -verify` accepts over the object and its signed record (and refuses
//! once a byte of either changes, or against another certificate); the
//! signed file still checks, inspects and runs in userspace; a signed
//! object is not signed twice; a bad key or a corrupt trailer is a clean
//! error. kwo.ko's verification is tested in the VM suite (guest/sign.sh).

use std::path::{Path, PathBuf};
use std::process::Command;

use kwo_format::signature;

mod common;
use common::{kwo_output as kwo, path_str, run_tool, stderr, stdout};

fn scratch(name: &str) -> PathBuf {
    common::scratch("sign", name)
}

fn ok(args: &[&str]) -> String {
    let out = kwo(args);
    assert!(out.status.success(), "kwo {args:?}: {}", stderr(&out));
    stdout(&out)
}

/// A fresh RSA key and self-signed certificate named `cn`: (key, cert).
fn keypair(tag: &str, cn: &str) -> (PathBuf, PathBuf) {
    let (key, cert) = (scratch(&format!("{tag}.key.pem")), scratch(&format!("{tag}.cert.pem")));
    run_tool(Command::new("openssl").args([
        "req", "-new", "-x509", "-nodes", "-newkey", "rsa:2048", "-days", "1",
        "-subj", &format!("/CN={cn}"), "-keyout", path_str(&key), "-out", path_str(&cert),
    ]));
    (key, cert)
}

/// `openssl cms -verify` of `pkcs7` over `content` against `cert`.
fn openssl_verifies(tag: &str, content: &[u8], pkcs7: &[u8], cert: &Path) -> bool {
    let (c, s) = (scratch(&format!("{tag}.content")), scratch(&format!("{tag}.p7")));
    std::fs::write(&c, content).unwrap();
    std::fs::write(&s, pkcs7).unwrap();
    Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-noverify", "-nointern"])
        .args(["-in", path_str(&s), "-content", path_str(&c)])
        .args(["-certfile", path_str(cert), "-out", "/dev/null"])
        .output()
        .expect("running openssl")
        .status
        .success()
}

const MODULE: &str = r#"(module (func (export "seven") (result i32) i32.const 7))"#;

fn module() -> PathBuf {
    let path = scratch("seven.wasm");
    std::fs::write(&path, wat::parse_str(MODULE).unwrap()).unwrap();
    path
}

#[test]
fn signatures_are_standard_pkcs7_over_object_and_record() {
    let (key, cert) = keypair("a", "kwo sign test");
    let (_, other_cert) = keypair("b", "someone else");
    let wasm = module();
    let signed = scratch("seven-signed.kwo");
    ok(&[
        "compile", path_str(&wasm), "-o", path_str(&signed), "--sign",
        "--key", path_str(&key), "--cert", path_str(&cert),
        "--limit", "max-memory-pages=16",
    ]);
    let bytes = std::fs::read(&signed).unwrap();
    let s = signature::split(&bytes).unwrap().expect("a signature trailer");
    assert_eq!(s.info.signer, "kwo sign test");
    assert_eq!(s.info.flags, signature::SIG_F_CHECKED | signature::SIG_F_COMPILED);
    assert_eq!(s.info.policy, "limits=custom max-memory-pages=16");
    assert_eq!(s.info.kwo_version, signature::version_code(env!("CARGO_PKG_VERSION")));
    assert!(openssl_verifies("good", s.signed, s.pkcs7, &cert));
    assert!(!openssl_verifies("other", s.signed, s.pkcs7, &other_cert));
    // A byte of the object (its CRC) and of the record (the policy).
    for at in [20, s.signed.len() - 1] {
        let mut tampered = s.signed.to_vec();
        tampered[at] ^= 1;
        assert!(!openssl_verifies("tampered", &tampered, s.pkcs7, &cert), "byte {at}");
    }

    // Unsigned compile, then `kwo sign`: the same object, signed after the
    // checker passed; the record says the policy is unknown.
    let plain = scratch("seven.kwo");
    ok(&["compile", path_str(&wasm), "-o", path_str(&plain)]);
    let object = std::fs::read(&plain).unwrap();
    assert_eq!(object, s.object);
    let resigned = scratch("seven-resigned.kwo");
    ok(&[
        "sign", "--key", path_str(&key), "--cert", path_str(&cert),
        path_str(&plain), "-o", path_str(&resigned),
    ]);
    let bytes = std::fs::read(&resigned).unwrap();
    let r = signature::split(&bytes).unwrap().unwrap();
    assert_eq!((r.object, r.info.flags, r.info.policy.as_str()), (&object[..], signature::SIG_F_CHECKED, "unknown"));
    assert!(openssl_verifies("resigned", r.signed, r.pkcs7, &cert));

    // The signed file is still an object for every other command.
    assert!(ok(&["inspect", path_str(&signed)]).contains("signature: PKCS#7"));
    assert!(ok(&["inspect", path_str(&signed)]).contains("by \"kwo sign test\""));
    ok(&["check", path_str(&signed)]);
    assert_eq!(ok(&["run", "--invoke", "seven", path_str(&signed)]), "7\n");

    // Not twice; no bad keys; a corrupt trailer is an error, not a crash.
    let out = kwo(&[
        "sign", "--key", path_str(&key), "--cert", path_str(&cert), path_str(&signed),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already signed"));
    let out = kwo(&[
        "sign", "--key", path_str(&cert), "--cert", path_str(&cert),
        path_str(&plain), "-o", path_str(&resigned),
    ]);
    assert!(stderr(&out).contains("not an unencrypted RSA private key"));
    let mut corrupt = std::fs::read(&signed).unwrap();
    let n = corrupt.len();
    corrupt[n - 12..n - 8].copy_from_slice(&u32::MAX.to_le_bytes());
    let bad = scratch("corrupt.kwo");
    std::fs::write(&bad, corrupt).unwrap();
    let out = kwo(&["run", "--invoke", "seven", path_str(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("signature trailer"));
}
