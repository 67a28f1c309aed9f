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
//! # Layers
//! Files import one way only, top to bottom (ARCHITECTURE.md lists them; a test checks it):
//! - hooks: this file's table of exports, and `hooks/*`, what each export does;
//! - lifecycle: `lifecycle` (constructor, `fork`, exit), `config`, `signals` (fatal signals),
//!   `profile` (the writer);
//! - core, the recording: `record` (what a hook records), `guard`, `state`, `threads`, `pool`,
//!   `counters`, `peak`, `chains`, `live`, `intern`, `capture`;
//! - system helpers: `sys`, `sync`, `arena`, `dir`, `env`, `noheap` (the allocator that makes "no
//!   heap allocation" checked).
//!
//! # Contract
//! | Environment variable      | Meaning |
//! |---------------------------|---------|
//! | `CARGO_ALLOC_PROFILE_OUT` | Directory for profiles, read once at load. Unset or empty: a pure pass-through that records and writes nothing. A relative path is taken against the working directory at load. Inherited by child processes, which are profiled too. |
//! | `CARGO_ALLOC_PROFILE_FOLLOW_CHILDREN` | `0`: the library removes itself from the process's own `LD_PRELOAD` at load (other entries stay), so child processes are not profiled. Anything else: they are. |
//! | `CARGO_ALLOC_PROFILE_LIFETIMES` | `1`: measure block lifetimes (two time-stamp-counter reads per block). |
//! | `CARGO_ALLOC_PROFILE_TEST_PEAKS` | `1`: count each thread's own live bytes, for per-test peaks. |
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
//!   `peak`); its time is when live bytes first came within 1/64 of the peak. The live bytes
//!   per stack at the peak (PEAK_SITE) are exact with one thread; with several they are read from
//!   the other threads' counters while those run, at the first free after the highest peak a thread
//!   saw (see `peak`), so they may be off by what other threads did meanwhile.
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
mod chains;
mod config;
mod counters;
mod dir;
mod env;
mod guard;
mod hooks;
mod intern;
mod lifecycle;
mod live;
mod noheap;
mod peak;
mod pool;
mod profile;
mod record;
mod signals;
mod state;
mod sync;
mod sys;
mod threads;

use core::ffi::{c_char, c_int, c_void};

use hooks::process::{ExeclKind, StackArgs};
use hooks::real::MainFn;
use hooks::{malloc, process, wrapped};
use signals::SigAction;
use threads::StartFn;

/// Runs the constructor when the library is loaded (not in unit tests: they must not hook the test
/// runner).
#[cfg(not(test))]
#[used]
#[link_section = ".init_array"]
static INIT: unsafe extern "C" fn(c_int, *const *const c_char, *const *const c_char) =
    lifecycle::init;

/// Defines the exported functions from the table below: each entry is a C function's name and
/// signature, and the hook it calls with its arguments unchanged. An entry becomes a
/// `pub unsafe extern "C" fn` exported under its C name (`no_mangle`, except in unit tests, which
/// must not hook their own test runner).
macro_rules! exports {
    ($(
        $(#[$attr:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $hook:expr;
    )*) => {$(
        $(#[$attr])*
        ///
        /// # Safety
        /// The C function's contract (the arguments reach the hook unchanged).
        #[cfg_attr(not(test), no_mangle)]
        #[allow(unused_unsafe)] // Some hooks are safe functions.
        pub unsafe extern "C" fn $name($($arg: $ty),*) $(-> $ret)? {
            // SAFETY: the caller's C contract is the hook's, passed on unchanged.
            unsafe { $hook }
        }
    )*};
}

exports! {
    // The malloc family (`hooks::malloc`).
    /// Interposes `malloc`.
    fn malloc(size: usize) -> *mut c_void => malloc::malloc(size);
    /// Interposes `calloc`.
    fn calloc(n: usize, size: usize) -> *mut c_void => malloc::calloc(n, size);
    /// Interposes `realloc`.
    fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void => malloc::realloc(ptr, size);
    /// Interposes `reallocarray`.
    fn reallocarray(ptr: *mut c_void, n: usize, size: usize) -> *mut c_void =>
        malloc::reallocarray(ptr, n, size);
    /// Interposes `free`.
    fn free(ptr: *mut c_void) => malloc::free(ptr);
    /// Interposes the obsolete `cfree` (glibc keeps it for old binaries): `free`.
    fn cfree(ptr: *mut c_void) => malloc::free(ptr);
    /// Interposes `posix_memalign`.
    fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int =>
        malloc::posix_memalign(out, align, size);
    /// Interposes `aligned_alloc` (in glibc 2.36 the same function as `memalign`).
    fn aligned_alloc(align: usize, size: usize) -> *mut c_void => malloc::memalign(align, size);
    /// Interposes `memalign`.
    fn memalign(align: usize, size: usize) -> *mut c_void => malloc::memalign(align, size);
    /// Interposes `valloc`.
    fn valloc(size: usize) -> *mut c_void => malloc::valloc(size);
    /// Interposes `pvalloc`.
    fn pvalloc(size: usize) -> *mut c_void => malloc::pvalloc(size);

    // The second door: allocators that never call malloc (`hooks::wrapped`).
    /// Begins a wrapped allocator call: a token, 0 when it is not to be recorded.
    fn alloc_profile_wrap_begin() -> usize => wrapped::begin();
    /// Ends a wrapped allocation of `size` bytes at `p`.
    fn alloc_profile_wrap_alloc(token: usize, p: *mut c_void, size: usize) =>
        wrapped::alloc(token, p, size);
    /// Ends a wrapped call that is about to release `p`.
    fn alloc_profile_wrap_free(token: usize, p: *mut c_void) => wrapped::free(token, p);
    /// Before a wrapped realloc of `old`: takes its block into `out`.
    fn alloc_profile_wrap_take(token: usize, old: *mut c_void, out: *mut wrapped::Taken) =>
        wrapped::take(token, old, out);
    /// Ends a wrapped realloc of `old` (taken into `taken`) that returned `new` for `size` bytes.
    fn alloc_profile_wrap_realloc(
        token: usize,
        old: *mut c_void,
        taken: *const wrapped::Taken,
        new: *mut c_void,
        size: usize,
    ) => wrapped::realloc(token, old, taken, new, size);

    // Threads (`hooks::threads`).
    /// Interposes `pthread_create`: the new thread's stacks get the spawner's stack as parent.
    fn pthread_create(thread: *mut usize, attr: *const c_void, start: StartFn, arg: *mut c_void)
        -> c_int => hooks::threads::pthread_create(thread, attr, start, arg);
    /// Interposes `pthread_setname_np`, to name threads in the profile.
    fn pthread_setname_np(thread: usize, name: *const c_char) -> c_int =>
        hooks::threads::pthread_setname_np(thread, name);

    // The process (`hooks::process`).
    /// Interposes `__libc_start_main`, to run `main` on top of a frame of ours (see `capture`).
    fn __libc_start_main(
        main: MainFn,
        argc: c_int,
        argv: *mut *mut c_char,
        init: usize,
        fini: usize,
        rtld_fini: usize,
        stack_end: *mut c_void,
    ) -> c_int => process::libc_start_main(main, argc, argv, init, fini, rtld_fini, stack_end);
    /// Interposes `execve`: the profile is written first (END reason EXEC), and removed again if the
    /// exec fails.
    fn execve(path: *const c_char, argv: *const *const c_char, envp: *const *const c_char)
        -> c_int => process::execve(path, argv, envp);
    /// Interposes `execv` (glibc's calls its internal execve).
    fn execv(path: *const c_char, argv: *const *const c_char) -> c_int =>
        process::execv(path, argv, false);
    /// Interposes `execvp`.
    fn execvp(file: *const c_char, argv: *const *const c_char) -> c_int =>
        process::execv(file, argv, true);
    /// Interposes `execvpe`.
    fn execvpe(file: *const c_char, argv: *const *const c_char, envp: *const *const c_char)
        -> c_int => process::execvpe(file, argv, envp);
    /// Interposes `fexecve`.
    fn fexecve(fd: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int =>
        process::fexecve(fd, argv, envp);
    /// Interposes `execveat`.
    fn execveat(
        dirfd: c_int,
        path: *const c_char,
        argv: *const *const c_char,
        envp: *const *const c_char,
        flags: c_int,
    ) -> c_int => process::execveat(dirfd, path, argv, envp, flags);
    /// Interposes the variadic `execl(path, arg0, ..., NULL)` (see `StackArgs`): at most
    /// `5 + STACK_ARGS` arguments after `path` (else E2BIG).
    fn execl(
        path: *const c_char,
        a0: *const c_char,
        a1: *const c_char,
        a2: *const c_char,
        a3: *const c_char,
        a4: *const c_char,
        rest: StackArgs,
    ) -> c_int => process::execl(ExeclKind::Plain, path, [a0, a1, a2, a3, a4], &rest);
    /// Interposes the variadic `execlp(file, arg0, ..., NULL)`, as `execl`.
    fn execlp(
        file: *const c_char,
        a0: *const c_char,
        a1: *const c_char,
        a2: *const c_char,
        a3: *const c_char,
        a4: *const c_char,
        rest: StackArgs,
    ) -> c_int => process::execl(ExeclKind::Path, file, [a0, a1, a2, a3, a4], &rest);
    /// Interposes the variadic `execle(path, arg0, ..., NULL, envp)`, as `execl`.
    fn execle(
        path: *const c_char,
        a0: *const c_char,
        a1: *const c_char,
        a2: *const c_char,
        a3: *const c_char,
        a4: *const c_char,
        rest: StackArgs,
    ) -> c_int => process::execl(ExeclKind::Env, path, [a0, a1, a2, a3, a4], &rest);
    /// Interposes `posix_spawn`: a foreign program gets the cleaned environment (see `foreign`).
    fn posix_spawn(
        pid: *mut c_int,
        path: *const c_char,
        actions: *const c_void,
        attr: *const c_void,
        argv: *const *const c_char,
        envp: *const *const c_char,
    ) -> c_int => process::posix_spawn(pid, path, actions, attr, argv, envp, false);
    /// Interposes `posix_spawnp`.
    fn posix_spawnp(
        pid: *mut c_int,
        file: *const c_char,
        actions: *const c_void,
        attr: *const c_void,
        argv: *const *const c_char,
        envp: *const *const c_char,
    ) -> c_int => process::posix_spawn(pid, file, actions, attr, argv, envp, true);
    /// Interposes `exit`, to record the exit status.
    fn exit(status: c_int) -> ! => process::exit(status);
    /// Interposes `_exit`: writes the profile first.
    fn _exit(status: c_int) -> ! => process::underscore_exit(status);
    /// Interposes `_Exit`: writes the profile first.
    #[allow(non_snake_case)] // C's name.
    fn _Exit(status: c_int) -> ! => process::underscore_exit(status);

    // Signal dispositions (`signals`, `hooks::signals`).
    /// Interposes `sigaction`: managed signals get a virtual disposition (see `signals`).
    fn sigaction(sig: c_int, act: *const SigAction, old: *mut SigAction) -> c_int =>
        signals::sigaction(sig, act, old);
    /// Interposes `signal` (BSD semantics, as glibc's).
    fn signal(sig: c_int, handler: usize) -> usize => hooks::signals::signal(sig, handler, false);
    /// Interposes `bsd_signal` (glibc's other name for `signal`).
    fn bsd_signal(sig: c_int, handler: usize) -> usize =>
        hooks::signals::signal(sig, handler, false);
    /// Interposes `sysv_signal`.
    fn sysv_signal(sig: c_int, handler: usize) -> usize =>
        hooks::signals::signal(sig, handler, true);
    /// Interposes `sigset` (System V; glibc's bypasses our `sigaction`).
    fn sigset(sig: c_int, disp: usize) -> usize => hooks::signals::sigset(sig, disp);
    /// Interposes `sigignore`.
    fn sigignore(sig: c_int) -> c_int => hooks::signals::sigignore(sig);
    /// Interposes `siginterrupt`.
    fn siginterrupt(sig: c_int, interrupt: c_int) -> c_int =>
        hooks::signals::siginterrupt(sig, interrupt);
}
