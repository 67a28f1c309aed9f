//! Blame on threads that pools, scopes and spawns run, on C library calls made through std, and
//! on std's own panic machinery, against the fixture's counting global allocator
//! (`tests/programs/pools`).

use crate::support::{fixture_target_dir, function, manifest, run_json, tool, truths, TempDir};

fn truth<'a>(truths: &'a [(String, u64, u64)], name: &str) -> &'a (String, u64, u64) {
    truths
        .iter()
        .find(|t| t.0 == name)
        .unwrap_or_else(|| panic!("the fixture printed no truth for {name}"))
}

fn totals(report: &serde_json::Value, name: &str) -> (u64, u64) {
    let f = function(report, name).unwrap_or_else(|| panic!("{name} is not in the report"));
    (
        f["total_allocations"].as_u64().unwrap(),
        f["total_bytes"].as_u64().unwrap(),
    )
}

#[test]
fn pools_scopes_and_spawned_threads_match_the_counting_allocator() {
    let run = run_json("pools", &["-q"]);
    assert_eq!(run.code(), Some(0), "stderr:\n{}", run.stderr());
    let report = run.report();
    let truths = truths(&run.stdout());
    // Threads the workspace spawns and joins: exact, allocations and bytes.
    // And threads a dependency spawns and joins inside the call (`ignore`'s walker): its own
    // work on them counts for the call too.
    for name in ["pools::scoped", "pools::spawned", "pools::walk"] {
        let t = truth(&truths, name);
        assert_eq!(totals(report, name), (t.1, t.2), "{name}");
    }
    // `doubled_len` runs on the pool `shout` started: its jobs are its own, not `shout`'s.
    let t = truth(&truths, "pools::doubled_len");
    assert_eq!(totals(report, "pools::doubled_len"), (t.1, t.2));
    // The first user of a pool, and tokio tasks: exact but for the pool's own bookkeeping on its
    // threads (starting the workers), which is the dependency's.
    for name in ["pools::shout", "pools::tasks"] {
        let t = truth(&truths, name);
        let (allocations, _) = totals(report, name);
        assert!(
            allocations <= t.1 && (t.1 - allocations) * 200 <= t.1,
            "{name}: profiled {allocations}, counting allocator {} (within 0.5% below)",
            t.1
        );
    }
    // `read_dir`'s `opendir` buffer is glibc's malloc for the caller: DHAT counts it for `list`,
    // and so do we (one allocation of at least 32 KiB more than Rust's allocator saw).
    let t = truth(&truths, "pools::list");
    let (allocations, bytes) = totals(report, "pools::list");
    assert_eq!(
        allocations,
        t.1 + 1,
        "list: the opendir buffer counts for it"
    );
    assert!(
        bytes >= t.2 + 32 * 1024,
        "list: {bytes} bytes, truth {}",
        t.2
    );
    // `main` called them all: its total holds theirs, pool jobs included (a job of
    // `doubled_len`, which never allocates on `main`'s thread, continues with `main`, which ran
    // around it).
    let children: u64 = [
        "pools::shout",
        "pools::doubled_len",
        "pools::scoped",
        "pools::spawned",
        "pools::tasks",
        "pools::list",
    ]
    .iter()
    .map(|name| totals(report, name).0)
    .sum();
    let (main_total, _) = totals(report, "pools::main");
    assert!(
        main_total >= children,
        "main's total {main_total} < its callees' {children}"
    );
    // A pool's own work is the dependency's; no module is named after a type.
    let modules = report["modules"].as_array().unwrap();
    assert!(
        modules
            .iter()
            .any(|m| m["name"].as_str().unwrap().starts_with("rayon_core")
                && m["kind"] == "dependency"),
        "{modules:#?}"
    );
}

#[test]
fn a_panic_backtrace_is_std_and_a_macro_written_test_is_yours() {
    let tmp = TempDir::new("pools-panic");
    let report_path = tmp.0.join("report.json");
    let output = tool()
        .args(["test", "--manifest-path"])
        .arg(manifest("pools"))
        .arg("--target-dir")
        .arg(fixture_target_dir())
        .args([
            "--lib",
            "--test",
            "macro_written",
            "--no-fail-fast",
            "--format",
            "json",
            "-o",
        ])
        .arg(&report_path)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(101), "the test fails:\n{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    // std's backtrace symbolizer (its vendored gimli, addr2line, rustc-demangle) ran, and the
    // report counts what it made apart.
    assert!(report["totals"]["allocations"].as_u64().unwrap() > 1_000);
    assert!(report["totals"]["panic_allocations"].as_u64().unwrap() > 1_000);
    for m in report["modules"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        assert!(
            m["kind"] != "dependency",
            "the fixture's dependencies do not run in its test, yet: {m}"
        );
        assert!(
            !name.contains("gimli") && !name.contains("addr2line"),
            "{m}"
        );
    }
    let test = report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "tests::panics_with_a_backtrace")
        .unwrap_or_else(|| panic!("{:#?}", report["tests"]));
    assert_eq!(test["outcome"], "failed");
    // A test a dependency's `macro_rules!` wrote (its lines are in `macrodep`, as `quickcheck!`'s
    // are in quickcheck) is the workspace's test: 6 boxes and their `Vec`.
    let by_macro = report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "tests::written_by_a_macro")
        .unwrap_or_else(|| panic!("{:#?}", report["tests"]));
    assert_eq!(
        (&by_macro["allocations"], &by_macro["outcome"]),
        (&7.into(), &"passed".into())
    );
    // The same in an integration test, a crate named after its file, not after the package.
    let in_target = report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "in_an_integration_test")
        .unwrap_or_else(|| panic!("{:#?}", report["tests"]));
    assert_eq!(
        (&in_target["allocations"], &in_target["binary"]),
        (&4.into(), &"macro_written".into())
    );
    // The backtrace cache std keeps until exit is the runtime's, not a leak of the test.
    for leak in report["leaks"].as_array().into_iter().flatten() {
        assert_ne!(leak["kind"], "workspace", "{leak}");
    }
    // And the hot spots do not charge the panic to the test function's own body.
    if let Some(f) = function(&report, "pools::tests::panics_with_a_backtrace") {
        assert!(f["self_allocations"].as_u64().unwrap() < 10, "{f}");
    }
}
