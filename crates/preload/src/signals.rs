//! Fatal signals: write the profile when the process dies of a signal, without changing what the
//! program sees of its own signal handling.
//!
//! # How
//! For the signals whose default action kills ([`MANAGED`]: SIGHUP, SIGINT, SIGQUIT, SIGILL,
//! SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGTERM) the kernel always has our handler installed (unless the
//! program ignores the signal), while the program's own disposition lives in a *virtual* table that
//! our `sigaction`/`signal` hooks read and write. The program therefore sees exactly what it set
//! (Rust's std installs its stack-overflow handler only when it finds SIG_DFL at start-up, and resets
//! to SIG_DFL to let a real fault kill the process). Our handler runs with the program's mask and
//! flags (plus SA_ONSTACK and SA_SIGINFO): if the program has a handler it is called with the
//! kernel's own arguments; if the program's disposition is SIG_DFL, the profile is written (END
//! reason SIGNAL, detail = the signal), the real default is restored and the signal raised again,
//! so the process dies of it as it would have (same wait status, same core dump).
//!
//! Writing from a handler: on a private stack (the thread may be on a small alternate signal stack,
//! or out of stack), allocation-free as always, and without waiting long for our own locks (the
//! signal may have hit this thread inside a hook that holds one: the live table's shards are taken
//! with a short bound and skipped otherwise, so blocks of a skipped shard are missing from the live
//! counts). When several threads die at once, one writes and the others wait for it.
//!
//! `sigset`, `sigignore` and `siginterrupt`, which glibc builds on its internal `sigaction` (past our
//! hook), are interposed too and redone here on the virtual table.
//!
//! Limits: SIGKILL cannot be caught. A raw `rt_sigaction` system call (not through glibc) bypasses the
//! virtual table: our handler is replaced, and the profile is lost only if the signal then kills.
//! (`sigvec` is gone from glibc: only old binaries link it.)

use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};

use alloc_profile_format::end_reason;

use crate::{profile, sys};

pub const SIG_DFL: usize = 0;
pub const SIG_IGN: usize = 1;
pub const SIG_ERR: usize = usize::MAX;
const SA_SIGINFO: u32 = 4;
const SA_ONSTACK: u32 = 0x0800_0000;
const SA_RESTART: u32 = 0x1000_0000;
const SA_NODEFER: u32 = 0x4000_0000;
const SA_RESETHAND: u32 = 0x8000_0000;

/// Signals whose default action ends the process and that we catch.
pub const MANAGED: [c_int; 9] = [1, 2, 3, 4, 6, 7, 8, 11, 15];
const SLOTS: usize = 16;

/// glibc's `struct sigaction` on x86_64.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SigAction {
    pub handler: usize,
    pub mask: [u64; 16],
    pub flags: c_int,
    pub restorer: usize,
}

impl SigAction {
    pub const fn empty() -> Self {
        Self {
            handler: SIG_DFL,
            mask: [0; 16],
            flags: 0,
            restorer: 0,
        }
    }
}

/// The program's disposition of one managed signal. Fields are separate atomics: our handler reads
/// them without a lock (it may interrupt a writer on its own thread).
struct Virtual {
    handler: AtomicUsize,
    flags: AtomicI32,
    mask: [AtomicU64; 16],
}

static VIRTUAL: [Virtual; SLOTS] = [const {
    Virtual {
        handler: AtomicUsize::new(SIG_DFL),
        flags: AtomicI32::new(0),
        mask: [const { AtomicU64::new(0) }; 16],
    }
}; SLOTS];

/// Set once our handlers are installed; before that (and when not profiling) the hooks pass through.
static MANAGING: AtomicBool = AtomicBool::new(false);
/// Serializes the program's `sigaction` calls on managed signals. Not taken by a call nested in a
/// signal handler on the thread that holds it (see `with_table_lock`).
static TABLE_LOCK: AtomicI32 = AtomicI32::new(0);

/// A private stack for writing the profile from a handler.
const WRITE_STACK: usize = 512 * 1024;
static WRITE_STACK_TOP: AtomicUsize = AtomicUsize::new(0);
/// Kernel thread id of the thread writing the profile from a handler, 0 when none.
static SIGNAL_WRITER: AtomicI32 = AtomicI32::new(0);

fn slot(sig: c_int) -> Option<&'static Virtual> {
    if MANAGED.contains(&sig) {
        VIRTUAL.get(sig as usize)
    } else {
        None
    }
}

/// Whether `sig` goes through the virtual table right now.
fn managed(sig: c_int) -> Option<&'static Virtual> {
    if MANAGING.load(Ordering::Acquire) {
        slot(sig)
    } else {
        None
    }
}

/// Whether `sig` has a virtual disposition (our handler stays installed for it).
pub fn is_managed(sig: c_int) -> bool {
    managed(sig).is_some()
}

const SIG_HOLD: usize = 2;
const SIG_BLOCK: c_int = 0;
const SIG_UNBLOCK: c_int = 1;

/// Changes the calling thread's mask by `sig` alone; whether `sig` was blocked before.
fn mask_one(how: c_int, sig: c_int) -> Option<bool> {
    let bit = 1u64 << (sig - 1);
    let set = [bit, 0u64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut old = [0u64; 16];
    // SAFETY: valid sigset_t-sized buffers.
    if unsafe { sys::sigprocmask(how, set.as_ptr().cast(), old.as_mut_ptr().cast()) } != 0 {
        return None;
    }
    Some(old[0] & bit != 0)
}

/// glibc's `sigset` on a managed signal, with our `sigaction`.
pub fn sigset(sig: c_int, disp: usize) -> usize {
    let mut old = SigAction::empty();
    if disp == SIG_HOLD {
        let Some(was_blocked) = mask_one(SIG_BLOCK, sig) else {
            return SIG_ERR;
        };
        if was_blocked {
            return SIG_HOLD;
        }
        // SAFETY: no new action, a valid out-pointer.
        if unsafe { sigaction(sig, core::ptr::null(), &mut old) } != 0 {
            return SIG_ERR;
        }
        return old.handler;
    }
    let mut act = SigAction::empty();
    act.handler = disp;
    // SAFETY: a valid action and out-pointer.
    if unsafe { sigaction(sig, &act, &mut old) } != 0 {
        return SIG_ERR;
    }
    match mask_one(SIG_UNBLOCK, sig) {
        None => SIG_ERR,
        Some(true) => SIG_HOLD,
        Some(false) => old.handler,
    }
}

/// glibc's `sigignore` on a managed signal: SIG_IGN, no mask, no flags.
pub fn sigignore(sig: c_int) -> c_int {
    let mut act = SigAction::empty();
    act.handler = SIG_IGN;
    // SAFETY: a valid action, no out-pointer.
    unsafe { sigaction(sig, &act, core::ptr::null_mut()) }
}

/// glibc's `siginterrupt` on a managed signal: SA_RESTART off (`interrupt`) or on.
pub fn siginterrupt(sig: c_int, interrupt: bool) -> c_int {
    let mut act = SigAction::empty();
    // SAFETY: no new action, a valid out-pointer.
    unsafe { sigaction(sig, core::ptr::null(), &mut act) };
    if interrupt {
        act.flags &= !(SA_RESTART as c_int);
    } else {
        act.flags |= SA_RESTART as c_int;
    }
    // SAFETY: a valid action, no out-pointer.
    unsafe { sigaction(sig, &act, core::ptr::null_mut()) }
}

fn real_sigaction(sig: c_int, act: *const SigAction, old: *mut SigAction) -> c_int {
    // SAFETY: glibc's own sigaction (not interposed: we define `sigaction`, not `__sigaction`) with
    // pointers that are null or valid for glibc's struct layout.
    unsafe { sys::__sigaction(sig, act.cast(), old.cast()) }
}

/// Installs what the kernel should have for `sig` given the program's disposition `v`.
fn install(sig: c_int, v: &Virtual) {
    let handler = v.handler.load(Ordering::Relaxed);
    let flags = v.flags.load(Ordering::Relaxed) as u32;
    let mut act = SigAction::empty();
    for (dst, src) in act.mask.iter_mut().zip(&v.mask) {
        *dst = src.load(Ordering::Relaxed);
    }
    if handler == SIG_IGN {
        act.handler = SIG_IGN;
        act.flags = flags as c_int;
    } else {
        act.handler = on_signal as *const () as usize;
        act.flags = (SA_SIGINFO | SA_ONSTACK | (flags & (SA_RESTART | SA_NODEFER))) as c_int;
    }
    real_sigaction(sig, &act, core::ptr::null_mut());
}

fn store(v: &Virtual, act: &SigAction) {
    v.handler.store(act.handler, Ordering::Relaxed);
    v.flags.store(act.flags, Ordering::Relaxed);
    for (dst, &src) in v.mask.iter().zip(&act.mask) {
        dst.store(src, Ordering::Relaxed);
    }
}

fn load(v: &Virtual) -> SigAction {
    let mut act = SigAction::empty();
    act.handler = v.handler.load(Ordering::Relaxed);
    act.flags = v.flags.load(Ordering::Relaxed);
    for (dst, src) in act.mask.iter_mut().zip(&v.mask) {
        *dst = src.load(Ordering::Relaxed);
    }
    act
}

/// Constructor, when profiling: takes over the managed signals, keeping their current disposition
/// as the program's (inherited SIG_IGN stays ignored in the kernel too).
pub fn init() {
    if let Some(stack) = sys::map(WRITE_STACK) {
        WRITE_STACK_TOP.store(stack.as_ptr() as usize + WRITE_STACK, Ordering::Relaxed);
    }
    for sig in MANAGED {
        let Some(v) = slot(sig) else { continue };
        let mut old = SigAction::empty();
        if real_sigaction(sig, core::ptr::null(), &mut old) != 0 {
            continue;
        }
        store(v, &old);
        install(sig, v);
    }
    MANAGING.store(true, Ordering::Release);
}

/// The `sigaction` hook.
///
/// # Safety
/// `act` and `old` are null or valid, as for `sigaction`.
pub unsafe fn sigaction(sig: c_int, act: *const SigAction, old: *mut SigAction) -> c_int {
    let Some(v) = managed(sig) else {
        return real_sigaction(sig, act, old);
    };
    with_table_lock(|| {
        if !old.is_null() {
            // SAFETY: the caller's out-pointer.
            unsafe { old.write(load(v)) };
        }
        if !act.is_null() {
            // SAFETY: the caller's struct.
            store(v, unsafe { &*act });
            install(sig, v);
        }
    });
    0
}

/// `signal`, `bsd_signal` (BSD semantics: SA_RESTART, the signal blocked in its handler) and
/// `sysv_signal` (one-shot, not blocked, no restart) on a managed signal: the previous handler, or
/// `None` when `sig` is not managed and the real function must run.
pub fn signal(sig: c_int, handler: usize, sysv: bool) -> Option<usize> {
    let v = managed(sig)?;
    let mut act = SigAction::empty();
    act.handler = handler;
    if sysv {
        act.flags = (SA_RESETHAND | SA_NODEFER) as c_int;
    } else {
        act.flags = SA_RESTART as c_int;
        act.mask[0] = 1u64 << (sig - 1);
    }
    let mut previous = 0;
    with_table_lock(|| {
        previous = v.handler.load(Ordering::Relaxed);
        store(v, &act);
        install(sig, v);
    });
    Some(previous)
}

fn with_table_lock(f: impl FnOnce()) {
    // SAFETY: no preconditions.
    let tid = unsafe { sys::gettid() };
    let mut owned = false;
    loop {
        match TABLE_LOCK.compare_exchange(0, tid, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => {
                owned = true;
                break;
            }
            // A handler that interrupted this thread's own call: go on without the lock.
            Err(holder) if holder == tid => break,
            Err(_) => {
                // SAFETY: no preconditions.
                unsafe { sys::sched_yield() };
            }
        }
    }
    f();
    if owned {
        TABLE_LOCK.store(0, Ordering::Release);
    }
}

type InfoHandler = unsafe extern "C" fn(c_int, *mut c_void, *mut c_void);
type PlainHandler = unsafe extern "C" fn(c_int);

/// Our handler for every managed signal.
unsafe extern "C" fn on_signal(sig: c_int, info: *mut c_void, ctx: *mut c_void) {
    let Some(v) = slot(sig) else { return };
    let handler = v.handler.load(Ordering::Acquire);
    if handler == SIG_IGN {
        return;
    }
    if handler != SIG_DFL {
        let flags = v.flags.load(Ordering::Relaxed) as u32;
        if flags & SA_RESETHAND != 0 {
            v.handler.store(SIG_DFL, Ordering::Relaxed);
        }
        if flags & SA_SIGINFO != 0 {
            // SAFETY: the program installed this function as an SA_SIGINFO handler; it gets the
            // kernel's own arguments.
            unsafe { core::mem::transmute::<usize, InfoHandler>(handler)(sig, info, ctx) };
        } else {
            // SAFETY: the program installed this function as a plain handler.
            unsafe { core::mem::transmute::<usize, PlainHandler>(handler)(sig) };
        }
        return;
    }
    die(sig);
}

/// The program's disposition is the default: write the profile, then die of `sig`.
fn die(sig: c_int) {
    let _errno = sys::SavedErrno::new();
    // SAFETY: no preconditions.
    let tid = unsafe { sys::gettid() };
    match SIGNAL_WRITER.compare_exchange(0, tid, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            write_on_private_stack(sig);
            profile::wait_for_writer();
        }
        // The same thread, while writing: a second fatal signal. Die without waiting for ourselves.
        Err(writer) if writer == tid => {}
        // Another thread is writing: let it finish (bounded), then die.
        Err(_) => profile::wait_for_writer(),
    }
    let dfl = SigAction::empty();
    real_sigaction(sig, &dfl, core::ptr::null_mut());
    // The signal is blocked while this handler runs (unless SA_NODEFER): it stays pending and kills
    // the process when the handler returns and the mask is restored; a fault that recurs kills too.
    // SAFETY: tgkill on our own thread.
    unsafe {
        sys::syscall(
            sys::SYS_TGKILL,
            core::ffi::c_long::from(sys::getpid()),
            core::ffi::c_long::from(tid),
            core::ffi::c_long::from(sig),
        )
    };
}

extern "C" fn write_for_signal(sig: usize) {
    profile::write_bounded(end_reason::SIGNAL, sig as i32);
}

fn write_on_private_stack(sig: c_int) {
    let top = WRITE_STACK_TOP.load(Ordering::Relaxed) & !15;
    if top == 0 {
        write_for_signal(sig as usize);
        return;
    }
    // SAFETY: switches to our own mapped, otherwise unused stack (only the thread that won
    // SIGNAL_WRITER gets here, once), calls a plain `extern "C"` function with a 16-byte aligned
    // stack, and switches back: r12 is callee-saved, so it still holds the old stack pointer.
    unsafe {
        core::arch::asm!(
            "mov r12, rsp",
            "mov rsp, {top}",
            "call {f}",
            "mov rsp, r12",
            top = in(reg) top,
            f = in(reg) write_for_signal as extern "C" fn(usize),
            in("rdi") sig as usize,
            out("r12") _,
            clobber_abi("C"),
        );
    }
}
