//! "No heap allocation in the interposer", checked rather than promised: the library's
//! `#[global_allocator]` (`src/noheap.rs`) ends the process with one line on stderr at the first
//! use of the Rust heap. Every test here and elsewhere runs under it, so a change that allocates
//! fails them; these two make the check itself visible: nothing the fixtures do makes the
//! interposer allocate, and an allocation inside a hook really ends the process.

use std::os::unix::process::ExitStatusExt;

use crate::support::{built, fresh_dir, heap_violation_preload, run, run_with, Out};

/// The start of the allocator's message.
const MESSAGE: &str = "alloc-profile: the interposer used the Rust heap (";

/// How a fixture run ends.
enum Ends {
    Exit(i32),
    Signal(i32),
}

#[test]
fn no_path_of_the_interposer_uses_the_rust_heap() {
    let b = built();
    // Every hook family: the malloc family, threads, fork, exec and execl, _exit, the program's
    // signal handlers and System V signal calls, fatal signals (the writer in a signal handler),
    // a child process, C callbacks with DWARF stacks.
    let cases = [
        (&b.c_program, "basic", Ends::Exit(0)),
        (&b.c_program, "threads", Ends::Exit(0)),
        (&b.c_program, "fork", Ends::Exit(0)),
        (&b.c_program, "beyond", Ends::Exit(0)),
        (&b.c_program, "underscore_exit", Ends::Exit(3)),
        (&b.c_program, "execl", Ends::Exit(0)),
        (&b.rust_program, "counts", Ends::Exit(0)),
        (&b.rust_program, "callbacks", Ends::Exit(0)),
        (&b.rust_program, "threads", Ends::Exit(0)),
        (&b.rust_program, "stress", Ends::Exit(0)),
        (&b.rust_program, "spawn", Ends::Exit(0)),
        (&b.rust_program, "handlers", Ends::Exit(0)),
        (&b.rust_program, "exec", Ends::Exit(0)),
        (&b.rust_program, "execveat", Ends::Exit(0)),
        (&b.rust_program, "sysv-signals", Ends::Signal(15)),
        (&b.rust_program, "segv", Ends::Signal(11)),
        (&b.rust_program, "abort", Ends::Signal(6)),
    ];
    for (program, mode, ends) in cases {
        let dir = fresh_dir("no-heap");
        let r = run(program, &[mode], Out::Dir(&dir), &dir);
        let what = format!("{} {mode}: {:?}\n{}", program.display(), r.status, r.stderr);
        assert!(!r.stderr.contains(MESSAGE), "{what}");
        match ends {
            Ends::Exit(code) => assert_eq!(r.status.code(), Some(code), "{what}"),
            Ends::Signal(sig) => assert_eq!(r.status.signal(), Some(sig), "{what}"),
        }
        assert!(!r.profiles.is_empty(), "{what}");
    }
}

#[test]
fn using_the_rust_heap_in_a_hook_ends_the_process_with_one_line() {
    let b = built();
    let preload = heap_violation_preload();
    let env = [("LD_PRELOAD", preload.as_os_str())];
    // Recording: the malloc hook uses the heap at the program's first allocation, and the process
    // dies of SIGABRT at once, past every handler, writing nothing.
    let dir = fresh_dir("heap-violation");
    let r = run_with(&b.c_program, &["basic"], &env, Out::Dir(&dir), &dir);
    assert_eq!(r.status.signal(), Some(6), "{:?}\n{}", r.status, r.stderr);
    assert_eq!(
        r.stderr,
        format!("{MESSAGE}8 bytes), which it must never do; aborting\n")
    );
    assert!(r.files.is_empty(), "{:?}", r.files);
    // Not recording (no output directory), the same library never gets there.
    let dir = fresh_dir("heap-violation-off");
    let r = run_with(&b.c_program, &["basic"], &env, Out::Unset, &dir);
    assert!(r.status.success(), "{:?}\n{}", r.status, r.stderr);
    assert!(!r.stderr.contains(MESSAGE), "{}", r.stderr);
}
