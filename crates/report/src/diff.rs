//! What changed between two runs: two JSON reports ([`Report`]) compared total by total, and test
//! by test (reports of `test`, `bench` and `nextest`), function by function and module by module,
//! largest change first. The [`Comparison`] is written as text or JSON by
//! [`render::diff`](crate::render::diff) (`cargo alloc-profile diff`).
//!
//! - An **entry** is a test (the same test in both reports by name and binary), a workspace
//!   function (by name, its total allocations and bytes) or a module (by name). One that only one
//!   report has is `added` or `removed`; its deltas count the other side as 0.
//! - Entries are ordered by the size of their allocation change, then of their bytes change, both
//!   descending, then by name and binary.
//! - An **increase** is what `--fail-on-increase` fails on: the total allocations, or the
//!   allocations of a test both reports have (a new test is no regression: its allocations are in
//!   the total), rising by more than the [`Threshold`] allows.
//! - The reports are of **different** programs or commands when their subcommands or targets
//!   differ (not their manifests' paths: the same project checked out elsewhere, the base branch
//!   in a worktree, is the same program).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::schema::Report;

/// Value of the comparison's `format` field.
pub const FORMAT: &str = "cargo-alloc-profile-diff";
/// Value of the comparison's `version` field (later versions add fields only).
pub const VERSION: u32 = 1;

/// The comparison, as `--format json` writes it, field by field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub format: String,
    pub version: u32,
    /// How the reports are named (their paths, as given).
    pub before: String,
    pub after: String,
    /// Set when the reports are of different programs or commands (the line the text prints).
    pub different: Option<String>,
    pub totals: TotalsChange,
    /// Every test of either report (null when neither is of tests), largest change first.
    pub tests: Option<Vec<Entry>>,
    /// Every workspace function of either report, by total allocations, largest change first.
    pub functions: Vec<Entry>,
    pub modules: Vec<Entry>,
    /// What `--fail-on-increase` fails on (computed with `--threshold` whether asked or not):
    /// the total, and tests both reports have, whose allocations rose by more than allowed.
    pub increases: Vec<Increase>,
}

/// The run's totals before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotalsChange {
    pub allocations: Change,
    pub bytes: Change,
    pub peak_bytes: Change,
    pub leaked_allocations: Change,
}

/// One number before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub before: u64,
    pub after: u64,
    pub delta: i128,
}

impl Change {
    #[must_use]
    pub fn new(before: u64, after: u64) -> Change {
        Change {
            before,
            after,
            delta: i128::from(after) - i128::from(before),
        }
    }
}

/// One test, function or module in either report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    /// For tests: the binary (a test is the same test in both reports by name and binary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary: Option<String>,
    pub status: EntryStatus,
    /// Null on the side that does not have it; the deltas count that side as 0.
    pub before_allocations: Option<u64>,
    pub after_allocations: Option<u64>,
    pub delta_allocations: i128,
    pub before_bytes: Option<u64>,
    pub after_bytes: Option<u64>,
    pub delta_bytes: i128,
}

/// Whether an entry changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryStatus {
    /// In both reports, with other allocations or bytes.
    Changed,
    /// In both reports, with the same allocations and bytes.
    Same,
    /// Only in the later report.
    Added,
    /// Only in the earlier report.
    Removed,
}

impl EntryStatus {
    /// The name in the JSON comparison: `changed`, `same`, `added` or `removed`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Changed => "changed",
            EntryStatus::Same => "same",
            EntryStatus::Added => "added",
            EntryStatus::Removed => "removed",
        }
    }
}

/// Allocations that rose by more than the threshold allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Increase {
    pub scope: IncreaseScope,
    /// The test's name and binary; null for the total.
    pub name: Option<String>,
    pub binary: Option<String>,
    pub before: u64,
    pub after: u64,
    pub delta: i128,
    /// The increase allowed by `--threshold` (0 without it).
    pub allowed: u64,
}

/// What rose: the total or a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncreaseScope {
    Total,
    Test,
}

/// The increase allowed before a rise counts: N allocations, or N% of the earlier count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    Count(u64),
    Percent(u64),
}

impl Threshold {
    /// The increase allowed over `before` allocations (a percentage rounds down).
    #[must_use]
    pub fn allowed(self, before: u64) -> u64 {
        match self {
            Threshold::Count(n) => n,
            Threshold::Percent(p) => {
                u64::try_from(u128::from(before) * u128::from(p) / 100).unwrap_or(u64::MAX)
            }
        }
    }
}

/// Compares two reports, each with the name to show for it (its path); `threshold` decides the
/// [`Comparison::increases`].
#[must_use]
pub fn compare(
    (before_name, before): (&str, &Report),
    (after_name, after): (&str, &Report),
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
    let totals = TotalsChange {
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
            scope: IncreaseScope::Total,
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
                scope: IncreaseScope::Test,
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
        format: FORMAT.to_owned(),
        version: VERSION,
        before: before_name.to_owned(),
        after: after_name.to_owned(),
        different: different(before, after),
        totals,
        tests,
        functions: pair_up(f(before), f(after)),
        modules: pair_up(m(before), m(after)),
        increases,
    }
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
                (None, _) => EntryStatus::Added,
                (_, None) => EntryStatus::Removed,
                _ if before == after => EntryStatus::Same,
                _ => EntryStatus::Changed,
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

fn pair_up(
    before: impl IntoIterator<Item = (String, Option<String>, u64, u64)>,
    after: impl IntoIterator<Item = (String, Option<String>, u64, u64)>,
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

/// What is profiled: the subcommand and the report's target (`tests`, or the binary or example
/// with its source).
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

#[cfg(test)]
mod tests {
    use super::*;

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
                    e.status.as_str(),
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
