//! `cargo alloc-profile test`: each test's allocations equal what a counting allocator with
//! thread-local counters saw inside that test's body, whatever the thread count.

use crate::support::{fixture_target_dir, manifest, tool, truth_peaks, truths, TempDir};

pub struct TestRun {
    pub code: Option<i32>,
    pub stderr: String,
    pub report: serde_json::Value,
    pub truths: Vec<(String, u64, u64)>,
    /// Test name → the most bytes its body allocated that were live at once (counting allocator).
    pub peaks: Vec<(String, u64)>,
}

fn run_tests(name: &str, extra: &[&str], env: &[(&str, &str)]) -> TestRun {
    run_tests_of("testsuite", name, extra, env)
}

/// `cargo alloc-profile test` on the fixture `program`, with a JSON report and ground truth.
pub fn run_tests_of(program: &str, name: &str, extra: &[&str], env: &[(&str, &str)]) -> TestRun {
    let tmp = TempDir::new(name);
    let report_path = tmp.0.join("report.json");
    let truth_path = tmp.0.join("truth.txt");
    let mut cmd = tool();
    cmd.arg("test")
        .arg("--manifest-path")
        .arg(manifest(program))
        .arg("--target-dir")
        .arg(fixture_target_dir())
        .args(["--format", "json", "--output"])
        .arg(&report_path)
        .args(extra)
        .env("TRUTH_FILE", &truth_path);
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
        report,
        truths: truths(&truth_text),
        peaks: truth_peaks(&truth_text),
    }
}

pub fn test_entry<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["tests"]
        .as_array()
        .expect("tests array")
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no test {name} in {:#}", report["tests"]))
}

/// Every test's allocations equal its ground truth; a test that spawns a thread also gets the
/// thread's allocations (the truth counts only its own thread).
fn check_against_truth(run: &TestRun) {
    assert!(
        run.truths.len() >= 8,
        "truths: {:?}\n{}",
        run.truths,
        run.stderr
    );
    let mut mismatches = Vec::new();
    for (name, allocations, bytes) in &run.truths {
        let t = test_entry(&run.report, name);
        let got = (
            t["allocations"].as_u64().unwrap(),
            t["bytes"].as_u64().unwrap(),
        );
        let ok = if name == "tests::spawns_a_thread" {
            got.0 > *allocations
        } else {
            got == (*allocations, *bytes)
        };
        if !ok {
            mismatches.push(format!(
                "{name}: profiled {got:?}, truth ({allocations}, {bytes})"
            ));
        }
    }
    // Each test's peak equals the counting allocator's high-water mark over its body (the test
    // that spawns a thread aside: its thread's allocations are not on the counter's thread).
    assert_eq!(run.peaks.len(), run.truths.len(), "{:?}", run.peaks);
    for (name, peak) in &run.peaks {
        let got = test_entry(&run.report, name)["peak_bytes"].as_u64();
        if name != "tests::spawns_a_thread" && got != Some(*peak) {
            mismatches.push(format!("{name}: profiled peak {got:?}, truth {peak}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn per_test_counts_in_parallel() {
    let run = run_tests("tests-parallel", &[], &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    check_against_truth(&run);
    let r = &run.report;
    let zero: Vec<&str> = r["zero_allocation_tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(zero.contains(&"tests::allocates_nothing"), "{zero:?}");
    assert!(zero.contains(&"integration_zero"), "{zero:?}");
    assert!(!zero.contains(&"tests::parses_small"));
    // Two names longer than 15 bytes that share their first 15 stay apart.
    let long = test_entry(
        r,
        "tests::a_test_with_a_name_much_longer_than_fifteen_bytes",
    );
    let longer = test_entry(
        r,
        "tests::a_test_with_a_name_much_longer_than_fifteen_bytes_too",
    );
    assert_eq!(
        (long["allocations"].as_u64(), longer["allocations"].as_u64()),
        (Some(106), Some(1))
    );
    assert_eq!(test_entry(r, "round_trip")["binary"], "round_trip");
    assert_eq!(test_entry(r, "tests::parses_small")["binary"], "testsuite");
    assert_eq!(test_entry(r, "tests::ignored_test")["outcome"], "ignored");
    assert_eq!(test_entry(r, "tests::ignored_test")["allocations"], 0);
    // libtest's own bookkeeping is kept apart.
    let harness = r["harness"].as_array().unwrap();
    assert!(
        harness.iter().all(|h| h["allocations"].as_u64() > Some(0)),
        "{harness:?}"
    );
    // Its library has no doctest: rustdoc ran nothing, and the report says nothing of doctests
    // (it once said they were not profiled).
    assert!(
        !r["notes"].to_string().contains("doctest"),
        "{:#}",
        r["notes"]
    );
    assert!(!test_names(r).iter().any(|n| n.contains("(line ")));
}

#[test]
fn per_test_counts_on_one_thread() {
    let run = run_tests("tests-serial", &["--", "--test-threads=1"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    check_against_truth(&run);
}

#[test]
fn failing_test_keeps_cargos_status_and_is_reported() {
    let run = run_tests(
        "tests-failing",
        &["--no-fail-fast"],
        &[("TESTSUITE_FAIL", "1")],
    );
    assert_eq!(run.code, Some(101), "{}", run.stderr);
    check_against_truth(&run);
    assert_eq!(test_entry(&run.report, "tests::fails")["outcome"], "failed");
    assert_eq!(
        test_entry(&run.report, "tests::parses_small")["outcome"],
        "passed"
    );
    // The integration tests still ran (--no-fail-fast).
    assert_eq!(test_entry(&run.report, "round_trip")["outcome"], "passed");
}

#[test]
fn a_name_filter_profiles_only_the_selected_tests() {
    let run = run_tests("tests-filter", &["--lib", "parses_small"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(test_names(&run.report), ["tests::parses_small"]);
    check_against_truth_subset(&run);

    let run = run_tests(
        "tests-pattern",
        &["--test", "round_trip", "--", "round"],
        &[],
    );
    assert_eq!(test_names(&run.report), ["round_trip"]);
}

/// The names in the report's `tests` array, in its order.
pub fn test_names(report: &serde_json::Value) -> Vec<&str> {
    report["tests"]
        .as_array()
        .expect("tests array")
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect()
}

fn check_against_truth_subset(run: &TestRun) {
    for (name, allocations, _) in &run.truths {
        assert_eq!(
            test_entry(&run.report, name)["allocations"],
            *allocations,
            "{name}"
        );
    }
}

#[test]
fn benchmarks_are_named_by_their_function() {
    let tmp = TempDir::new("bench");
    let report_path = tmp.0.join("report.json");
    let out = tool()
        .arg("bench")
        .arg("--manifest-path")
        .arg(manifest("testsuite"))
        .arg("--target-dir")
        .arg(fixture_target_dir())
        .args([
            "--bench", "parse", "--bench", "plain", "--format", "json", "--output",
        ])
        .arg(&report_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    // Named as libtest names tests: the path within the bench target's crate.
    let words = test_entry(&report, "bench_words");
    let n = words["allocations"].as_u64().unwrap();
    // Each call of the routine, `words("a bb ccc dddd")`, makes one Vec (4 × 24 bytes) and four
    // Strings (1 + 2 + 3 + 4 bytes): every allocation counted for the benchmark is one of these,
    // none of the harness's own statistics.
    assert!(n > 0 && n % 5 == 0, "{n}");
    assert_eq!(words["bytes"].as_u64(), Some(n / 5 * 106), "{words}");
    let checksum = test_entry(&report, "bench_checksum");
    assert_eq!(checksum["allocations"], 0);
    assert_eq!(checksum["binary"], "parse");
    // A benchmark's input, allocated by its function before Criterion runs the routine, is that
    // benchmark's; `criterion_group!`'s function (`benches`), which calls each benchmark's, is
    // no benchmark.
    let setup = test_entry(&report, "bench_setup");
    assert_eq!(
        (setup["allocations"].as_u64(), setup["bytes"].as_u64()),
        (Some(1), Some(64)),
        "{setup}"
    );
    let names: Vec<&str> = report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(!names.contains(&"benches"), "{names:?}");
    let harness = report["harness"].as_array().unwrap();
    let parse_harness = harness.iter().find(|h| h["binary"] == "parse").unwrap();
    // Criterion's statistics (bootstrap resampling) allocate far more than this, however many
    // iterations the routine got (that depends on the machine's speed; the statistics do not).
    assert!(
        parse_harness["allocations"].as_u64() > Some(10_000),
        "Criterion's statistics: {parse_harness}"
    );
    // Criterion's own work under the function that registers the benchmark (its statistics,
    // the benchmark's id) is the harness's, not that function's own body: the routine's
    // allocations are `testsuite::words`'.
    let registering = crate::support::function(&report, "parse::bench_words").unwrap();
    assert_eq!(registering["self_allocations"], 0, "{registering}");
    // A harness = false bench without a harness crate is one benchmark.
    let plain = test_entry(&report, "plain");
    assert!(plain["allocations"].as_u64() >= Some(3000), "{plain}");
    // Criterion asked cargo for the target directory: cargo must not have been profiled.
    let modules = report["modules"].to_string();
    assert!(
        !modules.contains("cargo::"),
        "cargo was profiled: {modules}"
    );
}

#[test]
fn nextest_runs_each_test_in_its_own_process() {
    let installed = std::process::Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let tmp = TempDir::new("nextest");
    let report_path = tmp.0.join("report.json");
    let truth_path = tmp.0.join("truth.txt");
    let out = tool()
        .arg("nextest")
        .arg("--manifest-path")
        .arg(manifest("testsuite"))
        .arg("--target-dir")
        .arg(fixture_target_dir())
        .args(["--format", "json", "--output"])
        .arg(&report_path)
        .env("TRUTH_FILE", &truth_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !installed {
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("cargo-nextest is not installed"),
            "{stderr}"
        );
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let run = TestRun {
        code: out.status.code(),
        stderr: stderr.into_owned(),
        report,
        truths: truths(&std::fs::read_to_string(&truth_path).unwrap()),
        peaks: truth_peaks(&std::fs::read_to_string(&truth_path).unwrap()),
    };
    check_against_truth(&run);
    assert!(
        run.report["processes"].as_array().unwrap().len() >= 9,
        "one process per test"
    );
}

/// Issue 10, item 5: libtest prints `test tests::x - should panic ... ok`; the test is
/// `tests::x`, with its allocations (the panic's own included, as the counting allocator sees
/// them) and outcome `passed`.
#[test]
fn should_panic_tests_are_tests_with_their_allocations() {
    // No backtrace is captured by the panics (it would allocate a lot, the same in both counts).
    let env = [("RUST_BACKTRACE", "0")];
    let run = run_tests_of(
        "doctests",
        "should-panic",
        &["-p", "doctests", "--lib"],
        &env,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let r = &run.report;
    assert_eq!(
        test_names(r)
            .into_iter()
            .filter(|n| n.contains(" - "))
            .collect::<Vec<_>>(),
        Vec::<&str>::new(),
        "libtest's mode is not part of a name"
    );
    check_truths_exactly(&run, 3);
    for name in [
        "tests::panics_after_allocating",
        "tests::panics_without_allocating",
    ] {
        assert_eq!(test_entry(r, name)["outcome"], "passed", "{name}");
    }
    // Five boxes and their vector, then the panic's own allocations.
    let after = test_entry(r, "tests::panics_after_allocating");
    assert!(after["allocations"].as_u64() > Some(6), "{after}");
    let ignored = test_entry(r, "tests::ignored_with_a_reason");
    assert_eq!(
        (&ignored["outcome"], &ignored["allocations"]),
        (&"ignored".into(), &0.into())
    );
    assert_eq!(
        r["zero_allocation_tests"],
        serde_json::json!([]),
        "every test that ran allocated"
    );

    // Terse output names no passing test: the tests are found on the stacks, with the same counts.
    let run = run_tests_of(
        "doctests",
        "should-panic-terse",
        &["-p", "doctests", "--lib", "--", "--format", "terse"],
        &env,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    check_truths_exactly(&run, 3);
    assert_eq!(
        test_entry(&run.report, "tests::panics_after_allocating")["outcome"],
        "unknown"
    );
}

/// Every truth line has a test of that name with exactly its allocations and bytes; at least
/// `min` truths were written.
fn check_truths_exactly(run: &TestRun, min: usize) {
    assert!(
        run.truths.len() >= min,
        "truths: {:?}\n{}",
        run.truths,
        run.stderr
    );
    let mismatches: Vec<String> = run
        .truths
        .iter()
        .filter_map(|(name, allocations, bytes)| {
            let t = test_entry(&run.report, name);
            let got = (
                t["allocations"].as_u64().unwrap(),
                t["bytes"].as_u64().unwrap(),
            );
            (got != (*allocations, *bytes))
                .then(|| format!("{name}: profiled {got:?}, truth ({allocations}, {bytes})"))
        })
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn divan_benchmarks_get_one_row_each() {
    let tmp = TempDir::new("divan");
    let report_path = tmp.0.join("report.json");
    let out = tool()
        .arg("bench")
        .arg("--manifest-path")
        .arg(manifest("testsuite"))
        .arg("--target-dir")
        .arg(fixture_target_dir())
        .args(["--bench", "words_divan", "--format", "json", "--output"])
        .arg(&report_path)
        .args(["--", "--sample-count", "5", "--sample-size", "5"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    // A call of `split_words` makes a Vec of 4 Strings' room regrown to 8 (96 + 192 bytes) and
    // five one-byte Strings: 7 allocations, 293 bytes; nothing of divan's own is in the row.
    let split = test_entry(&report, "split_words");
    let n = split["allocations"].as_u64().unwrap();
    assert!(n > 0 && n % 7 == 0, "{split}");
    assert_eq!(split["bytes"].as_u64(), Some(n / 7 * 293), "{split}");
    assert_eq!(split["binary"], "words_divan");
    // `args = [1, 2]`: one row for the function, one `vec![0; n]` a call, as many calls of each.
    let small = test_entry(&report, "parsing::small");
    let m = small["allocations"].as_u64().unwrap();
    assert!(m > 0 && m % 2 == 0, "{small}");
    assert_eq!(small["bytes"].as_u64(), Some(m / 2 * 3), "{small}");
    // A benchmark that never allocates is listed, and among the zero-allocation benchmarks.
    let sum = test_entry(&report, "sum_numbers");
    assert_eq!(sum["allocations"], 0);
    let zero = report["zero_allocation_tests"].to_string();
    assert!(zero.contains("sum_numbers"), "{zero}");
    // No row for divan's macro glue or for the binary as a whole; divan's calibration and
    // statistics are the harness line.
    for t in report["tests"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        assert!(!name.contains("__DIVAN") && name != "words_divan", "{t}");
    }
    let harness = report["harness"].as_array().unwrap();
    assert!(
        harness
            .iter()
            .any(|h| h["binary"] == "words_divan" && h["allocations"].as_u64() > Some(0)),
        "{harness:?}"
    );
}
