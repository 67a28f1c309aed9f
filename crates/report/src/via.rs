//! Short names for the API through which the user's code allocated ("via").
//!
//! The frame just inside the user's own frame is the call they wrote, but its demangled name is
//! unreadable in a table: `<alloc::vec::Vec<T,A> as core::clone::Clone>::clone`,
//! `alloc::str::<impl str>::to_uppercase`. The rules, applied to the [`function_key`] of the frame
//! (closures folded, `::<..>` dropped):
//!
//! 1. A few functions behind macros or sugar get the name the user wrote: `alloc::fmt::format`
//!    → `format!`, `alloc::vec::from_elem` and `Box::new_uninit` (what `vec![a, b]` expands to) →
//!    `vec!`, `std::io::stdio::_print` → `print!`,
//!    `alloc::alloc::exchange_malloc` → `Box::new`.
//! 2. `<Self as Trait>::method`: `Self::method` with `Self` reduced to its last path segment without
//!    generic arguments (`String::clone`), through references; a slice, array or tuple reads
//!    `slice`, `array`, `tuple`, a trait object its principal trait (`Debug`), a function pointer
//!    `fn`. When `Self` is a generic parameter (`T`, `I`), `Trait::method` (`Clone::clone`,
//!    `ToString::to_string`). `Add`/`AddAssign` read as operators: `String + &str`,
//!    `String += &str`.
//! 3. Any other path keeps its last two segments without generic arguments: `Vec::push`,
//!    `HashMap::insert`, `Iterator::collect`, `thread::spawn`. An impl block reads as its self type:
//!    `<impl str>` reads `str`, `<impl [T]>` `slice`, `<impl core::fmt::Debug for [T; N]>` `array`
//!    (`str::to_uppercase`, `slice::to_vec`).
//!
//! Names are read with [`alloc_profile_format::rust_path`].
//! 4. Dependency frames are prefixed with their crate and drop internal module names:
//!    `serde_json::ser::to_string` → `serde_json::to_string`,
//!    `<serde_json::value::Value as Clone>::clone` → `serde_json::Value::clone`.
//! 5. Foreign code (C functions) keeps its name; unknown frames (`??`) give no via.

use alloc_profile_format::rust_path::{
    crate_of_function, generic_args, parse_path, parse_type, Path, Qualified, Segment, SegmentKind,
    Type,
};
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
    let krate = frame.crate_name.clone().unwrap_or_else(|| {
        crate_of_function(&key)
            .unwrap_or_else(|| split_path(&key)[0])
            .to_owned()
    });
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
        // `vec![a, b]` is `Box::new_uninit` plus writes and `into_vec` in std's macro; a direct
        // `Box::new_uninit` call is rare.
        "alloc::boxed::Box<T>::new_uninit" | "alloc::boxed::Box::new_uninit" => "vec!",
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
    let path = parse_path(&key);
    if let Some(q) = &path.qualified {
        let method = path.last().map_or("", |s| s.text).to_owned();
        return qualified(q, method);
    }
    let segments: Vec<String> = path.segments.iter().map(segment_name).collect();
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

/// `<Self as Trait>::method` or `<Self>::method`.
fn qualified(q: &Qualified<'_>, method: String) -> Short {
    let self_short = type_name(&q.self_ty);
    let self_is_param = peel_refs(&q.self_ty).is_generic_param();
    if let Some(trait_path) = &q.trait_path {
        let last = trait_path.last();
        let trait_name = last.map(segment_name).unwrap_or_default();
        let operator = match (trait_name.as_str(), method.as_str()) {
            ("Add", "add") => Some("+"),
            ("AddAssign", "add_assign") => Some("+="),
            _ => None,
        };
        if let Some(op) = operator {
            // The right operand is the trait's first generic argument.
            let rhs = match last.map(|s| &s.kind) {
                Some(SegmentKind::Ident {
                    args: Some(args), ..
                }) => generic_args(args)
                    .first()
                    .map(|arg| operand_name(&parse_type(arg))),
                _ => None,
            };
            let rhs = rhs.unwrap_or_else(|| self_short.clone());
            return Short::literal(format!("{self_short} {op} {rhs}"));
        }
        if self_is_param {
            return Short {
                owner: Some(trait_name),
                owner_is_type: true,
                name: method,
                literal: false,
            };
        }
    } else if self_is_param {
        return Short::literal(method);
    }
    Short {
        owner: Some(self_short),
        owner_is_type: true,
        name: method,
        literal: false,
    }
}

/// A path segment without generic arguments; `<impl str>` → `str`, `<impl [T]>` → `slice`,
/// `<impl core::fmt::Debug for [T; N]>` → `array`.
fn segment_name(segment: &Segment<'_>) -> String {
    match &segment.kind {
        SegmentKind::Impl(q) => type_name(&q.self_ty),
        SegmentKind::Ident {
            name,
            args: Some(_),
        } if !name.is_empty() => (*name).to_owned(),
        _ => segment.text.to_owned(),
    }
}

/// A type reduced to a short name: `alloc::vec::Vec<T,A>` → `Vec`, `&str` → `str`,
/// `[T]` → `slice`, `dyn core::fmt::Debug + Send` → `Debug`, `fn(u8) -> u8` → `fn`.
fn type_name(ty: &Type<'_>) -> String {
    match peel_refs(ty) {
        Type::Slice(_) => "slice".to_owned(),
        Type::Array(_) => "array".to_owned(),
        Type::Tuple(_) => "tuple".to_owned(),
        Type::FnPtr => "fn".to_owned(),
        Type::Dyn(bounds) => bounds
            .first()
            .and_then(Path::last)
            .map_or_else(|| "dyn".to_owned(), segment_name),
        Type::Path(p) => match (p.last(), &p.qualified) {
            (Some(last), _) => segment_name(last),
            (None, Some(q)) => type_name(&q.self_ty),
            (None, None) => String::new(),
        },
        Type::Other(text) => (*text).to_owned(),
        Type::Ref { .. } | Type::Ptr { .. } => unreachable!("peeled"),
    }
}

/// The type behind references and pointers.
fn peel_refs<'t, 'a>(mut ty: &'t Type<'a>) -> &'t Type<'a> {
    while let Type::Ref { inner, .. } | Type::Ptr { inner, .. } = ty {
        ty = inner;
    }
    ty
}

/// The right operand of an operator trait, keeping references: `&str`, `&String`.
fn operand_name(ty: &Type<'_>) -> String {
    let reference = match ty {
        Type::Ref { mutable: true, .. } => "&mut ",
        Type::Ref { mutable: false, .. } => "&",
        _ => "",
    };
    format!("{reference}{}", type_name(ty))
}

fn is_type_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) || s == "str" || s == "slice"
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
            ("alloc::boxed::Box<T>::new_uninit", "vec!"),
            ("std::io::stdio::_print", "print!"),
            (
                "<alloc::string::String as core::convert::From<&str>>::from",
                "String::from",
            ),
            ("main", "main"),
            // Self types the old bracket counting misread.
            (
                "<dyn core::fmt::Debug+core::marker::Send as gdep::Pairwise>::pair",
                "Debug::pair",
            ),
            (
                "<extern \"C\" fn(u8) -> u8 as gdep::Pairwise>::pair",
                "fn::pair",
            ),
            ("<a::T as core::clone::Clone>::clone", "T::clone"),
            (
                "<(ExA,ExB) as core::iter::traits::collect::Extend<(A,B)>>::extend_one",
                "tuple::extend_one",
            ),
            (
                "<&mut T as core::fmt::Write>::write_str",
                "Write::write_str",
            ),
            (
                "core::slice::<impl core::iter::traits::IntoIterator for &'a [T]>::into_iter",
                "slice::into_iter",
            ),
            (
                "core::array::<impl core::fmt::Debug for [T; N]>::fmt",
                "array::fmt",
            ),
            (
                "<alloc::string::String as core::ops::arith::Add<&'a str>>::add",
                "String + &str",
            ),
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
