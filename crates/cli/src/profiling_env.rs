//! The environment of a profiling session: every variable the front end sets, for cargo, for the
//! two roles cargo calls back (see [`crate::runner`] and [`crate::rustc_wrapper`]) and for the
//! interposer, named and encoded here and nowhere else.
//!
//! [`InterposerEnv`] is what a profiled program needs (the interposer library, where raw profiles
//! go, what to record): `show-env` prints it for programs started by hand, and [`CargoEnv`] hands
//! it to the runner inside the environment of a profiled cargo command, which also gets the
//! runner and wrapper settings, line tables and frame pointers. The roles read back what was set
//! here: [`role`], [`restored`], [`added_link_flags`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use crate::process::ProcessBuilder;

/// Set (to "1") in cargo's environment by the front end.
pub const ROLE: &str = "__CARGO_ALLOC_PROFILE_ROLE";
/// Path of the interposer library, for the runner.
pub const PRELOAD: &str = "__CARGO_ALLOC_PROFILE_PRELOAD";
/// The user's own `RUSTC_WRAPPER` (sccache, …), which the wrapper calls in turn.
pub const INNER_WRAPPER: &str = "__CARGO_ALLOC_PROFILE_INNER_WRAPPER";
/// Directory where the interposer writes raw profiles (read by the interposer itself).
pub const OUT_DIR: &str = "CARGO_ALLOC_PROFILE_OUT";
/// Variables the front end set for cargo and their original values, restored for the profiled
/// program so that it sees the environment it would have seen under plain cargo.
pub const RESTORE: &str = "__CARGO_ALLOC_PROFILE_RESTORE";
/// Extra rustc flags for crates that link an executable, separated by U+001F (see
/// [`crate::allocator_link`]).
pub const LINK_FLAGS: &str = "__CARGO_ALLOC_PROFILE_LINK_FLAGS";
/// "0": the interposer drops itself from `LD_PRELOAD` at start, so the processes the profiled
/// program starts are not profiled (read by the interposer).
pub const FOLLOW_CHILDREN: &str = "CARGO_ALLOC_PROFILE_FOLLOW_CHILDREN";
/// "1": the interposer measures block lifetimes (read by the interposer).
pub const LIFETIMES: &str = "CARGO_ALLOC_PROFILE_LIFETIMES";
/// "1": the interposer counts each thread's own live bytes, for per-test peaks (read by the
/// interposer).
pub const TEST_PEAKS: &str = "CARGO_ALLOC_PROFILE_TEST_PEAKS";
/// What the runner runs: `run` (default), `test` or `bench`.
pub const MODE: &str = "__CARGO_ALLOC_PROFILE_MODE";
/// First argument of the runner role, as configured in the runner setting.
pub const RUNNER_ARG: &str = "__alloc-profile-runner";
/// Flags added to every rustc invocation of a profiled build.
pub const RUSTC_FLAGS: [&str; 2] = ["-C", "force-frame-pointers=yes"];
/// Debug info of a profiled build: line tables and inline info (module paths of inlined closures
/// survive "limited", not "line-tables-only").
pub const DEBUG_INFO: &str = "limited";

/// Separates the flags in [`LINK_FLAGS`].
const LINK_FLAG_SEPARATOR: char = '\u{1f}';

/// Which role the current process plays.
pub enum Role {
    Frontend,
    Runner,
    RustcWrapper,
}

/// The role [`CargoEnv`] gave this process: the runner is told apart from the wrapper by its
/// first argument [`RUNNER_ARG`].
pub fn role() -> Role {
    if std::env::var_os(ROLE).is_none() {
        return Role::Frontend;
    }
    match std::env::args_os().nth(1) {
        Some(arg) if arg == RUNNER_ARG => Role::Runner,
        _ => Role::RustcWrapper,
    }
}

/// What the interposer needs in the environment of a program it profiles.
pub struct InterposerEnv {
    /// The interposer library (see [`crate::interposer_lib`]).
    pub library: PathBuf,
    /// Where it writes raw profiles (see [`crate::raw_dir`]).
    pub out_dir: PathBuf,
    pub follow_children: bool,
    pub lifetimes: bool,
    /// Per-test peaks are measured (test and benchmark runs).
    pub test_peaks: bool,
}

impl InterposerEnv {
    /// What to record, beyond the defaults: the variables that say so.
    fn recording(&self) -> Vec<(String, OsString)> {
        let mut vars = Vec::new();
        if !self.follow_children {
            vars.push((FOLLOW_CHILDREN.into(), "0".into()));
        }
        if self.lifetimes {
            vars.push((LIFETIMES.into(), "1".into()));
        }
        if self.test_peaks {
            vars.push((TEST_PEAKS.into(), "1".into()));
        }
        vars
    }

    /// The environment of a program started by hand: the library in `LD_PRELOAD`, the output
    /// directory, what to record.
    pub fn for_manual_runs(&self) -> Vec<(String, OsString)> {
        let mut vars = vec![
            ("LD_PRELOAD".to_owned(), self.library.clone().into()),
            (OUT_DIR.to_owned(), self.out_dir.clone().into()),
        ];
        vars.extend(self.recording());
        vars
    }
}

/// What a hand-built program needs at build time to be profiled well (the build flags the
/// wrapper adds and the debug info [`CargoEnv`] asks for), as a shell line.
pub fn manual_build_line() -> String {
    format!(
        "RUSTFLAGS='{}' CARGO_PROFILE_RELEASE_DEBUG={DEBUG_INFO} CARGO_PROFILE_RELEASE_STRIP=false \
         cargo build --release",
        RUSTC_FLAGS.join(" ")
    )
}

/// The host target triple, from `rustc -vV`.
fn host_triple() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = ProcessBuilder::new(rustc).arg("-vV").read()?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .context("`rustc -vV` did not name the host target")
}

/// Everything a profiled cargo invocation needs in its environment.
pub struct CargoEnv {
    vars: Vec<(String, OsString)>,
}

impl CargoEnv {
    /// `target_dir`: the profiled build's target directory; `interposer`: what the runner gives
    /// each program; `link_flags`: rustc flags for crates that link an executable.
    pub fn new(
        target_dir: &Path,
        interposer: &InterposerEnv,
        link_flags: &[String],
    ) -> Result<Self> {
        let self_exe = std::env::current_exe().context("while locating this executable")?;
        let self_str = self_exe.to_string_lossy().into_owned();
        if self_str.chars().any(char::is_whitespace) {
            bail!(
                "this executable's path contains whitespace ({self_str}), which cargo's runner \
                 setting cannot express; install cargo-alloc-profile to a path without spaces"
            );
        }
        let triple = host_triple()?;
        let triple_key = triple.to_uppercase().replace(['-', '.'], "_");
        let mut vars: Vec<(String, OsString)> = vec![
            ("CARGO_TARGET_DIR".into(), target_dir.into()),
            (
                format!("CARGO_TARGET_{triple_key}_RUNNER"),
                format!("{self_str} {RUNNER_ARG}").into(),
            ),
            ("RUSTC_WRAPPER".into(), self_exe.clone().into()),
            (ROLE.into(), "1".into()),
            (PRELOAD.into(), interposer.library.clone().into()),
            (OUT_DIR.into(), interposer.out_dir.clone().into()),
        ];
        if let Some(inner) = std::env::var_os("RUSTC_WRAPPER").filter(|w| !w.is_empty()) {
            vars.push((INNER_WRAPPER.into(), inner));
        }
        // C and C++ compiled by build scripts (the cc crate reads these) keep frame pointers too,
        // so the walk goes through C frames in release builds; appended to the user's own.
        for key in ["CFLAGS", "CXXFLAGS"] {
            let mut value = std::env::var_os(key).unwrap_or_default();
            if !value.is_empty() {
                value.push(" ");
            }
            value.push("-fno-omit-frame-pointer");
            vars.push((key.into(), value));
        }
        vars.extend(interposer.recording());
        if !link_flags.is_empty() {
            let joined = link_flags.join(&LINK_FLAG_SEPARATOR.to_string());
            vars.push((LINK_FLAGS.into(), joined.into()));
        }
        // Line tables and inline info, and no stripping: release profiles strip by default.
        // A custom profile gets the same through `--config` (see `CargoArgs::to_cargo_args`): the
        // environment form is ambiguous for names with dashes (`release-lto`).
        for p in ["DEV", "RELEASE", "TEST", "BENCH"] {
            vars.push((format!("CARGO_PROFILE_{p}_DEBUG"), DEBUG_INFO.into()));
            vars.push((format!("CARGO_PROFILE_{p}_STRIP"), "false".into()));
        }
        // The profiled program gets back the environment it would have had.
        let restore: Vec<(String, Option<OsString>)> = vars
            .iter()
            .filter(|(k, _)| {
                // What the interposer itself reads stays set for the program.
                ![
                    ROLE,
                    PRELOAD,
                    OUT_DIR,
                    LINK_FLAGS,
                    FOLLOW_CHILDREN,
                    LIFETIMES,
                    TEST_PEAKS,
                ]
                .contains(&k.as_str())
            })
            .map(|(k, _)| (k.clone(), std::env::var_os(k)))
            .collect();
        vars.push((RESTORE.into(), encode_restore(&restore).into()));
        Ok(Self { vars })
    }

    pub fn apply(&self, cmd: &mut ProcessBuilder) {
        // A stale inner-wrapper setting from an outer profiling run must not leak in.
        cmd.env_remove(INNER_WRAPPER);
        for (k, v) in &self.vars {
            cmd.env(k, v.clone());
        }
    }
}

/// Runner: the variables [`CargoEnv`] set over the user's and their original values (`None`:
/// unset), to give the profiled program back.
pub fn restored() -> Vec<(String, Option<OsString>)> {
    std::env::var_os(RESTORE).map_or_else(Vec::new, |r| decode_restore(&r.to_string_lossy()))
}

/// The private variables of this tool, which the profiled program must not see.
pub const PRIVATE: [&str; 6] = [ROLE, PRELOAD, INNER_WRAPPER, RESTORE, MODE, LINK_FLAGS];

/// Rustc wrapper: the link flags [`CargoEnv`] set for crates that link an executable, and their
/// encoded form (which the wrapper's version line hashes).
pub fn added_link_flags() -> (Vec<String>, OsString) {
    let encoded = std::env::var_os(LINK_FLAGS).unwrap_or_default();
    let flags = encoded
        .to_string_lossy()
        .split(LINK_FLAG_SEPARATOR)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    (flags, encoded)
}

/// The user's own rustc wrapper, when there was one.
pub fn inner_wrapper() -> Option<OsString> {
    std::env::var_os(INNER_WRAPPER).filter(|w| !w.is_empty())
}

/// Whether the runner runs test executables (`test` or `bench`) rather than a program.
pub fn runs_tests() -> bool {
    let mode = std::env::var(MODE).unwrap_or_default();
    mode == "test" || mode == "bench"
}

/// The `LD_PRELOAD` value that loads `library` first and keeps what the environment preloads.
pub fn preload_before_existing(library: OsString) -> OsString {
    let mut value = library;
    if let Some(existing) = std::env::var_os("LD_PRELOAD").filter(|v| !v.is_empty()) {
        value.push(":");
        value.push(existing);
    }
    value
}

/// Whether the interposer follows the processes a profiled program starts.
pub fn follows_children() -> bool {
    std::env::var_os(FOLLOW_CHILDREN).is_none_or(|v| v != "0")
}

/// Encodes `(key, original value)` pairs for [`RESTORE`]: `KEY` (was unset) or `KEY=hex(value)`,
/// joined by `;` (values are arbitrary bytes; keys never contain `=` or `;`).
fn encode_restore(vars: &[(String, Option<OsString>)]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for (key, value) in vars {
        if !out.is_empty() {
            out.push(';');
        }
        out.push_str(key);
        if let Some(v) = value {
            out.push('=');
            for b in v.as_encoded_bytes() {
                let _ = write!(out, "{b:02x}");
            }
        }
    }
    out
}

fn decode_restore(s: &str) -> Vec<(String, Option<OsString>)> {
    s.split(';')
        .filter(|e| !e.is_empty())
        .map(|entry| match entry.split_once('=') {
            None => (entry.to_owned(), None),
            Some((key, hex)) => {
                let bytes: Vec<u8> = (0..hex.len() / 2)
                    .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
                    .collect();
                (
                    key.to_owned(),
                    Some(std::os::unix::ffi::OsStringExt::from_vec(bytes)),
                )
            }
        })
        .collect()
}

/// `KEY=value` as it appears in `/proc/<pid>/environ` for a process whose raw profiles go to
/// `out_dir`.
pub fn out_dir_entry(out_dir: &Path) -> Vec<u8> {
    let mut entry = format!("{OUT_DIR}=").into_bytes();
    entry.extend_from_slice(out_dir.as_os_str().as_encoded_bytes());
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_round_trips() {
        let vars = vec![
            ("A".to_owned(), None),
            ("B".to_owned(), Some(OsString::from("x=y;z \u{e9}"))),
            ("C".to_owned(), Some(OsString::new())),
        ];
        assert_eq!(decode_restore(&encode_restore(&vars)), vars);
    }
}
