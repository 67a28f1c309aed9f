//! Entering the recording path from a hook: the thread's re-entrancy guard, and the handshake with
//! the exit writer that makes what the writer reads whole.
//!
//! A hook [`enter`]s: the guard (a hook that finds it set is our own code allocating, and passes
//! straight through), then its counter block marked busy, then the state read again. The writer
//! [`freeze`]s: the state, then waits until no block is busy. A Dekker pair: a writer that froze the
//! state and then found every block idle knows that no hook is halfway through recording, and any
//! hook that starts later sees the state frozen.

use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::counters::Counters;
use crate::pool::{self, ORPHAN};
use crate::state::{tls, Tls, ACTIVE, FROZEN, STATE};
use crate::sys;
use crate::threads::own_counters;

/// Whether `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` is registered for this process: the exit
/// writer then issues the full barrier on every thread's behalf, and a hook needs only a compiler
/// fence between marking itself busy and reading the state. Without it, each hook pays a real fence.
static MEMBARRIER: AtomicBool = AtomicBool::new(false);

/// Registers the process for expedited private membarriers (at start and in a fork child).
pub fn register_membarrier() {
    MEMBARRIER.store(sys::membarrier_register(), Ordering::Relaxed);
}

/// The hook's half of the handshake: orders the busy mark before the state read that follows.
#[inline(always)]
fn publish_fence() {
    if MEMBARRIER.load(Ordering::Relaxed) {
        core::sync::atomic::compiler_fence(Ordering::SeqCst);
    } else {
        core::sync::atomic::fence(Ordering::SeqCst);
    }
}

/// Marks a hook of the block's thread as recording (the orphan block, which several threads may use
/// at once, counts them).
#[inline(always)]
fn begin_busy(c: &Counters) {
    if ptr::eq(c, &ORPHAN) {
        c.busy.fetch_add(1, Ordering::Relaxed);
    } else {
        c.busy.store(1, Ordering::Relaxed);
    }
}

/// Ends [`begin_busy`]: everything the hook recorded is visible to a writer that sees the mark clear.
#[inline(always)]
fn end_busy(c: &Counters) {
    if ptr::eq(c, &ORPHAN) {
        // Saturating: a fork child resets the count while a hook of the forking thread may still
        // be inside (fork called from a signal handler).
        let _ = c
            .busy
            .fetch_update(Ordering::Release, Ordering::Relaxed, |n| n.checked_sub(1));
    } else {
        c.busy.store(0, Ordering::Release);
    }
}

/// Proof that this thread entered our code with the guard clear and its counter block marked busy;
/// undoes both when dropped.
pub struct Entered {
    pub tls: &'static Tls,
    busy: &'static Counters,
}

impl Entered {
    /// For the wrapped door, whose begin and end are separate calls from C: keeps the guard set and
    /// the block marked busy past this value, as a non-zero token for [`Entered::resume`].
    pub fn into_token(self) -> usize {
        let token = ptr::from_ref(self.tls) as usize;
        core::mem::forget(self);
        token
    }

    /// The thread state behind a token from [`Entered::into_token`], while the call goes on.
    ///
    /// # Safety
    /// `token` must come from [`Entered::into_token`] on this thread, and not be resumed yet.
    pub unsafe fn token_tls(token: usize) -> &'static Tls {
        // SAFETY: per the contract, the address of this thread's `Tls`, which lives as long as the
        // thread.
        unsafe { &*(token as *const Tls) }
    }

    /// The `Entered` a token was made of; dropping it ends the call (the block marked busy at
    /// [`enter`] is this thread's block now too: it changes only when the thread ends).
    ///
    /// # Safety
    /// As [`Entered::token_tls`]; the token must not be used again.
    pub unsafe fn resume(token: usize) -> Entered {
        // SAFETY: per the contract.
        let tls = unsafe { Self::token_tls(token) };
        Entered {
            tls,
            busy: own_counters(tls).unwrap_or(&ORPHAN),
        }
    }
}

impl Drop for Entered {
    #[inline(always)]
    fn drop(&mut self) {
        end_busy(self.busy);
        self.tls.guard.set(false);
    }
}

/// Enters the recording path, or `None` when the hook must pass straight through: not active, or
/// this thread is already inside our code. Registers the thread on its first use.
#[inline(always)]
pub fn enter() -> Option<Entered> {
    if STATE.load(Ordering::Relaxed) != ACTIVE {
        return None;
    }
    let tls = tls();
    if tls.guard.get() {
        return None;
    }
    tls.guard.set(true);
    let busy = own_counters(tls).unwrap_or(&ORPHAN);
    begin_busy(busy);
    publish_fence();
    if STATE.load(Ordering::Acquire) != ACTIVE {
        end_busy(busy);
        tls.guard.set(false);
        return None;
    }
    Some(Entered { tls, busy })
}

/// The writer's half of the handshake: freezes the state (hooks that start from now on pass through
/// unrecorded), then waits until no other thread is halfway through a hook, at most `max_yields`
/// yields of the CPU per busy block (a thread stopped inside a hook, or the writer's own thread
/// interrupted inside one by the signal that makes it write, is not waited for forever). `own` is
/// the writer's own block, not waited for.
pub fn freeze(own: *const Counters, max_yields: u64) {
    STATE.store(FROZEN, Ordering::SeqCst);
    if MEMBARRIER.load(Ordering::Relaxed) {
        sys::membarrier();
    }
    pool::for_each(|c| {
        if ptr::eq(c, own) {
            return;
        }
        let mut yields = 0;
        while c.busy.load(Ordering::Acquire) != 0 && yields < max_yields {
            // SAFETY: no preconditions.
            unsafe { sys::sched_yield() };
            yields += 1;
        }
    });
}
