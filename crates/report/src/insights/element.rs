//! The element type of a vector a site grows, and its size, from the names of std's frames: the
//! evidence behind a `preallocate` insight's capacity in elements.

use alloc_profile_format::symbolized::{Frame, FrameKind};

/// The element type of the vector a site grows, from the generic arguments of its standard-library
/// frames (`alloc::raw_vec::RawVec<u64>::grow_one`, `<alloc::vec::Vec<u32>>::push`), with its size
/// when that is known; `None` when no frame names a concrete type of known size, or frames
/// disagree. Only the size is certain: such a name comes from the symbol table, where functions
/// whose machine code is identical share one address under several names, so the code of
/// `RawVec<String>::grow_one` can be named `RawVec<Vec<u8>>::grow_one` or
/// `RawVec<std::ffi::OsString>::grow_one` (they share a layout, hence the code). A type nested in
/// the element type (`u8` in `RawVec<Vec<u8>>`) is not the element type.
pub(super) fn element_type(frames: &[&Frame]) -> Option<(String, u64)> {
    let mut found: Option<(String, u64)> = None;
    for frame in frames.iter().filter(|f| f.kind == FrameKind::Std) {
        let name = &frame.function;
        // Brackets before this byte belong to the arguments of a container already read.
        let mut read_up_to = 0;
        for (i, _) in name.match_indices('<') {
            if i < read_up_to {
                continue;
            }
            let before = name[..i].trim_end_matches("::");
            let ident_start = before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |j| j + 1);
            if !matches!(&before[ident_start..], "Vec" | "RawVec" | "VecDeque") {
                continue;
            }
            let Some((arg, len)) = first_generic_arg(&name[i..]) else {
                continue;
            };
            read_up_to = i + len;
            let Some(size) = known_size(arg) else {
                continue;
            };
            let ty = short_type(arg);
            match &found {
                None => found = Some((ty, size)),
                Some((t, s)) if *t == ty && *s == size => {}
                Some(_) => return None,
            }
        }
    }
    found
}

/// The first argument of the `<...>` list `s` starts with, and the length of that list.
fn first_generic_arg(s: &str) -> Option<(&str, usize)> {
    let mut depth = 0i32;
    let mut first = None;
    for (i, c) in s.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some((first.unwrap_or_else(|| s[1..i].trim()), i + 1));
                }
            }
            ',' if depth == 1 && first.is_none() => first = Some(s[1..i].trim()),
            _ => {}
        }
    }
    None
}

/// Sizes on 64-bit targets (the interposer's only platform) of the types whose size a name
/// gives away.
fn known_size(ty: &str) -> Option<u64> {
    Some(match ty {
        "u8" | "i8" | "bool" => 1,
        "u16" | "i16" => 2,
        "u32" | "i32" | "f32" | "char" => 4,
        "u64" | "i64" | "f64" | "usize" | "isize" => 8,
        "u128" | "i128" => 16,
        "&str" | "&[u8]" => 16,
        "alloc::string::String" | "String" => 24,
        // A vector in the global allocator, whatever its element: pointer, capacity, length.
        _ if is_global_vec(ty) => 24,
        _ => return None,
    })
}

/// `alloc::vec::Vec<T>` or `alloc::vec::Vec<T, alloc::alloc::Global>`.
fn is_global_vec(ty: &str) -> bool {
    let Some(args) = ty.strip_prefix("alloc::vec::Vec") else {
        return false;
    };
    match first_generic_arg(args) {
        Some((first, len)) if len == args.len() => {
            let rest = args[1..len - 1].trim_start().strip_prefix(first);
            rest.is_some_and(|rest| {
                let rest = rest.trim();
                rest.is_empty()
                    || rest.strip_prefix(',').map(str::trim) == Some("alloc::alloc::Global")
            })
        }
        _ => false,
    }
}

fn short_type(ty: &str) -> String {
    match ty {
        "alloc::string::String" => "String".to_owned(),
        _ => ty.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::via::std_frame;

    #[test]
    fn element_types() {
        let of = |names: &[&str]| {
            let frames: Vec<Frame> = names.iter().map(|n| std_frame(n)).collect();
            let refs: Vec<&Frame> = frames.iter().collect();
            element_type(&refs)
        };
        assert_eq!(
            of(&["alloc::raw_vec::RawVec<u64>::grow_one"]),
            Some(("u64".to_owned(), 8))
        );
        assert_eq!(
            of(&["<alloc::vec::Vec<u32>>::push"]),
            Some(("u32".to_owned(), 4))
        );
        assert_eq!(
            of(&["alloc::vec::Vec::<u16>::push"]),
            Some(("u16".to_owned(), 2))
        );
        assert_eq!(
            of(&["<alloc::vec::Vec<alloc::string::String, alloc::alloc::Global>>::push"]),
            Some(("String".to_owned(), 24))
        );
        assert_eq!(of(&["alloc::raw_vec::RawVec<T,A>::grow_one"]), None);
        assert_eq!(of(&["<alloc::vec::Vec<app::Point>>::push"]), None);
        assert_eq!(
            of(&[
                "alloc::raw_vec::RawVec<u64>::grow_one",
                "<alloc::vec::Vec<u32>>::push"
            ]),
            None
        );
        assert_eq!(of(&["alloc::raw_vec::RawVecInner<A>::grow_one"]), None);
        // A `Vec<String>`'s growth under the name of its twin: the element is a vector (24
        // bytes), not the `u8` nested in it.
        assert_eq!(
            of(&["<alloc::raw_vec::RawVec<alloc::vec::Vec<u8>>>::grow_one"]),
            Some(("alloc::vec::Vec<u8>".to_owned(), 24))
        );
        assert_eq!(
            of(&[
                "<alloc::raw_vec::RawVec<alloc::vec::Vec<app::P, alloc::alloc::Global>>>::grow_one"
            ]),
            Some((
                "alloc::vec::Vec<app::P, alloc::alloc::Global>".to_owned(),
                24
            ))
        );
        assert_eq!(
            of(&["<alloc::raw_vec::RawVec<alloc::vec::Vec<u8, app::Arena>>>::grow_one"]),
            None
        );
        assert_eq!(
            of(&["<alloc::raw_vec::RawVec<core::option::Option<u8>>>::grow_one"]),
            None
        );
    }
}
