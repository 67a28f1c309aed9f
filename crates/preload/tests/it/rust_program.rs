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
    let sum =
        |f: fn(&alloc_profile_format::SiteCounters) -> u64| sites.iter().map(|s| f(s)).sum::<u64>();
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

/// Size of a symbol of the (unstripped) fixture, from `nm -S`.
fn symbol_size(program: &std::path::Path, name: &str) -> u64 {
    let out = std::process::Command::new("nm")
        .args(["-S", "--defined-only"])
        .arg(program)
        .output()
        .expect("nm");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 4 && f[3] == name).then(|| u64::from_str_radix(f[1], 16).unwrap())
        })
        .unwrap_or_else(|| panic!("no symbol {name} in {program:?}"))
}

/// Rust code called back by C code without frame pointers (std printing a panic's backtrace inside
/// `_Unwind_Backtrace`, `dl_iterate_phdr` callbacks, a qsort comparator): the frame-pointer walk stops
/// in the C frame, which is not a frame of ours, so the stack is taken again by DWARF and still
/// reaches the function that called the C code.
#[test]
fn callbacks_from_c_keep_the_callers_frames() {
    let dir = fresh_dir("rust_callbacks");
    let program = &built().rust_program;
    let run = run(program, &["callbacks"], Out::Dir(&dir), &dir);
    assert!(run.status.success(), "{}", run.stderr);
    assert!(
        run.stderr.contains("expected panic 7") && run.stderr.contains("stack backtrace"),
        "{}",
        run.stderr
    );
    let p = run.only_profile();
    p.check_totals();
    let sites = p.exe_sites();
    for name in ["fixture_panics", "fixture_backtrace", "fixture_qsort"] {
        let start = address(&run, name);
        let end = start + symbol_size(program, name);
        let made: u64 = run.value(&format!("{name}_allocations")).parse().unwrap();
        assert!(made > 0, "{name}");
        let under: Vec<_> = sites
            .iter()
            .filter(|s| {
                p.stack_of(s.stack)
                    .frames
                    .iter()
                    .any(|&f| f > start && f <= end)
            })
            .collect();
        let counted: u64 = under.iter().map(|s| s.allocations).sum();
        assert_eq!(
            counted, made,
            "{name}: allocations whose stack holds {name} vs. the counting allocator"
        );
        if name != "fixture_backtrace" {
            assert!(
                under
                    .iter()
                    .any(|s| p.stack_of(s.stack).flags & stack_flags::DWARF != 0),
                "{name}: some stacks needed the DWARF unwinder"
            );
        }
    }
    // The qsort comparator's boxes: one per comparison, from as many stacks as qsort's merge sort
    // has recursion paths, each one taken by DWARF. (Only those under `fixture_qsort`: some
    // other block can be 47 bytes too, such as a path whose length depends on where the
    // repository is checked out.)
    let qsort = address(&run, "fixture_qsort");
    let qsort_end = qsort + symbol_size(program, "fixture_qsort");
    let boxes: Vec<_> = p
        .sites_of_size(47)
        .into_iter()
        .filter(|s| {
            p.stack_of(s.stack)
                .frames
                .iter()
                .any(|&f| f > qsort && f <= qsort_end)
        })
        .collect();
    assert!(boxes.len() > 1);
    for s in boxes {
        assert_eq!(s.allocations, s.frees);
        assert_ne!(p.stack_of(s.stack).flags & stack_flags::DWARF, 0);
    }
}

/// cargo, rustc, rustdoc, build scripts and anything rustup installed are never profiled, even when
/// a profiled program runs them (children inherit `LD_PRELOAD`).
#[test]
fn the_toolchain_is_never_profiled() {
    let dir = fresh_dir("toolchain");
    let bin = dir.join("bin");
    let rustup = dir.join(".rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin");
    std::fs::create_dir_all(&rustup).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut programs = vec![rustup.join("some-tool")];
    for name in [
        "cargo",
        "rustc",
        "rustdoc",
        "build-script-build",
        "build_script_main-1f2e",
    ] {
        programs.push(bin.join(name));
    }
    for program in &programs {
        std::fs::copy(&built().rust_program, program).unwrap();
        let run = run(program, &["counts"], Out::Dir(&out), &out);
        assert!(run.status.success(), "{program:?}: {}", run.stderr);
        assert!(run.files.is_empty(), "{program:?} wrote {:?}", run.files);
    }
    // The same program under another name is profiled.
    let other = bin.join("cargo-like");
    std::fs::copy(&built().rust_program, &other).unwrap();
    assert_eq!(
        run(&other, &["counts"], Out::Dir(&out), &out).files.len(),
        1
    );
}

/// `CARGO_ALLOC_PROFILE_FOLLOW_CHILDREN=0`: the library takes itself out of the process's own
/// `LD_PRELOAD` (other entries stay), so children run unprofiled.
#[test]
fn children_can_be_left_unprofiled() {
    let preload = built().preload.to_str().unwrap().to_owned();
    let list = format!("libm.so.6 {preload}");
    for (follow, files, seen) in [
        (None, 2, format!("libm.so.6 {preload}")),
        (Some("1"), 2, format!("libm.so.6 {preload}")),
        (Some("0"), 1, "libm.so.6".to_owned()),
    ] {
        let dir = fresh_dir("follow_children");
        let mut env = vec![("LD_PRELOAD", std::ffi::OsStr::new(&list))];
        if let Some(v) = follow {
            env.push((
                "CARGO_ALLOC_PROFILE_FOLLOW_CHILDREN",
                std::ffi::OsStr::new(v),
            ));
        }
        let run = crate::support::run_with(
            &built().rust_program,
            &["spawn"],
            &env,
            Out::Dir(&dir),
            &dir,
        );
        assert!(run.status.success(), "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("ld_preload=[{seen}]")),
            "{}",
            run.stderr
        );
        assert_eq!(run.files.len(), files, "{follow:?}: {:?}", run.files);
    }
}

/// A process killed by a signal writes its profile first (END reason SIGNAL), then dies of that
/// same signal: the wait status is the program's. Rust's own SIGSEGV handler (stack overflow message)
/// still runs.
#[test]
fn fatal_signals_write_the_profile_and_still_kill() {
    use std::os::unix::process::ExitStatusExt;
    // A stack overflow ends in abort() after std's message, as it does without the interposer.
    for (mode, size, signal) in [("segv", 91, 11), ("overflow", 92, 6), ("abort", 93, 6)] {
        let dir = fresh_dir(mode);
        let run = run(&built().rust_program, &[mode], Out::Dir(&dir), &dir);
        assert_eq!(run.status.signal(), Some(signal), "{mode}: {}", run.stderr);
        if mode == "overflow" {
            assert!(
                run.stderr.contains("has overflowed its stack"),
                "{}",
                run.stderr
            );
        }
        let p = run.only_profile();
        p.check_totals();
        assert_eq!(
            (p.end.reason, p.end.detail),
            (alloc_profile_format::end_reason::SIGNAL, signal),
            "{mode}"
        );
        let s = p.site_of_size(size);
        assert_eq!((s.allocations, s.live_allocations), (3, 3), "{mode}");
    }
}

#[test]
fn sigterm_from_outside_writes_the_profile() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    let dir = fresh_dir("sigterm");
    let mut child = std::process::Command::new(&built().rust_program)
        .arg("sleep")
        .env("LD_PRELOAD", &built().preload)
        .env("CARGO_ALLOC_PROFILE_OUT", &dir)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(15));
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let data = std::fs::read(files[0].as_ref().unwrap().path()).unwrap();
    let p = alloc_profile_format::read(&data).unwrap();
    p.check_totals();
    assert_eq!(
        (p.end.reason, p.end.detail),
        (alloc_profile_format::end_reason::SIGNAL, 15)
    );
    assert_eq!(p.site_of_size(94).live_allocations, 3);
}

/// The program sees its own dispositions: std found SIG_DFL for SIGSEGV at start and installed its
/// handler; `signal` returns the previous handler; a handler runs when the signal comes.
#[test]
fn the_programs_signal_handlers_work_as_before() {
    let dir = fresh_dir("handlers");
    let run = run(&built().rust_program, &["handlers"], Out::Dir(&dir), &dir);
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(run.value("segv_handler_installed"), "true");
    assert_eq!(run.value("sigint_previous"), "0");
    assert_eq!(run.value("handled"), "1");
    assert_eq!(run.value("ours_back"), "true");
    let p = run.only_profile();
    assert_eq!(p.end.reason, alloc_profile_format::end_reason::EXIT);
    assert_eq!(p.site_of_size(95).live_allocations, 2);
}

/// `sigset`, `sigignore` and `siginterrupt` on managed signals work as glibc's, and a signal the
/// program held and then left to its default action still writes the profile before it kills.
#[test]
fn system_v_signal_calls_work_and_keep_the_profile() {
    use std::os::unix::process::ExitStatusExt;
    let dir = fresh_dir("sysv");
    let run = run(
        &built().rust_program,
        &["sysv-signals"],
        Out::Dir(&dir),
        &dir,
    );
    assert_eq!(run.status.signal(), Some(15), "{}", run.stderr);
    assert!(!run.stderr.contains("FAIL"), "{}", run.stderr);
    for (key, value) in [
        ("sigset_first", "0"),
        ("term_handled", "1"),
        ("sigignore", "0"),
        ("survived_ignored_sigint", "true"),
        ("sigint_was_ignored", "true"),
        ("siginterrupt", "0"),
        ("hold_returns_handler", "true"),
        ("term_handled_while_held", "1"),
    ] {
        assert_eq!(run.value(key), value, "{key}: {}", run.stderr);
    }
    let p = run.only_profile();
    p.check_totals();
    assert_eq!(
        (p.end.reason, p.end.detail),
        (alloc_profile_format::end_reason::SIGNAL, 15)
    );
    assert_eq!(p.site_of_size(99).live_allocations, 5);
}

/// `execveat` writes the profile first, like the other exec functions.
#[test]
fn execveat_writes_the_profile_first() {
    let dir = fresh_dir("execveat");
    let run = run(&built().rust_program, &["execveat"], Out::Dir(&dir), &dir);
    assert!(run.status.success(), "{}", run.stderr);
    let ours: Vec<_> = run
        .profiles
        .iter()
        .filter(|p| p.header.exe.ends_with("/rust_program"))
        .collect();
    assert_eq!(ours.len(), 1, "{:?}", run.files);
    assert_eq!(ours[0].end.reason, alloc_profile_format::end_reason::EXEC);
    assert_eq!(ours[0].site_of_size(100).live_allocations, 2);
}

/// exec writes the profile first (END reason EXEC); a failed exec removes it again and recording
/// goes on, so the file finally written covers both sides of the failed attempt.
#[test]
fn exec_writes_the_profile_first() {
    let dir = fresh_dir("exec");
    let run = run(&built().rust_program, &["exec"], Out::Dir(&dir), &dir);
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(run.value("failed_exec"), "true");
    let ours: Vec<_> = run
        .profiles
        .iter()
        .filter(|p| p.header.exe.ends_with("/rust_program"))
        .collect();
    assert_eq!(ours.len(), 1, "{:?}", run.files);
    let p = ours[0];
    p.check_totals();
    assert_eq!(p.end.reason, alloc_profile_format::end_reason::EXEC);
    assert_eq!(p.site_of_size(96).live_allocations, 2);
    assert_eq!(p.site_of_size(97).live_allocations, 3);
    // /bin/true, the same process after the exec, wrote its own profile.
    let pid = p.header.pid;
    assert!(
        run.files.contains(&format!("true-{pid}.aprof")),
        "{:?}",
        run.files
    );
}

#[test]
fn planted_files_are_neither_followed_nor_replaced() {
    let out = fresh_dir("plant_out");
    let victim = fresh_dir("plant_victim");
    // Listing the victim directory: nothing may appear there.
    let run = run(
        &built().rust_program,
        &["plant", victim.to_str().unwrap()],
        Out::Dir(&out),
        &victim,
    );
    assert!(run.status.success(), "{}", run.stderr);
    assert!(run.files.is_empty(), "written outside: {:?}", run.files);
    let stem = run.value("stem");
    let meta = |name: &str| std::fs::symlink_metadata(out.join(name)).unwrap();
    // The planted things are as they were.
    assert!(meta(&format!(".{stem}.aprof.tmp")).file_type().is_symlink());
    assert!(meta(&format!("{stem}.aprof")).file_type().is_symlink());
    assert_eq!(
        std::fs::read_to_string(out.join(format!(".{stem}.1.aprof.tmp"))).unwrap(),
        "planted"
    );
    assert!(meta(&format!("{stem}.1.aprof")).is_dir());
    // The profile went to the next free name, complete, private to its owner.
    let written = out.join(format!("{stem}.2.aprof"));
    let m = meta(&format!("{stem}.2.aprof"));
    assert!(m.is_file());
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777,
        0o600
    );
    let p = alloc_profile_format::read(&std::fs::read(&written).unwrap()).unwrap();
    let s = p.site_of_size(98);
    assert_eq!((s.allocations, s.live_allocations), (4, 4));
    // No temporary file of ours is left behind.
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 5, "{names:?}");
}
