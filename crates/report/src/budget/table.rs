//! The rows of a budgets table, shared by the text report and the command-line tool's summaries:
//! a pattern that kept hundreds of tests is one row.

use super::types::{BudgetCheck, Metric, Scope, Verdict};

/// A row of a budgets table: one checked limit, or the kept limits of one pattern that held
/// several functions or tests (with the largest value among them), so that `"*"` over hundreds of
/// tests is one row. Exceeded limits always have a row each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    pub label: String,
    pub metric: Metric,
    pub limit: u64,
    pub actual: u64,
    pub exceeded: bool,
}

/// The rows of a budgets table for the checked limits of `checks`: exceeded first, then kept, each
/// in the order checked; kept limits of one pattern (same key, metric, limit and `Cargo.toml`)
/// share a row when there are several.
#[must_use]
pub fn table_rows(checks: &[BudgetCheck]) -> Vec<TableRow> {
    let row = |c: &BudgetCheck, actual| TableRow {
        label: c.label(),
        metric: c.metric,
        limit: c.limit,
        actual,
        exceeded: c.verdict == Verdict::Exceeded,
    };
    let group = |c: &BudgetCheck| {
        let kind = matches!(c.scope, Scope::Test(_));
        (c.pattern.clone(), c.metric, c.limit, c.source.clone(), kind)
    };
    let mut out: Vec<TableRow> = checks
        .iter()
        .filter(|c| c.verdict == Verdict::Exceeded)
        .filter_map(|c| Some(row(c, c.actual?)))
        .collect();
    let kept: Vec<&BudgetCheck> = checks
        .iter()
        .filter(|c| c.verdict == Verdict::Within)
        .collect();
    let mut done = Vec::new();
    for c in &kept {
        let Some(actual) = c.actual else { continue };
        if c.pattern.is_none() {
            out.push(row(c, actual));
            continue;
        }
        let key = group(c);
        if done.contains(&key) {
            continue;
        }
        let members: Vec<u64> = kept
            .iter()
            .filter(|k| group(k) == key)
            .filter_map(|k| k.actual)
            .collect();
        if members.len() == 1 {
            out.push(row(c, actual));
        } else {
            let what = if key.4 { "tests" } else { "functions" };
            out.push(TableRow {
                label: format!(
                    "largest of {} {what} by \"{}\"",
                    members.len(),
                    key.0.as_deref().unwrap_or_default()
                ),
                metric: c.metric,
                limit: c.limit,
                actual: members.iter().copied().max().unwrap_or_default(),
                exceeded: false,
            });
        }
        done.push(key);
    }
    out
}
