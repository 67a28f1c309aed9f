//! What a CI log gets after the report: a line on standard error for each exceeded budget limit,
//! and under GitHub Actions the annotations and step summary of [`crate::github_actions`].

use std::path::Path;

use anyhow::Result;

use alloc_profile_report::budget::{BudgetCheck, Verdict};
use alloc_profile_report::Analysis;

use crate::github_actions;

/// Exceeded limits named on standard error at most.
const CULPRIT_LINES: usize = 10;

/// What a CI log needs after the report: one line on standard error per exceeded limit (scope,
/// name, metric, actual, limit; at most ten, then how many more), then under GitHub Actions an
/// `::error` annotation for each where the source line is known, and with `GITHUB_STEP_SUMMARY`
/// set the markdown summary of the report appended to it. `command` heads the summary.
pub fn announce(analysis: &Analysis, command: &[String], root: &Path) -> Result<()> {
    let exceeded: Vec<_> = analysis
        .budgets
        .iter()
        .filter(|c| c.verdict == Verdict::Exceeded)
        .collect();
    for line in culprit_lines(&exceeded) {
        eprintln!("{line}");
    }
    if github_actions::on_actions() {
        // Standard error, like the lines above: standard output may be the JSON report. The
        // runner reads workflow commands from both.
        for line in github_actions::annotations(analysis, root) {
            eprintln!("{line}");
        }
    }
    github_actions::append_summary(&github_actions::report_summary(analysis, command))
}

fn culprit_lines(exceeded: &[&BudgetCheck]) -> Vec<String> {
    let mut lines: Vec<String> = exceeded
        .iter()
        .take(CULPRIT_LINES)
        .map(|c| format!("budget exceeded: {}", c.culprit_line()))
        .collect();
    if exceeded.len() > CULPRIT_LINES {
        lines.push(format!(
            "budget exceeded: {} more (the report's Budgets section lists every one)",
            exceeded.len() - CULPRIT_LINES
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc_profile_report::budget::Scope;

    #[test]
    fn at_most_ten_culprits_then_how_many_more() {
        let check = |i: u64| BudgetCheck {
            scope: Scope::Test(format!("tests::t{i}")),
            metric: alloc_profile_report::budget::Metric::Allocations,
            limit: 1,
            actual: Some(i + 2),
            binary: Some("app".to_owned()),
            verdict: Verdict::Exceeded,
            source: "Cargo.toml".to_owned(),
            pattern: Some("tests::*".to_owned()),
        };
        let checks: Vec<BudgetCheck> = (0..13).map(check).collect();
        let refs: Vec<&BudgetCheck> = checks.iter().collect();
        let lines = culprit_lines(&refs);
        assert_eq!(lines.len(), 11);
        assert_eq!(
            lines[0],
            "budget exceeded: test tests::t0 (app) by \"tests::*\": allocations 2 > limit 1"
        );
        assert_eq!(
            lines[10],
            "budget exceeded: 3 more (the report's Budgets section lists every one)"
        );
        assert_eq!(culprit_lines(&refs[..10]).len(), 10);
    }
}
