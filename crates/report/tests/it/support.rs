//! Concise construction of symbolized profiles for tests.

use alloc_profile_format::symbolized::{Frame, FrameKind, Process, Profile, Site};
use alloc_profile_format::{end_reason, End};

/// A frame of the profiled workspace, in `crate_name` (the first path segment).
pub fn ws(function: &str, file: &str, line: u32) -> Frame {
    Frame {
        function: function.to_owned(),
        file: Some(file.to_owned()),
        line: Some(line),
        kind: FrameKind::Workspace,
        crate_name: function.split("::").next().map(str::to_owned),
        inlined: false,
        object: "app".to_owned(),
    }
}

/// A dependency frame of `krate`.
pub fn dep(krate: &str, function: &str) -> Frame {
    Frame {
        function: function.to_owned(),
        file: Some(format!("/home/u/.cargo/registry/src/{krate}/src/lib.rs")),
        line: Some(10),
        kind: FrameKind::Dependency,
        crate_name: Some(krate.to_owned()),
        inlined: false,
        object: "app".to_owned(),
    }
}

/// A standard-library frame.
pub fn std(function: &str) -> Frame {
    Frame {
        function: function.to_owned(),
        file: Some("/rustc/abc/library/alloc/src/vec/mod.rs".to_owned()),
        line: Some(100),
        kind: FrameKind::Std,
        crate_name: None,
        inlined: true,
        object: "app".to_owned(),
    }
}

/// C library code.
pub fn libc(function: &str) -> Frame {
    Frame {
        function: function.to_owned(),
        file: None,
        line: None,
        kind: FrameKind::Foreign,
        crate_name: None,
        inlined: false,
        object: "libc.so.6".to_owned(),
    }
}

/// The frames every allocation through Rust's global allocator starts with.
pub fn rust_alloc() -> Frame {
    std("alloc::alloc::alloc")
}

/// Builds a [`Profile`]; frames are interned in order of first use.
pub struct ProfileBuilder {
    pub profile: Profile,
}

/// Counters of one site beyond allocations and bytes.
#[derive(Default, Clone, Copy)]
pub struct Extra {
    pub reallocations: u64,
    pub live_allocations: u64,
    pub live_bytes: u64,
    pub flags: u32,
    pub process: usize,
}

impl ProfileBuilder {
    /// One process that exited with status 0.
    pub fn new() -> Self {
        let mut b = ProfileBuilder {
            profile: Profile::default(),
        };
        b.process("/work/app/target/debug/app", 0, 0);
        b
    }

    /// Adds a process; returns its index.
    pub fn process(&mut self, exe: &str, peak_bytes: u64, unattributed: u64) -> usize {
        self.profile.processes.push(Process {
            pid: 1000 + self.profile.processes.len() as u32,
            ppid: 1,
            exe: exe.to_owned(),
            args: vec![exe.rsplit('/').next().unwrap().to_owned()],
            start_unix_ns: 0,
            end: End {
                reason: end_reason::EXIT,
                detail: 0,
                elapsed_ns: 1_000_000,
                peak_bytes,
                peak_time_ns: 500_000,
                unattributed,
                allocations: 0,
                flags: alloc_profile_format::end_flags::LIFETIMES,
            },
            threads: Vec::new(),
        });
        self.profile.processes.len() - 1
    }

    fn intern(&mut self, frame: &Frame) -> u32 {
        if let Some(i) = self.profile.frames.iter().position(|f| f == frame) {
            return i as u32;
        }
        self.profile.frames.push(frame.clone());
        (self.profile.frames.len() - 1) as u32
    }

    /// A site with `frames` innermost first; everything it allocated was freed.
    pub fn site(&mut self, frames: &[Frame], allocations: u64, bytes: u64) -> &mut Self {
        self.site_with(frames, allocations, bytes, Extra::default())
    }

    pub fn site_with(
        &mut self,
        frames: &[Frame],
        allocations: u64,
        bytes: u64,
        extra: Extra,
    ) -> &mut Self {
        self.push_site(frames, allocations, bytes, extra)
    }

    /// A site of the C library's own: the blame rules see it from its frames, which start in
    /// the C library (`libc(..)`).
    pub fn libc_site(&mut self, frames: &[Frame], allocations: u64, bytes: u64) -> &mut Self {
        assert_eq!(
            frames[0].object, "libc.so.6",
            "a C library site starts in it"
        );
        self.push_site(frames, allocations, bytes, Extra::default())
    }

    fn push_site(
        &mut self,
        frames: &[Frame],
        allocations: u64,
        bytes: u64,
        extra: Extra,
    ) -> &mut Self {
        let ids = frames.iter().map(|f| self.intern(f)).collect();
        let stack = self.profile.sites.len() as u32;
        self.profile.sites.push(Site {
            process: extra.process,
            frames: ids,
            counters: alloc_profile_format::SiteCounters {
                stack,
                allocations,
                reallocations: extra.reallocations,
                bytes,
                frees: allocations - extra.live_allocations,
                freed_bytes: bytes - extra.live_bytes,
                live_allocations: extra.live_allocations,
                live_bytes: extra.live_bytes,
                max_size: bytes,
                ..Default::default()
            },
            peak_bytes: 0,
            sizes: Vec::new(),
            flags: extra.flags,
            spawned_at: Vec::new(),
        });
        self
    }

    /// Declares the workspace functions found in the debug info.
    pub fn workspace_functions(&mut self, names: &[&str]) -> &mut Self {
        self.profile
            .workspace_functions
            .extend(names.iter().map(|s| (*s).to_owned()));
        self.profile.workspace_functions.sort();
        self.profile.workspace_functions.dedup();
        self
    }

    /// The site added last, to set the counters the builders leave at zero (peak bytes,
    /// temporaries, lifetimes, growth chains, sizes).
    pub fn last(&mut self) -> &mut Site {
        self.profile.sites.last_mut().expect("a site was added")
    }

    pub fn build(&self) -> Profile {
        self.profile.clone()
    }
}

/// A size histogram from `(bucket, count)` pairs.
pub fn sizes(pairs: &[(usize, u64)]) -> Vec<u64> {
    let mut h = vec![0; alloc_profile_format::SIZE_BUCKETS];
    for &(b, n) in pairs {
        h[b] += n;
    }
    h
}
