//! `cargo alloc-profile exec -- PROGRAM`: a program built elsewhere, profiled as it is. The
//! pattern fixture's executable (built once by `run`) is started from another directory, alone
//! and through a shell; its counts equal its counting allocator's, its output and exit status
//! pass through, and a program that cannot be run is a one-line error before anything starts.

use std::path::PathBuf;

use crate::support::{fixture_target_dir, function, manifest, run_json, tool, truths, TempDir};

/// The pattern fixture's executable, built by the tool (frame pointers, line tables).
fn patterns_exe() -> PathBuf {
    let run = run_json("patterns", &["-q"]);
    assert_eq!(run.code(), Some(0), "stderr:\n{}", run.stderr());
    let exe = fixture_target_dir().join("alloc-profile/debug/patterns");
    assert!(exe.is_file(), "{} was built", exe.display());
    exe
}

/// `exec` in `dir` with `args`, the report as JSON in `dir/report.json`.
fn exec_json(dir: &TempDir, args: &[&str]) -> (std::process::Output, Option<serde_json::Value>) {
    let report_path = dir.0.join("report.json");
    let output = tool()
        .current_dir(&dir.0)
        .arg("exec")
        .args(["--format", "json", "-o"])
        .arg(&report_path)
        .args(args)
        .output()
        .expect("run the tool");
    let report = std::fs::read(&report_path)
        .ok()
        .map(|b| serde_json::from_slice(&b).expect("the report is valid JSON"));
    (output, report)
}

fn mismatches(report: &serde_json::Value, stdout: &str) -> Vec<String> {
    let truths = truths(stdout);
    assert!(
        truths.len() >= 15,
        "the program's output came through:\n{stdout}"
    );
    let mut out = Vec::new();
    for (name, allocations, bytes) in truths.iter().filter(|t| t.1 > 0) {
        match function(report, name) {
            None => out.push(format!("{name}: missing (truth {allocations})")),
            Some(f) if f["total_allocations"] != *allocations || f["total_bytes"] != *bytes => {
                out.push(format!(
                    "{name}: profiled {} / {} bytes, truth {allocations} / {bytes}",
                    f["total_allocations"], f["total_bytes"]
                ));
            }
            Some(f) => assert_eq!(f["workspace"], true, "{name} is yours"),
        }
    }
    out
}

#[test]
fn a_program_built_elsewhere_is_profiled_exactly_with_or_without_its_workspace() {
    let exe = patterns_exe();
    let exe = exe.to_str().unwrap();
    let dir = TempDir::new("exec");
    let manifest = manifest("patterns");
    let (output, report) = exec_json(
        &dir,
        &["--manifest-path", manifest.to_str().unwrap(), "--", exe],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr:\n{stderr}");
    let report = report.expect("a JSON report");
    let wrong = mismatches(&report, &stdout);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Outside any workspace the crate named after the program is still yours.
    let (output, report) = exec_json(&dir, &[exe]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0));
    let report = report.expect("a JSON report");
    let wrong = mismatches(&report, &stdout);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let notes = report["notes"].to_string();
    assert!(notes.contains("not in a Cargo workspace"), "{notes}");
}

#[test]
fn children_are_followed_and_the_exit_status_passes_through() {
    let exe = patterns_exe();
    let dir = TempDir::new("exec-sh");
    let script = format!("'{}' && exit 7", exe.display());
    let (output, report) = exec_json(&dir, &["--", "sh", "-c", &script]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(7),
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = report.expect("a JSON report");
    let wrong = mismatches(&report, &stdout);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let processes = report["processes"].as_array().expect("processes");
    assert!(
        processes.len() >= 2,
        "the shell and the program: {processes:#?}"
    );
}

#[test]
fn a_program_that_cannot_run_is_one_line_before_anything_starts() {
    let dir = TempDir::new("exec-bad");
    let plain = dir.0.join("plain.txt");
    std::fs::write(&plain, "not a program").unwrap();
    for (args, says) in [
        (
            vec!["--", "no-such-program-here"],
            "no such program on PATH",
        ),
        (vec!["--", plain.to_str().unwrap()], "not executable"),
        (vec!["--", "./missing"], "cannot run it"),
        (vec![], "PROGRAM"),
    ] {
        let (output, report) = exec_json(&dir, &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line:\n{stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(report.is_none(), "{args:?}: no report");
    }
}

#[test]
fn the_report_read_ahead_while_the_program_ran_is_the_report_of_its_kept_run_again() {
    // `exec` reads the program's files while it runs; `report` on the run it kept reads them
    // after: the same report, but for the note that says it is the kept run again.
    let exe = patterns_exe();
    let dir = TempDir::new("exec-again");
    let manifest = manifest("patterns");
    let target = dir.0.join("target");
    let common = [
        "--manifest-path",
        manifest.to_str().unwrap(),
        "--target-dir",
        target.to_str().unwrap(),
    ];
    let mut args = common.to_vec();
    args.extend(["--", exe.to_str().unwrap()]);
    let (output, report) = exec_json(&dir, &args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr:\n{stderr}");
    let report = report.expect("a JSON report");

    let again_path = dir.0.join("again.json");
    let again = tool()
        .current_dir(&dir.0)
        .arg("report")
        .args(common)
        .args(["--format", "json", "-o"])
        .arg(&again_path)
        .output()
        .expect("run the tool");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(0), "stderr:\n{stderr}");
    let mut again: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&again_path).unwrap()).unwrap();
    let notes = again["notes"].as_array_mut().expect("notes");
    let before = notes.len();
    notes.retain(|n| {
        !n.as_str()
            .is_some_and(|n| n.starts_with("reported again from the last run"))
    });
    assert_eq!(notes.len(), before - 1, "{notes:?}");
    assert_eq!(report, again);
}
