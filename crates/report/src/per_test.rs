//! Per-test and per-benchmark tables.
//!
//! libtest runs every test on a thread of its own and calls the test function from its runner;
//! process-wide counters mix up tests that run in parallel. Stacks do not: an allocation belongs to
//! the test whose function is on its stack.
//!
//! # Definitions
//! - A **test's allocations** are the allocations whose stack contains that test's function: the
//!   outermost workspace frame whose name, without its leading crate segment, is a test name the
//!   harness reported for that binary (`tests::parses_small` for `my_crate::tests::parses_small`,
//!   `round_trip` for `it::round_trip` in an integration test). When the names are not known (terse
//!   output), the outermost workspace frame of a stack that runs through libtest is taken.
//!   Threads a test spawns count for the test, since a thread's stack continues with the stack that
//!   spawned it (a pool's threads do not: see [`crate::attribute`], whose blame this module uses).
//!   C-library-internal allocations and std's direct use of `System` count for no test, as for
//!   functions.
//! - A **benchmark's allocations** (binaries that are not libtest's: Criterion, divan, a custom
//!   main) are decided by the benchmark rule of [`crate::attribute`] (rule 5): the routine the
//!   harness calls back, past its own work and the glue its macros write (`bench_words` →
//!   `Criterion::bench_function` → the closure defined in `bench_words`; `divan::main` →
//!   `parsing::small`). A benchmark is named, as libtest names tests, by its path within its crate
//!   (`bench_words`, `parsing::small`). The harness's own work (its statistics, calibration) goes
//!   to the harness line. A binary in which no stack shows such a call-back has no harness crate:
//!   it is one benchmark, named after the binary. Benchmarks that never allocated are listed too:
//!   Criterion's as the functions that call its `bench_*` API, divan's as the functions its
//!   `#[divan::bench]` registered (a `__DIVAN_BENCH_<NAME>` item beside `<name>`).
//! - Everything else in a test or bench binary goes to its **harness** line: libtest's own
//!   bookkeeping, Criterion's statistics, process start-up.
//! - **Zero-allocation tests** ran (passed or failed) and made no allocation.
//! - A **test's peak** is the most bytes it allocated that were live at once (see [`peaks`]):
//!   exact for a test that runs on its own thread, the same with one test thread or many.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use alloc_profile_format::symbolized::{function_key, Frame, FrameKind, Profile};

use alloc_profile_format::symbolized::split_path;

use crate::attribute::{is_constant_name, is_harness_glue, without_crate, Blame};

/// What the harness said about one test or bench executable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestBinary {
    /// Path of the executable, as the profiled processes name it.
    pub exe: String,
    /// A short name for tables: the target name (`my_crate`, `round_trip`).
    pub label: String,
    /// The executable is a benchmark target run by `cargo bench`.
    pub bench: bool,
    /// libtest's output was recognized.
    pub libtest: bool,
    /// Every test that ran was named in the output.
    pub names_complete: bool,
    /// `(test name, outcome)`, outcome one of `passed`, `failed`, `ignored`.
    pub outcomes: Vec<(String, String)>,
    /// The executable exited successfully (`None`: unknown).
    pub exit_ok: Option<bool>,
    /// For the doctests: the executables rustdoc built from them, all counted under this binary
    /// (whose own [`TestBinary::exe`] then runs nothing).
    pub doctests: Vec<DoctestExe>,
}

/// One executable rustdoc built from doctests and ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoctestExe {
    /// Path of the executable, as the profiled processes name it.
    pub exe: String,
    /// A harness of merged doctests (edition 2024) rather than one doctest.
    pub merged: bool,
    /// One doctest: its name. A merged harness: the names of all the doctests it holds, in the
    /// order rustdoc numbers them (`__doctest_<N>`), or none when they are not known; its
    /// doctests then count together as [`MERGED_DOCTESTS`].
    pub names: Vec<String>,
}

/// The row of a merged harness's doctests when they cannot be told apart.
pub const MERGED_DOCTESTS: &str = "(merged doctests)";

/// One test's (or benchmark's) numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestStats {
    pub name: String,
    /// [`TestBinary::label`] of its executable.
    pub binary: String,
    pub allocations: u64,
    pub bytes: u64,
    /// Allocations of the test still live when its process ended.
    pub leaked_allocations: u64,
    /// The most bytes the test allocated that were live at once (see [`peaks`]); `None` when not
    /// measured (profiles written before per-test peaks).
    pub peak_bytes: Option<u64>,
    /// `passed`, `failed`, `ignored`, or `unknown` when the harness did not say.
    pub outcome: String,
}

/// Allocations in a test or bench binary that belong to no test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarnessStats {
    pub binary: String,
    pub allocations: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestsAnalysis {
    /// Benchmarks rather than tests.
    pub bench: bool,
    /// By allocations descending, then binary, then name.
    pub tests: Vec<TestStats>,
    /// Per binary, by label.
    pub harness: Vec<HarnessStats>,
    /// Tests that ran and allocated nothing, by binary then name: `(binary, name)`.
    pub zero_allocation_tests: Vec<(String, String)>,
    /// Binaries whose output did not name every test (their zero-allocation tests are unknown).
    pub incomplete_names: Vec<String>,
}

/// Attributes every site of `profile` that ran in one of `binaries` to a test or a harness line.
pub fn analyze_tests(profile: &Profile, binaries: &[TestBinary]) -> TestsAnalysis {
    tests_from_blames(profile, binaries, &blames(profile, binaries))
}

/// The blame of every site, with the benchmark rule for the binaries that are not libtest's.
pub(crate) fn blames<'p>(profile: &'p Profile, binaries: &'p [TestBinary]) -> Vec<Blame<'p>> {
    let benchmarks: HashSet<&str> = binaries
        .iter()
        .filter(|b| !b.libtest)
        .map(|b| b.exe.as_str())
        .collect();
    crate::attribute::attribute_with_benchmarks(profile, &benchmarks)
}

/// [`analyze_tests`] from the blame of every site ([`blames`]).
pub(crate) fn tests_from_blames(
    profile: &Profile,
    binaries: &[TestBinary],
    blames: &[Blame<'_>],
) -> TestsAnalysis {
    let Owners {
        sites: owners,
        has_harness,
        candidates,
    } = owners(profile, binaries, blames);
    let mut peaks = peaks::test_peaks(profile, &owners);
    // Never more than the test allocated: on a thread shared with other work (a benchmark's, with
    // its harness) the live bytes between the test's allocations include the other work's.
    let mut peak_of = |b: usize, name: &str, bytes: u64| {
        let peaks = peaks.as_mut()?;
        Some(peaks.remove(&(b, name.to_owned())).unwrap_or(0).min(bytes))
    };
    // (binary index, test name) → (allocations, bytes, leaked)
    let mut per_test: BTreeMap<(usize, String), (u64, u64, u64)> = BTreeMap::new();
    let mut harness: BTreeMap<usize, (u64, u64)> = BTreeMap::new();
    for (site, owner) in profile.sites.iter().zip(owners) {
        let Some((b, owner)) = owner else {
            continue;
        };
        let c = &site.counters;
        match owner {
            Some(name) => {
                let e = per_test.entry((b, name)).or_default();
                e.0 += c.allocations;
                e.1 += c.bytes;
                e.2 += c.live_allocations;
            }
            None => {
                let e = harness.entry(b).or_default();
                e.0 += c.allocations;
                e.1 += c.bytes;
            }
        }
    }

    let mut out = TestsAnalysis {
        bench: binaries.iter().any(|b| b.bench),
        ..TestsAnalysis::default()
    };
    for (b, binary) in binaries.iter().enumerate() {
        for (name, outcome) in &binary.outcomes {
            let counted = per_test.remove(&(b, name.clone()));
            let (allocations, bytes, leaked) = counted.unwrap_or_default();
            if allocations == 0 && outcome != "ignored" {
                out.zero_allocation_tests
                    .push((binary.label.clone(), name.clone()));
            }
            out.tests.push(TestStats {
                name: name.clone(),
                binary: binary.label.clone(),
                allocations,
                bytes,
                leaked_allocations: leaked,
                peak_bytes: peak_of(b, name, bytes),
                outcome: outcome.clone(),
            });
        }
        if binary.libtest && !binary.names_complete {
            out.incomplete_names.push(binary.label.clone());
        }
    }
    for (b, name) in candidates {
        if has_harness[b] && !per_test.contains_key(&(b, name.clone())) {
            per_test.insert((b, name), (0, 0, 0));
        }
    }
    // Tests (or benchmarks) seen on stacks that the harness did not name.
    for ((b, name), (allocations, bytes, leaked)) in per_test {
        let outcome = match (binaries[b].libtest, binaries[b].exit_ok) {
            (false, Some(true)) => "passed",
            (false, Some(false)) => "failed",
            _ => "unknown",
        };
        if allocations == 0 && !binaries[b].libtest {
            out.zero_allocation_tests
                .push((binaries[b].label.clone(), name.clone()));
        }
        out.tests.push(TestStats {
            peak_bytes: peak_of(b, &name, bytes),
            name,
            binary: binaries[b].label.clone(),
            allocations,
            bytes,
            leaked_allocations: leaked,
            outcome: outcome.to_owned(),
        });
    }
    out.tests.sort_by(|a, b| {
        (Reverse(a.allocations), &a.binary, &a.name).cmp(&(
            Reverse(b.allocations),
            &b.binary,
            &b.name,
        ))
    });
    out.zero_allocation_tests.sort();
    out.harness = harness
        .into_iter()
        .map(|(b, (allocations, bytes))| HarnessStats {
            binary: binaries[b].label.clone(),
            allocations,
            bytes,
        })
        .collect();
    out.harness.sort_by(|a, b| a.binary.cmp(&b.binary));
    out
}

/// Who owns each site, by [`analyze_tests`]'s definitions.
struct Owners {
    /// By site, in the profile's order: `(binary index, test)`, the test `None` for the harness
    /// line; `None` for a site in no test binary.
    sites: Vec<Option<(usize, Option<String>)>>,
    /// By binary: some stack shows a harness calling back into the workspace.
    has_harness: Vec<bool>,
    /// Workspace functions that call into a benchmark harness, with their binary.
    candidates: BTreeSet<(usize, String)>,
}

fn owners(profile: &Profile, binaries: &[TestBinary], blames: &[Blame<'_>]) -> Owners {
    let mut by_exe: HashMap<&str, usize> = binaries
        .iter()
        .enumerate()
        .map(|(i, b)| (b.exe.as_str(), i))
        .collect();
    let mut doctest_exes: HashMap<&str, &DoctestExe> = HashMap::new();
    for (i, b) in binaries.iter().enumerate() {
        for d in &b.doctests {
            by_exe.insert(d.exe.as_str(), i);
            doctest_exes.insert(d.exe.as_str(), d);
        }
    }
    let names: Vec<HashSet<&str>> = binaries
        .iter()
        .map(|b| b.outcomes.iter().map(|(n, _)| n.as_str()).collect())
        .collect();
    // First the owner each site would have; a non-libtest binary in which no stack enters the
    // user's code from a dependency has no harness: it is one benchmark (if it ran code of yours).
    let mut owners = Vec::new();
    let mut has_harness = vec![false; binaries.len()];
    // Some stack of the binary ran code of yours: a binary whose every stack is the runtime's (a
    // libtest binary that refused `cargo bench`'s arguments) ran no benchmark at all.
    let mut ran_yours = vec![false; binaries.len()];
    // Workspace functions that call into the harness: the benchmark functions, even those whose
    // routine never allocated.
    let mut candidates: BTreeSet<(usize, String)> = BTreeSet::new();
    for blame in blames {
        let site = blame.site;
        let Some(process) = profile.processes.get(site.process) else {
            owners.push(None);
            continue;
        };
        let Some(&b) = by_exe.get(process.exe.as_str()) else {
            owners.push(None);
            continue;
        };
        let frames = &blame.frames;
        let counted = blame.counted();
        let owner = if !counted {
            None
        } else if let Some(doctest) = doctest_exes.get(process.exe.as_str()) {
            doctest_of(frames, doctest)
        } else if binaries[b].libtest {
            test_of(frames, &names[b])
        } else {
            has_harness[b] |= blame.under_harness;
            ran_yours[b] |= frames.iter().any(|f| f.kind == FrameKind::Workspace);
            if let Some(caller) = harness_caller(frames) {
                candidates.insert((b, caller));
            }
            blame.benchmark.clone()
        };
        owners.push(Some((b, owner, counted)));
    }
    for (b, binary) in binaries.iter().enumerate() {
        if has_harness[b] {
            candidates.extend(
                registered_benchmarks(&profile.workspace_functions, &binary.label)
                    .into_iter()
                    .map(|name| (b, name)),
            );
        }
    }
    let sites = owners
        .into_iter()
        .map(|owner| {
            owner.map(|(b, owner, counted)| match owner {
                None if counted && !binaries[b].libtest && !has_harness[b] && ran_yours[b] => {
                    (b, Some(binaries[b].label.clone()))
                }
                other => (b, other),
            })
        })
        .collect();
    Owners {
        sites,
        has_harness,
        candidates,
    }
}

/// The name of the roots of a site in no test binary, in [`site_roots`].
pub const NOT_A_TEST: &str = "(not in a test binary)";

/// For each site of `profile`, in its order, the names that root its stack in a view grouped by
/// test ([`analyze_tests`]'s owners): the test's (or benchmark's) name, `(test harness)` (or
/// `(benchmark harness)`) for the harness line as in the Tests table, or [`NOT_A_TEST`]; after
/// the binary's label when the sites span more than one binary.
#[must_use]
pub fn site_roots(profile: &Profile, binaries: &[TestBinary]) -> Vec<Vec<String>> {
    let owners = owners(profile, binaries, &blames(profile, binaries)).sites;
    let used: BTreeSet<usize> = owners.iter().flatten().map(|(b, _)| *b).collect();
    let what = if binaries.iter().any(|b| b.bench) {
        "benchmark"
    } else {
        "test"
    };
    owners
        .into_iter()
        .map(|owner| match owner {
            None => vec![NOT_A_TEST.to_owned()],
            Some((b, test)) => {
                let label = &binaries[b].label;
                let name = test.unwrap_or_else(|| format!("({what} harness)"));
                if used.len() > 1 {
                    vec![label.clone(), name]
                } else {
                    vec![name]
                }
            }
        })
        .collect()
}

/// The test a libtest stack belongs to, if any. Only frames inside libtest's call of the test
/// count: whatever is outside (the harness, the thread that spawned the test's thread) is not
/// the test. libtest code can also run *inside* a test (its panic hook, when the test panics), so
/// the cut is at the runner frames that call tests.
fn test_of(frames: &[&Frame], names: &HashSet<&str>) -> Option<String> {
    let is_libtest = |f: &&&Frame| {
        f.kind == FrameKind::Std
            && (f.function.starts_with("test::__rust_begin_short_backtrace")
                || f.function.starts_with("test::run_test"))
    };
    let inside = frames
        .iter()
        .position(|f| is_libtest(&f))
        .map_or(frames, |i| &frames[..i]);
    let workspace = || {
        inside
            .iter()
            .rev()
            .filter(|f| f.kind == FrameKind::Workspace)
            .map(|f| function_key(&f.function))
    };
    if let Some(key) = workspace().find(|k| names.contains(without_crate(k))) {
        return Some(without_crate(&key).to_owned());
    }
    // Names unknown: the outermost workspace function called from libtest's runner.
    let through_libtest = inside.len() < frames.len();
    if names.is_empty() && through_libtest {
        return workspace().next().map(|k| without_crate(&k).to_owned());
    }
    None
}

/// The doctest a stack in one of rustdoc's executables belongs to, if any.
fn doctest_of(frames: &[&Frame], exe: &DoctestExe) -> Option<String> {
    if exe.merged {
        // Only the doctest's own code: the harness process that starts each doctest in a process
        // of its own does so inside `doctest_runner_<edition>::__doctest_<N>`, for itself.
        let n = frames
            .iter()
            .find_map(|f| merged_doctest_number(&f.function))?;
        return Some(
            exe.names
                .get(n)
                .cloned()
                .unwrap_or_else(|| MERGED_DOCTESTS.to_owned()),
        );
    }
    let in_main = frames.iter().any(|f| {
        let key = function_key(&f.function);
        key == "rust_out::main" || key.starts_with("rust_out::main::")
    });
    in_main.then(|| exe.names.first().cloned()).flatten()
}

/// N for a function of `doctest_bundle_<edition>::__doctest_<N>`.
fn merged_doctest_number(function: &str) -> Option<usize> {
    let mut segments = function.trim_start_matches('<').split("::");
    if !segments.next()?.starts_with("doctest_bundle_") {
        return None;
    }
    segments.next()?.strip_prefix("__doctest_")?.parse().ok()
}

/// Functions of crate `label` that a harness macro registered as benchmarks, named within their
/// crate: `parsing::small` for a `words::parsing::small` beside the glue item
/// `words::parsing::__DIVAN_BENCH_SMALL` that `#[divan::bench]` writes.
fn registered_benchmarks(workspace_functions: &[String], label: &str) -> Vec<String> {
    let krate = label.replace('-', "_");
    let split =
        |key: &str| -> Vec<String> { split_path(key).iter().map(|s| (*s).to_owned()).collect() };
    let mut out = Vec::new();
    let glue: Vec<Vec<String>> = workspace_functions
        .iter()
        .map(|k| split(k))
        .filter(|p| p.first() == Some(&krate))
        .filter(|p| p.len() > 1 && is_constant_name(&p[p.len() - 1]))
        .collect();
    for key in workspace_functions {
        let path = split(key);
        let Some((name, module)) = path.split_last() else {
            continue;
        };
        if module.is_empty() || module[0] != krate || is_constant_name(name) {
            continue;
        }
        let suffix = format!("_{}", name.to_ascii_uppercase());
        let registered = glue.iter().any(|g| {
            let (item, glue_module) = g.split_last().expect("two segments or more");
            glue_module == module && item.starts_with("__") && item.ends_with(&suffix)
        });
        if registered {
            out.push(without_crate(key).to_owned());
        }
    }
    out
}

/// The workspace function that registers a benchmark with the harness: the last workspace frame
/// before the first dependency frame that follows workspace code, when that dependency function
/// is a benchmark API (its name mentions `bench`, as Criterion's `bench_function` and
/// `bench_with_input` do).
fn harness_caller(frames: &[&Frame]) -> Option<String> {
    let mut last_workspace = None;
    for f in frames.iter().rev() {
        match f.kind {
            FrameKind::Workspace if is_harness_glue(f) => {}
            FrameKind::Workspace => last_workspace = Some(*f),
            FrameKind::Dependency if last_workspace.is_some() => {
                let api = f.function.to_ascii_lowercase();
                return last_workspace
                    .filter(|_| api.contains("bench"))
                    .map(|w| without_crate(&function_key(&w.function)).to_owned());
            }
            _ => {}
        }
    }
    None
}

mod peaks;
#[cfg(test)]
mod tests;
