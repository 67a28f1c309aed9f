//! The runner role: cargo calls this binary as the target runner (`CARGO_TARGET_<TRIPLE>_RUNNER`)
//! for every executable it runs in a profiled session: programs, tests, benchmarks, and (handed
//! on to rustdoc) doctests. The runner starts the executable with the interposer preloaded, so
//! cargo, rustc and build scripts are never profiled, and tells the front end what it started and,
//! for tests, what the harness printed, through the raw directory (see [`crate::raw_dir`]).

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result};

use crate::profiling_env::{self, OUT_DIR, PRELOAD};
use crate::{doctests, raw_dir};

/// `argv = [self, RUNNER_ARG, executable, args…]`. Records that the executable started (so a
/// process that dies without writing its profile is noticed) and runs it with the interposer
/// preloaded.
///
/// For `run` it becomes the program (exec), so signals, pid and exit status are the program's own.
/// For `test` and `bench` ([`profiling_env::MODE`]) it runs the program as a child and copies its
/// standard output through unchanged, byte for byte, while reading libtest's result lines
/// (`test NAME ... ok`) to learn each test's outcome; it then exits with the child's status, also
/// after Ctrl-C (see [`crate::interrupt::survive`]). Listing runs (`--list`, as cargo-nextest
/// does) are not profiled. A doctest, which rustdoc runs through the runner too, runs from a copy
/// that outlives rustdoc's temporary directory (see [`crate::doctests`]).
pub fn main() -> Result<i32> {
    let mut args = std::env::args_os().skip(2);
    let exe = args
        .next()
        .context("called as a runner without a program")?;
    let args: Vec<OsString> = args.collect();
    let so = std::env::var_os(PRELOAD).context("the runner lost its library path")?;
    let out =
        PathBuf::from(std::env::var_os(OUT_DIR).context("the runner lost its output directory")?);
    let doctest = doctests::is_rustdoc_test(Path::new(&exe));
    let merged = doctest && doctests::is_merged(Path::new(&exe));
    // Should the copy fail, the doctest still runs (its frames are then unknown in the report).
    let exe: OsString = if doctest {
        raw_dir::keep_doctest(&out, Path::new(&exe)).map_or(exe, PathBuf::into_os_string)
    } else {
        exe
    };

    let mut cmd = Command::new(&exe);
    cmd.args(&args);
    for (key, value) in profiling_env::restored() {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    for key in profiling_env::PRIVATE {
        cmd.env_remove(key);
    }
    // What rustdoc gives a merged harness when no runner is set: each doctest in a process of its
    // own. Without children profiled they run in the harness's process, also counted.
    if merged && profiling_env::follows_children() {
        cmd.env(doctests::BIN_PATH, &exe);
    }
    if args.iter().any(|a| a == "--list") {
        cmd.env_remove(OUT_DIR);
        let err = cmd.exec();
        return Err(err).with_context(|| format!("could not run {}", Path::new(&exe).display()));
    }
    let preload = profiling_env::preload_before_existing(so);
    // A program of another C library's loader (musl) cannot load the interposer and would fail to
    // start: it runs as it is, and the report says why nothing was recorded.
    if crate::elf::takes_the_interposer(Path::new(&exe)) {
        cmd.env("LD_PRELOAD", preload);
    }
    // Cargo may pass a path relative to its working directory; the report wants the real one.
    let real = std::fs::canonicalize(&exe).map_or_else(|_| exe.clone(), OsString::from);

    if !profiling_env::runs_tests() {
        raw_dir::write_started(&out, std::process::id(), &real, &args)?;
        let err = cmd.exec();
        return Err(err).with_context(|| format!("could not run {}", Path::new(&exe).display()));
    }

    // Ctrl-C reaches this runner too: it stays to copy the rest of the output and write the
    // outcome (the test ends as it would; a handler, unlike an ignored SIGINT, is not inherited).
    crate::interrupt::survive()?;
    cmd.stdout(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not run {}", Path::new(&exe).display()))?;
    let pid = child.id();
    raw_dir::write_started(&out, pid, &real, &args)?;
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
    raw_dir::write_outcome(&out, pid, &record)?;
    Ok(code)
}
