//! One profiling session: build and run through cargo, collect the raw profiles the interposer
//! wrote, symbolize, analyze, render.

use std::io::Write as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};

use alloc_profile_format::RawProfile;
use anyhow::{Context as _, Result};

use crate::cargo::{cargo_program, BuildEnv, Workspace};
use crate::cli::{CargoArgs, ColorChoice, Format, ReportArgs, RunArgs, TestArgs};
use crate::process::{interrupt, ProcessBuilder};
use crate::runtime_lib;

/// A fresh directory for one session's raw profiles, removed when the session ends.
pub struct RawDir {
    path: PathBuf,
}

impl RawDir {
    /// `<target>/raw/<ms>-<pid>[-n]`, made by this call (never one that already existed, so
    /// nothing planted there is read), readable by its owner only.
    pub fn create(target_dir: &Path) -> Result<Self> {
        use std::os::unix::fs::DirBuilderExt as _;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let parent = target_dir.join("raw");
        fs_err::create_dir_all(&parent).context("while creating the directory for raw profiles")?;
        let mut attempt = 0;
        loop {
            let mut name = format!("{stamp}-{}", std::process::id());
            if attempt > 0 {
                name.push_str(&format!("-{attempt}"));
            }
            let path = parent.join(name);
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(Self { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1;
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!(
                            "while creating the directory for raw profiles {}",
                            path.display()
                        )
                    })
                }
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RawDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A process the runner started.
#[derive(Debug, Clone)]
pub struct Started {
    pub pid: u32,
    pub exe: PathBuf,
}

/// What a session's processes left behind.
#[derive(Debug, Default)]
pub struct Collected {
    /// Readable profiles, ordered by start time then pid.
    pub profiles: Vec<RawProfile>,
    /// Processes the runner started, by pid.
    pub started: Vec<Started>,
    /// One line per problem: unreadable profiles, processes that wrote none.
    pub problems: Vec<String>,
    /// What the runner read from test harness output, per test process.
    pub outcomes: Vec<crate::outcomes::BinaryOutcome>,
}

/// Reads what the session's processes wrote into `dir`. `still_running`: pids that had not ended
/// when the report was made (after Ctrl-C).
pub fn collect(dir: &Path, still_running: &[u32]) -> Result<Collected> {
    let mut out = Collected::default();
    let mut entries: Vec<_> = fs_err::read_dir(dir)?
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in &entries {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if let Some(pid) = name.strip_suffix(".started") {
            let marker = fs_err::read(path)?;
            let exe = marker.split(|&b| b == 0).next().unwrap_or_default();
            out.started.push(Started {
                pid: pid.parse().unwrap_or(0),
                exe: PathBuf::from(String::from_utf8_lossy(exe).into_owned()),
            });
        } else if name.ends_with(".outcome.json") {
            let bytes = fs_err::read(path)?;
            match serde_json::from_slice(&bytes) {
                Ok(o) => out.outcomes.push(o),
                Err(e) => out.problems.push(format!("{}: {e}", path.display())),
            }
        } else if name.ends_with(&format!(".{}", alloc_profile_format::EXTENSION)) {
            let bytes = fs_err::read(path)?;
            match alloc_profile_format::read(&bytes) {
                Ok(p) => out.profiles.push(p),
                Err(e) => out.problems.push(format!("{}: {e}", path.display())),
            }
        }
    }
    out.profiles
        .sort_by_key(|p| (p.header.start_unix_ns, p.header.pid));
    for s in &out.started {
        if out.profiles.iter().any(|p| p.header.pid == s.pid) {
            continue;
        }
        out.problems.push(if still_running.contains(&s.pid) {
            format!(
                "{} (pid {}) was still running {} s after Ctrl-C, when this report was made: \
                 nothing it allocated is in it",
                s.exe.display(),
                s.pid,
                interrupt::WAIT.as_secs()
            )
        } else {
            no_profile_reason(s)
        });
    }
    Ok(out)
}

/// How a session's cargo command ended, and what its processes left.
struct Ended {
    status: ExitStatus,
    collected: Collected,
    /// Ctrl-C came before cargo ended.
    interrupted: bool,
}

/// Runs the session's cargo command. On Ctrl-C the tool stays: cargo and the programs end as
/// they would on their own, and the report is made of what they recorded once they have ended
/// (waiting at most [`interrupt::WAIT`] for those cargo did not wait for). `printed`: read
/// rustdoc's lines on cargo's standard output while copying it through.
fn run_cargo(
    prep: &Prepared,
    cmd: &ProcessBuilder,
    printed: Option<&Arc<Mutex<crate::doctests::Printed>>>,
) -> Result<Ended> {
    interrupt::catch()?;
    let status = match printed {
        Some(printed) => status_reading_stdout(cmd, printed)?,
        None => cmd.status()?,
    };
    let interrupted = interrupt::interrupted();
    let still_running = if interrupted {
        interrupt::wait_for_session(prep.raw.path(), interrupt::WAIT)
    } else {
        Vec::new()
    };
    let mut collected = collect(prep.raw.path(), &still_running)?;
    if interrupted {
        let others: Vec<String> = still_running
            .iter()
            .filter(|&&pid| !collected.started.iter().any(|s| s.pid == pid))
            .map(u32::to_string)
            .collect();
        if !others.is_empty() {
            collected.problems.insert(
                0,
                format!(
                    "other processes of this session (pids {}) were still running {} s after \
                     Ctrl-C, when this report was made: what they had allocated is not in it",
                    others.join(", "),
                    interrupt::WAIT.as_secs()
                ),
            );
        }
        collected.problems.insert(
            0,
            "interrupted (Ctrl-C): this report covers what ran until then".to_owned(),
        );
    }
    Ok(Ended {
        status,
        collected,
        interrupted,
    })
}

/// Runs `cmd` with its standard output copied through unchanged and fed to `printed`.
fn status_reading_stdout(
    cmd: &ProcessBuilder,
    printed: &Arc<Mutex<crate::doctests::Printed>>,
) -> Result<ExitStatus> {
    use std::io::Read as _;
    let mut child = cmd
        .command()
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("could not run `{cmd}`"))?;
    let from = child.stdout.take();
    let printed = Arc::clone(printed);
    let copier = std::thread::spawn(move || {
        let Some(mut from) = from else { return };
        let mut buf = [0u8; 8192];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let mut to = std::io::stdout().lock();
            // A closed standard output is the reader's business; keep draining cargo.
            let _ = to.write_all(&buf[..n]).and_then(|()| to.flush());
            printed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .feed(&buf[..n]);
        }
    });
    let status = child
        .wait()
        .with_context(|| format!("while waiting for `{cmd}`"))?;
    // Programs cargo started may hold the pipe open after it ended (after Ctrl-C): what they
    // print later is not waited for long.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while !copier.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    if copier.is_finished() {
        let _ = copier.join();
    }
    Ok(status)
}

/// The last line of an interrupted session, after its report; its exit status.
fn interrupted_status() -> i32 {
    eprintln!("error: interrupted (Ctrl-C): the report covers what ran until then");
    interrupt::EXIT_STATUS
}

/// When processes ran but none could be profiled (a static executable, say), the report is empty
/// for a reason the user must see: an error line and the tool-error status instead of success.
fn nothing_recorded(collected: &Collected) -> Option<i32> {
    if !collected.profiles.is_empty() {
        return None;
    }
    let why = collected
        .problems
        .first()
        .map_or("no process wrote a profile", String::as_str);
    eprintln!("error: nothing was recorded: {why}");
    Some(2)
}

/// Why a started process left no profile, as far as can be told.
fn no_profile_reason(s: &Started) -> String {
    use alloc_profile_format::elf::{loader, Loader};
    let exe = s.exe.display();
    match loader(&crate::elf::head(&s.exe)) {
        Loader::Static => format!(
            "{exe} is statically linked, so the interposer could not be loaded into it: nothing \
             was recorded. Build it for the default x86_64-unknown-linux-gnu target with dynamic \
             linking to profile it"
        ),
        Loader::Other(path) => format!(
            "{exe} is linked against another C library than glibc (its loader is {}), which \
             cannot load the interposer: it ran unprofiled and nothing was recorded. Build it for \
             the x86_64-unknown-linux-gnu target to profile it",
            String::from_utf8_lossy(path)
        ),
        Loader::Glibc => format!(
            "{exe} (pid {}) wrote no profile: it was killed in a way no handler can see (SIGKILL, \
             or a crash inside the profiler's own writer), so nothing it allocated was recorded",
            s.pid
        ),
        Loader::Unknown => format!("{exe} (pid {}) wrote no profile", s.pid),
    }
}

/// Exit code for a finished process: its own code, or 128 + signal.
fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// The signal's conventional name, or `"signal"` for one without a common name.
pub fn signal_name(sig: i32) -> &'static str {
    alloc_profile_report::signal_name(sig).unwrap_or("signal")
}

/// Prepared state shared by the commands that build and run.
struct Prepared {
    ws: Workspace,
    env: BuildEnv,
    raw: RawDir,
}

/// `cargo alloc-profile test` or `bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKind {
    Test,
    Bench,
}

/// `cargo alloc-profile test` and `bench`: every test executable runs through the runner, which
/// also reads the harness's output for test names and outcomes.
pub fn test(args: TestArgs, kind: TestKind) -> Result<i32> {
    check_before_work(&args.cargo, &args.report)?;
    let prep = prepare(&args.cargo, &args.profiling)?;
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
    let doctests = args.targets.runs_doctests(kind == TestKind::Bench) && has_lib(&prep.ws);
    run_tests(&prep, cmd, kind, &args.cargo, &args.report, doctests)
}

/// `cargo alloc-profile nextest`: cargo-nextest runs every test in a process of its own, each
/// through the runner.
pub fn nextest(args: crate::cli::NextestArgs) -> Result<i32> {
    check_before_work(&args.cargo, &args.report)?;
    let probe = ProcessBuilder::new(cargo_program())
        .args(["nextest", "--version"])
        .read();
    if probe.is_err() {
        anyhow::bail!(
            "cargo-nextest is not installed (`cargo nextest --version` failed): install it with \
             `cargo install cargo-nextest --locked`, or use `cargo alloc-profile test`"
        );
    }
    let prep = prepare(&args.cargo, &args.profiling)?;
    let mut cmd = ProcessBuilder::new(cargo_program());
    cmd.args(["nextest", "run"])
        .args(args.cargo.to_cargo_args())
        .args(&args.args);
    run_tests(&prep, cmd, TestKind::Test, &args.cargo, &args.report, false)
}

/// Runs a prepared `cargo test`/`bench`/`nextest run` command and reports per test.
fn run_tests(
    prep: &Prepared,
    mut cmd: ProcessBuilder,
    kind: TestKind,
    cargo: &CargoArgs,
    report_args: &ReportArgs,
    doctests: bool,
) -> Result<i32> {
    prep.env.apply(&mut cmd);
    cmd.env(
        crate::roles::MODE,
        match kind {
            TestKind::Test => "test",
            TestKind::Bench => "bench",
        },
    );
    if cargo.verbose > 0 {
        eprintln!("     Running {cmd}");
    }
    let printed =
        doctests.then(|| Arc::new(Mutex::new(crate::doctests::Printed::new(prep.raw.path()))));
    let Ended {
        status,
        mut collected,
        interrupted,
    } = run_cargo(prep, &cmd, printed.as_ref())?;
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
    let packages: Vec<PathBuf> = prep.ws.members.iter().map(|(dir, _)| dir.clone()).collect();
    let (doctests, notes) =
        crate::doctests::binary(&collected.outcomes, &printed, &prep.ws.root, &packages);
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
    keep_last(prep, &collected, &outcome, Some(&binaries));
    let exceeded = report(&prep.ws, &collected, &outcome, report_args, Some(&binaries))?;
    if interrupted || interrupt::interrupted() {
        return Ok(interrupted_status());
    }
    Ok(nothing_recorded(&collected).unwrap_or(with_budgets(exit_code(status), exceeded)))
}

/// One entry per test executable, merging the processes that ran it (nextest runs one process
/// per test).
fn test_binaries(
    outcomes: &[crate::outcomes::BinaryOutcome],
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

fn has_lib(ws: &Workspace) -> bool {
    ws.targets
        .iter()
        .any(|t| t.kind.iter().any(|k| k == "lib" || k.ends_with("lib")))
}

/// What can be found wrong before anything is built or run, so that a mistake costs no build and
/// loses no profile: the paths given on the command line.
fn check_before_work(cargo: &CargoArgs, report: &ReportArgs) -> Result<()> {
    if let Some(path) = &cargo.manifest_path {
        check_manifest_path(path)?;
    }
    if let Some(dir) = &cargo.target_dir {
        if dir.exists() && !dir.is_dir() {
            anyhow::bail!(
                "--target-dir {}: not a directory; name a directory for the build",
                dir.display()
            );
        }
    }
    match &report.output {
        Some(path) => check_output(path)?,
        None if report.format != Format::Text => anyhow::bail!(
            "--format {} needs -o FILE here: on standard output the report would be mixed with \
             what the programs print there (`-o -` writes it there all the same)",
            clap::ValueEnum::to_possible_value(&report.format)
                .map_or_else(String::new, |v| v.get_name().to_owned())
        ),
        None => {}
    }
    crate::views::check(report)
}

fn check_manifest_path(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => anyhow::bail!(
            "--manifest-path {}: a directory; pass the path of its Cargo.toml",
            path.display()
        ),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("--manifest-path {}: no such file", path.display())
        }
        Err(e) => anyhow::bail!("--manifest-path {}: {e}", path.display()),
    }
}

/// The report can be written to `path` once everything has run: its directory exists and a file
/// can be created there (or the existing file opened for writing; neither is left changed).
fn check_output(path: &Path) -> Result<()> {
    if is_stdout(path) {
        return Ok(());
    }
    let shown = path.display();
    if path.is_dir() {
        anyhow::bail!("-o {shown}: a directory; name the file to write the report to");
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            anyhow::bail!("-o {shown}: {} is not a directory", dir.display())
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "-o {shown}: the directory {} does not exist; create it first",
            dir.display()
        ),
        Err(e) => anyhow::bail!("-o {shown}: {}: {e}", dir.display()),
    }
    let mut open = std::fs::OpenOptions::new();
    open.write(true);
    if path.exists() {
        open.open(path)
            .map_err(|e| anyhow::anyhow!("-o {shown}: cannot write to it: {e}"))?;
    } else {
        open.create_new(true)
            .open(path)
            .map_err(|e| anyhow::anyhow!("-o {shown}: cannot create it: {e}"))?;
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

fn prepare(args: &CargoArgs, profiling: &crate::cli::ProfilingArgs) -> Result<Prepared> {
    let ws = Workspace::load(args)?;
    let tool_dir = ws.tool_dir(args.target_dir.as_deref());
    let preload = runtime_lib::install(&tool_dir.join("lib"))?;
    let raw = RawDir::create(&tool_dir)?;
    let mut link_flags = Vec::new();
    for &allocator in &ws.allocators {
        link_flags.extend(crate::wrap::link_flags(allocator, &tool_dir.join("wrap"))?);
    }
    let env = BuildEnv::new(
        &tool_dir,
        raw.path(),
        &preload,
        &link_flags,
        !profiling.no_follow_children,
        profiling.lifetimes,
    )?;
    // Cargo caches `rustc -vV` here; the wrapper's answer names the added flags and must be asked
    // again (see `roles::wrapper_main`).
    let _ = std::fs::remove_file(tool_dir.join(".rustc_info.json"));
    Ok(Prepared { ws, env, raw })
}

/// `cargo alloc-profile run`.
pub fn run(args: RunArgs) -> Result<i32> {
    check_before_work(&args.cargo, &args.report)?;
    let prep = prepare(&args.cargo, &args.profiling)?;
    let mut cmd = ProcessBuilder::new(cargo_program());
    cmd.arg("run").args(args.cargo.to_cargo_args());
    if let Some(bin) = &args.bin {
        cmd.args(["--bin", bin]);
    }
    if let Some(example) = &args.example {
        cmd.args(["--example", example]);
    }
    if !args.args.is_empty() {
        cmd.arg("--").args(&args.args);
    }
    prep.env.apply(&mut cmd);
    if args.cargo.verbose > 0 {
        eprintln!("     Running {cmd}");
    }
    let Ended {
        status,
        collected,
        interrupted,
    } = run_cargo(&prep, &cmd, None)?;
    if collected.started.is_empty() {
        if interrupted {
            eprintln!(
                "error: interrupted (Ctrl-C) before the program started: nothing was profiled"
            );
            return Ok(interrupt::EXIT_STATUS);
        }
        // Cargo failed before running anything (build error, unknown target): its own message
        // is above; keep its exit status.
        eprintln!("error: nothing was profiled: cargo stopped before the program started");
        return Ok(exit_code(status));
    }
    let label = target_label(&prep.ws, &args, &collected);
    let outcome = Outcome {
        command: std::env::args().collect(),
        label,
        status,
    };
    keep_last(&prep, &collected, &outcome, None);
    let exceeded = report(&prep.ws, &collected, &outcome, &args.report, None)?;
    if interrupted || interrupt::interrupted() {
        return Ok(interrupted_status());
    }
    let code = exit_code(status);
    Ok(if code == 0 {
        nothing_recorded(&collected).unwrap_or(with_budgets(code, exceeded))
    } else {
        code
    })
}

fn target_label(ws: &Workspace, args: &RunArgs, collected: &Collected) -> String {
    let (name, kinds): (String, &[&str]) = if let Some(e) = &args.example {
        (e.clone(), &["example"])
    } else if let Some(b) = &args.bin {
        (b.clone(), &["bin"])
    } else {
        let exe = collected
            .started
            .first()
            .map(|s| s.exe.clone())
            .unwrap_or_default();
        (
            exe.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            &["bin"],
        )
    };
    match ws.target_source(&name, kinds) {
        Some(src) => format!("{name} ({})", src.display()),
        None => name,
    }
}

struct Outcome {
    command: Vec<String>,
    label: String,
    status: ExitStatus,
}

/// Keeps the run for `report` with no path (see [`crate::last`]).
fn keep_last(
    prep: &Prepared,
    collected: &Collected,
    outcome: &Outcome,
    tests: Option<&[alloc_profile_report::TestBinary]>,
) {
    crate::last::keep(
        prep.raw.path(),
        &crate::last::Run {
            profiles: &collected.profiles,
            command: &outcome.command,
            label: &outcome.label,
            status: outcome.status.into_raw(),
            notes: &collected.problems,
            tests,
        },
    );
}

fn report(
    ws: &Workspace,
    collected: &Collected,
    outcome: &Outcome,
    opts: &ReportArgs,
    tests: Option<&[alloc_profile_report::TestBinary]>,
) -> Result<usize> {
    let sym_opts = alloc_profile_symbolize::Options {
        workspace: ws.members.clone(),
        dependencies: ws.dependencies.clone(),
        workspace_targets: ws.targets.iter().map(|t| t.name.clone()).collect(),
    };
    let (profile, warnings) = alloc_profile_symbolize::symbolize(&collected.profiles, &sym_opts)
        .context("while symbolizing the profiles")?;
    if std::env::var_os("__CARGO_ALLOC_PROFILE_DUMP_SITES").is_some() {
        dump_sites(&profile);
    }
    let mut notes: Vec<String> = collected.problems.clone();
    notes.extend(warnings.iter().map(ToString::to_string));
    notes.extend(crate::allocator::notes(&profile));
    let ctx = alloc_profile_report::Context {
        command: display_command(&outcome.command),
        target_label: outcome.label.clone(),
        exit_code: outcome.status.code(),
        signal: outcome
            .status
            .signal()
            .map(|s| (s, signal_name(s).to_owned())),
        notes,
        unprofiled: collected
            .started
            .iter()
            .filter(|s| !collected.profiles.iter().any(|p| p.header.pid == s.pid))
            .map(|s| {
                s.exe
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
        workspace_root: Some(ws.root.clone()),
    };
    let inputs = alloc_profile_report::Inputs {
        tests,
        budgets: if opts.no_budgets { &[] } else { &ws.budgets },
    };
    let analysis = alloc_profile_report::analyze(&profile, &inputs);
    let exceeded = alloc_profile_report::budget::exceeded(&analysis.budgets);
    let mut buf = Vec::new();
    match opts.format {
        Format::Json => alloc_profile_report::write_json(&mut buf, &analysis, &ctx)?,
        Format::Folded | Format::Flamegraph | Format::Dhat | Format::Pprof | Format::Html => {
            crate::views::write(&mut buf, &profile, &analysis, &ctx, opts, tests)?;
        }
        Format::Text => {
            let color = match opts.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    opts.output.as_deref().is_none_or(is_stdout)
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                        && std::io::IsTerminal::is_terminal(&std::io::stdout())
                }
            };
            let text_opts = alloc_profile_report::TextOptions {
                top: opts.top,
                color,
                advice: !opts.no_advice,
            };
            alloc_profile_report::write_text(&mut buf, &analysis, &ctx, &text_opts)?;
        }
    }
    match opts.output.as_deref().filter(|p| !is_stdout(p)) {
        Some(path) => fs_err::write(path, &buf)
            .with_context(|| format!("while writing the report to {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&buf)?;
            out.flush()?;
        }
    }
    crate::views::open(opts)?;
    crate::budgets::announce(&analysis, &ctx.command, &ws.root)?;
    if exceeded > 0 {
        eprintln!(
            "error: {exceeded} allocation budget {} in Cargo.toml exceeded (the report's Budgets \
             section says which)",
            if exceeded == 1 { "limit" } else { "limits" }
        );
    }
    Ok(exceeded)
}

/// `-o -`: standard output.
fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The tool's exit status: the program's own `code`, or 1 when it succeeded but a budget was
/// exceeded.
fn with_budgets(code: i32, exceeded: usize) -> i32 {
    if code == 0 && exceeded > 0 {
        1
    } else {
        code
    }
}

/// Development aid: every site with its symbolized frames, on standard error.
fn dump_sites(profile: &alloc_profile_format::symbolized::Profile) {
    for site in &profile.sites {
        let c = &site.counters;
        eprintln!(
            "site pid={} allocs={} bytes={} spawned_at={:?} flags={}",
            profile.processes[site.process].pid,
            c.allocations,
            c.bytes,
            site.spawned_at,
            site.flags
        );
        for &f in &site.frames {
            let f = &profile.frames[f as usize];
            eprintln!(
                "    {:?} {} {}:{}{}",
                f.kind,
                f.function,
                f.file.as_deref().unwrap_or("?"),
                f.line.unwrap_or(0),
                if f.inlined { " (inlined)" } else { "" }
            );
        }
    }
}

/// The command as the user typed it: `cargo alloc-profile …`.
fn display_command(args: &[String]) -> Vec<String> {
    let mut out = vec!["cargo".to_owned()];
    // Without the report's own destination: two runs written to before.txt and after.txt then
    // differ only where the profiles do. The program's arguments (after `--`) stay as they are.
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        if arg == "--" {
            out.push(arg.clone());
            out.extend(rest.by_ref().cloned());
            break;
        }
        if arg == "-o" || arg == "--output" {
            rest.next();
            continue;
        }
        if arg.starts_with("--output=") || (arg.starts_with("-o") && arg.len() > 2) {
            continue;
        }
        out.push(arg.clone());
    }
    out
}

/// `cargo alloc-profile show-env`: shell lines that set up profiling by hand. Programs run with
/// `LD_PRELOAD` and `CARGO_ALLOC_PROFILE_OUT` write raw profiles into that directory.
pub fn show_env(args: &crate::cli::ShowEnvArgs) -> Result<i32> {
    let ws = Workspace::load(&args.cargo)?;
    let tool_dir = ws.tool_dir(args.cargo.target_dir.as_deref());
    let preload = runtime_lib::install(&tool_dir.join("lib"))?;
    let out_dir = args
        .out_dir
        .clone()
        .unwrap_or_else(|| tool_dir.join("raw").join("manual"));
    fs_err::create_dir_all(&out_dir)?;
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"));
    let mut out = std::io::stdout().lock();
    writeln!(out, "export LD_PRELOAD={}", quote(preload.as_os_str()))?;
    writeln!(
        out,
        "export {}={}",
        crate::roles::OUT_DIR,
        quote(out_dir.as_os_str())
    )?;
    writeln!(
        out,
        "# Build what you profile with frame pointers and line tables, e.g.:\n\
         # RUSTFLAGS='-C force-frame-pointers=yes' CARGO_PROFILE_RELEASE_DEBUG=limited \
         CARGO_PROFILE_RELEASE_STRIP=false cargo build --release"
    )?;
    Ok(0)
}

/// `cargo alloc-profile report` with no path: the last run kept in the tool's target directory
/// (see [`crate::last`]), reported as it was, in the format asked for now.
fn report_last(args: &crate::cli::ReportCmdArgs) -> Result<i32> {
    let cargo = CargoArgs {
        manifest_path: args.manifest_path.clone(),
        target_dir: args.target_dir.clone(),
        ..CargoArgs::default()
    };
    let ws = Workspace::load(&cargo).context(
        "while finding the target directory of the last run (pass --manifest-path, or name raw \
         profiles)",
    )?;
    let saved = crate::last::load_latest(&ws.tool_dir(args.target_dir.as_deref()))?;
    let mut collected = Collected {
        profiles: saved.profiles,
        problems: saved.notes,
        ..Collected::default()
    };
    collected.problems.push(format!(
        "reported again from the last run, kept in {}",
        saved.dir.display()
    ));
    let outcome = Outcome {
        command: saved.command,
        label: saved.label,
        status: ExitStatus::from_raw(saved.status),
    };
    let exceeded = report(
        &ws,
        &collected,
        &outcome,
        &args.report,
        saved.tests.as_deref(),
    )?;
    Ok(with_budgets(0, exceeded))
}

/// `cargo alloc-profile report PATH...`: symbolizes and reports raw profiles written earlier.
pub fn report_files(args: &crate::cli::ReportCmdArgs) -> Result<i32> {
    if let Some(path) = &args.manifest_path {
        check_manifest_path(path)?;
    }
    if let Some(path) = &args.report.output {
        check_output(path)?;
    }
    crate::views::check(&args.report)?;
    if args.paths.is_empty() {
        return report_last(args);
    }
    let mut files = Vec::new();
    for path in &args.paths {
        let meta =
            std::fs::metadata(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = fs_err::read_dir(path)?
                .filter_map(std::result::Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.extension()
                        .is_some_and(|e| e == alloc_profile_format::EXTENSION)
                })
                .collect();
            if found.is_empty() {
                anyhow::bail!(
                    "{}: no raw profiles (*.{}) in this directory",
                    path.display(),
                    alloc_profile_format::EXTENSION
                );
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let mut collected = Collected::default();
    for file in &files {
        let bytes = fs_err::read(file)?;
        let profile = alloc_profile_format::read(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        collected.profiles.push(profile);
    }
    collected
        .profiles
        .sort_by_key(|p| (p.header.start_unix_ns, p.header.pid));
    let cargo = CargoArgs {
        manifest_path: args.manifest_path.clone(),
        ..CargoArgs::default()
    };
    let ws = match Workspace::load(&cargo) {
        Ok(ws) => ws,
        Err(e) if args.manifest_path.is_none() => {
            collected.problems.push(format!(
                "no Cargo workspace here ({e:#}): nothing is classified as your code; pass \
                 --manifest-path"
            ));
            Workspace::empty()
        }
        Err(e) => return Err(e),
    };
    // One process: its own ending; several: none in particular.
    let raw_status = match collected.profiles.as_slice() {
        [p] if p.end.reason == alloc_profile_format::end_reason::SIGNAL => p.end.detail & 0x7f,
        [p] => (p.end.detail & 0xff) << 8,
        _ => 0,
    };
    let outcome = Outcome {
        command: std::env::args().collect(),
        label: files
            .iter()
            .map(|f| {
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect::<Vec<_>>()
            .join(", "),
        status: std::os::unix::process::ExitStatusExt::from_raw(raw_status),
    };
    let exceeded = report(&ws, &collected, &outcome, &args.report, None)?;
    Ok(with_budgets(0, exceeded))
}

#[cfg(test)]
mod display_tests {
    use super::display_command;

    #[test]
    fn the_command_shown_leaves_out_where_the_report_goes() {
        let args: Vec<String> = [
            "/bin/cargo-alloc-profile",
            "alloc-profile",
            "run",
            "-o",
            "before.txt",
            "--release",
            "--output=x.json",
            "-oy.txt",
            "--",
            "-o",
            "program-arg",
        ]
        .map(str::to_owned)
        .to_vec();
        assert_eq!(
            display_command(&args),
            [
                "cargo",
                "alloc-profile",
                "run",
                "--release",
                "--",
                "-o",
                "program-arg"
            ]
        );
    }
}
