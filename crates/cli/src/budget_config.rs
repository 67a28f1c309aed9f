//! Allocation budgets written in `Cargo.toml`, as `cargo metadata` hands them over:
//!
//! ```toml
//! [package.metadata.alloc-profile.budget]      # or [workspace.metadata.alloc-profile.budget]
//! allocations = 10_000     # the whole run of `cargo alloc-profile run`
//! bytes = "4 MiB"          # requested bytes: a number, or a size in B, KiB, MiB or GiB
//! peak = "1 MiB"           # peak live bytes
//! leaked = 0               # allocations still live at exit
//!
//! [package.metadata.alloc-profile.budget.functions]
//! "my_crate::parse::lex" = { allocations = 100, bytes = "64 KiB" }   # the function's total
//!
//! [package.metadata.alloc-profile.budget.tests]
//! "tests::parses_small" = { allocations = 5 }   # a test or benchmark, named as in the report
//! "tests::big_input" = { peak = "256 KiB" }     # a test's peak live bytes
//! "tests::*" = { allocations = 1_000 }          # a pattern: `*` any text, `?` one character
//! "*" = { bytes = "1 MiB" }                     # every test no more specific key matches
//! ```
//!
//! Function and test keys are names or patterns ([`Pattern`]); the most specific key matching a
//! function or test holds it (see [`alloc_profile_report::budget`]).
//!
//! A mistake in a budget is an error before anything is built, naming the table and the key.

use anyhow::{bail, Result};
use serde_json::Value;

use alloc_profile_report::budget::{Budget, Limits, Pattern, Scope};

const RUN_KEYS: &str = "allocations, bytes, peak, leaked, functions, tests";
const FUNCTION_KEYS: &str = "allocations, bytes";
const TEST_KEYS: &str = "allocations, bytes, peak";

/// The budgets in one `metadata` value (`[package.metadata]` or `[workspace.metadata]`); `table`
/// names it in messages (`package.metadata` or `workspace.metadata`) and `source` says which
/// `Cargo.toml` it came from.
pub fn from_metadata(metadata: &Value, table: &str, source: &str) -> Result<Vec<Budget>> {
    let Some(budget) = metadata.get("alloc-profile").and_then(|v| v.get("budget")) else {
        return Ok(Vec::new());
    };
    let here = format!("[{table}.alloc-profile.budget] in {source}");
    let Some(entries) = budget.as_object() else {
        bail!("{here}: must be a table");
    };
    let mut out = Vec::new();
    let mut run = Limits::default();
    for (key, value) in entries {
        match key.as_str() {
            "functions" | "tests" => {
                let sub = format!("[{table}.alloc-profile.budget.{key}] in {source}");
                let Some(items) = value.as_object() else {
                    bail!("{sub}: must be a table of names");
                };
                for (name, limits) in items {
                    if let Err(e) = Pattern::parse(name) {
                        bail!("{sub}: \"{name}\" is not a valid name or pattern: {e}");
                    }
                    let scope = if key == "functions" {
                        Scope::Function(name.clone())
                    } else {
                        Scope::Test(name.clone())
                    };
                    let test = key == "tests";
                    out.push(Budget {
                        scope,
                        limits: item_limits(limits, &format!("{sub}, \"{name}\""), test)?,
                        source: source.to_owned(),
                    });
                }
            }
            "allocations" => run.allocations = Some(count(value, &here, key)?),
            "leaked" => run.leaked_allocations = Some(count(value, &here, key)?),
            "bytes" => run.bytes = Some(size(value, &here, key)?),
            "peak" => run.peak_bytes = Some(size(value, &here, key)?),
            other => bail!("{here}: `{other}` is not a budget key (keys: {RUN_KEYS})"),
        }
    }
    if run != Limits::default() {
        out.insert(
            0,
            Budget {
                scope: Scope::Run,
                limits: run,
                source: source.to_owned(),
            },
        );
    }
    Ok(out)
}

/// The limits of one function (`test` false) or test: tests may also limit their `peak`.
fn item_limits(value: &Value, here: &str, test: bool) -> Result<Limits> {
    let keys = if test { TEST_KEYS } else { FUNCTION_KEYS };
    let Some(entries) = value.as_object() else {
        bail!("{here}: must be a table such as {{ allocations = 100 }}");
    };
    let mut limits = Limits::default();
    for (key, v) in entries {
        match key.as_str() {
            "allocations" => limits.allocations = Some(count(v, here, key)?),
            "bytes" => limits.bytes = Some(size(v, here, key)?),
            "peak" if test => limits.peak_bytes = Some(size(v, here, key)?),
            other => bail!("{here}: `{other}` is not a budget key here (keys: {keys})"),
        }
    }
    if limits == Limits::default() {
        bail!("{here}: sets no limit (keys: {keys})");
    }
    Ok(limits)
}

fn count(value: &Value, here: &str, key: &str) -> Result<u64> {
    match value.as_u64() {
        Some(n) => Ok(n),
        None => bail!("{here}: `{key} = {value}` must be a whole number, 0 or more"),
    }
}

/// A byte count: a whole number, or a string such as `"64 KiB"` (units B, KiB, MiB, GiB).
fn size(value: &Value, here: &str, key: &str) -> Result<u64> {
    if let Some(n) = value.as_u64() {
        return Ok(n);
    }
    let parsed = value.as_str().and_then(|s| {
        let s = s.trim();
        let split = s
            .find(|c: char| !c.is_ascii_digit() && c != '.' && c != '_')
            .unwrap_or(s.len());
        let (number, unit) = s.split_at(split);
        let number: f64 = number.replace('_', "").parse().ok()?;
        let scale: u64 = match unit.trim() {
            "" | "B" => 1,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            _ => return None,
        };
        let bytes = number * scale as f64;
        (bytes.is_finite() && bytes >= 0.0 && bytes.fract() == 0.0).then_some(bytes as u64)
    });
    match parsed {
        Some(n) => Ok(n),
        None => bail!(
            "{here}: `{key} = {value}` must be a number of bytes or a size such as \"64 KiB\" \
             (units B, KiB, MiB, GiB)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_scope_and_unit() {
        let m = json!({"alloc-profile": {"budget": {
            "allocations": 10_000, "bytes": "4 MiB", "peak": "1.5 KiB", "leaked": 0,
            "functions": {"app::lex": {"allocations": 100, "bytes": "64 KiB"}},
            "tests": {"tests::small": {"bytes": 512, "peak": "2 KiB"}}
        }}});
        let b = from_metadata(&m, "package.metadata", "app/Cargo.toml").unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!(b[0].scope, Scope::Run);
        assert_eq!(
            b[0].limits,
            Limits {
                allocations: Some(10_000),
                bytes: Some(4 << 20),
                peak_bytes: Some(1536),
                leaked_allocations: Some(0),
            }
        );
        assert_eq!(b[1].scope, Scope::Function("app::lex".to_owned()));
        assert_eq!(b[1].limits.bytes, Some(64 << 10));
        assert_eq!(b[2].scope, Scope::Test("tests::small".to_owned()));
        assert_eq!(b[2].limits.bytes, Some(512));
        assert_eq!(b[2].limits.peak_bytes, Some(2048));
        assert!(from_metadata(&json!(null), "package.metadata", "x")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn mistakes_name_the_table_and_key() {
        let err = |m: Value| {
            from_metadata(&m, "package.metadata", "app/Cargo.toml")
                .unwrap_err()
                .to_string()
        };
        let e = err(json!({"alloc-profile": {"budget": {"allocs": 3}}}));
        assert!(
            e.contains("[package.metadata.alloc-profile.budget] in app/Cargo.toml")
                && e.contains("`allocs` is not a budget key"),
            "{e}"
        );
        let e = err(json!({"alloc-profile": {"budget": {"bytes": "lots"}}}));
        assert!(e.contains("`bytes = \"lots\"`"), "{e}");
        let e = err(json!({"alloc-profile": {"budget": {"allocations": -1}}}));
        assert!(e.contains("whole number"), "{e}");
        let e = err(json!({"alloc-profile": {"budget": {"functions": {"f": {"peak": 1}}}}}));
        assert!(
            e.contains("\"f\"") && e.contains("`peak` is not a budget key here"),
            "{e}"
        );
        let e = err(json!({"alloc-profile": {"budget": {"tests": {"t": {}}}}}));
        assert!(e.contains("sets no limit"), "{e}");
        let e = err(
            json!({"alloc-profile": {"budget": {"tests": {"tests::\\d*": {"allocations": 1}}}}}),
        );
        assert!(
            e.contains("[package.metadata.alloc-profile.budget.tests]")
                && e.contains("\"tests::\\d*\" is not a valid name or pattern")
                && e.contains("`\\d` is not a valid escape"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        let e = err(json!({"alloc-profile": {"budget": {"functions": {"": {"allocations": 1}}}}}));
        assert!(e.contains("an empty name"), "{e}");
    }
}
