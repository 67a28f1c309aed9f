//! Writers of an [`Analysis`]: the text report for people, the JSON report for tools.
//!
//! Both take what the profile cannot know, the command the user ran and how it ended, as a
//! [`Context`] from the caller, and write to any `impl Write`; errors are the writer's
//! (`BrokenPipe` included, for the caller to treat as success).
//!
//! The text report is deterministic: no addresses, process ids or timings, explicit tie-breakers
//! everywhere, at most [`TEXT_WIDTH`] columns, and escape codes only with [`TextOptions::color`].
//! The one figure that comes from a clock is the peak's position in the run, rounded to whole
//! percent, so two runs of the same program can differ there.

use std::io::{self, Write};

use crate::analysis::Analysis;

mod context;
pub mod dhat;
pub mod diff;
pub mod flamegraph;
pub mod folded;
pub mod html;
mod json;
pub mod pprof;
mod text;

pub use context::{Context, TextOptions, TEXT_WIDTH};

/// Writes the text report.
///
/// # Errors
/// Only those of `out`.
pub fn write_text(
    out: &mut impl Write,
    analysis: &Analysis,
    context: &Context,
    options: &TextOptions,
) -> io::Result<()> {
    let text = text::render(analysis, context, options);
    out.write_all(text.as_bytes())
}

/// Writes the JSON report (format `cargo-alloc-profile`, version 1), pretty-printed, with a final
/// newline.
///
/// # Errors
/// Only those of `out`.
pub fn write_json(out: &mut impl Write, analysis: &Analysis, context: &Context) -> io::Result<()> {
    let report = crate::schema::Report::new(analysis, context);
    serde_json::to_writer_pretty(&mut *out, &report)?;
    out.write_all(b"\n")
}
