//! The C allocation API called directly from Rust, edge cases included. Each measured function
//! only calls the C library and returns what it saw; `main` prints `OK <case>` when the C library
//! behaved as documented, `FAIL <case>: ...` otherwise. What each function allocates, by the
//! definitions of the README, is in its doc comment.

use std::ffi::c_void;
use std::ptr::null_mut;

use robust::{measure, sys};

#[global_allocator]
static GLOBAL: robust::Counting = robust::Counting;

fn check(case: &str, ok: bool, detail: impl std::fmt::Debug) {
    if ok {
        println!("OK {case}");
    } else {
        println!("FAIL {case}: {detail:?}");
    }
}

fn errno() -> i32 {
    // SAFETY: glibc's thread-local errno.
    unsafe { *sys::__errno_location() }
}

/// `realloc(NULL, 100)` is `malloc(100)`: one allocation of 100 bytes (freed).
#[inline(never)]
fn realloc_null() -> bool {
    // SAFETY: C allocation API used as documented (here and below).
    unsafe {
        let p = sys::realloc(null_mut(), 100);
        if p.is_null() {
            return false;
        }
        p.cast::<u8>().write_bytes(1, 100);
        sys::free(p);
        true
    }
}

/// `malloc(50)` then `realloc(p, 0)`, which frees `p` in glibc and returns NULL: one allocation
/// of 50 bytes, freed.
#[inline(never)]
fn realloc_to_zero() -> *mut c_void {
    unsafe {
        let p = sys::malloc(50);
        let q = sys::realloc(p, 0);
        if !q.is_null() {
            sys::free(q);
        }
        q
    }
}

/// `malloc(16)` grown by `realloc` to 4096, then freed: two allocations (one reallocation), 4112
/// bytes.
#[inline(never)]
fn realloc_grow() -> bool {
    unsafe {
        let p = sys::malloc(16);
        p.cast::<u8>().write_bytes(7, 16);
        let q = sys::realloc(p, 4096);
        let ok = !q.is_null() && *q.cast::<u8>().add(15) == 7;
        sys::free(q);
        ok
    }
}

/// `calloc` and `reallocarray` whose size overflows return NULL with ENOMEM: no allocation.
#[inline(never)]
fn calloc_overflow() -> (*mut c_void, i32, *mut c_void, i32) {
    unsafe {
        *sys::__errno_location() = 0;
        let p = sys::calloc(usize::MAX / 2, 4);
        let e1 = errno();
        *sys::__errno_location() = 0;
        let q = sys::reallocarray(null_mut(), usize::MAX, 2);
        (p, e1, q, errno())
    }
}

/// A good `calloc(10, 8)` and `reallocarray(NULL, 10, 8)`: two allocations, 160 bytes, freed.
#[inline(never)]
fn calloc_and_reallocarray() -> (bool, bool) {
    unsafe {
        let p = sys::calloc(10, 8);
        let zeroed = !p.is_null()
            && std::slice::from_raw_parts(p.cast::<u8>(), 80)
                .iter()
                .all(|b| *b == 0);
        let q = sys::reallocarray(null_mut(), 10, 8);
        let ok = !q.is_null();
        sys::free(p);
        sys::free(q);
        (zeroed, ok)
    }
}

/// `posix_memalign` with alignments 3 and 4 (not a power of two; smaller than a pointer) returns
/// EINVAL and allocates nothing.
#[inline(never)]
fn memalign_bad() -> (i32, i32) {
    unsafe {
        let mut p: *mut c_void = null_mut();
        let r1 = sys::posix_memalign(&mut p, 3, 64);
        let r2 = sys::posix_memalign(&mut p, 4, 64);
        (r1, r2)
    }
}

/// `posix_memalign(64, 100)` and `aligned_alloc(4096, 4096)`: two allocations, 4196 bytes, freed.
#[inline(never)]
fn memalign_good() -> (i32, usize, usize) {
    unsafe {
        let mut p: *mut c_void = null_mut();
        let r = sys::posix_memalign(&mut p, 64, 100);
        let q = sys::aligned_alloc(4096, 4096);
        sys::free(p);
        sys::free(q);
        (r, p as usize, q as usize)
    }
}

/// `malloc_usable_size` on a block from `malloc(10)` and on a `Box<[u8; 24]>`: two allocations,
/// 34 bytes, freed.
#[inline(never)]
fn usable_size() -> (usize, usize) {
    unsafe {
        let p = sys::malloc(10);
        let n = sys::malloc_usable_size(p);
        let b = Box::new([3u8; 24]);
        let m = sys::malloc_usable_size(std::ptr::from_ref(&*b).cast_mut().cast());
        drop(b);
        sys::free(p);
        (n, m)
    }
}

/// `malloc(0)` succeeds in glibc: one allocation of 0 bytes, freed.
#[inline(never)]
fn malloc_zero() -> bool {
    unsafe {
        let p = sys::malloc(0);
        sys::free(p);
        !p.is_null()
    }
}

/// `free(NULL)`, three times: nothing.
#[inline(never)]
fn free_null() {
    unsafe {
        sys::free(null_mut());
        sys::free(null_mut());
        sys::free(null_mut());
    }
}

fn main() {
    println!("apis: start");
    let ok = measure("apis::realloc_null", realloc_null);
    check("realloc(NULL, 100)", ok, "returned NULL");
    let q = measure("apis::realloc_to_zero", realloc_to_zero);
    check("realloc(p, 0) returns NULL", q.is_null(), q);
    let ok = measure("apis::realloc_grow", realloc_grow);
    check("realloc grows and keeps contents", ok, "lost contents");
    let (p, e1, q, e2) = measure("apis::calloc_overflow", calloc_overflow);
    check(
        "calloc overflow: NULL, ENOMEM",
        p.is_null() && e1 == sys::ENOMEM,
        (p, e1),
    );
    check(
        "reallocarray overflow: NULL, ENOMEM",
        q.is_null() && e2 == sys::ENOMEM,
        (q, e2),
    );
    let (zeroed, ok) = measure("apis::calloc_and_reallocarray", calloc_and_reallocarray);
    check("calloc(10, 8) is zeroed", zeroed, "not zeroed");
    check("reallocarray(NULL, 10, 8)", ok, "returned NULL");
    let (r1, r2) = measure("apis::memalign_bad", memalign_bad);
    check("posix_memalign(align 3): EINVAL", r1 == sys::EINVAL, r1);
    check("posix_memalign(align 4): EINVAL", r2 == sys::EINVAL, r2);
    let (r, p, q) = measure("apis::memalign_good", memalign_good);
    check(
        "posix_memalign(64, 100)",
        r == 0 && p != 0 && p % 64 == 0,
        (r, p),
    );
    check("aligned_alloc(4096, 4096)", q != 0 && q % 4096 == 0, q);
    let (n, m) = measure("apis::usable_size", usable_size);
    check(
        "malloc_usable_size(malloc(10))",
        (10..10 + 64).contains(&n),
        n,
    );
    check(
        "malloc_usable_size(Box<[u8; 24]>)",
        (24..24 + 64).contains(&m),
        m,
    );
    let ok = measure("apis::malloc_zero", malloc_zero);
    check("malloc(0) returns a pointer", ok, "NULL");
    measure("apis::free_null", free_null);
    println!("OK free(NULL)");
    println!("OK done");
}
