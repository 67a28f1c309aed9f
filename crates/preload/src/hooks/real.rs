//! glibc's own definitions of the functions we hook (other than the malloc family, which glibc also
//! exports under names we do not interpose: `sys::__libc_malloc` and friends), reached through one
//! typed handle, [`Real`], filled once with `dlsym(RTLD_NEXT)`.
//!
//! The lookup runs the first time any of these hooks needs it (in practice `__libc_start_main`,
//! before `main`), with the guard set: `dlsym` may allocate. A thread that finds another one
//! looking up at the same time (or a signal handler interrupting the lookup) does its own lookup
//! instead of waiting; only the first stores its result.

use core::ffi::{c_char, c_int, c_void, CStr};
use core::sync::atomic::{AtomicU8, Ordering};

use crate::state::Forced;
use crate::sync::SyncCell;
use crate::sys;
use crate::threads::StartFn;

/// The program's `main`, as `__libc_start_main` receives it.
pub type MainFn = unsafe extern "C" fn(c_int, *mut *mut c_char, *mut *mut c_char) -> c_int;
pub type StartMainFn = unsafe extern "C" fn(
    MainFn,
    c_int,
    *mut *mut c_char,
    usize,
    usize,
    usize,
    *mut c_void,
) -> c_int;
pub type CreateFn = unsafe extern "C" fn(*mut usize, *const c_void, StartFn, *mut c_void) -> c_int;
pub type SetNameFn = unsafe extern "C" fn(usize, *const c_char) -> c_int;
pub type ExitFn = unsafe extern "C" fn(c_int) -> !;
pub type ExecveFn =
    unsafe extern "C" fn(*const c_char, *const *const c_char, *const *const c_char) -> c_int;
pub type ExecvFn = unsafe extern "C" fn(*const c_char, *const *const c_char) -> c_int;
pub type FexecveFn =
    unsafe extern "C" fn(c_int, *const *const c_char, *const *const c_char) -> c_int;
pub type ExecveatFn = unsafe extern "C" fn(
    c_int,
    *const c_char,
    *const *const c_char,
    *const *const c_char,
    c_int,
) -> c_int;
pub type SpawnFn = unsafe extern "C" fn(
    *mut c_int,
    *const c_char,
    *const c_void,
    *const c_void,
    *const *const c_char,
    *const *const c_char,
) -> c_int;
/// `signal`, `sysv_signal` and `sigset`: (signal, disposition) → previous disposition.
pub type SignalFn = unsafe extern "C" fn(c_int, usize) -> usize;
pub type SigignoreFn = unsafe extern "C" fn(c_int) -> c_int;
pub type SiginterruptFn = unsafe extern "C" fn(c_int, c_int) -> c_int;

/// glibc's definitions; `None` for one that does not exist.
#[derive(Clone, Copy)]
pub struct Real {
    pub libc_start_main: Option<StartMainFn>,
    pub pthread_create: Option<CreateFn>,
    pub pthread_setname_np: Option<SetNameFn>,
    pub exit: Option<ExitFn>,
    pub execve: Option<ExecveFn>,
    pub execv: Option<ExecvFn>,
    pub execvp: Option<ExecvFn>,
    pub execvpe: Option<ExecveFn>,
    pub fexecve: Option<FexecveFn>,
    pub execveat: Option<ExecveatFn>,
    pub posix_spawn: Option<SpawnFn>,
    pub posix_spawnp: Option<SpawnFn>,
    pub signal: Option<SignalFn>,
    pub sysv_signal: Option<SignalFn>,
    pub sigset: Option<SignalFn>,
    pub sigignore: Option<SigignoreFn>,
    pub siginterrupt: Option<SiginterruptFn>,
}

const UNRESOLVED: u8 = 0;
const RESOLVING: u8 = 1;
const RESOLVED: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNRESOLVED);
/// Written once, by the thread that moved `STATE` to `RESOLVING`, before it publishes `RESOLVED`.
static REAL: SyncCell<Real> = SyncCell::new(Real::NONE);

impl Real {
    const NONE: Real = Real {
        libc_start_main: None,
        pthread_create: None,
        pthread_setname_np: None,
        exit: None,
        execve: None,
        execv: None,
        execvp: None,
        execvpe: None,
        fexecve: None,
        execveat: None,
        posix_spawn: None,
        posix_spawnp: None,
        signal: None,
        sysv_signal: None,
        sigset: None,
        sigignore: None,
        siginterrupt: None,
    };

    /// glibc's definitions, looked up on the first call.
    #[inline]
    pub fn get() -> Real {
        if STATE.load(Ordering::Acquire) == RESOLVED {
            // SAFETY: written once before RESOLVED was published, never again.
            return unsafe { *REAL.get() };
        }
        Self::resolve()
    }

    #[cold]
    #[inline(never)]
    fn resolve() -> Real {
        let real = {
            let _forced = Forced::new();
            // SAFETY: each name is the glibc function whose signature the field's type states.
            unsafe {
                Real {
                    libc_start_main: next(c"__libc_start_main"),
                    pthread_create: next(c"pthread_create"),
                    pthread_setname_np: next(c"pthread_setname_np"),
                    exit: next(c"exit"),
                    execve: next(c"execve"),
                    execv: next(c"execv"),
                    execvp: next(c"execvp"),
                    execvpe: next(c"execvpe"),
                    fexecve: next(c"fexecve"),
                    execveat: next(c"execveat"),
                    posix_spawn: next(c"posix_spawn"),
                    posix_spawnp: next(c"posix_spawnp"),
                    signal: next(c"signal"),
                    sysv_signal: next(c"sysv_signal"),
                    sigset: next(c"sigset"),
                    sigignore: next(c"sigignore"),
                    siginterrupt: next(c"siginterrupt"),
                }
            }
        };
        if STATE
            .compare_exchange(UNRESOLVED, RESOLVING, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            // SAFETY: only the thread that won the exchange writes, and nobody reads before
            // RESOLVED is published below.
            unsafe { REAL.get().write(real) };
            STATE.store(RESOLVED, Ordering::Release);
        }
        real
    }
}

/// The next definition of `name` after this library (glibc's), as a function pointer of type `F`.
///
/// # Safety
/// `F` must be the `unsafe extern "C" fn` type of the C function `name`.
unsafe fn next<F: Copy>(name: &CStr) -> Option<F> {
    const { assert!(core::mem::size_of::<F>() == core::mem::size_of::<*mut c_void>()) };
    // SAFETY: dlsym with a NUL-terminated name.
    let p = unsafe { sys::dlsym(sys::RTLD_NEXT, name.as_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: a non-null address of the function `name`, whose type `F` is per the contract (of
    // pointer size, checked above).
    Some(unsafe { core::mem::transmute_copy::<*mut c_void, F>(&p) })
}
