//! The profiling session, the pipeline under every command that builds and runs:
//!
//! 1. [`checks`]: what can be found wrong before anything is built;
//! 2. [`prepare`]: the workspace, the interposer, a fresh raw directory, the environment for cargo;
//! 3. [`cargo_run`]: cargo builds and runs through the runner; what the processes left is
//!    collected (Ctrl-C included);
//! 4. [`report`]: symbolize, analyze, render, keep the run.
//!
//! [`per_test`] adds what `test`, `bench` and `nextest` share: one table entry per test
//! executable. The commands (see [`crate::commands`]) only say which cargo command runs.

pub mod cargo_run;
pub mod checks;
pub mod per_test;
pub mod prepare;
pub mod report;
