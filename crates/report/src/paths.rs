//! Call paths: how the allocations reach the hot spots, from the entry points down through your
//! functions. The hot-spot table ranks by self allocations, so a function whose allocations are
//! all in its callees (a benchmark function calling the code it measures, an orchestrating
//! `main`) is not in it; this tree shows it with its total.
//!
//! # Definitions
//! - A site's **path** is the sequence of your functions ([`function_key`]) on its counted frames
//!   ([`crate::attribute`]), outermost first, a function repeated at once (a closure in the
//!   function that defines it) read once. Only sites with a self function have one: the others
//!   add to no function's total.
//! - The paths form a tree: a **node** is a path prefix; its **total** is the allocations of the
//!   sites whose path starts with it, its **self** those of the sites whose path ends there (the
//!   site's self function is the node's function). The roots are the entry points: the outermost
//!   of your functions on a stack (`main`, a test, a thread's entry when its spawner is not
//!   known).
//! - **Order**: children by total descending, then name; the tree is listed depth first.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use alloc_profile_format::symbolized::{function_key, FrameKind};

use crate::attribute::Blame;

/// One node of the call-path tree, in depth-first order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallPath {
    /// 0 for an entry point.
    pub depth: usize,
    pub function: String,
    pub total_allocations: u64,
    pub self_allocations: u64,
    pub total_bytes: u64,
}

#[derive(Default)]
struct Node {
    total: u64,
    self_allocations: u64,
    bytes: u64,
    children: BTreeMap<String, Node>,
}

/// The call-path tree of `blames`, depth first.
#[must_use]
pub fn call_paths(blames: &[Blame<'_>]) -> Vec<CallPath> {
    let mut root = Node::default();
    for blame in blames {
        let c = &blame.site.counters;
        if !blame.counted() || c.allocations == 0 {
            continue;
        }
        let mut path: Vec<String> = Vec::new();
        for frame in blame.frames.iter().rev() {
            if frame.kind != FrameKind::Workspace {
                continue;
            }
            let key = function_key(&frame.function);
            if path.last() != Some(&key) {
                path.push(key);
            }
        }
        let mut node = &mut root;
        for key in path {
            node = node.children.entry(key).or_default();
            node.total += c.allocations;
            node.bytes += c.bytes;
        }
        if blame.self_index.is_some() {
            node.self_allocations += c.allocations;
        }
    }
    let mut out = Vec::new();
    walk(&root, 0, &mut out);
    out
}

/// Percent of the tree's allocations a node needs to be listed by [`listed`].
pub const LISTED_SHARE: u64 = 2;

/// The nodes a report lists, at most `limit`: those with at least [`LISTED_SHARE`] percent of the
/// tree's allocations whose parents are listed; and how many are not.
#[must_use]
pub fn listed(paths: &[CallPath], limit: usize) -> (Vec<&CallPath>, usize) {
    let whole: u64 = paths
        .iter()
        .filter(|p| p.depth == 0)
        .map(|p| p.total_allocations)
        .sum();
    let mut shown = Vec::new();
    let mut hidden_from: Option<usize> = None;
    let mut hidden = 0;
    for p in paths {
        if let Some(depth) = hidden_from {
            if p.depth > depth {
                hidden += 1;
                continue;
            }
            hidden_from = None;
        }
        if p.total_allocations * 100 < whole * LISTED_SHARE || shown.len() >= limit {
            hidden_from = Some(p.depth);
            hidden += 1;
            continue;
        }
        shown.push(p);
    }
    (shown, hidden)
}

fn walk(node: &Node, depth: usize, out: &mut Vec<CallPath>) {
    let mut children: Vec<(&String, &Node)> = node.children.iter().collect();
    children.sort_by(|a, b| (Reverse(a.1.total), a.0).cmp(&(Reverse(b.1.total), b.0)));
    for (function, child) in children {
        out.push(CallPath {
            depth,
            function: function.clone(),
            total_allocations: child.total,
            self_allocations: child.self_allocations,
            total_bytes: child.bytes,
        });
        walk(child, depth + 1, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc_profile_format::symbolized::{Frame, Profile, Site};
    use FrameKind::{Dependency, Std, Workspace};

    fn frame(function: &str, kind: FrameKind) -> Frame {
        Frame::named(function, kind, "b")
    }

    #[test]
    fn a_function_whose_allocations_are_all_in_its_callees_is_on_a_path() {
        let sites = vec![
            // `bench_words` allocates nothing itself: 500 through `words`.
            (
                vec![
                    frame("alloc::vec::Vec<T>::push", Std),
                    frame("b::words", Workspace),
                    frame("b::bench_words::{{closure}}", Workspace),
                    frame("criterion::Bencher::iter", Dependency),
                    frame("b::bench_words", Workspace),
                ],
                500,
            ),
            (
                vec![
                    frame("alloc::string::String::push_str", Std),
                    frame("b::words", Workspace),
                    frame("b::main", Workspace),
                ],
                3,
            ),
            // Recursion stays a path; a repeated frame at once reads once.
            (
                vec![
                    frame("b::walk", Workspace),
                    frame("b::walk", Workspace),
                    frame("b::visit", Workspace),
                    frame("b::walk", Workspace),
                    frame("b::main", Workspace),
                ],
                2,
            ),
        ];
        let mut p = Profile {
            processes: vec![alloc_profile_format::symbolized::Process::default()],
            ..Profile::default()
        };
        for (frames, allocations) in sites {
            let start = p.frames.len() as u32;
            let ids = (start..start + frames.len() as u32).collect();
            p.frames.extend(frames);
            p.sites.push(Site {
                process: 0,
                frames: ids,
                spawned_at: Vec::new(),
                counters: alloc_profile_format::SiteCounters {
                    allocations,
                    bytes: allocations,
                    ..Default::default()
                },
                peak_bytes: 0,
                sizes: Vec::new(),
                flags: 0,
            });
        }
        let paths = call_paths(&crate::attribute::attribute(&p));
        let got: Vec<(usize, &str, u64, u64)> = paths
            .iter()
            .map(|c| {
                (
                    c.depth,
                    c.function.as_str(),
                    c.total_allocations,
                    c.self_allocations,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (0, "b::bench_words", 500, 0),
                (1, "b::words", 500, 500),
                (0, "b::main", 5, 0),
                (1, "b::words", 3, 3),
                (1, "b::walk", 2, 0),
                (2, "b::visit", 2, 0),
                (3, "b::walk", 2, 2),
            ]
        );
    }
}
