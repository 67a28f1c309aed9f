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

/// Crates of the Rust distribution itself.
pub const STD_CRATES: &[&str] = &[
    "std",
    "core",
    "alloc",
    "proc_macro",
    "test",
    "panic_unwind",
    "panic_abort",
    "unwind",
    "std_detect",
    "compiler_builtins",
    "profiler_builtins",
    "rustc_std_workspace_core",
    "rustc_std_workspace_alloc",
    "rustc_std_workspace_std",
    "sysroot",
    // Namespace of the runtime symbols rustc generates (`__rustc::__rust_alloc`, since 1.88).
    "__rustc",
];

/// Whether `name` is one of [`STD_CRATES`].
pub fn is_std_crate(name: &str) -> bool {
    STD_CRATES.contains(&name)
}

/// Names of primitive types (and keywords that start a type): never a crate, never a generic
/// parameter.
const PRIMITIVES: &[&str] = &[
    "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
    "i128", "isize", "f16", "f32", "f64", "f128", "dyn", "impl", "mut", "const",
];

/// Whether `s` can be a crate name: an identifier that is not a primitive type.
pub fn looks_like_crate(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s != "_"
        && !PRIMITIVES.contains(&s)
}

// ---------------------------------------------------------------------------------------------
// The structure.

/// A demangled path: an optional qualified root (`<Self as Trait>`, `<Self>`) and `::`-separated
/// segments after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path<'a> {
    /// The `<..>` the path starts with, if it does.
    pub qualified: Option<Box<Qualified<'a>>>,
    pub segments: Vec<Segment<'a>>,
}

/// `<Self as Trait>` or `<Self>` at the start of a path, and `<impl Trait for Self>` or
/// `<impl Self>` inside one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualified<'a> {
    /// The text, brackets included (`<a::T as b::Tr>`; for a legacy `_<..>`, without the `_`).
    pub text: &'a str,
    pub self_ty: Type<'a>,
    pub trait_path: Option<Path<'a>>,
}

/// One `::`-separated piece of a [`Path`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment<'a> {
    /// The segment as written: `Vec<T,A>`, `{closure#0}`, `<u8>`.
    pub text: &'a str,
    pub kind: SegmentKind<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentKind<'a> {
    /// A name, with the generic arguments legacy (and v0, inside types) prints on it: `Vec<T,A>`
    /// has name `Vec` and args `T,A`; `call_once{{vtable.shim}}` has name `call_once`.
    Ident {
        name: &'a str,
        args: Option<&'a str>,
    },
    /// `<u8>` in `a::f::<u8>`: the text between the brackets.
    GenericArgs(&'a str),
    /// `<impl Trait for Type>` or `<impl Type>`: an impl block inside a module.
    Impl(Box<Qualified<'a>>),
    /// `{{closure}}`, `{closure#0}`, `{shim:vtable#0}`, `{{constant}}`, ...
    Special,
}

/// A type, as far as the questions asked of it need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type<'a> {
    /// `alloc::vec::Vec<T>`, a generic parameter `T`, a primitive `u8`.
    Path(Path<'a>),
    /// `&T`, `&'a mut T`.
    Ref { mutable: bool, inner: Box<Type<'a>> },
    /// `*const T`, `*mut T`.
    Ptr { mutable: bool, inner: Box<Type<'a>> },
    /// `[T]`.
    Slice(Box<Type<'a>>),
    /// `[T; N]`.
    Array(Box<Type<'a>>),
    /// `()`, `(A,)`, `(A, B)`.
    Tuple(Vec<Type<'a>>),
    /// `dyn A + B + 'a` (also legacy's bare `A + 'a`): its trait bounds, the principal one first;
    /// lifetimes and associated type bindings (`Output = u8`) left out.
    Dyn(Vec<Path<'a>>),
    /// A function pointer: `fn(u8) -> u8`, `extern "C" fn(..)`, `for<'a> fn(&'a str)`.
    FnPtr,
    /// Anything else: `!`, `_`, constants, pattern types, what the parser does not understand.
    Other(&'a str),
}

impl<'a> Path<'a> {
    /// The crate the path names: the first segment of a plain path of at least two segments,
    /// when it looks like a crate; for `<Self as Trait>`, Self's crate when Self names one, else
    /// Trait's.
    pub fn crate_name(&self) -> Option<&'a str> {
        if let Some(q) = &self.qualified {
            return q.crate_name();
        }
        match self.segments.as_slice() {
            [first, _, ..] => match first.kind {
                SegmentKind::Ident { name, args: None } if looks_like_crate(name) => Some(name),
                _ => None,
            },
            _ => None,
        }
    }

    /// The module of the item this path names, for a frame of crate `krate` (see
    /// [`owner_module`]); `None` when the path names no crate.
    fn owner(&self, krate: Option<&str>) -> Option<String> {
        if let Some(q) = &self.qualified {
            return q.owner(krate);
        }
        self.crate_name()?;
        let mut names = Vec::new();
        // Whether the last name is an item (function, type, trait) rather than a module.
        let mut item = true;
        for segment in &self.segments {
            match segment.kind {
                SegmentKind::Ident { name, .. } => names.push(name),
                // An impl block sits right in its module.
                SegmentKind::Impl(_) => {
                    item = false;
                    break;
                }
                // A function's generic arguments, a closure: the function is the item.
                SegmentKind::GenericArgs(_) | SegmentKind::Special => break,
            }
        }
        if item {
            names.pop();
        }
        // Enclosing types and traits (`Type::method`, `Enum::Variant`) are not modules.
        while names.len() > 1 && names[names.len() - 1].starts_with(|c: char| c.is_uppercase()) {
            names.pop();
        }
        // `_` is an anonymous `const _: () = { .. }` (serde's derives put their impls there).
        let clean: Vec<&str> = names
            .into_iter()
            .filter(|n| *n != "_")
            .take_while(|n| is_module_name(n))
            .collect();
        (!clean.is_empty()).then(|| clean.join("::"))
    }

    /// The last segment, if any.
    pub fn last(&self) -> Option<&Segment<'a>> {
        self.segments.last()
    }
}

/// A name fit for a module path: no brackets, spaces or punctuation of types.
fn is_module_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains([
            '<', '>', '(', ')', '[', ']', '{', '}', ';', ',', ' ', '&', '*', '\'', '"', '#', '=',
            '+', '!', ':',
        ])
}

impl<'a> Qualified<'a> {
    /// The path Self is named by (see [`Type::path`]) and the trait's, those that name a crate,
    /// Self first.
    fn candidates(&self) -> impl Iterator<Item = (&'a str, &Path<'a>)> + Clone {
        let self_path = self.self_ty.path();
        [self_path, self.trait_path.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p.crate_name()?, p)))
    }

    fn crate_name(&self) -> Option<&'a str> {
        self.candidates().next().map(|(krate, _)| krate)
    }

    fn owner(&self, krate: Option<&str>) -> Option<String> {
        let mut candidates = self.candidates();
        if let Some(k) = krate {
            if let Some((_, p)) = candidates.clone().find(|(c, _)| *c == k) {
                return p.owner(krate);
            }
        }
        // The frame's crate is neither (a package whose library or binary is named otherwise):
        // the first that is not the standard library's, unless the frame is the standard
        // library's.
        let (_, p) =
            candidates.find(|(c, _)| krate.is_none_or(is_std_crate) || !is_std_crate(c))?;
        p.owner(krate)
    }
}

impl<'a> Type<'a> {
    /// The path that names this type for the purpose of ownership: a path type itself, the
    /// pointee of a reference or pointer, a trait object's principal trait. Slices, arrays,
    /// tuples and function pointers have none (only the crate of the trait can implement a
    /// trait for them, or the standard library).
    pub fn path(&self) -> Option<&Path<'a>> {
        match self {
            Type::Path(p) => Some(p),
            Type::Ref { inner, .. } | Type::Ptr { inner, .. } => inner.path(),
            Type::Dyn(bounds) => bounds.first(),
            _ => None,
        }
    }

    /// Whether this is a generic parameter (`T`, `ExA`, `Self`): a path of one name, without
    /// arguments, that is not a primitive type. (Symbols name every other type by its full path.)
    pub fn is_generic_param(&self) -> bool {
        match self {
            Type::Path(Path {
                qualified: None,
                segments,
            }) => match segments.as_slice() {
                [Segment {
                    kind: SegmentKind::Ident { name, args: None },
                    text,
                }] => {
                    name == text
                        && !PRIMITIVES.contains(name)
                        && name.starts_with(|c: char| c.is_alphabetic() || c == '_')
                }
                _ => false,
            },
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The answers.

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

// ---------------------------------------------------------------------------------------------
// Parsing.

/// Parses a demangled function (or type) path.
pub fn parse_path(s: &str) -> Path<'_> {
    let s = s.trim();
    // Older demanglers printed a legacy qualified root as `_<..>`.
    let unprefixed = s
        .strip_prefix('_')
        .filter(|r| r.starts_with('<'))
        .unwrap_or(s);
    if unprefixed.starts_with('<') && !unprefixed.starts_with("<impl ") {
        if let Some(close) = matching_close(unprefixed, 0) {
            let text = &unprefixed[..=close];
            let rest = &unprefixed[close + 1..];
            let rest = rest.strip_prefix("::").unwrap_or(rest);
            return Path {
                qualified: Some(Box::new(parse_qualified(text))),
                segments: parse_segments(rest),
            };
        }
    }
    Path {
        qualified: None,
        segments: parse_segments(s),
    }
}

fn parse_segments(s: &str) -> Vec<Segment<'_>> {
    if s.is_empty() {
        return Vec::new();
    }
    split_path(s).into_iter().map(parse_segment).collect()
}

/// `<Self as Trait>` or `<Self>`, brackets included.
fn parse_qualified(text: &str) -> Qualified<'_> {
    let inner = &text[1..text.len() - 1];
    match find_top_level(inner, " as ") {
        Some(i) => Qualified {
            text,
            self_ty: parse_type(&inner[..i]),
            trait_path: Some(parse_path(&inner[i + 4..])),
        },
        None => Qualified {
            text,
            self_ty: parse_type(inner),
            trait_path: None,
        },
    }
}

/// `<impl Trait for Self>` or `<impl Self>`, brackets included.
fn parse_impl(text: &str) -> Qualified<'_> {
    let inner = &text["<impl ".len()..text.len() - 1];
    match find_top_level(inner, " for ") {
        Some(i) => Qualified {
            text,
            self_ty: parse_type(&inner[i + 5..]),
            trait_path: Some(parse_path(&inner[..i])),
        },
        None => Qualified {
            text,
            self_ty: parse_type(inner),
            trait_path: None,
        },
    }
}

fn parse_segment(text: &str) -> Segment<'_> {
    let whole_bracket = text.starts_with('<') && matching_close(text, 0) == Some(text.len() - 1);
    let kind = if text.starts_with('{') {
        SegmentKind::Special
    } else if whole_bracket && text.starts_with("<impl ") {
        SegmentKind::Impl(Box::new(parse_impl(text)))
    } else if whole_bracket {
        SegmentKind::GenericArgs(&text[1..text.len() - 1])
    } else {
        let end = text
            .find(['<', '{', '(', '[', ' ', '\'', '"'])
            .unwrap_or(text.len());
        let args = if text[end..].starts_with('<') {
            matching_close(text, end).map(|close| &text[end + 1..close])
        } else {
            None
        };
        SegmentKind::Ident {
            name: &text[..end],
            args,
        }
    };
    Segment { text, kind }
}

/// Parses a type as demangled names print it.
pub fn parse_type(t: &str) -> Type<'_> {
    let t = t.trim();
    let enclosed = |open: char| t.starts_with(open) && matching_close(t, 0) == Some(t.len() - 1);
    if let Some(rest) = t.strip_prefix('&') {
        let rest = skip_lifetime(rest.trim_start());
        let (mutable, rest) = match rest.strip_prefix("mut ") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        return Type::Ref {
            mutable,
            inner: Box::new(parse_type(rest)),
        };
    }
    for (prefix, mutable) in [("*const ", false), ("*mut ", true)] {
        if let Some(rest) = t.strip_prefix(prefix) {
            return Type::Ptr {
                mutable,
                inner: Box::new(parse_type(rest)),
            };
        }
    }
    if enclosed('[') {
        let inner = &t[1..t.len() - 1];
        return match find_top_level(inner, ";") {
            Some(i) => Type::Array(Box::new(parse_type(&inner[..i]))),
            None => Type::Slice(Box::new(parse_type(inner))),
        };
    }
    if enclosed('(') {
        let inner = &t[1..t.len() - 1];
        let parts = split_top_level(inner, ",");
        if parts.len() == 1 && !inner.trim().is_empty() {
            // Parentheses around one type: `&(dyn A + B)`.
            return parse_type(inner);
        }
        return Type::Tuple(
            parts
                .into_iter()
                .filter(|p| !p.trim().is_empty())
                .map(parse_type)
                .collect(),
        );
    }
    if t.starts_with("for<") {
        if let Some(close) = matching_close(t, 3) {
            return parse_type(&t[close + 1..]);
        }
    }
    if let Some(rest) = t.strip_prefix("dyn ") {
        return Type::Dyn(parse_bounds(rest));
    }
    if t.starts_with("fn(") || t.starts_with("unsafe ") || t.starts_with("extern ") {
        return Type::FnPtr;
    }
    if find_top_level(t, "+").is_some() {
        // A legacy trait object without `dyn`: `alloc::boxed::FnBox<A, Output=R> + 'a`.
        return Type::Dyn(parse_bounds(t));
    }
    let plain = t.starts_with(|c: char| c.is_alphabetic() || c == '_' || c == '<')
        && find_top_level(t, " ").is_none()
        && t != "_";
    if plain {
        Type::Path(parse_path(t))
    } else {
        Type::Other(t)
    }
}

/// The trait bounds of `A + B + 'a`, lifetimes and `Output = u8` bindings left out.
fn parse_bounds(s: &str) -> Vec<Path<'_>> {
    split_top_level(s, "+")
        .into_iter()
        .map(str::trim)
        .map(|b| {
            if b.starts_with("for<") {
                matching_close(b, 3).map_or(b, |close| b[close + 1..].trim_start())
            } else {
                b
            }
        })
        .filter(|b| {
            !b.is_empty()
                && !b.starts_with('\'')
                && find_top_level(b, "=").is_none()
                && find_top_level(b, " ").is_none()
        })
        .map(parse_path)
        .collect()
}

/// `'a mut T` → `mut T`; anything else unchanged.
fn skip_lifetime(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) => {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            rest[end..].trim_start()
        }
        None => s,
    }
}

// ---------------------------------------------------------------------------------------------
// Scanning: the one place that knows how brackets nest in a demangled name.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    Other,
}

/// Calls `f(offset, token, depth)` for every byte of `s` outside quoted strings and character
/// literals, until it returns `Some`. `depth` counts the brackets around the byte; an opening
/// bracket and its closing one are at the depth outside them. The `>` of `->` (legacy: ` .>`)
/// closes nothing.
fn scan<T>(s: &str, mut f: impl FnMut(usize, Token, usize) -> Option<T>) -> Option<T> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = skip_quoted(b, i);
                continue;
            }
            b'\'' => {
                if let Some(end) = char_literal_end(s, i) {
                    i = end;
                    continue;
                }
            }
            _ => {}
        }
        let arrow = b[i] == b'>'
            && i > 0
            && (b[i - 1] == b'-' || (b[i - 1] == b'.' && i > 1 && b[i - 2] == b' '));
        let token = match b[i] {
            b'<' | b'(' | b'[' | b'{' => Token::Open,
            b'>' | b')' | b']' | b'}' if !arrow => Token::Close,
            _ => Token::Other,
        };
        if token == Token::Close {
            depth = depth.saturating_sub(1);
        }
        if let Some(r) = f(i, token, depth) {
            return Some(r);
        }
        if token == Token::Open {
            depth += 1;
        }
        i += 1;
    }
    None
}

/// The offset just past the string literal that starts at `start`.
fn skip_quoted(b: &[u8], start: usize) -> usize {
    let quote = b[start];
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The offset just past the character literal at `start` (`'a'`, `'\''`, `'∂'`); `None` when the
/// quote starts a lifetime (`'a`, `'static`).
fn char_literal_end(s: &str, start: usize) -> Option<usize> {
    let rest = &s[start + 1..];
    if rest.starts_with('\\') {
        return Some(skip_quoted(s.as_bytes(), start));
    }
    let c = rest.chars().next()?;
    rest[c.len_utf8()..]
        .starts_with('\'')
        .then(|| start + 1 + c.len_utf8() + 1)
}

/// The offset of the bracket that closes the one at `open`.
fn matching_close(s: &str, open: usize) -> Option<usize> {
    let base = &s[open..];
    scan(base, |i, token, depth| {
        (i > 0 && depth == 0 && token == Token::Close).then_some(open + i)
    })
}

/// The offset of the first occurrence of `needle` outside brackets and quotes.
pub fn find_top_level(s: &str, needle: &str) -> Option<usize> {
    let (b, n) = (s.as_bytes(), needle.as_bytes());
    scan(s, |i, _, depth| {
        (depth == 0 && b[i..].starts_with(n)).then_some(i)
    })
}

fn split_top_level<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let (b, n) = (s.as_bytes(), sep.as_bytes());
    let mut parts = Vec::new();
    let mut start = 0;
    scan(s, |i, _, depth| {
        if depth == 0 && i >= start && b[i..].starts_with(n) {
            parts.push(&s[start..i]);
            start = i + n.len();
        }
        None::<()>
    });
    parts.push(&s[start..]);
    parts
}

#[cfg(test)]
mod tests;
