//! The file → file edges of one crate, read from its source: a tokenizer that leaves out
//! comments and literals, the `use` trees and paths in the tokens, and their resolution to files.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The identifiers and punctuation of Rust source, with their lines: comments, strings, character
/// literals, lifetimes and numbers left out; `::` is one token.
fn tokens(src: &str) -> Vec<(String, usize)> {
    let c: Vec<char> = src.chars().collect();
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    let at = |j: usize| c.get(j).copied().unwrap_or('\0');
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    // Skips a (raw) string whose opening `"` is at `j`, with `hashes` `#`s; counts its lines.
    let skip_string = |mut j: usize, hashes: usize, line: &mut usize| {
        j += 1;
        while j < c.len() {
            if c[j] == '\n' {
                *line += 1;
            }
            if hashes == 0 && c[j] == '\\' {
                j += 2;
                continue;
            }
            if c[j] == '"' && (0..hashes).all(|k| at(j + 1 + k) == '#') {
                return j + 1 + hashes;
            }
            j += 1;
        }
        j
    };
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let (mut depth, start) = (0, i);
            while i < c.len() && (depth > 0 || i == start) {
                match (c[i], at(i + 1)) {
                    ('/', '*') => (depth, i) = (depth + 1, i + 2),
                    ('*', '/') => (depth, i) = (depth - 1, i + 2),
                    (n, _) => (line, i) = (line + usize::from(n == '\n'), i + 1),
                }
            }
        } else if ch == '"' {
            i = skip_string(i, 0, &mut line);
        } else if ch == '\'' {
            i = if at(i + 1) == '\\' {
                let mut j = i + 3; // past the escaped character
                while j < c.len() && c[j] != '\'' {
                    j += 1;
                }
                j + 1
            } else if at(i + 2) == '\'' {
                i + 3
            } else {
                let mut j = i + 1; // a lifetime or label
                while ident(at(j)) {
                    j += 1;
                }
                j
            };
        } else if ch.is_ascii_digit() {
            while ident(at(i)) {
                i += 1;
            }
        } else if ident(ch) {
            let start = i;
            while ident(at(i)) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let hashes = (0..).take_while(|k| at(i + k) == '#').count();
            if matches!(word.as_str(), "r" | "br" | "cr") && at(i + hashes) == '"' {
                i = skip_string(i + hashes, hashes, &mut line);
            } else if word == "r" && hashes == 1 && ident(at(i + 1)) {
                i += 1; // `r#type`: the identifier follows
            } else {
                out.push((word, line));
            }
        } else if ch == ':' && at(i + 1) == ':' {
            out.push(("::".to_owned(), line));
            i += 2;
        } else {
            out.push((ch.to_string(), line));
            i += 1;
        }
    }
    out
}

/// A path as written in one module: `segments` start with `crate`, `self`, `super` or a name.
struct RawPath {
    scope: Vec<String>,
    segments: Vec<String>,
    line: usize,
    /// The name a `use` binds (`None` for globs and `as _`).
    binds: Option<String>,
}

/// What one file says: its module declarations and its paths.
#[derive(Default)]
struct Parsed {
    /// (module path, `#[cfg(test)]`, inline `mod x { .. }`).
    mods: Vec<(Vec<String>, bool, bool)>,
    paths: Vec<RawPath>,
}

/// Whether a token is an identifier or keyword.
fn is_name(token: &str) -> bool {
    token.starts_with(|c: char| c.is_alphabetic() || c == '_')
}

/// Parses a `use` tree at `toks[i]` under `prefix`; returns the index after it.
fn use_tree(
    toks: &[(String, usize)],
    mut i: usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, Option<String>)>,
) -> usize {
    let tok = |j: usize| toks.get(j).map_or("", |t| t.0.as_str());
    let mut segments = prefix.to_vec();
    if tok(i) == "::" {
        i += 1;
    }
    loop {
        match tok(i) {
            "{" => {
                i += 1;
                while !matches!(tok(i), "}" | "") {
                    let next = use_tree(toks, i, &segments, out);
                    i = next.max(i + 1);
                    if tok(i) == "," {
                        i += 1;
                    }
                }
                return i + 1;
            }
            "*" => {
                out.push((segments, None));
                return i + 1;
            }
            name if !is_name(name) => return i,
            name => {
                segments.push(name.to_owned());
                i += 1;
                if tok(i) == "::" {
                    i += 1;
                    continue;
                }
                if name == "self" {
                    segments.pop();
                }
                let mut binds = segments.last().cloned();
                if tok(i) == "as" {
                    binds = Some(tok(i + 1).to_owned()).filter(|b| b != "_");
                    i += 2;
                }
                out.push((segments, binds));
                return i;
            }
        }
    }
}

/// Reads the module declarations and paths of the file of module `module`.
fn parse_file(src: &str, module: &[String]) -> Parsed {
    let toks = tokens(src);
    let tok = |j: usize| toks.get(j).map_or("", |t| t.0.as_str());
    let mut parsed = Parsed::default();
    let mut scopes: Vec<(Vec<String>, usize)> = vec![(module.to_vec(), 0)];
    let (mut depth, mut i) = (0usize, 0usize);
    // Ends of attributes, and whether each is `#[cfg(test)]`.
    let mut attributes: HashMap<usize, (usize, bool)> = HashMap::new();
    while i < toks.len() {
        let scope = scopes.last().unwrap().0.clone();
        match tok(i) {
            "#" if tok(i + 1) == "[" || (tok(i + 1) == "!" && tok(i + 2) == "[") => {
                let open = if tok(i + 1) == "[" { i + 1 } else { i + 2 };
                let (mut j, mut level) = (open, 0);
                while j < toks.len() {
                    level = match tok(j) {
                        "[" => level + 1,
                        "]" => level - 1,
                        _ => level,
                    };
                    if level == 0 {
                        break;
                    }
                    j += 1;
                }
                let inner: Vec<&str> = toks[open + 1..j].iter().map(|t| t.0.as_str()).collect();
                attributes.insert(j, (i, inner == ["cfg", "(", "test", ")"]));
                i = j + 1;
            }
            "{" => (depth, i) = (depth + 1, i + 1),
            "}" => {
                depth = depth.saturating_sub(1);
                if scopes.len() > 1 && depth < scopes.last().unwrap().1 {
                    scopes.pop();
                }
                i += 1;
            }
            "mod" if is_name(tok(i + 1)) && matches!(tok(i + 2), ";" | "{") => {
                let mut j = i; // back over the visibility to the attributes
                while j > 0 && matches!(tok(j - 1), "pub" | "(" | ")" | "crate" | "super" | "in") {
                    j -= 1;
                }
                let mut test = false;
                while let Some(&(start, cfg_test)) =
                    j.checked_sub(1).and_then(|e| attributes.get(&e))
                {
                    test |= cfg_test;
                    j = start;
                }
                let path = [scope.clone(), vec![tok(i + 1).to_owned()]].concat();
                let inline = tok(i + 2) == "{";
                parsed.mods.push((path.clone(), test, inline));
                if inline {
                    scopes.push((path, depth + 1));
                }
                i += 2;
            }
            "use" => {
                let mut uses = Vec::new();
                let end = use_tree(&toks, i + 1, &[], &mut uses);
                for (segments, binds) in uses {
                    let line = toks[i].1;
                    parsed.paths.push(RawPath {
                        scope: scope.clone(),
                        segments,
                        line,
                        binds,
                    });
                }
                i = end;
            }
            name if is_name(name)
                && tok(i + 1) == "::"
                && !matches!(tok(i.wrapping_sub(1)), "::" | ".") =>
            {
                let mut segments = vec![name.to_owned()];
                i += 1;
                while tok(i) == "::" && is_name(tok(i + 1)) {
                    segments.push(tok(i + 1).to_owned());
                    i += 2;
                }
                let line = toks[i - 1].1;
                parsed.paths.push(RawPath {
                    scope,
                    segments,
                    line,
                    binds: None,
                });
            }
            _ => i += 1,
        }
    }
    parsed
}

/// The module path of the file at `rel` (relative to `src/`): `lib.rs` and `main.rs` are the crate
/// root, `a/mod.rs` and `a.rs` module `a`.
fn module_of_file(rel: &str) -> Vec<String> {
    let stem = rel.strip_suffix(".rs").unwrap();
    let mut parts: Vec<String> = stem.split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod") || matches!(stem, "lib" | "main") {
        parts.pop();
    }
    parts
}

/// An edge of the file graph: the first path that made it.
#[derive(Clone)]
pub(super) struct Evidence {
    line: usize,
    path: String,
}

/// The file → file edges of one crate.
pub(super) struct FileGraph {
    pub(super) files: Vec<String>,
    pub(super) edges: BTreeMap<(usize, usize), Evidence>,
}

pub(super) fn file_graph(files: &[(String, String)]) -> FileGraph {
    let mut module_file: HashMap<Vec<String>, usize> = HashMap::new();
    for (f, (rel, _)) in files.iter().enumerate() {
        module_file.entry(module_of_file(rel)).or_insert(f);
    }
    let parsed: Vec<Parsed> = files
        .iter()
        .map(|(rel, src)| parse_file(src, &module_of_file(rel)))
        .collect();
    let mut children: HashMap<Vec<String>, BTreeSet<String>> = HashMap::new();
    let mut test_parent: HashMap<usize, usize> = HashMap::new();
    for (f, p) in parsed.iter().enumerate() {
        for (path, test, inline) in &p.mods {
            let (parent, name) = path.split_at(path.len() - 1);
            children
                .entry(parent.to_vec())
                .or_default()
                .insert(name[0].clone());
            if *inline {
                module_file.entry(path.clone()).or_insert(f);
            } else if let (true, Some(&child)) = (*test, module_file.get(path)) {
                test_parent.insert(child, f);
            }
        }
    }
    // A path written in `scope`, made absolute (from the crate root); `None` outside the crate.
    let absolute = |scope: &[String], segments: &[String]| -> Option<Vec<String>> {
        let (mut base, mut rest) = (scope.to_vec(), segments);
        match rest.first()?.as_str() {
            "crate" => (base, rest) = (Vec::new(), &rest[1..]),
            "self" => rest = &rest[1..],
            "super" => {
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
            }
            name if children.get(scope).is_some_and(|c| c.contains(name)) => {}
            _ => return None,
        }
        Some([base, rest.to_vec()].concat())
    };
    let mut binds: HashMap<(Vec<String>, String), Option<Vec<String>>> = HashMap::new();
    for p in &parsed {
        for raw in &p.paths {
            if let Some(name) = &raw.binds {
                binds.insert(
                    (raw.scope.clone(), name.clone()),
                    absolute(&raw.scope, &raw.segments),
                );
            }
        }
    }
    // The file that defines what an absolute path names: the longest prefix that is a module,
    // through the re-export of the next name if that module has one.
    fn resolve(
        path: &[String],
        modules: &HashMap<Vec<String>, usize>,
        binds: &HashMap<(Vec<String>, String), Option<Vec<String>>>,
        depth: usize,
    ) -> Option<usize> {
        let k = (0..=path.len())
            .rev()
            .find(|&k| modules.contains_key(&path[..k]))?;
        if let (Some(name), true) = (path.get(k), depth < 16) {
            if let Some(Some(target)) = binds.get(&(path[..k].to_vec(), name.clone())) {
                let through = [target.clone(), path[k + 1..].to_vec()].concat();
                if let Some(f) = resolve(&through, modules, binds, depth + 1) {
                    return Some(f);
                }
            }
        }
        Some(modules[&path[..k]])
    }
    let mut edges = BTreeMap::new();
    for (f, p) in parsed.iter().enumerate() {
        for raw in &p.paths {
            let Some(path) = absolute(&raw.scope, &raw.segments) else {
                continue;
            };
            let Some(to) = resolve(&path, &module_file, &binds, 0) else {
                continue;
            };
            if to != f && test_parent.get(&f) != Some(&to) {
                let evidence = Evidence {
                    line: raw.line,
                    path: raw.segments.join("::"),
                };
                edges.entry((f, to)).or_insert(evidence);
            }
        }
    }
    FileGraph {
        files: files.iter().map(|(rel, _)| rel.clone()).collect(),
        edges,
    }
}

impl FileGraph {
    pub(super) fn edge(&self, from: usize, to: usize) -> String {
        let e = &self.edges[&(from, to)];
        format!(
            "{} → {} (line {}: `{}`)",
            self.files[from], self.files[to], e.line, e.path
        )
    }

    /// The groups of files that import each other in a circle, each with one cycle and all the
    /// edges inside it.
    pub(super) fn cycles(&self) -> Vec<String> {
        let n = self.files.len();
        let mut next = vec![Vec::new(); n];
        for &(a, b) in self.edges.keys() {
            next[a].push(b);
        }
        // Files that reach each other: `f` and `g` are in one group when each reaches the other.
        let reach: Vec<BTreeSet<usize>> = (0..n)
            .map(|s| {
                let (mut seen, mut todo) = (BTreeSet::new(), vec![s]);
                while let Some(x) = todo.pop() {
                    todo.extend(next[x].iter().filter(|&&y| seen.insert(y)));
                }
                seen
            })
            .collect();
        let mut done = BTreeSet::new();
        let mut out = Vec::new();
        for s in 0..n {
            if done.contains(&s) || !reach[s].contains(&s) {
                continue;
            }
            let group: Vec<usize> = (0..n)
                .filter(|&g| reach[s].contains(&g) && reach[g].contains(&s))
                .collect();
            done.extend(group.iter().copied());
            // The shortest way from `s` back to itself.
            let (mut from, mut todo) = (HashMap::new(), std::collections::VecDeque::from([s]));
            while let Some(x) = todo.pop_front() {
                if x == s && !from.is_empty() {
                    break;
                }
                for &y in &next[x] {
                    if group.contains(&y) && !from.contains_key(&y) {
                        from.insert(y, x);
                        todo.push_back(y);
                    }
                }
            }
            let mut cycle = vec![s];
            while cycle.len() == 1 || *cycle.last().unwrap() != s {
                cycle.push(from[cycle.last().unwrap()]);
            }
            cycle.reverse();
            let names: Vec<&str> = cycle.iter().map(|&f| self.files[f].as_str()).collect();
            let mut text = format!("cycle {}", names.join(" → "));
            for &(a, b) in self
                .edges
                .keys()
                .filter(|(a, b)| group.contains(a) && group.contains(b))
            {
                text.push_str(&format!("\n      {}", self.edge(a, b)));
            }
            out.push(text);
        }
        out
    }
}
