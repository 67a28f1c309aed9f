//! Calls C code that allocates with malloc (not through Rust's allocator), and dlopens a system
//! library whose code allocates.
use std::ffi::{c_char, c_int, c_void, CString};

extern "C" {
    fn make_buffer(n: usize) -> *mut c_char;
    fn free_buffer(p: *mut c_char);
    fn dlopen(file: *const c_char, mode: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void;
}

/// Five mallocs made by C code, called from here.
#[inline(never)]
fn calls_c() -> usize {
    let mut total = 0;
    for n in [10, 20, 30, 40, 50] {
        // SAFETY: the C function returns a malloc'd buffer of n bytes or null.
        unsafe {
            let p = make_buffer(n);
            total += usize::from(!p.is_null());
            free_buffer(p);
        }
    }
    total
}

/// strdup from libc, looked up at run time: an allocation made inside a shared library.
#[inline(never)]
fn calls_dlopened() -> usize {
    let name = CString::new("libc.so.6").unwrap();
    let sym = CString::new("strdup").unwrap();
    // SAFETY: dlopen/dlsym with NUL-terminated names; strdup has this signature.
    unsafe {
        let handle = dlopen(name.as_ptr(), 2 /* RTLD_NOW */);
        assert!(!handle.is_null());
        let strdup: extern "C" fn(*const c_char) -> *mut c_char =
            std::mem::transmute(dlsym(handle, sym.as_ptr()));
        let copy = strdup(sym.as_ptr());
        let ok = usize::from(!copy.is_null());
        free_buffer(copy);
        ok
    }
}

fn main() {
    println!("c: {} dlopened: {}", calls_c(), calls_dlopened());
}
