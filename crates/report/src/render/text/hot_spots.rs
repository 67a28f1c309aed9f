//! Hot spots: your functions by self allocations.

use super::fit::wrap_prose;
use super::layout::{location, more_line, table, Column, Fit, Lines, Style};
use crate::analysis::Analysis;
use crate::render::context::{Context, TEXT_WIDTH};
use crate::units::{human_bytes, thousands};

pub(super) fn hot_spots(lines: &mut Lines, analysis: &Analysis, context: &Context, top: usize) {
    let spots = analysis.hot_spots();
    lines.push(
        "Hot spots: your functions by self allocations",
        Style::Heading,
    );
    if spots.is_empty() {
        for line in wrap_prose(
            "None of your functions is on an allocation stack: every allocation came from the \
             runtime, a dependency or the C library (see the per-module breakdown).",
            "  ",
            "  ",
            TEXT_WIDTH,
        ) {
            lines.push(line, Style::Plain);
        }
        return;
    }
    lines.push(
        "  self: allocations made in the function's own body; total: with everything it called",
        Style::Dim,
    );
    let columns = [
        Column::text("function", Fit::Path, 40),
        Column::number("self"),
        Column::number("total"),
        Column::number("bytes"),
        Column::text("where", Fit::Location, 40),
        Column::text("via", Fit::Path, 32),
    ];
    let rows: Vec<Vec<String>> = spots
        .iter()
        .take(top)
        .map(|f| {
            vec![
                f.name.clone(),
                thousands(f.self_allocations),
                thousands(f.total_allocations),
                human_bytes(f.self_bytes),
                location(f, context),
                f.via.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        lines,
        &columns,
        &rows,
        &[
            (0, 30),
            (5, 16),
            (4, 18),
            (0, 24),
            (4, 12),
            (5, 10),
            (0, 12),
        ],
    );
    more_line(
        lines,
        spots.len().saturating_sub(top),
        "function",
        "functions",
    );
}
