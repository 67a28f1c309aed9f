//! `cargo alloc-profile run` on the pattern fixture: every pattern function's total allocations
//! equal what the program's counting global allocator saw around the call.

use crate::support::{function, run_json, truths};

#[test]
fn every_pattern_matches_the_counting_allocator() {
    let run = run_json("patterns", &["-q"]);
    assert_eq!(run.code(), Some(0), "stderr:\n{}", run.stderr());
    let report = run.report();
    let truths = truths(&run.stdout());
    assert!(truths.len() >= 15, "fixture printed its ground truth");
    let mut mismatches = Vec::new();
    for (name, allocations, bytes) in &truths {
        if *allocations == 0 {
            let zero = report["zero_allocation_functions"].as_array().unwrap();
            if !zero.iter().any(|z| z == name.as_str()) {
                mismatches.push(format!("{name}: not listed as zero-allocation"));
            }
            if function(report, name).is_some() {
                mismatches.push(format!("{name}: listed with allocations"));
            }
            continue;
        }
        match function(report, name) {
            None => mismatches.push(format!("{name}: missing (truth {allocations})")),
            Some(f) => {
                if f["total_allocations"] != *allocations || f["total_bytes"] != *bytes {
                    mismatches.push(format!(
                        "{name}: profiled {} allocations / {} bytes, truth {allocations} / {bytes}",
                        f["total_allocations"], f["total_bytes"]
                    ));
                }
                assert_eq!(f["workspace"], true, "{name}");
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn dependency_allocations_show_under_its_own_module() {
    let run = run_json("patterns", &["-q"]);
    let report = run.report();
    let modules = report["modules"].as_array().unwrap();
    let dep = modules
        .iter()
        .find(|m| m["name"] == "depcrate")
        .unwrap_or_else(|| panic!("no depcrate module in {modules:#?}"));
    assert_eq!(dep["workspace"], false);
    assert_eq!(dep["crate"], "depcrate");
    // make_words(10): one Vec and ten Strings.
    assert_eq!(dep["allocations"], 11);
    let main_module = modules.iter().find(|m| m["name"] == "patterns").unwrap();
    assert_eq!(main_module["workspace"], true);
    let nested = modules
        .iter()
        .find(|m| m["name"] == "patterns::nested")
        .unwrap();
    assert_eq!(nested["allocations"], 6);
}

#[test]
fn totals_are_consistent() {
    let run = run_json("patterns", &["-q"]);
    let t = &run.report()["totals"];
    let n = |k: &str| t[k].as_u64().unwrap_or_else(|| panic!("totals.{k}"));
    assert!(n("allocations") >= n("reallocations"));
    assert!(n("allocations") >= n("frees"));
    assert_eq!(n("allocations") - n("frees"), n("leaked_allocations"));
    // vec_growth's buffer reached a capacity of 1024 u64s, live at once.
    assert!(n("peak_bytes") >= 8 * 1024, "peak {}", n("peak_bytes"));
    assert_eq!(run.report()["format"], "cargo-alloc-profile");
    assert_eq!(run.report()["version"], 1);
}

/// Two runs of the same program give the same text report byte for byte (no addresses, pids or
/// timings), so `diff before.txt after.txt` shows only real changes.
#[test]
fn text_reports_of_two_runs_are_identical() {
    use crate::support::{fixture_target_dir, manifest, tool, TempDir};
    let tmp = TempDir::new("determinism");
    let mut texts = Vec::new();
    for i in 0..2 {
        let path = tmp.0.join(format!("{i}.txt"));
        let out = tool()
            .arg("run")
            .arg("--manifest-path")
            .arg(manifest("patterns"))
            .arg("--target-dir")
            .arg(fixture_target_dir())
            .args(["-q", "--output"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        texts.push(std::fs::read_to_string(&path).unwrap());
    }
    assert!(texts[0].contains("Hot spots"), "{}", texts[0]);
    // The command line names the output file, which differs: compare from the second line on.
    let body = |t: &str| t.lines().skip(1).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(body(&texts[0]), body(&texts[1]));
}
