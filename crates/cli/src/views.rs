//! The formats other than the text and JSON reports: views of the profile's stacks for the tools
//! people already use (flame-graph tools, DHAT's viewer, pprof) and the HTML report. They are
//! written by `alloc_profile_report::render` from the same blame as the report; this module picks
//! one, opens the HTML report with `--open`, and turns a request it cannot serve into one line,
//! before anything is built.

use std::path::Path;

use anyhow::Result;

use alloc_profile_format::symbolized::Profile;
use alloc_profile_report::render::folded::{self, Weight};

use crate::cli::{Format, ReportArgs};

/// A `--weight` the format cannot show, or one given for a format that has none; `--open` for a
/// format other than html, without a file, or with no browser to open it: one line each.
pub fn check(report: &ReportArgs) -> Result<()> {
    if report.open {
        if report.format != Format::Html {
            anyhow::bail!(
                "--open: only the html report opens in a browser; add `--format html -o FILE`"
            );
        }
        if report.output.as_deref().is_none_or(|p| p == Path::new("-")) {
            anyhow::bail!("--open: name the file to open with -o FILE (e.g. -o alloc.html)");
        }
        browser()?;
    }
    let Some(weight) = report.weight else {
        return Ok(());
    };
    match report.format {
        Format::Folded | Format::Flamegraph => Ok(()),
        Format::Text | Format::Json | Format::Dhat | Format::Pprof | Format::Html => anyhow::bail!(
            "--weight {}: only `--format folded` and `--format flamegraph` take a weight (the {} \
             format has {}); drop --weight or pick one of those formats",
            weight_name(weight),
            format_name(report.format),
            if matches!(report.format, Format::Dhat | Format::Pprof) {
                "allocations, bytes and what is live at exit in every file"
            } else if report.format == Format::Html {
                "buttons for allocations, bytes and live at exit"
            } else {
                "all the numbers already"
            }
        ),
    }
}

fn weight_name(weight: crate::cli::Weight) -> &'static str {
    match weight {
        crate::cli::Weight::Allocations => "allocations",
        crate::cli::Weight::Bytes => "bytes",
        crate::cli::Weight::Live => "live",
        crate::cli::Weight::LiveBytes => "live-bytes",
    }
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Text => "text",
        Format::Json => "json",
        Format::Folded => "folded",
        Format::Flamegraph => "flamegraph",
        Format::Dhat => "dhat",
        Format::Pprof => "pprof",
        Format::Html => "html",
    }
}

/// The program that opens a file in a browser: `$BROWSER`, else `xdg-open` on the `PATH`.
fn browser() -> Result<std::ffi::OsString> {
    if let Some(b) = std::env::var_os("BROWSER").filter(|b| !b.is_empty()) {
        return Ok(b);
    }
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("xdg-open").is_file()));
    if found {
        return Ok("xdg-open".into());
    }
    anyhow::bail!(
        "--open: no browser to open the report with (set BROWSER, or install xdg-utils); the \
         report is written all the same without --open"
    )
}

/// With `--open`: prints the written report's path and opens it in a browser, without waiting
/// for the browser.
pub fn open(report: &ReportArgs) -> Result<()> {
    let Some(path) = report.output.as_deref().filter(|_| report.open) else {
        return Ok(());
    };
    let path = std::path::absolute(path)?;
    eprintln!("     Opening {}", path.display());
    let program = browser()?;
    let mut cmd = crate::process::ProcessBuilder::new(program);
    cmd.arg(&path);
    cmd.command()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| anyhow::anyhow!("--open: could not run `{cmd}`: {e}"))?;
    Ok(())
}

fn weight(report: &ReportArgs) -> Weight {
    match report.weight {
        None | Some(crate::cli::Weight::Allocations) => Weight::Allocations,
        Some(crate::cli::Weight::Bytes) => Weight::Bytes,
        Some(crate::cli::Weight::Live) => Weight::LiveAllocations,
        Some(crate::cli::Weight::LiveBytes) => Weight::LiveBytes,
    }
}

/// Writes `profile` in `report.format` (not text or JSON) to `out`. For a test or bench run
/// (`tests`), each stack is rooted at the test that owns it.
pub fn write(
    out: &mut Vec<u8>,
    profile: &Profile,
    analysis: &alloc_profile_report::Analysis,
    context: &alloc_profile_report::Context,
    report: &ReportArgs,
    tests: Option<&[alloc_profile_report::TestBinary]>,
) -> Result<()> {
    let stacks = match tests {
        Some(binaries) => folded::test_stacks(profile, binaries),
        None => folded::stacks(profile, &[]),
    };
    match report.format {
        Format::Folded => folded::write_folded(out, &stacks, weight(report))?,
        Format::Flamegraph => {
            let title = context.command.join(" ");
            alloc_profile_report::render::flamegraph::write_flamegraph(
                out,
                &stacks,
                weight(report),
                &title,
            )
            .map_err(|e| anyhow::anyhow!("--format flamegraph: {e}"))?;
        }
        Format::Dhat => {
            alloc_profile_report::render::dhat::write_dhat(out, profile, &stacks, context)?;
        }
        Format::Pprof => {
            alloc_profile_report::render::pprof::write_pprof(out, profile, &stacks)?;
        }
        Format::Html => {
            alloc_profile_report::render::html::write_html(out, analysis, &stacks, context)?;
        }
        Format::Text | Format::Json => {
            anyhow::bail!(
                "--format {}: written by the report",
                format_name(report.format)
            )
        }
    }
    Ok(())
}
