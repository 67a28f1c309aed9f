//! Programs of another C library (musl) started by a profiled program. Their dynamic loader would try
//! to load this library, which needs glibc, and refuse to start the program at all. So the exec and
//! spawn hooks look at the program first (the ELF program headers: its loader), and give one whose
//! loader is not glibc's an environment without this library in `LD_PRELOAD`: it runs unprofiled,
//! exactly as it would have without the tool.
//!
//! No allocation: the header is read into a stack buffer and the new environment is built in a
//! mapping of its own.

use core::ffi::{c_char, c_int, CStr};
use core::ptr::{self, NonNull};

use alloc_profile_format::elf::{loader, Loader, HEAD_BYTES as HEAD};

use crate::{env, sys};

const PATH_MAX: usize = 4096;

/// Whether `path` is an ELF executable whose loader is not glibc's (`ld-linux*`). Scripts, static
/// executables and unreadable files are not.
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
pub unsafe fn is_foreign(path: *const c_char) -> bool {
    if path.is_null() {
        return false;
    }
    let _errno = sys::SavedErrno::new();
    // SAFETY: NUL-terminated path.
    let fd = unsafe { sys::open(path, sys::O_RDONLY | sys::O_CLOEXEC) };
    if fd < 0 {
        return false;
    }
    let mut head = [0u8; HEAD];
    // SAFETY: reads at most HEAD bytes into our buffer.
    let n = unsafe { sys::read(fd, head.as_mut_ptr().cast(), HEAD) };
    // SAFETY: our descriptor.
    unsafe { sys::close(fd) };
    if n <= 0 {
        return false;
    }
    matches!(loader(&head[..n as usize]), Loader::Other(_))
}

/// The file `execvp`/`posix_spawnp` would run for `file`: itself when it has a slash, else the
/// first `PATH` entry (default `/bin:/usr/bin`, as glibc's) where it is executable. Null when none.
///
/// # Safety
/// `file` must be null or a NUL-terminated string.
pub unsafe fn resolve(file: *const c_char, buf: &mut [u8; PATH_MAX]) -> *const c_char {
    if file.is_null() {
        return ptr::null();
    }
    // SAFETY: NUL-terminated.
    let name = unsafe { CStr::from_ptr(file) }.to_bytes();
    if name.is_empty() || name.contains(&b'/') {
        return file;
    }
    // SAFETY: getenv with a NUL-terminated name.
    let path = unsafe { sys::getenv(c"PATH".as_ptr()) };
    let path: &[u8] = if path.is_null() {
        b"/bin:/usr/bin"
    } else {
        // SAFETY: getenv returns a NUL-terminated string.
        unsafe { CStr::from_ptr(path) }.to_bytes()
    };
    let _errno = sys::SavedErrno::new();
    for dir in path.split(|&b| b == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        let len = dir.len() + 1 + name.len();
        if len >= PATH_MAX {
            continue;
        }
        buf[..dir.len()].copy_from_slice(dir);
        buf[dir.len()] = b'/';
        buf[dir.len() + 1..len].copy_from_slice(name);
        buf[len] = 0;
        // SAFETY: NUL-terminated candidate.
        if unsafe { sys::access(buf.as_ptr().cast(), sys::X_OK) } == 0 {
            return buf.as_ptr().cast();
        }
    }
    ptr::null()
}

/// The path `execveat(dirfd, path, .., flags)` (and `fexecve(fd)`: `path` empty with `AT_EMPTY_PATH`)
/// runs, for [`is_foreign`]: `path` itself when absolute or relative to the working directory, else
/// through `/proc/self/fd/<dirfd>`. Null when it does not fit.
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
pub unsafe fn at_path(
    dirfd: c_int,
    path: *const c_char,
    buf: &mut [u8; PATH_MAX],
) -> *const c_char {
    const AT_FDCWD: c_int = -100;
    let rest: &[u8] = if path.is_null() {
        b""
    } else {
        // SAFETY: NUL-terminated.
        unsafe { CStr::from_ptr(path) }.to_bytes()
    };
    if rest.first() == Some(&b'/') || (dirfd == AT_FDCWD && !rest.is_empty()) {
        return path;
    }
    let mut len = 0;
    let mut push = |part: &[u8]| {
        if len + part.len() < PATH_MAX {
            buf[len..len + part.len()].copy_from_slice(part);
            len += part.len();
            true
        } else {
            false
        }
    };
    let mut digits = [0u8; 20];
    let digits = sys::decimal(u64::from(dirfd.unsigned_abs()), &mut digits);
    let ok =
        push(b"/proc/self/fd/") && push(digits) && (rest.is_empty() || (push(b"/") && push(rest)));
    if !ok {
        return ptr::null();
    }
    buf[len] = 0;
    buf.as_ptr().cast()
}

/// A copy of an environment with this library taken out of `LD_PRELOAD` (the entry is dropped when
/// nothing else is left in it), in a mapping of its own, unmapped on drop.
pub struct CleanEnv {
    map: NonNull<u8>,
    len: usize,
}

impl CleanEnv {
    /// # Safety
    /// `envp` must be null or a NULL-terminated array of NUL-terminated strings.
    pub unsafe fn new(envp: *const *const c_char) -> Option<Self> {
        let own = env::own_path()?;
        let mut count = 0;
        let mut preload_len = 0;
        if !envp.is_null() {
            // SAFETY: NULL-terminated array.
            while !unsafe { *envp.add(count) }.is_null() {
                // SAFETY: as above.
                let entry = unsafe { CStr::from_ptr(*envp.add(count)) }.to_bytes();
                if entry.starts_with(b"LD_PRELOAD=") {
                    preload_len = preload_len.max(entry.len() + 1);
                }
                count += 1;
            }
        }
        let table = (count + 1) * core::mem::size_of::<*const c_char>();
        let len = table + preload_len;
        let map = sys::map(len)?;
        let out: *mut *const c_char = map.as_ptr().cast();
        // SAFETY: the mapping holds `table` bytes of pointers, then `preload_len` bytes of text.
        let text = unsafe { core::slice::from_raw_parts_mut(map.as_ptr().add(table), preload_len) };
        let mut kept = 0;
        let mut text_used = false;
        for i in 0..count {
            // SAFETY: i < count entries of the caller's array.
            let mut entry = unsafe { *envp.add(i) };
            // SAFETY: NUL-terminated.
            let bytes = unsafe { CStr::from_ptr(entry) }.to_bytes();
            if let Some(value) = bytes.strip_prefix(b"LD_PRELOAD=") {
                if text_used {
                    // A second LD_PRELOAD entry: the loader reads the first; drop the others.
                    continue;
                }
                text_used = true;
                let head = b"LD_PRELOAD=".len();
                text[..bytes.len()].copy_from_slice(bytes);
                let new_len = env::filter_entries(&mut text[head..head + value.len()], |e| {
                    env::same_file(e, own)
                });
                if new_len == 0 {
                    continue;
                }
                text[head + new_len] = 0;
                entry = text.as_ptr().cast();
            }
            // SAFETY: kept <= i < count, inside the table.
            unsafe { out.add(kept).write(entry) };
            kept += 1;
        }
        // SAFETY: as above; the mapping is zeroed, but write the terminator anyway.
        unsafe { out.add(kept).write(ptr::null()) };
        Some(Self { map, len })
    }

    pub fn envp(&self) -> *const *const c_char {
        self.map.as_ptr().cast()
    }
}

impl Drop for CleanEnv {
    fn drop(&mut self) {
        // SAFETY: our own mapping; the environment it holds is not used after this.
        unsafe { sys::unmap(self.map.as_ptr(), self.len) };
    }
}

/// For an exec or spawn of `path` with `envp`: a clean environment when `path` is foreign.
///
/// # Safety
/// As [`is_foreign`] and [`CleanEnv::new`].
pub unsafe fn clean_env_for(path: *const c_char, envp: *const *const c_char) -> Option<CleanEnv> {
    // SAFETY: per the contract.
    if unsafe { is_foreign(path) } {
        // SAFETY: per the contract.
        unsafe { CleanEnv::new(envp) }
    } else {
        None
    }
}
