//! Writing the raw profile, once per process, at exit.
//!
//! The file appears atomically: `<dir>/.<exe>-<pid>.aprof.tmp` is created exclusively (mode 0600, no
//! symlink followed), written, then renamed to `<dir>/<exe>-<pid>.aprof`. A writer killed midway
//! leaves only the hidden temporary file. Nothing is allocated with malloc: buffers are mmap'd, and
//! the format crate's encoder writes through our `write(2)` sink.

use core::ffi::{c_int, c_void};
use core::ptr;
use core::sync::atomic::Ordering;

use alloc_profile_format::{records, Encoder, End, Sink, Site, NO_STACK};

use crate::capture::object_name;
use crate::counters::Totals;
use crate::runtime::{
    self, Forced, ACTIVE, FROZEN, LIVE_BLOCKS, PID, STACKS, STATE, UNATTRIBUTED, WRITTEN,
};
use crate::{sys, threads, TOOL_VERSION};

const PATH_MAX: usize = runtime::MAX_DIR + 512;
const EXE_MAX: usize = 4096;
const CMDLINE_MAX: usize = 256 * 1024;
const OUT_BUF: usize = 64 * 1024;
/// Marks a kept stack in the merged site array (any value but the zero of a fresh mapping).
const KEPT: u32 = 1;
const SCRATCH: usize = 2 * PATH_MAX + EXE_MAX + CMDLINE_MAX + OUT_BUF;

/// Writes the profile with the given END reason and detail, unless it was written already, the
/// library is not active, or this is not the process that owns the state (a `vfork` child shares our
/// memory but not our pid).
pub fn write(reason: u32, detail: i32) {
    if STATE.load(Ordering::Acquire) != ACTIVE {
        return;
    }
    let _forced = Forced::new();
    // SAFETY: no preconditions.
    if unsafe { sys::getpid() } != PID.load(Ordering::Relaxed) {
        return;
    }
    if WRITTEN.swap(true, Ordering::AcqRel) {
        return;
    }
    // From here on other threads' hooks pass through unrecorded.
    STATE.store(FROZEN, Ordering::Release);
    let _errno = sys::SavedErrno::new();
    let Some(scratch) = sys::map(SCRATCH) else {
        return;
    };
    // SAFETY: a fresh mapping of SCRATCH bytes, split into disjoint buffers.
    let (tmp, rest) = unsafe { core::slice::from_raw_parts_mut(scratch.as_ptr(), SCRATCH) }
        .split_at_mut(PATH_MAX);
    let (dst, rest) = rest.split_at_mut(PATH_MAX);
    let (exe_buf, rest) = rest.split_at_mut(EXE_MAX);
    let (cmdline_buf, out_buf) = rest.split_at_mut(CMDLINE_MAX);
    write_to(reason, detail, tmp, dst, exe_buf, cmdline_buf, out_buf);
    // SAFETY: nothing refers to the scratch mapping any more.
    unsafe { sys::unmap(scratch.as_ptr(), SCRATCH) };
}

fn write_to(
    reason: u32,
    detail: i32,
    tmp: &mut [u8],
    dst: &mut [u8],
    exe_buf: &mut [u8],
    cmdline_buf: &mut [u8],
    out_buf: &mut [u8],
) {
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
    let mut digits = [0u8; 10];
    let pid_text = decimal(pid, &mut digits);
    let dir = runtime::out_dir();
    let (Some(tmp_len), Some(_)) = (
        join(tmp, &[dir, b"/.", base, b"-", pid_text, b".aprof.tmp"]),
        join(dst, &[dir, b"/", base, b"-", pid_text, b".aprof"]),
    ) else {
        return;
    };
    let _ = tmp_len;
    // SAFETY: NUL-terminated path; flags and mode as documented in the module docs.
    let fd = unsafe {
        sys::open(
            tmp.as_ptr().cast(),
            sys::O_CREAT | sys::O_EXCL | sys::O_WRONLY | sys::O_NOFOLLOW | sys::O_CLOEXEC,
            0o600 as core::ffi::c_uint,
        )
    };
    if fd < 0 {
        return;
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
        encode(&mut enc, reason, detail, pid, exe, cmdline);
        enc.ok()
    };
    let ok = ok && sink.flush();
    // SAFETY: our descriptor.
    let closed = unsafe { sys::close(fd) } == 0;
    // SAFETY: NUL-terminated paths of our own making.
    unsafe {
        if ok && closed {
            sys::rename(tmp.as_ptr().cast(), dst.as_ptr().cast());
        } else {
            sys::unlink(tmp.as_ptr().cast());
        }
    }
}

fn encode(enc: &mut Encoder<'_>, reason: u32, detail: i32, pid: u32, exe: &[u8], cmdline: &[u8]) {
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
    let mut sites = merge_sites(count);

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
    // (A fork child inherits the parent's interned stacks; most are not its own.) `Site::stack` of
    // the merged array marks the kept ones until the sites are written.
    if let Some(sites) = sites.as_deref_mut() {
        for index in 0..threads::count() {
            if let Some(t) = threads::get(index) {
                keep(sites, spawn_stack(t));
            }
        }
        for id in 0..count {
            let site = &sites[id as usize];
            if site.allocations != 0 || site.frees != 0 || site.live_allocations != 0 {
                keep(sites, id);
            }
        }
    }
    for id in 0..count {
        let kept = sites
            .as_deref()
            .is_none_or(|s| s[id as usize].stack == KEPT);
        if let (true, Some(rec)) = (kept, STACKS.get(id)) {
            records::stack(enc, id, rec.parent, rec.flags, rec.frames());
        }
    }

    let mut total = 0u64;
    if let Some(sites) = sites {
        for (id, site) in sites.iter().enumerate() {
            if site.allocations != 0 || site.frees != 0 || site.live_allocations != 0 {
                let site = Site {
                    stack: id as u32,
                    ..*site
                };
                records::site(enc, &site);
                total += site.allocations;
            }
        }
        // SAFETY: the mapping made by merge_sites, no longer used.
        unsafe {
            sys::unmap(
                sites.as_mut_ptr().cast(),
                core::mem::size_of_val(sites).max(core::mem::size_of::<Site>()),
            );
        }
    }

    let unattributed = UNATTRIBUTED.load(Ordering::Relaxed);
    let (peak_bytes, peak_time_ns, elapsed_ns) = peak_and_elapsed();
    records::end(
        enc,
        &End {
            reason,
            detail,
            elapsed_ns,
            peak_bytes,
            peak_time_ns,
            unattributed,
            allocations: total + unattributed,
        },
    );
}

/// Marks `id` and its parents as kept (see `encode`).
fn keep(sites: &mut [Site], mut id: u32) {
    while let Some(site) = sites.get_mut(id as usize) {
        if site.stack == KEPT {
            break;
        }
        site.stack = KEPT;
        id = STACKS.get(id).map_or(NO_STACK, |rec| rec.parent);
    }
}

/// Sums every thread's counters per stack and adds the live table; indexed by stack id. The array is
/// mmap'd (`Site` is plain data, so zeroed memory is a valid empty site).
fn merge_sites(count: u32) -> Option<&'static mut [Site]> {
    let n = count as usize;
    let mem = sys::map(n.max(1) * core::mem::size_of::<Site>())?;
    // SAFETY: zeroed mapping of n Sites; Site is integers only.
    let sites = unsafe { core::slice::from_raw_parts_mut(mem.as_ptr().cast::<Site>(), n) };
    runtime::for_each_counters(|c| {
        c.for_each(|rec, t: Totals| {
            if let Some(s) = sites.get_mut(rec.id as usize) {
                s.allocations += t.allocations;
                s.reallocations += t.reallocations;
                s.bytes += t.bytes;
                s.frees += t.frees;
                s.freed_bytes += t.freed_bytes;
                s.max_size = s.max_size.max(t.max_size);
            }
        });
    });
    LIVE_BLOCKS.for_each(|rec, size| {
        if let Some(s) = sites.get_mut(rec.id as usize) {
            s.live_allocations += 1;
            s.live_bytes += size as u64;
        }
    });
    Some(sites)
}

/// (peak bytes, peak time ns since start, elapsed ns): the highest live-bytes value any thread saw,
/// its time-stamp counter converted with the start and end clock readings.
fn peak_and_elapsed() -> (u64, u64, u64) {
    let (mut peak, mut peak_tsc) = (0u64, 0u64);
    runtime::for_each_counters(|c| {
        let (bytes, tsc) = c.peak();
        if bytes > peak || (bytes == peak && tsc < peak_tsc) {
            (peak, peak_tsc) = (bytes, tsc);
        }
    });
    let end_tsc = sys::rdtsc();
    let elapsed = sys::clock_ns(sys::CLOCK_MONOTONIC)
        .saturating_sub(runtime::START_MONO_NS.load(Ordering::Relaxed));
    let start_tsc = runtime::START_TSC.load(Ordering::Relaxed);
    let time = if peak == 0 || peak_tsc <= start_tsc || end_tsc <= start_tsc {
        0
    } else {
        let t = u128::from(peak_tsc - start_tsc) * u128::from(elapsed)
            / u128::from(end_tsc - start_tsc);
        (t as u64).min(elapsed)
    };
    (peak, time, elapsed)
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

fn decimal(mut v: u32, buf: &mut [u8; 10]) -> &[u8] {
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
        let mut buf = [0u8; 10];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(4_294_967_295, &mut buf), b"4294967295");
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
