//! What an executable is linked against, read from its ELF program headers (the first few KiB of
//! the file, not the whole binary: the runner checks every test executable before starting it).
//!
//! The interposer is a glibc library: glibc's dynamic loader (`ld-linux-*.so.2`) preloads it. A
//! static executable never runs a loader, so `LD_PRELOAD` is ignored; another C library's loader
//! (musl's `ld-musl-*.so.1`) tries to load it and the program fails to start, so such a program must
//! be run without it.

use std::io::Read as _;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linkage {
    /// Dynamically linked with glibc's loader: profiled.
    Glibc,
    /// Dynamically linked with another loader (the interpreter's path).
    OtherLoader(String),
    /// An ELF file without an interpreter.
    Static,
    /// Not an ELF executable of this machine's kind (a script, say), or unreadable.
    Unknown,
}

impl Linkage {
    /// Whether `LD_PRELOAD` with our library may be set for it (a script's interpreter is checked
    /// when it runs, by the interposer's own rules).
    pub fn takes_the_interposer(&self) -> bool {
        !matches!(self, Linkage::OtherLoader(_))
    }
}

const PT_INTERP: u32 = 3;
/// Enough for the ELF header and any sane number of program headers.
const HEAD: usize = 16 * 1024;

pub fn linkage(path: &Path) -> Linkage {
    let Ok(file) = std::fs::File::open(path) else {
        return Linkage::Unknown;
    };
    let mut head = Vec::with_capacity(HEAD);
    if file.take(HEAD as u64).read_to_end(&mut head).is_err() {
        return Linkage::Unknown;
    }
    linkage_of(&head)
}

/// [`linkage`] of a file's first bytes.
pub fn linkage_of(head: &[u8]) -> Linkage {
    let u16_at = |at: usize| {
        head.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let u32_at = |at: usize| {
        head.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |at: usize| {
        head.get(at..at + 8)
            .and_then(|b| usize::try_from(u64::from_le_bytes(b.try_into().ok()?)).ok())
    };
    // 64-bit, little-endian ELF.
    if head.get(..6) != Some(b"\x7fELF\x02\x01".as_slice()) {
        return Linkage::Unknown;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(32), u16_at(54), u16_at(56)) else {
        return Linkage::Unknown;
    };
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if u32_at(ph) != Some(PT_INTERP) {
            continue;
        }
        let (Some(offset), Some(size)) = (u64_at(ph + 8), u64_at(ph + 32)) else {
            return Linkage::Unknown;
        };
        let Some(bytes) = head.get(offset..offset.saturating_add(size)) else {
            return Linkage::Unknown;
        };
        let interp = String::from_utf8_lossy(bytes.split(|&b| b == 0).next().unwrap_or(&[]));
        let name = interp.rsplit('/').next().unwrap_or(&interp);
        return if name.starts_with("ld-linux") {
            Linkage::Glibc
        } else {
            Linkage::OtherLoader(interp.into_owned())
        };
    }
    if u16_at(16).is_none() {
        return Linkage::Unknown;
    }
    Linkage::Static
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_test_binary_is_glibc() {
        let me = std::env::current_exe().unwrap();
        assert_eq!(linkage(&me), Linkage::Glibc);
    }

    #[test]
    fn scripts_and_garbage_are_unknown() {
        assert_eq!(linkage_of(b"#!/bin/sh\necho hi\n"), Linkage::Unknown);
        assert_eq!(linkage_of(b"\x7fELF\x02\x01"), Linkage::Unknown);
        assert_eq!(linkage_of(b""), Linkage::Unknown);
    }

    #[test]
    fn another_loader_is_named() {
        // The test binary with its interpreter path overwritten in place.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let at = me
            .windows(b"/lib64/ld-linux-x86-64.so.2".len())
            .position(|w| w == b"/lib64/ld-linux-x86-64.so.2")
            .unwrap();
        let mut other = me[..HEAD.max(at + 32)].to_vec();
        other[at..at + 27].copy_from_slice(b"/lib/ld-musl-x86_64.so.1\0\0\0");
        assert_eq!(
            linkage_of(&other),
            Linkage::OtherLoader("/lib/ld-musl-x86_64.so.1".to_owned())
        );
        assert!(!linkage_of(&other).takes_the_interposer());
    }
}
