//! What can go wrong: [`Warning`]s that make part of a profile less precise, and the [`Error`]s
//! of raw profiles that contradict themselves.

use std::fmt;
use std::path::PathBuf;

use alloc_profile_format::ReadError;

/// Something that made part of the profile less precise, without stopping symbolization. Each
/// is reported once per module file, however many processes mapped it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// The module file could not be opened or is not an object file; its frames are `"??"`.
    ModuleUnreadable { path: String, reason: String },
    /// The module file was rebuilt or replaced since the run; its frames are `"??"`.
    BuildIdMismatch {
        path: String,
        /// Hex build-id the profiled process had mapped.
        expected: String,
        /// Hex build-id of the file now, `None` if it has none.
        found: Option<String>,
    },
    /// A profiled executable or a Rust library has no DWARF: its frames have names from the
    /// symbol table (if any), but no files, lines or inlined calls. (Not reported for C
    /// libraries, which usually ship without it, nor for anything under `/usr`, `/bin`, `/sbin`
    /// or `/lib*`: system programs and libraries.)
    NoDebugInfo { path: String },
    /// The module's DWARF could not be read (in part); affected frames fall back to the symbol
    /// table.
    BadDebugInfo { path: String, reason: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::ModuleUnreadable { path, reason } => write!(
                f,
                "cannot read module {path} ({reason}); its frames are unknown (\"??\")"
            ),
            Warning::BuildIdMismatch {
                path,
                expected,
                found,
            } => write!(
                f,
                "module {path} changed since the run (build-id {}, expected {expected}); its \
                 frames are unknown (\"??\"): profile again after building",
                found.as_deref().unwrap_or("missing"),
            ),
            Warning::NoDebugInfo { path } => write!(
                f,
                "no debug info in {path}: its frames have no file, line or inlined calls (build \
                 with `debug = \"limited\"` or more)"
            ),
            Warning::BadDebugInfo { path, reason } => write!(
                f,
                "unreadable debug info in {path} ({reason}); using its symbol table instead"
            ),
        }
    }
}

/// Why symbolization failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A site or parent link names a stack the raw profile does not contain.
    #[error(
        "raw profile of process {pid} refers to stack {stack}, which it does not contain \
         (expected every site and parent link to name a recorded stack)"
    )]
    UnknownStack { pid: u32, stack: u32 },
    /// Following parent links from a stack comes back to a stack already visited.
    #[error(
        "raw profile of process {pid}: the parent links from stack {stack} form a loop (expected \
         a chain that ends at a thread's spawn stack)"
    )]
    StackLoop { pid: u32, stack: u32 },
    /// More distinct frames than fit the profile's `u32` frame indices.
    #[error(
        "more than {} distinct frames; the symbolized profile indexes them with u32",
        u32::MAX
    )]
    TooManyFrames,
    /// [`read_raw_file`](crate::read_raw_file) could not read the file.
    #[error("cannot read raw profile: {0}")]
    Io(#[from] std::io::Error),
    /// [`read_raw_file`](crate::read_raw_file) read a file that is not a valid raw profile.
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
}
