//! Allocation budgets: limits kept in `Cargo.toml` (the command-line tool reads them), checked
//! against an [`Analysis`]. A pure function of both, like the rest of this crate.
//!
//! What each scope's numbers are:
//! - [`Scope::Run`]: the whole profiled run of `cargo alloc-profile run` (every process): its
//!   allocations, requested bytes, peak live bytes (the largest of any one process) and allocations
//!   still live at exit. Checked for `run` only (and `report`): a test run is another workload.
//! - [`Scope::Function`]: a function of the workspace by its report name (`my_crate::parse::lex`):
//!   its *total* (itself and everything it called), so a budget on `main` bounds the program.
//!   Checked in every command.
//! - [`Scope::Test`]: a test or benchmark by its name in the report's Tests table: the allocations
//!   made with its function on the stack (every binary that has a test of that name must be
//!   within it). Checked for `test`, `bench` and `nextest`.

use crate::Analysis;

/// What a budget limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Run,
    Function(String),
    Test(String),
}

/// The limits of one budget (absent: not limited).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    pub allocations: Option<u64>,
    pub bytes: Option<u64>,
    /// [`Scope::Run`] only (ignored elsewhere; `Cargo.toml` does not allow it there).
    pub peak_bytes: Option<u64>,
    /// [`Scope::Run`] only, as `peak_bytes`: allocations still live at exit.
    pub leaked_allocations: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub scope: Scope,
    pub limits: Limits,
    /// Where it was written (`Cargo.toml` of a package or the workspace), for the report.
    pub source: String,
}

/// The outcome of one limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Within,
    Exceeded,
    /// Not applicable to this run (the reason says why): never a failure.
    NotChecked(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetCheck {
    pub scope: Scope,
    /// `allocations`, `bytes`, `peak`, or `leaked`: the key as written in `Cargo.toml`.
    pub metric: &'static str,
    pub limit: u64,
    /// The measured value; `None` when not checked.
    pub actual: Option<u64>,
    /// For a test: the binary whose test this is.
    pub binary: Option<String>,
    pub verdict: Verdict,
    pub source: String,
}

/// Which command produced the analysis, for [`Scope::Run`] and [`Scope::Test`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Run,
    Test,
}

/// Every limit of every budget that applies to `command`, checked in the order given: within,
/// exceeded, or not checked (a function not in the profiled programs, a test that did not run).
#[must_use]
pub fn check(budgets: &[Budget], analysis: &Analysis, command: Command) -> Vec<BudgetCheck> {
    let mut out = Vec::new();
    for b in budgets {
        let l = &b.limits;
        // Functions and tests have these two; `peak` and `leaked` are the run's only.
        let per_item = [("allocations", l.allocations), ("bytes", l.bytes)];
        // `measured`: the value, or why there is none.
        let mut push = |metric, limit, measured: Result<u64, &'static str>, binary| {
            let (actual, verdict) = match measured {
                Ok(v) if v > limit => (Some(v), Verdict::Exceeded),
                Ok(v) => (Some(v), Verdict::Within),
                Err(reason) => (None, Verdict::NotChecked(reason)),
            };
            out.push(BudgetCheck {
                scope: b.scope.clone(),
                metric,
                limit,
                actual,
                binary,
                verdict,
                source: b.source.clone(),
            });
        };
        match &b.scope {
            // Budgets of another command's scope are left out, not listed as unchecked.
            Scope::Run if command != Command::Run => {}
            Scope::Test(_) if command != Command::Test => {}
            Scope::Run => {
                let t = &analysis.totals;
                let run = [
                    ("allocations", l.allocations, t.allocations),
                    ("bytes", l.bytes, t.bytes),
                    ("peak", l.peak_bytes, t.peak_bytes),
                    ("leaked", l.leaked_allocations, t.leaked_allocations),
                ];
                for (metric, limit, actual) in run {
                    if let Some(limit) = limit {
                        push(metric, limit, Ok(actual), None);
                    }
                }
            }
            Scope::Function(name) => {
                let found = analysis.functions.iter().find(|f| &f.name == name);
                let zero = analysis
                    .zero_allocation_functions
                    .binary_search(name)
                    .is_ok();
                for (metric, limit) in per_item {
                    let Some(limit) = limit else { continue };
                    let measured = match found {
                        Some(f) if metric == "allocations" => Ok(f.total_allocations),
                        Some(f) => Ok(f.total_bytes),
                        None if zero => Ok(0),
                        None => Err("no such function was profiled"),
                    };
                    push(metric, limit, measured, None);
                }
            }
            Scope::Test(name) => {
                let rows: Vec<_> = analysis
                    .tests
                    .iter()
                    .flat_map(|t| &t.tests)
                    .filter(|t| &t.name == name && t.outcome != "ignored")
                    .collect();
                for (metric, limit) in per_item {
                    let Some(limit) = limit else { continue };
                    if rows.is_empty() {
                        push(metric, limit, Err("the test did not run"), None);
                    }
                    for row in &rows {
                        let actual = if metric == "allocations" {
                            row.allocations
                        } else {
                            row.bytes
                        };
                        push(metric, limit, Ok(actual), Some(row.binary.clone()));
                    }
                }
            }
        }
    }
    out
}

/// How many checks failed.
#[must_use]
pub fn exceeded(checks: &[BudgetCheck]) -> usize {
    checks
        .iter()
        .filter(|c| c.verdict == Verdict::Exceeded)
        .count()
}

impl Scope {
    /// `run`, `function NAME` or `test NAME`, for reports.
    #[must_use]
    pub fn label(&self) -> String {
        match self {
            Scope::Run => "the whole run".to_owned(),
            Scope::Function(n) => n.clone(),
            Scope::Test(n) => format!("test {n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::FunctionStats;
    use crate::tests::{TestStats, TestsAnalysis};

    fn analysis() -> Analysis {
        let mut a = Analysis::default();
        a.totals.allocations = 100;
        a.totals.bytes = 5000;
        a.totals.peak_bytes = 700;
        a.totals.leaked_allocations = 2;
        a.functions.push(FunctionStats {
            name: "app::parse".to_owned(),
            total_allocations: 40,
            total_bytes: 1000,
            ..FunctionStats::default()
        });
        a.zero_allocation_functions = vec!["app::sum".to_owned()];
        a.tests = Some(TestsAnalysis {
            tests: vec![TestStats {
                name: "tests::small".to_owned(),
                binary: "app".to_owned(),
                allocations: 3,
                bytes: 30,
                leaked_allocations: 0,
                outcome: "passed".to_owned(),
            }],
            ..TestsAnalysis::default()
        });
        a
    }

    fn budget(scope: Scope, limits: Limits) -> Budget {
        Budget {
            scope,
            limits,
            source: "Cargo.toml".to_owned(),
        }
    }

    #[test]
    fn limits_are_inclusive_and_exceeded_is_counted() {
        let budgets = [
            budget(
                Scope::Run,
                Limits {
                    allocations: Some(100),
                    bytes: Some(4999),
                    peak_bytes: Some(700),
                    leaked_allocations: Some(0),
                },
            ),
            budget(
                Scope::Function("app::parse".to_owned()),
                Limits {
                    allocations: Some(40),
                    bytes: Some(999),
                    ..Limits::default()
                },
            ),
            budget(
                Scope::Function("app::sum".to_owned()),
                Limits {
                    allocations: Some(0),
                    ..Limits::default()
                },
            ),
        ];
        let checks = check(&budgets, &analysis(), Command::Run);
        let verdicts: Vec<(&str, &Verdict)> =
            checks.iter().map(|c| (c.metric, &c.verdict)).collect();
        assert_eq!(
            verdicts,
            [
                ("allocations", &Verdict::Within),
                ("bytes", &Verdict::Exceeded),
                ("peak", &Verdict::Within),
                ("leaked", &Verdict::Exceeded),
                ("allocations", &Verdict::Within),
                ("bytes", &Verdict::Exceeded),
                ("allocations", &Verdict::Within),
            ]
        );
        assert_eq!(exceeded(&checks), 3);
        assert_eq!(checks[1].actual, Some(5000));
    }

    #[test]
    fn what_does_not_apply_is_not_checked_and_never_fails() {
        let budgets = [
            budget(
                Scope::Function("app::typo".to_owned()),
                Limits {
                    allocations: Some(0),
                    ..Limits::default()
                },
            ),
            budget(
                Scope::Run,
                Limits {
                    allocations: Some(0),
                    ..Limits::default()
                },
            ),
            budget(
                Scope::Test("tests::small".to_owned()),
                Limits {
                    allocations: Some(2),
                    ..Limits::default()
                },
            ),
            budget(
                Scope::Test("tests::gone".to_owned()),
                Limits {
                    allocations: Some(2),
                    ..Limits::default()
                },
            ),
        ];
        let checks = check(&budgets, &analysis(), Command::Test);
        // The run budget is not for a test run: left out.
        assert_eq!(checks.len(), 3);
        assert!(matches!(checks[0].verdict, Verdict::NotChecked(_)));
        assert_eq!(checks[1].verdict, Verdict::Exceeded);
        assert_eq!(checks[1].binary.as_deref(), Some("app"));
        assert!(matches!(checks[2].verdict, Verdict::NotChecked(_)));
        assert_eq!(exceeded(&checks), 1);
        // And test budgets are left out of a run.
        assert_eq!(check(&budgets[2..], &analysis(), Command::Run), []);
    }
}
