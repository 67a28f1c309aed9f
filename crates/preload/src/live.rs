//! The live table: address → (stack, requested size, allocation time, realloc count, allocating
//! thread) for every tracked block, so a `free` (from any thread) finds the site and the thread to
//! credit and the block's lifetime and growth, and the exit writer can count what is still live.
//!
//! Blocks are never touched: no header of ours inside glibc's chunks, so `malloc_usable_size` and
//! friends keep working. The table is sharded by the 1 MiB region an address falls in, each shard
//! behind its own padded spinlock: glibc gives each thread its own arena (64 MiB-aligned heaps), so
//! threads mostly touch different shards and a lock's cache line stays with one core. 1 MiB rather
//! than 64 MiB spreads one heap over many shards, so no single table grows to hold a whole heap
//! (growing keeps the old and the new table resident at once): allocbench serde's peak RSS went
//! from 88–110 MB (run to run) to a steady 81.7 MB (native 53.8 MB), same instruction count, and
//! its two-thread workload got no slower (median of 5 interleaved runs 0.79 s against 0.88 s).
//!
//! A slot is 16 bytes (see `slots`): without a time stamp (the thread's last allocation is
//! recognized by address and thread tag) and with the stack's id instead of its record's address;
//! a block that does not fit goes to a second table of 24-byte slots, and with lifetimes measured
//! every block goes to a third of 32-byte slots. A table grows past three quarters full. Against
//! 32-byte slots grown at half full (allocbench at scale 1,000,000, peak RSS of the process):
//! serde 79.9 → 67.1 MiB (native 52.5), shallow 4.8 → 4.1 MiB (native 2.9), threads 6.9 → 5.0
//! MiB (native 3.8). It costs instructions (cachegrind: +3% on shallow, +4% on serde: the id is
//! looked up on every release) and saves misses (an L2-sized simulated cache: half the misses on
//! shallow, an eighth fewer on serde); wall time did not move beyond this machine's noise.

use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};

mod slots;

pub use slots::{Block, MAX_TAG};
use slots::{Compact, Narrow, Slot, Stamped};

use crate::intern::Interner;
use crate::sync::{SpinGuard, SpinLock};
use crate::sys;

const SHARD_BITS: u32 = 10;
const SHARDS: usize = 1 << SHARD_BITS;
const REGION_SHIFT: u32 = 20;
const FIRST_CAPACITY: usize = 1024;
const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

struct Inner<S> {
    slots: *mut S,
    cap: usize,
    len: usize,
    /// `64 - log2(cap)`.
    shift: u32,
}

#[repr(C, align(64))]
struct Shard<S> {
    lock: SpinLock,
    inner: UnsafeCell<Inner<S>>,
}

pub struct LiveTable<S> {
    shards: [Shard<S>; SHARDS],
}

// SAFETY: each shard's `inner` is only accessed with that shard's lock held.
unsafe impl<S: Slot> Sync for LiveTable<S> {}

impl<S: Slot> Inner<S> {
    /// Home slot: the 4 KiB page is hashed, the position within the page is kept, so blocks that
    /// are close in memory (allocated one after another) land in neighbouring slots and one cache
    /// miss serves many operations, while pages still spread over the whole table.
    #[inline(always)]
    fn home(&self, addr: usize) -> usize {
        let page = ((addr as u64 >> 12).wrapping_mul(MUL) >> self.shift) as usize;
        (page + ((addr >> 4) & 0xff)) & (self.cap - 1)
    }

    #[inline(always)]
    fn slot(&self, i: usize) -> *mut S {
        // SAFETY: callers pass i < cap, inside the mapping.
        unsafe { self.slots.add(i) }
    }

    /// Doubles the table; `false` when out of memory.
    fn grow(&mut self) -> bool {
        let cap = if self.cap == 0 {
            FIRST_CAPACITY
        } else {
            self.cap * 2
        };
        let Some(mem) = sys::map(cap * core::mem::size_of::<S>()) else {
            return false;
        };
        let old = core::mem::replace(
            self,
            Inner {
                slots: mem.as_ptr().cast(),
                cap,
                len: 0,
                shift: 64 - cap.trailing_zeros(),
            },
        );
        for i in 0..old.cap {
            // SAFETY: i < old.cap.
            let s = unsafe { *old.slot(i) };
            if !s.is_empty() {
                self.put(s);
            }
        }
        if old.cap != 0 {
            // SAFETY: the old mapping is no longer referenced (we hold the shard lock).
            unsafe { sys::unmap(old.slots.cast(), old.cap * core::mem::size_of::<S>()) };
        }
        true
    }

    /// Inserts or overwrites; there must be an empty slot.
    fn put(&mut self, s: S) {
        let mask = self.cap - 1;
        let mut i = self.home(s.addr());
        loop {
            let p = self.slot(i);
            // SAFETY: i < cap.
            let cur = unsafe { &mut *p };
            if cur.is_empty() {
                *cur = s;
                self.len += 1;
                return;
            }
            if cur.holds(s.addr()) {
                *cur = s;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Takes the block at `addr` out: what was tracked there, decoded (inlined into the hook, so
    /// that the block's fields stay in registers: returned through memory, the mixed-width stores of
    /// the decoding and the wide loads of the copy stalled store forwarding).
    #[inline(always)]
    fn take(&mut self, addr: usize, stacks: &Interner) -> Option<Block> {
        if self.cap == 0 {
            return None;
        }
        let mask = self.cap - 1;
        let mut i = self.home(addr);
        loop {
            // SAFETY: i < cap.
            let cur = unsafe { &*self.slot(i) };
            if cur.is_empty() {
                return None;
            }
            if cur.holds(addr) {
                let found = cur.block(stacks);
                self.delete(i);
                return found;
            }
            i = (i + 1) & mask;
        }
    }

    /// Empties slot `i` by backward-shift deletion: later entries of its probe run move into the
    /// hole, so lookups never need tombstones.
    #[inline(never)]
    fn delete(&mut self, i: usize) {
        let mask = self.cap - 1;
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            // SAFETY: j < cap.
            let next = unsafe { &*self.slot(j) };
            if next.is_empty() {
                break;
            }
            let home = self.home(next.addr());
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                // SAFETY: hole, j < cap, distinct.
                unsafe { *self.slot(hole) = *self.slot(j) };
                hole = j;
            }
        }
        // SAFETY: hole < cap.
        unsafe { (*self.slot(hole)).clear() };
        self.len -= 1;
    }
}

impl<S: Slot> LiveTable<S> {
    pub const fn new() -> Self {
        Self {
            shards: [const {
                Shard {
                    lock: SpinLock::new(),
                    inner: UnsafeCell::new(Inner {
                        slots: ptr::null_mut(),
                        cap: 0,
                        len: 0,
                        shift: 64,
                    }),
                }
            }; SHARDS],
        }
    }

    #[inline(always)]
    fn shard(&self, addr: usize) -> &Shard<S> {
        // A different multiplier and bit range than the in-shard home slot, so the addresses of one
        // shard do not all share the same home bits.
        let i = ((addr as u64 >> REGION_SHIFT).wrapping_mul(0xD6E8_FEB8_6659_FD93) >> 40) as usize;
        &self.shards[i & (SHARDS - 1)]
    }

    /// Tracks a block; `false` when the table cannot grow (out of memory).
    #[inline(always)]
    pub fn insert(&self, addr: usize, block: &Block) -> bool {
        let shard = self.shard(addr);
        let _guard = shard.lock.lock();
        // SAFETY: the shard lock is held.
        let inner = unsafe { &mut *shard.inner.get() };
        if (inner.len + 1) * 4 > inner.cap * 3
            && !inner.grow()
            && (inner.cap == 0 || inner.len + 1 >= inner.cap - inner.cap / 8)
        {
            return false;
        }
        inner.put(S::new(addr, block));
        true
    }

    /// Stops tracking a block: what was tracked, or `None` if it was not.
    #[inline(always)]
    pub fn remove(&self, addr: usize, stacks: &Interner) -> Option<Block> {
        let shard = self.shard(addr);
        let _guard = shard.lock.lock();
        // SAFETY: the shard lock is held.
        let inner = unsafe { &mut *shard.inner.get() };
        inner.take(addr, stacks)
    }

    /// Calls `f(block)` for every tracked block. For the exit writer: a shard whose lock cannot be
    /// had within `max_yields` yields of the CPU is skipped rather than waited for.
    pub fn for_each(&self, max_yields: u64, stacks: &Interner, mut f: impl FnMut(&Block)) {
        for shard in &self.shards {
            let Some(_guard): Option<SpinGuard<'_>> = shard.lock.lock_bounded(max_yields) else {
                continue;
            };
            // SAFETY: the shard lock is held.
            let inner = unsafe { &*shard.inner.get() };
            for i in 0..inner.cap {
                // SAFETY: i < cap.
                let s = unsafe { *inner.slot(i) };
                if !s.is_empty() {
                    if let Some(b) = s.block(stacks) {
                        f(&b);
                    }
                }
            }
        }
    }

    /// For `fork`: every shard lock.
    pub fn locks(&self) -> impl Iterator<Item = &SpinLock> {
        self.shards.iter().map(|s| &s.lock)
    }

    /// In a fork child, with every lock held by this thread: forget all blocks (they are the parent's).
    pub fn clear_in_child(&self) {
        for shard in &self.shards {
            // SAFETY: the child is single-threaded and the fork handler holds every lock.
            let inner = unsafe { &mut *shard.inner.get() };
            if inner.cap != 0 {
                // SAFETY: the mapping is no longer referenced.
                unsafe { sys::unmap(inner.slots.cast(), inner.cap * core::mem::size_of::<S>()) };
            }
            *inner = Inner {
                slots: ptr::null_mut(),
                cap: 0,
                len: 0,
                shift: 64,
            };
        }
    }
}

/// The tracked blocks: in the narrow table, or the compact one for a block that does not fit a
/// narrow slot; in the stamped one when lifetimes are measured (the caller says which, the same
/// way for the whole process: `stamped`). A narrow slot holds a stack id, whose record comes from
/// `stacks`.
pub struct Live {
    stacks: &'static Interner,
    narrow: LiveTable<Narrow>,
    compact: LiveTable<Compact>,
    /// Blocks in the compact table: a release looks there only when there are any.
    compact_len: AtomicUsize,
    stamped: LiveTable<Stamped>,
}

impl Live {
    pub const fn new(stacks: &'static Interner) -> Self {
        Self {
            stacks,
            narrow: LiveTable::new(),
            compact: LiveTable::new(),
            compact_len: AtomicUsize::new(0),
            stamped: LiveTable::new(),
        }
    }

    /// Tracks a block (see [`LiveTable::insert`]) in the table `stamped` and its fit pick. An
    /// address is in one table at most: a block at an address still tracked (its release went
    /// unseen, e.g. glibc's own realloc of a `getline` buffer) replaces the old one, in whichever
    /// table that is. Only the narrow table's path is inlined: more inlined copies made the stack
    /// walk before them spill registers (+3.5% instructions, `bench/cachegrind.sh`).
    #[inline(always)]
    pub fn insert(&self, addr: usize, block: &Block, stamped: bool) -> bool {
        if !stamped && Narrow::fits(addr, block) {
            if self.compact_len.load(Ordering::Relaxed) != 0 {
                let _ = self.remove_compact(addr);
            }
            self.narrow.insert(addr, block)
        } else {
            self.insert_other(addr, block, stamped)
        }
    }

    #[inline(never)]
    fn insert_other(&self, addr: usize, block: &Block, stamped: bool) -> bool {
        if stamped {
            return self.stamped.insert(addr, block);
        }
        let _ = self.narrow.remove(addr, self.stacks);
        // Counted before the block can be found: whoever frees it afterwards sees the count.
        self.compact_len.fetch_add(1, Ordering::Relaxed);
        let replaced = self.compact.remove(addr, self.stacks).is_some();
        let inserted = self.compact.insert(addr, block);
        if replaced || !inserted {
            self.compact_len.fetch_sub(1, Ordering::Relaxed);
        }
        inserted
    }

    /// Stops tracking a block (see [`LiveTable::remove`]), from the tables `stamped` picks (the
    /// others' paths out of line).
    #[inline(always)]
    pub fn remove(&self, addr: usize, stamped: bool) -> Option<Block> {
        if stamped {
            return self.remove_stamped(addr);
        }
        match self.narrow.remove(addr, self.stacks) {
            Some(b) => Some(b),
            None if self.compact_len.load(Ordering::Relaxed) != 0 => self.remove_compact(addr),
            None => None,
        }
    }

    #[inline(never)]
    fn remove_stamped(&self, addr: usize) -> Option<Block> {
        self.stamped.remove(addr, self.stacks)
    }

    #[inline(never)]
    fn remove_compact(&self, addr: usize) -> Option<Block> {
        let b = self.compact.remove(addr, self.stacks);
        if b.is_some() {
            self.compact_len.fetch_sub(1, Ordering::Relaxed);
        }
        b
    }

    /// [`LiveTable::for_each`] over every table.
    pub fn for_each(&self, max_yields: u64, mut f: impl FnMut(&Block)) {
        self.narrow.for_each(max_yields, self.stacks, &mut f);
        self.compact.for_each(max_yields, self.stacks, &mut f);
        self.stamped.for_each(max_yields, self.stacks, f);
    }

    /// For `fork`: every shard lock of every table.
    pub fn locks(&self) -> impl Iterator<Item = &SpinLock> {
        self.narrow
            .locks()
            .chain(self.compact.locks())
            .chain(self.stamped.locks())
    }

    /// [`LiveTable::clear_in_child`] for every table.
    pub fn clear_in_child(&self) {
        self.narrow.clear_in_child();
        self.compact.clear_in_child();
        self.compact_len.store(0, Ordering::Relaxed);
        self.stamped.clear_in_child();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intern::{Interner, StackKey, StackRec};
    use std::collections::HashMap;

    /// A block whose other fields follow from its size (`tag_step` spreads the thread tags).
    fn block(rec: &'static StackRec, size: usize, tag_step: u32) -> Block {
        Block {
            rec,
            size,
            tsc: size as u64 * 3,
            reallocs: (size % 5) as u32,
            thread: (size % 7) as u32 * tag_step,
        }
    }

    fn recs(n: u64) -> (&'static Interner, Vec<&'static StackRec>) {
        let interner: &'static Interner = Box::leak(Box::new(Interner::new()));
        let recs = (0..n)
            .map(|i| interner.intern(&StackKey::new(&[i], 0, 0)).unwrap())
            .collect();
        (interner, recs)
    }

    /// A deterministic pseudo-random sequence.
    fn xorshift(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    #[test]
    fn insert_remove_matches_a_hash_map() {
        // Tags up to 840,000 (past a narrow slot's 2^19) where the layout holds them.
        insert_remove::<Compact>(false, 140_000);
        insert_remove::<Stamped>(true, 140_000);
        insert_remove::<Narrow>(false, 70_000);
    }

    fn insert_remove<S: Slot>(stamped: bool, tag_step: u32) {
        let table = Box::new(LiveTable::<S>::new());
        let (stacks, recs) = recs(16);
        let mut model: HashMap<usize, (u32, usize)> = HashMap::new();
        // A mix of inserts and removes over clustered addresses, enough to grow tables and exercise
        // backward-shift deletion across wrap-around.
        let mut x: u64 = 0x1234_5678;
        for step in 0..200_000u64 {
            xorshift(&mut x);
            let region = (x >> 40) % 3;
            let addr = (0x5555_0000_0000 + region * (1 << 26) + (x % 50_000) * 16) as usize;
            if x % 3 == 0 {
                let got = table.remove(addr, stacks).map(|b| {
                    assert_eq!(
                        (b.tsc, b.reallocs, b.thread),
                        (
                            if stamped { b.size as u64 * 3 } else { 0 },
                            (b.size % 5) as u32,
                            (b.size % 7) as u32 * tag_step
                        )
                    );
                    (b.rec.id, b.size)
                });
                assert_eq!(got, model.remove(&addr), "step {step}");
            } else {
                let rec = recs[(x % 16) as usize];
                let size = (x % 1000) as usize;
                assert!(table.insert(addr, &block(rec, size, tag_step)));
                model.insert(addr, (rec.id, size));
            }
        }
        let mut seen = HashMap::new();
        table.for_each(u64::MAX, stacks, |b| {
            *seen.entry((b.rec.id, b.size)).or_insert(0) += 1;
        });
        let mut expected = HashMap::new();
        for v in model.values() {
            *expected.entry(*v).or_insert(0) += 1;
        }
        assert_eq!(seen, expected);
        for addr in model.keys() {
            assert!(table.remove(*addr, stacks).is_some());
        }
        let mut left = 0;
        table.for_each(u64::MAX, stacks, |_| left += 1);
        assert_eq!(left, 0);
    }

    /// Blocks that do not fit a narrow slot (addresses not 8-aligned, 4 GiB and more, 64 reallocs
    /// and more, tags past 2^19) go to the compact table and come back whole from either.
    #[test]
    fn blocks_that_do_not_fit_narrow_slots_are_kept_whole() {
        let (stacks, recs) = recs(8);
        let live: &'static Live = Box::leak(Box::new(Live::new(stacks)));
        let mut model: HashMap<usize, (u32, usize, u32, u32)> = HashMap::new();
        let mut x: u64 = 0x9876_5432;
        let mut wide = 0;
        for step in 0..100_000u64 {
            xorshift(&mut x);
            let addr = 0x7000_0000_0000 + (x % 20_000) as usize * 8 + usize::from(x % 19 == 0) * 4;
            if x % 3 == 0 {
                let got = live
                    .remove(addr, false)
                    .map(|b| (b.rec.id, b.size, b.reallocs, b.thread));
                assert_eq!(got, model.remove(&addr), "step {step}");
            } else {
                let b = Block {
                    rec: recs[(x % 8) as usize],
                    size: if x % 11 == 0 {
                        (1 << 32) + (x % 7) as usize
                    } else {
                        (x % 500) as usize
                    },
                    tsc: 0,
                    reallocs: if x % 13 == 0 {
                        64 + (x % 3) as u32
                    } else {
                        (x % 60) as u32
                    },
                    thread: if x % 17 == 0 {
                        (1 << 19) + 5
                    } else {
                        (x % 1000) as u32
                    },
                };
                if !Narrow::fits(addr, &b) {
                    wide += 1;
                }
                // A block at a tracked address replaces it (as if the program freed it unseen),
                // whichever table the old one is in.
                assert!(live.insert(addr, &b, false));
                model.insert(addr, (b.rec.id, b.size, b.reallocs, b.thread));
            }
        }
        assert!(wide > 10_000, "{wide}");
        let mut seen = 0;
        live.for_each(u64::MAX, |b| {
            seen += 1;
            assert!(b.size < 1 << 33);
        });
        assert_eq!(seen, model.len());
        for (addr, expected) in &model {
            let b = live.remove(*addr, false).unwrap();
            assert_eq!((b.rec.id, b.size, b.reallocs, b.thread), *expected);
        }
        assert_eq!(live.compact_len.load(Ordering::Relaxed), 0);
        assert!(live.remove(0x7000_0000_0000, false).is_none());
    }

    #[test]
    fn cross_thread_frees() {
        let (stacks, recs) = recs(1);
        let live: &'static Live = Box::leak(Box::new(Live::new(stacks)));
        let rec = recs[0];
        let producer = std::thread::spawn(move || {
            for i in 1..=100_000usize {
                assert!(live.insert(i * 16, &block(rec, i, 1000), false));
            }
        });
        producer.join().unwrap();
        let consumers: Vec<_> = (0..2)
            .map(|t| {
                std::thread::spawn(move || {
                    let mut sum = 0usize;
                    for i in (1 + t..=100_000usize).step_by(2) {
                        sum += live.remove(i * 16, false).unwrap().size;
                    }
                    sum
                })
            })
            .collect();
        let total: usize = consumers.into_iter().map(|c| c.join().unwrap()).sum();
        assert_eq!(total, 100_000 * 100_001 / 2);
        assert!(live.remove(16, false).is_none());
    }
}
