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
//!   made with its function on the stack, and its peak of live bytes (see [`crate::per_test`]);
//!   every binary that has a test of that name must be within it. Checked for `test`, `bench`
//!   and `nextest`.
//!
//! Function and test keys may be patterns ([`Pattern`]): `*` stands for any text (`::` included),
//! `?` for one character. Each function or test is held to the most specific key that matches it
//! (a name beats every pattern; of two patterns, the one with more literal characters wins; keys
//! equally specific all apply), so `"*"` is the default for every test. A pattern is checked
//! against the functions of the workspace that allocated, or the tests that ran.

mod pattern;
mod table;
pub(crate) mod types;

use crate::analysis::Analysis;
use pattern::winners;

pub use pattern::{Pattern, PatternError};
pub use table::{table_rows, TableRow};
pub use types::{exceeded, Budget, BudgetCheck, Command, Limits, Metric, Scope, Verdict};

/// Every limit of every budget that applies to `command`, checked in the order given (a pattern's
/// functions or tests in the analysis's order): within, exceeded, or not checked (a function not
/// in the profiled programs, a test that did not run, a pattern that matches none of them).
#[must_use]
pub fn check(budgets: &[Budget], analysis: &Analysis, command: Command) -> Vec<BudgetCheck> {
    // The keys of each kind, parsed once, to find the most specific for every name.
    let keys = |test: bool| -> Vec<(usize, Pattern)> {
        budgets
            .iter()
            .enumerate()
            .filter_map(|(i, b)| match &b.scope {
                Scope::Function(k) if !test => Some((i, Pattern::parse(k).ok()?)),
                Scope::Test(k) if test => Some((i, Pattern::parse(k).ok()?)),
                _ => None,
            })
            .collect()
    };
    let (function_keys, test_keys) = (keys(false), keys(true));
    let test_rows: Vec<_> = analysis
        .tests
        .iter()
        .flat_map(|t| &t.tests)
        .filter(|t| t.outcome != "ignored")
        .collect();
    let mut out = Vec::new();
    for (index, b) in budgets.iter().enumerate() {
        let l = &b.limits;
        // Functions and tests have these two, tests also `peak`; `leaked` is the run's only.
        let test_scope = matches!(b.scope, Scope::Test(_));
        let item_limits = [
            (Metric::Allocations, l.allocations),
            (Metric::Bytes, l.bytes),
            (Metric::Peak, l.peak_bytes.filter(|_| test_scope)),
        ];
        let key = match &b.scope {
            Scope::Run => None,
            Scope::Function(k) | Scope::Test(k) => Some(k),
        };
        let parsed = key.map(|k| Pattern::parse(k));
        let invalid = matches!(parsed, Some(Err(_)));
        let pattern = parsed.and_then(Result::ok).unwrap_or_default();
        let glob = pattern.is_glob();
        // `measured`: the value, or why there is none.
        let mut push =
            |scope: Scope, metric, limit, measured: Result<u64, &'static str>, binary| {
                let (actual, verdict) = match measured {
                    Ok(v) if v > limit => (Some(v), Verdict::Exceeded),
                    Ok(v) => (Some(v), Verdict::Within),
                    Err(reason) => (None, Verdict::NotChecked(reason)),
                };
                out.push(BudgetCheck {
                    scope,
                    metric,
                    limit,
                    actual,
                    binary,
                    verdict,
                    source: b.source.clone(),
                    pattern: if glob { key.cloned() } else { None },
                });
            };
        let other_command = match b.scope {
            Scope::Run => command != Command::Run,
            Scope::Test(_) => command != Command::Test,
            Scope::Function(_) => false,
        };
        if invalid && !other_command {
            // The tool rejects invalid keys before anything runs; another caller gets a row.
            for (metric, limit) in item_limits {
                if let Some(limit) = limit {
                    let why = Err("not a valid pattern");
                    push(b.scope.clone(), metric, limit, why, None);
                }
            }
            continue;
        }
        match &b.scope {
            // Budgets of another command's scope are left out, not listed as unchecked.
            _ if other_command => {}
            Scope::Run => {
                let t = &analysis.totals;
                let run = [
                    (Metric::Allocations, l.allocations, t.allocations),
                    (Metric::Bytes, l.bytes, t.bytes),
                    (Metric::Peak, l.peak_bytes, t.peak_bytes),
                    (Metric::Leaked, l.leaked_allocations, t.leaked_allocations),
                ];
                for (metric, limit, actual) in run {
                    if let Some(limit) = limit {
                        push(Scope::Run, metric, limit, Ok(actual), None);
                    }
                }
            }
            Scope::Function(_) if !glob => {
                let found = analysis.functions.iter().find(|f| pattern.matches(&f.name));
                let zero = analysis
                    .zero_allocation_functions
                    .iter()
                    .any(|f| pattern.matches(f));
                for (metric, limit) in item_limits {
                    let Some(limit) = limit else { continue };
                    let measured = match found {
                        Some(f) if metric == Metric::Allocations => Ok(f.total_allocations),
                        Some(f) => Ok(f.total_bytes),
                        None if zero => Ok(0),
                        None => Err("no such function was profiled"),
                    };
                    push(b.scope.clone(), metric, limit, measured, None);
                }
            }
            Scope::Function(key) => {
                let matched: Vec<_> = analysis
                    .functions
                    .iter()
                    .filter(|f| pattern.matches(&f.name))
                    .collect();
                let held: Vec<_> = matched
                    .iter()
                    .filter(|f| winners(&function_keys, &f.name).contains(&index))
                    .collect();
                let zero = analysis
                    .zero_allocation_functions
                    .iter()
                    .any(|f| pattern.matches(f));
                for (metric, limit) in item_limits {
                    let Some(limit) = limit else { continue };
                    for f in &held {
                        let actual = if metric == Metric::Allocations {
                            f.total_allocations
                        } else {
                            f.total_bytes
                        };
                        let scope = Scope::Function(f.name.clone());
                        push(scope, metric, limit, Ok(actual), None);
                    }
                    if !held.is_empty() {
                        continue;
                    }
                    // Nothing of its own to check: say why (every function it matches allocated
                    // nothing: within, as a name of such a function is).
                    let scope = Scope::Function(key.clone());
                    let measured = match (matched.is_empty(), zero) {
                        (false, _) => Err("a more specific key holds every function it matches"),
                        (true, true) => Ok(0),
                        (true, false) => Err("the pattern matches no profiled function"),
                    };
                    push(scope, metric, limit, measured, None);
                }
            }
            Scope::Test(key) => {
                let matched: Vec<_> = test_rows
                    .iter()
                    .filter(|t| pattern.matches(&t.name))
                    .collect();
                let held: Vec<_> = matched
                    .iter()
                    .filter(|t| winners(&test_keys, &t.name).contains(&index))
                    .collect();
                for (metric, limit) in item_limits {
                    let Some(limit) = limit else { continue };
                    if held.is_empty() {
                        let why = match (glob, matched.is_empty()) {
                            (false, _) => "the test did not run",
                            (true, true) => "the pattern matches no test that ran",
                            (true, false) => "a more specific key holds every test it matches",
                        };
                        push(Scope::Test(key.clone()), metric, limit, Err(why), None);
                    }
                    for row in &held {
                        let measured = match metric {
                            Metric::Allocations => Ok(row.allocations),
                            Metric::Peak => row.peak_bytes.ok_or(
                                "the profile has no per-test peaks (written by an older version)",
                            ),
                            _ => Ok(row.bytes),
                        };
                        let scope = Scope::Test(row.name.clone());
                        push(scope, metric, limit, measured, Some(row.binary.clone()));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::FunctionStats;
    use crate::per_test::{TestStats, TestsAnalysis};

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
                peak_bytes: Some(300),
                outcome: "passed".to_owned(),
            }]
            .into_iter()
            .chain(
                ["tests::big", "tests::other", "io::big", "solo"].map(|name| TestStats {
                    name: name.to_owned(),
                    binary: "app".to_owned(),
                    allocations: 50,
                    bytes: 500,
                    leaked_allocations: 0,
                    peak_bytes: Some(5000),
                    outcome: "passed".to_owned(),
                }),
            )
            .collect(),
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
        let verdicts: Vec<(&str, &Verdict)> = checks
            .iter()
            .map(|c| (c.metric.as_str(), &c.verdict))
            .collect();
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

    #[test]
    fn a_test_peak_is_checked_and_an_older_profile_has_none() {
        let peak = |key: &str, limit: u64| {
            budget(
                Scope::Test(key.to_owned()),
                Limits {
                    peak_bytes: Some(limit),
                    ..Limits::default()
                },
            )
        };
        let mut a = analysis();
        let checks = check(
            &[peak("tests::small", 299), peak("solo", 5000)],
            &a,
            Command::Test,
        );
        let got: Vec<_> = checks
            .iter()
            .map(|c| (c.metric, c.actual, &c.verdict))
            .collect();
        assert_eq!(
            got,
            [
                (Metric::Peak, Some(300), &Verdict::Exceeded),
                (Metric::Peak, Some(5000), &Verdict::Within),
            ]
        );
        // A profile without per-test peaks: not checked, never a failure.
        for t in &mut a.tests.as_mut().unwrap().tests {
            t.peak_bytes = None;
        }
        let checks = check(&[peak("solo", 1)], &a, Command::Test);
        assert!(matches!(checks[0].verdict, Verdict::NotChecked(_)));
        assert_eq!(exceeded(&checks), 0);
    }

    fn test_budget(key: &str, allocations: u64) -> Budget {
        budget(
            Scope::Test(key.to_owned()),
            Limits {
                allocations: Some(allocations),
                ..Limits::default()
            },
        )
    }

    #[test]
    fn the_most_specific_key_holds_each_test() {
        let budgets = [
            test_budget("*", 40),
            test_budget("tests::*", 60),
            test_budget("tests::big", 10),
            test_budget("*::big", 45),
            test_budget("nothing::*", 1),
        ];
        let checks = check(&budgets, &analysis(), Command::Test);
        let rows: Vec<(String, u64, Option<&str>, &Verdict)> = checks
            .iter()
            .map(|c| (c.scope.label(), c.limit, c.pattern.as_deref(), &c.verdict))
            .collect();
        let not_run = Verdict::NotChecked("the pattern matches no test that ran");
        assert_eq!(
            rows,
            [
                // `*` holds only what nothing more specific matches.
                ("test solo".to_owned(), 40, Some("*"), &Verdict::Exceeded),
                (
                    "test tests::small".to_owned(),
                    60,
                    Some("tests::*"),
                    &Verdict::Within
                ),
                (
                    "test tests::other".to_owned(),
                    60,
                    Some("tests::*"),
                    &Verdict::Within
                ),
                // A name beats every pattern.
                ("test tests::big".to_owned(), 10, None, &Verdict::Exceeded),
                // `*::big` (5 literal characters) beats `*` (none) but not the name.
                (
                    "test io::big".to_owned(),
                    45,
                    Some("*::big"),
                    &Verdict::Exceeded
                ),
                (
                    "test nothing::*".to_owned(),
                    1,
                    Some("nothing::*"),
                    &not_run
                ),
            ]
            .iter()
            .map(|(a, b, c, d)| (a.clone(), *b, *c, *d))
            .collect::<Vec<_>>()
        );
        assert_eq!(checks[0].binary.as_deref(), Some("app"));
        assert_eq!(checks[0].label(), "test solo (app) by \"*\"");
        assert_eq!(
            checks[0].culprit_line(),
            "test solo (app) by \"*\": allocations 50 > limit 40"
        );
        // Every key matches nothing more specific than itself here: `*` holds everything.
        let only_default = check(&budgets[..1], &analysis(), Command::Test);
        assert_eq!(only_default.len(), 5);
        assert_eq!(exceeded(&only_default), 4);
    }

    #[test]
    fn function_patterns() {
        let f = |key: &str, allocations| {
            budget(
                Scope::Function(key.to_owned()),
                Limits {
                    allocations: Some(allocations),
                    ..Limits::default()
                },
            )
        };
        let budgets = [f("app::*", 30), f("app::s*", 0), f("lib::*", 0)];
        let checks = check(&budgets, &analysis(), Command::Run);
        let rows: Vec<(String, Option<u64>, &Verdict)> = checks
            .iter()
            .map(|c| (c.scope.label(), c.actual, &c.verdict))
            .collect();
        assert_eq!(
            rows,
            [
                ("app::parse".to_owned(), Some(40), &Verdict::Exceeded),
                // Matches only `app::sum`, which allocated nothing.
                ("app::s*".to_owned(), Some(0), &Verdict::Within),
                (
                    "lib::*".to_owned(),
                    None,
                    &Verdict::NotChecked("the pattern matches no profiled function")
                ),
            ]
            .iter()
            .map(|(a, b, c)| (a.clone(), *b, *c))
            .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_pattern_keeping_several_is_one_row_and_each_exceeded_limit_its_own() {
        let checks = check(&[test_budget("*", 49)], &analysis(), Command::Test);
        let rows: Vec<(String, u64, bool)> = table_rows(&checks)
            .into_iter()
            .map(|r| (r.label, r.actual, r.exceeded))
            .collect();
        assert_eq!(
            rows,
            [
                ("test tests::big (app) by \"*\"".to_owned(), 50, true),
                ("test tests::other (app) by \"*\"".to_owned(), 50, true),
                ("test io::big (app) by \"*\"".to_owned(), 50, true),
                ("test solo (app) by \"*\"".to_owned(), 50, true),
                ("test tests::small (app) by \"*\"".to_owned(), 3, false),
            ]
        );
        let checks = check(&[test_budget("*", 60)], &analysis(), Command::Test);
        let rows = table_rows(&checks);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].label, "largest of 5 tests by \"*\"");
        assert_eq!(
            (rows[0].actual, rows[0].limit, rows[0].exceeded),
            (50, 60, false)
        );
    }
}
