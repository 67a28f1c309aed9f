//! The JSON report's contract, field by field (the golden files pin the rest).

use alloc_profile_report::schema::Report;
use alloc_profile_report::{analyze, write_json, Context, Inputs};
use serde_json::Value;

use crate::fixtures::demo_profile;

fn demo_context() -> Context {
    Context {
        command: ["cargo", "alloc-profile", "run", "--example", "demo"]
            .map(String::from)
            .to_vec(),
        target_label: "demo (examples/demo.rs)".to_owned(),
        exit_code: Some(0),
        workspace_root: Some("/work/demo".into()),
        ..Context::default()
    }
}

/// The demo report as written, and parsed.
fn demo_json() -> (String, Value) {
    let mut out = Vec::new();
    write_json(
        &mut out,
        &analyze(&demo_profile(), &Inputs::default()),
        &demo_context(),
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.ends_with("}\n"));
    let value = serde_json::from_str(&text).unwrap();
    (text, value)
}

/// Keys of a part of the report in the order they are written.
fn keys_of(part: &impl serde::Serialize) -> Vec<String> {
    ordered_keys(&serde_json::to_string(part).unwrap())
}

fn report() -> Report {
    Report::new(
        &analyze(&demo_profile(), &Inputs::default()),
        &demo_context(),
    )
}

/// Keys of a JSON object in the order they were written (`Value` sorts them).
fn ordered_keys(json: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(Visitor)
        }
    }
    serde_json::from_str::<Keys>(json).unwrap().0
}

#[test]
fn top_level_fields() {
    let (text, v) = demo_json();
    assert_eq!(v["format"], "cargo-alloc-profile");
    assert_eq!(v["version"], 1);
    assert_eq!(v["command"][4], "demo");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["signal"], Value::Null);
    // Required fields first, in the documented order.
    assert_eq!(
        ordered_keys(&text)[..8],
        [
            "format",
            "version",
            "command",
            "exit_code",
            "totals",
            "functions",
            "modules",
            "zero_allocation_functions"
        ]
    );
    let t = &v["totals"];
    assert_eq!(
        keys_of(&report().totals)[..7],
        [
            "allocations",
            "reallocations",
            "bytes",
            "frees",
            "peak_bytes",
            "leaked_allocations",
            "leaked_bytes"
        ]
    );
    assert_eq!(t["allocations"], 2008);
    assert_eq!(t["reallocations"], 217);
    assert_eq!(t["peak_bytes"], 42_188);
    assert_eq!(t["leaked_allocations"], 3);
    assert_eq!(t["leaked_bytes"], 2_048);
    assert_eq!(t["libc_internal_allocations"], 3);
}

#[test]
fn functions_are_all_workspace_functions_with_a_total() {
    let (_, v) = demo_json();
    let functions = v["functions"].as_array().unwrap();
    assert_eq!(functions.len(), 11);
    let f = &functions[0];
    assert_eq!(
        keys_of(&report().functions[0])[..10],
        [
            "name",
            "module",
            "crate",
            "workspace",
            "self_allocations",
            "self_bytes",
            "total_allocations",
            "total_bytes",
            "file",
            "line"
        ]
    );
    // demo::main is first: everything but the runtime passes through it.
    assert_eq!(f["name"], "demo::main");
    assert_eq!(f["total_allocations"], 1979);
    assert_eq!(f["self_allocations"], 2);
    let clones = functions
        .iter()
        .find(|f| f["name"] == "demo::avoid_clones::before")
        .unwrap();
    assert_eq!(clones["module"], "demo::avoid_clones");
    assert_eq!(clones["crate"], "demo");
    assert_eq!(clones["workspace"], true);
    assert_eq!(clones["self_allocations"], 1000);
    assert_eq!(clones["self_bytes"], 64_000);
    assert_eq!(clones["file"], "examples/demo.rs");
    assert_eq!(clones["line"], 41);
    assert_eq!(clones["via"], "Clone::clone");
    // Sorted by total allocations descending, then name.
    let order: Vec<(u64, &str)> = functions
        .iter()
        .map(|f| {
            (
                f["total_allocations"].as_u64().unwrap(),
                f["name"].as_str().unwrap(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    assert_eq!(order, sorted);
}

#[test]
fn modules_and_zero_allocation_functions() {
    let (_, v) = demo_json();
    let modules = v["modules"].as_array().unwrap();
    assert_eq!(
        keys_of(&report().modules[0])[..5],
        ["name", "crate", "workspace", "allocations", "bytes"]
    );
    let serde = modules
        .iter()
        .find(|m| m["name"] == "serde_json::ser")
        .unwrap();
    assert_eq!(serde["crate"], "serde_json");
    assert_eq!(serde["workspace"], false);
    assert_eq!(serde["allocations"], 91);
    let runtime = modules.iter().find(|m| m["name"] == "(runtime)").unwrap();
    assert_eq!(runtime["crate"], Value::Null);
    assert_eq!(runtime["allocations"], 26);
    let sum: u64 = modules
        .iter()
        .map(|m| m["allocations"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, v["totals"]["allocations"].as_u64().unwrap());
    assert_eq!(
        v["zero_allocation_functions"],
        serde_json::json!([
            "<demo::Point as core::fmt::Display>::fmt",
            "demo::avoid_clones::after",
            "demo::cache::Cache::new",
            "demo::checksum",
            "demo::preallocate::sum",
            "demo::string_building::after"
        ])
    );
}

/// The one schema reads every golden report back, and writes it again byte for byte.
#[test]
fn reports_read_back_as_written() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut read = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let report = Report::from_slice(&bytes).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let mut again = serde_json::to_vec_pretty(&report).unwrap();
        again.push(b'\n');
        assert!(again == bytes, "{path:?} does not write back the same");
        read += 1;
    }
    assert!(read >= 6, "{read} golden reports");
}
