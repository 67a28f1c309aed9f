//! Stack capture: a bounded frame-pointer walk, with a DWARF unwind for the stacks it cannot be trusted
//! with.
//!
//! Rules (the symbolizer and the report rely on them):
//! - `frames[0]` is the return address into the function that called the hooked function (e.g. into
//!   `__rdl_alloc`, or into the program's function for a direct `malloc` call); frames inside this
//!   library are skipped, and the walk stops at the next frame inside it (the thread trampoline), so
//!   a spawned thread's stacks end at its start routine and continue in the parent (spawn) stack.
//!   Exception: glibc's allocations inside `pthread_create` skip the frames of our `pthread_create`
//!   hook and continue into the program.
//! - Frame-pointer walk: each frame pointer must be 8-aligned, strictly increasing, within the
//!   thread's stack (between the current stack pointer and the stack's top, the stack pointer at most
//!   1 GiB below the top), at most 16 MiB above the previous one; a return address must be >= 4096
//!   and not point into the stack. The walk stops after the first return address outside the
//!   executable's text, because code outside the executable (glibc above all) keeps no frame
//!   pointers, so the chain beyond it is garbage.
//! - Every thread started through our `pthread_create` hook runs on top of our thread trampoline, and
//!   the main thread on top of our `main` trampoline (we interpose `__libc_start_main`): such a
//!   thread has a *known bottom*, and a complete walk ends at a frame of ours (or is TRUNCATED). A
//!   walk that ends anywhere else stopped early, in code without frame pointers (a C function that
//!   called back into the program: `qsort`, `dl_iterate_phdr`, `_Unwind_Backtrace` while std prints
//!   a panic's backtrace), and the stack is taken again with `_Unwind_Backtrace` (flag DWARF). Telling
//!   the two apart costs one comparison per stack: the walk already classifies every return address.
//!   Threads without a known bottom (started by `clone` directly, or the main thread before `main`:
//!   constructors) keep their frame-pointer stacks, which may end in glibc.
//! - When `frames[0]` itself lies outside the executable's text (glibc calling malloc, a shared
//!   library, a C callback), or the walk found nothing, the stack is taken again with
//!   `_Unwind_Backtrace` (flag DWARF). DWARF stacks end at our trampolines too, or go on through
//!   glibc to `_start` or `clone3` on threads without a known bottom.
//! - At most [`MAX_FRAMES`]; a deeper stack keeps its innermost frames and gets flag TRUNCATED.
//! - Return addresses point just past the call: symbolize `address - 1`.

use core::ffi::{c_int, c_void};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};

use alloc_profile_format::stack_flags;

use crate::intern::FramesHash;
use crate::sync::SyncCell;
use crate::sys;

pub const MAX_FRAMES: usize = 128;
const MAX_RANGES: usize = 8;
const MAX_FRAME_SIZE: usize = 16 << 20;
const MAX_STACK_SPAN: usize = 1 << 30;

/// Executable ranges `[start, end)` of this library and of the main executable, each with its
/// bounding range (one comparison pair answers most questions: a single text segment is the rule).
/// Written once in the constructor, before the library turns active; read-only afterwards.
struct Text {
    own: Ranges,
    exe: Ranges,
}

#[derive(Clone, Copy)]
struct Ranges {
    list: [(usize, usize); MAX_RANGES],
    len: usize,
    /// Smallest start and largest end of `list` (empty: `(usize::MAX, 0)`).
    lo: usize,
    hi: usize,
}

impl Ranges {
    const EMPTY: Ranges = Ranges {
        list: [(0, 0); MAX_RANGES],
        len: 0,
        lo: usize::MAX,
        hi: 0,
    };

    fn new(list: [(usize, usize); MAX_RANGES], len: usize) -> Ranges {
        let used = &list[..len];
        Ranges {
            list,
            len,
            lo: used.iter().map(|r| r.0).min().unwrap_or(usize::MAX),
            hi: used.iter().map(|r| r.1).max().unwrap_or(0),
        }
    }

    #[inline(always)]
    fn contains(&self, addr: usize) -> bool {
        // One unsigned comparison for `lo <= addr < hi` (empty: `hi - lo` wraps to a huge span, but
        // `len` is then 0 and `within` finds nothing).
        addr.wrapping_sub(self.lo) < self.hi.wrapping_sub(self.lo)
            && (self.len == 1 || within(&self.list[..self.len], addr))
    }
}

static TEXT: SyncCell<Text> = SyncCell::new(Text {
    own: Ranges::EMPTY,
    exe: Ranges::EMPTY,
});

/// Whether this library itself was compiled with frame pointers (the cli's build passes
/// `-C force-frame-pointers=yes`). Without them the walk cannot find its way out of our own frames,
/// so every stack is taken by DWARF: slow but right.
static OWN_FRAME_POINTERS: AtomicBool = AtomicBool::new(false);

fn text() -> &'static Text {
    // SAFETY: written only by `init`, before publication; shared reads afterwards.
    unsafe { &*TEXT.get() }
}

#[inline(always)]
fn within(ranges: &[(usize, usize)], addr: usize) -> bool {
    ranges.iter().any(|&(s, e)| addr >= s && addr < e)
}

#[inline(always)]
pub fn in_own_text(addr: usize) -> bool {
    text().own.contains(addr)
}

#[inline(always)]
pub fn in_exe_text(addr: usize) -> bool {
    text().exe.contains(addr)
}

/// Finds the text ranges and checks our own frame pointers. Constructor only (single-threaded,
/// before the library turns active).
pub fn init(main_stack_top: usize) {
    // SAFETY: constructor: nothing else reads TEXT yet.
    let t = unsafe { &mut *TEXT.get() };
    let mut collect = Collect { text: t, index: 0 };
    // SAFETY: the callback matches dl_iterate_phdr's contract and only reads the program headers.
    unsafe { sys::dl_iterate_phdr(Some(collect_text), core::ptr::from_mut(&mut collect).cast()) };
    OWN_FRAME_POINTERS.store(probe_frame_pointers(main_stack_top), Ordering::Relaxed);
}

struct Collect<'a> {
    text: &'a mut Text,
    index: usize,
}

unsafe extern "C" fn collect_text(
    info: *mut sys::DlPhdrInfo,
    _: usize,
    data: *mut c_void,
) -> c_int {
    // SAFETY: dl_iterate_phdr passes valid info; `data` is the `Collect` passed by `init`.
    let (info, collect) = unsafe { (&*info, &mut *data.cast::<Collect<'_>>()) };
    let own_probe = collect_text as *const () as usize;
    // dl_iterate_phdr reports the main program first.
    let first = collect.index == 0;
    collect.index += 1;
    let t = &mut *collect.text;
    // SAFETY: `phdr` points at `phnum` program headers of a loaded object.
    let phdrs = unsafe { core::slice::from_raw_parts(info.phdr, usize::from(info.phnum)) };
    let mut ranges = [(0usize, 0usize); MAX_RANGES];
    let mut n = 0;
    for ph in phdrs {
        if ph.p_type == sys::PT_LOAD && ph.p_flags & sys::PF_X != 0 && n < MAX_RANGES {
            let start = info.addr.wrapping_add(ph.p_vaddr) as usize;
            ranges[n] = (start, start + ph.p_memsz as usize);
            n += 1;
        }
    }
    if first {
        t.exe = Ranges::new(ranges, n);
    }
    if within(&ranges[..n], own_probe) {
        t.own = Ranges::new(ranges, n);
    }
    0
}

#[inline(always)]
fn frame_pointer() -> usize {
    let fp: usize;
    // SAFETY: reads a register.
    unsafe {
        core::arch::asm!("mov {}, rbp", out(reg) fp, options(nomem, nostack, preserves_flags))
    };
    fp
}

#[inline(always)]
fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads a register.
    unsafe {
        core::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    sp
}

#[inline(never)]
fn probe_frame_pointers(top: usize) -> bool {
    let (fp, sp) = (frame_pointer(), stack_pointer());
    if fp % 8 != 0 || fp < sp || fp.saturating_add(16) > top || fp - sp > 1 << 20 {
        return false;
    }
    // SAFETY: `fp..fp+16` lies between the stack pointer and the top of this thread's stack.
    let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
    next > fp && in_own_text(ret)
}

/// Frames written by [`capture`]: stack storage that is not zeroed first.
pub struct FrameBuf([MaybeUninit<u64>; MAX_FRAMES]);

impl FrameBuf {
    #[inline(always)]
    pub fn new() -> Self {
        Self([MaybeUninit::uninit(); MAX_FRAMES])
    }

    #[inline(always)]
    fn frames(&self, n: usize) -> &[u64] {
        // SAFETY: the first n slots were written.
        unsafe { core::slice::from_raw_parts(self.0.as_ptr().cast(), n) }
    }
}

/// Captures the calling thread's stack (see the module docs). `top` is the top of the thread's
/// stack. Returns the frames, the stack flags (DWARF, TRUNCATED) and the frames' hash
/// ([`FramesHash::of`] them).
///
/// `in_spawn`: the caller is inside our `pthread_create` hook (glibc allocating for the new thread),
/// whose own frames are then skipped instead of ending the walk. `bottom_known`: the thread runs on
/// top of one of our trampolines, so a walk that does not reach it stopped early.
#[inline(always)]
pub fn capture(
    top: usize,
    in_spawn: bool,
    bottom_known: bool,
    buf: &mut FrameBuf,
) -> (&[u64], u32, FramesHash) {
    if OWN_FRAME_POINTERS.load(Ordering::Relaxed) {
        let (n, flags, complete, hash) = walk_frame_pointers(top, buf);
        if n > 0
            && (complete || !bottom_known)
            // SAFETY: `n >= 1` means slot 0 was written.
            && in_exe_text(unsafe { buf.0[0].assume_init() } as usize)
        {
            return (buf.frames(n), flags, hash);
        }
    }
    let (n, flags) = walk_dwarf(buf, in_spawn);
    let frames = buf.frames(n);
    (frames, flags | stack_flags::DWARF, FramesHash::of(frames))
}

/// The frame-pointer walk: (frames written, flags, complete, running hash of the frames).
/// Complete means the walk reached a frame of ours after the program's frames (a trampoline), or
/// was cut at [`MAX_FRAMES`].
///
/// Two loops: the leading frames of ours (the hook's), then the program's frames, whose loop does
/// only what a return address into the executable needs (each other case leaves it). The common
/// executable with one text segment gets its own copy of the walk, with one comparison pair per
/// return address. The single loop this replaced cost 33 instructions per frame (register spills,
/// a `leading` flag, a bounds check on the buffer) and this one 25 (`bench/cachegrind.sh`).
#[inline(always)]
fn walk_frame_pointers(top: usize, buf: &mut FrameBuf) -> (usize, u32, bool, FramesHash) {
    if text().exe.len == 1 {
        walk::<true>(top, buf)
    } else {
        walk::<false>(top, buf)
    }
}

/// [`walk_frame_pointers`]; `ONE_SEGMENT`: the executable has a single text segment. Inlined into
/// the hook's frame (a call of its own measured 2-3% more instructions in all).
#[inline(always)]
fn walk<const ONE_SEGMENT: bool>(top: usize, buf: &mut FrameBuf) -> (usize, u32, bool, FramesHash) {
    const INCOMPLETE: (usize, u32, bool, FramesHash) = (0, 0, false, FramesHash::SEED);
    let sp = stack_pointer();
    if top.wrapping_sub(sp) > MAX_STACK_SPAN {
        // Not on the stack we know (a coroutine or alternate signal stack): the range up to `top`
        // may have holes, so leave this stack to the DWARF unwinder.
        return INCOMPLETE;
    }
    let mut fp = frame_pointer();
    // Invariant whenever `fp` is read: 8-aligned, at or above the stack pointer, with room for its
    // two words below the top (checked here, then kept by requiring each next frame pointer to be
    // aligned, higher and within `last_fp`).
    if fp % 8 != 0 || fp < sp || top < 16 {
        return INCOMPLETE;
    }
    let last_fp = top - 16;
    let t = text();
    let (exe_lo, exe_span) = (t.exe.lo, t.exe.hi.wrapping_sub(t.exe.lo));
    let in_exe = |addr: usize| {
        addr.wrapping_sub(exe_lo) < exe_span
            && (ONE_SEGMENT || within(&t.exe.list[..t.exe.len], addr))
    };
    // Strictly higher, at most MAX_FRAME_SIZE higher, 8-aligned (`fp` is), with room for two
    // words below the top. One comparison for the first three: the difference less 8, rotated
    // right by 3, is below MAX_FRAME_SIZE / 8 exactly for the differences 8, 16, ..,
    // MAX_FRAME_SIZE (a difference that is not a multiple of 8 rotates its low bits to the top,
    // one of 0 or less wraps to a huge value).
    let next_ok = |fp: usize, next: usize| {
        next.wrapping_sub(fp).wrapping_sub(8).rotate_right(3) < MAX_FRAME_SIZE / 8
            && next <= last_fp
    };
    // A return address outside the executable and this library, after `n` frames: kept if it
    // looks like code, and the walk ends (such code keeps no frame pointers, so the chain beyond
    // it is garbage).
    let foreign = |buf: &mut FrameBuf, n: usize, hash: FramesHash, ret: usize| {
        if ret < 4096 || (ret >= sp && ret < top) {
            return (n, 0, false, hash);
        }
        if n == MAX_FRAMES {
            return (n, stack_flags::TRUNCATED, true, hash);
        }
        buf.0[n] = MaybeUninit::new(ret as u64);
        (n + 1, 0, false, hash.add(ret as u64))
    };
    if fp > last_fp {
        return INCOMPLETE;
    }
    // The leading frames of ours.
    let mut ret;
    loop {
        let next;
        // SAFETY: `fp..fp+16` lies between this thread's stack pointer and the top of its stack,
        // which is mapped.
        (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if in_exe(ret) {
            break;
        }
        if !t.own.contains(ret) {
            return foreign(buf, 0, FramesHash::SEED, ret);
        }
        if !next_ok(fp, next) {
            return INCOMPLETE;
        }
        fp = next;
    }
    // The program's frames: `ret`, read at `fp`, is in the executable. Only `fp` and `ret` go from
    // one turn to the next (the frame's other word is read again, from the cache line just read),
    // which keeps the loop in registers.
    let mut hash = FramesHash::SEED;
    let mut n = 0;
    loop {
        if n == MAX_FRAMES {
            return (n, stack_flags::TRUNCATED, true, hash);
        }
        buf.0[n] = MaybeUninit::new(ret as u64);
        n += 1;
        hash = hash.add(ret as u64);
        // SAFETY: as above (`next_ok` keeps the invariant).
        let next = unsafe { *(fp as *const usize) };
        if !next_ok(fp, next) {
            return (n, 0, false, hash);
        }
        fp = next;
        // SAFETY: as above.
        ret = unsafe { *((fp + 8) as *const usize) };
        if !in_exe(ret) {
            if t.own.contains(ret) {
                return (n, 0, true, hash);
            }
            return foreign(buf, n, hash, ret);
        }
    }
}

struct DwarfWalk<'a> {
    buf: &'a mut FrameBuf,
    n: usize,
    leading: bool,
    truncated: bool,
    /// Runs of our own frames after the leading one that may still be skipped (0 or 1).
    own_runs: u8,
    in_own_run: bool,
}

const URC_NO_REASON: c_int = 0;
const URC_NORMAL_STOP: c_int = 4;

unsafe extern "C" fn dwarf_step(ctx: *mut c_void, arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the DwarfWalk passed to _Unwind_Backtrace by `walk_dwarf`.
    let walk = unsafe { &mut *arg.cast::<DwarfWalk<'_>>() };
    // SAFETY: `ctx` is the unwinder's context for this step.
    let ip = unsafe { sys::_Unwind_GetIP(ctx) };
    if ip < 4096 {
        return URC_NORMAL_STOP;
    }
    if in_own_text(ip) {
        if walk.leading || walk.in_own_run {
            return URC_NO_REASON;
        }
        if walk.own_runs > 0 {
            walk.own_runs -= 1;
            walk.in_own_run = true;
            return URC_NO_REASON;
        }
        return URC_NORMAL_STOP;
    }
    walk.leading = false;
    walk.in_own_run = false;
    if walk.n == MAX_FRAMES {
        walk.truncated = true;
        return URC_NORMAL_STOP;
    }
    walk.buf.0[walk.n] = MaybeUninit::new(ip as u64);
    walk.n += 1;
    URC_NO_REASON
}

#[inline(never)]
#[cold]
fn walk_dwarf(buf: &mut FrameBuf, in_spawn: bool) -> (usize, u32) {
    let _errno = sys::SavedErrno::new();
    let mut walk = DwarfWalk {
        buf,
        n: 0,
        leading: true,
        truncated: false,
        own_runs: u8::from(in_spawn),
        in_own_run: false,
    };
    // SAFETY: the callback matches the unwinder's contract and only writes into `walk`.
    unsafe { sys::_Unwind_Backtrace(dwarf_step, core::ptr::from_mut(&mut walk).cast()) };
    let flags = if walk.truncated {
        stack_flags::TRUNCATED
    } else {
        0
    };
    (walk.n, flags)
}
