//! `cargo alloc-profile`: exact heap-allocation profiles of Rust programs, tests and benchmarks.
//!
//! This binary plays three roles (see [`roles`]): the front end the user runs, the rustc wrapper
//! and the target runner that cargo calls back during a profiled build.
//!
//! Exit status of the front end: the profiled program's own status (128 + signal number when a
//! signal killed it); cargo's status when the build failed before anything ran; 2 for a usage or
//! tool error; 130 when interrupted by Ctrl-C (see [`process::interrupt`]).
#![forbid(unsafe_code)]

mod allocator;
mod budgets;
mod cargo;
mod cli;
mod diff;
mod doctests;
mod elf;
mod exec;
mod last;
mod outcomes;
mod process;
mod roles;
mod runtime_lib;
mod session;
mod views;
mod wrap;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

/// Exit status for usage and tool errors.
const TOOL_ERROR: u8 = 2;

fn main() -> ExitCode {
    let result = match roles::current() {
        roles::Role::Runner => roles::runner_main(),
        roles::Role::Wrapper => roles::wrapper_main().map(|()| 0),
        roles::Role::Frontend => try_main(),
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
    let cli::CargoCli::AllocProfile(cli) = match cli::CargoCli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version are successes; everything else is a usage error, in one line.
            if let Some(line) = cli::usage_error_line(&err) {
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
    match cli.command {
        cli::Command::Run(args) => session::run(args),
        cli::Command::Test(args) => session::test(args, session::TestKind::Test),
        cli::Command::Bench(args) => session::test(args, session::TestKind::Bench),
        cli::Command::Nextest(args) => session::nextest(args),
        cli::Command::Report(args) => session::report_files(&args),
        cli::Command::Diff(args) => diff::run(&args),
        cli::Command::ShowEnv(args) => session::show_env(&args),
        cli::Command::Exec(args) => exec::run(args),
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
