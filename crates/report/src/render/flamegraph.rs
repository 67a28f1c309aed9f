//! The flame graph: an SVG of the [folded](super::folded) stacks, drawn by `inferno` with its
//! memory palette. Colors come from a hash of each function's name and frames are laid out in
//! sorted order, so the same profile always draws the same bytes. The SVG carries inferno's
//! script: click to zoom, Ctrl-F (or the Search button) to highlight a function with its share.

use std::io::{self, Write};

use inferno::flamegraph::{self, color::BasicPalette, Options, Palette};

use super::folded::{folded_lines, StackPath, Weight};

/// Writes the flame graph of `stacks` for `weight`, titled `title`.
///
/// # Errors
/// Those of `out`; `InvalidData` when there is nothing to draw (no stack has any weight).
pub fn write_flamegraph(
    out: &mut impl Write,
    stacks: &[StackPath<'_>],
    weight: Weight,
    title: &str,
) -> io::Result<()> {
    let lines = folded_lines(stacks, weight);
    let mut options = Options::default();
    options.colors = Palette::Basic(BasicPalette::Mem);
    options.count_name = weight.count_name().to_owned();
    options.title = title.to_owned();
    options.hash = true;
    options.deterministic = true;
    options.name_type = "Function:".to_owned();
    if lines.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "nothing to draw: the profile has no {}",
                weight.count_name()
            ),
        ));
    }
    flamegraph::from_lines(&mut options, lines.iter().map(String::as_str), out)
}
