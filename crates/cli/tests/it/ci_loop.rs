//! The CI loop (issue 13) on `tests/programs/ciloop`, whose test `tests::grows` allocates 100 more
//! boxes under `CILOOP_MORE`: pattern budgets catch exactly that test (named on standard error,
//! annotated for GitHub, in the step summary), and `diff` of the two test reports shows it per
//! test, in text and JSON, and fails on the increase with `--fail-on-increase`. Counts are checked
//! against the fixture's thread-local counting allocator.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{
    fixture_target_dir, manifest, programs_dir, run_json, tool, truth_peaks, truths, TempDir,
};

struct TestRun {
    code: Option<i32>,
    stderr: String,
    report_path: PathBuf,
    report: Value,
    /// Test name → (allocations, bytes) from the counting allocator.
    truth: Vec<(String, u64, u64)>,
    /// Test name → the most bytes allocated in its body that were live at once, from the same.
    peaks: Vec<(String, u64)>,
}

impl TestRun {
    fn truth(&self, name: &str) -> (u64, u64) {
        self.truth
            .iter()
            .find(|t| t.0 == name)
            .map(|t| (t.1, t.2))
            .unwrap_or_else(|| panic!("no TRUTH for {name}: {:?}", self.truth))
    }

    fn peak(&self, name: &str) -> u64 {
        self.peaks
            .iter()
            .find(|t| t.0 == name)
            .map(|t| t.1)
            .unwrap_or_else(|| panic!("no TRUTH peak for {name}: {:?}", self.peaks))
    }

    /// The report's peak of a test.
    fn report_peak(&self, name: &str) -> u64 {
        self.report["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .and_then(|t| t["peak_bytes"].as_u64())
            .unwrap_or_else(|| panic!("no peak for {name}: {:#}", self.report["tests"]))
    }
}

/// `cargo alloc-profile test` on ciloop with a JSON report into `dir/<name>.json`.
fn profile_tests(dir: &Path, name: &str, env: &[(&str, &Path)], more: bool) -> TestRun {
    profile_tests_with(dir, name, env, more, &[])
}

/// [`profile_tests`] with more arguments after the tool's own.
fn profile_tests_with(
    dir: &Path,
    name: &str,
    env: &[(&str, &Path)],
    more: bool,
    args: &[&str],
) -> TestRun {
    let report_path = dir.join(format!("{name}.json"));
    let truth_path = dir.join(format!("{name}.truth"));
    let mut cmd = tool();
    cmd.arg("test")
        .arg("--manifest-path")
        .arg(manifest("ciloop"))
        .arg("--target-dir")
        .arg(fixture_target_dir())
        .args(["--lib", "--format", "json", "--output"])
        .arg(&report_path)
        .args(args)
        .env("TRUTH_FILE", &truth_path)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("CILOOP_MORE");
    if more {
        cmd.env("CILOOP_MORE", "1");
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the tool");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = std::fs::read(&report_path)
        .map(|b| serde_json::from_slice(&b).expect("valid JSON"))
        .unwrap_or_else(|_| panic!("no report; stderr:\n{stderr}"));
    let truth_text = std::fs::read_to_string(&truth_path).unwrap_or_default();
    TestRun {
        code: out.status.code(),
        stderr,
        report_path,
        report,
        truth: truths(&truth_text),
        peaks: truth_peaks(&truth_text),
    }
}

/// `cargo alloc-profile diff <args>`: (exit status, stdout, stderr).
fn diff(args: &[&Path], flags: &[&str], summary: Option<&Path>) -> (Option<i32>, String, String) {
    let mut cmd = tool();
    cmd.arg("diff")
        .args(args)
        .args(flags)
        .env_remove("GITHUB_STEP_SUMMARY");
    if let Some(s) = summary {
        cmd.env("GITHUB_STEP_SUMMARY", s);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn budget<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == name)
        .unwrap_or_else(|| panic!("no budget for {name}: {:#}", report["budgets"]))
}

/// The 1-based line of the first line of `file` containing `needle`.
fn line_of(file: &Path, needle: &str) -> usize {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap()
        + 1
}

#[test]
fn a_test_that_allocates_more_is_caught_by_its_budget_and_by_diff() {
    let dir = TempDir::new("ci-loop");
    let repo = programs_dir().join("../..").canonicalize().unwrap();
    let summary = dir.0.join("summary.md");

    // Before: every budget kept.
    let before = profile_tests(&dir.0, "before", &[], false);
    assert_eq!(before.code, Some(0), "{}", before.stderr);
    assert!(
        !before.stderr.contains("budget exceeded"),
        "{}",
        before.stderr
    );
    let (grows_before, grows_before_bytes) = before.truth("tests::grows");
    assert_eq!(grows_before, 20);
    assert_eq!(budget(&before.report, "tests::grows")["result"], "within");

    // After: `tests::grows` allocates 100 more and exceeds `tests::*`, and only it does.
    let env: [(&str, &Path); 3] = [
        ("GITHUB_ACTIONS", Path::new("true")),
        ("GITHUB_STEP_SUMMARY", &summary),
        ("GITHUB_WORKSPACE", &repo),
    ];
    let after = profile_tests(&dir.0, "after", &env, true);
    assert_eq!(after.code, Some(1), "{}", after.stderr);
    let (grows_after, grows_after_bytes) = after.truth("tests::grows");
    assert_eq!(
        grows_after,
        grows_before + 101,
        "100 boxes and the variable's value"
    );
    let report = &after.report;
    let exceeded: Vec<&Value> = report["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["result"] == "exceeded")
        .collect();
    // Both of its limits: allocations, and the peak (the most bytes it held at once, exactly the
    // counting allocator's high-water mark over the test's body).
    assert_eq!(exceeded.len(), 2, "{:#}", report["budgets"]);
    let grows_peak = after.peak("tests::grows");
    assert_eq!(
        grows_peak, 1904,
        "the 1-byte variable value is freed before the boxes"
    );
    assert_eq!(
        (
            &exceeded[1]["name"],
            &exceeded[1]["metric"],
            &exceeded[1]["actual"],
            &exceeded[1]["limit"]
        ),
        (
            &"tests::grows".into(),
            &"peak".into(),
            &grows_peak.into(),
            &1024.into()
        )
    );
    for test in ["tests::grows", "tests::small", "steady::steady"] {
        assert_eq!(after.report_peak(test), after.peak(test), "{test}");
    }
    let grows = exceeded[0];
    assert_eq!(grows["scope"], "test");
    assert_eq!(grows["name"], "tests::grows");
    assert_eq!(grows["pattern"], "tests::*");
    assert_eq!(grows["binary"], "ciloop");
    assert_eq!(grows["limit"], 60);
    assert_eq!(grows["actual"], grows_after);
    // The other tests: `tests::small` by the same pattern, `steady::steady` by the default `*`.
    let small = budget(report, "tests::small");
    assert_eq!(
        (&small["result"], &small["pattern"], &small["actual"]),
        (
            &"within".into(),
            &"tests::*".into(),
            &after.truth("tests::small").0.into()
        )
    );
    let steady = budget(report, "steady::steady");
    assert_eq!(
        (&steady["result"], &steady["pattern"], &steady["limit"]),
        (&"within".into(), &"*".into(), &10.into())
    );
    assert_eq!(steady["actual"], after.truth("steady::steady").0);
    // A pattern that matches no test: a typo shows, and never fails.
    let typo = budget(report, "tests::typo_*");
    assert_eq!(typo["result"], "not-checked");
    assert_eq!(typo["reason"], "the pattern matches no test that ran");
    // Function patterns hold every function of the crate.
    let f = budget(report, "ciloop::tests::grows");
    assert_eq!(
        (&f["scope"], &f["pattern"]),
        (&"function".into(), &"ciloop::*".into())
    );
    assert_eq!(f["actual"], grows_after);

    // Standard error names the culprit, then the count line as before; under GitHub Actions an
    // annotation points at the test's function.
    let culprit = format!(
        "budget exceeded: test tests::grows (ciloop) by \"tests::*\": allocations {grows_after} > \
         limit 60"
    );
    let lines: Vec<&str> = after.stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == culprit)
        .unwrap_or_else(|| panic!("{culprit}\nnot in:\n{}", after.stderr));
    let peak_culprit = format!(
        "budget exceeded: test tests::grows (ciloop) by \"tests::*\": peak {grows_peak} > limit \
         1024"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("budget exceeded:"))
            .collect::<Vec<_>>(),
        [&culprit.as_str(), &peak_culprit.as_str()],
        "{}",
        after.stderr
    );
    // At the line the report gives the test's function (the line of its own allocations).
    let grows_fn = crate::support::function(report, "ciloop::tests::grows").unwrap();
    assert!(
        grows_fn["file"].as_str().unwrap().ends_with("src/lib.rs"),
        "{grows_fn}"
    );
    let lib = programs_dir().join("ciloop/src/lib.rs");
    let line = grows_fn["line"].as_u64().unwrap() as usize;
    assert!(
        (line_of(&lib, "fn grows()")..line_of(&lib, "fn small()")).contains(&line),
        "{grows_fn}"
    );
    let annotation = format!(
        "::error file=tests/programs/ciloop/src/lib.rs,line={},title=allocation budget \
         exceeded::{}",
        line,
        culprit.trim_start_matches("budget exceeded: ")
    );
    assert!(
        lines.contains(&annotation.as_str()),
        "{annotation}\nnot in:\n{}",
        after.stderr
    );
    assert_eq!(
        lines.last(),
        Some(
            &"error: 2 allocation budget limits in Cargo.toml exceeded (the report's Budgets \
              section says which)"
        )
    );
    assert!(at < lines.len() - 1);
    let before_run_annotations = before
        .stderr
        .lines()
        .filter(|l| l.starts_with("::"))
        .count();
    assert_eq!(before_run_annotations, 0, "{}", before.stderr);

    // The step summary: totals, the budgets, the per-test table.
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("### `cargo alloc-profile test "), "{md}");
    assert!(md.contains("| allocations | bytes requested | peak live | still live at exit |"));
    assert!(md.contains("**Budgets:** 2 of "), "{md}");
    assert!(
        md.contains(&format!(
            "| test tests::grows (ciloop) by \"tests::*\" | allocations | 60 | {grows_after} | ❌ \
             exceeded |"
        )),
        "{md}"
    );
    assert!(
        md.contains("| test steady::steady (ciloop) by \"*\" | allocations | 10 | 3 | ✅ kept |"),
        "{md}"
    );
    assert!(
        md.contains("Not checked: `test tests::typo_*` (the pattern matches no test that ran)"),
        "{md}"
    );
    // The function pattern kept every function of the crate: one row, with the largest.
    let held: Vec<u64> = report["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["pattern"] == "ciloop::*")
        .map(|b| b["actual"].as_u64().unwrap())
        .collect();
    assert!(held.len() >= 4, "{:#}", report["budgets"]);
    let row = format!(
        "| largest of {} functions by \"ciloop::*\" | allocations | 10,000 | {} | ✅ kept |",
        held.len(),
        held.iter().max().unwrap()
    );
    assert!(md.contains(&row), "{row}\nnot in:\n{md}");
    assert!(md.contains("**Tests by allocations** (all of 3)"), "{md}");
    assert!(
        md.contains(&format!(
            "| tests::grows | ciloop | {grows_after} | 1.9 KiB | 1.9 KiB | passed |"
        )),
        "{md}"
    );

    // diff, text: the test, its function and the totals.
    let (b, a) = (before.report_path.as_path(), after.report_path.as_path());
    let (code, text, stderr) = diff(&[b, a], &[], None);
    assert_eq!(code, Some(0), "{stderr}");
    let delta = grows_after - grows_before;
    let bytes_delta = grows_after_bytes - grows_before_bytes;
    let row = format!(
        "  {:<44} {grows_before:>14} {grows_after:>14} {:>14} {:>14}\n",
        "tests::grows",
        format!("+{delta}"),
        format!("+{bytes_delta}")
    );
    let tests_section = text
        .split("\n\n")
        .find(|s| s.starts_with("Tests whose allocations changed"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        tests_section.ends_with(row.trim_end_matches('\n')),
        "{row}\nnot in:\n{text}"
    );
    assert_eq!(
        tests_section.lines().count(),
        3,
        "only grows changed:\n{text}"
    );
    assert!(text.contains("  ciloop::tests::grows "), "{text}");
    assert!(
        !text.contains("note: the reports are of different"),
        "{text}"
    );

    // diff, JSON.
    let (code, json, stderr) = diff(&[b, a], &["--format", "json"], None);
    assert_eq!(code, Some(0), "{stderr}");
    let c: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(c["format"], "cargo-alloc-profile-diff");
    let tests = c["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 3);
    let g = &tests[0];
    assert_eq!(g["name"], "tests::grows", "largest change first: {json}");
    assert_eq!(g["binary"], "ciloop");
    assert_eq!(g["status"], "changed");
    assert_eq!(g["before_allocations"], grows_before);
    assert_eq!(g["after_allocations"], grows_after);
    assert_eq!(g["delta_allocations"], delta);
    assert_eq!(g["before_bytes"], grows_before_bytes);
    assert_eq!(g["after_bytes"], grows_after_bytes);
    assert_eq!(g["delta_bytes"], bytes_delta);
    assert!(tests[1..]
        .iter()
        .all(|t| t["status"] == "same" && t["delta_allocations"] == 0));
    let f = c["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "ciloop::tests::grows")
        .unwrap();
    assert_eq!(
        (
            &f["before_allocations"],
            &f["after_allocations"],
            &f["delta_allocations"]
        ),
        (&grows_before.into(), &grows_after.into(), &delta.into())
    );
    assert_eq!(
        c["totals"]["allocations"]["delta"],
        report["totals"]["allocations"].as_i64().unwrap()
            - before.report["totals"]["allocations"].as_i64().unwrap()
    );

    // --fail-on-increase: 1 for the regression (named on stderr), 0 for the improvement and for
    // no change, 0 when the threshold allows it.
    let step = dir.0.join("diff-summary.md");
    let (code, _, stderr) = diff(&[b, a], &["--fail-on-increase"], Some(&step));
    assert_eq!(code, Some(1), "{stderr}");
    let line = format!(
        "allocations rose: test tests::grows (ciloop) {grows_before} → {grows_after} (+{delta})"
    );
    assert!(
        stderr.lines().any(|l| l == line),
        "{line}\nnot in:\n{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("allocations rose: total ")),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().last(),
        Some("error: allocations rose (2 increases; --fail-on-increase)")
    );
    let md = std::fs::read_to_string(&step).unwrap();
    assert!(md.contains(&format!("| tests::grows (ciloop) | {grows_before} | {grows_after} | +{delta} | +{bytes_delta} |")), "{md}");
    assert_eq!(diff(&[a, b], &["--fail-on-increase"], None).0, Some(0));
    assert_eq!(diff(&[a, a], &["--fail-on-increase"], None).0, Some(0));
    let allowed = format!("{}", delta - 1);
    let (code, _, stderr) = diff(
        &[b, a],
        &["--fail-on-increase", "--threshold", &allowed],
        None,
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("more than the {allowed} allowed")),
        "{stderr}"
    );
    // 600% of 20 is 120: the test may grow by 101; the total by far more.
    assert_eq!(
        diff(
            &[b, a],
            &["--fail-on-increase", "--threshold", "600%"],
            None
        )
        .0,
        Some(0)
    );
    let (code, _, stderr) = diff(
        &[b, a],
        &["--fail-on-increase", "--threshold", "lots"],
        None,
    );
    assert_eq!(code, Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--threshold lots:"), "{stderr}");
}

/// Reports of different commands or programs are compared, with one line saying so.
/// Each test's peak is the counting allocator's high-water mark over its body, to the byte, with one
/// test thread and with several: it counts the blocks of the test's own thread, so tests running
/// beside it change nothing.
#[test]
fn a_test_peak_is_its_high_water_mark_with_one_thread_or_many() {
    let dir = TempDir::new("ci-loop-peaks");
    for threads in ["1", "3"] {
        let run = profile_tests_with(
            &dir.0,
            &format!("threads-{threads}"),
            &[],
            true,
            &["--no-budgets", "--", "--test-threads", threads],
        );
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        for (test, expected) in [
            ("tests::grows", 1904),
            ("tests::small", 64),
            ("steady::steady", 32),
        ] {
            assert_eq!(run.peak(test), expected, "{test}: the counting allocator");
            assert_eq!(
                run.report_peak(test),
                expected,
                "{test} with {threads} test threads"
            );
        }
    }
}

#[test]
fn diff_of_different_programs_says_so() {
    let dir = TempDir::new("ci-loop-different");
    let save = |run: &crate::support::Run, name: &str| {
        let p = dir.0.join(name);
        std::fs::write(&p, serde_json::to_vec(run.report()).unwrap()).unwrap();
        p
    };
    let within = save(
        &run_json("budgets", &["--bin", "within", "-q"]),
        "within.json",
    );
    let over = save(&run_json("budgets", &["--bin", "over", "-q"]), "over.json");
    let tests = profile_tests(&dir.0, "tests", &[], false);
    let (code, text, _) = diff(&[&within, &over], &[], None);
    assert_eq!(code, Some(0));
    let notes: Vec<&str> = text.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(notes.len(), 1, "{text}");
    assert!(
        notes[0].starts_with(
            "note: the reports are of different programs: `cargo alloc-profile run` of within"
        ),
        "{text}"
    );
    let (_, text, _) = diff(&[&within, &tests.report_path], &[], None);
    assert!(
        text.lines().any(|l| l.starts_with(
            "note: the reports are of different commands: `cargo alloc-profile run` of within"
        ) && l.contains("`cargo alloc-profile test` of tests")),
        "{text}"
    );
    // A run has no tests: every test of the other report is added.
    assert!(text.contains("(added)"), "{text}");
    let (_, json, _) = diff(&[&within, &tests.report_path], &["--format", "json"], None);
    let c: Value = serde_json::from_str(&json).unwrap();
    assert!(c["different"]
        .as_str()
        .unwrap()
        .contains("different commands"));
    assert!(c["tests"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["status"] == "added" && t["before_allocations"].is_null()));
}

/// An invalid budget pattern is one line naming the table and the key, before anything is built.
#[test]
fn an_invalid_pattern_is_one_line_before_building() {
    let dir = TempDir::new("ci-loop-bad-pattern");
    std::fs::create_dir(dir.0.join("src")).unwrap();
    std::fs::write(dir.0.join("src/lib.rs"), "#[test]\nfn t() {}\n").unwrap();
    std::fs::write(
        dir.0.join("Cargo.toml"),
        "[package]\nname = \"bad\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
         [package.metadata.alloc-profile.budget.tests]\n\"tests::\\\\d*\" = { allocations = 3 }\n",
    )
    .unwrap();
    let out = tool()
        .arg("test")
        .arg("--manifest-path")
        .arg(dir.0.join("Cargo.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("[package.metadata.alloc-profile.budget.tests]")
            && stderr.contains(r#""tests::\d*" is not a valid name or pattern"#)
            && stderr.contains(r"`\d` is not a valid escape"),
        "{stderr}"
    );
    assert!(!dir.0.join("target").exists(), "nothing is built");
}
