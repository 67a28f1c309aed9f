//! The checks cannot pass by not seeing anything: the parser on hand-written crates.

use super::imports::{file_graph, FileGraph};
use super::{crate_rules, layer_violations, manifest};

fn graph_of(files: &[(&str, &str)]) -> FileGraph {
    let owned: Vec<(String, String)> = files
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    file_graph(&owned)
}

fn edge_list(g: &FileGraph) -> Vec<(String, String)> {
    g.edges
        .keys()
        .map(|&(a, b)| (g.files[a].clone(), g.files[b].clone()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn parser_finds_a_cycle_of_two_files() {
    let g = graph_of(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use crate::b::B;\npub struct A;\n"),
        ("b.rs", "pub struct B;\nfn f() { let _ = crate::a::A; }\n"),
    ]);
    let cycles = g.cycles();
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(
        cycles[0].starts_with("cycle a.rs → b.rs → a.rs"),
        "{}",
        cycles[0]
    );
    assert!(
        cycles[0].contains("b.rs → a.rs (line 2: `crate::a::A`)"),
        "{}",
        cycles[0]
    );
}

/// Each literal or comment below would, if the tokenizer misread it, swallow a `use` or make an
/// edge to `d.rs`.
const TRICKY: &str = r##"const Q: [char; 2] = ['\'', '"'];
use crate::{
    b::{self, X},
    c::deep::Y, // crate::d::Z
};
/* use crate::d; /* nested */ crate::d::W */
const S: &str = "crate::d::V";
const R: &str = r#"a " crate::d::U"#;
fn f<'a>(_: &'a u8) -> char { 'x' }
"##;

#[test]
fn parser_resolves_grouped_multi_line_uses_and_skips_comments_and_strings() {
    let g = graph_of(&[
        ("lib.rs", "mod a;\nmod b;\nmod c;\nmod d;\nmod e;\n"),
        ("a.rs", TRICKY),
        ("b.rs", ""),
        ("c.rs", "pub mod deep { pub struct Y; }\n"),
        ("d.rs", ""),
        (
            "e.rs",
            r#"const F: &str = "\"";
use crate::b::Z;
const G: &str = "";
"#,
        ),
    ]);
    let expected = [("a.rs", "b.rs"), ("a.rs", "c.rs"), ("e.rs", "b.rs")];
    assert_eq!(edge_list(&g), pairs(&expected));
}

#[test]
fn parser_resolves_super_self_child_modules_and_re_exports() {
    let g = graph_of(&[
        ("lib.rs", "mod error;\nmod m;\npub use error::Warning;\n"),
        ("error.rs", "pub struct Warning;\n"),
        ("m.rs", "mod inner {\n    use super::super::Warning;\n}\nmod x;\nfn f() { x::g(); self::x::g(); }\n"),
        ("m/x.rs", "use super::super::error::Warning;\npub fn g() {}\n"),
    ]);
    assert_eq!(
        edge_list(&g),
        pairs(&[
            ("lib.rs", "error.rs"),
            ("m.rs", "error.rs"),
            ("m.rs", "m/x.rs"),
            ("m/x.rs", "error.rs")
        ])
    );
}

#[test]
fn parser_ignores_a_test_module_using_its_parent_only() {
    let g = graph_of(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use crate::b::f;\n#[cfg(test)]\nmod tests;\n"),
        ("a/tests.rs", "use super::*;\nuse crate::b::g;\n"),
        ("b.rs", "pub fn f() {}\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::a::helper;\n}\n"),
    ]);
    assert_eq!(
        edge_list(&g),
        pairs(&[("a.rs", "b.rs"), ("a/tests.rs", "b.rs"), ("b.rs", "a.rs")])
    );
    assert_eq!(
        g.cycles().len(),
        1,
        "an inline test module's other edges count"
    );
}

#[test]
fn layers_catch_imports_from_above_and_unlisted_files() {
    let files = pairs(&[
        ("lib.rs", "mod hooks;\nmod core;\nmod sys;\n"),
        ("hooks.rs", "use crate::core::record;\n"),
        ("core.rs", "use crate::sys::now;\nuse crate::hooks::Hook;\n"),
        ("sys.rs", ""),
        ("sys/extra.rs", ""),
        ("stray.rs", ""),
    ]);
    let block = [
        "crate demo",
        "hooks: lib hooks",
        "core: core",
        "sys: sys gone",
    ];
    let v = layer_violations(&block, &files);
    assert_eq!(v.len(), 3, "{v:#?}");
    assert!(v[0].contains("`gone` matches no file"), "{v:#?}");
    assert!(v[1].contains("src/stray.rs is in no layer"), "{v:#?}");
    assert!(
        v[2].contains("layer core imports layer hooks above it: core.rs → hooks.rs (line 2"),
        "{v:#?}"
    );
}

#[test]
fn manifests_and_blocks_are_read() {
    let (package, deps) = manifest(
        "[package]\nname = \"demo\"\n\n[dependencies]\nalloc-profile-format = { workspace = true, default-features = false }\nserde.workspace = true\nrenamed = { package = \"real\", version = \"1\" }\n\n[dependencies.tabled]\nversion = \"1\"\n\n[dev-dependencies]\n# note\nanyhow = \"1\"\n",
    );
    assert_eq!(package, "demo");
    let expected = [
        ("dependencies", "alloc-profile-format"),
        ("dependencies", "serde"),
        ("dependencies", "real"),
        ("dependencies", "tabled"),
        ("dev-dependencies", "anyhow"),
    ];
    assert_eq!(deps, pairs(&expected));
    let md = "```text\nx: y\n```\n```crates\n# c\na: b + crates.io\n\nb:\n```\n";
    let rules = crate_rules(md);
    assert_eq!(
        (
            rules.len(),
            rules[0].name.as_str(),
            rules[0].deps.as_slice(),
            rules[0].registry
        ),
        (2, "a", &["b".to_owned()][..], true)
    );
    assert!(!rules[1].registry && rules[1].deps.is_empty());
}
