//! pprof's `profile.proto`, gzipped: what `go tool pprof`, speedscope, Pyroscope and Grafana read.
//!
//! Samples are the [stacks](super::folded) of the other views, each with four values: sample types
//! `alloc_objects`/count, `alloc_space`/bytes (the report's allocations and bytes),
//! `inuse_objects`/count and `inuse_space`/bytes (what was still live at exit). Counts are exact:
//! period 1, nothing to scale. A location is one call site: a frame with the frames inlined into
//! it, innermost first, as pprof's `Line` list has them; a mapping is one object file. The
//! symbolized profile keeps no addresses, so locations have address 0 and mappings no ranges.
//!
//! The protobuf encoding is written here by hand (varints, length-delimited fields, packed
//! repeated integers): the whole schema used is five small messages, so a code generator would
//! bring more than it saves.

use std::collections::HashMap;
use std::io::{self, Write};

use alloc_profile_format::symbolized::{Frame, Profile};
use flate2::write::GzEncoder;
use flate2::Compression;

use super::folded::{frame_name, StackPath};

/// A protobuf message being written.
#[derive(Default)]
struct Message(Vec<u8>);

impl Message {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u8) {
        self.varint(u64::from(field) << 3 | u64::from(wire));
    }

    /// An integer field (`int64`, `uint64`, `bool`); zero is the default and left out.
    fn int(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.key(field, 0);
            self.varint(v);
        }
    }

    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    fn message(&mut self, field: u32, m: &Message) {
        self.bytes(field, &m.0);
    }

    fn packed(&mut self, field: u32, values: &[u64]) {
        let mut m = Message::default();
        for &v in values {
            m.varint(v);
        }
        self.bytes(field, &m.0);
    }
}

/// The string table: index 0 is the empty string.
struct Strings {
    list: Vec<String>,
    index: HashMap<String, u64>,
}

impl Strings {
    fn new() -> Self {
        Strings {
            list: vec![String::new()],
            index: HashMap::from([(String::new(), 0)]),
        }
    }

    fn get(&mut self, s: &str) -> u64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.list.len() as u64;
        self.list.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }
}

/// A function of the table: name and file.
#[derive(PartialEq, Eq, Hash, Clone)]
struct FunctionKey {
    name: String,
    file: String,
}

/// A location of the table: its (function, line) list, innermost first, and its object.
#[derive(PartialEq, Eq, Hash, Clone)]
struct LocationKey {
    lines: Vec<(u64, u32)>,
    object: String,
}

struct Tables {
    strings: Strings,
    functions: Vec<FunctionKey>,
    function_ids: HashMap<FunctionKey, u64>,
    locations: Vec<(LocationKey, u64)>,
    location_ids: HashMap<LocationKey, u64>,
    mappings: Vec<String>,
    mapping_ids: HashMap<String, u64>,
}

impl Tables {
    fn function(&mut self, name: String, file: String) -> u64 {
        let key = FunctionKey { name, file };
        if let Some(&id) = self.function_ids.get(&key) {
            return id;
        }
        self.functions.push(key.clone());
        let id = self.functions.len() as u64;
        self.function_ids.insert(key, id);
        id
    }

    fn mapping(&mut self, object: &str) -> u64 {
        if object.is_empty() {
            return 0;
        }
        if let Some(&id) = self.mapping_ids.get(object) {
            return id;
        }
        self.mappings.push(object.to_owned());
        let id = self.mappings.len() as u64;
        self.mapping_ids.insert(object.to_owned(), id);
        id
    }

    fn location(&mut self, key: LocationKey) -> u64 {
        if let Some(&id) = self.location_ids.get(&key) {
            return id;
        }
        let mapping = self.mapping(&key.object);
        let id = self.locations.len() as u64 + 1;
        self.locations.push((key.clone(), mapping));
        self.location_ids.insert(key, id);
        id
    }

    /// The locations of `frames` (innermost first): a frame and the frames inlined into it are
    /// one location.
    fn locations_of(&mut self, frames: &[&Frame]) -> Vec<u64> {
        let mut out = Vec::new();
        let mut lines = Vec::new();
        for frame in frames {
            let file = frame.file.clone().unwrap_or_default();
            let function = self.function(frame_name(frame), file);
            lines.push((function, frame.line.unwrap_or(0)));
            if !frame.inlined {
                let key = LocationKey {
                    lines: std::mem::take(&mut lines),
                    object: frame.object.clone(),
                };
                out.push(self.location(key));
            }
        }
        if !lines.is_empty() {
            let object = frames.last().map(|f| f.object.clone()).unwrap_or_default();
            out.push(self.location(LocationKey { lines, object }));
        }
        out
    }

    /// A location of its own for a name outside the frames (a test, a pseudo-module).
    fn pseudo(&mut self, name: &str) -> u64 {
        let function = self.function(name.to_owned(), String::new());
        self.location(LocationKey {
            lines: vec![(function, 0)],
            object: String::new(),
        })
    }
}

/// Writes `stacks` of `profile` as a gzipped pprof profile.
///
/// # Errors
/// Only those of `out`.
pub fn write_pprof(
    out: &mut impl Write,
    profile: &Profile,
    stacks: &[StackPath<'_>],
) -> io::Result<()> {
    let mut t = Tables {
        strings: Strings::new(),
        functions: Vec::new(),
        function_ids: HashMap::new(),
        locations: Vec::new(),
        location_ids: HashMap::new(),
        mappings: Vec::new(),
        mapping_ids: HashMap::new(),
    };
    let mut p = Message::default();
    for (kind, unit) in [
        ("alloc_objects", "count"),
        ("alloc_space", "bytes"),
        ("inuse_objects", "count"),
        ("inuse_space", "bytes"),
    ] {
        let mut vt = Message::default();
        vt.int(1, t.strings.get(kind));
        vt.int(2, t.strings.get(unit));
        p.message(1, &vt);
    }
    for path in stacks {
        let c = &path.counters;
        if c.allocations == 0 && c.live_allocations == 0 {
            continue;
        }
        let mut ids = t.locations_of(&path.frames);
        for root in path.roots.iter().rev() {
            ids.push(t.pseudo(root));
        }
        let mut sample = Message::default();
        sample.packed(1, &ids);
        sample.packed(
            2,
            &[c.allocations, c.bytes, c.live_allocations, c.live_bytes],
        );
        p.message(2, &sample);
    }
    let mappings = std::mem::take(&mut t.mappings);
    for (i, object) in mappings.iter().enumerate() {
        let mut m = Message::default();
        m.int(1, i as u64 + 1);
        m.int(5, t.strings.get(object));
        m.int(7, 1);
        m.int(8, 1);
        m.int(9, 1);
        m.int(10, 1);
        p.message(3, &m);
    }
    for (i, (key, mapping)) in t.locations.iter().enumerate() {
        let mut l = Message::default();
        l.int(1, i as u64 + 1);
        l.int(2, *mapping);
        for &(function, line) in &key.lines {
            let mut ln = Message::default();
            ln.int(1, function);
            ln.int(2, u64::from(line));
            l.message(4, &ln);
        }
        p.message(4, &l);
    }
    let functions = std::mem::take(&mut t.functions);
    for (i, f) in functions.iter().enumerate() {
        let mut m = Message::default();
        m.int(1, i as u64 + 1);
        let name = t.strings.get(&f.name);
        m.int(2, name);
        m.int(3, name);
        m.int(4, t.strings.get(&f.file));
        p.message(5, &m);
    }
    let space = t.strings.get("space");
    let bytes = t.strings.get("bytes");
    let default_type = t.strings.get("alloc_objects");
    for s in &t.strings.list {
        p.bytes(6, s.as_bytes());
    }
    if let Some(first) = profile.processes.iter().map(|p| p.start_unix_ns).min() {
        p.int(9, first);
    }
    p.int(
        10,
        profile
            .processes
            .iter()
            .map(|p| p.end.elapsed_ns)
            .max()
            .unwrap_or(0),
    );
    let mut period_type = Message::default();
    period_type.int(1, space);
    period_type.int(2, bytes);
    p.message(11, &period_type);
    p.int(12, 1);
    p.int(14, default_type);
    let mut gz = GzEncoder::new(out, Compression::default());
    gz.write_all(&p.0)?;
    gz.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_fields() {
        let mut m = Message::default();
        m.int(1, 150);
        assert_eq!(m.0, [0x08, 0x96, 0x01]);
        let mut m = Message::default();
        m.packed(4, &[3, 270]);
        assert_eq!(m.0, [0x22, 0x03, 0x03, 0x8e, 0x02]);
        let mut m = Message::default();
        m.int(2, 0);
        assert!(m.0.is_empty(), "defaults are left out");
    }
}
