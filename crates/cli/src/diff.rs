//! `cargo alloc-profile diff BEFORE.json AFTER.json`: what changed between two runs.
//!
//! Reads two JSON reports (format `cargo-alloc-profile`, version 1) and lists the totals and every
//! function whose total allocations changed, largest change first. The text is deterministic, so
//! it can be kept as an artifact and compared again.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use serde::Deserialize;

use crate::cli::DiffArgs;

#[derive(Debug, Deserialize)]
struct Report {
    format: String,
    version: u32,
    totals: Totals,
    functions: Vec<Function>,
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

fn signed(n: i128) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

/// Returns the exit code: 1 when `--fail-on-increase` and allocations went up.
pub fn run(args: &DiffArgs) -> Result<i32> {
    let before = load(&args.before)?;
    let after = load(&args.after)?;
    let mut out = String::new();
    let row = |out: &mut String, what: &str, b: u64, a: u64| {
        out.push_str(&format!(
            "  {what:<44} {b:>14} {a:>14} {:>14}\n",
            signed(i128::from(a) - i128::from(b))
        ));
    };
    out.push_str(&format!(
        "cargo alloc-profile diff · {} → {}\n",
        args.before.display(),
        args.after.display()
    ));
    out.push_str(&format!(
        "  {:<44} {:>14} {:>14} {:>14}\n",
        "", "before", "after", "change"
    ));
    row(
        &mut out,
        "allocations",
        before.totals.allocations,
        after.totals.allocations,
    );
    row(
        &mut out,
        "bytes requested",
        before.totals.bytes,
        after.totals.bytes,
    );
    row(
        &mut out,
        "peak live bytes",
        before.totals.peak_bytes,
        after.totals.peak_bytes,
    );
    row(
        &mut out,
        "still live at exit",
        before.totals.leaked_allocations,
        after.totals.leaked_allocations,
    );

    // Function → (total allocations before, after).
    let mut functions: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for f in &before.functions {
        functions.entry(&f.name).or_default().0 = f.total_allocations;
    }
    for f in &after.functions {
        functions.entry(&f.name).or_default().1 = f.total_allocations;
    }
    let mut changed: Vec<(&str, u64, u64)> = functions
        .iter()
        .filter(|(_, (b, a))| b != a)
        .map(|(name, (b, a))| (*name, *b, *a))
        .collect();
    changed.sort_by(|x, y| {
        let dx = (i128::from(x.2) - i128::from(x.1)).abs();
        let dy = (i128::from(y.2) - i128::from(y.1)).abs();
        dy.cmp(&dx).then(x.0.cmp(y.0))
    });
    out.push('\n');
    if changed.is_empty() {
        out.push_str("No function's total allocations changed.\n");
    } else {
        out.push_str("Functions whose total allocations changed (largest change first)\n");
        for (name, b, a) in &changed {
            let shown = if name.chars().count() > 44 {
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
                (*name).to_owned()
            };
            row(&mut out, &shown, *b, *a);
        }
    }
    match &args.output {
        Some(path) => fs_err::write(path, &out)
            .with_context(|| format!("while writing the diff to {}", path.display()))?,
        None => std::io::stdout().lock().write_all(out.as_bytes())?,
    }
    let increased = after.totals.allocations > before.totals.allocations;
    Ok(i32::from(args.fail_on_increase && increased))
}
