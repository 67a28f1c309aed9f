//! Known answers for the "beyond counts" analysis: growth, clones, string building, a 3 MiB peak
//! and a leak. A counting allocator tracks live bytes and their maximum (the peak's ground truth).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

struct Counting;
static LIVE: AtomicI64 = AtomicI64::new(0);
static MAX_LIVE: AtomicI64 = AtomicI64::new(0);

fn grew(delta: i64) {
    let now = LIVE.fetch_add(delta, Relaxed) + delta;
    MAX_LIVE.fetch_max(now, Relaxed);
}

// SAFETY: forwards every call to `System`.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as i64);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as i64);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size as i64 - layout.size() as i64);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Relaxed);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Grows a Vec<u64> to 1000 elements: one allocation and eight reallocations.
#[inline(never)]
fn grows_a_vec() -> usize {
    let mut v = Vec::new();
    for i in 0..1000u64 {
        v.push(i);
    }
    v.len()
}

/// Grows a Vec<String> to 16 elements: one allocation and two reallocations (capacity 4, 8, 16).
#[inline(never)]
fn grows_a_vec_of_strings() -> usize {
    let mut v: Vec<String> = Vec::new();
    for i in 0..16 {
        v.push(black_box(i).to_string());
    }
    v.len()
}

/// Already sized: nothing to advise.
#[inline(never)]
fn presized_vec() -> usize {
    let mut v = Vec::with_capacity(1000);
    for i in 0..1000u64 {
        v.push(i);
    }
    v.len()
}

#[derive(Clone)]
struct Record {
    name: String,
    tags: Vec<String>,
}

/// Clones a struct in a loop only to read it.
#[inline(never)]
fn clones_in_a_loop(r: &Record) -> usize {
    let mut n = 0;
    for _ in 0..50 {
        let copy = r.clone();
        n += copy.name.len() + copy.tags.len();
    }
    n
}

/// `s = s + &x.to_string()`.
#[inline(never)]
fn builds_a_string() -> usize {
    let mut s = String::new();
    for x in 0..300 {
        s = s + &x.to_string();
    }
    s.len()
}

/// Holds 3 MiB at once: the peak.
#[inline(never)]
fn holds_three_mib() -> usize {
    let big = vec![1u8; 3 << 20];
    black_box(&big);
    big.len()
}

/// Leaks 12345 bytes.
#[inline(never)]
fn leaks() {
    std::mem::forget(vec![0u8; 12345]);
}

fn main() {
    let r = Record {
        name: "a record with a name".to_owned(),
        tags: vec!["x".to_owned(), "y".to_owned()],
    };
    let total = grows_a_vec()
        + grows_a_vec_of_strings()
        + presized_vec()
        + clones_in_a_loop(&r)
        + builds_a_string()
        + holds_three_mib();
    leaks();
    println!("total {total}");
    println!("TRUTHPEAK {}", MAX_LIVE.load(Relaxed));
}
