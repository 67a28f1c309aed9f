//! `cargo alloc-profile`: exact heap-allocation profiles of Rust programs, tests and benchmarks.
//!
//! This binary plays three roles (see [`profiling_env::role`]): the front end the user runs
//! ([`commands`]), and the [`rustc_wrapper`] and the target [`runner`] that cargo calls back
//! during a profiled build.
//!
//! Exit status of the front end: the profiled program's own status (128 + signal number when a
//! signal killed it); cargo's status when the build failed before anything ran; 2 for a usage or
//! tool error; 130 when interrupted by Ctrl-C (see [`interrupt`]).
#![forbid(unsafe_code)]

mod allocator_link;
mod allocator_notes;
mod budget_config;
mod cargo;
mod ci_log;
mod cli;
mod commands;
mod doctests;
mod elf;
mod github_actions;
mod interposer_lib;
mod interrupt;
mod last_run;
mod outcomes;
mod process;
mod profiling_env;
mod raw_dir;
mod read_ahead;
mod runner;
mod rustc_wrapper;
mod session;
mod views;

use std::io::Write as _;
use std::process::ExitCode;

/// Exit status for usage and tool errors.
const TOOL_ERROR: u8 = 2;

fn main() -> ExitCode {
    let result = match profiling_env::role() {
        profiling_env::Role::Runner => runner::main(),
        profiling_env::Role::RustcWrapper => rustc_wrapper::main().map(|()| 0),
        profiling_env::Role::Frontend => try_main(),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code.clamp(0, 255)).unwrap_or(TOOL_ERROR)),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "error: {err:#}");
            ExitCode::from(TOOL_ERROR)
        }
    }
}

fn try_main() -> anyhow::Result<i32> {
    let cli::CargoCli::AllocProfile(cli) = match cli::CargoCli::from_args() {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version are successes; everything else is a usage error, in one line.
            if let Some(line) = cli::usage_error::usage_error_line(&err) {
                let _ = writeln!(std::io::stderr(), "{line}");
                return Ok(i32::from(TOOL_ERROR));
            }
            let code = if err.use_stderr() {
                i32::from(TOOL_ERROR)
            } else {
                0
            };
            let _ = err.print();
            return Ok(code);
        }
    };
    commands::run(cli.command)
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
