//! Process-wide state, the per-thread state and re-entrancy guard, the record paths the hooks call,
//! and the lifecycle: constructor, `fork` handlers, exit.
//!
//! State machine ([`STATE`]): `UNINIT` until the constructor ran; `DISABLED` when
//! `CARGO_ALLOC_PROFILE_OUT` is unset or empty (every hook is then a pure pass-through); `ACTIVE`;
//! `FROZEN` once the profile is being written (other threads' hooks pass through unrecorded).

use core::cell::Cell;
use core::ffi::{c_char, c_int, c_uint};
use core::ptr;
use core::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicIsize, AtomicPtr, AtomicU32, AtomicU64, AtomicU8,
    Ordering,
};

use alloc_profile_format::{stack_flags, NO_STACK};

use crate::arena::Arena;
use crate::capture::{self, FrameBuf};
use crate::counters::{Counters, SNAPPED_PEAK};
use crate::intern::{Interner, StackKey, StackRec};
use crate::live::{Block, LiveTable};
use crate::sync::{SpinLock, SyncCell};
use crate::{sys, threads};

pub const UNINIT: u8 = 0;
pub const DISABLED: u8 = 1;
pub const ACTIVE: u8 = 2;
pub const FROZEN: u8 = 3;

pub static STATE: AtomicU8 = AtomicU8::new(UNINIT);

/// Interned stacks (allocation sites and spawn points).
pub static STACKS: Interner = Interner::new();
/// Tracked blocks.
pub static LIVE_BLOCKS: LiveTable = LiveTable::new();
/// Thread records, counter blocks, spawn records.
pub static ARENA: Arena = Arena::new();
/// Live bytes as published by the threads' flushes (see `counters`).
pub static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
/// Allocations that could not be attributed (our tables were out of memory).
pub static UNATTRIBUTED: AtomicU64 = AtomicU64::new(0);

/// When the profile starts (constructor, or `fork` in a child).
pub static START_MONO_NS: AtomicU64 = AtomicU64::new(0);
pub static START_REAL_NS: AtomicU64 = AtomicU64::new(0);
pub static START_TSC: AtomicU64 = AtomicU64::new(0);
/// Lifetimes are measured (`CARGO_ALLOC_PROFILE_LIFETIMES=1`): every allocation and release
/// reads the time-stamp counter, about 21 ns each on this kind of VM (measured: allocbench 3.7x
/// native with it, 3.1x without). Off, blocks are stamped with a sequence number instead, which is
/// all that temporaries need.
pub static LIFETIMES: AtomicBool = AtomicBool::new(false);
/// Hands out ranges of 2^32 sequence numbers to threads, so stamps are unique process-wide.
static SEQ_BASE: AtomicU64 = AtomicU64::new(1 << 32);

/// A block's stamp: the time-stamp counter when lifetimes are measured, else a sequence number
/// unique in the process. Either way the thread's last allocation is recognized by its stamp.
#[inline(always)]
pub fn stamp(tls: &Tls) -> u64 {
    if LIFETIMES.load(Ordering::Relaxed) {
        return sys::rdtsc();
    }
    let mut s = tls.seq.get();
    if s & 0xFFFF_FFFF == 0xFFFF_FFFF || s == 0 {
        s = SEQ_BASE.fetch_add(1 << 32, Ordering::Relaxed);
    }
    s += 1;
    tls.seq.set(s);
    s
}
/// The pid whose profile this is (changes in a fork child).
pub static PID: AtomicI32 = AtomicI32::new(0);
/// Status passed to `exit`, when the program called it through the PLT.
pub static EXIT_STATUS: AtomicI32 = AtomicI32::new(0);

/// Every counter block ever created, linked through `next_all`; pushed under `POOL_LOCK`.
pub static ALL_COUNTERS: AtomicPtr<Counters> = AtomicPtr::new(ptr::null_mut());
/// Blocks whose thread ended, linked through `next_free`; under `POOL_LOCK`.
static POOL: AtomicPtr<Counters> = AtomicPtr::new(ptr::null_mut());
static POOL_LOCK: SpinLock = SpinLock::new();
/// Counters for hooks running on a thread after its block was handed back (glibc's own frees at
/// thread exit, after the TSD destructors), or when a thread's block could not be created.
pub static ORPHAN: Counters = Counters::new();
pub static ORPHAN_LOCK: SpinLock = SpinLock::new();

/// `Tls::counters` of a thread whose block was handed back: use [`ORPHAN`].
pub const RETIRED: *const Counters = ptr::NonNull::<Counters>::dangling().as_ptr();

/// The output directory from `CARGO_ALLOC_PROFILE_OUT`, absolute. Written by the constructor only.
pub const MAX_DIR: usize = 4096;
struct OutDir {
    bytes: [u8; MAX_DIR],
    len: usize,
}
static OUT_DIR: SyncCell<OutDir> = SyncCell::new(OutDir {
    bytes: [0; MAX_DIR],
    len: 0,
});

pub fn out_dir() -> &'static [u8] {
    // SAFETY: written only by the constructor, before the library turns active.
    let d = unsafe { &*OUT_DIR.get() };
    &d.bytes[..d.len]
}

/// Per-thread state. `const`-initialized, no destructor: nothing is registered with the thread's
/// exit, and access never allocates.
pub struct Tls {
    /// Set while this thread runs our code: a hook that finds it set passes straight through.
    pub guard: Cell<bool>,
    /// This thread's counter block: null before registration, [`RETIRED`] after.
    pub counters: Cell<*const Counters>,
    pub info: Cell<*const threads::ThreadInfo>,
    /// Stack id of the `pthread_create` call that started this thread, or `NO_STACK`.
    pub parent: Cell<u32>,
    /// Top of this thread's stack, for the frame-pointer walk's bounds.
    pub top: Cell<usize>,
    /// Set while the real `pthread_create` runs under our hook.
    pub in_spawn: Cell<bool>,
    /// Time-stamp counter of this thread's last recorded allocation (0: none, or freed since): the
    /// block with this stamp is the thread's last allocation, whose free is *temporary*.
    pub last_alloc: Cell<u64>,
    /// Last sequence stamp handed out on this thread (see [`stamp`]).
    pub seq: Cell<u64>,
    /// What `wrapped::alloc_profile_wrap_take` removed besides the stack and size the C side keeps:
    /// (allocation stamp, realloc count), for the matching `alloc_profile_wrap_realloc`.
    pub wrap_taken: Cell<(u64, u32)>,
    /// Set while this thread runs on top of one of our trampolines (thread start, `main`): a complete
    /// frame-pointer walk then ends at our frame (see `capture`).
    pub bottom: Cell<bool>,
    /// `guard` as it was when a `fork` began.
    fork_guard: Cell<bool>,
}

thread_local! {
    static TLS: Tls = const {
        Tls {
            guard: Cell::new(false),
            counters: Cell::new(ptr::null()),
            info: Cell::new(ptr::null()),
            parent: Cell::new(NO_STACK),
            top: Cell::new(0),
            in_spawn: Cell::new(false),
            bottom: Cell::new(false),
            last_alloc: Cell::new(0),
            seq: Cell::new(0),
            wrap_taken: Cell::new((0, 0)),
            fork_guard: Cell::new(false),
        }
    };
}

/// Offset of [`TLS`] from the thread pointer, 0 until known. A preloaded library's TLS block is in the
/// static TLS area, at the same offset from `%fs:0` on every thread; reading it directly saves the
/// `__tls_get_addr` call a cdylib makes for every thread-local access.
static TLS_OFFSET: AtomicIsize = AtomicIsize::new(0);

/// This thread's state. The reference must not leave the thread (`Tls` is not `Sync`, so it cannot).
#[inline(always)]
pub fn tls() -> &'static Tls {
    let off = TLS_OFFSET.load(Ordering::Relaxed);
    if off != 0 {
        // SAFETY: `off` was checked at init to put TLS in the static TLS block, which is at a fixed
        // offset from the thread pointer on every thread and lives as long as the thread.
        unsafe { &*((sys::thread_pointer() as isize + off) as *const Tls) }
    } else {
        tls_slow()
    }
}

fn tls_slow() -> &'static Tls {
    // SAFETY: the thread-local lives as long as this thread, and `&Tls` cannot leave it.
    TLS.with(|t| unsafe { &*ptr::from_ref(t) })
}

/// Turns the fast TLS path off if it does not agree with the compiler's on this thread.
pub fn check_tls_offset() {
    let off = TLS_OFFSET.load(Ordering::Relaxed);
    if off != 0 && ptr::from_ref(tls_slow()) as isize != sys::thread_pointer() as isize + off {
        TLS_OFFSET.store(0, Ordering::Relaxed);
    }
}

/// Proof that this thread entered our code with the guard clear and its counter block marked busy;
/// undoes both when dropped.
pub struct Entered {
    pub tls: &'static Tls,
    busy: &'static Counters,
}

impl Drop for Entered {
    #[inline(always)]
    fn drop(&mut self) {
        self.busy.end_busy();
        self.tls.guard.set(false);
    }
}

/// Whether `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` is registered for this process: the exit
/// writer then issues the full barrier on every thread's behalf, and a hook needs only a compiler
/// fence between marking itself busy and reading the state. Without it, each hook pays a real fence.
static MEMBARRIER: AtomicBool = AtomicBool::new(false);

/// Registers the process for expedited private membarriers (at start and in a fork child).
fn register_membarrier() {
    MEMBARRIER.store(sys::membarrier_register(), Ordering::Relaxed);
}

/// The hook's half of the exit handshake (a Dekker pair with [`freeze`]): orders the busy mark
/// before the state read that follows.
#[inline(always)]
fn publish_fence() {
    if MEMBARRIER.load(Ordering::Relaxed) {
        core::sync::atomic::compiler_fence(Ordering::SeqCst);
    } else {
        core::sync::atomic::fence(Ordering::SeqCst);
    }
}

/// Enters the recording path, or `None` when the hook must pass straight through: not active, or
/// this thread is already inside our code.
///
/// The thread's counter block (registering the thread on first use) is marked busy before the state
/// is read again: a writer that froze the state and then found every block idle knows that no hook
/// is halfway through recording, and any hook that starts later sees the state frozen.
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
    busy.begin_busy();
    publish_fence();
    if STATE.load(Ordering::Acquire) != ACTIVE {
        busy.end_busy();
        tls.guard.set(false);
        return None;
    }
    Some(Entered { tls, busy })
}

/// The writer's half of the exit handshake: freezes the state (hooks that start from now on pass
/// through unrecorded), then waits until no other thread is halfway through a hook, at most
/// `max_yields` yields of the CPU per busy block (a thread stopped inside a hook, or the writer's own
/// thread interrupted inside one by the signal that makes it write, is not waited for forever).
pub fn freeze(own: *const Counters, max_yields: u64) {
    STATE.store(FROZEN, Ordering::SeqCst);
    if MEMBARRIER.load(Ordering::Relaxed) {
        sys::membarrier();
    }
    for_each_counters(|c| {
        if ptr::eq(c, own) {
            return;
        }
        let mut yields = 0;
        while c.is_busy() && yields < max_yields {
            // SAFETY: no preconditions.
            unsafe { sys::sched_yield() };
            yields += 1;
        }
    });
}

/// Sets the guard whatever its state and restores the previous value: for our own slow paths (init,
/// exit, symbol lookup) that may call into glibc code that allocates.
pub struct Forced {
    tls: &'static Tls,
    prev: bool,
}

impl Forced {
    pub fn new() -> Self {
        let tls = tls();
        let prev = tls.guard.replace(true);
        Self { tls, prev }
    }

    pub fn tls(&self) -> &'static Tls {
        self.tls
    }
}

impl Drop for Forced {
    fn drop(&mut self) {
        self.tls.guard.set(self.prev);
    }
}

/// This thread's counter block, registering the thread on first use; `None`: use [`ORPHAN`].
#[inline(always)]
fn own_counters(tls: &'static Tls) -> Option<&'static Counters> {
    let mut c = tls.counters.get();
    if c.is_null() {
        threads::register_lazily(tls);
        c = tls.counters.get();
    }
    if c == RETIRED || c.is_null() {
        None
    } else {
        // SAFETY: counter blocks live in the arena for the rest of the process.
        Some(unsafe { &*c })
    }
}

/// Records a successful allocation of `size` bytes at `addr`, made by the caller of the hook: a
/// fresh block (`realloc` false) or the first realloc of an untracked one.
#[inline]
pub fn record_alloc(tls: &'static Tls, addr: usize, size: usize, realloc: bool) {
    record_alloc_at(tls, addr, size, realloc, u32::from(realloc), stamp(tls));
}

/// [`record_alloc`] with the block's growth (`reallocs`: how many reallocs made it, 0 for a fresh
/// allocation) and the time-stamp counter `now`.
#[inline(never)]
pub fn record_alloc_at(
    tls: &'static Tls,
    addr: usize,
    size: usize,
    realloc: bool,
    reallocs: u32,
    now: u64,
) {
    let counters = own_counters(tls);
    let mut buf = FrameBuf::new();
    let (frames, flags, frames_hash) = capture::capture(
        tls.top.get(),
        tls.in_spawn.get(),
        tls.bottom.get(),
        &mut buf,
    );
    let key = StackKey::with_frames_hash(frames, tls.parent.get(), flags, frames_hash);
    let block = |rec| Block {
        rec,
        size,
        tsc: now,
        reallocs,
    };
    let recorded = match counters {
        Some(c) => match c.entry_for_key(&key, &STACKS) {
            Some(e) if LIVE_BLOCKS.insert(addr, &block(e.stack())) => {
                e.add_alloc(size, realloc);
                c.live_add(size, &LIVE_BYTES);
                true
            }
            _ => false,
        },
        None => record_orphan_alloc(&key, addr, realloc, block),
    };
    if recorded {
        tls.last_alloc.set(now);
    } else {
        UNATTRIBUTED.fetch_add(1, Ordering::Relaxed);
    }
}

#[cold]
fn record_orphan_alloc(
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
        Some(e) if LIVE_BLOCKS.insert(addr, &block) => {
            e.add_alloc(block.size, realloc);
            ORPHAN.live_add(block.size, &LIVE_BYTES);
            true
        }
        _ => false,
    }
}

/// Records the release of a tracked block (already removed from the live table) at time-stamp
/// counter `now`: credited to the stack that allocated it, counted in this thread's block.
///
/// - Lifetime: `now` minus the allocation's stamp.
/// - Temporary (heaptrack's definition): the block is the last one this thread allocated, so the
///   thread made no other allocation in between (a block allocated by another thread never is).
/// - `ends_chain`: released for good (`free`, `realloc(p, 0)`), not replaced by a realloc: a block
///   that reallocs made is counted as a growth chain of the site of its last realloc.
/// - Before anything changes, a peak this thread saw since the last snapshot is snapshotted: the
///   first free after a new peak is the moment the peak is known to stand (DHAT's t-gmax).
#[inline]
pub fn record_free(tls: &'static Tls, b: &Block, now: u64, ends_chain: bool) {
    let lifetime = if LIFETIMES.load(Ordering::Relaxed) {
        now.saturating_sub(b.tsc)
    } else {
        0
    };
    let temporary = tls.last_alloc.get() == b.tsc;
    if temporary {
        tls.last_alloc.set(0);
    }
    let count = |c: &'static Counters| {
        let pending = c.take_pending();
        if pending != 0 {
            snapshot_peak(pending);
        }
        if let Some(e) = c.entry_for_stack(b.rec) {
            e.add_free(b.size, lifetime, temporary);
            if ends_chain && b.reallocs > 0 {
                e.add_chain(b.reallocs, b.size);
            }
        }
        c.live_sub(b.size, &LIVE_BYTES);
    };
    if let Some(c) = own_counters(tls) {
        count(c);
    } else {
        let _lock = ORPHAN_LOCK.lock();
        count(&ORPHAN);
    }
}

/// Serializes peak snapshots; a thread that finds it taken skips its snapshot.
static SNAPSHOT_LOCK: SpinLock = SpinLock::new();

/// Copies every site's live bytes (each block's share: allocated minus freed bytes) as those of the
/// peak `peak`, unless a snapshot of a peak at least as high was taken already. With one thread this
/// is exactly the state at the process-wide peak (nothing was freed since it was reached). With
/// several, it is the state when this thread's free came, read from the other threads' blocks while
/// they run, for the highest peak any thread saw (itself within `FLUSH_BYTES` per thread).
#[cold]
#[inline(never)]
pub fn snapshot_peak(peak: u64) {
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
    for_each_counters(Counters::snapshot);
}

/// For the exit writer: takes the snapshot of a peak that no free followed.
pub fn finish_peak_snapshot() {
    for_each_counters(|c| {
        let pending = c.take_pending();
        if pending != 0 {
            snapshot_peak(pending);
        }
    });
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

/// A counter block for a thread that starts: a pooled one or a new one.
pub fn acquire_counters() -> Option<&'static Counters> {
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
        let p: *mut Counters = ARENA
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
    c.begin(&LIVE_BYTES);
    Some(c)
}

/// Hands a block back when its thread ends.
pub fn release_counters(c: &'static Counters) {
    c.flush(&LIVE_BYTES);
    let _lock = POOL_LOCK.lock();
    c.next_free
        .store(POOL.load(Ordering::Relaxed), Ordering::Relaxed);
    POOL.store(ptr::from_ref(c).cast_mut(), Ordering::Relaxed);
}

/// Calls `f` for every counter block, the orphan block included.
pub fn for_each_counters(mut f: impl FnMut(&'static Counters)) {
    let mut p = ALL_COUNTERS.load(Ordering::Acquire);
    while !p.is_null() {
        // SAFETY: arena records, never freed.
        let c = unsafe { &*p };
        f(c);
        p = c.next_all.load(Ordering::Relaxed);
    }
    f(&ORPHAN);
}

/// The main thread's stack top: `__libc_stack_end` rounded up to its page.
fn main_stack_top() -> usize {
    // SAFETY: ld.so sets this variable before any code of ours runs.
    let end = unsafe { sys::__libc_stack_end } as usize;
    (end + 4095) & !4095
}

/// The calling thread's stack top, without `pthread_getattr_np` (which deadlocks inside a hook):
/// glibc keeps the thread's `struct pthread` (the thread pointer) at the top of its stack block.
pub fn current_stack_top() -> usize {
    // SAFETY: no preconditions.
    if unsafe { sys::gettid() == sys::getpid() } {
        main_stack_top()
    } else {
        sys::thread_pointer()
    }
}

/// The library's constructor (`.init_array`): reads the configuration once and turns recording on.
///
/// # Safety
/// Called by the dynamic loader with the process's arguments, on the main thread, once.
pub unsafe extern "C" fn init(
    _argc: c_int,
    _argv: *const *const c_char,
    _envp: *const *const c_char,
) {
    if STATE
        .compare_exchange(UNINIT, DISABLED, Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    let forced = Forced::new();
    crate::env::init_own_path();
    if env_is(c"CARGO_ALLOC_PROFILE_LIFETIMES", b"1") {
        LIFETIMES.store(true, Ordering::Relaxed);
    }
    if env_is(c"CARGO_ALLOC_PROFILE_FOLLOW_CHILDREN", b"0") {
        crate::env::remove_self_from_ld_preload();
    }
    if crate::env::is_toolchain() || !read_out_dir() {
        return;
    }
    let top = main_stack_top();
    capture::init(top);
    let tls = forced.tls();
    let off = ptr::from_ref(tls) as isize - sys::thread_pointer() as isize;
    if off < 0 && off > -(16 << 20) {
        TLS_OFFSET.store(off, Ordering::Relaxed);
    }
    start_clock();
    threads::init_key();
    threads::register(tls, NO_STACK, top);
    register_membarrier();
    // SAFETY: the handlers are plain functions that stay valid for the life of the process.
    unsafe {
        sys::pthread_atfork(Some(fork_prepare), Some(fork_parent), Some(fork_child));
        sys::atexit(at_exit);
    }
    crate::signals::init();
    STATE.store(ACTIVE, Ordering::Release);
}

/// Whether the environment variable `name` is set to exactly `value`.
fn env_is(name: &core::ffi::CStr, value: &[u8]) -> bool {
    // SAFETY: getenv with a NUL-terminated name; the result is a NUL-terminated string or null.
    let v = unsafe { sys::getenv(name.as_ptr()) };
    // SAFETY: as above.
    !v.is_null() && unsafe { capture::object_name(v) } == value
}

fn start_clock() {
    // SAFETY: no preconditions.
    PID.store(unsafe { sys::getpid() }, Ordering::Relaxed);
    START_TSC.store(sys::rdtsc(), Ordering::Relaxed);
    START_MONO_NS.store(sys::clock_ns(sys::CLOCK_MONOTONIC), Ordering::Relaxed);
    START_REAL_NS.store(sys::clock_ns(sys::CLOCK_REALTIME), Ordering::Relaxed);
}

/// Copies `CARGO_ALLOC_PROFILE_OUT` (made absolute against the current directory) into `OUT_DIR`.
/// `false` when unset, empty or too long: the library stays a pass-through.
fn read_out_dir() -> bool {
    // SAFETY: getenv with a NUL-terminated name; the result is a NUL-terminated string or null.
    let value = unsafe { sys::getenv(c"CARGO_ALLOC_PROFILE_OUT".as_ptr()) };
    // SAFETY: as above.
    let value = unsafe { capture::object_name(value) };
    if value.is_empty() {
        return false;
    }
    // SAFETY: constructor, before publication: nothing else reads OUT_DIR.
    let dir = unsafe { &mut *OUT_DIR.get() };
    let mut len = 0;
    if value[0] != b'/' {
        // SAFETY: getcwd writes at most MAX_DIR bytes, NUL-terminated, into our buffer.
        let cwd = unsafe { sys::getcwd(dir.bytes.as_mut_ptr().cast(), MAX_DIR) };
        if cwd.is_null() {
            return false;
        }
        len = dir.bytes.iter().position(|&b| b == 0).unwrap_or(MAX_DIR);
        if len + 1 >= MAX_DIR {
            return false;
        }
        dir.bytes[len] = b'/';
        len += 1;
    }
    // Room for "/.<name>-<pid>.aprof.tmp" and a NUL is checked when the path is built.
    if len + value.len() >= MAX_DIR {
        return false;
    }
    dir.bytes[len..len + value.len()].copy_from_slice(value);
    dir.len = len + value.len();
    true
}

extern "C" fn at_exit() {
    crate::profile::write(
        alloc_profile_format::end_reason::EXIT,
        EXIT_STATUS.load(Ordering::Relaxed),
    );
}

/// Every lock of ours, in the order they may nest (orphan → interner → arenas → … → live shards).
fn for_each_lock(mut f: impl FnMut(&SpinLock)) {
    f(&ORPHAN_LOCK);
    for l in STACKS.locks() {
        f(l);
    }
    f(ARENA.lock());
    f(&POOL_LOCK);
    for l in threads::locks() {
        f(l);
    }
    for l in LIVE_BLOCKS.locks() {
        f(l);
    }
}

/// No lock of ours may be held across `fork` (the child would inherit it locked forever): take them
/// all, with the guard set so nothing in between records.
///
/// If the guard was already set, this thread is inside our own code (a signal handler interrupted a
/// hook and called `fork`): it may hold one of the locks, so none is taken; the child resets them all
/// anyway.
extern "C" fn fork_prepare() {
    let tls = tls();
    let inside = tls.guard.replace(true);
    tls.fork_guard.set(inside);
    if !inside {
        for_each_lock(SpinLock::acquire);
    }
}

extern "C" fn fork_parent() {
    let tls = tls();
    if !tls.fork_guard.get() {
        for_each_lock(SpinLock::force_unlock);
    }
    tls.guard.set(tls.fork_guard.get());
}

/// The child's profile is its own: new pid and clock, nothing counted, nothing live, one thread.
/// Interned stacks are kept (ids stay valid; unused ones are written without sites).
extern "C" fn fork_child() {
    for_each_lock(SpinLock::force_unlock);
    let tls = tls();
    start_clock();
    register_membarrier();
    LIVE_BYTES.store(0, Ordering::Relaxed);
    SNAPPED_PEAK.store(0, Ordering::Relaxed);
    UNATTRIBUTED.store(0, Ordering::Relaxed);
    EXIT_STATUS.store(0, Ordering::Relaxed);
    LIVE_BLOCKS.clear_in_child();
    let mine = tls.counters.get();
    POOL.store(ptr::null_mut(), Ordering::Relaxed);
    for_each_counters(|c| {
        c.reset();
        if !ptr::eq(c, mine) && !ptr::eq(c, &ORPHAN) {
            c.next_free
                .store(POOL.load(Ordering::Relaxed), Ordering::Relaxed);
            POOL.store(ptr::from_ref(c).cast_mut(), Ordering::Relaxed);
        }
    });
    if mine.is_null() || mine == RETIRED {
        tls.counters.set(ptr::null());
    } else {
        // SAFETY: arena record.
        unsafe { &*mine }.begin(&LIVE_BYTES);
    }
    threads::reset_in_child(tls);
    tls.guard.set(tls.fork_guard.get());
}

/// Whether the profile was (being) written; only the first call of [`crate::profile::write`] writes.
pub static WRITTEN: AtomicBool = AtomicBool::new(false);

/// `pthread_key_t` whose destructor hands a thread's counter block back.
pub static KEY: AtomicU32 = AtomicU32::new(0);
pub static KEY_OK: AtomicBool = AtomicBool::new(false);

pub fn key() -> Option<c_uint> {
    KEY_OK
        .load(Ordering::Relaxed)
        .then(|| KEY.load(Ordering::Relaxed))
}
