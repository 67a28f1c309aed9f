//! Profiling programs whose `#[global_allocator]` never calls malloc (jemalloc, mimalloc).
//!
//! Their allocations go to the allocator library's own entry points, which `LD_PRELOAD` cannot
//! see. We control the build, so the executables are linked with small wrappers around those
//! entry points (`-Wl,--wrap=<symbol>`, plus `-Wl,-u,<symbol>` so that GNU ld pulls the symbol
//! from the allocator's archive in its single pass). The wrappers (`wrap/alloc_wrap.c`, compiled
//! with the C compiler that links Rust programs anyway) report to the same runtime as the malloc
//! hooks. Only executables get the flags, never build scripts or proc macros.
//!
//! Measured here (rustc 1.95, tikv-jemallocator, mimalloc, GNU ld): counts equal a counting
//! `GlobalAlloc` wrapped around the allocator in dev, release and LTO builds. Wrapping Rust's own
//! `__rust_alloc` shims does not work: they are mangled and inlined into the user's crate at -O.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use crate::process::ProcessBuilder;

static SOURCE: &str = include_str!("../wrap/alloc_wrap.c");

/// An allocator library we know how to wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Allocator {
    /// tikv-jemallocator (or jemallocator) with prefixed symbols (`_rjem_*`).
    Jemalloc,
    /// jemalloc built with `unprefixed_malloc_on_supported_platforms`: it defines `malloc`
    /// itself, so the executable's own malloc calls must be wrapped.
    JemallocUnprefixed,
    /// The mimalloc crate.
    Mimalloc,
}

impl Allocator {
    pub const ALL: [Allocator; 3] = [
        Allocator::Jemalloc,
        Allocator::JemallocUnprefixed,
        Allocator::Mimalloc,
    ];

    fn define(self) -> &'static str {
        match self {
            Allocator::Jemalloc => "WRAP_JEMALLOC",
            Allocator::JemallocUnprefixed => "WRAP_JEMALLOC_UNPREFIXED",
            Allocator::Mimalloc => "WRAP_MIMALLOC",
        }
    }

    /// The entry points the crate's `GlobalAlloc` implementation calls (and their siblings).
    pub fn symbols(self) -> &'static [&'static str] {
        match self {
            Allocator::Jemalloc => &[
                "_rjem_malloc",
                "_rjem_mallocx",
                "_rjem_calloc",
                "_rjem_realloc",
                "_rjem_rallocx",
                "_rjem_free",
                "_rjem_sdallocx",
                "_rjem_dallocx",
            ],
            Allocator::JemallocUnprefixed => &[
                "malloc", "mallocx", "calloc", "realloc", "rallocx", "free", "sdallocx", "dallocx",
            ],
            Allocator::Mimalloc => &[
                "mi_malloc_aligned",
                "mi_zalloc_aligned",
                "mi_realloc_aligned",
                "mi_free",
            ],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Allocator::Jemalloc => "jemalloc (tikv-jemallocator)",
            Allocator::JemallocUnprefixed => "jemalloc (tikv-jemallocator, unprefixed malloc)",
            Allocator::Mimalloc => "mimalloc",
        }
    }
}

/// The allocators in a resolved dependency graph: `packages` are `(name, enabled features)`.
pub fn detect<'a>(packages: impl IntoIterator<Item = (&'a str, &'a [String])>) -> Vec<Allocator> {
    let mut jemalloc = false;
    let mut unprefixed = false;
    let mut mimalloc = false;
    for (name, features) in packages {
        match name {
            "tikv-jemallocator" | "jemallocator" => jemalloc = true,
            "tikv-jemalloc-sys" | "jemalloc-sys" => {
                unprefixed |= features
                    .iter()
                    .any(|f| f == "unprefixed_malloc_on_supported_platforms");
            }
            "mimalloc" => mimalloc = true,
            _ => {}
        }
    }
    let mut out = Vec::new();
    if jemalloc {
        out.push(if unprefixed {
            Allocator::JemallocUnprefixed
        } else {
            Allocator::Jemalloc
        });
    }
    if mimalloc {
        out.push(Allocator::Mimalloc);
    }
    out
}

/// Compiles the wrapper object for `allocator` into `dir` (once per content) and returns the
/// rustc flags that link it into an executable.
pub fn link_flags(allocator: Allocator, dir: &Path) -> Result<Vec<String>> {
    let object = compile(allocator, dir)?;
    let mut flags = vec![format!("-Clink-arg={}", object.display())];
    for symbol in allocator.symbols() {
        flags.push(format!("-Clink-arg=-Wl,--wrap={symbol}"));
        flags.push(format!("-Clink-arg=-Wl,-u,{symbol}"));
    }
    Ok(flags)
}

fn compile(allocator: Allocator, dir: &Path) -> Result<PathBuf> {
    let hash = SOURCE
        .bytes()
        .chain(allocator.define().bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let object = dir.join(format!("alloc-wrap-{}-{hash:016x}.o", allocator.define()));
    if object.is_file() {
        return Ok(object);
    }
    fs_err::create_dir_all(dir)?;
    let source = dir.join(format!("alloc-wrap-{hash:016x}.c"));
    fs_err::write(&source, SOURCE)?;
    let tmp = object.with_extension(format!("{}.tmp", std::process::id()));
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let mut cmd = ProcessBuilder::new(cc);
    cmd.args(["-c", "-O2", "-fPIC", "-fno-omit-frame-pointer"])
        .arg(format!("-D{}", allocator.define()))
        .arg("-o")
        .arg(&tmp)
        .arg(&source);
    if let Err(e) = cmd.read() {
        bail!(
            "the program uses {} as its global allocator; profiling it needs a C compiler to \
             build link-time wrappers, and that failed ({e:#}); set CC to a working compiler",
            allocator.name()
        );
    }
    fs_err::rename(&tmp, &object).context("while storing the allocator wrapper")?;
    Ok(object)
}

/// Whether rustc `args` link an executable of the user's (not a build script or proc macro).
pub fn links_executable(args: &[std::ffi::OsString]) -> bool {
    let mut crate_type_bin = false;
    let mut test = false;
    let mut build_script = false;
    let mut it = args.iter().map(|a| a.to_string_lossy());
    while let Some(a) = it.next() {
        match a.as_ref() {
            "--crate-type" => crate_type_bin |= it.next().is_some_and(|t| t == "bin"),
            "--test" => test = true,
            "--crate-name" => {
                build_script |= it.next().is_some_and(|n| n.starts_with("build_script_"));
            }
            other => crate_type_bin |= other == "--crate-type=bin",
        }
    }
    (crate_type_bin || test) && !build_script
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn args(s: &str) -> Vec<OsString> {
        s.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn executables_only() {
        assert!(links_executable(&args(
            "--crate-name app --crate-type bin src/main.rs"
        )));
        assert!(links_executable(&args(
            "--crate-name app --test src/lib.rs"
        )));
        assert!(!links_executable(&args(
            "--crate-name app --crate-type lib src/lib.rs"
        )));
        assert!(!links_executable(&args(
            "--crate-name build_script_build --crate-type bin build.rs"
        )));
        assert!(!links_executable(&args(
            "--crate-name m --crate-type proc-macro src/lib.rs"
        )));
    }

    #[test]
    fn detection() {
        let none: Vec<String> = Vec::new();
        let unprefixed = ["unprefixed_malloc_on_supported_platforms".to_owned()];
        assert_eq!(
            detect([
                ("tikv-jemallocator", &none[..]),
                ("tikv-jemalloc-sys", &none[..])
            ]),
            [Allocator::Jemalloc]
        );
        assert_eq!(
            detect([
                ("tikv-jemallocator", &none[..]),
                ("tikv-jemalloc-sys", &unprefixed[..])
            ]),
            [Allocator::JemallocUnprefixed]
        );
        assert_eq!(detect([("mimalloc", &none[..])]), [Allocator::Mimalloc]);
        assert!(detect([("serde", &none[..])]).is_empty());
    }

    #[test]
    fn the_c_source_wraps_the_same_symbols() {
        for a in [
            Allocator::Jemalloc,
            Allocator::JemallocUnprefixed,
            Allocator::Mimalloc,
        ] {
            for s in a.symbols() {
                assert!(
                    SOURCE.contains(&format!("WRAP_ALLOC({s},"))
                        || SOURCE.contains(&format!("WRAP_REALLOC({s},"))
                        || SOURCE.contains(&format!("WRAP_FREE({s},")),
                    "{s}"
                );
            }
        }
    }
}
