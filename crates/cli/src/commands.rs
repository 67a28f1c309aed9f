//! One module per command of `cargo alloc-profile`. Those that build and run (`run`, `test`,
//! `bench`, `nextest`) turn their options into a cargo command line and hand it to the session
//! pipeline ([`crate::session`]); `report` feeds that pipeline's last step with profiles written
//! earlier; `show-env` prints the environment a session gives its programs; `exec` runs any command
//! with the interposer's environment and reports like the others. `diff` compares two JSON
//! reports.

pub mod bench;
pub mod diff;
pub mod exec;
pub mod nextest;
pub mod report;
pub mod run;
pub mod show_env;
pub mod test;

use anyhow::Result;

use crate::cli::Command;

/// Runs `command`; the tool's exit status.
pub fn run(command: Command) -> Result<i32> {
    match command {
        Command::Run(args) => run::run(args),
        Command::Test(args) => test::test(args),
        Command::Bench(args) => bench::bench(args),
        Command::Nextest(args) => nextest::nextest(args),
        Command::Report(args) => report::report(&args),
        Command::Diff(args) => diff::run(&args),
        Command::ShowEnv(args) => show_env::show_env(&args),
        Command::Exec(args) => exec::exec(args),
    }
}
