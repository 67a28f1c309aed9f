//! The other roles of this binary. Cargo calls it back twice during a profiled build:
//!
//! - as `RUSTC_WRAPPER`, to add `-C force-frame-pointers=yes` to every compilation on top of the
//!   user's own flags from the environment and from cargo config (setting `RUSTFLAGS` instead would
//!   silently drop the config ones);
//! - as the target *runner* (`CARGO_TARGET_<TRIPLE>_RUNNER`), for every executable cargo runs:
//!   programs, tests, benchmarks. The runner execs the executable with the interposer preloaded,
//!   so cargo, rustc and build scripts are never profiled.
//!
//! Both are chosen by the private [`ROLE`] variable that the front end sets for cargo; the runner
//! is told apart by its first argument [`RUNNER_ARG`].

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result};

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
/// Extra rustc flags for crates that link an executable, separated by U+001F (see [`crate::wrap`]).
pub const LINK_FLAGS: &str = "__CARGO_ALLOC_PROFILE_LINK_FLAGS";
/// "0": the interposer drops itself from `LD_PRELOAD` at start, so the processes the profiled
/// program starts are not profiled (read by the interposer).
pub const FOLLOW_CHILDREN: &str = "CARGO_ALLOC_PROFILE_FOLLOW_CHILDREN";
/// "1": the interposer measures block lifetimes (read by the interposer).
pub const LIFETIMES: &str = "CARGO_ALLOC_PROFILE_LIFETIMES";
/// What the runner runs: `run` (default), `test` or `bench`.
pub const MODE: &str = "__CARGO_ALLOC_PROFILE_MODE";
/// First argument of the runner role, as configured in the runner setting.
pub const RUNNER_ARG: &str = "__alloc-profile-runner";
/// Flags added to every rustc invocation of a profiled build.
pub const RUSTC_FLAGS: [&str; 2] = ["-C", "force-frame-pointers=yes"];

/// Which role the current process plays.
pub enum Role {
    Frontend,
    Runner,
    Wrapper,
}

pub fn current() -> Role {
    if std::env::var_os(ROLE).is_none() {
        return Role::Frontend;
    }
    match std::env::args_os().nth(1) {
        Some(arg) if arg == RUNNER_ARG => Role::Runner,
        _ => Role::Wrapper,
    }
}

/// `RUSTC_WRAPPER` role: `argv = [self, rustc, args…]`. Only returns on error.
pub fn wrapper_main() -> Result<()> {
    let mut args = std::env::args_os().skip(1);
    let rustc = args
        .next()
        .context("called as a rustc wrapper without a rustc path")?;
    let args: Vec<OsString> = args.collect();
    if args.len() == 1 && args[0] == "-vV" {
        return version_with_flags(&rustc);
    }
    let compiling = args.iter().any(|a| a == "--crate-name");
    let mut cmd = match std::env::var_os(INNER_WRAPPER).filter(|w| !w.is_empty()) {
        Some(inner) => {
            let mut c = Command::new(inner);
            c.arg(&rustc);
            c
        }
        None => Command::new(&rustc),
    };
    cmd.args(&args);
    if compiling {
        cmd.args(RUSTC_FLAGS);
        if crate::wrap::links_executable(&args) {
            if let Some(flags) = std::env::var_os(LINK_FLAGS) {
                cmd.args(
                    flags
                        .to_string_lossy()
                        .split('\u{1f}')
                        .filter(|f| !f.is_empty()),
                );
            }
        }
    }
    cmd.env_remove(ROLE);
    let err = cmd.exec();
    Err(err).with_context(|| format!("could not run {}", Path::new(&rustc).display()))
}

/// `rustc -vV` with one more line naming the flags this wrapper adds. Cargo hashes this output
/// into every fingerprint, so builds made with other added flags (another allocator wrapper, a
/// newer version of this tool) are rebuilt instead of reused. Cargo ignores lines it does not
/// know.
fn version_with_flags(rustc: &std::ffi::OsStr) -> Result<()> {
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .with_context(|| format!("could not run {}", Path::new(rustc).display()))?;
    let link = std::env::var_os(LINK_FLAGS).unwrap_or_default();
    let hash = RUSTC_FLAGS
        .iter()
        .flat_map(|f| f.bytes())
        .chain(link.as_encoded_bytes().iter().copied())
        .chain(env!("CARGO_PKG_VERSION").bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out.stdout)?;
    if out.status.success() {
        writeln!(stdout, "alloc-profile-flags: {hash:016x}")?;
    }
    std::io::stderr().write_all(&out.stderr)?;
    std::process::exit(out.status.code().unwrap_or(1));
}

/// Runner role: `argv = [self, RUNNER_ARG, executable, args…]`. Records that the executable
/// started (so a process that dies without writing its profile is noticed) and runs it with the
/// interposer preloaded.
///
/// For `run` it becomes the program (exec), so signals, pid and exit status are the program's own.
/// For `test` and `bench` ([`MODE`]) it runs the program as a child and copies its standard output
/// through unchanged, byte for byte, while reading libtest's result lines (`test NAME ... ok`) to
/// learn each test's outcome; it then exits with the child's status, also after Ctrl-C (see
/// [`crate::process::interrupt::survive`]). Listing runs (`--list`, as cargo-nextest does) are not
/// profiled. A doctest, which rustdoc runs through the runner too, runs from a copy that outlives
/// rustdoc's temporary directory (see [`crate::doctests`]).
pub fn runner_main() -> Result<i32> {
    let mut args = std::env::args_os().skip(2);
    let exe = args
        .next()
        .context("called as a runner without a program")?;
    let args: Vec<OsString> = args.collect();
    let so = std::env::var_os(PRELOAD).context("the runner lost its library path")?;
    let out =
        PathBuf::from(std::env::var_os(OUT_DIR).context("the runner lost its output directory")?);
    let mode = std::env::var(MODE).unwrap_or_default();
    let doctest = crate::doctests::is_rustdoc_test(Path::new(&exe));
    let merged = doctest && crate::doctests::is_merged(Path::new(&exe));
    // Should the copy fail, the doctest still runs (its frames are then unknown in the report).
    let exe: OsString = if doctest {
        crate::doctests::keep(Path::new(&exe), &out).map_or(exe, PathBuf::into_os_string)
    } else {
        exe
    };

    let mut cmd = Command::new(&exe);
    cmd.args(&args);
    if let Some(restore) = std::env::var_os(RESTORE) {
        for (key, value) in decode_restore(&restore.to_string_lossy()) {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
    }
    for key in [ROLE, PRELOAD, INNER_WRAPPER, RESTORE, MODE, LINK_FLAGS] {
        cmd.env_remove(key);
    }
    // What rustdoc gives a merged harness when no runner is set: each doctest in a process of its
    // own. Without children profiled they run in the harness's process, also counted.
    if merged && std::env::var_os(FOLLOW_CHILDREN).is_none_or(|v| v != "0") {
        cmd.env(crate::doctests::BIN_PATH, &exe);
    }
    if args.iter().any(|a| a == "--list") {
        cmd.env_remove(OUT_DIR);
        let err = cmd.exec();
        return Err(err).with_context(|| format!("could not run {}", Path::new(&exe).display()));
    }
    let mut preload = so;
    if let Some(existing) = std::env::var_os("LD_PRELOAD").filter(|v| !v.is_empty()) {
        preload.push(":");
        preload.push(existing);
    }
    // A program of another C library's loader (musl) cannot load the interposer and would fail to
    // start: it runs as it is, and the report says why nothing was recorded.
    if crate::elf::takes_the_interposer(Path::new(&exe)) {
        cmd.env("LD_PRELOAD", preload);
    }
    // Cargo may pass a path relative to its working directory; the report wants the real one.
    let real = std::fs::canonicalize(&exe).map_or_else(|_| exe.clone(), OsString::from);
    let mut marker = Vec::new();
    marker.extend_from_slice(real.as_encoded_bytes());
    for arg in &args {
        marker.push(0);
        marker.extend_from_slice(arg.as_encoded_bytes());
    }

    if mode != "test" && mode != "bench" {
        fs_err::write(out.join(format!("{}.started", std::process::id())), marker)?;
        let err = cmd.exec();
        return Err(err).with_context(|| format!("could not run {}", Path::new(&exe).display()));
    }

    // Ctrl-C reaches this runner too: it stays to copy the rest of the output and write the
    // outcome (the test ends as it would; a handler, unlike an ignored SIGINT, is not inherited).
    crate::process::interrupt::survive()?;
    cmd.stdout(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not run {}", Path::new(&exe).display()))?;
    let pid = child.id();
    fs_err::write(out.join(format!("{pid}.started")), marker)?;
    let mut outcomes = crate::outcomes::Parser::default();
    if let Some(mut from) = child.stdout.take() {
        let mut to = std::io::stdout().lock();
        let mut buf = [0u8; 8192];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).context("while reading the test's output"),
            };
            // A closed standard output is the reader's business; keep draining the child.
            let _ = to.write_all(&buf[..n]).and_then(|()| to.flush());
            outcomes.feed(&buf[..n]);
        }
    }
    let status = child.wait().context("while waiting for the test")?;
    let code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1);
    let mut record = outcomes.finish(
        real.to_string_lossy().into_owned(),
        status.code(),
        status.signal(),
    );
    record.doctest = doctest;
    record.pid = Some(pid);
    fs_err::write(
        out.join(format!("{pid}.outcome.json")),
        serde_json::to_vec(&record)?,
    )?;
    Ok(code)
}

/// Encodes `(key, original value)` pairs for [`RESTORE`]: `KEY` (was unset) or `KEY=hex(value)`,
/// joined by `;` (values are arbitrary bytes; keys never contain `=` or `;`).
pub fn encode_restore(vars: &[(String, Option<OsString>)]) -> String {
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
