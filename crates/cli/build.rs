//! Compiles the preload interposer (`crates/preload`, zero external dependencies) with plain
//! `$RUSTC` and hands its path to the binary, which embeds it with `include_bytes!`. `cargo install`
//! ships binaries only; embedding makes the installed tool self-contained.
//!
//! The shared raw-format crate is compiled first as an rlib (without its `std` feature) and passed
//! to the preload crate with `--extern`, so the writer and the reader share one definition.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = env::var("TARGET").expect("set by cargo");

    // In the repository the sources are siblings; a packaged crate carries a copy under `runtime/`.
    let (format_src, preload_src) = ["../format/src", "runtime/format/src"]
        .iter()
        .zip(["../preload/src", "runtime/preload/src"])
        .map(|(f, p)| (manifest_dir.join(f), manifest_dir.join(p)))
        .find(|(f, p)| f.join("lib.rs").is_file() && p.join("lib.rs").is_file())
        .expect("the preload and format crate sources next to the cli crate");
    println!("cargo:rerun-if-changed={}", format_src.display());
    println!("cargo:rerun-if-changed={}", preload_src.display());
    println!("cargo:rerun-if-changed=build.rs");

    let common = |cmd: &mut Command| {
        cmd.args(["--edition", "2021", "--target", &target])
            .args(["-C", "opt-level=3", "-C", "panic=abort"])
            .args(["-C", "force-frame-pointers=yes", "-C", "debuginfo=0"])
            .args(["--cap-lints", "warn"]);
    };
    let rlib = out_dir.join("liballoc_profile_format.rlib");
    let mut cmd = Command::new(&rustc);
    common(&mut cmd);
    cmd.args([
        "--crate-type",
        "rlib",
        "--crate-name",
        "alloc_profile_format",
    ])
    .arg(format_src.join("lib.rs"))
    .arg("-o")
    .arg(&rlib);
    run(cmd);

    let so = out_dir.join("liballoc_profile_preload.so");
    let mut cmd = Command::new(&rustc);
    common(&mut cmd);
    cmd.args([
        "--crate-type",
        "cdylib",
        "--crate-name",
        "alloc_profile_preload",
    ])
    .args(["-C", "strip=symbols", "-C", "codegen-units=1"])
    .arg(preload_src.join("lib.rs"))
    .arg("--extern")
    .arg(format!("alloc_profile_format={}", rlib.display()))
    .arg("-L")
    .arg(&out_dir)
    .arg("-o")
    .arg(&so);
    run(cmd);
    println!("cargo:rustc-env=ALLOC_PROFILE_PRELOAD_SO={}", so.display());
}

fn run(mut cmd: Command) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("could not run {cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed with {status}");
}
