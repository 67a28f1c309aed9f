//! Demangled Rust function names: one parser for every question the tool asks of them.
//!
//! The symbolizer demangles legacy and v0 symbols with rustc-demangle's alternate form (`{:#}`,
//! no hash). What comes out is not a path in the Rust grammar's sense; real names look like
//!
//! - `app::main::{{closure}}` (legacy), `app::main::{closure#0}` (v0), `a::f::<u8>` (v0 prints a
//!   function's generic arguments as a segment of their own), `alloc::vec::Vec<T,A>::push`
//!   (legacy prints them on the type);
//! - `<alloc::vec::Vec<T,A> as core::clone::Clone>::clone`, `<gdep::inner::S>::new` (a v0
//!   inherent method), `<T as gdep::Describe>::describe` (a blanket impl),
//!   `<(alloc::vec::Vec<A>,) as criterion::stats::tuple::TupledDistributionsBuilder>::new`,
//!   `<[u8; 32] as x::T>::f`, `<&mut T as core::fmt::Write>::write_str`;
//! - `core::array::<impl core::fmt::Debug for [T; N]>::fmt`, `alloc::str::<impl str>::repeat`
//!   (legacy names an impl block that is not next to its type or trait this way);
//! - self types that are trait objects and function pointers, with their own `->`, `+`, `"`:
//!   `<dyn core::ops::function::Fn<(u8,), Output = u8> as x::T>::f`, legacy
//!   `<dyn core::ops::function::Fn<(u8,)>+Output = u8 as x::T>::f`,
//!   `<extern "C" fn(u8) -> u8 as x::T>::f`, legacy `<extern "C" fn(u8) .> u8 as x::T>::f`,
//!   `<for<'a> fn(&'a str) -> usize as x::T>::f`;
//! - nested qualified paths: `<<T as alloc::slice::<impl [T]>::to_vec_in::ConvertVec>::to_vec::DropGuard<T,A> as core::ops::drop::Drop>::drop`;
//! - compiler shims: `{shim:vtable#0}`, legacy `core::ops::function::FnOnce::call_once{{vtable.shim}}`;
//! - v0 constants in generic arguments: `'>'`, `{*"a::b"}`, `{&[1, 2]}`.
//!
//! [`parse_path`] turns such a name into a [`Path`]; brackets (`<>`, `()`, `[]`, `{}`) nest, the
//! `>` of an arrow (`->`, legacy ` .>`) closes nothing, and quoted strings and character literals
//! are opaque. Every answer below comes from that one structure: [`function_key`], [`module_of`],
//! [`owner_module`], [`crate_of_function`], [`impl_trait_name`], [`split_path`].
//!
//! Limits: the parser does not validate (anything it does not understand is a [`Type::Other`] or
//! an identifier segment with odd characters in it), and C++ or C names pass through as paths of
//! whatever `::`-separated pieces they have.
//!
//! The parts, each importing only those after it: this file asks the questions; `parse` builds
//! the structure; `tree` is the structure ([`Path`], [`Type`]) and what it knows of owners;
//! `crate_names` knows which names are crates (and of the Rust distribution); `scan` is the one
//! place that knows how brackets nest.

mod crate_names;
mod parse;
mod scan;
mod tree;

pub use crate_names::{is_std_crate, looks_like_crate, STD_CRATES};
pub use parse::{parse_path, parse_type};
pub use scan::find_top_level;
use scan::split_top_level;
pub use tree::{Path, Qualified, Segment, SegmentKind, Type};

/// The name analysis groups by: closures fold into the function that defines them, generic
/// arguments are dropped. `a::b::{{closure}}` and `a::b::{closure#0}` become `a::b`;
/// `a::f::<u8>` becomes `a::f`. Qualified roots (`<a::T as b::Tr>`) and generic arguments
/// printed on a type (`Vec<T,A>`) stay as they are.
pub fn function_key(name: &str) -> String {
    let path = parse_path(name);
    let mut parts: Vec<&str> = Vec::with_capacity(path.segments.len() + 1);
    if let Some(q) = &path.qualified {
        parts.push(q.text);
    }
    parts.extend(
        path.segments
            .iter()
            .filter(|s| !matches!(s.kind, SegmentKind::GenericArgs(_)))
            .map(|s| s.text),
    );
    while parts.len() > 1 {
        let last = parts[parts.len() - 1];
        if last.starts_with("{{closure")
            || last.starts_with("{closure")
            || last.starts_with("{async_fn")
            || last.starts_with("{async_block")
            || last == "{{constant}}"
        {
            parts.pop();
        } else {
            break;
        }
    }
    parts.join("::")
}

/// The module a function belongs to, when nothing is known about the crate of its code:
/// [`owner_module`] without a crate. `a::b::f` → `a::b`; `a::b::Type::method` → `a::b`;
/// `<a::T as core::clone::Clone>::clone` → `a`; `<T as gdep::Describe>::describe` → `gdep`;
/// `""` for a bare name like `main`.
pub fn module_of(function: &str) -> String {
    owner_module(function, None)
}

/// The module a frame of crate `crate_name` (known from its source path) belongs to.
///
/// - A plain path: its module, without the function and without enclosing type names
///   (segments starting with an upper-case letter): `a::b::Type::method` → `a::b`,
///   `core::array::<impl core::fmt::Debug for [T; N]>::fmt` → `core::array`.
/// - `<Self as Trait>::f`, `<Self>::f`: the module of Self when Self is a path of that crate,
///   else the module of Trait when Trait is a path of that crate. When the crate is neither's (a
///   package whose library or binary is named otherwise) or not given, the module of the first of
///   the two that is a path and, for a frame outside the standard library, not the standard
///   library's. Self "is a path" through references, pointers and `dyn`; a generic parameter
///   (blanket impls: `<T as gdep::Describe>::describe` → `gdep`), a tuple, array, slice or
///   function pointer is not.
/// - Otherwise (no usable path, `main`): the crate name, or `""` without one.
///
/// The result never contains `<`, `(`, `[`, `;` or spaces.
pub fn owner_module(function: &str, crate_name: Option<&str>) -> String {
    parse_path(function)
        .owner(crate_name)
        .or_else(|| crate_name.map(str::to_owned))
        .unwrap_or_default()
}

/// The crate a demangled function path names first: `a::b::f` → `a`; for trait impls the crate of
/// the self type when it is a path (`<a::T as core::clone::Clone>::clone` → `a`,
/// `<&mut a::T as core::fmt::Debug>::fmt` → `a`), otherwise of the trait
/// (`<u8 as core::fmt::Display>::fmt` → `core`, `<(A, B) as gdep::Pairwise>::pair` → `gdep`).
/// `None` for a bare name like `main`.
pub fn crate_of_function(name: &str) -> Option<&str> {
    parse_path(name).crate_name()
}

/// The last name of the trait a function implements, without generic arguments: `Clone` for
/// `<a::T as core::clone::Clone>::clone` and for legacy
/// `a::m::<impl core::clone::Clone for a::T>::clone`; `None` for other functions.
pub fn impl_trait_name(function: &str) -> Option<&str> {
    let path = parse_path(function);
    let q = match &path.qualified {
        Some(q) => q,
        None => path.segments.iter().rev().find_map(|s| match &s.kind {
            SegmentKind::Impl(q) => Some(q),
            _ => None,
        })?,
    };
    match q.trait_path.as_ref()?.last()?.kind {
        SegmentKind::Ident { name, .. } if !name.is_empty() => Some(name),
        _ => None,
    }
}

/// Splits a path at top-level `::`, not inside brackets, quotes or character literals.
pub fn split_path(path: &str) -> Vec<&str> {
    split_top_level(path, "::")
}

/// Splits a list of generic arguments (`T, alloc::vec::Vec<u8, A>`) at top-level commas, each
/// argument trimmed; none for an empty list.
pub fn generic_args(args: &str) -> Vec<&str> {
    if args.trim().is_empty() {
        return Vec::new();
    }
    split_top_level(args, ",")
        .into_iter()
        .map(str::trim)
        .collect()
}

#[cfg(test)]
mod tests;
