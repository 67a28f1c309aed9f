//! Which programs can take the interposer, decided from the first bytes of the executable (its ELF
//! header and program headers). Both sides must agree: the interposer's exec and spawn hooks start
//! a program of another C library's loader without it, and the tool's runner does the same for the
//! program it starts and then explains why no profile came. Allocation-free: the interposer calls it
//! inside a hook.

/// How an executable is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loader<'a> {
    /// Dynamically linked with glibc's loader (`ld-linux*`): it can take the interposer.
    Glibc,
    /// Dynamically linked with another loader (musl's `ld-musl-*.so.1`): its path. That loader
    /// would refuse to start the program with the glibc interposer preloaded.
    Other(&'a [u8]),
    /// A 64-bit little-endian ELF file without an interpreter: statically linked.
    Static,
    /// Not such an ELF file (a script, say), or its headers lie beyond `head`.
    Unknown,
}

const PT_INTERP: u64 = 3;

/// How many first bytes of an executable both sides read: enough for the headers of any ordinary
/// executable, and the same on both sides so that they decide alike.
pub const HEAD_BYTES: usize = 4096;

/// The loader of the executable whose first bytes are `head` (see [`HEAD_BYTES`]).
#[must_use]
pub fn loader(head: &[u8]) -> Loader<'_> {
    // Little-endian unsigned integer of `len` bytes at `at`.
    let read = |at: usize, len: usize| -> Option<u64> {
        let bytes = head.get(at..at.checked_add(len)?)?;
        Some(bytes.iter().rev().fold(0, |v, &b| (v << 8) | u64::from(b)))
    };
    if head.get(..6) != Some(b"\x7fELF\x02\x01".as_slice()) {
        return Loader::Unknown;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (read(32, 8), read(54, 2), read(56, 2))
    else {
        return Loader::Unknown;
    };
    for i in 0..phnum {
        let Some(ph) = i
            .checked_mul(phentsize)
            .and_then(|o| o.checked_add(phoff))
            .and_then(|o| usize::try_from(o).ok())
        else {
            return Loader::Unknown;
        };
        match read(ph, 4) {
            None => return Loader::Unknown,
            Some(PT_INTERP) => {}
            Some(_) => continue,
        }
        let (Some(offset), Some(size)) = (read(ph + 8, 8), read(ph + 32, 8)) else {
            return Loader::Unknown;
        };
        let interp = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(size).ok())
            .and_then(|(o, s)| head.get(o..o.checked_add(s)?));
        let Some(interp) = interp else {
            return Loader::Unknown;
        };
        let interp = interp.split(|&b| b == 0).next().unwrap_or(&[]);
        let name = interp.rsplit(|&b| b == b'/').next().unwrap_or(interp);
        return if name.starts_with(b"ld-linux") {
            Loader::Glibc
        } else {
            Loader::Other(interp)
        };
    }
    Loader::Static
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: usize = HEAD_BYTES;

    fn me() -> std::vec::Vec<u8> {
        std::fs::read(std::env::current_exe().unwrap()).unwrap()
    }

    #[test]
    fn a_glibc_program_and_things_that_are_not_elf() {
        assert_eq!(loader(&me()[..HEAD]), Loader::Glibc);
        assert_eq!(loader(b"#!/bin/sh\necho hi\n"), Loader::Unknown);
        assert_eq!(loader(b"\x7fELF\x02\x01"), Loader::Unknown);
        assert_eq!(loader(b""), Loader::Unknown);
    }

    #[test]
    fn another_loader_is_named() {
        // This test binary with its interpreter path overwritten in place.
        let me = me();
        let glibc = b"/lib64/ld-linux-x86-64.so.2";
        let at = me.windows(glibc.len()).position(|w| w == glibc).unwrap();
        let mut other = me[..HEAD.max(at + glibc.len())].to_vec();
        other[at..at + glibc.len()].copy_from_slice(b"/lib/ld-musl-x86_64.so.1\0\0\0");
        assert_eq!(loader(&other), Loader::Other(b"/lib/ld-musl-x86_64.so.1"));
    }
}
