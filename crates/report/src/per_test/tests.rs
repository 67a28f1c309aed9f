//! Unit tests of the per-test tables, on hand-built profiles.

use super::*;
use alloc_profile_format::symbolized::{Process, Site};

fn frame(function: &str, kind: FrameKind) -> Frame {
    Frame::named(function, kind, "x")
}

/// A profile of one process `/t` with sites given as (frames outermost last, allocations).
fn profile(sites: &[(Vec<Frame>, u64)]) -> Profile {
    let mut p = Profile {
        processes: vec![Process {
            exe: "/t".to_owned(),
            ..Process::default()
        }],
        ..Profile::default()
    };
    for (frames, allocations) in sites {
        let ids = frames
            .iter()
            .map(|f| {
                p.frames.push(f.clone());
                u32::try_from(p.frames.len() - 1).unwrap()
            })
            .collect();
        p.sites.push(Site {
            process: 0,
            frames: ids,
            counters: alloc_profile_format::SiteCounters {
                allocations: *allocations,
                bytes: allocations * 10,
                ..Default::default()
            },
            peak_bytes: 0,
            sizes: Vec::new(),
            flags: 0,
            spawned_at: Vec::new(),
        });
    }
    p
}

fn binary(libtest: bool, outcomes: &[(&str, &str)]) -> TestBinary {
    TestBinary {
        exe: "/t".to_owned(),
        label: "t".to_owned(),
        bench: !libtest,
        libtest,
        names_complete: true,
        outcomes: outcomes
            .iter()
            .map(|(n, o)| ((*n).to_owned(), (*o).to_owned()))
            .collect(),
        exit_ok: Some(true),
        doctests: Vec::new(),
    }
}

#[test]
fn tests_are_found_by_name_and_harness_gets_the_rest() {
    use FrameKind::{Std, Workspace};
    let libtest = frame("test::run_test", Std);
    let p = profile(&[
        (
            vec![
                frame("alloc::vec::Vec<T>::push", Std),
                frame("c::helper", Workspace),
                frame("c::tests::a_very_long_test_name", Workspace),
                frame("c::tests::a_very_long_test_name::{{closure}}", Workspace),
                libtest.clone(),
            ],
            3,
        ),
        (
            vec![frame("c::tests::short", Workspace), libtest.clone()],
            2,
        ),
        (vec![frame("std::thread::spawn", Std), libtest.clone()], 7),
    ]);
    let b = binary(
        true,
        &[
            ("tests::a_very_long_test_name", "passed"),
            ("tests::short", "failed"),
            ("tests::nothing", "passed"),
            ("tests::skipped", "ignored"),
        ],
    );
    let t = analyze_tests(&p, &[b]);
    let got: Vec<(&str, u64, &str)> = t
        .tests
        .iter()
        .map(|t| (t.name.as_str(), t.allocations, t.outcome.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("tests::a_very_long_test_name", 3, "passed"),
            ("tests::short", 2, "failed"),
            ("tests::nothing", 0, "passed"),
            ("tests::skipped", 0, "ignored"),
        ]
    );
    assert_eq!(
        t.zero_allocation_tests,
        [("t".to_owned(), "tests::nothing".to_owned())]
    );
    assert_eq!(t.harness[0].allocations, 7);
    // The views root each site at the same owner.
    let b = binary(
        true,
        &[
            ("tests::a_very_long_test_name", "passed"),
            ("tests::short", "failed"),
        ],
    );
    assert_eq!(
        site_roots(&p, &[b]),
        [
            vec!["tests::a_very_long_test_name"],
            vec!["tests::short"],
            vec!["(test harness)"],
        ]
    );
}

#[test]
fn doctests_are_found_by_their_executable_and_code() {
    use FrameKind::{Dependency, Std, Workspace};
    let lang_start = frame("std::rt::lang_start", Std);
    let mut p = profile(&[
        // A doctest of its own: its body (wrapped by rustdoc) calls the library.
        (
            vec![
                frame("d::boxes", Workspace),
                frame("rust_out::main::_doctest_main_src_lib_rs_3_0", Dependency),
                frame("rust_out::main", Dependency),
                lang_start.clone(),
            ],
            8,
        ),
        // Its start-up.
        (vec![lang_start.clone()], 5),
        // A merged harness: doctest 1's code, its start-up, and the harness starting doctest
        // 0 in a process of its own.
        (
            vec![
                frame("d::boxes", Workspace),
                frame("doctest_bundle_2024::__doctest_1::main", Dependency),
                frame(
                    "doctest_runner_2024::__doctest_1::TEST::{closure#0}",
                    Dependency,
                ),
            ],
            4,
        ),
        (vec![lang_start.clone()], 3),
        (
            vec![
                frame("std::process::Command::output", Std),
                frame(
                    "doctest_runner_2024::__doctest_mod::doctest_runner",
                    Dependency,
                ),
                frame(
                    "doctest_runner_2024::__doctest_0::TEST::{closure#0}",
                    Dependency,
                ),
            ],
            2,
        ),
    ]);
    p.processes.push(Process {
        exe: "/merged".to_owned(),
        ..Process::default()
    });
    for site in &mut p.sites[2..] {
        site.process = 1;
    }
    let names = ["a (line 1)", "b (line 9)", "c (line 5)", "x (line 3)"];
    let b = TestBinary {
        label: "doctests".to_owned(),
        libtest: true,
        names_complete: true,
        outcomes: names
            .iter()
            .map(|n| ((*n).to_owned(), "passed".to_owned()))
            .collect(),
        doctests: vec![
            DoctestExe {
                exe: "/t".to_owned(),
                merged: false,
                names: vec!["x (line 3)".to_owned()],
            },
            DoctestExe {
                exe: "/merged".to_owned(),
                merged: true,
                names: names[..3].iter().map(|n| (*n).to_owned()).collect(),
            },
        ],
        ..TestBinary::default()
    };
    let t = analyze_tests(&p, std::slice::from_ref(&b));
    let got: Vec<(&str, u64)> = t
        .tests
        .iter()
        .map(|t| (t.name.as_str(), t.allocations))
        .collect();
    assert_eq!(
        got,
        [
            ("x (line 3)", 8),
            ("b (line 9)", 4),
            ("a (line 1)", 0),
            ("c (line 5)", 0)
        ]
    );
    assert_eq!(t.harness.len(), 1);
    assert_eq!(
        (t.harness[0].binary.as_str(), t.harness[0].allocations),
        ("doctests", 10)
    );
    // Names not known: the merged doctests count together.
    let mut unknown = b;
    unknown.doctests[1].names.clear();
    unknown.outcomes.truncate(0);
    let t = analyze_tests(&p, &[unknown]);
    let merged = t.tests.iter().find(|t| t.name == MERGED_DOCTESTS).unwrap();
    assert_eq!(
        (merged.allocations, merged.outcome.as_str()),
        (4, "unknown")
    );
}

#[test]
fn benchmarks_are_entered_from_the_harness() {
    use FrameKind::{Dependency, Workspace};
    // criterion_main! generates `main` from criterion's source: a dependency frame of
    // criterion's.
    let criterion = |function: &str| Frame {
        crate_name: Some("criterion".to_owned()),
        ..frame(function, Dependency)
    };
    let p = profile(&[
        (
            vec![
                frame("b::work", Workspace),
                frame("b::bench_parse::{{closure}}", Workspace),
                criterion("criterion::Bencher::iter"),
                frame("b::bench_parse", Workspace),
                criterion("b::main"),
            ],
            4,
        ),
        (
            vec![
                criterion("criterion::stats"),
                frame("b::bench_parse", Workspace),
                criterion("b::main"),
            ],
            100,
        ),
    ]);
    let t = analyze_tests(&p, &[binary(false, &[])]);
    assert_eq!(t.tests.len(), 1);
    // Named as libtest names tests: the path within its crate.
    assert_eq!(t.tests[0].name, "bench_parse");
    assert_eq!(t.tests[0].allocations, 4);
    assert_eq!(t.tests[0].outcome, "passed");
    assert_eq!(t.harness[0].allocations, 100);
    // Without a harness dependency the whole binary is the benchmark.
    let p = profile(&[(vec![frame("b::main", Workspace)], 5)]);
    let t = analyze_tests(&p, &[binary(false, &[])]);
    assert_eq!((t.tests[0].name.as_str(), t.tests[0].allocations), ("t", 5));
    // A binary that ran nothing of yours (libtest refusing a harness's arguments) ran no
    // benchmark: no row named after it, all on the harness line.
    let p = profile(&[(vec![frame("test::test_main", FrameKind::Std)], 143)]);
    let t = analyze_tests(&p, &[binary(false, &[])]);
    assert!(t.tests.is_empty(), "{:?}", t.tests);
    assert_eq!(t.harness[0].allocations, 143);
}
