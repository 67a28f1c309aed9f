//! Counter blocks: one per running thread, handed to the next new thread when its thread ends (its
//! counts stay in it and are summed at exit like any other's), and the orphan block.
//!
//! Every block ever created is on one list that is never unlinked, so the exit writer and the peak
//! snapshot can walk all of them without a lock. Blocks live in the arena for the rest of the
//! process.

use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::arena::RECORDS;
use crate::counters::Counters;
use crate::peak::LIVE_BYTES;
use crate::sync::SpinLock;

/// Every counter block ever created, linked through `next_all`; pushed under `POOL_LOCK`.
static ALL_COUNTERS: AtomicPtr<Counters> = AtomicPtr::new(ptr::null_mut());
/// Blocks whose thread ended, linked through `next_free`; under `POOL_LOCK`.
static POOL: AtomicPtr<Counters> = AtomicPtr::new(ptr::null_mut());
static POOL_LOCK: SpinLock = SpinLock::new();
/// Counters for hooks running on a thread after its block was handed back (glibc's own frees at
/// thread exit, after the TSD destructors), or when a thread's block could not be created. Several
/// threads may use it: under `ORPHAN_LOCK`.
pub static ORPHAN: Counters = Counters::new();
pub static ORPHAN_LOCK: SpinLock = SpinLock::new();

/// A counter block for a thread that starts: a pooled one or a new one.
pub fn acquire() -> Option<&'static Counters> {
    let pooled = {
        let _lock = POOL_LOCK.lock();
        let head = POOL.load(Ordering::Relaxed);
        if !head.is_null() {
            // SAFETY: pooled blocks are arena records.
            POOL.store(
                unsafe { (*head).next_free.load(Ordering::Relaxed) },
                Ordering::Relaxed,
            );
        }
        head
    };
    let c = if pooled.is_null() {
        let p: *mut Counters = RECORDS
            .alloc(
                core::mem::size_of::<Counters>(),
                core::mem::align_of::<Counters>(),
            )?
            .as_ptr()
            .cast();
        // SAFETY: fresh arena memory of the right size and alignment.
        unsafe { p.write(Counters::new()) };
        let _lock = POOL_LOCK.lock();
        // SAFETY: as above; not yet shared.
        unsafe {
            (*p).next_all
                .store(ALL_COUNTERS.load(Ordering::Relaxed), Ordering::Relaxed)
        };
        ALL_COUNTERS.store(p, Ordering::Release);
        p.cast_const()
    } else {
        pooled.cast_const()
    };
    // SAFETY: arena record, owned by the caller from now on.
    let c = unsafe { &*c };
    c.live.begin(&LIVE_BYTES);
    Some(c)
}

/// Hands a block back when its thread ends.
pub fn release(c: &'static Counters) {
    c.live.flush(&LIVE_BYTES);
    let _lock = POOL_LOCK.lock();
    c.next_free
        .store(POOL.load(Ordering::Relaxed), Ordering::Relaxed);
    POOL.store(ptr::from_ref(c).cast_mut(), Ordering::Relaxed);
}

/// Calls `f` for every counter block, the orphan block included.
pub fn for_each(mut f: impl FnMut(&'static Counters)) {
    let mut p = ALL_COUNTERS.load(Ordering::Acquire);
    while !p.is_null() {
        // SAFETY: arena records, never freed.
        let c = unsafe { &*p };
        f(c);
        p = c.next_all.load(Ordering::Relaxed);
    }
    f(&ORPHAN);
}

/// Copies every site's live bytes in every block as those of the peak (see `peak`).
pub fn snapshot_all() {
    for_each(Counters::snapshot);
}

/// The pool's lock, for `fork`.
pub fn lock() -> &'static SpinLock {
    &POOL_LOCK
}

/// In a fork child (single-threaded, locks free): every block forgets what it counted, and all but
/// the forking thread's block `mine` are free for new threads.
pub fn reset_in_child(mine: *const Counters) {
    POOL.store(ptr::null_mut(), Ordering::Relaxed);
    for_each(|c| {
        c.reset();
        if !ptr::eq(c, mine) && !ptr::eq(c, &ORPHAN) {
            c.next_free
                .store(POOL.load(Ordering::Relaxed), Ordering::Relaxed);
            POOL.store(ptr::from_ref(c).cast_mut(), Ordering::Relaxed);
        }
    });
}
