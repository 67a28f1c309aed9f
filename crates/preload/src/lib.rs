//! The `LD_PRELOAD` malloc interposer of `cargo-alloc-profile`.
//!
//! Loaded into a profiled program, it counts every heap allocation exactly, per call stack, and
//! writes one raw profile per process at exit, for the tool to symbolize and report offline.
//!
//! # Responsibilities
//! - Hook glibc's allocation functions and reach the real allocator through `__libc_malloc` and
//!   friends: blocks stay glibc's own (no header inside them), so `malloc_usable_size` keeps working.
//! - Capture the caller's stack (frame pointers, DWARF where those cannot be trusted; rules in
//!   `capture`), intern it, and count per stack and per thread without a lock or a shared cache line
//!   on the counting path.
//! - Track live blocks in a side table (stack, size, allocation time, realloc count) so frees are
//!   credited to the allocating stack with the block's lifetime, temporaries (heaptrack's
//!   definition) and growth chains are counted, and measure the peak of live bytes with each
//!   stack's live bytes at that peak (DHAT's t-gmax). Per stack and thread, a histogram of requested
//!   sizes.
//! - Link each thread's stacks to the `pthread_create` call that started it.
//! - Write the profile with the `alloc-profile-format` encoder, atomically, once per process (fork
//!   children write their own).
//!
//! Symbolization, analysis and rendering are the tool's job, not this library's.
//!
//! # Contract
//! | Environment variable      | Meaning |
//! |---------------------------|---------|
//! | `CARGO_ALLOC_PROFILE_OUT` | Directory for profiles, read once at load. Unset or empty: a pure pass-through that records and writes nothing. A relative path is taken against the working directory at load. Inherited by child processes, which are profiled too. |
//! | `CARGO_ALLOC_PROFILE_FOLLOW_CHILDREN` | `0`: the library removes itself from the process's own `LD_PRELOAD` at load (other entries stay), so child processes are not profiled. Anything else: they are. |
//! | `CARGO_ALLOC_PROFILE_LIFETIMES` | `1`: measure block lifetimes (two time-stamp-counter reads per block). |
//!
//! The Rust toolchain is never profiled: in a process whose executable is `cargo`, `rustc`,
//! `rustdoc`, `clippy-driver`, `cargo-clippy`, `rustfmt`, `cargo-fmt` or `rustup`, a build script
//! (`build-script-*`, `build_script_*`), or anything under a rustup `toolchains/` directory, the
//! library is a pure pass-through.
//!
//! Each process writes `<dir>/<exe-basename>-<pid>.aprof` (created as
//! `<dir>/.<exe-basename>-<pid>.aprof.tmp`, mode 0600, exclusively and without following links,
//! then renamed without replacing anything; `.1` … `.7` are added to a name that is taken; before
//! an exec the name also carries the image's start time in ns) when it calls `exit` or returns
//! from `main` (END reason `EXIT`, detail = the status given to `exit` through the PLT, else 0),
//! calls `_exit`/`_Exit` (reason `UNDERSCORE_EXIT`, detail = the status), dies of SIGHUP, SIGINT,
//! SIGQUIT, SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGSEGV or SIGTERM with the default disposition (reason
//! `SIGNAL`, detail = the signal; the process then dies of it as before, see `signals`), or calls
//! an `exec` function (reason `EXEC`; removed again if the exec fails, and not written by a process
//! that recorded nothing, such as a fork child that only execs). A fork child writes its own file,
//! counting only what it did after the fork.
//!
//! Hooked: `malloc`, `calloc`, `realloc`, `reallocarray`, `free`, `cfree`, `posix_memalign`,
//! `aligned_alloc`, `memalign`, `valloc`, `pvalloc`, `pthread_create`, `pthread_setname_np`,
//! `__libc_start_main` (to run `main` on top of a frame of ours, see `capture`), `sigaction`,
//! `signal`, `bsd_signal`, `sysv_signal`, `sigset`, `sigignore`, `siginterrupt`, `execve`, `execv`,
//! `execvp`, `execvpe`, `execveat`, `execl`, `execlp`, `execle`, `fexecve`, `posix_spawn`,
//! `posix_spawnp`, `exit`, `_exit`, `_Exit`. The exec and spawn hooks start a program of another C
//! library's loader (musl) without this library in its `LD_PRELOAD` (see `foreign`).
//!
//! # Limits
//! - x86_64 Linux with glibc (built against 2.36), loaded with `LD_PRELOAD` (the fast thread-local
//!   access relies on being in the static TLS block).
//! - Frame-pointer stacks are only as good as the program's frame pointers: build with
//!   `-C force-frame-pointers=yes`. C code without them gives wrong outer frames.
//! - Nothing is written for a process killed by SIGKILL (or another signal not listed above), or one
//!   that calls `quick_exit`.
//! - Allocations other threads make while the profile is being written before an exec that then
//!   fails are not recorded. `execl*` take at most 63 arguments after the path (E2BIG beyond).
//! - With several threads the peak of live bytes is approximate (about 16 KiB per thread, see
//!   `counters`); its time is when live bytes first came within 1/64 of the peak. The live bytes
//!   per stack at the peak (PEAK_SITE) are exact with one thread; with several they are read from
//!   the other threads' counters while those run, at the first free after the highest peak a thread
//!   saw (see `runtime::snapshot_peak`), so they may be off by what other threads did meanwhile.
//! - Lifetimes (only with `CARGO_ALLOC_PROFILE_LIFETIMES=1`) come from the time-stamp counter (read
//!   at each allocation and each free, about 20 ns each on a VM), converted to ns with the start and
//!   end clock readings.
//! - Blocks freed while recording is impossible (inside a signal handler that interrupted a hook, or
//!   after the profile started being written) stay in the live table.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]
// Unit tests neither export the hooks nor run the constructor (they must not hook the test runner),
// so the runtime half of the crate is unreachable there.
#![cfg_attr(test, allow(dead_code))]

mod arena;
mod capture;
mod counters;
mod dir;
mod env;
mod foreign;
mod hooks;
mod intern;
mod live;
mod profile;
mod runtime;
mod signals;
mod sync;
mod sys;
mod threads;
mod wrapped;

use core::ffi::{c_char, c_int, c_void};

/// The interposer's version, written into every profile header (`env!("CARGO_PKG_VERSION")` is not
/// available under the plain-rustc build, so it is kept here and checked against Cargo.toml by a test).
pub const TOOL_VERSION: &str = "0.1.0";

/// Runs the constructor when the library is loaded (not in unit tests: they must not hook the test
/// runner).
#[cfg(not(test))]
#[used]
#[link_section = ".init_array"]
static INIT: unsafe extern "C" fn(c_int, *const *const c_char, *const *const c_char) =
    runtime::init;

/// Interposes `malloc`.
///
/// # Safety
/// C `malloc` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    // SAFETY: forwards the caller's C contract unchanged.
    unsafe { hooks::malloc(size) }
}

/// Interposes `calloc`.
///
/// # Safety
/// C `calloc` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    // SAFETY: forwards the caller's C contract unchanged.
    unsafe { hooks::calloc(n, size) }
}

/// Interposes `realloc`.
///
/// # Safety
/// C `realloc` contract: `ptr` is null or a live block of this allocator.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: forwards the caller's C contract unchanged.
    unsafe { hooks::realloc(ptr, size) }
}

/// Interposes `reallocarray`.
///
/// # Safety
/// C `reallocarray` contract: `ptr` is null or a live block of this allocator.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn reallocarray(ptr: *mut c_void, n: usize, size: usize) -> *mut c_void {
    // SAFETY: forwards the caller's C contract unchanged.
    unsafe { hooks::reallocarray(ptr, n, size) }
}

/// Interposes `free`.
///
/// # Safety
/// C `free` contract: `ptr` is null or a live block of this allocator.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn free(ptr: *mut c_void) {
    // SAFETY: forwards the caller's C contract unchanged.
    unsafe { hooks::free(ptr) }
}

/// Interposes the obsolete `cfree` (glibc keeps it for old binaries): `free`.
///
/// # Safety
/// C `free` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn cfree(ptr: *mut c_void) {
    // SAFETY: forwards the caller's C contract unchanged.
    unsafe { hooks::free(ptr) }
}

/// Interposes `posix_memalign`.
///
/// # Safety
/// C `posix_memalign` contract: `out` is valid for a write.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int {
    // SAFETY: forwards the caller's C contract unchanged.
    unsafe { hooks::posix_memalign(out, align, size) }
}

/// Interposes `aligned_alloc` (in glibc 2.36 the same function as `memalign`).
///
/// # Safety
/// C `aligned_alloc` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    // SAFETY: forwards the caller's C contract unchanged.
    unsafe { hooks::memalign(align, size) }
}

/// Interposes `memalign`.
///
/// # Safety
/// C `memalign` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    // SAFETY: forwards the caller's C contract unchanged.
    unsafe { hooks::memalign(align, size) }
}

/// Interposes `valloc`.
///
/// # Safety
/// C `valloc` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn valloc(size: usize) -> *mut c_void {
    // SAFETY: forwards the caller's C contract unchanged.
    unsafe { hooks::valloc(size) }
}

/// Interposes `pvalloc`.
///
/// # Safety
/// C `pvalloc` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn pvalloc(size: usize) -> *mut c_void {
    // SAFETY: forwards the caller's C contract unchanged.
    unsafe { hooks::pvalloc(size) }
}

/// Interposes `pthread_create`: the new thread's stacks get the spawner's stack as parent.
///
/// # Safety
/// `pthread_create` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn pthread_create(
    thread: *mut usize,
    attr: *const c_void,
    start: threads::StartFn,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::pthread_create(thread, attr, start, arg) }
}

/// Interposes `pthread_setname_np`, to name threads in the profile.
///
/// # Safety
/// `pthread_setname_np` contract: `name` is a NUL-terminated string.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn pthread_setname_np(thread: usize, name: *const c_char) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::pthread_setname_np(thread, name) }
}

/// Interposes `__libc_start_main`, to run `main` on top of a frame of ours (see `capture`).
///
/// # Safety
/// `__libc_start_main` contract (called by the program's `_start`).
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn __libc_start_main(
    main: hooks::MainFn,
    argc: c_int,
    argv: *mut *mut c_char,
    init: usize,
    fini: usize,
    rtld_fini: usize,
    stack_end: *mut c_void,
) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::libc_start_main(main, argc, argv, init, fini, rtld_fini, stack_end) }
}

/// Interposes `sigaction`: managed signals get a virtual disposition (see `signals`).
///
/// # Safety
/// `sigaction` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn sigaction(
    sig: c_int,
    act: *const signals::SigAction,
    old: *mut signals::SigAction,
) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { signals::sigaction(sig, act, old) }
}

/// Interposes `signal` (BSD semantics, as glibc's).
///
/// # Safety
/// `signal` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn signal(sig: c_int, handler: usize) -> usize {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::signal(sig, handler, false) }
}

/// Interposes `bsd_signal` (glibc's other name for `signal`).
///
/// # Safety
/// `signal` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn bsd_signal(sig: c_int, handler: usize) -> usize {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::signal(sig, handler, false) }
}

/// Interposes `sysv_signal`.
///
/// # Safety
/// `sysv_signal` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn sysv_signal(sig: c_int, handler: usize) -> usize {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::signal(sig, handler, true) }
}

/// Interposes `sigset` (System V; glibc's bypasses our `sigaction`).
///
/// # Safety
/// `sigset` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn sigset(sig: c_int, disp: usize) -> usize {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::sigset(sig, disp) }
}

/// Interposes `sigignore`.
///
/// # Safety
/// `sigignore` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn sigignore(sig: c_int) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::sigignore(sig) }
}

/// Interposes `siginterrupt`.
///
/// # Safety
/// `siginterrupt` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn siginterrupt(sig: c_int, interrupt: c_int) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::siginterrupt(sig, interrupt) }
}

/// Interposes `execve`: the profile is written first (END reason EXEC), and removed again if the
/// exec fails.
///
/// # Safety
/// `execve` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn execve(
    path: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::execve(path, argv, envp) }
}

/// Interposes `execv` (glibc's calls its internal execve).
///
/// # Safety
/// `execv` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn execv(path: *const c_char, argv: *const *const c_char) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::execv(path, argv, false) }
}

/// Interposes `execvp`.
///
/// # Safety
/// `execvp` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn execvp(file: *const c_char, argv: *const *const c_char) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::execv(file, argv, true) }
}

/// Interposes `execvpe`.
///
/// # Safety
/// `execvpe` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn execvpe(
    file: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::execvpe(file, argv, envp) }
}

/// Interposes `fexecve`.
///
/// # Safety
/// `fexecve` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn fexecve(
    fd: c_int,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::fexecve(fd, argv, envp) }
}

/// Interposes `posix_spawn` (see `hooks::posix_spawn`).
///
/// # Safety
/// `posix_spawn` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn posix_spawn(
    pid: *mut c_int,
    path: *const c_char,
    actions: *const c_void,
    attr: *const c_void,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::posix_spawn(pid, path, actions, attr, argv, envp, false) }
}

/// Interposes `posix_spawnp`.
///
/// # Safety
/// `posix_spawnp` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn posix_spawnp(
    pid: *mut c_int,
    file: *const c_char,
    actions: *const c_void,
    attr: *const c_void,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::posix_spawn(pid, file, actions, attr, argv, envp, true) }
}

/// Interposes `execveat`.
///
/// # Safety
/// `execveat` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn execveat(
    dirfd: c_int,
    path: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
    flags: c_int,
) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::execveat(dirfd, path, argv, envp, flags) }
}

/// Interposes the variadic `execl(path, arg0, ..., NULL)` (see `hooks::StackArgs`).
///
/// # Safety
/// `execl` contract, with at most `5 + STACK_ARGS` arguments after `path` (else E2BIG).
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn execl(
    path: *const c_char,
    a0: *const c_char,
    a1: *const c_char,
    a2: *const c_char,
    a3: *const c_char,
    a4: *const c_char,
    rest: hooks::StackArgs,
) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::execl(hooks::ExeclKind::Plain, path, [a0, a1, a2, a3, a4], &rest) }
}

/// Interposes the variadic `execlp(file, arg0, ..., NULL)`.
///
/// # Safety
/// As [`execl`].
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn execlp(
    file: *const c_char,
    a0: *const c_char,
    a1: *const c_char,
    a2: *const c_char,
    a3: *const c_char,
    a4: *const c_char,
    rest: hooks::StackArgs,
) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::execl(hooks::ExeclKind::Path, file, [a0, a1, a2, a3, a4], &rest) }
}

/// Interposes the variadic `execle(path, arg0, ..., NULL, envp)`.
///
/// # Safety
/// As [`execl`].
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn execle(
    path: *const c_char,
    a0: *const c_char,
    a1: *const c_char,
    a2: *const c_char,
    a3: *const c_char,
    a4: *const c_char,
    rest: hooks::StackArgs,
) -> c_int {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::execl(hooks::ExeclKind::Env, path, [a0, a1, a2, a3, a4], &rest) }
}

/// Interposes `exit`, to record the exit status.
///
/// # Safety
/// `exit` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn exit(status: c_int) -> ! {
    // SAFETY: forwards the caller's contract unchanged.
    unsafe { hooks::exit(status) }
}

/// Interposes `_exit`: writes the profile first.
///
/// # Safety
/// `_exit` contract.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn _exit(status: c_int) -> ! {
    hooks::underscore_exit(status)
}

/// Interposes `_Exit`: writes the profile first.
///
/// # Safety
/// `_Exit` contract.
#[cfg_attr(not(test), no_mangle)]
#[allow(non_snake_case)] // C's name.
pub unsafe extern "C" fn _Exit(status: c_int) -> ! {
    hooks::underscore_exit(status)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tool_version_matches_the_package() {
        assert_eq!(super::TOOL_VERSION, env!("CARGO_PKG_VERSION"));
    }
}
