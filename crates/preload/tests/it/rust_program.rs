//! The Rust fixture (`tests/fixtures/program.rs`): exact counts against a counting global allocator,
//! frames of Rust allocations, threads.

use alloc_profile_format::stack_flags;

use crate::support::{built, fresh_dir, run, Out, ProfileExt};

fn address(run: &crate::support::Run, name: &str) -> u64 {
    u64::from_str_radix(run.value(name).trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn counts_equal_a_counting_global_allocator() {
    let dir = fresh_dir("rust_counts");
    let run = run(&built().rust_program, &["counts"], Out::Dir(&dir), &dir);
    assert!(run.status.success(), "{}", run.stderr);
    let p = run.only_profile();
    p.check_totals();
    // Every Rust allocation went through the counting allocator; glibc's own (reading
    // /proc/self/maps for the main thread's stack) have their first frame in libc, not in the program.
    let sites = p.exe_sites();
    let sum = |f: fn(&alloc_profile_format::Site) -> u64| sites.iter().map(|s| f(s)).sum::<u64>();
    assert_eq!(sum(|s| s.allocations).to_string(), run.value("allocations"));
    assert_eq!(
        sum(|s| s.reallocations).to_string(),
        run.value("reallocations")
    );
    assert_eq!(sum(|s| s.frees).to_string(), run.value("frees"));

    // 1234 live boxes of 77 bytes from site_live(); 321 freed boxes of 55 bytes from site_freed().
    for (size, allocations, live, function) in
        [(77, 1234, 1234, "site_live"), (55, 321, 0, "site_freed")]
    {
        let s = p.site_of_size(size);
        assert_eq!(
            (s.allocations, s.live_allocations, s.bytes),
            (allocations, live, allocations * size)
        );
        let stack = p.stack_of(s.stack);
        assert_eq!(stack.flags, 0, "a frame-pointer stack");
        assert!(
            p.in_exe(stack.frames[0]),
            "frames[0] of a Rust allocation is in the executable"
        );
        let start = address(&run, function);
        assert!(
            stack.frames.iter().any(|&f| f > start && f < start + 1024),
            "a return address inside {function} ({start:#x}): {stack:?}"
        );
    }
    // A Vec grown by push: reallocations, each freeing the previous block.
    let grow = p
        .sites
        .iter()
        .find(|s| s.reallocations >= 10)
        .expect("the Vec growth site");
    assert_eq!(grow.allocations, grow.reallocations);
    assert_eq!(grow.live_allocations, 1);
    // Capacity doubles: the last request is the first power of two >= 100_000 elements.
    assert_eq!(grow.max_size, 131_072 * 8);
}

#[test]
fn cross_thread_frees_under_contention_are_exact() {
    let dir = fresh_dir("rust_stress");
    let run = run(&built().rust_program, &["stress"], Out::Dir(&dir), &dir);
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(run.value("received"), "40000");
    let p = run.only_profile();
    p.check_totals();
    assert_eq!(p.threads.len(), 1 + 1 + 8, "{:?}", p.threads);
    // All producers were spawned from one call site: one spawn stack, one allocation site.
    let s = p.site_of_size(99);
    assert_eq!(
        (s.allocations, s.frees, s.live_allocations),
        (40_000, 40_000, 0)
    );
    let stack = p.stack_of(s.stack);
    let spawn = p.stack_of(stack.parent);
    assert_ne!(spawn.flags & stack_flags::SPAWN, 0);
    assert!(
        p.threads
            .iter()
            .filter(|t| t.spawn_stack == spawn.id)
            .count()
            == 8
    );
    // At most 64 + 4 boxes in flight at once (channel bound plus one per producer), plus the rest of
    // the program's small blocks: the peak stays far below 40000 boxes.
    assert!(p.end.peak_bytes < 200_000, "{}", p.end.peak_bytes);
}

#[test]
fn a_named_thread_is_linked_to_its_spawner() {
    let dir = fresh_dir("rust_threads");
    let run = run(&built().rust_program, &["threads"], Out::Dir(&dir), &dir);
    assert!(run.status.success(), "{}", run.stderr);
    let p = run.only_profile();
    p.check_totals();
    let worker = p
        .threads
        .iter()
        .find(|t| t.name == "worker-x")
        .unwrap_or_else(|| panic!("{:?}", p.threads));
    assert_ne!(worker.index, 0);
    let spawn = p.stack_of(worker.spawn_stack);
    assert_ne!(spawn.flags & stack_flags::SPAWN, 0);
    assert!(p.in_exe(spawn.frames[0]));
    let start = address(&run, "spawn_worker");
    assert!(
        spawn.frames.iter().any(|&f| f > start && f < start + 1024),
        "{spawn:?}"
    );

    // 432 blocks of 66 bytes made on the worker and freed by the main thread.
    let s = p.site_of_size(66);
    assert_eq!((s.allocations, s.frees, s.live_allocations), (432, 432, 0));
    let stack = p.stack_of(s.stack);
    assert_eq!(stack.parent, worker.spawn_stack);
    assert!(p.in_exe(stack.frames[0]));
}
