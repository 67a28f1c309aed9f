//! Module records for the running test process, read the way the interposer would record them:
//! executable mappings from `/proc/self/maps`, the load bias from the file's program headers, the
//! build-id from its notes.

use alloc_profile_format::{Header, Module, RawProfile, SiteCounters, Stack, NO_STACK};
use object::{Object, ObjectSegment};

/// One line of `/proc/self/maps`.
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub perms: String,
    pub offset: u64,
    pub path: String,
}

pub fn maps() -> Vec<Mapping> {
    let text = fs_err::read_to_string("/proc/self/maps").expect("/proc/self/maps is readable");
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (start, end) = fields.next()?.split_once('-')?;
            let perms = fields.next()?.to_owned();
            let offset = u64::from_str_radix(fields.next()?, 16).ok()?;
            let _dev = fields.next()?;
            let _inode = fields.next()?;
            let path = fields.collect::<Vec<_>>().join(" ");
            Some(Mapping {
                start: u64::from_str_radix(start, 16).ok()?,
                end: u64::from_str_radix(end, 16).ok()?,
                perms,
                offset,
                path,
            })
        })
        .collect()
}

/// The module record of the mapped file `path`, as the interposer would write it.
pub fn module(path: &str) -> Module {
    let data = fs_err::read(path).expect("mapped file is readable");
    let file = object::File::parse(&*data).expect("mapped file is an object file");
    let exec: Vec<Mapping> = maps()
        .into_iter()
        .filter(|m| m.path == path && m.perms.contains('x'))
        .collect();
    assert!(!exec.is_empty(), "{path} has no executable mapping");
    // The executable segment a mapping comes from: the one whose file range starts in the
    // mapped page (a read-only segment may end in that page too).
    let first = &exec[0];
    let page = 4096u64;
    let segment = file
        .segments()
        .find(|s| {
            let (offset, size) = s.file_range();
            let executable =
                matches!(s.flags(), object::SegmentFlags::Elf { p_flags } if p_flags & 1 != 0);
            executable && size > 0 && offset / page * page == first.offset
        })
        .expect("an executable PT_LOAD segment starts in the executable mapping");
    let (seg_offset, _) = segment.file_range();
    // The mapping starts where the segment's first page does.
    let bias = first.start - (segment.address() + first.offset - seg_offset);
    Module {
        path: path.to_owned(),
        bias,
        ranges: exec.iter().map(|m| (m.start, m.end)).collect(),
        build_id: file.build_id().ok().flatten().unwrap_or_default().to_vec(),
    }
}

/// The test binary's path as it is mapped.
pub fn exe_path() -> String {
    std::env::current_exe()
        .expect("current_exe")
        .to_string_lossy()
        .into_owned()
}

/// The path of the mapped C library.
pub fn libc_path() -> String {
    maps()
        .into_iter()
        .find(|m| {
            m.perms.contains('x')
                && m.path
                    .rsplit('/')
                    .next()
                    .is_some_and(|n| n.starts_with("libc.so"))
        })
        .expect("libc is mapped")
        .path
}

/// Size of the function symbol at `address` (a runtime address) in the test binary.
pub fn function_size(exe: &Module, address: u64) -> u64 {
    use object::ObjectSymbol;
    let data = fs_err::read(&exe.path).expect("exe is readable");
    let file = object::File::parse(&*data).expect("exe parses");
    let svma = address - exe.bias;
    file.symbols()
        .find(|s| s.address() == svma && s.size() > 0)
        .map(|s| s.size())
        .expect("the function has a sized symbol")
}

/// Runtime address of the symbol `name` in the module's file.
pub fn symbol_address(module: &Module, name: &str) -> u64 {
    use object::ObjectSymbol;
    let data = fs_err::read(&module.path).expect("module is readable");
    let file = object::File::parse(&*data).expect("module parses");
    let symbol = file
        .symbols()
        .find(|s| s.name() == Ok(name))
        .expect("the symbol exists");
    symbol.address() + module.bias
}

/// A stack record.
pub fn stack(id: u32, parent: u32, flags: u32, frames: &[u64]) -> Stack {
    Stack {
        id,
        parent,
        flags,
        frames: frames.to_vec(),
    }
}

/// A raw profile of this process with the given modules and stacks, and one site per stack that
/// is not a spawn stack.
pub fn profile(modules: Vec<Module>, stacks: Vec<Stack>) -> RawProfile {
    let sites = stacks
        .iter()
        .filter(|s| s.flags & alloc_profile_format::stack_flags::SPAWN == 0)
        .map(|s| SiteCounters {
            stack: s.id,
            allocations: 1,
            bytes: 8,
            max_size: 8,
            ..SiteCounters::default()
        })
        .collect();
    RawProfile {
        header: Header {
            pid: std::process::id(),
            exe: exe_path(),
            args: vec!["it".to_owned()],
            ..Header::default()
        },
        modules,
        stacks,
        sites,
        ..RawProfile::default()
    }
}

/// Shorthand for a stack without a parent.
pub fn root(id: u32, frames: &[u64]) -> Stack {
    stack(id, NO_STACK, 0, frames)
}

/// A fresh directory for one test, named after it (`name` must be unique in this test binary).
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "alloc-profile-symbolize-{}-{name}",
        std::process::id()
    ));
    fs_err::create_dir_all(&dir).unwrap();
    dir
}

/// The bytes of the ELF file at `path` with the start of its `.debug_info` overwritten: every
/// unit header there then claims a 64-bit length far beyond the section.
pub fn with_corrupt_debug_info(path: &str) -> Vec<u8> {
    use object::ObjectSection;
    let mut data = fs_err::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let (offset, size) = file
        .section_by_name(".debug_info")
        .and_then(|s| s.file_range())
        .expect("the test binary has debug info");
    let offset = usize::try_from(offset).unwrap();
    let size = usize::try_from(size).unwrap();
    data[offset..offset + size.min(4096)].fill(0xff);
    data
}
