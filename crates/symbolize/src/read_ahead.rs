//! Module files read and prepared before symbolization needs them: while a profiled program
//! still runs, its caller can do the slowest part of the report (reading the program's and its
//! libraries' debug info, inflating compressed sections, the per-unit state addr2line keeps) on a
//! core the program leaves idle, and hand the result to [`symbolize_with`](crate::symbolize_with).
//!
//! Nothing read ahead changes a report: a file prepared here is used for a module only if it is
//! the very file the module's path names now (same device, inode, size and change times) and
//! everything taken from it is what loading it under that path would give: the build-id is
//! checked as then, debug-info problems are reported under the module's path, and a file whose
//! separate debug info was looked for in places that depend on its path is used only when the
//! module's path leads to the same places up to the one that had it (the build-id's place, the
//! first, depends on no path: `/lib/x86_64-linux-gnu/libc.so.6`, as the loader names it, and
//! `/usr/lib/x86_64-linux-gnu/libc.so.6`, as `/proc/<pid>/maps` does, find theirs there). Anything
//! else is loaded as without reading ahead.

use std::path::Path;

use object::Object as _;

use crate::module::{self, FileIdentity, LoadError, Prepared};

/// Module files read ahead, for [`symbolize_with`](crate::symbolize_with).
#[derive(Default)]
pub struct ReadAhead {
    files: Vec<ReadFile>,
}

struct ReadFile {
    identity: FileIdentity,
    build_id: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
    /// Prepared, or why it is no object file; `None` once a module took it.
    content: Option<Result<Prepared, String>>,
}

impl ReadAhead {
    /// Reads the object file at `path` and prepares it for lookups, once per file however many
    /// paths name it. A file that cannot be read is left out: symbolization meets the problem
    /// itself, if a module needs the file.
    pub fn add(&mut self, path: &Path) {
        let known = |identity: FileIdentity| self.files.iter().any(|f| f.identity == identity);
        if fs_err::metadata(path).is_ok_and(|meta| known(FileIdentity::of(&meta))) {
            return;
        }
        let Ok((data, identity)) = module::read_file(path) else {
            return;
        };
        if known(identity) {
            return;
        }
        let file = match module::parse_object(&data) {
            Ok(object) => ReadFile {
                identity,
                build_id: object.build_id().ok().flatten().map(<[u8]>::to_vec),
                link: module::debug_link(&object).map(<[u8]>::to_vec),
                content: Some(Ok(module::prepare(path, &object, &data))),
            },
            Err(LoadError::Unreadable(reason)) => ReadFile {
                identity,
                build_id: None,
                link: None,
                content: Some(Err(reason)),
            },
            Err(LoadError::BuildIdMismatch { .. }) => return,
        };
        self.files.push(file);
    }

    /// How many files were read ahead (prepared or found to be no object file), taken or not.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// No file was read ahead.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// What loading the module at `path` with build-id `expected` would give, if this file was
    /// read ahead; `None` when it must be loaded.
    pub(crate) fn take(
        &mut self,
        path: &str,
        expected: &[u8],
    ) -> Option<Result<Prepared, LoadError>> {
        let identity = FileIdentity::of(&fs_err::metadata(path).ok()?);
        let file = self
            .files
            .iter_mut()
            .find(|f| f.identity == identity && f.content.is_some())?;
        if let Some(Err(reason)) = &file.content {
            return Some(Err(LoadError::Unreadable(reason.clone())));
        }
        if let Err(e) = module::check_build_id(expected, file.build_id.as_deref()) {
            return Some(Err(e));
        }
        if let Some(Ok(prepared)) = &file.content {
            if let Some(searched) = &prepared.searched {
                let here = module::debug_file_candidates(
                    Path::new(path),
                    file.build_id.as_deref(),
                    file.link.as_deref(),
                );
                if !searched.same_in(&here) {
                    return None;
                }
            }
        }
        file.content.take()?.ok().map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_read_ahead_is_taken_once_under_any_of_its_names() {
        let exe = std::env::current_exe().unwrap();
        let mut ahead = ReadAhead::default();
        ahead.add(Path::new("/proc/self/exe"));
        ahead.add(&exe);
        assert_eq!(ahead.len(), 1, "one file, read once");
        let path = exe.to_str().unwrap();
        assert!(matches!(
            ahead.take(path, &[1, 2, 3]),
            Some(Err(LoadError::BuildIdMismatch { .. }))
        ));
        assert!(matches!(ahead.take(path, &[]), Some(Ok(_))));
        assert!(ahead.take(path, &[]).is_none(), "taken");
        assert!(ahead.take("/nonexistent/file", &[]).is_none());
    }

    #[test]
    fn the_c_library_by_the_loaders_name_takes_the_file_the_kernel_names() {
        let maps = fs_err::read_to_string("/proc/self/maps").unwrap();
        let mapped = maps
            .lines()
            .filter_map(|line| line.split_whitespace().nth(5))
            .find(|path| {
                path.rsplit('/')
                    .next()
                    .is_some_and(|n| n.starts_with("libc.so"))
            })
            .expect("libc is mapped");
        let canonical = fs_err::canonicalize(mapped).unwrap();
        // Where `/lib` links to `/usr/lib`, the loader names the C library by `/lib`.
        let Some(loader_name) = canonical.to_str().unwrap().strip_prefix("/usr") else {
            return;
        };
        if fs_err::canonicalize(loader_name).ok().as_ref() != Some(&canonical) {
            return;
        }
        let mut ahead = ReadAhead::default();
        ahead.add(&canonical);
        // Its debug info where no path matters: in the file, or under its build-id.
        let anywhere = match &ahead.files[0].content {
            Some(Ok(prepared)) => prepared
                .searched
                .as_ref()
                .is_none_or(|s| s.found && s.tried.len() == 1),
            _ => false,
        };
        let taken = ahead.take(loader_name, &[]);
        if anywhere {
            assert!(matches!(taken, Some(Ok(_))));
        } else {
            assert!(taken.is_none(), "looked for by its path, so read again");
        }
    }

    #[test]
    fn read_ahead_files_can_be_handed_to_another_thread() {
        fn send<T: Send>() {}
        send::<ReadAhead>();
    }
}
