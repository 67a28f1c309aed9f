//! Writing the raw profile, once per process, at exit.
//!
//! The file appears atomically: `<dir>/.<exe>-<pid>.aprof.tmp` is created exclusively (mode 0600, no
//! symlink followed), written, then renamed to `<dir>/<exe>-<pid>.aprof` (before an exec,
//! `<exe>-<pid>-<start ns>.aprof`, since the new image keeps the pid). A writer killed midway
//! leaves only the hidden temporary file. Nothing is allocated with malloc: buffers are mmap'd, and
//! the format crate's encoder writes through our `write(2)` sink.

use core::ffi::c_int;
use core::sync::atomic::{AtomicBool, Ordering};

use alloc_profile_format::{end_reason, Encoder, Sink};

use crate::config::{self, PID, START_REAL_NS};
use crate::guard;
use crate::pool;
use crate::state::{Forced, ACTIVE, STATE};
use crate::sync::SyncCell;
use crate::sys;

mod encode;

const PATH_MAX: usize = config::MAX_DIR + 512;
const EXE_MAX: usize = 4096;
const CMDLINE_MAX: usize = 256 * 1024;
const OUT_BUF: usize = 64 * 1024;
const SCRATCH: usize = 2 * PATH_MAX + EXE_MAX + CMDLINE_MAX + OUT_BUF;
/// Names tried for the temporary file and for the profile (see `write_to`).
const NAME_ATTEMPTS: usize = 8;

/// Whether the profile was (being) written; only the first call of [`write`] writes.
static WRITTEN: AtomicBool = AtomicBool::new(false);
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
    pool::for_each(|c| {
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
    guard::freeze(forced.tls().counters.get(), lock_yields);
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
    let pid_text = sys::decimal(u64::from(pid), &mut digits);
    // Before an exec the pid lives on in the new image, which may be the same executable: the
    // image's start time keeps the names apart (`<exe>-<pid>-<start ns>.aprof`).
    let mut start_digits = [0u8; 20];
    let start_text: &[u8] = if reason == end_reason::EXEC {
        sys::decimal(START_REAL_NS.load(Ordering::Relaxed), &mut start_digits)
    } else {
        &[]
    };
    let dash: &[u8] = if start_text.is_empty() { b"" } else { b"-" };
    let dir = config::out_dir();
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
        encode::encode(&mut enc, reason, detail, lock_yields, pid, exe, cmdline);
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
        assert_eq!(sys::decimal(0, &mut buf), b"0");
        assert_eq!(sys::decimal(4_294_967_295, &mut buf), b"4294967295");
        assert_eq!(sys::decimal(u64::MAX, &mut buf), b"18446744073709551615");
        let mut out = [0xAAu8; 16];
        assert_eq!(join(&mut out, &[b"/d", b"/x-", b"12"]), Some(7));
        assert_eq!(&out[..8], b"/d/x-12\0");
        assert_eq!(join(&mut out, &[&[b'a'; 16]]), None);
    }

    #[test]
    fn tool_version_matches_the_package() {
        assert_eq!(encode::TOOL_VERSION, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn no_stack_marker_matches_the_format() {
        assert_eq!(alloc_profile_format::NO_STACK, u32::MAX);
    }
}
