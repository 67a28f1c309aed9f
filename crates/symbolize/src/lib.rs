//! Turns the raw profiles the interposer wrote into one symbolized [`Profile`].
//!
//! The interposer records return addresses and, per process, which object files were mapped
//! where (path, load bias, executable ranges, GNU build-id). This crate finds each address's
//! module, reads that module's DWARF with addr2line, expands inlined calls into frames of their
//! own, demangles names, and classifies every frame as the user's workspace, a dependency, Rust's
//! standard library or foreign code (see [Classification](#classification) below), so that the
//! report can blame allocations on the user's own functions.
//!
//! What it does not do: unwind (the stacks are already captured), read split DWARF (`.dwo`/`.dwp`:
//! rustc on Linux embeds DWARF by default), follow `dwz` supplementary files, or demangle C++.
//!
//! # Symbolization
//! Each address is a return address, so the address looked up is `address - 1`, inside the call
//! instruction; relative to its module that is `address - 1 - bias`. Every unique (module file,
//! address) pair is looked up once, however many stacks and processes contain it; a module file is
//! read once per (path, build-id) however many processes mapped it, and freed after the last
//! process that maps it. addr2line parses DWARF lazily, one compilation unit at a time, so beyond
//! reading the file a large test binary costs what its stacks touch.
//!
//! A site's frames are its own stack's frames followed by those of its parent stacks: for a stack
//! on a spawned thread, the `pthread_create` stack of the spawning thread, so the thread's code
//! comes first and the code that spawned it after. Frames in the interposer library itself are
//! dropped.
//!
//! # Classification
//! By source file first, by name when there is none; the rules are listed in order in the
//! `classify` module and summarized here:
//! - `/rustc/<hash>/...`, `/rust/deps/...`, `.../lib/rustlib/src/rust/...`: [`FrameKind::Std`];
//! - under a package root given in [`Options`] (longest root wins): [`FrameKind::Workspace`] or
//!   [`FrameKind::Dependency`] with that package's crate name;
//! - cargo's registry and git checkouts: [`FrameKind::Dependency`], crate name from the directory;
//! - no source: Rust symbols by their leading crate, `__rust_*`/`__rdl_*`/`__rg_*` shims (also
//!   under rustc's `__rustc::` namespace) and rustc's C `main` as Std, anything else (and anything
//!   in libc, ld.so, libgcc_s, libstdc++, libm) [`FrameKind::Foreign`];
//! - an address in no module: [`FrameKind::Unknown`], with an empty [`Frame::object`]; an address
//!   in a module whose file is unusable, or that nothing names: `"??"`, Unknown (Foreign for the
//!   C library and its kin).
//!
//! [`Profile::workspace_functions`] lists the workspace functions in the executables' debug info
//! (each process's executable: the module whose path is the header's `exe`, else the first one).
//!
//! # Failure
//! One bad module never fails the run: a missing file, a file rebuilt since the run (its build-id
//! differs) or unreadable debug info becomes a [`Warning`], and the affected frames read `"??"`
//! (or use the symbol table, when only the debug info is bad). [`Error`] is reserved for raw
//! profiles that contradict themselves.
#![forbid(unsafe_code)]

mod classify;
mod module;
mod names;
mod workspace;

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use alloc_profile_format::symbolized::{function_key, Frame, FrameKind, Process, Profile, Site};
use alloc_profile_format::{stack_flags, RawProfile, ReadError, Stack, NO_STACK};

use crate::classify::{Classifier, ModuleTraits};
use crate::module::{LoadError, LoadedModule};

/// What the symbolizer needs to know about the profiled workspace, to classify frames.
///
/// Package roots are matched against source paths in the debug info, component by component,
/// after lexical normalization; relative roots are taken relative to the current directory, and
/// a root's canonical path (symlinks resolved) matches too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Member packages of the profiled workspace: (root directory of the package, crate name with
    /// `-` as `_`).
    pub workspace: Vec<(PathBuf, String)>,
    /// Dependency packages: (root directory, crate name). From `cargo metadata`.
    pub dependencies: Vec<(PathBuf, String)>,
    /// Crate names of the member packages' other targets (an integration test
    /// `tests/props.rs` is crate `props`, a bench `benches/words.rs` crate `words`), with `-` as
    /// `_`: functions named in them are the workspace's, also when a dependency's macro wrote
    /// them (their lines are then the dependency's).
    pub workspace_targets: Vec<String>,
}

/// Something that made part of the profile less precise, without stopping symbolization. Each
/// is reported once per module file, however many processes mapped it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// The module file could not be opened or is not an object file; its frames are `"??"`.
    ModuleUnreadable { path: String, reason: String },
    /// The module file was rebuilt or replaced since the run; its frames are `"??"`.
    BuildIdMismatch {
        path: String,
        /// Hex build-id the profiled process had mapped.
        expected: String,
        /// Hex build-id of the file now, `None` if it has none.
        found: Option<String>,
    },
    /// A profiled executable or a Rust library has no DWARF: its frames have names from the
    /// symbol table (if any), but no files, lines or inlined calls. (Not reported for C
    /// libraries, which usually ship without it, nor for anything under `/usr`, `/bin`, `/sbin`
    /// or `/lib*`: system programs and libraries.)
    NoDebugInfo { path: String },
    /// The module's DWARF could not be read (in part); affected frames fall back to the symbol
    /// table.
    BadDebugInfo { path: String, reason: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::ModuleUnreadable { path, reason } => write!(
                f,
                "cannot read module {path} ({reason}); its frames are unknown (\"??\")"
            ),
            Warning::BuildIdMismatch {
                path,
                expected,
                found,
            } => write!(
                f,
                "module {path} changed since the run (build-id {}, expected {expected}); its \
                 frames are unknown (\"??\"): profile again after building",
                found.as_deref().unwrap_or("missing"),
            ),
            Warning::NoDebugInfo { path } => write!(
                f,
                "no debug info in {path}: its frames have no file, line or inlined calls (build \
                 with `debug = \"limited\"` or more)"
            ),
            Warning::BadDebugInfo { path, reason } => write!(
                f,
                "unreadable debug info in {path} ({reason}); using its symbol table instead"
            ),
        }
    }
}

/// Why symbolization failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A site or parent link names a stack the raw profile does not contain.
    #[error(
        "raw profile of process {pid} refers to stack {stack}, which it does not contain \
         (expected every site and parent link to name a recorded stack)"
    )]
    UnknownStack { pid: u32, stack: u32 },
    /// Following parent links from a stack comes back to a stack already visited.
    #[error(
        "raw profile of process {pid}: the parent links from stack {stack} form a loop (expected \
         a chain that ends at a thread's spawn stack)"
    )]
    StackLoop { pid: u32, stack: u32 },
    /// More distinct frames than fit the profile's `u32` frame indices.
    #[error(
        "more than {} distinct frames; the symbolized profile indexes them with u32",
        u32::MAX
    )]
    TooManyFrames,
    /// [`read_raw_file`] could not read the file.
    #[error("cannot read raw profile: {0}")]
    Io(#[from] std::io::Error),
    /// [`read_raw_file`] read a file that is not a valid raw profile.
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
}

/// Reads and decodes one raw profile file (`*.aprof`).
///
/// # Errors
/// [`Error::Io`] naming the file if it cannot be read, [`Error::Read`] if it is not a complete raw
/// profile of the supported version.
pub fn read_raw_file(path: &Path) -> Result<RawProfile, Error> {
    let data = fs_err::read(path)?;
    alloc_profile_format::read(&data).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })
}

/// Symbolizes the raw profiles of one run (one per process) into one [`Profile`]:
/// `processes[i]` comes from `raws[i]`, sites keep their process's index, and frames are shared
/// by all processes.
///
/// # Errors
/// Only for raw profiles that contradict themselves (see [`Error`]); problems with module files
/// are [`Warning`]s.
pub fn symbolize(raws: &[RawProfile], options: &Options) -> Result<(Profile, Vec<Warning>), Error> {
    let mut symbolizer = Symbolizer::new(options);
    // Know when each module file is needed for the last time, to free it then: a `cargo test` run
    // can profile dozens of test binaries of tens of megabytes each.
    for (index, raw) in raws.iter().enumerate() {
        for m in &raw.modules {
            let id = symbolizer.module_id(&m.path, &m.build_id);
            symbolizer.modules[id].last_use = index;
        }
    }
    let mut profile = Profile::default();
    for (index, raw) in raws.iter().enumerate() {
        symbolizer.add_process(index, raw, &mut profile)?;
        for module in &mut symbolizer.modules {
            if module.last_use == index && matches!(module.state, ModuleState::Loaded(_)) {
                module.state = ModuleState::Released;
            }
        }
    }
    profile.frames = symbolizer.frames;
    let harness_mains = symbolizer.harness_mains;
    profile.workspace_functions = symbolizer
        .workspace_functions
        .into_iter()
        .filter(|f| !harness_mains.contains(f))
        .collect();
    Ok((profile, symbolizer.warnings))
}

/// A module file as identified across processes: the same (path, build-id) is one entry.
struct ModuleEntry {
    path: String,
    /// File name, [`Frame::object`].
    name: String,
    build_id: Vec<u8>,
    interposer: bool,
    traits: ModuleTraits,
    state: ModuleState,
    /// A debug-info error was already reported.
    warned_dwarf: bool,
    /// Its workspace functions were already collected.
    walked: bool,
    /// Index of the last process that maps it.
    last_use: usize,
    /// Some process ran it as its executable.
    executable: bool,
}

enum ModuleState {
    NotLoaded,
    Loaded(Box<LoadedModule>),
    /// The file cannot be used; a warning said why.
    Unusable,
    /// Loaded, and freed after the last process that needed it.
    Released,
}

/// Where one process had a module's code mapped.
#[derive(Clone, Copy)]
struct Region {
    start: u64,
    end: u64,
    module: usize,
    bias: u64,
}

/// A stack's own frames, expanded once per process.
struct Expanded {
    frames: Vec<u32>,
}

struct Symbolizer {
    classifier: Classifier,
    modules: Vec<ModuleEntry>,
    module_ids: HashMap<(String, Vec<u8>), usize>,
    frames: Vec<Frame>,
    frame_ids: HashMap<Frame, u32>,
    /// (module, address in the module file) → frames, innermost first.
    by_address: HashMap<(usize, u64), Box<[u32]>>,
    warnings: Vec<Warning>,
    workspace_functions: BTreeSet<String>,
    /// Keys of the `main` functions rustc generated for libtest binaries.
    harness_mains: BTreeSet<String>,
    /// Source files read to recognize derived code, by path (`None`: unreadable).
    sources: HashMap<String, Option<Vec<String>>>,
}

impl Symbolizer {
    fn new(options: &Options) -> Symbolizer {
        Symbolizer {
            classifier: Classifier::new(options),
            modules: Vec::new(),
            module_ids: HashMap::new(),
            frames: Vec::new(),
            frame_ids: HashMap::new(),
            by_address: HashMap::new(),
            warnings: Vec::new(),
            workspace_functions: BTreeSet::new(),
            harness_mains: BTreeSet::new(),
            sources: HashMap::new(),
        }
    }

    fn add_process(
        &mut self,
        index: usize,
        raw: &RawProfile,
        profile: &mut Profile,
    ) -> Result<(), Error> {
        let pid = raw.header.pid;
        let mut regions = Vec::new();
        let mut module_of_raw = Vec::with_capacity(raw.modules.len());
        for m in &raw.modules {
            let id = self.module_id(&m.path, &m.build_id);
            module_of_raw.push(id);
            for &(start, end) in &m.ranges {
                regions.push(Region {
                    start,
                    end,
                    module: id,
                    bias: m.bias,
                });
            }
        }
        regions.sort_by_key(|r| (r.start, r.end));
        // The interposer records the executable under the path it reports in the header; fall
        // back to the first module.
        let exe = raw
            .modules
            .iter()
            .position(|m| m.path == raw.header.exe)
            .or((!raw.modules.is_empty()).then_some(0))
            .map(|i| module_of_raw[i]);
        if let Some(exe) = exe {
            self.modules[exe].executable = true;
        }

        let stacks: HashMap<u32, &Stack> = raw.stacks.iter().map(|s| (s.id, s)).collect();
        let get = |id: u32| {
            stacks
                .get(&id)
                .copied()
                .ok_or(Error::UnknownStack { pid, stack: id })
        };
        let sizes: HashMap<u32, &[u64]> = raw
            .sizes
            .iter()
            .map(|(stack, counts)| (*stack, &counts[..]))
            .collect();
        let peaks: HashMap<u32, u64> = {
            let mut peaks = HashMap::new();
            for &(stack, bytes) in &raw.peak_sites {
                *peaks.entry(stack).or_insert(0) += bytes;
            }
            peaks
        };

        let mut expanded: HashMap<u32, Expanded> = HashMap::new();
        let mut sites = Vec::with_capacity(raw.sites.len());
        for counters in &raw.sites {
            let stack = get(counters.stack)?;
            let mut chain = vec![stack];
            let mut parent = stack.parent;
            while parent != NO_STACK {
                if chain.len() > stacks.len() {
                    return Err(Error::StackLoop {
                        pid,
                        stack: stack.id,
                    });
                }
                let p = get(parent)?;
                chain.push(p);
                parent = p.parent;
            }
            let mut frames = Vec::new();
            let mut spawned_at = Vec::new();
            let mut flags = stack.flags;
            for (i, s) in chain.iter().enumerate() {
                let e = match expanded.entry(s.id) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(v) => v.insert(self.expand(s, &regions)?),
                };
                if i > 0 {
                    spawned_at.push(u32::try_from(frames.len()).map_err(|_| Error::TooManyFrames)?);
                    // Frames missing from a parent are missing from this site's stack too.
                    flags |= s.flags & stack_flags::TRUNCATED;
                }
                frames.extend_from_slice(&e.frames);
            }
            sites.push(Site {
                process: index,
                frames,
                spawned_at,
                counters: *counters,
                peak_bytes: peaks.get(&counters.stack).copied().unwrap_or(0),
                sizes: sizes
                    .get(&counters.stack)
                    .map(|c| c.to_vec())
                    .unwrap_or_default(),
                flags,
            });
        }
        self.mark_harness_mains(&sites);
        profile.sites.extend(sites);

        if let Some(exe) = exe {
            self.collect_workspace_functions(exe);
        }

        profile.processes.push(Process {
            pid,
            ppid: raw.header.ppid,
            exe: raw.header.exe.clone(),
            args: raw.header.args.clone(),
            start_unix_ns: raw.header.start_unix_ns,
            end: raw.end,
            threads: raw.threads.clone(),
        });
        Ok(())
    }

    fn module_id(&mut self, path: &str, build_id: &[u8]) -> usize {
        if let Some(&id) = self.module_ids.get(&(path.to_owned(), build_id.to_vec())) {
            return id;
        }
        let name = classify::file_name(path).to_owned();
        let id = self.modules.len();
        self.modules.push(ModuleEntry {
            path: path.to_owned(),
            interposer: classify::is_interposer(&name),
            traits: ModuleTraits {
                system: classify::is_system_library(&name),
                rust: false,
            },
            name,
            build_id: build_id.to_vec(),
            state: ModuleState::NotLoaded,
            warned_dwarf: false,
            walked: false,
            last_use: 0,
            executable: false,
        });
        self.module_ids
            .insert((path.to_owned(), build_id.to_vec()), id);
        id
    }

    /// Frames of one stack, without its parents.
    fn expand(&mut self, stack: &Stack, regions: &[Region]) -> Result<Expanded, Error> {
        let mut frames = Vec::with_capacity(stack.frames.len());
        for &address in &stack.frames {
            // A return address points past the call; look up the call itself.
            let pc = address.wrapping_sub(1);
            let region = find_region(regions, pc);
            if region.is_some_and(|r| self.modules[r.module].interposer) {
                continue;
            }
            let ids = self.frames_at(region, pc)?;
            frames.extend_from_slice(&ids);
        }
        Ok(Expanded { frames })
    }

    /// Frames for one call address, innermost inlined call first.
    fn frames_at(&mut self, region: Option<Region>, pc: u64) -> Result<Box<[u32]>, Error> {
        let Some(region) = region else {
            let frame = Frame {
                function: "??".to_owned(),
                file: None,
                line: None,
                kind: FrameKind::Unknown,
                crate_name: None,
                inlined: false,
                object: String::new(),
            };
            return Ok(Box::new([self.intern(frame)?]));
        };
        let svma = pc.wrapping_sub(region.bias);
        let key = (region.module, svma);
        if let Some(ids) = self.by_address.get(&key) {
            return Ok(ids.clone());
        }
        let frames = self.symbolize_address(region.module, svma);
        let ids = frames
            .into_iter()
            .map(|f| self.intern(f))
            .collect::<Result<Box<[u32]>, Error>>()?;
        self.by_address.insert(key, ids.clone());
        Ok(ids)
    }

    fn symbolize_address(&mut self, module: usize, svma: u64) -> Vec<Frame> {
        self.load(module);
        let (frames, error) = self.describe(module, svma);
        if let Some(reason) = error {
            let entry = &mut self.modules[module];
            if !entry.warned_dwarf {
                entry.warned_dwarf = true;
                self.warnings.push(Warning::BadDebugInfo {
                    path: entry.path.clone(),
                    reason,
                });
            }
        }
        frames
    }

    /// The frames of a loaded (or unusable) module at `svma`, and a debug-info error met on the
    /// way.
    fn describe(&self, module: usize, svma: u64) -> (Vec<Frame>, Option<String>) {
        let entry = &self.modules[module];
        let unknown = || Frame {
            function: "??".to_owned(),
            file: None,
            line: None,
            kind: if entry.traits.system {
                FrameKind::Foreign
            } else {
                FrameKind::Unknown
            },
            crate_name: None,
            inlined: false,
            object: entry.name.clone(),
        };
        let ModuleState::Loaded(loaded) = &entry.state else {
            return (vec![unknown()], None);
        };
        let (sources, error) = loaded.frames(svma);
        if sources.is_empty() {
            return (vec![unknown()], error);
        }
        let last = sources.len() - 1;
        let frames = sources
            .into_iter()
            .enumerate()
            .map(|(i, source)| {
                let (function, rust_name) = match &source.function {
                    Some(raw) => names::demangle(raw),
                    None => ("??".to_owned(), false),
                };
                let class = self.classifier.classify(
                    source.file.as_deref(),
                    &function,
                    rust_name || source.rust_unit,
                    entry.traits,
                );
                Frame {
                    function,
                    file: source.file,
                    line: source.line,
                    kind: class.kind,
                    crate_name: class.crate_name,
                    inlined: i < last,
                    object: entry.name.clone(),
                }
            })
            .collect();
        (frames, error)
    }

    /// Whether a trait-impl frame is code that `#[derive(Trait)]` generated. Debug info puts
    /// derived code on the derive attribute or on the fields of the type; so the frame is derived
    /// when its line is, or lies inside, a `struct`/`enum`/`union` whose attributes derive that
    /// trait.
    fn is_derived(&mut self, file: Option<&str>, line: Option<u32>, function: &str) -> bool {
        let (Some(file), Some(line), Some(trait_name)) = (file, line, derived_trait(function))
        else {
            return false;
        };
        let lines = self.sources.entry(file.to_owned()).or_insert_with(|| {
            std::fs::read_to_string(file)
                .ok()
                .map(|text| text.lines().map(str::to_owned).collect())
        });
        lines
            .as_deref()
            .is_some_and(|lines| derive_covers(lines, line as usize, trait_name))
    }

    /// The `main` that rustc generates for a libtest binary (it calls `test::test_main_static`)
    /// carries the crate's name and root file, but it is the harness, not the user's code.
    fn mark_harness_mains(&mut self, sites: &[Site]) {
        for site in sites {
            for pair in site.frames.windows(2) {
                let (inner, outer) = (pair[0] as usize, pair[1] as usize);
                if self.frames[outer].kind == FrameKind::Workspace
                    && self.frames[outer].function.ends_with("::main")
                    && self.frames[inner].function.starts_with("test::test_main")
                {
                    self.frames[outer].kind = FrameKind::Std;
                    self.harness_mains
                        .insert(function_key(&self.frames[outer].function));
                }
            }
        }
    }

    /// Opens a module's file the first time one of its addresses is needed.
    fn load(&mut self, module: usize) {
        let entry = &mut self.modules[module];
        if !matches!(entry.state, ModuleState::NotLoaded) {
            return;
        }
        if classify::is_virtual(&entry.name) || entry.path.is_empty() {
            // The vDSO has no file; nothing to say about it.
            entry.state = ModuleState::Unusable;
            return;
        }
        match LoadedModule::load(&entry.path, &entry.build_id) {
            Ok((loaded, warnings)) => {
                // Unreadable debug info was reported already; do not report it missing too.
                entry.warned_dwarf = !warnings.is_empty();
                self.warnings.extend(warnings);
                // Missing debug info matters in the profiled program and Rust libraries; C
                // libraries usually ship without it, and a system program or library (a
                // profiled program's `/usr/bin/kill`) is not the user's to rebuild.
                let system = ["/usr/", "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/"]
                    .iter()
                    .any(|dir| entry.path.starts_with(dir));
                let expected = (entry.executable || loaded.rust) && !system;
                if expected && !loaded.has_debug_info() && !entry.warned_dwarf {
                    self.warnings.push(Warning::NoDebugInfo {
                        path: entry.path.clone(),
                    });
                }
                entry.traits.rust = loaded.rust;
                entry.state = ModuleState::Loaded(Box::new(loaded));
            }
            Err(LoadError::Unreadable(reason)) => {
                self.warnings.push(Warning::ModuleUnreadable {
                    path: entry.path.clone(),
                    reason,
                });
                entry.state = ModuleState::Unusable;
            }
            Err(LoadError::BuildIdMismatch { found }) => {
                self.warnings.push(Warning::BuildIdMismatch {
                    path: entry.path.clone(),
                    expected: hex(&entry.build_id),
                    found: found.as_deref().map(hex),
                });
                entry.state = ModuleState::Unusable;
            }
        }
    }

    fn collect_workspace_functions(&mut self, module: usize) {
        if self.modules[module].walked || !self.classifier.has_workspace() {
            return;
        }
        self.modules[module].walked = true;
        self.load(module);
        let entry = &mut self.modules[module];
        let ModuleState::Loaded(loaded) = &entry.state else {
            return;
        };
        let Some(dwarf) = &loaded.dwarf else { return };
        let mut candidates = Vec::new();
        if let Err(e) =
            workspace::collect(dwarf, loaded.context(), &self.classifier, &mut candidates)
        {
            if !entry.warned_dwarf {
                entry.warned_dwarf = true;
                self.warnings.push(Warning::BadDebugInfo {
                    path: entry.path.clone(),
                    reason: e.to_string(),
                });
            }
        }
        for c in candidates {
            let derived = c.function.starts_with('<')
                && c.decl.as_ref().is_some_and(|(file, line)| {
                    self.is_derived(Some(file), Some(*line), &c.function)
                });
            if !derived {
                self.workspace_functions.insert(c.key);
            }
        }
    }

    fn intern(&mut self, mut frame: Frame) -> Result<u32, Error> {
        if frame.kind == FrameKind::Workspace
            && frame.function.starts_with('<')
            && self.is_derived(frame.file.as_deref(), frame.line, &frame.function)
        {
            // Code a `#[derive]` generated: the user wrote the call, not this body.
            frame.kind = FrameKind::Std;
        }
        if let Some(&id) = self.frame_ids.get(&frame) {
            return Ok(id);
        }
        let id = u32::try_from(self.frames.len()).map_err(|_| Error::TooManyFrames)?;
        self.frames.push(frame.clone());
        self.frame_ids.insert(frame, id);
        Ok(id)
    }
}

/// The trait a `#[derive]` would have generated `function` for: `Clone` for
/// `<a::T as core::clone::Clone>::clone`.
fn derived_trait(function: &str) -> Option<&str> {
    alloc_profile_format::rust_path::impl_trait_name(function)
}

/// Whether 1-based `line` is on, or inside the item after, attributes that derive `trait_name`.
fn derive_covers(lines: &[String], line: usize, trait_name: &str) -> bool {
    let derives = |l: &str| {
        let l = l.trim_start();
        l.starts_with("#[") && l.contains("derive(") && l.contains(trait_name)
    };
    let Some(index) = line.checked_sub(1).filter(|&i| i < lines.len()) else {
        return false;
    };
    if derives(&lines[index]) {
        return true;
    }
    // Up to the start of the enclosing item; derived code sits inside a type definition.
    let is_type_item = |l: &str| {
        let l = l.trim_start();
        let l = l.strip_prefix("pub").map_or(l, |r| {
            let r = r.trim_start();
            r.strip_prefix('(')
                .and_then(|r| r.split_once(')'))
                .map_or(r, |(_, r)| r)
        });
        let l = l.trim_start();
        ["struct ", "enum ", "union "]
            .iter()
            .any(|k| l.starts_with(k))
    };
    let is_other_item = |l: &str| {
        let l = l.trim_start();
        [
            "fn ",
            "pub fn ",
            "impl",
            "mod ",
            "trait ",
            "pub trait ",
            "}",
        ]
        .iter()
        .any(|k| l.starts_with(k))
            && !is_type_item(l)
    };
    let mut i = index;
    loop {
        let l = &lines[i];
        if is_type_item(l) {
            break;
        }
        if i != index && is_other_item(l) || index - i > 500 || i == 0 {
            return false;
        }
        i -= 1;
    }
    // The attributes and doc comments right above the type.
    lines[..i]
        .iter()
        .rev()
        .take_while(|l| {
            let t = l.trim_start();
            t.starts_with("#[") || t.starts_with("///") || t.starts_with("//") || t.is_empty()
        })
        .any(|l| derives(l))
}

/// The region containing `pc`, if any.
fn find_region(regions: &[Region], pc: u64) -> Option<Region> {
    let i = regions.partition_point(|r| r.start <= pc);
    let region = regions.get(i.checked_sub(1)?)?;
    (pc < region.end).then_some(*region)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod derive_tests {
    use super::{derive_covers, derived_trait};

    #[test]
    fn derived_code_is_recognized() {
        let src: Vec<String> = [
            "mod m {",
            "    #[derive(Debug, Clone)]",
            "    pub struct T {",
            "        pub a: String,",
            "    }",
            "    impl T {",
            "        fn f(&self) -> T { self.clone() }",
            "    }",
            "}",
        ]
        .iter()
        .map(|l| (*l).to_owned())
        .collect();
        assert_eq!(
            derived_trait("<m::T as core::clone::Clone>::clone"),
            Some("Clone")
        );
        assert_eq!(
            derived_trait("<m::T<u8> as serde::Serialize>::serialize"),
            Some("Serialize")
        );
        assert_eq!(derived_trait("m::f"), None);
        // The trait of the outermost impl, not the first ` as ` in the name.
        assert_eq!(
            derived_trait(
                "<core::slice::sort::stable::merge::MergeState<m::T>>::merge_down::<<m::T as core::cmp::PartialOrd>::lt>"
            ),
            None
        );
        assert_eq!(
            derived_trait("<<m::T as m::Tr>::Assoc as core::fmt::Debug>::fmt"),
            Some("Debug")
        );
        assert!(derive_covers(&src, 2, "Clone"));
        assert!(derive_covers(&src, 4, "Clone"));
        assert!(!derive_covers(&src, 4, "PartialEq"));
        assert!(!derive_covers(&src, 7, "Clone"));
        assert!(!derive_covers(&src, 99, "Clone"));
    }
}
