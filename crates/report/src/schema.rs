//! The JSON report, format `cargo-alloc-profile`, version 1: the one definition of its fields,
//! written by `render/json.rs` (from an [`Analysis`](crate::analysis::Analysis)) and read
//! back by [`Report::from_slice`] (`cargo alloc-profile diff`, and any other reader in Rust).
//!
//! A contract with tools: later versions add fields, never rename or remove them, and a change of
//! meaning bumps [`VERSION`]. Field order follows the declaration order below. Counts and bytes are
//! exact integers. Source files are relative to `workspace_root` when they lie under it, as recorded
//! in the debug info otherwise.
//!
//! ```json
//! {"format": "cargo-alloc-profile", "version": 1, "command": [..], "exit_code": 0,
//!  "totals": {"allocations", "reallocations", "bytes", "frees", "peak_bytes",
//!             "leaked_allocations", "leaked_bytes", ..},
//!  "functions": [{"name", "module", "crate", "workspace", "self_allocations", "self_bytes",
//!                 "total_allocations", "total_bytes", "file", "line", ..}],
//!  "modules": [{"name", "crate", "workspace", "allocations", "bytes", ..}],
//!  "zero_allocation_functions": ["name", ..], ..}
//! ```
//!
//! Fields added in version 1 after its first release (tools must not require them):
//! - `totals`: `peak_time_ns`, `peak_process_elapsed_ns`, `peak_percent` (when the peak happened in
//!   the process that had it, and where in its run, in whole percent), `temporary_allocations`,
//!   `growth_chains`, `growth_reallocs`, `size_histogram`.
//! - `functions[]`: `peak_bytes` (self bytes live at the peak), `self_frees`,
//!   `temporary_allocations`, `mean_lifetime_ns` (null without frees, or when lifetimes were not measured: they are measured
//!   only with `--lifetimes`), `max_lifetime_ns` (null likewise),
//!   `growth_chains`, `growth_reallocs`, `growth_max_reallocs`, `growth_max_final_bytes`,
//!   `size_histogram`.
//! - `processes[]`: `peak_time_ns`, `elapsed_ns`.
//! - `size_histogram` (in `totals` and `functions[]`): the non-empty power-of-two buckets, smallest
//!   first, as `{"min_bytes", "max_bytes", "allocations"}`; `max_bytes` is null for the last,
//!   open-ended bucket; empty when the profile has no histograms.
//! - `leaks`: `[{"function", "kind", "allocations", "bytes", "file", "line", "via"}]`, blocks still live at
//!   exit. `kind` `workspace`: `function` is your function (the self function of the sites). Other
//!   kinds are the runtime's own, listed after yours under their module (`(runtime)`,
//!   `(C library internal)`, a dependency module) with null `file` and `line`.
//! - `insights`: `[{"kind", "function", "file", "line", "allocations", "avoidable", "message",
//!   "via"}]`, advice most avoidable first; `kind` is `preallocate`, `string-building`, `clone` or
//!   `borrow`; following it leaves `allocations - avoidable` of the `allocations`.
//!
//! - `budgets`: `[{"scope", "name", "metric", "limit", "actual", "binary", "result", "reason",
//!   "source"}]`, one per limit of each budget in `Cargo.toml` (see the `budget` module):
//!   `scope` `run`, `function` or `test`; `name` null for `run`; `metric` `allocations`, `bytes`,
//!   `peak` or `leaked`; `result` `within`, `exceeded` or `not-checked` (then `actual` is null and
//!   `reason` says why); `binary` the test's binary, for tests. Empty without budgets. Added
//!   later: `pattern`, the key when it is a pattern (`name` is then what it held).
//!
//! All of these are defined in the `analyze`, `insights` and `budget` module documentation.
//!
//! `functions` lists every workspace function with a non-zero total, by total allocations
//! descending, then name; dependencies are reported as modules only (a dependency function's
//! allocations are already in the self and total of the workspace function that called it).
//!
//! # Reading
//! [`Report::from_slice`] reads every report of this version, also those written before a field
//! was added: it needs only `format`, `version`, the `totals`' `allocations`, `bytes`,
//! `peak_bytes` and `leaked_allocations`, each function's `name` and `total_allocations`, each
//! module's `name`, `allocations` and `bytes`, and each test's `name`, `binary`, `allocations` and
//! `bytes`. Any other field of the report, its totals, functions, modules and tests may be missing
//! and reads as 0, false, empty or null; the entries of the other lists (`processes`, `leaks`,
//! `insights`, `budgets`, `harness`, size buckets) need their fields but those added later
//! (`processes[]`' `peak_time_ns` and `elapsed_ns`).

use serde::{Deserialize, Serialize};

use crate::analysis::ProcessEnd;
use crate::attribute::ModuleKind;
use crate::budget::types::Metric;
use crate::insights::InsightKind;

/// Value of the `format` field.
pub const FORMAT: &str = "cargo-alloc-profile";
/// Value of the `version` field.
pub const VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub format: String,
    pub version: u32,
    #[serde(default)]
    pub command: Vec<String>,
    pub exit_code: Option<i32>,
    pub totals: JsonTotals,
    pub functions: Vec<JsonFunction>,
    #[serde(default)]
    pub modules: Vec<JsonModule>,
    #[serde(default)]
    pub zero_allocation_functions: Vec<String>,
    // Extra fields of version 1.
    #[serde(default)]
    pub target: String,
    /// Set when the program was killed by a signal.
    pub signal: Option<JsonSignal>,
    #[serde(default)]
    pub notes: Vec<String>,
    pub workspace_root: Option<String>,
    #[serde(default)]
    pub processes: Vec<JsonProcess>,
    /// For `test` and `bench`: one entry per test or benchmark.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tests: Option<Vec<JsonTest>>,
    /// For `test`: names of the tests that ran and allocated nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zero_allocation_tests: Option<Vec<String>>,
    /// For `test` and `bench`: allocations in each binary that belong to no test.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub harness: Option<Vec<JsonHarness>>,
    /// Blocks still live at exit: your functions first, then the runtime's own.
    #[serde(default)]
    pub leaks: Vec<JsonLeak>,
    /// Advice, most avoidable allocations first.
    #[serde(default)]
    pub insights: Vec<JsonInsight>,
    /// Budgets from `Cargo.toml`, each limit checked.
    #[serde(default)]
    pub budgets: Vec<JsonBudget>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonBudget {
    pub scope: BudgetScope,
    pub name: Option<String>,
    pub metric: Metric,
    pub limit: u64,
    pub actual: Option<u64>,
    pub binary: Option<String>,
    pub result: BudgetResult,
    /// Why it was not checked (`result` `not-checked`), else null.
    pub reason: Option<String>,
    pub source: String,
    /// The key in `Cargo.toml` when it is a pattern (`"tests::*"`): `name` is then the function
    /// or test it held (or the pattern itself when it held none); null for a plain name.
    pub pattern: Option<String>,
}

/// One power-of-two bucket of a size histogram; only non-empty buckets are listed, smallest
/// first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonBucket {
    /// Smallest and largest request size of the bucket; `max_bytes` is null for the last bucket,
    /// which holds everything larger.
    pub min_bytes: u64,
    pub max_bytes: Option<u64>,
    pub allocations: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonLeak {
    /// Your function, or for `kind` other than `workspace` the module as in `modules`.
    pub function: String,
    /// `workspace`, `dependency`, `runtime` or `libc_internal`.
    pub kind: ModuleKind,
    pub allocations: u64,
    pub bytes: u64,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// For `workspace` leaks: the call through which most of them were allocated (as `via` of
    /// `functions`), or null.
    pub via: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonInsight {
    /// `preallocate`, `string-building`, `clone` or `borrow`.
    pub kind: InsightKind,
    pub function: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// Allocations the advice is about, and how many of them it saves.
    pub allocations: u64,
    pub avoidable: u64,
    pub message: String,
    /// The API the evidence is about.
    pub via: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonTest {
    pub name: String,
    pub binary: String,
    pub allocations: u64,
    pub bytes: u64,
    /// The test's peak of live bytes (its thread's); null when not measured (benchmarks).
    pub peak_bytes: Option<u64>,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub leaked_allocations: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonHarness {
    pub binary: String,
    pub allocations: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonSignal {
    pub number: i32,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonTotals {
    pub allocations: u64,
    #[serde(default)]
    pub reallocations: u64,
    pub bytes: u64,
    #[serde(default)]
    pub frees: u64,
    /// Largest peak of live bytes of any one process.
    pub peak_bytes: u64,
    pub leaked_allocations: u64,
    #[serde(default)]
    pub leaked_bytes: u64,
    // Extra fields.
    #[serde(default)]
    pub freed_bytes: u64,
    #[serde(default)]
    pub libc_internal_allocations: u64,
    #[serde(default)]
    pub libc_internal_bytes: u64,
    #[serde(default)]
    pub unattributed_allocations: u64,
    #[serde(default)]
    pub truncated_stack_allocations: u64,
    /// Allocations (and bytes) of std's panic machinery: the message and, with
    /// `RUST_BACKTRACE`, the backtrace symbolizer; the runtime's, in no function's self numbers.
    #[serde(default)]
    pub panic_allocations: u64,
    #[serde(default)]
    pub panic_bytes: u64,
    /// When the process with the largest peak reached it and how long that process ran, in ns
    /// from its start; `peak_percent` is their ratio in whole percent (null without a peak).
    #[serde(default)]
    pub peak_time_ns: u64,
    #[serde(default)]
    pub peak_process_elapsed_ns: u64,
    pub peak_percent: Option<u64>,
    #[serde(default)]
    pub temporary_allocations: u64,
    #[serde(default)]
    pub growth_chains: u64,
    #[serde(default)]
    pub growth_reallocs: u64,
    #[serde(default)]
    pub size_histogram: Vec<JsonBucket>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonFunction {
    pub name: String,
    #[serde(default)]
    pub module: String,
    #[serde(rename = "crate")]
    pub crate_name: Option<String>,
    #[serde(default)]
    pub workspace: bool,
    #[serde(default)]
    pub self_allocations: u64,
    #[serde(default)]
    pub self_bytes: u64,
    pub total_allocations: u64,
    #[serde(default)]
    pub total_bytes: u64,
    pub file: Option<String>,
    pub line: Option<u32>,
    // Extra fields.
    pub via: Option<String>,
    #[serde(default)]
    pub self_reallocations: u64,
    #[serde(default)]
    pub self_leaked_allocations: u64,
    #[serde(default)]
    pub self_leaked_bytes: u64,
    /// Self bytes live at the run's peak.
    #[serde(default)]
    pub peak_bytes: u64,
    #[serde(default)]
    pub self_frees: u64,
    #[serde(default)]
    pub temporary_allocations: u64,
    /// Null when no self allocation was freed.
    pub mean_lifetime_ns: Option<u64>,
    /// Null unless lifetimes were measured (`--lifetimes`).
    pub max_lifetime_ns: Option<u64>,
    #[serde(default)]
    pub growth_chains: u64,
    #[serde(default)]
    pub growth_reallocs: u64,
    #[serde(default)]
    pub growth_max_reallocs: u64,
    #[serde(default)]
    pub growth_max_final_bytes: u64,
    #[serde(default)]
    pub size_histogram: Vec<JsonBucket>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonModule {
    pub name: String,
    #[serde(rename = "crate")]
    pub crate_name: Option<String>,
    #[serde(default)]
    pub workspace: bool,
    pub allocations: u64,
    pub bytes: u64,
    // Extra fields.
    /// `workspace`, `dependency`, `runtime` or `libc_internal` (always written; missing only in
    /// reports written before it was added).
    pub kind: Option<ModuleKind>,
    #[serde(default)]
    pub reallocations: u64,
    #[serde(default)]
    pub leaked_allocations: u64,
    #[serde(default)]
    pub leaked_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonProcess {
    pub exe: String,
    pub args: Vec<String>,
    /// `exit`, `signal`, `exec`, `_exit` or `unknown`.
    pub end: ProcessEnd,
    /// Exit code or signal number, depending on `end`.
    pub end_detail: i32,
    pub allocations: u64,
    pub bytes: u64,
    pub peak_bytes: u64,
    /// Nanoseconds from the interposer's start to the peak, and to the end of the profile.
    #[serde(default)]
    pub peak_time_ns: u64,
    #[serde(default)]
    pub elapsed_ns: u64,
}

/// `scope` of a [`JsonBudget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetScope {
    /// The whole run (`name` null).
    Run,
    /// A function (`name`).
    Function,
    /// A test or benchmark (`name`, and its `binary`).
    Test,
}

/// `result` of a [`JsonBudget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BudgetResult {
    Within,
    Exceeded,
    /// Not applicable to this run: `actual` is null and `reason` says why.
    NotChecked,
}

/// Why bytes are not a report this build reads; the message says what they are instead.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadError {
    /// Not JSON at all.
    NotJson(serde_json::Error),
    /// JSON without `"format": "cargo-alloc-profile"`.
    NotAReport,
    /// A field a reader needs is missing or has the wrong type (the source says which).
    Invalid(serde_json::Error),
    /// A report of another version.
    Version(u32),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotJson(e) => {
                write!(f, "not a JSON report ({e}); write one with `--format json`")
            }
            ReadError::NotAReport => write!(
                f,
                "not a cargo-alloc-profile report (no \"format\": \"{FORMAT}\")"
            ),
            ReadError::Invalid(_) => f.write_str("a field of the report is missing or wrong"),
            ReadError::Version(v) => write!(
                f,
                "report version {v} is not supported by this build (it reads version {VERSION}); \
                 use the cargo-alloc-profile that wrote it"
            ),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

impl Report {
    /// Reads a JSON report (see [Reading](self#reading)): JSON, then its `format`, then the fields,
    /// then its `version`.
    ///
    /// # Errors
    /// When `bytes` are not JSON, not a report, miss a field or are of another version.
    pub fn from_slice(bytes: &[u8]) -> Result<Report, ReadError> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(ReadError::NotJson)?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(ReadError::NotAReport);
        }
        let report: Report = serde_json::from_value(value).map_err(ReadError::Invalid)?;
        if report.version != VERSION {
            return Err(ReadError::Version(report.version));
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(value: impl Serialize) -> String {
        match serde_json::to_value(value).unwrap() {
            serde_json::Value::String(s) => s,
            other => panic!("{other}"),
        }
    }

    /// Each enum's JSON name is the name the rest of the crate gives it, and reads back.
    #[test]
    fn enums_are_written_by_their_names() {
        fn check<
            T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug + Copy,
        >(
            pairs: &[(T, &str)],
        ) {
            for &(value, expected) in pairs {
                assert_eq!(name(value), expected);
                let back: T = serde_json::from_value(serde_json::json!(expected)).unwrap();
                assert_eq!(back, value);
            }
        }
        use ModuleKind::{Dependency, LibcInternal, Runtime, Workspace};
        check(&[Workspace, Dependency, Runtime, LibcInternal].map(|k| (k, k.as_str())));
        use InsightKind::{Borrow, Clone, Preallocate, StringBuilding};
        check(&[Preallocate, StringBuilding, Clone, Borrow].map(|k| (k, k.as_str())));
        use ProcessEnd::{Exec, Exit, Signal, UnderscoreExit, Unknown};
        check(&[Exit, Signal, Exec, UnderscoreExit, Unknown].map(|e| (e, e.as_str())));
        use Metric::{Allocations, Bytes, Leaked, Peak};
        check(&[Allocations, Bytes, Peak, Leaked].map(|m| (m, m.as_str())));
        check(&[
            (BudgetScope::Run, "run"),
            (BudgetScope::Function, "function"),
            (BudgetScope::Test, "test"),
        ]);
        check(&[
            (BudgetResult::Within, "within"),
            (BudgetResult::Exceeded, "exceeded"),
            (BudgetResult::NotChecked, "not-checked"),
        ]);
    }

    /// A reader needs only the fields the first reader (`diff`) needed.
    #[test]
    fn the_fields_a_reader_needs() {
        let minimal = br#"{"format": "cargo-alloc-profile", "version": 1,
            "totals": {"allocations": 5, "bytes": 1, "peak_bytes": 2, "leaked_allocations": 0},
            "functions": [{"name": "x::y", "total_allocations": 3}],
            "modules": [{"name": "x", "allocations": 5, "bytes": 1}],
            "tests": [{"name": "t", "binary": "b", "allocations": 1, "bytes": 1}]}"#;
        let r = Report::from_slice(minimal).unwrap();
        assert_eq!(r.functions[0].total_bytes, 0);
        assert_eq!(r.modules[0].kind, None);
        assert!(r.leaks.is_empty());
        let err = |bytes: &[u8]| Report::from_slice(bytes).unwrap_err().to_string();
        assert!(err(b"{").starts_with("not a JSON report ("));
        assert!(err(br#"{"format": "x"}"#).starts_with("not a cargo-alloc-profile report"));
        assert_eq!(
            err(br#"{"format": "cargo-alloc-profile", "version": 1}"#),
            "a field of the report is missing or wrong"
        );
        let newer = String::from_utf8_lossy(minimal).replace("\"version\": 1", "\"version\": 7");
        assert!(err(newer.as_bytes()).starts_with("report version 7 is not supported"));
    }
}
