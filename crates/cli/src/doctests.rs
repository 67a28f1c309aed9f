//! Doctests. Cargo (1.89 and later) hands its runner to rustdoc (`--test-runtool`), so every
//! doctest executable rustdoc builds runs through the runner like a test executable. Three things
//! differ:
//!
//! - rustdoc deletes the executable (`<tmp>/rustdoctestXXXX/rust_out`) as soon as the doctest
//!   ends, before the report could read its symbols: the runner runs a copy kept in the session's
//!   raw directory instead ([`crate::raw_dir::keep_doctest`]).
//! - rustdoc names the doctest (`src/lib.rs - Foo::bar (line 12)`) only on its own output, which
//!   cargo passes on to the front end ([`Printed`]); nothing in the doctest's environment says
//!   which doctest it is (`UNSTABLE_RUSTDOC_TEST_PATH` and `_LINE` are set for the compiler, not
//!   for the run). The executable does: rustdoc wraps a doctest's code in a function
//!   `_doctest_main_<file>_<line>_<n>` (`file` with every character but ASCII letters and digits
//!   as `_`), so a doctest is matched with rustdoc's line by (file, line). A doctest with its own
//!   `main` is not wrapped: rustdoc prints its line after its process ended, so the line belongs
//!   to one of the processes that had ended when it was read, and it is matched when only one of
//!   those is left.
//! - From edition 2024 rustdoc merges a crate's doctests into one harness (`doctest_runner_<ed>`)
//!   that numbers them by their names, sorted (`doctest_bundle_<ed>::__doctest_<N>`) and, under
//!   plain cargo, runs each in a process of its own when `RUSTDOC_DOCTEST_BIN_PATH` names the
//!   executable, which rustdoc does not set when a runner is used: the runner sets it, as
//!   rustdoc would have. Its output is libtest's, read by the runner; the numbers are the names'
//!   positions when every doctest of the harness ran and was named (no name filter, pretty
//!   output).
//!
//! All doctests of a session are one entry of the Tests table, [`LABEL`].

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use alloc_profile_report::per_test::{DoctestExe, MERGED_DOCTESTS};
use alloc_profile_report::TestBinary;
use object::{Object as _, ObjectSymbol as _};

use crate::outcomes::{name_parts, BinaryOutcome, Parser, TestOutcome};

/// The label of the doctests' entry in the Tests table.
pub const LABEL: &str = "(doctests)";
/// Rustdoc's name for every doctest executable.
const EXE_NAME: &str = "rust_out";
/// What tells a merged harness to run each doctest in a process of its own.
pub const BIN_PATH: &str = "RUSTDOC_DOCTEST_BIN_PATH";

// ---- runner side ----

/// Whether the runner was asked to run a doctest: rustdoc's executable name, started by rustdoc.
pub fn is_rustdoc_test(exe: &Path) -> bool {
    if exe.file_name().is_none_or(|n| n != EXE_NAME) {
        return false;
    }
    let parent = std::os::unix::process::parent_id();
    std::fs::read_link(format!("/proc/{parent}/exe")).is_ok_and(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("rustdoc"))
    })
}

/// Whether `exe` is a harness of merged doctests: rustdoc writes its sources
/// (`doctest_runner_<edition>.rs`) beside it.
pub fn is_merged(exe: &Path) -> bool {
    let Some(dir) = exe.parent() else {
        return false;
    };
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(std::result::Result::ok).any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("doctest_runner_") && name.ends_with(".rs")
        })
    })
}

// ---- front end side ----

/// Rustdoc's result lines, read from cargo's standard output while it is copied through.
#[derive(Debug, Default)]
pub struct Printed {
    parser: Parser,
    /// Where the runner writes `<pid>.outcome.json` when a process ends.
    raw: PathBuf,
    /// How many of the parser's tests have been looked at.
    seen: usize,
    /// By doctest name: the processes that had ended when rustdoc's line was read.
    ended_before: HashMap<String, HashSet<u32>>,
}

/// What rustdoc printed about its doctests.
#[derive(Debug, Default)]
pub struct PrintedDoctests {
    /// The doctests named on the output (every libtest line of the session passes by; only
    /// names of rustdoc's form are kept).
    pub tests: Vec<TestOutcome>,
    ended_before: HashMap<String, HashSet<u32>>,
}

impl Printed {
    /// `raw`: the session's raw directory.
    pub fn new(raw: &Path) -> Self {
        Self {
            raw: raw.to_owned(),
            ..Self::default()
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.parser.feed(bytes);
        let tests = self.parser.tests();
        let new: Vec<String> = tests[self.seen.min(tests.len())..]
            .iter()
            .filter(|t| name_parts(&t.name).is_some())
            .map(|t| t.name.clone())
            .collect();
        self.seen = tests.len();
        if !new.is_empty() {
            let ended = crate::raw_dir::ended(&self.raw);
            for name in new {
                self.ended_before.insert(name, ended.clone());
            }
        }
    }

    pub fn finish(self) -> PrintedDoctests {
        let tests = self
            .parser
            .finish(String::new(), None, None)
            .tests
            .into_iter()
            .filter(|t| name_parts(&t.name).is_some())
            .collect();
        PrintedDoctests {
            tests,
            ended_before: self.ended_before,
        }
    }
}

/// rustdoc's spelling of a file in a doctest's function name.
fn sanitized(file: &str) -> String {
    file.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// What a doctest executable's symbols say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// A wrapped doctest: its file (as rustdoc spells it in the function name), line, and number
    /// among the doctests at that line.
    Wrapped { file: String, line: usize, n: usize },
    /// A doctest with its own `main` (or one whose symbols could not be read).
    Unwrapped,
    /// A harness of merged doctests.
    Merged,
}

fn kind_of(exe: &Path) -> Kind {
    let Ok(data) = std::fs::read(exe) else {
        return Kind::Unwrapped;
    };
    let Ok(file) = object::File::parse(&*data) else {
        return Kind::Unwrapped;
    };
    for symbol in file.symbols() {
        let Ok(name) = symbol.name() else { continue };
        if name.contains("doctest_bundle_") {
            return Kind::Merged;
        }
        if let Some(kind) = wrapped(name) {
            return kind;
        }
    }
    Kind::Unwrapped
}

/// The wrapped doctest a mangled symbol names: `_doctest_main_src_lib_rs_12_0` inside
/// `_ZN8rust_out4main29_doctest_main_src_lib_rs_12_017h…E` (legacy mangling) or after `29_` (v0,
/// which puts `_` between the length and an identifier starting with `_`).
fn wrapped(mangled: &str) -> Option<Kind> {
    const PREFIX: &str = "_doctest_main_";
    let at = mangled.find(PREFIX)?;
    let before = mangled[..at].strip_suffix('_').unwrap_or(&mangled[..at]);
    let digits = before.len() - before.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let len: usize = before[before.len() - digits..].parse().ok()?;
    let ident = mangled.get(at..at + len)?.strip_prefix(PREFIX)?;
    let mut parts = ident.rsplitn(3, '_');
    let n = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    let file = parts.next()?.to_owned();
    Some(Kind::Wrapped { file, line, n })
}

/// The session's doctests as one entry of the Tests table, from what the runner recorded for
/// each doctest executable (`outcomes` with `doctest` set) and what rustdoc printed; with a
/// note for each thing that could not be told apart. `None` when no doctest ran. `root` and
/// `packages`: the workspace root, to which rustdoc's file names are relative, and the member
/// packages' directories, where a file is looked for when rustdoc did not print its name.
pub fn binary(
    outcomes: &[BinaryOutcome],
    printed_doctests: &PrintedDoctests,
    root: &Path,
    packages: &[PathBuf],
) -> (Option<TestBinary>, Vec<String>) {
    let printed = printed_doctests.tests.as_slice();
    let runs: Vec<&BinaryOutcome> = outcomes.iter().filter(|o| o.doctest).collect();
    let mut notes = Vec::new();
    if runs.is_empty() {
        // Cargo before 1.89 did not hand its runner to rustdoc.
        let ran = printed
            .iter()
            .filter(|t| t.outcome != "ignored" && !t.compile_only)
            .count();
        if ran > 0 {
            notes.push(format!(
                "{ran} doctest{} ran without this tool's runner (cargo before 1.89 does not hand \
                 it to rustdoc), so {} not profiled",
                if ran == 1 { "" } else { "s" },
                if ran == 1 { "it was" } else { "they were" }
            ));
            return (None, notes);
        }
        if printed.is_empty() {
            return (None, notes);
        }
    }
    let mut exes = Vec::new();
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut named_all = true;
    // Names the runner read from merged harnesses: rustdoc's lines of those are theirs.
    let mut merged_names: HashSet<&str> = HashSet::new();
    let mut unwrapped = Vec::new();
    let mut claimed: HashSet<&str> = HashSet::new();
    // (as rustdoc spells it in a function name, path relative to the root), found when needed.
    let mut files: Option<Vec<(String, String)>> = None;
    for run in &runs {
        match kind_of(Path::new(&run.exe)) {
            Kind::Merged => {
                merged_names.extend(run.tests.iter().map(|t| t.name.as_str()));
                let known = run.names_complete && run.filtered_out == Some(0);
                let mut names: Vec<&TestOutcome> = run.tests.iter().collect();
                names.sort_by(|a, b| a.name.cmp(&b.name));
                if known {
                    rows.extend(
                        names
                            .iter()
                            .filter(|t| !t.compile_only)
                            .map(|t| (t.name.clone(), t.outcome.clone())),
                    );
                } else {
                    named_all = false;
                    notes.push(format!(
                        "rustdoc merged doctests into one harness (edition 2024), which numbers \
                         them by their names; {}, so they are counted together as `{}`",
                        if run.names_complete {
                            "a name filter left some out"
                        } else {
                            "its output did not name them all (terse format?)"
                        },
                        MERGED_DOCTESTS
                    ));
                }
                exes.push(DoctestExe {
                    exe: run.exe.clone(),
                    merged: true,
                    names: if known {
                        names.iter().map(|t| t.name.clone()).collect()
                    } else {
                        Vec::new()
                    },
                });
            }
            Kind::Wrapped { file, line, n } => {
                let mut candidates: Vec<&TestOutcome> = printed
                    .iter()
                    .filter(|t| {
                        name_parts(&t.name).is_some_and(|(f, l)| sanitized(f) == file && l == line)
                    })
                    .collect();
                candidates.sort_by(|a, b| a.name.cmp(&b.name));
                let (name, outcome) = match candidates.get(n).or(candidates.first()) {
                    Some(t) => {
                        claimed.insert(t.name.as_str());
                        (t.name.clone(), t.outcome.clone())
                    }
                    None => {
                        let file = files
                            .get_or_insert_with(|| source_files(root, packages))
                            .iter()
                            .find(|(s, _)| *s == file)
                            .map_or(file.clone(), |(_, path)| path.clone());
                        (
                            format!("doctest at {file}:{line}"),
                            outcome_of_status(run).to_owned(),
                        )
                    }
                };
                rows.push((name.clone(), outcome));
                exes.push(DoctestExe {
                    exe: run.exe.clone(),
                    merged: false,
                    names: vec![name],
                });
            }
            Kind::Unwrapped => unwrapped.push(*run),
        }
    }
    // Rustdoc's lines left for doctests with their own `main`: those that ran (not ignored, not
    // only compiled) and are no merged harness's.
    let mut left: Vec<&TestOutcome> = printed
        .iter()
        .filter(|t| {
            t.outcome != "ignored"
                && !t.compile_only
                && !claimed.contains(t.name.as_str())
                && !merged_names.contains(t.name.as_str())
        })
        .collect();
    // A line whose doctest is the only one left among those that had ended when it was read.
    loop {
        let found = left.iter().enumerate().find_map(|(i, t)| {
            let ended = printed_doctests.ended_before.get(&t.name)?;
            let mut candidates = unwrapped
                .iter()
                .enumerate()
                .filter(|(_, r)| r.pid.is_some_and(|pid| ended.contains(&pid)));
            match (candidates.next(), candidates.next()) {
                (Some((r, _)), None) => Some((i, r)),
                _ => None,
            }
        });
        let Some((i, r)) = found else { break };
        let t = left.remove(i);
        let run = unwrapped.remove(r);
        rows.push((t.name.clone(), t.outcome.clone()));
        exes.push(DoctestExe {
            exe: run.exe.clone(),
            merged: false,
            names: vec![t.name.clone()],
        });
    }
    match (unwrapped.as_slice(), left.as_slice()) {
        ([], _) => {}
        ([run], [t]) => {
            rows.push((t.name.clone(), t.outcome.clone()));
            exes.push(DoctestExe {
                exe: run.exe.clone(),
                merged: false,
                names: vec![t.name.clone()],
            });
        }
        (runs, left) => {
            named_all = false;
            let name = "(doctests with their own main)";
            notes.push(format!(
                "{} defining `main` {}: {} counted together as `{name}`",
                if runs.len() == 1 {
                    "one doctest".to_owned()
                } else {
                    format!("{} doctests", runs.len())
                },
                if left.is_empty() {
                    "ran, which rustdoc's output did not name (terse format?)"
                } else {
                    "ended too close together to be told apart (rustdoc names doctests by file \
                     and line, which only the others carry)"
                },
                if runs.len() == 1 { "it is" } else { "they are" }
            ));
            for run in runs {
                exes.push(DoctestExe {
                    exe: run.exe.clone(),
                    merged: false,
                    names: vec![name.to_owned()],
                });
            }
        }
    }
    // Ignored doctests, as ignored tests are listed.
    for t in printed {
        if t.outcome == "ignored"
            && !merged_names.contains(t.name.as_str())
            && !rows.iter().any(|(n, _)| *n == t.name)
        {
            rows.push((t.name.clone(), t.outcome.clone()));
        }
    }
    rows.sort();
    rows.dedup();
    let binary = TestBinary {
        exe: String::new(),
        label: LABEL.to_owned(),
        bench: false,
        libtest: true,
        names_complete: named_all,
        outcomes: rows,
        exit_ok: None,
        doctests: exes,
    };
    (Some(binary), notes)
}

/// The files under the `packages` directories that doctests can come from (`.rs`, `.md`), as
/// `(rustdoc's spelling in function names, path relative to root)`; only those whose spelling is
/// theirs alone. Build outputs and hidden directories are skipped, and at most a few thousand
/// entries are read.
fn source_files(root: &Path, packages: &[PathBuf]) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    let mut pending: Vec<PathBuf> = packages.to_vec();
    let mut budget = 20_000_usize;
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(std::result::Result::ok) {
            budget = budget.saturating_sub(1);
            if budget == 0 {
                return unique(found);
            }
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "target" {
                continue;
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(path);
            } else if name.ends_with(".rs") || name.ends_with(".md") {
                if let Ok(relative) = path.strip_prefix(root) {
                    let relative = relative.to_string_lossy().into_owned();
                    found.push((sanitized(&relative), relative));
                }
            }
        }
    }
    unique(found)
}

fn unique(mut files: Vec<(String, String)>) -> Vec<(String, String)> {
    files.sort();
    files.dedup();
    let mut count: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (spelling, _) in &files {
        *count.entry(spelling.clone()).or_default() += 1;
    }
    files.retain(|(spelling, _)| count[spelling] == 1);
    files
}

/// A doctest's outcome when rustdoc did not print it: only success is certain (a `should_panic`
/// doctest passes by failing).
fn outcome_of_status(run: &BinaryOutcome) -> &'static str {
    if run.exit_code == Some(0) {
        "passed"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_symbols() {
        assert_eq!(
            name_parts("src/lib.rs - Foo::bar (line 12)"),
            Some(("src/lib.rs", 12))
        );
        assert_eq!(name_parts("src/lib.rs - (line 1)"), Some(("src/lib.rs", 1)));
        assert_eq!(name_parts("tests::x"), None);
        assert_eq!(sanitized("crates/a-b/src/lib.rs"), "crates_a_b_src_lib_rs");
        let expect = Some(Kind::Wrapped {
            file: "src_lib_rs".to_owned(),
            line: 12,
            n: 0,
        });
        assert_eq!(
            wrapped("_ZN8rust_out4main29_doctest_main_src_lib_rs_12_017h54ff4948e2f9e7faE"),
            expect
        );
        assert_eq!(
            wrapped("_RNvNvCs1_8rust_out4main29__doctest_main_src_lib_rs_12_0"),
            expect
        );
        assert_eq!(wrapped("_ZN8rust_out4main17h54ff4948e2f9e7faE"), None);
    }

    /// Doctests with their own `main` (here: executables with no readable symbols) are matched
    /// by which processes had ended when rustdoc's line was read.
    #[test]
    fn own_main_doctests_by_the_order_they_ended() {
        let run = |pid: u32| BinaryOutcome {
            exe: format!("/nonexistent/{pid}/rust_out"),
            exit_code: Some(0),
            signal: None,
            libtest: false,
            names_complete: false,
            tests: Vec::new(),
            filtered_out: None,
            doctest: true,
            pid: Some(pid),
        };
        let line = |name: &str| TestOutcome {
            name: name.to_owned(),
            outcome: "passed".to_owned(),
            compile_only: false,
        };
        let printed = |ended: [&[u32]; 2]| PrintedDoctests {
            tests: vec![
                line("src/lib.rs - a (line 3)"),
                line("src/lib.rs - b (line 9)"),
            ],
            ended_before: [
                ("src/lib.rs - a (line 3)", ended[0]),
                ("src/lib.rs - b (line 9)", ended[1]),
            ]
            .into_iter()
            .map(|(n, pids)| (n.to_owned(), pids.iter().copied().collect()))
            .collect(),
        };
        let runs = [run(7), run(5)];
        let (binary, notes) = binary(&runs, &printed([&[5], &[5, 7]]), Path::new("/"), &[]);
        let binary = binary.unwrap();
        let names: Vec<(&str, &str)> = binary
            .doctests
            .iter()
            .map(|d| (d.exe.as_str(), d.names[0].as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("/nonexistent/5/rust_out", "src/lib.rs - a (line 3)"),
                ("/nonexistent/7/rust_out", "src/lib.rs - b (line 9)")
            ]
        );
        assert!(notes.is_empty() && binary.names_complete, "{notes:?}");
        // Both had ended before either line was read: they cannot be told apart.
        let (binary, notes) = binary_of(&runs, &printed([&[5, 7], &[5, 7]]));
        assert!(binary
            .doctests
            .iter()
            .all(|d| d.names == ["(doctests with their own main)"]));
        assert!(!binary.names_complete);
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn doctests_that_did_not_come_through_the_runner_are_said_to_be_unprofiled() {
        let printed = PrintedDoctests {
            tests: vec![TestOutcome {
                name: "src/lib.rs - a (line 3)".to_owned(),
                outcome: "passed".to_owned(),
                compile_only: false,
            }],
            ended_before: HashMap::new(),
        };
        let (entry, notes) = binary(&[], &printed, Path::new("/"), &[]);
        assert!(entry.is_none());
        assert_eq!(notes.len(), 1);
        assert!(notes[0].starts_with("1 doctest ran without"), "{notes:?}");
        let (entry, notes) = binary(&[], &PrintedDoctests::default(), Path::new("/"), &[]);
        assert!(entry.is_none() && notes.is_empty());
    }

    fn binary_of(runs: &[BinaryOutcome], printed: &PrintedDoctests) -> (TestBinary, Vec<String>) {
        let (binary, notes) = binary(runs, printed, Path::new("/"), &[]);
        (binary.unwrap(), notes)
    }
}
