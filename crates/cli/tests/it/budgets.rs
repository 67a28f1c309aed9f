//! Allocation budgets in `Cargo.toml` (`tests/programs/budgets`): a limit kept, a limit exceeded
//! (exit status 1 although the program succeeded, one line on stderr, the report's `budgets`),
//! `--no-budgets`, test budgets under `cargo alloc-profile test`, and a mistake in a budget (one
//! line naming the table and key, before anything is built).

use serde_json::Value;

use crate::support::{fixture_target_dir, manifest, run_json, tool, truths, TempDir};

/// The `budgets` entries of a report for `name` (`null` for the run) and `metric`.
fn checks<'a>(report: &'a Value, name: Option<&str>, metric: &str) -> Vec<&'a Value> {
    report["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["name"].as_str() == name && b["metric"] == metric)
        .collect()
}

fn truth(stdout: &str, name: &str) -> u64 {
    truths(stdout)
        .into_iter()
        .find(|t| t.0 == name)
        .unwrap_or_else(|| panic!("no TRUTH for {name}"))
        .1
}

#[test]
fn kept_budgets_pass_and_unknown_functions_are_not_checked() {
    let run = run_json("budgets", &["--bin", "within"]);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert!(!run.stderr().contains("exceeded"), "{}", run.stderr());
    let report = run.report();
    let small = checks(report, Some("budgets::small"), "allocations");
    assert_eq!(small.len(), 1, "{}", report["budgets"]);
    assert_eq!(small[0]["result"], "within");
    assert_eq!(small[0]["actual"], truth(&run.stdout(), "budgets::small"));
    assert_eq!(small[0]["limit"], 10);
    // `big` is defined but never called here: 0 allocations, within.
    let big = checks(report, Some("budgets::big"), "allocations");
    assert_eq!(big[0]["result"], "within", "{}", report["budgets"]);
    assert_eq!(big[0]["actual"], 0);
    // A name no program defines: nothing to check, and no failure.
    let typo = checks(report, Some("budgets::no_such_function"), "allocations");
    assert_eq!(typo[0]["result"], "not-checked", "{}", report["budgets"]);
    assert!(typo[0]["actual"].is_null());
    assert_eq!(typo[0]["reason"], "no such function was profiled");
    let whole = checks(report, None, "allocations");
    assert_eq!(whole[0]["scope"], "run");
    assert_eq!(whole[0]["result"], "within");
    assert_eq!(whole[0]["actual"], report["totals"]["allocations"]);
    // Test budgets are for test runs.
    assert!(report["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["scope"] != "test"));
}

#[test]
fn an_exceeded_budget_fails_the_run_with_one_line() {
    let run = run_json("budgets", &["--bin", "over"]);
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    assert!(run.stdout().contains("made 9 and 1000"), "{}", run.stdout());
    assert_eq!(
        run.stderr().trim_end().lines().last(),
        Some(
            "error: 1 allocation budget limit in Cargo.toml exceeded (the report's Budgets \
             section says which)"
        ),
        "{}",
        run.stderr()
    );
    let report = run.report();
    let big = checks(report, Some("budgets::big"), "allocations");
    assert_eq!(big[0]["result"], "exceeded");
    assert_eq!(big[0]["actual"], truth(&run.stdout(), "budgets::big"));
    assert!(big[0]["source"]
        .as_str()
        .unwrap()
        .ends_with("budgets/Cargo.toml"));
    let small_bytes = checks(report, Some("budgets::small"), "bytes");
    assert_eq!(small_bytes[0]["result"], "within");
    assert_eq!(small_bytes[0]["limit"], 1024);
}

#[test]
fn no_budgets_skips_the_check() {
    let run = run_json("budgets", &["--bin", "over", "--no-budgets"]);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert_eq!(run.report()["budgets"], serde_json::json!([]));
}

#[test]
fn test_budgets_are_checked_per_test() {
    let tmp = TempDir::new("budgets-test");
    let report_path = tmp.0.join("report.json");
    let out = tool()
        .arg("test")
        .arg("--manifest-path")
        .arg(manifest("budgets"))
        .arg("--target-dir")
        .arg(fixture_target_dir())
        .args(["--lib", "--format", "json", "--output"])
        .arg(&report_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let big = checks(&report, Some("tests::big_test"), "allocations");
    assert_eq!(big.len(), 1, "{}", report["budgets"]);
    assert_eq!(big[0]["result"], "exceeded");
    assert_eq!(big[0]["actual"], 1001);
    assert_eq!(big[0]["binary"], "budgets");
    let small = checks(&report, Some("tests::small_test"), "allocations");
    assert_eq!(small[0]["result"], "within");
    assert_eq!(small[0]["actual"], 10);
    // The run budget is for `run`: not part of a test run's checks.
    assert!(checks(&report, None, "allocations").is_empty());
}

#[test]
fn a_mistake_in_a_budget_is_one_line_before_building() {
    let dir = TempDir::new("budgets-bad");
    std::fs::create_dir(dir.0.join("src")).unwrap();
    std::fs::write(dir.0.join("src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(
        dir.0.join("Cargo.toml"),
        "[package]\nname = \"bad\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
         [package.metadata.alloc-profile.budget.functions]\n\"bad::main\" = { allocs = 3 }\n",
    )
    .unwrap();
    let out = tool()
        .arg("run")
        .arg("--manifest-path")
        .arg(dir.0.join("Cargo.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("[package.metadata.alloc-profile.budget.functions]")
            && stderr.contains("\"bad::main\"")
            && stderr.contains("`allocs` is not a budget key here"),
        "{stderr}"
    );
    assert!(!dir.0.join("target").exists(), "nothing is built");
}
