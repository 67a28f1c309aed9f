//! Writers of a [`Comparison`] of two reports: the text `cargo alloc-profile diff` prints (what
//! changed, deterministic, so it can be kept and compared again), the JSON it writes with
//! `--format json` (everything compared), the markdown of the GitHub step summary, and the line
//! naming an increase on standard error.

use std::io::{self, Write};

use crate::diff::{Comparison, Entry, EntryStatus, Increase};
use crate::units::signed;

/// Writes the comparison as text: the totals, then the tests (for reports of tests), functions
/// and modules that changed, largest change first.
///
/// # Errors
/// Only those of `out`.
pub fn write_text(out: &mut impl Write, comparison: &Comparison) -> io::Result<()> {
    out.write_all(text(comparison).as_bytes())
}

/// Writes the comparison as JSON (format `cargo-alloc-profile-diff`, version 1), pretty-printed,
/// with a final newline.
///
/// # Errors
/// Only those of `out`.
pub fn write_json(out: &mut impl Write, comparison: &Comparison) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, comparison)?;
    out.write_all(b"\n")
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
        let changed: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.status != EntryStatus::Same)
            .collect();
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

/// One line naming an increase: `allocations rose: test t (bin) 20 → 121 (+101)`.
#[must_use]
pub fn increase_line(i: &Increase) -> String {
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

/// The comparison in markdown, for the GitHub step summary: the totals, then at most ten tests
/// and functions that changed.
#[must_use]
pub fn markdown(c: &Comparison) -> String {
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
        let changed: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.status != EntryStatus::Same)
            .collect();
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
