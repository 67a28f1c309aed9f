//! Writing the raw profile, once per process, at exit.
//!
//! The file appears atomically: `<dir>/.<exe>-<pid>.aprof.tmp` is created exclusively (mode 0600, no
//! symlink followed), written, then renamed to `<dir>/<exe>-<pid>.aprof` (before an exec,
//! `<exe>-<pid>-<start ns>.aprof`, since the new image keeps the pid). A writer killed midway
//! leaves only the hidden temporary file. Nothing is allocated with malloc: buffers are mmap'd, and
//! the format crate's encoder writes through our `write(2)` sink.

use core::ffi::{c_int, c_void};
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};

use alloc_profile_format::{end_reason, records, Encoder, End, Sink, SiteCounters, NO_STACK};

use crate::capture::object_name;
use crate::counters::Totals;
use crate::runtime::{
    self, Forced, ACTIVE, LIVE_BLOCKS, PID, STACKS, STATE, UNATTRIBUTED, WRITTEN,
};
use crate::sync::SyncCell;
use crate::{sys, threads, TOOL_VERSION};

const PATH_MAX: usize = runtime::MAX_DIR + 512;
const EXE_MAX: usize = 4096;
const CMDLINE_MAX: usize = 256 * 1024;
const OUT_BUF: usize = 64 * 1024;
/// Marks a kept stack in the merged site array (any value but the zero of a fresh mapping).
const KEPT: u32 = 1;
const SCRATCH: usize = 2 * PATH_MAX + EXE_MAX + CMDLINE_MAX + OUT_BUF;
/// Names tried for the temporary file and for the profile (see `write_to`).
const NAME_ATTEMPTS: usize = 8;

/// Set when the writer that won `WRITTEN` is done (file renamed or given up).
static WRITE_DONE: AtomicBool = AtomicBool::new(false);
/// The final path of the profile last written, NUL-terminated, for [`undo_for_failed_exec`]. Written
/// only by the writer that won `WRITTEN`.
static LAST_PATH: SyncCell<[u8; PATH_MAX]> = SyncCell::new([0; PATH_MAX]);

/// How long the exit writer waits for a live-table shard (in `sched_yield` calls): long at exit, where
/// a holder is another thread that will let go; short in a signal handler, where the holder may be
/// the interrupted thread itself.
const EXIT_LOCK_YIELDS: u64 = 100_000;
const SIGNAL_LOCK_YIELDS: u64 = 200;

/// Writes the profile with the given END reason and detail, unless it was written already, the
/// library is not active, or this is not the process that owns the state (a `vfork` child shares our
/// memory but not our pid).
pub fn write(reason: u32, detail: i32) {
    write_with(reason, detail, EXIT_LOCK_YIELDS);
}

/// [`write`] from a signal handler: gives up quickly on a live-table shard that stays locked.
pub fn write_bounded(reason: u32, detail: i32) {
    write_with(reason, detail, SIGNAL_LOCK_YIELDS);
}

/// Waits (at most about 5 s) until a profile being written by another thread is complete, so that a
/// dying process does not cut it short.
pub fn wait_for_writer() {
    let deadline = sys::clock_ns(sys::CLOCK_MONOTONIC) + 5_000_000_000;
    while WRITTEN.load(Ordering::Acquire)
        && !WRITE_DONE.load(Ordering::Acquire)
        && sys::clock_ns(sys::CLOCK_MONOTONIC) < deadline
    {
        // SAFETY: no preconditions.
        unsafe { sys::sched_yield() };
    }
}

/// Before `exec`: writes the profile (END reason EXEC) if this process recorded anything (a fork
/// child that only execs leaves no file). Returns whether a file was written.
pub fn write_for_exec() -> bool {
    if STATE.load(Ordering::Acquire) != ACTIVE || !recorded_anything() {
        return false;
    }
    write_with(end_reason::EXEC, 0, EXIT_LOCK_YIELDS)
}

/// After a failed `exec`: removes the file [`write_for_exec`] wrote and goes on recording, so a later
/// exit writes the whole profile. Keeps `errno` (the program reads exec's error).
pub fn undo_for_failed_exec() {
    let _errno = sys::SavedErrno::new();
    // SAFETY: written by `write_with` in this thread before the exec; nobody else writes it while
    // WRITTEN is set.
    let path = unsafe { &*LAST_PATH.get() };
    // SAFETY: a NUL-terminated path of our own making.
    unsafe { sys::unlink(path.as_ptr().cast()) };
    WRITE_DONE.store(false, Ordering::Release);
    WRITTEN.store(false, Ordering::Release);
    STATE.store(ACTIVE, Ordering::Release);
}

fn recorded_anything() -> bool {
    let mut any = false;
    runtime::for_each_counters(|c| {
        c.for_each(|_, t| any |= t.allocations != 0 || t.frees != 0);
    });
    any
}

fn write_with(reason: u32, detail: i32, lock_yields: u64) -> bool {
    if STATE.load(Ordering::Acquire) != ACTIVE {
        return false;
    }
    let forced = Forced::new();
    // SAFETY: no preconditions.
    if unsafe { sys::getpid() } != PID.load(Ordering::Relaxed) {
        return false;
    }
    if WRITTEN.swap(true, Ordering::AcqRel) {
        return false;
    }
    // From here on other threads' hooks pass through unrecorded; a hook that entered before is
    // waited for, so the counters and the live table read below agree.
    runtime::freeze(forced.tls().counters.get(), lock_yields);
    let _errno = sys::SavedErrno::new();
    let Some(scratch) = sys::map(SCRATCH) else {
        WRITE_DONE.store(true, Ordering::Release);
        return false;
    };
    // SAFETY: a fresh mapping of SCRATCH bytes, split into disjoint buffers.
    let (tmp, rest) = unsafe { core::slice::from_raw_parts_mut(scratch.as_ptr(), SCRATCH) }
        .split_at_mut(PATH_MAX);
    let (dst, rest) = rest.split_at_mut(PATH_MAX);
    let (exe_buf, rest) = rest.split_at_mut(EXE_MAX);
    let (cmdline_buf, out_buf) = rest.split_at_mut(CMDLINE_MAX);
    let buffers = Buffers {
        tmp,
        dst,
        exe_buf,
        cmdline_buf,
        out_buf,
    };
    let written = write_to(reason, detail, lock_yields, buffers);
    // SAFETY: nothing refers to the scratch mapping any more.
    unsafe { sys::unmap(scratch.as_ptr(), SCRATCH) };
    WRITE_DONE.store(true, Ordering::Release);
    written
}

struct Buffers<'a> {
    tmp: &'a mut [u8],
    dst: &'a mut [u8],
    exe_buf: &'a mut [u8],
    cmdline_buf: &'a mut [u8],
    out_buf: &'a mut [u8],
}

/// Writes the file; whether it was renamed into place.
fn write_to(reason: u32, detail: i32, lock_yields: u64, b: Buffers<'_>) -> bool {
    let Buffers {
        tmp,
        dst,
        exe_buf,
        cmdline_buf,
        out_buf,
    } = b;
    // SAFETY: readlink writes at most EXE_MAX bytes into the buffer.
    let n = unsafe {
        sys::readlink(
            c"/proc/self/exe".as_ptr(),
            exe_buf.as_mut_ptr().cast(),
            EXE_MAX,
        )
    };
    let exe: &[u8] = if n > 0 { &exe_buf[..n as usize] } else { &[] };
    let base = match exe.iter().rposition(|&b| b == b'/') {
        Some(i) => &exe[i + 1..],
        None => exe,
    };
    let base: &[u8] = if base.is_empty() { b"unknown" } else { base };
    // SAFETY: no preconditions.
    let pid = unsafe { sys::getpid() } as u32;
    let mut digits = [0u8; 20];
    let pid_text = decimal(u64::from(pid), &mut digits);
    // Before an exec the pid lives on in the new image, which may be the same executable: the
    // image's start time keeps the names apart (`<exe>-<pid>-<start ns>.aprof`).
    let mut start_digits = [0u8; 20];
    let start_text: &[u8] = if reason == alloc_profile_format::end_reason::EXEC {
        decimal(
            runtime::START_REAL_NS.load(Ordering::Relaxed),
            &mut start_digits,
        )
    } else {
        &[]
    };
    let dash: &[u8] = if start_text.is_empty() { b"" } else { b"-" };
    let dir = runtime::out_dir();
    // Names are tried with `.1` … `.7` added when taken: a file planted under the expected name (or
    // left by an earlier process with the same pid) is never opened, followed or replaced, and the
    // profile is still written.
    let name = |out: &mut [u8], attempt: usize, hidden: bool| {
        let digit = [b'.', b'0' + attempt as u8];
        let extra: &[u8] = if attempt == 0 { b"" } else { &digit };
        let (lead, ext): (&[u8], &[u8]) = if hidden {
            (b"/.", b".aprof.tmp")
        } else {
            (b"/", b".aprof")
        };
        join(
            out,
            &[
                dir, lead, base, b"-", pid_text, dash, start_text, extra, ext,
            ],
        )
    };
    let mut fd = -1;
    for attempt in 0..NAME_ATTEMPTS {
        if name(tmp, attempt, true).is_none() {
            return false;
        }
        // SAFETY: NUL-terminated path; flags and mode as documented in the module docs.
        fd = unsafe {
            sys::open(
                tmp.as_ptr().cast(),
                sys::O_CREAT | sys::O_EXCL | sys::O_WRONLY | sys::O_NOFOLLOW | sys::O_CLOEXEC,
                0o600 as core::ffi::c_uint,
            )
        };
        if fd >= 0 || sys::errno() != sys::EEXIST {
            break;
        }
    }
    if fd < 0 {
        return false;
    }
    let cmdline = read_file(c"/proc/self/cmdline", cmdline_buf);
    let mut sink = FdSink {
        fd,
        buf: out_buf,
        len: 0,
        ok: true,
    };
    let ok = {
        let mut enc = Encoder::new(&mut sink);
        encode(&mut enc, reason, detail, lock_yields, pid, exe, cmdline);
        enc.ok()
    };
    let ok = ok && sink.flush();
    // SAFETY: our descriptor.
    let closed = unsafe { sys::close(fd) } == 0;
    if ok && closed {
        for attempt in 0..NAME_ATTEMPTS {
            let Some(dst_len) = name(dst, attempt, false) else {
                break;
            };
            if sys::rename_no_replace(tmp, dst) {
                // SAFETY: only the writer that won WRITTEN (this one) touches LAST_PATH.
                let last = unsafe { &mut *LAST_PATH.get() };
                last[..=dst_len].copy_from_slice(&dst[..=dst_len]);
                return true;
            }
            if sys::errno() != sys::EEXIST {
                break;
            }
        }
    }
    // SAFETY: a NUL-terminated path of our own making.
    unsafe { sys::unlink(tmp.as_ptr().cast()) };
    false
}

fn encode(
    enc: &mut Encoder<'_>,
    reason: u32,
    detail: i32,
    lock_yields: u64,
    pid: u32,
    exe: &[u8],
    cmdline: &[u8],
) {
    enc.file_header();
    records::header(
        enc,
        TOOL_VERSION.as_bytes(),
        pid,
        // SAFETY: no preconditions.
        unsafe { sys::getppid() } as u32,
        runtime::START_REAL_NS.load(Ordering::Relaxed),
        exe,
        cmdline,
    );
    let mut modules = ModuleWriter {
        enc: &mut *enc,
        exe,
        index: 0,
    };
    // SAFETY: the callback matches dl_iterate_phdr's contract; `modules` outlives the call.
    unsafe { sys::dl_iterate_phdr(Some(module_record), ptr::from_mut(&mut modules).cast()) };

    // Stacks interned after this point are left out, and so is anything that refers to them: the
    // reader rejects references to unknown stacks.
    let count = STACKS.count();
    let spawn_stack = |t: &threads::ThreadInfo| {
        let id = t.spawn_stack.load(Ordering::Relaxed);
        if id < count {
            id
        } else {
            NO_STACK
        }
    };
    runtime::finish_peak_snapshot();
    let mut merged = merge_sites(count, lock_yields);
    let mut sites = merged.as_deref_mut();

    for index in 0..threads::count() {
        if let Some(t) = threads::get(index) {
            let mut name = [0u8; 15];
            let len = t.name(&mut name);
            records::thread(
                enc,
                index,
                t.tid.load(Ordering::Relaxed),
                &name[..len],
                spawn_stack(t),
            );
        }
    }

    // Only stacks something refers to: a site with counts, a thread's spawn, a kept stack's parent.
    // (A fork child inherits the parent's interned stacks; most are not its own.) `Merged::mark`
    // marks the kept ones.
    if let Some(sites) = sites.as_deref_mut() {
        for index in 0..threads::count() {
            if let Some(t) = threads::get(index) {
                keep(sites, spawn_stack(t));
            }
        }
        for id in 0..count {
            if sites[id as usize].has_counts() {
                keep(sites, id);
            }
        }
    }
    for id in 0..count {
        let kept = sites.as_deref().is_none_or(|s| s[id as usize].mark == KEPT);
        if let (true, Some(rec)) = (kept, STACKS.get(id)) {
            records::stack(enc, id, rec.parent, rec.flags, rec.frames());
        }
    }

    let clock = Clock::now();
    let mut total = 0u64;
    if let Some(merged) = merged {
        for (id, m) in merged.iter().enumerate() {
            if !m.has_counts() {
                continue;
            }
            let site = m.site(id as u32, &clock);
            records::site(enc, &site);
            records::sizes(enc, id as u32, &m.totals.sizes);
            total += site.allocations;
        }
        for (id, m) in merged.iter().enumerate() {
            if m.has_counts() && m.totals.at_peak > 0 {
                records::peak_site(enc, id as u32, m.totals.at_peak as u64);
            }
        }
        // SAFETY: the mapping made by merge_sites, no longer used.
        unsafe {
            sys::unmap(
                merged.as_mut_ptr().cast(),
                core::mem::size_of_val(merged).max(core::mem::size_of::<Merged>()),
            );
        }
    }

    let unattributed = UNATTRIBUTED.load(Ordering::Relaxed);
    let (peak_bytes, peak_time_ns) = peak(&clock);
    records::end(
        enc,
        &End {
            reason,
            detail,
            elapsed_ns: clock.elapsed,
            peak_bytes,
            peak_time_ns,
            unattributed,
            allocations: total + unattributed,
            flags: if crate::runtime::LIFETIMES.load(core::sync::atomic::Ordering::Relaxed) {
                alloc_profile_format::end_flags::LIFETIMES
            } else {
                0
            },
        },
    );
}

/// Marks `id` and its parents as kept (see `encode`).
fn keep(sites: &mut [Merged], mut id: u32) {
    while let Some(m) = sites.get_mut(id as usize) {
        if m.mark == KEPT {
            break;
        }
        m.mark = KEPT;
        id = STACKS.get(id).map_or(NO_STACK, |rec| rec.parent);
    }
}

/// Everything written about one stack. Integers only: zeroed memory is an empty one.
struct Merged {
    /// Every thread's counters summed (lifetimes still in time-stamp-counter ticks).
    totals: Totals,
    /// Blocks from this stack still in the live table.
    live_allocations: u64,
    live_bytes: u64,
    /// [`KEPT`] once something refers to the stack, so its STACK record is written.
    mark: u32,
}

impl Merged {
    fn has_counts(&self) -> bool {
        self.totals.allocations != 0 || self.totals.frees != 0 || self.live_allocations != 0
    }

    /// The SITE record of stack `id`, lifetimes converted to nanoseconds.
    fn site(&self, id: u32, clock: &Clock) -> SiteCounters {
        let t = &self.totals;
        SiteCounters {
            stack: id,
            allocations: t.allocations,
            reallocations: t.reallocations,
            bytes: t.bytes,
            frees: t.frees,
            freed_bytes: t.freed_bytes,
            live_allocations: self.live_allocations,
            live_bytes: self.live_bytes,
            max_size: t.max_size,
            lifetime_sum_ns: clock.ns(t.lifetime_sum),
            lifetime_max_ns: clock.ns(t.lifetime_max),
            temporary: t.temporary,
            growth_chains: t.growth_chains,
            growth_reallocs: t.growth_reallocs,
            growth_max_reallocs: t.growth_max_reallocs,
            growth_max_final: t.growth_max_final,
        }
    }
}

/// Sums every thread's counters per stack and adds the live table; indexed by stack id. The array is
/// mmap'd.
fn merge_sites(count: u32, lock_yields: u64) -> Option<&'static mut [Merged]> {
    let n = count as usize;
    let mem = sys::map(n.max(1) * core::mem::size_of::<Merged>())?;
    // SAFETY: zeroed mapping of n `Merged`, which are integers only.
    let merged = unsafe { core::slice::from_raw_parts_mut(mem.as_ptr().cast::<Merged>(), n) };
    runtime::for_each_counters(|c| {
        c.for_each(|rec, t: &Totals| {
            if let Some(m) = merged.get_mut(rec.id as usize) {
                m.totals.merge(t);
            }
        });
    });
    LIVE_BLOCKS.for_each(lock_yields, |b| {
        if let Some(m) = merged.get_mut(b.rec.id as usize) {
            m.live_allocations += 1;
            m.live_bytes += b.size as u64;
            // A growth chain still live at exit ends here.
            if b.reallocs > 0 {
                m.totals.add_chain(u64::from(b.reallocs), b.size as u64);
            }
        }
    });
    Some(merged)
}

/// Converts time-stamp-counter readings to nanoseconds with the start and end clock readings.
struct Clock {
    start_tsc: u64,
    end_tsc: u64,
    /// Nanoseconds from the start to now.
    elapsed: u64,
}

impl Clock {
    fn now() -> Self {
        Self {
            start_tsc: runtime::START_TSC.load(Ordering::Relaxed),
            end_tsc: sys::rdtsc(),
            elapsed: sys::clock_ns(sys::CLOCK_MONOTONIC)
                .saturating_sub(runtime::START_MONO_NS.load(Ordering::Relaxed)),
        }
    }

    /// A duration of `ticks`, in ns.
    fn ns(&self, ticks: u64) -> u64 {
        if self.end_tsc <= self.start_tsc {
            return 0;
        }
        (u128::from(ticks) * u128::from(self.elapsed) / u128::from(self.end_tsc - self.start_tsc))
            .min(u128::from(u64::MAX)) as u64
    }
}

/// (peak bytes, peak time ns since start): the highest live-bytes value any thread saw, and when.
fn peak(clock: &Clock) -> (u64, u64) {
    let (mut peak, mut peak_tsc) = (0u64, 0u64);
    runtime::for_each_counters(|c| {
        let (bytes, tsc) = c.peak();
        if bytes > peak || (bytes == peak && tsc < peak_tsc) {
            (peak, peak_tsc) = (bytes, tsc);
        }
    });
    let time = if peak == 0 || peak_tsc <= clock.start_tsc {
        0
    } else {
        clock.ns(peak_tsc - clock.start_tsc).min(clock.elapsed)
    };
    (peak, time)
}

struct ModuleWriter<'a, 'e> {
    enc: &'a mut Encoder<'e>,
    exe: &'a [u8],
    index: usize,
}

const MAX_MODULE_RANGES: usize = 16;

/// One MODULE record per loaded object: the main program first (under its real path), then every
/// object with a file; the vdso is skipped.
unsafe extern "C" fn module_record(
    info: *mut sys::DlPhdrInfo,
    _: usize,
    data: *mut c_void,
) -> c_int {
    // SAFETY: dl_iterate_phdr passes valid info; `data` is the ModuleWriter from `encode`.
    let (info, w) = unsafe { (&*info, &mut *data.cast::<ModuleWriter<'_, '_>>()) };
    let first = w.index == 0;
    w.index += 1;
    // SAFETY: the loader's NUL-terminated object name.
    let name = unsafe { object_name(info.name) };
    let path = if first {
        w.exe
    } else if name.contains(&b'/') {
        name
    } else {
        return 0;
    };
    // SAFETY: `phdr` points at `phnum` program headers of a loaded object.
    let phdrs = unsafe { core::slice::from_raw_parts(info.phdr, usize::from(info.phnum)) };
    let mut ranges = [(0u64, 0u64); MAX_MODULE_RANGES];
    let mut n = 0;
    let mut build_id: &[u8] = &[];
    for ph in phdrs {
        if ph.p_type == sys::PT_LOAD && ph.p_flags & sys::PF_X != 0 && n < MAX_MODULE_RANGES {
            let start = info.addr.wrapping_add(ph.p_vaddr);
            ranges[n] = (start, start + ph.p_memsz);
            n += 1;
        } else if ph.p_type == sys::PT_NOTE && build_id.is_empty() {
            // SAFETY: a PT_NOTE segment of a loaded object lies in its mapped, read-only data.
            build_id = unsafe { find_build_id(info.addr.wrapping_add(ph.p_vaddr), ph) };
        }
    }
    records::module(w.enc, path, info.addr, &ranges[..n], build_id);
    0
}

/// The NT_GNU_BUILD_ID descriptor in a note segment, or empty.
///
/// # Safety
/// `start..start+p_memsz` must be mapped.
unsafe fn find_build_id<'a>(start: u64, ph: &sys::Elf64Phdr) -> &'a [u8] {
    let align = if ph.p_align == 8 { 8 } else { 4 };
    let round = |x: u64| (x + align - 1) & !(align - 1);
    let end = start + ph.p_memsz;
    let mut p = start;
    while p + 12 <= end {
        let word = |off: u64| {
            // SAFETY: p + off + 4 <= end, inside the segment (checked by the loop condition).
            unsafe { ptr::read_unaligned((p + off) as *const u32) }
        };
        let (namesz, descsz, kind) = (u64::from(word(0)), u64::from(word(4)), word(8));
        let name = p + 12;
        let desc = name + round(namesz);
        let next = desc + round(descsz);
        if desc + descsz > end {
            break;
        }
        if kind == sys::NT_GNU_BUILD_ID && namesz == 4 {
            // SAFETY: name..name+4 and desc..desc+descsz are inside the segment.
            unsafe {
                if core::slice::from_raw_parts(name as *const u8, 4) == b"GNU\0" {
                    return core::slice::from_raw_parts(desc as *const u8, descsz as usize);
                }
            }
        }
        p = next;
    }
    &[]
}

/// Reads a whole (small) file into `buf`, truncating at its size.
fn read_file<'b>(path: &core::ffi::CStr, buf: &'b mut [u8]) -> &'b [u8] {
    // SAFETY: NUL-terminated path.
    let fd = unsafe { sys::open(path.as_ptr(), sys::O_RDONLY | sys::O_CLOEXEC) };
    if fd < 0 {
        return &[];
    }
    let mut len = 0;
    while len < buf.len() {
        // SAFETY: reads into the unused tail of `buf`.
        let n = unsafe { sys::read(fd, buf[len..].as_mut_ptr().cast(), buf.len() - len) };
        if n < 0 && sys::errno() == sys::EINTR {
            continue;
        }
        if n <= 0 {
            break;
        }
        len += n as usize;
    }
    // SAFETY: our descriptor.
    unsafe { sys::close(fd) };
    &buf[..len]
}

/// Concatenates `parts` plus a NUL into `out`; the length without the NUL, or `None` if too long.
fn join(out: &mut [u8], parts: &[&[u8]]) -> Option<usize> {
    let mut len = 0;
    for part in parts {
        out.get_mut(len..len + part.len())?.copy_from_slice(part);
        len += part.len();
    }
    *out.get_mut(len)? = 0;
    Some(len)
}

/// `v` in decimal, written at the end of `buf`.
pub fn decimal(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[i..];
        }
    }
}

/// Buffered `write(2)` to the profile file.
struct FdSink<'b> {
    fd: c_int,
    buf: &'b mut [u8],
    len: usize,
    ok: bool,
}

impl FdSink<'_> {
    fn flush(&mut self) -> bool {
        if self.ok && self.len > 0 {
            self.ok = write_fd(self.fd, &self.buf[..self.len]);
        }
        self.len = 0;
        self.ok
    }
}

impl Sink for FdSink<'_> {
    fn write_all(&mut self, bytes: &[u8]) -> bool {
        if self.len + bytes.len() > self.buf.len() && !self.flush() {
            return false;
        }
        if bytes.len() > self.buf.len() {
            self.ok = write_fd(self.fd, bytes);
            return self.ok;
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        self.ok
    }
}

fn write_fd(fd: c_int, mut data: &[u8]) -> bool {
    while !data.is_empty() {
        // SAFETY: writes from a live slice.
        let n = unsafe { sys::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 && sys::errno() == sys::EINTR {
            continue;
        }
        if n <= 0 {
            return false;
        }
        data = &data[n as usize..];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_and_join() {
        let mut buf = [0u8; 20];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(4_294_967_295, &mut buf), b"4294967295");
        assert_eq!(decimal(u64::MAX, &mut buf), b"18446744073709551615");
        let mut out = [0xAAu8; 16];
        assert_eq!(join(&mut out, &[b"/d", b"/x-", b"12"]), Some(7));
        assert_eq!(&out[..8], b"/d/x-12\0");
        assert_eq!(join(&mut out, &[&[b'a'; 16]]), None);
    }

    #[test]
    fn no_stack_marker_matches_the_format() {
        assert_eq!(NO_STACK, u32::MAX);
    }
}
