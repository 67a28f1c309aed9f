//! Per-module breakdown: every allocation in one module of yours, of a dependency, or of the
//! runtime or C library.

use super::layout::{more_line, table, Column, Fit, Lines, Style};
use crate::analysis::{Analysis, ModuleStats};
use crate::attribute::{ModuleKind, LIBC_MODULE, RUNTIME_MODULE};
use crate::units::{human_bytes, percent, thousands};

fn module_label(m: &ModuleStats) -> String {
    match m.kind {
        ModuleKind::Dependency => format!("{} (dependency)", m.name),
        _ => m.name.clone(),
    }
}

pub(super) fn modules(lines: &mut Lines, analysis: &Analysis, top: usize) {
    let all = analysis.totals.allocations;
    lines.push(
        "Per-module breakdown: each allocation in the innermost module of your code or a dependency",
        Style::Heading,
    );
    let columns = [
        Column::text("module", Fit::Path, 48),
        Column::number("allocs"),
        Column::number("share"),
        Column::number("bytes"),
        Column::number("live at exit"),
    ];
    let shown: Vec<&ModuleStats> = analysis.modules.iter().take(top).collect();
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|m| {
            vec![
                module_label(m),
                thousands(m.allocations),
                percent(m.allocations, all),
                human_bytes(m.bytes),
                thousands(m.leaked_allocations),
            ]
        })
        .collect();
    table(lines, &columns, &rows, &[(0, 24)]);
    more_line(
        lines,
        analysis.modules.len().saturating_sub(top),
        "module",
        "modules",
    );
    if shown.iter().any(|m| m.kind == ModuleKind::Runtime) {
        lines.push(
            format!(
                "  {RUNTIME_MODULE}: std and start-up code with no frame of yours or of a \
                 dependency (e.g. stdout buffer)"
            ),
            Style::Dim,
        );
    }
    if shown.iter().any(|m| m.kind == ModuleKind::LibcInternal) {
        lines.push(
            format!(
                "  {LIBC_MODULE}: glibc's own allocations (e.g. thread start-up), blamed on no \
                 function"
            ),
            Style::Dim,
        );
    }
}
