//! The test binary symbolizes addresses of its own functions, std's and a dependency's.

use std::path::PathBuf;

use alloc_profile_format::symbolized::{Frame, FrameKind, Profile};
use alloc_profile_format::{stack_flags, Module, RawProfile, Thread, NO_STACK};
use alloc_profile_symbolize::{read_raw_file, symbolize, Error, Options, Warning};

use crate::process::{self, root, stack};

const MARKER_FIRST_LINE: u32 = line!() + 2;
#[inline(never)]
fn marker_function(x: u64) -> u64 {
    let tripled = inlined_helper(x);
    std::hint::black_box(tripled).wrapping_add(1)
}
const MARKER_LAST_LINE: u32 = line!() - 1;

const HELPER_FIRST_LINE: u32 = line!() + 2;
#[inline(always)]
fn inlined_helper(x: u64) -> u64 {
    std::hint::black_box(x).wrapping_mul(3)
}
const HELPER_LAST_LINE: u32 = line!() - 1;

fn marker_address() -> u64 {
    assert_eq!(marker_function(1), 4);
    marker_function as fn(u64) -> u64 as usize as u64
}

fn std_address() -> u64 {
    std::process::id as fn() -> u32 as usize as u64
}

fn dependency_address() -> u64 {
    type TryDemangle =
        fn(&str) -> Result<rustc_demangle::Demangle<'_>, rustc_demangle::TryDemangleError>;
    rustc_demangle::try_demangle as TryDemangle as usize as u64
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workspace_options() -> Options {
    Options {
        workspace: vec![(crate_dir(), "alloc_profile_symbolize".to_owned())],
        ..Options::default()
    }
}

fn run(raws: &[RawProfile], options: &Options) -> (Profile, Vec<Warning>) {
    symbolize(raws, options).expect("symbolization succeeds")
}

fn site_frames(profile: &Profile, site: usize) -> Vec<&Frame> {
    profile.sites[site]
        .frames
        .iter()
        .map(|&i| &profile.frames[i as usize])
        .collect()
}

fn exe_module() -> Module {
    process::module(&process::exe_path())
}

fn exe_name() -> String {
    process::exe_path().rsplit('/').next().unwrap().to_owned()
}

#[test]
fn own_function_has_name_file_line_and_workspace_kind() {
    let exe = exe_module();
    let f = marker_address();
    let size = process::function_size(&exe, f);
    // The entry (as if returning to the first instruction) and a point in the middle.
    let raw = process::profile(vec![exe], vec![root(0, &[f + 1]), root(1, &[f + size / 2])]);
    let (profile, warnings) = run(&[raw], &workspace_options());
    assert_eq!(warnings, []);
    for site in 0..2 {
        let frames = site_frames(&profile, site);
        let outer = frames.last().expect("at least one frame");
        assert_eq!(outer.function, "it::self_symbolize::marker_function");
        assert!(!outer.inlined);
        let file = outer.file.as_deref().expect("a source file");
        assert!(file.ends_with("tests/it/self_symbolize.rs"), "{file}");
        let line = outer.line.expect("a line");
        assert!(
            (MARKER_FIRST_LINE..=MARKER_LAST_LINE).contains(&line),
            "line {line} is outside marker_function"
        );
        assert_eq!(outer.kind, FrameKind::Workspace);
        assert_eq!(outer.crate_name.as_deref(), Some("alloc_profile_symbolize"));
        assert_eq!(outer.object, exe_name());
        assert!(profile.sites[site].spawned_at.is_empty());
    }
    assert_eq!(profile.processes.len(), 1);
    assert_eq!(profile.processes[0].pid, std::process::id());
    assert_eq!(profile.sites[1].process, 0);
}

#[test]
fn inlined_calls_get_frames_of_their_own() {
    let exe = exe_module();
    let f = marker_address();
    let size = process::function_size(&exe, f);
    let stacks = (1..=size)
        .map(|offset| root(u32::try_from(offset).unwrap(), &[f + offset]))
        .collect();
    let raw = process::profile(vec![exe], stacks);
    let (profile, _) = run(&[raw], &workspace_options());
    let inlined = profile
        .sites
        .iter()
        .enumerate()
        .map(|(i, _)| site_frames(&profile, i))
        .find(|frames| frames.len() == 2 && frames[0].inlined)
        .expect("some address in marker_function is inside the inlined helper");
    assert_eq!(inlined[0].function, "it::self_symbolize::inlined_helper");
    let line = inlined[0].line.unwrap();
    assert!(
        (HELPER_FIRST_LINE..=HELPER_LAST_LINE).contains(&line),
        "{line}"
    );
    assert_eq!(inlined[0].kind, FrameKind::Workspace);
    // The containing function's location is the call site.
    assert_eq!(inlined[1].function, "it::self_symbolize::marker_function");
    assert!(!inlined[1].inlined);
    assert_eq!(inlined[1].line, Some(MARKER_FIRST_LINE + 1));
}

#[test]
fn std_and_dependency_code_is_classified_by_source_path() {
    let exe = exe_module();
    let raw = process::profile(
        vec![exe],
        vec![
            root(0, &[std_address() + 1]),
            root(1, &[dependency_address() + 1]),
        ],
    );
    let (profile, warnings) = run(&[raw], &workspace_options());
    assert_eq!(warnings, []);

    let std = site_frames(&profile, 0);
    let std = std.last().unwrap();
    assert_eq!(std.function, "std::process::id");
    assert_eq!(std.kind, FrameKind::Std);
    assert_eq!(std.crate_name.as_deref(), Some("std"));
    assert!(
        std.file
            .as_deref()
            .unwrap()
            .ends_with("library/std/src/process.rs"),
        "{:?}",
        std.file
    );

    let dep = site_frames(&profile, 1);
    let dep = dep.last().unwrap();
    assert_eq!(dep.function, "rustc_demangle::try_demangle");
    assert_eq!(dep.kind, FrameKind::Dependency);
    assert_eq!(dep.crate_name.as_deref(), Some("rustc_demangle"));
    assert!(
        dep.file.as_deref().unwrap().contains("/rustc-demangle-"),
        "{:?}",
        dep.file
    );
}

#[test]
fn code_without_debug_info_is_named_from_the_symbol_table() {
    let exe = exe_module();
    // rustc's C `main` and the C runtime's `_start` have symbols but no DWARF.
    let main = process::symbol_address(&exe, "main");
    let start = process::symbol_address(&exe, "_start");
    let raw = process::profile(vec![exe], vec![root(0, &[main + 2, start + 2])]);
    let (profile, warnings) = run(&[raw], &workspace_options());
    assert_eq!(warnings, []);
    let frames = site_frames(&profile, 0);
    let described: Vec<_> = frames
        .iter()
        .map(|f| (f.function.as_str(), f.kind, f.file.is_none()))
        .collect();
    assert_eq!(
        described,
        [
            ("main", FrameKind::Std, true),
            ("_start", FrameKind::Foreign, true)
        ]
    );
}

#[test]
fn corrupt_debug_info_falls_back_to_the_symbol_table() {
    let exe = exe_module();
    let data = process::with_corrupt_debug_info(&exe.path);
    let dir = process::temp_dir("corrupt");
    let copy = dir.join("corrupt-copy");
    fs_err::write(&copy, &data).unwrap();

    let module = Module {
        path: copy.to_string_lossy().into_owned(),
        ..exe
    };
    let raw = process::profile(vec![module], vec![root(0, &[marker_address() + 1])]);
    let (profile, warnings) = run(&[raw], &workspace_options());
    assert!(
        matches!(&warnings[..], [Warning::BadDebugInfo { path, .. }] if path.ends_with("corrupt-copy")),
        "{warnings:?}"
    );
    let frames = site_frames(&profile, 0);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].function, "it::self_symbolize::marker_function");
    assert_eq!(frames[0].file, None);
    // Without a source path the crate is read off the name; `it` is no workspace crate here.
    assert_eq!(frames[0].kind, FrameKind::Dependency);
    fs_err::remove_dir_all(&dir).unwrap();
}

#[test]
fn executable_without_debug_info_is_reported() {
    use object::{Object, ObjectSection};
    let exe = exe_module();
    let mut data = fs_err::read(&exe.path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let names = file
        .section_by_name(".shstrtab")
        .and_then(|s| s.file_range())
        .expect("section names");
    let (start, end) = (
        usize::try_from(names.0).unwrap(),
        usize::try_from(names.0 + names.1).unwrap(),
    );
    // Rename every `.debug_*` section to `.xdebug_*` (same length, so nothing moves).
    let mut renamed = 0;
    let mut i = start;
    while i + 7 <= end {
        if &data[i..i + 7] == b".debug_" {
            data[i + 1] = b'X';
            renamed += 1;
        }
        i += 1;
    }
    assert!(renamed > 0);
    let dir = process::temp_dir("nodebug");
    let copy = dir.join("nodebug-copy");
    fs_err::write(&copy, &data).unwrap();
    let path = copy.to_string_lossy().into_owned();
    let module = Module {
        path: path.clone(),
        ..exe
    };
    let mut raw = process::profile(vec![module], vec![root(0, &[marker_address() + 1])]);
    raw.header.exe.clone_from(&path);
    let (profile, warnings) = run(&[raw], &workspace_options());
    assert_eq!(warnings, [Warning::NoDebugInfo { path }]);
    assert!(warnings[0].to_string().starts_with("no debug info in "));
    let frames = site_frames(&profile, 0);
    assert_eq!(frames[0].function, "it::self_symbolize::marker_function");
    assert_eq!((frames[0].file.as_deref(), frames[0].line), (None, None));
    assert!(profile.workspace_functions.is_empty());
    fs_err::remove_dir_all(&dir).unwrap();
}

#[test]
fn package_roots_decide_kind_and_crate() {
    let exe = exe_module();
    let raw = process::profile(vec![exe], vec![root(0, &[marker_address() + 1])]);
    let outer = |options: &Options| {
        let (profile, _) = run(std::slice::from_ref(&raw), options);
        let frame = site_frames(&profile, 0).last().copied().unwrap().clone();
        (frame.kind, frame.crate_name)
    };
    // Our own directory given as a dependency.
    let as_dependency = Options {
        dependencies: vec![(crate_dir(), "renamed-dep".to_owned())],
        ..Options::default()
    };
    assert_eq!(
        outer(&as_dependency),
        (FrameKind::Dependency, Some("renamed_dep".to_owned()))
    );
    // A workspace root above the crate loses to the crate's own, longer root.
    let nested = Options {
        workspace: vec![
            (crate_dir().join("../.."), "outer_ws".to_owned()),
            (crate_dir(), "inner".to_owned()),
        ],
        ..Options::default()
    };
    assert_eq!(
        outer(&nested),
        (FrameKind::Workspace, Some("inner".to_owned()))
    );
    // Nothing known: a Rust function outside std is some dependency, named by its path.
    assert_eq!(
        outer(&Options::default()),
        (FrameKind::Dependency, Some("it".to_owned()))
    );
}

#[test]
fn thread_frames_continue_with_the_spawning_stack() {
    let exe = exe_module();
    let f = marker_address();
    let mut raw = process::profile(
        vec![exe],
        vec![
            stack(5, NO_STACK, stack_flags::SPAWN, &[std_address() + 1]),
            stack(6, 5, 0, &[f + 1]),
        ],
    );
    raw.threads.push(Thread {
        index: 1,
        tid: 1234,
        name: "worker".to_owned(),
        spawn_stack: 5,
    });
    let (profile, _) = run(&[raw], &workspace_options());
    assert_eq!(profile.sites.len(), 1, "spawn stacks are not sites");
    // std's code at that address may have inlined frames; the containing functions run from
    // the thread's own code to the spawning thread's.
    let frames = site_frames(&profile, 0);
    let containing: Vec<&str> = frames
        .iter()
        .filter(|f| !f.inlined)
        .map(|f| f.function.as_str())
        .collect();
    assert_eq!(
        containing,
        ["it::self_symbolize::marker_function", "std::process::id"]
    );
    assert_eq!(frames[0].function, "it::self_symbolize::marker_function");
    assert_eq!(profile.sites[0].counters.stack, 6);
    assert_eq!(profile.processes[0].threads[0].spawn_stack, 5);
}

#[test]
fn interposer_frames_are_dropped_and_libc_allocations_detected() {
    let exe = exe_module();
    let libc = process::module(&process::libc_path());
    let libc_address = libc.ranges[0].0 + 0x40;
    let interposer = Module {
        path: "/nonexistent/liballoc_profile_preload.so".to_owned(),
        bias: 0,
        ranges: vec![(0x1000, 0x2000)],
        build_id: vec![1, 2, 3],
    };
    let f = marker_address();
    let raw = process::profile(
        vec![exe, libc, interposer],
        vec![
            root(0, &[0x1800, libc_address, std_address() + 1, f + 1]),
            root(1, &[0x1800, f + 1]),
            root(2, &[0x1800, libc_address, f + 1]),
        ],
    );
    let (profile, warnings) = run(&[raw], &workspace_options());
    assert!(
        !warnings.iter().any(|w| w.to_string().contains("preload")),
        "the interposer is never read: {warnings:?}"
    );

    let glibc = site_frames(&profile, 0);
    assert!(glibc[0].object.starts_with("libc.so"), "{:?}", glibc[0]);
    assert_eq!(glibc[0].kind, FrameKind::Foreign);
    assert_eq!(glibc[0].crate_name, None);
    assert_eq!(
        glibc.last().unwrap().function,
        "it::self_symbolize::marker_function"
    );
    // glibc allocating under std's code: the facts the report's blame rules decide on (the
    // allocator's caller in the C library, then std's frame).
    assert_eq!(glibc[1].kind, FrameKind::Std, "{glibc:?}");

    let rust = site_frames(&profile, 1);
    assert_eq!(rust.len(), 1);
    assert_eq!(rust[0].function, "it::self_symbolize::marker_function");
    assert!(!rust[0].object.starts_with("libc.so"));

    // The user's own call into glibc (`strdup`, say) allocates on the user's behalf.
    let direct = site_frames(&profile, 2);
    assert!(direct[0].object.starts_with("libc.so"));
    assert_eq!(direct[1].kind, FrameKind::Workspace, "{direct:?}");
}

#[test]
fn unusable_modules_give_warnings_and_unknown_frames() {
    let mut changed = exe_module();
    changed.build_id.iter_mut().for_each(|b| *b ^= 0xff);
    let missing = Module {
        path: "/nonexistent/libmissing.so".to_owned(),
        bias: 0,
        ranges: vec![(0x3000, 0x4000)],
        build_id: Vec::new(),
    };
    let manifest = crate_dir()
        .join("Cargo.toml")
        .to_string_lossy()
        .into_owned();
    let not_elf = Module {
        path: manifest.clone(),
        bias: 0,
        ranges: vec![(0x6000, 0x7000)],
        build_id: Vec::new(),
    };
    let raw = process::profile(
        vec![changed, missing, not_elf],
        vec![
            root(0, &[marker_address() + 1]),
            root(1, &[0x3800]),
            root(2, &[0x5800]),
            root(3, &[0x6800]),
        ],
    );
    let (profile, warnings) = run(&[raw], &workspace_options());

    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(
        matches!(&warnings[2], Warning::ModuleUnreadable { path, reason } if *path == manifest && reason.contains("expected an ELF object file")),
        "{warnings:?}"
    );
    assert!(
        matches!(&warnings[0], Warning::BuildIdMismatch { path, .. } if *path == process::exe_path()),
        "{warnings:?}"
    );
    assert!(warnings[0].to_string().contains("changed since the run"));
    assert!(
        matches!(&warnings[1], Warning::ModuleUnreadable { path, .. } if path == "/nonexistent/libmissing.so"),
        "{warnings:?}"
    );
    assert!(warnings[1]
        .to_string()
        .contains("/nonexistent/libmissing.so"));

    let unknown = |site: usize| site_frames(&profile, site)[0].clone();
    let changed = unknown(0);
    assert_eq!(
        (changed.function.as_str(), changed.kind),
        ("??", FrameKind::Unknown)
    );
    assert_eq!(changed.object, exe_name());
    let missing = unknown(1);
    assert_eq!(
        (
            missing.function.as_str(),
            missing.kind,
            missing.object.as_str()
        ),
        ("??", FrameKind::Unknown, "libmissing.so")
    );
    let nowhere = unknown(2);
    assert_eq!(
        (
            nowhere.function.as_str(),
            nowhere.kind,
            nowhere.object.as_str()
        ),
        ("??", FrameKind::Unknown, "")
    );
    // The changed executable is not walked for workspace functions either.
    assert_eq!(profile.workspace_functions, Vec::<String>::new());
}

#[test]
fn processes_share_frames() {
    let exe = exe_module();
    let stacks = || vec![root(0, &[marker_address() + 1, std_address() + 1])];
    let one = process::profile(vec![exe.clone()], stacks());
    let mut other = process::profile(vec![exe], stacks());
    other.header.pid += 1;
    let (single, _) = run(std::slice::from_ref(&one), &workspace_options());
    let (both, _) = run(&[one, other], &workspace_options());
    assert_eq!(both.processes.len(), 2);
    assert_eq!(both.frames, single.frames);
    assert_eq!(both.sites.len(), 2);
    assert_eq!(both.sites[0].frames, both.sites[1].frames);
    assert_eq!((both.sites[0].process, both.sites[1].process), (0, 1));
}

#[test]
fn workspace_functions_come_from_the_executable_debug_info() {
    let raw = process::profile(vec![exe_module()], Vec::new());
    let start = std::time::Instant::now();
    let (profile, warnings) = run(std::slice::from_ref(&raw), &workspace_options());
    eprintln!(
        "workspace functions: {} in {:?}",
        profile.workspace_functions.len(),
        start.elapsed()
    );
    assert_eq!(warnings, []);
    let functions = &profile.workspace_functions;
    for expected in [
        "it::self_symbolize::marker_function",
        "it::self_symbolize::inlined_helper",
        "alloc_profile_symbolize::symbolize",
    ] {
        assert!(
            functions.iter().any(|f| f == expected),
            "{expected} missing from {functions:#?}"
        );
    }
    assert!(!functions.iter().any(|f| f == "main"));
    assert!(
        functions.iter().all(|f| f.starts_with("it::")
            || f.starts_with("alloc_profile_symbolize::")
            || f.starts_with('<')),
        "{functions:#?}"
    );
    assert!(functions.windows(2).all(|w| w[0] < w[1]), "sorted, unique");

    // Without workspace members there is nothing to look for.
    let (profile, _) = run(&[raw], &Options::default());
    assert!(profile.workspace_functions.is_empty());
}

#[test]
fn inconsistent_raw_profiles_are_errors() {
    let mut raw = process::profile(vec![exe_module()], vec![root(0, &[1])]);
    raw.sites[0].stack = 9;
    assert!(matches!(
        symbolize(&[raw], &Options::default()),
        Err(Error::UnknownStack { stack: 9, .. })
    ));
    let raw = process::profile(
        vec![exe_module()],
        vec![stack(0, 1, 0, &[1]), stack(1, 0, stack_flags::SPAWN, &[1])],
    );
    let err = symbolize(&[raw], &Options::default()).unwrap_err();
    assert!(matches!(err, Error::StackLoop { stack: 0, .. }), "{err}");
}

#[test]
fn raw_files_are_read_with_their_path_in_errors() {
    let raw = process::profile(vec![exe_module()], vec![root(0, &[marker_address() + 1])]);
    let dir = process::temp_dir("raw");
    let path = dir.join("it.aprof");
    fs_err::write(&path, raw.to_bytes()).unwrap();
    assert_eq!(read_raw_file(&path).unwrap(), raw);

    fs_err::write(&path, b"not a profile").unwrap();
    let err = read_raw_file(&path).unwrap_err().to_string();
    assert!(
        err.contains("it.aprof") && err.contains("wrong magic"),
        "{err}"
    );
    let missing = dir.join("missing.aprof");
    let err = read_raw_file(&missing).unwrap_err().to_string();
    assert!(err.contains("missing.aprof"), "{err}");
    fs_err::remove_dir_all(&dir).unwrap();
}
