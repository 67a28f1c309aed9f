//! Short names for the API through which the user's code allocated ("via").
//!
//! The frame just inside the user's own frame is the call they wrote, but its demangled name is
//! unreadable in a table: `<alloc::vec::Vec<T,A> as core::clone::Clone>::clone`,
//! `alloc::str::<impl str>::to_uppercase`. The rules, applied to the [`function_key`] of the frame
//! (closures folded, `::<..>` dropped):
//!
//! 1. A few functions behind macros or sugar get the name the user wrote: `alloc::fmt::format`
//!    → `format!`, `alloc::vec::from_elem` → `vec!`, `std::io::stdio::_print` → `print!`,
//!    `alloc::alloc::exchange_malloc` → `Box::new`.
//! 2. `<Self as Trait>::method`: `Self::method` with `Self` reduced to its last path segment without
//!    generic arguments (`String::clone`); when `Self` is a generic parameter (`T`, `I`),
//!    `Trait::method` (`Clone::clone`, `ToString::to_string`). `Add`/`AddAssign` read as operators:
//!    `String + &str`, `String += &str`.
//! 3. Any other path keeps its last two segments without generic arguments: `Vec::push`,
//!    `HashMap::insert`, `Iterator::collect`, `thread::spawn`. `<impl str>` reads `str` and
//!    `<impl [T]>` reads `slice` (`str::to_uppercase`, `slice::to_vec`).
//! 4. Dependency frames are prefixed with their crate and drop internal module names:
//!    `serde_json::ser::to_string` → `serde_json::to_string`,
//!    `<serde_json::value::Value as Clone>::clone` → `serde_json::Value::clone`.
//! 5. Foreign code (C functions) keeps its name; unknown frames (`??`) give no via.

use alloc_profile_format::symbolized::{function_key, Frame, FrameKind};

/// The readable name of the API `frame` stands for, if any.
pub(crate) fn api_name(frame: &Frame) -> Option<String> {
    if frame.function.is_empty() || frame.function == "??" {
        return None;
    }
    match frame.kind {
        FrameKind::Std => Some(short_name(&frame.function).render()),
        FrameKind::Dependency => Some(dependency_name(frame)),
        FrameKind::Foreign | FrameKind::Workspace => Some(function_key(&frame.function)),
        FrameKind::Unknown => None,
    }
}

/// The readable name of a standard-library style path, as for a std frame: `String::clone`,
/// `BigStruct::clone` for `<app::BigStruct as core::clone::Clone>::clone`.
pub(crate) fn short_api_name(function: &str) -> String {
    short_name(function).render()
}

/// A shortened name: `owner::name`, where `owner` is a type, trait or module.
struct Short {
    owner: Option<String>,
    /// The owner is a type or trait (not a module).
    owner_is_type: bool,
    name: String,
    /// Already a complete display name (`format!`, `String + &str`).
    literal: bool,
}

impl Short {
    fn literal(s: impl Into<String>) -> Short {
        Short {
            owner: None,
            owner_is_type: false,
            name: s.into(),
            literal: true,
        }
    }

    fn render(&self) -> String {
        match &self.owner {
            Some(owner) if !self.literal => format!("{owner}::{}", self.name),
            _ => self.name.clone(),
        }
    }
}

fn dependency_name(frame: &Frame) -> String {
    let key = function_key(&frame.function);
    let short = short_name(&key);
    let krate = frame
        .crate_name
        .clone()
        .unwrap_or_else(|| split_path(&key)[0].trim_start_matches('<').to_owned());
    if short.literal {
        return short.render();
    }
    match short.owner {
        Some(owner) if short.owner_is_type => format!("{krate}::{owner}::{}", short.name),
        _ => format!("{krate}::{}", short.name),
    }
}

fn special(key: &str) -> Option<&'static str> {
    Some(match key {
        "alloc::fmt::format" | "alloc::fmt::format::format_inner" | "std::fmt::format" => "format!",
        "alloc::vec::from_elem" | "std::vec::from_elem" => "vec!",
        "std::io::stdio::_print" => "print!",
        "std::io::stdio::_eprint" => "eprint!",
        "alloc::alloc::exchange_malloc" => "Box::new",
        "std::thread::functions::spawn" | "std::thread::spawn" => "thread::spawn",
        "std::thread::scoped::scope" | "std::thread::scope" => "thread::scope",
        _ => return None,
    })
}

fn short_name(function: &str) -> Short {
    let key = function_key(function);
    if let Some(s) = special(&key) {
        return Short::literal(s);
    }
    if key.starts_with('<') {
        if let Some(close) = matching_close(&key, 0) {
            let inner = &key[1..close];
            let rest = key[close + 1..].trim_start_matches("::");
            let method = split_path(rest).last().copied().unwrap_or("").to_owned();
            return qualified(inner, method);
        }
    }
    let segments: Vec<String> = split_path(&key).into_iter().map(segment_name).collect();
    match segments.as_slice() {
        [] => Short::literal(""),
        [only] => Short::literal(only.clone()),
        [.., owner, name] => Short {
            owner_is_type: is_type_name(owner),
            owner: Some(owner.clone()),
            name: name.clone(),
            literal: false,
        },
    }
}

/// `<Self as Trait>::method` or `<Self>::method`, `inner` being the part between the brackets.
fn qualified(inner: &str, method: String) -> Short {
    let (self_ty, trait_path) = match find_top_level(inner, " as ") {
        Some(i) => (&inner[..i], Some(&inner[i + 4..])),
        None => (inner, None),
    };
    let self_short = type_name(self_ty);
    if let Some(trait_path) = trait_path {
        let trait_name = segment_name(split_path(trait_path).last().copied().unwrap_or(""));
        let arg = generic_arg(trait_path);
        let operator = match (trait_name.as_str(), method.as_str()) {
            ("Add", "add") => Some("+"),
            ("AddAssign", "add_assign") => Some("+="),
            _ => None,
        };
        if let Some(op) = operator {
            let rhs = arg.map_or_else(|| self_short.clone(), |a| operand_name(&a));
            return Short::literal(format!("{self_short} {op} {rhs}"));
        }
        if is_generic_param(&self_short) {
            return Short {
                owner: Some(trait_name),
                owner_is_type: true,
                name: method,
                literal: false,
            };
        }
    } else if is_generic_param(&self_short) {
        return Short::literal(method);
    }
    Short {
        owner: Some(self_short),
        owner_is_type: true,
        name: method,
        literal: false,
    }
}

/// A path segment without generic arguments; `<impl str>` → `str`, `<impl [T]>` → `slice`.
fn segment_name(segment: &str) -> String {
    if let Some(ty) = segment
        .strip_prefix("<impl ")
        .and_then(|s| s.strip_suffix('>'))
    {
        return type_name(ty);
    }
    match segment.find('<') {
        Some(i) if i > 0 => segment[..i].to_owned(),
        _ => segment.to_owned(),
    }
}

/// A type reduced to a short name: `alloc::vec::Vec<T,A>` → `Vec`, `&str` → `str`,
/// `[T]` → `slice`.
fn type_name(ty: &str) -> String {
    let mut ty = ty.trim();
    for prefix in ["&mut ", "&", "*const ", "*mut ", "mut ", "dyn "] {
        if let Some(rest) = ty.strip_prefix(prefix) {
            ty = rest.trim_start();
        }
    }
    if ty.starts_with('[') {
        return if find_top_level(ty, ";").is_some() {
            "array".to_owned()
        } else {
            "slice".to_owned()
        };
    }
    if ty.starts_with('(') {
        return "tuple".to_owned();
    }
    let without_args = match find_top_level_char(ty, '<') {
        Some(i) if i > 0 => &ty[..i],
        _ => ty,
    };
    split_path(without_args)
        .last()
        .copied()
        .unwrap_or(without_args)
        .to_owned()
}

/// The right operand of an operator trait, keeping references: `&str`, `&String`.
fn operand_name(ty: &str) -> String {
    let ty = ty.trim();
    let reference = if ty.starts_with("&mut ") {
        "&mut "
    } else if ty.starts_with('&') {
        "&"
    } else {
        ""
    };
    format!("{reference}{}", type_name(ty))
}

/// The first generic argument of a path's last segment: `core::ops::Add<&str>` → `&str`.
fn generic_arg(path: &str) -> Option<String> {
    let last = split_path(path).last().copied()?;
    let open = find_top_level_char(last, '<')?;
    let close = matching_close(last, open)?;
    let args = &last[open + 1..close];
    let end = find_top_level(args, ",").unwrap_or(args.len());
    Some(args[..end].trim().to_owned())
}

fn is_type_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) || s == "str" || s == "slice"
}

/// `T`, `I`, `F2`, `Self`: a type parameter rather than a concrete type.
fn is_generic_param(s: &str) -> bool {
    s == "Self"
        || (s.len() <= 2
            && s.starts_with(|c: char| c.is_ascii_uppercase())
            && s.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
}

/// Index of the `>` that closes the `<` at `open`.
fn matching_close(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s[open..].char_indices() {
        match c {
            '<' => depth += 1,
            '>' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

fn find_top_level_char(s: &str, needle: char) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        if depth == 0 && c == needle {
            return Some(i);
        }
        match c {
            '<' | '[' | '(' => depth += 1,
            '>' | ']' | ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn find_top_level(s: &str, needle: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '<' | '[' | '(' => depth += 1,
            '>' | ']' | ')' => depth -= 1,
            _ if depth == 0 && s[i..].starts_with(needle) => return Some(i),
            _ => {}
        }
    }
    None
}

pub(crate) use alloc_profile_format::symbolized::split_path;

/// A std frame of `function`, for unit tests.
#[cfg(test)]
pub(crate) fn std_frame(function: &str) -> Frame {
    Frame {
        function: function.to_owned(),
        file: None,
        line: None,
        kind: FrameKind::Std,
        crate_name: None,
        inlined: true,
        object: "app".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn via(function: &str) -> String {
        api_name(&std_frame(function)).unwrap()
    }

    #[test]
    fn std_names() {
        let cases = [
            ("alloc::vec::Vec<T,A>::push", "Vec::push"),
            ("alloc::vec::Vec<T>::with_capacity", "Vec::with_capacity"),
            ("<alloc::vec::Vec<T,A>>::push", "Vec::push"),
            ("alloc::vec::Vec::<u8>::push", "Vec::push"),
            (
                "<alloc::string::String as core::clone::Clone>::clone",
                "String::clone",
            ),
            ("<T as core::clone::Clone>::clone", "Clone::clone"),
            (
                "<alloc::vec::Vec<T,A> as core::clone::Clone>::clone",
                "Vec::clone",
            ),
            ("alloc::fmt::format", "format!"),
            ("alloc::fmt::format::format_inner", "format!"),
            (
                "<T as alloc::string::ToString>::to_string",
                "ToString::to_string",
            ),
            (
                "<alloc::string::String as core::ops::arith::Add<&str>>::add",
                "String + &str",
            ),
            (
                "<alloc::string::String as core::ops::arith::AddAssign<&str>>::add_assign",
                "String += &str",
            ),
            ("alloc::boxed::Box<T>::new", "Box::new"),
            ("alloc::alloc::exchange_malloc", "Box::new"),
            ("alloc::sync::Arc<T>::new", "Arc::new"),
            (
                "std::collections::hash::map::HashMap<K,V,S>::insert",
                "HashMap::insert",
            ),
            (
                "alloc::collections::btree::map::BTreeMap<K,V,A>::insert",
                "BTreeMap::insert",
            ),
            (
                "core::iter::traits::iterator::Iterator::collect",
                "Iterator::collect",
            ),
            (
                "<I as core::iter::traits::iterator::Iterator>::collect",
                "Iterator::collect",
            ),
            ("alloc::str::<impl str>::to_uppercase", "str::to_uppercase"),
            ("alloc::slice::<impl [T]>::to_vec", "slice::to_vec"),
            (
                "<T as alloc::borrow::ToOwned>::to_owned",
                "ToOwned::to_owned",
            ),
            ("<str as alloc::borrow::ToOwned>::to_owned", "str::to_owned"),
            (
                "<[T] as alloc::borrow::ToOwned>::to_owned",
                "slice::to_owned",
            ),
            ("std::thread::spawn", "thread::spawn"),
            ("std::thread::spawn::{{closure}}", "thread::spawn"),
            ("alloc::vec::from_elem", "vec!"),
            ("std::io::stdio::_print", "print!"),
            (
                "<alloc::string::String as core::convert::From<&str>>::from",
                "String::from",
            ),
            ("main", "main"),
        ];
        for (input, expected) in cases {
            assert_eq!(via(input), expected, "for {input}");
        }
    }

    #[test]
    fn dependency_names() {
        let frame = |function: &str, krate: Option<&str>| Frame {
            kind: FrameKind::Dependency,
            crate_name: krate.map(str::to_owned),
            ..std_frame(function)
        };
        let name = |f: Frame| api_name(&f).unwrap();
        assert_eq!(
            name(frame("serde_json::ser::to_string", Some("serde_json"))),
            "serde_json::to_string"
        );
        assert_eq!(
            name(frame(
                "<serde_json::value::Value as core::clone::Clone>::clone",
                Some("serde_json")
            )),
            "serde_json::Value::clone"
        );
        assert_eq!(
            name(frame("regex::regex::string::Regex::new", None)),
            "regex::Regex::new"
        );
    }

    #[test]
    fn unknown_and_foreign() {
        let mut f = std_frame("??");
        f.kind = FrameKind::Unknown;
        assert_eq!(api_name(&f), None);
        let mut f = std_frame("strdup");
        f.kind = FrameKind::Foreign;
        assert_eq!(api_name(&f).as_deref(), Some("strdup"));
    }
}
