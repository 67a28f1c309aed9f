//! `nextest` hands every argument it does not know to `cargo nextest run`, and clap starts that
//! list at the first unknown one: `nextest --lib --no-budgets` gave `--no-budgets` to nextest, which
//! refused it. Before parsing, the tool's own options are moved in front of the others (up to a
//! `--`), so they count wherever they are written. `--color` stays where it is: nextest has one too,
//! and one written after nextest's arguments is nextest's, as before.

use std::ffi::OsString;

use clap::Command;

/// Options of the tool's `nextest` command that stay in place (nextest has its own).
const SHARED_WITH_NEXTEST: &[&str] = &["color"];

/// `argv` with the tool's own `nextest` options (those of `root`'s `alloc-profile nextest`) before
/// nextest's arguments.
pub fn hoist(argv: Vec<OsString>, root: &Command) -> Vec<OsString> {
    if argv.get(2).and_then(|a| a.to_str()) != Some("nextest") {
        return argv;
    }
    let Some(nextest) = root
        .find_subcommand("alloc-profile")
        .and_then(|c| c.find_subcommand("nextest"))
    else {
        return argv;
    };
    // (long name or short letter, takes a value)
    let mut longs: Vec<(String, bool)> = Vec::new();
    let mut shorts: Vec<(char, bool)> = Vec::new();
    for arg in nextest.get_arguments().filter(|a| !a.is_positional()) {
        let takes = arg.get_action().takes_values();
        if let Some(long) = arg.get_long() {
            if !SHARED_WITH_NEXTEST.contains(&long) {
                longs.push((long.to_owned(), takes));
            }
        }
        if let Some(short) = arg.get_short() {
            shorts.push((short, takes));
        }
    }
    let mut out: Vec<OsString> = argv[..3].to_vec();
    let mut rest: Vec<OsString> = Vec::new();
    let mut tail = argv[3..].iter();
    while let Some(a) = tail.next() {
        let Some(s) = a.to_str() else {
            rest.push(a.clone());
            continue;
        };
        if s == "--" {
            rest.push(a.clone());
            rest.extend(tail.cloned());
            break;
        }
        let option = if let Some(long) = s.strip_prefix("--") {
            let (name, inline) = long
                .split_once('=')
                .map_or((long, false), |(n, _)| (n, true));
            longs
                .iter()
                .find(|(l, _)| l == name)
                .map(|&(_, takes)| takes && !inline)
        } else if let Some(short) = s.strip_prefix('-').filter(|r| r.chars().count() == 1) {
            let c = short.chars().next().unwrap_or_default();
            shorts
                .iter()
                .find(|(l, _)| *l == c)
                .map(|&(_, takes)| takes)
        } else {
            None
        };
        match option {
            Some(value_follows) => {
                out.push(a.clone());
                if value_follows {
                    if let Some(v) = tail.next() {
                        out.push(v.clone());
                    }
                }
            }
            None => rest.push(a.clone()),
        }
    }
    out.extend(rest);
    out
}
