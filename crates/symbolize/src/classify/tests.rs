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
                "/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.200".into(),
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
