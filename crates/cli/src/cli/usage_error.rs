//! Usage errors in one line, with the nearest command for a mistyped one.

use super::CargoCli;

/// A usage error as one line: clap's message and tips without the usage block, then where the
/// options are listed. A mistyped command gets the nearest one (`rn`: did you mean `run`?), which
/// clap's own suggestion misses for short names. `None` for what clap prints as it is: help,
/// version, and the help shown when no command is given.
pub fn usage_error_line(err: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    use clap::CommandFactory as _;
    if !err.use_stderr() || err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return None;
    }
    let root = CargoCli::command();
    let commands: Vec<String> = root
        .find_subcommand("alloc-profile")
        .map(|c| {
            c.get_subcommands()
                .map(|s| s.get_name().to_owned())
                .filter(|n| n != "help")
                .collect()
        })
        .unwrap_or_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let as_subcommand = args.first().is_some_and(|a| a == "alloc-profile");
    if err.kind() == ErrorKind::InvalidSubcommand {
        if let Some(ContextValue::String(typed)) = err.get(ContextKind::InvalidSubcommand) {
            if !as_subcommand {
                return Some(format!(
                    "error: this is a cargo subcommand: run it as `cargo alloc-profile {}`",
                    args.join(" ")
                ));
            }
            let names: Vec<&str> = commands.iter().map(String::as_str).collect();
            let hint = match nearest(typed, &names) {
                Some(name) => format!("; did you mean `{name}`?"),
                None => String::new(),
            };
            return Some(format!(
                "error: no command `{typed}`{hint} (`cargo alloc-profile --help` lists them)"
            ));
        }
    }
    let text = err.render().to_string();
    let mut line = String::new();
    for part in text
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        if !line.is_empty() {
            line.push_str(if line.ends_with(':') || part.starts_with('[') {
                " "
            } else {
                "; "
            });
        }
        line.push_str(part);
    }
    let command = match args.get(1) {
        Some(sub) if as_subcommand && commands.contains(sub) => {
            format!("cargo alloc-profile {sub}")
        }
        _ => "cargo alloc-profile".to_owned(),
    };
    Some(format!("{line} (`{command} --help` lists the options)"))
}

/// The command `typed` most likely meant: the only one it begins, else one at most two edits
/// away (an insertion, deletion, substitution or swap of neighbours each), fewer than its length.
fn nearest<'a>(typed: &str, names: &[&'a str]) -> Option<&'a str> {
    let prefixed: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| typed.len() >= 2 && n.starts_with(typed))
        .collect();
    if let [only] = prefixed[..] {
        return Some(only);
    }
    names
        .iter()
        .map(|&n| (edit_distance(typed, n), n))
        .filter(|&(d, _)| d <= 2 && d < typed.chars().count())
        .min_by_key(|&(d, _)| d)
        .map(|(_, n)| n)
}

/// Optimal string alignment distance (Levenshtein with swaps of neighbours).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| (0..=b.len()).map(|j| if i == 0 { j } else { i }).collect())
        .collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistyped_commands_find_the_nearest() {
        let names = [
            "run", "test", "bench", "nextest", "diff", "report", "show-env",
        ];
        for (typed, meant) in [
            ("rn", Some("run")),
            ("rum", Some("run")),
            ("tset", Some("test")),
            ("tests", Some("test")),
            ("benches", Some("bench")),
            ("nex", Some("nextest")),
            ("reprot", Some("report")),
            ("show", Some("show-env")),
            ("r", None),
            ("xyzzy", None),
            ("profile", None),
        ] {
            assert_eq!(nearest(typed, &names), meant, "{typed}");
        }
    }
}
