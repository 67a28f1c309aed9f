//! The second door into the same core: allocator libraries that never call malloc.
//!
//! A Rust program whose `#[global_allocator]` is jemalloc or mimalloc allocates through that
//! library's own entry points (`_rjem_mallocx`, `mi_malloc_aligned`, ...). The front end links such
//! programs with small wrappers (`-Wl,--wrap=<symbol>`, see the cli's `wrap/alloc_wrap.c`) that call
//! the functions below around the real call. They feed the same per-stack aggregation and live table
//! as the malloc hooks, so a program is counted the same way whichever door its allocations use.
//!
//! Protocol, per wrapped call (all on the calling thread):
//! 1. `alloc_profile_wrap_begin()` enters the recording path like a hook does (sets this thread's
//!    guard) and returns a token, or 0 when nothing is to be recorded (not profiling, or already
//!    inside our code or inside another wrapped call: an allocator that calls its own wrapped entry
//!    points internally, as mimalloc's realloc calls `mi_free` under lld, is counted once).
//! 2. For a release, `alloc_profile_wrap_free(token, p)` BEFORE the real release; for a realloc,
//!    `alloc_profile_wrap_take(token, old, out)` before the real call and
//!    `alloc_profile_wrap_realloc(token, out, new, size)` after it; for an allocation,
//!    `alloc_profile_wrap_alloc(token, p, size)` after the real call. Each of these last calls
//!    leaves the recording path as a hook does (clears the guard and the busy mark, see `guard`);
//!    `alloc_profile_wrap_take` does not.
//!
//! Releases are recorded before the real release, as in the free hook, so that no other thread can
//! be handed the same address while the live table still holds it.

use core::ffi::c_void;

use crate::guard::{enter, Entered};
use crate::intern::StackRec;
use crate::live::Block;
use crate::record;

/// What `alloc_profile_wrap_take` removed from the live table, held by the caller across the
/// real realloc.
#[repr(C)]
pub struct Taken {
    rec: *const c_void,
    size: usize,
}

/// Step 1 (`alloc_profile_wrap_begin`): 0 when this call is not to be recorded. The guard stays
/// set until the matching end call.
pub fn begin() -> usize {
    enter().map_or(0, Entered::into_token)
}

/// The end of a wrapped call: what `begin` entered (its token is non-zero).
fn resume(token: usize) -> Entered {
    // SAFETY: per the protocol, a non-zero token comes from `begin` on this thread, and exactly one
    // end call follows it.
    unsafe { Entered::resume(token) }
}

/// `alloc_profile_wrap_alloc`: after a successful or failed allocation of `size` bytes at `p`; ends
/// the call.
pub fn alloc(token: usize, p: *mut c_void, size: usize) {
    if token == 0 {
        return;
    }
    let e = resume(token);
    record::alloc(e.tls, p as usize, size);
}

/// `alloc_profile_wrap_free`: before releasing `p`; ends the call.
pub fn free(token: usize, p: *mut c_void) {
    if token == 0 {
        return;
    }
    let e = resume(token);
    if !p.is_null() {
        record::free(e.tls, p as usize);
    }
}

/// `alloc_profile_wrap_take`: before reallocating `old`, takes its live-table entry into `out` (a
/// null `rec` when untracked). The call goes on.
///
/// # Safety
/// `out` must point to writable memory for a `Taken`.
pub unsafe fn take(token: usize, old: *mut c_void, out: *mut Taken) {
    let taken = if token == 0 {
        None
    } else {
        record::take(old as usize)
    };
    let value = match taken {
        Some(b) => {
            // The C side keeps stack and size; the rest waits on this thread (whose guard stays set
            // until the matching `alloc_profile_wrap_realloc`).
            // SAFETY: a non-zero token from `begin` on this thread, per the protocol.
            unsafe { Entered::token_tls(token) }
                .wrap_taken
                .set((b.tsc, b.reallocs, b.thread));
            Taken {
                rec: core::ptr::from_ref(b.rec).cast(),
                size: b.size,
            }
        }
        None => Taken {
            rec: core::ptr::null(),
            size: 0,
        },
    };
    // SAFETY: the caller passes a pointer to its own `Taken`.
    unsafe { out.write(value) };
}

/// `alloc_profile_wrap_realloc`: after the real realloc of `old` (taken into `taken`) returned `new`
/// for `size` bytes; ends the call. A failed realloc (`new` null, `size` non-zero) leaves the old
/// block live and tracked.
///
/// # Safety
/// `taken` must be what `alloc_profile_wrap_take` wrote for this call.
pub unsafe fn realloc(
    token: usize,
    old: *mut c_void,
    taken: *const Taken,
    new: *mut c_void,
    size: usize,
) {
    if token == 0 {
        return;
    }
    let e = resume(token);
    let tls = e.tls;
    // SAFETY: the caller passes back the `Taken` filled for this call.
    let taken = unsafe { &*taken };
    // SAFETY: a non-null `rec` came from the live table, whose records live for the whole process.
    let rec = unsafe { taken.rec.cast::<StackRec>().as_ref() };
    let (tsc, reallocs, thread) = tls.wrap_taken.get();
    let block = rec.map(|rec| Block {
        rec,
        size: taken.size,
        tsc,
        reallocs,
        thread,
    });
    record::realloc(tls, old as usize, block, new as usize, size);
}
