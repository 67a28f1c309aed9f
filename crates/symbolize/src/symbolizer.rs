//! The symbolizer's state across the processes of one run, and how a site is assembled: its
//! stack and its parent stacks expanded into frames, each frame interned once.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};

use alloc_profile_format::symbolized::{Frame, FrameKind, Process, Profile, Site};
use alloc_profile_format::{stack_flags, RawProfile, Stack, NO_STACK};

use crate::address_map::{drop_elsewhere, find_region, AddressMap, ModuleState, Region};
use crate::classify::Classifier;
use crate::error::{Error, Warning};
use crate::frames;
use crate::generated::{self, DerivedCode};
use crate::options::Options;
use crate::read_ahead::ReadAhead;
use crate::workspace;

/// A stack's own frames, expanded once per process.
struct Expanded {
    frames: Vec<u32>,
}

pub(crate) struct Symbolizer {
    classifier: Classifier,
    modules: AddressMap,
    frames: Vec<Frame>,
    frame_ids: HashMap<Frame, u32>,
    /// (module, address in the module file) → frames, innermost first.
    by_address: HashMap<(usize, u64), Box<[u32]>>,
    warnings: Vec<Warning>,
    workspace_functions: BTreeSet<String>,
    /// Keys of the `main` functions rustc generated for libtest binaries.
    harness_mains: BTreeSet<String>,
    derived: DerivedCode,
}

impl Symbolizer {
    pub(crate) fn new(options: &Options, read_ahead: ReadAhead) -> Symbolizer {
        Symbolizer {
            classifier: Classifier::new(options),
            modules: AddressMap::new(read_ahead),
            frames: Vec::new(),
            frame_ids: HashMap::new(),
            by_address: HashMap::new(),
            warnings: Vec::new(),
            workspace_functions: BTreeSet::new(),
            harness_mains: BTreeSet::new(),
            derived: DerivedCode::default(),
        }
    }

    /// [`crate::symbolize_with`].
    pub(crate) fn run(mut self, raws: &[RawProfile]) -> Result<(Profile, Vec<Warning>), Error> {
        // Know when each module file is needed for the last time, to free it then: a `cargo test`
        // run can profile dozens of test binaries of tens of megabytes each.
        for (index, raw) in raws.iter().enumerate() {
            for m in &raw.modules {
                let id = self.modules.id(&m.path, &m.build_id);
                self.modules[id].last_use = index;
            }
        }
        let mut profile = Profile::default();
        for (index, raw) in raws.iter().enumerate() {
            self.add_process(index, raw, &mut profile)?;
            self.modules.release_after(index);
        }
        drop_elsewhere(self.modules.take_read_ahead());
        profile.frames = self.frames;
        let harness_mains = self.harness_mains;
        profile.workspace_functions = self
            .workspace_functions
            .into_iter()
            .filter(|f| !harness_mains.contains(f))
            .collect();
        Ok((profile, self.warnings))
    }

    /// Adds process `index`: its sites, with their frames, to `profile`, and its workspace
    /// functions to the set.
    fn add_process(
        &mut self,
        index: usize,
        raw: &RawProfile,
        profile: &mut Profile,
    ) -> Result<(), Error> {
        let pid = raw.header.pid;
        let (regions, exe) = self.modules.regions(raw);

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

        let needed = self.modules_needed(raw, &stacks, &regions, exe);
        self.modules.prepare(&needed);

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
        generated::mark_harness_mains(&mut self.frames, &sites, &mut self.harness_mains);
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

    /// The modules whose files `raw`'s process will read: those of the addresses on its sites'
    /// stacks and their parents (not the interposer's), and its executable when workspace
    /// functions are collected from it.
    fn modules_needed(
        &self,
        raw: &RawProfile,
        stacks: &HashMap<u32, &Stack>,
        regions: &[Region],
        exe: Option<usize>,
    ) -> BTreeSet<usize> {
        let mut needed = BTreeSet::new();
        let mut seen = HashSet::new();
        for counters in &raw.sites {
            let mut id = counters.stack;
            while id != NO_STACK && seen.insert(id) {
                let Some(stack) = stacks.get(&id) else { break };
                for &address in &stack.frames {
                    if let Some(region) = find_region(regions, address.wrapping_sub(1)) {
                        if !self.modules[region.module].interposer {
                            needed.insert(region.module);
                        }
                    }
                }
                id = stack.parent;
            }
        }
        if let Some(exe) = exe {
            if !self.modules[exe].walked && self.classifier.has_workspace() {
                needed.insert(exe);
            }
        }
        needed
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
        self.modules.load(module, &mut self.warnings);
        let (frames, error) = frames::describe(&self.modules[module], svma, &self.classifier);
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

    fn collect_workspace_functions(&mut self, module: usize) {
        if self.modules[module].walked || !self.classifier.has_workspace() {
            return;
        }
        self.modules[module].walked = true;
        self.modules.load(module, &mut self.warnings);
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
                    self.derived
                        .is_derived(Some(file), Some(*line), &c.function)
                });
            if !derived {
                self.workspace_functions.insert(c.key);
            }
        }
    }

    fn intern(&mut self, mut frame: Frame) -> Result<u32, Error> {
        if frame.kind == FrameKind::Workspace
            && frame.function.starts_with('<')
            && self
                .derived
                .is_derived(frame.file.as_deref(), frame.line, &frame.function)
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
