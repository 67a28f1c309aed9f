//! Calls a dependency's blanket, tuple, array, function-pointer and foreign-type impls; the
//! profiler must count their allocations in module `gdep`. A counting allocator prints the ground
//! truth of each call (`TRUTH <name> <allocations> <bytes>`).

use gdep::{Describe, Pairwise, Shout};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to `System` unchanged; the counters are plain atomics.
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

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and prints `TRUTH <name> <allocations> <bytes>` for the allocations it made.
fn measure(name: &str, f: impl FnOnce() -> String) {
    let (a0, b0) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    let out = black_box(f());
    let (a1, b1) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    drop(out);
    println!("TRUTH {name} {} {}", a1 - a0, b1 - b0);
}

fn double(x: u8) -> u8 {
    x * 2
}

fn main() {
    let word = black_box(String::from("quiet"));
    let double: fn(u8) -> u8 = double;
    for _ in 0..3 {
        measure("describe", || black_box(42u8).describe());
        measure("pair_tuple", || black_box((7, "x")).pair());
        measure("pair_array", || black_box([1u8, 2, 3, 4]).pair());
        measure("pair_fn", || black_box(double).pair());
        measure("shout", || word.shout());
    }
}
