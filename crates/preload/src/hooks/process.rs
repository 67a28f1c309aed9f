//! The process hooks: `__libc_start_main` (to run `main` on top of a frame of ours), `exit`,
//! `_exit`/`_Exit`, the `exec` family and `posix_spawn`.
//!
//! An exec replaces the image, so the profile is written before the real exec runs (END reason
//! EXEC) and removed again if it fails. A program of another C library (see `foreign`) is started
//! with this library taken out of its `LD_PRELOAD`.

use core::ffi::{c_char, c_int, c_void};

use alloc_profile_format::end_reason;

use crate::hooks::foreign::{self, CleanEnv};
use crate::hooks::real::{MainFn, Real};
use crate::lifecycle::set_exit_status;
use crate::profile;
use crate::state::{self, tls};
use crate::sync::SyncCell;
use crate::sys;

/// The program's `main`, stored by [`libc_start_main`] for [`main_trampoline`] (on the main thread,
/// before glibc calls it).
static PROGRAM_MAIN: SyncCell<Option<MainFn>> = SyncCell::new(None);

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
    let Some(real) = Real::get().libc_start_main else {
        // No glibc behind us: nothing sensible can run.
        sys::exit_group(127);
    };
    let main = if state::is_active() {
        // SAFETY: `_start` calls this once, on the main thread, before any other thread exists;
        // the trampoline reads it after glibc calls it, on the same thread.
        unsafe { PROGRAM_MAIN.get().write(Some(main)) };
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
    // SAFETY: written by `libc_start_main` on this thread just before glibc called this function.
    let Some(real) = (unsafe { *PROGRAM_MAIN.get() }) else {
        return 127;
    };
    tls().bottom.set(true);
    // SAFETY: the program's main with the arguments glibc prepared for it.
    let rc = unsafe { real(argc, argv, envp) };
    // glibc passes this to `exit` itself, not through the PLT our `exit` hook sees.
    set_exit_status(rc);
    // Not a tail call: keeps this frame on the stack while `main` runs, so walks stop here.
    core::hint::black_box(rc)
}

/// Remembers the status for the END record; the profile itself is written by our `atexit` handler.
pub unsafe fn exit(status: c_int) -> ! {
    set_exit_status(status);
    if let Some(real) = Real::get().exit {
        // SAFETY: the real exit with the program's status.
        unsafe { real(status) }
    }
    profile::write(end_reason::EXIT, status);
    sys::exit_group(status)
}

/// `_exit`/`_Exit` skip atexit handlers: write the profile first, then exit as glibc does.
pub fn underscore_exit(status: c_int) -> ! {
    profile::write(end_reason::UNDERSCORE_EXIT, status);
    sys::exit_group(status)
}

/// Writes the profile (END reason EXEC) before the real exec runs; if it returns (it failed), removes
/// that file and goes on recording. ENOSYS without a real function.
fn around_exec<F>(real: Option<F>, call: impl FnOnce(F) -> c_int) -> c_int {
    let Some(real) = real else {
        sys::set_errno(sys::ENOSYS);
        return -1;
    };
    let written = profile::write_for_exec();
    let rc = call(real);
    if written {
        profile::undo_for_failed_exec();
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
    let envp = clean.as_ref().map_or(envp, CleanEnv::envp);
    real_execve(path, argv, envp)
}

/// glibc's `execve` (after the profile is written), with the environment as given.
fn real_execve(
    path: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    around_exec(Real::get().execve, |real| {
        // SAFETY: glibc's execve with the program's arguments.
        unsafe { real(path, argv, envp) }
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
    let real = Real::get();
    around_exec(if search { real.execvp } else { real.execv }, |real| {
        // SAFETY: glibc's execv/execvp with the program's arguments.
        unsafe { real(path, argv) }
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
    let envp = clean.as_ref().map_or(envp, CleanEnv::envp);
    real_execvpe(file, argv, envp)
}

/// glibc's `execvpe` (after the profile is written), with the environment as given.
fn real_execvpe(
    file: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    around_exec(Real::get().execvpe, |real| {
        // SAFETY: glibc's execvpe with the program's arguments.
        unsafe { real(file, argv, envp) }
    })
}

pub unsafe fn fexecve(fd: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    let mut buf = [0u8; 4096];
    // SAFETY: the program's arguments, per fexecve's contract.
    let clean =
        unsafe { foreign::clean_env_for(foreign::at_path(fd, c"".as_ptr(), &mut buf), envp) };
    let envp = clean.as_ref().map_or(envp, CleanEnv::envp);
    around_exec(Real::get().fexecve, |real| {
        // SAFETY: glibc's fexecve with the program's arguments.
        unsafe { real(fd, argv, envp) }
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
    let envp = clean.as_ref().map_or(envp, CleanEnv::envp);
    around_exec(Real::get().execveat, |real| {
        // SAFETY: glibc's execveat with the program's arguments.
        unsafe { real(dirfd, path, argv, envp, flags) }
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
    let real = Real::get();
    let Some(real) = (if search {
        real.posix_spawnp
    } else {
        real.posix_spawn
    }) else {
        return sys::ENOSYS;
    };
    let mut buf = [0u8; 4096];
    let resolved = if search {
        // SAFETY: the program's argument, per posix_spawnp's contract.
        unsafe { foreign::resolve(path, &mut buf) }
    } else {
        path
    };
    // SAFETY: as above.
    let clean = unsafe { foreign::clean_env_for(resolved, envp) };
    let envp = clean.as_ref().map_or(envp, CleanEnv::envp);
    // SAFETY: glibc's function with the program's arguments.
    unsafe { real(pid, path, actions, attr, argv, envp) }
}
