//! Parsing a demangled name into a [`Path`] and the types in it into [`Type`]s.

use super::scan::{find_top_level, matching_close, split_top_level};
use super::tree::{Path, Qualified, Segment, SegmentKind, Type};

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
    split_top_level(s, "::")
        .into_iter()
        .map(parse_segment)
        .collect()
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
