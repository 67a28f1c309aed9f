//! Function names: demangling, and reading a crate name off a demangled path.

// Crate names and the path parser live with the data model, where the report reads the same names.
pub(crate) use alloc_profile_format::rust_path::{
    crate_of_function, is_std_crate, looks_like_crate,
};

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
        // Tuples, arrays and function pointers: the trait's crate implements traits for them.
        assert_eq!(
            crate_of_function(
                "<(alloc::vec::Vec<A>,) as criterion::stats::tuple::TupledDistributionsBuilder>::new"
            ),
            Some("criterion")
        );
        assert_eq!(
            crate_of_function("<extern \"C\" fn(u8) -> u8 as gdep::Pairwise>::pair"),
            Some("gdep")
        );
        // Inherent methods of slices are the standard library's, whatever the element type.
        assert_eq!(
            crate_of_function("<[&(&criterion::report::BenchmarkId, alloc::vec::Vec<f64>)]>::iter"),
            None
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
