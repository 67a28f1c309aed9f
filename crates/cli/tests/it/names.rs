//! Names from generic and tuple impls (issue 10, item 6): a dependency's blanket impl
//! (`<T as gdep::Describe>::describe`), its impls for a tuple, an array and a function pointer
//! and its trait for a foreign type (`<alloc::string::String as gdep::Shout>::shout`) allocate in
//! module `gdep`, never in a module named `T`, `(A,B)` or `alloc::string`.

use crate::support::{run_json, truths};

#[test]
fn a_dependencys_generic_and_tuple_impls_belong_to_its_module() {
    let run = run_json("generic-impls", &["-q"]);
    assert_eq!(run.code(), Some(0), "stderr:\n{}", run.stderr());
    let report = run.report();
    let truths = truths(&run.stdout());
    assert_eq!(truths.len(), 15, "the fixture printed its ground truth");
    let (allocations, bytes) = truths
        .iter()
        .fold((0, 0), |(a, b), (_, n, m)| (a + n, b + m));

    let modules = report["modules"].as_array().expect("modules");
    let of_gdep: Vec<&serde_json::Value> =
        modules.iter().filter(|m| m["crate"] == "gdep").collect();
    let names: Vec<&serde_json::Value> = of_gdep.iter().map(|m| &m["name"]).collect();
    assert_eq!(names, ["gdep"], "gdep's modules in {modules:#?}");
    let gdep = of_gdep[0];
    assert_eq!(gdep["kind"], "dependency");
    assert_eq!(gdep["workspace"], false);
    assert_eq!(
        (gdep["allocations"].as_u64(), gdep["bytes"].as_u64()),
        (Some(allocations), Some(bytes)),
        "gdep's module against the counting allocator"
    );
    for m in modules {
        if m["kind"] == "workspace" || m["kind"] == "dependency" {
            let name = m["name"].as_str().unwrap_or_default();
            assert!(
                !name.contains(['<', '(', '[', ';', ' ']),
                "a module named after a type: {m}"
            );
        }
    }
}
