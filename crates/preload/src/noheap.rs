//! "No heap allocation in the interposer", checked: the library's `#[global_allocator]` ends the
//! process at the first use of the Rust heap.
//!
//! Why: the hooks run inside the program's own `malloc` calls, with the program's or glibc's locks
//! held, so every structure of ours lives in mmap'd memory (`arena`, the tables' own mappings).
//! A `Box`, `Vec` or `String` anywhere in the library (or a std function that allocates) would
//! break that unnoticed, because the Rust heap of a cdylib is `malloc`, i.e. our own hooks. With
//! this allocator such a change cannot pass the out-of-process tests: the first allocation prints
//! one line on stderr (with `write(2)`, nothing allocated) and the process dies of SIGABRT.
//!
//! Nothing in the library allocates, the writer included, so the check holds everywhere, not only
//! inside the hooks. The program's own Rust code has its own std and allocator and is not affected.
//! Unit tests (`cfg(test)`) run on the test harness's heap and leave the allocator out.

use core::alloc::{GlobalAlloc, Layout};

use crate::sys;

/// The allocator that refuses: every call ends the process.
pub struct NoHeap;

// SAFETY: no call returns, so no memory is ever handed out and no contract about it can be broken.
unsafe impl GlobalAlloc for NoHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        refuse(layout)
    }

    unsafe fn dealloc(&self, _: *mut u8, layout: Layout) {
        refuse(layout);
    }
}

#[cfg(not(test))]
#[global_allocator]
static NO_HEAP: NoHeap = NoHeap;

/// Calls [`heap_used`] through a pointer the optimizer cannot see through. Were the body visible,
/// LLVM, which may treat an allocator call as replaceable, would fold "never returns" into "fails"
/// and take std's out-of-memory path (`handle_alloc_error`) without calling the allocator at all.
#[inline(always)]
fn refuse(layout: Layout) -> *mut u8 {
    core::hint::black_box(heap_used as fn(usize) -> *mut u8)(layout.size())
}

/// The message and the end of the process.
#[cold]
#[inline(never)]
fn heap_used(size: usize) -> *mut u8 {
    let mut digits = [0u8; 20];
    sys::write_stderr(&[
        MESSAGE_START,
        sys::decimal(size as u64, &mut digits),
        MESSAGE_END,
    ]);
    sys::abort()
}

/// The line on stderr is `MESSAGE_START <bytes> MESSAGE_END` (the tests look for it).
const MESSAGE_START: &[u8] = b"alloc-profile: the interposer used the Rust heap (";
const MESSAGE_END: &[u8] = b" bytes), which it must never do; aborting\n";

/// Test only (feature `test-heap-violation`, never in a real build): one use of the Rust heap, which
/// the malloc hook makes while it records, so that a test sees the check end the process.
#[cfg(feature = "test-heap-violation")]
pub fn violate() {
    core::hint::black_box(std::boxed::Box::new(0u64));
}
