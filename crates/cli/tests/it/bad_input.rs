//! Bad input gets one clear line and the right exit status, never a panic or an empty report.

use crate::support::{manifest, run_json, tool, TempDir};

fn assert_no_panic(stderr: &str) {
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("RUST_BACKTRACE"), "{stderr}");
}

#[test]
fn no_cargo_toml() {
    let dir = TempDir::new("no-manifest");
    let out = tool().arg("run").current_dir(&dir.0).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no Cargo.toml"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn unknown_flag() {
    let out = tool().args(["run", "--no-such-flag"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--no-such-flag"), "{stderr}");
    assert_no_panic(&stderr);
}

#[test]
fn build_error_keeps_cargos_messages_and_status() {
    let run = run_json("broken", &[]);
    let stderr = run.stderr();
    assert_eq!(run.code(), Some(101), "{stderr}");
    assert!(stderr.contains("error[E0308]"), "{stderr}");
    assert!(stderr.contains("nothing was profiled"), "{stderr}");
    assert!(run.report.is_none());
    assert_no_panic(&stderr);
}

#[test]
fn unknown_target() {
    let run = run_json("patterns", &["--bin", "no_such_bin"]);
    let stderr = run.stderr();
    assert_eq!(run.code(), Some(101), "{stderr}");
    assert!(stderr.contains("no_such_bin"), "{stderr}");
    assert_no_panic(&stderr);
}

#[test]
fn exit_status_and_streams_pass_through() {
    let tmp = TempDir::new("exit-code");
    let report = tmp.0.join("r.txt");
    let mut child = tool()
        .arg("run")
        .arg("--manifest-path")
        .arg(manifest("patterns"))
        .arg("--target-dir")
        .arg(crate::support::fixture_target_dir())
        .args(["-q", "--bin", "exit_code", "--output"])
        .arg(&report)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"hello").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(stdout, "stdout: got 5 bytes of input\n");
    assert!(stderr.starts_with("stderr: exiting with 3\n"), "{stderr}");
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.contains("exit status 3"), "{text}");
}

#[test]
fn killed_by_a_signal_is_said_plainly() {
    let run = run_json("patterns", &["-q", "--bin", "crash"]);
    let stderr = run.stderr();
    assert_eq!(run.code(), Some(128 + 11), "{stderr}");
    assert!(run.stdout().contains("made 10"));
    let report = run.report();
    assert_eq!(report["signal"]["name"], "SIGSEGV", "{report:#}");
    // The interposer wrote the profile before the process died of the signal: what main made
    // before the crash (10 strings, their Vec and its growth) is there.
    let process = &report["processes"][0];
    assert_eq!(process["end"], "signal", "{report:#}");
    assert_eq!(process["end_detail"], 11);
    let main = crate::support::function(report, "crash::main").expect("crash::main");
    assert!(main["total_allocations"].as_u64() >= Some(11), "{main}");
    assert_no_panic(&stderr);
}

#[test]
fn custom_allocator_that_bypasses_malloc_is_flagged() {
    let run = run_json("patterns", &["-q", "--bin", "bump_alloc"]);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let report = run.report();
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("bump_alloc sets a custom #[global_allocator]"),
        "{report:#}"
    );
    assert!(notes.contains("invisible to this profiler"), "{report:#}");
    // Only glibc's own start-up allocations reached malloc.
    let totals = &report["totals"];
    assert_eq!(totals["allocations"], totals["libc_internal_allocations"]);
}

/// `report` on files that are not what they claim: one line naming the file and the problem.
#[test]
fn bad_raw_profiles_are_named() {
    let dir = TempDir::new("bad-profiles");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // A valid header start, then nothing: what a killed writer leaves.
    let mut truncated = b"APROFRAW".to_vec();
    truncated.extend_from_slice(&1u32.to_le_bytes());
    truncated.extend_from_slice(&[1, 40, 5]);
    let mut newer = b"APROFRAW".to_vec();
    newer.extend_from_slice(&9u32.to_le_bytes());
    let cases = [
        (write("empty.aprof", b""), "truncated"),
        (write("truncated.aprof", &truncated), "truncated at byte"),
        (
            write("foreign.aprof", b"\x7fELF\x02\x01\x01\0 an executable"),
            "not a cargo-alloc-profile raw profile",
        ),
        (write("newer.aprof", &newer), "version 9 is not supported"),
        (dir.0.join("missing.aprof"), "No such file or directory"),
    ];
    for (path, expected) in cases {
        let out = tool().arg("report").arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", path.display());
        assert!(stderr.contains(expected), "{}: {stderr}", path.display());
        assert!(
            stderr.contains(path.file_name().unwrap().to_str().unwrap()),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert_no_panic(&stderr);
    }
    let empty_dir = TempDir::new("no-profiles");
    let out = tool().arg("report").arg(&empty_dir.0).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("no raw profiles"), "{stderr}");
}

#[test]
fn unwritable_output_path() {
    let out = tool()
        .arg("run")
        .arg("--manifest-path")
        .arg(manifest("patterns"))
        .arg("--target-dir")
        .arg(crate::support::fixture_target_dir())
        .args([
            "-q",
            "--bin",
            "exit_code",
            "--output",
            "/nonexistent-dir/report.txt",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent-dir/report.txt"), "{stderr}");
    assert_no_panic(&stderr);
}

/// A statically linked executable cannot load the interposer: a clear error, not an empty report.
#[test]
fn static_executable_is_an_error_not_an_empty_report() {
    let dir = crate::support::programs_dir().join("static-exe");
    // The fixture's `.cargo/config.toml` (crt-static) is read from the working directory.
    let out = tool()
        .arg("run")
        .arg("-q")
        .arg("--target-dir")
        .arg(crate::support::fixture_target_dir())
        .current_dir(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some("static: 10")
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is statically linked"), "{stderr}");
    assert!(
        stderr.starts_with("error: nothing was recorded"),
        "{stderr}"
    );
    assert_no_panic(&stderr);
}

/// `diff` compares two JSON reports; reports that are not, or of another version, get one line.
#[test]
fn diff_of_two_runs_and_bad_reports() {
    let dir = TempDir::new("diff");
    let report = |args: &[&str], name: &str| {
        let path = dir.0.join(name);
        let run = run_json("patterns", args);
        assert_eq!(run.code(), Some(0), "{}", run.stderr());
        std::fs::write(&path, serde_json::to_vec(run.report()).unwrap()).unwrap();
        path
    };
    let patterns = report(&["-q"], "patterns.json");
    let exit_code = report(&["-q", "--bin", "bump_alloc"], "bump.json");
    let out = tool()
        .arg("diff")
        .arg(&patterns)
        .arg(&patterns)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text.contains("No function's total allocations changed"),
        "{text}"
    );
    let out = tool()
        .args(["diff", "--fail-on-increase"])
        .arg(&exit_code)
        .arg(&patterns)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("patterns::vec_growth"), "{text}");

    let write = |name: &str, text: &str| {
        let p = dir.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let full = std::fs::read_to_string(&patterns).unwrap();
    let cases = [
        (
            write("truncated.json", &full[..full.len() / 2]),
            "not a JSON report",
        ),
        (
            write("foreign.json", r#"{"name": "something else"}"#),
            "not a cargo-alloc-profile report",
        ),
        (
            write(
                "newer.json",
                &full.replacen("\"version\":1", "\"version\":7", 1),
            ),
            "version 7 is not supported",
        ),
        (write("empty.json", ""), "not a JSON report"),
    ];
    for (path, expected) in cases {
        let out = tool()
            .arg("diff")
            .arg(&path)
            .arg(&patterns)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{}: {stderr}", path.display());
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert_no_panic(&stderr);
    }
}

/// A program linked against musl (its loader cannot load the glibc interposer) runs as it would
/// without the tool: the runner leaves the interposer out, so its output and status pass through.
/// Needs `musl-gcc` (Debian's musl-tools, which `.ci/run` installs).
#[test]
fn musl_program_runs_unprofiled_and_unchanged() {
    let dir = TempDir::new("musl");
    let Some(exe) = crate::support::musl_hello(&dir.0) else {
        return;
    };
    // The library the runner would preload, as show-env installs it.
    let env = tool().arg("show-env").output().unwrap();
    let env = String::from_utf8_lossy(&env.stdout);
    let lib = env
        .lines()
        .find_map(|l| l.strip_prefix("export LD_PRELOAD='"))
        .unwrap()
        .trim_end_matches('\'')
        .to_owned();
    let raw = dir.0.join("raw");
    std::fs::create_dir(&raw).unwrap();
    // Cargo's runner call, as a profiled `cargo run` makes it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-alloc-profile"))
        .arg("__alloc-profile-runner")
        .arg(&exe)
        .env("__CARGO_ALLOC_PROFILE_ROLE", "1")
        .env("__CARGO_ALLOC_PROFILE_PRELOAD", &lib)
        .env("CARGO_ALLOC_PROFILE_OUT", &raw)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from musl\n");
    assert_eq!(stderr, "");
    // The start was recorded, so the session can say why no profile came.
    let names: Vec<String> = std::fs::read_dir(&raw)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].ends_with(".started"), "{names:?}");
}

/// A path given on the command line that cannot work is found before anything is built or run
/// (so no build is wasted and no profile lost): one line naming it, exit status 2, and the target
/// directory never made.
#[test]
fn bad_paths_fail_before_the_build() {
    let dir = TempDir::new("before-work");
    let file = dir.0.join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let patterns = manifest("patterns");
    let patterns = patterns.to_str().unwrap();
    let missing_dir = dir.0.join("missing").join("report.txt");
    let under_file = file.join("report.txt");
    let missing_manifest = dir.0.join("Cargo.toml");
    let mut cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec![
                "run",
                "--manifest-path",
                patterns,
                "-o",
                missing_dir.to_str().unwrap(),
            ],
            format!(
                "error: -o {}: the directory {} does not exist; create it first",
                missing_dir.display(),
                dir.0.join("missing").display()
            ),
        ),
        (
            vec![
                "test",
                "--manifest-path",
                patterns,
                "-o",
                under_file.to_str().unwrap(),
            ],
            format!(
                "error: -o {}: {} is not a directory",
                under_file.display(),
                file.display()
            ),
        ),
        (
            vec![
                "bench",
                "--manifest-path",
                patterns,
                "-o",
                dir.0.to_str().unwrap(),
            ],
            format!(
                "error: -o {}: a directory; name the file to write the report to",
                dir.0.display()
            ),
        ),
        (
            vec!["run", "--manifest-path", missing_manifest.to_str().unwrap()],
            format!(
                "error: --manifest-path {}: no such file",
                missing_manifest.display()
            ),
        ),
        (
            vec!["test", "--manifest-path", dir.0.to_str().unwrap()],
            format!(
                "error: --manifest-path {}: a directory; pass the path of its Cargo.toml",
                dir.0.display()
            ),
        ),
        (
            vec!["nextest", "--target-dir", file.to_str().unwrap()],
            format!(
                "error: --target-dir {}: not a directory; name a directory for the build",
                file.display()
            ),
        ),
    ];
    // A directory where nothing can be created, even by root (sysfs), where there is one.
    let probe = std::path::Path::new("/sys/alloc-profile-probe");
    if std::fs::File::create(probe).is_err() {
        cases.push((
            vec!["run", "--manifest-path", patterns, "-o", "/sys/report.json"],
            "error: -o /sys/report.json: cannot create it: Permission denied (os error 13)"
                .to_owned(),
        ));
    } else {
        let _ = std::fs::remove_file(probe);
        eprintln!("skipped the unwritable directory case: /sys is writable here");
    }
    let target = dir.0.join("target");
    for (args, expected) in cases {
        let mut cmd = tool();
        cmd.args(&args[..1]);
        if !args.contains(&"--target-dir") {
            cmd.arg("--target-dir").arg(&target);
        }
        let out = cmd.args(&args[1..]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end(), expected, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!target.exists(), "{args:?}: the target directory was made");
    }
    // `report` checks its destination before reading and symbolizing anything.
    let out = tool()
        .arg("report")
        .arg("-o")
        .arg(&missing_dir)
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: -o "), "{stderr}");
    assert!(
        stderr.contains("does not exist; create it first"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// A mistyped command gets one line naming the nearest command, and exit status 2; so do the
/// other usage errors clap reports (without its usage block).
#[test]
fn mistyped_command_is_one_line_naming_the_nearest() {
    for (args, expected) in [
        (
            &["rn"][..],
            "error: no command `rn`; did you mean `run`? (`cargo alloc-profile --help` lists them)",
        ),
        (
            &["tset", "--lib"][..],
            "error: no command `tset`; did you mean `test`? (`cargo alloc-profile --help` lists \
             them)",
        ),
        (
            &["xyzzy"][..],
            "error: no command `xyzzy` (`cargo alloc-profile --help` lists them)",
        ),
        (
            &["run", "--format", "yaml"][..],
            "error: invalid value 'yaml' for '--format <FORMAT>' [possible values: text, json",
        ),
        (
            // Without a path, `report` renders the last run (crates/cli/tests/it/views.rs).
            &["report", "--target-dir", "/nonexistent"][..],
            "error: no run to report on in /nonexistent/alloc-profile/last: run `cargo \
             alloc-profile run` (or test, bench, nextest) first, or name raw profiles",
        ),
    ] {
        let out = tool().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with(expected), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_no_panic(&stderr);
    }
    // The binary run by itself, not through cargo.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-alloc-profile"))
        .args(["run", "--release"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr,
        "error: this is a cargo subcommand: run it as `cargo alloc-profile run --release`\n"
    );
}

/// A machine-readable report needs `-o` when programs run: their own standard output would be
/// mixed into it. Refused before building; `-o -` writes it to standard output all the same.
#[test]
fn machine_format_on_standard_output_needs_o() {
    let dir = TempDir::new("format-stdout");
    let target = dir.0.join("target");
    for command in ["run", "test", "bench", "nextest"] {
        let out = tool()
            .arg(command)
            .arg("--manifest-path")
            .arg(manifest("patterns"))
            .arg("--target-dir")
            .arg(&target)
            .args(["--format", "json"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert_eq!(
            stderr,
            "error: --format json needs -o FILE here: on standard output the report would be \
             mixed with what the programs print there (`-o -` writes it there all the same)\n",
            "{command}"
        );
        assert!(out.stdout.is_empty(), "{command}");
        assert!(!target.exists(), "{command}: something was built");
    }
    let out = tool()
        .arg("run")
        .arg("--manifest-path")
        .arg(manifest("patterns"))
        .arg("--target-dir")
        .arg(crate::support::fixture_target_dir())
        .args(["-q", "--bin", "exit_code", "--format", "json", "-o", "-"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        !std::path::Path::new("-").exists(),
        "a file named - was written"
    );
    // The program's line, then the report.
    let (program, report) = stdout.split_once('\n').unwrap();
    assert_eq!(program, "stdout: got 0 bytes of input");
    let report: serde_json::Value = serde_json::from_str(report).expect("JSON after the program");
    assert_eq!(report["exit_code"], 3, "{report:#}");
}
