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
//!
//! Function and test keys may be patterns ([`Pattern`]): `*` stands for any text (`::` included),
//! `?` for one character. Each function or test is held to the most specific key that matches it
//! (a name beats every pattern; of two patterns, the one with more literal characters wins; keys
//! equally specific all apply), so `"*"` is the default for every test. A pattern is checked
//! against the functions of the workspace that allocated, or the tests that ran.

use crate::Analysis;

/// What a budget limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Run,
    /// In a [`Budget`], the key (a name or a [`Pattern`]); in a [`BudgetCheck`], the function.
    Function(String),
    /// In a [`Budget`], the key (a name or a [`Pattern`]); in a [`BudgetCheck`], the test.
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
    /// The function or test checked (for a pattern that matched nothing: the pattern).
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
    /// The key of `Cargo.toml` when it is a pattern (`tests::*`), `None` for a name.
    pub pattern: Option<String>,
}

/// Which command produced the analysis, for [`Scope::Run`] and [`Scope::Test`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Run,
    Test,
}

/// A function or test budget key: a name, or a glob over names. `*` matches any text (`::`
/// included, and nothing), `?` one character, `\*`, `\?` and `\\` the character itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Literal(char),
    Any,
    One,
}

/// Why a key is not a valid [`Pattern`]; the message says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PatternError {}

impl Pattern {
    /// Parses a key. Errors: an empty key, a lone `\` at the end, `\` before anything but `*`,
    /// `?` or `\`.
    pub fn parse(key: &str) -> Result<Pattern, PatternError> {
        const ALLOWED: &str = "`*` any text, `?` one character, `\\*`, `\\?`, `\\\\` the \
                               character itself";
        if key.trim().is_empty() {
            return Err(PatternError(format!(
                "an empty name is not a pattern ({ALLOWED})"
            )));
        }
        let mut parts = Vec::new();
        let mut chars = key.chars();
        while let Some(c) = chars.next() {
            parts.push(match c {
                '*' if parts.last() == Some(&Part::Any) => continue,
                '*' => Part::Any,
                '?' => Part::One,
                '\\' => match chars.next() {
                    Some(e @ ('*' | '?' | '\\')) => Part::Literal(e),
                    Some(e) => {
                        return Err(PatternError(format!(
                            "`\\{e}` is not a valid escape ({ALLOWED})"
                        )))
                    }
                    None => {
                        return Err(PatternError(format!("it ends in a lone `\\` ({ALLOWED})")))
                    }
                },
                c => Part::Literal(c),
            });
        }
        Ok(Pattern { parts })
    }

    /// Whether the key has a wildcard (else it is a plain name).
    #[must_use]
    pub fn is_glob(&self) -> bool {
        self.parts
            .iter()
            .any(|p| *p != Part::Literal('\0') && !matches!(p, Part::Literal(_)))
    }

    /// Whether `name` as a whole matches.
    #[must_use]
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        // Classic wildcard matching with one backtrack point (the last `*`): linear in practice.
        let (mut p, mut n) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while n < name.len() {
            match self.parts.get(p) {
                Some(Part::Any) => {
                    star = Some((p, n));
                    p += 1;
                }
                Some(Part::One) => {
                    p += 1;
                    n += 1;
                }
                Some(Part::Literal(c)) if *c == name[n] => {
                    p += 1;
                    n += 1;
                }
                _ => match star {
                    Some((sp, sn)) => {
                        p = sp + 1;
                        n = sn + 1;
                        star = Some((sp, sn + 1));
                    }
                    None => return false,
                },
            }
        }
        self.parts[p..].iter().all(|part| *part == Part::Any)
    }

    /// Larger is more specific: a name beats every pattern, then more literal characters win.
    fn specificity(&self) -> (bool, usize) {
        let literal = self
            .parts
            .iter()
            .filter(|p| matches!(p, Part::Literal(_)))
            .count();
        (!self.is_glob(), literal)
    }
}

/// The most specific keys matching `name` among `keys` (index, pattern): their indexes.
fn winners(keys: &[(usize, Pattern)], name: &str) -> Vec<usize> {
    let matching: Vec<&(usize, Pattern)> = keys.iter().filter(|(_, p)| p.matches(name)).collect();
    let best = matching.iter().map(|(_, p)| p.specificity()).max();
    matching
        .iter()
        .filter(|(_, p)| Some(p.specificity()) == best)
        .map(|(i, _)| *i)
        .collect()
}

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
        // Functions and tests have these two; `peak` and `leaked` are the run's only.
        let per_item = [("allocations", l.allocations), ("bytes", l.bytes)];
        let key = match &b.scope {
            Scope::Run => None,
            Scope::Function(k) | Scope::Test(k) => Some(k),
        };
        let parsed = key.map(|k| Pattern::parse(k));
        let invalid = matches!(parsed, Some(Err(_)));
        let pattern = parsed
            .and_then(Result::ok)
            .unwrap_or(Pattern { parts: Vec::new() });
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
            for (metric, limit) in per_item {
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
                    ("allocations", l.allocations, t.allocations),
                    ("bytes", l.bytes, t.bytes),
                    ("peak", l.peak_bytes, t.peak_bytes),
                    ("leaked", l.leaked_allocations, t.leaked_allocations),
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
                for (metric, limit) in per_item {
                    let Some(limit) = limit else { continue };
                    let measured = match found {
                        Some(f) if metric == "allocations" => Ok(f.total_allocations),
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
                for (metric, limit) in per_item {
                    let Some(limit) = limit else { continue };
                    for f in &held {
                        let actual = if metric == "allocations" {
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
                for (metric, limit) in per_item {
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
                        let actual = if metric == "allocations" {
                            row.allocations
                        } else {
                            row.bytes
                        };
                        let scope = Scope::Test(row.name.clone());
                        push(scope, metric, limit, Ok(actual), Some(row.binary.clone()));
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

/// A row of a budgets table: one checked limit, or the kept limits of one pattern that held
/// several functions or tests (with the largest value among them), so that `"*"` over hundreds of
/// tests is one row. Exceeded limits always have a row each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    pub label: String,
    pub metric: &'static str,
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

impl BudgetCheck {
    /// The scope's label, then the binary of a test and the pattern that holds it:
    /// `test tests::big (app) by "tests::*"`.
    #[must_use]
    pub fn label(&self) -> String {
        let mut name = self.scope.label();
        if let Some(b) = &self.binary {
            name.push_str(&format!(" ({b})"));
        }
        if let Some(p) = &self.pattern {
            if self.actual.is_some() && Scope::Function(p.clone()) != self.scope {
                name.push_str(&format!(" by \"{p}\""));
            }
        }
        name
    }

    /// One line naming what exceeded which limit, for standard error:
    /// `test tests::big (app): allocations 1001 > limit 100`.
    #[must_use]
    pub fn culprit_line(&self) -> String {
        let actual = self
            .actual
            .map_or_else(|| "?".to_owned(), |a| a.to_string());
        format!(
            "{}: {} {actual} > limit {}",
            self.label(),
            self.metric,
            self.limit
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::FunctionStats;
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
    fn patterns_match_whole_names() {
        let p = |k: &str| Pattern::parse(k).unwrap();
        assert!(p("tests::*").matches("tests::a::b"));
        assert!(p("tests::*").matches("tests::"));
        assert!(!p("tests::*").matches("other::tests::a"));
        assert!(p("*::big").matches("tests::big") && !p("*::big").matches("tests::bigger"));
        assert!(p("a?c").matches("abc") && !p("a?c").matches("ac"));
        assert!(p("*a*a*").matches("banana") && !p("*a*a*a*a*").matches("banana"));
        assert!(p("*").matches("") && p("*").matches("anything at all"));
        assert!(p(r"<\*const T as x::Y>::f").matches("<*const T as x::Y>::f"));
        assert!(!p(r"<\*const T as x::Y>::f").is_glob());
        assert!(!p(r"<\*const T as x::Y>::f").matches("<*mut T as x::Y>::f"));
        assert!(p("tests::small").matches("tests::small") && !p("tests::small").is_glob());
        for bad in ["", "  ", r"tests::\d", "tests\\"] {
            assert!(Pattern::parse(bad).is_err(), "{bad:?}");
        }
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
