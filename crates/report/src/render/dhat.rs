//! DHAT's JSON (`dhatFileVersion` 2, mode `rust-heap`, as dhat-rs writes it), for the viewer that
//! ships with valgrind (`dh_view.html`).
//!
//! Program points are the [stacks](super::folded) of the other views, innermost frame first, so
//! their numbers are the report's: a program point's *total* is its allocations and bytes, *at
//! t-end* its blocks and bytes still live when the profile was written. Stacks that read the same
//! are one program point (the viewer refuses a repeated frame list). What the interposer does not
//! record is written as the nearest fact it has, and the README says so:
//! - frames carry no address (the symbolized profile has none): `function (file:line)`;
//! - *at t-gmax* has the bytes each stack held at its process's peak, but not how many blocks
//!   (0);
//! - *max* (a program point's own largest live size) is not tracked per stack: the larger of its
//!   bytes at t-gmax and at t-end, with its blocks at t-end, a lower bound;
//! - *total lifetime* sums the freed blocks' lifetimes when they were measured (`--lifetimes`),
//!   else 0; blocks still live at exit add nothing.
//!
//! Times are microseconds from the interposer's start: t-end the longest process's duration,
//! t-gmax the moment of the peak in the process that had the largest peak.

use std::collections::BTreeMap;
use std::io::{self, Write};

use alloc_profile_format::symbolized::{Frame, Profile};
use serde_json::{json, Value};

use super::context::{relative_path, Context};
use super::folded::{frame_name, StackPath};

/// The numbers of one program point.
#[derive(Default)]
struct Point {
    tb: u64,
    tbk: u64,
    tl: u64,
    gb: u64,
    eb: u64,
    ebk: u64,
}

/// How a frame reads in DHAT's frame table.
fn frame_text(frame: &Frame, context: &Context) -> String {
    let name = frame_name(frame);
    match (&frame.file, frame.line) {
        (Some(file), Some(line)) => format!(
            "{name} ({}:{line})",
            relative_path(file, context.workspace_root.as_ref())
        ),
        (Some(file), None) => format!(
            "{name} ({})",
            relative_path(file, context.workspace_root.as_ref())
        ),
        _ => name,
    }
}

/// Writes `stacks` of `profile` as DHAT's JSON.
///
/// # Errors
/// Only those of `out`.
pub fn write_dhat(
    out: &mut impl Write,
    profile: &Profile,
    stacks: &[StackPath<'_>],
    context: &Context,
) -> io::Result<()> {
    // Frame lists, innermost first, as text; equal lists are one program point.
    let mut points: BTreeMap<Vec<String>, Point> = BTreeMap::new();
    for path in stacks {
        let c = &path.counters;
        if c.allocations == 0 {
            continue;
        }
        let mut frames: Vec<String> = path.frames.iter().map(|f| frame_text(f, context)).collect();
        frames.extend(path.roots.iter().rev().cloned());
        let point = points.entry(frames).or_default();
        point.tb += c.bytes;
        point.tbk += c.allocations;
        point.tl += c.lifetime_sum_ns / 1000;
        point.gb += c.peak_bytes;
        point.eb += c.live_bytes;
        point.ebk += c.live_allocations;
    }
    let mut ftbl: Vec<String> = vec!["[root]".to_owned()];
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut pps = Vec::with_capacity(points.len());
    for (frames, p) in &points {
        let fs: Vec<usize> = frames
            .iter()
            .map(|f| {
                *index.entry(f.clone()).or_insert_with(|| {
                    ftbl.push(f.clone());
                    ftbl.len() - 1
                })
            })
            .collect();
        pps.push(json!({
            "tb": p.tb,
            "tbk": p.tbk,
            "tl": p.tl,
            "mb": p.gb.max(p.eb),
            "mbk": p.ebk,
            "gb": p.gb,
            "gbk": 0,
            "eb": p.eb,
            "ebk": p.ebk,
            "fs": fs,
        }));
    }
    let te = profile
        .processes
        .iter()
        .map(|p| p.end.elapsed_ns)
        .max()
        .unwrap_or(0)
        / 1000;
    let peak = profile
        .processes
        .iter()
        .enumerate()
        .max_by_key(|(i, p)| (p.end.peak_bytes, std::cmp::Reverse(*i)))
        .map_or(0, |(_, p)| p.end.peak_time_ns / 1000);
    let doc: Value = json!({
        "dhatFileVersion": 2,
        "mode": "rust-heap",
        "verb": "Allocated",
        "bklt": true,
        "bkacc": false,
        "tu": "µs",
        "Mtu": "s",
        "tuth": 10,
        "cmd": context.command.join(" "),
        "pid": profile.processes.first().map_or(0, |p| p.pid),
        "tg": peak,
        "te": te,
        "pps": pps,
        "ftbl": ftbl,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
