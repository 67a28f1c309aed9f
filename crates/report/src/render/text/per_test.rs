//! Tests (or Benchmarks): the per-test table, the harness lines and the zero-allocation tests.

use super::fit::wrap;
use super::layout::{more_line, plural, table, Column, Fit, Lines, Style};
use crate::per_test::{TestStats, TestsAnalysis};
use crate::render::context::TEXT_WIDTH;
use crate::units::{human_bytes, thousands};

/// Per-test (or per-benchmark) table, the harness lines and the zero-allocation tests.
pub(super) fn tests_section(lines: &mut Lines, tests: &TestsAnalysis, top: usize) {
    let (what, whats) = if tests.bench {
        ("benchmark", "Benchmarks")
    } else {
        ("test", "Tests")
    };
    lines.push(
        format!("{whats}: allocations made with the {what}'s function on the stack"),
        Style::Heading,
    );
    if tests.bench {
        lines.push(
            "  timings the benchmark harness printed above are not meaningful while profiling",
            Style::Dim,
        );
    }
    let ran: Vec<&TestStats> = tests
        .tests
        .iter()
        .filter(|t| t.allocations > 0 || t.outcome != "ignored")
        .collect();
    let shown = top.max(20);
    // The peak column, when some test's peak was measured (not for benchmarks).
    let peaks = ran.iter().any(|t| t.peak_bytes.is_some());
    let mut rows: Vec<Vec<String>> = ran
        .iter()
        .take(shown)
        .map(|t| {
            let mut row = vec![
                t.name.clone(),
                t.binary.clone(),
                thousands(t.allocations),
                human_bytes(t.bytes),
            ];
            if peaks {
                row.push(t.peak_bytes.map(human_bytes).unwrap_or_default());
            }
            row.push(t.outcome.clone());
            row
        })
        .collect();
    for h in &tests.harness {
        let mut row = vec![
            format!("({what} harness)"),
            h.binary.clone(),
            thousands(h.allocations),
            human_bytes(h.bytes),
        ];
        if peaks {
            row.push(String::new());
        }
        row.push(String::new());
        rows.push(row);
    }
    if rows.is_empty() {
        lines.push(format!("  no {what} ran"), Style::Dim);
        return;
    }
    let mut columns = vec![
        Column::text(what, Fit::Path, 60),
        Column::text("binary", Fit::End, 24),
        Column::number("allocs"),
        Column::number("bytes"),
    ];
    if peaks {
        columns.push(Column::number("peak"));
    }
    columns.push(Column::text("outcome", Fit::Keep, 8));
    table(lines, &columns, &rows, &[(0, 30), (1, 12), (0, 20)]);
    if peaks {
        lines.push(
            format!("  peak: the most bytes the {what} allocated that were live at once"),
            Style::Dim,
        );
    }
    let hidden = ran.len().saturating_sub(shown);
    if hidden > 0 {
        lines.push(
            format!("  ... {hidden} more (--top N, or --format json for all)"),
            Style::Dim,
        );
    }
    let ignored = tests
        .tests
        .iter()
        .filter(|t| t.outcome == "ignored" && t.allocations == 0)
        .count();
    if ignored > 0 {
        lines.push(
            format!(
                "  {ignored} ignored {} not run",
                plural(ignored as u64, what, "tests")
            ),
            Style::Dim,
        );
    }
    if !tests.bench {
        lines.blank();
        lines.push(
            format!(
                "Zero-allocation tests ({})",
                thousands(tests.zero_allocation_tests.len() as u64)
            ),
            Style::Heading,
        );
        let names: Vec<String> = tests
            .zero_allocation_tests
            .iter()
            .take(top)
            .map(|(_, n)| n.clone())
            .collect();
        if names.is_empty() {
            lines.push("  none: every test that ran allocated", Style::Dim);
        }
        for line in wrap(&names, "  ", "  ", TEXT_WIDTH) {
            lines.push(line, Style::Plain);
        }
        more_line(
            lines,
            tests.zero_allocation_tests.len() - names.len(),
            "test",
            "tests",
        );
        for b in &tests.incomplete_names {
            lines.push(
                format!(
                    "  {b}: its output did not name every test (terse format?), so its \
                     zero-allocation tests are not known"
                ),
                Style::Dim,
            );
        }
    }
}
