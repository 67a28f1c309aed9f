//! The libc, ld.so and libgcc_s entry points the interposer uses, declared by hand: the crate has no
//! dependencies (the cli's build.rs compiles it with plain rustc), and the set is small.
//!
//! x86_64 Linux with glibc only. Helpers here never allocate and leave `errno` as they found it
//! where the caller is a hook that must not change it.

use core::ffi::{c_char, c_int, c_long, c_uint, c_void};
use core::ptr::NonNull;

pub const PROT_READ: c_int = 1;
pub const PROT_WRITE: c_int = 2;
pub const MAP_PRIVATE: c_int = 0x02;
pub const MAP_ANONYMOUS: c_int = 0x20;

pub const O_RDONLY: c_int = 0;
pub const X_OK: c_int = 1;
pub const O_WRONLY: c_int = 0o1;
pub const O_CREAT: c_int = 0o100;
pub const O_EXCL: c_int = 0o200;
pub const O_NOFOLLOW: c_int = 0o400_000;
pub const O_CLOEXEC: c_int = 0o2_000_000;

pub const EINTR: c_int = 4;
pub const EAGAIN: c_int = 11;
pub const ENOMEM: c_int = 12;
pub const E2BIG: c_int = 7;
pub const ENOSYS: c_int = 38;
pub const EINVAL: c_int = 22;
pub const EEXIST: c_int = 17;

pub const CLOCK_REALTIME: c_int = 0;
pub const CLOCK_MONOTONIC: c_int = 1;

pub const PT_LOAD: u32 = 1;
pub const PT_NOTE: u32 = 4;
pub const PF_X: u32 = 1;
pub const NT_GNU_BUILD_ID: u32 = 3;

pub const PR_GET_NAME: c_int = 16;
pub const SYS_EXIT_GROUP: c_long = 231;
pub const SYS_TGKILL: c_long = 234;

/// `RTLD_NEXT`: look the symbol up in the objects loaded after this one.
pub const RTLD_NEXT: *mut c_void = -1isize as *mut c_void;

#[repr(C)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

#[repr(C)]
pub struct Elf64Phdr {
    pub p_type: u32,
    pub p_flags: u32,
    pub p_offset: u64,
    pub p_vaddr: u64,
    pub p_paddr: u64,
    pub p_filesz: u64,
    pub p_memsz: u64,
    pub p_align: u64,
}

/// The leading fields of glibc's `struct dl_phdr_info` (later fields are not read).
#[repr(C)]
pub struct DlPhdrInfo {
    pub addr: u64,
    pub name: *const c_char,
    pub phdr: *const Elf64Phdr,
    pub phnum: u16,
}

/// glibc's `Dl_info`, filled by `dladdr`.
#[repr(C)]
pub struct DlInfo {
    pub dli_fname: *const c_char,
    pub dli_fbase: *mut c_void,
    pub dli_sname: *const c_char,
    pub dli_saddr: *mut c_void,
}

pub type DlIterateCallback = unsafe extern "C" fn(*mut DlPhdrInfo, usize, *mut c_void) -> c_int;
pub type UnwindTraceFn = unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int;

extern "C" {
    // glibc's allocator under names that cannot be interposed.
    pub fn __libc_malloc(size: usize) -> *mut c_void;
    pub fn __libc_calloc(n: usize, size: usize) -> *mut c_void;
    pub fn __libc_realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
    pub fn __libc_free(ptr: *mut c_void);
    pub fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
    pub fn __libc_valloc(size: usize) -> *mut c_void;
    pub fn __libc_pvalloc(size: usize) -> *mut c_void;

    pub fn __errno_location() -> *mut c_int;
    pub fn mmap(
        addr: *mut c_void,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: c_int,
        off: i64,
    ) -> *mut c_void;
    pub fn munmap(addr: *mut c_void, len: usize) -> c_int;
    pub fn open(path: *const c_char, flags: c_int, ...) -> c_int;
    pub fn read(fd: c_int, buf: *mut c_void, n: usize) -> isize;
    pub fn write(fd: c_int, buf: *const c_void, n: usize) -> isize;
    pub fn close(fd: c_int) -> c_int;
    pub fn unlink(path: *const c_char) -> c_int;
    pub fn access(path: *const c_char, mode: c_int) -> c_int;
    pub fn link(from: *const c_char, to: *const c_char) -> c_int;
    pub fn readlink(path: *const c_char, buf: *mut c_char, size: usize) -> isize;
    pub fn getcwd(buf: *mut c_char, size: usize) -> *mut c_char;
    pub fn getenv(name: *const c_char) -> *mut c_char;
    pub fn getpid() -> c_int;
    pub fn getppid() -> c_int;
    pub fn gettid() -> c_int;
    pub fn prctl(option: c_int, ...) -> c_int;
    pub fn syscall(number: c_long, ...) -> c_long;
    pub fn sched_yield() -> c_int;
    pub fn sigprocmask(how: c_int, set: *const c_void, old: *mut c_void) -> c_int;
    pub fn clock_gettime(clock: c_int, ts: *mut Timespec) -> c_int;
    pub fn atexit(f: extern "C" fn()) -> c_int;
    pub fn dl_iterate_phdr(cb: Option<DlIterateCallback>, data: *mut c_void) -> c_int;
    pub fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void;
    pub fn dladdr(addr: *const c_void, info: *mut DlInfo) -> c_int;
    /// glibc's `sigaction` under a name we do not interpose.
    pub fn __sigaction(sig: c_int, act: *const c_void, old: *mut c_void) -> c_int;
    pub static environ: *const *const c_char;
    pub fn stat(path: *const c_char, buf: *mut c_void) -> c_int;
    pub fn pthread_self() -> usize;
    pub fn pthread_atfork(
        prepare: Option<extern "C" fn()>,
        parent: Option<extern "C" fn()>,
        child: Option<extern "C" fn()>,
    ) -> c_int;
    pub fn pthread_key_create(
        key: *mut c_uint,
        dtor: Option<unsafe extern "C" fn(*mut c_void)>,
    ) -> c_int;
    pub fn pthread_setspecific(key: c_uint, value: *const c_void) -> c_int;

    /// Set by ld.so: the initial stack pointer of the main thread, near the top of its stack.
    pub static __libc_stack_end: *mut c_void;

    // libgcc_s, which std links anyway.
    pub fn _Unwind_Backtrace(trace: UnwindTraceFn, arg: *mut c_void) -> c_int;
    pub fn _Unwind_GetIP(ctx: *mut c_void) -> usize;
}

pub fn errno() -> c_int {
    // SAFETY: `__errno_location` returns this thread's errno slot, valid for the thread's lifetime.
    unsafe { *__errno_location() }
}

pub fn set_errno(value: c_int) {
    // SAFETY: as in `errno`.
    unsafe { *__errno_location() = value }
}

/// Restores `errno` when dropped: bookkeeping inside a hook must not change what the program sees.
pub struct SavedErrno(c_int);

impl SavedErrno {
    pub fn new() -> Self {
        Self(errno())
    }
}

impl Drop for SavedErrno {
    fn drop(&mut self) {
        set_errno(self.0);
    }
}

/// Fresh zeroed private memory, or `None` when the kernel refuses. Keeps `errno`.
pub fn map(len: usize) -> Option<NonNull<u8>> {
    let _errno = SavedErrno::new();
    // SAFETY: an anonymous private mapping at an address the kernel picks touches no existing memory.
    let p = unsafe {
        mmap(
            core::ptr::null_mut(),
            len,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p as isize == -1 {
        None
    } else {
        NonNull::new(p.cast())
    }
}

/// Returns memory from [`map`]. Keeps `errno`.
///
/// # Safety
/// `ptr..ptr+len` must be a mapping from [`map`] that nothing uses any more.
pub unsafe fn unmap(ptr: *mut u8, len: usize) {
    let _errno = SavedErrno::new();
    // SAFETY: the caller hands over a whole mapping of ours that is no longer used.
    unsafe { munmap(ptr.cast(), len) };
}

pub fn clock_ns(clock: c_int) -> u64 {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; the clocks used are always available.
    unsafe { clock_gettime(clock, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// The time-stamp counter: a cheap clock for the peak's time, converted to ns at exit.
#[inline(always)]
pub fn rdtsc() -> u64 {
    let lo: u32;
    let hi: u32;
    // SAFETY: `rdtsc` only reads the time-stamp counter into edx:eax.
    unsafe {
        core::arch::asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags));
    }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// The thread pointer (`%fs:0`), which glibc makes the address of the thread's `struct pthread`.
#[inline(always)]
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: on x86_64 Linux `%fs:0` always holds the thread pointer itself.
    unsafe {
        core::arch::asm!("mov {}, qword ptr fs:[0]", out(reg) tp, options(nostack, readonly, preserves_flags));
    }
    tp
}

/// Exits the process at once, as glibc's `_exit` does.
pub fn exit_group(status: c_int) -> ! {
    loop {
        // SAFETY: exit_group takes an int and does not return.
        unsafe { syscall(SYS_EXIT_GROUP, c_long::from(status)) };
    }
}

const SYS_MEMBARRIER: c_long = 324;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: c_long = 8;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: c_long = 16;

/// Registers the process for [`membarrier`]; whether the kernel (and any seccomp filter) allows it.
pub fn membarrier_register() -> bool {
    let _errno = SavedErrno::new();
    // SAFETY: membarrier takes two ints (command, flags) and touches no memory of ours.
    unsafe {
        syscall(
            SYS_MEMBARRIER,
            MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
            0 as c_long,
        ) == 0
    }
}

/// A full memory barrier on every running thread of the process (after [`membarrier_register`]).
pub fn membarrier() {
    let _errno = SavedErrno::new();
    // SAFETY: as above.
    unsafe {
        syscall(
            SYS_MEMBARRIER,
            MEMBARRIER_CMD_PRIVATE_EXPEDITED,
            0 as c_long,
        )
    };
}

const SYS_RENAMEAT2: c_long = 316;
const AT_FDCWD: c_long = -100;
const RENAME_NOREPLACE: c_long = 1;

/// Renames `from` to `to` (NUL-terminated) unless `to` exists (then fails with `EEXIST`): an
/// existing file, symlink or directory at `to` is neither replaced nor followed. Where the file
/// system lacks `renameat2`'s flag, a hard link then an unlink does the same.
pub fn rename_no_replace(from: &[u8], to: &[u8]) -> bool {
    // SAFETY: renameat2 with two NUL-terminated paths (the callers' buffers) and a flag.
    let r = unsafe {
        syscall(
            SYS_RENAMEAT2,
            AT_FDCWD,
            from.as_ptr(),
            AT_FDCWD,
            to.as_ptr(),
            RENAME_NOREPLACE,
        )
    };
    if r == 0 {
        return true;
    }
    if errno() != EINVAL && errno() != ENOSYS {
        return false;
    }
    // SAFETY: as above; link never follows or replaces `to`.
    if unsafe { link(from.as_ptr().cast(), to.as_ptr().cast()) } != 0 {
        return false;
    }
    // SAFETY: as above.
    unsafe { unlink(from.as_ptr().cast()) };
    true
}

/// A C string's bytes, without the NUL (empty for null).
///
/// # Safety
/// `s` must be null or a NUL-terminated string that outlives `'a`.
pub unsafe fn c_str<'a>(s: *const c_char) -> &'a [u8] {
    if s.is_null() {
        return &[];
    }
    // SAFETY: per the contract.
    unsafe { core::ffi::CStr::from_ptr(s) }.to_bytes()
}

/// `v` in decimal, written at the end of `buf`.
pub fn decimal(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[i..];
        }
    }
}

/// Writes `parts` to standard error, without allocating (best effort: errors are ignored).
pub fn write_stderr(parts: &[&[u8]]) {
    let _errno = SavedErrno::new();
    for part in parts {
        let mut rest = *part;
        while !rest.is_empty() {
            // SAFETY: writes from a live slice.
            let n = unsafe { write(2, rest.as_ptr().cast(), rest.len()) };
            if n < 0 && errno() == EINTR {
                continue;
            }
            if n <= 0 {
                break;
            }
            rest = &rest[n as usize..];
        }
    }
}

pub const SIGABRT: c_int = 6;
pub const SIG_UNBLOCK: c_int = 1;

/// Dies of SIGABRT at once, whatever handler the process (or this library, see `signals`) has
/// installed: the default action is restored through glibc's own `sigaction`, the signal
/// unblocked and sent to this thread.
pub fn abort() -> ! {
    // glibc's `struct sigaction` with every field zero: SIG_DFL, empty mask, no flags.
    let default = [0u64; 19];
    let set = [
        1u64 << (SIGABRT - 1),
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ];
    // SAFETY: glibc's sigaction and sigprocmask with buffers as large as their structs, then
    // tgkill on this thread.
    unsafe {
        __sigaction(SIGABRT, default.as_ptr().cast(), core::ptr::null_mut());
        sigprocmask(SIG_UNBLOCK, set.as_ptr().cast(), core::ptr::null_mut());
        syscall(
            SYS_TGKILL,
            c_long::from(getpid()),
            c_long::from(gettid()),
            c_long::from(SIGABRT),
        );
    }
    exit_group(128 + SIGABRT)
}
