//! Budgets: every checked limit, exceeded first, and what could not be checked.

use super::fit::wrap_prose;
use super::layout::{table, Column, Fit, Lines, Style};
use crate::analysis::Analysis;
use crate::render::context::TEXT_WIDTH;
use crate::units::{human_bytes, thousands};

/// Every budget limit (all of them, whatever `--top` says: a gate hides nothing), exceeded first.
pub(super) fn budgets(lines: &mut Lines, analysis: &Analysis) {
    use crate::budget::{Metric, Verdict};
    let checks = &analysis.budgets;
    let failed = crate::budget::exceeded(checks);
    let checked = checks
        .iter()
        .filter(|c| !matches!(c.verdict, Verdict::NotChecked(_)))
        .count();
    let heading = match (failed, checked) {
        (0, 0) => "Budgets (Cargo.toml): none applies to this run".to_owned(),
        (0, 1) => "Budgets (Cargo.toml): the one checked limit is kept".to_owned(),
        (0, n) => format!("Budgets (Cargo.toml): all {n} checked limits kept"),
        (f, n) => format!("Budgets (Cargo.toml): {f} of {n} checked limits EXCEEDED"),
    };
    lines.push(
        heading,
        if failed > 0 {
            Style::Warning
        } else {
            Style::Heading
        },
    );
    let columns = [
        Column::text("budget", Fit::Path, 48),
        Column::text("metric", Fit::Keep, 12),
        Column::number("limit"),
        Column::number("actual"),
        Column::text("result", Fit::Keep, 8),
    ];
    let amount = |metric: Metric, v: u64| {
        if metric.is_bytes() {
            human_bytes(v)
        } else {
            thousands(v)
        }
    };
    // A pattern that kept several functions or tests is one row (`largest of 698 tests by "*"`).
    let rows: Vec<Vec<String>> = crate::budget::table_rows(checks)
        .into_iter()
        .map(|r| {
            let result = if r.exceeded { "EXCEEDED" } else { "kept" };
            vec![
                r.label,
                r.metric.as_str().to_owned(),
                amount(r.metric, r.limit),
                amount(r.metric, r.actual),
                result.to_owned(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        table(lines, &columns, &rows, &[(0, 20)]);
    }
    // What could not be checked, one line per reason: a typo in a name shows here.
    let mut reasons: Vec<(&str, Vec<String>)> = Vec::new();
    for c in checks {
        if let Verdict::NotChecked(why) = c.verdict {
            let name = c.scope.label();
            match reasons.iter_mut().find(|(w, _)| *w == why) {
                Some((_, names)) if !names.contains(&name) => names.push(name),
                Some(_) => {}
                None => reasons.push((why, vec![name])),
            }
        }
    }
    for (why, names) in reasons {
        for line in wrap_prose(
            &format!("not checked ({why}): {}", names.join(", ")),
            "  ",
            "    ",
            TEXT_WIDTH,
        ) {
            lines.push(line, Style::Dim);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::{BudgetCheck, Metric, Scope, Verdict};

    #[test]
    fn budgets_exceeded_first_with_units() {
        let check = |scope, metric, limit, actual, verdict| BudgetCheck {
            scope,
            metric,
            limit,
            actual,
            binary: None,
            verdict,
            source: "Cargo.toml".to_owned(),
            pattern: None,
        };
        let analysis = Analysis {
            budgets: vec![
                check(
                    Scope::Run,
                    Metric::Allocations,
                    5000,
                    Some(20),
                    Verdict::Within,
                ),
                check(
                    Scope::Function("app::f".to_owned()),
                    Metric::Bytes,
                    1024,
                    Some(4096),
                    Verdict::Exceeded,
                ),
                check(
                    Scope::Function("app::typo".to_owned()),
                    Metric::Allocations,
                    0,
                    None,
                    Verdict::NotChecked("no such function was profiled"),
                ),
            ],
            ..Analysis::default()
        };
        let mut lines = Lines { lines: Vec::new() };
        budgets(&mut lines, &analysis);
        let text = lines.finish(false);
        let expected = "\
Budgets (Cargo.toml): 1 of 2 checked limits EXCEEDED
  budget         metric         limit   actual  result
  app::f         bytes        1.0 KiB  4.0 KiB  EXCEEDED
  the whole run  allocations    5,000       20  kept
  not checked (no such function was profiled): app::typo
";
        assert_eq!(text, expected);
    }
}
