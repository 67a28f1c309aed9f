//! Still live at exit: your functions' blocks never freed, and one line for the runtime's own.

use super::fit::wrap_prose;
use super::layout::{file_line, more_line, plural, table, Column, Fit, Lines, Style};
use crate::analysis::{Analysis, Leak};
use crate::attribute::ModuleKind;
use crate::render::context::{Context, TEXT_WIDTH};
use crate::units::{human_bytes, thousands};

/// Your functions' blocks still live at exit, and one line for the runtime's own.
pub(super) fn leaks(lines: &mut Lines, analysis: &Analysis, context: &Context, top: usize) {
    lines.push(
        "Still live at exit: blocks your functions allocated and never freed",
        Style::Heading,
    );
    let (yours, theirs): (Vec<&Leak>, Vec<&Leak>) = analysis
        .leaks
        .iter()
        .partition(|l| l.kind == ModuleKind::Workspace);
    let columns = [
        Column::text("function", Fit::Path, 48),
        Column::number("allocs"),
        Column::number("bytes"),
        Column::text("where", Fit::Location, 40),
        Column::text("via", Fit::Path, 32),
    ];
    let rows: Vec<Vec<String>> = yours
        .iter()
        .take(top)
        .map(|l| {
            vec![
                l.function.clone(),
                thousands(l.allocations),
                human_bytes(l.bytes),
                file_line(l.file.as_deref(), l.line, context),
                l.via.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(lines, &columns, &rows, &[(0, 24), (4, 12), (3, 16)]);
    more_line(
        lines,
        yours.len().saturating_sub(top),
        "function",
        "functions",
    );
    if !theirs.is_empty() {
        let allocations: u64 = theirs.iter().map(|l| l.allocations).sum();
        let bytes: u64 = theirs.iter().map(|l| l.bytes).sum();
        let names: Vec<&str> = theirs.iter().map(|l| l.function.as_str()).collect();
        for line in wrap_prose(
            &format!(
                "the runtime's own, not yours: {} {}, {} in {}",
                thousands(allocations),
                plural(allocations, "allocation", "allocations"),
                human_bytes(bytes),
                names.join(", ")
            ),
            "  ",
            "  ",
            TEXT_WIDTH,
        ) {
            lines.push(line, Style::Dim);
        }
    }
}
