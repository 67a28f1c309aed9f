//! Rule 2 of [`super`]: where a site's allocations came from ([`Origin`]): the program, the C
//! library allocating for the runtime, or std using `System` directly.

use alloc_profile_format::symbolized::{is_c_library, Frame, FrameKind};

/// Where a site's allocations came from (rule 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Rust code asked for them (through the global allocator or a C function it called).
    Program,
    /// The C library or dynamic loader allocated for the runtime.
    LibcInternal,
    /// std used `System` directly.
    SystemDirect,
}

/// Rule 2.
pub(super) fn origin(frames: &[&Frame]) -> Origin {
    let in_c_library = |f: &Frame| f.kind == FrameKind::Foreign && is_c_library(&f.object);
    if frames.first().is_some_and(|f| in_c_library(f)) {
        let run = frames.iter().take_while(|f| in_c_library(f)).count();
        let rust_caller = frames[run..].iter().any(|f| {
            matches!(
                f.kind,
                FrameKind::Workspace | FrameKind::Dependency | FrameKind::Std
            )
        });
        let entry = &frames[run - 1].function;
        if !rust_caller || is_runtime_entry(entry) {
            return Origin::LibcInternal;
        }
        return Origin::Program;
    }
    if is_system_direct(frames) {
        return Origin::SystemDirect;
    }
    Origin::Program
}

/// C library functions that allocate for the Rust runtime's own machinery (threads, thread-local
/// storage, the loader, unwinding), never for the Rust code that called them.
pub fn is_runtime_entry(function: &str) -> bool {
    // Without the C library's debug info, functions read as exported (`pthread_create`, versioned
    // `pthread_create@@GLIBC_2.34`); with it, as defined (`__pthread_create_2_1`,
    // `__pthread_getattr_np`, `__GI___pthread_attr_setaffinity_np`).
    const PREFIXES: &[&str] = &[
        "pthread_create",
        "pthread_getattr_np",
        "pthread_attr_",
        "pthread_key_create",
        "pthread_setspecific",
        "cxa_thread_atexit",
        "cxa_atexit",
        "atexit",
        "libc_start_main",
        "libc_start_call_main",
        "tls_get_addr",
        "dl_",
        "Unwind_",
        "gcc_personality",
        "gxx_personality",
        "start_thread",
    ];
    let name = function.split('@').next().unwrap_or(function);
    let name = name
        .strip_prefix("__GI_")
        .unwrap_or(name)
        .trim_start_matches('_');
    PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Whether the innermost run of std frames reaches `System` through the `Allocator` API before
/// (or without) passing the global allocator's entry points.
fn is_system_direct(frames: &[&Frame]) -> bool {
    for frame in frames {
        if frame.kind != FrameKind::Std {
            return false;
        }
        if is_global_alloc_entry(&frame.function) {
            return false;
        }
        if frame
            .function
            .starts_with("<std::alloc::System as core::alloc::Allocator>::")
        {
            return true;
        }
    }
    false
}

/// The entry points through which Rust code reaches the global allocator.
fn is_global_alloc_entry(name: &str) -> bool {
    matches!(
        name,
        "alloc::alloc::alloc"
            | "alloc::alloc::alloc_zeroed"
            | "alloc::alloc::realloc"
            | "alloc::alloc::exchange_malloc"
    ) || name.starts_with("__rustc::__rust_")
        || name.starts_with("__rust_alloc")
        || name.starts_with("__rust_realloc")
        || name.contains(" as core::alloc::global::GlobalAlloc>::")
            && !name.starts_with("<std::alloc::System as")
}
