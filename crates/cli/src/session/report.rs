//! The end of every session: symbolize the raw profiles, analyze, check the budgets, render the
//! report in the format asked for, and keep the run for `report` with no path.

use std::io::Write as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::ExitStatus;

use anyhow::{Context as _, Result};

use super::checks::is_stdout;
use crate::cargo::Workspace;
use crate::cli::{ColorChoice, Format, ReportArgs};
use crate::raw_dir::Collected;

/// How a session ended, as its report heads it.
pub struct Outcome {
    /// The tool's command line, as `std::env::args` gave it.
    pub command: Vec<String>,
    pub label: String,
    pub status: ExitStatus,
}

/// Keeps the run for `report` with no path (see [`crate::last_run`]) in `tool_dir`
/// (`<target>/alloc-profile`).
pub fn keep_last(
    tool_dir: &Path,
    collected: &Collected,
    outcome: &Outcome,
    tests: Option<&[alloc_profile_report::TestBinary]>,
) {
    crate::last_run::keep(
        tool_dir,
        &crate::last_run::Run {
            profiles: &collected.profiles,
            command: &outcome.command,
            label: &outcome.label,
            status: outcome.status.into_raw(),
            notes: &collected.problems,
            tests,
        },
    );
}

/// Symbolizes and analyzes the collected profiles, checks the budgets (unless `--no-budgets`),
/// writes the report where `opts` says and what a CI log needs after it; how many budget limits
/// were exceeded.
pub fn report(
    ws: &Workspace,
    collected: &Collected,
    outcome: &Outcome,
    opts: &ReportArgs,
    tests: Option<&[alloc_profile_report::TestBinary]>,
) -> Result<usize> {
    let read_ahead = alloc_profile_symbolize::ReadAhead::default();
    report_with(ws, collected, outcome, opts, tests, read_ahead)
}

/// [`report`], symbolizing with the module files `read_ahead` has read already (the same
/// report, sooner).
pub fn report_with(
    ws: &Workspace,
    collected: &Collected,
    outcome: &Outcome,
    opts: &ReportArgs,
    tests: Option<&[alloc_profile_report::TestBinary]>,
    read_ahead: alloc_profile_symbolize::ReadAhead,
) -> Result<usize> {
    let sym_opts = alloc_profile_symbolize::Options {
        workspace: ws.members.clone(),
        dependencies: ws.dependencies.clone(),
        workspace_targets: ws.targets.iter().map(|t| t.name.clone()).collect(),
    };
    let (profile, warnings) =
        alloc_profile_symbolize::symbolize_with(&collected.profiles, &sym_opts, read_ahead)
            .context("while symbolizing the profiles")?;
    if std::env::var_os("__CARGO_ALLOC_PROFILE_DUMP_SITES").is_some() {
        dump_sites(&profile);
    }
    let mut notes: Vec<String> = collected.problems.clone();
    notes.extend(warnings.iter().map(ToString::to_string));
    notes.extend(crate::allocator_notes::notes(&profile));
    let ctx = alloc_profile_report::Context {
        command: display_command(&outcome.command),
        target_label: outcome.label.clone(),
        exit_code: outcome.status.code(),
        signal: outcome
            .status
            .signal()
            .map(|s| (s, signal_name(s).to_owned())),
        notes,
        unprofiled: collected
            .started
            .iter()
            .filter(|s| !collected.profiles.iter().any(|p| p.header.pid == s.pid))
            .map(|s| {
                s.exe
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
        workspace_root: Some(ws.root.clone()),
    };
    let inputs = alloc_profile_report::Inputs {
        tests,
        budgets: if opts.no_budgets { &[] } else { &ws.budgets },
    };
    let analysis = alloc_profile_report::analyze(&profile, &inputs);
    let exceeded = alloc_profile_report::budget::exceeded(&analysis.budgets);
    let mut buf = Vec::new();
    match opts.format {
        Format::Json => alloc_profile_report::write_json(&mut buf, &analysis, &ctx)?,
        Format::Folded | Format::Flamegraph | Format::Dhat | Format::Pprof | Format::Html => {
            crate::views::write(&mut buf, &profile, &analysis, &ctx, opts, tests)?;
        }
        Format::Text => {
            let color = match opts.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    opts.output.as_deref().is_none_or(is_stdout)
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                        && std::io::IsTerminal::is_terminal(&std::io::stdout())
                }
            };
            let text_opts = alloc_profile_report::TextOptions {
                top: opts.top,
                color,
                advice: !opts.no_advice,
            };
            alloc_profile_report::write_text(&mut buf, &analysis, &ctx, &text_opts)?;
        }
    }
    match opts.output.as_deref().filter(|p| !is_stdout(p)) {
        Some(path) => fs_err::write(path, &buf)
            .with_context(|| format!("while writing the report to {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&buf)?;
            out.flush()?;
        }
    }
    crate::views::open(opts)?;
    crate::ci_log::announce(&analysis, &ctx.command, &ws.root)?;
    if exceeded > 0 {
        eprintln!(
            "error: {exceeded} allocation budget {} in Cargo.toml exceeded (the report's Budgets \
             section says which)",
            if exceeded == 1 { "limit" } else { "limits" }
        );
    }
    Ok(exceeded)
}

/// The tool's exit status: the program's own `code`, or 1 when it succeeded but a budget was
/// exceeded.
pub fn with_budgets(code: i32, exceeded: usize) -> i32 {
    if code == 0 && exceeded > 0 {
        1
    } else {
        code
    }
}

/// Development aid: every site with its symbolized frames, on standard error.
fn dump_sites(profile: &alloc_profile_format::symbolized::Profile) {
    for site in &profile.sites {
        let c = &site.counters;
        eprintln!(
            "site pid={} allocs={} bytes={} spawned_at={:?} flags={}",
            profile.processes[site.process].pid,
            c.allocations,
            c.bytes,
            site.spawned_at,
            site.flags
        );
        for &f in &site.frames {
            let f = &profile.frames[f as usize];
            eprintln!(
                "    {:?} {} {}:{}{}",
                f.kind,
                f.function,
                f.file.as_deref().unwrap_or("?"),
                f.line.unwrap_or(0),
                if f.inlined { " (inlined)" } else { "" }
            );
        }
    }
}

/// The command as the user typed it: `cargo alloc-profile …`.
fn display_command(args: &[String]) -> Vec<String> {
    let mut out = vec!["cargo".to_owned()];
    // Without the report's own destination: two runs written to before.txt and after.txt then
    // differ only where the profiles do. The program's arguments (after `--`) stay as they are.
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        if arg == "--" {
            out.push(arg.clone());
            out.extend(rest.by_ref().cloned());
            break;
        }
        if arg == "-o" || arg == "--output" {
            rest.next();
            continue;
        }
        if arg.starts_with("--output=") || (arg.starts_with("-o") && arg.len() > 2) {
            continue;
        }
        out.push(arg.clone());
    }
    out
}

/// The signal's conventional name, or `"signal"` for one without a common name.
fn signal_name(sig: i32) -> &'static str {
    alloc_profile_report::signal_name(sig).unwrap_or("signal")
}

#[cfg(test)]
mod display_tests {
    use super::display_command;

    #[test]
    fn the_command_shown_leaves_out_where_the_report_goes() {
        let args: Vec<String> = [
            "/bin/cargo-alloc-profile",
            "alloc-profile",
            "run",
            "-o",
            "before.txt",
            "--release",
            "--output=x.json",
            "-oy.txt",
            "--",
            "-o",
            "program-arg",
        ]
        .map(str::to_owned)
        .to_vec();
        assert_eq!(
            display_command(&args),
            [
                "cargo",
                "alloc-profile",
                "run",
                "--release",
                "--",
                "-o",
                "program-arg"
            ]
        );
    }
}
