//! The profile's records, in the order the format wants them: header, modules, threads, the
//! stacks something refers to, sites with their size histograms, live bytes per site at the peak,
//! and the END record. Everything is read from the core (counters merged over all threads, the live
//! table, interned stacks) after the writer froze the state; nothing is allocated (the merged sites
//! are an mmap'd array).

use core::ffi::{c_int, c_void};
use core::ptr;
use core::sync::atomic::Ordering;

use alloc_profile_format::{end_flags, records, Encoder, End, SiteCounters, NO_STACK};

use crate::chains;
use crate::config::{START_MONO_NS, START_REAL_NS, START_TSC};
use crate::counters::Totals;
use crate::peak::{self, Highest};
use crate::pool;
use crate::record::{LIFETIMES, LIVE_BLOCKS, STACKS, UNATTRIBUTED};
use crate::{sys, threads};

/// The interposer's version, written into every profile header (`env!("CARGO_PKG_VERSION")` is not
/// available under the plain-rustc build, so it is kept here and checked against Cargo.toml by a test).
pub const TOOL_VERSION: &str = "0.1.0";

/// Marks a kept stack in the merged site array (any value but the zero of a fresh mapping).
const KEPT: u32 = 1;

/// Writes every record of the profile (see the module docs).
pub fn encode(
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
        START_REAL_NS.load(Ordering::Relaxed),
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
    // The snapshot of a peak that no free followed.
    pool::for_each(|c| peak::snapshot_pending(&c.live, pool::snapshot_all));
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
            flags: if LIFETIMES.load(Ordering::Relaxed) {
                end_flags::LIFETIMES
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
            thread_live_high: t.thread_high,
            thread_live_low: if t.thread_high == 0 {
                0
            } else {
                !t.thread_low_inv
            },
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
    pool::for_each(|c| {
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
            chains::end_at_exit(&mut m.totals, b);
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
            start_tsc: START_TSC.load(Ordering::Relaxed),
            end_tsc: sys::rdtsc(),
            elapsed: sys::clock_ns(sys::CLOCK_MONOTONIC)
                .saturating_sub(START_MONO_NS.load(Ordering::Relaxed)),
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
    let mut highest = Highest::default();
    pool::for_each(|c| highest.add(&c.live));
    let (peak, peak_tsc) = (highest.bytes, highest.tsc);
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
    let name = unsafe { sys::c_str(info.name) };
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
