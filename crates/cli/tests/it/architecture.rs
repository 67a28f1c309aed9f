//! The import rules of ARCHITECTURE.md, checked by reading the workspace's files (no tool run):
//!
//! - crates: each crate's `Cargo.toml` depends only on the crates its line of the ```` ```crates ````
//!   block allows, which are listed below it (so dependencies point down), and on crates.io crates
//!   only where the line says `+ crates.io`;
//! - files: within each crate, the file → file edges of `use crate::..`, `super::..`, `self::..`,
//!   paths through a child module and `crate::..` paths anywhere in code form no cycle (a
//!   `#[cfg(test)]` module's edges to its parent do not count; re-exports are followed to the file
//!   that defines the item, except glob re-exports, which no crate has);
//! - layers: in a crate with a ```` ```layers ```` block, a file imports only its own layer or
//!   layers below it, and every file is in one layer;
//! - no `.rs` file under `crates/*/src` or `crates/*/tests` is over 600 lines.
//!
//! Each check lists all its violations at once. `ALLOC_PROFILE_ARCHITECTURE_ROOT` points them at
//! another checkout of the workspace.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use imports::file_graph;

mod imports;
mod self_checks;

const MAX_LINES: usize = 600;

fn root() -> PathBuf {
    std::env::var_os("ALLOC_PROFILE_ARCHITECTURE_ROOT").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
        PathBuf::from,
    )
}

fn architecture_md() -> String {
    fs_err::read_to_string(root().join("ARCHITECTURE.md")).unwrap()
}

/// The crate directories under `crates/`, sorted.
fn crate_dirs() -> Vec<String> {
    let mut dirs: Vec<String> = fs_err::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    dirs
}

/// The `.rs` files under `dir`, as paths relative to it with `/`, sorted.
fn rust_files(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        let Ok(entries) = fs_err::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                walk(&path, &format!("{prefix}{name}/"), out);
            } else if name.ends_with(".rs") {
                out.push(format!("{prefix}{name}"));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, "", &mut files);
    files.sort();
    files
}

fn fail_if_any(what: &str, violations: &[String]) {
    assert!(
        violations.is_empty(),
        "{what}: {} violation(s) of ARCHITECTURE.md:\n{}",
        violations.len(),
        violations.join("\n")
    );
}

/// The lines of the fenced blocks of `markdown` whose info string is `info`, without blank lines
/// and `#` comments.
fn fenced_blocks<'a>(markdown: &'a str, info: &str) -> Vec<Vec<&'a str>> {
    let (mut blocks, mut open): (Vec<Vec<&str>>, Option<bool>) = (Vec::new(), None);
    for line in markdown.lines() {
        let t = line.trim();
        match (open, t.strip_prefix("```")) {
            (None, Some(i)) => {
                open = Some(i.trim() == info);
                if i.trim() == info {
                    blocks.push(Vec::new());
                }
            }
            (Some(_), Some("")) => open = None,
            (Some(true), _) if !t.is_empty() && !t.starts_with('#') => {
                blocks.last_mut().unwrap().push(t);
            }
            _ => {}
        }
    }
    blocks
}

// ---------------------------------------------------------------------------------------------
// (a) Crates.

/// One line of the `crates` block: `name: dep dep ... [+ crates.io]`.
struct CrateRule {
    name: String,
    deps: Vec<String>,
    registry: bool,
}

fn crate_rules(markdown: &str) -> Vec<CrateRule> {
    let blocks = fenced_blocks(markdown, "crates");
    assert_eq!(blocks.len(), 1, "ARCHITECTURE.md needs one ```crates block");
    let rule = |line: &&str| {
        let (name, rest) = line
            .split_once(':')
            .expect("`crate: deps` in the crates block");
        let (deps, registry) = match rest.split_once('+') {
            Some((deps, r)) => {
                assert_eq!(
                    r.trim(),
                    "crates.io",
                    "crates block: `+ crates.io` in `{line}`"
                );
                (deps, true)
            }
            None => (rest, false),
        };
        let deps = deps.split_whitespace().map(str::to_owned).collect();
        CrateRule {
            name: name.trim().to_owned(),
            deps,
            registry,
        }
    };
    blocks[0].iter().map(rule).collect()
}

/// A manifest's package name and its dependencies: (section, package name).
fn manifest(text: &str) -> (String, Vec<(String, String)>) {
    let (mut package, mut deps) = (String::new(), Vec::new());
    let (mut section, mut table_dep) = (String::new(), None::<usize>);
    let unquote = |s: &str| s.trim().trim_matches('"').to_owned();
    for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let header = header.trim_matches(['[', ']']);
            let kind = ["build-dependencies", "dev-dependencies", "dependencies"]
                .into_iter()
                .find_map(|k| Some((k, header.split_once(k)?.1)));
            section = header.to_owned();
            table_dep = None;
            if let Some((kind, rest)) = kind {
                section = kind.to_owned();
                if let Some(name) = rest.strip_prefix('.') {
                    deps.push((section.clone(), unquote(name)));
                    table_dep = Some(deps.len() - 1);
                }
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = unquote(key.split('.').next().unwrap());
        let renamed = value.split_once("package").and_then(|(_, r)| {
            let r = r.trim_start().strip_prefix('=')?;
            Some(unquote(r.split([',', '}']).next()?))
        });
        match (section.as_str(), table_dep) {
            ("package", _) if key == "name" => package = unquote(value),
            (_, Some(i)) if key == "package" => deps[i].1 = unquote(value),
            (s, None) if s.ends_with("dependencies") => {
                deps.push((section.clone(), renamed.unwrap_or(key)));
            }
            _ => {}
        }
    }
    (package, deps)
}

#[test]
fn crate_dependencies_point_down() {
    let rules = crate_rules(&architecture_md());
    let mut violations = Vec::new();
    let dirs = crate_dirs();
    let manifests: BTreeMap<String, (String, Vec<(String, String)>)> = dirs
        .iter()
        .map(|d| {
            (
                d.clone(),
                manifest(
                    &fs_err::read_to_string(root().join("crates").join(d).join("Cargo.toml"))
                        .unwrap(),
                ),
            )
        })
        .collect();
    let dir_of: HashMap<&str, &str> = manifests
        .iter()
        .map(|(d, (p, _))| (p.as_str(), d.as_str()))
        .collect();
    for (i, rule) in rules.iter().enumerate() {
        if !manifests.contains_key(&rule.name) {
            violations.push(format!(
                "the crates block names `{}`, which is no crates/*",
                rule.name
            ));
        }
        for dep in &rule.deps {
            if !rules[i + 1..].iter().any(|r| &r.name == dep) {
                violations.push(format!(
                    "crates block: `{}` may depend on `{dep}`, which is not listed below it",
                    rule.name
                ));
            }
        }
    }
    for (dir, (_, deps)) in &manifests {
        let Some(rule) = rules.iter().find(|r| &r.name == dir) else {
            violations.push(format!("crates/{dir} is missing from the crates block"));
            continue;
        };
        for (section, package) in deps {
            match dir_of.get(package.as_str()) {
                Some(d) if !rule.deps.iter().any(|x| x == d) => violations.push(format!(
                    "crates/{dir}/Cargo.toml [{section}]: {package} (crates/{d}), which `{dir}` may not depend on"
                )),
                None if !rule.registry && section != "dev-dependencies" => violations.push(format!(
                    "crates/{dir}/Cargo.toml [{section}]: {package}, a crates.io crate, which `{dir}` may not use"
                )),
                _ => {}
            }
        }
    }
    fail_if_any("crate dependencies", &violations);
}

// ---------------------------------------------------------------------------------------------
// (b) Files (the graph is built in `imports`).

/// The files of `crates/<dir>/src` with their text.
fn crate_sources(dir: &str) -> Vec<(String, String)> {
    let src = root().join("crates").join(dir).join("src");
    rust_files(&src)
        .into_iter()
        .map(|rel| {
            let text = fs_err::read_to_string(src.join(&rel)).unwrap();
            (rel, text)
        })
        .collect()
}

#[test]
fn no_import_cycle_between_files_of_a_crate() {
    let mut violations = Vec::new();
    for dir in crate_dirs() {
        for cycle in file_graph(&crate_sources(&dir)).cycles() {
            violations.push(format!("crates/{dir}/src: {cycle}"));
        }
    }
    fail_if_any("import cycles", &violations);
}

// ---------------------------------------------------------------------------------------------
// (c) Layers.

/// The violations of one `layers` block: `crate NAME`, then `layer: module...` top to bottom.
fn layer_violations(block: &[&str], files: &[(String, String)]) -> Vec<String> {
    let krate = block
        .first()
        .and_then(|l| l.strip_prefix("crate "))
        .unwrap_or("?")
        .trim();
    let mut entries: Vec<(&str, usize, &str)> = Vec::new(); // (module, layer index, layer)
    let mut out = Vec::new();
    for (index, line) in block.iter().skip(1).enumerate() {
        let Some((layer, modules)) = line.split_once(':') else {
            out.push(format!(
                "{krate}: layers line `{line}` is not `layer: modules`"
            ));
            continue;
        };
        for module in modules.split_whitespace() {
            if entries.iter().any(|e| e.0 == module) {
                out.push(format!("{krate}: `{module}` is listed twice"));
            }
            entries.push((module, index, layer.trim()));
        }
    }
    let graph = file_graph(files);
    let layer_of = |file: &str| {
        let stem = file.strip_suffix(".rs").unwrap();
        let covers =
            |m: &str| stem == m || stem.strip_prefix(m).is_some_and(|r| r.starts_with('/'));
        entries
            .iter()
            .filter(|e| covers(e.0))
            .max_by_key(|e| e.0.len())
            .copied()
    };
    for (module, _, _) in &entries {
        if !graph
            .files
            .iter()
            .any(|f| layer_of(f).is_some_and(|e| e.0 == *module))
        {
            out.push(format!(
                "{krate}: layer entry `{module}` matches no file of src/"
            ));
        }
    }
    for f in graph.files.iter().filter(|f| layer_of(f).is_none()) {
        out.push(format!("{krate}: src/{f} is in no layer"));
    }
    for &(a, b) in graph.edges.keys() {
        if let (Some(la), Some(lb)) = (layer_of(&graph.files[a]), layer_of(&graph.files[b])) {
            if lb.1 < la.1 {
                out.push(format!(
                    "{krate}: layer {} imports layer {} above it: {}",
                    la.2,
                    lb.2,
                    graph.edge(a, b)
                ));
            }
        }
    }
    out
}

#[test]
fn files_import_only_their_layer_or_below() {
    let md = architecture_md();
    let mut violations = Vec::new();
    for block in fenced_blocks(&md, "layers") {
        let krate = block
            .first()
            .and_then(|l| l.strip_prefix("crate "))
            .unwrap_or("")
            .trim();
        if !root().join("crates").join(krate).join("src").is_dir() {
            violations.push(format!(
                "a layers block names crate `{krate}`, which is no crates/*"
            ));
            continue;
        }
        violations.extend(layer_violations(&block, &crate_sources(krate)));
    }
    fail_if_any("layers", &violations);
}

// ---------------------------------------------------------------------------------------------
// (d) File size.

#[test]
fn no_source_file_over_600_lines() {
    let mut violations = Vec::new();
    for dir in crate_dirs() {
        for sub in ["src", "tests"] {
            let base = root().join("crates").join(&dir).join(sub);
            for rel in rust_files(&base) {
                let lines = fs_err::read_to_string(base.join(&rel))
                    .unwrap()
                    .lines()
                    .count();
                if lines > MAX_LINES {
                    violations.push(format!("crates/{dir}/{sub}/{rel}: {lines} lines"));
                }
            }
        }
    }
    fail_if_any(&format!("files over {MAX_LINES} lines"), &violations);
}
