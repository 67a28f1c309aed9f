//! Blame across thread pools, scoped and spawned threads, and C library calls made through std:
//! `main` prints what a counting global allocator saw around each call, for the test to compare.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub struct Counting;

pub static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
pub static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to `System`, counting successful allocations.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size as u64, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f`, printing `TRUTH pools::name allocations bytes` with what the counting allocator saw
/// meanwhile (nothing else runs then).
pub fn counted<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let (a, b) = (ALLOCATIONS.load(Relaxed), BYTES.load(Relaxed));
    let out = f();
    let (a, b) = (ALLOCATIONS.load(Relaxed) - a, BYTES.load(Relaxed) - b);
    println!("TRUTH pools::{name} {a} {b}");
    out
}

#[cfg(test)]
mod tests {
    // Written by a dependency's macro: the test's lines are `macrodep`'s, the test is ours. It
    // makes 6 boxes and the `Vec` that holds them: 7 allocations.
    macrodep::allocating_test!(written_by_a_macro, 6);

    #[test]
    fn panics_with_a_backtrace() {
        let v: Vec<u32> = (0..3).collect();
        let i = v.len() + 1;
        assert_eq!(v[i], 2);
    }
}
