//! The header: the command, target and how it ended, the totals, what was not profiled, notes
//! and warnings.

use super::fit::{fit_end, width, wrap_prose};
use super::layout::{plural, shell_word, Lines, Style};
use super::processes::shows_processes;
use crate::analysis::{Analysis, ProcessEnd};
use crate::attribute::ModuleKind;
use crate::render::context::{Context, TEXT_WIDTH};
use crate::units::{human_bytes, thousands};

fn exit_status(context: &Context) -> String {
    match (&context.signal, context.exit_code) {
        (Some((number, name)), _) if name.is_empty() => format!("killed by signal {number}"),
        (Some((number, name)), _) => format!("killed by signal {number} ({name})"),
        (None, Some(code)) => format!("exit status {code}"),
        (None, None) => "exit status unknown".to_owned(),
    }
}

pub(super) fn header(lines: &mut Lines, analysis: &Analysis, context: &Context) {
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
