//! Sizes and temporaries: request sizes as sparklines, and the share of temporary blocks.

use std::cmp::Reverse;

use super::layout::{more_line, table, Column, Fit, Lines, Style};
use crate::analysis::Analysis;
use crate::units::{bucket_label, percent, thousands};

/// Marks of a sparkline, by height.
const MARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Most buckets a sparkline shows; smaller sizes fold into its first mark.
const MAX_MARKS: usize = 24;

/// Request sizes and temporary allocations, overall and for the top hot spots.
pub(super) fn sizes(lines: &mut Lines, analysis: &Analysis, top: usize) {
    let t = &analysis.totals;
    lines.push(
        "Sizes and temporaries: requests by power-of-two size, blocks freed at once",
        Style::Heading,
    );
    let range = bucket_span(&t.size_histogram);
    if let Some((lo, hi)) = range {
        lines.push(
            format!(
                "  sizes: one mark per power of two, {} (left) to {} (right); most: the commonest",
                bucket_label(lo),
                bucket_label(hi)
            ),
            Style::Dim,
        );
    }
    lines.push(
        "  temporary: freed by the allocating thread before it allocated anything else",
        Style::Dim,
    );
    let columns = [
        Column::text("function", Fit::Path, 40),
        Column::number("allocs"),
        Column::number("temporary"),
        Column::text("sizes", Fit::Keep, MAX_MARKS),
        Column::text("most", Fit::Keep, 16),
    ];
    let row = |name: String, allocations: u64, temporary: u64, histogram: &[u64]| {
        vec![
            name,
            thousands(allocations),
            percent(temporary, allocations),
            range.map_or(String::new(), |r| sparkline(histogram, r)),
            commonest(histogram).map_or(String::new(), bucket_label),
        ]
    };
    let mut rows = vec![row(
        "(all)".to_owned(),
        t.allocations,
        t.temporary_allocations,
        &t.size_histogram,
    )];
    let spots = analysis.hot_spots();
    rows.extend(spots.iter().take(top).map(|f| {
        row(
            f.name.clone(),
            f.self_allocations,
            f.temporary_allocations,
            &f.size_histogram,
        )
    }));
    table(lines, &columns, &rows, &[(0, 24)]);
    more_line(
        lines,
        spots.len().saturating_sub(top),
        "function",
        "functions",
    );
}

/// First and last non-empty bucket, at most [`MAX_MARKS`] apart.
fn bucket_span(histogram: &[u64]) -> Option<(usize, usize)> {
    let lo = histogram.iter().position(|&n| n > 0)?;
    let hi = histogram.iter().rposition(|&n| n > 0)?;
    Some((lo.max((hi + 1).saturating_sub(MAX_MARKS)), hi))
}

/// The most frequent bucket (ties: the smaller).
fn commonest(histogram: &[u64]) -> Option<usize> {
    let (b, n) = histogram
        .iter()
        .enumerate()
        .max_by_key(|(b, &n)| (n, Reverse(*b)))?;
    (*n > 0).then_some(b)
}

/// One mark per bucket of `lo..=hi` (buckets below `lo` fold into the first), scaled to the
/// fullest; `·` for an empty one.
fn sparkline(histogram: &[u64], (lo, hi): (usize, usize)) -> String {
    if histogram.iter().all(|&n| n == 0) {
        return String::new();
    }
    let count = |b: usize| -> u64 {
        if b == lo {
            histogram.iter().take(lo + 1).sum()
        } else {
            histogram.get(b).copied().unwrap_or(0)
        }
    };
    let max = (lo..=hi).map(count).max().unwrap_or(0).max(1);
    (lo..=hi)
        .map(|b| match count(b) {
            0 => '·',
            n => {
                let level = (u128::from(n) * 8).div_ceil(u128::from(max));
                MARKS[usize::try_from(level).unwrap_or(8).clamp(1, 8) - 1]
            }
        })
        .collect()
}
