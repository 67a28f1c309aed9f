//! The JSON report, format `cargo-alloc-profile`, version 1.
//!
//! A contract with tools: later versions add fields, never rename or remove them, and a change of
//! meaning bumps [`VERSION`]. Field order follows the declaration order below. Counts and bytes are
//! exact integers. Source files are relative to `workspace_root` when they lie under it, as recorded
//! in the debug info otherwise.
//!
//! ```json
//! {"format": "cargo-alloc-profile", "version": 1, "command": [..], "exit_code": 0,
//!  "totals": {"allocations", "reallocations", "bytes", "frees", "peak_bytes",
//!             "leaked_allocations", "leaked_bytes", ..},
//!  "functions": [{"name", "module", "crate", "workspace", "self_allocations", "self_bytes",
//!                 "total_allocations", "total_bytes", "file", "line", ..}],
//!  "modules": [{"name", "crate", "workspace", "allocations", "bytes", ..}],
//!  "zero_allocation_functions": ["name", ..], ..}
//! ```
//!
//! Fields added in version 1 after its first release (tools must not require them):
//! - `totals`: `peak_time_ns`, `peak_process_elapsed_ns`, `peak_percent` (when the peak happened in
//!   the process that had it, and where in its run, in whole percent), `temporary_allocations`,
//!   `growth_chains`, `growth_reallocs`, `size_histogram`.
//! - `functions[]`: `peak_bytes` (self bytes live at the peak), `self_frees`,
//!   `temporary_allocations`, `mean_lifetime_ns` (null without frees, or when lifetimes were not measured: they are measured
//!   only with `--lifetimes`), `max_lifetime_ns` (null likewise),
//!   `growth_chains`, `growth_reallocs`, `growth_max_reallocs`, `growth_max_final_bytes`,
//!   `size_histogram`.
//! - `processes[]`: `peak_time_ns`, `elapsed_ns`.
//! - `size_histogram` (in `totals` and `functions[]`): the non-empty power-of-two buckets, smallest
//!   first, as `{"min_bytes", "max_bytes", "allocations"}`; `max_bytes` is null for the last,
//!   open-ended bucket; empty when the profile has no histograms.
//! - `leaks`: `[{"function", "kind", "allocations", "bytes", "file", "line", "via"}]`, blocks still live at
//!   exit. `kind` `workspace`: `function` is your function (the self function of the sites). Other
//!   kinds are the runtime's own, listed after yours under their module (`(runtime)`,
//!   `(C library internal)`, a dependency module) with null `file` and `line`.
//! - `insights`: `[{"kind", "function", "file", "line", "allocations", "avoidable", "message",
//!   "via"}]`, advice most avoidable first; `kind` is `preallocate`, `string-building`, `clone` or
//!   `borrow`; following it leaves `allocations - avoidable` of the `allocations`.
//!
//! - `budgets`: `[{"scope", "name", "metric", "limit", "actual", "binary", "result", "reason",
//!   "source"}]`, one per limit of each budget in `Cargo.toml` (see the `budget` module):
//!   `scope` `run`, `function` or `test`; `name` null for `run`; `metric` `allocations`, `bytes`,
//!   `peak` or `leaked`; `result` `within`, `exceeded` or `not-checked` (then `actual` is null and
//!   `reason` says why); `binary` the test's binary, for tests. Empty without budgets. Added
//!   later: `pattern`, the key when it is a pattern (`name` is then what it held).
//!
//! All of these are defined in the `analyze`, `insights` and `budget` module documentation.
//!
//! `functions` lists every workspace function with a non-zero total, by total allocations
//! descending, then name; dependencies are reported as modules only (a dependency function's
//! allocations are already in the self and total of the workspace function that called it).

use serde::Serialize;

use super::{relative_path, Context};
use crate::analysis::{FunctionStats, ModuleStats, ProcessSummary, RunTotals};
use crate::units::bucket_range;
use crate::analysis::Analysis;

/// Value of the `format` field.
pub const FORMAT: &str = "cargo-alloc-profile";
/// Value of the `version` field.
pub const VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub format: &'static str,
    pub version: u32,
    pub command: Vec<String>,
    pub exit_code: Option<i32>,
    pub totals: JsonTotals,
    pub functions: Vec<JsonFunction>,
    pub modules: Vec<JsonModule>,
    pub zero_allocation_functions: Vec<String>,
    // Extra fields of version 1.
    pub target: String,
    /// Set when the program was killed by a signal.
    pub signal: Option<JsonSignal>,
    pub notes: Vec<String>,
    pub workspace_root: Option<String>,
    pub processes: Vec<JsonProcess>,
    /// For `test` and `bench`: one entry per test or benchmark.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tests: Option<Vec<JsonTest>>,
    /// For `test`: names of the tests that ran and allocated nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zero_allocation_tests: Option<Vec<String>>,
    /// For `test` and `bench`: allocations in each binary that belong to no test.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub harness: Option<Vec<JsonHarness>>,
    /// Blocks still live at exit: your functions first, then the runtime's own.
    pub leaks: Vec<JsonLeak>,
    /// Advice, most avoidable allocations first.
    pub insights: Vec<JsonInsight>,
    /// Budgets from `Cargo.toml`, each limit checked.
    pub budgets: Vec<JsonBudget>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonBudget {
    /// `run`, `function` or `test`.
    pub scope: &'static str,
    pub name: Option<String>,
    pub metric: &'static str,
    pub limit: u64,
    pub actual: Option<u64>,
    pub binary: Option<String>,
    /// `within`, `exceeded` or `not-checked`.
    pub result: &'static str,
    pub reason: Option<&'static str>,
    pub source: String,
    /// The key in `Cargo.toml` when it is a pattern (`"tests::*"`): `name` is then the function
    /// or test it held (or the pattern itself when it held none); null for a plain name.
    pub pattern: Option<String>,
}

/// One power-of-two bucket of a size histogram; only non-empty buckets are listed, smallest
/// first.
#[derive(Debug, Clone, Serialize)]
pub struct JsonBucket {
    /// Smallest and largest request size of the bucket; `max_bytes` is null for the last bucket,
    /// which holds everything larger.
    pub min_bytes: u64,
    pub max_bytes: Option<u64>,
    pub allocations: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonLeak {
    /// Your function, or for `kind` other than `workspace` the module as in `modules`.
    pub function: String,
    /// `workspace`, `dependency`, `runtime` or `libc_internal`.
    pub kind: &'static str,
    pub allocations: u64,
    pub bytes: u64,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// For `workspace` leaks: the call through which most of them were allocated (as `via` of
    /// `functions`), or null.
    pub via: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonInsight {
    /// `preallocate`, `string-building`, `clone` or `borrow`.
    pub kind: &'static str,
    pub function: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// Allocations the advice is about, and how many of them it saves.
    pub allocations: u64,
    pub avoidable: u64,
    pub message: String,
    /// The API the evidence is about.
    pub via: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonTest {
    pub name: String,
    pub binary: String,
    pub allocations: u64,
    pub bytes: u64,
    /// Not measured per test yet: always null.
    pub peak_bytes: Option<u64>,
    pub outcome: String,
    pub leaked_allocations: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonHarness {
    pub binary: String,
    pub allocations: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonSignal {
    pub number: i32,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonTotals {
    pub allocations: u64,
    pub reallocations: u64,
    pub bytes: u64,
    pub frees: u64,
    /// Largest peak of live bytes of any one process.
    pub peak_bytes: u64,
    pub leaked_allocations: u64,
    pub leaked_bytes: u64,
    // Extra fields.
    pub freed_bytes: u64,
    pub libc_internal_allocations: u64,
    pub libc_internal_bytes: u64,
    pub unattributed_allocations: u64,
    pub truncated_stack_allocations: u64,
    /// Allocations (and bytes) of std's panic machinery: the message and, with
    /// `RUST_BACKTRACE`, the backtrace symbolizer; the runtime's, in no function's self numbers.
    pub panic_allocations: u64,
    pub panic_bytes: u64,
    /// When the process with the largest peak reached it and how long that process ran, in ns
    /// from its start; `peak_percent` is their ratio in whole percent (null without a peak).
    pub peak_time_ns: u64,
    pub peak_process_elapsed_ns: u64,
    pub peak_percent: Option<u64>,
    pub temporary_allocations: u64,
    pub growth_chains: u64,
    pub growth_reallocs: u64,
    pub size_histogram: Vec<JsonBucket>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonFunction {
    pub name: String,
    pub module: String,
    #[serde(rename = "crate")]
    pub crate_name: Option<String>,
    pub workspace: bool,
    pub self_allocations: u64,
    pub self_bytes: u64,
    pub total_allocations: u64,
    pub total_bytes: u64,
    pub file: Option<String>,
    pub line: Option<u32>,
    // Extra fields.
    pub via: Option<String>,
    pub self_reallocations: u64,
    pub self_leaked_allocations: u64,
    pub self_leaked_bytes: u64,
    /// Self bytes live at the run's peak.
    pub peak_bytes: u64,
    pub self_frees: u64,
    pub temporary_allocations: u64,
    /// Null when no self allocation was freed.
    pub mean_lifetime_ns: Option<u64>,
    /// Null unless lifetimes were measured (`--lifetimes`).
    pub max_lifetime_ns: Option<u64>,
    pub growth_chains: u64,
    pub growth_reallocs: u64,
    pub growth_max_reallocs: u64,
    pub growth_max_final_bytes: u64,
    pub size_histogram: Vec<JsonBucket>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonModule {
    pub name: String,
    #[serde(rename = "crate")]
    pub crate_name: Option<String>,
    pub workspace: bool,
    pub allocations: u64,
    pub bytes: u64,
    // Extra fields.
    /// `workspace`, `dependency`, `runtime` or `libc_internal`.
    pub kind: &'static str,
    pub reallocations: u64,
    pub leaked_allocations: u64,
    pub leaked_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonProcess {
    pub exe: String,
    pub args: Vec<String>,
    /// `exit`, `signal`, `exec`, `_exit` or `unknown`.
    pub end: &'static str,
    /// Exit code or signal number, depending on `end`.
    pub end_detail: i32,
    pub allocations: u64,
    pub bytes: u64,
    pub peak_bytes: u64,
    /// Nanoseconds from the interposer's start to the peak, and to the end of the profile.
    pub peak_time_ns: u64,
    pub elapsed_ns: u64,
}

impl Report {
    /// The report of `analysis` in the run described by `context`.
    pub fn new(analysis: &Analysis, context: &Context) -> Report {
        let root = context.workspace_root.as_ref();
        Report {
            format: FORMAT,
            version: VERSION,
            command: context.command.clone(),
            exit_code: context.exit_code,
            totals: totals(&analysis.totals),
            functions: analysis
                .functions
                .iter()
                .map(|f| function(f, context, analysis.totals.lifetimes_measured))
                .collect(),
            modules: analysis.modules.iter().map(module).collect(),
            zero_allocation_functions: analysis.zero_allocation_functions.clone(),
            target: context.target_label.clone(),
            signal: context.signal.as_ref().map(|(number, name)| JsonSignal {
                number: *number,
                name: name.clone(),
            }),
            notes: context.notes.clone(),
            workspace_root: root.map(|r| r.to_string_lossy().into_owned()),
            processes: analysis.processes.iter().map(process).collect(),
            tests: analysis.tests.as_ref().map(|t| {
                t.tests
                    .iter()
                    .map(|t| JsonTest {
                        name: t.name.clone(),
                        binary: t.binary.clone(),
                        allocations: t.allocations,
                        bytes: t.bytes,
                        peak_bytes: None,
                        outcome: t.outcome.clone(),
                        leaked_allocations: t.leaked_allocations,
                    })
                    .collect()
            }),
            zero_allocation_tests: analysis.tests.as_ref().map(|t| {
                t.zero_allocation_tests
                    .iter()
                    .map(|(_, name)| name.clone())
                    .collect()
            }),
            harness: analysis.tests.as_ref().map(|t| {
                t.harness
                    .iter()
                    .map(|h| JsonHarness {
                        binary: h.binary.clone(),
                        allocations: h.allocations,
                        bytes: h.bytes,
                    })
                    .collect()
            }),
            leaks: analysis
                .leaks
                .iter()
                .map(|l| JsonLeak {
                    function: l.function.clone(),
                    kind: l.kind.as_str(),
                    allocations: l.allocations,
                    bytes: l.bytes,
                    file: l.file.as_deref().map(|f| relative_path(f, root)),
                    line: l.line,
                    via: l.via.clone(),
                })
                .collect(),
            insights: analysis
                .insights
                .iter()
                .map(|i| JsonInsight {
                    kind: i.kind.as_str(),
                    function: i.function.clone(),
                    file: i.file.as_deref().map(|f| relative_path(f, root)),
                    line: i.line,
                    allocations: i.allocations,
                    avoidable: i.avoidable,
                    message: i.message.clone(),
                    via: i.via.clone(),
                })
                .collect(),
            budgets: analysis.budgets.iter().map(budget).collect(),
        }
    }
}

/// The non-empty buckets of a histogram.
fn histogram(counts: &[u64]) -> Vec<JsonBucket> {
    counts
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(b, &n)| {
            let (min_bytes, max_bytes) = bucket_range(b);
            JsonBucket {
                min_bytes,
                max_bytes,
                allocations: n,
            }
        })
        .collect()
}

fn totals(t: &RunTotals) -> JsonTotals {
    JsonTotals {
        allocations: t.allocations,
        reallocations: t.reallocations,
        bytes: t.bytes,
        frees: t.frees,
        peak_bytes: t.peak_bytes,
        leaked_allocations: t.leaked_allocations,
        leaked_bytes: t.leaked_bytes,
        freed_bytes: t.freed_bytes,
        libc_internal_allocations: t.libc_internal_allocations,
        libc_internal_bytes: t.libc_internal_bytes,
        unattributed_allocations: t.unattributed_allocations,
        truncated_stack_allocations: t.truncated_allocations,
        panic_allocations: t.panic_allocations,
        panic_bytes: t.panic_bytes,
        peak_time_ns: t.peak_time_ns,
        peak_process_elapsed_ns: t.peak_elapsed_ns,
        peak_percent: t.peak_percent(),
        temporary_allocations: t.temporary_allocations,
        growth_chains: t.growth_chains,
        growth_reallocs: t.growth_reallocs,
        size_histogram: histogram(&t.size_histogram),
    }
}

fn function(f: &FunctionStats, context: &Context, lifetimes: bool) -> JsonFunction {
    JsonFunction {
        name: f.name.clone(),
        module: f.module.clone(),
        crate_name: f.crate_name.clone(),
        workspace: f.workspace,
        self_allocations: f.self_allocations,
        self_bytes: f.self_bytes,
        total_allocations: f.total_allocations,
        total_bytes: f.total_bytes,
        file: f
            .file
            .as_deref()
            .map(|file| relative_path(file, context.workspace_root.as_ref())),
        line: f.line,
        via: f.via.clone(),
        self_reallocations: f.self_reallocations,
        self_leaked_allocations: f.self_leaked_allocations,
        self_leaked_bytes: f.self_leaked_bytes,
        peak_bytes: f.peak_bytes,
        self_frees: f.self_frees,
        temporary_allocations: f.temporary_allocations,
        mean_lifetime_ns: f.mean_lifetime_ns().filter(|_| lifetimes),
        max_lifetime_ns: lifetimes.then_some(f.max_lifetime_ns),
        growth_chains: f.growth_chains,
        growth_reallocs: f.growth_reallocs,
        growth_max_reallocs: f.growth_max_reallocs,
        growth_max_final_bytes: f.growth_max_final,
        size_histogram: histogram(&f.size_histogram),
    }
}

fn module(m: &ModuleStats) -> JsonModule {
    JsonModule {
        name: m.name.clone(),
        crate_name: m.crate_name.clone(),
        workspace: m.workspace(),
        allocations: m.allocations,
        bytes: m.bytes,
        kind: m.kind.as_str(),
        reallocations: m.reallocations,
        leaked_allocations: m.leaked_allocations,
        leaked_bytes: m.leaked_bytes,
    }
}

fn process(p: &ProcessSummary) -> JsonProcess {
    JsonProcess {
        exe: p.exe.clone(),
        args: p.args.clone(),
        end: p.end.as_str(),
        end_detail: p.end_detail,
        allocations: p.allocations,
        bytes: p.bytes,
        peak_bytes: p.peak_bytes,
        peak_time_ns: p.peak_time_ns,
        elapsed_ns: p.elapsed_ns,
    }
}

fn budget(c: &crate::budget::BudgetCheck) -> JsonBudget {
    use crate::budget::{Scope, Verdict};
    let (scope, name) = match &c.scope {
        Scope::Run => ("run", None),
        Scope::Function(n) => ("function", Some(n.clone())),
        Scope::Test(n) => ("test", Some(n.clone())),
    };
    let (result, reason) = match c.verdict {
        Verdict::Within => ("within", None),
        Verdict::Exceeded => ("exceeded", None),
        Verdict::NotChecked(why) => ("not-checked", Some(why)),
    };
    JsonBudget {
        scope,
        name,
        metric: c.metric.as_str(),
        limit: c.limit,
        actual: c.actual,
        binary: c.binary.clone(),
        result,
        reason,
        source: c.source.clone(),
        pattern: c.pattern.clone(),
    }
}
