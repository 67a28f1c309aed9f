//! Decisions the constructor makes from the process's identity and environment, before anything is
//! recorded: never profile the Rust toolchain, and optionally keep children unprofiled.
//!
//! Why: children inherit `LD_PRELOAD`, and a profiled program may run cargo (Criterion runs
//! `cargo metadata`), rustc or a build script. The tool promises that those are never profiled, so
//! the library recognises them by their executable and stays a pure pass-through there.
//!
//! Both run in the constructor, where nothing may allocate: paths go through fixed buffers, and
//! `LD_PRELOAD` is edited in place (`setenv` would allocate a new string).

use core::ffi::{c_char, c_void, CStr};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use crate::sys;

/// Executable names of the toolchain (basename of `/proc/self/exe`). nextest is not here: it runs
/// the test binaries it should profile as its own children, and is never the target itself.
const TOOLCHAIN: &[&[u8]] = &[
    b"cargo",
    b"rustc",
    b"rustdoc",
    b"clippy-driver",
    b"cargo-clippy",
    b"rustfmt",
    b"cargo-fmt",
    b"rustup",
];

/// Prefixes of build-script executables (`build-script-build`, `build_script_build-<hash>`).
const BUILD_SCRIPT: &[&[u8]] = &[b"build-script-", b"build_script_"];

/// Part of the path of every executable installed by rustup (`~/.rustup/toolchains/…`, or under
/// `$RUSTUP_HOME/toolchains/`).
const RUSTUP_TOOLCHAINS: &[u8] = b"rustup/toolchains/";

const PATH_MAX: usize = 4096;

/// Whether this process is part of the Rust toolchain (see the module docs).
pub fn is_toolchain() -> bool {
    let mut buf = [0u8; PATH_MAX];
    // SAFETY: readlink writes at most PATH_MAX bytes into the buffer.
    let n = unsafe {
        sys::readlink(
            c"/proc/self/exe".as_ptr(),
            buf.as_mut_ptr().cast(),
            PATH_MAX,
        )
    };
    if n <= 0 {
        return false;
    }
    is_toolchain_path(&buf[..n as usize])
}

fn is_toolchain_path(exe: &[u8]) -> bool {
    let base = exe.rsplit(|&b| b == b'/').next().unwrap_or(exe);
    TOOLCHAIN.contains(&base)
        || BUILD_SCRIPT.iter().any(|p| base.starts_with(p))
        || exe
            .windows(RUSTUP_TOOLCHAINS.len())
            .any(|w| w == RUSTUP_TOOLCHAINS)
}

/// Removes this library from the process's own `LD_PRELOAD` value, keeping the other entries in
/// their order, so that children are not profiled. The string is rewritten in place (it only
/// shrinks). An entry is ours when it is the path the loader reports for us, or names the same file.
pub fn remove_self_from_ld_preload() {
    // SAFETY: getenv with a NUL-terminated name; the result is the live value or null.
    let value = unsafe { sys::getenv(c"LD_PRELOAD".as_ptr()) };
    if value.is_null() {
        return;
    }
    let Some(own) = own_path() else {
        return;
    };
    // SAFETY: getenv's value is a NUL-terminated string in the environment block, writable (it is
    // either on the initial stack or a string the program gave to putenv/setenv) and ours to shrink.
    let len = unsafe { CStr::from_ptr(value) }.to_bytes().len();
    // SAFETY: as above: `len` bytes plus the NUL.
    let bytes = unsafe { core::slice::from_raw_parts_mut(value.cast::<u8>(), len + 1) };
    let new_len = filter_entries(&mut bytes[..len], |entry| same_file(entry, own));
    bytes[new_len] = 0;
}

/// Keeps the entries of a `LD_PRELOAD` list (separated by spaces or colons) for which `is_own` is
/// false, joined by `:`, at the start of `list`; returns the new length.
pub(crate) fn filter_entries(list: &mut [u8], mut is_own: impl FnMut(&[u8]) -> bool) -> usize {
    let mut write = 0;
    let mut read = 0;
    while read < list.len() {
        if list[read] == b' ' || list[read] == b':' {
            read += 1;
            continue;
        }
        let start = read;
        while read < list.len() && list[read] != b' ' && list[read] != b':' {
            read += 1;
        }
        if is_own(&list[start..read]) {
            continue;
        }
        if write > 0 {
            list[write] = b':';
            write += 1;
        }
        // `write <= start`: copying forward never overwrites bytes not yet read.
        list.copy_within(start..read, write);
        write += read - start;
    }
    write
}

/// [`own_path`], found once by the constructor: `dladdr` takes the loader's lock, which a hook
/// must not (a fork child that execs may find it held by a thread that is gone).
static OWN_PATH: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
static OWN_PATH_LEN: AtomicUsize = AtomicUsize::new(0);

/// Looks up [`own_path`]; constructor only.
pub(crate) fn init_own_path() {
    let mut info = sys::DlInfo {
        dli_fname: core::ptr::null(),
        dli_fbase: core::ptr::null_mut(),
        dli_sname: core::ptr::null(),
        dli_saddr: core::ptr::null_mut(),
    };
    let probe = init_own_path as *const () as *const c_void;
    // SAFETY: dladdr with an address inside this library and a valid out-pointer.
    if unsafe { sys::dladdr(probe, &mut info) } == 0 || info.dli_fname.is_null() {
        return;
    }
    // SAFETY: the loader's NUL-terminated name of a loaded object.
    let len = unsafe { CStr::from_ptr(info.dli_fname) }.to_bytes().len();
    OWN_PATH_LEN.store(len, Ordering::Relaxed);
    OWN_PATH.store(info.dli_fname.cast_mut().cast(), Ordering::Release);
}

/// The path the loader knows this library by (see [`init_own_path`]).
pub(crate) fn own_path() -> Option<&'static [u8]> {
    let p = OWN_PATH.load(Ordering::Acquire);
    if p.is_null() {
        return None;
    }
    // SAFETY: the loader's name of a preloaded object, which is never unloaded, so it stays valid;
    // its length was measured when it was stored.
    Some(unsafe { core::slice::from_raw_parts(p, OWN_PATH_LEN.load(Ordering::Relaxed)) })
}

pub(crate) fn same_file(entry: &[u8], own: &[u8]) -> bool {
    if entry == own {
        return true;
    }
    match (file_id(entry), file_id(own)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// (device, inode) of a path, without allocating.
fn file_id(path: &[u8]) -> Option<(u64, u64)> {
    let mut buf = [0u8; PATH_MAX];
    if path.len() >= PATH_MAX {
        return None;
    }
    buf[..path.len()].copy_from_slice(path);
    let mut st = [0u64; 18];
    // SAFETY: NUL-terminated path; `st` is as large as x86_64's `struct stat` (144 bytes).
    let rc = unsafe { sys::stat(buf.as_ptr().cast::<c_char>(), st.as_mut_ptr().cast()) };
    // x86_64 `struct stat` starts with st_dev, then st_ino.
    (rc == 0).then_some((st[0], st[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolchain_executables_are_recognised() {
        for exe in [
            "/home/u/.cargo/bin/cargo",
            "/usr/bin/rustc",
            "/x/target/debug/build/foo-1234/build-script-build",
            "/x/target/debug/deps/build_script_build-0a1b",
            "/home/u/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/x/bin/rust-lld",
            "/usr/local/rustup/toolchains/1.85/bin/cargo-clippy",
        ] {
            assert!(is_toolchain_path(exe.as_bytes()), "{exe}");
        }
        for exe in [
            "/x/target/debug/cargo-alloc-profile",
            "/x/target/debug/deps/cargo_test-1234",
            "/usr/bin/cargo-nextest",
            "/x/target/release/my-build-script-runner",
        ] {
            assert!(!is_toolchain_path(exe.as_bytes()), "{exe}");
        }
    }

    #[test]
    fn own_entries_are_removed_in_place() {
        let cases: [(&str, &str); 6] = [
            ("/c/ours.so", ""),
            ("/a/x.so:/c/ours.so", "/a/x.so"),
            ("/c/ours.so /a/x.so", "/a/x.so"),
            ("libm.so.6 /c/ours.so:/a/x.so", "libm.so.6:/a/x.so"),
            ("::/a/x.so  :", "/a/x.so"),
            ("/c/ours.so:/c/ours.so", ""),
        ];
        for (before, after) in cases {
            let mut list = before.as_bytes().to_vec();
            let n = filter_entries(&mut list, |e| e == b"/c/ours.so");
            assert_eq!(std::str::from_utf8(&list[..n]).unwrap(), after, "{before}");
        }
    }
}
