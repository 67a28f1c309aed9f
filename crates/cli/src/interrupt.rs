//! Ctrl-C during a session: the terminal sends SIGINT to its whole foreground process group, so
//! the tool gets it together with cargo, the runners and the profiled programs. The programs end
//! as they would (the interposer writes their profiles first); the tool must outlive them to
//! report on what ran.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use signal_hook::consts::SIGINT;

/// Exit status of an interrupted session (128 + SIGINT, as a shell reports Ctrl-C).
pub const EXIT_STATUS: i32 = 130;

/// How long, after cargo has ended, the front end waits for the session's other processes
/// (cargo dies at once on Ctrl-C during `cargo test`; its runners and tests are still
/// finishing then).
pub const WAIT: Duration = Duration::from_secs(10);

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Front end: from here on the first SIGINT is only recorded (and said on standard error); a
/// second one ends the tool at once with [`EXIT_STATUS`], without a report. SIGINT is caught,
/// never ignored: an ignored disposition would be inherited across exec, and the programs
/// would ignore Ctrl-C too.
pub fn catch() -> Result<()> {
    // Handlers run in the order they were registered: the exit is armed by the first signal.
    signal_hook::flag::register_conditional_shutdown(SIGINT, EXIT_STATUS, &INTERRUPTED)
        .context("while setting up the Ctrl-C handler")?;
    signal_hook::flag::register(SIGINT, &INTERRUPTED)
        .context("while setting up the Ctrl-C handler")?;
    let mut signals = signal_hook::iterator::Signals::new([SIGINT])
        .context("while setting up the Ctrl-C handler")?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            eprintln!(
                "note: interrupted (Ctrl-C): the report of what ran follows once the profiled \
                 processes have ended; Ctrl-C again quits at once, without a report"
            );
        }
    });
    Ok(())
}

/// Runner: the first SIGINT is only recorded, so that the runner stays to copy the rest of
/// the test's output and write its outcome for the front end; a second one ends it as SIGINT
/// would.
pub fn survive() -> Result<()> {
    signal_hook::flag::register_conditional_default(SIGINT, &INTERRUPTED)
        .context("while setting up the Ctrl-C handler")?;
    signal_hook::flag::register(SIGINT, &INTERRUPTED)
        .context("while setting up the Ctrl-C handler")?;
    Ok(())
}

/// Whether a SIGINT came since [`catch`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Waits, at most `bound`, until no other process runs with `raw_dir` as its
/// `CARGO_ALLOC_PROFILE_OUT`: the session's cargo, runners, programs and the children they
/// started, whatever process group they are in. Returns the pids still running then.
pub fn wait_for_session(raw_dir: &Path, bound: Duration) -> Vec<u32> {
    let entry = crate::profiling_env::out_dir_entry(raw_dir);
    let deadline = Instant::now() + bound;
    loop {
        let running = session_processes(&entry);
        if running.is_empty() || Instant::now() >= deadline {
            return running;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Pids whose environment holds `entry` (`KEY=value`). A process that has ended but not been
/// reaped (a zombie) has an empty environment and is not listed.
fn session_processes(entry: &[u8]) -> Vec<u32> {
    let me = std::process::id();
    let Ok(dir) = fs_err::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = dir
        .filter_map(std::result::Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            // Other users' processes are unreadable, and none of ours.
            fs_err::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var == entry))
        })
        .collect();
    pids.sort_unstable();
    pids
}
