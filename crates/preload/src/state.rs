//! The process's state machine and each thread's state, with the thread's re-entrancy guard.
//!
//! State machine ([`STATE`]): `UNINIT` until the constructor ran; `DISABLED` when
//! `CARGO_ALLOC_PROFILE_OUT` is unset or empty, or in the Rust toolchain (every hook is then a pure
//! pass-through); `ACTIVE`; `FROZEN` once the profile is being written (other threads' hooks pass
//! through unrecorded).

use core::cell::Cell;
use core::ptr;
use core::sync::atomic::{AtomicIsize, AtomicU8, Ordering};

use alloc_profile_format::NO_STACK;

use crate::counters::Counters;
use crate::live;
use crate::peak::ThreadLive;
use crate::sys;

pub const UNINIT: u8 = 0;
pub const DISABLED: u8 = 1;
pub const ACTIVE: u8 = 2;
pub const FROZEN: u8 = 3;

pub static STATE: AtomicU8 = AtomicU8::new(UNINIT);

/// Whether the library records (acquire: what the constructor set up is visible).
pub fn is_active() -> bool {
    STATE.load(Ordering::Acquire) == ACTIVE
}

/// `Tls::counters` of a thread whose block was handed back: it counts into the orphan block (see
/// `pool`).
pub const RETIRED: *const Counters = ptr::NonNull::<Counters>::dangling().as_ptr();

/// `Tls::thread` of a thread without a record.
pub const NO_THREAD: u32 = u32::MAX;

/// The tag a tracked block keeps of the thread that allocated it: the thread's index plus one, or 0
/// for none (no record, or an index past the [`live::MAX_TAG`] that fit: such a thread counts no
/// temporaries, and no thread's live bytes count its blocks). Indices, so tags, are never reused.
#[inline(always)]
pub fn thread_tag(index: u32) -> u32 {
    if index < live::MAX_TAG {
        index + 1
    } else {
        0
    }
}

/// Per-thread state. `const`-initialized, no destructor: nothing is registered with the thread's
/// exit, and access never allocates.
pub struct Tls {
    /// Set while this thread runs our code: a hook that finds it set passes straight through.
    pub guard: Cell<bool>,
    /// This thread's counter block: null before registration, [`RETIRED`] after.
    pub counters: Cell<*const Counters>,
    /// Index of this thread's record (see `threads`), or [`NO_THREAD`].
    pub thread: Cell<u32>,
    /// This thread's own live bytes, in its record (null: not counted, see `peak::TEST_PEAKS`; no
    /// record; or a tag that does not fit, see [`thread_tag`]).
    pub live: Cell<*const ThreadLive>,
    /// The tag this thread's blocks carry: [`thread_tag`] of its index (0: no record).
    pub tag: Cell<u32>,
    /// Stack id of the `pthread_create` call that started this thread, or `NO_STACK`.
    pub parent: Cell<u32>,
    /// Top of this thread's stack, for the frame-pointer walk's bounds.
    pub top: Cell<usize>,
    /// Set while the real `pthread_create` runs under our hook.
    pub in_spawn: Cell<bool>,
    /// Address of this thread's last allocation (0: none, or freed since): the block there with
    /// this thread's tag is that allocation, whose free is *temporary* (see `record::release`).
    pub last_alloc: Cell<usize>,
    /// What `alloc_profile_wrap_take` removed besides the stack and size the C side keeps:
    /// (allocation stamp, realloc count, thread tag), for the matching `alloc_profile_wrap_realloc`.
    pub wrap_taken: Cell<(u64, u32, u32)>,
    /// Set while this thread runs on top of one of our trampolines (thread start, `main`): a complete
    /// frame-pointer walk then ends at our frame (see `capture`).
    pub bottom: Cell<bool>,
    /// `guard` as it was when a `fork` began (see `lifecycle`).
    pub fork_guard: Cell<bool>,
}

thread_local! {
    static TLS: Tls = const {
        Tls {
            guard: Cell::new(false),
            counters: Cell::new(ptr::null()),
            thread: Cell::new(NO_THREAD),
            live: Cell::new(ptr::null()),
            tag: Cell::new(0),
            parent: Cell::new(NO_STACK),
            top: Cell::new(0),
            in_spawn: Cell::new(false),
            bottom: Cell::new(false),
            last_alloc: Cell::new(0),
            wrap_taken: Cell::new((0, 0, 0)),
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

/// Constructor: turns the fast TLS path on when this thread's `Tls` lies where the static TLS block
/// is (just below the thread pointer).
pub fn init_fast_tls(tls: &'static Tls) {
    let off = ptr::from_ref(tls) as isize - sys::thread_pointer() as isize;
    if off < 0 && off > -(16 << 20) {
        TLS_OFFSET.store(off, Ordering::Relaxed);
    }
}

/// Turns the fast TLS path off if it does not agree with the compiler's on this thread.
pub fn check_tls_offset() {
    let off = TLS_OFFSET.load(Ordering::Relaxed);
    if off != 0 && ptr::from_ref(tls_slow()) as isize != sys::thread_pointer() as isize + off {
        TLS_OFFSET.store(0, Ordering::Relaxed);
    }
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
