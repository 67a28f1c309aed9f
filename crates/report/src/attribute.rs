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
//!    **via** is the frame just inside it, named by [`api_name`]. An allocation std's panic
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
//!    into statics, such as divan's `__DIVAN_BENCH_*`), unless the harness runs again inside that
//!    routine; everything else, such as Criterion's statistics under the function that registers
//!    a benchmark, is the harness's own work and no function's self allocation.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};

use alloc_profile_format::rust_path::{crate_of_function, owner_module, split_path};
use alloc_profile_format::symbolized::{
    function_key, is_c_library, Frame, FrameKind, Profile, Site,
};

use crate::via::api_name;

/// Name of the pseudo-module of sites with no workspace or dependency frame.
pub const RUNTIME_MODULE: &str = "(runtime)";
/// Name of the pseudo-module of the C library's own allocations.
pub const LIBC_MODULE: &str = "(C library internal)";

/// What a module row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    let frames_of = |ids: &[u32]| -> Vec<&Frame> {
        ids.iter()
            .filter_map(|&i| profile.frames.get(i as usize))
            .collect()
    };
    let mut plans: Vec<Plan> = profile.sites.iter().map(|s| plan(profile, s)).collect();
    serve_spawners(profile, &mut plans);
    let continuations = continuations(profile, &plans);
    profile
        .sites
        .iter()
        .zip(plans)
        .map(|(site, plan)| {
            let mut frames = frames_of(&site.frames[..plan.own]);
            match plan.continue_with {
                Continue::Spawner(from) => frames.extend(frames_of(&site.frames[from..])),
                Continue::Seen(key) => match continuations.get(&(site.process, key)) {
                    Some(Some(ids)) => frames.extend(frames_of(ids)),
                    _ => {
                        if let Some(from) = plan.fallback {
                            frames.extend(frames_of(&site.frames[from..]));
                        }
                    }
                },
                Continue::Nothing => {}
            }
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
    // The innermost workspace function the harness called.
    let called = chain.windows(2).find_map(|w| {
        let ((i, inner), (_, outer)) = (w[0], w[1]);
        (inner.kind == FrameKind::Workspace && is_harness(outer)).then_some((i, inner))
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

/// How one site's frames are continued past its own thread (rule 1).
struct Plan {
    /// How many of `site.frames` are its own thread's.
    own: usize,
    continue_with: Continue,
    /// For [`Continue::Seen`] without an agreed continuation: where on the spawning stack to
    /// continue from (the entry's frame there, else the program's `main`), if anywhere.
    fallback: Option<usize>,
    /// Started by a dependency or std (not by the workspace's code).
    by_dependency: bool,
    /// The entry's outermost frame on the spawning stack, with the entry known.
    entry_on_spawner: Option<Option<usize>>,
}

/// Threads a dependency started from one call (the same spawning stack) that only ever ran the
/// functions of that call on their own stacks (`ignore`'s parallel walker, a scope that joins
/// before returning), or nothing of yours at all, work for that call: they continue with the
/// spawning stack as threads of yours do. Threads that ran a function the spawning stack does
/// not hold (rayon's pool running a later caller's jobs) are a pool, and keep the pool rules.
fn serve_spawners(profile: &Profile, plans: &mut [Plan]) {
    let mut serves: HashMap<(usize, &[u32]), bool> = HashMap::new();
    for (site, plan) in profile.sites.iter().zip(plans.iter()) {
        if plan.by_dependency {
            let ok = plan.entry_on_spawner.is_none_or(|on| on.is_some());
            *serves
                .entry((site.process, &site.frames[plan.own..]))
                .or_insert(true) &= ok;
        }
    }
    for (site, plan) in profile.sites.iter().zip(plans.iter_mut()) {
        if plan.by_dependency && serves[&(site.process, &site.frames[plan.own..])] {
            let from = plan.entry_on_spawner.flatten().unwrap_or(plan.own);
            plan.continue_with = Continue::Spawner(from);
        }
    }
}

enum Continue {
    /// With `site.frames[i..]`.
    Spawner(usize),
    /// As the entry function with this key is seen called on other threads' own stacks.
    Seen(String),
    Nothing,
}

fn plan(profile: &Profile, site: &Site) -> Plan {
    let frame = |i: u32| profile.frames.get(i as usize);
    let Some(&start) = site.spawned_at.first() else {
        return Plan {
            own: site.frames.len(),
            continue_with: Continue::Nothing,
            fallback: None,
            by_dependency: false,
            entry_on_spawner: None,
        };
    };
    let start = (start as usize).min(site.frames.len());
    let (own, spawning) = site.frames.split_at(start);
    let entry = own
        .iter()
        .rev()
        .filter_map(|&i| frame(i))
        .find(|f| f.kind == FrameKind::Workspace)
        .map(|f| function_key(&f.function));
    let spawner = spawning
        .iter()
        .filter_map(|&i| frame(i))
        .find(|f| matches!(f.kind, FrameKind::Workspace | FrameKind::Dependency))
        .map(|f| f.kind);
    // The outermost frame of the entry function on the spawning stack.
    let entry_on_spawner = entry.as_ref().and_then(|key| {
        spawning
            .iter()
            .rposition(|&i| frame(i).is_some_and(|f| function_key(&f.function) == *key))
            .map(|p| start + p)
    });
    // The program's `main` on the spawning stack: it runs around everything the pool does later,
    // whoever hands it the work.
    let main_on_spawner = spawning
        .iter()
        .rposition(|&i| {
            frame(i).is_some_and(|f| {
                f.kind == FrameKind::Workspace
                    && split_path(&function_key(&f.function)).last() == Some(&"main")
            })
        })
        .map(|p| start + p);
    let by_dependency = spawner != Some(FrameKind::Workspace);
    let known_entry = entry.is_some().then_some(entry_on_spawner);
    let continue_with = match (spawner, entry) {
        (Some(FrameKind::Workspace), _) => Continue::Spawner(entry_on_spawner.unwrap_or(start)),
        (_, Some(key)) => Continue::Seen(key),
        (_, None) => Continue::Nothing,
    };
    Plan {
        own: start,
        continue_with,
        fallback: entry_on_spawner.or(main_on_spawner),
        by_dependency,
        entry_on_spawner: known_entry,
    }
}

/// A continuation seen, and the workspace functions it names.
type Known<'p> = (&'p [u32], Vec<String>);

/// For each (process, entry key) that some site continues [`Continue::Seen`]: the frames outside
/// the entry's outermost frame on the other threads' own stacks that contain it, when they all
/// name the same workspace functions (`None` when they disagree).
fn continuations<'p>(
    profile: &'p Profile,
    plans: &[Plan],
) -> HashMap<(usize, String), Option<&'p [u32]>> {
    let mut wanted: HashSet<(usize, &str)> = HashSet::new();
    for (site, plan) in profile.sites.iter().zip(plans) {
        if let Continue::Seen(key) = &plan.continue_with {
            wanted.insert((site.process, key));
        }
    }
    // The first continuation seen for each key, with its workspace functions, until one
    // disagrees.
    let mut found: HashMap<(usize, String), Option<Known<'p>>> = HashMap::new();
    if wanted.is_empty() {
        return HashMap::new();
    }
    let workspace_keys = |ids: &[u32]| -> Vec<String> {
        ids.iter()
            .filter_map(|&i| profile.frames.get(i as usize))
            .filter(|f| f.kind == FrameKind::Workspace)
            .map(|f| function_key(&f.function))
            .collect()
    };
    for (site, plan) in profile.sites.iter().zip(plans) {
        let own = &site.frames[..plan.own];
        let mut seen_here = HashSet::new();
        for (pos, &i) in own.iter().enumerate().rev() {
            let Some(f) = profile.frames.get(i as usize) else {
                continue;
            };
            if f.kind != FrameKind::Workspace {
                continue;
            }
            let key = function_key(&f.function);
            if !wanted.contains(&(site.process, key.as_str())) || !seen_here.insert(key.clone()) {
                continue;
            }
            // A pool job's own stack is not evidence of who called the entry.
            if matches!(plan.continue_with, Continue::Seen(ref k) if *k == key) {
                continue;
            }
            let rest = &own[pos + 1..];
            match found.entry((site.process, key)) {
                Entry::Vacant(v) => {
                    v.insert(Some((rest, workspace_keys(rest))));
                }
                Entry::Occupied(mut o) => {
                    let agrees = o
                        .get()
                        .as_ref()
                        .is_some_and(|(_, keys)| *keys == workspace_keys(rest));
                    if !agrees {
                        o.insert(None);
                    }
                }
            }
        }
    }
    found
        .into_iter()
        .map(|(key, known)| (key, known.map(|(rest, _)| rest)))
        .collect()
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

/// Rule 2.
fn origin(frames: &[&Frame]) -> Origin {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(function: &str, kind: FrameKind, object: &str) -> Frame {
        Frame::named(function, kind, object)
    }

    fn profile(frames: Vec<Frame>, spawned_at: Vec<u32>) -> Profile {
        let ids = (0..frames.len() as u32).collect();
        Profile {
            frames,
            sites: vec![Site {
                process: 0,
                frames: ids,
                spawned_at,
                counters: alloc_profile_format::SiteCounters::default(),
                peak_bytes: 0,
                sizes: Vec::new(),
                flags: 0,
            }],
            ..Profile::default()
        }
    }

    use FrameKind::{Dependency, Foreign, Std, Workspace};

    #[test]
    fn libc_for_std_api_counts_for_the_caller() {
        let p = profile(
            vec![
                frame("__alloc_dir", Foreign, "libc.so.6"),
                frame("opendir", Foreign, "libc.so.6"),
                frame("std::sys::fs::unix::readdir", Std, "app"),
                frame("std::fs::read_dir", Std, "app"),
                frame("app::list", Workspace, "app"),
            ],
            vec![],
        );
        let b = attribute(&p).remove(0);
        assert_eq!(b.origin, Origin::Program);
        assert_eq!(b.self_function().as_deref(), Some("app::list"));
        assert_eq!(b.owner.kind, ModuleKind::Workspace);
    }

    #[test]
    fn libc_for_threads_and_before_main_is_internal() {
        let p = profile(
            vec![
                frame("_dl_allocate_tls", Foreign, "ld-linux-x86-64.so.2"),
                frame("pthread_create@@GLIBC_2.34", Foreign, "libc.so.6"),
                frame("std::thread::Builder::spawn_unchecked_", Std, "app"),
                frame("app::main", Workspace, "app"),
            ],
            vec![],
        );
        let b = attribute(&p).remove(0);
        assert_eq!(b.origin, Origin::LibcInternal);
        assert_eq!(b.self_function(), None);
        assert_eq!(b.owner.name, LIBC_MODULE);
        let p = profile(
            vec![
                frame("malloc", Foreign, "ld-linux-x86-64.so.2"),
                frame("_dl_init", Foreign, "ld-linux-x86-64.so.2"),
            ],
            vec![],
        );
        assert_eq!(attribute(&p)[0].origin, Origin::LibcInternal);
    }

    #[test]
    fn pool_threads_stand_alone_and_spawned_threads_continue() {
        let pool = vec![
            frame("app::shout::{{closure}}", Workspace, "app"),
            frame(
                "rayon_core::registry::WorkerThread::execute",
                Dependency,
                "app",
            ),
            // The spawning stack: rayon started the thread for its pool.
            frame("pthread_create", Foreign, "libc.so.6"),
            frame("std::thread::Builder::spawn", Std, "app"),
            frame("rayon_core::registry::Registry::new", Dependency, "app"),
            frame("app::first_user", Workspace, "app"),
            frame("app::main", Workspace, "app"),
        ];
        let p = profile(pool, vec![2]);
        let b = attribute(&p).remove(0);
        // Not `first_user`, which only started the pool: `main`, which runs around everything.
        assert_eq!(b.frames.len(), 3);
        assert_eq!(keys(&b), ["app::shout", "app::main"]);
        // Started under a test function (not `main`), the job stands alone.
        let mut p = p;
        p.frames[6].function = "app::tests::first".to_owned();
        let b = attribute(&p).remove(0);
        assert_eq!(b.frames.len(), 2);

        let own = vec![
            frame("app::work", Workspace, "app"),
            frame("std::thread::start", Std, "app"),
            frame("pthread_create", Foreign, "libc.so.6"),
            frame("std::thread::spawn", Std, "app"),
            frame("app::run::{{closure}}", Workspace, "app"),
            frame("std::thread::scope", Std, "app"),
            frame("app::run", Workspace, "app"),
        ];
        let p = profile(own, vec![2]);
        assert_eq!(keys(&attribute(&p)[0]), ["app::work", "app::run"]);
    }

    fn keys(b: &Blame<'_>) -> Vec<String> {
        b.workspace_functions().into_iter().map(|f| f.0).collect()
    }

    #[test]
    fn pool_jobs_continue_as_their_entry_is_called_elsewhere() {
        let frames = vec![
            // 0..: a job of `doubled_len` on a pool thread rayon started under `shout`.
            frame("app::doubled_len::{{closure}}", Workspace, "app"),
            frame("rayon_core::job::execute", Dependency, "app"),
            frame("pthread_create", Foreign, "libc.so.6"),
            frame("rayon_core::registry::Registry::new", Dependency, "app"),
            frame("app::shout", Workspace, "app"),
            frame("app::main", Workspace, "app"),
            // 6..: `doubled_len` allocating on the main thread, called by `run`.
            frame("alloc::vec::Vec<T>::with_capacity", Std, "app"),
            frame("app::doubled_len", Workspace, "app"),
            frame("app::run", Workspace, "app"),
            frame("app::main", Workspace, "app"),
        ];
        let mut p = profile(frames, vec![2]);
        p.sites[0].frames = vec![0, 1, 2, 3, 4, 5];
        let mut main_site = p.sites[0].clone();
        main_site.frames = vec![6, 7, 8, 9];
        main_site.spawned_at = Vec::new();
        p.sites.push(main_site);
        let blames = attribute(&p);
        assert_eq!(
            keys(&blames[0]),
            ["app::doubled_len", "app::run", "app::main"]
        );
        // Two callers that disagree: the job continues with `main`, which runs around both.
        let mut other = p.sites[1].clone();
        other.frames = vec![6, 7, 9];
        p.sites.push(other);
        assert_eq!(keys(&attribute(&p)[0]), ["app::doubled_len", "app::main"]);
    }

    #[test]
    fn dependency_spawned_threads_running_your_closure_continue_from_it() {
        // `ignore`'s parallel walker: spawns in a scope, runs the visitor closure, joins.
        let p = profile(
            vec![
                frame("app::search::{{closure}}", Workspace, "app"),
                frame("ignore::walk::Worker::run", Dependency, "app"),
                frame("pthread_create", Foreign, "libc.so.6"),
                frame("ignore::walk::WalkParallel::visit", Dependency, "app"),
                frame("app::search", Workspace, "app"),
                frame("app::main", Workspace, "app"),
            ],
            vec![2],
        );
        assert_eq!(keys(&attribute(&p)[0]), ["app::search", "app::main"]);
    }

    fn dep(function: &str, krate: &str) -> Frame {
        Frame {
            crate_name: Some(krate.to_owned()),
            ..frame(function, Dependency, "b")
        }
    }

    fn bench_blames(stacks: Vec<Vec<Frame>>) -> Vec<(Option<String>, Option<String>)> {
        let mut p = Profile {
            processes: vec![alloc_profile_format::symbolized::Process {
                exe: "/b".to_owned(),
                ..Default::default()
            }],
            ..Profile::default()
        };
        for frames in stacks {
            let start = p.frames.len() as u32;
            let ids = (start..start + frames.len() as u32).collect();
            p.frames.extend(frames);
            p.sites.push(Site {
                process: 0,
                frames: ids,
                spawned_at: Vec::new(),
                counters: alloc_profile_format::SiteCounters::default(),
                peak_bytes: 0,
                sizes: Vec::new(),
                flags: 0,
            });
        }
        attribute_with_benchmarks(&p, &HashSet::from(["/b"]))
            .iter()
            .map(|b| (b.benchmark.clone(), b.self_function()))
            .collect()
    }

    #[test]
    fn criterion_routines_are_benchmarks_and_its_statistics_the_harness() {
        let got = bench_blames(vec![
            vec![
                frame("b::work", Workspace, "b"),
                frame("b::bench_parse::{{closure}}", Workspace, "b"),
                dep("criterion::Bencher::iter", "criterion"),
                frame("b::bench_parse", Workspace, "b"),
                dep("b::main", "criterion"),
            ],
            vec![
                dep("criterion::stats::bootstrap", "criterion"),
                frame("b::bench_parse", Workspace, "b"),
                dep("b::main", "criterion"),
            ],
            vec![
                frame("alloc::vec::Vec<T>::push", Std, "b"),
                dep("criterion::Bencher::iter", "criterion"),
                frame("b::bench_parse::{{closure}}", Workspace, "b"),
                dep("criterion::Criterion::bench_function", "criterion"),
                frame("b::bench_parse", Workspace, "b"),
                dep("b::main", "criterion"),
            ],
        ]);
        assert_eq!(
            got,
            [
                (Some("bench_parse".to_owned()), Some("b::work".to_owned())),
                (None, None),
                (None, None),
            ]
        );
    }

    #[test]
    fn divan_benchmarks_are_named_past_its_glue() {
        let got = bench_blames(vec![
            vec![
                frame("words::split_words", Workspace, "b"),
                dep("divan::bench::Bencher::bench", "divan"),
                dep("divan::main", "divan"),
            ],
            vec![
                frame("words::parsing::small", Workspace, "b"),
                frame(
                    "words::parsing::__DIVAN_BENCH_SMALL::{{closure}}",
                    Workspace,
                    "b",
                ),
                dep("divan::bench::Bencher::bench", "divan"),
                frame(
                    "words::parsing::__DIVAN_BENCH_SMALL::{{closure}}",
                    Workspace,
                    "b",
                ),
                dep("divan::bench::args::bench", "divan"),
                dep("divan::main", "divan"),
            ],
            vec![
                dep("divan::calibrate", "divan"),
                dep("divan::main", "divan"),
            ],
        ]);
        assert_eq!(
            got,
            [
                (
                    Some("split_words".to_owned()),
                    Some("words::split_words".to_owned())
                ),
                (
                    Some("parsing::small".to_owned()),
                    Some("words::parsing::small".to_owned())
                ),
                (None, None),
            ]
        );
    }

    #[test]
    fn a_dependencys_threads_working_for_one_call_count_for_it() {
        // `ignore`'s walker threads: the visitor closure of `search`, and the walker's own
        // reading of directories (nothing of yours on the thread's stack), both for `search`.
        let frames = vec![
            frame("app::search::{{closure}}", Workspace, "app"),
            frame("ignore::walk::Worker::run", Dependency, "app"),
            frame("pthread_create", Foreign, "libc.so.6"),
            frame("ignore::walk::WalkParallel::visit", Dependency, "app"),
            frame("app::search", Workspace, "app"),
            frame("app::main", Workspace, "app"),
            frame("ignore::dir::Ignore::add_parents", Dependency, "app"),
        ];
        let mut p = profile(frames, vec![2]);
        let mut walker = p.sites[0].clone();
        walker.frames = vec![6, 1, 2, 3, 4, 5];
        walker.spawned_at = vec![2];
        p.sites.push(walker);
        let blames = attribute(&p);
        assert_eq!(keys(&blames[0]), ["app::search", "app::main"]);
        assert_eq!(keys(&blames[1]), ["app::search", "app::main"]);
    }

    #[test]
    fn runtime_entries() {
        assert!(is_runtime_entry("pthread_create@@GLIBC_2.34"));
        assert!(is_runtime_entry("_dl_allocate_tls"));
        assert!(is_runtime_entry("_Unwind_Find_FDE"));
        assert!(is_runtime_entry("__pthread_create_2_1"));
        assert!(is_runtime_entry("__pthread_getattr_np"));
        assert!(is_runtime_entry("__GI___pthread_attr_setaffinity_np"));
        assert!(is_runtime_entry("__cxa_thread_atexit_impl"));
        assert!(!is_runtime_entry("__opendir"));
        assert!(!is_runtime_entry("opendir"));
        assert!(!is_runtime_entry("getaddrinfo"));
        assert!(!is_runtime_entry("strdup"));
    }
}
