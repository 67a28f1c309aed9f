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
//! A slot is 24 bytes ([`Compact`]: no time stamp; the thread's last allocation is recognized by
//! address and thread tag), 32 only when lifetimes are measured ([`Stamped`]), and a table grows
//! past three quarters full. Against 32-byte slots grown at half full: serde's peak RSS 79.9 →
//! 73.4 MiB, shallow's 4.8 → 4.2 MiB.

use core::cell::UnsafeCell;
use core::ptr;

use crate::intern::StackRec;
use crate::sync::{SpinGuard, SpinLock};
use crate::sys;

const SHARD_BITS: u32 = 10;
const SHARDS: usize = 1 << SHARD_BITS;
const REGION_SHIFT: u32 = 20;
const FIRST_CAPACITY: usize = 1024;
const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

/// Realloc counts are kept in the top bits of a slot's size word (sizes stay below 2^48 bytes on
/// x86_64), saturating.
const REALLOC_SHIFT: u32 = 48;
const MAX_REALLOCS: u32 = 0xFFFF;
/// A slot's record word: the record's address divided by 8 (records are 8-aligned and user-space
/// addresses stay below 2^47 on x86_64, so 44 bits), with the allocating thread's tag above it.
const TAG_SHIFT: u32 = 44;
const REC_MASK: usize = (1 << TAG_SHIFT) - 1;
/// The most tags a slot can hold: `state::thread_tag` gives 0 (none) past it.
pub const MAX_TAG: u32 = (1 << (64 - TAG_SHIFT)) - 1;

/// What a slot holds: a block's address, and what it packs of [`Block`]. Two layouts, so that the
/// time stamp costs room only when lifetimes are measured.
pub trait Slot: Copy {
    fn new(addr: usize, b: &Block) -> Self;
    fn addr(&self) -> usize;
    fn block(&self) -> Block;
    fn clear(&mut self);
}

/// 24 bytes: address, size and realloc count, record and thread tag. Without lifetimes (the
/// default): blocks need no time stamp, since the thread's last allocation is recognized by its
/// address and the thread's tag (see `record`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Compact {
    /// 0: empty.
    addr: usize,
    /// Requested size, with the realloc count in the top 16 bits.
    size_reallocs: u64,
    /// The record's address / 8, with the allocating thread's tag in the top 20 bits.
    rec_tag: usize,
}

/// 32 bytes: [`Compact`] and the time-stamp counter at allocation, for lifetimes.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Stamped {
    base: Compact,
    tsc: u64,
}

/// A tracked block, as the hooks see it.
#[derive(Clone, Copy)]
pub struct Block {
    pub rec: &'static StackRec,
    pub size: usize,
    /// Time-stamp counter at allocation (0 unless lifetimes are measured).
    pub tsc: u64,
    /// How many reallocs made this block from the chain's first allocation (0: never reallocated).
    pub reallocs: u32,
    /// The allocating thread's tag (`state::thread_tag`; 0: none).
    pub thread: u32,
}

impl Slot for Compact {
    #[inline(always)]
    fn new(addr: usize, b: &Block) -> Self {
        debug_assert!(ptr::from_ref(b.rec) as usize % 8 == 0 && b.thread <= MAX_TAG);
        Compact {
            addr,
            size_reallocs: (b.size as u64 & ((1 << REALLOC_SHIFT) - 1))
                | (u64::from(b.reallocs.min(MAX_REALLOCS)) << REALLOC_SHIFT),
            rec_tag: (ptr::from_ref(b.rec) as usize >> 3) | ((b.thread as usize) << TAG_SHIFT),
        }
    }

    #[inline(always)]
    fn addr(&self) -> usize {
        self.addr
    }

    #[inline(always)]
    fn block(&self) -> Block {
        Block {
            // SAFETY: tracked records are published, 8-aligned and never freed; the mask and the
            // shift give their address back.
            rec: unsafe { &*(((self.rec_tag & REC_MASK) << 3) as *const StackRec) },
            size: (self.size_reallocs & ((1 << REALLOC_SHIFT) - 1)) as usize,
            tsc: 0,
            reallocs: (self.size_reallocs >> REALLOC_SHIFT) as u32,
            thread: (self.rec_tag >> TAG_SHIFT) as u32,
        }
    }

    #[inline(always)]
    fn clear(&mut self) {
        self.addr = 0;
    }
}

impl Slot for Stamped {
    #[inline(always)]
    fn new(addr: usize, b: &Block) -> Self {
        Stamped {
            base: Compact::new(addr, b),
            tsc: b.tsc,
        }
    }

    #[inline(always)]
    fn addr(&self) -> usize {
        self.base.addr
    }

    #[inline(always)]
    fn block(&self) -> Block {
        Block {
            tsc: self.tsc,
            ..self.base.block()
        }
    }

    #[inline(always)]
    fn clear(&mut self) {
        self.base.addr = 0;
    }
}

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
            if s.addr() != 0 {
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
            if cur.addr() == 0 {
                *cur = s;
                self.len += 1;
                return;
            }
            if cur.addr() == s.addr() {
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
    fn take(&mut self, addr: usize) -> Option<Block> {
        if self.cap == 0 {
            return None;
        }
        let mask = self.cap - 1;
        let mut i = self.home(addr);
        loop {
            // SAFETY: i < cap.
            let cur = unsafe { &*self.slot(i) };
            if cur.addr() == 0 {
                return None;
            }
            if cur.addr() == addr {
                let found = cur.block();
                self.delete(i);
                return Some(found);
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
            let addr = unsafe { (*self.slot(j)).addr() };
            if addr == 0 {
                break;
            }
            let home = self.home(addr);
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
    pub fn remove(&self, addr: usize) -> Option<Block> {
        let shard = self.shard(addr);
        let _guard = shard.lock.lock();
        // SAFETY: the shard lock is held.
        let inner = unsafe { &mut *shard.inner.get() };
        inner.take(addr)
    }

    /// Calls `f(block)` for every tracked block. For the exit writer: a shard whose lock cannot be
    /// had within `max_yields` yields of the CPU is skipped rather than waited for.
    pub fn for_each(&self, max_yields: u64, mut f: impl FnMut(&Block)) {
        for shard in &self.shards {
            let Some(_guard): Option<SpinGuard<'_>> = shard.lock.lock_bounded(max_yields) else {
                continue;
            };
            // SAFETY: the shard lock is held.
            let inner = unsafe { &*shard.inner.get() };
            for i in 0..inner.cap {
                // SAFETY: i < cap.
                let s = unsafe { *inner.slot(i) };
                if s.addr() != 0 {
                    f(&s.block());
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

/// The tracked blocks: in the compact table, or in the stamped one when lifetimes are measured
/// (the caller says which, the same way for the whole process: `stamped`).
pub struct Live {
    compact: LiveTable<Compact>,
    stamped: LiveTable<Stamped>,
}

impl Live {
    pub const fn new() -> Self {
        Self {
            compact: LiveTable::new(),
            stamped: LiveTable::new(),
        }
    }

    /// [`LiveTable::insert`] into the table `stamped` picks. The stamped table's path is out of
    /// line: two inlined copies made the stack walk before them spill registers (+3.5%
    /// instructions, `bench/cachegrind.sh`).
    #[inline(always)]
    pub fn insert(&self, addr: usize, block: &Block, stamped: bool) -> bool {
        if stamped {
            self.insert_stamped(addr, block)
        } else {
            self.compact.insert(addr, block)
        }
    }

    #[inline(never)]
    fn insert_stamped(&self, addr: usize, block: &Block) -> bool {
        self.stamped.insert(addr, block)
    }

    /// [`LiveTable::remove`] from the table `stamped` picks (the stamped one out of line).
    #[inline(always)]
    pub fn remove(&self, addr: usize, stamped: bool) -> Option<Block> {
        if stamped {
            self.remove_stamped(addr)
        } else {
            self.compact.remove(addr)
        }
    }

    #[inline(never)]
    fn remove_stamped(&self, addr: usize) -> Option<Block> {
        self.stamped.remove(addr)
    }

    /// [`LiveTable::for_each`] over both tables (one of them is empty).
    pub fn for_each(&self, max_yields: u64, mut f: impl FnMut(&Block)) {
        self.compact.for_each(max_yields, &mut f);
        self.stamped.for_each(max_yields, f);
    }

    /// For `fork`: every shard lock of both tables.
    pub fn locks(&self) -> impl Iterator<Item = &SpinLock> {
        self.compact.locks().chain(self.stamped.locks())
    }

    /// [`LiveTable::clear_in_child`] for both tables.
    pub fn clear_in_child(&self) {
        self.compact.clear_in_child();
        self.stamped.clear_in_child();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intern::{Interner, StackKey};
    use std::collections::HashMap;

    fn block(rec: &'static StackRec, size: usize) -> Block {
        Block {
            rec,
            size,
            tsc: size as u64 * 3,
            reallocs: (size % 5) as u32,
            thread: (size % 7) as u32 * 140_000,
        }
    }

    fn recs(n: u64) -> Vec<&'static StackRec> {
        let interner: &'static Interner = Box::leak(Box::new(Interner::new()));
        (0..n)
            .map(|i| interner.intern(&StackKey::new(&[i], 0, 0)).unwrap())
            .collect()
    }

    #[test]
    fn insert_remove_matches_a_hash_map() {
        insert_remove::<Compact>(false);
        insert_remove::<Stamped>(true);
    }

    fn insert_remove<S: Slot>(stamped: bool) {
        let table = Box::new(LiveTable::<S>::new());
        let recs = recs(16);
        let mut model: HashMap<usize, (u32, usize)> = HashMap::new();
        // A deterministic pseudo-random mix of inserts and removes over clustered addresses, enough to
        // grow tables and exercise backward-shift deletion across wrap-around.
        let mut x: u64 = 0x1234_5678;
        for step in 0..200_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let region = (x >> 40) % 3;
            let addr = (0x5555_0000_0000 + region * (1 << 26) + (x % 50_000) * 16) as usize;
            if x % 3 == 0 {
                let got = table.remove(addr).map(|b| {
                    assert_eq!(
                        (b.tsc, b.reallocs, b.thread),
                        (
                            if stamped { b.size as u64 * 3 } else { 0 },
                            (b.size % 5) as u32,
                            (b.size % 7) as u32 * 140_000
                        )
                    );
                    (b.rec.id, b.size)
                });
                assert_eq!(got, model.remove(&addr), "step {step}");
            } else {
                let rec = recs[(x % 16) as usize];
                let size = (x % 1000) as usize;
                assert!(table.insert(addr, &block(rec, size)));
                model.insert(addr, (rec.id, size));
            }
        }
        let mut seen = HashMap::new();
        table.for_each(u64::MAX, |b| {
            *seen.entry((b.rec.id, b.size)).or_insert(0) += 1;
        });
        let mut expected = HashMap::new();
        for v in model.values() {
            *expected.entry(*v).or_insert(0) += 1;
        }
        assert_eq!(seen, expected);
        for addr in model.keys() {
            assert!(table.remove(*addr).is_some());
        }
        let mut left = 0;
        table.for_each(u64::MAX, |_| left += 1);
        assert_eq!(left, 0);
    }

    #[test]
    fn cross_thread_frees() {
        let table: &'static LiveTable<Compact> = Box::leak(Box::new(LiveTable::new()));
        let recs = recs(1);
        let rec = recs[0];
        let producer = std::thread::spawn(move || {
            for i in 1..=100_000usize {
                assert!(table.insert(i * 16, &block(rec, i)));
            }
        });
        producer.join().unwrap();
        let consumers: Vec<_> = (0..2)
            .map(|t| {
                std::thread::spawn(move || {
                    let mut sum = 0usize;
                    for i in (1 + t..=100_000usize).step_by(2) {
                        sum += table.remove(i * 16).unwrap().size;
                    }
                    sum
                })
            })
            .collect();
        let total: usize = consumers.into_iter().map(|c| c.join().unwrap()).sum();
        assert_eq!(total, 100_000 * 100_001 / 2);
        assert!(table.remove(16).is_none());
    }
}
