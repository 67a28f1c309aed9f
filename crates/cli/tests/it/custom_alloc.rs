//! Programs whose `#[global_allocator]` is jemalloc or mimalloc: counted through link-time
//! wrappers of the allocator's entry points, exactly as a counting `GlobalAlloc` wrapped around
//! the allocator sees them, in release and LTO builds.

use crate::support::{function, run_json, truths};

fn check(program: &str, args: &[&str], allocator: &str) {
    let run = run_json(program, args);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let report = run.report();
    let notes = report["notes"].to_string();
    assert!(
        notes.contains(&format!("global allocator {allocator}")),
        "{notes}"
    );
    assert!(!notes.contains("not counted"), "{notes}");
    // The other allocator crate of the fixtures is linked in too (its entry points are forced in
    // for the wrappers) but allocates nothing: it is not claimed.
    assert_eq!(notes.matches("global allocator").count(), 1, "{notes}");
    let truths = truths(&run.stdout());
    assert!(truths.len() >= 3, "{}", run.stdout());
    let mut mismatches = Vec::new();
    for (name, allocations, bytes) in &truths {
        match function(report, name) {
            Some(f) if f["total_allocations"] == *allocations && f["total_bytes"] == *bytes => {}
            Some(f) => mismatches.push(format!(
                "{name}: profiled {} / {}, truth {allocations} / {bytes}",
                f["total_allocations"], f["total_bytes"]
            )),
            None => mismatches.push(format!("{name}: missing (truth {allocations})")),
        }
    }
    assert!(mismatches.is_empty(), "{args:?}\n{}", mismatches.join("\n"));
}

#[test]
fn jemalloc_release_and_lto() {
    check(
        "custom-alloc",
        &["-q", "--release", "--bin", "jemalloc"],
        "jemalloc (tikv-jemallocator)",
    );
    check(
        "custom-alloc",
        &["-q", "--profile", "release-lto", "--bin", "jemalloc"],
        "jemalloc (tikv-jemallocator)",
    );
}

#[test]
fn mimalloc_release_and_lto() {
    check(
        "custom-alloc",
        &["-q", "--release", "--bin", "mimalloc"],
        "mimalloc",
    );
    check(
        "custom-alloc",
        &["-q", "--profile", "release-lto", "--bin", "mimalloc"],
        "mimalloc",
    );
}

#[test]
fn jemalloc_with_unprefixed_malloc() {
    check(
        "jemalloc-unprefixed",
        &["-q", "--release"],
        "jemalloc (tikv-jemallocator, unprefixed malloc)",
    );
}

/// ripgrep's case: jemalloc is the global allocator on musl only. The crate is in `cargo metadata`
/// (and the wrappers are linked, around nothing), but this glibc build uses the system allocator:
/// the report must not say jemalloc was profiled, and counts what reached malloc.
#[test]
fn allocator_of_another_target_is_not_claimed() {
    let run = run_json("jemalloc-musl-only", &["-q"]);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let report = run.report();
    let notes = report["notes"].to_string();
    assert!(
        !notes.contains("jemalloc") && !notes.contains("global allocator"),
        "{notes}"
    );
    let f = function(report, "jemalloc_musl_only::make_strings").expect("make_strings");
    assert!(f["total_allocations"].as_u64() >= Some(10), "{f}");
}
