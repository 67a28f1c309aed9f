//! Which global allocator an executable uses, as far as its symbols tell.
//!
//! The interposer sees what reaches `malloc`. A Rust program whose `#[global_allocator]` does not
//! call malloc (jemalloc, mimalloc, a bump arena) allocates out of its sight; the report must say
//! so rather than show a small or empty profile as if it were the truth.

use std::path::Path;

use object::{Object as _, ObjectSymbol as _};

/// What the symbols of an executable say about its allocator.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllocatorInfo {
    /// A known allocator library linked in, by its usual name.
    pub known: Option<&'static str>,
    /// The executable defines `malloc` itself, so nothing preloaded can interpose it.
    pub defines_malloc: bool,
    /// The allocator's entry points are wrapped at link time (`__wrap_*` symbols), so its
    /// allocations are counted.
    pub wrapped: bool,
    /// A `#[global_allocator]` is set: the compiler's `__rust_alloc` shim exists but std's
    /// default one (`__rdl_alloc`) was not linked in (older compilers named the custom one
    /// `__rg_alloc`).
    pub custom_global_allocator: bool,
}

/// Entry points that identify allocator libraries.
const KNOWN: &[(&str, &str)] = &[
    ("_rjem_malloc", "jemalloc (tikv-jemallocator)"),
    ("_rjem_mallocx", "jemalloc (tikv-jemallocator)"),
    ("je_malloc", "jemalloc"),
    ("mi_malloc_aligned", "mimalloc"),
    ("mi_malloc", "mimalloc"),
    ("sn_rust_alloc", "snmalloc"),
    ("rpmalloc", "rpmalloc"),
];

/// Reads the executable's symbols; `None` when it cannot be read or parsed.
pub fn inspect(exe: &Path) -> Option<AllocatorInfo> {
    let data = std::fs::read(exe).ok()?;
    let file = object::File::parse(&*data).ok()?;
    let mut info = AllocatorInfo::default();
    let (mut default_shim, mut rust_shim) = (false, false);
    for sym in file.symbols().chain(file.dynamic_symbols()) {
        if sym.is_undefined() {
            continue;
        }
        let Ok(name) = sym.name() else { continue };
        if info.known.is_none() {
            info.known = KNOWN.iter().find(|(s, _)| *s == name).map(|(_, n)| *n);
        }
        info.defines_malloc |= name == "malloc" && sym.is_definition();
        default_shim |= name.contains("__rdl_alloc");
        info.wrapped |= name.starts_with("__wrap__rjem_")
            || name.starts_with("__wrap_mi_")
            || name == "__wrap_malloc";
        rust_shim |= name.contains("__rust_alloc") || name.contains("__rg_alloc");
    }
    info.custom_global_allocator = rust_shim && !default_shim;
    Some(info)
}

/// A note for the report when the profile cannot be complete, given how many allocations were
/// recorded from Rust code in that process.
pub fn note(exe: &Path, info: &AllocatorInfo, rust_allocations: u64) -> Option<String> {
    let exe = exe.file_name().unwrap_or_default().to_string_lossy();
    if info.wrapped {
        return None;
    }
    if info.defines_malloc {
        return Some(format!(
            "{exe} defines malloc itself{}: calls to it cannot be interposed, so its allocations \
             are not counted",
            info.known.map(|k| format!(" ({k})")).unwrap_or_default()
        ));
    }
    if let Some(known) = info.known {
        return Some(format!(
            "{exe} uses {known} as its global allocator: its allocations bypass malloc and are \
             not counted; build it with the system allocator to profile it (e.g. behind a cargo \
             feature)"
        ));
    }
    if info.custom_global_allocator && rust_allocations == 0 {
        return Some(format!(
            "{exe} sets a custom #[global_allocator] that never called malloc: its allocations \
             are invisible to this profiler and not counted"
        ));
    }
    None
}
