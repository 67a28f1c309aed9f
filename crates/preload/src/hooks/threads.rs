//! `pthread_create` and `pthread_setname_np`: a new thread's stacks continue in the stack that
//! spawned it, and threads keep the names the program gives them.

use core::ffi::{c_char, c_int, c_void};

use crate::guard::enter;
use crate::hooks::real::Real;
use crate::record;
use crate::state::tls;
use crate::sys;
use crate::threads::{self, StartFn};

/// Starts the thread through the trampoline, which gives it the spawner's stack as parent. glibc's own
/// allocations inside `pthread_create` are recorded (on the spawning thread, by DWARF unwind).
pub unsafe fn pthread_create(
    thread: *mut usize,
    attr: *const c_void,
    start: StartFn,
    arg: *mut c_void,
) -> c_int {
    let Some(real) = Real::get().pthread_create else {
        return sys::EAGAIN;
    };
    let spawn = enter().and_then(|e| threads::new_spawn(start, arg, record::spawn_stack(e.tls)));
    let Some(spawn) = spawn else {
        // SAFETY: the real pthread_create with the program's arguments.
        return unsafe { real(thread, attr, start, arg) };
    };
    let tls = tls();
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
    let Some(real) = Real::get().pthread_setname_np else {
        return sys::EINVAL;
    };
    // SAFETY: the real function with the program's arguments.
    let rc = unsafe { real(thread, name) };
    if rc == 0 {
        threads::record_name(thread, name);
    }
    rc
}
