//! The views of the stacks (folded, flame graph) against the analysis they must agree with, and
//! their golden files in `tests/golden-views/` (`BLESS=1` rewrites them).

use std::collections::BTreeSet;
use std::path::PathBuf;

use alloc_profile_format::symbolized::function_key;
use alloc_profile_report::render::dhat::write_dhat;
use alloc_profile_report::render::flamegraph::write_flamegraph;
use alloc_profile_report::render::folded::{folded_lines, stacks, write_folded, Weight};
use alloc_profile_report::{analyze, Inputs};

use crate::fixtures::fixtures;
use crate::support::{dep, rust_alloc, ws, ProfileBuilder};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden-views")
}

fn check(name: &str, actual: &str, failures: &mut Vec<String>) {
    let path = golden_dir().join(name);
    if std::env::var_os("BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    match std::fs::read_to_string(&path) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => failures.push(format!(
            "{} differs (BLESS=1 to update):\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        )),
        Err(e) => failures.push(format!("{}: {e} (BLESS=1 to create)", path.display())),
    }
}

/// The weight of each line, and the functions on it.
fn parse(lines: &[String]) -> Vec<(BTreeSet<String>, u64)> {
    lines
        .iter()
        .map(|line| {
            let (stack, count) = line.rsplit_once(' ').unwrap();
            let functions = stack.split(';').map(function_key).collect();
            (functions, count.parse().unwrap())
        })
        .collect()
}

#[test]
fn folded_stacks_show_the_reports_numbers() {
    for fixture in fixtures() {
        let analysis = analyze(&fixture.profile, &Inputs::default());
        let s = stacks(&fixture.profile, &[]);
        let name = fixture.name;
        for (weight, total, leaked) in [
            (Weight::Allocations, analysis.totals.allocations, false),
            (Weight::Bytes, analysis.totals.bytes, false),
            (
                Weight::LiveAllocations,
                analysis.totals.leaked_allocations,
                true,
            ),
            (Weight::LiveBytes, analysis.totals.leaked_bytes, true),
        ] {
            let lines = parse(&folded_lines(&s, weight));
            assert_eq!(
                lines.iter().map(|l| l.1).sum::<u64>(),
                total,
                "{name}: {weight:?} in all"
            );
            if leaked {
                continue;
            }
            // Every function's total is the weight of the stacks it is on, once per stack.
            for f in analysis.functions.iter().filter(|f| f.workspace) {
                let on_stacks: u64 = lines
                    .iter()
                    .filter(|l| l.0.contains(&f.name))
                    .map(|l| l.1)
                    .sum();
                let expected = match weight {
                    Weight::Allocations => f.total_allocations,
                    _ => f.total_bytes,
                };
                assert_eq!(on_stacks, expected, "{name}: {weight:?} of {}", f.name);
            }
        }
    }
}

#[test]
fn golden_folded_and_flamegraphs() {
    let mut failures = Vec::new();
    // `demo_color` is `demo` with other text options.
    for fixture in fixtures().into_iter().filter(|f| f.name != "demo_color") {
        let s = stacks(&fixture.profile, &[]);
        for (weight, suffix) in [(Weight::Allocations, ""), (Weight::Bytes, ".bytes")] {
            let mut folded = Vec::new();
            write_folded(&mut folded, &s, weight).unwrap();
            let folded = String::from_utf8(folded).unwrap();
            assert!(
                folded.lines().all(|l| l.matches(' ').count() >= 1),
                "{}",
                fixture.name
            );
            check(
                &format!("{}{suffix}.folded", fixture.name),
                &folded,
                &mut failures,
            );
        }
        let mut dhat = Vec::new();
        write_dhat(&mut dhat, &fixture.profile, &s, &fixture.context).unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&dhat).unwrap();
        let analysis = analyze(&fixture.profile, &Inputs::default());
        let pps = parsed["pps"].as_array().unwrap();
        let sum = |key: &str| pps.iter().map(|p| p[key].as_u64().unwrap()).sum::<u64>();
        assert_eq!(sum("tbk"), analysis.totals.allocations, "{}", fixture.name);
        assert_eq!(sum("tb"), analysis.totals.bytes, "{}", fixture.name);
        assert_eq!(
            sum("ebk"),
            analysis.totals.leaked_allocations,
            "{}",
            fixture.name
        );
        assert_eq!(parsed["ftbl"][0], "[root]");
        let lists: BTreeSet<String> = pps.iter().map(|p| p["fs"].to_string()).collect();
        assert_eq!(
            lists.len(),
            pps.len(),
            "{}: a repeated frame list",
            fixture.name
        );
        check(
            &format!("{}.dhat.json", fixture.name),
            &String::from_utf8(dhat).unwrap(),
            &mut failures,
        );
        let title = fixture.context.command.join(" ");
        let mut svg = Vec::new();
        match write_flamegraph(&mut svg, &s, Weight::Allocations, &title) {
            Ok(()) => {
                let mut again = Vec::new();
                write_flamegraph(&mut again, &s, Weight::Allocations, &title).unwrap();
                assert!(again == svg, "{}: the same SVG twice", fixture.name);
                let svg = String::from_utf8(svg).unwrap();
                assert!(svg.contains("allocations"), "{}", fixture.name);
                check(&format!("{}.svg", fixture.name), &svg, &mut failures);
            }
            Err(e) => {
                assert_eq!(
                    analyze(&fixture.profile, &Inputs::default())
                        .totals
                        .allocations,
                    0,
                    "{e}"
                );
                assert!(e.to_string().contains("nothing to draw"), "{e}");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// In a benchmark binary the views use the tables' blame (the harness's own work is no
/// function's, attribute rule 5) and root each stack at its benchmark.
#[test]
fn benchmark_stacks_use_the_tables_blame() {
    use alloc_profile_report::render::folded::test_stacks;
    use alloc_profile_report::TestBinary;
    const FILE: &str = "/work/b/benches/b.rs";
    let mut b = ProfileBuilder::new();
    b.profile.processes[0].exe = "/work/b/target/release/deps/b-0123456789abcdef".to_owned();
    let main = dep("criterion", "b::main");
    b.site(
        &[
            rust_alloc(),
            ws("b::work", FILE, 3),
            ws("b::bench_parse::{{closure}}", FILE, 8),
            dep("criterion", "criterion::Bencher::iter"),
            ws("b::bench_parse", FILE, 8),
            main.clone(),
        ],
        40,
        400,
    );
    b.site(
        &[
            rust_alloc(),
            dep("criterion", "criterion::stats::bootstrap"),
            ws("b::bench_parse", FILE, 8),
            main.clone(),
        ],
        7,
        70,
    );
    let profile = b.build();
    let binaries = [TestBinary {
        exe: profile.processes[0].exe.clone(),
        label: "b".to_owned(),
        bench: true,
        libtest: false,
        exit_ok: Some(true),
        ..TestBinary::default()
    }];
    let inputs = Inputs {
        tests: Some(&binaries),
        ..Inputs::default()
    };
    let analysis = analyze(&profile, &inputs);
    let s = test_stacks(&profile, &binaries);
    let lines = parse(&folded_lines(&s, Weight::Allocations));
    assert_eq!(
        lines.iter().map(|l| l.1).sum::<u64>(),
        analysis.totals.allocations
    );
    for f in analysis.functions.iter().filter(|f| f.workspace) {
        let on_stacks: u64 = lines
            .iter()
            .filter(|l| l.0.contains(&f.name))
            .map(|l| l.1)
            .sum();
        assert_eq!(
            on_stacks,
            f.total_allocations,
            "{}: {:?}",
            f.name,
            folded_lines(&s, Weight::Allocations)
        );
    }
    let tests = analysis.tests.as_ref().unwrap();
    let folded = folded_lines(&s, Weight::Allocations);
    for t in &tests.tests {
        let rooted: u64 = folded
            .iter()
            .filter(|l| l.starts_with(&format!("{};", t.name)))
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
            .sum();
        assert_eq!(rooted, t.allocations, "{}: {folded:?}", t.name);
    }
    let harness: u64 = folded
        .iter()
        .filter(|l| l.starts_with("(benchmark harness);"))
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
        .sum();
    assert_eq!(harness, tests.harness[0].allocations, "{folded:?}");
}
