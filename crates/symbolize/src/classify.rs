//! Which code a frame belongs to: the user's workspace, a dependency, Rust's standard library, or
//! foreign code.
//!
//! The source file decides when there is one, because it is the only thing that survives
//! inlining and monomorphization intact: `Vec::push` inlined into the user's function still has
//! its file in `library/alloc`, and the user's generic function instantiated inside a dependency
//! still has its file in the workspace. Function names are the fallback when there is no source.
//!
//! Rules, first match wins:
//! 1. Source under `/rustc/<hash>/`, `/rust/deps/`, `/cargo/registry/` (std's own vendored crates
//!    in older toolchains) or `.../lib/rustlib/src/rust/`: [`FrameKind::Std`].
//! 2. Source in a build script's output directory (`.../build/<package>-<hash>/out/...`): the
//!    package's crate, [`FrameKind::Workspace`] if it is a member, else [`FrameKind::Dependency`].
//! 3. Source under a package root from [`Options`]: that package; the longest root wins, so a
//!    member nested inside another member's directory, or a path dependency inside the workspace,
//!    is told apart.
//! 4. Source in cargo's registry (`.../registry/src/<index>/<name>-<version>/`) or a git checkout
//!    (`.../git/checkouts/<repo>/<rev>/`): [`FrameKind::Dependency`].
//! 5. Source under `.../library/<std crate>/src/` (a toolchain with unmapped paths): Std.
//! 6. Otherwise, by name: the allocator and panic shims (`__rust_*`, `__rdl_*`, `__rg_*`) are Std;
//!    a Rust function is Std, Workspace or Dependency by the crate its path starts with; the C
//!    `main` that rustc generates is Std; everything else, and everything in the C library, the
//!    dynamic loader and the C/C++ runtime, is [`FrameKind::Foreign`].

use std::collections::HashSet;
use std::path::Path;

use alloc_profile_format::symbolized::FrameKind;

use crate::names;
use crate::Options;

/// A frame's kind and crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Class {
    pub kind: FrameKind,
    pub crate_name: Option<String>,
}

impl Class {
    fn new(kind: FrameKind, crate_name: Option<&str>) -> Class {
        Class {
            kind,
            crate_name: crate_name.map(str::to_owned),
        }
    }
}

/// What the module a frame lives in says about it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ModuleTraits {
    /// The C library, dynamic loader, or C/C++ runtime: always foreign.
    pub system: bool,
    /// The module contains Rust code (it defines the Rust runtime's symbols).
    pub rust: bool,
}

struct Root {
    /// Lexically normalized absolute path, no trailing slash.
    dir: String,
    crate_name: String,
    kind: FrameKind,
}

pub(crate) struct Classifier {
    /// Longest first, so the first match is the most specific.
    roots: Vec<Root>,
    /// Crate names of the members, for frames classified by name.
    workspace_crates: HashSet<String>,
    /// Crate names of the dependencies, for frames classified by name.
    dependency_crates: HashSet<String>,
}

impl Classifier {
    pub(crate) fn new(options: &Options) -> Classifier {
        let cwd = std::env::current_dir().unwrap_or_default();
        let mut roots = Vec::new();
        let mut add = |dir: &Path, crate_name: &str, kind| {
            let crate_name = crate_name.replace('-', "_");
            let absolute = if dir.is_absolute() {
                dir.to_owned()
            } else {
                cwd.join(dir)
            };
            let mut dirs = vec![normalize(&absolute.to_string_lossy())];
            // Debug info records the paths cargo handed to rustc; if the caller resolved symlinks
            // differently, match both spellings.
            if let Ok(real) = fs_err::canonicalize(&absolute) {
                dirs.push(normalize(&real.to_string_lossy()));
            }
            dirs.dedup();
            for dir in dirs {
                roots.push(Root {
                    dir,
                    crate_name: crate_name.clone(),
                    kind,
                });
            }
        };
        for (dir, name) in &options.workspace {
            add(dir, name, FrameKind::Workspace);
        }
        for (dir, name) in &options.dependencies {
            add(dir, name, FrameKind::Dependency);
        }
        // Longest first; at equal length a workspace member beats a dependency entry.
        roots.sort_by(|a, b| b.dir.len().cmp(&a.dir.len()).then(a.kind.cmp(&b.kind)));
        Classifier {
            roots,
            workspace_crates: options
                .workspace
                .iter()
                .map(|(_, name)| name)
                .chain(&options.workspace_targets)
                .map(|name| name.replace('-', "_"))
                .collect(),
            dependency_crates: options
                .dependencies
                .iter()
                .map(|(_, name)| name.replace('-', "_"))
                .collect(),
        }
    }

    /// What a source path alone says (rules 1 to 5), `None` when it says nothing.
    pub(crate) fn classify_path(&self, path: &str) -> Option<Class> {
        let path = normalize(path);
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();

        // 1. The toolchain's own sources.
        if path.starts_with("/rustc/") {
            return Some(Class {
                kind: FrameKind::Std,
                crate_name: std_crate_in(&parts),
            });
        }
        if let Some(rest) = path
            .strip_prefix("/rust/deps/")
            .or_else(|| path.strip_prefix("/cargo/registry/src/"))
        {
            // `/rust/deps/hashbrown-0.15.2/src/...`, `/cargo/registry/src/<index>/<name>-<ver>/...`
            let krate = rest
                .split('/')
                .find_map(|seg| split_name_version(seg).map(|(name, _)| name));
            return Some(Class {
                kind: FrameKind::Std,
                crate_name: krate.map(|k| k.replace('-', "_")),
            });
        }
        if let Some(i) = find_seq(&parts, &["lib", "rustlib", "src", "rust"]) {
            return Some(Class {
                kind: FrameKind::Std,
                crate_name: std_crate_in(&parts[i..]),
            });
        }

        // 2. Code generated by a build script, `include!`d from OUT_DIR.
        let generated = parts.windows(4).find_map(|w| match w {
            ["build", dir, "out", _] => split_hash_suffix(dir),
            _ => None,
        });
        if let Some(package) = generated {
            let krate = package.replace('-', "_");
            let kind = if self.workspace_crates.contains(&krate) {
                FrameKind::Workspace
            } else {
                FrameKind::Dependency
            };
            return Some(Class {
                kind,
                crate_name: Some(krate),
            });
        }

        // 3. Packages we were told about.
        if let Some(root) = self.roots.iter().find(|r| is_under(&path, &r.dir)) {
            return Some(Class::new(root.kind, Some(&root.crate_name)));
        }

        // 4. Other crates cargo downloaded.
        if let Some(i) = find_seq(&parts, &["registry", "src"]) {
            if parts.len() > i + 4 {
                if let Some((name, _)) = split_name_version(parts[i + 3]) {
                    return Some(Class {
                        kind: FrameKind::Dependency,
                        crate_name: Some(name.replace('-', "_")),
                    });
                }
            }
        }
        if let Some(i) = find_seq(&parts, &["git", "checkouts"]) {
            if parts.len() > i + 4 {
                return Some(Class::new(FrameKind::Dependency, None));
            }
        }

        // 5. The standard library's sources somewhere else (distribution builds of rustc).
        if let Some(i) = find_seq(&parts, &["library"]) {
            if parts.get(i + 2) == Some(&"src") {
                if let Some(krate) = std_crate_in(&parts[i..]) {
                    if names::is_std_crate(&krate) {
                        return Some(Class {
                            kind: FrameKind::Std,
                            crate_name: Some(krate),
                        });
                    }
                }
            }
        }
        None
    }

    /// Whether source at `path` belongs to a workspace member.
    pub(crate) fn is_workspace_path(&self, path: &str) -> bool {
        matches!(
            self.classify_path(path),
            Some(Class {
                kind: FrameKind::Workspace,
                ..
            })
        )
    }

    /// Whether any package roots were given at all (otherwise nothing can be Workspace by path).
    pub(crate) fn has_workspace(&self) -> bool {
        !self.workspace_crates.is_empty()
    }

    /// Whether a crate named only by a frame's function (no source line) is one that std vendors
    /// for itself (its backtrace symbolizer's gimli and addr2line, hashbrown, ...) and not a
    /// dependency of the workspace that `cargo metadata` listed.
    fn is_std_internal_crate(&self, krate: &str) -> bool {
        names::is_std_vendored_crate(krate) && !self.dependency_crates.contains(krate)
    }

    /// A function of a workspace crate whose lines are in a dependency's source: a dependency's
    /// `macro_rules!` macro wrote it in the workspace's crate or one of its targets (`quickcheck! { fn prop(..) }`,
    /// `proptest!`), so it is the workspace's code, named as the workspace named it. Only plain
    /// paths count: an impl's name says whose type it is for, not who wrote it.
    fn macro_expanded_in_workspace<'f>(&self, function: &'f str) -> Option<&'f str> {
        // A `main` a dependency's macro wrote (`criterion_main!`) is that harness's entry point:
        // the harness calls your code from there, so it stays the dependency's.
        if function.starts_with('<') || function.ends_with("::main") {
            return None;
        }
        names::crate_of_function(function).filter(|k| self.workspace_crates.contains(*k))
    }

    /// Classifies one symbolized frame. `function` is demangled; `rust_name` says whether it was a
    /// Rust symbol.
    pub(crate) fn classify(
        &self,
        file: Option<&str>,
        function: &str,
        rust_name: bool,
        module: ModuleTraits,
    ) -> Class {
        if module.system {
            return Class::new(FrameKind::Foreign, None);
        }
        // 0. The global allocator's code is the allocator's, wherever its source lives: a
        // counting `#[global_allocator]` in the user's crate must not become every allocation's
        // "self" function.
        if names::is_allocator_machinery(function) {
            return Class::new(FrameKind::Std, Some("std"));
        }
        if let Some(file) = file {
            if let Some(mut class) = self.classify_path(file) {
                if class.kind == FrameKind::Dependency {
                    if let Some(krate) = self.macro_expanded_in_workspace(function) {
                        return Class::new(FrameKind::Workspace, Some(krate));
                    }
                }
                if class.crate_name.is_none() {
                    class.crate_name = names::crate_of_function(function).map(str::to_owned);
                }
                return class;
            }
        }
        // 6. By name.
        if names::is_runtime_shim(function) {
            return Class::new(FrameKind::Std, Some("std"));
        }
        let rust_source = file.is_some_and(|f| f.ends_with(".rs"));
        if rust_name || rust_source {
            let krate = names::crate_of_function(function);
            let kind = match krate {
                Some(k) if names::is_std_crate(k) => FrameKind::Std,
                Some(k) if self.workspace_crates.contains(k) => FrameKind::Workspace,
                // A doctest: rustdoc compiles the code of your documentation as crate `rust_out`
                // (merged, edition 2024: `doctest_bundle_<edition>`), without debug info.
                Some(k) if is_doctest_crate(k) => FrameKind::Workspace,
                Some(k) if self.is_std_internal_crate(k) => FrameKind::Std,
                Some(_) => FrameKind::Dependency,
                // `<[u8]>::starts_with`, `<str>::trim_start_matches`: inherent methods of
                // primitive types, which only the standard library can define.
                None if function.starts_with('<') => FrameKind::Std,
                None => FrameKind::Dependency,
            };
            return Class::new(kind, krate);
        }
        if function == "main" && file.is_none() && module.rust {
            // The C `main` rustc generates to call `std::rt::lang_start`.
            return Class::new(FrameKind::Std, Some("std"));
        }
        Class::new(FrameKind::Foreign, None)
    }
}

/// The crate names rustdoc gives the doctests it compiles.
fn is_doctest_crate(krate: &str) -> bool {
    krate == "rust_out" || krate.starts_with("doctest_bundle_")
}

/// The std crate named by `library/<dir>/...` in `parts`.
fn std_crate_in(parts: &[&str]) -> Option<String> {
    let i = parts.iter().position(|p| *p == "library")?;
    let dir = *parts.get(i + 1)?;
    let krate = match dir {
        // std includes backtrace-rs by `#[path]`; core includes stdarch and portable-simd.
        "backtrace" => "std".to_owned(),
        "stdarch" | "portable-simd" => "core".to_owned(),
        other => other.replace('-', "_"),
    };
    names::looks_like_crate(&krate).then_some(krate)
}

/// Index of the first occurrence of `seq` as consecutive components of `parts`.
fn find_seq(parts: &[&str], seq: &[&str]) -> Option<usize> {
    parts.windows(seq.len()).position(|w| w == seq)
}

fn is_under(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || dir == "/")
}

/// Lexical normalization: drops `.` and empty components, resolves `..` against the preceding
/// component. Keeps a leading `/`. Does not touch the file system.
pub(crate) fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// `serde-1.0.200` → `("serde", "1.0.200")`; `sha-1-0.10.1` → `("sha-1", "0.10.1")`. The version is
/// the first suffix after a `-` that starts with `<digits>.<digits>.<digits>`.
pub(crate) fn split_name_version(dir: &str) -> Option<(&str, &str)> {
    for (i, _) in dir.match_indices('-') {
        let (name, version) = (&dir[..i], &dir[i + 1..]);
        if !name.is_empty() && looks_like_version(version) {
            return Some((name, version));
        }
    }
    None
}

fn looks_like_version(s: &str) -> bool {
    let mut it = s.splitn(3, '.');
    let major = it.next().unwrap_or("");
    let minor = it.next().unwrap_or("");
    let patch = it.next().unwrap_or("");
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    let patch_digits: &str = patch.split(['-', '+']).next().unwrap_or("");
    digits(major) && digits(minor) && digits(patch_digits)
}

/// `my-pkg-0123456789abcdef` → `my-pkg` (cargo's build directories end in a 16-digit hex hash).
fn split_hash_suffix(dir: &str) -> Option<&str> {
    let (name, hash) = dir.rsplit_once('-')?;
    (!name.is_empty() && hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(name)
}

/// File name of a module path, for [`alloc_profile_format::symbolized::Frame::object`].
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The C library, dynamic loader and C/C++ runtime libraries: their frames are foreign.
pub(crate) fn is_system_library(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "libc.so",
        "libc-",
        "ld-linux",
        "ld-musl",
        "libc.musl",
        "libgcc_s",
        "libstdc++",
        "libm.so",
        "libm-",
        "libpthread",
        "libdl",
        "librt",
        "libresolv",
        "libnss",
        "libutil",
        "linux-vdso",
        "linux-gate",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The interposer library itself: its frames are dropped.
pub(crate) fn is_interposer(name: &str) -> bool {
    name.starts_with("liballoc_profile_preload")
        || name.contains("alloc-profile-preload")
        || name.contains("alloc_profile_preload")
}

/// Modules that have no file to read (the kernel's vDSO).
pub(crate) fn is_virtual(name: &str) -> bool {
    name.starts_with("linux-vdso") || name.starts_with("linux-gate")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classifier() -> Classifier {
        Classifier::new(&Options {
            workspace_targets: vec!["props".into()],
            workspace: vec![
                ("/w".into(), "root-app".into()),
                ("/w/crates/core-lib".into(), "core_lib".into()),
            ],
            dependencies: vec![
                ("/w/vendor/patched".into(), "patched".into()),
                (
                    "/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.200"
                        .into(),
                    "serde".into(),
                ),
                ("/home/u/src/local-dep".into(), "local_dep".into()),
            ],
        })
    }

    fn class(kind: FrameKind, krate: Option<&str>) -> Option<Class> {
        Some(Class::new(kind, krate))
    }

    #[test]
    fn workspace_roots_longest_wins() {
        let c = classifier();
        use FrameKind::*;
        assert_eq!(
            c.classify_path("/w/src/main.rs"),
            class(Workspace, Some("root_app"))
        );
        assert_eq!(
            c.classify_path("/w/crates/core-lib/src/lib.rs"),
            class(Workspace, Some("core_lib"))
        );
        assert_eq!(
            c.classify_path("/w/crates/./core-lib/src/../src/a.rs"),
            class(Workspace, Some("core_lib"))
        );
        // A sibling whose name merely starts the same is not under the root.
        assert_eq!(
            c.classify_path("/w/crates/core-lib2/src/lib.rs"),
            class(Workspace, Some("root_app"))
        );
        assert_eq!(c.classify_path("/wx/src/main.rs"), None);
        assert_eq!(
            c.classify_path("/w/vendor/patched/src/lib.rs"),
            class(Dependency, Some("patched"))
        );
        assert_eq!(
            c.classify_path("/home/u/src/local-dep/src/lib.rs"),
            class(Dependency, Some("local_dep"))
        );
        assert!(c.is_workspace_path("/w/examples/demo.rs"));
        assert!(!c.is_workspace_path("/home/u/src/local-dep/src/lib.rs"));
    }

    #[test]
    fn std_paths() {
        let c = classifier();
        use FrameKind::*;
        assert_eq!(
            c.classify_path(
                "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/alloc/src/raw_vec/mod.rs"
            ),
            class(Std, Some("alloc"))
        );
        assert_eq!(
            c.classify_path(
                "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/thread/mod.rs"
            ),
            class(Std, Some("std"))
        );
        assert_eq!(
            c.classify_path("/rustc/abc/library/stdarch/crates/core_arch/src/x86/sse2.rs"),
            class(Std, Some("core"))
        );
        assert_eq!(
            c.classify_path("/rustc/abc/library/core/src/../../backtrace/src/lib.rs"),
            class(Std, Some("std"))
        );
        assert_eq!(
            c.classify_path("/rustc/abc/library/compiler-builtins/compiler-builtins/src/macros.rs"),
            class(Std, Some("compiler_builtins"))
        );
        assert_eq!(
            c.classify_path("/rust/deps/hashbrown-0.15.2/src/raw/mod.rs"),
            class(Std, Some("hashbrown"))
        );
        assert_eq!(
            c.classify_path(
                "/cargo/registry/src/index.crates.io-6f17d22bba15001f/hashbrown-0.14.5/src/map.rs"
            ),
            class(Std, Some("hashbrown"))
        );
        assert_eq!(
            c.classify_path(
                "/home/u/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/src/rust/library/core/src/fmt/mod.rs"
            ),
            class(Std, Some("core"))
        );
        assert_eq!(
            c.classify_path("/usr/src/rustc-1.63.0/library/alloc/src/vec/mod.rs"),
            class(Std, Some("alloc"))
        );
        // A user directory that happens to be called `library` is not std.
        assert_eq!(c.classify_path("/srv/library/books/src/lib.rs"), None);
    }

    #[test]
    fn registry_and_git_paths() {
        let c = classifier();
        use FrameKind::*;
        // In the map.
        assert_eq!(
            c.classify_path(
                "/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.200/src/de/mod.rs"
            ),
            class(Dependency, Some("serde"))
        );
        // Not in the map: named from the directory.
        assert_eq!(
            c.classify_path(
                "/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde_json-1.0.140/src/ser.rs"
            ),
            class(Dependency, Some("serde_json"))
        );
        assert_eq!(
            c.classify_path(
                "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/sha-1-0.10.1/src/lib.rs"
            ),
            class(Dependency, Some("sha_1"))
        );
        assert_eq!(
            c.classify_path(
                "/root/.cargo/registry/src/github.com-1ecc6299db9ec823/regex-syntax-0.8.5-rc.1/src/lib.rs"
            ),
            class(Dependency, Some("regex_syntax"))
        );
        assert_eq!(
            c.classify_path("/root/.cargo/git/checkouts/foo-0123abcd/1a2b3c4/src/lib.rs"),
            class(Dependency, None)
        );
    }

    #[test]
    fn build_script_output() {
        let c = classifier();
        use FrameKind::*;
        assert_eq!(
            c.classify_path("/w/target/debug/build/core-lib-0123456789abcdef/out/gen.rs"),
            class(Workspace, Some("core_lib"))
        );
        assert_eq!(
            c.classify_path("/home/build/w/target/debug/build/core-lib-0123456789abcdef/out/g.rs"),
            class(Workspace, Some("core_lib"))
        );
        assert_eq!(
            c.classify_path("/w/target/debug/build/prost-types-0123456789abcdef/out/x.rs"),
            class(Dependency, Some("prost_types"))
        );
    }

    #[test]
    fn frames_without_recognized_source() {
        let c = classifier();
        let rust = ModuleTraits {
            system: false,
            rust: true,
        };
        let libc = ModuleTraits {
            system: true,
            rust: false,
        };
        use FrameKind::*;
        let f = |file, function, rust_name, m| c.classify(file, function, rust_name, m);
        assert_eq!(
            f(None, "__rdl_alloc", false, rust),
            Class::new(Std, Some("std"))
        );
        assert_eq!(
            f(None, "__rust_alloc", false, rust),
            Class::new(Std, Some("std"))
        );
        assert_eq!(
            f(None, "std::rt::lang_start_internal", true, rust),
            Class::new(Std, Some("std"))
        );
        assert_eq!(
            f(None, "core_lib::parse", true, rust),
            Class::new(Workspace, Some("core_lib"))
        );
        assert_eq!(
            f(None, "regex::Regex::new", true, rust),
            Class::new(Dependency, Some("regex"))
        );
        // std's own copies of gimli and addr2line (its backtrace symbolizer) have no lines; a
        // workspace that does not depend on them gets them as std.
        assert_eq!(
            f(None, "addr2line::line::path_push", true, rust),
            Class::new(Std, Some("addr2line"))
        );
        assert_eq!(
            f(None, "<gimli::read::abbrev::Attributes>::push", true, rust),
            Class::new(Std, Some("gimli"))
        );
        assert_eq!(f(None, "main", false, rust), Class::new(Std, Some("std")));
        assert_eq!(
            f(None, "__rustc::__rust_alloc", true, rust),
            Class::new(Std, Some("std"))
        );
        assert_eq!(
            f(None, "<[u8]>::starts_with", true, rust),
            Class::new(Std, None)
        );
        assert_eq!(f(None, "_start", false, rust), Class::new(Foreign, None));
        assert_eq!(f(None, "malloc", false, libc), Class::new(Foreign, None));
        assert_eq!(
            f(Some("/build/glibc/malloc/malloc.c"), "malloc", false, rust),
            Class::new(Foreign, None)
        );
        // Even Rust-looking names in the C library are foreign.
        assert_eq!(f(None, "std::x", true, libc), Class::new(Foreign, None));
        // A source path decides over the name; the crate comes from the path.
        assert_eq!(
            f(
                Some("/rustc/abc/library/alloc/src/vec/mod.rs"),
                "core_lib::parse",
                true,
                rust
            ),
            Class::new(Std, Some("alloc"))
        );
        assert_eq!(
            f(Some("/w/src/main.rs"), "root_app::main", true, rust),
            Class::new(Workspace, Some("root_app"))
        );
        // A doctest's own code, compiled by rustdoc without debug info.
        assert_eq!(
            f(None, "rust_out::main", true, rust),
            Class::new(Workspace, Some("rust_out"))
        );
        // A test `quickcheck!` wrote into the workspace's crate: its lines are quickcheck's.
        assert_eq!(
            f(
                Some("/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/quickcheck-0.9.2/src/lib.rs"),
                "core_lib::tests::prop",
                true,
                rust
            ),
            Class::new(Workspace, Some("core_lib"))
        );
        // criterion_main!'s `main` in bench crate `props` is Criterion's.
        assert_eq!(
            f(
                Some("/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/criterion-0.5.1/src/macros.rs"),
                "props::main",
                true,
                rust
            ),
            Class::new(Dependency, Some("criterion"))
        );
        // The same in an integration test, crate `props` (a target of a member package).
        assert_eq!(
            f(
                Some("/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/quickcheck-0.9.2/src/lib.rs"),
                "props::batching",
                true,
                rust
            ),
            Class::new(Workspace, Some("props"))
        );
        // quickcheck's own code, also when instantiated for a workspace type, stays quickcheck's.
        assert_eq!(
            f(
                Some("/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/quickcheck-0.9.2/src/tester.rs"),
                "quickcheck::tester::QuickCheck::quickcheck",
                true,
                rust
            ),
            Class::new(Dependency, Some("quickcheck"))
        );
        // Rust source nobody told us about.
        assert_eq!(
            f(Some("/elsewhere/src/lib.rs"), "other::f", true, rust),
            Class::new(Dependency, Some("other"))
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(normalize("/a/./b//c/../d"), "/a/b/d");
        assert_eq!(normalize("/../a"), "/a");
        assert_eq!(normalize("a/../../b"), "../b");
        assert_eq!(
            split_name_version("serde-1.0.200"),
            Some(("serde", "1.0.200"))
        );
        assert_eq!(
            split_name_version("foo-bar-2.0.0-alpha.1"),
            Some(("foo-bar", "2.0.0-alpha.1"))
        );
        assert_eq!(split_name_version("no-version"), None);
        assert_eq!(split_hash_suffix("my-pkg-0123456789abcdef"), Some("my-pkg"));
        assert_eq!(split_hash_suffix("my-pkg-01234"), None);
        assert!(is_system_library("libstdc++.so.6"));
        assert!(!is_system_library("libcrypto.so.3"));
        assert!(is_interposer("liballoc_profile_preload.so"));
        assert!(is_interposer("liballoc_profile_preload-3f2a.so"));
        assert!(is_interposer("alloc-profile-preload-3f2a.so"));
        assert!(!is_interposer("libc.so.6"));
        assert_eq!(
            file_name("/usr/lib/x86_64-linux-gnu/libc.so.6"),
            "libc.so.6"
        );
        assert_eq!(file_name("demo"), "demo");
    }
}
