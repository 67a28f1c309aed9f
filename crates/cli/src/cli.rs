//! Command-line interface: the clap types (derives stay in this module and [`usage_error`]); the
//! commands take the argument structs parsed here.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

mod nextest_order;
pub mod usage_error;

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

Exit status: the profiled program's own status (cargo's when the build or a test failed); 1 when
the program succeeded but an allocation budget in Cargo.toml was exceeded, and from
`diff --fail-on-increase` when allocations rose; 2 for a usage or tool error, or when nothing could
be profiled; 130 after Ctrl-C, which the programs get too: the tool waits for them to end and
reports on what ran (a second Ctrl-C quits at once, without a report).";

impl CargoCli {
    /// Parses the tool's own command line.
    pub fn from_args() -> Result<Self, clap::Error> {
        let argv = nextest_order::hoist(std::env::args_os().collect(), &Self::command());
        Self::try_parse_from(argv)
    }
}

#[derive(Debug, Args)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build and profile a binary or example (like `cargo run`).
    Run(RunArgs),
    /// Build and profile tests, with a table per test (like `cargo test`).
    Test(TestArgs),
    /// Build and profile benchmarks, with a table per benchmark (like `cargo bench`).
    Bench(TestArgs),
    /// Profile tests run by cargo-nextest (one process per test); other arguments go to
    /// `cargo nextest run`.
    Nextest(NextestArgs),
    /// Compare two JSON reports (`--format json`) of the same program: totals, and every test,
    /// function and module whose allocations changed.
    Diff(DiffArgs),
    /// Report on the last run again (in any format), or on raw profiles written earlier.
    Report(ReportCmdArgs),
    /// Print the environment that profiles programs run by your own harness.
    ShowEnv(ShowEnvArgs),
    /// Profile any command, built anywhere (like `heaptrack PROGRAM`): nothing is built; the
    /// program's output and exit status pass through, and the report follows.
    Exec(ExecArgs),
}

/// `cargo alloc-profile exec [OPTIONS] -- PROGRAM ARGS...`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Cargo.toml of the workspace the program was built from (says which code is yours)
    /// [default: the workspace of the current directory, if any].
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Where to keep the run for `report` [default: the workspace's target directory, else
    /// ~/.cache/cargo-alloc-profile].
    #[arg(long, value_name = "DIRECTORY")]
    pub target_dir: Option<PathBuf>,
    #[command(flatten)]
    pub profiling: ProfilingArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// The program to profile and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PROGRAM"
    )]
    pub command: Vec<String>,
}

/// Which targets `test` and `bench` build and run (cargo's own target selection).
#[derive(Debug, Args, Clone, Default)]
pub struct TargetSelection {
    /// Test only this package's library.
    #[arg(long)]
    pub lib: bool,
    /// Test only the specified binary.
    #[arg(long, value_name = "NAME")]
    pub bin: Vec<String>,
    /// Test all binaries.
    #[arg(long)]
    pub bins: bool,
    /// Test only the specified example.
    #[arg(long, value_name = "NAME")]
    pub example: Vec<String>,
    /// Test all examples.
    #[arg(long)]
    pub examples: bool,
    /// Test only the specified test target.
    #[arg(long, value_name = "NAME")]
    pub test: Vec<String>,
    /// Test all targets that have `test = true` set.
    #[arg(long)]
    pub tests: bool,
    /// Test only the specified bench target.
    #[arg(long, value_name = "NAME")]
    pub bench: Vec<String>,
    /// Test all targets that have `bench = true` set.
    #[arg(long)]
    pub benches: bool,
    /// Test all targets (doctests are never profiled).
    #[arg(long)]
    pub all_targets: bool,
    /// Test only the library's documentation (doctests run but cannot be profiled).
    #[arg(long)]
    pub doc: bool,
    /// Test all packages in the workspace.
    #[arg(long, alias = "all")]
    pub workspace: bool,
    /// Exclude packages from the test.
    #[arg(long, value_name = "SPEC")]
    pub exclude: Vec<String>,
    /// Run all tests regardless of failure.
    #[arg(long)]
    pub no_fail_fast: bool,
}

impl TargetSelection {
    pub fn to_cargo_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        let lists = [
            ("--bin", &self.bin),
            ("--example", &self.example),
            ("--test", &self.test),
            ("--bench", &self.bench),
            ("--exclude", &self.exclude),
        ];
        for (flag, values) in lists {
            for v in values {
                out.extend([flag.to_owned(), v.clone()]);
            }
        }
        let flags = [
            (self.lib, "--lib"),
            (self.bins, "--bins"),
            (self.examples, "--examples"),
            (self.tests, "--tests"),
            (self.benches, "--benches"),
            (self.all_targets, "--all-targets"),
            (self.doc, "--doc"),
            (self.workspace, "--workspace"),
            (self.no_fail_fast, "--no-fail-fast"),
        ];
        out.extend(flags.iter().filter(|f| f.0).map(|f| f.1.to_owned()));
        out
    }

    /// Whether cargo will run the library's doctests (which bypass the runner).
    pub fn runs_doctests(&self, is_bench: bool) -> bool {
        let explicit = self.lib
            || self.bins
            || self.examples
            || self.tests
            || self.benches
            || self.all_targets
            || !self.bin.is_empty()
            || !self.example.is_empty()
            || !self.test.is_empty()
            || !self.bench.is_empty();
        !is_bench && (self.doc || !explicit)
    }
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub cargo: CargoArgs,
    #[command(flatten)]
    pub profiling: ProfilingArgs,
    #[command(flatten)]
    pub targets: TargetSelection,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Profile only the tests (or benchmarks) whose names contain this string.
    #[arg(value_name = "TESTNAME")]
    pub filter: Option<String>,
    /// Arguments for the test binaries (e.g. `--test-threads=1`, `--exact`, `--ignored`).
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct NextestArgs {
    #[command(flatten)]
    pub cargo: CargoArgs,
    #[command(flatten)]
    pub profiling: ProfilingArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Arguments for `cargo nextest run` (filters, `-E` expressions, `--workspace`, `--`, …).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "NEXTEST ARGS"
    )]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The JSON report of the earlier run.
    pub before: PathBuf,
    /// The JSON report of the later run.
    pub after: PathBuf,
    /// Write the comparison to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with status 1 when the later run made more allocations in total or in a test that
    /// both runs had.
    #[arg(long)]
    pub fail_on_increase: bool,
    /// Increases `--fail-on-increase` allows: N allocations, or N% of the earlier count.
    #[arg(long, value_name = "N|N%", requires = "fail_on_increase")]
    pub threshold: Option<String>,
    /// Format of the comparison.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// The comparison for people.
    Text,
    /// The comparison for tools.
    Json,
}

#[derive(Debug, Args)]
pub struct ReportCmdArgs {
    /// Path to the Cargo.toml of the workspace the programs came from (classifies your code).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// The target directory the last run used, when it was not the workspace's.
    #[arg(long, value_name = "DIRECTORY")]
    pub target_dir: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Raw profiles (`*.aprof`), or directories holding them [default: the last run of run,
    /// test, bench or nextest, kept in the target directory].
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
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

/// What is profiled.
#[derive(Debug, Args, Clone, Default)]
pub struct ProfilingArgs {
    /// Also measure how long each block lives (mean and longest per function). Costs a clock
    /// read per allocation and per free (measured here: 4.5x native with it, 3.3x without).
    #[arg(long)]
    pub lifetimes: bool,
    /// Profile only the executables cargo runs, not the processes they start (by default child
    /// processes are profiled too, each as its own process).
    #[arg(long)]
    pub no_follow_children: bool,
}

/// How the report is written.
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to FILE instead of standard output (`-`: standard output). `run`, `test`,
    /// `bench` and `nextest` need it for every format but text: the programs print there too.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// How many hot spots the text report lists.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Leave the advice section out of the text report.
    #[arg(long)]
    pub no_advice: bool,
    /// Colors in the text report: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Do not check the allocation budgets in Cargo.toml.
    #[arg(long)]
    pub no_budgets: bool,
    /// What the stacks of `--format folded` and `flamegraph` count [default: allocations].
    #[arg(long, value_enum, value_name = "WEIGHT")]
    pub weight: Option<Weight>,
    /// Open the `--format html` report (`-o FILE`) in a browser: `$BROWSER`, else xdg-open.
    #[arg(long)]
    pub open: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The report for people.
    Text,
    /// The report for tools.
    Json,
    /// Folded stacks (`root;caller;callee count`), for flame-graph tools.
    Folded,
    /// A flame graph (SVG).
    Flamegraph,
    /// DHAT's JSON, for valgrind's `dh_view.html`.
    Dhat,
    /// A gzipped pprof profile (`go tool pprof`, speedscope, Pyroscope, Grafana).
    Pprof,
    /// One self-contained HTML file: the report's tables and an interactive flame graph.
    Html,
}

impl Format {
    /// The format as `--format` names it.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_owned())
    }
}

/// What the stacks of `folded` and `flamegraph` count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Weight {
    /// Allocations.
    Allocations,
    /// Bytes requested.
    Bytes,
    /// Blocks still live at exit (leaks).
    Live,
    /// Bytes of the blocks still live at exit.
    LiveBytes,
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
    #[command(flatten)]
    pub profiling: ProfilingArgs,
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
            // Line tables and no stripping, as for the built-in profiles (which get them from
            // `CARGO_PROFILE_<NAME>_*`, a form that is ambiguous for names with dashes).
            if !["dev", "release", "test", "bench"].contains(&profile.as_str()) {
                out.extend([
                    "--config".to_owned(),
                    format!("profile.{profile}.debug=\"limited\""),
                    "--config".to_owned(),
                    format!("profile.{profile}.strip=false"),
                ]);
            }
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

    #[test]
    fn nextest_takes_the_tools_options_after_its_own() {
        use std::ffi::OsString;
        let words =
            |s: &str| -> Vec<OsString> { s.split_whitespace().map(OsString::from).collect() };
        let root = CargoCli::command();
        assert_eq!(
            nextest_order::hoist(
                words(
                    "cargo alloc-profile nextest --lib -E test(parse) --no-budgets --format json -o r.json --top=5 --color never -- --exact --no-budgets"
                ),
                &root
            ),
            words(
                "cargo alloc-profile nextest --no-budgets --format json -o r.json --top=5 --lib -E test(parse) --color never -- --exact --no-budgets"
            )
        );
        // Other commands are left alone.
        let test = words("cargo alloc-profile test --lib --no-budgets");
        assert_eq!(nextest_order::hoist(test.clone(), &root), test);
    }
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        CargoCli::command().debug_assert();
    }

    #[test]
    fn nextest_passes_unknown_options_through() {
        let CargoCli::AllocProfile(cli) = CargoCli::parse_from([
            "cargo",
            "alloc-profile",
            "nextest",
            "--release",
            "--format",
            "json",
            "--workspace",
            "-E",
            "test(foo)",
            "--",
            "--ignored",
        ]);
        let Command::Nextest(n) = cli.command else {
            panic!("parsed as nextest")
        };
        assert!(n.cargo.release);
        assert_eq!(n.report.format, Format::Json);
        assert_eq!(
            n.args,
            ["--workspace", "-E", "test(foo)", "--", "--ignored"]
        );
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
