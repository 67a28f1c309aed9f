//! The C fixture (`tests/fixtures/program.c`): glibc semantics of every hook, fork, `_exit`, the
//! wrapped door.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use alloc_profile_format::{end_reason, stack_flags, NO_STACK};

use crate::support::{built, fresh_dir, run, run_with, Out, ProfileExt};

fn assert_all_ok(stdout: &str) {
    let checks: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("=ok") || l.contains("=FAILED"))
        .collect();
    assert!(!checks.is_empty(), "{stdout}");
    assert!(checks.iter().all(|l| l.ends_with("=ok")), "{stdout}");
}

#[test]
fn every_hook_keeps_glibc_semantics_and_counts_exactly() {
    let dir = fresh_dir("basic");
    let run = run(&built().c_program, &["basic"], Out::Dir(&dir), &dir);
    assert!(run.status.success(), "{}", run.stderr);
    assert_all_ok(&run.stdout);
    let pid = run.value("pid");
    assert_eq!(
        run.files,
        [format!("c_program-{pid}.aprof")],
        "nothing else is left behind"
    );
    let mode = std::fs::metadata(dir.join(&run.files[0]))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let p = run.only_profile();
    p.check_totals();
    assert_eq!(p.header.pid.to_string(), pid);
    assert_eq!(p.header.args.len(), 2);
    assert!(p.header.args[0].ends_with("c_program"));
    assert_eq!(p.header.args[1], "basic");
    assert!(p.header.exe.ends_with("/c_program"), "{}", p.header.exe);
    assert_eq!(p.modules[0].path, p.header.exe);
    assert_eq!(
        p.modules[0].build_id.len(),
        20,
        "the main program has a GNU build-id"
    );
    assert!(p.modules.iter().any(|m| m.path.contains("libc.so")));
    assert_eq!((p.end.reason, p.end.detail), (end_reason::EXIT, 0));
    assert_eq!(p.threads.len(), 1);
    assert_eq!(p.threads[0].tid.to_string(), pid);

    // malloc(123) x10, four freed.
    let s = p.site_of_size(123);
    assert_eq!((s.allocations, s.frees, s.live_allocations), (10, 4, 6));
    assert_eq!((s.bytes, s.live_bytes), (1230, 738));
    let stack = p.stack_of(s.stack);
    assert_eq!(stack.flags, 0, "a frame-pointer stack");
    assert_eq!(stack.parent, NO_STACK);
    assert!(
        p.in_exe(stack.frames[0]),
        "frames[0] is the call site in the program"
    );
    assert!(stack.frames.len() >= 2, "basic() and main(): {stack:?}");
    // calloc(7, 9).
    let s = p.site_of_size(63);
    assert_eq!(
        (s.allocations, s.live_allocations, s.reallocations),
        (1, 1, 0)
    );
    // realloc(NULL, 10): an allocation, not a reallocation; its block was freed by the next realloc.
    let s = p.site_of_size(10);
    assert_eq!((s.allocations, s.reallocations, s.frees), (1, 0, 1));
    // realloc(p, 2000): a reallocation; realloc(p, 0) freed it.
    let s = p.site_of_size(2000);
    assert_eq!(
        (s.allocations, s.reallocations, s.frees, s.live_allocations),
        (1, 1, 1, 0)
    );
    // reallocarray(NULL, 5, 11), posix_memalign(64, 100), aligned_alloc(32, 96), memalign(128, 40),
    // valloc(33), pvalloc(44): one live block each, recorded with the requested size.
    for size in [55, 100, 96, 40, 33, 44] {
        let s = p.site_of_size(size);
        assert_eq!(
            (s.allocations, s.live_allocations, s.bytes),
            (1, 1, size),
            "size {size}"
        );
    }
    // malloc(321) whose realloc failed: still tracked, so its free counts.
    let s = p.site_of_size(321);
    assert_eq!((s.allocations, s.frees), (1, 1));
    // 200 frames deep: the innermost 128 are kept.
    let s = p.site_of_size(7);
    assert_eq!((s.allocations, s.frees), (1, 1));
    let stack = p.stack_of(s.stack);
    assert_eq!(stack.flags, stack_flags::TRUNCATED);
    assert_eq!(stack.frames.len(), 128);
    assert!(stack.frames.iter().all(|&f| p.in_exe(f)));
    // Failed calls (calloc / reallocarray overflow, EINVAL, failed realloc) are not allocations.
    assert!(
        p.sites.iter().all(|s| s.max_size < 1 << 40),
        "{:?}",
        p.sites
    );

    // Exact peak for one thread: the program's own blocks peak at 2801 live bytes (after the realloc
    // to 2000 bytes), on top of what glibc allocated before and kept (stdout's buffer).
    let glibc: u64 = p
        .sites
        .iter()
        .filter(|s| !p.in_exe(p.stack_of(s.stack).frames[0]))
        .inspect(|s| assert_ne!(p.stack_of(s.stack).flags & stack_flags::DWARF, 0))
        .map(|s| s.bytes)
        .sum();
    assert_eq!(p.end.peak_bytes, glibc + 2801);
}

#[test]
fn threads_are_linked_to_their_spawn_stack() {
    let dir = fresh_dir("threads");
    let run = run(&built().c_program, &["threads"], Out::Dir(&dir), &dir);
    assert!(run.status.success(), "{}", run.stderr);
    assert_all_ok(&run.stdout);
    let p = run.only_profile();
    p.check_totals();
    assert_eq!(p.threads.len(), 3, "{:?}", p.threads);
    assert_eq!(
        p.site_of_size(88).live_allocations,
        1,
        "the thread that called pthread_exit"
    );
    let worker = &p.threads[2];
    assert_eq!((worker.index, worker.name.as_str()), (2, "cworker"));
    assert_ne!(worker.tid, p.threads[0].tid);
    let spawn = p.stack_of(worker.spawn_stack);
    assert_ne!(spawn.flags & stack_flags::SPAWN, 0);
    assert!(
        p.in_exe(spawn.frames[0]),
        "the pthread_create call in threads()"
    );

    // Seven blocks allocated on the worker, freed by the main thread.
    let s = p.site_of_size(77);
    assert_eq!((s.allocations, s.frees, s.live_allocations), (7, 7, 0));
    let stack = p.stack_of(s.stack);
    assert_eq!(stack.parent, worker.spawn_stack);
    assert_eq!(
        stack.frames.len(),
        1,
        "the walk stops at the thread's start: {stack:?}"
    );
    assert_eq!(p.site_of_size(57).frees, 1);

    // glibc's allocations inside pthread_create (the first thread's TLS; later threads reuse a cached
    // stack) are recorded by DWARF unwind and reach the program's pthread_create call.
    let first_spawn = p.stack_of(p.threads[1].spawn_stack);
    assert!(
        p.sites.iter().any(|s| {
            let st = p.stack_of(s.stack);
            st.flags & stack_flags::DWARF != 0 && st.frames.contains(&first_spawn.frames[0])
        }),
        "{:#?}",
        p.stacks
    );
}

#[test]
fn a_fork_child_writes_its_own_profile() {
    let dir = fresh_dir("fork");
    let run = run(&built().c_program, &["fork"], Out::Dir(&dir), &dir);
    assert!(run.status.success(), "{}", run.stderr);
    assert_all_ok(&run.stdout);
    let (pid, child_pid) = (run.value("pid"), run.value("child_pid"));
    let mut expected = [
        format!("c_program-{pid}.aprof"),
        format!("c_program-{child_pid}.aprof"),
    ];
    expected.sort();
    assert_eq!(run.files, expected);
    let (parent, child) = {
        let by_pid = |p: &str| {
            run.profiles
                .iter()
                .find(|x| x.header.pid.to_string() == p)
                .unwrap()
        };
        (by_pid(&pid), by_pid(&child_pid))
    };
    parent.check_totals();
    child.check_totals();
    assert_eq!(child.header.ppid.to_string(), pid);

    assert_eq!(parent.site_of_size(1111).allocations, 3);
    assert_eq!(parent.site_of_size(3333).allocations, 2);
    assert!(parent.sites_of_size(2222).is_empty());

    // The child counts only what it did: not the parent's blocks, not its free of one of them.
    assert_eq!(child.site_of_size(2222).allocations, 4);
    assert!(child.sites_of_size(1111).is_empty());
    assert!(child.sites_of_size(3333).is_empty());
    assert_eq!(child.threads.len(), 1);
    assert_eq!(child.threads[0].tid.to_string(), child_pid);
    assert_eq!((child.end.reason, child.end.detail), (end_reason::EXIT, 5));
    assert_eq!(child.end.peak_bytes, 4 * 2222);
}

#[test]
fn underscore_exit_still_writes() {
    let dir = fresh_dir("underscore_exit");
    let run = run(
        &built().c_program,
        &["underscore_exit"],
        Out::Dir(&dir),
        &dir,
    );
    assert_eq!(run.status.code(), Some(3));
    let p = run.only_profile();
    p.check_totals();
    assert_eq!(
        (p.end.reason, p.end.detail),
        (end_reason::UNDERSCORE_EXIT, 3)
    );
    let s = p.site_of_size(111);
    assert_eq!(
        (s.allocations, s.live_allocations, s.live_bytes),
        (5, 5, 555)
    );
}

#[test]
fn without_an_output_directory_nothing_is_written() {
    for (name, out) in [("unset", Out::Unset), ("empty", Out::Empty)] {
        let dir = fresh_dir(name);
        let cwd_before = std::fs::read_dir(".").unwrap().count();
        let run = run(&built().c_program, &["basic"], out, &dir);
        assert!(run.status.success(), "{}", run.stderr);
        assert_all_ok(&run.stdout);
        assert!(run.files.is_empty(), "{:?}", run.files);
        assert_eq!(std::fs::read_dir(".").unwrap().count(), cwd_before);
    }
}

/// The variadic `execl` (glibc builds argv itself and calls its internal execve): every argument
/// reaches the new program, including those passed on the stack, and the profile is written first.
#[test]
fn execl_writes_the_profile_and_passes_every_argument() {
    let dir = fresh_dir("execl");
    let run = run(&built().c_program, &["execl"], Out::Dir(&dir), &dir);
    assert!(run.status.success(), "{}", run.stderr);
    assert_all_ok(&run.stdout);
    assert_eq!(run.value("args"), "7:1:7");
    let p = run
        .profiles
        .iter()
        .find(|p| p.header.exe.ends_with("/c_program"))
        .expect("the c_program profile");
    p.check_totals();
    assert_eq!(p.end.reason, end_reason::EXEC);
    assert_eq!(p.site_of_size(1212).live_allocations, 2);
}

/// Lifetimes, temporaries (heaptrack's definition), growth chains, size histograms and the live bytes
/// per site at the peak (exact with one thread).
#[test]
fn lifetimes_temporaries_growth_sizes_and_peak_sites() {
    let dir = fresh_dir("beyond");
    // Lifetimes are measured only on request (they cost a clock read per allocation and free).
    let run = run_with(
        &built().c_program,
        &["beyond"],
        &[("CARGO_ALLOC_PROFILE_LIFETIMES", std::ffi::OsStr::new("1"))],
        Out::Dir(&dir),
        &dir,
    );
    assert!(run.status.success(), "{}", run.stderr);
    assert_all_ok(&run.stdout);
    let p = run.only_profile();
    p.check_totals();

    let s = p.site_of_size(1301);
    assert_eq!((s.frees, s.temporary), (5, 5));
    assert!(s.lifetime_max_ns < 10_000_000, "{s:?}");
    assert_eq!(p.site_of_size(1302).temporary, 0);
    assert_eq!(p.site_of_size(1303).temporary, 1);
    // Freed by another thread, and the block at its freeing thread's last address (see the
    // fixture's `stale_last`): neither is a temporary.
    for size in [1011, 1012] {
        let s = p.site_of_size(size);
        assert_eq!((s.frees, s.temporary), (1, 0), "{size}: {s:?}");
    }

    let s = p.site_of_size(1403);
    assert_eq!(
        (
            s.growth_chains,
            s.growth_reallocs,
            s.growth_max_reallocs,
            s.growth_max_final
        ),
        (1, 3, 3, 1403)
    );
    for size in [1401, 1402] {
        assert_eq!(p.site_of_size(size).growth_chains, 0, "{size}");
    }
    let s = p.site_of_size(1502);
    assert_eq!(s.live_allocations, 1);
    assert_eq!(
        (s.growth_chains, s.growth_reallocs, s.growth_max_final),
        (1, 2, 1502)
    );

    let s = p.site_of_size(1601);
    assert!(
        s.lifetime_max_ns >= 20_000_000 && s.lifetime_max_ns < 2_000_000_000,
        "{s:?}"
    );
    assert_eq!(s.lifetime_sum_ns, s.lifetime_max_ns);

    // Size histograms: one per site, in power-of-two buckets.
    let s = p.site_of_size(1301);
    let (_, counts) = p
        .sizes
        .iter()
        .find(|(stack, _)| *stack == s.stack)
        .expect("a histogram");
    assert_eq!(counts[alloc_profile_format::size_bucket(1301)], 5);
    assert_eq!(counts.iter().sum::<u64>(), 5);
    for site in &p.sites {
        let (_, counts) = p.sizes.iter().find(|(st, _)| *st == site.stack).unwrap();
        assert_eq!(counts.iter().sum::<u64>(), site.allocations);
    }

    // The peak: three blocks of 50001 bytes, freed before the block of 50002 came. With one thread the
    // live bytes per site at the peak add up to the peak exactly.
    let x = p.site_of_size(50001);
    let at_peak = |stack: u32| {
        p.peak_sites
            .iter()
            .find(|(s, _)| *s == stack)
            .map_or(0, |&(_, b)| b)
    };
    assert_eq!(at_peak(x.stack), 3 * 50001);
    assert_eq!(at_peak(p.site_of_size(50002).stack), 0);
    assert_eq!(at_peak(p.site_of_size(1502).stack), 1502);
    let sum: u64 = p.peak_sites.iter().map(|&(_, b)| b).sum();
    assert_eq!(sum, p.end.peak_bytes);
}

/// Without `CARGO_ALLOC_PROFILE_LIFETIMES=1` no clock is read per block: the END record says
/// lifetimes were not measured, and temporaries are still recognized (by address and thread tag).
#[test]
fn lifetimes_are_opt_in_and_temporaries_do_not_need_them() {
    let dir = fresh_dir("beyond-no-lifetimes");
    let run = run(&built().c_program, &["beyond"], Out::Dir(&dir), &dir);
    assert!(run.status.success(), "{}", run.stderr);
    let p = run.only_profile();
    assert_eq!(p.end.flags & alloc_profile_format::end_flags::LIFETIMES, 0);
    assert!(p
        .sites
        .iter()
        .all(|s| s.lifetime_sum_ns == 0 && s.lifetime_max_ns == 0));
    // The same answers as with lifetimes measured (see the test above).
    assert_eq!(
        p.site_of_size(1301).temporary,
        5,
        "{:?}",
        p.site_of_size(1301)
    );
    assert_eq!(p.site_of_size(1302).temporary, 0);
    for size in [1011, 1012] {
        assert_eq!(p.site_of_size(size).temporary, 0, "{size}");
    }
}

/// The second door (allocators that never call malloc, whose entry points the cli wraps with calls
/// to `alloc_profile_wrap_*`) counts like the malloc hooks, and each wrapped call leaves the
/// recording path as a hook does. (Its end calls used to clear only the guard: the counter blocks
/// of the fixture's 64 threads stayed marked busy, and the exit writer waited 100,000 CPU yields for
/// each, 0.1 to 1.4 s per block on a VM.)
#[test]
fn the_wrapped_door_counts_and_leaves_like_a_hook() {
    let program = &built().c_program;
    let dir = fresh_dir("wrapped");
    let start = Instant::now();
    let run = run(program, &["wrapped"], Out::Dir(&dir), &dir);
    let took = start.elapsed();
    assert!(run.status.success(), "{}", run.stderr);
    assert_all_ok(&run.stdout);
    let p = run.only_profile();
    p.check_totals();
    let s = p.site_of_size(2024);
    assert_eq!((s.allocations, s.frees, s.live_allocations), (64, 64, 0));
    let s = p.site_of_size(2025);
    assert_eq!(
        (s.allocations, s.live_allocations, s.live_bytes),
        (1, 1, 2025)
    );
    assert!(took < Duration::from_secs(1), "took {took:?}");
}
