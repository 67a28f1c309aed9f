//! Ground truth for the per-test tables: a counting global allocator with THREAD-LOCAL counters,
//! read at the start and at the end of each test body. `Guard::drop` appends
//! `TRUTH <test name> <allocations> <bytes> <peak>` to the file named by `$TRUTH_FILE` without
//! allocating (stack buffer, raw `open`/`write`), so reporting adds nothing to the test's own
//! count. `<peak>` is the most bytes allocated in the body that were live at once: the high-water
//! mark of the thread's live bytes (allocated minus freed on this thread) during the body, less
//! their value when the body began.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static HIGH: Cell<i64> = const { Cell::new(0) };
}

fn count(size: usize) {
    let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
    let _ = BYTES.try_with(|b| b.set(b.get() + size as u64));
}

/// Live bytes of this thread change by `delta`; after a growth, the high-water mark follows.
fn live(delta: i64) {
    let _ = LIVE.try_with(|l| {
        l.set(l.get() + delta);
        if delta > 0 {
            let _ = HIGH.try_with(|h| h.set(h.get().max(l.get())));
        }
    });
}

// SAFETY: forwards every call to `System` unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        live(layout.size() as i64);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        live(layout.size() as i64);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // As the interposer sees a realloc: the old block is released, then the new one counted.
        live(-(layout.size() as i64));
        live(new_size as i64);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        live(-(layout.size() as i64));
        System.dealloc(ptr, layout)
    }
}

pub struct Guard {
    name: &'static str,
    allocs: u64,
    bytes: u64,
    live: i64,
}

impl Guard {
    pub fn new(name: &'static str) -> Guard {
        Guard {
            name,
            allocs: ALLOCS.with(Cell::get),
            bytes: BYTES.with(Cell::get),
            live: LIVE.with(|l| {
                HIGH.with(|h| h.set(l.get()));
                l.get()
            }),
        }
    }
}

extern "C" {
    fn getenv(name: *const u8) -> *const u8;
    fn open(path: *const u8, flags: i32, mode: u32) -> i32;
    fn write(fd: i32, buf: *const u8, n: usize) -> isize;
    fn close(fd: i32) -> i32;
}

struct Buf {
    data: [u8; 256],
    len: usize,
}

impl std::fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.data.len() {
            return Err(std::fmt::Error);
        }
        self.data[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let allocs = ALLOCS.with(Cell::get) - self.allocs;
        let bytes = BYTES.with(Cell::get) - self.bytes;
        let mut buf = Buf { data: [0; 256], len: 0 };
        let _ = std::fmt::Write::write_fmt(
            &mut buf,
            format_args!(
                "TRUTH {} {allocs} {bytes} {}\n",
                self.name,
                HIGH.with(Cell::get) - self.live
            ),
        );
        // SAFETY: NUL-terminated name; the returned C string is only read; the buffer is ours.
        unsafe {
            let path = getenv(b"TRUTH_FILE\0".as_ptr());
            if path.is_null() {
                return;
            }
            // O_WRONLY | O_CREAT | O_APPEND
            let fd = open(path, 0o1 | 0o100 | 0o2000, 0o644);
            if fd >= 0 {
                let _ = write(fd, buf.data.as_ptr(), buf.len);
                close(fd);
            }
        }
    }
}
