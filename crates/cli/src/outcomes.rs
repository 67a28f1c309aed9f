//! Test outcomes, read from libtest's own output as it streams past the runner.
//!
//! libtest's default ("pretty") format prints `test NAME ... ok` (or `FAILED`, `ignored`) for each
//! test; with one test thread the result may come on a later line, after the test's own output
//! when it is not captured. libtest appends a test's mode to its name on that line
//! (`test tests::x - should panic ... ok`): the name is the part before it. The terse format
//! (`-q`) prints no names: then only the failures, which libtest lists by name at the end, are
//! known.

use serde::{Deserialize, Serialize};

/// What the runner learned about one test executable.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BinaryOutcome {
    pub exe: String,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// libtest's "running N tests" line was seen.
    pub libtest: bool,
    /// Every test that ran was named in the output (pretty format).
    pub names_complete: bool,
    pub tests: Vec<TestOutcome>,
    /// How many tests a name filter left out, from libtest's summary line.
    #[serde(default)]
    pub filtered_out: Option<usize>,
    /// The executable is a doctest rustdoc built (see [`crate::doctests`]).
    #[serde(default)]
    pub doctest: bool,
    /// The process's pid.
    #[serde(default)]
    pub pid: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TestOutcome {
    pub name: String,
    /// `passed`, `failed` or `ignored`.
    pub outcome: String,
    /// A doctest that is only compiled (`no_run`, `compile_fail`): nothing of it runs.
    #[serde(default)]
    pub compile_only: bool,
}

#[derive(Debug, Default)]
pub struct Parser {
    partial: Vec<u8>,
    pending: Option<String>,
    libtest: bool,
    announced: usize,
    in_failures: bool,
    in_dump: bool,
    tests: Vec<TestOutcome>,
    filtered_out: Option<usize>,
    compile_only: std::collections::HashSet<String>,
}

impl Parser {
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                let line = String::from_utf8_lossy(&self.partial).into_owned();
                self.partial.clear();
                self.line(line.trim_end_matches('\r'));
            } else if self.partial.len() < 64 * 1024 {
                self.partial.push(b);
            }
        }
    }

    fn line(&mut self, line: &str) {
        let plain = strip_ansi(line);
        let line = plain.as_str();
        if let Some(rest) = line.strip_prefix("running ") {
            if let Some(n) = rest
                .strip_suffix(" tests")
                .or_else(|| rest.strip_suffix(" test"))
            {
                if let Ok(n) = n.parse::<usize>() {
                    self.libtest = true;
                    self.announced += n;
                    self.in_failures = false;
                    return;
                }
            }
        }
        if line == "failures:" || line == "successes:" {
            self.in_failures = line == "failures:";
            self.in_dump = false;
            return;
        }
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|r| r.strip_suffix(" stdout ----"))
        {
            // The captured output of a failed (or, with --show-output, any) test follows, until
            // the next section: none of it is libtest's.
            if self.in_failures {
                self.record(name, "failed");
            }
            self.in_dump = true;
            return;
        }
        if line.starts_with("test result:") {
            self.in_failures = false;
            self.in_dump = false;
            if let Some(n) = filtered_out(line) {
                *self.filtered_out.get_or_insert(0) += n;
            }
            return;
        }
        if self.in_dump {
            return;
        }
        if self.in_failures {
            if let Some(name) = line.strip_prefix("    ") {
                let doctest = name_parts(name).is_some();
                if !name.is_empty() && (!name.contains(' ') || doctest) {
                    self.record(name, "failed");
                }
            } else if line.starts_with("test result:") {
                self.in_failures = false;
            }
            return;
        }
        if let Some(rest) = line.strip_prefix("test ") {
            if let Some((name, result)) = rest.split_once(" ... ") {
                let (name, mode) = split_mode(name);
                if matches!(mode, Some("compile" | "compile fail")) {
                    self.compile_only.insert(name.to_owned());
                }
                match outcome_word(result) {
                    Some(o) => self.record(name, o),
                    None if result.trim().is_empty() => self.pending = Some(name.to_owned()),
                    None => {}
                }
                return;
            }
        }
        if let Some(name) = self.pending.clone() {
            if let Some(o) = outcome_word(line) {
                self.record(&name, o);
                self.pending = None;
            }
        }
    }

    /// The tests recorded so far, in the order they were first seen.
    pub fn tests(&self) -> &[TestOutcome] {
        &self.tests
    }

    fn record(&mut self, name: &str, outcome: &str) {
        match self.tests.iter_mut().find(|t| t.name == name) {
            // A failure listed again in the summary keeps its result.
            Some(t) => {
                if outcome == "failed" {
                    t.outcome = outcome.to_owned();
                }
            }
            None => self.tests.push(TestOutcome {
                name: name.to_owned(),
                outcome: outcome.to_owned(),
                compile_only: self.compile_only.contains(name),
            }),
        }
    }

    pub fn finish(
        mut self,
        exe: String,
        exit_code: Option<i32>,
        signal: Option<i32>,
    ) -> BinaryOutcome {
        if !self.partial.is_empty() {
            let line = String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned();
            self.line(&line);
        }
        let names_complete = self.libtest && self.tests.len() >= self.announced;
        BinaryOutcome {
            exe,
            exit_code,
            signal,
            libtest: self.libtest,
            names_complete,
            tests: self.tests,
            filtered_out: self.filtered_out,
            doctest: false,
            pid: None,
        }
    }
}

/// The test's name and the mode libtest's pretty format appends to it (libtest's
/// `TestDesc::test_mode`: `should panic`, and for doctests `compile fail` and `compile`).
fn split_mode(name: &str) -> (&str, Option<&'static str>) {
    ["should panic", "compile fail", "compile"]
        .into_iter()
        .find_map(|mode| {
            let plain = name.strip_suffix(mode)?.strip_suffix(" - ")?;
            Some((plain, Some(mode)))
        })
        .unwrap_or((name, None))
}

/// N of libtest's `test result: ok. 3 passed; ...; N filtered out; finished in 0.01s`.
fn filtered_out(line: &str) -> Option<usize> {
    line.split(';')
        .find_map(|part| part.trim().strip_suffix(" filtered out")?.parse().ok())
}

fn outcome_word(s: &str) -> Option<&'static str> {
    let s = s.trim();
    if s == "ok" {
        Some("passed")
    } else if s == "FAILED" {
        Some("failed")
    } else if s == "ignored" || s.starts_with("ignored,") {
        Some("ignored")
    } else {
        None
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `("src/lib.rs", 12)` for rustdoc's name of a doctest `src/lib.rs - Foo::bar (line 12)` (or
/// `src/lib.rs - (line 1)` for a crate's or module's own documentation).
pub fn name_parts(name: &str) -> Option<(&str, usize)> {
    let (file, rest) = name.split_once(" - ")?;
    let line = rest.strip_suffix(')')?.rsplit_once("(line ")?.1;
    Some((file, line.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> BinaryOutcome {
        let mut p = Parser::default();
        // Feed in awkward chunks: lines split across reads.
        for chunk in text.as_bytes().chunks(7) {
            p.feed(chunk);
        }
        p.finish("x".into(), Some(101), None)
    }

    #[test]
    fn pretty_output() {
        let out = parse(
            "\nrunning 4 tests\ntest a::b ... ok\ntest c ... FAILED\ntest d ... ignored, slow\n\
             test e ... \u{1b}[32mok\u{1b}[0m\n\nfailures:\n\n---- c stdout ----\n    indented\n\n\
             failures:\n    c\n\ntest result: FAILED. 2 passed; 1 failed; 1 ignored\n",
        );
        assert!(out.libtest && out.names_complete);
        let got: Vec<(&str, &str)> = out
            .tests
            .iter()
            .map(|t| (t.name.as_str(), t.outcome.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("a::b", "passed"),
                ("c", "failed"),
                ("d", "ignored"),
                ("e", "passed")
            ]
        );
    }

    #[test]
    fn should_panic_tests_keep_their_plain_name() {
        let out = parse(
            "\nrunning 3 tests\ntest tests::x - should panic ... ok\n\
             test tests::y - should panic ... FAILED\ntest tests::z ... ignored, has a reason\n\n\
             failures:\n\n---- tests::y stdout ----\nnote: test did not panic as expected\n\n\
             failures:\n    tests::y\n\ntest result: FAILED. 1 passed; 1 failed; 1 ignored\n",
        );
        let got: Vec<(&str, &str)> = out
            .tests
            .iter()
            .map(|t| (t.name.as_str(), t.outcome.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("tests::x", "passed"),
                ("tests::y", "failed"),
                ("tests::z", "ignored")
            ]
        );
        assert!(out.names_complete);
        // With one test thread the result may follow the test's own output.
        let out = parse("running 1 test\ntest tests::x - should panic ... \nprinted\nok\n");
        assert_eq!(out.tests[0].name, "tests::x");
        assert_eq!(out.tests[0].outcome, "passed");
    }

    #[test]
    fn doctest_lines() {
        let out = parse(
            "\nrunning 4 tests\ntest src/lib.rs - f (line 3) ... ok\n\
             test src/lib.rs - g (line 9) - compile ... ok\n\
             test src/lib.rs - g (line 12) - compile fail ... ok\n\
             test src/lib.rs - (line 1) ... FAILED\n\nfailures:\n\n\
             ---- src/lib.rs - (line 1) stdout ----\nTest executable failed (exit status: 101).\n\n\
             failures:\n    src/lib.rs - (line 1)\n\n\
             test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 2 filtered out; \
             finished in 0.31s\n",
        );
        let got: Vec<(&str, &str, bool)> = out
            .tests
            .iter()
            .map(|t| (t.name.as_str(), t.outcome.as_str(), t.compile_only))
            .collect();
        assert_eq!(
            got,
            [
                ("src/lib.rs - f (line 3)", "passed", false),
                ("src/lib.rs - g (line 9)", "passed", true),
                ("src/lib.rs - g (line 12)", "passed", true),
                ("src/lib.rs - (line 1)", "failed", false)
            ]
        );
        assert_eq!(out.filtered_out, Some(2));
        // Terse: only the failure is named, also with the spaces of a doctest's name.
        let out = parse(
            "running 2 tests\n.F\nfailures:\n    src/lib.rs - f (line 3)\n\n\
             test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n",
        );
        assert_eq!(out.tests.len(), 1);
        assert_eq!(out.tests[0].name, "src/lib.rs - f (line 3)");
        assert_eq!(out.filtered_out, Some(0));
    }

    #[test]
    fn result_on_a_later_line() {
        let out = parse("running 1 test\ntest slow ... some output\nok\n");
        assert_eq!(out.tests.len(), 0, "a line with other text is not a result");
        let out = parse("running 1 test\ntest slow ... \nprinted by the test\nok\n");
        assert_eq!(out.tests[0].outcome, "passed");
    }

    #[test]
    fn terse_output_knows_only_failures() {
        let out = parse("\nrunning 3 tests\n.F.\nfailures:\n    bad\n\ntest result: FAILED.\n");
        assert!(!out.names_complete);
        assert_eq!(out.tests.len(), 1);
        assert_eq!(out.tests[0].outcome, "failed");
    }

    #[test]
    fn not_libtest() {
        let out = parse("Benchmarking parse: Warming up\n");
        assert!(!out.libtest);
    }
}
