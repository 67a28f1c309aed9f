//! Where the profiler's code and data live: the interposer library is loaded only from a private
//! directory of the current user, written atomically and verified byte for byte, and a planted
//! file, symlink or directory is replaced or refused, never followed. (The interposer's side, raw
//! profiles created exclusively in its output directory, is tested in the preload crate.)

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::support::{tool, TempDir};

/// `show-env` with the cache under `cache_home`: the tool's status, stderr, and the library path
/// it would preload.
fn show_env(cache_home: &Path) -> (Option<i32>, String, Option<PathBuf>) {
    let out = tool()
        .arg("show-env")
        .env("XDG_CACHE_HOME", cache_home)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let lib = stdout
        .lines()
        .find_map(|l| l.strip_prefix("export LD_PRELOAD='"))
        .map(|l| PathBuf::from(l.trim_end_matches('\'')));
    (out.status.code(), stderr, lib)
}

/// The library as a first `show-env` writes it.
fn installed(cache_home: &Path) -> (PathBuf, Vec<u8>) {
    let (code, stderr, lib) = show_env(cache_home);
    assert_eq!(code, Some(0), "{stderr}");
    let lib = lib.expect("an LD_PRELOAD line");
    assert!(
        lib.starts_with(cache_home.join("cargo-alloc-profile")),
        "{lib:?}"
    );
    let bytes = std::fs::read(&lib).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF");
    (lib, bytes)
}

fn assert_one_line_refusal(code: Option<i32>, stderr: &str, what: &str) {
    assert_ne!(code, Some(0), "{stderr}");
    assert!(stderr.contains(what), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn library_is_private_and_a_tampered_copy_is_replaced() {
    let home = TempDir::new("safety-tamper");
    let (lib, good) = installed(&home.0);
    let dir = lib.parent().unwrap();
    assert_eq!(std::fs::metadata(dir).unwrap().mode() & 0o077, 0, "{dir:?}");
    // Same length, other bytes: only a byte-for-byte comparison notices.
    let mut bad = good.clone();
    bad[100] ^= 0xff;
    std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&lib, &bad).unwrap();
    let (again, _) = installed(&home.0);
    assert_eq!(again, lib);
    assert_eq!(std::fs::read(&lib).unwrap(), good);
}

#[test]
fn a_symlink_at_the_library_name_is_replaced_not_followed() {
    let home = TempDir::new("safety-symlink");
    let (lib, good) = installed(&home.0);
    let decoy = home.0.join("decoy.so");
    std::fs::write(&decoy, b"decoy").unwrap();
    std::fs::remove_file(&lib).unwrap();
    std::os::unix::fs::symlink(&decoy, &lib).unwrap();
    let (again, _) = installed(&home.0);
    assert_eq!(again, lib);
    assert!(std::fs::symlink_metadata(&lib).unwrap().is_file());
    assert_eq!(std::fs::read(&lib).unwrap(), good);
    assert_eq!(std::fs::read(&decoy).unwrap(), b"decoy");
}

#[test]
fn a_cache_directory_others_can_write_is_made_private() {
    let home = TempDir::new("safety-mode");
    let dir = home.0.join("cargo-alloc-profile");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    installed(&home.0);
    assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
}

#[test]
fn a_cache_directory_that_is_a_symlink_is_refused() {
    let home = TempDir::new("safety-dirlink");
    let elsewhere = home.0.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, home.0.join("cargo-alloc-profile")).unwrap();
    let (code, stderr, _) = show_env(&home.0);
    assert_one_line_refusal(code, &stderr, "not a directory owned by the current user");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[test]
fn a_cache_directory_of_another_user_is_refused() {
    let home = TempDir::new("safety-owner");
    let dir = home.0.join("cargo-alloc-profile");
    std::fs::create_dir(&dir).unwrap();
    let me = std::fs::metadata("/proc/self").unwrap().uid();
    // Only root can give a directory away; CI runs as root. As another user, a directory of
    // root's stands in (made by root beforehand is not possible here), so check that at least.
    if me == 0 {
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
        let (code, stderr, _) = show_env(&home.0);
        assert_one_line_refusal(code, &stderr, "not a directory owned by the current user");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    } else {
        let (code, stderr, _) = show_env(Path::new("/"));
        assert_ne!(code, Some(0), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
