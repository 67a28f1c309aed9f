//! Locks of our own. The interposer never takes a pthread mutex the program could hold: a hook may run
//! inside any program code, including code that holds the program's locks or glibc's.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// A test-and-test-and-set spinlock that yields the CPU when it spins long (a holder may have been
/// preempted; with more threads than cores spinning alone would waste the holder's time slice).
pub struct SpinLock {
    locked: AtomicBool,
}

impl SpinLock {
    pub const fn new() -> Self {
        Self {
            locked: AtomicBool::new(false),
        }
    }

    #[inline]
    pub fn lock(&self) -> SpinGuard<'_> {
        if self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_slow(u64::MAX);
        }
        SpinGuard { lock: self }
    }

    /// For the exit path: gives up after `max_yields` yields of the CPU instead of waiting forever (a
    /// signal handler may have interrupted this very thread while it held the lock).
    pub fn lock_bounded(&self, max_yields: u64) -> Option<SpinGuard<'_>> {
        if self.lock_slow(max_yields) {
            Some(SpinGuard { lock: self })
        } else {
            None
        }
    }

    #[cold]
    fn lock_slow(&self, max_yields: u64) -> bool {
        let mut yields = 0u64;
        loop {
            let mut spins = 0u32;
            while self.locked.load(Ordering::Relaxed) {
                if spins < 100 {
                    spins += 1;
                    core::hint::spin_loop();
                } else {
                    if yields >= max_yields {
                        return false;
                    }
                    yields += 1;
                    // SAFETY: sched_yield has no preconditions.
                    unsafe { crate::sys::sched_yield() };
                }
            }
            if self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return true;
            }
        }
    }

    /// Takes the lock without a guard; `fork` handlers pair it with [`SpinLock::force_unlock`].
    pub fn acquire(&self) {
        core::mem::forget(self.lock());
    }

    /// Releases a lock taken with [`SpinLock::acquire`], or resets one inherited locked by a fork child.
    pub fn force_unlock(&self) {
        self.locked.store(false, Ordering::Release);
    }
}

pub struct SpinGuard<'a> {
    lock: &'a SpinLock,
}

impl Drop for SpinGuard<'_> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

/// Interior mutability for statics written once, in the constructor, before any other thread can see
/// the library active (publication through the state machine, see `state`), or under a lock
/// documented at each use.
pub struct SyncCell<T>(UnsafeCell<T>);

// SAFETY: every access is either before publication or serialized, as documented at each use.
unsafe impl<T: Send> Sync for SyncCell<T> {}

impl<T> SyncCell<T> {
    pub const fn new(value: T) -> Self {
        Self(UnsafeCell::new(value))
    }

    pub fn get(&self) -> *mut T {
        self.0.get()
    }
}
