//! Two functions with allocation budgets in Cargo.toml: `small` keeps its budget, `big` does not.
//! Each prints its exact allocation count from a counting global allocator (`TRUTH` lines).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub struct Counting;

pub static ALLOCS: AtomicU64 = AtomicU64::new(0);
pub static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to `System` unchanged; the counter is a plain atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size as u64, Relaxed);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

/// Runs `f`, printing `TRUTH <name> <allocations> <bytes>`.
pub fn measure<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let (a, b) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    let out = std::hint::black_box(f());
    println!(
        "TRUTH {name} {} {}",
        ALLOCS.load(Relaxed) - a,
        BYTES.load(Relaxed) - b
    );
    out
}

/// A vector and nine boxed numbers: 10 allocations, 152 bytes.
#[inline(never)]
pub fn small() -> Vec<Box<u64>> {
    let mut v = Vec::with_capacity(10);
    for i in 0..9 {
        v.push(Box::new(i));
    }
    v
}

/// A thousand strings: 1,001 allocations.
#[inline(never)]
pub fn big() -> Vec<String> {
    (0..1000).map(|i| i.to_string()).collect()
}

#[cfg(test)]
mod tests {
    #[global_allocator]
    static GLOBAL: super::Counting = super::Counting;

    #[test]
    fn small_test() {
        assert_eq!(super::small().len(), 9);
    }

    #[test]
    fn big_test() {
        assert_eq!(super::big().len(), 1000);
    }
}
