//! Code in the user's files that the user did not write: what `#[derive]` generated, and the
//! `main` rustc generates for a libtest binary. Their frames are classified Workspace by their
//! source; these rules make them Std, so the report blames the user's call, not this body.

use std::collections::{BTreeSet, HashMap};

use alloc_profile_format::symbolized::{function_key, Frame, FrameKind, Site};

/// Recognizes derived code, reading each source file once.
#[derive(Default)]
pub(crate) struct DerivedCode {
    /// Source files read to recognize derived code, by path (`None`: unreadable).
    sources: HashMap<String, Option<Vec<String>>>,
}

impl DerivedCode {
    /// Whether a trait-impl frame is code that `#[derive(Trait)]` generated. Debug info puts
    /// derived code on the derive attribute or on the fields of the type; so the frame is derived
    /// when its line is, or lies inside, a `struct`/`enum`/`union` whose attributes derive that
    /// trait.
    pub(crate) fn is_derived(
        &mut self,
        file: Option<&str>,
        line: Option<u32>,
        function: &str,
    ) -> bool {
        let (Some(file), Some(line), Some(trait_name)) = (file, line, derived_trait(function))
        else {
            return false;
        };
        let lines = self.sources.entry(file.to_owned()).or_insert_with(|| {
            std::fs::read_to_string(file)
                .ok()
                .map(|text| text.lines().map(str::to_owned).collect())
        });
        lines
            .as_deref()
            .is_some_and(|lines| derive_covers(lines, line as usize, trait_name))
    }
}

/// The `main` that rustc generates for a libtest binary (it calls `test::test_main_static`)
/// carries the crate's name and root file, but it is the harness, not the user's code: marks such
/// frames of `sites` Std and adds their keys to `harness_mains`.
pub(crate) fn mark_harness_mains(
    frames: &mut [Frame],
    sites: &[Site],
    harness_mains: &mut BTreeSet<String>,
) {
    for site in sites {
        for pair in site.frames.windows(2) {
            let (inner, outer) = (pair[0] as usize, pair[1] as usize);
            if frames[outer].kind == FrameKind::Workspace
                && frames[outer].function.ends_with("::main")
                && frames[inner].function.starts_with("test::test_main")
            {
                frames[outer].kind = FrameKind::Std;
                harness_mains.insert(function_key(&frames[outer].function));
            }
        }
    }
}

/// The trait a `#[derive]` would have generated `function` for: `Clone` for
/// `<a::T as core::clone::Clone>::clone`.
fn derived_trait(function: &str) -> Option<&str> {
    alloc_profile_format::rust_path::impl_trait_name(function)
}

/// Whether 1-based `line` is on, or inside the item after, attributes that derive `trait_name`.
fn derive_covers(lines: &[String], line: usize, trait_name: &str) -> bool {
    let derives = |l: &str| {
        let l = l.trim_start();
        l.starts_with("#[") && l.contains("derive(") && l.contains(trait_name)
    };
    let Some(index) = line.checked_sub(1).filter(|&i| i < lines.len()) else {
        return false;
    };
    if derives(&lines[index]) {
        return true;
    }
    // Up to the start of the enclosing item; derived code sits inside a type definition.
    let is_type_item = |l: &str| {
        let l = l.trim_start();
        let l = l.strip_prefix("pub").map_or(l, |r| {
            let r = r.trim_start();
            r.strip_prefix('(')
                .and_then(|r| r.split_once(')'))
                .map_or(r, |(_, r)| r)
        });
        let l = l.trim_start();
        ["struct ", "enum ", "union "]
            .iter()
            .any(|k| l.starts_with(k))
    };
    let is_other_item = |l: &str| {
        let l = l.trim_start();
        [
            "fn ",
            "pub fn ",
            "impl",
            "mod ",
            "trait ",
            "pub trait ",
            "}",
        ]
        .iter()
        .any(|k| l.starts_with(k))
            && !is_type_item(l)
    };
    let mut i = index;
    loop {
        let l = &lines[i];
        if is_type_item(l) {
            break;
        }
        if i != index && is_other_item(l) || index - i > 500 || i == 0 {
            return false;
        }
        i -= 1;
    }
    // The attributes and doc comments right above the type.
    lines[..i]
        .iter()
        .rev()
        .take_while(|l| {
            let t = l.trim_start();
            t.starts_with("#[") || t.starts_with("///") || t.starts_with("//") || t.is_empty()
        })
        .any(|l| derives(l))
}

#[cfg(test)]
mod derive_tests {
    use super::{derive_covers, derived_trait};

    #[test]
    fn derived_code_is_recognized() {
        let src: Vec<String> = [
            "mod m {",
            "    #[derive(Debug, Clone)]",
            "    pub struct T {",
            "        pub a: String,",
            "    }",
            "    impl T {",
            "        fn f(&self) -> T { self.clone() }",
            "    }",
            "}",
        ]
        .iter()
        .map(|l| (*l).to_owned())
        .collect();
        assert_eq!(
            derived_trait("<m::T as core::clone::Clone>::clone"),
            Some("Clone")
        );
        assert_eq!(
            derived_trait("<m::T<u8> as serde::Serialize>::serialize"),
            Some("Serialize")
        );
        assert_eq!(derived_trait("m::f"), None);
        // The trait of the outermost impl, not the first ` as ` in the name.
        assert_eq!(
            derived_trait(
                "<core::slice::sort::stable::merge::MergeState<m::T>>::merge_down::<<m::T as core::cmp::PartialOrd>::lt>"
            ),
            None
        );
        assert_eq!(
            derived_trait("<<m::T as m::Tr>::Assoc as core::fmt::Debug>::fmt"),
            Some("Debug")
        );
        assert!(derive_covers(&src, 2, "Clone"));
        assert!(derive_covers(&src, 4, "Clone"));
        assert!(!derive_covers(&src, 4, "PartialEq"));
        assert!(!derive_covers(&src, 7, "Clone"));
        assert!(!derive_covers(&src, 99, "Clone"));
    }
}
