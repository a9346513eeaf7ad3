//! Builds the portable C core (`kmod/core`) and the userspace platform
//! (`csrc/platform_user.c`) into a static library linked into this crate.

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("..");
    let core = root.join("kmod/core");
    let arch = match std::env::var("CARGO_CFG_TARGET_ARCH").unwrap().as_str() {
        "x86_64" => "x86_64",
        "aarch64" => "aarch64",
        other => panic!("kwo: unsupported target architecture {other}"),
    };
    let sources = [
        core.join("util.c"),
        core.join("object.c"),
        core.join("instance.c"),
        core.join("invoke.c"),
        core.join("builtins.c"),
        core.join("backtrace.c"),
        core.join("wasi.c"),
        core.join("wasi_fd.c"),
        core.join("wasi_files.c"),
        core.join("symbols.c"),
        core.join("arch").join(arch).join("entry.S"),
        root.join("loader/csrc/platform_user.c"),
    ];
    let mut build = cc::Build::new();
    build
        .include(&core)
        .files(&sources)
        .flag("-std=gnu11")
        .flag("-Wall")
        .flag("-Wextra")
        .flag("-Werror")
        .flag("-Wvla")
        .flag("-fno-omit-frame-pointer")
        .flag("-fno-strict-aliasing");
    build.compile("kwo_core");
    println!("cargo:rustc-link-lib=pthread");
    println!("cargo:rerun-if-changed=../kmod/core");
    println!("cargo:rerun-if-changed=csrc");
    for s in &sources {
        println!("cargo:rerun-if-changed={}", s.display());
    }
}
