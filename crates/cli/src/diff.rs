//! `cargo alloc-profile diff BEFORE.json AFTER.json`: what changed between two runs.
//!
//! Reads two JSON reports (format `cargo-alloc-profile`, version 1) and compares the totals, every
//! test or benchmark (reports of `test`, `bench` and `nextest`), every function and every module,
//! largest change first. The text lists what changed; `--format json` lists everything compared.
//! Both are deterministic, so they can be kept as artifacts and compared again.
//!
//! `--fail-on-increase` makes it a CI gate: exit status 1 when the total allocations rose, or the
//! allocations of a test both runs had (a new test is no regression; its allocations are in the
//! total), by more than `--threshold`. Every increase is then named on standard error.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use serde::{Deserialize, Serialize};

use crate::cli::{DiffArgs, DiffFormat};

#[derive(Debug, Deserialize)]
struct Report {
    format: String,
    version: u32,
    #[serde(default)]
    command: Vec<String>,
    #[serde(default)]
    target: String,
    totals: Totals,
    functions: Vec<Function>,
    #[serde(default)]
    modules: Vec<Module>,
    #[serde(default)]
    tests: Option<Vec<Test>>,
}

#[derive(Debug, Deserialize)]
struct Totals {
    allocations: u64,
    bytes: u64,
    peak_bytes: u64,
    leaked_allocations: u64,
}

#[derive(Debug, Deserialize)]
struct Function {
    name: String,
    total_allocations: u64,
    #[serde(default)]
    total_bytes: u64,
}

#[derive(Debug, Deserialize)]
struct Module {
    name: String,
    allocations: u64,
    bytes: u64,
}

#[derive(Debug, Deserialize)]
struct Test {
    name: String,
    binary: String,
    allocations: u64,
    bytes: u64,
}

fn load(path: &Path) -> Result<Report> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not a JSON report ({e}); write one with `--format json`",
            path.display()
        )
    })?;
    if value.get("format").and_then(|f| f.as_str())
        != Some(alloc_profile_report::render::json::FORMAT)
    {
        bail!(
            "{}: not a cargo-alloc-profile report (no \"format\": \"cargo-alloc-profile\")",
            path.display()
        );
    }
    let report: Report = serde_json::from_value(value).with_context(|| {
        format!(
            "{}: a field of the report is missing or wrong",
            path.display()
        )
    })?;
    if report.version != alloc_profile_report::render::json::VERSION {
        bail!(
            "{}: report version {} is not supported by this build (it reads version {}); use the \
             cargo-alloc-profile that wrote it",
            path.display(),
            report.version,
            alloc_profile_report::render::json::VERSION
        );
    }
    debug_assert_eq!(report.format, alloc_profile_report::render::json::FORMAT);
    Ok(report)
}

/// Value of the comparison's `format` field.
const FORMAT: &str = "cargo-alloc-profile-diff";

/// The comparison as `--format json` writes it (version 1: later versions add fields only).
#[derive(Debug, Serialize)]
struct Comparison {
    format: &'static str,
    version: u32,
    before: String,
    after: String,
    /// Set when the reports are of different programs or commands (the line the text prints).
    different: Option<String>,
    totals: JsonTotals,
    /// Every test of either report (null when neither is of tests), largest change first.
    tests: Option<Vec<Entry>>,
    /// Every workspace function of either report, by total allocations, largest change first.
    functions: Vec<Entry>,
    modules: Vec<Entry>,
    /// What `--fail-on-increase` fails on (computed with `--threshold` whether asked or not):
    /// the total, and tests both reports have, whose allocations rose by more than allowed.
    increases: Vec<Increase>,
}

#[derive(Debug, Serialize)]
struct JsonTotals {
    allocations: Change,
    bytes: Change,
    peak_bytes: Change,
    leaked_allocations: Change,
}

#[derive(Debug, Serialize)]
struct Change {
    before: u64,
    after: u64,
    delta: i128,
}

impl Change {
    fn new(before: u64, after: u64) -> Change {
        Change {
            before,
            after,
            delta: i128::from(after) - i128::from(before),
        }
    }
}

/// One test, function or module in either report.
#[derive(Debug, Serialize)]
struct Entry {
    name: String,
    /// For tests: the binary (a test is the same test in both reports by name and binary).
    #[serde(skip_serializing_if = "Option::is_none")]
    binary: Option<String>,
    /// `changed`, `same`, `added` (only after) or `removed` (only before).
    status: &'static str,
    /// Null on the side that does not have it; the deltas count that side as 0.
    before_allocations: Option<u64>,
    after_allocations: Option<u64>,
    delta_allocations: i128,
    before_bytes: Option<u64>,
    after_bytes: Option<u64>,
    delta_bytes: i128,
}

#[derive(Debug, Serialize)]
struct Increase {
    /// `total` or `test`.
    scope: &'static str,
    name: Option<String>,
    binary: Option<String>,
    before: u64,
    after: u64,
    delta: i128,
    /// The increase allowed by `--threshold` (0 without it).
    allowed: u64,
}

type Side = Option<(u64, u64)>;

/// Entries of a name → (before, after) map, largest allocation change first, then bytes, then
/// name.
fn entries(map: BTreeMap<(String, Option<String>), (Side, Side)>) -> Vec<Entry> {
    let mut out: Vec<Entry> = map
        .into_iter()
        .map(|((name, binary), (before, after))| {
            let (ba, bb) = before.unwrap_or_default();
            let (aa, ab) = after.unwrap_or_default();
            let status = match (before, after) {
                (None, _) => "added",
                (_, None) => "removed",
                _ if before == after => "same",
                _ => "changed",
            };
            Entry {
                name,
                binary,
                status,
                before_allocations: before.map(|b| b.0),
                after_allocations: after.map(|a| a.0),
                delta_allocations: i128::from(aa) - i128::from(ba),
                before_bytes: before.map(|b| b.1),
                after_bytes: after.map(|a| a.1),
                delta_bytes: i128::from(ab) - i128::from(bb),
            }
        })
        .collect();
    out.sort_by(|x, y| {
        y.delta_allocations
            .abs()
            .cmp(&x.delta_allocations.abs())
            .then(y.delta_bytes.abs().cmp(&x.delta_bytes.abs()))
            .then_with(|| x.name.cmp(&y.name))
            .then_with(|| x.binary.cmp(&y.binary))
    });
    out
}

fn pair_up<'a>(
    before: impl IntoIterator<Item = (String, Option<String>, u64, u64)>,
    after: impl IntoIterator<Item = (String, Option<String>, u64, u64)> + 'a,
) -> Vec<Entry> {
    let mut map: BTreeMap<(String, Option<String>), (Side, Side)> = BTreeMap::new();
    for (name, binary, a, b) in before {
        map.entry((name, binary)).or_default().0 = Some((a, b));
    }
    for (name, binary, a, b) in after {
        map.entry((name, binary)).or_default().1 = Some((a, b));
    }
    entries(map)
}

/// `--threshold`: N allocations, or N% of the earlier count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Threshold {
    Count(u64),
    Percent(u64),
}

impl Threshold {
    fn parse(s: &str) -> Result<Threshold> {
        let t = s.trim();
        let parsed = match t.strip_suffix('%') {
            Some(p) => p.trim().parse().ok().map(Threshold::Percent),
            None => t.parse().ok().map(Threshold::Count),
        };
        match parsed {
            Some(t) => Ok(t),
            None => bail!(
                "--threshold {s}: expected a whole number of allocations (`10`) or a percentage \
                 of the earlier count (`2%`)"
            ),
        }
    }

    fn allowed(self, before: u64) -> u64 {
        match self {
            Threshold::Count(n) => n,
            Threshold::Percent(p) => {
                u64::try_from(u128::from(before) * u128::from(p) / 100).unwrap_or(u64::MAX)
            }
        }
    }
}

/// What is profiled: the subcommand and the report's target (`tests`, or the binary or example
/// with its source). Not the manifest's path: the same project checked out elsewhere (the base
/// branch in a worktree) is the same program.
fn what(report: &Report) -> (String, &str) {
    let c = &report.command;
    let sub = c
        .iter()
        .position(|a| a == "alloc-profile")
        .and_then(|i| c.get(i + 1))
        .cloned()
        .unwrap_or_default();
    (sub, report.target.as_str())
}

/// One line when the two reports are of different programs or commands.
fn different(before: &Report, after: &Report) -> Option<String> {
    let (b, a) = (what(before), what(after));
    if b == a {
        return None;
    }
    let describe =
        |(sub, target): &(String, &str)| format!("`cargo alloc-profile {sub}` of {target}");
    let kind = if b.0 == a.0 { "programs" } else { "commands" };
    Some(format!(
        "note: the reports are of different {kind}: {} before, {} after; the changes may mean \
         little",
        describe(&b),
        describe(&a)
    ))
}

fn signed(n: i128) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

/// The last 44 characters of a long name, after an ellipsis.
fn fit(name: &str) -> String {
    if name.chars().count() > 44 {
        let tail: String = name
            .chars()
            .rev()
            .take(43)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    } else {
        name.to_owned()
    }
}

fn compare(
    args: &DiffArgs,
    before: &Report,
    after: &Report,
    threshold: Option<Threshold>,
) -> Comparison {
    let t = |r: &Report| {
        r.tests.as_ref().map(|tests| {
            tests
                .iter()
                .map(|t| {
                    (
                        t.name.clone(),
                        Some(t.binary.clone()),
                        t.allocations,
                        t.bytes,
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let tests = match (t(before), t(after)) {
        (None, None) => None,
        (b, a) => Some(pair_up(b.unwrap_or_default(), a.unwrap_or_default())),
    };
    let f = |r: &Report| {
        r.functions
            .iter()
            .map(|f| (f.name.clone(), None, f.total_allocations, f.total_bytes))
            .collect::<Vec<_>>()
    };
    let m = |r: &Report| {
        r.modules
            .iter()
            .map(|m| (m.name.clone(), None, m.allocations, m.bytes))
            .collect::<Vec<_>>()
    };
    let totals = JsonTotals {
        allocations: Change::new(before.totals.allocations, after.totals.allocations),
        bytes: Change::new(before.totals.bytes, after.totals.bytes),
        peak_bytes: Change::new(before.totals.peak_bytes, after.totals.peak_bytes),
        leaked_allocations: Change::new(
            before.totals.leaked_allocations,
            after.totals.leaked_allocations,
        ),
    };
    let allowed = |b: u64| threshold.map_or(0, |t| t.allowed(b));
    let mut increases = Vec::new();
    let total = &totals.allocations;
    if total.delta > i128::from(allowed(total.before)) {
        increases.push(Increase {
            scope: "total",
            name: None,
            binary: None,
            before: total.before,
            after: total.after,
            delta: total.delta,
            allowed: allowed(total.before),
        });
    }
    for e in tests.iter().flatten() {
        let (Some(b), Some(a)) = (e.before_allocations, e.after_allocations) else {
            continue;
        };
        if e.delta_allocations > i128::from(allowed(b)) {
            increases.push(Increase {
                scope: "test",
                name: Some(e.name.clone()),
                binary: e.binary.clone(),
                before: b,
                after: a,
                delta: e.delta_allocations,
                allowed: allowed(b),
            });
        }
    }
    Comparison {
        format: FORMAT,
        version: 1,
        before: args.before.display().to_string(),
        after: args.after.display().to_string(),
        different: different(before, after),
        totals,
        tests,
        functions: pair_up(f(before), f(after)),
        modules: pair_up(m(before), m(after)),
        increases,
    }
}

/// Tests are shown with their binary when the reports have more than one.
fn test_label(e: &Entry, with_binary: bool) -> String {
    match (&e.binary, with_binary) {
        (Some(b), true) => format!("{} ({b})", e.name),
        _ => e.name.clone(),
    }
}

fn side(v: Option<u64>, missing: &str) -> String {
    v.map_or_else(|| missing.to_owned(), |v| v.to_string())
}

fn text(c: &Comparison) -> String {
    let mut out = String::new();
    let row = |out: &mut String, what: &str, b: &str, a: &str, d: i128, bytes: Option<i128>| {
        out.push_str(&format!("  {what:<44} {b:>14} {a:>14} {:>14}", signed(d)));
        if let Some(bytes) = bytes {
            out.push_str(&format!(" {:>14}", signed(bytes)));
        }
        out.push('\n');
    };
    out.push_str(&format!(
        "cargo alloc-profile diff · {} → {}\n",
        c.before, c.after
    ));
    if let Some(line) = &c.different {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&format!(
        "  {:<44} {:>14} {:>14} {:>14}\n",
        "", "before", "after", "change"
    ));
    let t = &c.totals;
    for (what, ch) in [
        ("allocations", &t.allocations),
        ("bytes requested", &t.bytes),
        ("peak live bytes", &t.peak_bytes),
        ("still live at exit", &t.leaked_allocations),
    ] {
        row(
            &mut out,
            what,
            &ch.before.to_string(),
            &ch.after.to_string(),
            ch.delta,
            None,
        );
    }
    let section = |out: &mut String,
                   heading: &str,
                   none: &str,
                   entries: &[Entry],
                   label: &dyn Fn(&Entry) -> String| {
        let changed: Vec<&Entry> = entries.iter().filter(|e| e.status != "same").collect();
        out.push('\n');
        if changed.is_empty() {
            out.push_str(none);
            out.push('\n');
            return;
        }
        out.push_str(heading);
        out.push('\n');
        out.push_str(&format!(
            "  {:<44} {:>14} {:>14} {:>14} {:>14}\n",
            "", "before", "after", "change", "bytes change"
        ));
        for e in changed {
            row(
                out,
                &fit(&label(e)),
                &side(e.before_allocations, "(added)"),
                &side(e.after_allocations, "(removed)"),
                e.delta_allocations,
                Some(e.delta_bytes),
            );
        }
    };
    if let Some(tests) = &c.tests {
        let mut binaries: Vec<&str> = tests.iter().filter_map(|e| e.binary.as_deref()).collect();
        binaries.sort_unstable();
        binaries.dedup();
        let with_binary = binaries.len() > 1;
        section(
            &mut out,
            "Tests whose allocations changed, added or removed (largest change first)",
            &format!(
                "No test's allocations or bytes changed ({} compared).",
                tests.len()
            ),
            tests,
            &|e| test_label(e, with_binary),
        );
    }
    section(
        &mut out,
        "Functions whose total allocations changed (largest change first)",
        "No function's total allocations changed, nor their bytes.",
        &c.functions,
        &|e| e.name.clone(),
    );
    section(
        &mut out,
        "Modules whose allocations changed (largest change first)",
        "No module's allocations changed, nor their bytes.",
        &c.modules,
        &|e| e.name.clone(),
    );
    out
}

fn increase_line(i: &Increase) -> String {
    let what = match (&i.name, &i.binary) {
        (Some(n), Some(b)) => format!("test {n} ({b})"),
        (Some(n), None) => format!("test {n}"),
        _ => "total".to_owned(),
    };
    let allowed = if i.allowed > 0 {
        format!(", more than the {} allowed", i.allowed)
    } else {
        String::new()
    };
    format!(
        "allocations rose: {what} {} → {} ({}{allowed})",
        i.before,
        i.after,
        signed(i.delta)
    )
}

/// The comparison in markdown, for the GitHub step summary.
fn markdown(c: &Comparison) -> String {
    let mut md = format!("### Allocations: `{}` → `{}`\n\n", c.before, c.after);
    if let Some(line) = &c.different {
        md.push_str(&format!("{line}\n\n"));
    }
    md.push_str("| | before | after | change |\n|---|---:|---:|---:|\n");
    let t = &c.totals;
    for (what, ch) in [
        ("allocations", &t.allocations),
        ("bytes requested", &t.bytes),
        ("peak live bytes", &t.peak_bytes),
        ("still live at exit", &t.leaked_allocations),
    ] {
        md.push_str(&format!(
            "| {what} | {} | {} | {} |\n",
            ch.before,
            ch.after,
            signed(ch.delta)
        ));
    }
    md.push('\n');
    let mut table = |title: &str, entries: &[Entry]| {
        let changed: Vec<&Entry> = entries.iter().filter(|e| e.status != "same").collect();
        if changed.is_empty() {
            return;
        }
        md.push_str(&format!(
            "**{title}** ({} of {} changed; largest first)\n\n| name | before | after | change | bytes change |\n|---|---:|---:|---:|---:|\n",
            changed.len(),
            entries.len()
        ));
        for e in changed.iter().take(10) {
            let name = match &e.binary {
                Some(b) => format!("{} ({b})", e.name),
                None => e.name.clone(),
            };
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                name.replace('|', "\\|"),
                side(e.before_allocations, "added"),
                side(e.after_allocations, "removed"),
                signed(e.delta_allocations),
                signed(e.delta_bytes)
            ));
        }
        md.push('\n');
    };
    if let Some(tests) = &c.tests {
        table("Tests", tests);
    }
    table("Functions", &c.functions);
    md
}

/// Returns the exit code: 1 when `--fail-on-increase` and allocations went up.
pub fn run(args: &DiffArgs) -> Result<i32> {
    let threshold = args
        .threshold
        .as_deref()
        .map(Threshold::parse)
        .transpose()?;
    let before = load(&args.before)?;
    let after = load(&args.after)?;
    let comparison = compare(args, &before, &after, threshold);
    let out = match args.format {
        DiffFormat::Text => text(&comparison),
        DiffFormat::Json => {
            let mut s = serde_json::to_string_pretty(&comparison)?;
            s.push('\n');
            s
        }
    };
    match &args.output {
        Some(path) => fs_err::write(path, &out)
            .with_context(|| format!("while writing the diff to {}", path.display()))?,
        None => std::io::stdout().lock().write_all(out.as_bytes())?,
    }
    crate::budgets::github::append_summary(&markdown(&comparison))?;
    if !args.fail_on_increase || comparison.increases.is_empty() {
        return Ok(0);
    }
    let n = comparison.increases.len();
    for i in comparison.increases.iter().take(10) {
        eprintln!("{}", increase_line(i));
    }
    if n > 10 {
        eprintln!("allocations rose: {} more", n - 10);
    }
    eprintln!(
        "error: allocations rose ({n} {}; --fail-on-increase)",
        if n == 1 { "increase" } else { "increases" }
    );
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        assert_eq!(Threshold::parse("10").unwrap(), Threshold::Count(10));
        assert_eq!(Threshold::parse("2%").unwrap(), Threshold::Percent(2));
        assert_eq!(Threshold::parse(" 5 % ").unwrap(), Threshold::Percent(5));
        for bad in ["", "x", "-1", "1.5%", "%"] {
            let e = Threshold::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("--threshold {bad}:")), "{e}");
        }
        assert_eq!(Threshold::Percent(10).allowed(1005), 100);
        assert_eq!(Threshold::Count(3).allowed(0), 3);
    }

    #[test]
    fn entries_pair_up_and_sort_by_change() {
        let e = pair_up(
            [
                ("a".to_owned(), None, 10, 100),
                ("b".to_owned(), None, 5, 50),
                ("gone".to_owned(), None, 1, 1),
            ],
            [
                ("a".to_owned(), None, 12, 90),
                ("b".to_owned(), None, 5, 50),
                ("new".to_owned(), None, 30, 300),
            ],
        );
        let got: Vec<(&str, &str, i128, i128)> = e
            .iter()
            .map(|e| {
                (
                    e.name.as_str(),
                    e.status,
                    e.delta_allocations,
                    e.delta_bytes,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("new", "added", 30, 300),
                ("a", "changed", 2, -10),
                ("gone", "removed", -1, -1),
                ("b", "same", 0, 0),
            ]
        );
        assert_eq!(e[0].before_allocations, None);
        assert_eq!(e[2].after_bytes, None);
    }
}
