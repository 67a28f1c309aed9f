//! A growable array of pointers indexed by a dense id (stack id, thread index), readable without a
//! lock: chunks are mmap'd on demand and never move, so a reader never sees a half-copied array.

use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::sys;

pub struct Directory<T, const CHUNK: usize, const CHUNKS: usize> {
    chunks: [AtomicPtr<AtomicPtr<T>>; CHUNKS],
}

impl<T, const CHUNK: usize, const CHUNKS: usize> Directory<T, CHUNK, CHUNKS> {
    pub const fn new() -> Self {
        Self {
            chunks: [const { AtomicPtr::new(ptr::null_mut()) }; CHUNKS],
        }
    }

    /// The pointer stored at `index`, or null.
    pub fn get(&self, index: usize) -> *mut T {
        let Some(chunk) = self.chunks.get(index / CHUNK) else {
            return ptr::null_mut();
        };
        let chunk = chunk.load(Ordering::Acquire);
        if chunk.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: a published chunk holds CHUNK slots and is never unmapped.
        unsafe { (*chunk.add(index % CHUNK)).load(Ordering::Acquire) }
    }

    /// Stores `value` at `index`; `false` when out of range or out of memory. Writers must be
    /// serialized by the caller.
    pub fn set(&self, index: usize, value: *mut T) -> bool {
        let Some(slot) = self.chunks.get(index / CHUNK) else {
            return false;
        };
        let mut chunk = slot.load(Ordering::Acquire);
        if chunk.is_null() {
            let Some(fresh) = sys::map(CHUNK * core::mem::size_of::<AtomicPtr<T>>()) else {
                return false;
            };
            chunk = fresh.as_ptr().cast();
            slot.store(chunk, Ordering::Release);
        }
        // SAFETY: as in `get`.
        unsafe { (*chunk.add(index % CHUNK)).store(value, Ordering::Release) };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_get_across_chunks() {
        let dir: Box<Directory<u64, 4, 8>> = Box::new(Directory::new());
        let mut values: Vec<u64> = (0..32).collect();
        for (i, v) in values.iter_mut().enumerate() {
            assert!(dir.get(i).is_null());
            assert!(dir.set(i, v));
        }
        assert!(!dir.set(32, ptr::null_mut()));
        for i in 0..32 {
            // SAFETY: points into `values`, alive.
            assert_eq!(unsafe { *dir.get(i) }, i as u64);
        }
        assert!(dir.get(1000).is_null());
    }
}
