//! The malloc family, the hot path: every hook is the guard ([`enter`], or a pure pass-through), the
//! real function (glibc's under a name we do not interpose), and one call into the core
//! (`record`). A release is recorded before the real call, so that no other thread can be handed
//! the same address while the live table still holds it; a realloc takes its old block out before
//! and records after.

use core::ffi::{c_int, c_void};

use crate::guard::enter;
use crate::record;
use crate::sys::{
    self, __libc_calloc, __libc_free, __libc_malloc, __libc_memalign, __libc_pvalloc,
    __libc_realloc, __libc_valloc,
};

#[inline(always)]
pub unsafe fn malloc(size: usize) -> *mut c_void {
    let Some(e) = enter() else {
        // SAFETY: glibc's malloc with the program's argument.
        return unsafe { __libc_malloc(size) };
    };
    #[cfg(feature = "test-heap-violation")]
    crate::noheap::violate();
    // SAFETY: as above.
    let p = unsafe { __libc_malloc(size) };
    record::alloc(e.tls, p as usize, size);
    p
}

#[inline(always)]
pub unsafe fn calloc(n: usize, size: usize) -> *mut c_void {
    let Some(e) = enter() else {
        // SAFETY: glibc's calloc with the program's arguments (it checks n * size for overflow).
        return unsafe { __libc_calloc(n, size) };
    };
    // SAFETY: as above.
    let p = unsafe { __libc_calloc(n, size) };
    // Success means n * size did not overflow.
    record::alloc(e.tls, p as usize, n.wrapping_mul(size));
    p
}

/// `realloc(NULL, n)`, `realloc(p, 0)` and a failed realloc as `record::realloc` describes.
#[inline(always)]
pub unsafe fn realloc(old: *mut c_void, size: usize) -> *mut c_void {
    let Some(e) = enter() else {
        // SAFETY: glibc's realloc with the program's arguments.
        return unsafe { __libc_realloc(old, size) };
    };
    let taken = record::take(old as usize);
    // SAFETY: as above.
    let p = unsafe { __libc_realloc(old, size) };
    record::realloc(e.tls, old as usize, taken, p as usize, size);
    p
}

/// As glibc: ENOMEM on overflow (the old block untouched), else `realloc(p, n * size)`.
#[inline(always)]
pub unsafe fn reallocarray(old: *mut c_void, n: usize, size: usize) -> *mut c_void {
    let Some(bytes) = n.checked_mul(size) else {
        sys::set_errno(sys::ENOMEM);
        return core::ptr::null_mut();
    };
    // SAFETY: forwards the program's arguments.
    unsafe { realloc(old, bytes) }
}

/// `free` and `cfree`.
#[inline(always)]
pub unsafe fn free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    if let Some(e) = enter() {
        record::free(e.tls, p as usize);
    }
    // SAFETY: glibc's free with the program's pointer.
    unsafe { __libc_free(p) }
}

/// glibc's checks, in glibc's order: EINVAL unless the alignment is a power-of-two multiple of
/// `sizeof(void *)`, with `*out` untouched; ENOMEM on failure.
#[inline(always)]
pub unsafe fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int {
    if align == 0 || align % 8 != 0 || !(align / 8).is_power_of_two() {
        return sys::EINVAL;
    }
    let e = enter();
    // SAFETY: glibc's memalign, which posix_memalign uses itself after the same checks.
    let p = unsafe { __libc_memalign(align, size) };
    if p.is_null() {
        return sys::ENOMEM;
    }
    // SAFETY: the program's out-pointer, written only on success as glibc does.
    unsafe { *out = p };
    if let Some(e) = e {
        record::alloc(e.tls, p as usize, size);
    }
    0
}

/// `memalign` and, in glibc 2.36, `aligned_alloc` (the same function there).
#[inline(always)]
pub unsafe fn memalign(align: usize, size: usize) -> *mut c_void {
    let Some(e) = enter() else {
        // SAFETY: glibc's memalign with the program's arguments.
        return unsafe { __libc_memalign(align, size) };
    };
    // SAFETY: as above.
    let p = unsafe { __libc_memalign(align, size) };
    record::alloc(e.tls, p as usize, size);
    p
}

#[inline(always)]
pub unsafe fn valloc(size: usize) -> *mut c_void {
    let Some(e) = enter() else {
        // SAFETY: glibc's valloc with the program's argument.
        return unsafe { __libc_valloc(size) };
    };
    // SAFETY: as above.
    let p = unsafe { __libc_valloc(size) };
    record::alloc(e.tls, p as usize, size);
    p
}

#[inline(always)]
pub unsafe fn pvalloc(size: usize) -> *mut c_void {
    let Some(e) = enter() else {
        // SAFETY: glibc's pvalloc with the program's argument.
        return unsafe { __libc_pvalloc(size) };
    };
    // SAFETY: as above.
    let p = unsafe { __libc_pvalloc(size) };
    record::alloc(e.tls, p as usize, size);
    p
}
