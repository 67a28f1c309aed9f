//! Scanning: the one place that knows how brackets nest in a demangled name.

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
pub(super) fn matching_close(s: &str, open: usize) -> Option<usize> {
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

pub(super) fn split_top_level<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
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
