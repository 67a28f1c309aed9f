//! The library's life in a process: the constructor (configuration, then recording on), `fork`
//! (no lock of ours crosses it; the child starts its own profile), and exit (the profile is written
//! by an `atexit` handler; `_exit`, exec and fatal signals have their own paths in `hooks` and
//! `signals`).

use core::ffi::{c_char, c_int};
use core::sync::atomic::{AtomicI32, Ordering};

use alloc_profile_format::{end_reason, NO_STACK};

use crate::arena::RECORDS;
use crate::config;
use crate::guard;
use crate::peak::{self, TEST_PEAKS};
use crate::pool::{self, ORPHAN_LOCK};
use crate::record::{self, LIFETIMES, LIVE_BLOCKS, STACKS};
use crate::state::{self, tls, Forced, ACTIVE, DISABLED, RETIRED, STATE, UNINIT};
use crate::sync::SpinLock;
use crate::{capture, env, profile, signals, sys, threads};

/// Status passed to `exit`, when the program called it through the PLT (see `hooks::process`).
static EXIT_STATUS: AtomicI32 = AtomicI32::new(0);

/// Remembers the status the program exits with, for the END record.
pub fn set_exit_status(status: c_int) {
    EXIT_STATUS.store(status, Ordering::Relaxed);
}

/// The library's constructor (`.init_array`): reads the configuration once and turns recording on.
///
/// # Safety
/// Called by the dynamic loader with the process's arguments, on the main thread, once.
pub unsafe extern "C" fn init(
    _argc: c_int,
    _argv: *const *const c_char,
    _envp: *const *const c_char,
) {
    if STATE
        .compare_exchange(UNINIT, DISABLED, Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    let forced = Forced::new();
    env::init_own_path();
    if config::env_is(c"CARGO_ALLOC_PROFILE_LIFETIMES", b"1") {
        LIFETIMES.store(true, Ordering::Relaxed);
    }
    if config::env_is(c"CARGO_ALLOC_PROFILE_TEST_PEAKS", b"1") {
        TEST_PEAKS.store(true, Ordering::Relaxed);
    }
    if config::env_is(c"CARGO_ALLOC_PROFILE_FOLLOW_CHILDREN", b"0") {
        env::remove_self_from_ld_preload();
    }
    if env::is_toolchain() || !config::read_out_dir() {
        return;
    }
    let top = threads::main_stack_top();
    capture::init(top);
    let tls = forced.tls();
    state::init_fast_tls(tls);
    config::start_clock();
    threads::init_key();
    threads::register(tls, NO_STACK, top);
    guard::register_membarrier();
    // SAFETY: the handlers are plain functions that stay valid for the life of the process.
    unsafe {
        sys::pthread_atfork(Some(fork_prepare), Some(fork_parent), Some(fork_child));
        sys::atexit(at_exit);
    }
    signals::init();
    STATE.store(ACTIVE, Ordering::Release);
}

extern "C" fn at_exit() {
    profile::write(end_reason::EXIT, EXIT_STATUS.load(Ordering::Relaxed));
}

/// Every lock of ours, in the order they may nest (orphan → interner → arenas → … → live shards).
fn for_each_lock(mut f: impl FnMut(&SpinLock)) {
    f(&ORPHAN_LOCK);
    for l in STACKS.locks() {
        f(l);
    }
    f(RECORDS.lock());
    f(pool::lock());
    for l in threads::locks() {
        f(l);
    }
    for l in LIVE_BLOCKS.locks() {
        f(l);
    }
}

/// No lock of ours may be held across `fork` (the child would inherit it locked forever): take them
/// all, with the guard set so nothing in between records.
///
/// If the guard was already set, this thread is inside our own code (a signal handler interrupted a
/// hook and called `fork`): it may hold one of the locks, so none is taken; the child resets them all
/// anyway.
extern "C" fn fork_prepare() {
    let tls = tls();
    let inside = tls.guard.replace(true);
    tls.fork_guard.set(inside);
    if !inside {
        for_each_lock(SpinLock::acquire);
    }
}

extern "C" fn fork_parent() {
    let tls = tls();
    if !tls.fork_guard.get() {
        for_each_lock(SpinLock::force_unlock);
    }
    tls.guard.set(tls.fork_guard.get());
}

/// The child's profile is its own: new pid and clock, nothing counted, nothing live, one thread.
/// Interned stacks are kept (ids stay valid; unused ones are written without sites).
extern "C" fn fork_child() {
    for_each_lock(SpinLock::force_unlock);
    let tls = tls();
    config::start_clock();
    guard::register_membarrier();
    peak::reset_in_child();
    record::reset_in_child();
    EXIT_STATUS.store(0, Ordering::Relaxed);
    let mine = tls.counters.get();
    pool::reset_in_child(mine);
    if mine.is_null() || mine == RETIRED {
        tls.counters.set(core::ptr::null());
    } else {
        // SAFETY: arena record.
        unsafe { &*mine }.live.begin(&peak::LIVE_BYTES);
    }
    threads::reset_in_child(tls);
    tls.guard.set(tls.fork_guard.get());
}
