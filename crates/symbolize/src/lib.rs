//! Turns the raw profiles the interposer wrote into one symbolized [`Profile`].
//!
//! The interposer records return addresses and, per process, which object files were mapped
//! where (path, load bias, executable ranges, GNU build-id). This crate finds each address's
//! module, reads that module's DWARF with addr2line, expands inlined calls into frames of their
//! own, demangles names, and classifies every frame as the user's workspace, a dependency, Rust's
//! standard library or foreign code (see [Classification](#classification) below), so that the
//! report can blame allocations on the user's own functions.
//!
//! What it does not do: unwind (the stacks are already captured), read split DWARF (`.dwo`/`.dwp`:
//! rustc on Linux embeds DWARF by default), follow `dwz` supplementary files, or demangle C++.
//!
//! # Symbolization
//! Each address is a return address, so the address looked up is `address - 1`, inside the call
//! instruction; relative to its module that is `address - 1 - bias`. Every unique (module file,
//! address) pair is looked up once, however many stacks and processes contain it; a module file is
//! read once per (path, build-id) however many processes mapped it, and freed after the last
//! process that maps it. addr2line parses DWARF lazily, one compilation unit at a time, so beyond
//! reading the file a large test binary costs what its stacks touch. Reading is most of the time
//! (inflating compressed debug info, the per-unit state addr2line builds up front): the files a
//! process needs are read a thread per core before its stacks are expanded, and
//! [`symbolize_with`] takes files its caller read earlier (while the program ran, see
//! [`ReadAhead`]). Neither changes the result, nor the order of the warnings.
//!
//! A site's frames are its own stack's frames followed by those of its parent stacks: for a stack
//! on a spawned thread, the `pthread_create` stack of the spawning thread, so the thread's code
//! comes first and the code that spawned it after. Frames in the interposer library itself are
//! dropped.
//!
//! # Classification
//! By source file first, by name when there is none; the rules are listed in order in the
//! `classify` module and summarized here:
//! - `/rustc/<hash>/...`, `/rust/deps/...`, `.../lib/rustlib/src/rust/...`: [`FrameKind::Std`];
//! - under a package root given in [`Options`] (longest root wins): [`FrameKind::Workspace`] or
//!   [`FrameKind::Dependency`] with that package's crate name;
//! - cargo's registry and git checkouts: [`FrameKind::Dependency`], crate name from the directory;
//! - no source: Rust symbols by their leading crate, `__rust_*`/`__rdl_*`/`__rg_*` shims (also
//!   under rustc's `__rustc::` namespace) and rustc's C `main` as Std, anything else (and anything
//!   in libc, ld.so, libgcc_s, libstdc++, libm) [`FrameKind::Foreign`];
//! - an address in no module: [`FrameKind::Unknown`], with an empty [`Frame::object`]; an address
//!   in a module whose file is unusable, or that nothing names: `"??"`, Unknown (Foreign for the
//!   C library and its kin).
//!
//! [`Profile::workspace_functions`] lists the workspace functions in the executables' debug info
//! (each process's executable: the module whose path is the header's `exe`, else the first one).
//!
//! # Failure
//! One bad module never fails the run: a missing file, a file rebuilt since the run (its build-id
//! differs) or unreadable debug info becomes a [`Warning`], and the affected frames read `"??"`
//! (or use the symbol table, when only the debug info is bad). [`Error`] is reserved for raw
//! profiles that contradict themselves.
#![forbid(unsafe_code)]

mod address_map;
mod classify;
mod error;
mod frames;
mod generated;
mod module;
mod names;
mod objects;
mod options;
mod paths;
mod read_ahead;
mod symbolizer;
mod workspace;

use std::path::Path;

use alloc_profile_format::symbolized::Profile;
// Named by the crate documentation above.
#[cfg(doc)]
use alloc_profile_format::symbolized::{Frame, FrameKind};
use alloc_profile_format::RawProfile;

pub use crate::error::{Error, Warning};
pub use crate::options::Options;
pub use crate::read_ahead::ReadAhead;
use crate::symbolizer::Symbolizer;

/// Reads and decodes one raw profile file (`*.aprof`).
///
/// # Errors
/// [`Error::Io`] naming the file if it cannot be read, [`Error::Read`] if it is not a complete raw
/// profile of the supported version.
pub fn read_raw_file(path: &Path) -> Result<RawProfile, Error> {
    let data = fs_err::read(path)?;
    alloc_profile_format::read(&data).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })
}

/// Symbolizes the raw profiles of one run (one per process) into one [`Profile`]:
/// `processes[i]` comes from `raws[i]`, sites keep their process's index, and frames are shared
/// by all processes.
///
/// # Errors
/// Only for raw profiles that contradict themselves (see [`Error`]); problems with module files
/// are [`Warning`]s.
pub fn symbolize(raws: &[RawProfile], options: &Options) -> Result<(Profile, Vec<Warning>), Error> {
    symbolize_with(raws, options, ReadAhead::default())
}

/// [`symbolize`], using the module files in `read_ahead` where they are the files the profiles
/// name: the same result, sooner when they were read while the program ran.
///
/// # Errors
/// As [`symbolize`].
pub fn symbolize_with(
    raws: &[RawProfile],
    options: &Options,
    read_ahead: ReadAhead,
) -> Result<(Profile, Vec<Warning>), Error> {
    Symbolizer::new(options, read_ahead).run(raws)
}
