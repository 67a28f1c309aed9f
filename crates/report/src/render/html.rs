//! One self-contained HTML report: the report's sections as tables and the flame graph, in a file
//! that needs no network (it works offline and as a CI artifact).
//!
//! The flame graphs (allocations, bytes, live at exit) are inferno's SVGs, each in an `<iframe>`
//! of its own from a `data:` URL, so their scripts (zoom, search) do not meet; buttons switch
//! between them. A Content-Security-Policy forbids every request: the page can load nothing but
//! itself. Tables show at most [`MAX_ROWS`] rows each and say how many more there are; the JSON
//! report has them all.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::context::{relative_path, Context};
use super::flamegraph::write_flamegraph;
use super::folded::{StackPath, Weight};
use crate::analysis::Analysis;
use crate::units::{human_bytes, thousands};

/// Rows per table.
pub const MAX_ROWS: usize = 100;

const STYLE: &str = "\
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1300px;padding:0 1em;color:#222}
h1{font-size:1.3em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.6em 0 .4em}
code,td.n,td.c{font-family:ui-monospace,monospace;font-size:13px}
table{border-collapse:collapse;width:100%}th,td{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n,th.n{text-align:right;white-space:nowrap}
.muted{color:#666}.switch button{font:inherit;padding:3px 10px;margin-right:4px;border:1px solid #aaa;background:#fff;border-radius:3px;cursor:pointer}
.switch button.on{background:#333;color:#fff;border-color:#333}
.graphs{position:relative}.graphs iframe{width:100%;border:1px solid #ddd}
.graphs .off{visibility:hidden;position:absolute;top:0;left:0}
.advice p{margin:.2em 0 .8em}";

const SCRIPT: &str = "\
document.querySelectorAll('.switch button').forEach(function(b){b.addEventListener('click',function(){
document.querySelectorAll('.switch button').forEach(function(x){x.classList.toggle('on',x===b)});
document.querySelectorAll('.graphs > *').forEach(function(g){g.classList.toggle('off',g.id!=='graph-'+b.dataset.weight)});
});});";

/// `s` with `&`, `<`, `>` and `"` escaped.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A table: header cells (`n:` before a name right-aligns the column) and rows of cells.
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>], total: usize) {
    out.push_str("<table><tr>");
    let numeric: Vec<bool> = header.iter().map(|h| h.starts_with("n:")).collect();
    for h in header {
        match h.strip_prefix("n:") {
            Some(h) => {
                let _ = write!(out, "<th class=n>{}</th>", esc(h));
            }
            None => {
                let _ = write!(out, "<th>{}</th>", esc(h));
            }
        }
    }
    out.push_str("</tr>\n");
    for row in rows.iter().take(MAX_ROWS) {
        out.push_str("<tr>");
        for (cell, &n) in row.iter().zip(&numeric) {
            let class = if n { " class=n" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", esc(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    if total > MAX_ROWS.min(rows.len()) {
        let _ = writeln!(
            out,
            "<p class=muted>{} more (the JSON report lists them all)</p>",
            thousands((total - MAX_ROWS.min(rows.len())) as u64)
        );
    }
}

fn location(file: Option<&String>, line: Option<u32>, context: &Context) -> String {
    match (file, line) {
        (Some(f), Some(l)) => format!("{}:{l}", relative_path(f, context.workspace_root.as_ref())),
        (Some(f), None) => relative_path(f, context.workspace_root.as_ref()),
        _ => String::new(),
    }
}

/// Writes the HTML report of `analysis`, with flame graphs of `stacks`.
///
/// # Errors
/// Only those of `out`.
pub fn write_html(
    out: &mut impl Write,
    analysis: &Analysis,
    stacks: &[StackPath<'_>],
    context: &Context,
) -> io::Result<()> {
    let command = context.command.join(" ");
    let t = &analysis.totals;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n\
         <meta http-equiv=Content-Security-Policy content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-src data:; \
         img-src data:\">\n<title>{}</title>\n<style>{STYLE}</style></head><body>\n",
        esc(&format!("alloc-profile: {command}"))
    );
    let _ = writeln!(h, "<h1><code>{}</code></h1>", esc(&command));
    let mut status = Vec::new();
    if !context.target_label.is_empty() {
        status.push(context.target_label.clone());
    }
    if let Some(code) = context.exit_code {
        status.push(format!("exit status {code}"));
    }
    if let Some((n, name)) = &context.signal {
        status.push(format!("killed by {name} ({n})"));
    }
    let _ = writeln!(h, "<p>{}</p>", esc(&status.join(" · ")));
    let _ = writeln!(
        h,
        "<p>{} allocations ({} reallocations) · {} requested · {} frees · peak live {} · still \
         live at exit: {} allocations, {}</p>",
        thousands(t.allocations),
        thousands(t.reallocations),
        human_bytes(t.bytes),
        thousands(t.frees),
        human_bytes(t.peak_bytes),
        thousands(t.leaked_allocations),
        human_bytes(t.leaked_bytes)
    );
    for note in &context.notes {
        let _ = writeln!(h, "<p class=muted>note: {}</p>", esc(note));
    }

    h.push_str("<h2 id=flame-graph>Flame graph</h2>\n<div class=switch>");
    let weights = [
        (Weight::Allocations, "allocations"),
        (Weight::Bytes, "bytes"),
        (Weight::LiveAllocations, "live"),
    ];
    for (i, (weight, id)) in weights.iter().enumerate() {
        let on = if i == 0 { " class=on" } else { "" };
        let _ = write!(
            h,
            "<button data-weight={id}{on}>{}</button>",
            esc(weight.count_name())
        );
    }
    h.push_str(
        "</div>\n<p class=muted>Click a frame to zoom, Ctrl-F or Search to highlight a \
         function and see its share.</p>\n<div class=graphs>\n",
    );
    for (i, (weight, id)) in weights.iter().enumerate() {
        let off = if i == 0 { "" } else { " class=off" };
        let mut svg = Vec::new();
        match write_flamegraph(&mut svg, stacks, *weight, &command) {
            Ok(()) => {
                let text = String::from_utf8_lossy(&svg);
                let height = text
                    .split("height=\"")
                    .nth(1)
                    .and_then(|s| s.split('"').next())
                    .and_then(|s| s.parse::<f64>().ok())
                    .unwrap_or(600.0);
                let _ = writeln!(
                    h,
                    "<iframe id=graph-{id}{off} title=\"flame graph: {}\" height={} \
                     src=\"data:image/svg+xml;base64,{}\"></iframe>",
                    esc(weight.count_name()),
                    height.ceil() + 4.0,
                    base64(&svg)
                );
            }
            Err(_) => {
                let _ = writeln!(
                    h,
                    "<p id=graph-{id}{off} class=muted>no {}</p>",
                    esc(weight.count_name())
                );
            }
        }
    }
    h.push_str("</div>\n");

    if let Some(tests) = &analysis.tests {
        let what = if tests.bench { "Benchmarks" } else { "Tests" };
        let _ = writeln!(
            h,
            "<h2 id=tests>{what}: allocations made with the {}'s function on the stack</h2>",
            if tests.bench { "benchmark" } else { "test" }
        );
        let mut rows: Vec<Vec<String>> = tests
            .tests
            .iter()
            .map(|t| {
                vec![
                    t.name.clone(),
                    t.binary.clone(),
                    thousands(t.allocations),
                    human_bytes(t.bytes),
                    t.peak_bytes.map(human_bytes).unwrap_or_default(),
                    thousands(t.leaked_allocations),
                    t.outcome.clone(),
                ]
            })
            .collect();
        let total = rows.len() + tests.harness.len();
        rows.truncate(MAX_ROWS.saturating_sub(tests.harness.len()));
        for harness in &tests.harness {
            rows.push(vec![
                format!(
                    "({} harness)",
                    if tests.bench { "benchmark" } else { "test" }
                ),
                harness.binary.clone(),
                thousands(harness.allocations),
                human_bytes(harness.bytes),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        table(
            &mut h,
            &[
                "name",
                "binary",
                "n:allocations",
                "n:bytes",
                "n:peak",
                "n:live at exit",
                "outcome",
            ],
            &rows,
            total,
        );
    }

    h.push_str(
        "<h2 id=hot-spots>Hot spots: your functions by self allocations</h2>\n<p \
         class=muted>self: allocations made in the function's own body; total: with everything \
         it called</p>\n",
    );
    let hot = analysis.hot_spots();
    let rows: Vec<Vec<String>> = hot
        .iter()
        .take(MAX_ROWS)
        .map(|f| {
            vec![
                f.name.clone(),
                thousands(f.self_allocations),
                thousands(f.total_allocations),
                human_bytes(f.self_bytes),
                location(f.file.as_ref(), f.line, context),
                f.via.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &mut h,
        &["function", "n:self", "n:total", "n:bytes", "where", "via"],
        &rows,
        hot.len(),
    );

    if !analysis.call_paths.is_empty() {
        h.push_str(
            "<h2 id=call-paths>Call paths: your functions from the entry points down, with \
             everything they called</h2>\n",
        );
        let (shown, hidden) = crate::paths::listed(&analysis.call_paths, MAX_ROWS);
        let rows: Vec<Vec<String>> = shown
            .iter()
            .map(|p| {
                vec![
                    format!(
                        "{}{}",
                        "\u{a0}\u{a0}\u{a0}\u{a0}".repeat(p.depth),
                        p.function
                    ),
                    thousands(p.total_allocations),
                    thousands(p.self_allocations),
                    human_bytes(p.total_bytes),
                ]
            })
            .collect();
        table(
            &mut h,
            &["function", "n:total", "n:self", "n:total bytes"],
            &rows,
            rows.len(),
        );
        if hidden > 0 {
            let _ = writeln!(
                h,
                "<p class=muted>{} more under {}% of these allocations</p>",
                thousands(hidden as u64),
                crate::paths::LISTED_SHARE
            );
        }
    }

    h.push_str("<h2 id=modules>Per-module breakdown</h2>\n");
    let rows: Vec<Vec<String>> = analysis
        .modules
        .iter()
        .take(MAX_ROWS)
        .map(|m| {
            vec![
                m.name.clone(),
                m.kind.as_str().to_owned(),
                thousands(m.allocations),
                human_bytes(m.bytes),
                thousands(m.leaked_allocations),
            ]
        })
        .collect();
    table(
        &mut h,
        &[
            "module",
            "kind",
            "n:allocations",
            "n:bytes",
            "n:live at exit",
        ],
        &rows,
        analysis.modules.len(),
    );

    if !analysis.insights.is_empty() {
        h.push_str("<h2 id=advice>Advice</h2>\n<div class=advice>\n");
        for i in analysis.insights.iter().take(MAX_ROWS) {
            let _ = writeln!(
                h,
                "<p><b>{}</b> <code>{}</code><br>{}<br><span class=muted>evidence: {} \
                 allocations through <code>{}</code>, {} avoidable</span></p>",
                esc(&i.function),
                esc(&location(i.file.as_ref(), i.line, context)),
                esc(&i.message),
                thousands(i.allocations),
                esc(&i.via),
                thousands(i.avoidable)
            );
        }
        h.push_str("</div>\n");
    }

    if !analysis.leaks.is_empty() {
        h.push_str("<h2 id=leaks>Still live at exit</h2>\n");
        let rows: Vec<Vec<String>> = analysis
            .leaks
            .iter()
            .take(MAX_ROWS)
            .map(|l| {
                vec![
                    l.function.clone(),
                    l.kind.as_str().to_owned(),
                    thousands(l.allocations),
                    human_bytes(l.bytes),
                    location(l.file.as_ref(), l.line, context),
                    l.via.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table(
            &mut h,
            &[
                "function or module",
                "kind",
                "n:allocations",
                "n:bytes",
                "where",
                "via",
            ],
            &rows,
            analysis.leaks.len(),
        );
    }
    let _ = write!(h, "<script>{SCRIPT}</script>\n</body></html>\n");
    out.write_all(h.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_escapes() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
