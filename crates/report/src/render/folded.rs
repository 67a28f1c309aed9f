//! Folded stacks (`root;caller;callee count`, one line per unique stack): what flame-graph
//! tools read, and the stack model that the flame graph, DHAT and pprof writers share.
//!
//! Every stack is a site's blame ([`crate::attribute`]) read outermost first, so each view shows
//! the functions whose totals the text report adds the site to, and nothing else:
//! - the frames that count for a site (its own thread's, continued as rule 1 says), with the
//!   allocator's own frames (the `GlobalAlloc` implementation, `alloc::alloc::*`) inside the
//!   innermost caller dropped, and the compiler's `__rust_*` / `__rdl_*` / `__rg_*` shims dropped
//!   wherever they are; inlined frames kept, each as a frame of its own;
//! - a site whose allocations count for no function although they may have some of yours on the
//!   stack (the C library's own, std's direct use of `System`, std's panic machinery, a benchmark
//!   harness's own work: no self function) is one frame named after its module row
//!   (`(C library internal)`, `(runtime)`, `criterion::stats`), so its numbers are in the views
//!   but in no function of yours;
//! - allocations the interposer could not give a stack are one frame `(unattributed)`;
//! - a caller may put names outside a site's frames ([`StackPath::roots`]): the test that owns
//!   it, so that a suite's graph groups by test.
//!
//! A frame reads as its function's demangled name; a `;` in it (array types, `[u8; 32]`) reads
//! `,`, since `;` separates frames. Code without a name reads as its object, `[libc.so.6]`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use alloc_profile_format::symbolized::{Frame, FrameKind, Profile};

use crate::attribute::{attribute, Blame};

/// What a stack's number counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Weight {
    /// Allocations (the text report's numbers).
    #[default]
    Allocations,
    /// Bytes requested.
    Bytes,
    /// Blocks still live when the profile was written (leaks).
    LiveAllocations,
    /// Bytes of the blocks still live when the profile was written.
    LiveBytes,
}

impl Weight {
    /// The unit, as a flame graph names it.
    #[must_use]
    pub fn count_name(self) -> &'static str {
        match self {
            Weight::Allocations => "allocations",
            Weight::Bytes => "bytes",
            Weight::LiveAllocations => "allocations live at exit",
            Weight::LiveBytes => "bytes live at exit",
        }
    }

    /// The weight of `counters`.
    #[must_use]
    pub fn of(self, counters: &Counters) -> u64 {
        match self {
            Weight::Allocations => counters.allocations,
            Weight::Bytes => counters.bytes,
            Weight::LiveAllocations => counters.live_allocations,
            Weight::LiveBytes => counters.live_bytes,
        }
    }
}

/// The numbers of one stack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub allocations: u64,
    pub bytes: u64,
    pub live_allocations: u64,
    pub live_bytes: u64,
    /// Sum of the lifetimes of the freed blocks, ns (0 unless lifetimes were measured).
    pub lifetime_sum_ns: u64,
    /// Bytes live at the process-wide peak.
    pub peak_bytes: u64,
}

/// One stack of the views.
#[derive(Debug, Clone)]
pub struct StackPath<'p> {
    /// Names outside the frames, outermost first: the caller's roots (a test's name), then for a
    /// site that counts for no function its module row, or `(unattributed)`.
    pub roots: Vec<String>,
    /// The frames, innermost first, after the allocator's frames and the shims are dropped.
    pub frames: Vec<&'p Frame>,
    pub counters: Counters,
    /// Index into [`Profile::processes`].
    pub process: usize,
}

impl StackPath<'_> {
    /// The names of the stack, outermost first.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        let mut names = self.roots.clone();
        names.extend(self.frames.iter().rev().map(|f| frame_name(f)));
        names
    }
}

/// The name of an unattributed stack.
pub const UNATTRIBUTED: &str = "(unattributed)";

/// The stacks of every site of `profile`, in the profile's order, then one per process with
/// unattributed allocations. `roots[i]`, when given, goes outside site `i`'s frames.
#[must_use]
pub fn stacks<'p>(profile: &'p Profile, roots: &[Vec<String>]) -> Vec<StackPath<'p>> {
    let blames = attribute(profile);
    stacks_of(profile, &blames, roots)
}

/// The stacks of a `test`, `bench` or `nextest` run: with the blame its tables use (the
/// benchmark rule for binaries that are not libtest's) and each rooted at the test that owns it
/// ([`crate::per_test::site_roots`]).
#[must_use]
pub fn test_stacks<'p>(
    profile: &'p Profile,
    binaries: &'p [crate::per_test::TestBinary],
) -> Vec<StackPath<'p>> {
    let blames = crate::per_test::blames(profile, binaries);
    stacks_of(
        profile,
        &blames,
        &crate::per_test::site_roots(profile, binaries),
    )
}

/// [`stacks`] from blames already computed.
#[must_use]
pub fn stacks_of<'p>(
    profile: &'p Profile,
    blames: &[Blame<'p>],
    roots: &[Vec<String>],
) -> Vec<StackPath<'p>> {
    let mut out = Vec::with_capacity(blames.len() + 1);
    for (i, blame) in blames.iter().enumerate() {
        let c = &blame.site.counters;
        let mut path = StackPath {
            roots: roots.get(i).cloned().unwrap_or_default(),
            frames: Vec::new(),
            counters: Counters {
                allocations: c.allocations,
                bytes: c.bytes,
                live_allocations: c.live_allocations,
                live_bytes: c.live_bytes,
                lifetime_sum_ns: c.lifetime_sum_ns,
                peak_bytes: blame.site.peak_bytes,
            },
            process: blame.site.process,
        };
        // As the tables add up: a counted site counts for the functions on its stack (also when
        // it has no self function: std's panic handling, a harness's own work); the others are
        // their module row.
        if blame.counted() {
            path.frames = counted_frames(blame);
        } else {
            path.roots.push(blame.owner.name.clone());
        }
        out.push(path);
    }
    for (i, process) in profile.processes.iter().enumerate() {
        if process.end.unattributed > 0 {
            out.push(StackPath {
                roots: vec![UNATTRIBUTED.to_owned()],
                frames: Vec::new(),
                counters: Counters {
                    allocations: process.end.unattributed,
                    ..Counters::default()
                },
                process: i,
            });
        }
    }
    out
}

/// A blame's frames without the allocator's own frames and the compiler's shims.
fn counted_frames<'p>(blame: &Blame<'p>) -> Vec<&'p Frame> {
    let inner = blame
        .frames
        .iter()
        .take_while(|f| f.kind != FrameKind::Workspace && is_allocator(&f.function))
        .count();
    blame.frames[inner..]
        .iter()
        .copied()
        .filter(|f| !is_shim(&f.function))
        .collect()
}

/// The compiler's allocator and unwinding shims: `__rust_alloc`, `__rustc::__rust_realloc`,
/// `__rdl_alloc`, `__rg_alloc`, `__rust_try`.
fn is_shim(name: &str) -> bool {
    name.starts_with("__rust")
        || name.starts_with("__rdl_")
        || name.starts_with("__rg_")
        || name.starts_with("__rustc::")
}

/// The allocator's own code: the `GlobalAlloc` implementation behind the global allocator and
/// the `alloc::alloc` entry points that call it.
fn is_allocator(name: &str) -> bool {
    is_shim(name)
        || name.starts_with("alloc::alloc::")
        || name.starts_with("<alloc::alloc::Global>::")
        || name.starts_with("<alloc::alloc::Global as core::alloc::Allocator>::")
        || name.starts_with("std::sys::alloc::")
        || name.starts_with("std::alloc::")
        || name.starts_with("<std::alloc::System as ")
        || name.contains(" as core::alloc::global::GlobalAlloc>::")
        || name.contains("core::alloc::global::GlobalAlloc for ")
}

/// A frame's name in the views: its function, with `;` read as `,`; `[object]` without one.
#[must_use]
pub fn frame_name(frame: &Frame) -> String {
    if frame.function == "??" || frame.function.is_empty() {
        return if frame.object.is_empty() {
            "[unknown]".to_owned()
        } else {
            format!("[{}]", frame.object.replace(';', ","))
        };
    }
    frame.function.replace(';', ",")
}

/// The folded lines of `stacks` for `weight`: identical stacks summed, zero weights left out,
/// sorted by stack.
#[must_use]
pub fn folded_lines(stacks: &[StackPath<'_>], weight: Weight) -> Vec<String> {
    let mut merged: BTreeMap<String, u64> = BTreeMap::new();
    for path in stacks {
        let w = weight.of(&path.counters);
        if w == 0 {
            continue;
        }
        *merged.entry(path.names().join(";")).or_default() += w;
    }
    merged
        .into_iter()
        .map(|(stack, w)| format!("{stack} {w}"))
        .collect()
}

/// Writes the folded stacks of `stacks` for `weight`, one line each.
///
/// # Errors
/// Only those of `out`.
pub fn write_folded(
    out: &mut impl Write,
    stacks: &[StackPath<'_>],
    weight: Weight,
) -> io::Result<()> {
    for line in folded_lines(stacks, weight) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc_profile_format::symbolized::Site;
    use FrameKind::{Foreign, Std, Workspace};

    fn frame(function: &str, kind: FrameKind, object: &str) -> Frame {
        Frame::named(function, kind, object)
    }

    fn profile(sites: Vec<(Vec<Frame>, u64)>) -> Profile {
        let mut p = Profile {
            processes: vec![alloc_profile_format::symbolized::Process::default()],
            ..Profile::default()
        };
        for (frames, allocations) in sites {
            let ids = frames
                .into_iter()
                .map(|f| {
                    p.frames.push(f);
                    u32::try_from(p.frames.len() - 1).unwrap()
                })
                .collect();
            p.sites.push(Site {
                process: 0,
                frames: ids,
                spawned_at: Vec::new(),
                counters: alloc_profile_format::SiteCounters {
                    allocations,
                    bytes: allocations * 8,
                    live_allocations: 1,
                    live_bytes: 8,
                    ..Default::default()
                },
                peak_bytes: 0,
                sizes: Vec::new(),
                flags: 0,
            });
        }
        p
    }

    #[test]
    fn allocator_frames_and_shims_go_semicolons_never_stay() {
        let p = profile(vec![
            (
                vec![
                    frame(
                        "std::sys::alloc::unix::<impl core::alloc::global::GlobalAlloc for std::alloc::System>::alloc",
                        Std,
                        "app",
                    ),
                    frame("__rdl_alloc", Std, "app"),
                    frame("__rustc::__rust_alloc", Std, "app"),
                    frame("alloc::alloc::alloc", Std, "app"),
                    frame("alloc::raw_vec::RawVec<T,A>::allocate_in", Std, "app"),
                    frame("app::make::<[u8; 32]>", Workspace, "app"),
                    frame("__rust_try", Std, "app"),
                    frame("app::main", Workspace, "app"),
                ],
                3,
            ),
            // The C library allocating for a thread: no function's.
            (
                vec![
                    frame("_dl_allocate_tls", Foreign, "ld-linux-x86-64.so.2"),
                    frame("pthread_create", Foreign, "libc.so.6"),
                    frame("app::main", Workspace, "app"),
                ],
                2,
            ),
            (vec![frame("??", FrameKind::Unknown, "")], 1),
        ]);
        let s = stacks(&p, &[vec!["t1".to_owned()]]);
        assert_eq!(
            folded_lines(&s, Weight::Allocations),
            [
                "(C library internal) 2",
                "[unknown] 1",
                "t1;app::main;app::make::<[u8, 32]>;alloc::raw_vec::RawVec<T,A>::allocate_in 3",
            ]
        );
        assert_eq!(
            folded_lines(&s, Weight::Bytes)[2],
            "t1;app::main;app::make::<[u8, 32]>;alloc::raw_vec::RawVec<T,A>::allocate_in 24"
        );
        assert_eq!(
            folded_lines(&s, Weight::LiveBytes)[0],
            "(C library internal) 8"
        );
    }
}
