use crate::{
    read, records, Encoder, End, Header, Module, RawProfile, ReadError, SiteCounters, Stack, Thread,
};

fn sample() -> RawProfile {
    RawProfile {
        header: Header {
            tool_version: "0.1.0".into(),
            pid: 42,
            ppid: 1,
            start_unix_ns: 1_700_000_000_000_000_000,
            exe: "/tmp/app".into(),
            args: vec!["/tmp/app".into(), "--flag".into(), String::new()],
        },
        modules: vec![Module {
            path: "/tmp/app".into(),
            bias: 0x5555_0000_0000,
            ranges: vec![(0x5555_0000_1000, 0x5555_0000_9000)],
            build_id: vec![1, 2, 3, 4],
        }],
        threads: vec![Thread {
            index: 0,
            tid: 42,
            name: "main".into(),
            spawn_stack: crate::NO_STACK,
        }],
        stacks: vec![
            Stack {
                id: 0,
                parent: crate::NO_STACK,
                flags: 0,
                frames: vec![0x5555_0000_1234, u64::MAX],
            },
            Stack {
                id: 1,
                parent: 0,
                flags: crate::stack_flags::DWARF,
                frames: vec![],
            },
        ],
        sites: vec![SiteCounters {
            stack: 1,
            allocations: 10,
            reallocations: 3,
            bytes: 1000,
            frees: 9,
            freed_bytes: 900,
            live_allocations: 1,
            live_bytes: 100,
            max_size: 400,
            lifetime_sum_ns: 12345,
            lifetime_max_ns: 999,
            temporary: 4,
            growth_chains: 1,
            growth_reallocs: 3,
            growth_max_reallocs: 3,
            growth_max_final: 400,
            thread_live_high: 900,
            thread_live_low: 40,
        }],
        peak_sites: vec![(1, 500)],
        sizes: vec![(1, {
            let mut c = [0u64; crate::SIZE_BUCKETS];
            c[crate::size_bucket(100)] = 7;
            c[crate::SIZE_BUCKETS - 1] = 1;
            c
        })],
        end: End {
            reason: crate::end_reason::SIGNAL,
            detail: -11,
            elapsed_ns: 5,
            peak_bytes: 500,
            peak_time_ns: 3,
            unattributed: 0,
            allocations: 10,
            flags: crate::end_flags::LIFETIMES,
        },
    }
}

#[test]
fn round_trip() {
    let p = sample();
    assert_eq!(read(&p.to_bytes()).unwrap(), p);
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = sample().to_bytes();
    for len in 0..bytes.len() {
        let err = read(&bytes[..len]).unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::Truncated { .. } | ReadError::Malformed { .. }
            ),
            "{len}: {err}"
        );
    }
}

#[test]
fn foreign_and_future_files_are_named_as_such() {
    assert_eq!(
        read(b"\x7fELF\x02\x01\x01\0\0\0\0\0"),
        Err(ReadError::NotAProfile)
    );
    let mut bytes = sample().to_bytes();
    bytes[8] = 9;
    assert_eq!(
        read(&bytes),
        Err(ReadError::UnsupportedVersion {
            found: 9,
            supported: 1
        })
    );
}

#[test]
fn unknown_records_and_trailing_fields_are_skipped() {
    let p = sample();
    let full = p.to_bytes();
    // Insert an unknown record right after the version and extend the END record by a field.
    let mut bytes = full[..12].to_vec();
    let mut enc = Encoder::new(&mut bytes);
    enc.record(200, |e| e.bytes(b"future"));
    bytes.extend_from_slice(&full[12..]);
    assert_eq!(read(&bytes).unwrap(), p);
    let mut extended = Vec::new();
    let mut enc = Encoder::new(&mut extended);
    enc.record(crate::tag::END, |e| {
        e.uint(u64::from(p.end.reason));
        e.int(i64::from(p.end.detail));
        for v in [
            p.end.elapsed_ns,
            p.end.peak_bytes,
            p.end.peak_time_ns,
            p.end.unattributed,
            p.end.allocations,
            u64::from(p.end.flags),
            77,
        ] {
            e.uint(v);
        }
    });
    let end_start = full.len() - {
        let mut only_end = Vec::new();
        records::end(&mut Encoder::new(&mut only_end), &p.end);
        only_end.len()
    };
    let mut bytes = full[..end_start].to_vec();
    bytes.extend_from_slice(&extended);
    assert_eq!(read(&bytes).unwrap(), p);
}

#[test]
fn dangling_stack_references_are_rejected() {
    let mut p = sample();
    p.sites[0].stack = 7;
    assert!(matches!(
        read(&p.to_bytes()),
        Err(ReadError::Malformed { .. })
    ));
    let mut p = sample();
    p.stacks[0].parent = 1;
    assert!(matches!(
        read(&p.to_bytes()),
        Err(ReadError::Malformed { .. })
    ));
}

#[test]
fn size_buckets() {
    use crate::size_bucket;
    assert_eq!(
        [0, 1, 2, 3, 4, 7, 8, 1024].map(size_bucket),
        [0, 1, 2, 2, 3, 3, 4, 11]
    );
    assert_eq!(size_bucket(u64::MAX), crate::SIZE_BUCKETS - 1);
}

#[test]
fn sites_written_before_the_lifetime_fields_still_read() {
    // A SITE record with only the first nine fields, as the first writers produced.
    let mut p = sample();
    p.sites[0] = SiteCounters {
        stack: 1,
        allocations: 2,
        ..SiteCounters::default()
    };
    p.sizes.clear();
    let full = p.to_bytes();
    let mut old = Vec::new();
    let mut e = Encoder::new(&mut old);
    e.record(crate::tag::SITE, |e| {
        e.uint(1);
        e.uint(2);
        for _ in 0..7 {
            e.uint(0);
        }
    });
    let mut new_site = Vec::new();
    records::site(&mut Encoder::new(&mut new_site), &p.sites[0]);
    let at = full
        .windows(new_site.len())
        .position(|w| w == new_site.as_slice())
        .unwrap();
    let mut patched = full[..at].to_vec();
    patched.extend_from_slice(&old);
    patched.extend_from_slice(&full[at + new_site.len()..]);
    assert_eq!(read(&patched).unwrap(), p);
}

/// A small deterministic fuzzer: thousands of corrupted variants of a valid file (bit flips,
/// byte changes, cuts, splices) must each read as a profile or as an error, never panic or loop.
#[test]
fn corrupted_files_never_panic() {
    let valid = sample().to_bytes();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let mut bytes = valid.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() as usize) % bytes.len();
            match next() % 4 {
                0 => bytes[i] ^= 1 << (next() % 8),
                1 => bytes[i] = next() as u8,
                2 => bytes.truncate(i.max(1)),
                _ => {
                    let j = (next() as usize) % bytes.len();
                    let chunk: Vec<u8> = bytes[j..].iter().take(8).copied().collect();
                    bytes.splice(i..i, chunk);
                }
            }
        }
        let _ = read(&bytes);
    }
}

/// The corpus kept by the coverage-guided fuzzer (`fuzz/`, cargo-fuzz): real profiles written by
/// the interposer as seeds, and the inputs libFuzzer found that reach new code in the reader. Each
/// must read as a profile or an error without panicking, and a profile must re-encode to itself.
#[test]
fn fuzz_corpus_replays() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/read");
    let mut files = 0;
    let mut profiles = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        files += 1;
        if let Ok(p) = read(&bytes) {
            profiles += 1;
            assert_eq!(read(&p.to_bytes()).as_ref(), Ok(&p), "{}", path.display());
        }
    }
    eprintln!("{files} inputs, {profiles} of them valid profiles");
    // Seeded with 7 real profiles; minimization keeps valid ones and many more corrupt ones.
    assert!(
        profiles >= 7,
        "{profiles} valid profiles in {}",
        dir.display()
    );
    assert!(files > profiles, "no corrupt inputs in {}", dir.display());
}
