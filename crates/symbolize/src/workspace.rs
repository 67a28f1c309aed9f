//! The workspace's functions present in an executable's debug info: the candidates for the
//! report's "zero-allocation functions" (defined in the user's crates, never on an allocation
//! stack).
//!
//! Names are taken exactly as frames get them (the linkage name if there is one, else the plain
//! name, demangled the same way) and normalized with [`function_key`], so the report can subtract
//! the functions it saw on stacks by comparing keys.
//!
//! Cost: a test binary's DWARF is mostly std and dependencies. A unit is only walked when its
//! line-program file table mentions a workspace file, which a unit's header alone tells; the
//! walk itself visits each DIE once.

use std::collections::HashMap;

use alloc_profile_format::symbolized::function_key;
use gimli::{AttributeValue, Reader as _};

use crate::classify::Classifier;
use crate::module::Reader;
use crate::names;

/// A workspace function found in the debug info.
pub(crate) struct Candidate {
    /// Its [`function_key`].
    pub key: String,
    /// Its demangled name.
    pub function: String,
    /// Where it is declared, when the debug info says.
    pub decl: Option<(String, u32)>,
}

/// Adds the workspace functions defined in `dwarf` to `out`.
pub(crate) fn collect(
    dwarf: &gimli::Dwarf<Reader>,
    context: Option<&addr2line::Context<Reader>>,
    classifier: &Classifier,
    out: &mut Vec<Candidate>,
) -> Result<(), gimli::Error> {
    let mut headers = dwarf.units();
    while let Some(header) = headers.next()? {
        let unit = dwarf.unit(header)?;
        let unit = unit.unit_ref(dwarf);
        let Some(program) = &unit.line_program else {
            continue;
        };
        let line_header = program.header();
        // decl_file values are indices into this table: decide each file once.
        let mut in_workspace: HashMap<u64, bool> = HashMap::new();
        let mut paths: HashMap<u64, String> = HashMap::new();
        let first_index = if line_header.version() >= 5 { 0 } else { 1 };
        let mut any = false;
        for (i, file) in line_header.file_names().iter().enumerate() {
            let path = render_file(unit, file, line_header)?;
            let yes = classifier.is_workspace_path(&path);
            any |= yes;
            in_workspace.insert(first_index + i as u64, yes);
            paths.insert(first_index + i as u64, path);
        }
        if !any {
            continue;
        }

        let mut entries = unit.entries();
        while let Some((_, entry)) = entries.next_dfs()? {
            if entry.tag() != gimli::DW_TAG_subprogram {
                continue;
            }
            if let Some(AttributeValue::Flag(true)) = entry.attr_value(gimli::DW_AT_declaration)? {
                continue;
            }
            // Out-of-line copies of inlined functions point at their abstract instance, which is
            // walked on its own; only entries carrying a name are candidates.
            let name = match entry.attr_value(gimli::DW_AT_linkage_name)? {
                Some(value) => Some(value),
                None => entry.attr_value(gimli::DW_AT_name)?,
            };
            let Some(name) = name else { continue };
            let mut decl_file = None;
            let in_ws = match entry.attr_value(gimli::DW_AT_decl_file)? {
                Some(AttributeValue::FileIndex(i) | AttributeValue::Udata(i)) => {
                    decl_file = paths.get(&i).cloned();
                    in_workspace.get(&i).copied().unwrap_or(false)
                }
                _ => match (entry.attr_value(gimli::DW_AT_low_pc)?, context) {
                    (Some(AttributeValue::Addr(pc)), Some(context)) => context
                        .find_location(pc)?
                        .and_then(|l| l.file)
                        .is_some_and(|f| classifier.is_workspace_path(f)),
                    _ => false,
                },
            };
            if !in_ws {
                continue;
            }
            let raw = unit.attr_string(name)?;
            let (function, _) = names::demangle(&raw.to_string_lossy()?);
            let decl_line = match entry.attr_value(gimli::DW_AT_decl_line)? {
                Some(AttributeValue::Udata(l)) => u32::try_from(l).ok(),
                _ => None,
            };
            if let Some(key) = workspace_key(&function) {
                out.push(Candidate {
                    key,
                    function,
                    decl: decl_file.zip(decl_line),
                });
            }
        }
    }
    Ok(())
}

/// The key of a workspace function, `None` for compiler-generated names that are not the user's
/// functions: the C `main` shim (`main` without a crate path; `<crate>::main` stays), constants,
/// and shims.
pub(crate) fn workspace_key(function: &str) -> Option<String> {
    let key = function_key(function);
    let generated = key.is_empty()
        || key == "main"
        || [
            "{{constant}}",
            "{constant#",
            "{{vtable.shim}}",
            "{{reify.shim}}",
            "{shim:",
        ]
        .iter()
        .any(|marker| function.contains(marker))
        || names::is_runtime_shim(&key)
        || names::is_allocator_machinery(function);
    (!generated).then_some(key)
}

/// A line-program file's full path, the way addr2line renders it (compilation directory, then
/// include directory, then name; absolute parts replace what came before).
fn render_file(
    unit: gimli::UnitRef<'_, Reader>,
    file: &gimli::FileEntry<Reader>,
    header: &gimli::LineProgramHeader<Reader>,
) -> Result<String, gimli::Error> {
    let mut path = match &unit.comp_dir {
        Some(dir) => dir.to_string_lossy()?.into_owned(),
        None => String::new(),
    };
    if file.directory_index() != 0 {
        if let Some(directory) = file.directory(header) {
            push(&mut path, &unit.attr_string(directory)?.to_string_lossy()?);
        }
    }
    push(
        &mut path,
        &unit.attr_string(file.path_name())?.to_string_lossy()?,
    );
    Ok(path)
}

fn push(path: &mut String, part: &str) {
    if part.starts_with('/') {
        part.clone_into(path);
    } else {
        if !path.is_empty() && !path.ends_with('/') {
            path.push('/');
        }
        path.push_str(part);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_skip_generated_names() {
        assert_eq!(workspace_key("demo::main"), Some("demo::main".to_owned()));
        assert_eq!(workspace_key("main"), None);
        assert_eq!(
            workspace_key("demo::parse::{{closure}}"),
            Some("demo::parse".to_owned())
        );
        assert_eq!(workspace_key("demo::LIMIT::{{constant}}"), None);
        assert_eq!(workspace_key("demo::f::<u8>"), Some("demo::f".to_owned()));
        assert_eq!(workspace_key("__rust_alloc"), None);
    }

    #[test]
    fn paths_join_like_addr2line() {
        let mut p = "/w".to_owned();
        push(&mut p, "src");
        push(&mut p, "main.rs");
        assert_eq!(p, "/w/src/main.rs");
        push(&mut p, "/abs/x.rs");
        assert_eq!(p, "/abs/x.rs");
    }
}
