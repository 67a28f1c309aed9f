//! A test that is still running when Ctrl-C comes. With `WAIT_FOR_SIGNAL` set it runs `work`
//! (measured, its blocks kept live), says so, then waits, for at most 60 s, for a signal from
//! outside:
//! - `WAIT_FOR_SIGNAL=die`: SIGINT's default action ends the test binary;
//! - `WAIT_FOR_SIGNAL=shut-down`: a SIGINT handler of its own lets the test shut down as a server
//!   would: half a second later it runs `shutdown` (measured) and the test passes.
//!
//! Without it the test returns at once. Run it with `--nocapture` to see its lines as it prints
//! them.

use std::ffi::c_int;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use robust::{measure, sys};

#[global_allocator]
static GLOBAL: robust::Counting = robust::Counting;

static GOT_SIGINT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: c_int) {
    GOT_SIGINT.store(true, Ordering::SeqCst);
}

#[inline(never)]
fn work() -> Vec<String> {
    (0..25).map(|i| format!("test work item {i}")).collect()
}

#[inline(never)]
fn shutdown() -> Vec<String> {
    (0..7).map(|i| format!("shutdown step {i}")).collect()
}

#[test]
fn waits_for_a_signal() {
    let Some(mode) = std::env::var_os("WAIT_FOR_SIGNAL") else {
        return;
    };
    if mode == "shut-down" {
        // SAFETY: the handler only stores to an atomic.
        unsafe { sys::signal(sys::SIGINT, on_sigint) };
    }
    let kept = measure("interrupted::work", work);
    black_box(&kept);
    println!("OK test work done, waiting for a signal");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if GOT_SIGINT.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(500));
            black_box(measure("interrupted::shutdown", shutdown));
            println!("OK shut down after SIGINT");
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("FAIL no signal came in 60 s");
    black_box(kept);
}
