//! `cargo alloc-profile report`: the last run again (kept by [`crate::last_run`]), or raw
//! profiles written earlier, in the format asked for now; nothing is built or run.

use std::os::unix::process::ExitStatusExt as _;
use std::process::ExitStatus;

use anyhow::{Context as _, Result};

use crate::cargo::Workspace;
use crate::cli::{CargoArgs, ReportCmdArgs};
use crate::last_run;
use crate::raw_dir::{self, Collected};
use crate::session::report::{with_budgets, Outcome};
use crate::session::{self, checks};

/// `cargo alloc-profile report` with no path: the last run kept in the tool's target directory
/// (see [`crate::last_run`]), reported as it was, in the format asked for now.
fn report_last(args: &ReportCmdArgs) -> Result<i32> {
    let cargo = CargoArgs {
        manifest_path: args.manifest_path.clone(),
        target_dir: args.target_dir.clone(),
        ..CargoArgs::default()
    };
    let ws = Workspace::load(&cargo).context(
        "while finding the target directory of the last run (pass --manifest-path, or name raw \
         profiles)",
    )?;
    let saved = last_run::load_latest(&ws.tool_dir(args.target_dir.as_deref()))?;
    let mut collected = Collected {
        profiles: saved.profiles,
        problems: saved.notes,
        ..Collected::default()
    };
    collected.problems.push(format!(
        "reported again from the last run, kept in {}",
        saved.dir.display()
    ));
    let outcome = Outcome {
        command: saved.command,
        label: saved.label,
        status: ExitStatus::from_raw(saved.status),
    };
    let exceeded = session::report::report(
        &ws,
        &collected,
        &outcome,
        &args.report,
        saved.tests.as_deref(),
    )?;
    Ok(with_budgets(0, exceeded))
}

/// `cargo alloc-profile report PATH...`: symbolizes and reports raw profiles written earlier.
pub fn report(args: &ReportCmdArgs) -> Result<i32> {
    if let Some(path) = &args.manifest_path {
        checks::manifest_path(path)?;
    }
    if let Some(path) = &args.report.output {
        checks::output(path)?;
    }
    crate::views::check(&args.report)?;
    if args.paths.is_empty() {
        return report_last(args);
    }
    let mut files = Vec::new();
    for path in &args.paths {
        let meta =
            std::fs::metadata(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            let found = raw_dir::profile_files(path)?;
            if found.is_empty() {
                anyhow::bail!(
                    "{}: no raw profiles (*.{}) in this directory",
                    path.display(),
                    alloc_profile_format::EXTENSION
                );
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let mut collected = Collected::default();
    for file in &files {
        let profile = raw_dir::read_profile(file)?.map_err(anyhow::Error::msg)?;
        collected.profiles.push(profile);
    }
    raw_dir::sort_by_start(&mut collected.profiles);
    let cargo = CargoArgs {
        manifest_path: args.manifest_path.clone(),
        ..CargoArgs::default()
    };
    let ws = match Workspace::load(&cargo) {
        Ok(ws) => ws,
        Err(e) if args.manifest_path.is_none() => {
            collected.problems.push(format!(
                "no Cargo workspace here ({e:#}): nothing is classified as your code; pass \
                 --manifest-path"
            ));
            Workspace::empty()
        }
        Err(e) => return Err(e),
    };
    // One process: its own ending; several: none in particular.
    let raw_status = match collected.profiles.as_slice() {
        [p] if p.end.reason == alloc_profile_format::end_reason::SIGNAL => p.end.detail & 0x7f,
        [p] => (p.end.detail & 0xff) << 8,
        _ => 0,
    };
    let outcome = Outcome {
        command: std::env::args().collect(),
        label: files
            .iter()
            .map(|f| {
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect::<Vec<_>>()
            .join(", "),
        status: ExitStatus::from_raw(raw_status),
    };
    let exceeded = session::report::report(&ws, &collected, &outcome, &args.report, None)?;
    Ok(with_budgets(0, exceeded))
}
