//! The signal-disposition hooks other than `sigaction`: on a managed signal (see `signals`) they
//! act on the virtual table, on any other signal glibc's function runs.

use core::ffi::c_int;

use crate::hooks::real::Real;
use crate::signals::{self, SIG_ERR};
use crate::sys;

/// `signal`, `bsd_signal` (`sysv == false`; glibc's `bsd_signal` is `signal` under another name)
/// and `sysv_signal`.
pub unsafe fn signal(sig: c_int, handler: usize, sysv: bool) -> usize {
    if let Some(previous) = signals::signal(sig, handler, sysv) {
        return previous;
    }
    let real = Real::get();
    let Some(real) = or_einval(if sysv { real.sysv_signal } else { real.signal }) else {
        return SIG_ERR;
    };
    // SAFETY: glibc's function with the program's arguments.
    unsafe { real(sig, handler) }
}

/// `sigset` (System V): glibc's sets the disposition with its internal `sigaction`, past our hook,
/// so on a managed signal it is redone on the virtual table.
pub unsafe fn sigset(sig: c_int, disp: usize) -> usize {
    if signals::is_managed(sig) {
        return signals::sigset(sig, disp);
    }
    let Some(real) = or_einval(Real::get().sigset) else {
        return SIG_ERR;
    };
    // SAFETY: glibc's sigset with the program's arguments.
    unsafe { real(sig, disp) }
}

/// `sigignore`: as `sigset`, glibc's goes past our `sigaction`.
pub unsafe fn sigignore(sig: c_int) -> c_int {
    if signals::is_managed(sig) {
        return signals::sigignore(sig);
    }
    let Some(real) = or_einval(Real::get().sigignore) else {
        return -1;
    };
    // SAFETY: glibc's sigignore with the program's argument.
    unsafe { real(sig) }
}

/// `siginterrupt`: on a managed signal, SA_RESTART is changed in the virtual disposition.
pub unsafe fn siginterrupt(sig: c_int, interrupt: c_int) -> c_int {
    if signals::is_managed(sig) {
        return signals::siginterrupt(sig, interrupt != 0);
    }
    let Some(real) = or_einval(Real::get().siginterrupt) else {
        return -1;
    };
    // SAFETY: glibc's siginterrupt with the program's arguments.
    unsafe { real(sig, interrupt) }
}

/// `real`, or `None` with `errno` EINVAL.
fn or_einval<F>(real: Option<F>) -> Option<F> {
    if real.is_none() {
        sys::set_errno(sys::EINVAL);
    }
    real
}
