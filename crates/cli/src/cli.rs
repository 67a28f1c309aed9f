//! Command-line interface. clap types stay in this module: the rest of the crate works on the
//! plain option structs that [`Cli::into_command`] produces.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `cargo alloc-profile …`: cargo passes the subcommand name as the first argument.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo")]
pub enum CargoCli {
    #[command(name = "alloc-profile", version, about, long_about = LONG_ABOUT)]
    AllocProfile(Cli),
}

const LONG_ABOUT: &str = "\
Shows where a Rust program, its tests or its benchmarks allocate heap memory, with exact counts
blamed on your own functions. Builds the project in its own target directory (frame pointers and
line tables on), runs each executable under a malloc interposer, and prints a report.

Exit status: the profiled program's own status; 2 for a usage or tool error.";

#[derive(Debug, Args)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build and profile a binary or example (like `cargo run`).
    Run(RunArgs),
    /// Print the environment that profiles programs run by your own harness.
    ShowEnv(ShowEnvArgs),
}

#[derive(Debug, Args)]
pub struct ShowEnvArgs {
    #[command(flatten)]
    pub cargo: CargoArgs,
    /// Directory for the raw profiles [default: <target-dir>/alloc-profile/raw/manual].
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Cargo options shared by every command that builds.
#[derive(Debug, Args, Clone, Default)]
pub struct CargoArgs {
    /// Package to build (see `cargo help pkgid`).
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    pub package: Vec<String>,
    /// Space or comma separated list of features to activate.
    #[arg(short = 'F', long, value_name = "FEATURES")]
    pub features: Vec<String>,
    /// Activate all available features.
    #[arg(long)]
    pub all_features: bool,
    /// Do not activate the `default` feature.
    #[arg(long)]
    pub no_default_features: bool,
    /// Build in release mode (debug info is switched on for the profiled build).
    #[arg(short = 'r', long, conflicts_with = "profile")]
    pub release: bool,
    /// Build with the given cargo profile.
    #[arg(long, value_name = "PROFILE-NAME")]
    pub profile: Option<String>,
    /// Path to Cargo.toml.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Directory for all generated artifacts; the profiled build goes to its `alloc-profile`
    /// subdirectory.
    #[arg(long, value_name = "DIRECTORY")]
    pub target_dir: Option<PathBuf>,
    /// Number of parallel jobs.
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<String>,
    /// Do not print cargo log messages.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Use verbose output (-vv very verbose); also prints the commands this tool runs.
    #[arg(short = 'v', long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Assert that `Cargo.lock` will remain unchanged.
    #[arg(long)]
    pub locked: bool,
    /// Run without accessing the network.
    #[arg(long)]
    pub offline: bool,
    /// Equivalent to specifying both --locked and --offline.
    #[arg(long)]
    pub frozen: bool,
}

/// How the report is written.
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// How many hot spots the text report lists.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Colors in the text report: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub cargo: CargoArgs,
    /// Name of the bin target to run.
    #[arg(long, value_name = "NAME")]
    pub bin: Option<String>,
    /// Name of the example target to run.
    #[arg(long, value_name = "NAME")]
    pub example: Option<String>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Arguments for the profiled program.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

impl CargoArgs {
    /// The options as cargo expects them on its command line.
    pub fn to_cargo_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.package {
            out.extend(["--package".to_owned(), p.clone()]);
        }
        for f in &self.features {
            out.extend(["--features".to_owned(), f.clone()]);
        }
        let flags = [
            (self.all_features, "--all-features"),
            (self.no_default_features, "--no-default-features"),
            (self.release, "--release"),
            (self.quiet, "--quiet"),
            (self.locked, "--locked"),
            (self.offline, "--offline"),
            (self.frozen, "--frozen"),
        ];
        out.extend(flags.iter().filter(|f| f.0).map(|f| f.1.to_owned()));
        if let Some(profile) = &self.profile {
            out.extend(["--profile".to_owned(), profile.clone()]);
        }
        if let Some(path) = &self.manifest_path {
            out.extend(["--manifest-path".to_owned(), path.display().to_string()]);
        }
        if let Some(jobs) = &self.jobs {
            out.extend(["--jobs".to_owned(), jobs.clone()]);
        }
        if self.verbose > 0 {
            out.push(format!("-{}", "v".repeat(self.verbose.into())));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        CargoCli::command().debug_assert();
    }

    #[test]
    fn cargo_options_round_trip() {
        let CargoCli::AllocProfile(cli) = CargoCli::parse_from([
            "cargo",
            "alloc-profile",
            "run",
            "--release",
            "-p",
            "a",
            "--features",
            "x,y",
            "-vv",
            "--example",
            "demo",
            "--",
            "--flag",
        ]);
        let Command::Run(run) = cli.command else {
            panic!("parsed as run")
        };
        assert_eq!(run.example.as_deref(), Some("demo"));
        assert_eq!(run.args, ["--flag"]);
        assert_eq!(
            run.cargo.to_cargo_args(),
            ["--package", "a", "--features", "x,y", "--release", "-vv"]
        );
    }
}
