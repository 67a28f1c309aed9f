//! The symbolized profile: what analysis and rendering work on.
//!
//! The symbolizer turns each process's [`crate::RawProfile`] into one [`Profile`]: every unique
//! return address becomes one or more [`Frame`]s (inlined calls expanded, innermost first), each
//! classified as the user's own code, a dependency, the standard library or foreign code; every
//! allocation site becomes a [`Site`] whose frame list runs from the allocator's caller outwards,
//! continuing through the stack that spawned the thread, if any.

use crate::raw::{End, Thread};

/// Where a frame's code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FrameKind {
    /// Source in a member of the profiled workspace.
    Workspace,
    /// Source in a dependency crate (named in [`Frame::crate_name`]).
    Dependency,
    /// Rust's standard library (core, alloc, std, proc_macro, test) and the compiler's shims.
    Std,
    /// Code without Rust source information: the C library, the dynamic loader, C code.
    Foreign,
    /// An address in no known module.
    Unknown,
}

/// One symbolized frame. Inlined calls get frames of their own with `inlined: true`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Demangled path without the hash suffix, e.g. `my_crate::parse::tokenize` or
    /// `my_crate::main::{{closure}}`; `"??"` when unknown.
    pub function: String,
    /// Source file as recorded in the debug info.
    pub file: Option<String>,
    pub line: Option<u32>,
    pub kind: FrameKind,
    /// The crate the source belongs to (package name with `-` as `_`), when known.
    pub crate_name: Option<String>,
    /// This frame was inlined into the next (outer) one.
    pub inlined: bool,
    /// File name of the object the code lives in (`my-app`, `libc.so.6`).
    pub object: String,
}

impl Frame {
    /// A frame known only by its function, kind and object (no file, line or crate, not
    /// inlined): what hand-built profiles in tests need.
    #[must_use]
    pub fn named(function: &str, kind: FrameKind, object: &str) -> Frame {
        Frame {
            function: function.to_owned(),
            file: None,
            line: None,
            kind,
            crate_name: None,
            inlined: false,
            object: object.to_owned(),
        }
    }
}

/// One allocation site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Index into [`Profile::processes`].
    pub process: usize,
    /// Indices into [`Profile::frames`], innermost (the allocator's caller) first.
    pub frames: Vec<u32>,
    /// Counters as recorded; `counters.stack` is the raw stack id within its process.
    pub counters: crate::raw::SiteCounters,
    /// Bytes live from this site at the moment of the process-wide peak.
    pub peak_bytes: u64,
    /// Size histogram of this site's requests, `sizes[bucket]` (see [`crate::size_bucket`]);
    /// empty when the profile has none.
    pub sizes: Vec<u64>,
    /// The frames came from a DWARF unwind, or were cut at the depth limit (see
    /// [`crate::stack_flags`]).
    pub flags: u32,
    /// Where in `frames` each spawning stack begins, ascending: for a site on a spawned thread,
    /// `frames[spawned_at[0]..]` is the stack of the thread that spawned it (from its
    /// `pthread_create` call outwards), `frames[spawned_at[1]..]` that of the thread that spawned
    /// that one, and so on. Empty on the main thread. Whether the spawner's frames count for the
    /// site is the report's decision (see its `attribute` module).
    pub spawned_at: Vec<u32>,
}

/// Whether `object` (a [`Frame::object`]) is the C library, the dynamic loader or the C
/// runtime's unwinder: code that may allocate for itself rather than for its caller.
pub fn is_c_library(object: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "libc.so",
        "libc-",
        "ld-linux",
        "ld-musl",
        "libc.musl",
        "libpthread",
        "libdl",
        "libgcc_s",
        "libresolv",
        "libnss",
    ];
    PREFIXES.iter().any(|p| object.starts_with(p))
}

/// One profiled process.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    pub exe: String,
    pub args: Vec<String>,
    pub start_unix_ns: u64,
    pub end: End,
    pub threads: Vec<Thread>,
}

/// A symbolized profile of one or more processes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub processes: Vec<Process>,
    pub frames: Vec<Frame>,
    pub sites: Vec<Site>,
    /// Normalized names ([`function_key`]) of the workspace functions found in the debug info of
    /// the profiled executables, sorted and deduplicated: the candidates for "zero-allocation
    /// functions".
    pub workspace_functions: Vec<String>,
}

/// Function names are read with [`crate::rust_path`]; these are its answers most callers need.
pub use crate::rust_path::{function_key, module_of, owner_module, split_path};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_closures_and_generics() {
        assert_eq!(function_key("a::b::{{closure}}"), "a::b");
        assert_eq!(function_key("a::b::{closure#0}::{closure#1}"), "a::b");
        assert_eq!(function_key("a::f::<u8>"), "a::f");
        assert_eq!(
            function_key("a::f::<alloc::vec::Vec<u8>>::{closure#0}"),
            "a::f"
        );
        assert_eq!(
            function_key("<a::T as core::clone::Clone>::clone"),
            "<a::T as core::clone::Clone>::clone"
        );
        assert_eq!(function_key("main"), "main");
        assert_eq!(function_key("a::serve::{async_fn#0}"), "a::serve");
        assert_eq!(function_key("a::f::{async_block#0}::{closure#0}"), "a::f");
    }

    #[test]
    fn modules() {
        assert_eq!(module_of("a::b::f"), "a::b");
        assert_eq!(module_of("a::b::Type::method"), "a::b");
        assert_eq!(module_of("a::b::f::{{closure}}"), "a::b");
        assert_eq!(module_of("<a::m::T as core::clone::Clone>::clone"), "a::m");
        assert_eq!(module_of("<a::T<u8> as x::Y>::f"), "a");
        assert_eq!(module_of("demo::main"), "demo");
        assert_eq!(module_of("main"), "");
    }
}
