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
use crate::options::Options;
use crate::paths::{find_seq, is_under, normalize, split_hash_suffix, split_name_version};

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

#[cfg(test)]
mod tests;
