//! Sessions that report per test: `test`, `bench` and `nextest`. The runner reads each test
//! executable's output for test names and outcomes; here they become one entry per executable
//! (and one for all doctests, see [`crate::doctests`]), which the report's Tests table shows.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Result;

use super::cargo_run::{exit_code, interrupted_status, nothing_recorded, run_cargo, Ended};
use super::prepare::Session;
use super::report::{keep_last, report, with_budgets, Outcome};
use crate::cli::{CargoArgs, ReportArgs};
use crate::doctests::Printed;
use crate::interrupt;
use crate::outcomes::BinaryOutcome;
use crate::process::ProcessBuilder;

/// `cargo alloc-profile test` or `bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKind {
    Test,
    Bench,
}

/// Runs a prepared `cargo test`/`bench`/`nextest run` command and reports per test.
pub fn run_tests(
    session: &Session,
    mut cmd: ProcessBuilder,
    kind: TestKind,
    cargo: &CargoArgs,
    report_args: &ReportArgs,
    doctests: bool,
) -> Result<i32> {
    session.env.apply(&mut cmd);
    cmd.env(
        crate::profiling_env::MODE,
        match kind {
            TestKind::Test => "test",
            TestKind::Bench => "bench",
        },
    );
    if cargo.verbose > 0 {
        eprintln!("     Running {cmd}");
    }
    let printed = doctests.then(|| Arc::new(Mutex::new(Printed::new(session.raw.path()))));
    let Ended {
        status,
        mut collected,
        interrupted,
    } = run_cargo(session, &cmd, printed.as_ref())?;
    if collected.started.is_empty() {
        if interrupted {
            eprintln!(
                "error: interrupted (Ctrl-C) before any test executable started: nothing was \
                 profiled"
            );
            return Ok(interrupt::EXIT_STATUS);
        }
        eprintln!("error: nothing was profiled: cargo stopped before any test executable started");
        return Ok(exit_code(status));
    }
    let printed = printed.map_or_else(Default::default, |p| {
        std::mem::take(&mut *p.lock().unwrap_or_else(std::sync::PoisonError::into_inner)).finish()
    });
    let mut binaries = test_binaries(&collected.outcomes, kind);
    let packages: Vec<PathBuf> = session
        .ws
        .members
        .iter()
        .map(|(dir, _)| dir.clone())
        .collect();
    let (doctests, notes) =
        crate::doctests::binary(&collected.outcomes, &printed, &session.ws.root, &packages);
    binaries.extend(doctests);
    collected.problems.extend(notes);
    let outcome = Outcome {
        command: std::env::args().collect(),
        label: match kind {
            TestKind::Test => "tests".to_owned(),
            TestKind::Bench => "benchmarks".to_owned(),
        },
        status,
    };
    keep_last(&session.tool_dir, &collected, &outcome, Some(&binaries));
    let exceeded = report(
        &session.ws,
        &collected,
        &outcome,
        report_args,
        Some(&binaries),
    )?;
    if interrupted || interrupt::interrupted() {
        return Ok(interrupted_status());
    }
    Ok(nothing_recorded(&collected).unwrap_or(with_budgets(exit_code(status), exceeded)))
}

/// One entry per test executable, merging the processes that ran it (nextest runs one process
/// per test).
fn test_binaries(
    outcomes: &[BinaryOutcome],
    kind: TestKind,
) -> Vec<alloc_profile_report::TestBinary> {
    let mut out: Vec<alloc_profile_report::TestBinary> = Vec::new();
    // Doctests are one entry of their own (see `crate::doctests::binary`).
    for o in outcomes.iter().filter(|o| !o.doctest) {
        let tests = o
            .tests
            .iter()
            // `cargo bench` also runs libtest binaries, which then skip every plain test.
            .filter(|t| kind == TestKind::Test || t.outcome != "ignored")
            .map(|t| (t.name.clone(), t.outcome.clone()));
        let ok = o.exit_code == Some(0);
        match out.iter_mut().find(|b| b.exe == o.exe) {
            Some(b) => {
                b.libtest |= o.libtest;
                b.names_complete &= o.names_complete;
                b.exit_ok = Some(b.exit_ok == Some(true) && ok);
                for t in tests {
                    if !b.outcomes.iter().any(|(n, _)| *n == t.0) {
                        b.outcomes.push(t);
                    }
                }
            }
            None => out.push(alloc_profile_report::TestBinary {
                exe: o.exe.clone(),
                label: binary_label(&o.exe),
                bench: kind == TestKind::Bench,
                libtest: o.libtest,
                names_complete: o.names_complete,
                exit_ok: Some(ok),
                outcomes: tests.collect(),
                doctests: Vec::new(),
            }),
        }
    }
    out.sort_by(|a, b| a.label.cmp(&b.label).then(a.exe.cmp(&b.exe)));
    out
}

/// `my_crate` for `.../deps/my_crate-0123456789abcdef`.
fn binary_label(exe: &str) -> String {
    let name = Path::new(exe)
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    match name.rsplit_once('-') {
        Some((stem, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            stem.to_owned()
        }
        _ => name,
    }
}
