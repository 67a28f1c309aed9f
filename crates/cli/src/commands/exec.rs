//! `cargo alloc-profile exec -- PROGRAM ARGS...`: profiles any command, built by anyone, as
//! `heaptrack PROGRAM` does. Nothing is built: the program starts with the interposer preloaded
//! (its children too, unless `--no-follow-children`), its standard streams and exit status pass
//! through, and the report follows. The workspace that says which code is yours comes from
//! `--manifest-path`, else from the current directory when it is in one; outside any, the crates
//! named after the programs that ran count as yours.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::cargo::{RawTarget, Workspace};
use crate::cli::{CargoArgs, ExecArgs};
use crate::interrupt;
use crate::profiling_env::{preload_before_existing, InterposerEnv};
use crate::raw_dir::RawDir;
use crate::read_ahead::ReadAhead;
use crate::session::cargo_run::{collect_after, program_status};
use crate::session::checks;
use crate::session::report::{keep_last, report_with, Outcome};

/// `cargo alloc-profile exec`.
pub fn exec(args: ExecArgs) -> Result<i32> {
    let cargo = CargoArgs {
        manifest_path: args.manifest_path.clone(),
        target_dir: args.target_dir.clone(),
        ..CargoArgs::default()
    };
    checks::before_work(&cargo, &args.report)?;
    let (program, program_args) = args
        .command
        .split_first()
        .context("exec needs a program to run: `cargo alloc-profile exec -- PROGRAM ARGS...`")?;
    let exe = resolve(program)?;
    let stem = exe
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let (mut ws, no_workspace) = match Workspace::load(&cargo) {
        Ok(ws) => (ws, false),
        Err(_) if args.manifest_path.is_none() => (Workspace::empty(), true),
        Err(e) => return Err(e),
    };
    let tool_dir = match &args.target_dir {
        Some(dir) => ws.tool_dir(Some(dir)),
        None if no_workspace => scratch_dir(),
        None => ws.tool_dir(None),
    };
    let raw = RawDir::create(&tool_dir)?;
    let env = InterposerEnv {
        library: crate::interposer_lib::install(&tool_dir.join("lib"))?,
        out_dir: raw.path().to_owned(),
        follow_children: !args.profiling.no_follow_children,
        lifetimes: args.profiling.lifetimes,
        test_peaks: false,
    };

    let mut cmd = std::process::Command::new(&exe);
    cmd.args(program_args);
    // A program of another C library's loader (musl) or a static one cannot load the
    // interposer: it runs as it is, and the report says why nothing was recorded.
    let interposed = crate::elf::takes_the_interposer(&exe);
    if interposed {
        for (key, value) in env.for_manual_runs() {
            let value = if key == "LD_PRELOAD" {
                preload_before_existing(value)
            } else {
                value
            };
            cmd.env(key, value);
        }
    }

    interrupt::catch()?;
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not run {}", exe.display()))?;
    // The report's slowest part, reading debug info, overlaps the program's run.
    let read_ahead = interposed
        .then(|| ReadAhead::start(child.id(), &env.library))
        .flatten();
    let os_args: Vec<OsString> = program_args.iter().map(OsString::from).collect();
    crate::raw_dir::write_started(raw.path(), child.id(), exe.as_os_str(), &os_args)?;
    let status = child
        .wait()
        .with_context(|| format!("while waiting for {}", exe.display()))?;
    let (mut collected, interrupted) = collect_after(raw.path())?;
    if no_workspace {
        // Outside any workspace, the crate named after each program that ran is taken to be
        // yours (a binary crate's name is its executable's).
        let mut names: Vec<String> = collected
            .profiles
            .iter()
            .filter_map(|p| Path::new(&p.header.exe).file_name())
            .map(|n| n.to_string_lossy().replace('-', "_"))
            .collect();
        names.sort();
        names.dedup();
        ws.targets.extend(names.into_iter().map(|name| RawTarget {
            name,
            kind: vec!["bin".to_owned()],
            src_path: PathBuf::new(),
        }));
        collected.problems.push(
            "not in a Cargo workspace: only the crates named after the programs that ran count \
             as your code; pass --manifest-path with the Cargo.toml they were built from"
                .to_owned(),
        );
    }
    let outcome = Outcome {
        command: std::env::args().collect(),
        label: stem,
        status,
    };
    // Outside a workspace `report` would not find it again.
    if !no_workspace || args.target_dir.is_some() {
        keep_last(&tool_dir, &collected, &outcome, None);
    }
    let read_ahead = read_ahead.map(ReadAhead::finish).unwrap_or_default();
    let exceeded = report_with(&ws, &collected, &outcome, &args.report, None, read_ahead)?;
    Ok(program_status(status, interrupted, &collected, exceeded))
}

/// The program to run, found as a shell would: a name with a slash is a path, any other name is
/// looked up on `PATH`. A missing or non-executable program is an error here, before anything
/// runs.
fn resolve(program: &str) -> Result<PathBuf> {
    let is_executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = PathBuf::from(program);
        return match std::fs::metadata(&path) {
            Err(e) => anyhow::bail!("{program}: cannot run it: {e}"),
            Ok(m) if m.is_dir() => anyhow::bail!("{program}: is a directory, not a program"),
            Ok(_) if !is_executable(&path) => anyhow::bail!(
                "{program}: not executable (no execute permission); `chmod +x` it or name the \
                 interpreter first"
            ),
            Ok(_) => Ok(path),
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
        .with_context(|| {
            format!("{program}: no such program on PATH; give its path (./{program} for one here)")
        })
}

/// Where `exec` keeps the interposer and raw profiles outside any workspace: the user's cache.
fn scratch_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("cargo-alloc-profile")
}
