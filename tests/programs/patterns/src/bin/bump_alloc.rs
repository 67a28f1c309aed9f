//! A custom global allocator that never calls malloc: its allocations are invisible to an
//! LD_PRELOAD interposer, and the profiler must say so.
use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

const ARENA: usize = 1 << 20;
struct Bump {
    arena: UnsafeCell<[u8; ARENA]>,
    next: AtomicUsize,
}
// SAFETY: disjoint ranges are handed out through an atomic cursor.
unsafe impl Sync for Bump {}
// SAFETY: returns aligned, disjoint ranges of the arena, or null when full.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut start = 0;
        let r = self.next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            start = (n + layout.align() - 1) & !(layout.align() - 1);
            (start + layout.size() <= ARENA).then_some(start + layout.size())
        });
        match r {
            Ok(_) => (self.arena.get() as *mut u8).add(start),
            Err(_) => std::ptr::null_mut(),
        }
    }
    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}
#[global_allocator]
static BUMP: Bump = Bump { arena: UnsafeCell::new([0; ARENA]), next: AtomicUsize::new(0) };

fn main() {
    let v: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    println!("bump: {}", v.len());
}
