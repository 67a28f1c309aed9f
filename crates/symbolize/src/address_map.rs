//! Which module file an address is in: the module files of all processes, each known once by
//! (path, build-id) and loaded at most once, and each process's map of where it had them.

use std::collections::{BTreeSet, HashMap};
use std::ops::{Index, IndexMut};
use std::sync::atomic::{AtomicUsize, Ordering};

use alloc_profile_format::RawProfile;

use crate::classify::ModuleTraits;
use crate::error::Warning;
use crate::module::{LoadError, LoadedModule, Prepared};
use crate::objects;
use crate::read_ahead::ReadAhead;

/// A module file as identified across processes: the same (path, build-id) is one entry.
pub(crate) struct ModuleEntry {
    pub(crate) path: String,
    /// File name, [`Frame::object`](alloc_profile_format::symbolized::Frame::object).
    pub(crate) name: String,
    pub(crate) build_id: Vec<u8>,
    pub(crate) interposer: bool,
    pub(crate) traits: ModuleTraits,
    pub(crate) state: ModuleState,
    /// A debug-info error was already reported.
    pub(crate) warned_dwarf: bool,
    /// Its workspace functions were already collected.
    pub(crate) walked: bool,
    /// Index of the last process that maps it.
    pub(crate) last_use: usize,
    /// Some process ran it as its executable.
    pub(crate) executable: bool,
}

pub(crate) enum ModuleState {
    NotLoaded,
    /// Loaded ahead of need (see [`AddressMap::prepare`]); what it says is said when it is needed.
    Prepared(Box<Result<Prepared, LoadError>>),
    Loaded(Box<LoadedModule>),
    /// The file cannot be used; a warning said why.
    Unusable,
    /// Loaded, and freed after the last process that needed it.
    Released,
}

/// Where one process had a module's code mapped.
#[derive(Clone, Copy)]
pub(crate) struct Region {
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) module: usize,
    pub(crate) bias: u64,
}

/// The module files of all processes, indexed by the id [`AddressMap::id`] gives them.
#[derive(Default)]
pub(crate) struct AddressMap {
    entries: Vec<ModuleEntry>,
    ids: HashMap<(String, Vec<u8>), usize>,
    /// Files the caller read before symbolization began, used instead of reading them again.
    read_ahead: ReadAhead,
}

impl Index<usize> for AddressMap {
    type Output = ModuleEntry;
    fn index(&self, id: usize) -> &ModuleEntry {
        &self.entries[id]
    }
}

impl IndexMut<usize> for AddressMap {
    fn index_mut(&mut self, id: usize) -> &mut ModuleEntry {
        &mut self.entries[id]
    }
}

impl AddressMap {
    pub(crate) fn new(read_ahead: ReadAhead) -> AddressMap {
        AddressMap {
            read_ahead,
            ..AddressMap::default()
        }
    }

    /// The id of the module file at `path` with `build_id`, a new entry the first time.
    pub(crate) fn id(&mut self, path: &str, build_id: &[u8]) -> usize {
        if let Some(&id) = self.ids.get(&(path.to_owned(), build_id.to_vec())) {
            return id;
        }
        let name = objects::file_name(path).to_owned();
        let id = self.entries.len();
        self.entries.push(ModuleEntry {
            path: path.to_owned(),
            interposer: objects::is_interposer(&name),
            traits: ModuleTraits {
                system: objects::is_system_library(&name),
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
        self.ids.insert((path.to_owned(), build_id.to_vec()), id);
        id
    }

    /// Where `raw`'s process had which module, sorted by address, and the id of its executable:
    /// the module whose path is the header's `exe`, else the first one (marked
    /// [`ModuleEntry::executable`]).
    pub(crate) fn regions(&mut self, raw: &RawProfile) -> (Vec<Region>, Option<usize>) {
        let mut regions = Vec::new();
        let mut module_of_raw = Vec::with_capacity(raw.modules.len());
        for m in &raw.modules {
            let id = self.id(&m.path, &m.build_id);
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
            self.entries[exe].executable = true;
        }
        (regions, exe)
    }

    /// Frees the files that process `index` was the last to need, on another thread (see
    /// [`drop_elsewhere`]).
    pub(crate) fn release_after(&mut self, index: usize) {
        let mut released = Vec::new();
        for module in &mut self.entries {
            let held = matches!(
                module.state,
                ModuleState::Loaded(_) | ModuleState::Prepared(_)
            );
            if module.last_use == index && held {
                released.push(std::mem::replace(&mut module.state, ModuleState::Released));
            }
        }
        if !released.is_empty() {
            drop_elsewhere(released);
        }
    }

    /// The files read ahead that no module used, to be freed.
    pub(crate) fn take_read_ahead(&mut self) -> ReadAhead {
        std::mem::take(&mut self.read_ahead)
    }

    /// Loads the modules `ids` that are not loaded yet, several at once (a thread per core), for
    /// [`AddressMap::load`] to find them ready: a process's executable and its C library's debug
    /// info take about as long each. The warnings wait for `load`, which says them in the order
    /// it is called, as it does for a module it loads itself.
    pub(crate) fn prepare(&mut self, ids: &BTreeSet<usize>) {
        let mut todo = Vec::new();
        for &id in ids {
            let entry = &mut self.entries[id];
            if !matches!(entry.state, ModuleState::NotLoaded) || !has_file(entry) {
                continue;
            }
            match self.read_ahead.take(&entry.path, &entry.build_id) {
                Some(result) => entry.state = ModuleState::Prepared(Box::new(result)),
                None => todo.push((id, entry.path.clone(), entry.build_id.clone())),
            }
        }
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let helpers = cores.min(todo.len()).saturating_sub(1);
        if helpers == 0 {
            // `load` reads a single file as soon.
            return;
        }
        // The first file is this thread's: a system library first, since its separate debug info
        // is usually compressed, the longest to load, and a new thread's first load (a new
        // malloc arena to grow) took a fifth longer than the same load here.
        todo.sort_by_key(|(id, ..)| !self.entries[*id].traits.system);
        let load = |(id, path, build_id): &(usize, String, Vec<u8>)| {
            (*id, LoadedModule::load(path, build_id))
        };
        let next = AtomicUsize::new(1);
        let work = || {
            let mut done = Vec::new();
            while let Some(item) = todo.get(next.fetch_add(1, Ordering::Relaxed)) {
                done.push(load(item));
            }
            done
        };
        let done: Vec<_> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..helpers)
                .filter_map(|_| {
                    std::thread::Builder::new()
                        .name("load-modules".to_owned())
                        .spawn_scoped(scope, work)
                        .ok()
                })
                .collect();
            let mut done = vec![load(&todo[0])];
            done.extend(work());
            // A thread that panicked leaves its modules to `load`, which meets the panic again.
            for thread in threads {
                done.extend(thread.join().unwrap_or_default());
            }
            done
        });
        for (id, result) in done {
            self.entries[id].state = ModuleState::Prepared(Box::new(result));
        }
    }

    /// Opens a module's file the first time one of its addresses is needed.
    pub(crate) fn load(&mut self, module: usize, warnings: &mut Vec<Warning>) {
        let entry = &mut self.entries[module];
        if !has_file(entry) {
            if matches!(entry.state, ModuleState::NotLoaded) {
                // The vDSO has no file; nothing to say about it.
                entry.state = ModuleState::Unusable;
            }
            return;
        }
        let loaded = match std::mem::replace(&mut entry.state, ModuleState::NotLoaded) {
            ModuleState::NotLoaded => self
                .read_ahead
                .take(&entry.path, &entry.build_id)
                .unwrap_or_else(|| LoadedModule::load(&entry.path, &entry.build_id)),
            ModuleState::Prepared(result) => *result,
            other => {
                entry.state = other;
                return;
            }
        };
        match loaded {
            Ok(prepared) => {
                let loaded = prepared.module;
                // Unreadable debug info was reported already; do not report it missing too.
                entry.warned_dwarf = !prepared.problems.is_empty();
                warnings.extend(prepared.problems.into_iter().map(|reason| {
                    Warning::BadDebugInfo {
                        path: entry.path.clone(),
                        reason,
                    }
                }));
                // Missing debug info matters in the profiled program and Rust libraries; C
                // libraries usually ship without it, and a system program or library (a
                // profiled program's `/usr/bin/kill`) is not the user's to rebuild.
                let system = ["/usr/", "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/"]
                    .iter()
                    .any(|dir| entry.path.starts_with(dir));
                let expected = (entry.executable || loaded.rust) && !system;
                if expected && !loaded.has_debug_info() && !entry.warned_dwarf {
                    warnings.push(Warning::NoDebugInfo {
                        path: entry.path.clone(),
                    });
                }
                entry.traits.rust = loaded.rust;
                entry.state = ModuleState::Loaded(Box::new(loaded));
            }
            Err(LoadError::Unreadable(reason)) => {
                warnings.push(Warning::ModuleUnreadable {
                    path: entry.path.clone(),
                    reason,
                });
                entry.state = ModuleState::Unusable;
            }
            Err(LoadError::BuildIdMismatch { found }) => {
                warnings.push(Warning::BuildIdMismatch {
                    path: entry.path.clone(),
                    expected: hex(&entry.build_id),
                    found: found.as_deref().map(hex),
                });
                entry.state = ModuleState::Unusable;
            }
        }
    }
}

/// Drops `value` on a thread of its own. Freeing a large module's parsed DWARF (every unit,
/// line table and function addr2line built, each its own allocation) took a fifth of a report's
/// symbolization after its program ended; nothing waits for it, and a process that ends first
/// frees it all at once. Dropped here when no thread can start.
pub(crate) fn drop_elsewhere<T: Send + 'static>(value: T) {
    // When no thread can start, `spawn` drops the closure, and `value` with it, here.
    let _ = std::thread::Builder::new()
        .name("free-modules".to_owned())
        .spawn(move || drop(value));
}

/// The module has a file to read (the vDSO has none).
fn has_file(entry: &ModuleEntry) -> bool {
    !objects::is_virtual(&entry.name) && !entry.path.is_empty()
}

/// The region containing `pc`, if any.
pub(crate) fn find_region(regions: &[Region], pc: u64) -> Option<Region> {
    let i = regions.partition_point(|r| r.start <= pc);
    let region = regions.get(i.checked_sub(1)?)?;
    (pc < region.end).then_some(*region)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
