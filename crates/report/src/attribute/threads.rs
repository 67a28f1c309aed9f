//! Rule 1 of [`super`]: which frames of a site count. A site's own thread's frames, continued
//! past the thread's start with the frames of the call that the thread's work belongs to (the
//! spawning stack, the entry function's callers seen on other threads, or the program's `main`).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use alloc_profile_format::rust_path::split_path;
use alloc_profile_format::symbolized::{function_key, Frame, FrameKind, Profile, Site};

/// For every site of `profile`, in its order, the frames that count (rule 1), innermost first.
pub(super) fn counted_frames(profile: &Profile) -> Vec<Vec<&Frame>> {
    let frames_of = |ids: &[u32]| -> Vec<&Frame> {
        ids.iter()
            .filter_map(|&i| profile.frames.get(i as usize))
            .collect()
    };
    let mut plans: Vec<Plan> = profile.sites.iter().map(|s| plan(profile, s)).collect();
    serve_spawners(profile, &mut plans);
    let continuations = continuations(profile, &plans);
    profile
        .sites
        .iter()
        .zip(plans)
        .map(|(site, plan)| {
            let mut frames = frames_of(&site.frames[..plan.own]);
            match plan.continue_with {
                Continue::Spawner(from) => frames.extend(frames_of(&site.frames[from..])),
                Continue::Seen(key) => match continuations.get(&(site.process, key)) {
                    Some(Some(ids)) => frames.extend(frames_of(ids)),
                    _ => {
                        if let Some(from) = plan.fallback {
                            frames.extend(frames_of(&site.frames[from..]));
                        }
                    }
                },
                Continue::Nothing => {}
            }
            frames
        })
        .collect()
}

/// How one site's frames are continued past its own thread (rule 1).
struct Plan {
    /// How many of `site.frames` are its own thread's.
    own: usize,
    continue_with: Continue,
    /// For [`Continue::Seen`] without an agreed continuation: where on the spawning stack to
    /// continue from (the entry's frame there, else the program's `main`), if anywhere.
    fallback: Option<usize>,
    /// Started by a dependency or std (not by the workspace's code).
    by_dependency: bool,
    /// The entry's outermost frame on the spawning stack, with the entry known.
    entry_on_spawner: Option<Option<usize>>,
}

/// Threads a dependency started from one call (the same spawning stack) that only ever ran the
/// functions of that call on their own stacks (`ignore`'s parallel walker, a scope that joins
/// before returning), or nothing of yours at all, work for that call: they continue with the
/// spawning stack as threads of yours do. Threads that ran a function the spawning stack does
/// not hold (rayon's pool running a later caller's jobs) are a pool, and keep the pool rules.
fn serve_spawners(profile: &Profile, plans: &mut [Plan]) {
    let mut serves: HashMap<(usize, &[u32]), bool> = HashMap::new();
    for (site, plan) in profile.sites.iter().zip(plans.iter()) {
        if plan.by_dependency {
            let ok = plan.entry_on_spawner.is_none_or(|on| on.is_some());
            *serves
                .entry((site.process, &site.frames[plan.own..]))
                .or_insert(true) &= ok;
        }
    }
    for (site, plan) in profile.sites.iter().zip(plans.iter_mut()) {
        if plan.by_dependency && serves[&(site.process, &site.frames[plan.own..])] {
            let from = plan.entry_on_spawner.flatten().unwrap_or(plan.own);
            plan.continue_with = Continue::Spawner(from);
        }
    }
}

enum Continue {
    /// With `site.frames[i..]`.
    Spawner(usize),
    /// As the entry function with this key is seen called on other threads' own stacks.
    Seen(String),
    Nothing,
}

fn plan(profile: &Profile, site: &Site) -> Plan {
    let frame = |i: u32| profile.frames.get(i as usize);
    let Some(&start) = site.spawned_at.first() else {
        return Plan {
            own: site.frames.len(),
            continue_with: Continue::Nothing,
            fallback: None,
            by_dependency: false,
            entry_on_spawner: None,
        };
    };
    let start = (start as usize).min(site.frames.len());
    let (own, spawning) = site.frames.split_at(start);
    let entry = own
        .iter()
        .rev()
        .filter_map(|&i| frame(i))
        .find(|f| f.kind == FrameKind::Workspace)
        .map(|f| function_key(&f.function));
    let spawner = spawning
        .iter()
        .filter_map(|&i| frame(i))
        .find(|f| matches!(f.kind, FrameKind::Workspace | FrameKind::Dependency))
        .map(|f| f.kind);
    // The outermost frame of the entry function on the spawning stack.
    let entry_on_spawner = entry.as_ref().and_then(|key| {
        spawning
            .iter()
            .rposition(|&i| frame(i).is_some_and(|f| function_key(&f.function) == *key))
            .map(|p| start + p)
    });
    // The program's `main` on the spawning stack: it runs around everything the pool does later,
    // whoever hands it the work.
    let main_on_spawner = spawning
        .iter()
        .rposition(|&i| {
            frame(i).is_some_and(|f| {
                f.kind == FrameKind::Workspace
                    && split_path(&function_key(&f.function)).last() == Some(&"main")
            })
        })
        .map(|p| start + p);
    let by_dependency = spawner != Some(FrameKind::Workspace);
    let known_entry = entry.is_some().then_some(entry_on_spawner);
    let continue_with = match (spawner, entry) {
        (Some(FrameKind::Workspace), _) => Continue::Spawner(entry_on_spawner.unwrap_or(start)),
        (_, Some(key)) => Continue::Seen(key),
        (_, None) => Continue::Nothing,
    };
    Plan {
        own: start,
        continue_with,
        fallback: entry_on_spawner.or(main_on_spawner),
        by_dependency,
        entry_on_spawner: known_entry,
    }
}

/// A continuation seen, and the workspace functions it names.
type Known<'p> = (&'p [u32], Vec<String>);

/// For each (process, entry key) that some site continues [`Continue::Seen`]: the frames outside
/// the entry's outermost frame on the other threads' own stacks that contain it, when they all
/// name the same workspace functions (`None` when they disagree).
fn continuations<'p>(
    profile: &'p Profile,
    plans: &[Plan],
) -> HashMap<(usize, String), Option<&'p [u32]>> {
    let mut wanted: HashSet<(usize, &str)> = HashSet::new();
    for (site, plan) in profile.sites.iter().zip(plans) {
        if let Continue::Seen(key) = &plan.continue_with {
            wanted.insert((site.process, key));
        }
    }
    // The first continuation seen for each key, with its workspace functions, until one
    // disagrees.
    let mut found: HashMap<(usize, String), Option<Known<'p>>> = HashMap::new();
    if wanted.is_empty() {
        return HashMap::new();
    }
    let workspace_keys = |ids: &[u32]| -> Vec<String> {
        ids.iter()
            .filter_map(|&i| profile.frames.get(i as usize))
            .filter(|f| f.kind == FrameKind::Workspace)
            .map(|f| function_key(&f.function))
            .collect()
    };
    for (site, plan) in profile.sites.iter().zip(plans) {
        let own = &site.frames[..plan.own];
        let mut seen_here = HashSet::new();
        for (pos, &i) in own.iter().enumerate().rev() {
            let Some(f) = profile.frames.get(i as usize) else {
                continue;
            };
            if f.kind != FrameKind::Workspace {
                continue;
            }
            let key = function_key(&f.function);
            if !wanted.contains(&(site.process, key.as_str())) || !seen_here.insert(key.clone()) {
                continue;
            }
            // A pool job's own stack is not evidence of who called the entry.
            if matches!(plan.continue_with, Continue::Seen(ref k) if *k == key) {
                continue;
            }
            let rest = &own[pos + 1..];
            match found.entry((site.process, key)) {
                Entry::Vacant(v) => {
                    v.insert(Some((rest, workspace_keys(rest))));
                }
                Entry::Occupied(mut o) => {
                    let agrees = o
                        .get()
                        .as_ref()
                        .is_some_and(|(_, keys)| *keys == workspace_keys(rest));
                    if !agrees {
                        o.insert(None);
                    }
                }
            }
        }
    }
    found
        .into_iter()
        .map(|(key, known)| (key, known.map(|(rest, _)| rest)))
        .collect()
}
