//! Running the tool on the fixture programs under `tests/programs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `tests/programs` in the repository.
pub fn programs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/programs")
}

/// The shared target directory of all fixture builds (the tool adds `alloc-profile/` to it).
pub fn fixture_target_dir() -> PathBuf {
    programs_dir().join("target")
}

pub fn manifest(program: &str) -> PathBuf {
    programs_dir().join(program).join("Cargo.toml")
}

/// The tool as cargo would call it: `cargo-alloc-profile alloc-profile <args>`.
pub fn tool() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-alloc-profile"));
    cmd.arg("alloc-profile");
    // The fixtures must not inherit settings of an outer profiled build.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("__CARGO_ALLOC_PROFILE") || key == "CARGO_ALLOC_PROFILE_OUT" {
            cmd.env_remove(&*key);
        }
    }
    cmd.env("NO_COLOR", "1").stdin(Stdio::null());
    cmd
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "alloc-profile-it-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Output of one `run` of a fixture, with its JSON report.
pub struct Run {
    pub output: Output,
    pub report: Option<serde_json::Value>,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
    pub fn report(&self) -> &serde_json::Value {
        self.report.as_ref().unwrap_or_else(|| {
            panic!(
                "no JSON report\nstdout:\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            )
        })
    }
}

/// `cargo alloc-profile run --manifest-path <program> <args> --format json --output <tmp>`.
pub fn run_json(program: &str, args: &[&str]) -> Run {
    let tmp = TempDir::new(program);
    let report_path = tmp.0.join("report.json");
    let output = tool()
        .arg("run")
        .arg("--manifest-path")
        .arg(manifest(program))
        .arg("--target-dir")
        .arg(fixture_target_dir())
        .args(["--format", "json", "--output"])
        .arg(&report_path)
        .args(args)
        .output()
        .expect("run the tool");
    let report = std::fs::read(&report_path)
        .ok()
        .map(|b| serde_json::from_slice(&b).expect("the report is valid JSON"));
    Run { output, report }
}

/// `TRUTH <name> <allocations> <bytes>` lines printed by the fixtures' counting allocator.
/// The `<peak>` of each `TRUTH <name> <allocations> <bytes> <peak>` line (those that have one).
pub fn truth_peaks(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("TRUTH "))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            Some((fields[0].to_owned(), fields.get(3)?.parse().unwrap()))
        })
        .collect()
}

pub fn truths(stdout: &str) -> Vec<(String, u64, u64)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("TRUTH "))
        .map(|l| {
            let mut it = l.split_whitespace();
            let name = it.next().unwrap().to_owned();
            let a = it.next().unwrap().parse().unwrap();
            let b = it.next().unwrap().parse().unwrap();
            (name, a, b)
        })
        .collect()
}

/// The entry of `functions` named `name`.
pub fn function<'a>(report: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    report["functions"]
        .as_array()
        .expect("functions array")
        .iter()
        .find(|f| f["name"] == name)
}

/// Builds, with `musl-gcc`, a C program linked against musl that prints `hello from musl` and exits
/// with status 3. `None` (after saying so) where musl-gcc is not installed; on CI (`CI` set), where
/// `.ci/run` installs it, its absence fails the test.
pub fn musl_hello(dir: &Path) -> Option<PathBuf> {
    let found = Command::new("musl-gcc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "musl-gcc is missing on CI: .ci/run installs musl-tools"
        );
        eprintln!("skipped: musl-gcc is not installed (apt-get install musl-tools)");
        return None;
    }
    let src = dir.join("hello.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\n#include <stdlib.h>\n\
         int main(void) { char *p = malloc(16); puts(p ? \"hello from musl\" : \"no memory\"); \
         free(p); return 3; }\n",
    )
    .unwrap();
    let exe = dir.join("hello");
    let cc = Command::new("musl-gcc")
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .status()
        .unwrap();
    assert!(cc.success());
    Some(exe)
}
