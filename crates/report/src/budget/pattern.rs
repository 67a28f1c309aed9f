//! Budget keys of functions and tests: a name or a glob over names, and which of several
//! matching keys holds a name (the most specific).

/// A function or test budget key: a name, or a glob over names. `*` matches any text (`::`
/// included, and nothing), `?` one character, `\*`, `\?` and `\\` the character itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pattern {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Literal(char),
    Any,
    One,
}

/// Why a key is not a valid [`Pattern`]; the message says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PatternError {}

impl Pattern {
    /// Parses a key. Errors: an empty key, a lone `\` at the end, `\` before anything but `*`,
    /// `?` or `\`.
    pub fn parse(key: &str) -> Result<Pattern, PatternError> {
        const ALLOWED: &str = "`*` any text, `?` one character, `\\*`, `\\?`, `\\\\` the \
                               character itself";
        if key.trim().is_empty() {
            return Err(PatternError(format!(
                "an empty name is not a pattern ({ALLOWED})"
            )));
        }
        let mut parts = Vec::new();
        let mut chars = key.chars();
        while let Some(c) = chars.next() {
            parts.push(match c {
                '*' if parts.last() == Some(&Part::Any) => continue,
                '*' => Part::Any,
                '?' => Part::One,
                '\\' => match chars.next() {
                    Some(e @ ('*' | '?' | '\\')) => Part::Literal(e),
                    Some(e) => {
                        return Err(PatternError(format!(
                            "`\\{e}` is not a valid escape ({ALLOWED})"
                        )))
                    }
                    None => {
                        return Err(PatternError(format!("it ends in a lone `\\` ({ALLOWED})")))
                    }
                },
                c => Part::Literal(c),
            });
        }
        Ok(Pattern { parts })
    }

    /// Whether the key has a wildcard (else it is a plain name).
    #[must_use]
    pub fn is_glob(&self) -> bool {
        self.parts
            .iter()
            .any(|p| *p != Part::Literal('\0') && !matches!(p, Part::Literal(_)))
    }

    /// Whether `name` as a whole matches.
    #[must_use]
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        // Classic wildcard matching with one backtrack point (the last `*`): linear in practice.
        let (mut p, mut n) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while n < name.len() {
            match self.parts.get(p) {
                Some(Part::Any) => {
                    star = Some((p, n));
                    p += 1;
                }
                Some(Part::One) => {
                    p += 1;
                    n += 1;
                }
                Some(Part::Literal(c)) if *c == name[n] => {
                    p += 1;
                    n += 1;
                }
                _ => match star {
                    Some((sp, sn)) => {
                        p = sp + 1;
                        n = sn + 1;
                        star = Some((sp, sn + 1));
                    }
                    None => return false,
                },
            }
        }
        self.parts[p..].iter().all(|part| *part == Part::Any)
    }

    /// Larger is more specific: a name beats every pattern, then more literal characters win.
    fn specificity(&self) -> (bool, usize) {
        let literal = self
            .parts
            .iter()
            .filter(|p| matches!(p, Part::Literal(_)))
            .count();
        (!self.is_glob(), literal)
    }
}

/// The most specific keys matching `name` among `keys` (index, pattern): their indexes.
pub(super) fn winners(keys: &[(usize, Pattern)], name: &str) -> Vec<usize> {
    let matching: Vec<&(usize, Pattern)> = keys.iter().filter(|(_, p)| p.matches(name)).collect();
    let best = matching.iter().map(|(_, p)| p.specificity()).max();
    matching
        .iter()
        .filter(|(_, p)| Some(p.specificity()) == best)
        .map(|(i, _)| *i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_whole_names() {
        let p = |k: &str| Pattern::parse(k).unwrap();
        assert!(p("tests::*").matches("tests::a::b"));
        assert!(p("tests::*").matches("tests::"));
        assert!(!p("tests::*").matches("other::tests::a"));
        assert!(p("*::big").matches("tests::big") && !p("*::big").matches("tests::bigger"));
        assert!(p("a?c").matches("abc") && !p("a?c").matches("ac"));
        assert!(p("*a*a*").matches("banana") && !p("*a*a*a*a*").matches("banana"));
        assert!(p("*").matches("") && p("*").matches("anything at all"));
        assert!(p(r"<\*const T as x::Y>::f").matches("<*const T as x::Y>::f"));
        assert!(!p(r"<\*const T as x::Y>::f").is_glob());
        assert!(!p(r"<\*const T as x::Y>::f").matches("<*mut T as x::Y>::f"));
        assert!(p("tests::small").matches("tests::small") && !p("tests::small").is_glob());
        for bad in ["", "  ", r"tests::\d", "tests\\"] {
            assert!(Pattern::parse(bad).is_err(), "{bad:?}");
        }
    }
}
