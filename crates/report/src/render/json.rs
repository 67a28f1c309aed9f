//! Writes the JSON report: an [`Analysis`] and its [`Context`] as the [`schema`](crate::schema)
//! defines them (source files relative to the workspace root, lifetimes only when measured, the
//! non-empty buckets of each size histogram).

use super::context::{relative_path, Context};
use crate::analysis::{Analysis, FunctionStats, ModuleStats, ProcessSummary, RunTotals};
use crate::budget::{BudgetCheck, Scope, Verdict};
use crate::schema::{
    BudgetResult, BudgetScope, JsonBucket, JsonBudget, JsonFunction, JsonHarness, JsonInsight,
    JsonLeak, JsonModule, JsonProcess, JsonSignal, JsonTest, JsonTotals, Report, FORMAT, VERSION,
};
use crate::units::bucket_range;

impl Report {
    /// The report of `analysis` in the run described by `context`.
    pub fn new(analysis: &Analysis, context: &Context) -> Report {
        let root = context.workspace_root.as_ref();
        Report {
            format: FORMAT.to_owned(),
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
                        peak_bytes: t.peak_bytes,
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
                    kind: l.kind,
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
                    kind: i.kind,
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
        kind: Some(m.kind),
        reallocations: m.reallocations,
        leaked_allocations: m.leaked_allocations,
        leaked_bytes: m.leaked_bytes,
    }
}

fn process(p: &ProcessSummary) -> JsonProcess {
    JsonProcess {
        exe: p.exe.clone(),
        args: p.args.clone(),
        end: p.end,
        end_detail: p.end_detail,
        allocations: p.allocations,
        bytes: p.bytes,
        peak_bytes: p.peak_bytes,
        peak_time_ns: p.peak_time_ns,
        elapsed_ns: p.elapsed_ns,
    }
}

fn budget(c: &BudgetCheck) -> JsonBudget {
    let (scope, name) = match &c.scope {
        Scope::Run => (BudgetScope::Run, None),
        Scope::Function(n) => (BudgetScope::Function, Some(n.clone())),
        Scope::Test(n) => (BudgetScope::Test, Some(n.clone())),
    };
    let (result, reason) = match c.verdict {
        Verdict::Within => (BudgetResult::Within, None),
        Verdict::Exceeded => (BudgetResult::Exceeded, None),
        Verdict::NotChecked(why) => (BudgetResult::NotChecked, Some(why.to_owned())),
    };
    JsonBudget {
        scope,
        name,
        metric: c.metric,
        limit: c.limit,
        actual: c.actual,
        binary: c.binary.clone(),
        result,
        reason,
        source: c.source.clone(),
        pattern: c.pattern.clone(),
    }
}
