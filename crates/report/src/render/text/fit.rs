//! Fitting text into columns: paths keep their last segments, locations their file name and
//! line, commands their program and last arguments; prose wraps at spaces.

use crate::via::split_path;

/// Display width (characters; the report only uses single-width ones).
pub(super) fn width(s: &str) -> usize {
    s.chars().count()
}

/// The last `n` characters of `s`.
fn tail(s: &str, n: usize) -> &str {
    let count = width(s);
    if count <= n {
        return s;
    }
    let start = s.char_indices().nth(count - n).map_or(0, |(i, _)| i);
    &s[start..]
}

/// The first `n` characters of `s`.
fn head(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A function or module path fitted into `max` columns, keeping its last segments:
/// `my_crate::…::Type::method` or `…::module::Type::method`, whichever keeps more segments, else
/// `…method`.
pub(super) fn fit_path(path: &str, max: usize) -> String {
    if width(path) <= max {
        return path.to_owned();
    }
    // Keep as many trailing segments as fit; with the same number, keep the first one too.
    let segments = split_path(path);
    for start in 1..segments.len() {
        let tail = segments[start..].join("::");
        if start >= 2 {
            let candidate = format!("{}::…::{tail}", segments[0]);
            if width(&candidate) <= max {
                return candidate;
            }
        }
        let candidate = format!("…::{tail}");
        if width(&candidate) <= max {
            return candidate;
        }
    }
    let last = segments.last().copied().unwrap_or(path);
    if max == 0 {
        return String::new();
    }
    // Always with `…`: the last segment alone, even when it fits exactly, would read as the
    // whole name.
    format!("…{}", tail(last, max - 1))
}

/// `…` and the end of `s`, in `max` columns: keeps file names and line numbers.
pub(super) fn fit_start(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    format!("…{}", tail(s, max - 1))
}

/// A `file:line` in `max` columns, dropping leading directories first: `…/parser/tokens.rs:120`.
pub(super) fn fit_location(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    for (i, _) in s.match_indices('/') {
        let candidate = format!("…{}", &s[i..]);
        if width(&candidate) <= max {
            return candidate;
        }
    }
    fit_start(s, max)
}

/// A command line (`program arg arg ...`) in `max` columns: the program, then the end of its
/// arguments, cut from the front (`regex_syntax …::parse::tests::lex --nocapture`), which is where
/// commands of one program differ: the last of their arguments, a test's name at the end of its
/// path. A lone argument that is a path keeps its last segments, as [`fit_path`] does.
pub(super) fn fit_command(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    let Some((program, args)) = s.split_once(' ') else {
        return fit_start(s, max);
    };
    // The program, a space and at least `…` and a few characters of the arguments.
    let room = max.saturating_sub(width(program) + 1);
    if room < 8 {
        return fit_start(s, max);
    }
    format!("{program} {}", fit_words_from_front(args, room))
}

/// Space-separated words in `max` columns: the last words whole, and of the word before them its
/// end (the last segments of a path), after `…`.
fn fit_words_from_front(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    let words: Vec<&str> = s.split(' ').collect();
    // The longest run of whole words at the end that fits with room for `…` before it.
    let mut first = words.len();
    let mut used = 0;
    while first > 0 {
        let needed = width(words[first - 1]) + usize::from(first < words.len());
        if used + needed + 2 > max {
            break;
        }
        used += needed;
        first -= 1;
    }
    if first == 0 {
        return s.to_owned();
    }
    let whole = words[first..].join(" ");
    let room = max - used - usize::from(first < words.len());
    let cut = fit_path(words[first - 1], room.max(1));
    if whole.is_empty() {
        cut
    } else {
        format!("{cut} {whole}")
    }
}

/// The start of `s` and `…`, in `max` columns.
pub(super) fn fit_end(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    format!("{}…", head(s, max - 1))
}

/// Words joined by `separator` into lines of at most `max` columns, each starting with `indent`.
pub(super) fn wrap(words: &[String], indent: &str, separator: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in words {
        let word = fit_path(word, max.saturating_sub(width(indent)));
        if !line.is_empty() && width(&line) + width(separator) + width(&word) > max {
            lines.push(std::mem::take(&mut line));
        }
        if line.is_empty() {
            line.push_str(indent);
        } else {
            line.push_str(separator);
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Prose wrapped at spaces into lines of at most `max` columns; the first line starts with
/// `first`, the others with `rest`.
pub(super) fn wrap_prose(text: &str, first: &str, rest: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && width(&line) + 1 + width(word) > max {
            lines.push(std::mem::replace(&mut line, rest.to_owned()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line);
    lines.into_iter().map(|l| fit_end(&l, max)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting() {
        let path = "my_crate::parser::tokens::Tokenizer::next_token";
        assert_eq!(fit_path(path, 100), path);
        assert_eq!(
            fit_path(path, 40),
            "…::parser::tokens::Tokenizer::next_token"
        );
        assert_eq!(fit_path(path, 34), "…::tokens::Tokenizer::next_token");
        assert_eq!(fit_path("app::xxxxxxxxxxxx::yy::zz", 15), "app::…::yy::zz");
        assert_eq!(fit_path(path, 25), "…::Tokenizer::next_token");
        assert_eq!(fit_path(path, 12), "…next_token");
        assert_eq!(fit_path(path, 10), "…ext_token");
        assert_eq!(fit_path("app::tests::parse_x", 7), "…arse_x");
        assert_eq!(fit_start("src/parser/tokens.rs:120", 12), "…kens.rs:120");
        assert_eq!(
            fit_location("src/parser/tokens.rs:120", 22),
            "…/parser/tokens.rs:120"
        );
        assert_eq!(
            fit_location("src/parser/tokens.rs:120", 16),
            "…/tokens.rs:120"
        );
        assert_eq!(fit_location("src/parser/tokens.rs:120", 12), "…kens.rs:120");
        assert_eq!(fit_end("Vec::with_capacity", 10), "Vec::with…");
        let command = "regex_syntax --exact ast::parse::tests::parse_set_class_open --nocapture";
        assert_eq!(fit_command(command, 100), command);
        assert_eq!(
            fit_command(command, 48),
            "regex_syntax …::parse_set_class_open --nocapture"
        );
        assert_eq!(
            fit_command(command, 56),
            "regex_syntax …::tests::parse_set_class_open --nocapture"
        );
        assert_eq!(
            fit_command("regex_syntax ast::parse::tests::parse_set_class_open", 43),
            "regex_syntax …::tests::parse_set_class_open"
        );
        assert_eq!(
            fit_command("regex_syntax --exact a_test_name_longer_than_the_room", 30),
            "regex_syntax …er_than_the_room"
        );
        assert_eq!(
            fit_command("a_very_long_program_name x y", 12),
            "…am_name x y"
        );
    }

    #[test]
    fn wrapping() {
        let words: Vec<String> = ["aaaa", "bbbb", "cccc"].map(String::from).to_vec();
        assert_eq!(wrap(&words, "  ", "  ", 14), ["  aaaa  bbbb", "  cccc"]);
        assert_eq!(
            wrap_prose("one two three four", "x: ", "   ", 12),
            ["x: one two", "   three", "   four"]
        );
    }
}
