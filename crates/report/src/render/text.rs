//! The text report: the first screen answers "which of my functions allocate, how much, where".
//!
//! This file keeps the order of the sections, each written by a file of its own in `text/`:
//! header (command, target, how it ended, totals, notes), Budgets, Processes (when there are
//! several, or the one profiled is not the program started), Tests or Benchmarks, Hot spots (the
//! user's functions by self allocations), Call paths, Per-module breakdown, Advice (the insights,
//! unless [`TextOptions::advice`] is off), Peak live heap (who held it), Still live at exit (your
//! functions' leaks), Sizes and temporaries, Zero-allocation functions. Sections about data an
//! older profile does not have (peak holders, sizes, temporaries) are left out when it is all
//! zero. Lines are built uncolored, fitted to [`TEXT_WIDTH`](super::TEXT_WIDTH) (`text/fit.rs`),
//! and painted last (`text/layout.rs`), so color never changes the layout.

mod advice;
mod budgets;
mod call_paths;
mod fit;
mod header;
mod hot_spots;
mod layout;
mod leaks;
mod modules;
mod peak;
mod per_test;
mod processes;
mod sizes;
mod zero;

use super::context::{Context, TextOptions};
use crate::analysis::Analysis;
use crate::attribute::ModuleKind;
use layout::Lines;

pub(super) fn render(analysis: &Analysis, context: &Context, options: &TextOptions) -> String {
    let mut lines = Lines { lines: Vec::new() };
    header::header(&mut lines, analysis, context);
    if !analysis.budgets.is_empty() {
        lines.blank();
        budgets::budgets(&mut lines, analysis);
    }
    if processes::shows_processes(analysis, context) {
        lines.blank();
        processes::processes(&mut lines, analysis, options.top);
    }
    if let Some(tests) = &analysis.tests {
        lines.blank();
        per_test::tests_section(&mut lines, tests, options.top);
    }
    if analysis.totals.allocations > 0 {
        lines.blank();
        hot_spots::hot_spots(&mut lines, analysis, context, options.top);
        if !analysis.call_paths.is_empty() {
            lines.blank();
            call_paths::call_paths(&mut lines, analysis, options.top);
        }
        lines.blank();
        modules::modules(&mut lines, analysis, options.top);
        // Advice after the tables that show the numbers, before the details.
        if options.advice {
            lines.blank();
            advice::advice(&mut lines, analysis, context, options.top);
        }
        if analysis.functions.iter().any(|f| f.peak_bytes > 0) {
            lines.blank();
            peak::peak(&mut lines, analysis, context, options.top);
        }
        if analysis
            .leaks
            .iter()
            .any(|l| l.kind == ModuleKind::Workspace)
        {
            lines.blank();
            leaks::leaks(&mut lines, analysis, context, options.top);
        }
        let t = &analysis.totals;
        if !t.size_histogram.is_empty() || t.temporary_allocations > 0 {
            lines.blank();
            sizes::sizes(&mut lines, analysis, options.top);
        }
    }
    if !analysis.processes.is_empty() {
        lines.blank();
        zero::zero_allocation_functions(&mut lines, analysis, options.top);
    }
    lines.finish(options.color)
}
