//! Beyond counts on a program with known answers: advice backed by evidence, the peak and who
//! held it, and leaks.

use crate::support::run_json;

#[test]
fn advice_peak_and_leaks_have_known_answers() {
    let run = run_json("insights", &["-q"]);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let r = run.report();
    let insights = r["insights"].as_array().unwrap();
    let about = |function: &str| -> Vec<&serde_json::Value> {
        insights
            .iter()
            .filter(|i| i["function"] == format!("insights::{function}"))
            .collect()
    };

    // Vec<u64> grown to 1000 elements: 1 allocation + 8 reallocations, 9 → 1.
    let grow = about("grows_a_vec");
    assert_eq!(grow.len(), 1, "{insights:#?}");
    assert_eq!(grow[0]["kind"], "preallocate");
    assert_eq!(
        (
            grow[0]["allocations"].as_u64(),
            grow[0]["avoidable"].as_u64()
        ),
        (Some(9), Some(8))
    );
    assert!(grow[0]["message"]
        .as_str()
        .unwrap()
        .contains("with_capacity"));
    assert!(about("presized_vec").is_empty(), "{insights:#?}");

    // Vec<String> grown to 16 elements (capacities 4, 8, 16): 3 → 1. Std's code for its growth
    // is shared with every vector of 24-byte elements and may be named after any of them
    // (`RawVec<Vec<u8>>::grow_one`): the advice names no element type and speaks in bytes.
    let vec_of_strings = about("grows_a_vec_of_strings");
    assert_eq!(vec_of_strings.len(), 1, "{insights:#?}");
    assert_eq!(vec_of_strings[0]["kind"], "preallocate");
    assert_eq!(
        (
            vec_of_strings[0]["allocations"].as_u64(),
            vec_of_strings[0]["avoidable"].as_u64()
        ),
        (Some(3), Some(2))
    );
    let message = vec_of_strings[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("`Vec` regrown 2x to 384 B"),
        "{message}"
    );
    assert!(
        !message.contains("u8") && !message.contains("384 elements"),
        "{message}"
    );
    if message.contains("elements") {
        assert!(
            message.contains("(16 elements of 24 bytes)")
                && message.ends_with("`Vec::with_capacity(16)`"),
            "{message}"
        );
    }

    let clones = about("clones_in_a_loop");
    assert_eq!(clones.len(), 1, "{insights:#?}");
    assert_eq!(clones[0]["kind"], "clone");
    // 50 clones of a struct with a String and a Vec of two Strings.
    assert_eq!(clones[0]["avoidable"], 200);

    let strings = about("builds_a_string");
    assert_eq!(strings.len(), 1, "{insights:#?}");
    assert_eq!(strings[0]["kind"], "string-building");

    // The peak: the counting allocator's maximum of live bytes, within glibc's own small
    // allocations (under 16 KiB), held by the function with the 3 MiB buffer.
    let truth: u64 = run
        .stdout()
        .lines()
        .find_map(|l| l.strip_prefix("TRUTHPEAK "))
        .unwrap()
        .parse()
        .unwrap();
    let peak = r["totals"]["peak_bytes"].as_u64().unwrap();
    assert!(
        peak.abs_diff(truth) < 16 * 1024,
        "peak {peak}, truth {truth}"
    );
    let holder = r["functions"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|f| f["peak_bytes"].as_u64())
        .unwrap();
    assert_eq!(holder["name"], "insights::holds_three_mib");
    assert!(holder["peak_bytes"].as_u64() >= Some(3 << 20));

    // The mem::forget of 12,345 bytes is that function's leak; stdout's buffer is not a user leak.
    let leaks = r["leaks"].as_array().unwrap();
    let leak = leaks
        .iter()
        .find(|l| l["function"] == "insights::leaks")
        .unwrap_or_else(|| panic!("{leaks:#?}"));
    assert_eq!(
        (leak["allocations"].as_u64(), leak["bytes"].as_u64()),
        (Some(1), Some(12345))
    );
    // Through `vec![0u8; 12345]`.
    assert_eq!(leak["via"], "vec!", "{leak}");
    assert!(!leaks.iter().any(|l| l["function"] == "insights::main"));
}

/// Lifetimes are measured only with `--lifetimes`; without it they are null, not zero.
#[test]
fn lifetimes_on_request() {
    let without = run_json("insights", &["-q"]);
    let f = crate::support::function(without.report(), "insights::builds_a_string").unwrap();
    assert!(
        f["mean_lifetime_ns"].is_null() && f["max_lifetime_ns"].is_null(),
        "{f}"
    );
    let with = run_json("insights", &["-q", "--lifetimes"]);
    let f = crate::support::function(with.report(), "insights::builds_a_string").unwrap();
    assert!(f["max_lifetime_ns"].as_u64() > Some(0), "{f}");
    assert!(
        f["mean_lifetime_ns"].as_u64() <= f["max_lifetime_ns"].as_u64(),
        "{f}"
    );
}
