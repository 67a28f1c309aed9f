//! Ways to end: `endings return | exit3 | _exit4 | panic | abort | segv | sigterm | sigkill |
//! wait-for-signal`. Each first runs `work` (measured, its blocks kept live), then ends that way;
//! `wait-for-signal` sleeps until a signal from outside ends it (Ctrl-C), for at most 60 s.

use std::hint::black_box;
use std::time::Duration;

use robust::{measure, sys};

#[global_allocator]
static GLOBAL: robust::Counting = robust::Counting;

#[inline(never)]
fn work() -> Vec<String> {
    (0..25).map(|i| format!("work item {i}")).collect()
}

/// Sends `sig` to this process; if it is still alive 5 s later, says so and exits 99.
fn signal_self(sig: i32) -> ! {
    // SAFETY: plain system calls.
    unsafe { sys::kill(sys::getpid(), sig) };
    std::thread::sleep(Duration::from_secs(5));
    println!("FAIL still alive after signal {sig}");
    std::process::exit(99);
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let kept = measure("endings::work", work);
    black_box(&kept);
    println!("OK work done, ending by {mode}");
    match mode.as_str() {
        "return" => {}
        "exit3" => std::process::exit(3),
        // SAFETY: ends the process at once.
        "_exit4" => unsafe { sys::_exit(4) },
        "panic" => panic!("deliberate panic in main"),
        "abort" => std::process::abort(),
        // SAFETY: deliberately not safe: a write through a null pointer.
        "segv" => unsafe { std::ptr::null_mut::<u8>().write_volatile(1) },
        "sigterm" => signal_self(sys::SIGTERM),
        "sigkill" => signal_self(sys::SIGKILL),
        "wait-for-signal" => {
            std::thread::sleep(Duration::from_secs(60));
            println!("FAIL no signal came in 60 s");
            std::process::exit(99);
        }
        other => panic!("unknown mode {other:?}"),
    }
    black_box(kept);
}
