//! Inline expansion: the frames at one address of a module file, one per inlined call and one
//! for the function they were inlined into, demangled and classified.

use alloc_profile_format::symbolized::{Frame, FrameKind};

use crate::address_map::{ModuleEntry, ModuleState};
use crate::classify::Classifier;
use crate::names;

/// The frames of a loaded (or unusable) module at `svma`, innermost inlined call first, and a
/// debug-info error met on the way.
pub(crate) fn describe(
    entry: &ModuleEntry,
    svma: u64,
    classifier: &Classifier,
) -> (Vec<Frame>, Option<String>) {
    let unknown = || Frame {
        function: "??".to_owned(),
        file: None,
        line: None,
        kind: if entry.traits.system {
            FrameKind::Foreign
        } else {
            FrameKind::Unknown
        },
        crate_name: None,
        inlined: false,
        object: entry.name.clone(),
    };
    let ModuleState::Loaded(loaded) = &entry.state else {
        return (vec![unknown()], None);
    };
    let (sources, error) = loaded.frames(svma);
    if sources.is_empty() {
        return (vec![unknown()], error);
    }
    let last = sources.len() - 1;
    let frames = sources
        .into_iter()
        .enumerate()
        .map(|(i, source)| {
            let (function, rust_name) = match &source.function {
                Some(raw) => names::demangle(raw),
                None => ("??".to_owned(), false),
            };
            let class = classifier.classify(
                source.file.as_deref(),
                &function,
                rust_name || source.rust_unit,
                entry.traits,
            );
            Frame {
                function,
                file: source.file,
                line: source.line,
                kind: class.kind,
                crate_name: class.crate_name,
                inlined: i < last,
                object: entry.name.clone(),
            }
        })
        .collect();
    (frames, error)
}
