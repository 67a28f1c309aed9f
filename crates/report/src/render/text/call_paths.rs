//! Call paths: your functions from the entry points down (see [`crate::paths`]).

use super::fit::{fit_path, width};
use super::layout::{plural, Lines, Style};
use crate::analysis::Analysis;
use crate::render::context::TEXT_WIDTH;
use crate::units::thousands;

/// The call-path tree, depth first, as [`crate::paths::listed`] bounds it, at most `top` (at least
/// 20) rows.
pub(super) fn call_paths(lines: &mut Lines, analysis: &Analysis, top: usize) {
    lines.push(
        "Call paths: your functions from the entry points down, with everything they called",
        Style::Heading,
    );
    let limit = top.max(20);
    let (shown, hidden) = crate::paths::listed(&analysis.call_paths, limit);
    let total_width = shown
        .iter()
        .map(|p| width(&thousands(p.total_allocations)))
        .chain([width("total")])
        .max()
        .unwrap_or(5);
    let self_width = shown
        .iter()
        .map(|p| width(&thousands(p.self_allocations)))
        .chain([width("self")])
        .max()
        .unwrap_or(4);
    lines.push(
        format!(
            "  {:>total_width$}  {:>self_width$}  function",
            "total", "self"
        ),
        Style::Dim,
    );
    for p in shown {
        let indent = "  ".repeat(p.depth.min(20));
        let room = TEXT_WIDTH.saturating_sub(6 + total_width + self_width + indent.len());
        lines.push(
            format!(
                "  {:>total_width$}  {:>self_width$}  {indent}{}",
                thousands(p.total_allocations),
                thousands(p.self_allocations),
                fit_path(&p.function, room.max(12))
            ),
            Style::Plain,
        );
    }
    if hidden > 0 {
        lines.push(
            format!(
                "  ... {hidden} more {} under {}% of these allocations or past {limit} \
                 rows (--top N)",
                plural(hidden as u64, "call", "calls"),
                crate::paths::LISTED_SHARE
            ),
            Style::Dim,
        );
    }
}
