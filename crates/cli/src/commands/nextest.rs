//! `cargo alloc-profile nextest`: cargo-nextest runs every test in a process of its own, each
//! through the runner; the report is per test as for `test` (see [`crate::session::per_test`]).

use anyhow::Result;

use crate::cargo::cargo_program;
use crate::cli::NextestArgs;
use crate::process::ProcessBuilder;
use crate::session::checks;
use crate::session::per_test::{run_tests, TestKind};
use crate::session::prepare::prepare;

/// `cargo alloc-profile nextest`: cargo-nextest runs every test in a process of its own, each
/// through the runner.
pub fn nextest(args: NextestArgs) -> Result<i32> {
    checks::before_work(&args.cargo, &args.report)?;
    let probe = ProcessBuilder::new(cargo_program())
        .args(["nextest", "--version"])
        .read();
    if probe.is_err() {
        anyhow::bail!(
            "cargo-nextest is not installed (`cargo nextest --version` failed): install it with \
             `cargo install cargo-nextest --locked`, or use `cargo alloc-profile test`"
        );
    }
    let session = prepare(&args.cargo, &args.profiling, true)?;
    let mut cmd = ProcessBuilder::new(cargo_program());
    cmd.args(["nextest", "run"])
        .args(args.cargo.to_cargo_args())
        .args(&args.args);
    run_tests(
        &session,
        cmd,
        TestKind::Test,
        &args.cargo,
        &args.report,
        false,
    )
}
