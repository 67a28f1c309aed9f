//! Out-of-process tests of the interposer: fixture programs run with `LD_PRELOAD`, and the raw
//! profiles they write are checked for facts (counts, sizes, frees vs live, threads, frames), never
//! for bytes.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod c_program;
mod heap;
mod overhead;
mod rust_program;
mod support;
