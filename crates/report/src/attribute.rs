//! Blame: who each allocation site is charged to. This is the one place that decides it; every
//! table, the per-test analysis and the advice ask [`attribute`] and never look at frames to
//! decide blame themselves.
//!
//! The symbolizer says whose code each frame is ([`FrameKind`]); this module turns a site's
//! frames into answers, by these rules, in this order:
//!
//! 1. **Which frames count.** A site's own thread's frames, continued with the frames of the
//!    call that the thread's work belongs to. The *entry* of a thread's stack is its outermost
//!    workspace function (closures fold into the function that defines them: the closure handed
//!    to `thread::spawn` or to a pool counts as its defining function).
//!    - A thread that the workspace's code spawned (`std::thread::spawn`, a `Builder`,
//!      `std::thread::scope`) continues with the stack that spawned it, from the entry's frame
//!      there outwards (the whole spawning stack when the entry is not on it, as for
//!      `thread::spawn(worker_fn)`): the function that spawns and joins a thread gets what the
//!      thread allocated, as a counting global allocator around its call would.
//!    - Threads that a dependency started from one call and that only ever ran that call's
//!      functions, or nothing of yours (`ignore`'s parallel walker, a scope that joins before
//!      returning), work for that call: they continue with the spawning stack the same way.
//!    - Threads that a dependency or std started and that ran functions the spawning stack does
//!      not hold (rayon's and tokio's pools, libtest's test threads) are reused for work of many
//!      callers, so the spawning stack says nothing about who asked for a given job. Its stacks continue from the entry outwards as the entry
//!      is seen called on the other threads' own stacks, when every such stack agrees on the
//!      workspace functions outside it; else from the entry's frame on the spawning stack, when
//!      it is there (a dependency that spawns, runs your closure and joins, such as `ignore`'s
//!      parallel walker); else from the program's `main` when the pool was started under it
//!      (`main` runs around all the pool does later: a tokio runtime built in `main`, a rayon
//!      job of a function that never allocated on its own thread); else not at all: a job's
//!      allocations then count for the functions on the job's own stack only. What the pool does
//!      for itself (no function of yours on the job's stack) is the dependency's.
//!
//!    The spawner of a thread is the innermost frame of the spawning stack that is the
//!    workspace's or a dependency's.
//! 2. **Where the allocation came from** ([`Origin`]):
//!    - the C library or the dynamic loader allocating for the runtime ([`Origin::LibcInternal`]):
//!      the allocator's caller is in the C library, and either no Rust frame asked for it (before
//!      `main`, the loader) or the C function that Rust code called is thread or loader machinery
//!      ([`is_runtime_entry`]: `pthread_create`, `pthread_getattr_np`,
//!      `__cxa_thread_atexit_impl`, the unwinder, ...). No Rust global allocator sees these, so
//!      they are blamed on no function. Any other C function called from Rust (`opendir` from
//!      `std::fs::read_dir`, `getaddrinfo`, `setenv`, a `strdup` of yours) allocates on its
//!      caller's behalf: DHAT counts it for that caller, and so does this.
//!    - std using `System` directly, not through the global allocator (`Arc<_, System>` for
//!      thread handles) ([`Origin::SystemDirect`]): a counting `#[global_allocator]` does not see
//!      it either; no function.
//!    - everything else ([`Origin::Program`]).
//! 3. **Self function**: the innermost workspace frame of a [`Origin::Program`] site; its
//!    **via** is the frame just inside it, named by `via.rs`. An allocation std's panic
//!    machinery makes (the message, and with `RUST_BACKTRACE` the backtrace symbolizer and its
//!    cache, kept until exit) is the runtime's: it has no self function and counts in
//!    [`RUNTIME_MODULE`], though the functions on the stack (the test that panicked) still have
//!    it in their totals, as a counting allocator around their calls would.
//! 4. **Owner module** ([`Owner`]): [`LIBC_MODULE`] or [`RUNTIME_MODULE`] by origin; else the
//!    module of the innermost frame that is the workspace's or a dependency's; else
//!    [`RUNTIME_MODULE`] (std on its own: the stdout buffer, thread start-up).
//! 5. **Benchmarks** (binaries of `cargo bench` that are not libtest's): the harness is the crate
//!    of the outermost frame that is the workspace's or a dependency's, when it is a dependency's
//!    (`criterion_main!`'s `main`, `divan::main`). An
//!    allocation belongs to the benchmark whose routine the harness called innermost (the
//!    workspace function just inside a harness frame, skipping the glue a harness macro writes
//!    into statics, such as divan's `__DIVAN_BENCH_*`, and the group function
//!    `criterion_group!` writes, which the harness's entry calls and which calls each
//!    benchmark's function), unless the harness runs again inside that routine; everything else, such as Criterion's statistics under the function that registers
//!    a benchmark, is the harness's own work and no function's self allocation.

use std::collections::{BTreeSet, HashSet};

use alloc_profile_format::rust_path::{crate_of_function, owner_module, split_path};
use alloc_profile_format::symbolized::{function_key, Frame, FrameKind, Profile, Site};
use serde::{Deserialize, Serialize};

use crate::via::api_name;

mod origin;
mod threads;

use origin::origin;
pub use origin::{is_runtime_entry, Origin};

/// Name of the pseudo-module of sites with no workspace or dependency frame.
pub const RUNTIME_MODULE: &str = "(runtime)";
/// Name of the pseudo-module of the C library's own allocations.
pub const LIBC_MODULE: &str = "(C library internal)";

/// What a module row stands for. Its name in the JSON report is [`ModuleKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleKind {
    /// A module of the profiled workspace.
    Workspace,
    /// A module of a dependency crate.
    Dependency,
    /// The pseudo-module [`RUNTIME_MODULE`].
    Runtime,
    /// The pseudo-module [`LIBC_MODULE`].
    LibcInternal,
}

impl ModuleKind {
    /// The name used in the JSON report.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ModuleKind::Workspace => "workspace",
            ModuleKind::Dependency => "dependency",
            ModuleKind::Runtime => "runtime",
            ModuleKind::LibcInternal => "libc_internal",
        }
    }
}

/// The module row a site counts in (rule 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub kind: ModuleKind,
    pub name: String,
    /// The crate of the module; `None` for pseudo-modules.
    pub crate_name: Option<String>,
}

/// The blame of one site.
#[derive(Debug, Clone)]
pub struct Blame<'p> {
    pub site: &'p Site,
    /// The frames that count (rule 1), innermost first.
    pub frames: Vec<&'p Frame>,
    pub origin: Origin,
    /// Index into [`Blame::frames`] of the self frame (rule 3).
    pub self_index: Option<usize>,
    pub owner: Owner,
    /// In a benchmark binary run by a harness crate (rule 5): the benchmark whose routine made
    /// the allocation, named as [`function_key`] without its crate (`bench_parse`,
    /// `parsing::small`); `None` for the harness's own work and in every other binary.
    pub benchmark: Option<String>,
    /// In a benchmark binary: a harness crate's code is outermost on this stack (rule 5).
    pub under_harness: bool,
    /// Made by std's panic machinery (rule 3).
    pub panicking: bool,
}

impl<'p> Blame<'p> {
    /// The site's allocations count for functions (and tests).
    #[must_use]
    pub fn counted(&self) -> bool {
        self.origin == Origin::Program
    }

    /// The self frame.
    #[must_use]
    pub fn self_frame(&self) -> Option<&'p Frame> {
        self.self_index.map(|i| self.frames[i])
    }

    /// The self function's [`function_key`].
    #[must_use]
    pub fn self_function(&self) -> Option<String> {
        self.self_frame().map(|f| function_key(&f.function))
    }

    /// The API the self function called to allocate.
    #[must_use]
    pub fn via(&self) -> Option<String> {
        let inner = self.self_index?.checked_sub(1)?;
        api_name(self.frames[inner])
    }

    /// Every distinct workspace function on a counted site's stack, with its innermost frame,
    /// innermost first: the functions whose totals the site adds to. Empty when not counted.
    #[must_use]
    pub fn workspace_functions(&self) -> Vec<(String, &'p Frame)> {
        if !self.counted() {
            return Vec::new();
        }
        let mut seen = BTreeSet::new();
        self.frames
            .iter()
            .filter(|f| f.kind == FrameKind::Workspace)
            .filter_map(|f| {
                let key = function_key(&f.function);
                seen.insert(key.clone()).then_some((key, *f))
            })
            .collect()
    }
}

/// The blame of every site of `profile`, in the profile's order.
#[must_use]
pub fn attribute(profile: &Profile) -> Vec<Blame<'_>> {
    attribute_with_benchmarks(profile, &HashSet::new())
}

/// [`attribute`], where the processes whose executable is in `benchmark_exes` are benchmark
/// binaries that are not libtest's (Criterion, divan, `harness = false`): rule 5 applies to them.
#[must_use]
pub fn attribute_with_benchmarks<'p>(
    profile: &'p Profile,
    benchmark_exes: &HashSet<&str>,
) -> Vec<Blame<'p>> {
    profile
        .sites
        .iter()
        .zip(threads::counted_frames(profile))
        .map(|(site, frames)| {
            let mut blame = blame_frames(site, frames);
            let bench = profile
                .processes
                .get(site.process)
                .is_some_and(|p| benchmark_exes.contains(p.exe.as_str()));
            if bench && blame.counted() {
                apply_harness_rule(&mut blame);
            }
            blame
        })
        .collect()
}

/// Rule 5: the harness of a benchmark binary, and whether a site is a benchmark's or the
/// harness's own work.
fn apply_harness_rule(blame: &mut Blame<'_>) {
    let frames = &blame.frames;
    // The harness is the crate whose code is outermost: `criterion_main!`'s `main`, `divan::main`
    // (called from a `main` of yours that the compiler may have reduced to a jump). A `main` of
    // yours outermost is no harness's: the binary is one benchmark.
    let outermost = frames
        .iter()
        .rev()
        .find(|f| matches!(f.kind, FrameKind::Workspace | FrameKind::Dependency));
    let Some(harness) = outermost
        .filter(|f| f.kind == FrameKind::Dependency)
        .and_then(|f| crate_of(f))
    else {
        return;
    };
    let harness = harness.as_str();
    blame.under_harness = true;
    let is_harness =
        |f: &Frame| f.kind == FrameKind::Dependency && crate_of(f).as_deref() == Some(harness);
    let chain: Vec<(usize, &Frame)> = frames
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            matches!(f.kind, FrameKind::Workspace | FrameKind::Dependency) && !is_harness_glue(f)
        })
        .map(|(i, f)| (i, *f))
        .collect();
    // The innermost workspace function the harness called. When the harness's entry itself (its
    // outermost frame) called it, it is a group a harness macro wrote into the workspace
    // (`criterion_group!`'s `benches`, which calls each benchmark's function with the harness):
    // the benchmark is then the workspace function it called, if it called one directly.
    let called = chain.windows(2).enumerate().find_map(|(j, w)| {
        let ((i, inner), (_, outer)) = (w[0], w[1]);
        if inner.kind != FrameKind::Workspace || !is_harness(outer) {
            return None;
        }
        let from_entry = j + 2 == chain.len();
        match j.checked_sub(1).map(|k| chain[k]) {
            Some((k, member)) if from_entry && member.kind == FrameKind::Workspace => {
                Some((k, member))
            }
            _ => Some((i, inner)),
        }
    });
    match called {
        // Inside the benchmark's routine, unless it called the harness again (Criterion's
        // `iter` keeping its samples, its statistics under the function that registers the
        // benchmark): that is the harness's work.
        Some((i, routine)) if !frames[..i].iter().any(|f| is_harness(f)) => {
            let key = function_key(&routine.function);
            blame.benchmark = Some(without_crate(&key).to_owned());
        }
        _ => {
            // The harness's own work has no function of yours as its self function.
            blame.self_index = None;
        }
    }
}

/// Code a harness's macro generated in the workspace's source inside a static or const item
/// (`__DIVAN_BENCH_SMALL::{{closure}}`): glue between the harness and the benchmark.
pub(crate) fn is_harness_glue(frame: &Frame) -> bool {
    frame.kind == FrameKind::Workspace
        && split_path(&function_key(&frame.function))
            .iter()
            .any(|segment| is_constant_name(segment))
}

/// `__DIVAN_BENCH_SMALL`, `CONFIG`: the name of a static or const item (upper-case letters,
/// digits and `_`, at least one letter).
pub(crate) fn is_constant_name(segment: &str) -> bool {
    segment.bytes().any(|b| b.is_ascii_uppercase())
        && segment
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// `tests::parses_small` for `my_crate::tests::parses_small`.
pub(crate) fn without_crate(key: &str) -> &str {
    key.split_once("::").map_or(key, |(_, rest)| rest)
}

fn blame_frames<'p>(site: &'p Site, frames: Vec<&'p Frame>) -> Blame<'p> {
    let origin = origin(&frames);
    let owner_index = frames
        .iter()
        .position(|f| matches!(f.kind, FrameKind::Workspace | FrameKind::Dependency));
    let panicking = owner_index.is_some_and(|i| frames[..i].iter().any(|f| is_panic_machinery(f)));
    let self_index = (origin == Origin::Program && !panicking)
        .then(|| frames.iter().position(|f| f.kind == FrameKind::Workspace))
        .flatten();
    let owner = match (origin, owner_index) {
        (Origin::LibcInternal, _) => pseudo(ModuleKind::LibcInternal, LIBC_MODULE),
        (Origin::Program, Some(i)) if !panicking => module(frames[i]),
        _ => pseudo(ModuleKind::Runtime, RUNTIME_MODULE),
    };
    Blame {
        site,
        frames,
        origin,
        self_index,
        owner,
        benchmark: None,
        under_harness: false,
        panicking,
    }
}

fn pseudo(kind: ModuleKind, name: &str) -> Owner {
    Owner {
        kind,
        name: name.to_owned(),
        crate_name: None,
    }
}

/// The module row of a workspace or dependency frame.
fn module(frame: &Frame) -> Owner {
    let kind = if frame.kind == FrameKind::Workspace {
        ModuleKind::Workspace
    } else {
        ModuleKind::Dependency
    };
    let crate_name = crate_of(frame);
    let mut name = owner_module(&frame.function, crate_name.as_deref());
    if name.is_empty() {
        name = "(unnamed)".to_owned();
    }
    Owner {
        kind,
        name,
        crate_name,
    }
}

/// The crate of a frame: as the symbolizer recorded it, else the one its path names.
pub(crate) fn crate_of(frame: &Frame) -> Option<String> {
    frame
        .crate_name
        .clone()
        .or_else(|| crate_of_function(&frame.function).map(str::to_owned))
}

/// A frame of std's panic handling: the panic entry points and the hook that prints the message
/// and backtrace.
fn is_panic_machinery(frame: &Frame) -> bool {
    frame.kind == FrameKind::Std
        && (frame.function.starts_with("std::panicking::")
            || frame.function.starts_with("core::panicking::")
            || frame.function.contains("rust_begin_unwind"))
}

#[cfg(test)]
mod tests;
