//! Which global allocator an executable uses, as far as its symbols tell.
//!
//! The interposer sees what reaches `malloc`. A Rust program whose `#[global_allocator]` does not
//! call malloc (jemalloc, mimalloc, a bump arena) allocates out of its sight; the report must say
//! so rather than show a small or empty profile as if it were the truth.
//!
//! It also says when an allocator was counted through link-time wrappers (see [`crate::allocator_link`]),
//! and only then: the flags go to every executable of a workspace whose dependency graph has the
//! allocator crate, also when the crate is a dependency for another target only (ripgrep's
//! jemalloc on musl) or of another executable, so the executable must have both the wrappers and
//! the allocator's own entry points, and its profile must have allocations that came through them.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use alloc_profile_format::symbolized::Profile;
use object::{Object as _, ObjectSymbol as _};

use crate::allocator_link::Allocator;

/// What the symbols of an executable say about its allocator.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllocatorInfo {
    /// A known allocator library linked in, by its usual name.
    pub known: Option<&'static str>,
    /// The executable defines `malloc` itself, so nothing preloaded can interpose it.
    pub defines_malloc: bool,
    /// Allocators whose entry points are wrapped at link time: the executable defines both an
    /// entry point and its `__wrap_` wrapper, so the allocator's allocations are counted. (The
    /// wrapper object alone proves nothing: linked without the allocator, it refers to the
    /// allocator's entry points weakly.)
    pub wrapped: Vec<Allocator>,
    /// A `#[global_allocator]` is set: the compiler's `__rust_alloc` shim exists but std's
    /// default one (`__rdl_alloc`) was not linked in (older compilers named the custom one
    /// `__rg_alloc`).
    pub custom_global_allocator: bool,
}

/// Entry points that identify allocator libraries.
const KNOWN: &[(&str, &str)] = &[
    ("_rjem_malloc", "jemalloc (tikv-jemallocator)"),
    ("_rjem_mallocx", "jemalloc (tikv-jemallocator)"),
    ("je_malloc", "jemalloc"),
    ("mi_malloc_aligned", "mimalloc"),
    ("mi_malloc", "mimalloc"),
    ("sn_rust_alloc", "snmalloc"),
    ("rpmalloc", "rpmalloc"),
];

/// Reads the executable's symbols; `None` when it cannot be read or parsed.
pub fn inspect(exe: &Path) -> Option<AllocatorInfo> {
    let data = symbol_tables(exe).ok()?;
    let file = object::File::parse(&*data).ok()?;
    let mut info = AllocatorInfo::default();
    let (mut default_shim, mut rust_shim) = (false, false);
    let mut defined = HashSet::new();
    for sym in file.symbols().chain(file.dynamic_symbols()) {
        if sym.is_undefined() {
            continue;
        }
        let Ok(name) = sym.name() else { continue };
        if info.known.is_none() {
            info.known = KNOWN.iter().find(|(s, _)| *s == name).map(|(_, n)| *n);
        }
        info.defines_malloc |= name == "malloc" && sym.is_definition();
        default_shim |= name.contains("__rdl_alloc");
        rust_shim |= name.contains("__rust_alloc") || name.contains("__rg_alloc");
        defined.insert(name);
    }
    info.custom_global_allocator = rust_shim && !default_shim;
    info.wrapped = Allocator::ALL
        .into_iter()
        .filter(|a| {
            a.symbols()
                .iter()
                .any(|s| defined.contains(s) && defined.contains(format!("__wrap_{s}").as_str()))
        })
        .collect();
    Some(info)
}

/// The file at `path` as far as its symbols need it: for a 64-bit ELF file, a buffer of the
/// file's length holding only the headers, the section names and the symbol and string tables
/// (a profiled executable is mostly debug info, which the zeroed rest of the buffer stands for
/// without being read, or touched); any other file whole.
fn symbol_tables(path: &Path) -> std::io::Result<Vec<u8>> {
    use object::elf::{FileHeader64, SHT_DYNSYM, SHT_NOBITS, SHT_SYMTAB, SHT_SYMTAB_SHNDX};
    use object::read::elf::{FileHeader as _, SectionHeader as _};
    use std::os::unix::fs::FileExt as _;

    let file = fs_err::File::open(path)?;
    let len = file.metadata()?.len();
    let mut data = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX)];
    let fill = |data: &mut [u8], offset: u64, size: u64| -> Option<std::io::Result<()>> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(usize::try_from(size).ok()?)?;
        let range = data.get_mut(start..end)?;
        Some(file.file().read_exact_at(range, offset))
    };
    let header_len = std::mem::size_of::<FileHeader64<object::Endianness>>() as u64;
    fill(&mut data, 0, header_len.min(len)).unwrap_or(Ok(()))?;
    let parts = (|| -> Option<Vec<(u64, u64)>> {
        let header = *FileHeader64::<object::Endianness>::parse(&*data).ok()?;
        let endian = header.endian().ok()?;
        let phdrs = (
            header.e_phoff.get(endian),
            u64::from(header.e_phnum.get(endian)) * u64::from(header.e_phentsize.get(endian)),
        );
        let shoff = header.e_shoff.get(endian);
        let shentsize = u64::from(header.e_shentsize.get(endian));
        // The first section header holds the counts that do not fit the file header.
        fill(&mut data, shoff, shentsize)?.ok()?;
        let shnum = header.shnum(endian, &*data).ok()? as u64;
        fill(&mut data, shoff, shnum * shentsize)?.ok()?;
        let sections = header.section_headers(endian, &*data).ok()?;
        let range = |index: usize| {
            let s = sections.get(index)?;
            let size = if s.sh_type(endian) == SHT_NOBITS {
                0
            } else {
                s.sh_size(endian)
            };
            Some((s.sh_offset(endian), size))
        };
        let mut parts = vec![phdrs];
        parts.push(range(header.shstrndx(endian, &*data).ok()? as usize)?);
        for (index, s) in sections.iter().enumerate() {
            if [SHT_SYMTAB, SHT_DYNSYM, SHT_SYMTAB_SHNDX].contains(&s.sh_type(endian)) {
                parts.push(range(index)?);
                parts.push(range(s.sh_link(endian) as usize)?);
            }
        }
        Some(parts)
    })();
    let Some(parts) = parts else {
        // Not a 64-bit ELF file, or not one whose headers hold together: read it whole, and
        // let the object parser say what is wrong.
        return fs_err::read(path);
    };
    for (offset, size) in parts {
        match fill(&mut data, offset, size) {
            Some(result) => result?,
            None => return fs_err::read(path),
        }
    }
    Ok(data)
}

/// The allocator whose link-time wrapper `function` is (`__wrap__rjem_mallocx`).
fn wrapper_of(function: &str) -> Option<Allocator> {
    let symbol = function.strip_prefix("__wrap_")?;
    Allocator::ALL
        .into_iter()
        .find(|a| a.symbols().contains(&symbol))
}

/// Notes on the allocators of the executables that wrote a profile: a warning for each whose
/// allocations may not reach malloc (see [`note`]), then one line for each allocator counted
/// through link-time wrappers, said only when an executable has them (see
/// [`AllocatorInfo::wrapped`]) and allocations of its profile came through them (their innermost
/// frame is the wrapper).
pub fn notes(profile: &Profile) -> Vec<String> {
    // Only processes that wrote a profile: one that did not (SIGKILL) says nothing about its
    // allocator, and already has its own note.
    let mut exes: Vec<PathBuf> = profile
        .processes
        .iter()
        .map(|p| PathBuf::from(&p.exe))
        .collect();
    exes.sort();
    exes.dedup();
    let blames = alloc_profile_report::attribute::attribute(profile);
    let mut notes = Vec::new();
    let mut counted = BTreeSet::new();
    for exe in exes {
        let Some(info) = inspect(&exe) else {
            continue;
        };
        let exe_str = exe.to_string_lossy();
        let rust_allocations: u64 = blames
            .iter()
            .filter(|b| b.counted() && profile.processes[b.site.process].exe == exe_str)
            .map(|b| b.site.counters.allocations)
            .sum();
        notes.extend(note(&exe, &info, rust_allocations));
        counted.extend(
            profile
                .sites
                .iter()
                .filter(|s| {
                    s.counters.allocations > 0 && profile.processes[s.process].exe == exe_str
                })
                .filter_map(|s| profile.frames.get(*s.frames.first()? as usize))
                .filter_map(|f| wrapper_of(&f.function))
                .filter(|a| info.wrapped.contains(a)),
        );
    }
    notes.extend(counted.into_iter().map(|a| {
        format!(
            "global allocator {}: counted through link-time wrappers of its entry points",
            a.name()
        )
    }));
    notes
}

/// A note for the report when the profile cannot be complete, given how many allocations were
/// recorded from Rust code in that process.
pub fn note(exe: &Path, info: &AllocatorInfo, rust_allocations: u64) -> Option<String> {
    let exe = exe.file_name().unwrap_or_default().to_string_lossy();
    if !info.wrapped.is_empty() {
        return None;
    }
    if info.defines_malloc {
        return Some(format!(
            "{exe} defines malloc itself{}: calls to it cannot be interposed, so its allocations \
             are not counted",
            info.known.map(|k| format!(" ({k})")).unwrap_or_default()
        ));
    }
    if let Some(known) = info.known {
        return Some(format!(
            "{exe} uses {known} as its global allocator: its allocations bypass malloc and are \
             not counted; build it with the system allocator to profile it (e.g. behind a cargo \
             feature)"
        ));
    }
    if info.custom_global_allocator && rust_allocations == 0 {
        return Some(format!(
            "{exe} sets a custom #[global_allocator] that never called malloc: its allocations \
             are invisible to this profiler and not counted"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrappers_are_told_apart() {
        assert_eq!(
            wrapper_of("__wrap__rjem_mallocx"),
            Some(Allocator::Jemalloc)
        );
        assert_eq!(
            wrapper_of("__wrap_malloc"),
            Some(Allocator::JemallocUnprefixed)
        );
        assert_eq!(
            wrapper_of("__wrap_mi_malloc_aligned"),
            Some(Allocator::Mimalloc)
        );
        assert_eq!(wrapper_of("_rjem_mallocx"), None);
        assert_eq!(wrapper_of("__wrap_strdup"), None);
    }

    #[test]
    fn the_symbol_tables_alone_give_the_symbols_of_the_whole_file() {
        let symbols = |data: &[u8]| -> Vec<(String, bool, bool, object::SymbolKind)> {
            let file = object::File::parse(data).expect("an object file");
            file.symbols()
                .chain(file.dynamic_symbols())
                .map(|s| {
                    let name = s.name().unwrap_or("<bad>").to_owned();
                    (name, s.is_undefined(), s.is_definition(), s.kind())
                })
                .collect()
        };
        for exe in [std::env::current_exe().unwrap(), PathBuf::from("/bin/sh")] {
            let whole = std::fs::read(&exe).unwrap();
            let parts = symbol_tables(&exe).unwrap();
            assert_eq!(parts.len(), whole.len());
            let want = symbols(&whole);
            assert!(want.len() > 10, "{} has symbols", exe.display());
            assert_eq!(symbols(&parts), want, "{}", exe.display());
        }
        // Not an ELF file: read whole.
        let text = std::env::temp_dir().join(format!("not-elf-{}", std::process::id()));
        std::fs::write(&text, "#!/bin/sh\n").unwrap();
        assert_eq!(symbol_tables(&text).unwrap(), b"#!/bin/sh\n");
        let _ = std::fs::remove_file(&text);
    }

    #[test]
    fn this_test_binary_wraps_nothing() {
        let info = inspect(&std::env::current_exe().unwrap()).unwrap();
        assert!(info.wrapped.is_empty(), "{info:?}");
        assert!(!info.defines_malloc && info.known.is_none(), "{info:?}");
    }
}
