//! Processes: one row per profiled process, and when the section is shown.

use super::fit::{width, wrap_prose};
use super::layout::{more_line, shell_word, table, Column, Fit, Lines, Style};
use crate::analysis::{Analysis, ProcessEnd, ProcessSummary};
use crate::render::context::{Context, TEXT_WIDTH};
use crate::units::{human_bytes, thousands};

/// The Processes section is there when there are several, or when the one profiled is not the
/// program the tool started (that one wrote no profile): the reader must see whose figures these are.
pub(super) fn shows_processes(analysis: &Analysis, context: &Context) -> bool {
    analysis.processes.len() > 1
        || (!analysis.processes.is_empty() && !context.unprofiled.is_empty())
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
pub(super) fn processes(lines: &mut Lines, analysis: &Analysis, top: usize) {
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
