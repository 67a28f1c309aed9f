//! Interning of call stacks: every distinct (frames, parent, flags) gets a dense `u32` id and one
//! immutable [`StackRec`] in an arena.
//!
//! The records' headers have an arena of their own, apart from their frames: every free reads its
//! block's record (for its hash), and headers packed together stay in the cache (allocbench serde:
//! 425 stacks, 17 KiB of headers instead of 82 KiB of headers and frames interleaved).
//!
//! Lookups take no lock (the slot table is only ever replaced by a bigger copy, and records never
//! move); inserts take the interner's spinlock. The hot path rarely gets here: each thread first looks
//! in its own counter table (see `counters`), which holds the records it has already used.

use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};

use crate::arena::Arena;
use crate::dir::Directory;
use crate::sync::SpinLock;
use crate::sys;

/// One interned stack. Immutable once published.
#[repr(C)]
pub struct StackRec {
    pub hash: u64,
    /// The second half of the stack's 128-bit identity (see [`StackKey`]).
    pub hash2: u64,
    pub id: u32,
    pub parent: u32,
    pub flags: u32,
    len: u32,
    /// `len` return addresses, in the interner's frame arena.
    frames: *const u64,
}

// SAFETY: a published record is immutable, and `frames` points at memory owned by the record that is
// never freed; sharing it between threads is sharing read-only data.
unsafe impl Sync for StackRec {}
// SAFETY: as above.
unsafe impl Send for StackRec {}

impl StackRec {
    pub fn frames(&self) -> &[u64] {
        // SAFETY: `frames` points at `len` initialized addresses owned by this record, never freed.
        unsafe { core::slice::from_raw_parts(self.frames, self.len as usize) }
    }

    /// Exactly the stack `key` describes (every frame compared): the interner's test.
    #[inline]
    pub fn matches(&self, key: &StackKey<'_>) -> bool {
        self.hash == key.hash
            && self.hash2 == key.hash2
            && self.parent == key.parent
            && self.flags == key.flags
            && self.frames() == key.frames
    }
}

/// What identifies a stack, with its hashes computed once.
///
/// `(hash, hash2)` is the stack's 128-bit identity: two independent 64-bit hashes of the frames,
/// their number, the parent and the flags. A thread's counter table (see `counters`) takes an
/// entry whose identity equals the key's as the key's stack without comparing frames; the
/// interner, which gives every stack its id and record, always compares every frame.
pub struct StackKey<'a> {
    pub frames: &'a [u64],
    pub parent: u32,
    pub flags: u32,
    pub hash: u64,
    pub hash2: u64,
}

/// The running hash of a stack's frames, as the walk takes it: two lanes of 64 bits with different
/// constants and operations. Each step is a bijection of each lane's state for a given frame, and
/// of the frame for a given state.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FramesHash {
    a: u64,
    b: u64,
}

impl FramesHash {
    /// The hash of no frames.
    pub const SEED: FramesHash = FramesHash {
        a: 0x243F_6A88_85A3_08D3,
        b: 0x1319_8A2E_0370_7344,
    };

    /// One more frame (the walk takes them as it goes).
    #[inline(always)]
    #[must_use]
    pub fn add(self, frame: u64) -> FramesHash {
        FramesHash {
            a: (self.a ^ frame)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(29),
            b: self
                .b
                .wrapping_add(frame)
                .wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
                .rotate_left(37),
        }
    }

    /// The hash of `frames`.
    #[inline]
    pub fn of(frames: &[u64]) -> FramesHash {
        frames.iter().fold(Self::SEED, |h, &f| h.add(f))
    }
}

/// Folds the rest of the key into a lane and mixes its high bits into the low ones (which index
/// the tables).
#[inline(always)]
fn finish(lane: u64, rest: u64, m: u64) -> u64 {
    let mut h = lane ^ rest;
    h ^= h >> 32;
    h = h.wrapping_mul(m);
    h ^ (h >> 32)
}

impl<'a> StackKey<'a> {
    #[cfg(test)]
    pub fn new(frames: &'a [u64], parent: u32, flags: u32) -> Self {
        Self::with_frames_hash(frames, parent, flags, FramesHash::of(frames))
    }

    /// The key, given [`FramesHash::of`] `frames`.
    #[inline(always)]
    pub fn with_frames_hash(
        frames: &'a [u64],
        parent: u32,
        flags: u32,
        frames_hash: FramesHash,
    ) -> Self {
        let rest = (u64::from(parent) << 32) | u64::from(flags);
        let len = frames.len() as u64;
        Self {
            frames,
            parent,
            flags,
            hash: finish(
                frames_hash.a,
                rest.wrapping_mul(0xA076_1D64_78BD_642F) ^ len,
                0xD6E8_FEB8_6659_FD93,
            ),
            hash2: finish(
                frames_hash.b,
                rest.rotate_left(17).wrapping_mul(0xE703_7ED1_A0B4_28DB) ^ len,
                0x94D0_49BB_1331_11EB,
            ),
        }
    }
}

/// Open-addressing table of `(hash tag << 32) | (id + 1)`; 0 is empty. Lives in its own mapping.
#[repr(C)]
struct Slots {
    cap: usize,
    // `cap` AtomicU64 slots follow.
}

impl Slots {
    fn bytes(cap: usize) -> usize {
        core::mem::size_of::<Slots>() + cap * 8
    }

    fn create(cap: usize) -> *mut Slots {
        match sys::map(Self::bytes(cap)) {
            Some(p) => {
                let t: *mut Slots = p.as_ptr().cast();
                // SAFETY: fresh mapping large enough for the header.
                unsafe { (*t).cap = cap };
                t
            }
            None => ptr::null_mut(),
        }
    }

    /// # Safety
    /// `t` must come from [`Slots::create`] and `i < cap`.
    unsafe fn slot<'t>(t: *const Slots, i: usize) -> &'t AtomicU64 {
        // SAFETY: per the contract, slot `i` is inside the mapping.
        unsafe {
            &*t.cast::<u8>()
                .add(core::mem::size_of::<Slots>())
                .cast::<AtomicU64>()
                .add(i)
        }
    }
}

const FIRST_CAPACITY: usize = 4096;
/// Ids are `u32` and `u32::MAX` means "no stack".
const MAX_STACKS: usize = 1 << 26;

pub struct Interner {
    lock: SpinLock,
    /// [`StackRec`] headers.
    headers: Arena,
    /// Their frames.
    arena: Arena,
    table: AtomicPtr<Slots>,
    count: AtomicU32,
    dir: Directory<StackRec, 16_384, 4096>,
}

impl Interner {
    pub const fn new() -> Self {
        Self {
            lock: SpinLock::new(),
            headers: Arena::new(),
            arena: Arena::new(),
            table: AtomicPtr::new(ptr::null_mut()),
            count: AtomicU32::new(0),
            dir: Directory::new(),
        }
    }

    /// Number of interned stacks; ids are `0..count`.
    pub fn count(&self) -> u32 {
        self.count.load(Ordering::Acquire)
    }

    pub fn get(&self, id: u32) -> Option<&'static StackRec> {
        let p = self.dir.get(id as usize);
        // SAFETY: published records are immutable and never freed.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// The record for `key` if it was interned already. Takes no lock.
    pub fn lookup(&self, key: &StackKey<'_>) -> Option<&'static StackRec> {
        let table = self.table.load(Ordering::Acquire);
        if table.is_null() {
            return None;
        }
        // SAFETY: a published table is never unmapped or written except by filling empty slots.
        let cap = unsafe { (*table).cap };
        let mask = cap - 1;
        let tag = key.hash >> 32;
        let mut i = key.hash as usize & mask;
        loop {
            // SAFETY: i < cap.
            let v = unsafe { Slots::slot(table, i) }.load(Ordering::Acquire);
            if v == 0 {
                return None;
            }
            if v >> 32 == tag {
                if let Some(rec) = self.get((v as u32).wrapping_sub(1)) {
                    if rec.matches(key) {
                        return Some(rec);
                    }
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// The record for `key`, interning it if new; `None` when out of memory or ids.
    pub fn intern(&self, key: &StackKey<'_>) -> Option<&'static StackRec> {
        if let Some(rec) = self.lookup(key) {
            return Some(rec);
        }
        let _guard = self.lock.lock();
        if let Some(rec) = self.lookup(key) {
            return Some(rec);
        }
        let id = self.count.load(Ordering::Relaxed) as usize;
        if id >= MAX_STACKS {
            return None;
        }
        let table = self.table_with_room(id + 1)?;
        let header = self
            .headers
            .alloc(core::mem::size_of::<StackRec>(), 8)?
            .as_ptr();
        let frames = self.arena.alloc(key.frames.len() * 8, 8)?.as_ptr();
        // SAFETY: `header` and `frames` are fresh arena memory of the right sizes and alignment.
        let rec: &'static StackRec = unsafe {
            let frames = frames.cast::<u64>();
            ptr::copy_nonoverlapping(key.frames.as_ptr(), frames, key.frames.len());
            let rec = header.cast::<StackRec>();
            rec.write(StackRec {
                hash: key.hash,
                hash2: key.hash2,
                id: id as u32,
                parent: key.parent,
                flags: key.flags,
                len: key.frames.len() as u32,
                frames,
            });
            &*rec
        };
        if !self.dir.set(id, ptr::from_ref(rec).cast_mut()) {
            return None;
        }
        Self::place(table, key.hash, id);
        self.count.store(id as u32 + 1, Ordering::Release);
        Some(rec)
    }

    fn place(table: *mut Slots, hash: u64, id: usize) {
        // SAFETY: `table` is a live table with at least one empty slot.
        let mask = unsafe { (*table).cap } - 1;
        let mut i = hash as usize & mask;
        loop {
            // SAFETY: i < cap.
            let slot = unsafe { Slots::slot(table, i) };
            if slot.load(Ordering::Relaxed) == 0 {
                slot.store(((hash >> 32) << 32) | (id as u64 + 1), Ordering::Release);
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// The current table, replaced by a bigger one when it would pass half full with `len` entries.
    /// Called with the lock held. The old table is left mapped: readers may still be probing it.
    fn table_with_room(&self, len: usize) -> Option<*mut Slots> {
        let table = self.table.load(Ordering::Relaxed);
        if table.is_null() {
            let fresh = Slots::create(FIRST_CAPACITY);
            if fresh.is_null() {
                return None;
            }
            self.table.store(fresh, Ordering::Release);
            return Some(fresh);
        }
        // SAFETY: live table.
        let cap = unsafe { (*table).cap };
        if len * 2 <= cap {
            return Some(table);
        }
        let fresh = Slots::create(cap * 2);
        if fresh.is_null() {
            // Keep filling the old table up to 7/8 before giving up.
            return (len < cap - cap / 8).then_some(table);
        }
        for id in 0..len - 1 {
            if let Some(rec) = self.get(id as u32) {
                Self::place(fresh, rec.hash, id);
            }
        }
        self.table.store(fresh, Ordering::Release);
        Some(fresh)
    }

    /// Locks for `fork`, in the order they nest.
    pub fn locks(&self) -> [&SpinLock; 3] {
        [&self.lock, self.headers.lock(), self.arena.lock()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_id_and_distinct_keys_distinct_ids() {
        let interner = Box::new(Interner::new());
        let mut ids = Vec::new();
        for i in 0..10_000u64 {
            let frames = [0x1000 + i % 97, 0x2000 + i / 97, 0x3000];
            let key = StackKey::new(&frames, (i % 3) as u32, 0);
            let rec = interner.intern(&key).unwrap();
            assert_eq!(rec.frames(), &frames);
            assert_eq!(rec.parent, (i % 3) as u32);
            ids.push(rec.id);
        }
        assert_eq!(
            interner.count(),
            10_000,
            "every (frames, parent) here is distinct"
        );
        for i in 0..10_000u64 {
            let frames = [0x1000 + i % 97, 0x2000 + i / 97, 0x3000];
            let key = StackKey::new(&frames, (i % 3) as u32, 0);
            assert_eq!(interner.lookup(&key).unwrap().id, ids[i as usize]);
            assert_eq!(interner.intern(&key).unwrap().id, ids[i as usize]);
            assert_eq!(interner.get(ids[i as usize]).unwrap().frames(), &frames);
        }
        assert_eq!(interner.count(), 10_000);
        let other_flags = StackKey::new(&[0x1000, 0x2000, 0x3000], 0, 4);
        assert!(interner.lookup(&other_flags).is_none());
        assert!(interner.get(10_000).is_none());
    }

    /// Not a proof (see `counters` for the bound): near-identical stacks of the kinds programs
    /// make (one frame changed, two frames swapped, one more frame, another parent or flags) get
    /// distinct identities, and distinct halves too.
    #[test]
    fn identities_of_similar_stacks_differ() {
        use std::collections::HashSet;
        let base: Vec<u64> = (0..24).map(|i| 0x5555_5555_0000 + i * 0x1234).collect();
        let mut keys: Vec<(Vec<u64>, u32, u32)> = Vec::new();
        for len in 0..=base.len() {
            keys.push((base[..len].to_vec(), NO_PARENT, 0));
        }
        for i in 0..base.len() {
            for delta in [1u64, 4, 16, 1 << 12, 1 << 20, 1 << 40] {
                let mut f = base.clone();
                f[i] ^= delta;
                keys.push((f, NO_PARENT, 0));
            }
            for j in i + 1..base.len() {
                let mut f = base.clone();
                f.swap(i, j);
                keys.push((f, NO_PARENT, 0));
            }
        }
        for parent in 0..64 {
            for flags in 0..8 {
                keys.push((base.clone(), parent, flags));
            }
        }
        let mut whole = HashSet::new();
        let (mut first, mut second) = (HashSet::new(), HashSet::new());
        for (frames, parent, flags) in &keys {
            let k = StackKey::new(frames, *parent, *flags);
            assert_eq!(
                FramesHash::of(frames),
                frames.iter().fold(FramesHash::SEED, |h, &f| h.add(f))
            );
            assert!(
                whole.insert((k.hash, k.hash2)),
                "{frames:x?} {parent} {flags}"
            );
            assert!(first.insert(k.hash));
            assert!(second.insert(k.hash2));
        }
    }

    const NO_PARENT: u32 = u32::MAX;

    #[test]
    fn empty_and_long_stacks() {
        let interner = Box::new(Interner::new());
        let empty = interner.intern(&StackKey::new(&[], 0, 1)).unwrap();
        assert!(empty.frames().is_empty());
        let long: Vec<u64> = (0..128).map(|i| 0x40_0000 + i * 16).collect();
        let rec = interner.intern(&StackKey::new(&long, 7, 2)).unwrap();
        assert_eq!(rec.frames(), &long[..]);
        assert_eq!((rec.parent, rec.flags), (7, 2));
    }

    #[test]
    fn concurrent_interning_agrees() {
        let interner: &'static Interner = Box::leak(Box::new(Interner::new()));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    (0..5000u64)
                        .map(|i| {
                            interner
                                .intern(&StackKey::new(&[i, i * 3], 0, 0))
                                .unwrap()
                                .id
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let results: Vec<Vec<u32>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(results.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(interner.count(), 5000);
    }
}
