//! The last run of each command, kept in the tool's target directory so that `report` with no
//! path renders it again, in any format, without building or running anything.
//!
//! `<target>/alloc-profile/last/<command>/` holds the run's raw profiles (`NNNN.aprof`, in the
//! order they were read; written and read by [`crate::raw_dir`]) and `run.json`: what the
//! profiles cannot say (the command line, the target's label, how it ended, the notes of the run,
//! and for `test`, `bench` and `nextest` what the harness printed about each test). A run
//! replaces the previous one of its command: it is written beside it and renamed over it, so a
//! reader sees one or the other, never a mix.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde_json::{json, Value};

use alloc_profile_format::RawProfile;
use alloc_profile_report::per_test::{DoctestExe, TestBinary};

use crate::raw_dir;

/// What `report` needs to render a saved run again.
pub struct Saved {
    /// The directory it was read from.
    pub dir: PathBuf,
    pub profiles: Vec<RawProfile>,
    pub command: Vec<String>,
    pub label: String,
    /// The raw wait status of the run (`ExitStatus::into_raw`).
    pub status: i32,
    pub notes: Vec<String>,
    pub tests: Option<Vec<TestBinary>>,
}

/// The directory of the last runs under the tool's directory (`<target>/alloc-profile`).
pub fn dir(tool_dir: &Path) -> PathBuf {
    tool_dir.join("last")
}

/// What a run leaves to render it again.
pub struct Run<'a> {
    pub profiles: &'a [RawProfile],
    /// The tool's command line, as `std::env::args` gave it.
    pub command: &'a [String],
    pub label: &'a str,
    pub status: i32,
    pub notes: &'a [String],
    pub tests: Option<&'a [TestBinary]>,
}

/// Keeps `run` as the last run of its command under `tool_dir` (`<target>/alloc-profile`). A
/// failure is a warning: the report is made all the same.
pub fn keep(tool_dir: &Path, run: &Run<'_>) {
    if let Err(e) = save(tool_dir, run) {
        eprintln!("warning: could not keep this run for `cargo alloc-profile report`: {e:#}");
    }
}

fn save(tool_dir: &Path, run: &Run<'_>) -> Result<()> {
    let command = run
        .command
        .iter()
        .find(|a| ["run", "test", "bench", "nextest", "exec"].contains(&a.as_str()))
        .map_or("run", String::as_str);
    let profiles = run.profiles;
    let last = dir(tool_dir);
    fs_err::create_dir_all(&last).context("while keeping the profiles of this run")?;
    let fresh = last.join(format!(".{command}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&fresh);
    fs_err::create_dir(&fresh)?;
    raw_dir::write_profiles(&fresh, profiles)?;
    let tests = run.tests.map(|binaries| {
        binaries
            .iter()
            .map(|b| {
                json!({
                    "exe": b.exe, "label": b.label, "bench": b.bench, "libtest": b.libtest,
                    "names_complete": b.names_complete, "outcomes": b.outcomes,
                    "exit_ok": b.exit_ok,
                    "doctests": b.doctests.iter().map(|d| json!({
                        "exe": d.exe, "merged": d.merged, "names": d.names,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect::<Vec<_>>()
    });
    let meta = json!({
        "command": run.command, "label": run.label, "status": run.status, "notes": run.notes,
        "tests": tests,
    });
    fs_err::write(fresh.join("run.json"), serde_json::to_vec_pretty(&meta)?)?;
    let target = last.join(command);
    let _ = std::fs::remove_dir_all(&target);
    fs_err::rename(&fresh, &target)?;
    Ok(())
}

/// The most recent of the last runs under `tool_dir`.
pub fn load_latest(tool_dir: &Path) -> Result<Saved> {
    let last = dir(tool_dir);
    let mut runs: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&last)
        .into_iter()
        .flatten()
        .filter_map(std::result::Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| {
            let meta = std::fs::metadata(e.path().join("run.json")).ok()?;
            Some((meta.modified().ok()?, e.path()))
        })
        .collect();
    runs.sort();
    let Some((_, dir)) = runs.pop() else {
        anyhow::bail!(
            "no run to report on in {}: run `cargo alloc-profile run` (or test, bench, nextest) \
             first, or name raw profiles",
            last.display()
        );
    };
    load(&dir)
}

fn load(dir: &Path) -> Result<Saved> {
    let bad = |what: &str| anyhow::anyhow!("{}: {what}; run the command again", dir.display());
    let meta: Value = serde_json::from_slice(&fs_err::read(dir.join("run.json"))?)
        .map_err(|e| bad(&format!("run.json is unreadable ({e})")))?;
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let tests = meta["tests"].as_array().map(|binaries| {
        binaries
            .iter()
            .map(|b| TestBinary {
                exe: text(&b["exe"]),
                label: text(&b["label"]),
                bench: b["bench"].as_bool().unwrap_or(false),
                libtest: b["libtest"].as_bool().unwrap_or(false),
                names_complete: b["names_complete"].as_bool().unwrap_or(false),
                outcomes: b["outcomes"]
                    .as_array()
                    .map(|o| {
                        o.iter()
                            .map(|pair| (text(&pair[0]), text(&pair[1])))
                            .collect()
                    })
                    .unwrap_or_default(),
                exit_ok: b["exit_ok"].as_bool(),
                doctests: b["doctests"]
                    .as_array()
                    .map(|d| {
                        d.iter()
                            .map(|d| DoctestExe {
                                exe: text(&d["exe"]),
                                merged: d["merged"].as_bool().unwrap_or(false),
                                names: strings(&d["names"]),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    });
    let mut profiles = Vec::new();
    for file in raw_dir::profile_files(dir)? {
        profiles.push(raw_dir::read_profile(&file)?.map_err(anyhow::Error::msg)?);
    }
    Ok(Saved {
        dir: dir.to_owned(),
        profiles,
        command: strings(&meta["command"]),
        label: text(&meta["label"]),
        status: meta["status"]
            .as_i64()
            .and_then(|s| i32::try_from(s).ok())
            .unwrap_or(0),
        notes: strings(&meta["notes"]),
        tests,
    })
}
