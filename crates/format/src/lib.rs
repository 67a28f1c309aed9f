//! The raw profile written by the interposer and read back by the command-line tool.
//!
//! Why a crate of its own: the writer runs inside the profiled process, in the preload library, which
//! has no dependencies and must not allocate; the reader runs in the tool. Keeping both halves of the
//! encoding in one file means they cannot drift apart.
//!
//! # Encoding
//! A file is the 8-byte [`MAGIC`], a little-endian `u32` [`VERSION`], then a sequence of records.
//! Each record is a tag byte, a LEB128 payload length, and the payload. Integers inside payloads are
//! LEB128 (unsigned), byte strings are a LEB128 length followed by the bytes. A reader skips records
//! whose tag it does not know, and ignores bytes left at the end of a payload it does know, so later
//! versions may append fields without breaking older readers. A file without an [`tag::END`] record
//! was cut short (the process died while writing it) and is rejected.
//!
//! [`elf`] decides which programs can take the interposer at all; the writer and the tool share it.
//!
//! Without the `std` feature only the allocation-free writer and [`elf`] are compiled (that is what
//! the preload library links); with it, [`read`] decodes a whole file into a [`RawProfile`], and [`symbolized`]
//! holds the symbolized data model that analysis and rendering work on, and [`rust_path`] parses the
//! demangled function names in it.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
pub mod elf;
mod raw;
#[cfg(feature = "std")]
mod read;
#[cfg(feature = "std")]
pub mod rust_path;
#[cfg(feature = "std")]
pub mod symbolized;
mod write;

pub use raw::{
    end_flags, end_reason, size_bucket, stack_flags, tag, End, SiteCounters, EXTENSION, MAGIC,
    NO_STACK, SIZE_BUCKETS, VERSION,
};
#[cfg(feature = "std")]
pub use raw::{Header, Module, Stack, Thread};
#[cfg(feature = "std")]
pub use read::{read, RawProfile, ReadError};
pub use write::{records, CountingSink, Encoder, Sink};

#[cfg(test)]
mod tests;
