//! Files read ahead change nothing: the same profile and warnings as without, whether the file
//! read ahead is the module's (under another name, as `/proc/<pid>/maps` names it), has changed
//! since, has another build-id, or has debug info the symbolizer cannot read.

use std::path::{Path, PathBuf};

use alloc_profile_format::{Module, RawProfile};
use alloc_profile_symbolize::{symbolize, symbolize_with, Options, ReadAhead, Warning};

use crate::process::{self, root};

#[inline(never)]
fn read_ahead_marker(x: u64) -> u64 {
    std::hint::black_box(x).wrapping_mul(7)
}

fn marker_address() -> u64 {
    assert_eq!(read_ahead_marker(2), 14);
    read_ahead_marker as fn(u64) -> u64 as usize as u64
}

fn options() -> Options {
    Options {
        workspace: vec![(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            "alloc_profile_symbolize".to_owned(),
        )],
        ..Options::default()
    }
}

/// Symbolizes `raws` without and with `paths` read ahead, asserts the same outcome, and returns
/// the warnings.
fn same_with_read_ahead(raws: &[RawProfile], paths: &[&Path]) -> Vec<Warning> {
    let plain = symbolize(raws, &options()).expect("symbolization succeeds");
    let mut read_ahead = ReadAhead::default();
    for path in paths {
        read_ahead.add(path);
    }
    let ahead = symbolize_with(raws, &options(), read_ahead).expect("symbolization succeeds");
    assert_eq!(ahead.1, plain.1, "the same warnings");
    assert_eq!(ahead.0, plain.0, "the same profile");
    plain.1
}

#[test]
fn the_executable_and_the_c_library_read_ahead_under_other_names() {
    let exe = process::module(&process::exe_path());
    let mut libc = process::module(&process::libc_path());
    let libc_address = libc.ranges[0].0 + 0x40;
    // The loader names the C library by `/lib` where that links to `/usr/lib`.
    let libc_canonical = fs_err::canonicalize(&libc.path).unwrap();
    if let Some(loader_name) = libc.path.strip_prefix("/usr") {
        if fs_err::canonicalize(loader_name).ok() == Some(libc_canonical.clone()) {
            libc.path = loader_name.to_owned();
        }
    }
    let raw = process::profile(
        vec![exe, libc],
        vec![
            root(0, &[marker_address() + 1]),
            root(1, &[libc_address, marker_address() + 1]),
        ],
    );
    // `/proc/self/exe` is a link to the test binary; the C library as the kernel names it.
    let warnings = same_with_read_ahead(&[raw], &[Path::new("/proc/self/exe"), &libc_canonical]);
    assert_eq!(warnings, []);
}

#[test]
fn a_file_changed_since_it_was_read_ahead_is_read_again() {
    let exe = process::module(&process::exe_path());
    let dir = process::temp_dir("read-ahead-changed");
    let copy = dir.join("copy");
    fs_err::copy(&exe.path, &copy).unwrap();
    let module = Module {
        path: copy.to_string_lossy().into_owned(),
        ..exe
    };
    let raw = process::profile(vec![module], vec![root(0, &[marker_address() + 1])]);
    let mut read_ahead = ReadAhead::default();
    read_ahead.add(&copy);
    assert_eq!(read_ahead.len(), 1);
    // Replaced by a file that is no object file: the one read ahead must not be used.
    fs_err::write(&copy, "not an object file").unwrap();
    let plain = symbolize(std::slice::from_ref(&raw), &options()).unwrap();
    let ahead = symbolize_with(&[raw], &options(), read_ahead).unwrap();
    assert!(
        matches!(&plain.1[..], [Warning::ModuleUnreadable { reason, .. }] if reason.contains("expected an ELF object file")),
        "{:?}",
        plain.1
    );
    assert_eq!(ahead, plain);
    fs_err::remove_dir_all(&dir).unwrap();
}

#[test]
fn another_build_id_and_unreadable_debug_info_are_said_as_without_reading_ahead() {
    let exe = process::module(&process::exe_path());
    let mut rebuilt = exe.clone();
    rebuilt.build_id.iter_mut().for_each(|b| *b ^= 0xff);
    let raw = process::profile(vec![rebuilt], vec![root(0, &[marker_address() + 1])]);
    let warnings = same_with_read_ahead(&[raw], &[Path::new(&exe.path)]);
    assert!(
        matches!(&warnings[..], [Warning::BuildIdMismatch { .. }]),
        "{warnings:?}"
    );

    // A copy whose unit headers are garbage, read ahead through a link of another name: the
    // warning names the module's path, not the link's.
    let data = process::with_corrupt_debug_info(&exe.path);
    let dir = process::temp_dir("read-ahead-corrupt");
    let copy = dir.join("corrupt-copy");
    fs_err::write(&copy, &data).unwrap();
    let link = dir.join("link");
    std::os::unix::fs::symlink(&copy, &link).unwrap();
    let module = Module {
        path: copy.to_string_lossy().into_owned(),
        ..exe
    };
    let raw = process::profile(vec![module], vec![root(0, &[marker_address() + 1])]);
    let warnings = same_with_read_ahead(&[raw], &[&link]);
    assert!(
        matches!(&warnings[..], [Warning::BadDebugInfo { path, .. }] if path.ends_with("corrupt-copy")),
        "{warnings:?}"
    );
    fs_err::remove_dir_all(&dir).unwrap();
}
