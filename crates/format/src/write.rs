//! Allocation-free writer. The preload library drives it from its exit handler, where the heap may
//! not be usable, so everything here works on borrowed slices and a caller-provided [`Sink`].

/// Where encoded bytes go. Returns `false` when the bytes could not be written; the encoder then
/// stops writing and remembers the failure.
pub trait Sink {
    fn write_all(&mut self, bytes: &[u8]) -> bool;
}

/// A sink that only counts, used to learn a record's payload length before writing it.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingSink(pub u64);

impl Sink for CountingSink {
    fn write_all(&mut self, bytes: &[u8]) -> bool {
        self.0 += bytes.len() as u64;
        true
    }
}

#[cfg(feature = "std")]
impl Sink for Vec<u8> {
    fn write_all(&mut self, bytes: &[u8]) -> bool {
        self.extend_from_slice(bytes);
        true
    }
}

/// Encodes primitives and records into a [`Sink`].
pub struct Encoder<'a> {
    sink: &'a mut dyn Sink,
    ok: bool,
}

impl<'a> Encoder<'a> {
    pub fn new(sink: &'a mut dyn Sink) -> Self {
        Self { sink, ok: true }
    }

    /// Whether every write so far succeeded.
    pub fn ok(&self) -> bool {
        self.ok
    }

    pub fn raw(&mut self, bytes: &[u8]) {
        if self.ok {
            self.ok = self.sink.write_all(bytes);
        }
    }

    /// Magic and version: the start of every file.
    pub fn file_header(&mut self) {
        self.raw(&crate::raw::MAGIC);
        self.raw(&crate::raw::VERSION.to_le_bytes());
    }

    /// Unsigned LEB128.
    pub fn uint(&mut self, mut value: u64) {
        let mut buf = [0u8; 10];
        let mut n = 0;
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                buf[n] = byte;
                n += 1;
                break;
            }
            buf[n] = byte | 0x80;
            n += 1;
        }
        self.raw(&buf[..n]);
    }

    /// Signed value, zig-zag encoded.
    pub fn int(&mut self, value: i64) {
        self.uint(((value << 1) ^ (value >> 63)) as u64);
    }

    /// Length-prefixed bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.uint(bytes.len() as u64);
        self.raw(bytes);
    }

    /// Writes one record: `body` is called twice, first to measure the payload, then to write it,
    /// so it must write the same bytes both times.
    pub fn record(&mut self, tag: u8, mut body: impl FnMut(&mut Encoder<'_>)) {
        let mut counter = CountingSink(0);
        body(&mut Encoder::new(&mut counter));
        self.raw(&[tag]);
        self.uint(counter.0);
        if self.ok {
            let mut real = Encoder::new(&mut *self.sink);
            body(&mut real);
            self.ok = real.ok;
        }
    }
}

/// Record encoders. The reader in `read.rs` decodes fields in exactly this order; new fields go at
/// the end of a record.
pub mod records {
    use super::Encoder;
    use crate::raw::{tag, End, SiteCounters};

    /// `cmdline` is NUL-separated, as in `/proc/self/cmdline`.
    pub fn header(
        enc: &mut Encoder<'_>,
        tool_version: &[u8],
        pid: u32,
        ppid: u32,
        start_unix_ns: u64,
        exe: &[u8],
        cmdline: &[u8],
    ) {
        enc.record(tag::HEADER, |e| {
            e.bytes(tool_version);
            e.uint(u64::from(pid));
            e.uint(u64::from(ppid));
            e.uint(start_unix_ns);
            e.bytes(exe);
            e.bytes(cmdline);
        });
    }

    pub fn module(
        enc: &mut Encoder<'_>,
        path: &[u8],
        bias: u64,
        ranges: &[(u64, u64)],
        build_id: &[u8],
    ) {
        enc.record(tag::MODULE, |e| {
            e.bytes(path);
            e.uint(bias);
            e.uint(ranges.len() as u64);
            for &(start, end) in ranges {
                e.uint(start);
                e.uint(end);
            }
            e.bytes(build_id);
        });
    }

    pub fn thread(enc: &mut Encoder<'_>, index: u32, tid: u32, name: &[u8], spawn_stack: u32) {
        enc.record(tag::THREAD, |e| {
            e.uint(u64::from(index));
            e.uint(u64::from(tid));
            e.bytes(name);
            e.uint(u64::from(spawn_stack));
        });
    }

    pub fn stack(enc: &mut Encoder<'_>, id: u32, parent: u32, flags: u32, frames: &[u64]) {
        enc.record(tag::STACK, |e| {
            e.uint(u64::from(id));
            e.uint(u64::from(parent));
            e.uint(u64::from(flags));
            e.uint(frames.len() as u64);
            for &frame in frames {
                e.uint(frame);
            }
        });
    }

    pub fn site(enc: &mut Encoder<'_>, site: &SiteCounters) {
        enc.record(tag::SITE, |e| {
            e.uint(u64::from(site.stack));
            e.uint(site.allocations);
            e.uint(site.reallocations);
            e.uint(site.bytes);
            e.uint(site.frees);
            e.uint(site.freed_bytes);
            e.uint(site.live_allocations);
            e.uint(site.live_bytes);
            e.uint(site.max_size);
            e.uint(site.lifetime_sum_ns);
            e.uint(site.lifetime_max_ns);
            e.uint(site.temporary);
            e.uint(site.growth_chains);
            e.uint(site.growth_reallocs);
            e.uint(site.growth_max_reallocs);
            e.uint(site.growth_max_final);
            e.uint(site.thread_live_high);
            e.uint(site.thread_live_low);
        });
    }

    /// `counts[b]` is the number of requests in bucket `b`; empty buckets are not written.
    pub fn sizes(enc: &mut Encoder<'_>, stack: u32, counts: &[u64]) {
        enc.record(tag::SIZES, |e| {
            e.uint(u64::from(stack));
            for (bucket, &count) in counts.iter().enumerate() {
                if count > 0 {
                    e.uint(bucket as u64);
                    e.uint(count);
                }
            }
        });
    }

    pub fn peak_site(enc: &mut Encoder<'_>, stack: u32, bytes: u64) {
        enc.record(tag::PEAK_SITE, |e| {
            e.uint(u64::from(stack));
            e.uint(bytes);
        });
    }

    pub fn end(enc: &mut Encoder<'_>, end: &End) {
        enc.record(tag::END, |e| {
            e.uint(u64::from(end.reason));
            e.int(i64::from(end.detail));
            e.uint(end.elapsed_ns);
            e.uint(end.peak_bytes);
            e.uint(end.peak_time_ns);
            e.uint(end.unattributed);
            e.uint(end.allocations);
            e.uint(u64::from(end.flags));
        });
    }
}
