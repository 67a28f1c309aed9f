//! Advice: allocations your code could avoid, each one backed by what the profile recorded.
//!
//! The tables say where allocations happen; this module says which of them follow a pattern with
//! a known cure (the four of the usage guide) and how many allocations the cure saves. It only
//! speaks when the profile shows the pattern: every figure in a message is a count, a size or a
//! ratio of counts from the profile, never an estimate. When the evidence is weaker than the
//! pattern needs, it says nothing.
//!
//! # Evidence
//! Sites are read as in [`analyze`](mod@crate::analyze): C-library-internal sites, std's direct use of
//! `System` and sites without a workspace frame are never advised on. A site's *function* is its
//! self function and its *via* the API the function called (both as defined there), with one
//! exception: when the self function is an implementation of `Clone::clone` in your workspace
//! (usually a `#[derive(Clone)]`), the site counts for the next workspace function outwards that
//! is not one, with the via `Type::clone`: the call you wrote is `x.clone()`, not the derive.
//!
//! - **`preallocate`**: sites whose via grows a `Vec`, `VecDeque` or `String` in place
//!   (`Vec::push`, `Vec::extend`, `Vec::extend_from_slice`, `Vec::insert`, `Vec::append`,
//!   `Vec::resize`, `Vec::reserve`, `RawVec::grow_one`, `VecDeque::push_back`, `String::push`,
//!   `String::push_str`, `String += &str`, ...) and that ended *growth chains* (a block reallocated
//!   at least once). Grouped by function and source line. A chain is its first allocation plus
//!   its reallocs; with the final capacity reserved up front it is one allocation, so
//!   `allocations = chains + reallocs` and `avoidable = reallocs`. The message gives the final
//!   size of the largest chain as a capacity: a `String`'s in bytes; a vector's in bytes, plus in
//!   elements when a standard-library frame of the site names an element type whose size is known
//!   (`RawVec<u64>::grow_one`, `<Vec<u32>>::push`; primitives, `String`, `&str`, `Vec<_>`; 64-bit
//!   targets). The type itself is never named: those names come from symbol tables, where
//!   identical instantiations share one address under several names (`RawVec<String>::grow_one`
//!   can read `RawVec<Vec<u8>>::grow_one`), so only the size is certain. It is the capacity the
//!   vector reached, not its length.
//! - **`string-building`**: a function with a site whose via is `String + &str` and that ended
//!   growth chains (`s = s + &x` regrows one string), or with a `String` growth site as above and
//!   at least [`MIN_AVOIDABLE`] *temporary* allocations via `format!` or `to_string` (strings made
//!   only to be appended). One insight per function, at the line of its largest growing site;
//!   `allocations` = the chains and reallocs of its `String` growth sites plus those temporary
//!   allocations, `avoidable` = the reallocs plus the temporaries (`write!` into a string reserved
//!   once makes neither). It replaces `preallocate` for those sites.
//! - **`clone`**: sites whose via copies a value: `Clone::clone`, any `Type::clone`,
//!   `ToOwned::to_owned`, `str::to_owned`, `slice::to_owned`, `slice::to_vec`. Grouped by
//!   function, line and via; `avoidable` = all of them (borrowing allocates nothing), which holds
//!   only if the copy is never modified, as the message says.
//! - **`borrow`**: a `clone` group whose line is also the call site, in the same function, of
//!   another workspace function seen on an allocation stack (`g(items.to_vec())`): the copy exists
//!   to be handed over by value. Reported instead of `clone`, naming the callee.
//!
//! Insights with fewer than [`MIN_AVOIDABLE`] avoidable allocations are dropped. Order: avoidable
//! allocations descending, then function, line and kind.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use alloc_profile_format::symbolized::{function_key, Frame, FrameKind, Profile, Site};
use serde::{Deserialize, Serialize};

use crate::attribute::Blame;
use crate::units::{human_bytes, thousands};
use crate::via::short_api_name;

mod element;

use element::element_type;

/// Insights that would save fewer allocations than this are not worth a line.
pub const MIN_AVOIDABLE: u64 = 2;
/// `clone` and `borrow` advice needs at least this many copies from one line...
pub const MIN_REPEATED_COPIES: u64 = 10;
/// ...or copies of at least this many bytes in all.
pub const MIN_COPY_BYTES: u64 = 64 * 1024;

/// Which pattern an insight is about. Its name in the JSON report is [`InsightKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InsightKind {
    /// A collection regrown in place: reserve its final capacity once.
    Preallocate,
    /// A string built by concatenation or from temporary strings.
    StringBuilding,
    /// A copy that a reference could replace.
    Clone,
    /// A copy made only to pass ownership to a callee.
    Borrow,
}

impl InsightKind {
    /// The name used in the JSON report.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            InsightKind::Preallocate => "preallocate",
            InsightKind::StringBuilding => "string-building",
            InsightKind::Clone => "clone",
            InsightKind::Borrow => "borrow",
        }
    }
}

/// One piece of advice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insight {
    pub kind: InsightKind,
    /// The function to change ([`function_key`]).
    pub function: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// The API the evidence is about, e.g. `Vec::push`, `String + &str`, `BigStruct::clone`.
    pub via: String,
    /// Allocations the advice is about.
    pub allocations: u64,
    /// How many of them the advice saves.
    pub avoidable: u64,
    /// Bytes those allocations requested, where the advice is about copies (0 otherwise).
    pub bytes: u64,
    /// One sentence for people, every figure from the profile.
    pub message: String,
}

impl Insight {
    /// Allocations left after following the advice.
    #[must_use]
    pub fn remaining(&self) -> u64 {
        self.allocations - self.avoidable
    }
}

type Location = (Option<String>, Option<u32>);

/// Growth-chain counters of the sites of one group.
#[derive(Default)]
struct Growth {
    chains: u64,
    reallocs: u64,
    max_reallocs: u64,
    max_final: u64,
    /// Element type and size; `Some(None)` once two sites disagree.
    element: Option<Option<(String, u64)>>,
}

impl Growth {
    fn add(&mut self, site: &Site, element: Option<(String, u64)>) {
        let c = &site.counters;
        self.chains += c.growth_chains;
        self.reallocs += c.growth_reallocs;
        self.max_reallocs = self.max_reallocs.max(c.growth_max_reallocs);
        self.max_final = self.max_final.max(c.growth_max_final);
        self.element = match self.element.take() {
            None => Some(element),
            Some(known) if known == element => Some(known),
            Some(_) => Some(None),
        };
    }

    fn element(&self) -> Option<&(String, u64)> {
        self.element.as_ref().and_then(Option::as_ref)
    }
}

#[derive(Default)]
struct Copies {
    allocations: u64,
    bytes: u64,
}

#[derive(Default)]
struct FunctionEvidence {
    /// (location, via) → growth of a collection in place.
    growth: BTreeMap<(Location, String), Growth>,
    /// (location, via) → copies.
    copies: BTreeMap<(Location, String), Copies>,
    /// Temporary allocations via `format!` / `to_string`, and the vias seen.
    temporary_strings: u64,
    string_vias: BTreeSet<String>,
}

/// Finds the insights of a profile. See the module documentation for the rules.
#[must_use]
pub fn insights(profile: &Profile) -> Vec<Insight> {
    from_blames(&crate::attribute::attribute(profile))
}

/// [`insights`] from the blame of every site.
pub(crate) fn from_blames(blames: &[Blame<'_>]) -> Vec<Insight> {
    let mut evidence: BTreeMap<String, FunctionEvidence> = BTreeMap::new();
    // (caller, call line) → workspace callees seen called from there.
    let mut calls: BTreeMap<(String, Location), BTreeSet<String>> = BTreeMap::new();

    for blame in blames {
        let site = blame.site;
        if site.counters.allocations == 0 || !blame.counted() {
            continue;
        }
        let frames = &blame.frames;
        record_calls(&mut calls, frames);
        let (Some(self_index), Some(self_key)) = (blame.self_index, blame.self_function()) else {
            continue;
        };
        let (target, via) = if is_clone_impl(&self_key) {
            let outer = frames[self_index + 1..]
                .iter()
                .find(|f| f.kind == FrameKind::Workspace && !is_clone_impl(&f.function));
            match outer {
                Some(frame) => (*frame, short_api_name(&self_key)),
                None => continue,
            }
        } else {
            match blame.via() {
                Some(via) => (frames[self_index], via),
                None => continue,
            }
        };
        let c = &site.counters;
        let function = function_key(&target.function);
        let location = (target.file.clone(), target.line);
        let acc = evidence.entry(function).or_default();
        if is_copy(&via) {
            let copies = acc.copies.entry((location, via)).or_default();
            copies.allocations += c.allocations;
            copies.bytes += c.bytes;
        } else if is_string_making(&via) {
            acc.temporary_strings += c.temporary;
            if c.temporary > 0 {
                acc.string_vias.insert(via);
            }
        } else if c.growth_chains > 0 && (via == STRING_ADD || growth_container(&via).is_some()) {
            let element = if growth_container(&via) == Some("String") || via == STRING_ADD {
                Some(("u8".to_owned(), 1))
            } else {
                element_type(&frames[..self_index])
            };
            acc.growth
                .entry((location, via))
                .or_default()
                .add(site, element);
        }
    }

    let mut out = Vec::new();
    for (function, acc) in evidence {
        emit(&mut out, &function, acc, &calls);
    }
    // A copy made a few times is rarely worth a line unless it is big: the advice needs evidence
    // of repetition (MIN_REPEATED_COPIES) or of size (MIN_COPY_BYTES).
    out.retain(|i| {
        i.avoidable >= MIN_AVOIDABLE
            && (!matches!(i.kind, InsightKind::Clone | InsightKind::Borrow)
                || i.avoidable >= MIN_REPEATED_COPIES
                || i.bytes >= MIN_COPY_BYTES)
    });
    out.sort_by(|a, b| {
        (Reverse(a.avoidable), &a.function, a.line, a.kind, &a.via).cmp(&(
            Reverse(b.avoidable),
            &b.function,
            b.line,
            b.kind,
            &b.via,
        ))
    });
    out
}

const STRING_ADD: &str = "String + &str";

/// Pairs (caller, call line) → callee for adjacent workspace frames of different functions.
fn record_calls(calls: &mut BTreeMap<(String, Location), BTreeSet<String>>, frames: &[&Frame]) {
    let workspace: Vec<&&Frame> = frames
        .iter()
        .filter(|f| f.kind == FrameKind::Workspace)
        .collect();
    for pair in workspace.windows(2) {
        let (callee, caller) = (
            function_key(&pair[0].function),
            function_key(&pair[1].function),
        );
        if callee != caller && !is_clone_impl(&callee) {
            calls
                .entry((caller, (pair[1].file.clone(), pair[1].line)))
                .or_default()
                .insert(callee);
        }
    }
}

fn emit(
    out: &mut Vec<Insight>,
    function: &str,
    acc: FunctionEvidence,
    calls: &BTreeMap<(String, Location), BTreeSet<String>>,
) {
    let FunctionEvidence {
        growth,
        copies,
        temporary_strings,
        string_vias,
    } = acc;
    let (strings, others): (Vec<_>, Vec<_>) = growth
        .into_iter()
        .partition(|((_, via), _)| via == STRING_ADD || growth_container(via) == Some("String"));
    let concatenates = strings.iter().any(|((_, via), _)| via == STRING_ADD);
    let temporaries = if temporary_strings >= MIN_AVOIDABLE {
        temporary_strings
    } else {
        0
    };
    let building = !strings.is_empty() && (concatenates || temporaries > 0);
    if building {
        out.push(string_building(
            function,
            &strings,
            temporaries,
            &string_vias,
        ));
    }
    let growth_groups = if building {
        others
    } else {
        others.into_iter().chain(strings).collect()
    };
    for ((location, via), g) in growth_groups {
        out.push(preallocate(function, location, via, &g));
    }
    for ((location, via), c) in copies {
        let callee = calls
            .get(&(function.to_owned(), location.clone()))
            .and_then(|callees| callees.iter().next());
        let figures = format!(
            "`{via}` allocated {} {} here ({})",
            thousands(c.allocations),
            times(c.allocations),
            human_bytes(c.bytes)
        );
        let (kind, message) = match callee {
            Some(callee) => (
                InsightKind::Borrow,
                format!(
                    "{figures} to hand an owned copy to `{callee}`: if it only reads it, let it \
                     take a reference (`&[T]`, `&str`, `&T`)"
                ),
            ),
            None => (
                InsightKind::Clone,
                format!("{figures}: if the copy is only read, borrow the original instead"),
            ),
        };
        out.push(Insight {
            kind,
            function: function.to_owned(),
            file: location.0,
            line: location.1,
            via,
            allocations: c.allocations,
            avoidable: c.allocations,
            bytes: c.bytes,
            message,
        });
    }
}

fn times(n: u64) -> &'static str {
    if n == 1 {
        "time"
    } else {
        "times"
    }
}

fn string_building(
    function: &str,
    strings: &[((Location, String), Growth)],
    temporaries: u64,
    string_vias: &BTreeSet<String>,
) -> Insight {
    let chains: u64 = strings.iter().map(|(_, g)| g.chains).sum();
    let reallocs: u64 = strings.iter().map(|(_, g)| g.reallocs).sum();
    // The largest growing site gives the location: most chains + reallocs, then lowest line.
    let ((location, via), _) = strings
        .iter()
        .min_by_key(|((location, _), g)| (Reverse(g.chains + g.reallocs), location.1, &location.0))
        .expect("string building needs a growing string");
    let mut message = if chains == 1 {
        format!("string regrown {}x by `{via}`", thousands(reallocs))
    } else {
        format!(
            "{} strings regrown {}x in all by `{via}`",
            thousands(chains),
            thousands(reallocs)
        )
    };
    if temporaries > 0 {
        let vias: Vec<String> = string_vias.iter().map(|v| format!("`{v}`")).collect();
        message.push_str(&format!(
            ", plus {} temporary {} from {}",
            thousands(temporaries),
            if temporaries == 1 {
                "string"
            } else {
                "strings"
            },
            vias.join(" and ")
        ));
        message.push_str(": `write!` into one `String::with_capacity` (`std::fmt::Write`)");
    } else {
        message.push_str(": `push_str` into one `String::with_capacity`");
    }
    Insight {
        kind: InsightKind::StringBuilding,
        function: function.to_owned(),
        file: location.0.clone(),
        line: location.1,
        via: via.clone(),
        allocations: chains + reallocs + temporaries,
        avoidable: reallocs + temporaries,
        bytes: 0,
        message,
    }
}

fn preallocate(function: &str, location: Location, via: String, g: &Growth) -> Insight {
    let container = growth_container(&via).unwrap_or("String");
    // The final capacity: a `String`'s in bytes; a vector's in bytes, and in elements too when
    // std's frames give away the element size. Never the element type by name: the name in a
    // frame is one of several identical instantiations (see `element_type`).
    let size = g.element().map(|(_, size)| *size);
    let elements = match size {
        Some(size) if size > 0 && g.max_final % size == 0 => Some(g.max_final / size),
        _ => None,
    };
    let reserve = match elements {
        Some(n) if g.chains == 1 => format!("`{container}::with_capacity({n})`"),
        _ => format!("`{container}::with_capacity`"),
    };
    let reached = match (container, elements, size) {
        ("String", Some(n), _) => format!("a capacity of {} {}", thousands(n), bytes_word(n)),
        (_, Some(n), Some(size)) => format!(
            "{} ({} {} of {size} {})",
            human_bytes(g.max_final),
            thousands(n),
            if n == 1 { "element" } else { "elements" },
            bytes_word(size)
        ),
        _ => human_bytes(g.max_final),
    };
    let message = if g.chains == 1 {
        format!(
            "`{container}` regrown {}x to {reached}: reserve it once with {reserve}",
            thousands(g.reallocs)
        )
    } else {
        format!(
            "{} `{container}`s regrown {}x in all (up to {}x, to {reached}): reserve each once \
             with {reserve}",
            thousands(g.chains),
            thousands(g.reallocs),
            thousands(g.max_reallocs)
        )
    };
    Insight {
        kind: InsightKind::Preallocate,
        function: function.to_owned(),
        file: location.0,
        line: location.1,
        via,
        allocations: g.chains + g.reallocs,
        avoidable: g.reallocs,
        bytes: 0,
        message,
    }
}

fn bytes_word(n: u64) -> &'static str {
    if n == 1 {
        "byte"
    } else {
        "bytes"
    }
}

/// `<x::T as core::clone::Clone>::clone`: an implementation of `Clone` (derived or written).
fn is_clone_impl(function: &str) -> bool {
    let key = function_key(function);
    key.starts_with('<') && key.ends_with(" as core::clone::Clone>::clone")
}

/// Vias that copy an existing value. `str::to_owned` is left out: turning a `&str` (usually a
/// literal) into a `String` is how owned text is made, not a copy that borrowing would avoid.
fn is_copy(via: &str) -> bool {
    via.ends_with("::clone")
        || matches!(
            via,
            "ToOwned::to_owned" | "slice::to_owned" | "slice::to_vec"
        )
}

fn is_string_making(via: &str) -> bool {
    via == "format!" || via.ends_with("::to_string")
}

/// The collection a via grows in place, if it is one that does.
fn growth_container(via: &str) -> Option<&'static str> {
    Some(match via {
        "Vec::push"
        | "Vec::push_within_capacity"
        | "Vec::extend"
        | "Vec::extend_from_slice"
        | "Vec::extend_trusted"
        | "Vec::extend_desugared"
        | "Vec::insert"
        | "Vec::append"
        | "Vec::resize"
        | "Vec::resize_with"
        | "Vec::reserve"
        | "RawVec::grow_one"
        | "RawVec::reserve"
        | "RawVec::grow_amortized"
        | "RawVecInner::grow_one"
        | "RawVecInner::grow_amortized"
        | "RawVecInner::reserve" => "Vec",
        "VecDeque::push_back"
        | "VecDeque::push_front"
        | "VecDeque::extend"
        | "VecDeque::insert"
        | "VecDeque::reserve" => "VecDeque",
        "String::push" | "String::push_str" | "String::extend" | "String::insert"
        | "String::insert_str" | "String::reserve" | "String += &str" => "String",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_impls_and_vias() {
        assert!(is_clone_impl(
            "<app::BigStruct as core::clone::Clone>::clone"
        ));
        assert!(!is_clone_impl("app::BigStruct::clone_into_new"));
        assert!(is_copy("String::clone"));
        assert!(is_copy("Clone::clone"));
        assert!(is_copy("slice::to_vec"));
        assert!(!is_copy("Vec::push"));
        assert!(is_string_making("ToString::to_string"));
        assert!(is_string_making("format!"));
        assert_eq!(growth_container("Vec::push"), Some("Vec"));
        assert_eq!(growth_container("String += &str"), Some("String"));
        assert_eq!(growth_container("Vec::with_capacity"), None);
    }
}
