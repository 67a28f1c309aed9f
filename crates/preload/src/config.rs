//! What the profile is of: the output directory read once at load, and the process and start time
//! it covers (a fork child starts its own). Written by `lifecycle`, read by the writer.

use core::ffi::CStr;
use core::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use crate::sync::SyncCell;
use crate::sys;

/// Longest output directory, NUL included.
pub const MAX_DIR: usize = 4096;

/// The output directory from `CARGO_ALLOC_PROFILE_OUT`, absolute. Written by the constructor only.
struct OutDir {
    bytes: [u8; MAX_DIR],
    len: usize,
}

static OUT_DIR: SyncCell<OutDir> = SyncCell::new(OutDir {
    bytes: [0; MAX_DIR],
    len: 0,
});

/// The pid whose profile this is (changes in a fork child).
pub static PID: AtomicI32 = AtomicI32::new(0);
/// When the profile starts (constructor, or `fork` in a child).
pub static START_MONO_NS: AtomicU64 = AtomicU64::new(0);
pub static START_REAL_NS: AtomicU64 = AtomicU64::new(0);
pub static START_TSC: AtomicU64 = AtomicU64::new(0);

pub fn out_dir() -> &'static [u8] {
    // SAFETY: written only by the constructor, before the library turns active.
    let d = unsafe { &*OUT_DIR.get() };
    &d.bytes[..d.len]
}

/// Whether the environment variable `name` is set to exactly `value`.
pub fn env_is(name: &CStr, value: &[u8]) -> bool {
    // SAFETY: getenv with a NUL-terminated name; the result is a NUL-terminated string or null.
    let v = unsafe { sys::getenv(name.as_ptr()) };
    // SAFETY: as above.
    !v.is_null() && unsafe { sys::c_str(v) } == value
}

/// The profile starts now, in this process.
pub fn start_clock() {
    // SAFETY: no preconditions.
    PID.store(unsafe { sys::getpid() }, Ordering::Relaxed);
    START_TSC.store(sys::rdtsc(), Ordering::Relaxed);
    START_MONO_NS.store(sys::clock_ns(sys::CLOCK_MONOTONIC), Ordering::Relaxed);
    START_REAL_NS.store(sys::clock_ns(sys::CLOCK_REALTIME), Ordering::Relaxed);
}

/// Copies `CARGO_ALLOC_PROFILE_OUT` (made absolute against the current directory) into `OUT_DIR`.
/// `false` when unset, empty or too long: the library stays a pass-through. Constructor only.
pub fn read_out_dir() -> bool {
    // SAFETY: getenv with a NUL-terminated name; the result is a NUL-terminated string or null.
    let value = unsafe { sys::getenv(c"CARGO_ALLOC_PROFILE_OUT".as_ptr()) };
    // SAFETY: as above.
    let value = unsafe { sys::c_str(value) };
    if value.is_empty() {
        return false;
    }
    // SAFETY: constructor, before publication: nothing else reads OUT_DIR.
    let dir = unsafe { &mut *OUT_DIR.get() };
    let mut len = 0;
    if value[0] != b'/' {
        // SAFETY: getcwd writes at most MAX_DIR bytes, NUL-terminated, into our buffer.
        let cwd = unsafe { sys::getcwd(dir.bytes.as_mut_ptr().cast(), MAX_DIR) };
        if cwd.is_null() {
            return false;
        }
        len = dir.bytes.iter().position(|&b| b == 0).unwrap_or(MAX_DIR);
        if len + 1 >= MAX_DIR {
            return false;
        }
        dir.bytes[len] = b'/';
        len += 1;
    }
    // Room for "/.<name>-<pid>.aprof.tmp" and a NUL is checked when the path is built.
    if len + value.len() >= MAX_DIR {
        return false;
    }
    dir.bytes[len..len + value.len()].copy_from_slice(value);
    dir.len = len + value.len();
    true
}
