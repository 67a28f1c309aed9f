//! What each exported function does (the table of exports is in `lib.rs`).
//!
//! glibc's behaviour is kept exactly: the real function runs with the program's arguments and its
//! result and `errno` reach the program unchanged. A hook is the guard (`guard::enter`, or a pure
//! pass-through), the real call, and one call into the core (`record`) or the writer (`profile`).
//! The real functions are glibc's `__libc_*` allocator entry points (`sys`) or, for the rest, the
//! typed handle in [`real`].

pub mod foreign;
pub mod malloc;
pub mod process;
pub mod real;
pub mod signals;
pub mod threads;
pub mod wrapped;
