//! `cargo alloc-profile test`: every test executable `cargo test` runs goes through the runner,
//! which also reads the harness's output for test names and outcomes; the report has a table per
//! test (see [`crate::session::per_test`]). `bench` is the same with `cargo bench` (see
//! [`super::bench`]).

use anyhow::Result;

use crate::cargo::{cargo_program, Workspace};
use crate::cli::TestArgs;
use crate::process::ProcessBuilder;
use crate::session::checks;
use crate::session::per_test::{run_tests, TestKind};
use crate::session::prepare::prepare;

/// `cargo alloc-profile test`.
pub fn test(args: TestArgs) -> Result<i32> {
    test_or_bench(args, TestKind::Test)
}

/// `cargo alloc-profile test` and `bench`: every test executable runs through the runner, which
/// also reads the harness's output for test names and outcomes.
pub fn test_or_bench(args: TestArgs, kind: TestKind) -> Result<i32> {
    checks::before_work(&args.cargo, &args.report)?;
    let session = prepare(&args.cargo, &args.profiling, true)?;
    let mut cmd = ProcessBuilder::new(cargo_program());
    cmd.arg(match kind {
        TestKind::Test => "test",
        TestKind::Bench => "bench",
    })
    .args(args.cargo.to_cargo_args())
    .args(args.targets.to_cargo_args());
    if let Some(filter) = &args.filter {
        cmd.arg(filter);
    }
    if !args.args.is_empty() {
        cmd.arg("--").args(&args.args);
    }
    let doctests = args.targets.runs_doctests(kind == TestKind::Bench) && has_lib(&session.ws);
    run_tests(&session, cmd, kind, &args.cargo, &args.report, doctests)
}

/// Whether a member package has a library, whose doctests `cargo test` runs.
fn has_lib(ws: &Workspace) -> bool {
    ws.targets
        .iter()
        .any(|t| t.kind.iter().any(|k| k == "lib" || k.ends_with("lib")))
}
