//! `cargo alloc-profile diff BEFORE.json AFTER.json`: what changed between two runs.
//!
//! Reads two JSON reports (format `cargo-alloc-profile`, version 1), compares them
//! ([`alloc_profile_report::diff`]: the totals, every test or benchmark, every function and every
//! module, largest change first) and writes the comparison
//! ([`alloc_profile_report::render::diff`]). The text lists what changed; `--format json` lists
//! everything compared. Both are deterministic, so they can be kept as artifacts and compared
//! again.
//!
//! `--fail-on-increase` makes it a CI gate: exit status 1 when the total allocations rose, or the
//! allocations of a test both runs had (a new test is no regression; its allocations are in the
//! total), by more than `--threshold`. Every increase is then named on standard error.

use std::io::Write as _;
use std::path::Path;

use alloc_profile_report::diff::{compare, Threshold};
use alloc_profile_report::render::diff::{increase_line, markdown, write_json, write_text};
use alloc_profile_report::schema::Report;
use anyhow::{bail, Context as _, Result};

use crate::cli::{DiffArgs, DiffFormat};

fn load(path: &Path) -> Result<Report> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Report::from_slice(&bytes).with_context(|| path.display().to_string())
}

/// `--threshold`: `N` allocations, or `N%` of the earlier count.
fn parse_threshold(s: &str) -> Result<Threshold> {
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

/// Returns the exit code: 1 when `--fail-on-increase` and allocations went up.
pub fn run(args: &DiffArgs) -> Result<i32> {
    let threshold = args.threshold.as_deref().map(parse_threshold).transpose()?;
    let before = load(&args.before)?;
    let after = load(&args.after)?;
    let comparison = compare(
        (&args.before.display().to_string(), &before),
        (&args.after.display().to_string(), &after),
        threshold,
    );
    let mut out = Vec::new();
    match args.format {
        DiffFormat::Text => write_text(&mut out, &comparison)?,
        DiffFormat::Json => write_json(&mut out, &comparison)?,
    }
    match &args.output {
        Some(path) => fs_err::write(path, &out)
            .with_context(|| format!("while writing the diff to {}", path.display()))?,
        None => std::io::stdout().lock().write_all(&out)?,
    }
    crate::github_actions::append_summary(&markdown(&comparison))?;
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
        assert_eq!(parse_threshold("10").unwrap(), Threshold::Count(10));
        assert_eq!(parse_threshold("2%").unwrap(), Threshold::Percent(2));
        assert_eq!(parse_threshold(" 5 % ").unwrap(), Threshold::Percent(5));
        for bad in ["", "x", "-1", "1.5%", "%"] {
            let e = parse_threshold(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("--threshold {bad}:")), "{e}");
        }
        assert_eq!(Threshold::Percent(10).allowed(1005), 100);
        assert_eq!(Threshold::Count(3).allowed(0), 3);
    }
}
