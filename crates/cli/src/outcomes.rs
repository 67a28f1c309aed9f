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
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TestOutcome {
    pub name: String,
    /// `passed`, `failed` or `ignored`.
    pub outcome: String,
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
            return;
        }
        if self.in_dump {
            return;
        }
        if self.in_failures {
            if let Some(name) = line.strip_prefix("    ") {
                if !name.is_empty() && !name.contains(' ') {
                    self.record(name, "failed");
                }
            } else if line.starts_with("test result:") {
                self.in_failures = false;
            }
            return;
        }
        if let Some(rest) = line.strip_prefix("test ") {
            if let Some((name, result)) = rest.split_once(" ... ") {
                let name = without_mode(name);
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
        }
    }
}

/// The test's name without the mode libtest's pretty format appends to it (libtest's
/// `TestDesc::test_mode`: `should panic`, and for doctests `compile fail` and `compile`).
fn without_mode(name: &str) -> &str {
    [" - should panic", " - compile fail", " - compile"]
        .iter()
        .find_map(|mode| name.strip_suffix(mode))
        .unwrap_or(name)
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
