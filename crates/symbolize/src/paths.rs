//! Source paths as debug info records them: lexical normalization, and the names of the
//! directories cargo makes (`<name>-<version>` in the registry, `<package>-<hash>` for build
//! scripts).

/// Index of the first occurrence of `seq` as consecutive components of `parts`.
pub(crate) fn find_seq(parts: &[&str], seq: &[&str]) -> Option<usize> {
    parts.windows(seq.len()).position(|w| w == seq)
}

pub(crate) fn is_under(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || dir == "/")
}

/// Lexical normalization: drops `.` and empty components, resolves `..` against the preceding
/// component. Keeps a leading `/`. Does not touch the file system.
pub(crate) fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// `serde-1.0.200` → `("serde", "1.0.200")`; `sha-1-0.10.1` → `("sha-1", "0.10.1")`. The version is
/// the first suffix after a `-` that starts with `<digits>.<digits>.<digits>`.
pub(crate) fn split_name_version(dir: &str) -> Option<(&str, &str)> {
    for (i, _) in dir.match_indices('-') {
        let (name, version) = (&dir[..i], &dir[i + 1..]);
        if !name.is_empty() && looks_like_version(version) {
            return Some((name, version));
        }
    }
    None
}

fn looks_like_version(s: &str) -> bool {
    let mut it = s.splitn(3, '.');
    let major = it.next().unwrap_or("");
    let minor = it.next().unwrap_or("");
    let patch = it.next().unwrap_or("");
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    let patch_digits: &str = patch.split(['-', '+']).next().unwrap_or("");
    digits(major) && digits(minor) && digits(patch_digits)
}

/// `my-pkg-0123456789abcdef` → `my-pkg` (cargo's build directories end in a 16-digit hex hash).
pub(crate) fn split_hash_suffix(dir: &str) -> Option<&str> {
    let (name, hash) = dir.rsplit_once('-')?;
    (!name.is_empty() && hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_and_cargo_directory_names() {
        assert_eq!(normalize("/a/./b//c/../d"), "/a/b/d");
        assert_eq!(normalize("/../a"), "/a");
        assert_eq!(normalize("a/../../b"), "../b");
        assert_eq!(
            split_name_version("serde-1.0.200"),
            Some(("serde", "1.0.200"))
        );
        assert_eq!(
            split_name_version("foo-bar-2.0.0-alpha.1"),
            Some(("foo-bar", "2.0.0-alpha.1"))
        );
        assert_eq!(split_name_version("no-version"), None);
        assert_eq!(split_hash_suffix("my-pkg-0123456789abcdef"), Some("my-pkg"));
        assert_eq!(split_hash_suffix("my-pkg-01234"), None);
    }
}
