//! Zero-allocation functions: the count and the first names.

use super::fit::{wrap, wrap_prose};
use super::layout::{more_line, Lines, Style};
use crate::analysis::Analysis;
use crate::render::context::TEXT_WIDTH;
use crate::units::thousands;

/// The count and the first `top` names (all of them are in the JSON report).
pub(super) fn zero_allocation_functions(lines: &mut Lines, analysis: &Analysis, top: usize) {
    let zero = &analysis.zero_allocation_functions;
    if analysis.workspace_function_count == 0 {
        lines.push("Zero-allocation functions: unknown", Style::Heading);
        lines.push(
            "  the debug info listed no functions of your crates, so there is nothing to compare \
             with",
            Style::Dim,
        );
        return;
    }
    lines.push(
        format!(
            "Zero-allocation functions ({})",
            thousands(zero.len() as u64)
        ),
        Style::Heading,
    );
    if zero.is_empty() {
        lines.push(
            "  none: every function of your crates in the debug info was on an allocation stack",
            Style::Dim,
        );
        return;
    }
    for line in wrap_prose(
        "defined in your crates but never on an allocation stack: each either ran without \
         allocating or did not run at all (the profile does not record calls)",
        "  ",
        "  ",
        TEXT_WIDTH,
    ) {
        lines.push(line, Style::Dim);
    }
    let shown = &zero[..zero.len().min(top)];
    for line in wrap(shown, "  ", "  ", TEXT_WIDTH) {
        lines.push(line, Style::Plain);
    }
    more_line(lines, zero.len() - shown.len(), "function", "functions");
}
