//! Function names: demangling, and reading a crate name off a demangled path.

/// Crates of the Rust distribution itself: code from them is [`FrameKind::Std`].
///
/// [`FrameKind::Std`]: alloc_profile_format::symbolized::FrameKind::Std
pub(crate) const STD_CRATES: &[&str] = &[
    "std",
    "core",
    "alloc",
    "proc_macro",
    "test",
    "panic_unwind",
    "panic_abort",
    "unwind",
    "std_detect",
    "compiler_builtins",
    "profiler_builtins",
    "rustc_std_workspace_core",
    "rustc_std_workspace_alloc",
    "rustc_std_workspace_std",
    "sysroot",
    // Namespace of the runtime symbols rustc generates (`__rustc::__rust_alloc`, since 1.88).
    "__rustc",
];

/// Symbols of the compiler's allocator and panic shims. They have no source of their own (or
/// source in std) and belong to the runtime.
const SHIM_PREFIXES: &[&str] = &[
    "__rust_",
    "__rdl_",
    "__rg_",
    "rust_begin_unwind",
    "rust_panic",
    "rust_eh_personality",
];

/// Demangles a linkage or symbol name: Rust names (legacy and v0) in the alternate form, without
/// the hash. Returns the name and whether it was a Rust name; other names come back unchanged.
pub(crate) fn demangle(raw: &str) -> (String, bool) {
    match rustc_demangle::try_demangle(raw) {
        Ok(demangled) => (format!("{demangled:#}"), true),
        Err(_) => (raw.to_owned(), false),
    }
}

/// Whether `name` is one of the compiler's allocator or panic shims (`__rust_alloc`,
/// `__rdl_alloc`, `__rg_oom`, ...).
pub(crate) fn is_runtime_shim(name: &str) -> bool {
    let name = name.strip_prefix("__rustc::").unwrap_or(name);
    SHIM_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The global allocator's own code: an implementation of `GlobalAlloc` (the user's counting or
/// pooling wrapper as much as std's `System`) and the compiler's `__rust_alloc` family of shims.
/// Its frames belong to the allocator, not to the code that asked for memory.
pub(crate) fn is_allocator_machinery(name: &str) -> bool {
    is_runtime_shim(name)
        || name.starts_with("__rustc::")
        || name.contains(" as core::alloc::global::GlobalAlloc>::")
}

/// Crates the standard library is built with (its `Cargo.lock`): their code is linked into every
/// program through std, mostly without line information, whether or not the program depends on
/// them itself.
const STD_VENDORED_CRATES: &[&str] = &[
    "addr2line",
    "adler",
    "adler2",
    "allocator_api2",
    "cfg_if",
    "dlmalloc",
    "foldhash",
    "getopts",
    "gimli",
    "hashbrown",
    "libc",
    "memchr",
    "miniz_oxide",
    "object",
    "rustc_demangle",
    "rustc_literal_escaper",
    "ruzstd",
    "unicode_width",
    "wasi",
];

/// Whether `name` is one of the crates std vendors ([`STD_VENDORED_CRATES`]).
pub(crate) fn is_std_vendored_crate(name: &str) -> bool {
    STD_VENDORED_CRATES.contains(&name)
}

pub(crate) fn is_std_crate(name: &str) -> bool {
    STD_CRATES.contains(&name)
}

/// Whether `s` can be a crate name: an identifier that is not a primitive type.
pub(crate) fn looks_like_crate(s: &str) -> bool {
    const PRIMITIVES: &[&str] = &[
        "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32",
        "i64", "i128", "isize", "f16", "f32", "f64", "f128", "dyn", "impl", "mut", "const",
    ];
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s != "_"
        && !PRIMITIVES.contains(&s)
}

/// The crate a demangled function path names first: `a::b::f` → `a`; for trait impls the crate of
/// the self type when it is a path (`<a::T as core::clone::Clone>::clone` → `a`), otherwise of the
/// trait (`<u8 as core::fmt::Display>::fmt` → `core`). `None` for a bare name like `main`.
pub(crate) fn crate_of_function(name: &str) -> Option<&str> {
    let name = name.trim();
    if let Some(rest) = name.strip_prefix('<') {
        let self_ty = strip_type_prefixes(rest);
        if let Some(krate) = leading_path_segment(self_ty) {
            return Some(krate);
        }
        let as_at = top_level_as(rest)?;
        return leading_path_segment(strip_type_prefixes(&rest[as_at + 4..]));
    }
    leading_path_segment(name)
}

/// `ident::...` → `ident` when `ident` looks like a crate.
fn leading_path_segment(s: &str) -> Option<&str> {
    let end = s.find("::")?;
    let first = &s[..end];
    looks_like_crate(first).then_some(first)
}

/// Drops references, pointers, `dyn` and slice/array/tuple openers before a type path.
fn strip_type_prefixes(mut s: &str) -> &str {
    loop {
        let before = s;
        for prefix in [
            "&", "mut ", "*const ", "*mut ", "dyn ", "[", "(", "'_ ", "'static ",
        ] {
            s = s.strip_prefix(prefix).unwrap_or(s).trim_start();
        }
        if s == before {
            return s;
        }
    }
}

/// Byte offset of the ` as ` that separates self type and trait in `X as Y>...`.
fn top_level_as(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '<' | '[' | '(' => depth += 1,
            '>' | ']' | ')' => {
                if depth == 0 {
                    return None;
                }
                depth -= 1;
            }
            ' ' if depth == 0 && s[i..].starts_with(" as ") => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demangles_legacy_and_v0_without_hash() {
        assert_eq!(
            demangle("_ZN9sym_probe4make17h7b5d0745dc7ff1ecE"),
            ("sym_probe::make".to_owned(), true)
        );
        assert_eq!(
            demangle("_ZN9sym_probe4main28_$u7b$$u7b$closure$u7d$$u7d$17h381c815a0785ee50E"),
            ("sym_probe::main::{{closure}}".to_owned(), true)
        );
        // v0 (from the rustc-demangle test suite).
        assert_eq!(
            demangle("_RNvCs1234_7mycrate3foo").0,
            "mycrate::foo".to_owned()
        );
        assert_eq!(demangle("malloc"), ("malloc".to_owned(), false));
    }

    #[test]
    fn crate_names_from_paths() {
        assert_eq!(crate_of_function("a::b::f"), Some("a"));
        assert_eq!(
            crate_of_function("alloc::raw_vec::RawVec<T,A>::grow_one"),
            Some("alloc")
        );
        assert_eq!(
            crate_of_function("<my_app::T as core::clone::Clone>::clone"),
            Some("my_app")
        );
        assert_eq!(
            crate_of_function("<&mut my_app::T as core::fmt::Debug>::fmt"),
            Some("my_app")
        );
        assert_eq!(
            crate_of_function("<u8 as core::fmt::Display>::fmt"),
            Some("core")
        );
        assert_eq!(
            crate_of_function("<[u8] as alloc::slice::hack::ConvertVec>::to_vec"),
            Some("alloc")
        );
        assert_eq!(crate_of_function("main"), None);
        assert_eq!(crate_of_function("malloc"), None);
        assert_eq!(crate_of_function("_ZN3foo3barEv"), None);
    }

    #[test]
    fn shims() {
        assert!(is_runtime_shim("__rust_alloc"));
        assert!(is_runtime_shim("__rdl_realloc"));
        assert!(is_runtime_shim("__rg_oom"));
        assert!(is_runtime_shim("__rustc::__rust_alloc"));
        assert!(is_runtime_shim("__rustc::__rdl_alloc"));
        assert!(!is_runtime_shim("malloc"));
        assert!(is_allocator_machinery(
            "<patterns::counting::Counting as core::alloc::global::GlobalAlloc>::alloc"
        ));
        assert!(is_allocator_machinery("__rustc::__rust_alloc"));
        assert!(!is_allocator_machinery(
            "<a::T as core::clone::Clone>::clone"
        ));
    }
}
