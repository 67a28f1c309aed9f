//! Robustness, continued (see [`crate::robust`]): Ctrl-C during a session. The tool, cargo, the
//! runners and the programs all get SIGINT; the programs end as they would, and the tool reports
//! on what ran.

use std::os::unix::process::CommandExt as _;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::endings::assert_killed_by;
use crate::robust::{
    assert_exact, assert_no_fail_lines, assert_totals_consistent, context, leaked, processes,
    DEADLINE,
};
use crate::support::{fixture_target_dir, manifest, tool, truths, Run, TempDir};

// ---------------------------------------------------------------------------------------------
// 5. Ctrl-C

/// The tool started in a process group of its own, as a shell starts a foreground job, its
/// standard output and error going to files.
struct Job {
    child: std::process::Child,
    tmp: TempDir,
    started: Instant,
}

impl Job {
    /// `cargo alloc-profile <command> [--format json -o <tmp>/report.json] <args>`.
    fn start(command: &str, args: &[&str], env: &[(&str, &str)], json: bool) -> Self {
        let tmp = TempDir::new("robust-ctrl-c");
        let mut cmd = tool();
        cmd.arg(command);
        if json {
            cmd.args(["--format", "json", "-o"])
                .arg(tmp.0.join("report.json"));
        }
        cmd.args(args)
            .stdout(Stdio::from(
                std::fs::File::create(tmp.0.join("stdout")).unwrap(),
            ))
            .stderr(Stdio::from(
                std::fs::File::create(tmp.0.join("stderr")).unwrap(),
            ))
            .process_group(0);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("run the tool");
        Self {
            child,
            tmp,
            started: Instant::now(),
        }
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(self.tmp.0.join("stdout")).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.tmp.0.join("stderr")).unwrap_or_default()
    }

    /// Ends the whole group (the tool and whatever it started) and fails with `why`.
    fn fail(&mut self, why: &str) -> ! {
        self.end_group();
        let _ = self.child.wait();
        panic!(
            "{why}\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
    }

    /// Waits until a line of `text` appears in what the tool (and the program) printed on
    /// `stream`, within [`DEADLINE`] of the start.
    fn wait_for(&mut self, text: &str, stream: fn(&Self) -> String) {
        while !stream(self).contains(text) {
            if self.started.elapsed() > DEADLINE || self.child.try_wait().unwrap().is_some() {
                self.fail(&format!("never printed {text:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL to whatever is left of the tool's process group.
    fn end_group(&self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
    }

    /// `kill -<sig>` to the tool alone, or to its whole process group (what Ctrl-C does).
    fn signal(&self, sig: &str, group: bool) {
        let target = if group {
            format!("-{}", self.child.id())
        } else {
            self.child.id().to_string()
        };
        let ok = Command::new("kill")
            .args([format!("-{sig}"), "--".to_owned(), target])
            .status()
            .unwrap();
        assert!(ok.success(), "kill -{sig} failed");
    }

    /// The tool's exit status, if it ends within `limit`.
    fn wait(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let until = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() > until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the end (a hang fails), then gives the run as [`run_bin`] does.
    fn finish(mut self) -> Run {
        let Some(status) = self.wait(DEADLINE.saturating_sub(self.started.elapsed())) else {
            self.fail("hung after Ctrl-C");
        };
        // Nothing the tool started may outlive the test.
        self.end_group();
        let report = std::fs::read(self.tmp.0.join("report.json"))
            .ok()
            .map(|b| serde_json::from_slice(&b).expect("the report is valid JSON"));
        Run {
            output: Output {
                status,
                stdout: self.stdout().into_bytes(),
                stderr: self.stderr().into_bytes(),
            },
            report,
        }
    }
}

/// `cargo alloc-profile run … --bin endings -- wait-for-signal`, Ctrl-C once the program waits.
fn ctrl_c_during_run(json: bool) -> Run {
    let manifest = manifest("robust");
    let target = fixture_target_dir();
    let args = [
        "--manifest-path",
        manifest.to_str().unwrap(),
        "--target-dir",
        target.to_str().unwrap(),
        "-q",
        "--bin",
        "endings",
        "--",
        "wait-for-signal",
    ];
    let mut job = Job::start("run", &args, &[], json);
    job.wait_for("OK work done, ending by wait-for-signal", Job::stdout);
    job.signal("INT", true);
    job.finish()
}

/// `cargo alloc-profile test … --test interrupted -- --nocapture` with `WAIT_FOR_SIGNAL=<mode>`,
/// Ctrl-C once the test waits.
fn ctrl_c_during_test(mode: &str) -> Run {
    let manifest = manifest("robust");
    let target = fixture_target_dir();
    let args = [
        "--manifest-path",
        manifest.to_str().unwrap(),
        "--target-dir",
        target.to_str().unwrap(),
        "--test",
        "interrupted",
        "--",
        "--nocapture",
    ];
    let mut job = Job::start("test", &args, &[("WAIT_FOR_SIGNAL", mode)], true);
    job.wait_for("OK test work done, waiting for a signal", Job::stdout);
    job.signal("INT", true);
    job.finish()
}

/// Exit status 130, said on standard error (when it came and last) and in the report's notes.
fn assert_said_interrupted(run: &Run) {
    assert_eq!(run.code(), Some(130), "{}", context(run));
    let stderr = run.stderr();
    assert!(
        stderr.contains(
            "note: interrupted (Ctrl-C): the report of what ran follows once the profiled \
             processes have ended; Ctrl-C again quits at once, without a report"
        ),
        "{}",
        context(run)
    );
    assert_eq!(
        stderr.lines().last(),
        Some("error: interrupted (Ctrl-C): the report covers what ran until then"),
        "{}",
        context(run)
    );
    assert_no_fail_lines(run);
    if let Some(report) = &run.report {
        assert_eq!(
            report["notes"][0],
            "interrupted (Ctrl-C): this report covers what ran until then",
            "{}",
            context(run)
        );
        assert!(
            !report["notes"].to_string().contains("wrote no profile"),
            "{}",
            context(run)
        );
    }
}

#[test]
fn ctrl_c_during_run_reports_what_ran() {
    let run = ctrl_c_during_run(true);
    assert_said_interrupted(&run);
    // The program died of the SIGINT as it would have, its profile written first.
    assert_killed_by(&run, 2, "SIGINT");
}

#[test]
fn ctrl_c_during_run_prints_the_text_report_after_the_programs_output() {
    let run = ctrl_c_during_run(false);
    assert_said_interrupted(&run);
    let stdout = run.stdout();
    let (program, report) = stdout
        .split_once("OK work done, ending by wait-for-signal\n")
        .unwrap_or_else(|| panic!("{}", context(&run)));
    assert!(program.starts_with("TRUTH endings::work "), "{stdout}");
    assert!(
        report.starts_with("cargo alloc-profile run "),
        "the report follows the program's output\n{stdout}"
    );
    assert!(report.contains("killed by signal 2 (SIGINT)"), "{stdout}");
    assert!(
        report.contains("note: interrupted (Ctrl-C): this report covers what ran until then"),
        "{stdout}"
    );
    // The hot-spot row of `endings::work`: its self and total allocations are the truth.
    let (_, truth, _) = truths(&stdout)
        .into_iter()
        .find(|(n, ..)| n == "endings::work")
        .unwrap();
    let row: Vec<&str> = report
        .lines()
        .find(|l| l.trim_start().starts_with("endings::work "))
        .unwrap_or_else(|| panic!("no endings::work row\n{stdout}"))
        .split_whitespace()
        .collect();
    assert_eq!(
        row[1..3],
        [truth.to_string(), truth.to_string()],
        "{stdout}"
    );
}

#[test]
fn ctrl_c_during_test_reports_the_test_that_died() {
    let run = ctrl_c_during_test("die");
    assert_said_interrupted(&run);
    assert_exact(&run, &["interrupted::work"]);
    let report = run.report();
    let procs = processes(report);
    assert_eq!(procs.len(), 1, "{}", context(&run));
    assert_eq!(procs[0]["end"], "signal", "{}", context(&run));
    assert_eq!(procs[0]["end_detail"], 2, "{}", context(&run));
    assert_eq!(leaked(report, "interrupted::work"), 26, "{}", context(&run));
    assert_totals_consistent(&run);
}

/// Cargo dies of the SIGINT at once; the test binary, which handles it, shuts down half a second
/// later and passes: the tool waits for it (and its runner) before reading the profiles.
#[test]
fn ctrl_c_during_test_waits_for_a_test_that_shuts_down() {
    let run = ctrl_c_during_test("shut-down");
    assert_said_interrupted(&run);
    assert!(
        run.stdout().contains("OK shut down after SIGINT"),
        "{}",
        context(&run)
    );
    assert_exact(&run, &["interrupted::work", "interrupted::shutdown"]);
    let report = run.report();
    let procs = processes(report);
    assert_eq!(procs.len(), 1, "{}", context(&run));
    assert_eq!(procs[0]["end"], "exit", "{}", context(&run));
    assert_eq!(procs[0]["end_detail"], 0, "{}", context(&run));
    // The runner read the test's result line after cargo had died.
    let test = report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "waits_for_a_signal")
        .unwrap_or_else(|| panic!("{}", context(&run)));
    assert_eq!(test["outcome"], "passed", "{}", context(&run));
    assert_totals_consistent(&run);
}

/// The first SIGINT is only recorded; a second one ends the tool at once, without a report.
#[test]
fn second_ctrl_c_quits_at_once_without_a_report() {
    let manifest = manifest("robust");
    let target = fixture_target_dir();
    let args = [
        "--manifest-path",
        manifest.to_str().unwrap(),
        "--target-dir",
        target.to_str().unwrap(),
        "-q",
        "--bin",
        "endings",
        "--",
        "wait-for-signal",
    ];
    let mut job = Job::start("run", &args, &[], true);
    job.wait_for("OK work done, ending by wait-for-signal", Job::stdout);
    // To the tool alone: the program goes on waiting, and so does the tool.
    job.signal("INT", false);
    job.wait_for("Ctrl-C again quits at once", Job::stderr);
    if let Some(status) = job.wait(Duration::from_millis(500)) {
        job.fail(&format!("the first SIGINT ended the tool ({status})"));
    }
    job.signal("INT", false);
    let Some(status) = job.wait(Duration::from_secs(5)) else {
        job.fail("the second SIGINT did not end the tool");
    };
    assert_eq!(status.code(), Some(130));
    assert!(!job.tmp.0.join("report.json").exists());
    let run = job.finish();
    assert!(
        !run.stderr().contains("the report covers"),
        "{}",
        context(&run)
    );
}
