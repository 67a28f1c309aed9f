//! A bump allocator over mmap'd chunks for records that live until the process ends: interned stacks,
//! thread records, per-thread counter blocks, spawn records. Never `malloc`: the arena is used from
//! inside the malloc hooks.

use core::cell::UnsafeCell;
use core::ptr::NonNull;

use crate::sync::SpinLock;
use crate::sys;

const CHUNK: usize = 1 << 20;

/// Thread records, counter blocks and spawn records (the interner keeps its own arena).
pub static RECORDS: Arena = Arena::new();

pub struct Arena {
    lock: SpinLock,
    /// (next free byte, end of the current chunk); guarded by `lock`.
    cursor: UnsafeCell<(usize, usize)>,
}

// SAFETY: `cursor` is only touched with `lock` held.
unsafe impl Sync for Arena {}

impl Arena {
    pub const fn new() -> Self {
        Self {
            lock: SpinLock::new(),
            cursor: UnsafeCell::new((0, 0)),
        }
    }

    /// `size` zeroed bytes aligned to `align` (a power of two up to 4096), or `None` when the kernel
    /// has no memory left.
    pub fn alloc(&self, size: usize, align: usize) -> Option<NonNull<u8>> {
        debug_assert!(align.is_power_of_two() && align <= 4096);
        if size > CHUNK / 4 {
            return sys::map(size);
        }
        let _guard = self.lock.lock();
        // SAFETY: the lock is held.
        let cursor = unsafe { &mut *self.cursor.get() };
        let start = (cursor.0 + align - 1) & !(align - 1);
        if cursor.0 != 0 && start + size <= cursor.1 {
            cursor.0 = start + size;
            return NonNull::new(start as *mut u8);
        }
        let chunk = sys::map(CHUNK)?;
        let base = chunk.as_ptr() as usize;
        *cursor = (base + size, base + CHUNK);
        Some(chunk)
    }

    /// Lock handles for `fork`.
    pub fn lock(&self) -> &SpinLock {
        &self.lock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_are_aligned_zeroed_and_disjoint() {
        let arena = Arena::new();
        let mut ranges = Vec::new();
        for i in 1..20_000usize {
            let size = i % 200 + 1;
            let p = arena.alloc(size, 8).unwrap().as_ptr() as usize;
            assert_eq!(p % 8, 0);
            // SAFETY: `p..p+size` was just handed out.
            let bytes = unsafe { core::slice::from_raw_parts(p as *const u8, size) };
            assert!(bytes.iter().all(|&b| b == 0));
            ranges.push((p, p + size));
        }
        ranges.sort_unstable();
        assert!(ranges.windows(2).all(|w| w[0].1 <= w[1].0));
        let big = arena.alloc(CHUNK, 64).unwrap();
        assert_eq!(big.as_ptr() as usize % 4096, 0);
    }
}
