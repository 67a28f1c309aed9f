//! Runs a system program to the end (procps' `kill -0 <its own pid>`, which only checks that the
//! process exists), then sends itself SIGKILL: the child wrote a profile, the program writes none.
//! Prints `OK` before, and `FAIL` if it is still alive 5 s later.

use std::hint::black_box;
use std::process::Command;
use std::time::Duration;

use robust::sys;

#[inline(never)]
fn work() -> Vec<String> {
    (0..25).map(|i| format!("work item {i}")).collect()
}

fn main() {
    let kept = black_box(work());
    let checked = Command::new("kill")
        .args(["-0", &std::process::id().to_string()])
        .status()
        .expect("run kill -0");
    assert!(checked.success(), "kill -0: {checked}");
    println!("OK work done, ending by SIGKILL after a child");
    // SAFETY: plain system calls.
    unsafe { sys::kill(sys::getpid(), sys::SIGKILL) };
    std::thread::sleep(Duration::from_secs(5));
    println!("FAIL still alive after SIGKILL");
    black_box(kept);
    std::process::exit(99);
}
