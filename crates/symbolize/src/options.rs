//! What the caller tells the symbolizer about the profiled workspace.

use std::path::PathBuf;

/// What the symbolizer needs to know about the profiled workspace, to classify frames.
///
/// Package roots are matched against source paths in the debug info, component by component,
/// after lexical normalization; relative roots are taken relative to the current directory, and
/// a root's canonical path (symlinks resolved) matches too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Member packages of the profiled workspace: (root directory of the package, crate name with
    /// `-` as `_`).
    pub workspace: Vec<(PathBuf, String)>,
    /// Dependency packages: (root directory, crate name). From `cargo metadata`.
    pub dependencies: Vec<(PathBuf, String)>,
    /// Crate names of the member packages' other targets (an integration test
    /// `tests/props.rs` is crate `props`, a bench `benches/words.rs` crate `words`), with `-` as
    /// `_`: functions named in them are the workspace's, also when a dependency's macro wrote
    /// them (their lines are then the dependency's).
    pub workspace_targets: Vec<String>,
}
