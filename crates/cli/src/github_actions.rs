//! GitHub Actions: a markdown summary appended to the job's step summary (`GITHUB_STEP_SUMMARY`)
//! and `::error` annotations for exceeded budgets (`GITHUB_ACTIONS`), so a failed check shows on
//! the pull request's files without opening the log or the report.
//!
//! Both are side outputs: the report itself is unchanged, and a summary that cannot be written is
//! an error (the job asked for it by running where the variable is set).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use alloc_profile_report::budget::{BudgetCheck, Metric, Scope, Verdict};
use alloc_profile_report::units::{human_bytes, thousands};
use alloc_profile_report::Analysis;

/// Rows of the per-test table in the summary.
const SUMMARY_TESTS: usize = 10;

/// Appends `markdown` to the file named by `GITHUB_STEP_SUMMARY`, when it is set.
pub fn append_summary(markdown: &str) -> Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let path = PathBuf::from(path);
    let mut file = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .context("while opening GITHUB_STEP_SUMMARY")?;
    file.write_all(markdown.as_bytes())
        .with_context(|| format!("while writing the step summary to {}", path.display()))
}

/// Whether the tool runs in a GitHub Actions job.
pub fn on_actions() -> bool {
    std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| !v.is_empty())
}

/// Text of a workflow command's message: `%`, CR and LF escaped.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Text of a workflow command's property: also `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A path as GitHub wants it: relative to the repository (`GITHUB_WORKSPACE`, else the current
/// directory) when under it.
fn repo_path(path: &Path) -> String {
    let base = std::env::var_os("GITHUB_WORKSPACE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok());
    base.and_then(|b| path.strip_prefix(b).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// `::error file=…,line=…,title=…::…` for every exceeded limit whose source line is known: the
/// function (or the test's function) as the debug info has it, else the key's line in the
/// `Cargo.toml` that set the budget.
pub fn annotations(analysis: &Analysis, root: &Path) -> Vec<String> {
    analysis
        .budgets
        .iter()
        .filter(|c| c.verdict == Verdict::Exceeded)
        .filter_map(|c| {
            let (file, line) = code_line(c, analysis, root).or_else(|| budget_line(c))?;
            Some(format!(
                "::error file={},line={line},title={}::{}",
                escape_property(&repo_path(&file)),
                escape_property("allocation budget exceeded"),
                escape_data(&c.culprit_line())
            ))
        })
        .collect()
}

/// Where the function of a function or test budget is defined, when the debug info says.
fn code_line(c: &BudgetCheck, analysis: &Analysis, root: &Path) -> Option<(PathBuf, u32)> {
    let f = match &c.scope {
        Scope::Run => return None,
        Scope::Function(name) => analysis.functions.iter().find(|f| &f.name == name)?,
        Scope::Test(name) => {
            // The test's function: `<crate>::<test name>` (or the name itself), of the binary's
            // crate when several crates have one.
            let suffix = format!("::{name}");
            let found: Vec<_> = analysis
                .functions
                .iter()
                .filter(|f| f.file.is_some() && (&f.name == name || f.name.ends_with(&suffix)))
                .collect();
            let binary = c.binary.as_deref().map(|b| b.replace('-', "_"));
            match found[..] {
                [one] => one,
                _ => *found
                    .iter()
                    .find(|f| f.crate_name.is_some() && f.crate_name == binary)?,
            }
        }
    };
    let file = Path::new(f.file.as_deref()?);
    Some((root.join(file), f.line?))
}

/// The line of the budget's key in its `Cargo.toml`.
fn budget_line(c: &BudgetCheck) -> Option<(PathBuf, u32)> {
    let path = PathBuf::from(&c.source);
    let text = fs_err::read_to_string(&path).ok()?;
    let (table, key) = match &c.scope {
        Scope::Run => ("alloc-profile.budget]", c.metric.as_str().to_owned()),
        Scope::Function(name) => (
            "alloc-profile.budget.functions]",
            format!("\"{}\"", c.pattern.as_deref().unwrap_or(name)),
        ),
        Scope::Test(name) => (
            "alloc-profile.budget.tests]",
            format!("\"{}\"", c.pattern.as_deref().unwrap_or(name)),
        ),
    };
    let mut in_table = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            in_table = line.ends_with(table);
        } else if in_table
            && line
                .strip_prefix(key.as_str())
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            return Some((path, u32::try_from(i + 1).ok()?));
        }
    }
    None
}

fn amount(metric: Metric, v: u64) -> String {
    if metric.is_bytes() {
        human_bytes(v)
    } else {
        thousands(v)
    }
}

/// Table cell text: `|` escaped.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The markdown summary of one report: totals, budgets exceeded and kept, the largest rows of
/// the per-test table.
pub fn report_summary(analysis: &Analysis, command: &[String]) -> String {
    let t = &analysis.totals;
    let mut md = format!("### `{}`\n\n", cell(&command.join(" ")));
    md.push_str("| allocations | bytes requested | peak live | still live at exit |\n");
    md.push_str("|---:|---:|---:|---:|\n");
    md.push_str(&format!(
        "| {} | {} | {} | {} |\n\n",
        thousands(t.allocations),
        human_bytes(t.bytes),
        human_bytes(t.peak_bytes),
        thousands(t.leaked_allocations)
    ));
    let checks = &analysis.budgets;
    let checked: Vec<&BudgetCheck> = checks
        .iter()
        .filter(|c| !matches!(c.verdict, Verdict::NotChecked(_)))
        .collect();
    let failed = alloc_profile_report::budget::exceeded(checks);
    if !checks.is_empty() {
        md.push_str(&match (failed, checked.len()) {
            (0, 0) => "**Budgets:** none applies to this run\n\n".to_owned(),
            (0, n) => format!("**Budgets:** all {n} checked limits kept\n\n"),
            (f, n) => format!("**Budgets:** {f} of {n} checked limits **exceeded**\n\n"),
        });
        let rows = alloc_profile_report::budget::table_rows(checks);
        if !rows.is_empty() {
            md.push_str("| budget | metric | limit | actual | result |\n|---|---|---:|---:|---|\n");
            for r in rows {
                md.push_str(&format!(
                    "| {} | {} | {} | {} | {} |\n",
                    cell(&r.label),
                    r.metric,
                    amount(r.metric, r.limit),
                    amount(r.metric, r.actual),
                    if r.exceeded {
                        "❌ exceeded"
                    } else {
                        "✅ kept"
                    }
                ));
            }
            md.push('\n');
        }
        let unchecked: Vec<String> = checks
            .iter()
            .filter_map(|c| match c.verdict {
                Verdict::NotChecked(why) => Some(format!("`{}` ({why})", cell(&c.scope.label()))),
                _ => None,
            })
            .collect();
        if !unchecked.is_empty() {
            md.push_str(&format!("Not checked: {}\n\n", unchecked.join(", ")));
        }
    }
    if let Some(tests) = &analysis.tests {
        let what = if tests.bench { "benchmark" } else { "test" };
        let shown = tests.tests.len().min(SUMMARY_TESTS);
        md.push_str(&format!(
            "**{}s by allocations** ({} of {})\n\n| {what} | binary | allocations | bytes | peak | outcome \
             |\n|---|---|---:|---:|---:|---|\n",
            if tests.bench { "Benchmark" } else { "Test" },
            if shown == tests.tests.len() {
                "all".to_owned()
            } else {
                format!("largest {shown}")
            },
            tests.tests.len()
        ));
        for row in tests.tests.iter().take(SUMMARY_TESTS) {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                cell(&row.name),
                cell(&row.binary),
                thousands(row.allocations),
                human_bytes(row.bytes),
                row.peak_bytes.map(human_bytes).unwrap_or_default(),
                row.outcome
            ));
        }
        md.push('\n');
    }
    md
}
