//! Advice: the insights, each with its message under its row.

use super::fit::wrap_prose;
use super::layout::{file_line, more_line, plural, table, Column, Fit, Lines, Style};
use crate::analysis::Analysis;
use crate::insights::Insight;
use crate::render::context::{Context, TEXT_WIDTH};
use crate::units::thousands;

/// Advice rows: the function, where, allocations before → after; the message below each.
pub(super) fn advice(lines: &mut Lines, analysis: &Analysis, context: &Context, top: usize) {
    lines.push(
        "Advice: allocations your code could avoid, most first",
        Style::Heading,
    );
    let insights = &analysis.insights;
    if insights.is_empty() {
        let chains = analysis.totals.growth_chains;
        let text = if chains == 0 {
            "none: no allocation of yours matched a pattern with a known cure (regrown vectors, \
             string concatenation, copies)"
                .to_owned()
        } else {
            // Growth chains exist, but none the advice can cure (a collect or format! sizing its
            // own buffer, or too few): do not say there were none.
            format!(
                "none: no allocation of yours matched a pattern with a known cure (a vector \
                 regrown by push or extend, string concatenation, repeated or large copies); the \
                 {} regrown {} in the profile grew inside calls that size their own buffers \
                 (collect, format!, ...) or were too few to matter",
                thousands(chains),
                plural(chains, "block", "blocks"),
            )
        };
        for line in wrap_prose(&text, "  ", "  ", TEXT_WIDTH) {
            lines.push(line, Style::Dim);
        }
        return;
    }
    let shown: Vec<&Insight> = insights.iter().take(top).collect();
    let columns = [
        Column::text("function", Fit::Path, 40),
        Column::text("where", Fit::Location, 40),
        Column::number("allocations"),
        Column::text("advice", Fit::Keep, 16),
    ];
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|i| {
            vec![
                i.function.clone(),
                file_line(i.file.as_deref(), i.line, context),
                format!(
                    "{} → {}",
                    thousands(i.allocations),
                    thousands(i.remaining())
                ),
                i.kind.as_str().to_owned(),
            ]
        })
        .collect();
    let mut table_lines = Lines { lines: Vec::new() };
    table(&mut table_lines, &columns, &rows, &[(0, 24), (1, 16)]);
    let mut table_lines = table_lines.lines.into_iter();
    if let Some((header, style)) = table_lines.next() {
        lines.push(header, style);
    }
    for (insight, (row, style)) in shown.iter().zip(table_lines) {
        lines.push(row, style);
        for line in wrap_prose(&insight.message, "      ", "      ", TEXT_WIDTH) {
            lines.push(line, Style::Dim);
        }
    }
    more_line(
        lines,
        insights.len().saturating_sub(top),
        "insight",
        "insights",
    );
}
