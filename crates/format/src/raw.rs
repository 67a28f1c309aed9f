//! The records of a raw profile as Rust types, and the constants of the encoding (see the
//! crate documentation): what the writer encodes and the reader decodes.

/// First bytes of every raw profile.
pub const MAGIC: [u8; 8] = *b"APROFRAW";
/// Version of the record layout. Readers reject files with a different version.
pub const VERSION: u32 = 1;
/// File name extension of raw profiles.
pub const EXTENSION: &str = "aprof";
/// Marker for "no stack" in fields that hold a stack id.
pub const NO_STACK: u32 = u32::MAX;

/// Record tags.
pub mod tag {
    /// Process header: see [`crate::Header`].
    pub const HEADER: u8 = 1;
    /// A loaded object (executable or shared library).
    pub const MODULE: u8 = 2;
    /// A thread that made at least one allocation.
    pub const THREAD: u8 = 3;
    /// An interned call stack.
    pub const STACK: u8 = 4;
    /// Counters of the allocations made from one stack.
    pub const SITE: u8 = 5;
    /// Bytes live from one stack at the moment of the process-wide peak.
    pub const PEAK_SITE: u8 = 6;
    /// Size histogram of one stack's allocations: stack id, then `(bucket, count)` pairs for the
    /// non-empty buckets (see [`crate::size_bucket`]).
    pub const SIZES: u8 = 7;
    /// Last record: how the process ended, and totals to cross-check.
    pub const END: u8 = 0xFF;
}

/// Flags of a [`tag::STACK`] record.
pub mod stack_flags {
    /// The frames came from a DWARF unwind (the frame-pointer walk could not be trusted).
    pub const DWARF: u32 = 1;
    /// The stack was deeper than the capture limit; outer frames are missing.
    pub const TRUNCATED: u32 = 2;
    /// The stack was captured at `pthread_create`: it is the parent context of a thread's stacks,
    /// not an allocation site of its own.
    pub const SPAWN: u32 = 4;
}

/// How the process ended, as recorded in the [`tag::END`] record.
pub mod end_reason {
    /// Returned from `main` or called `exit`.
    pub const EXIT: u32 = 0;
    /// Killed by a signal the interposer caught; the signal number is in `End::detail`.
    pub const SIGNAL: u32 = 1;
    /// Replaced itself with `execve`; the profile covers the time before.
    pub const EXEC: u32 = 2;
    /// Called `_exit` (or `_Exit`) directly, skipping `atexit` handlers.
    pub const UNDERSCORE_EXIT: u32 = 3;
}

/// Header record: who the process was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg(feature = "std")]
pub struct Header {
    /// Version of the interposer that wrote the file.
    pub tool_version: String,
    pub pid: u32,
    pub ppid: u32,
    /// Wall-clock start, nanoseconds since the Unix epoch.
    pub start_unix_ns: u64,
    /// Path of the executable (`/proc/self/exe`).
    pub exe: String,
    /// Command line, `argv[0]` first (stored NUL-separated, as `/proc/self/cmdline` has it).
    pub args: Vec<String>,
}

/// A mapped object. Addresses of frames that fall inside `ranges` belong to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg(feature = "std")]
pub struct Module {
    /// Path as the dynamic loader knows it; the main executable's real path.
    pub path: String,
    /// Load bias: runtime address minus the address in the file.
    pub bias: u64,
    /// Runtime address ranges `[start, end)` of its executable segments.
    pub ranges: Vec<(u64, u64)>,
    /// GNU build-id, empty when the object has none.
    pub build_id: Vec<u8>,
}

/// A thread known to the interposer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg(feature = "std")]
pub struct Thread {
    /// Index in the interposer's thread list; the main thread is 0.
    pub index: u32,
    /// Kernel thread id.
    pub tid: u32,
    /// Thread name at exit or when the thread ended (Linux cuts it to 15 bytes).
    pub name: String,
    /// Stack of the `pthread_create` call that started it, or [`NO_STACK`].
    pub spawn_stack: u32,
}

/// An interned call stack. `frames[0]` is the return address into the function that called the
/// allocator (or `pthread_create`), the last frame the outermost one reached. Return addresses point
/// just past a call instruction, so symbolize `address - 1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg(feature = "std")]
pub struct Stack {
    pub id: u32,
    /// The stack this one continues: for a thread's stacks, the stack that spawned the thread.
    pub parent: u32,
    pub flags: u32,
    pub frames: Vec<u64>,
}

/// What happened at one allocation site (one unique stack): the counters of a [`tag::SITE`]
/// record. (The symbolized site, with its frames, is [`crate::symbolized::Site`].)
///
/// An *allocation* is a successful call of malloc, calloc, realloc, reallocarray, posix_memalign,
/// aligned_alloc, memalign, valloc or pvalloc; `bytes` sums the requested sizes (for realloc the new
/// size). A *free* is the release of a block this site made, by `free` or by a `realloc` that
/// replaced it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SiteCounters {
    pub stack: u32,
    pub allocations: u64,
    /// How many of `allocations` were reallocs of an existing block.
    pub reallocations: u64,
    pub bytes: u64,
    pub frees: u64,
    pub freed_bytes: u64,
    /// Blocks from this site still live when the profile was written.
    pub live_allocations: u64,
    pub live_bytes: u64,
    /// Largest single request.
    pub max_size: u64,
    // Fields added for lifetimes and growth (still format version 1: older files read as 0).
    /// Sum over this site's freed blocks of their lifetimes (allocation to release), in ns.
    pub lifetime_sum_ns: u64,
    /// Longest lifetime of a freed block, in ns.
    pub lifetime_max_ns: u64,
    /// Frees of *temporary* blocks: released by the thread that allocated them before that
    /// thread made any other allocation (heaptrack's definition).
    pub temporary: u64,
    /// Growth chains that ended at this site: blocks that this site reallocated at least once,
    /// counted when released or at exit. A chain's site is the site of its last realloc.
    pub growth_chains: u64,
    /// Reallocs in those chains, summed.
    pub growth_reallocs: u64,
    /// Most reallocs in one chain.
    pub growth_max_reallocs: u64,
    /// Largest final size (bytes) of a chain.
    pub growth_max_final: u64,
    // Fields added for per-test peaks (format version 1: older files read as 0).
    /// The live bytes of the blocks a thread allocated (whoever frees them), as this site's
    /// allocating threads saw them: the highest right after one of its allocations, 0 when not
    /// recorded.
    pub thread_live_high: u64,
    /// The lowest right before one of its allocations (meaningful when `thread_live_high` is not 0).
    pub thread_live_low: u64,
}

/// Number of buckets in a [`tag::SIZES`] histogram: bucket `b` counts requests of `n` bytes with
/// `64 - n.leading_zeros() == b` (0 bytes → 0, 1 → 1, 2–3 → 2, 4–7 → 3, …), capped at the last.
pub const SIZE_BUCKETS: usize = 40;

/// The histogram bucket of a request of `size` bytes.
pub const fn size_bucket(size: u64) -> usize {
    let b = (64 - size.leading_zeros()) as usize;
    if b < SIZE_BUCKETS {
        b
    } else {
        SIZE_BUCKETS - 1
    }
}

/// How the process ended, with totals the reader uses to check the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct End {
    /// One of [`end_reason`].
    pub reason: u32,
    /// Signal number or exit code, depending on `reason`.
    pub detail: i32,
    /// Nanoseconds from the interposer's start to writing the profile.
    pub elapsed_ns: u64,
    /// Most bytes live at once, process-wide.
    pub peak_bytes: u64,
    /// When the peak was reached, nanoseconds from start.
    pub peak_time_ns: u64,
    /// Allocations the interposer saw but could not attribute to a stack (out of table space).
    pub unattributed: u64,
    /// Total allocations recorded (equals the sum over sites plus `unattributed`).
    pub allocations: u64,
    /// [`end_flags`] (appended later in version 1; 0 in older files).
    pub flags: u32,
}

/// Flags of the [`tag::END`] record.
pub mod end_flags {
    /// Block lifetimes were measured (the interposer read the time-stamp counter at every
    /// allocation and release); without it the sites' lifetime fields are 0 and mean nothing.
    pub const LIFETIMES: u32 = 1;
}
