//! The text report's building blocks: styled lines (painted last, so color never changes the
//! layout), tables fitted into [`TEXT_WIDTH`], the "... N more" line and small words.

use super::fit::{fit_command, fit_end, fit_location, fit_path, width};
use crate::analysis::FunctionStats;
use crate::render::context::{relative_path, Context, TEXT_WIDTH};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Plain,
    Heading,
    Dim,
    Warning,
}

pub(super) struct Lines {
    pub(super) lines: Vec<(String, Style)>,
}

impl Lines {
    pub(super) fn push(&mut self, line: impl Into<String>, style: Style) {
        let line: String = line.into();
        self.lines.push((line.trim_end().to_owned(), style));
    }

    pub(super) fn blank(&mut self) {
        self.push(String::new(), Style::Plain);
    }

    pub(super) fn finish(self, color: bool) -> String {
        let mut out = String::new();
        for (line, style) in self.lines {
            let code = match style {
                _ if !color || line.is_empty() => None,
                Style::Plain => None,
                Style::Heading => Some("\x1b[1m"),
                Style::Dim => Some("\x1b[2m"),
                Style::Warning => Some("\x1b[33m"),
            };
            match code {
                Some(code) => {
                    out.push_str(code);
                    out.push_str(&line);
                    out.push_str("\x1b[0m");
                }
                None => out.push_str(&line),
            }
            out.push('\n');
        }
        out
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Fit {
    /// Numbers: never cut.
    Keep,
    /// Function or module paths: keep the last segments.
    Path,
    /// `file:line`: keep the end.
    Location,
    /// Short names: keep the start.
    End,
    /// A command line: keep the program and the end of its arguments.
    Command,
}

pub(super) struct Column {
    header: &'static str,
    align: Align,
    fit: Fit,
    /// Widest the column gets even when the table has room: one very long name should not push
    /// every other row's numbers far to the right.
    max: usize,
}

impl Column {
    pub(super) fn number(header: &'static str) -> Column {
        Column {
            header,
            align: Align::Right,
            fit: Fit::Keep,
            max: usize::MAX,
        }
    }

    pub(super) fn text(header: &'static str, fit: Fit, max: usize) -> Column {
        Column {
            header,
            align: Align::Left,
            fit,
            max,
        }
    }
}

/// A table fitted into [`TEXT_WIDTH`]: columns are as wide as their widest cell, and when the
/// total is too wide, the columns listed in `shrink` (index, minimum width) give up space in that
/// order.
pub(super) fn table(
    lines: &mut Lines,
    columns: &[Column],
    rows: &[Vec<String>],
    shrink: &[(usize, usize)],
) {
    const INDENT: usize = 2;
    const GAP: usize = 2;
    let mut widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| width(&r[i]))
                .chain([width(c.header)])
                .max()
                .unwrap_or(0)
                .min(c.max.max(width(c.header)))
        })
        .collect();
    let total = |widths: &[usize]| INDENT + widths.iter().sum::<usize>() + GAP * (widths.len() - 1);
    for &(column, min) in shrink {
        let excess = total(&widths).saturating_sub(TEXT_WIDTH);
        if excess == 0 {
            break;
        }
        let spare = widths[column].saturating_sub(min);
        widths[column] -= excess.min(spare);
    }
    let format_row = |cells: &[String], is_header: bool| {
        let mut line = " ".repeat(INDENT);
        for (i, (cell, column)) in cells.iter().zip(columns).enumerate() {
            if i > 0 {
                line.push_str(&" ".repeat(GAP));
            }
            let w = widths[i];
            let cell = match (is_header, column.fit) {
                (true, _) | (_, Fit::Keep) => cell.clone(),
                (false, Fit::Path) => fit_path(cell, w),
                (false, Fit::Location) => fit_location(cell, w),
                (false, Fit::End) => fit_end(cell, w),
                (false, Fit::Command) => fit_command(cell, w),
            };
            let pad = " ".repeat(w.saturating_sub(width(&cell)));
            match column.align {
                Align::Left => {
                    line.push_str(&cell);
                    line.push_str(&pad);
                }
                Align::Right => {
                    line.push_str(&pad);
                    line.push_str(&cell);
                }
            }
        }
        // Last resort for absurd numbers: never exceed the width.
        fit_end(line.trim_end(), TEXT_WIDTH)
    };
    let header: Vec<String> = columns.iter().map(|c| c.header.to_owned()).collect();
    lines.push(format_row(&header, true), Style::Dim);
    for row in rows {
        lines.push(format_row(row, false), Style::Plain);
    }
}

pub(super) fn more_line(lines: &mut Lines, hidden: usize, one: &str, many: &str) {
    if hidden > 0 {
        let what = plural(hidden as u64, one, many);
        lines.push(
            format!("  ... {hidden} more {what} (--top N, or --format json for all)"),
            Style::Dim,
        );
    }
}

pub(super) fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

pub(super) fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

pub(super) fn file_line(file: Option<&str>, line: Option<u32>, context: &Context) -> String {
    match (file, line) {
        (Some(file), Some(line)) => format!(
            "{}:{line}",
            relative_path(file, context.workspace_root.as_ref())
        ),
        (Some(file), None) => relative_path(file, context.workspace_root.as_ref()),
        (None, _) => "?".to_owned(),
    }
}

pub(super) fn location(f: &FunctionStats, context: &Context) -> String {
    file_line(f.file.as_deref(), f.line, context)
}
