//! What an executable is linked against (see [`alloc_profile_format::elf`], which the interposer
//! shares), read from the first few KiB of the file, not the whole binary: the runner checks every
//! test executable before starting it.

use std::io::Read as _;
use std::path::Path;

use alloc_profile_format::elf::{loader, Loader, HEAD_BYTES};

/// The first [`HEAD_BYTES`] of `path`, as the interposer reads them; empty when unreadable.
pub fn head(path: &Path) -> Vec<u8> {
    let mut head = Vec::new();
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.take(HEAD_BYTES as u64).read_to_end(&mut head);
    }
    head
}

/// Whether `LD_PRELOAD` with the interposer may be set for the program at `path`: anything but a
/// program of another C library's loader, which would refuse to start with it.
pub fn takes_the_interposer(path: &Path) -> bool {
    !matches!(loader(&head(path)), Loader::Other(_))
}
