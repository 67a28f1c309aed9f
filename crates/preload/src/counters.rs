//! Per-thread counters: one open-addressing table per thread, keyed by stack, holding that thread's
//! share of every site's counters, plus the thread's view of live bytes (see `peak`).
//!
//! Why per thread: a counter cache line written by every thread on every allocation made a two-thread
//! program 2.9x slower, per-thread tables 1.04x (FACTS.md). Each table has a single writer (its
//! thread, or whoever holds the orphan lock), which updates with relaxed loads and stores; the exit
//! writer reads all tables and sums them per stack. A table that belonged to a thread that ended is
//! handed to the next new thread (see `pool`), so memory stays bounded by the number of threads
//! alive at once.
//!
//! An entry is found by the stack's 128-bit identity (two independent 64-bit hashes of the frames,
//! their number, the parent and the flags; see `intern`), without comparing frames: the whole-stack
//! comparison on every hit read the interned record (two or three more cache lines) and cost 3.6%
//! of a deep-stack program's time (perf, allocbench serde). Taking a hash match for equality is
//! exact unless two distinct stacks of one thread share both hashes. For hashes that behave as
//! random functions (they are not keyed, so this is a model, not a proof), the birthday bound
//! gives at most n(n-1)/2 * 2^-128 for n distinct stacks: 1.5e-25 for n = 10^7, far more stacks
//! than a program has. A collision would count one stack's allocations to the other within that
//! thread; the interner, which assigns ids and records, compares every frame.

use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use alloc_profile_format::{size_bucket, SIZE_BUCKETS};

mod totals;

pub use totals::Totals;

use crate::intern::{Interner, StackKey, StackRec};
use crate::peak::LiveView;
use crate::sys;

/// Indices of an entry's counters: in its hot part (what every allocation and free touches, with
/// the entry's identity) and in its cold part.
mod c {
    pub const ALLOCATIONS: usize = 0;
    pub const BYTES: usize = 1;
    pub const MAX_SIZE: usize = 2;
    pub const FREES: usize = 3;
    pub const FREED_BYTES: usize = 4;
    pub const HOT: usize = 5;

    // Cold: reallocs, lifetimes, temporaries, growth chains, the peak, thread live bytes.
    pub const REALLOCATIONS: usize = 0;
    pub const LIFETIME_SUM: usize = 1;
    pub const LIFETIME_MAX: usize = 2;
    pub const TEMPORARY: usize = 3;
    pub const GROWTH_CHAINS: usize = 4;
    pub const GROWTH_REALLOCS: usize = 5;
    pub const GROWTH_MAX_REALLOCS: usize = 6;
    pub const GROWTH_MAX_FINAL: usize = 7;
    /// `BYTES - FREED_BYTES` (this thread's share of the site's live bytes) at the last peak snapshot.
    pub const AT_PEAK: usize = 8;
    /// The allocating thread's live bytes (see `peak::ThreadLive`): the highest right after one of
    /// the site's allocations, and the lowest right before one, stored inverted (`!before`) so that
    /// both are raised and a zeroed entry holds neither.
    pub const THREAD_HIGH: usize = 9;
    pub const THREAD_LOW_INV: usize = 10;
    pub const COLD: usize = 11;
}

/// An entry's hot part, one cache line: the stack's 128-bit identity, its record, and the counters
/// every allocation and free touches. A table keeps its hot parts together, apart from the cold
/// ones: with whole 512-byte entries in one array, the hot lines of a thread's entries fell into
/// one L1 set in eight (the stride) and evicted each other (perf, allocbench serde: a fifth of
/// `free`'s samples on loading the entry's first word).
#[repr(C, align(64))]
struct Hot {
    hash: AtomicU64,
    hash2: AtomicU64,
    rec: AtomicPtr<StackRec>,
    counters: [AtomicU64; c::HOT],
}

/// An entry's cold part: the other counters and the size histogram (an allocation touches one
/// line of it for its bucket).
#[repr(C, align(64))]
struct Cold {
    counters: [AtomicU64; c::COLD],
    sizes: [AtomicU64; SIZE_BUCKETS],
}

/// One stack's counters within one thread: its hot and cold parts.
#[derive(Clone, Copy)]
pub struct Entry<'t> {
    hot: &'t Hot,
    cold: &'t Cold,
}

#[inline(always)]
fn bump(counter: &AtomicU64, by: u64) {
    // Single writer: a plain load and store, no locked instruction.
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(by),
        Ordering::Relaxed,
    );
}

#[inline(always)]
fn raise(counter: &AtomicU64, to: u64) {
    if to > counter.load(Ordering::Relaxed) {
        counter.store(to, Ordering::Relaxed);
    }
}

impl Entry<'_> {
    pub fn stack(&self) -> &'static StackRec {
        // SAFETY: only occupied entries are handed out; their record is immutable and never freed.
        unsafe { &*self.hot.rec.load(Ordering::Relaxed) }
    }

    #[inline]
    pub fn add_alloc(&self, size: usize, realloc: bool) {
        let k = &self.hot.counters;
        bump(&k[c::ALLOCATIONS], 1);
        if realloc {
            bump(&self.cold.counters[c::REALLOCATIONS], 1);
        }
        bump(&k[c::BYTES], size as u64);
        raise(&k[c::MAX_SIZE], size as u64);
        bump(&self.cold.sizes[size_bucket(size as u64)], 1);
    }

    /// After one of this site's allocations: the allocating thread's live bytes before and after.
    #[inline]
    pub fn add_thread_live(&self, before: u64, after: u64) {
        let k = &self.cold.counters;
        raise(&k[c::THREAD_HIGH], after);
        raise(&k[c::THREAD_LOW_INV], !before);
    }

    /// A block of `size` bytes released after `lifetime` time-stamp-counter ticks; `temporary` per
    /// heaptrack's definition (see `record`).
    #[inline]
    pub fn add_free(&self, size: usize, lifetime: u64, temporary: bool) {
        let k = &self.hot.counters;
        bump(&k[c::FREES], 1);
        bump(&k[c::FREED_BYTES], size as u64);
        // Without lifetimes (the default) `lifetime` is 0: the entry's cold part is then left alone
        // unless the block was a temporary.
        let cold = &self.cold.counters;
        if lifetime != 0 {
            bump(&cold[c::LIFETIME_SUM], lifetime);
            raise(&cold[c::LIFETIME_MAX], lifetime);
        }
        if temporary {
            bump(&cold[c::TEMPORARY], 1);
        }
    }

    /// A growth chain (a block reallocated `reallocs` times, `final_size` bytes at the end) that ended
    /// (see `chains`).
    #[inline]
    pub fn add_chain(&self, reallocs: u32, final_size: usize) {
        let k = &self.cold.counters;
        bump(&k[c::GROWTH_CHAINS], 1);
        bump(&k[c::GROWTH_REALLOCS], u64::from(reallocs));
        raise(&k[c::GROWTH_MAX_REALLOCS], u64::from(reallocs));
        raise(&k[c::GROWTH_MAX_FINAL], final_size as u64);
    }

    /// Records this entry's live bytes as those of the peak (see `peak`).
    fn snapshot(&self) {
        let k = &self.hot.counters;
        let live = k[c::BYTES]
            .load(Ordering::Relaxed)
            .wrapping_sub(k[c::FREED_BYTES].load(Ordering::Relaxed));
        self.cold.counters[c::AT_PEAK].store(live, Ordering::Relaxed);
    }

    fn totals(&self) -> Totals {
        let h = |i: usize| self.hot.counters[i].load(Ordering::Relaxed);
        let k = |i: usize| self.cold.counters[i].load(Ordering::Relaxed);
        let mut sizes = [0u64; SIZE_BUCKETS];
        for (dst, src) in sizes.iter_mut().zip(&self.cold.sizes) {
            *dst = src.load(Ordering::Relaxed);
        }
        Totals {
            allocations: h(c::ALLOCATIONS),
            reallocations: k(c::REALLOCATIONS),
            bytes: h(c::BYTES),
            frees: h(c::FREES),
            freed_bytes: h(c::FREED_BYTES),
            max_size: h(c::MAX_SIZE),
            lifetime_sum: k(c::LIFETIME_SUM),
            lifetime_max: k(c::LIFETIME_MAX),
            temporary: k(c::TEMPORARY),
            growth_chains: k(c::GROWTH_CHAINS),
            growth_reallocs: k(c::GROWTH_REALLOCS),
            growth_max_reallocs: k(c::GROWTH_MAX_REALLOCS),
            growth_max_final: k(c::GROWTH_MAX_FINAL),
            at_peak: k(c::AT_PEAK) as i64,
            thread_high: k(c::THREAD_HIGH),
            thread_low_inv: k(c::THREAD_LOW_INV),
            sizes,
        }
    }

    /// Copies every counter of `other` (table growth, by the owner).
    fn copy_from(&self, other: Entry<'_>) {
        for (dst, src) in self.hot.counters.iter().zip(&other.hot.counters) {
            dst.store(src.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        for (dst, src) in self.cold.counters.iter().zip(&other.cold.counters) {
            dst.store(src.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        for (dst, src) in self.cold.sizes.iter().zip(&other.cold.sizes) {
            dst.store(src.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }
}

/// Header of a table mapping; `cap` hot parts follow at offset 64, then `cap` cold parts.
#[repr(C, align(64))]
struct Table {
    cap: usize,
    len: AtomicUsize,
}

const FIRST_CAPACITY: usize = 64;

impl Table {
    fn bytes(cap: usize) -> usize {
        core::mem::size_of::<Table>()
            + cap * (core::mem::size_of::<Hot>() + core::mem::size_of::<Cold>())
    }

    fn create(cap: usize) -> *mut Table {
        match sys::map(Self::bytes(cap)) {
            Some(p) => {
                let t: *mut Table = p.as_ptr().cast();
                // SAFETY: fresh zeroed mapping with room for the header.
                unsafe { (*t).cap = cap };
                t
            }
            None => ptr::null_mut(),
        }
    }

    /// # Safety
    /// `t` must be a live table and `i < cap`.
    #[inline(always)]
    unsafe fn entry<'t>(t: *const Table, i: usize) -> Entry<'t> {
        // SAFETY: per the contract: hot parts start one header (64 bytes) in, cold parts after
        // `cap` hot parts.
        unsafe {
            let hot = t.cast::<Hot>().add(1);
            let cold = hot.add((*t).cap).cast::<Cold>();
            Entry {
                hot: &*hot.add(i),
                cold: &*cold.add(i),
            }
        }
    }
}

/// One thread's counters (or the orphan block's, see `pool`).
#[repr(C, align(64))]
pub struct Counters {
    table: AtomicPtr<Table>,
    /// Link in the list of every block ever created (never unlinked).
    pub next_all: AtomicPtr<Counters>,
    /// Link in the pool of blocks whose thread ended.
    pub next_free: AtomicPtr<Counters>,
    /// This block's share of live bytes and its view of the peak.
    pub live: LiveView,
    /// Non-zero while a hook of the owning thread records (for the orphan block: how many hooks do).
    /// The exit writer waits for it to drop after freezing the state, so what it reads is whole
    /// (see `guard`).
    pub busy: AtomicU32,
}

impl Counters {
    pub const fn new() -> Self {
        Self {
            table: AtomicPtr::new(ptr::null_mut()),
            next_all: AtomicPtr::new(ptr::null_mut()),
            next_free: AtomicPtr::new(ptr::null_mut()),
            live: LiveView::new(),
            busy: AtomicU32::new(0),
        }
    }

    /// The entry for the stack `key` describes, interning it on first use in this table. `None` when
    /// out of memory.
    #[inline]
    pub fn entry_for_key(&self, key: &StackKey<'_>, interner: &Interner) -> Option<Entry<'_>> {
        let table = self.table.load(Ordering::Relaxed);
        if !table.is_null() {
            // SAFETY: our own live table.
            let mask = unsafe { (*table).cap } - 1;
            let mut i = key.hash as usize & mask;
            loop {
                // SAFETY: i < cap.
                let e = unsafe { Table::entry(table, i) };
                let rec = e.hot.rec.load(Ordering::Relaxed);
                if rec.is_null() {
                    break;
                }
                // The 128-bit identity decides, without reading the record (see the module docs).
                if e.hot.hash.load(Ordering::Relaxed) == key.hash
                    && e.hot.hash2.load(Ordering::Relaxed) == key.hash2
                {
                    return Some(e);
                }
                i = (i + 1) & mask;
            }
        }
        let rec = interner.intern(key)?;
        self.insert(rec)
    }

    /// The entry for an interned stack (the free path knows the record from the live table).
    #[inline]
    pub fn entry_for_stack(&self, rec: &'static StackRec) -> Option<Entry<'_>> {
        let table = self.table.load(Ordering::Relaxed);
        if !table.is_null() {
            // SAFETY: our own live table.
            let mask = unsafe { (*table).cap } - 1;
            let mut i = rec.hash as usize & mask;
            loop {
                // SAFETY: i < cap.
                let e = unsafe { Table::entry(table, i) };
                let r = e.hot.rec.load(Ordering::Relaxed);
                if r.is_null() {
                    break;
                }
                if ptr::eq(r, rec) {
                    return Some(e);
                }
                i = (i + 1) & mask;
            }
        }
        self.insert(rec)
    }

    #[cold]
    fn insert(&self, rec: &'static StackRec) -> Option<Entry<'_>> {
        let table = self.table_with_room()?;
        // SAFETY: live table with at least one empty slot.
        let mask = unsafe { (*table).cap } - 1;
        let mut i = rec.hash as usize & mask;
        loop {
            // SAFETY: i < cap.
            let e = unsafe { Table::entry(table, i) };
            if e.hot.rec.load(Ordering::Relaxed).is_null() {
                e.hot.hash.store(rec.hash, Ordering::Relaxed);
                e.hot.hash2.store(rec.hash2, Ordering::Relaxed);
                e.hot
                    .rec
                    .store(ptr::from_ref(rec).cast_mut(), Ordering::Release);
                // SAFETY: live table.
                let len = unsafe { &(*table).len };
                len.store(len.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                return Some(e);
            }
            i = (i + 1) & mask;
        }
    }

    /// A table with room for one more entry: grown past 3/4 full. The old table stays mapped (the exit
    /// writer may be reading it); copies are rare and total at most the final size.
    fn table_with_room(&self) -> Option<*mut Table> {
        let table = self.table.load(Ordering::Relaxed);
        if table.is_null() {
            let fresh = Table::create(FIRST_CAPACITY);
            if fresh.is_null() {
                return None;
            }
            self.table.store(fresh, Ordering::Release);
            return Some(fresh);
        }
        // SAFETY: live table.
        let (cap, len) = unsafe { ((*table).cap, (*table).len.load(Ordering::Relaxed)) };
        if (len + 1) * 4 <= cap * 3 {
            return Some(table);
        }
        let fresh = Table::create(cap * 2);
        if fresh.is_null() {
            return (len + 1 < cap - cap / 16).then_some(table);
        }
        let mask = cap * 2 - 1;
        for i in 0..cap {
            // SAFETY: i < cap of the old table.
            let old = unsafe { Table::entry(table, i) };
            let rec = old.hot.rec.load(Ordering::Relaxed);
            if rec.is_null() {
                continue;
            }
            let hash = old.hot.hash.load(Ordering::Relaxed);
            let mut j = hash as usize & mask;
            loop {
                // SAFETY: j < cap of the new table.
                let new = unsafe { Table::entry(fresh, j) };
                if new.hot.rec.load(Ordering::Relaxed).is_null() {
                    new.hot.hash.store(hash, Ordering::Relaxed);
                    new.hot
                        .hash2
                        .store(old.hot.hash2.load(Ordering::Relaxed), Ordering::Relaxed);
                    new.copy_from(old);
                    new.hot.rec.store(rec, Ordering::Relaxed);
                    break;
                }
                j = (j + 1) & mask;
            }
        }
        // SAFETY: the fresh table is ours until published.
        unsafe { (*fresh).len.store(len, Ordering::Relaxed) };
        self.table.store(fresh, Ordering::Release);
        Some(fresh)
    }

    /// Calls `f` for every stack this block counted. May run while the owner still writes: the
    /// values are then a moment's snapshot.
    pub fn for_each(&self, mut f: impl FnMut(&'static StackRec, &Totals)) {
        let table = self.table.load(Ordering::Acquire);
        if table.is_null() {
            return;
        }
        // SAFETY: tables are never unmapped while the process may still write the profile.
        let cap = unsafe { (*table).cap };
        for i in 0..cap {
            // SAFETY: i < cap.
            let e = unsafe { Table::entry(table, i) };
            let rec = e.hot.rec.load(Ordering::Acquire);
            if !rec.is_null() {
                // SAFETY: published record.
                f(unsafe { &*rec }, &e.totals());
            }
        }
    }

    /// Records every entry's live bytes as those of the peak (see `peak`). Reads another thread's
    /// block racily: its entries are a moment's values.
    pub fn snapshot(&self) {
        let table = self.table.load(Ordering::Acquire);
        if table.is_null() {
            return;
        }
        // SAFETY: tables stay mapped while the process runs (except in a fork child's reset).
        let cap = unsafe { (*table).cap };
        for i in 0..cap {
            // SAFETY: i < cap.
            let e = unsafe { Table::entry(table, i) };
            if !e.hot.rec.load(Ordering::Acquire).is_null() {
                e.snapshot();
            }
        }
    }

    /// In a fork child: forget everything counted (the parent's counts are the parent's). The table is
    /// dropped without touching its pages, so a child that execs soon copies nothing.
    pub fn reset(&self) {
        let table = self.table.swap(ptr::null_mut(), Ordering::Relaxed);
        if !table.is_null() {
            // SAFETY: the child has a single thread and nothing else refers to this table.
            unsafe { sys::unmap(table.cast(), Table::bytes((*table).cap)) };
        }
        self.live.reset();
        self.busy.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::AtomicI64;
    use std::collections::HashMap;

    fn key(frames: &[u64]) -> StackKey<'_> {
        StackKey::new(frames, u32::MAX, 0)
    }

    #[test]
    fn counts_per_stack_and_merges_across_threads() {
        let interner: &'static Interner = Box::leak(Box::new(Interner::new()));
        let live: &'static AtomicI64 = Box::leak(Box::new(AtomicI64::new(0)));
        // Two "threads", each a Counters block: both allocate from the same 300 stacks; the second
        // frees what the first allocated (a cross-thread free is credited to the allocating stack).
        let a: &'static Counters = Box::leak(Box::new(Counters::new()));
        let b: &'static Counters = Box::leak(Box::new(Counters::new()));
        let handles: Vec<_> = [a, b]
            .into_iter()
            .enumerate()
            .map(|(t, c)| {
                std::thread::spawn(move || {
                    c.live.begin(live);
                    for round in 0..3u64 {
                        for s in 0..300u64 {
                            let frames = [0x1000 + s, 0x2000];
                            let e = c.entry_for_key(&key(&frames), interner).unwrap();
                            e.add_alloc((s + round) as usize, t == 1);
                            if t == 1 {
                                let rec = interner.lookup(&key(&frames)).unwrap();
                                c.entry_for_stack(rec).unwrap().add_free(
                                    s as usize,
                                    10,
                                    s % 2 == 0,
                                );
                            }
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let mut merged: HashMap<u32, Totals> = HashMap::new();
        for c in [a, b] {
            c.for_each(|rec, t| merged.entry(rec.id).or_default().merge(t));
        }
        assert_eq!(merged.len(), 300);
        for s in 0..300u64 {
            let rec = interner.lookup(&key(&[0x1000 + s, 0x2000])).unwrap();
            let t = merged[&rec.id];
            assert_eq!(t.allocations, 6);
            assert_eq!(t.reallocations, 3);
            assert_eq!(t.bytes, 2 * (3 * s + 3));
            assert_eq!((t.frees, t.freed_bytes), (3, 3 * s));
            assert_eq!(t.max_size, s + 2);
            assert_eq!((t.lifetime_sum, t.lifetime_max), (30, 10));
            assert_eq!(t.temporary, if s % 2 == 0 { 3 } else { 0 });
            assert_eq!(t.sizes.iter().sum::<u64>(), 6);
            assert!(t.sizes[size_bucket(s + 2)] >= 2);
        }
    }

    #[test]
    fn peak_is_exact_for_one_thread() {
        let live = AtomicI64::new(0);
        let c = Counters::new();
        c.live.begin(&live);
        // Up to 100 KB in 1000-byte steps, down to 50 KB, up to 120 KB, down to 0.
        let mut now = 0i64;
        let mut peak = 0i64;
        let mut step = |c: &Counters, up: bool| {
            if up {
                c.live.add(1000, &live);
                now += 1000;
            } else {
                c.live.sub(1000, &live);
                now -= 1000;
            }
            peak = peak.max(now);
        };
        for _ in 0..100 {
            step(&c, true);
        }
        for _ in 0..50 {
            step(&c, false);
        }
        for _ in 0..70 {
            step(&c, true);
        }
        for _ in 0..120 {
            step(&c, false);
        }
        assert_eq!(c.live.peak().0, 120_000);
        assert_eq!(peak, 120_000);
        c.live.flush(&live);
        assert_eq!(live.load(Ordering::Relaxed), 0);
        c.reset();
        assert_eq!(c.live.peak(), (0, 0));
        let mut n = 0;
        c.for_each(|_, _| n += 1);
        assert_eq!(n, 0);
    }
}
