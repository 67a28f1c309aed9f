//! Folding a profile's allocation sites into per-function and per-module tables.
//!
//! The profiler records, for every unique call stack that reached the allocator, how many
//! allocations it made and how many bytes they asked for. People do not think in stacks: they
//! want to know which of *their* functions allocate and which parts of the program (their modules,
//! their dependencies, the runtime) account for the total. This module answers both, with the
//! definitions below. Each number in the reports is one of these.
//!
//! # Definitions
//! - An **allocation** is one successful allocator call: `malloc`, `calloc`, `realloc`,
//!   `reallocarray`, `posix_memalign`, `aligned_alloc`, `memalign`, `valloc` or `pvalloc`. **Bytes** are the requested sizes
//!   summed (for realloc, the new size). A **reallocation** is an allocation that was a realloc of an
//!   existing block; a **free** releases a block (by `free` or by a realloc that replaced it).
//!   Blocks **still live at exit** were never freed before the profile was written.
//! - A **function** is identified by [`function_key`]: closures fold into the function that defines
//!   them and generic arguments are dropped, so `app::run::{{closure}}` counts as `app::run`.
//! - Blame (which frames of a site count, where the allocation came from, the site's **self
//!   function**, its **via** and its **module**) is decided in one place, the
//!   [`attribute`](crate::attribute) module; this one adds up. A site's allocations and bytes count
//!   in its self function's **self** numbers. Every *distinct* workspace function among the
//!   site's counted frames gets the site's allocations and bytes in its **total**, once per site
//!   even when it recurses. Both are sums over sites, so `self <= total`, and a function's total
//!   includes the allocations of the workspace functions it called. Only workspace functions are
//!   listed; dependencies appear as modules. Every allocation is in exactly one module.
//! - **C library internal** sites are glibc's or the dynamic loader's allocations for the
//!   runtime, which no Rust global allocator would see. They count in the totals and in the
//!   pseudo-module `(C library internal)`, never in any function's self or total.
//! - A function's **location** (`file`, `line`) is the source line of its own frame in the sites where
//!   it is the self function, the one with the most self allocations (ties: lowest line, then file
//!   name); lines without a known file only win when no known one exists. A function that is never a
//!   self function gets the location, by the same rule, of its innermost frame in the sites whose
//!   total it shares.
//! - A function's **via** is the API its code called to allocate at that location: the frame just
//!   inside the self frame (for example an inlined `alloc::vec::Vec<T,A>::push`), shortened to a
//!   readable name such as `Vec::push`, `Clone::clone`, `format!` or `serde_json::to_string` (see
//!   `via.rs` for the rules). Among the sites at the chosen location, the via with the most
//!   allocations wins (ties: alphabetical).
//! - **Totals**: allocations include those the interposer could not attribute to a stack
//!   ([`End::unattributed`](alloc_profile_format::End::unattributed), shown as a warning); all other
//!   totals are sums over sites. **Peak** is the largest `peak_bytes` of any single process: processes
//!   profiled together (test binaries, children) mostly run one after another, so their peaks do not
//!   add up, and the largest peak is the memory the run needed at least.
//! - The **peak** happened in one process (the first with the largest peak): its **position** is
//!   `peak_time_ns / elapsed_ns` of that process, in whole percent, both counted from the
//!   interposer's start. A function's **peak bytes** are the bytes live, at that moment, from the
//!   sites whose self function it is ([`Site::peak_bytes`] summed, that process only), so the
//!   functions' peak bytes add up to at most the peak; the rest was held by sites without a
//!   workspace frame, the C library or std's direct `System` use.
//! - **Leaks** are the blocks still live at exit ([`Analysis::leaks`]). Those of sites with a self
//!   function are that function's; every other one is the runtime's own and is kept apart, under
//!   its module as in the module table: [`LIBC_MODULE`], a dependency module, or [`RUNTIME_MODULE`]
//!   (no workspace or dependency frame: the stdout buffer, thread-locals, thread handles; std's
//!   direct use of `System` counts here too). Being live at exit is a fact, not a verdict:
//!   statics and `Box::leak` are deliberate.
//! - A **temporary** allocation (heaptrack's definition) is a block freed by the thread that
//!   allocated it before that thread made any other allocation. A function's temporary
//!   allocations are those of its self sites; its **temporary share** is that count divided by its
//!   self allocations.
//! - The **lifetime** of a freed block runs from its allocation to its release (by `free` or by a
//!   realloc that replaced it). A function's **mean lifetime** is the sum of the lifetimes of its
//!   self sites' freed blocks divided by the number of those frees (rounded down; none without
//!   frees), its **max lifetime** the longest one. Lifetimes are timings: the JSON report has them,
//!   the text report does not, so that two runs' texts compare equal.
//! - A **growth chain** is one block reallocated at least once, counted once when it is released
//!   or at exit, at the site of its last realloc: a vector or string regrown in place. A function's
//!   chains are those of its self sites, with their reallocs summed, the most reallocs of one
//!   chain, and the largest final size of one chain.
//! - The **size histogram** counts requests (realloc: the new size) per power-of-two bucket: bucket
//!   `b` holds sizes from `2^(b-1)` to `2^b - 1` bytes (bucket 0: zero bytes), see
//!   [`size_bucket`](alloc_profile_format::size_bucket). Per function over its self sites; the
//!   totals over all sites.
//! - **Advice** ([`Analysis::insights`]) follows the rules in the [`insights`](crate::insights)
//!   module documentation.
//! - **Zero-allocation functions** are the profile's [`Profile::workspace_functions`] minus every
//!   function with a non-zero total. Since calls are not recorded, such a function either ran without
//!   allocating or did not run at all.
//!
//! # Order
//! Every list has explicit tie-breakers, so equal profiles give equal reports: functions by total
//! allocations descending, then name; hot spots ([`Analysis::hot_spots`]) by self allocations, then
//! self bytes, descending, then name; modules by allocations, then bytes, descending, then name.
//!
//! [`function_key`]: alloc_profile_format::symbolized::function_key
//! [`Site::peak_bytes`]: alloc_profile_format::symbolized::Site::peak_bytes

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use alloc_profile_format::symbolized::{owner_module, Profile};
use alloc_profile_format::{stack_flags, SIZE_BUCKETS};

use crate::analysis::{
    Analysis, FunctionStats, Leak, ModuleStats, ProcessEnd, ProcessSummary, RunTotals,
};
use crate::attribute::{attribute, crate_of, Blame, Origin};
use crate::budget::{self, Budget, Command};
use crate::per_test::{self, TestBinary};

pub use crate::attribute::{ModuleKind, LIBC_MODULE, RUNTIME_MODULE};

/// What [`analyze`] needs besides the profile: what the command-line tool knows about the run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inputs<'a> {
    /// For `test`, `bench` and `nextest`: what the harness said about each test or bench
    /// executable; `None` for `run`. With them the analysis has the per-test tables
    /// ([`Analysis::tests`]), and every table has the same blame, in which a benchmark
    /// harness's own work is no function's self allocation (see [`crate::attribute`], rule 5).
    pub tests: Option<&'a [TestBinary]>,
    /// Budgets from `Cargo.toml`, checked into [`Analysis::budgets`]: those of the run
    /// ([`budget::Scope::Run`]) without `tests`, those of tests ([`budget::Scope::Test`]) with
    /// them, those of functions always. Empty: none.
    pub budgets: &'a [Budget],
}

type Location = (Option<String>, Option<u32>);

#[derive(Default)]
struct LocationAcc {
    allocations: u64,
    vias: BTreeMap<Option<String>, u64>,
}

#[derive(Default)]
struct FunctionAcc {
    crate_names: BTreeSet<String>,
    self_allocations: u64,
    self_reallocations: u64,
    self_bytes: u64,
    self_leaked_allocations: u64,
    self_leaked_bytes: u64,
    total_allocations: u64,
    total_bytes: u64,
    self_locations: BTreeMap<Location, LocationAcc>,
    total_locations: BTreeMap<Location, u64>,
    peak_bytes: u64,
    frees: u64,
    temporary: u64,
    lifetime_sum_ns: u64,
    lifetime_max_ns: u64,
    growth_chains: u64,
    growth_reallocs: u64,
    growth_max_reallocs: u64,
    growth_max_final: u64,
    sizes: Vec<u64>,
}

#[derive(Default)]
struct LeakAcc {
    allocations: u64,
    bytes: u64,
    locations: BTreeMap<Location, u64>,
    /// Live allocations by the API the function called (see [`Leak::via`]).
    vias: BTreeMap<Option<String>, u64>,
}

#[derive(Default)]
struct ModuleAcc {
    crate_names: BTreeSet<String>,
    allocations: u64,
    reallocations: u64,
    bytes: u64,
    leaked_allocations: u64,
    leaked_bytes: u64,
}

/// Computes the whole [`Analysis`] of a profile: every table, the per-test tables and the
/// budgets, as [`Inputs`] asks. See the module documentation for the definitions.
#[must_use]
pub fn analyze(profile: &Profile, inputs: &Inputs<'_>) -> Analysis {
    let blames = match inputs.tests {
        Some(binaries) => per_test::blames(profile, binaries),
        None => attribute(profile),
    };
    let mut analysis = from_blames(profile, &blames);
    if let Some(binaries) = inputs.tests {
        analysis.tests = Some(per_test::tests_from_blames(profile, binaries, &blames));
    }
    let command = if inputs.tests.is_some() {
        Command::Test
    } else {
        Command::Run
    };
    analysis.budgets = budget::check(inputs.budgets, &analysis, command);
    analysis
}

fn from_blames(profile: &Profile, blames: &[Blame<'_>]) -> Analysis {
    let mut totals = RunTotals::default();
    let mut functions: BTreeMap<String, FunctionAcc> = BTreeMap::new();
    let mut modules: BTreeMap<(ModuleKind, String), ModuleAcc> = BTreeMap::new();
    let mut processes: Vec<ProcessSummary> = profile.processes.iter().map(summarize).collect();
    let mut leaks: BTreeMap<(ModuleKind, String), LeakAcc> = BTreeMap::new();
    // The first process with the largest peak.
    let peak_process = profile
        .processes
        .iter()
        .enumerate()
        .min_by_key(|(i, p)| (Reverse(p.end.peak_bytes), *i))
        .map(|(i, _)| i);

    for blame in blames {
        let site = blame.site;
        let c = &site.counters;
        if c.allocations == 0 {
            continue;
        }
        totals.add(blame);
        if let Some(p) = processes.get_mut(site.process) {
            p.allocations += c.allocations;
            p.bytes += c.bytes;
        }
        if c.live_allocations > 0 {
            add_leak(&mut leaks, blame);
        }
        add_module(&mut modules, blame);
        let at_peak = peak_process == Some(site.process);
        attribute_to_functions(&mut functions, blame, at_peak);
    }
    totals.unattributed_allocations = profile.processes.iter().map(|p| p.end.unattributed).sum();
    totals.lifetimes_measured = !profile.processes.is_empty()
        && profile
            .processes
            .iter()
            .all(|p| p.end.flags & alloc_profile_format::end_flags::LIFETIMES != 0);
    totals.allocations += totals.unattributed_allocations;
    if let Some(i) = peak_process {
        let end = &profile.processes[i].end;
        totals.peak_process = Some(i);
        totals.peak_bytes = end.peak_bytes;
        totals.peak_time_ns = end.peak_time_ns;
        totals.peak_elapsed_ns = end.elapsed_ns;
    }

    let mut functions: Vec<FunctionStats> = functions
        .into_iter()
        .filter(|(_, acc)| acc.total_allocations > 0)
        .map(|(name, acc)| finish_function(name, acc))
        .collect();
    functions.sort_by(|a, b| {
        (Reverse(a.total_allocations), &a.name).cmp(&(Reverse(b.total_allocations), &b.name))
    });

    let mut modules: Vec<ModuleStats> = modules
        .into_iter()
        .map(|((kind, name), acc)| ModuleStats {
            name,
            kind,
            crate_name: acc.crate_names.into_iter().next(),
            allocations: acc.allocations,
            reallocations: acc.reallocations,
            bytes: acc.bytes,
            leaked_allocations: acc.leaked_allocations,
            leaked_bytes: acc.leaked_bytes,
        })
        .collect();
    modules.sort_by(|a, b| {
        (Reverse(a.allocations), Reverse(a.bytes), &a.name, a.kind).cmp(&(
            Reverse(b.allocations),
            Reverse(b.bytes),
            &b.name,
            b.kind,
        ))
    });

    let allocating: BTreeSet<&str> = functions.iter().map(|f| f.name.as_str()).collect();
    let zero: BTreeSet<&String> = profile
        .workspace_functions
        .iter()
        .filter(|name| !allocating.contains(name.as_str()))
        .collect();
    let zero_allocation_functions = zero.into_iter().cloned().collect();

    let mut analysis = Analysis {
        totals,
        functions,
        modules,
        zero_allocation_functions,
        workspace_function_count: profile.workspace_functions.len(),
        processes,
        tests: None,
        leaks: finish_leaks(leaks),
        insights: Vec::new(),
        budgets: Vec::new(),
        call_paths: crate::paths::call_paths(blames),
    };
    analysis.insights = crate::insights::from_blames(blames);
    analysis
}

impl RunTotals {
    fn add(&mut self, blame: &Blame<'_>) {
        let site = blame.site;
        let c = &site.counters;
        self.allocations += c.allocations;
        self.reallocations += c.reallocations;
        self.bytes += c.bytes;
        self.frees += c.frees;
        self.freed_bytes += c.freed_bytes;
        self.leaked_allocations += c.live_allocations;
        self.leaked_bytes += c.live_bytes;
        if site.flags & stack_flags::TRUNCATED != 0 {
            self.truncated_allocations += c.allocations;
        }
        if blame.origin == Origin::LibcInternal {
            self.libc_internal_allocations += c.allocations;
            self.libc_internal_bytes += c.bytes;
        }
        if blame.panicking {
            self.panic_allocations += c.allocations;
            self.panic_bytes += c.bytes;
        }
        self.temporary_allocations += c.temporary;
        self.growth_chains += c.growth_chains;
        self.growth_reallocs += c.growth_reallocs;
        add_sizes(&mut self.size_histogram, &site.sizes);
    }
}

/// Adds a site's histogram into `into`, which becomes [`SIZE_BUCKETS`] long when there is
/// anything to add.
fn add_sizes(into: &mut Vec<u64>, sizes: &[u64]) {
    if sizes.iter().all(|&n| n == 0) {
        return;
    }
    into.resize(SIZE_BUCKETS, 0);
    for (b, &n) in sizes.iter().enumerate() {
        into[b.min(SIZE_BUCKETS - 1)] += n;
    }
}

/// Where a site's blocks still live at exit belong: its self function, or else the module that
/// [`analyze`] counts it in.
fn add_leak(leaks: &mut BTreeMap<(ModuleKind, String), LeakAcc>, blame: &Blame<'_>) {
    let c = &blame.site.counters;
    let (key, location) = match blame.self_frame() {
        Some(frame) => {
            let key = (
                ModuleKind::Workspace,
                blame.self_function().unwrap_or_default(),
            );
            *leaks
                .entry(key.clone())
                .or_default()
                .vias
                .entry(blame.via())
                .or_default() += c.live_allocations;
            (key, Some((frame.file.clone(), frame.line)))
        }
        None => ((blame.owner.kind, blame.owner.name.clone()), None),
    };
    let acc = leaks.entry(key).or_default();
    acc.allocations += c.live_allocations;
    acc.bytes += c.live_bytes;
    if let Some(location) = location {
        *acc.locations.entry(location).or_default() += c.live_allocations;
    }
}

/// Your functions first, then the rest; each by bytes, then allocations, descending, then name.
fn finish_leaks(leaks: BTreeMap<(ModuleKind, String), LeakAcc>) -> Vec<Leak> {
    let mut out: Vec<Leak> = leaks
        .into_iter()
        .map(|((kind, function), acc)| {
            let (file, line) = best_location(&acc.locations, |n| *n)
                .map_or((None, None), |((file, line), _)| (file.clone(), *line));
            // The most live allocations; ties to the first name.
            let via = acc
                .vias
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .and_then(|(via, _)| via.clone());
            Leak {
                function,
                kind,
                allocations: acc.allocations,
                bytes: acc.bytes,
                file,
                line,
                via,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (
            a.kind != ModuleKind::Workspace,
            Reverse(a.bytes),
            Reverse(a.allocations),
            &a.function,
            a.kind,
        )
            .cmp(&(
                b.kind != ModuleKind::Workspace,
                Reverse(b.bytes),
                Reverse(b.allocations),
                &b.function,
                b.kind,
            ))
    });
    out
}

fn summarize(p: &alloc_profile_format::symbolized::Process) -> ProcessSummary {
    ProcessSummary {
        exe: p.exe.clone(),
        args: p.args.clone(),
        end: ProcessEnd::from_reason(p.end.reason),
        end_detail: p.end.detail,
        allocations: p.end.unattributed,
        bytes: 0,
        peak_bytes: p.end.peak_bytes,
        unattributed_allocations: p.end.unattributed,
        peak_time_ns: p.end.peak_time_ns,
        elapsed_ns: p.end.elapsed_ns,
    }
}

fn add_module(modules: &mut BTreeMap<(ModuleKind, String), ModuleAcc>, blame: &Blame<'_>) {
    let c = &blame.site.counters;
    let owner = &blame.owner;
    let acc = modules.entry((owner.kind, owner.name.clone())).or_default();
    acc.crate_names.extend(owner.crate_name.clone());
    acc.allocations += c.allocations;
    acc.reallocations += c.reallocations;
    acc.bytes += c.bytes;
    acc.leaked_allocations += c.live_allocations;
    acc.leaked_bytes += c.live_bytes;
}

fn attribute_to_functions(
    functions: &mut BTreeMap<String, FunctionAcc>,
    blame: &Blame<'_>,
    at_peak: bool,
) {
    let site = blame.site;
    let c = &site.counters;
    // Totals: once per distinct function, at its innermost frame on this stack.
    for (key, frame) in blame.workspace_functions() {
        let acc = functions.entry(key).or_default();
        acc.crate_names.extend(crate_of(frame));
        acc.total_allocations += c.allocations;
        acc.total_bytes += c.bytes;
        *acc.total_locations
            .entry((frame.file.clone(), frame.line))
            .or_default() += c.allocations;
    }

    let (Some(self_frame), Some(self_key)) = (blame.self_frame(), blame.self_function()) else {
        return;
    };
    let acc = functions.entry(self_key).or_default();
    acc.self_allocations += c.allocations;
    acc.self_reallocations += c.reallocations;
    acc.self_bytes += c.bytes;
    acc.self_leaked_allocations += c.live_allocations;
    acc.self_leaked_bytes += c.live_bytes;
    if at_peak {
        acc.peak_bytes += site.peak_bytes;
    }
    acc.frees += c.frees;
    acc.temporary += c.temporary;
    acc.lifetime_sum_ns += c.lifetime_sum_ns;
    acc.lifetime_max_ns = acc.lifetime_max_ns.max(c.lifetime_max_ns);
    acc.growth_chains += c.growth_chains;
    acc.growth_reallocs += c.growth_reallocs;
    acc.growth_max_reallocs = acc.growth_max_reallocs.max(c.growth_max_reallocs);
    acc.growth_max_final = acc.growth_max_final.max(c.growth_max_final);
    add_sizes(&mut acc.sizes, &site.sizes);
    let location = acc
        .self_locations
        .entry((self_frame.file.clone(), self_frame.line))
        .or_default();
    location.allocations += c.allocations;
    *location.vias.entry(blame.via()).or_default() += c.allocations;
}

/// The location with the most allocations; known files first, ties to the lowest line, then file.
fn best_location<V>(
    locations: &BTreeMap<Location, V>,
    count: impl Fn(&V) -> u64,
) -> Option<(&Location, &V)> {
    locations.iter().min_by(|(a, va), (b, vb)| {
        let key_a = (a.0.is_none(), Reverse(count(va)), a.1, &a.0);
        let key_b = (b.0.is_none(), Reverse(count(vb)), b.1, &b.0);
        key_a.cmp(&key_b)
    })
}

fn finish_function(name: String, acc: FunctionAcc) -> FunctionStats {
    let (file, line, via) = match best_location(&acc.self_locations, |l| l.allocations) {
        Some(((file, line), location)) => {
            // The most frequent via at that location; named ones before unknown, then
            // alphabetical.
            let via = location
                .vias
                .iter()
                .min_by(|(a, na), (b, nb)| {
                    (a.is_none(), Reverse(**na), *a).cmp(&(b.is_none(), Reverse(**nb), *b))
                })
                .and_then(|(via, _)| via.clone());
            (file.clone(), *line, via)
        }
        None => match best_location(&acc.total_locations, |n| *n) {
            Some(((file, line), _)) => (file.clone(), *line, None),
            None => (None, None, None),
        },
    };
    let crate_name = acc.crate_names.into_iter().next();
    FunctionStats {
        module: owner_module(&name, crate_name.as_deref()),
        crate_name,
        workspace: true,
        self_allocations: acc.self_allocations,
        self_reallocations: acc.self_reallocations,
        self_bytes: acc.self_bytes,
        self_leaked_allocations: acc.self_leaked_allocations,
        self_leaked_bytes: acc.self_leaked_bytes,
        total_allocations: acc.total_allocations,
        total_bytes: acc.total_bytes,
        file,
        line,
        via,
        name,
        peak_bytes: acc.peak_bytes,
        self_frees: acc.frees,
        temporary_allocations: acc.temporary,
        lifetime_sum_ns: acc.lifetime_sum_ns,
        max_lifetime_ns: acc.lifetime_max_ns,
        growth_chains: acc.growth_chains,
        growth_reallocs: acc.growth_reallocs,
        growth_max_reallocs: acc.growth_max_reallocs,
        growth_max_final: acc.growth_max_final,
        size_histogram: acc.sizes,
    }
}
