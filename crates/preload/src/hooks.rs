//! What each exported hook does.
//!
//! glibc's behaviour is kept exactly: the real function runs with the program's arguments and its
//! result and `errno` reach the program unchanged. Bookkeeping happens after a successful allocation,
//! and before the real release of a block (so no other thread can be handed the same address while
//! the live table still holds it).

use core::ffi::{c_char, c_int, c_void, CStr};
use core::sync::atomic::{AtomicUsize, Ordering};

use alloc_profile_format::end_reason;

use crate::foreign;
use crate::runtime::{
    self, enter, record_alloc, record_alloc_at, record_free, Forced, LIVE_BLOCKS,
};
use crate::sys::{
    self, __libc_calloc, __libc_free, __libc_malloc, __libc_memalign, __libc_pvalloc,
    __libc_realloc, __libc_valloc,
};
use crate::threads::{self, StartFn};

#[inline(always)]
pub unsafe fn malloc(size: usize) -> *mut c_void {
    let Some(e) = enter() else {
        // SAFETY: glibc's malloc with the program's argument.
        return unsafe { __libc_malloc(size) };
    };
    // SAFETY: as above.
    let p = unsafe { __libc_malloc(size) };
    if !p.is_null() {
        record_alloc(e.tls, p as usize, size, false);
    }
    p
}

#[inline(always)]
pub unsafe fn calloc(n: usize, size: usize) -> *mut c_void {
    let Some(e) = enter() else {
        // SAFETY: glibc's calloc with the program's arguments (it checks n * size for overflow).
        return unsafe { __libc_calloc(n, size) };
    };
    // SAFETY: as above.
    let p = unsafe { __libc_calloc(n, size) };
    if !p.is_null() {
        // Success means n * size did not overflow.
        record_alloc(e.tls, p as usize, n.wrapping_mul(size), false);
    }
    p
}

/// `realloc(NULL, n)` is an allocation (not a reallocation); `realloc(p, 0)` frees `p` and returns
/// NULL (glibc 2.36); a failed `realloc` leaves the old block live and tracked.
#[inline(always)]
pub unsafe fn realloc(old: *mut c_void, size: usize) -> *mut c_void {
    let Some(e) = enter() else {
        // SAFETY: glibc's realloc with the program's arguments.
        return unsafe { __libc_realloc(old, size) };
    };
    if old.is_null() {
        // SAFETY: as above.
        let p = unsafe { __libc_realloc(old, size) };
        if !p.is_null() {
            record_alloc(e.tls, p as usize, size, false);
        }
        return p;
    }
    let previous = LIVE_BLOCKS.remove(old as usize);
    // SAFETY: as above.
    let p = unsafe { __libc_realloc(old, size) };
    if p.is_null() && size != 0 {
        // Failed: the old block is untouched and still the program's.
        if let Some(b) = previous {
            LIVE_BLOCKS.insert(old as usize, &b);
        }
        return p;
    }
    let now = runtime::stamp(e.tls);
    if let Some(b) = &previous {
        // realloc(p, 0) released the block for good; otherwise its growth chain goes on.
        record_free(e.tls, b, now, p.is_null());
    }
    if !p.is_null() {
        let reallocs = previous.map_or(1, |b| b.reallocs.saturating_add(1));
        record_alloc_at(e.tls, p as usize, size, true, reallocs, now);
    }
    p
}

/// As glibc: ENOMEM on overflow (the old block untouched), else `realloc(p, n * size)`.
#[inline(always)]
pub unsafe fn reallocarray(old: *mut c_void, n: usize, size: usize) -> *mut c_void {
    let Some(bytes) = n.checked_mul(size) else {
        sys::set_errno(sys::ENOMEM);
        return core::ptr::null_mut();
    };
    // SAFETY: forwards the program's arguments.
    unsafe { realloc(old, bytes) }
}

#[inline(always)]
pub unsafe fn free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    if let Some(e) = enter() {
        if let Some(b) = LIVE_BLOCKS.remove(p as usize) {
            record_free(e.tls, &b, runtime::stamp(e.tls), true);
        }
    }
    // SAFETY: glibc's free with the program's pointer.
    unsafe { __libc_free(p) }
}

/// glibc's checks, in glibc's order: EINVAL unless the alignment is a power-of-two multiple of
/// `sizeof(void *)`, with `*out` untouched; ENOMEM on failure.
#[inline(always)]
pub unsafe fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int {
    if align == 0 || align % 8 != 0 || !(align / 8).is_power_of_two() {
        return sys::EINVAL;
    }
    let e = enter();
    // SAFETY: glibc's memalign, which posix_memalign uses itself after the same checks.
    let p = unsafe { __libc_memalign(align, size) };
    if p.is_null() {
        return sys::ENOMEM;
    }
    // SAFETY: the program's out-pointer, written only on success as glibc does.
    unsafe { *out = p };
    if let Some(e) = e {
        record_alloc(e.tls, p as usize, size, false);
    }
    0
}

/// `memalign` and, in glibc 2.36, `aligned_alloc` (the same function there).
#[inline(always)]
pub unsafe fn memalign(align: usize, size: usize) -> *mut c_void {
    let Some(e) = enter() else {
        // SAFETY: glibc's memalign with the program's arguments.
        return unsafe { __libc_memalign(align, size) };
    };
    // SAFETY: as above.
    let p = unsafe { __libc_memalign(align, size) };
    if !p.is_null() {
        record_alloc(e.tls, p as usize, size, false);
    }
    p
}

#[inline(always)]
pub unsafe fn valloc(size: usize) -> *mut c_void {
    let Some(e) = enter() else {
        // SAFETY: glibc's valloc with the program's argument.
        return unsafe { __libc_valloc(size) };
    };
    // SAFETY: as above.
    let p = unsafe { __libc_valloc(size) };
    if !p.is_null() {
        record_alloc(e.tls, p as usize, size, false);
    }
    p
}

#[inline(always)]
pub unsafe fn pvalloc(size: usize) -> *mut c_void {
    let Some(e) = enter() else {
        // SAFETY: glibc's pvalloc with the program's argument.
        return unsafe { __libc_pvalloc(size) };
    };
    // SAFETY: as above.
    let p = unsafe { __libc_pvalloc(size) };
    if !p.is_null() {
        record_alloc(e.tls, p as usize, size, false);
    }
    p
}

/// The next definition of `name` after this library (glibc's), looked up once, with the guard set
/// (dlsym may allocate). 0 when there is none.
fn next_symbol(cache: &AtomicUsize, name: &CStr) -> usize {
    let cached = cache.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    let _forced = Forced::new();
    // SAFETY: dlsym with a NUL-terminated name.
    let p = unsafe { sys::dlsym(sys::RTLD_NEXT, name.as_ptr()) } as usize;
    cache.store(p, Ordering::Relaxed);
    p
}

type CreateFn = unsafe extern "C" fn(*mut usize, *const c_void, StartFn, *mut c_void) -> c_int;
type SetNameFn = unsafe extern "C" fn(usize, *const c_char) -> c_int;
type ExitFn = unsafe extern "C" fn(c_int) -> !;

static REAL_PTHREAD_CREATE: AtomicUsize = AtomicUsize::new(0);
static REAL_SETNAME: AtomicUsize = AtomicUsize::new(0);
static REAL_EXIT: AtomicUsize = AtomicUsize::new(0);

/// Starts the thread through the trampoline, which gives it the spawner's stack as parent. glibc's own
/// allocations inside `pthread_create` are recorded (on the spawning thread, by DWARF unwind).
pub unsafe fn pthread_create(
    thread: *mut usize,
    attr: *const c_void,
    start: StartFn,
    arg: *mut c_void,
) -> c_int {
    let real = next_symbol(&REAL_PTHREAD_CREATE, c"pthread_create");
    if real == 0 {
        return sys::EAGAIN;
    }
    // SAFETY: the address dlsym gave for pthread_create, whose signature this is.
    let real: CreateFn = unsafe { core::mem::transmute::<usize, CreateFn>(real) };
    let spawn = enter().and_then(|e| {
        let stack = runtime::spawn_stack(e.tls);
        threads::new_spawn(start, arg, stack)
    });
    let Some(spawn) = spawn else {
        // SAFETY: the real pthread_create with the program's arguments.
        return unsafe { real(thread, attr, start, arg) };
    };
    let tls = runtime::tls();
    tls.in_spawn.set(true);
    // SAFETY: as above, with our trampoline and its record instead of the program's routine.
    let rc = unsafe { real(thread, attr, threads::trampoline, spawn) };
    tls.in_spawn.set(false);
    if rc != 0 {
        threads::free_spawn(spawn);
    }
    rc
}

pub unsafe fn pthread_setname_np(thread: usize, name: *const c_char) -> c_int {
    let real = next_symbol(&REAL_SETNAME, c"pthread_setname_np");
    if real == 0 {
        return sys::EINVAL;
    }
    // SAFETY: the address dlsym gave for pthread_setname_np, whose signature this is.
    let real: SetNameFn = unsafe { core::mem::transmute::<usize, SetNameFn>(real) };
    // SAFETY: the real function with the program's arguments.
    let rc = unsafe { real(thread, name) };
    if rc == 0 {
        threads::record_name(thread, name);
    }
    rc
}

/// The program's `main`, as `__libc_start_main` received it.
pub type MainFn = unsafe extern "C" fn(c_int, *mut *mut c_char, *mut *mut c_char) -> c_int;
type StartMainFn = unsafe extern "C" fn(
    MainFn,
    c_int,
    *mut *mut c_char,
    usize,
    usize,
    usize,
    *mut c_void,
) -> c_int;

static REAL_START_MAIN: AtomicUsize = AtomicUsize::new(0);
static REAL_MAIN: AtomicUsize = AtomicUsize::new(0);

/// Runs the program's `main` on top of [`main_trampoline`], so that the main thread has a known
/// bottom frame (see `capture`). The arguments after `main` pass through untouched.
pub unsafe fn libc_start_main(
    main: MainFn,
    argc: c_int,
    argv: *mut *mut c_char,
    init: usize,
    fini: usize,
    rtld_fini: usize,
    stack_end: *mut c_void,
) -> c_int {
    let real = next_symbol(&REAL_START_MAIN, c"__libc_start_main");
    if real == 0 {
        // No glibc behind us: nothing sensible can run.
        sys::exit_group(127);
    }
    // SAFETY: the address dlsym gave for __libc_start_main, whose signature this is.
    let real: StartMainFn = unsafe { core::mem::transmute::<usize, StartMainFn>(real) };
    let main = if runtime::STATE.load(Ordering::Acquire) == runtime::ACTIVE {
        REAL_MAIN.store(main as usize, Ordering::Relaxed);
        main_trampoline as MainFn
    } else {
        main
    };
    // SAFETY: the real function with the program's arguments (and possibly our trampoline as main).
    unsafe { real(main, argc, argv, init, fini, rtld_fini, stack_end) }
}

/// The `main` glibc calls while we record: marks the main thread's bottom as known, then runs the
/// program's `main`. Frame walks on the main thread stop at this frame.
unsafe extern "C" fn main_trampoline(
    argc: c_int,
    argv: *mut *mut c_char,
    envp: *mut *mut c_char,
) -> c_int {
    let real = REAL_MAIN.load(Ordering::Relaxed);
    // SAFETY: stored by `libc_start_main` from the program's `main` pointer just before glibc calls
    // this function.
    let real: MainFn = unsafe { core::mem::transmute::<usize, MainFn>(real) };
    runtime::tls().bottom.set(true);
    // SAFETY: the program's main with the arguments glibc prepared for it.
    let rc = unsafe { real(argc, argv, envp) };
    // glibc passes this to `exit` itself, not through the PLT our `exit` hook sees.
    runtime::EXIT_STATUS.store(rc, Ordering::Relaxed);
    // Not a tail call: keeps this frame on the stack while `main` runs, so walks stop here.
    core::hint::black_box(rc)
}

/// Remembers the status for the END record; the profile itself is written by our `atexit` handler.
pub unsafe fn exit(status: c_int) -> ! {
    runtime::EXIT_STATUS.store(status, Ordering::Relaxed);
    let real = next_symbol(&REAL_EXIT, c"exit");
    if real != 0 {
        // SAFETY: the address dlsym gave for exit, whose signature this is.
        let real: ExitFn = unsafe { core::mem::transmute::<usize, ExitFn>(real) };
        // SAFETY: the real exit with the program's status.
        unsafe { real(status) }
    }
    crate::profile::write(end_reason::EXIT, status);
    sys::exit_group(status)
}

/// `_exit`/`_Exit` skip atexit handlers: write the profile first, then exit as glibc does.
pub fn underscore_exit(status: c_int) -> ! {
    crate::profile::write(end_reason::UNDERSCORE_EXIT, status);
    sys::exit_group(status)
}

type ExecveFn =
    unsafe extern "C" fn(*const c_char, *const *const c_char, *const *const c_char) -> c_int;
type ExecvFn = unsafe extern "C" fn(*const c_char, *const *const c_char) -> c_int;
type FexecveFn = unsafe extern "C" fn(c_int, *const *const c_char, *const *const c_char) -> c_int;

static REAL_EXECVE: AtomicUsize = AtomicUsize::new(0);
static REAL_EXECV: AtomicUsize = AtomicUsize::new(0);
static REAL_EXECVP: AtomicUsize = AtomicUsize::new(0);
static REAL_EXECVPE: AtomicUsize = AtomicUsize::new(0);
static REAL_FEXECVE: AtomicUsize = AtomicUsize::new(0);
static REAL_EXECVEAT: AtomicUsize = AtomicUsize::new(0);
type ExecveatFn = unsafe extern "C" fn(
    c_int,
    *const c_char,
    *const *const c_char,
    *const *const c_char,
    c_int,
) -> c_int;

/// Writes the profile (END reason EXEC) before the real exec runs; if it returns (it failed), removes
/// that file and goes on recording.
fn around_exec(cache: &AtomicUsize, name: &CStr, call: impl FnOnce(usize) -> c_int) -> c_int {
    let real = next_symbol(cache, name);
    if real == 0 {
        sys::set_errno(sys::ENOSYS);
        return -1;
    }
    let written = crate::profile::write_for_exec();
    let rc = call(real);
    if written {
        crate::profile::undo_for_failed_exec();
    }
    rc
}

pub unsafe fn execve(
    path: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: the program's arguments, per execve's contract.
    let clean = unsafe { foreign::clean_env_for(path, envp) };
    let envp = clean.as_ref().map_or(envp, foreign::CleanEnv::envp);
    real_execve(path, argv, envp)
}

/// glibc's `execve` (after the profile is written), with the environment as given.
fn real_execve(
    path: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    around_exec(&REAL_EXECVE, c"execve", |real| {
        // SAFETY: the address dlsym gave for execve, with the program's arguments.
        unsafe { core::mem::transmute::<usize, ExecveFn>(real)(path, argv, envp) }
    })
}

/// `execv` and `execvp` (glibc calls its internal execve, not ours). A foreign program (see
/// `foreign`) is run by glibc's `execve`/`execvpe` with the cleaned environment instead.
pub unsafe fn execv(path: *const c_char, argv: *const *const c_char, search: bool) -> c_int {
    let mut buf = [0u8; 4096];
    let resolved = if search {
        // SAFETY: the program's argument, NUL-terminated.
        unsafe { foreign::resolve(path, &mut buf) }
    } else {
        path
    };
    // SAFETY: as above; `environ` is the process's environment.
    if let Some(clean) = unsafe { foreign::clean_env_for(resolved, sys::environ) } {
        return if search {
            real_execvpe(path, argv, clean.envp())
        } else {
            real_execve(path, argv, clean.envp())
        };
    }
    let (cache, name) = if search {
        (&REAL_EXECVP, c"execvp")
    } else {
        (&REAL_EXECV, c"execv")
    };
    around_exec(cache, name, |real| {
        // SAFETY: the address dlsym gave for execv/execvp, with the program's arguments.
        unsafe { core::mem::transmute::<usize, ExecvFn>(real)(path, argv) }
    })
}

pub unsafe fn execvpe(
    file: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    let mut buf = [0u8; 4096];
    // SAFETY: the program's arguments, per execvpe's contract.
    let clean = unsafe { foreign::clean_env_for(foreign::resolve(file, &mut buf), envp) };
    let envp = clean.as_ref().map_or(envp, foreign::CleanEnv::envp);
    real_execvpe(file, argv, envp)
}

/// glibc's `execvpe` (after the profile is written), with the environment as given.
fn real_execvpe(
    file: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    around_exec(&REAL_EXECVPE, c"execvpe", |real| {
        // SAFETY: the address dlsym gave for execvpe, with the program's arguments.
        unsafe { core::mem::transmute::<usize, ExecveFn>(real)(file, argv, envp) }
    })
}

pub unsafe fn fexecve(fd: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    let mut buf = [0u8; 4096];
    // SAFETY: the program's arguments, per fexecve's contract.
    let clean =
        unsafe { foreign::clean_env_for(foreign::at_path(fd, c"".as_ptr(), &mut buf), envp) };
    let envp = clean.as_ref().map_or(envp, foreign::CleanEnv::envp);
    around_exec(&REAL_FEXECVE, c"fexecve", |real| {
        // SAFETY: the address dlsym gave for fexecve, with the program's arguments.
        unsafe { core::mem::transmute::<usize, FexecveFn>(real)(fd, argv, envp) }
    })
}

pub unsafe fn execveat(
    dirfd: c_int,
    path: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
    flags: c_int,
) -> c_int {
    let mut buf = [0u8; 4096];
    // SAFETY: the program's arguments, per execveat's contract.
    let clean = unsafe { foreign::clean_env_for(foreign::at_path(dirfd, path, &mut buf), envp) };
    let envp = clean.as_ref().map_or(envp, foreign::CleanEnv::envp);
    around_exec(&REAL_EXECVEAT, c"execveat", |real| {
        // SAFETY: the address dlsym gave for execveat, with the program's arguments.
        unsafe { core::mem::transmute::<usize, ExecveatFn>(real)(dirfd, path, argv, envp, flags) }
    })
}

/// How many of the variadic `execl*` arguments past the registers we can read.
pub const STACK_ARGS: usize = 58;

/// The stack-passed part of a variadic `execl*` call. In the x86_64 System V ABI a struct this large
/// is passed in memory, at exactly the place where the caller put the variadic arguments that did
/// not fit in registers, so a non-variadic function can read them (stable Rust cannot define a
/// variadic one). Slots past the caller's last argument hold whatever its frame holds there; they
/// are only read up to the first null, as the C function would.
#[repr(C)]
pub struct StackArgs(pub [*const c_char; STACK_ARGS]);

/// Which `execl*` function: what follows the argument list and what it becomes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ExeclKind {
    /// `execl`: `execve(path, argv, environ)`.
    Plain,
    /// `execlp`: `execvp(file, argv)`.
    Path,
    /// `execle`: the environment pointer follows the null; `execve(path, argv, envp)`.
    Env,
}

/// `execl`, `execlp`, `execle` rebuilt on top of our `execve`/`execvp` hooks, as glibc builds them on
/// its internal ones. More than `5 + STACK_ARGS` arguments: E2BIG.
pub unsafe fn execl(
    kind: ExeclKind,
    path: *const c_char,
    regs: [*const c_char; 5],
    rest: &StackArgs,
) -> c_int {
    let mut argv = [core::ptr::null::<c_char>(); 5 + STACK_ARGS];
    let all = regs.iter().chain(rest.0.iter());
    let mut end = None;
    for (i, &arg) in all.clone().enumerate() {
        argv[i] = arg;
        if arg.is_null() {
            end = Some(i);
            break;
        }
    }
    let envp = match (end, kind) {
        (None, _) => None,
        (Some(i), ExeclKind::Env) => all.clone().nth(i + 1).map(|&p| p.cast::<*const c_char>()),
        // SAFETY: glibc's environment pointer, read once.
        (Some(_), _) => Some(unsafe { sys::environ }),
    };
    let Some(envp) = envp else {
        sys::set_errno(sys::E2BIG);
        return -1;
    };
    // SAFETY: the program's path and a NULL-terminated argument vector of its own strings.
    unsafe {
        if kind == ExeclKind::Path {
            execv(path, argv.as_ptr(), true)
        } else {
            execve(path, argv.as_ptr(), envp)
        }
    }
}

static REAL_SIGNAL: AtomicUsize = AtomicUsize::new(0);
static REAL_SYSV_SIGNAL: AtomicUsize = AtomicUsize::new(0);
type SignalFn = unsafe extern "C" fn(c_int, usize) -> usize;

/// `signal`, `bsd_signal` (`sysv == false`) and `sysv_signal`: managed signals go through the virtual
/// table (see `signals`), others to glibc.
pub unsafe fn signal(sig: c_int, handler: usize, sysv: bool) -> usize {
    if let Some(previous) = crate::signals::signal(sig, handler, sysv) {
        return previous;
    }
    // glibc's `bsd_signal` is `signal` under another name.
    let (cache, name) = if sysv {
        (&REAL_SYSV_SIGNAL, c"sysv_signal")
    } else {
        (&REAL_SIGNAL, c"signal")
    };
    let real = real_or_einval(cache, name);
    if real == 0 {
        return crate::signals::SIG_ERR;
    }
    // SAFETY: the address dlsym gave for this function, with the program's arguments.
    unsafe { core::mem::transmute::<usize, SignalFn>(real)(sig, handler) }
}

type SigsetFn = unsafe extern "C" fn(c_int, usize) -> usize;
type SigFn = unsafe extern "C" fn(c_int) -> c_int;
type SiginterruptFn = unsafe extern "C" fn(c_int, c_int) -> c_int;
static REAL_SIGSET: AtomicUsize = AtomicUsize::new(0);
static REAL_SIGIGNORE: AtomicUsize = AtomicUsize::new(0);
static REAL_SIGINTERRUPT: AtomicUsize = AtomicUsize::new(0);

/// The real function `name`, or 0 with `errno` EINVAL.
fn real_or_einval(cache: &AtomicUsize, name: &CStr) -> usize {
    let real = next_symbol(cache, name);
    if real == 0 {
        sys::set_errno(sys::EINVAL);
    }
    real
}

/// `sigset` (System V): glibc's sets the disposition with its internal `sigaction`, past our hook,
/// so on a managed signal it is redone here, step by step as glibc does it, on the virtual table.
pub unsafe fn sigset(sig: c_int, disp: usize) -> usize {
    if crate::signals::is_managed(sig) {
        return crate::signals::sigset(sig, disp);
    }
    let real = real_or_einval(&REAL_SIGSET, c"sigset");
    if real == 0 {
        return crate::signals::SIG_ERR;
    }
    // SAFETY: the address dlsym gave for sigset, with the program's arguments.
    unsafe { core::mem::transmute::<usize, SigsetFn>(real)(sig, disp) }
}

/// `sigignore`: as `sigset`, glibc's goes past our `sigaction`.
pub unsafe fn sigignore(sig: c_int) -> c_int {
    if crate::signals::is_managed(sig) {
        return crate::signals::sigignore(sig);
    }
    let real = real_or_einval(&REAL_SIGIGNORE, c"sigignore");
    if real == 0 {
        return -1;
    }
    // SAFETY: the address dlsym gave for sigignore, with the program's argument.
    unsafe { core::mem::transmute::<usize, SigFn>(real)(sig) }
}

/// `siginterrupt`: on a managed signal, SA_RESTART is changed in the virtual disposition.
pub unsafe fn siginterrupt(sig: c_int, interrupt: c_int) -> c_int {
    if crate::signals::is_managed(sig) {
        return crate::signals::siginterrupt(sig, interrupt != 0);
    }
    let real = real_or_einval(&REAL_SIGINTERRUPT, c"siginterrupt");
    if real == 0 {
        return -1;
    }
    // SAFETY: the address dlsym gave for siginterrupt, with the program's arguments.
    unsafe { core::mem::transmute::<usize, SiginterruptFn>(real)(sig, interrupt) }
}

type SpawnFn = unsafe extern "C" fn(
    *mut c_int,
    *const c_char,
    *const c_void,
    *const c_void,
    *const *const c_char,
    *const *const c_char,
) -> c_int;
static REAL_POSIX_SPAWN: AtomicUsize = AtomicUsize::new(0);
static REAL_POSIX_SPAWNP: AtomicUsize = AtomicUsize::new(0);

/// `posix_spawn` and `posix_spawnp` (`search`): the child is a new process, profiled by its own
/// copy of this library, except a foreign program (see `foreign`), which gets the cleaned
/// environment.
pub unsafe fn posix_spawn(
    pid: *mut c_int,
    path: *const c_char,
    actions: *const c_void,
    attr: *const c_void,
    argv: *const *const c_char,
    envp: *const *const c_char,
    search: bool,
) -> c_int {
    let (cache, name) = if search {
        (&REAL_POSIX_SPAWNP, c"posix_spawnp")
    } else {
        (&REAL_POSIX_SPAWN, c"posix_spawn")
    };
    let real = next_symbol(cache, name);
    if real == 0 {
        return sys::ENOSYS;
    }
    let mut buf = [0u8; 4096];
    let resolved = if search {
        // SAFETY: the program's argument, per posix_spawnp's contract.
        unsafe { foreign::resolve(path, &mut buf) }
    } else {
        path
    };
    // SAFETY: as above.
    let clean = unsafe { foreign::clean_env_for(resolved, envp) };
    let envp = clean.as_ref().map_or(envp, foreign::CleanEnv::envp);
    // SAFETY: the address dlsym gave for the function, with the program's arguments.
    unsafe { core::mem::transmute::<usize, SpawnFn>(real)(pid, path, actions, attr, argv, envp) }
}
