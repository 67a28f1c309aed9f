//! Robustness: never hang, never lose the profile, never lie. The `robust` fixture's programs
//! run through the real tool: threads (16 at once, blocks freed on another thread, allocating
//! thread-local destructors, threads still running at exit), processes (fork without exec, a
//! child started with `Command`, exec), every way to end (return, `exit`, `_exit`, panic, abort,
//! SIGSEGV, SIGTERM, SIGKILL) and the C allocation API's edge cases. Counts are compared with the
//! fixture's counting `#[global_allocator]` (`TRUTH` lines) where it sees them, and with the
//! README's definitions where the program calls the C library directly.
//!
//! Every run has a deadline: a hang fails the test (after killing the tool's process group)
//! instead of hanging the suite.

use std::os::unix::process::CommandExt as _;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{fixture_target_dir, function, manifest, tool, truths, Run, TempDir};

/// Generous: the first run also builds the fixture, possibly while other tests build theirs.
pub const DEADLINE: Duration = Duration::from_secs(240);

/// `cargo alloc-profile run --manifest-path robust -q --bin <bin> <flags> --format json --output
/// <tmp> -- <args>`, killed (with everything it started) if it outlives [`DEADLINE`].
pub fn run_bin(bin: &str, flags: &[&str], args: &[&str], env: &[(&str, &str)]) -> Run {
    let (output, report) = run_bin_as("json", bin, flags, args, env);
    let report = report.map(|b| serde_json::from_slice(&b).expect("the report is valid JSON"));
    Run { output, report }
}

/// [`run_bin`] with the report in `format`, as written.
pub fn run_bin_as(
    format: &str,
    bin: &str,
    flags: &[&str],
    args: &[&str],
    env: &[(&str, &str)],
) -> (Output, Option<Vec<u8>>) {
    let tmp = TempDir::new(&format!("robust-{bin}"));
    let report_path = tmp.0.join("report.json");
    let stdout_path = tmp.0.join("stdout");
    let stderr_path = tmp.0.join("stderr");
    let mut cmd = tool();
    cmd.arg("run")
        .arg("--manifest-path")
        .arg(manifest("robust"))
        .arg("--target-dir")
        .arg(fixture_target_dir())
        .args(["-q", "--bin", bin, "--format", format, "--output"])
        .arg(&report_path)
        .args(flags)
        .arg("--")
        .args(args)
        .stdout(Stdio::from(std::fs::File::create(&stdout_path).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&stderr_path).unwrap()))
        .env_remove("CARGO_ALLOC_PROFILE_FOLLOW_CHILDREN")
        .env_remove("CARGO_ALLOC_PROFILE_LIFETIMES")
        .process_group(0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("run the tool");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > DEADLINE {
            // The tool leads its own process group: end it and whatever it started.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!(
                "`{bin} {args:?}` hung: killed after {DEADLINE:?}\nstdout:\n{}\nstderr:\n{}",
                std::fs::read_to_string(&stdout_path).unwrap_or_default(),
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let output = Output {
        status,
        stdout: std::fs::read(&stdout_path).unwrap(),
        stderr: std::fs::read(&stderr_path).unwrap(),
    };
    (output, std::fs::read(&report_path).ok())
}

pub fn run_robust(bin: &str, args: &[&str]) -> Run {
    run_bin(bin, &[], args, &[])
}

/// Everything useful when an assertion fails.
pub fn context(run: &Run) -> String {
    let report = run.report.as_ref().map_or_else(
        || "(no report)".to_owned(),
        |r| {
            format!(
                "totals {}\nprocesses {}\nnotes {}\nleaks {}\nfunctions {}",
                r["totals"],
                r["processes"],
                r["notes"],
                r["leaks"],
                r["functions"]
                    .as_array()
                    .map(|fs| fs
                        .iter()
                        .map(|f| format!("{}={}", f["name"], f["total_allocations"]))
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default()
            )
        },
    );
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}\n{report}",
        run.code(),
        run.stdout(),
        run.stderr()
    )
}

/// Each of `names` printed a `TRUTH` line, and its `total_allocations`/`total_bytes` in the report
/// equal it.
pub fn assert_exact(run: &Run, names: &[&str]) {
    let truths = truths(&run.stdout());
    let report = run.report();
    let mut problems = Vec::new();
    for name in names {
        let Some((_, allocations, bytes)) = truths.iter().find(|(n, ..)| n == name) else {
            problems.push(format!("{name}: the fixture printed no TRUTH line"));
            continue;
        };
        match function(report, name) {
            None => problems.push(format!("{name}: not in the report (truth {allocations})")),
            Some(f) => {
                if f["total_allocations"] != *allocations || f["total_bytes"] != *bytes {
                    problems.push(format!(
                        "{name}: profiled {} allocations / {} bytes, truth {allocations} / {bytes}",
                        f["total_allocations"], f["total_bytes"]
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n{}",
        problems.join("\n"),
        context(run)
    );
}

/// Allocations the report's `leaks` array lists for `name`.
pub fn leaked(report: &Value, name: &str) -> u64 {
    report["leaks"]
        .as_array()
        .expect("leaks array")
        .iter()
        .filter(|l| l["function"] == name)
        .map(|l| l["allocations"].as_u64().unwrap())
        .sum()
}

pub fn processes(report: &Value) -> &Vec<Value> {
    report["processes"].as_array().expect("processes array")
}

/// `allocations - frees == leaked_allocations`, whatever happened.
pub fn assert_totals_consistent(run: &Run) {
    let t = &run.report()["totals"];
    let n = |k: &str| t[k].as_u64().unwrap_or_else(|| panic!("totals.{k}"));
    assert!(n("allocations") >= n("frees"), "{}", context(run));
    assert_eq!(
        n("allocations") - n("frees"),
        n("leaked_allocations"),
        "{}",
        context(run)
    );
}

pub fn assert_no_fail_lines(run: &Run) {
    let stdout = run.stdout();
    assert!(
        !stdout.lines().any(|l| l.starts_with("FAIL")),
        "{}",
        context(run)
    );
}

// ---------------------------------------------------------------------------------------------
// 1. Threads

#[test]
fn threads_exact_totals_and_no_false_leaks() {
    let run = run_robust("threads", &[]);
    assert_eq!(run.code(), Some(0), "{}", context(&run));
    assert!(
        run.stdout().contains("OK main returns"),
        "{}",
        context(&run)
    );
    let measured = [
        "threads::sixteen_threads",
        "threads::send_to_consumer",
        "threads::produce_on_main",
        "threads::tls_destructor_allocates",
    ];
    assert_exact(&run, &measured);
    let report = run.report();
    for name in measured {
        // Every block these made was freed, some on another thread than the one that made it.
        assert_eq!(leaked(report, name), 0, "{name} leaks\n{}", context(&run));
        let f = function(report, name).unwrap();
        assert_eq!(f["self_leaked_allocations"], 0, "{name}\n{}", context(&run));
    }
    // The thread-local destructor's own allocations (a format! and a collected Vec) are recorded
    // and blamed on it.
    let dtor = function(
        report,
        "<threads::AllocatesOnDrop as core::ops::drop::Drop>::drop",
    )
    .unwrap_or_else(|| panic!("no destructor entry\n{}", context(&run)));
    assert_eq!(dtor["total_allocations"], 2, "{}", context(&run));
    assert_eq!(processes(report).len(), 1, "{}", context(&run));
    assert_totals_consistent(&run);
}

#[test]
fn threads_still_allocating_at_exit_neither_hang_nor_lose_the_profile() {
    let run = run_robust("threads", &["exit-while-busy"]);
    assert_eq!(run.code(), Some(0), "{}", context(&run));
    assert!(
        run.stdout().contains("OK main returns"),
        "{}",
        context(&run)
    );
    assert_exact(
        &run,
        &[
            "threads::sixteen_threads",
            "threads::send_to_consumer",
            "threads::produce_on_main",
            "threads::tls_destructor_allocates",
        ],
    );
    let report = run.report();
    let procs = processes(report);
    assert_eq!(procs.len(), 1, "{}", context(&run));
    assert_eq!(procs[0]["end"], "exit", "{}", context(&run));
    // The detached threads ran and were recorded up to the exit.
    for name in ["threads::start_busy_allocator", "threads::start_sleeper"] {
        let f = function(report, name).unwrap_or_else(|| panic!("{name}\n{}", context(&run)));
        assert!(f["total_allocations"].as_u64().unwrap() > 0, "{name}");
    }
}

#[test]
fn threads_still_allocating_at_exit_totals_balance() {
    // The exit writer waits for hooks halfway through recording (see `runtime::freeze`). Without
    // that wait about one run in five came out unbalanced by one block; ten runs catch a regression.
    for _ in 0..10 {
        let run = run_robust("threads", &["exit-while-busy"]);
        assert_eq!(run.code(), Some(0), "{}", context(&run));
        assert_totals_consistent(&run);
        let t = &run.report()["totals"];
        let n = |k: &str| t[k].as_u64().unwrap();
        assert_eq!(
            n("bytes") - n("freed_bytes"),
            n("leaked_bytes"),
            "{}",
            context(&run)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Processes

#[test]
fn fork_without_exec_child_profile_is_its_own() {
    let run = run_robust("procs", &["fork"]);
    assert_eq!(run.code(), Some(0), "{}", context(&run));
    assert!(run.stdout().contains("OK child done"), "{}", context(&run));
    assert!(
        run.stdout().contains("OK child exited 0"),
        "{}",
        context(&run)
    );
    assert_no_fail_lines(&run);
    // before_fork counted once (not again in the child), each side's work for itself only.
    assert_exact(
        &run,
        &[
            "procs::before_fork",
            "procs::child_after_fork",
            "procs::parent_after_fork",
        ],
    );
    let report = run.report();
    let procs = processes(report);
    assert_eq!(procs.len(), 2, "{}", context(&run));
    let child = procs
        .iter()
        .find(|p| p["end"] == "_exit")
        .unwrap_or_else(|| panic!("no child ending in _exit\n{}", context(&run)));
    assert_eq!(child["end_detail"], 0);
    // The child inherited before_fork's 200 live blocks but made only a handful itself.
    let child_allocations = child["allocations"].as_u64().unwrap();
    assert!(child_allocations < 50, "{}", context(&run));
    let parent = procs.iter().find(|p| p["end"] == "exit").unwrap();
    assert!(parent["allocations"].as_u64().unwrap() >= 200);
    // The parent freed before_fork's blocks; the child's inherited copies are not its leaks.
    assert_eq!(leaked(report, "procs::before_fork"), 0, "{}", context(&run));
    assert_totals_consistent(&run);
}

#[test]
fn fork_while_another_thread_allocates_never_hangs() {
    let run = run_robust("procs", &["fork-busy"]);
    assert_eq!(run.code(), Some(0), "{}", context(&run));
    assert!(
        run.stdout().contains("OK 6 of 6 children exited 0"),
        "{}",
        context(&run)
    );
    assert_no_fail_lines(&run);
    let report = run.report();
    let procs = processes(report);
    assert_eq!(procs.len(), 7, "{}", context(&run));
    let children: Vec<_> = procs.iter().filter(|p| p["end"] == "_exit").collect();
    assert_eq!(children.len(), 6, "{}", context(&run));
    // Each child: 5 format! strings and their Vec.
    let work =
        function(report, "procs::busy_child_work").unwrap_or_else(|| panic!("{}", context(&run)));
    assert_eq!(work["total_allocations"], 36, "{}", context(&run));
    assert_totals_consistent(&run);
}

#[test]
fn command_child_is_profiled_as_its_own_process() {
    let run = run_robust("procs", &["spawn"]);
    assert_eq!(run.code(), Some(0), "{}", context(&run));
    assert!(run.stdout().contains("OK in child"), "{}", context(&run));
    assert!(
        run.stdout().contains("OK child exited 0"),
        "{}",
        context(&run)
    );
    assert_exact(&run, &["procs::spawn_self", "procs::spawned_child_work"]);
    let procs = processes(run.report());
    assert_eq!(procs.len(), 2, "{}", context(&run));
    assert!(
        procs
            .iter()
            .any(|p| p["args"].to_string().contains("\"child\"")),
        "{}",
        context(&run)
    );
}

/// `procs fork-exec` or `procs posix-spawn`: the parent and the started `procs child` are two
/// processes, each exact; the fork child, which allocated nothing before its exec, adds none.
fn assert_started_child(mode: &str, parent_fn: &str) {
    let run = run_robust("procs", &[mode]);
    assert_eq!(run.code(), Some(0), "{}", context(&run));
    assert!(run.stdout().contains("OK in child"), "{}", context(&run));
    assert!(
        run.stdout().contains("OK child status 0"),
        "{}",
        context(&run)
    );
    assert_no_fail_lines(&run);
    assert_exact(&run, &[parent_fn, "procs::spawned_child_work"]);
    let procs = processes(run.report());
    assert_eq!(procs.len(), 2, "{}", context(&run));
    assert!(
        procs.iter().all(|p| p["end"] == "exit"),
        "{}",
        context(&run)
    );
    assert_eq!(
        procs
            .iter()
            .filter(|p| p["args"].to_string().contains("\"child\""))
            .count(),
        1,
        "{}",
        context(&run)
    );
    assert_totals_consistent(&run);
}

#[test]
fn fork_then_exec_child_is_profiled_as_its_own_process() {
    assert_started_child("fork-exec", "procs::fork_then_exec");
}

#[test]
fn posix_spawn_child_is_profiled_as_its_own_process() {
    assert_started_child("posix-spawn", "procs::posix_spawn_self");
}

/// Children linked against musl cannot load the interposer; they inherit `LD_PRELOAD` but are
/// started without it (posix_spawn, execv, fexecve, execveat, execvp), so they run exactly as
/// without the profiler.
#[test]
fn foreign_children_start_and_exit_as_without_the_profiler() {
    let dir = TempDir::new("robust-musl");
    let Some(hello) = crate::support::musl_hello(&dir.0) else {
        return;
    };
    let run = run_robust("procs", &["foreign-children", hello.to_str().unwrap()]);
    assert_eq!(run.code(), Some(0), "{}", context(&run));
    assert_eq!(
        run.stdout().matches("hello from musl").count(),
        5,
        "{}",
        context(&run)
    );
    for line in [
        "OK spawned status Some(3)",
        "OK execv status 3",
        "OK fexecve status 3",
        "OK execveat status 3",
        "OK execvp status Some(3)",
    ] {
        assert!(run.stdout().contains(line), "{line}\n{}", context(&run));
    }
    assert!(!run.stderr().contains("Error"), "{}", context(&run));
    // The parent and its two forks (which exec'd without having allocated) are the only profiles.
    assert_eq!(processes(run.report()).len(), 1, "{}", context(&run));
}

#[test]
fn no_follow_children_profiles_only_the_started_program() {
    let run = run_bin("procs", &["--no-follow-children"], &["spawn"], &[]);
    assert_eq!(run.code(), Some(0), "{}", context(&run));
    assert!(run.stdout().contains("OK in child"), "{}", context(&run));
    assert_exact(&run, &["procs::spawn_self"]);
    let report = run.report();
    assert_eq!(processes(report).len(), 1, "{}", context(&run));
    assert!(
        function(report, "procs::spawned_child_work").is_none(),
        "{}",
        context(&run)
    );
}

#[test]
fn exec_keeps_the_pre_exec_profile() {
    let run = run_robust("procs", &["exec"]);
    assert_eq!(run.code(), Some(0), "{}", context(&run));
    assert!(run.stdout().contains("OK after exec"), "{}", context(&run));
    let procs = processes(run.report());
    assert_eq!(procs.len(), 2, "{}", context(&run));
    assert_eq!(procs[0]["end"], "exec", "{}", context(&run));
    assert_exact(&run, &["procs::before_exec", "procs::after_exec"]);
}

#[test]
fn exec_of_another_executable_keeps_both_profiles() {
    let dir = TempDir::new("robust-exec-copy");
    let run = run_robust("procs", &["exec-copy", dir.0.to_str().unwrap()]);
    assert_eq!(run.code(), Some(0), "{}", context(&run));
    assert!(run.stdout().contains("OK after exec"), "{}", context(&run));
    let procs = processes(run.report());
    assert_eq!(procs.len(), 2, "{}", context(&run));
    // The pre-exec part is written first.
    assert_eq!(procs[0]["end"], "exec", "{}", context(&run));
    assert_eq!(procs[1]["end"], "exit", "{}", context(&run));
    assert_exact(&run, &["procs::before_exec", "procs::after_exec"]);
}
