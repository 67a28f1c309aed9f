//! One object file on disk: checked against the build-id the interposer saw, its DWARF handed to
//! addr2line, its symbol table kept as the fallback for code without debug info.
//!
//! A file is read whole into one reference-counted buffer, and the debug sections are sub-ranges
//! of it that addr2line and gimli share without copying (compressed sections are inflated into
//! buffers of their own). One read beats [`object::read::ReadCache`] here: the symbol table is
//! read name by name through it, which cost 20 000 system calls and most of the load time on a
//! 19 MB test binary, and debug info is most of a profiled executable anyway. No `mmap`, so no
//! unsafe code and no lifetimes tying the symbolizer to open files; the price is the file's size
//! in memory while its module is in use.
//!
//! When the file has no `.debug_info`, separate debug info is looked for the way gdb does: by
//! build-id under `/usr/lib/debug/.build-id/`, then by `.gnu_debuglink` next to the file, in its
//! `.debug/` directory, and under `/usr/lib/debug/`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use object::{CompressionFormat, Object, ObjectSection, ObjectSymbol, SymbolKind};

// Named by the documentation of `LoadError` and `Prepared`.
#[cfg(doc)]
use crate::error::Warning;
use crate::names;

/// The reader addr2line and gimli work on: owned, cheaply cloned slices of one section.
pub(crate) type Reader = gimli::EndianArcSlice<gimli::RunTimeEndian>;

/// A module file that could be opened and matches what the profiled process had mapped.
pub(crate) struct LoadedModule {
    /// Parsed DWARF, shared with `context`; `None` when the file has none.
    pub dwarf: Option<Arc<gimli::Dwarf<Reader>>>,
    context: Option<addr2line::Context<Reader>>,
    /// Function symbols, sorted by address, one per address.
    symbols: Vec<Symbol>,
    /// The file defines symbols of the Rust runtime.
    pub rust: bool,
}

struct Symbol {
    address: u64,
    /// Zero when the symbol table does not say.
    size: u64,
    name: Box<str>,
}

/// One frame as the file describes it, before demangling and classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceFrame {
    /// Linkage name (or plain name) as stored, usually mangled.
    pub function: Option<String>,
    /// The DWARF unit that holds the function is Rust.
    pub rust_unit: bool,
    pub file: Option<String>,
    pub line: Option<u32>,
}

/// A module file prepared for lookups, and what preparing it found wrong.
pub(crate) struct Prepared {
    pub module: LoadedModule,
    /// Why (part of) its debug info is unusable, for [`Warning::BadDebugInfo`]s under the path
    /// the caller knows the file by, in the order met.
    pub problems: Vec<String>,
    /// Where separate debug info was looked for, because the file has no DWARF of its own (the
    /// places depend on the path the file was opened by); `None` when it has.
    pub searched: Option<Searched>,
}

/// The places separate debug info was looked for, in order.
pub(crate) struct Searched {
    /// Each place tried, up to the one that had it.
    pub tried: Vec<PathBuf>,
    /// The last place tried had it.
    pub found: bool,
}

impl Searched {
    /// Looking in `places` (for the same file opened by another path) would end the same way.
    pub(crate) fn same_in(&self, places: &[PathBuf]) -> bool {
        if self.found {
            places.starts_with(&self.tried)
        } else {
            places == self.tried
        }
    }
}

/// Why a module cannot be used at all. The caller turns this into a [`Warning`].
pub(crate) enum LoadError {
    Unreadable(String),
    BuildIdMismatch { found: Option<Vec<u8>> },
}

/// Which file is on disk, and that it is unchanged: while these agree, its content is the same.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct FileIdentity {
    device: u64,
    inode: u64,
    len: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl FileIdentity {
    pub(crate) fn of(meta: &std::fs::Metadata) -> FileIdentity {
        use std::os::unix::fs::MetadataExt as _;
        FileIdentity {
            device: meta.dev(),
            inode: meta.ino(),
            len: meta.len(),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

impl LoadedModule {
    /// Opens `path`, checks its build-id against `expected` (when the interposer recorded one),
    /// and prepares it for lookups. Problems that leave the module usable (no or corrupt debug
    /// info) come back as [`Prepared::problems`].
    pub(crate) fn load(path: &str, expected: &[u8]) -> Result<Prepared, LoadError> {
        // The kernel marks an executable replaced while it ran with " (deleted)"; whatever is at
        // the plain path now is only used if its build-id says it is the same file.
        let (data, _) = read_file(Path::new(path))
            .or_else(|e| match path.strip_suffix(" (deleted)") {
                Some(plain) => read_file(Path::new(plain)),
                None => Err(e),
            })
            .map_err(|e| LoadError::Unreadable(e.to_string()))?;
        let object = parse_object(&data)?;
        let found = object.build_id().ok().flatten();
        check_build_id(expected, found)?;
        Ok(prepare(Path::new(path), &object, &data))
    }

    pub(crate) fn has_debug_info(&self) -> bool {
        self.context.is_some()
    }

    pub(crate) fn context(&self) -> Option<&addr2line::Context<Reader>> {
        self.context.as_ref()
    }

    /// The frames at `svma` (an address in the file's own address space), innermost inlined call
    /// first, the containing function last. Empty when neither debug info nor the symbol table
    /// knows the address. A debug-info error ends the lookup early and is returned beside what was
    /// found until then.
    pub(crate) fn frames(&self, svma: u64) -> (Vec<SourceFrame>, Option<String>) {
        let mut out = Vec::new();
        let mut error = None;
        if let Some(context) = &self.context {
            match context.find_frames(svma).skip_all_loads() {
                Ok(mut iter) => loop {
                    match iter.next() {
                        Ok(Some(frame)) => {
                            let (function, rust_unit) = match &frame.function {
                                Some(f) => (
                                    f.raw_name().ok().map(Cow::into_owned),
                                    f.language == Some(gimli::DW_LANG_Rust),
                                ),
                                None => (None, false),
                            };
                            let location = frame.location.as_ref();
                            out.push(SourceFrame {
                                function,
                                rust_unit,
                                file: location.and_then(|l| l.file).map(str::to_owned),
                                line: location.and_then(|l| l.line).filter(|&l| l != 0),
                            });
                        }
                        Ok(None) => break,
                        Err(e) => {
                            error = Some(e.to_string());
                            break;
                        }
                    }
                },
                Err(e) => error = Some(e.to_string()),
            }
        }
        // The outermost frame is the function the code is compiled into: the symbol table knows
        // it even when the debug info does not.
        match out.last_mut() {
            Some(last) if last.function.is_none() => {
                last.function = self.symbol_at(svma).map(str::to_owned);
            }
            Some(_) => {}
            None => {
                if let Some(name) = self.symbol_at(svma) {
                    out.push(SourceFrame {
                        function: Some(name.to_owned()),
                        rust_unit: false,
                        file: None,
                        line: None,
                    });
                }
            }
        }
        (out, error)
    }

    /// The function symbol covering `svma`.
    fn symbol_at(&self, svma: u64) -> Option<&str> {
        let i = self.symbols.partition_point(|s| s.address <= svma);
        let symbol = self.symbols.get(i.checked_sub(1)?)?;
        // Symbols without a size (hand-written assembly) cover up to the next symbol.
        (symbol.size == 0 || svma - symbol.address < symbol.size).then_some(&*symbol.name)
    }
}

/// The object file in `data`.
pub(crate) fn parse_object(data: &[u8]) -> Result<object::File<'_>, LoadError> {
    object::File::parse(data)
        .map_err(|e| LoadError::Unreadable(format!("expected an ELF object file: {e}")))
}

/// The file's build-id `found` is the one the profiled process had mapped (`expected`; empty
/// when the interposer recorded none).
pub(crate) fn check_build_id(expected: &[u8], found: Option<&[u8]>) -> Result<(), LoadError> {
    if !expected.is_empty() && found != Some(expected) {
        return Err(LoadError::BuildIdMismatch {
            found: found.map(<[u8]>::to_vec),
        });
    }
    Ok(())
}

/// The `.gnu_debuglink` file name of `object`.
pub(crate) fn debug_link<'data>(object: &object::File<'data>) -> Option<&'data [u8]> {
    object
        .gnu_debuglink()
        .ok()
        .flatten()
        .map(|(name, _crc)| name)
}

/// `object` (parsed from `data`, opened as `path`) ready for lookups: its DWARF (its own, else
/// from separate debug info), its symbols, and the context addr2line answers from.
pub(crate) fn prepare(path: &Path, object: &object::File<'_>, data: &Arc<[u8]>) -> Prepared {
    let found = object.build_id().ok().flatten();
    let mut problems = Vec::new();
    let mut symbols = collect_symbols(object.symbols());
    let mut dwarf = match load_dwarf(object, data) {
        Ok(dwarf) => dwarf,
        Err(e) => {
            problems.push(e.to_string());
            None
        }
    };
    let mut searched = None;
    if dwarf.is_none() {
        let mut tried = Vec::new();
        let mut found_separate = false;
        for candidate in debug_file_candidates(path, found, debug_link(object)) {
            let debug = load_debug_file(&candidate, found);
            tried.push(candidate);
            if let Some((debug_dwarf, debug_symbols)) = debug {
                dwarf = Some(debug_dwarf);
                if symbols.is_empty() {
                    symbols = debug_symbols;
                }
                found_separate = true;
                break;
            }
        }
        searched = Some(Searched {
            tried,
            found: found_separate,
        });
    }
    if symbols.is_empty() {
        symbols = collect_symbols(object.dynamic_symbols());
    }
    // rustc's runtime symbols: unmangled in older toolchains, mangled under `__rustc::` since.
    let rust = symbols
        .iter()
        .any(|s| names::is_runtime_shim(&s.name) || s.name.contains("__rustc"));

    let (dwarf, context) = match dwarf {
        Some(mut dwarf) => {
            // addr2line parses every unit's abbreviations up front, and the workspace walk
            // parses them again: parsed once here, each table is shared by every unit that uses
            // it (units share them: in the C library's debug info, two units each table).
            dwarf.populate_abbreviations_cache(gimli::AbbreviationsCacheStrategy::All);
            let dwarf = Arc::new(dwarf);
            match addr2line::Context::from_arc_dwarf(Arc::clone(&dwarf)) {
                Ok(context) => (Some(dwarf), Some(context)),
                Err(e) => {
                    problems.push(e.to_string());
                    (None, None)
                }
            }
        }
        None => (None, None),
    };
    Prepared {
        module: LoadedModule {
            dwarf,
            context,
            symbols,
            rust,
        },
        problems,
        searched,
    }
}

/// Function symbols defined in the file, sorted by address; at one address, a sized symbol wins.
fn collect_symbols<'data, 'file, I, S>(iter: I) -> Vec<Symbol>
where
    I: Iterator<Item = S>,
    S: ObjectSymbol<'data>,
{
    let mut symbols: Vec<Symbol> = iter
        .filter(|s| s.kind() == SymbolKind::Text && s.is_definition() && s.address() != 0)
        .filter_map(|s| {
            let name = s.name().ok()?;
            (!name.is_empty()).then(|| Symbol {
                address: s.address(),
                size: s.size(),
                name: name.into(),
            })
        })
        .collect();
    symbols.sort_by(|a, b| {
        a.address
            .cmp(&b.address)
            .then((b.size != 0).cmp(&(a.size != 0)))
    });
    symbols.dedup_by_key(|s| s.address);
    symbols
}

/// The whole file, in the buffer the debug sections will share, and which file it was. Read
/// straight into the shared buffer: `Arc::from(Vec)` would copy a file of tens of megabytes once
/// more.
pub(crate) fn read_file(path: &Path) -> std::io::Result<(Arc<[u8]>, FileIdentity)> {
    use std::io::Read;
    let mut file = fs_err::File::open(path)?;
    let meta = file.metadata()?;
    let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    // `repeat(..).take(..)` has a trusted length: one allocation, no intermediate vector.
    let mut data: Arc<[u8]> = std::iter::repeat_n(0u8, len).collect();
    let buf = Arc::get_mut(&mut data).expect("a new Arc is not shared");
    file.read_exact(buf)?;
    Ok((data, FileIdentity::of(&meta)))
}

/// DWARF sections that neither addr2line nor the workspace walk reads: where variables live
/// (location lists) and macros. Left empty, so that a compressed one is not inflated (in a
/// distribution's separate debug info for the C library, location lists are a sixth of it).
const UNUSED_SECTIONS: [gimli::SectionId; 4] = [
    gimli::SectionId::DebugLoc,
    gimli::SectionId::DebugLocLists,
    gimli::SectionId::DebugMacinfo,
    gimli::SectionId::DebugMacro,
];

/// The DWARF sections of `object` (parsed from `data`), `None` when it has no `.debug_info`.
fn load_dwarf<'data, O: Object<'data>>(
    object: &O,
    data: &Arc<[u8]>,
) -> Result<Option<gimli::Dwarf<Reader>>, object::Error> {
    let has_info = object
        .section_by_name(".debug_info")
        .is_some_and(|s| s.size() > 0 && s.file_range().is_some());
    if !has_info {
        return Ok(None);
    }
    let endian = if object.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    let whole = Reader::new(Arc::clone(data), endian);
    let dwarf = gimli::Dwarf::load(|id| -> Result<Reader, object::Error> {
        let section = object
            .section_by_name(id.name())
            .filter(|_| !UNUSED_SECTIONS.contains(&id));
        let Some(section) = section else {
            return Ok(Reader::new(Arc::from(&[][..]), endian));
        };
        let range = section.compressed_file_range()?;
        let start = usize::try_from(range.offset).ok();
        let end = start.and_then(|s| s.checked_add(usize::try_from(range.compressed_size).ok()?));
        match (range.format, start, end) {
            (CompressionFormat::None, Some(start), Some(end)) if end <= data.len() => {
                Ok(whole.range(start..end))
            }
            _ => Ok(Reader::new(
                Arc::from(&*section.uncompressed_data()?),
                endian,
            )),
        }
    })?;
    Ok(Some(dwarf))
}

/// Where separate debug info for `path` may live, most specific first.
pub(crate) fn debug_file_candidates(
    path: &Path,
    build_id: Option<&[u8]>,
    link: Option<&[u8]>,
) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(id) = build_id.filter(|id| id.len() > 1) {
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        out.push(PathBuf::from(format!(
            "/usr/lib/debug/.build-id/{}/{}.debug",
            &hex[..2],
            &hex[2..]
        )));
    }
    if let Some(link) = link.and_then(|l| std::str::from_utf8(l).ok()) {
        let dir = path.parent().unwrap_or(Path::new("/"));
        out.push(dir.join(link));
        out.push(dir.join(".debug").join(link));
        let relative = dir.strip_prefix("/").unwrap_or(dir);
        out.push(Path::new("/usr/lib/debug").join(relative).join(link));
    }
    // `.gnu_debuglink` may name the file itself.
    out.retain(|candidate| candidate != path);
    out
}

/// DWARF and symbols of a separate debug file, if it exists and belongs to the module.
fn load_debug_file(
    path: &Path,
    build_id: Option<&[u8]>,
) -> Option<(gimli::Dwarf<Reader>, Vec<Symbol>)> {
    let (data, _) = read_file(path).ok()?;
    let object = object::File::parse(&*data).ok()?;
    if let (Some(expected), Ok(Some(found))) = (build_id, object.build_id()) {
        if expected != found {
            return None;
        }
    }
    let dwarf = load_dwarf(&object, &data).ok()??;
    Some((dwarf, collect_symbols(object.symbols())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_file_search_order() {
        let got = debug_file_candidates(
            Path::new("/usr/lib/x86_64-linux-gnu/libc.so.6"),
            Some(&[0xab, 0xcd, 0xef]),
            Some(b"libc.so.6.debug"),
        );
        let want: Vec<PathBuf> = [
            "/usr/lib/debug/.build-id/ab/cdef.debug",
            "/usr/lib/x86_64-linux-gnu/libc.so.6.debug",
            "/usr/lib/x86_64-linux-gnu/.debug/libc.so.6.debug",
            "/usr/lib/debug/usr/lib/x86_64-linux-gnu/libc.so.6.debug",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(got, want);
    }
}
