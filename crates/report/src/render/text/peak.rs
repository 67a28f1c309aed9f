//! Peak live heap: the functions holding the most bytes at the peak.

use std::cmp::Reverse;

use super::layout::{location, more_line, table, Column, Fit, Lines, Style};
use crate::analysis::{Analysis, FunctionStats};
use crate::render::context::Context;
use crate::units::{human_bytes, percent};

/// The functions holding the most bytes at the peak.
pub(super) fn peak(lines: &mut Lines, analysis: &Analysis, context: &Context, top: usize) {
    let t = &analysis.totals;
    lines.push(
        format!(
            "Peak live heap: {}, held by your functions",
            human_bytes(t.peak_bytes)
        ),
        Style::Heading,
    );
    let mut holders: Vec<&FunctionStats> = analysis
        .functions
        .iter()
        .filter(|f| f.peak_bytes > 0)
        .collect();
    holders.sort_by(|a, b| (Reverse(a.peak_bytes), &a.name).cmp(&(Reverse(b.peak_bytes), &b.name)));
    let columns = [
        Column::text("function", Fit::Path, 48),
        Column::number("at peak"),
        Column::number("share"),
        Column::text("where", Fit::Location, 40),
    ];
    let rows: Vec<Vec<String>> = holders
        .iter()
        .take(top)
        .map(|f| {
            vec![
                f.name.clone(),
                human_bytes(f.peak_bytes),
                percent(f.peak_bytes, t.peak_bytes),
                location(f, context),
            ]
        })
        .collect();
    table(lines, &columns, &rows, &[(0, 24), (3, 16)]);
    more_line(
        lines,
        holders.len().saturating_sub(top),
        "function",
        "functions",
    );
    let yours: u64 = holders.iter().map(|f| f.peak_bytes).sum();
    let rest = t.peak_bytes.saturating_sub(yours);
    if rest > 0 {
        lines.push(
            format!(
                "  the other {} were held by the runtime, dependencies on their own or the C \
                 library",
                human_bytes(rest)
            ),
            Style::Dim,
        );
    }
}
