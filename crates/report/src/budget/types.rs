//! What a budget is (a scope and its limits, from `Cargo.toml`) and what checking one found (a
//! [`BudgetCheck`] per limit), with the labels the reports give them.

use serde::{Deserialize, Serialize};

/// What a budget limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Run,
    /// In a [`Budget`], the key (a name or a [`Pattern`](super::Pattern)); in a [`BudgetCheck`],
    /// the function.
    Function(String),
    /// In a [`Budget`], the key (a name or a [`Pattern`](super::Pattern)); in a [`BudgetCheck`],
    /// the test.
    Test(String),
}

/// The limits of one budget (absent: not limited).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    pub allocations: Option<u64>,
    pub bytes: Option<u64>,
    /// [`Scope::Run`] and [`Scope::Test`] (ignored for functions; `Cargo.toml` does not allow it
    /// there).
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
    pub metric: Metric,
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

/// What a limit is on: the key of the limit as written in `Cargo.toml`, and in the JSON report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// `allocations`: the allocations of the scope.
    Allocations,
    /// `bytes`: the bytes they requested.
    Bytes,
    /// `peak`: the run's peak of live bytes, or a test's.
    Peak,
    /// `leaked`: the run's allocations still live at exit ([`Scope::Run`] only).
    Leaked,
}

impl Metric {
    /// The key as written in `Cargo.toml`: `allocations`, `bytes`, `peak` or `leaked`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Allocations => "allocations",
            Metric::Bytes => "bytes",
            Metric::Peak => "peak",
            Metric::Leaked => "leaked",
        }
    }

    /// Whether the values are bytes (shown in binary units) rather than counts.
    #[must_use]
    pub fn is_bytes(self) -> bool {
        matches!(self, Metric::Bytes | Metric::Peak)
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which command produced the analysis, for [`Scope::Run`] and [`Scope::Test`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Run,
    Test,
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

/// How many checks failed.
#[must_use]
pub fn exceeded(checks: &[BudgetCheck]) -> usize {
    checks
        .iter()
        .filter(|c| c.verdict == Verdict::Exceeded)
        .count()
}
