//! Threads: their records (index, tid, name, spawn stack), registration, the `pthread_create`
//! trampoline that links a thread's stacks to the stack that spawned it, and thread end.
//!
//! A thread registers when it starts through the trampoline, or lazily at its first recorded hook
//! (the main thread in the constructor: index 0). When it ends, a `pthread_key` destructor hands its
//! counter block to the next thread; the block's counts stay in it and are summed at exit like any
//! other, so counts of ended threads are not lost.

use core::ffi::{c_char, c_uint, c_void};
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU8, AtomicUsize, Ordering};

use crate::arena::RECORDS;
use crate::counters::Counters;
use crate::dir::Directory;
use crate::peak::{ThreadLive, TEST_PEAKS};
use crate::pool;
use crate::state::{self, Forced, Tls, NO_THREAD, RETIRED};
use crate::sync::SpinLock;
use crate::sys;

const NAME_MAX: usize = 15;

/// One thread known to the interposer. Lives in the arena for the rest of the process.
#[repr(C)]
pub struct ThreadInfo {
    pub index: AtomicU32,
    pub tid: AtomicU32,
    pub spawn_stack: AtomicU32,
    pub pthread: AtomicUsize,
    pub retired: AtomicBool,
    /// Live bytes of the blocks this thread allocated (counted for test runs, see `peak`).
    pub live: ThreadLive,
    name_len: AtomicU8,
    name: [AtomicU8; NAME_MAX],
}

impl ThreadInfo {
    pub fn set_name(&self, name: &[u8]) {
        let name = &name[..name.len().min(NAME_MAX)];
        self.name_len.store(0, Ordering::Relaxed);
        for (dst, &b) in self.name.iter().zip(name) {
            dst.store(b, Ordering::Relaxed);
        }
        self.name_len.store(name.len() as u8, Ordering::Release);
    }

    /// Copies the name into `out`, returning its length.
    pub fn name(&self, out: &mut [u8; NAME_MAX]) -> usize {
        let len = usize::from(self.name_len.load(Ordering::Acquire)).min(NAME_MAX);
        for (dst, src) in out.iter_mut().zip(&self.name[..len]) {
            *dst = src.load(Ordering::Relaxed);
        }
        len
    }
}

static THREADS: Directory<ThreadInfo, 1024, 4096> = Directory::new();
static THREAD_COUNT: AtomicU32 = AtomicU32::new(0);
static THREADS_LOCK: SpinLock = SpinLock::new();

pub fn count() -> u32 {
    THREAD_COUNT.load(Ordering::Acquire)
}

pub fn get(index: u32) -> Option<&'static ThreadInfo> {
    let p = THREADS.get(index as usize);
    // SAFETY: published thread records live in the arena for the rest of the process.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// The record of the thread `tls` belongs to, if it has one.
fn info_of(tls: &Tls) -> Option<&'static ThreadInfo> {
    match tls.thread.get() {
        NO_THREAD => None,
        index => get(index),
    }
}

/// Makes `info` the calling thread's record: `Tls::thread` and `Tls::live`.
fn set_info(tls: &Tls, info: Option<&'static ThreadInfo>) {
    let index = info.map_or(NO_THREAD, |i| i.index.load(Ordering::Relaxed));
    tls.thread.set(index);
    let tag = state::thread_tag(index);
    tls.tag.set(tag);
    match info {
        Some(i) if TEST_PEAKS.load(Ordering::Relaxed) && tag != 0 => {
            tls.live.set(ptr::from_ref(&i.live));
        }
        _ => tls.live.set(ptr::null()),
    }
}

/// Creates and publishes the calling thread's record.
fn new_info(spawn_stack: u32, pthread: usize, name: &[u8]) -> Option<&'static ThreadInfo> {
    let p: *mut ThreadInfo = RECORDS
        .alloc(
            core::mem::size_of::<ThreadInfo>(),
            core::mem::align_of::<ThreadInfo>(),
        )?
        .as_ptr()
        .cast();
    // SAFETY: fresh arena memory of the right size and alignment, not yet shared.
    let info = unsafe {
        p.write(ThreadInfo {
            index: AtomicU32::new(0),
            tid: AtomicU32::new(sys::gettid() as u32),
            spawn_stack: AtomicU32::new(spawn_stack),
            pthread: AtomicUsize::new(pthread),
            retired: AtomicBool::new(false),
            live: ThreadLive::new(),
            name_len: AtomicU8::new(0),
            name: [const { AtomicU8::new(0) }; NAME_MAX],
        });
        &*p
    };
    info.set_name(name);
    let _lock = THREADS_LOCK.lock();
    let index = THREAD_COUNT.load(Ordering::Relaxed);
    info.index.store(index, Ordering::Relaxed);
    if !THREADS.set(index as usize, p) {
        return None;
    }
    THREAD_COUNT.store(index + 1, Ordering::Release);
    Some(info)
}

/// The calling thread's kernel name (`comm`), as `prctl(PR_GET_NAME)` gives it.
fn kernel_name(buf: &mut [u8; 16]) -> &[u8] {
    // SAFETY: PR_GET_NAME writes at most 16 bytes, NUL-terminated, into `buf`.
    unsafe { sys::prctl(sys::PR_GET_NAME, buf.as_mut_ptr()) };
    let len = buf.iter().position(|&b| b == 0).unwrap_or(NAME_MAX);
    &buf[..len.min(NAME_MAX)]
}

/// Registers the calling thread: a record, a counter block, and (except on the main thread) the key
/// whose destructor runs at thread end. Runs with the guard set.
pub fn register(tls: &'static Tls, spawn_stack: u32, top: usize) {
    let _errno = sys::SavedErrno::new();
    state::check_tls_offset();
    tls.top.set(top);
    tls.parent.set(spawn_stack);
    let mut buf = [0u8; 16];
    // SAFETY: no preconditions.
    let pthread = unsafe { sys::pthread_self() };
    let info = new_info(spawn_stack, pthread, kernel_name(&mut buf));
    set_info(tls, info);
    let counters = pool::acquire();
    tls.counters.set(counters.map_or(RETIRED, ptr::from_ref));
    // SAFETY: no preconditions.
    let main = unsafe { sys::gettid() == sys::getpid() };
    if let (Some(key), false, Some(_)) = (key(), main, counters) {
        // Any non-null value makes the destructor run.
        let value: *const c_void = info.map_or(ptr::NonNull::dangling().as_ptr(), |i| {
            ptr::from_ref(i).cast()
        });
        // SAFETY: a key created by `init_key`; setspecific may allocate, which the guard passes
        // through.
        unsafe { sys::pthread_setspecific(key, value) };
    }
}

/// Registers a thread seen for the first time in a hook (started before the library was active, or
/// not through `pthread_create`).
#[cold]
pub fn register_lazily(tls: &'static Tls) {
    register(tls, tls.parent.get(), current_stack_top());
}

/// This thread's counter block, registering the thread on first use; `None`: use the orphan block
/// (see `pool`).
#[inline(always)]
pub fn own_counters(tls: &'static Tls) -> Option<&'static Counters> {
    let mut c = tls.counters.get();
    if c.is_null() {
        register_lazily(tls);
        c = tls.counters.get();
    }
    if c == RETIRED || c.is_null() {
        None
    } else {
        // SAFETY: counter blocks live in the arena for the rest of the process.
        Some(unsafe { &*c })
    }
}

/// The main thread's stack top: `__libc_stack_end` rounded up to its page.
pub fn main_stack_top() -> usize {
    // SAFETY: ld.so sets this variable before any code of ours runs.
    let end = unsafe { sys::__libc_stack_end } as usize;
    (end + 4095) & !4095
}

/// The calling thread's stack top, without `pthread_getattr_np` (which deadlocks inside a hook):
/// glibc keeps the thread's `struct pthread` (the thread pointer) at the top of its stack block.
fn current_stack_top() -> usize {
    // SAFETY: no preconditions.
    if unsafe { sys::gettid() == sys::getpid() } {
        main_stack_top()
    } else {
        sys::thread_pointer()
    }
}

/// `pthread_key_t` whose destructor hands a thread's counter block back.
static KEY: AtomicU32 = AtomicU32::new(0);
static KEY_OK: AtomicBool = AtomicBool::new(false);

fn key() -> Option<c_uint> {
    KEY_OK
        .load(Ordering::Relaxed)
        .then(|| KEY.load(Ordering::Relaxed))
}

/// Constructor: creates the key whose destructor runs at thread end.
pub fn init_key() {
    let mut key = 0;
    // SAFETY: `key` is a valid out-pointer; the destructor is a plain function.
    if unsafe { sys::pthread_key_create(&mut key, Some(thread_ended)) } == 0 {
        KEY.store(key, Ordering::Relaxed);
        KEY_OK.store(true, Ordering::Relaxed);
    }
}

/// TSD destructor, run by glibc when a registered thread ends: publishes the thread's live-bytes
/// delta and hands its counter block back. Later hooks on this thread count into the orphan block.
unsafe extern "C" fn thread_ended(_: *mut c_void) {
    let forced = Forced::new();
    let tls = forced.tls();
    let c = tls.counters.replace(RETIRED);
    if !c.is_null() && c != RETIRED {
        // SAFETY: arena record; this thread was its only user.
        pool::release(unsafe { &*c });
    }
    if let Some(info) = info_of(tls) {
        info.retired.store(true, Ordering::Relaxed);
    }
}

/// In a fork child (single-threaded, locks free): the calling thread becomes thread 0.
pub fn reset_in_child(tls: &'static Tls) {
    THREAD_COUNT.store(0, Ordering::Relaxed);
    let old = info_of(tls);
    let (Some(old), false) = (old, tls.counters.get().is_null()) else {
        set_info(tls, None);
        return;
    };
    let mut name = [0u8; NAME_MAX];
    let len = old.name(&mut name);
    let info = new_info(
        old.spawn_stack.load(Ordering::Relaxed),
        old.pthread.load(Ordering::Relaxed),
        &name[..len],
    );
    set_info(tls, info);
}

pub fn locks() -> [&'static SpinLock; 2] {
    [&THREADS_LOCK, &SPAWN_LOCK]
}

pub type StartFn = unsafe extern "C" fn(*mut c_void) -> *mut c_void;

/// What the trampoline needs to start a thread. From the arena (never malloc), recycled.
struct Spawn {
    start: Option<StartFn>,
    arg: *mut c_void,
    stack: u32,
    next: *mut Spawn,
}

static SPAWN_FREE: AtomicPtr<Spawn> = AtomicPtr::new(ptr::null_mut());
static SPAWN_LOCK: SpinLock = SpinLock::new();

/// A spawn record for `start(arg)` with parent stack `stack`, or `None` when out of memory.
pub fn new_spawn(start: StartFn, arg: *mut c_void, stack: u32) -> Option<*mut c_void> {
    let recycled = {
        let _lock = SPAWN_LOCK.lock();
        let head = SPAWN_FREE.load(Ordering::Relaxed);
        if !head.is_null() {
            // SAFETY: free records are arena records no thread uses.
            SPAWN_FREE.store(unsafe { (*head).next }, Ordering::Relaxed);
        }
        head
    };
    let p = if recycled.is_null() {
        RECORDS
            .alloc(
                core::mem::size_of::<Spawn>(),
                core::mem::align_of::<Spawn>(),
            )?
            .as_ptr()
            .cast()
    } else {
        recycled
    };
    // SAFETY: an unused record of the right size and alignment.
    unsafe {
        p.write(Spawn {
            start: Some(start),
            arg,
            stack,
            next: ptr::null_mut(),
        });
    };
    Some(p.cast())
}

/// Returns a spawn record (after the trampoline read it, or when `pthread_create` failed).
pub fn free_spawn(p: *mut c_void) {
    let p: *mut Spawn = p.cast();
    let _lock = SPAWN_LOCK.lock();
    // SAFETY: a record from `new_spawn` that nothing uses any more.
    unsafe { (*p).next = SPAWN_FREE.load(Ordering::Relaxed) };
    SPAWN_FREE.store(p, Ordering::Relaxed);
}

/// Start routine of every thread created while active: records the spawn stack as the thread's
/// parent, registers the thread, runs the real start routine. Frame walks stop at its frame.
pub unsafe extern "C" fn trampoline(arg: *mut c_void) -> *mut c_void {
    let spawn: *mut Spawn = arg.cast();
    // SAFETY: `arg` is the record `pthread_create` was given; only this thread uses it now.
    let (start, real_arg, stack) = unsafe { ((*spawn).start, (*spawn).arg, (*spawn).stack) };
    {
        let forced = Forced::new();
        free_spawn(arg);
        let tls = forced.tls();
        tls.parent.set(stack);
        if state::is_active() {
            register(tls, stack, sys::thread_pointer());
        }
        tls.bottom.set(true);
    }
    let Some(start) = start else {
        return ptr::null_mut();
    };
    // SAFETY: the start routine and argument the program passed to pthread_create.
    let ret = unsafe { start(real_arg) };
    // Not a tail call: keeps this frame on the stack while `start` runs, so walks stop here.
    core::hint::black_box(ret)
}

/// Records a name given with `pthread_setname_np`.
pub fn record_name(thread: usize, name: *const c_char) {
    if name.is_null() || !state::is_active() {
        return;
    }
    let forced = Forced::new();
    let tls = forced.tls();
    // SAFETY: pthread_setname_np succeeded, so `name` is a NUL-terminated string.
    let name = unsafe { sys::c_str(name) };
    // SAFETY: no preconditions.
    if thread == unsafe { sys::pthread_self() } {
        if tls.counters.get().is_null() {
            register_lazily(tls);
        }
        if let Some(info) = info_of(tls) {
            info.set_name(name);
        }
        return;
    }
    for index in (0..count()).rev() {
        if let Some(info) = get(index) {
            if info.pthread.load(Ordering::Relaxed) == thread
                && !info.retired.load(Ordering::Relaxed)
            {
                info.set_name(name);
                return;
            }
        }
    }
}
