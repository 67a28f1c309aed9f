//! The structure a demangled name parses into, and what it knows of crates and owners.

use super::crate_names::{is_std_crate, looks_like_crate, PRIMITIVES};

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
    /// [`super::owner_module`]); `None` when the path names no crate.
    pub(super) fn owner(&self, krate: Option<&str>) -> Option<String> {
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
