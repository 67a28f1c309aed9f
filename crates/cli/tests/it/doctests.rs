//! `cargo alloc-profile test` on doctests: every doctest that ran is a row named as rustdoc names
//! it, also when rustdoc merges them into one harness (edition 2024).

use crate::test_cmd::{run_tests_of, test_entry, test_names};

/// Issue 10, item 4: every doctest that ran is a row named as rustdoc names it, with what its
/// process allocated inside its `main`; doctests that are only compiled are no row; nothing says
/// a module could not be read.
#[test]
fn doctests_are_rows_named_as_rustdoc_names_them() {
    let env = [("RUST_BACKTRACE", "0")];
    let run = run_tests_of("doctests", "doctests", &["-p", "doctests", "--doc"], &env);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let r = &run.report;
    let notes = r["notes"].to_string();
    assert!(!notes.contains("cannot read module"), "{notes}");
    assert!(!notes.contains("not profiled"), "{notes}");
    // One (known) doctest defines `main`: matched by elimination, so nothing is lumped together.
    assert!(!notes.contains("doctest"), "{notes}");
    let names = test_names(r);
    let doctest = |item: &str| {
        let prefix = format!("src/lib.rs - {item} (line ");
        let found: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| n.starts_with(&prefix))
            .collect();
        assert_eq!(found.len(), 1, "{item}: {names:?}");
        test_entry(r, found[0])
    };
    // Seven boxes of 8 bytes and their vector, as the doctest says.
    let boxes = doctest("boxes");
    assert_eq!(
        (&boxes["allocations"], &boxes["bytes"], &boxes["outcome"]),
        (&8.into(), &112.into(), &"passed".into()),
        "{boxes}"
    );
    assert_eq!(boxes["binary"], "(doctests)");
    // The counting allocator inside each doctest (the library's) agrees on every one of them.
    let truth = |key: &str| {
        run.truths
            .iter()
            .find(|(n, _, _)| n == key)
            .map(|&(_, a, b)| (a, b))
            .unwrap_or_else(|| panic!("no truth {key}: {:?}", run.truths))
    };
    for (item, key) in [
        ("boxes", "doctest:boxes"),
        ("checksum", "doctest:checksum"),
        ("ensure", "doctest:ensure"),
        ("own_main", "doctest:own_main"),
    ] {
        let t = doctest(item);
        assert_eq!(
            (
                t["allocations"].as_u64().unwrap(),
                t["bytes"].as_u64().unwrap()
            ),
            truth(key),
            "{item}"
        );
    }
    // should_panic: passed (its process failed, as it should), with the panic's allocations.
    let ensure = doctest("ensure");
    assert_eq!(ensure["outcome"], "passed");
    assert!(ensure["allocations"].as_u64() > Some(4), "{ensure}");
    let zero: Vec<&str> = r["zero_allocation_tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(zero, [doctest("checksum")["name"].as_str().unwrap()]);
    // `no_run` and `compile_fail` ran nothing: no rows; the ignored one is listed as ignored.
    let not_run = doctest("not_run");
    assert_eq!(not_run["outcome"], "ignored");
    assert_eq!(names.len(), 5, "{names:?}");
    // Each doctest's start-up is the harness's, not the doctest's.
    let harness = r["harness"].as_array().unwrap();
    let doctests_harness = harness.iter().find(|h| h["binary"] == "(doctests)");
    assert!(
        doctests_harness.is_some_and(|h| h["allocations"].as_u64() > Some(0)),
        "{harness:?}"
    );

    // A failing doctest fails.
    let failing = [("RUST_BACKTRACE", "0"), ("DOCTESTS_FAIL", "1")];
    let run = run_tests_of(
        "doctests",
        "doctests-failing",
        &["-p", "doctests", "--doc"],
        &failing,
    );
    assert_eq!(run.code, Some(101), "{}", run.stderr);
    let checksum = test_names(&run.report)
        .into_iter()
        .find(|n| n.starts_with("src/lib.rs - checksum (line "))
        .unwrap();
    assert_eq!(test_entry(&run.report, checksum)["outcome"], "failed");

    // Terse output names none of them: each is named by its file and line instead, same counts.
    let run = run_tests_of(
        "doctests",
        "doctests-terse",
        &["-p", "doctests", "--doc", "--", "--format", "terse"],
        &env,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let line = |name: &str| {
        name.rsplit_once("(line ")
            .unwrap()
            .1
            .trim_end_matches(')')
            .to_owned()
    };
    let boxes_terse = test_entry(
        &run.report,
        &format!(
            "doctest at src/lib.rs:{}",
            line(boxes["name"].as_str().unwrap())
        ),
    );
    assert_eq!(
        (&boxes_terse["allocations"], &boxes_terse["bytes"]),
        (&8.into(), &112.into())
    );
}

/// Issue 10, item 4, edition 2024: rustdoc merges the doctests into one harness that numbers them
/// by name; each doctest's row still has its own allocations, whether each ran in a process of
/// its own (as under plain cargo) or in the harness's.
#[test]
fn merged_doctests_are_told_apart() {
    let env = [("RUST_BACKTRACE", "0")];
    for extra in [&[][..], &["--no-follow-children"][..]] {
        let mut args = vec!["-p", "doctests-merged", "--doc"];
        args.extend_from_slice(extra);
        let run = run_tests_of("doctests", "merged", &args, &env);
        assert_eq!(run.code, Some(0), "{extra:?}: {}", run.stderr);
        let r = &run.report;
        assert!(
            !run.stderr.contains("WARNING") || !extra.is_empty(),
            "rustdoc's own setting was given: {}",
            run.stderr
        );
        let mut rows: Vec<(String, u64, u64, String)> = r["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap().to_owned(),
                    t["allocations"].as_u64().unwrap(),
                    t["bytes"].as_u64().unwrap(),
                    t["outcome"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        rows.sort();
        let truth = |key: &str| {
            run.truths
                .iter()
                .find(|(n, _, _)| n == key)
                .map(|&(_, a, b)| (a, b))
                .unwrap_or_else(|| panic!("no truth {key}: {:?}", run.truths))
        };
        let expect: Vec<(String, u64, u64, String)> = [
            ("alpha (line 14)", "merged:alpha"),
            ("middle (line 22)", "merged:middle"),
            ("zeta (line 6)", "merged:zeta"),
        ]
        .iter()
        .map(|(name, key)| {
            let (a, b) = truth(key);
            (
                format!("merged/src/lib.rs - {name}"),
                a,
                b,
                "passed".to_owned(),
            )
        })
        .collect();
        assert_eq!(rows, expect, "{extra:?}");
        // Five allocations in `zeta`, written first but numbered last.
        assert_eq!((rows[2].1, rows[2].2), (5, 64));
    }
    // A name filter leaves the numbers unknown: the doctests that ran are counted together.
    let run = run_tests_of(
        "doctests",
        "merged-filter",
        &["-p", "doctests-merged", "--doc", "--", "zeta"],
        &env,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let merged = test_entry(&run.report, "(merged doctests)");
    assert_eq!(
        (&merged["allocations"], &merged["bytes"]),
        (&5.into(), &64.into())
    );
    assert!(run.report["notes"].to_string().contains("a name filter"));
}
