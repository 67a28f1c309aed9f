//! Shared by the robustness fixtures: the ground truth (a counting global allocator around the
//! system allocator, as in `tests/programs/patterns`) and the few C library functions they call
//! directly (no `libc` crate: the fixture has no dependencies).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub struct Counting;

pub static ALLOCS: AtomicU64 = AtomicU64::new(0);
pub static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to `System` unchanged; the counters are plain atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size as u64, Relaxed);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

/// Runs `f` and prints `TRUTH <name> <allocations> <bytes>` for the allocations made meanwhile
/// (by any thread of this process).
pub fn measure<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let (a0, b0) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    let out = std::hint::black_box(f());
    let (a1, b1) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    println!("TRUTH {name} {} {}", a1 - a0, b1 - b0);
    out
}

/// The C library, declared by hand.
pub mod sys {
    use std::ffi::{c_char, c_int, c_void};

    pub const SIGINT: c_int = 2;
    pub const SIGKILL: c_int = 9;
    pub const SIGTERM: c_int = 15;
    pub const WNOHANG: c_int = 1;
    pub const EINVAL: c_int = 22;
    pub const ENOMEM: c_int = 12;

    extern "C" {
        pub fn fork() -> c_int;
        pub fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
        pub fn _exit(code: c_int) -> !;
        pub fn getpid() -> c_int;
        pub fn kill(pid: c_int, sig: c_int) -> c_int;
        pub fn signal(sig: c_int, handler: extern "C" fn(c_int)) -> usize;
        pub fn malloc(size: usize) -> *mut c_void;
        pub fn calloc(n: usize, size: usize) -> *mut c_void;
        pub fn realloc(p: *mut c_void, size: usize) -> *mut c_void;
        pub fn reallocarray(p: *mut c_void, n: usize, size: usize) -> *mut c_void;
        pub fn free(p: *mut c_void);
        pub fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int;
        pub fn aligned_alloc(align: usize, size: usize) -> *mut c_void;
        pub fn malloc_usable_size(p: *mut c_void) -> usize;
        pub fn __errno_location() -> *mut c_int;
        pub fn execv(path: *const c_char, argv: *const *const c_char) -> c_int;
        pub fn posix_spawn(
            pid: *mut c_int,
            path: *const c_char,
            file_actions: *const c_void,
            attr: *const c_void,
            argv: *const *const c_char,
            envp: *const *const c_char,
        ) -> c_int;
        pub static environ: *const *const c_char;
        pub fn open(path: *const c_char, flags: c_int, ...) -> c_int;
        pub fn fexecve(fd: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int;
        pub fn execveat(
            dirfd: c_int,
            path: *const c_char,
            argv: *const *const c_char,
            envp: *const *const c_char,
            flags: c_int,
        ) -> c_int;
    }

    /// Waits for `pid` for at most `secs` seconds; kills it (SIGKILL) if it is still running then.
    /// Returns the wait status, or `None` when it had to be killed.
    pub fn wait_bounded(pid: c_int, secs: u64) -> Option<c_int> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        let mut status = 0;
        loop {
            // SAFETY: plain system call on our own child.
            let r = unsafe { waitpid(pid, &mut status, WNOHANG) };
            if r == pid {
                return Some(status);
            }
            if r < 0 {
                return Some(-1);
            }
            if std::time::Instant::now() > deadline {
                // SAFETY: as above.
                unsafe {
                    kill(pid, SIGKILL);
                    waitpid(pid, &mut status, 0);
                }
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}
