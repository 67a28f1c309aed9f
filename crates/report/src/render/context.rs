//! What the renderers are given besides the [`Analysis`](crate::analysis::Analysis): what the
//! caller knows about the run ([`Context`]) and how the text report is laid out ([`TextOptions`]).

use std::path::PathBuf;

/// Width the text report fits in.
pub const TEXT_WIDTH: usize = 100;

/// What the caller knows about the run that the profile does not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// What the user ran, e.g. `["cargo", "alloc-profile", "run", "--example", "demo"]`.
    pub command: Vec<String>,
    /// The profiled target, e.g. `demo (examples/demo.rs)`; empty when there is nothing to say.
    pub target_label: String,
    /// Exit code of the profiled program, when it exited.
    pub exit_code: Option<i32>,
    /// Signal number and name (`SIGSEGV`) when it was killed by one.
    pub signal: Option<(i32, String)>,
    /// Warnings of the command-line tool or the symbolizer, shown in the header.
    pub notes: Vec<String>,
    /// File names of the programs the tool started that wrote no profile (killed by SIGKILL,
    /// say): the figures leave them out, and the text report's header says so first.
    pub unprofiled: Vec<String>,
    /// Source paths under this directory are shown relative to it.
    pub workspace_root: Option<PathBuf>,
}

/// Options of the text report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextOptions {
    /// Rows of the "Hot spots" and "Per-module breakdown" tables; the rest is summarized in one
    /// line.
    pub top: usize,
    /// Use ANSI escape codes. Off means no escape code at all.
    pub color: bool,
    /// Show the "Advice" section (the JSON report always has `insights`).
    pub advice: bool,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            top: 10,
            color: false,
            advice: true,
        }
    }
}

/// `file` relative to `root` when it lies under it.
pub(crate) fn relative_path(file: &str, root: Option<&PathBuf>) -> String {
    if let Some(root) = root {
        if let Ok(rest) = std::path::Path::new(file).strip_prefix(root) {
            if let Some(s) = rest.to_str() {
                if !s.is_empty() {
                    return s.to_owned();
                }
            }
        }
    }
    file.to_owned()
}
