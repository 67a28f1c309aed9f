//! What an executable is linked against (see [`alloc_profile_format::elf`], which the interposer
//! shares), read from the first few KiB of the file, not the whole binary: the runner checks every
//! test executable before starting it.

use std::io::Read as _;
use std::path::Path;

use alloc_profile_format::elf::{loader, Loader};

/// Enough for the ELF header and the program headers of any ordinary executable.
const HEAD: u64 = 16 * 1024;

/// The first bytes of `path`; empty when it cannot be read.
pub fn head(path: &Path) -> Vec<u8> {
    let mut head = Vec::new();
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.take(HEAD).read_to_end(&mut head);
    }
    head
}

/// Whether `LD_PRELOAD` with the interposer may be set for the program at `path`: anything but a
/// program of another C library's loader, which would refuse to start with it.
pub fn takes_the_interposer(path: &Path) -> bool {
    !matches!(loader(&head(path)), Loader::Other(_))
}
