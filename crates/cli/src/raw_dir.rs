//! The raw-profile directory: where a session's processes leave what the report is made of, and
//! the one module that reads and writes it. It also alone reads raw profiles from disk, also those
//! `report` is given and those the last runs keep (see [`crate::last_run`]).
//!
//! A session's directory, `<target>/alloc-profile/raw/<ms>-<pid>/`, holds:
//!
//! - `<exe>-<pid>.aprof`: the raw profile the interposer wrote for process `pid` (the interposer
//!   finds the directory in [`crate::profiling_env::OUT_DIR`]);
//! - `<pid>.started`: written by the runner before the process runs: the executable's real path,
//!   then its arguments, separated by NUL bytes, so that a process that dies without writing its
//!   profile is noticed;
//! - `<pid>.outcome.json`: written by the runner when a test executable has ended: what it read
//!   from the test harness's output ([`BinaryOutcome`]);
//! - `doctest-<runner pid>/rust_out`: a doctest executable, kept for the report (see
//!   [`crate::doctests`]).

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use alloc_profile_format::RawProfile;
use anyhow::{Context as _, Result};

use crate::outcomes::BinaryOutcome;

const STARTED: &str = ".started";
const OUTCOME: &str = ".outcome.json";

/// A fresh directory for one session's raw profiles, removed when the session ends.
pub struct RawDir {
    path: PathBuf,
}

impl RawDir {
    /// `<tool_dir>/raw/<ms>-<pid>[-n]`, made by this call (never one that already existed, so
    /// nothing planted there is read), readable by its owner only.
    pub fn create(tool_dir: &Path) -> Result<Self> {
        use std::os::unix::fs::DirBuilderExt as _;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let parent = tool_dir.join("raw");
        fs_err::create_dir_all(&parent).context("while creating the directory for raw profiles")?;
        let mut attempt = 0;
        loop {
            let mut name = format!("{stamp}-{}", std::process::id());
            if attempt > 0 {
                name.push_str(&format!("-{attempt}"));
            }
            let path = parent.join(name);
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(Self { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1;
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!(
                            "while creating the directory for raw profiles {}",
                            path.display()
                        )
                    })
                }
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RawDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The directory for programs profiled by hand (`show-env`): `chosen`, else
/// `<tool_dir>/raw/manual`; created, and kept.
pub fn manual(tool_dir: &Path, chosen: Option<PathBuf>) -> Result<PathBuf> {
    let dir = chosen.unwrap_or_else(|| tool_dir.join("raw").join("manual"));
    fs_err::create_dir_all(&dir)?;
    Ok(dir)
}

// ---- written by the runner ----

/// Records in `out` that process `pid` runs `exe` (its real path) with `args`.
pub fn write_started(out: &Path, pid: u32, exe: &OsStr, args: &[OsString]) -> Result<()> {
    let mut marker = Vec::new();
    marker.extend_from_slice(exe.as_encoded_bytes());
    for arg in args {
        marker.push(0);
        marker.extend_from_slice(arg.as_encoded_bytes());
    }
    fs_err::write(out.join(format!("{pid}{STARTED}")), marker)?;
    Ok(())
}

/// Records in `out` what the runner read from the output of test executable `pid`, which ended.
pub fn write_outcome(out: &Path, pid: u32, outcome: &BinaryOutcome) -> Result<()> {
    fs_err::write(
        out.join(format!("{pid}{OUTCOME}")),
        serde_json::to_vec(outcome)?,
    )?;
    Ok(())
}

/// A copy of the doctest executable `exe` in `out` (a hard link when the file system allows),
/// which outlives rustdoc's temporary directory: `<out>/doctest-<runner pid>/<its name>`.
pub fn keep_doctest(out: &Path, exe: &Path) -> Result<PathBuf> {
    let dir = out.join(format!("doctest-{}", std::process::id()));
    fs_err::create_dir(&dir)?;
    let kept = dir.join(exe.file_name().unwrap_or_default());
    if std::fs::hard_link(exe, &kept).is_err() {
        fs_err::copy(exe, &kept).context("while keeping the doctest executable for the report")?;
    }
    Ok(kept)
}

// ---- read by the front end ----

/// A process the runner started.
#[derive(Debug, Clone)]
pub struct Started {
    pub pid: u32,
    pub exe: PathBuf,
}

/// What a session's processes left behind.
#[derive(Debug, Default)]
pub struct Collected {
    /// Readable profiles, ordered by start time then pid.
    pub profiles: Vec<RawProfile>,
    /// Processes the runner started, by pid.
    pub started: Vec<Started>,
    /// One line per problem: unreadable profiles, processes that wrote none.
    pub problems: Vec<String>,
    /// What the runner read from test harness output, per test process.
    pub outcomes: Vec<BinaryOutcome>,
}

/// Reads what the session's processes wrote into `dir`; the problems are the files that could not
/// be read as what their names say.
pub fn read(dir: &Path) -> Result<Collected> {
    let mut out = Collected::default();
    let mut entries: Vec<_> = fs_err::read_dir(dir)?
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in &entries {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if let Some(pid) = name.strip_suffix(STARTED) {
            let marker = fs_err::read(path)?;
            let exe = marker.split(|&b| b == 0).next().unwrap_or_default();
            out.started.push(Started {
                pid: pid.parse().unwrap_or(0),
                exe: PathBuf::from(String::from_utf8_lossy(exe).into_owned()),
            });
        } else if name.ends_with(OUTCOME) {
            let bytes = fs_err::read(path)?;
            match serde_json::from_slice(&bytes) {
                Ok(o) => out.outcomes.push(o),
                Err(e) => out.problems.push(format!("{}: {e}", path.display())),
            }
        } else if name.ends_with(&format!(".{}", alloc_profile_format::EXTENSION)) {
            match read_profile(path)? {
                Ok(p) => out.profiles.push(p),
                Err(problem) => out.problems.push(problem),
            }
        }
    }
    sort_by_start(&mut out.profiles);
    Ok(out)
}

/// The pids of the processes whose outcome the runner has written into `dir`.
pub fn ended(dir: &Path) -> HashSet<u32> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(std::result::Result::ok)
                .filter_map(|e| {
                    let name = e.file_name();
                    name.to_str()?.strip_suffix(OUTCOME)?.parse().ok()
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---- raw profiles anywhere ----

fn is_profile(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == alloc_profile_format::EXTENSION)
}

/// Reads the raw profile at `path`: an error when the file cannot be read, `Err(problem)` inside
/// when it is no raw profile this version reads (`<path>: <why>`).
pub fn read_profile(path: &Path) -> Result<std::result::Result<RawProfile, String>> {
    let bytes = fs_err::read(path)?;
    Ok(alloc_profile_format::read(&bytes).map_err(|e| format!("{}: {e}", path.display())))
}

/// The raw profiles (`*.aprof`) in `dir`, sorted by name.
pub fn profile_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = fs_err::read_dir(dir)?
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .filter(|p| is_profile(p))
        .collect();
    found.sort();
    Ok(found)
}

/// Writes `profiles` into `dir` as `0000.aprof`, `0001.aprof`, … in their order.
pub fn write_profiles(dir: &Path, profiles: &[RawProfile]) -> Result<()> {
    for (i, p) in profiles.iter().enumerate() {
        fs_err::write(
            dir.join(format!("{i:04}.{}", alloc_profile_format::EXTENSION)),
            p.to_bytes(),
        )?;
    }
    Ok(())
}

/// Orders profiles as reports show processes: by start time, then pid.
pub fn sort_by_start(profiles: &mut [RawProfile]) {
    profiles.sort_by_key(|p| (p.header.start_unix_ns, p.header.pid));
}
