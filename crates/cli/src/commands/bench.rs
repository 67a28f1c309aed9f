//! `cargo alloc-profile bench`: `test` with `cargo bench`. What differs is the harness's: no
//! doctests run, the runner runs in bench mode, and the plain tests libtest skips in a bench run
//! are not listed (see [`crate::session::per_test`]).

use anyhow::Result;

use crate::cli::TestArgs;
use crate::session::per_test::TestKind;

/// `cargo alloc-profile bench`.
pub fn bench(args: TestArgs) -> Result<i32> {
    super::test::test_or_bench(args, TestKind::Bench)
}
