//! Robustness, continued (see [`crate::robust`]): every way a profiled program ends (return,
//! `exit`, `_exit`, panic, abort, SIGSEGV, SIGTERM, SIGKILL), and the C allocation API called
//! directly.

use crate::robust::{
    assert_exact, assert_no_fail_lines, assert_totals_consistent, context, leaked, processes,
    run_bin, run_bin_as, run_robust,
};
use crate::support::{function, truths, Run};

// ---------------------------------------------------------------------------------------------
// 3. Endings

/// Runs `endings <mode>`: the tool's exit status is `code`, `endings::work` is exact.
fn ending(mode: &str, code: i32, env: &[(&str, &str)]) -> Run {
    let run = run_bin("endings", &[], &[mode], env);
    assert_eq!(run.code(), Some(code), "{}", context(&run));
    assert!(
        run.stdout()
            .contains(&format!("OK work done, ending by {mode}")),
        "{}",
        context(&run)
    );
    assert!(!run.stdout().contains("FAIL"), "{}", context(&run));
    run
}

/// A normal exit: `exit_code` is `code`, no signal, work exact, one process.
fn assert_normal_exit(run: &Run, code: i32, end: &str) {
    let report = run.report();
    assert_eq!(report["exit_code"], code, "{}", context(run));
    assert!(report["signal"].is_null(), "{}", context(run));
    assert_exact(run, &["endings::work"]);
    let procs = processes(report);
    assert_eq!(procs.len(), 1, "{}", context(run));
    assert_eq!(procs[0]["end"], end, "{}", context(run));
    assert_totals_consistent(run);
}

/// Killed by `signal` (its number): the profile was still written, `signal.name` says which,
/// work exact, and its 26 blocks (live when the signal came) are reported live.
pub fn assert_killed_by(run: &Run, number: u64, name: &str) {
    let report = run.report();
    assert_eq!(report["signal"]["name"], name, "{}", context(run));
    assert_eq!(report["signal"]["number"], number, "{}", context(run));
    assert!(report["exit_code"].is_null(), "{}", context(run));
    assert_exact(run, &["endings::work"]);
    let procs = processes(report);
    assert_eq!(procs.len(), 1, "{}", context(run));
    assert_eq!(procs[0]["end"], "signal", "{}", context(run));
    assert_eq!(procs[0]["end_detail"], number, "{}", context(run));
    assert_eq!(leaked(report, "endings::work"), 26, "{}", context(run));
    assert_totals_consistent(run);
}

#[test]
fn ending_return_from_main() {
    let run = ending("return", 0, &[]);
    assert_normal_exit(&run, 0, "exit");
    assert_eq!(
        leaked(run.report(), "endings::work"),
        0,
        "{}",
        context(&run)
    );
}

#[test]
fn ending_process_exit_3() {
    let run = ending("exit3", 3, &[]);
    assert_normal_exit(&run, 3, "exit");
    assert_eq!(processes(run.report())[0]["end_detail"], 3);
}

#[test]
fn ending_underscore_exit_4() {
    let run = ending("_exit4", 4, &[]);
    assert_normal_exit(&run, 4, "_exit");
    assert_eq!(processes(run.report())[0]["end_detail"], 4);
}

#[test]
fn ending_panic_in_main() {
    // No backtrace: symbolizing one costs ~50k allocations and a second.
    let run = ending("panic", 101, &[("RUST_BACKTRACE", "0")]);
    assert_normal_exit(&run, 101, "exit");
    assert!(run.stderr().contains("deliberate panic in main"));
}

#[test]
fn ending_panic_process_entry_has_the_exit_status() {
    let run = ending("panic", 101, &[("RUST_BACKTRACE", "0")]);
    assert_eq!(
        processes(run.report())[0]["end_detail"],
        101,
        "{}",
        context(&run)
    );
}

#[test]
fn ending_panic_with_panic_abort_is_sigabrt_with_the_profile() {
    let run = run_bin(
        "endings",
        &["--profile", "panic-abort"],
        &["panic"],
        &[("RUST_BACKTRACE", "0")],
    );
    assert_eq!(run.code(), Some(128 + 6), "{}", context(&run));
    assert!(
        run.stdout().contains("OK work done, ending by panic"),
        "{}",
        context(&run)
    );
    assert!(run.stderr().contains("deliberate panic in main"));
    assert_killed_by(&run, 6, "SIGABRT");
}

#[test]
fn ending_abort_is_sigabrt() {
    let run = ending("abort", 128 + 6, &[]);
    assert_killed_by(&run, 6, "SIGABRT");
}

#[test]
fn ending_null_write_is_sigsegv() {
    let run = ending("segv", 128 + 11, &[]);
    assert_killed_by(&run, 11, "SIGSEGV");
}

#[test]
fn ending_sigterm_to_self() {
    let run = ending("sigterm", 128 + 15, &[]);
    assert_killed_by(&run, 15, "SIGTERM");
}

#[test]
fn ending_sigkill_says_no_profile_was_written() {
    let run = ending("sigkill", 128 + 9, &[]);
    let report = run.report();
    assert_eq!(report["signal"]["name"], "SIGKILL", "{}", context(&run));
    assert!(report["exit_code"].is_null(), "{}", context(&run));
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("endings (pid ") && notes.contains("wrote no profile"),
        "{}",
        context(&run)
    );
    // Nothing is made up for the lost process.
    assert_eq!(report["totals"]["allocations"], 0, "{}", context(&run));
    assert!(function(report, "endings::work").is_none());
}

#[test]
fn ending_sigkill_does_not_blame_the_allocator() {
    let run = ending("sigkill", 128 + 9, &[]);
    let notes = run.report()["notes"].to_string();
    assert!(!notes.contains("global_allocator"), "{}", context(&run));
    assert!(
        !notes.contains("invisible to this profiler"),
        "{}",
        context(&run)
    );
}

/// Issue 10, item 12b: the program ran a system program to its end (`kill -0`, whose profile is
/// written), then was killed by SIGKILL (no profile). The report keeps the child's figures apart
/// from the program's: the header says the run is not whole and whose figures follow, and no
/// note asks to rebuild `/usr/bin/kill` with debug info.
#[test]
fn sigkill_after_a_child_does_not_present_the_childs_figures_as_the_run() {
    let run = run_bin("sigkill_after_child", &[], &[], &[]);
    assert_eq!(run.code(), Some(128 + 9), "{}", context(&run));
    assert!(
        run.stdout().contains("OK work done") && !run.stdout().contains("FAIL"),
        "{}",
        context(&run)
    );
    let report = run.report();
    assert_eq!(report["signal"]["name"], "SIGKILL", "{}", context(&run));
    // Only the child wrote a profile, and nothing of the program is made up.
    let procs = processes(report);
    assert_eq!(procs.len(), 1, "{}", context(&run));
    assert!(
        procs[0]["exe"].as_str().unwrap().ends_with("/kill"),
        "{}",
        context(&run)
    );
    assert!(function(report, "sigkill_after_child::work").is_none());
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("sigkill_after_child (pid ") && n.contains("wrote no profile")),
        "{notes:#?}"
    );
    assert!(
        !notes.iter().any(|n| n.contains("debug info")),
        "{notes:#?}"
    );
}

#[test]
fn sigkill_after_a_child_header_says_whose_figures_these_are() {
    let (output, report) = run_bin_as("text", "sigkill_after_child", &[], &[], &[]);
    assert_eq!(output.status.code(), Some(128 + 9));
    let text = String::from_utf8(report.expect("a text report")).unwrap();
    let header: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
    let header = header.join("\n");
    // Before any figure, the header says the program's own allocations are missing...
    let warning = header
        .find("Not the whole run: sigkill_after_child wrote no profile")
        .unwrap_or_else(|| panic!("{text}"));
    let figures = header
        .find(" allocations (")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(warning < figures, "{text}");
    assert!(
        header.contains("1 process profiled (listed below)"),
        "{text}"
    );
    // ...and the process whose figures they are is listed.
    let processes = text
        .split("\n\n")
        .find(|s| s.starts_with("Processes:"))
        .unwrap_or_else(|| panic!("no Processes section\n{text}"));
    assert!(processes.contains("\n  kill -0 "), "{text}");
    assert!(!text.contains("no debug info"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// 4. The C allocation API called directly

#[test]
fn c_api_edge_cases_behave_as_documented_under_the_profiler() {
    let run = run_robust("apis", &[]);
    assert_eq!(run.code(), Some(0), "{}", context(&run));
    assert_no_fail_lines(&run);
    let stdout = run.stdout();
    let oks = stdout.lines().filter(|l| l.starts_with("OK ")).count();
    assert_eq!(oks, 16, "{}", context(&run));
    assert!(stdout.contains("OK done"));
}

#[test]
fn c_api_counts_follow_the_definitions() {
    let run = run_robust("apis", &[]);
    assert_eq!(run.code(), Some(0), "{}", context(&run));
    let report = run.report();
    // (function, allocations, bytes, reallocations), per the README's definitions.
    let expected: [(&str, u64, u64, u64); 7] = [
        ("apis::realloc_null", 1, 100, 0),
        ("apis::realloc_to_zero", 1, 50, 0),
        ("apis::realloc_grow", 2, 16 + 4096, 1),
        ("apis::calloc_and_reallocarray", 2, 80 + 80, 0),
        ("apis::memalign_good", 2, 100 + 4096, 0),
        ("apis::usable_size", 2, 10 + 24, 0),
        ("apis::malloc_zero", 1, 0, 0),
    ];
    let mut problems = Vec::new();
    for (name, allocations, bytes, reallocations) in expected {
        let Some(f) = function(report, name) else {
            problems.push(format!("{name}: missing"));
            continue;
        };
        let got = (
            f["total_allocations"].as_u64().unwrap(),
            f["total_bytes"].as_u64().unwrap(),
            f["self_reallocations"].as_u64().unwrap(),
        );
        if got != (allocations, bytes, reallocations) {
            problems.push(format!(
                "{name}: (allocations, bytes, reallocations) {got:?}, expected {:?}",
                (allocations, bytes, reallocations)
            ));
        }
        // Everything was freed, `realloc(p, 0)` included.
        if f["self_leaked_allocations"] != 0 || leaked(report, name) != 0 {
            problems.push(format!("{name}: reported as leaking"));
        }
    }
    // Failed calls and free(NULL) are no allocations.
    let zero = report["zero_allocation_functions"].as_array().unwrap();
    for name in [
        "apis::calloc_overflow",
        "apis::memalign_bad",
        "apis::free_null",
    ] {
        if function(report, name).is_some() {
            problems.push(format!("{name}: listed with allocations"));
        }
        if !zero.iter().any(|z| z == name) {
            problems.push(format!("{name}: not a zero-allocation function"));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n{}",
        problems.join("\n"),
        context(&run)
    );
    // The Box in usable_size is also what the counting allocator saw.
    let truths = truths(&run.stdout());
    assert!(truths.contains(&("apis::usable_size".to_owned(), 1, 24)));
    // free(NULL) three times is no free: the books still balance.
    assert_totals_consistent(&run);
}

/// C code linked into the program and code in a `dlopen`ed library: their mallocs are counted for
/// the Rust function that called them, and the C function is named with its source line.
#[test]
fn c_code_and_dlopened_libraries_are_counted() {
    for profile in [&["-q"][..], &["-q", "--release"][..]] {
        let run = crate::support::run_json("c-code", profile);
        assert_eq!(run.code(), Some(0), "{}", run.stderr());
        assert!(run.stdout().contains("c: 5 dlopened: 1"));
        let r = run.report();
        let calls_c = crate::support::function(r, "c_code::calls_c").expect("calls_c");
        assert_eq!(calls_c["total_allocations"], 5, "{profile:?} {calls_c}");
        assert_eq!(calls_c["total_bytes"], 150);
        let c = crate::support::function(r, "make_buffer").expect("the C function");
        assert_eq!(c["self_allocations"], 5);
        assert_eq!(c["file"], "csrc/buffers.c");
        // Two CStrings, strdup's copy inside libc, and what dlopen allocated for the call.
        let dl = crate::support::function(r, "c_code::calls_dlopened").expect("calls_dlopened");
        assert!(dl["total_allocations"].as_u64() >= Some(3), "{dl}");
    }
}
