//! Shared pattern functions and a counting wrapper around any global allocator: the ground truth
//! for the jemalloc and mimalloc binaries.

use std::alloc::{GlobalAlloc, Layout};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub static ALLOCS: AtomicU64 = AtomicU64::new(0);
pub static BYTES: AtomicU64 = AtomicU64::new(0);

/// Counts every call, then forwards to the wrapped allocator.
pub struct Counting<A>(pub A);

// SAFETY: forwards every call unchanged to `A`.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        self.0.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        self.0.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size as u64, Relaxed);
        self.0.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.0.dealloc(ptr, layout)
    }
}

/// Prints `TRUTH <name> <allocations> <bytes>` for what `f` allocated.
pub fn measure<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let (a0, b0) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    let out = black_box(f());
    let (a1, b1) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    println!("TRUTH {name} {} {}", a1 - a0, b1 - b0);
    out
}

#[inline(never)]
pub fn vec_growth() -> Vec<u64> {
    let mut v = Vec::new();
    for i in 0..1000 {
        v.push(i);
    }
    v
}

#[inline(never)]
pub fn strings() -> Vec<String> {
    (0..50).map(|i| format!("s{i}")).collect()
}

#[inline(never)]
pub fn zeroed() -> Vec<u8> {
    vec![0; 4096]
}

#[inline(never)]
pub fn aligned() -> Box<Aligned> {
    Box::new(Aligned([1; 64]))
}

#[repr(align(64))]
pub struct Aligned(pub [u8; 64]);

#[inline(never)]
pub fn map() -> HashMap<u32, String> {
    (0..100).map(|i| (i, i.to_string())).collect()
}
