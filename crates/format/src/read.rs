//! Decoding a raw profile file into a [`RawProfile`].

use std::fmt;

use crate::raw::{tag, End, Header, Module, SiteCounters, Stack, Thread, MAGIC, VERSION};

/// Everything one process wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawProfile {
    pub header: Header,
    pub modules: Vec<Module>,
    pub threads: Vec<Thread>,
    /// Interned stacks; `stacks[i].id == i` is not guaranteed, look them up by id.
    pub stacks: Vec<Stack>,
    pub sites: Vec<SiteCounters>,
    /// `(stack id, bytes)` live from that stack when the process-wide peak was reached.
    pub peak_sites: Vec<(u32, u64)>,
    /// Size histograms: stack id → `counts[bucket]` (see [`crate::size_bucket`]).
    pub sizes: Vec<(u32, [u64; crate::raw::SIZE_BUCKETS])>,
    pub end: End,
}

/// Why a file could not be read. Offsets are byte offsets into the file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadError {
    /// The file does not start with the raw-profile magic: it is something else.
    NotAProfile,
    /// Written by a different version of the interposer.
    UnsupportedVersion { found: u32, supported: u32 },
    /// The file ends in the middle of a record, or has no end record.
    Truncated { offset: usize },
    /// A record's contents do not make sense.
    Malformed { offset: usize, what: &'static str },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotAProfile => {
                write!(
                    f,
                    "not a cargo-alloc-profile raw profile (wrong magic bytes)"
                )
            }
            ReadError::UnsupportedVersion { found, supported } => write!(
                f,
                "raw profile format version {found} is not supported by this build (it reads \
                 version {supported}); use the cargo-alloc-profile that wrote it"
            ),
            ReadError::Truncated { offset } => write!(
                f,
                "raw profile is truncated at byte {offset} (the process was probably killed while \
                 writing it)"
            ),
            ReadError::Malformed { offset, what } => {
                write!(f, "raw profile is corrupt at byte {offset}: {what}")
            }
        }
    }
}

impl std::error::Error for ReadError {}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    /// Offset of `data[0]` in the file, for error messages.
    base: usize,
}

impl<'a> Cursor<'a> {
    fn truncated(&self) -> ReadError {
        ReadError::Truncated {
            offset: self.base + self.pos,
        }
    }

    fn malformed(&self, what: &'static str) -> ReadError {
        ReadError::Malformed {
            offset: self.base + self.pos,
            what,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ReadError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.data.len())
            .ok_or_else(|| self.truncated())?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn uint(&mut self) -> Result<u64, ReadError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.data.get(self.pos).ok_or_else(|| self.truncated())?;
            self.pos += 1;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(self.malformed("integer does not fit in 64 bits"));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.malformed("integer longer than 10 bytes"))
    }

    fn u32(&mut self) -> Result<u32, ReadError> {
        let v = self.uint()?;
        u32::try_from(v).map_err(|_| self.malformed("value does not fit in 32 bits"))
    }

    fn int(&mut self) -> Result<i64, ReadError> {
        let v = self.uint()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    fn count(&mut self, min_item_size: usize) -> Result<usize, ReadError> {
        let n = self.uint()?;
        // A count larger than the bytes left cannot be honest; refuse it before allocating.
        let left = (self.data.len() - self.pos) as u64;
        if n.saturating_mul(min_item_size as u64) > left {
            return Err(self.malformed("element count larger than the record"));
        }
        Ok(n as usize)
    }

    fn bytes(&mut self) -> Result<&'a [u8], ReadError> {
        let n = self.count(1)?;
        self.take(n)
    }

    fn string(&mut self) -> Result<String, ReadError> {
        Ok(String::from_utf8_lossy(self.bytes()?).into_owned())
    }
}

/// Decodes a whole raw profile.
///
/// # Errors
/// See [`ReadError`]: foreign files, other versions, truncated or corrupt files.
pub fn read(data: &[u8]) -> Result<RawProfile, ReadError> {
    if data.len() < MAGIC.len() || data[..MAGIC.len()] != MAGIC {
        return Err(if data.is_empty() || MAGIC.starts_with(data) {
            ReadError::Truncated { offset: data.len() }
        } else {
            ReadError::NotAProfile
        });
    }
    let mut cur = Cursor {
        data,
        pos: MAGIC.len(),
        base: 0,
    };
    let version = u32::from_le_bytes(cur.take(4)?.try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(ReadError::UnsupportedVersion {
            found: version,
            supported: VERSION,
        });
    }
    let mut profile = RawProfile::default();
    let mut saw_header = false;
    let mut saw_end = false;
    while cur.pos < data.len() {
        if saw_end {
            return Err(cur.malformed("data after the end record"));
        }
        let tag = cur.take(1)?[0];
        let len = cur.uint()?;
        let len = usize::try_from(len).map_err(|_| cur.truncated())?;
        let start = cur.pos;
        let payload = cur.take(len)?;
        let mut rec = Cursor {
            data: payload,
            pos: 0,
            base: start,
        };
        match tag {
            tag::HEADER => {
                profile.header = Header {
                    tool_version: rec.string()?,
                    pid: rec.u32()?,
                    ppid: rec.u32()?,
                    start_unix_ns: rec.uint()?,
                    exe: rec.string()?,
                    args: split_cmdline(rec.bytes()?),
                };
                saw_header = true;
            }
            tag::MODULE => {
                let path = rec.string()?;
                let bias = rec.uint()?;
                let n = rec.count(2)?;
                let mut ranges = Vec::with_capacity(n);
                for _ in 0..n {
                    let start = rec.uint()?;
                    let end = rec.uint()?;
                    if end < start {
                        return Err(rec.malformed("module range ends before it starts"));
                    }
                    ranges.push((start, end));
                }
                let build_id = rec.bytes()?.to_vec();
                profile.modules.push(Module {
                    path,
                    bias,
                    ranges,
                    build_id,
                });
            }
            tag::THREAD => profile.threads.push(Thread {
                index: rec.u32()?,
                tid: rec.u32()?,
                name: rec.string()?,
                spawn_stack: rec.u32()?,
            }),
            tag::STACK => {
                let id = rec.u32()?;
                let parent = rec.u32()?;
                let flags = rec.u32()?;
                let n = rec.count(1)?;
                let mut frames = Vec::with_capacity(n);
                for _ in 0..n {
                    frames.push(rec.uint()?);
                }
                profile.stacks.push(Stack {
                    id,
                    parent,
                    flags,
                    frames,
                });
            }
            tag::SITE => {
                let mut site = SiteCounters {
                    stack: rec.u32()?,
                    allocations: rec.uint()?,
                    reallocations: rec.uint()?,
                    bytes: rec.uint()?,
                    frees: rec.uint()?,
                    freed_bytes: rec.uint()?,
                    live_allocations: rec.uint()?,
                    live_bytes: rec.uint()?,
                    max_size: rec.uint()?,
                    ..SiteCounters::default()
                };
                // Fields appended later in version 1; absent in older files.
                if rec.pos < rec.data.len() {
                    site.lifetime_sum_ns = rec.uint()?;
                    site.lifetime_max_ns = rec.uint()?;
                    site.temporary = rec.uint()?;
                    site.growth_chains = rec.uint()?;
                    site.growth_reallocs = rec.uint()?;
                    site.growth_max_reallocs = rec.uint()?;
                    site.growth_max_final = rec.uint()?;
                }
                if rec.pos < rec.data.len() {
                    site.thread_live_high = rec.uint()?;
                    site.thread_live_low = rec.uint()?;
                }
                profile.sites.push(site);
            }
            tag::SIZES => {
                let stack = rec.u32()?;
                let mut counts = [0u64; crate::raw::SIZE_BUCKETS];
                while rec.pos < rec.data.len() {
                    let bucket = rec.uint()?;
                    let count = rec.uint()?;
                    let slot = usize::try_from(bucket)
                        .ok()
                        .and_then(|b| counts.get_mut(b))
                        .ok_or_else(|| rec.malformed("size bucket out of range"))?;
                    *slot = count;
                }
                profile.sizes.push((stack, counts));
            }
            tag::PEAK_SITE => profile.peak_sites.push((rec.u32()?, rec.uint()?)),
            tag::END => {
                profile.end = End {
                    reason: rec.u32()?,
                    detail: i32::try_from(rec.int()?)
                        .map_err(|_| rec.malformed("exit detail out of range"))?,
                    elapsed_ns: rec.uint()?,
                    peak_bytes: rec.uint()?,
                    peak_time_ns: rec.uint()?,
                    unattributed: rec.uint()?,
                    allocations: rec.uint()?,
                    flags: 0,
                };
                if rec.pos < rec.data.len() {
                    profile.end.flags = rec.u32()?;
                }
                saw_end = true;
            }
            _ => {} // A record from a later version: skip it.
        }
    }
    if !saw_header {
        return Err(cur.malformed("no header record"));
    }
    if !saw_end {
        return Err(ReadError::Truncated { offset: data.len() });
    }
    check_references(&profile)?;
    Ok(profile)
}

fn split_cmdline(raw: &[u8]) -> Vec<String> {
    let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// Every stack id a record mentions must exist, and parent links must not loop.
fn check_references(profile: &RawProfile) -> Result<(), ReadError> {
    use std::collections::HashMap;
    let bad = |what| ReadError::Malformed { offset: 0, what };
    let by_id: HashMap<u32, &Stack> = profile.stacks.iter().map(|s| (s.id, s)).collect();
    if by_id.len() != profile.stacks.len() {
        return Err(bad("two stacks share an id"));
    }
    let exists = |id: u32| id == crate::raw::NO_STACK || by_id.contains_key(&id);
    for stack in &profile.stacks {
        let mut depth = 0usize;
        let mut cur = stack.parent;
        while cur != crate::raw::NO_STACK {
            depth += 1;
            if depth > by_id.len() {
                return Err(bad("stack parents form a loop"));
            }
            cur = by_id
                .get(&cur)
                .ok_or_else(|| bad("unknown parent stack"))?
                .parent;
        }
    }
    for site in &profile.sites {
        if !by_id.contains_key(&site.stack) {
            return Err(bad("site refers to an unknown stack"));
        }
    }
    if !profile.threads.iter().all(|t| exists(t.spawn_stack))
        || !profile
            .peak_sites
            .iter()
            .all(|&(id, _)| by_id.contains_key(&id))
    {
        return Err(bad("record refers to an unknown stack"));
    }
    Ok(())
}

impl RawProfile {
    /// Encodes this profile exactly as the interposer would have written it.
    pub fn to_bytes(&self) -> Vec<u8> {
        use crate::records;
        let mut out = Vec::new();
        let mut enc = crate::Encoder::new(&mut out);
        enc.file_header();
        let h = &self.header;
        let mut cmdline = Vec::new();
        for arg in &h.args {
            cmdline.extend_from_slice(arg.as_bytes());
            cmdline.push(0);
        }
        records::header(
            &mut enc,
            h.tool_version.as_bytes(),
            h.pid,
            h.ppid,
            h.start_unix_ns,
            h.exe.as_bytes(),
            &cmdline,
        );
        for m in &self.modules {
            records::module(&mut enc, m.path.as_bytes(), m.bias, &m.ranges, &m.build_id);
        }
        for t in &self.threads {
            records::thread(&mut enc, t.index, t.tid, t.name.as_bytes(), t.spawn_stack);
        }
        for s in &self.stacks {
            records::stack(&mut enc, s.id, s.parent, s.flags, &s.frames);
        }
        for s in &self.sites {
            records::site(&mut enc, s);
        }
        for &(stack, bytes) in &self.peak_sites {
            records::peak_site(&mut enc, stack, bytes);
        }
        for (stack, counts) in &self.sizes {
            records::sizes(&mut enc, *stack, counts);
        }
        records::end(&mut enc, &self.end);
        out
    }

    /// The stack with this id.
    pub fn stack(&self, id: u32) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.id == id)
    }
}
