//! The peak of live bytes, when it was reached, and each site's live bytes at that peak (DHAT's
//! t-gmax).
//!
//! Live bytes: each counter block keeps its thread's unpublished change of live bytes in a
//! [`LiveView`] and publishes it to the global total ([`LIVE_BYTES`]) once it passes
//! [`FLUSH_BYTES`] either way (and when the thread ends). After every allocation the thread compares
//! "global total at its last publication + its own change since" with the highest value it saw.
//! With one thread that view is the exact live total, so the peak is exact. With several, a thread
//! does not see the others' changes since its last publication: each of them contributes at most
//! about `FLUSH_BYTES` of error, so the peak is right to within about 16 KiB per thread. The peak's
//! time is stamped only when the peak passes the last stamped value by more than 1/64 (reading the
//! time-stamp counter costs ~20 ns here).
//!
//! Live bytes per site at the peak: a new peak a thread sees is *pending* until the next free on
//! that thread, the moment the peak is known to stand; then every site's live bytes are copied as
//! those of the peak ([`snapshot_pending`]), unless a snapshot of a peak at least as high was taken
//! already ([`SNAPPED_PEAK`]). With one thread this is exactly the state at the process-wide peak
//! (nothing was freed since it was reached). With several, it is the state when this thread's free
//! came, read from the other threads' blocks while they run, for the highest peak any thread saw.
//! The exit writer takes the snapshot of a peak that no free followed.
//!
//! This file decides; the copy itself is a counter of every table entry (`counters`), done for
//! every block by the caller's `copy_all`, so that the peak logic needs no list of blocks.
//!
//! Per thread ([`ThreadLive`], kept in the thread's record): the live bytes of the blocks the
//! thread allocated, whoever frees them. Exact: the thread itself adds and subtracts its own
//! blocks, and other threads' frees of its blocks are summed apart (one atomic add each). Each
//! site keeps the highest value after, and the lowest before, one of its allocations (`counters`):
//! from those of a test's sites the report has the test's peak.

use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use crate::sync::SpinLock;
use crate::sys;

/// A thread's unflushed live-bytes delta is published once it passes this many bytes either way.
pub const FLUSH_BYTES: i64 = 16 * 1024;

/// Live bytes as published by the threads' flushes.
pub static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
/// Live bytes at the last peak snapshot.
pub static SNAPPED_PEAK: AtomicU64 = AtomicU64::new(0);
/// Serializes peak snapshots; a thread that finds it taken skips its snapshot.
static SNAPSHOT_LOCK: SpinLock = SpinLock::new();

/// One counter block's view of live bytes and of the peak (single writer: the block's thread, or
/// whoever holds the orphan lock).
#[repr(C)]
pub struct LiveView {
    /// Global live bytes as of this block's last flush, plus that flush.
    base: AtomicI64,
    /// Live-bytes change not yet added to the global.
    delta: AtomicI64,
    /// Highest live bytes this block observed.
    peak: AtomicU64,
    /// The peak as of the last time stamp, and that stamp (TSC). Reading the TSC costs ~20 ns here,
    /// too much for every allocation of a growing program, so a new peak is stamped only once it
    /// passes the last stamped one by more than 1/64: the peak's time is when live bytes first came
    /// within 1/64 (1.6%) of the peak, while the peak's size stays exact.
    stamped: AtomicU64,
    peak_tsc: AtomicU64,
    /// A peak (this block's view) newer than the last peak snapshot, waiting for the snapshot that
    /// the next free on this thread takes; 0 when none.
    pending: AtomicU64,
}

impl LiveView {
    pub const fn new() -> Self {
        Self {
            base: AtomicI64::new(0),
            delta: AtomicI64::new(0),
            peak: AtomicU64::new(0),
            stamped: AtomicU64::new(0),
            peak_tsc: AtomicU64::new(0),
            pending: AtomicU64::new(0),
        }
    }

    /// Hands the block to a (new) thread: its view starts at the current global `live`.
    pub fn begin(&self, live: &AtomicI64) {
        self.delta.store(0, Ordering::Relaxed);
        self.base
            .store(live.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// After an allocation of `size` bytes: this block's view of live bytes rises; a new high is the
    /// peak as far as this thread can tell (exact when it is the only thread).
    #[inline]
    pub fn add(&self, size: usize, live: &AtomicI64) {
        let delta = self.delta.load(Ordering::Relaxed) + size as i64;
        let seen = self.base.load(Ordering::Relaxed) + delta;
        if seen > self.peak.load(Ordering::Relaxed) as i64 {
            self.new_peak(seen as u64);
        }
        if delta > FLUSH_BYTES {
            self.flush_delta(delta, live);
        } else {
            self.delta.store(delta, Ordering::Relaxed);
        }
    }

    /// After a release of `size` bytes.
    #[inline]
    pub fn sub(&self, size: usize, live: &AtomicI64) {
        let delta = self.delta.load(Ordering::Relaxed) - size as i64;
        if delta < -FLUSH_BYTES {
            self.flush_delta(delta, live);
        } else {
            self.delta.store(delta, Ordering::Relaxed);
        }
    }

    /// Publishes the unflushed delta (thread end, exit).
    pub fn flush(&self, live: &AtomicI64) {
        let delta = self.delta.load(Ordering::Relaxed);
        if delta != 0 {
            self.flush_delta(delta, live);
        }
    }

    #[cold]
    fn flush_delta(&self, delta: i64, live: &AtomicI64) {
        let now = live.fetch_add(delta, Ordering::Relaxed) + delta;
        self.base.store(now, Ordering::Relaxed);
        self.delta.store(0, Ordering::Relaxed);
        if now > self.peak.load(Ordering::Relaxed) as i64 {
            self.new_peak(now as u64);
        }
    }

    #[inline(always)]
    fn new_peak(&self, bytes: u64) {
        self.peak.store(bytes, Ordering::Relaxed);
        if bytes > SNAPPED_PEAK.load(Ordering::Relaxed) {
            self.pending.store(bytes, Ordering::Relaxed);
        }
        let stamped = self.stamped.load(Ordering::Relaxed);
        if bytes > stamped + stamped / 64 {
            self.stamped.store(bytes, Ordering::Relaxed);
            self.peak_tsc.store(sys::rdtsc(), Ordering::Relaxed);
        }
    }

    /// The peak waiting for a snapshot (0: none), cleared.
    #[inline(always)]
    fn take_pending(&self) -> u64 {
        let p = self.pending.load(Ordering::Relaxed);
        if p != 0 {
            self.pending.store(0, Ordering::Relaxed);
        }
        p
    }

    /// (peak bytes, TSC when reached) as this block saw it.
    pub fn peak(&self) -> (u64, u64) {
        (
            self.peak.load(Ordering::Relaxed),
            self.peak_tsc.load(Ordering::Relaxed),
        )
    }

    /// In a fork child: the parent's live bytes and peak are the parent's.
    pub fn reset(&self) {
        self.base.store(0, Ordering::Relaxed);
        self.delta.store(0, Ordering::Relaxed);
        self.peak.store(0, Ordering::Relaxed);
        self.stamped.store(0, Ordering::Relaxed);
        self.peak_tsc.store(0, Ordering::Relaxed);
        self.pending.store(0, Ordering::Relaxed);
    }
}

/// Takes the snapshot of the peak `view` saw, if one is pending: on a free, before it changes
/// anything, and at exit. `copy_all` copies every site's live bytes in every block as those of the
/// peak.
#[inline(always)]
pub fn snapshot_pending(view: &LiveView, copy_all: impl FnOnce()) {
    let pending = view.take_pending();
    if pending != 0 {
        snapshot(pending, copy_all);
    }
}

/// Runs `copy_all` as the snapshot of the peak `peak`, unless a snapshot of a peak at least as high
/// was taken already (or another thread is taking one).
#[cold]
#[inline(never)]
fn snapshot(peak: u64, copy_all: impl FnOnce()) {
    if peak <= SNAPPED_PEAK.load(Ordering::Relaxed) {
        return;
    }
    let Some(_lock) = SNAPSHOT_LOCK.lock_bounded(0) else {
        return;
    };
    if peak <= SNAPPED_PEAK.load(Ordering::Relaxed) {
        return;
    }
    SNAPPED_PEAK.store(peak, Ordering::Relaxed);
    copy_all();
}

/// The highest peak of the views it is shown, and when it was reached (the earliest stamp among
/// equal peaks).
#[derive(Default)]
pub struct Highest {
    pub bytes: u64,
    pub tsc: u64,
}

impl Highest {
    pub fn add(&mut self, view: &LiveView) {
        let (bytes, tsc) = view.peak();
        if bytes > self.bytes || (bytes == self.bytes && tsc < self.tsc) {
            (self.bytes, self.tsc) = (bytes, tsc);
        }
    }
}

/// Threads count their own live bytes (`CARGO_ALLOC_PROFILE_TEST_PEAKS=1`, set by the constructor;
/// the front end sets it for test and benchmark runs). Off, no thread has a [`ThreadLive`] in use
/// and blocks carry no thread tag. Measured with cachegrind (allocbench 100000 shallow): 1048.7M
/// instructions off, 1076.8M on (+2.7%); the tag and the bigger counter entry cost about 0.9% off.
pub static TEST_PEAKS: AtomicBool = AtomicBool::new(false);

/// One thread's live bytes: those of the blocks it allocated and nobody freed yet.
#[repr(C)]
pub struct ThreadLive {
    /// Bytes the thread allocated minus those of its blocks it freed itself. Written by the thread
    /// only (a load and a store, no read-modify-write).
    own: AtomicI64,
    /// Bytes of the thread's blocks that other threads freed (an atomic add by each).
    freed_elsewhere: AtomicU64,
}

impl ThreadLive {
    pub const fn new() -> Self {
        Self {
            own: AtomicI64::new(0),
            freed_elsewhere: AtomicU64::new(0),
        }
    }

    /// After the thread's own allocation of `size` bytes: its live bytes (before, after).
    #[inline(always)]
    pub fn add(&self, size: usize) -> (u64, u64) {
        let own = self.own.load(Ordering::Relaxed) + size as i64;
        self.own.store(own, Ordering::Relaxed);
        let after = (own - self.freed_elsewhere.load(Ordering::Relaxed) as i64).max(0) as u64;
        (after.saturating_sub(size as u64), after)
    }

    /// After the thread freed `size` bytes of a block it allocated.
    #[inline(always)]
    pub fn sub_own(&self, size: usize) {
        let own = self.own.load(Ordering::Relaxed) - size as i64;
        self.own.store(own, Ordering::Relaxed);
    }

    /// After another thread freed `size` bytes of a block this thread allocated.
    #[inline]
    pub fn sub_elsewhere(&self, size: usize) {
        self.freed_elsewhere
            .fetch_add(size as u64, Ordering::Relaxed);
    }
}

/// In a fork child: nothing is live and no peak was seen yet.
pub fn reset_in_child() {
    LIVE_BYTES.store(0, Ordering::Relaxed);
    SNAPPED_PEAK.store(0, Ordering::Relaxed);
}
