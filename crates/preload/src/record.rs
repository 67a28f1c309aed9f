//! What a hook records, the core's one door: an allocation, a release, a realloc, the stack of a
//! `pthread_create`. Each function here is called by a hook after [`crate::guard::enter`] (this
//! thread's guard set, its counter block marked busy), once per hooked call.
//!
//! An allocation: capture the stack (`capture`), find its entry in this thread's counter table,
//! interning the stack on first use (`counters`, `intern`), track the block (`live`) with this
//! thread's tag, count it, raise this thread's view of live bytes and its own live bytes (`peak`),
//! and keep the range of the latter at the site (`counters`). A release: find the block, credit
//! its site (lifetime, temporary, growth chain: `chains`), lower live bytes, and the live bytes of
//! the thread that allocated it.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use alloc_profile_format::{stack_flags, NO_STACK};

use crate::capture::{self, FrameBuf};
use crate::chains;
use crate::counters::{Counters, Entry};
use crate::intern::{Interner, StackKey, StackRec};
use crate::live::{Block, Live};
use crate::peak::{self, ThreadLive, LIVE_BYTES, TEST_PEAKS};
use crate::pool::{self, ORPHAN, ORPHAN_LOCK};
use crate::state::Tls;
use crate::sys;
use crate::threads::{self, own_counters};

/// Interned stacks (allocation sites and spawn points).
pub static STACKS: Interner = Interner::new();
/// Tracked blocks.
pub static LIVE_BLOCKS: Live = Live::new(&STACKS);
/// Allocations that could not be attributed (our tables were out of memory).
pub static UNATTRIBUTED: AtomicU64 = AtomicU64::new(0);

/// Lifetimes are measured (`CARGO_ALLOC_PROFILE_LIFETIMES=1`, set by the constructor): every
/// allocation and release reads the time-stamp counter, about 21 ns each on this kind of VM, and
/// blocks are kept in the live table's stamped slots (32 bytes instead of 16): allocbench `all`,
/// 7 interleaved rounds, 2.54x native with it, 2.23x without.
pub static LIFETIMES: AtomicBool = AtomicBool::new(false);

#[inline(always)]
fn lifetimes() -> bool {
    LIFETIMES.load(Ordering::Relaxed)
}

/// The time-stamp counter when lifetimes are measured, else 0 (nothing else needs a time).
#[inline(always)]
fn stamp() -> u64 {
    if lifetimes() {
        sys::rdtsc()
    } else {
        0
    }
}

/// Benchmark floors (features `bench-floor-hooks`, `bench-floor-walk`; `overhead.py --floors`): stop
/// after entering the hook, or after walking and hashing the stack, and record nothing.
const FLOOR_HOOKS: bool = cfg!(feature = "bench-floor-hooks");
const FLOOR_WALK: bool = cfg!(feature = "bench-floor-walk");

/// A successful fresh allocation of `size` bytes at `addr` (0: the call failed, nothing to record),
/// made by the caller of the hook.
#[inline]
pub fn alloc(tls: &'static Tls, addr: usize, size: usize) {
    if addr != 0 {
        alloc_at(tls, addr, size, false, 0, stamp());
    }
}

/// The release of the block at `addr`, before the real release (so that no other thread can be
/// handed the same address while the live table still holds it). Untracked blocks are ignored.
#[inline(always)]
pub fn free(tls: &'static Tls, addr: usize) {
    if FLOOR_HOOKS || FLOOR_WALK {
        return;
    }
    if let Some(b) = LIVE_BLOCKS.remove(addr, lifetimes()) {
        release(tls, addr, &b, stamp(), true);
    }
}

/// Before a realloc of `old` (0: `realloc(NULL, n)`): takes the block out of the live table, for
/// [`realloc`] after the real call.
#[inline(always)]
pub fn take(old: usize) -> Option<Block> {
    if old == 0 || FLOOR_HOOKS || FLOOR_WALK {
        None
    } else {
        LIVE_BLOCKS.remove(old, lifetimes())
    }
}

/// After the real realloc of `old` (its block `taken` by [`take`]) returned `new` for `size` bytes.
/// `realloc(NULL, n)` is an allocation (not a reallocation); `realloc(p, 0)` frees `p` and returns
/// NULL (glibc 2.36); a failed realloc (`new` 0, `size` not) leaves the old block live and tracked.
#[inline(always)]
pub fn realloc(tls: &'static Tls, old: usize, taken: Option<Block>, new: usize, size: usize) {
    if new == 0 && size != 0 {
        // Failed: the old block is untouched and still the program's.
        if let Some(b) = taken {
            LIVE_BLOCKS.insert(old, &b, lifetimes());
        }
        return;
    }
    let now = stamp();
    if let Some(b) = &taken {
        // realloc(p, 0) released the block for good; otherwise its growth chain goes on.
        release(tls, old, b, now, new == 0);
    }
    if new != 0 {
        let reallocs = chains::reallocs_after(taken.as_ref(), old == 0);
        alloc_at(tls, new, size, old != 0, reallocs, now);
    }
}

/// Records a successful allocation of `size` bytes at `addr`, a realloc (`realloc`) or not, with the
/// block's growth (`reallocs`: how many reallocs made it, 0 for a fresh allocation) and stamp `now`.
/// The block becomes the thread's last allocation, recorded or not (see [`release`]).
#[inline(never)]
fn alloc_at(tls: &'static Tls, addr: usize, size: usize, realloc: bool, reallocs: u32, now: u64) {
    if FLOOR_HOOKS {
        core::hint::black_box((addr, size, realloc, reallocs, now));
        return;
    }
    let counters = own_counters(tls);
    let mut buf = FrameBuf::new();
    let (frames, flags, frames_hash) = capture::capture(
        tls.top.get(),
        tls.in_spawn.get(),
        tls.bottom.get(),
        &mut buf,
    );
    let key = StackKey::with_frames_hash(frames, tls.parent.get(), flags, frames_hash);
    if FLOOR_WALK {
        core::hint::black_box((key.hash, key.hash2));
        return;
    }
    let block = |rec| Block {
        rec,
        size,
        tsc: now,
        reallocs,
        thread: tls.tag.get(),
    };
    let recorded = match counters {
        Some(c) => match c.entry_for_key(&key, &STACKS) {
            Some(e) if LIVE_BLOCKS.insert(addr, &block(e.stack()), lifetimes()) => {
                e.add_alloc(size, realloc);
                thread_allocated(tls, e, size);
                c.live.add(size, &LIVE_BYTES);
                true
            }
            _ => false,
        },
        None => orphan_alloc(tls, &key, addr, realloc, block),
    };
    tls.last_alloc.set(addr);
    if !recorded {
        UNATTRIBUTED.fetch_add(1, Ordering::Relaxed);
    }
}

/// After an allocation of `size` bytes from `e`'s stack: this thread's own live bytes rise, and the
/// entry keeps their range (when they are counted: `peak::TEST_PEAKS`).
#[inline(always)]
fn thread_allocated(tls: &Tls, e: Entry<'_>, size: usize) {
    let live = tls.live.get();
    if !live.is_null() {
        counted_alloc(live, e, size);
    }
}

// Out of line (and marked cold, though test runs take it on every allocation): inlined, its
// registers made the stack walk before it spill (+2.8% instructions with counting off).
#[cold]
#[inline(never)]
fn counted_alloc(live: *const ThreadLive, e: Entry<'_>, size: usize) {
    // SAFETY: `Tls::live` points into this thread's record, which lives in the arena for the rest
    // of the process.
    let (before, after) = unsafe { &*live }.add(size);
    e.add_thread_live(before, after);
}

/// [`alloc_at`] into the orphan block.
#[cold]
fn orphan_alloc(
    tls: &Tls,
    key: &StackKey<'_>,
    addr: usize,
    realloc: bool,
    block: impl Fn(&'static StackRec) -> Block,
) -> bool {
    let Some(rec) = STACKS.intern(key) else {
        return false;
    };
    let block = block(rec);
    let _lock = ORPHAN_LOCK.lock();
    match ORPHAN.entry_for_stack(rec) {
        Some(e) if LIVE_BLOCKS.insert(addr, &block, lifetimes()) => {
            e.add_alloc(block.size, realloc);
            thread_allocated(tls, e, block.size);
            ORPHAN.live.add(block.size, &LIVE_BYTES);
            true
        }
        _ => false,
    }
}

/// Records the release of the tracked block `b` at `addr` (already removed from the live table) at
/// stamp `now`: credited to the stack that allocated it, counted in this thread's block.
///
/// - Lifetime: `now` minus the allocation's stamp (when lifetimes are measured).
/// - Temporary (heaptrack's definition): the block is the last one this thread allocated, so the
///   thread made no other allocation in between (a block allocated by another thread never is).
///   That is: the block carries this thread's tag and sits at the address of this thread's last
///   allocation. The tag makes it exact: a block at that address with this thread's tag was
///   allocated by this thread (tags are never reused), and not before its last allocation, which
///   was at the same address. A thread without a tag (no record, or past `live::MAX_TAG`
///   threads) counts no temporaries.
/// - `for_good`: released for good (`free`, `realloc(p, 0)`), not replaced by a realloc: it ends
///   the block's growth chain (see `chains`).
/// - Before anything changes, a peak this thread saw since the last snapshot is snapshotted (see
///   `peak`).
/// - The allocating thread's live bytes fall (its own count when that is this thread).
#[inline(always)]
fn release(tls: &'static Tls, addr: usize, b: &Block, now: u64, for_good: bool) {
    thread_released(tls, b);
    let lifetime = if lifetimes() {
        now.saturating_sub(b.tsc)
    } else {
        0
    };
    let temporary = tls.last_alloc.get() == addr && b.thread != 0 && b.thread == tls.tag.get();
    if temporary {
        tls.last_alloc.set(0);
    }
    let released = Released {
        rec: b.rec,
        size: b.size,
        lifetime,
        reallocs: b.reallocs,
        temporary,
        for_good,
    };
    if let Some(c) = own_counters(tls) {
        count_release(c, released);
    } else {
        let _lock = ORPHAN_LOCK.lock();
        count_release(&ORPHAN, released);
    }
}

/// What [`count_release`] counts of a released block: the fields it needs, passed by value (a
/// closure over the whole block made the hook store the block to memory and copy it back with wide
/// loads, which stalled store forwarding: perf put a quarter of `free`'s samples on that copy).
#[derive(Clone, Copy)]
struct Released {
    rec: &'static StackRec,
    size: usize,
    lifetime: u64,
    reallocs: u32,
    temporary: bool,
    for_good: bool,
}

/// Counts a release into `c`, the releasing thread's counter block (or the orphan block).
#[inline(always)]
fn count_release(c: &'static Counters, r: Released) {
    peak::snapshot_pending(&c.live, pool::snapshot_all);
    if let Some(e) = c.entry_for_stack(r.rec) {
        e.add_free(r.size, r.lifetime, r.temporary);
        chains::on_release(e, r.reallocs, r.size, r.for_good);
    }
    c.live.sub(r.size, &LIVE_BYTES);
}

/// Lowers the live bytes of the thread that allocated `b` (if they are counted and it has a tag).
#[inline(always)]
fn thread_released(tls: &'static Tls, b: &Block) {
    if b.thread == 0 || !TEST_PEAKS.load(Ordering::Relaxed) {
        return;
    }
    if tls.tag.get() == b.thread {
        // SAFETY: with test peaks on, a thread with a tag has `Tls::live` set, pointing into its
        // record, in the arena for good.
        unsafe { &*tls.live.get() }.sub_own(b.size);
    } else if let Some(info) = threads::get(b.thread - 1) {
        info.live.sub_elsewhere(b.size);
    }
}

/// Captures and interns the calling thread's stack at `pthread_create`; the new thread's parent.
#[inline(never)]
pub fn spawn_stack(tls: &'static Tls) -> u32 {
    // Registration sets the stack top the walk needs.
    let _ = own_counters(tls);
    let mut buf = FrameBuf::new();
    let (frames, flags, frames_hash) = capture::capture(
        tls.top.get(),
        tls.in_spawn.get(),
        tls.bottom.get(),
        &mut buf,
    );
    let key = StackKey::with_frames_hash(
        frames,
        tls.parent.get(),
        flags | stack_flags::SPAWN,
        frames_hash,
    );
    STACKS.intern(&key).map_or(NO_STACK, |rec| rec.id)
}

/// In a fork child: nothing is tracked or unattributed (the parent's blocks are the parent's).
pub fn reset_in_child() {
    UNATTRIBUTED.store(0, Ordering::Relaxed);
    LIVE_BLOCKS.clear_in_child();
}
