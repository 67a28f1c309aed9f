//! The text report: the first screen answers "which of my functions allocate, how much, where".
//!
//! Sections, in order: header (command, target, how it ended, totals, notes), Hot spots (the
//! user's functions by self allocations), Per-module breakdown, Advice (the insights, unless
//! [`TextOptions::advice`] is off), Peak live heap (who held it), Still live at exit (your
//! functions' leaks), Sizes and temporaries, Zero-allocation functions. Sections about data an
//! older profile does not have (peak holders, sizes, temporaries) are left out when it is all
//! zero. Lines are built uncolored, fitted to [`TEXT_WIDTH`], and
//! painted last, so color never changes the layout.

use super::format::{fit_command, fit_end, fit_location, fit_path, width, wrap, wrap_prose};
use crate::units::{bucket_label, human_bytes, percent, thousands};
use std::cmp::Reverse;

use super::context::{relative_path, Context, TextOptions, TEXT_WIDTH};
use crate::analysis::Analysis;
use crate::analysis::{FunctionStats, ModuleStats, ProcessEnd, ProcessSummary};
use crate::attribute::{ModuleKind, LIBC_MODULE, RUNTIME_MODULE};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Heading,
    Dim,
    Warning,
}

struct Lines {
    lines: Vec<(String, Style)>,
}

impl Lines {
    fn push(&mut self, line: impl Into<String>, style: Style) {
        let line: String = line.into();
        self.lines.push((line.trim_end().to_owned(), style));
    }

    fn blank(&mut self) {
        self.push(String::new(), Style::Plain);
    }

    fn finish(self, color: bool) -> String {
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

pub(super) fn render(analysis: &Analysis, context: &Context, options: &TextOptions) -> String {
    let mut lines = Lines { lines: Vec::new() };
    header(&mut lines, analysis, context);
    if !analysis.budgets.is_empty() {
        lines.blank();
        budgets(&mut lines, analysis);
    }
    if shows_processes(analysis, context) {
        lines.blank();
        processes(&mut lines, analysis, options.top);
    }
    if let Some(tests) = &analysis.tests {
        lines.blank();
        tests_section(&mut lines, tests, options.top);
    }
    if analysis.totals.allocations > 0 {
        lines.blank();
        hot_spots(&mut lines, analysis, context, options.top);
        if !analysis.call_paths.is_empty() {
            lines.blank();
            call_paths(&mut lines, analysis, options.top);
        }
        lines.blank();
        modules(&mut lines, analysis, options.top);
        // Advice after the tables that show the numbers, before the details.
        if options.advice {
            lines.blank();
            advice(&mut lines, analysis, context, options.top);
        }
        if analysis.functions.iter().any(|f| f.peak_bytes > 0) {
            lines.blank();
            peak(&mut lines, analysis, context, options.top);
        }
        if analysis
            .leaks
            .iter()
            .any(|l| l.kind == ModuleKind::Workspace)
        {
            lines.blank();
            leaks(&mut lines, analysis, context, options.top);
        }
        let t = &analysis.totals;
        if !t.size_histogram.is_empty() || t.temporary_allocations > 0 {
            lines.blank();
            sizes(&mut lines, analysis, options.top);
        }
    }
    if !analysis.processes.is_empty() {
        lines.blank();
        zero_allocation_functions(&mut lines, analysis, options.top);
    }
    lines.finish(options.color)
}

/// The Processes section is there when there are several, or when the one profiled is not the
/// program the tool started (that one wrote no profile): the reader must see whose figures these are.
fn shows_processes(analysis: &Analysis, context: &Context) -> bool {
    analysis.processes.len() > 1
        || (!analysis.processes.is_empty() && !context.unprofiled.is_empty())
}

fn shell_word(word: &str) -> String {
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

fn exit_status(context: &Context) -> String {
    match (&context.signal, context.exit_code) {
        (Some((number, name)), _) if name.is_empty() => format!("killed by signal {number}"),
        (Some((number, name)), _) => format!("killed by signal {number} ({name})"),
        (None, Some(code)) => format!("exit status {code}"),
        (None, None) => "exit status unknown".to_owned(),
    }
}

fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

fn header(lines: &mut Lines, analysis: &Analysis, context: &Context) {
    let command = context
        .command
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ");
    let mut rest = Vec::new();
    if !context.target_label.is_empty() {
        rest.push(context.target_label.clone());
    }
    rest.push(exit_status(context));
    let rest = rest.join(" · ");
    let first = if command.is_empty() {
        format!("cargo alloc-profile · {rest}")
    } else {
        format!("{command} · {rest}")
    };
    if width(&first) <= TEXT_WIDTH {
        lines.push(first, Style::Heading);
    } else {
        lines.push(fit_end(&command, TEXT_WIDTH), Style::Heading);
        lines.push(fit_end(&format!("  {rest}"), TEXT_WIDTH), Style::Heading);
    }

    let t = &analysis.totals;
    // Programs the tool started that wrote no profile: what follows is not the whole run.
    let mut unprofiled: Vec<&str> = context.unprofiled.iter().map(String::as_str).collect();
    unprofiled.sort_unstable();
    unprofiled.dedup();
    if !unprofiled.is_empty() && !analysis.processes.is_empty() {
        let them = if unprofiled.len() == 1 { "it" } else { "they" };
        for line in wrap_prose(
            &format!(
                "Not the whole run: {} wrote no profile (the notes say why), so nothing {them} \
                 allocated is counted; the figures below are those of the other {}, listed \
                 under Processes",
                unprofiled.join(", "),
                plural(
                    analysis.processes.len() as u64,
                    "process that wrote one",
                    "processes that wrote one"
                ),
            ),
            "  ",
            "  ",
            TEXT_WIDTH,
        ) {
            lines.push(line, Style::Warning);
        }
    }
    if analysis.processes.is_empty() {
        lines.push(
            "  Nothing was recorded: no profiled process wrote a profile (the notes say why).",
            Style::Plain,
        );
    } else if t.allocations == 0 {
        lines.push(
            "  No heap allocations were recorded: the program made no successful allocator call \
             while profiled.",
            Style::Plain,
        );
    } else {
        let mut parts = vec![format!(
            "{} {} ({} {})",
            thousands(t.allocations),
            plural(t.allocations, "allocation", "allocations"),
            thousands(t.reallocations),
            plural(t.reallocations, "reallocation", "reallocations"),
        )];
        parts.push(format!("{} requested", human_bytes(t.bytes)));
        parts.push(format!(
            "{} {}",
            thousands(t.frees),
            plural(t.frees, "free", "frees")
        ));
        // When the peak came is a timing: it varies from run to run, so only the JSON has it
        // (`peak_percent`, `peak_time_ns`), and `diff before.txt after.txt` stays meaningful.
        parts.push(format!("peak live {}", human_bytes(t.peak_bytes)));
        for line in wrap_joined(&parts, "  ", " · ") {
            lines.push(line, Style::Plain);
        }
        lines.push(format!("  {}", live_at_exit(analysis)), Style::Plain);
    }
    if analysis.processes.len() > 1 {
        lines.push(
            format!(
                "  {} processes profiled (listed below); peak is the largest peak of any one of them",
                analysis.processes.len()
            ),
            Style::Plain,
        );
    } else if shows_processes(analysis, context) {
        lines.push("  1 process profiled (listed below)", Style::Plain);
    }
    for note in &context.notes {
        for line in wrap_prose(note, "  note: ", "        ", TEXT_WIDTH) {
            lines.push(line, Style::Warning);
        }
    }
    for warning in computed_warnings(analysis) {
        for line in wrap_prose(&warning, "  warning: ", "           ", TEXT_WIDTH) {
            lines.push(line, Style::Warning);
        }
    }
}

/// Parts joined with `separator`, wrapped at part boundaries.
fn wrap_joined(parts: &[String], indent: &str, separator: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = indent.to_owned();
    let mut empty = true;
    for part in parts {
        if !empty && width(&line) + width(separator) + width(part) > TEXT_WIDTH {
            lines.push(std::mem::replace(&mut line, indent.to_owned()));
            empty = true;
        }
        if !empty {
            line.push_str(separator);
        }
        line.push_str(part);
        empty = false;
    }
    lines.push(line);
    lines
}

fn live_at_exit(analysis: &Analysis) -> String {
    let t = &analysis.totals;
    if t.leaked_allocations == 0 {
        return "nothing still live at exit".to_owned();
    }
    // As the leaks table groups them: by the function of yours that allocated them, else by
    // the module that did.
    let mut by_kind = [0u64; 4];
    for leak in &analysis.leaks {
        let slot = match leak.kind {
            ModuleKind::Workspace => 0,
            ModuleKind::Dependency => 1,
            ModuleKind::Runtime => 2,
            ModuleKind::LibcInternal => 3,
        };
        by_kind[slot] += leak.allocations;
    }
    let names = ["your code", "dependencies", "runtime", "C library internal"];
    let parts: Vec<String> = names
        .iter()
        .zip(by_kind)
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{name} {}", thousands(n)))
        .collect();
    format!(
        "still live at exit: {} {}, {} ({})",
        thousands(t.leaked_allocations),
        plural(t.leaked_allocations, "allocation", "allocations"),
        human_bytes(t.leaked_bytes),
        parts.join(", ")
    )
}

/// Panic-handling allocations worth a note: more than a panic message's few.
const PANIC_NOTE_MIN: u64 = 1_000;

fn computed_warnings(analysis: &Analysis) -> Vec<String> {
    let t = &analysis.totals;
    let mut warnings = Vec::new();
    if t.unattributed_allocations > 0 {
        warnings.push(format!(
            "{} {} could not be attributed to a call stack (the profiler's stack table was full); \
             they count in the allocations above but in no table below",
            thousands(t.unattributed_allocations),
            plural(t.unattributed_allocations, "allocation", "allocations"),
        ));
    }
    if t.truncated_allocations > 0 {
        warnings.push(format!(
            "{} {} had call stacks deeper than the capture limit; their outermost frames are \
             missing, so totals of outer functions can be too low",
            thousands(t.truncated_allocations),
            plural(t.truncated_allocations, "allocation", "allocations"),
        ));
    }
    // A panic's message costs a few allocations; printing a backtrace (RUST_BACKTRACE set, as CI
    // often has it) costs thousands, and can outweigh the program.
    if t.panic_allocations >= PANIC_NOTE_MIN {
        warnings.push(format!(
            "{} {} ({}) were std's panic handling, most likely printing backtraces because \
             RUST_BACKTRACE is set: they count as (runtime), in no function's own allocations",
            thousands(t.panic_allocations),
            plural(t.panic_allocations, "allocation", "allocations"),
            human_bytes(t.panic_bytes),
        ));
    }
    for p in &analysis.processes {
        let exe = p.exe.rsplit('/').next().unwrap_or(&p.exe);
        match p.end {
            ProcessEnd::Signal => warnings.push(format!(
                "process {exe} was killed by signal {}: its profile ends there",
                p.end_detail
            )),
            ProcessEnd::Exec => warnings.push(format!(
                "process {exe} replaced itself with another program (exec): its profile covers the \
                 time before"
            )),
            ProcessEnd::UnderscoreExit => warnings.push(format!(
                "process {exe} ended with _exit, skipping destructors and atexit handlers: more \
                 blocks than usual are still live at exit"
            )),
            _ => {}
        }
    }
    warnings
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fit {
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

struct Column {
    header: &'static str,
    align: Align,
    fit: Fit,
    /// Widest the column gets even when the table has room: one very long name should not push
    /// every other row's numbers far to the right.
    max: usize,
}

impl Column {
    fn number(header: &'static str) -> Column {
        Column {
            header,
            align: Align::Right,
            fit: Fit::Keep,
            max: usize::MAX,
        }
    }

    fn text(header: &'static str, fit: Fit, max: usize) -> Column {
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
fn table(lines: &mut Lines, columns: &[Column], rows: &[Vec<String>], shrink: &[(usize, usize)]) {
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

fn more_line(lines: &mut Lines, hidden: usize, one: &str, many: &str) {
    if hidden > 0 {
        let what = plural(hidden as u64, one, many);
        lines.push(
            format!("  ... {hidden} more {what} (--top N, or --format json for all)"),
            Style::Dim,
        );
    }
}

fn location(f: &FunctionStats, context: &Context) -> String {
    file_line(f.file.as_deref(), f.line, context)
}

/// The call-path tree, depth first, as [`crate::paths::listed`] bounds it, at most `top` (at least
/// 20) rows.
fn call_paths(lines: &mut Lines, analysis: &Analysis, top: usize) {
    lines.push(
        "Call paths: your functions from the entry points down, with everything they called",
        Style::Heading,
    );
    let limit = top.max(20);
    let (shown, hidden) = crate::paths::listed(&analysis.call_paths, limit);
    let total_width = shown
        .iter()
        .map(|p| width(&thousands(p.total_allocations)))
        .chain([width("total")])
        .max()
        .unwrap_or(5);
    let self_width = shown
        .iter()
        .map(|p| width(&thousands(p.self_allocations)))
        .chain([width("self")])
        .max()
        .unwrap_or(4);
    lines.push(
        format!(
            "  {:>total_width$}  {:>self_width$}  function",
            "total", "self"
        ),
        Style::Dim,
    );
    for p in shown {
        let indent = "  ".repeat(p.depth.min(20));
        let room = TEXT_WIDTH.saturating_sub(6 + total_width + self_width + indent.len());
        lines.push(
            format!(
                "  {:>total_width$}  {:>self_width$}  {indent}{}",
                thousands(p.total_allocations),
                thousands(p.self_allocations),
                fit_path(&p.function, room.max(12))
            ),
            Style::Plain,
        );
    }
    if hidden > 0 {
        lines.push(
            format!(
                "  ... {hidden} more {} under {}% of these allocations or past {limit} \
                 rows (--top N)",
                plural(hidden as u64, "call", "calls"),
                crate::paths::LISTED_SHARE
            ),
            Style::Dim,
        );
    }
}

fn hot_spots(lines: &mut Lines, analysis: &Analysis, context: &Context, top: usize) {
    let spots = analysis.hot_spots();
    lines.push(
        "Hot spots: your functions by self allocations",
        Style::Heading,
    );
    if spots.is_empty() {
        for line in wrap_prose(
            "None of your functions is on an allocation stack: every allocation came from the \
             runtime, a dependency or the C library (see the per-module breakdown).",
            "  ",
            "  ",
            TEXT_WIDTH,
        ) {
            lines.push(line, Style::Plain);
        }
        return;
    }
    lines.push(
        "  self: allocations made in the function's own body; total: with everything it called",
        Style::Dim,
    );
    let columns = [
        Column::text("function", Fit::Path, 40),
        Column::number("self"),
        Column::number("total"),
        Column::number("bytes"),
        Column::text("where", Fit::Location, 40),
        Column::text("via", Fit::Path, 32),
    ];
    let rows: Vec<Vec<String>> = spots
        .iter()
        .take(top)
        .map(|f| {
            vec![
                f.name.clone(),
                thousands(f.self_allocations),
                thousands(f.total_allocations),
                human_bytes(f.self_bytes),
                location(f, context),
                f.via.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        lines,
        &columns,
        &rows,
        &[
            (0, 30),
            (5, 16),
            (4, 18),
            (0, 24),
            (4, 12),
            (5, 10),
            (0, 12),
        ],
    );
    more_line(
        lines,
        spots.len().saturating_sub(top),
        "function",
        "functions",
    );
}

fn module_label(m: &ModuleStats) -> String {
    match m.kind {
        ModuleKind::Dependency => format!("{} (dependency)", m.name),
        _ => m.name.clone(),
    }
}

fn modules(lines: &mut Lines, analysis: &Analysis, top: usize) {
    let all = analysis.totals.allocations;
    lines.push(
        "Per-module breakdown: each allocation in the innermost module of your code or a dependency",
        Style::Heading,
    );
    let columns = [
        Column::text("module", Fit::Path, 48),
        Column::number("allocs"),
        Column::number("share"),
        Column::number("bytes"),
        Column::number("live at exit"),
    ];
    let shown: Vec<&ModuleStats> = analysis.modules.iter().take(top).collect();
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|m| {
            vec![
                module_label(m),
                thousands(m.allocations),
                percent(m.allocations, all),
                human_bytes(m.bytes),
                thousands(m.leaked_allocations),
            ]
        })
        .collect();
    table(lines, &columns, &rows, &[(0, 24)]);
    more_line(
        lines,
        analysis.modules.len().saturating_sub(top),
        "module",
        "modules",
    );
    if shown.iter().any(|m| m.kind == ModuleKind::Runtime) {
        lines.push(
            format!(
                "  {RUNTIME_MODULE}: std and start-up code with no frame of yours or of a \
                 dependency (e.g. stdout buffer)"
            ),
            Style::Dim,
        );
    }
    if shown.iter().any(|m| m.kind == ModuleKind::LibcInternal) {
        lines.push(
            format!(
                "  {LIBC_MODULE}: glibc's own allocations (e.g. thread start-up), blamed on no \
                 function"
            ),
            Style::Dim,
        );
    }
}

/// Every budget limit (all of them, whatever `--top` says: a gate hides nothing), exceeded first.
fn budgets(lines: &mut Lines, analysis: &Analysis) {
    use crate::budget::{Metric, Verdict};
    let checks = &analysis.budgets;
    let failed = crate::budget::exceeded(checks);
    let checked = checks
        .iter()
        .filter(|c| !matches!(c.verdict, Verdict::NotChecked(_)))
        .count();
    let heading = match (failed, checked) {
        (0, 0) => "Budgets (Cargo.toml): none applies to this run".to_owned(),
        (0, 1) => "Budgets (Cargo.toml): the one checked limit is kept".to_owned(),
        (0, n) => format!("Budgets (Cargo.toml): all {n} checked limits kept"),
        (f, n) => format!("Budgets (Cargo.toml): {f} of {n} checked limits EXCEEDED"),
    };
    lines.push(
        heading,
        if failed > 0 {
            Style::Warning
        } else {
            Style::Heading
        },
    );
    let columns = [
        Column::text("budget", Fit::Path, 48),
        Column::text("metric", Fit::Keep, 12),
        Column::number("limit"),
        Column::number("actual"),
        Column::text("result", Fit::Keep, 8),
    ];
    let amount = |metric: Metric, v: u64| {
        if metric.is_bytes() {
            human_bytes(v)
        } else {
            thousands(v)
        }
    };
    // A pattern that kept several functions or tests is one row (`largest of 698 tests by "*"`).
    let rows: Vec<Vec<String>> = crate::budget::table_rows(checks)
        .into_iter()
        .map(|r| {
            let result = if r.exceeded { "EXCEEDED" } else { "kept" };
            vec![
                r.label,
                r.metric.as_str().to_owned(),
                amount(r.metric, r.limit),
                amount(r.metric, r.actual),
                result.to_owned(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        table(lines, &columns, &rows, &[(0, 20)]);
    }
    // What could not be checked, one line per reason: a typo in a name shows here.
    let mut reasons: Vec<(&str, Vec<String>)> = Vec::new();
    for c in checks {
        if let Verdict::NotChecked(why) = c.verdict {
            let name = c.scope.label();
            match reasons.iter_mut().find(|(w, _)| *w == why) {
                Some((_, names)) if !names.contains(&name) => names.push(name),
                Some(_) => {}
                None => reasons.push((why, vec![name])),
            }
        }
    }
    for (why, names) in reasons {
        for line in wrap_prose(
            &format!("not checked ({why}): {}", names.join(", ")),
            "  ",
            "    ",
            TEXT_WIDTH,
        ) {
            lines.push(line, Style::Dim);
        }
    }
}

/// How a process's profile ended, in a few words.
fn process_end(p: &ProcessSummary) -> String {
    match p.end {
        ProcessEnd::Exit => format!("exit {}", p.end_detail),
        ProcessEnd::UnderscoreExit => format!("_exit {}", p.end_detail),
        ProcessEnd::Signal => match crate::analysis::signal_name(p.end_detail) {
            Some(name) => format!("killed ({name})"),
            None => format!("killed (signal {})", p.end_detail),
        },
        ProcessEnd::Exec => "exec'd another program".to_owned(),
        ProcessEnd::Unknown => "unknown".to_owned(),
    }
}

/// One row per profiled process, in the order they started (no pids: the text stays the same from
/// run to run; the JSON has each process's timings and full command lines).
///
/// A row is the program's file name (without the hash cargo appends to test executables) and its
/// arguments. When a row does not fit, the arguments every listed process was given are left out
/// of the rows and named once below them, and each row keeps the end of the rest: the processes of
/// `cargo nextest`, `testsuite --exact tests::parses_small --nocapture` and so on, differ in
/// their test's name only.
fn processes(lines: &mut Lines, analysis: &Analysis, top: usize) {
    const COMMAND_WIDTH: usize = 64;
    lines.push(
        "Processes: every profiled process on its own, in the order they started",
        Style::Heading,
    );
    let shown: Vec<&ProcessSummary> = analysis.processes.iter().take(top).collect();
    let words: Vec<Vec<String>> = shown
        .iter()
        .map(|p| p.args.iter().skip(1).map(|a| shell_word(a)).collect())
        .collect();
    let command = |p: &ProcessSummary, args: &[&String]| {
        std::iter::once(program_name(&p.exe))
            .chain(args.iter().map(|a| (*a).clone()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let too_wide = shown
        .iter()
        .zip(&words)
        .any(|(p, w)| width(&command(p, &w.iter().collect::<Vec<_>>())) > COMMAND_WIDTH);
    let mut common: Vec<&String> = Vec::new();
    if too_wide && shown.len() > 1 {
        for word in &words[0] {
            if !common.contains(&word) && words.iter().all(|w| w.contains(word)) {
                common.push(word);
            }
        }
    }
    let columns = [
        Column::text("process", Fit::Command, COMMAND_WIDTH),
        Column::text("ended", Fit::Keep, 24),
        Column::number("allocs"),
        Column::number("bytes"),
        Column::number("peak live"),
    ];
    let rows: Vec<Vec<String>> = shown
        .iter()
        .zip(&words)
        .map(|(p, w)| {
            let args: Vec<&String> = w.iter().filter(|a| !common.contains(a)).collect();
            vec![
                command(p, &args),
                process_end(p),
                thousands(p.allocations),
                human_bytes(p.bytes),
                human_bytes(p.peak_bytes),
            ]
        })
        .collect();
    table(lines, &columns, &rows, &[(0, 20)]);
    if !common.is_empty() {
        let common: Vec<&str> = common.iter().map(|w| w.as_str()).collect();
        for line in wrap_prose(
            &format!("arguments of every process above: {}", common.join(" ")),
            "  ",
            "    ",
            TEXT_WIDTH,
        ) {
            lines.push(line, Style::Dim);
        }
    }
    more_line(
        lines,
        analysis.processes.len().saturating_sub(top),
        "process",
        "processes",
    );
}

/// An executable's file name, without the `-0123456789abcdef` cargo appends to test and bench
/// executables.
fn program_name(exe: &str) -> String {
    let name = exe.rsplit('/').next().unwrap_or(exe);
    match name.rsplit_once('-') {
        Some((stem, hash))
            if !stem.is_empty()
                && hash.len() == 16
                && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            stem.to_owned()
        }
        _ => name.to_owned(),
    }
}

/// The count and the first `top` names (all of them are in the JSON report).
fn zero_allocation_functions(lines: &mut Lines, analysis: &Analysis, top: usize) {
    let zero = &analysis.zero_allocation_functions;
    if analysis.workspace_function_count == 0 {
        lines.push("Zero-allocation functions: unknown", Style::Heading);
        lines.push(
            "  the debug info listed no functions of your crates, so there is nothing to compare \
             with",
            Style::Dim,
        );
        return;
    }
    lines.push(
        format!(
            "Zero-allocation functions ({})",
            thousands(zero.len() as u64)
        ),
        Style::Heading,
    );
    if zero.is_empty() {
        lines.push(
            "  none: every function of your crates in the debug info was on an allocation stack",
            Style::Dim,
        );
        return;
    }
    for line in wrap_prose(
        "defined in your crates but never on an allocation stack: each either ran without \
         allocating or did not run at all (the profile does not record calls)",
        "  ",
        "  ",
        TEXT_WIDTH,
    ) {
        lines.push(line, Style::Dim);
    }
    let shown = &zero[..zero.len().min(top)];
    for line in wrap(shown, "  ", "  ", TEXT_WIDTH) {
        lines.push(line, Style::Plain);
    }
    more_line(lines, zero.len() - shown.len(), "function", "functions");
}

/// Per-test (or per-benchmark) table, the harness lines and the zero-allocation tests.
fn tests_section(lines: &mut Lines, tests: &crate::per_test::TestsAnalysis, top: usize) {
    let (what, whats) = if tests.bench {
        ("benchmark", "Benchmarks")
    } else {
        ("test", "Tests")
    };
    lines.push(
        format!("{whats}: allocations made with the {what}'s function on the stack"),
        Style::Heading,
    );
    if tests.bench {
        lines.push(
            "  timings the benchmark harness printed above are not meaningful while profiling",
            Style::Dim,
        );
    }
    let ran: Vec<&crate::per_test::TestStats> = tests
        .tests
        .iter()
        .filter(|t| t.allocations > 0 || t.outcome != "ignored")
        .collect();
    let shown = top.max(20);
    let mut rows: Vec<Vec<String>> = ran
        .iter()
        .take(shown)
        .map(|t| {
            vec![
                t.name.clone(),
                t.binary.clone(),
                thousands(t.allocations),
                human_bytes(t.bytes),
                t.outcome.clone(),
            ]
        })
        .collect();
    for h in &tests.harness {
        rows.push(vec![
            format!("({what} harness)"),
            h.binary.clone(),
            thousands(h.allocations),
            human_bytes(h.bytes),
            String::new(),
        ]);
    }
    if rows.is_empty() {
        lines.push(format!("  no {what} ran"), Style::Dim);
        return;
    }
    let columns = [
        Column::text(what, Fit::Path, 60),
        Column::text("binary", Fit::End, 24),
        Column::number("allocs"),
        Column::number("bytes"),
        Column::text("outcome", Fit::Keep, 8),
    ];
    table(lines, &columns, &rows, &[(0, 30), (1, 12), (0, 20)]);
    let hidden = ran.len().saturating_sub(shown);
    if hidden > 0 {
        lines.push(
            format!("  ... {hidden} more (--top N, or --format json for all)"),
            Style::Dim,
        );
    }
    let ignored = tests
        .tests
        .iter()
        .filter(|t| t.outcome == "ignored" && t.allocations == 0)
        .count();
    if ignored > 0 {
        lines.push(
            format!(
                "  {ignored} ignored {} not run",
                plural(ignored as u64, what, "tests")
            ),
            Style::Dim,
        );
    }
    if !tests.bench {
        lines.blank();
        lines.push(
            format!(
                "Zero-allocation tests ({})",
                thousands(tests.zero_allocation_tests.len() as u64)
            ),
            Style::Heading,
        );
        let names: Vec<String> = tests
            .zero_allocation_tests
            .iter()
            .take(top)
            .map(|(_, n)| n.clone())
            .collect();
        if names.is_empty() {
            lines.push("  none: every test that ran allocated", Style::Dim);
        }
        for line in wrap(&names, "  ", "  ", TEXT_WIDTH) {
            lines.push(line, Style::Plain);
        }
        more_line(
            lines,
            tests.zero_allocation_tests.len() - names.len(),
            "test",
            "tests",
        );
        for b in &tests.incomplete_names {
            lines.push(
                format!(
                    "  {b}: its output did not name every test (terse format?), so its \
                     zero-allocation tests are not known"
                ),
                Style::Dim,
            );
        }
    }
}

/// Advice rows: the function, where, allocations before → after; the message below each.
fn advice(lines: &mut Lines, analysis: &Analysis, context: &Context, top: usize) {
    lines.push(
        "Advice: allocations your code could avoid, most first",
        Style::Heading,
    );
    let insights = &analysis.insights;
    if insights.is_empty() {
        let chains = analysis.totals.growth_chains;
        let text = if chains == 0 {
            "none: no allocation of yours matched a pattern with a known cure (regrown vectors, \
             string concatenation, copies)"
                .to_owned()
        } else {
            // Growth chains exist, but none the advice can cure (a collect or format! sizing its
            // own buffer, or too few): do not say there were none.
            format!(
                "none: no allocation of yours matched a pattern with a known cure (a vector \
                 regrown by push or extend, string concatenation, repeated or large copies); the \
                 {} regrown {} in the profile grew inside calls that size their own buffers \
                 (collect, format!, ...) or were too few to matter",
                thousands(chains),
                plural(chains, "block", "blocks"),
            )
        };
        for line in wrap_prose(&text, "  ", "  ", TEXT_WIDTH) {
            lines.push(line, Style::Dim);
        }
        return;
    }
    let shown: Vec<&crate::insights::Insight> = insights.iter().take(top).collect();
    let columns = [
        Column::text("function", Fit::Path, 40),
        Column::text("where", Fit::Location, 40),
        Column::number("allocations"),
        Column::text("advice", Fit::Keep, 16),
    ];
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|i| {
            vec![
                i.function.clone(),
                file_line(i.file.as_deref(), i.line, context),
                format!(
                    "{} → {}",
                    thousands(i.allocations),
                    thousands(i.remaining())
                ),
                i.kind.as_str().to_owned(),
            ]
        })
        .collect();
    let mut table_lines = Lines { lines: Vec::new() };
    table(&mut table_lines, &columns, &rows, &[(0, 24), (1, 16)]);
    let mut table_lines = table_lines.lines.into_iter();
    if let Some((header, style)) = table_lines.next() {
        lines.push(header, style);
    }
    for (insight, (row, style)) in shown.iter().zip(table_lines) {
        lines.push(row, style);
        for line in wrap_prose(&insight.message, "      ", "      ", TEXT_WIDTH) {
            lines.push(line, Style::Dim);
        }
    }
    more_line(
        lines,
        insights.len().saturating_sub(top),
        "insight",
        "insights",
    );
}

fn file_line(file: Option<&str>, line: Option<u32>, context: &Context) -> String {
    match (file, line) {
        (Some(file), Some(line)) => format!(
            "{}:{line}",
            relative_path(file, context.workspace_root.as_ref())
        ),
        (Some(file), None) => relative_path(file, context.workspace_root.as_ref()),
        (None, _) => "?".to_owned(),
    }
}

/// The functions holding the most bytes at the peak.
fn peak(lines: &mut Lines, analysis: &Analysis, context: &Context, top: usize) {
    let t = &analysis.totals;
    lines.push(
        format!(
            "Peak live heap: {}, held by your functions",
            human_bytes(t.peak_bytes)
        ),
        Style::Heading,
    );
    let mut holders: Vec<&FunctionStats> = analysis
        .functions
        .iter()
        .filter(|f| f.peak_bytes > 0)
        .collect();
    holders.sort_by(|a, b| (Reverse(a.peak_bytes), &a.name).cmp(&(Reverse(b.peak_bytes), &b.name)));
    let columns = [
        Column::text("function", Fit::Path, 48),
        Column::number("at peak"),
        Column::number("share"),
        Column::text("where", Fit::Location, 40),
    ];
    let rows: Vec<Vec<String>> = holders
        .iter()
        .take(top)
        .map(|f| {
            vec![
                f.name.clone(),
                human_bytes(f.peak_bytes),
                percent(f.peak_bytes, t.peak_bytes),
                location(f, context),
            ]
        })
        .collect();
    table(lines, &columns, &rows, &[(0, 24), (3, 16)]);
    more_line(
        lines,
        holders.len().saturating_sub(top),
        "function",
        "functions",
    );
    let yours: u64 = holders.iter().map(|f| f.peak_bytes).sum();
    let rest = t.peak_bytes.saturating_sub(yours);
    if rest > 0 {
        lines.push(
            format!(
                "  the other {} were held by the runtime, dependencies on their own or the C \
                 library",
                human_bytes(rest)
            ),
            Style::Dim,
        );
    }
}

/// Your functions' blocks still live at exit, and one line for the runtime's own.
fn leaks(lines: &mut Lines, analysis: &Analysis, context: &Context, top: usize) {
    lines.push(
        "Still live at exit: blocks your functions allocated and never freed",
        Style::Heading,
    );
    let (yours, theirs): (Vec<&crate::analysis::Leak>, Vec<&crate::analysis::Leak>) = analysis
        .leaks
        .iter()
        .partition(|l| l.kind == ModuleKind::Workspace);
    let columns = [
        Column::text("function", Fit::Path, 48),
        Column::number("allocs"),
        Column::number("bytes"),
        Column::text("where", Fit::Location, 40),
        Column::text("via", Fit::Path, 32),
    ];
    let rows: Vec<Vec<String>> = yours
        .iter()
        .take(top)
        .map(|l| {
            vec![
                l.function.clone(),
                thousands(l.allocations),
                human_bytes(l.bytes),
                file_line(l.file.as_deref(), l.line, context),
                l.via.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(lines, &columns, &rows, &[(0, 24), (4, 12), (3, 16)]);
    more_line(
        lines,
        yours.len().saturating_sub(top),
        "function",
        "functions",
    );
    if !theirs.is_empty() {
        let allocations: u64 = theirs.iter().map(|l| l.allocations).sum();
        let bytes: u64 = theirs.iter().map(|l| l.bytes).sum();
        let names: Vec<&str> = theirs.iter().map(|l| l.function.as_str()).collect();
        for line in wrap_prose(
            &format!(
                "the runtime's own, not yours: {} {}, {} in {}",
                thousands(allocations),
                plural(allocations, "allocation", "allocations"),
                human_bytes(bytes),
                names.join(", ")
            ),
            "  ",
            "  ",
            TEXT_WIDTH,
        ) {
            lines.push(line, Style::Dim);
        }
    }
}

/// Marks of a sparkline, by height.
const MARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// Most buckets a sparkline shows; smaller sizes fold into its first mark.
const MAX_MARKS: usize = 24;

/// Request sizes and temporary allocations, overall and for the top hot spots.
fn sizes(lines: &mut Lines, analysis: &Analysis, top: usize) {
    let t = &analysis.totals;
    lines.push(
        "Sizes and temporaries: requests by power-of-two size, blocks freed at once",
        Style::Heading,
    );
    let range = bucket_span(&t.size_histogram);
    if let Some((lo, hi)) = range {
        lines.push(
            format!(
                "  sizes: one mark per power of two, {} (left) to {} (right); most: the commonest",
                bucket_label(lo),
                bucket_label(hi)
            ),
            Style::Dim,
        );
    }
    lines.push(
        "  temporary: freed by the allocating thread before it allocated anything else",
        Style::Dim,
    );
    let columns = [
        Column::text("function", Fit::Path, 40),
        Column::number("allocs"),
        Column::number("temporary"),
        Column::text("sizes", Fit::Keep, MAX_MARKS),
        Column::text("most", Fit::Keep, 16),
    ];
    let row = |name: String, allocations: u64, temporary: u64, histogram: &[u64]| {
        vec![
            name,
            thousands(allocations),
            percent(temporary, allocations),
            range.map_or(String::new(), |r| sparkline(histogram, r)),
            commonest(histogram).map_or(String::new(), bucket_label),
        ]
    };
    let mut rows = vec![row(
        "(all)".to_owned(),
        t.allocations,
        t.temporary_allocations,
        &t.size_histogram,
    )];
    let spots = analysis.hot_spots();
    rows.extend(spots.iter().take(top).map(|f| {
        row(
            f.name.clone(),
            f.self_allocations,
            f.temporary_allocations,
            &f.size_histogram,
        )
    }));
    table(lines, &columns, &rows, &[(0, 24)]);
    more_line(
        lines,
        spots.len().saturating_sub(top),
        "function",
        "functions",
    );
}

/// First and last non-empty bucket, at most [`MAX_MARKS`] apart.
fn bucket_span(histogram: &[u64]) -> Option<(usize, usize)> {
    let lo = histogram.iter().position(|&n| n > 0)?;
    let hi = histogram.iter().rposition(|&n| n > 0)?;
    Some((lo.max((hi + 1).saturating_sub(MAX_MARKS)), hi))
}

/// The most frequent bucket (ties: the smaller).
fn commonest(histogram: &[u64]) -> Option<usize> {
    let (b, n) = histogram
        .iter()
        .enumerate()
        .max_by_key(|(b, &n)| (n, Reverse(*b)))?;
    (*n > 0).then_some(b)
}

/// One mark per bucket of `lo..=hi` (buckets below `lo` fold into the first), scaled to the
/// fullest; `·` for an empty one.
fn sparkline(histogram: &[u64], (lo, hi): (usize, usize)) -> String {
    if histogram.iter().all(|&n| n == 0) {
        return String::new();
    }
    let count = |b: usize| -> u64 {
        if b == lo {
            histogram.iter().take(lo + 1).sum()
        } else {
            histogram.get(b).copied().unwrap_or(0)
        }
    };
    let max = (lo..=hi).map(count).max().unwrap_or(0).max(1);
    (lo..=hi)
        .map(|b| match count(b) {
            0 => '·',
            n => {
                let level = (u128::from(n) * 8).div_ceil(u128::from(max));
                MARKS[usize::try_from(level).unwrap_or(8).clamp(1, 8) - 1]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{budgets, Lines};
    use crate::analysis::Analysis;
    use crate::budget::{BudgetCheck, Metric, Scope, Verdict};

    #[test]
    fn budgets_exceeded_first_with_units() {
        let check = |scope, metric, limit, actual, verdict| BudgetCheck {
            scope,
            metric,
            limit,
            actual,
            binary: None,
            verdict,
            source: "Cargo.toml".to_owned(),
            pattern: None,
        };
        let analysis = Analysis {
            budgets: vec![
                check(
                    Scope::Run,
                    Metric::Allocations,
                    5000,
                    Some(20),
                    Verdict::Within,
                ),
                check(
                    Scope::Function("app::f".to_owned()),
                    Metric::Bytes,
                    1024,
                    Some(4096),
                    Verdict::Exceeded,
                ),
                check(
                    Scope::Function("app::typo".to_owned()),
                    Metric::Allocations,
                    0,
                    None,
                    Verdict::NotChecked("no such function was profiled"),
                ),
            ],
            ..Analysis::default()
        };
        let mut lines = Lines { lines: Vec::new() };
        budgets(&mut lines, &analysis);
        let text = lines.finish(false);
        let expected = "\
Budgets (Cargo.toml): 1 of 2 checked limits EXCEEDED
  budget         metric         limit   actual  result
  app::f         bytes        1.0 KiB  4.0 KiB  EXCEEDED
  the whole run  allocations    5,000       20  kept
  not checked (no such function was profiled): app::typo
";
        assert_eq!(text, expected);
    }
}
