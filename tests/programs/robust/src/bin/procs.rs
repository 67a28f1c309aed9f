//! Processes: fork without exec, fork then exec, a child started with `std::process::Command` or
//! with `posix_spawn` itself, and exec.
//! Usage: `procs fork | fork-busy | fork-exec | spawn | posix-spawn | exec | exec-copy DIR` (and
//! `child`, `after-exec`: the started parts). `exec-copy DIR` copies this executable into DIR under another name and execs
//! the copy: the same exec, but the new image has another executable name.

use std::hint::black_box;
use std::os::unix::process::CommandExt as _;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use robust::{measure, sys};

#[global_allocator]
static GLOBAL: robust::Counting = robust::Counting;

/// 200 allocations made before fork, kept live across it.
#[inline(never)]
fn before_fork() -> Vec<String> {
    (0..199).map(|i| format!("before fork {i}")).collect()
}

/// Only the child runs this (boxes on purpose: one allocation each).
#[allow(clippy::vec_box)]
#[inline(never)]
fn child_after_fork() -> Vec<Box<u64>> {
    (0..7).map(Box::new).collect()
}

/// Only the parent runs this.
#[inline(never)]
fn parent_after_fork() -> Vec<Vec<u8>> {
    (0..3).map(|i| vec![0; i + 1]).collect()
}

fn fork_mode() {
    let kept = measure("procs::before_fork", before_fork);
    // SAFETY: single-threaded here; the child only allocates, prints and `_exit`s.
    let pid = unsafe { sys::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let v = measure("procs::child_after_fork", child_after_fork);
        drop(v);
        println!("OK child done");
        // SAFETY: ends the child without running the parent's exit handlers twice.
        unsafe { sys::_exit(0) };
    }
    let v = measure("procs::parent_after_fork", parent_after_fork);
    drop(v);
    drop(kept);
    match sys::wait_bounded(pid, 10) {
        Some(0) => println!("OK child exited 0"),
        other => println!("FAIL child status {other:?}"),
    }
}

/// One of the children forked while another thread allocates.
#[inline(never)]
fn busy_child_work(k: usize) -> usize {
    let v: Vec<String> = (0..5).map(|i| format!("child {k} {i}")).collect();
    v.len()
}

/// Forks 6 times while a second thread allocates without pause: a lock held by that thread at
/// fork time must not hang the child.
fn fork_busy_mode() {
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = Arc::clone(&stop);
    let busy = std::thread::spawn(move || {
        let mut n = 0u64;
        while !stop2.load(Ordering::Relaxed) && n < 50_000_000 {
            let v: Vec<u8> = Vec::with_capacity((n % 200) as usize + 1);
            black_box(v);
            n += 1;
        }
    });
    let mut ok = 0;
    for k in 0..6 {
        std::thread::sleep(std::time::Duration::from_millis(3));
        // SAFETY: the child only allocates and `_exit`s (what a fork without exec in a
        // multi-threaded program may hang on is exactly what this checks).
        let pid = unsafe { sys::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let n = busy_child_work(k);
            // SAFETY: ends the child.
            unsafe { sys::_exit(if n == 5 { 0 } else { 1 }) };
        }
        match sys::wait_bounded(pid, 10) {
            Some(0) => ok += 1,
            Some(s) => println!("FAIL child {k} status {s}"),
            None => println!("FAIL child {k} hung and was killed"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    busy.join().unwrap();
    println!("OK {ok} of 6 children exited 0");
}

/// Starts this program again as `procs child`, waits for it.
#[inline(never)]
fn spawn_self() -> i32 {
    let exe = std::env::current_exe().unwrap();
    let status = Command::new(exe).arg("child").status().unwrap();
    status.code().unwrap_or(-1)
}

/// This executable's path and `args` as C strings, and the NULL-terminated pointer array `execv`
/// and `posix_spawn` take (pointing into the strings, which must outlive it).
fn c_argv(args: &[&str]) -> (std::ffi::CString, Vec<std::ffi::CString>) {
    use std::os::unix::ffi::OsStrExt as _;
    let exe = std::env::current_exe().unwrap();
    let path = std::ffi::CString::new(exe.as_os_str().as_bytes()).unwrap();
    let strings = std::iter::once("procs")
        .chain(args.iter().copied())
        .map(|a| std::ffi::CString::new(a).unwrap())
        .collect();
    (path, strings)
}

fn pointers(strings: &[std::ffi::CString]) -> Vec<*const std::ffi::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// `fork`, then `execv` of this program as `procs child` in the child (everything the child needs
/// is made before the fork: between fork and exec it allocates nothing).
#[inline(never)]
fn fork_then_exec() -> i32 {
    let (path, strings) = c_argv(&["child"]);
    let argv = pointers(&strings);
    // SAFETY: the child only calls execv (async-signal-safe) and _exit.
    let pid = unsafe { sys::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: NUL-terminated path and a NULL-terminated argv of NUL-terminated strings.
        unsafe {
            sys::execv(path.as_ptr(), argv.as_ptr());
            sys::_exit(127)
        }
    }
    sys::wait_bounded(pid, 10).unwrap_or(-1)
}

/// `posix_spawn` of this program as `procs child`, with this process's environment.
#[inline(never)]
fn posix_spawn_self() -> i32 {
    let (path, strings) = c_argv(&["child"]);
    let argv = pointers(&strings);
    let mut pid = 0;
    // SAFETY: valid out-pointer, path and argv as above, no file actions or attributes, and the
    // process's own environment.
    let err = unsafe {
        sys::posix_spawn(
            &mut pid,
            path.as_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            argv.as_ptr(),
            sys::environ,
        )
    };
    assert_eq!(err, 0, "posix_spawn failed");
    sys::wait_bounded(pid, 10).unwrap_or(-1)
}

/// What `procs child` does.
#[inline(never)]
fn spawned_child_work() -> Vec<String> {
    (0..11).map(|i| i.to_string()).collect()
}

#[inline(never)]
fn before_exec() -> Vec<String> {
    (0..13).map(|i| format!("pre-exec {i}")).collect()
}

#[inline(never)]
fn after_exec() -> Vec<String> {
    (0..17).map(|i| format!("post-exec {i}")).collect()
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    match mode.as_str() {
        "fork" => fork_mode(),
        "fork-busy" => fork_busy_mode(),
        "spawn" => {
            let code = measure("procs::spawn_self", spawn_self);
            println!("OK child exited {code}");
        }
        "fork-exec" => {
            let status = measure("procs::fork_then_exec", fork_then_exec);
            println!("OK child status {status}");
        }
        "posix-spawn" => {
            let status = measure("procs::posix_spawn_self", posix_spawn_self);
            println!("OK child status {status}");
        }
        "foreign-children" => {
            // A program of another C library, started five ways: posix_spawn (Command), fork +
            // execv, fexecve or execveat, and fork + execvp (Command with a pre_exec hook). Each must start and exit
            // as it would without the profiler.
            let program = std::env::args().nth(2).expect("foreign-children PROGRAM");
            let spawned = Command::new(&program).status().unwrap();
            println!("OK spawned status {:?}", spawned.code());
            let (path, strings) = {
                let path = std::ffi::CString::new(program.clone()).unwrap();
                (path, vec![std::ffi::CString::new("hello").unwrap()])
            };
            let argv = pointers(&strings);
            // Forks, runs `exec` in the child (which only calls exec functions and _exit), and
            // prints the child's exit status under `name`.
            let via = |name: &str, exec: &dyn Fn()| {
                // SAFETY: see above.
                let pid = unsafe { sys::fork() };
                if pid == 0 {
                    exec();
                    // SAFETY: ends the child whose exec failed.
                    unsafe { sys::_exit(127) }
                }
                let status = sys::wait_bounded(pid, 10).unwrap_or(-1);
                println!("OK {name} status {}", status >> 8);
            };
            // SAFETY (all three): NUL-terminated path, NULL-terminated argv, the environment.
            via("execv", &|| unsafe {
                sys::execv(path.as_ptr(), argv.as_ptr());
            });
            via("fexecve", &|| unsafe {
                let fd = sys::open(path.as_ptr(), 0);
                sys::fexecve(fd, argv.as_ptr(), sys::environ);
            });
            via("execveat", &|| unsafe {
                sys::execveat(-100, path.as_ptr(), argv.as_ptr(), sys::environ, 0);
            });
            // SAFETY: an empty pre_exec hook: std then forks and execs itself.
            let forked = unsafe { Command::new(&program).pre_exec(|| Ok(())).status() }.unwrap();
            println!("OK execvp status {:?}", forked.code());
        }
        "child" => {
            measure("procs::spawned_child_work", spawned_child_work);
            println!("OK in child");
        }
        "exec" => {
            let v = measure("procs::before_exec", before_exec);
            black_box(v);
            let exe = std::env::current_exe().unwrap();
            let err = Command::new(exe).arg("after-exec").exec();
            println!("FAIL exec: {err}");
            std::process::exit(1);
        }
        "exec-copy" => {
            let v = measure("procs::before_exec", before_exec);
            black_box(v);
            let dir = std::env::args().nth(2).expect("exec-copy DIR");
            let copy = std::path::Path::new(&dir).join("procs_copy");
            std::fs::copy(std::env::current_exe().unwrap(), &copy).unwrap();
            let err = Command::new(copy).arg("after-exec").exec();
            println!("FAIL exec: {err}");
            std::process::exit(1);
        }
        "after-exec" => {
            measure("procs::after_exec", after_exec);
            println!("OK after exec");
        }
        other => panic!("unknown mode {other:?}"),
    }
}
