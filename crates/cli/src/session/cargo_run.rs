//! Running a session's cargo command and collecting what its processes left: Ctrl-C, the
//! processes that wrote no profile and why, and the exit status the session ends with.

use std::io::Write as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};

use super::prepare::Session;
use super::report::with_budgets;
use crate::doctests::Printed;
use crate::interrupt;
use crate::process::ProcessBuilder;
use crate::raw_dir::{self, Collected, Started};

/// How a session's cargo command ended, and what its processes left.
pub struct Ended {
    pub status: ExitStatus,
    pub collected: Collected,
    /// Ctrl-C came before cargo ended.
    pub interrupted: bool,
}

/// Runs the session's cargo command. On Ctrl-C the tool stays: cargo and the programs end as
/// they would on their own, and the report is made of what they recorded once they have ended
/// (waiting at most [`interrupt::WAIT`] for those cargo did not wait for). `printed`: read
/// rustdoc's lines on cargo's standard output while copying it through.
pub fn run_cargo(
    session: &Session,
    cmd: &ProcessBuilder,
    printed: Option<&Arc<Mutex<Printed>>>,
) -> Result<Ended> {
    interrupt::catch()?;
    let status = match printed {
        Some(printed) => status_reading_stdout(cmd, printed)?,
        None => cmd.status()?,
    };
    let (collected, interrupted) = collect_after(session.raw.path())?;
    Ok(Ended {
        status,
        collected,
        interrupted,
    })
}

/// Collects what the processes of the session whose raw directory is `raw` left, once its first
/// process (cargo, or the program `exec` started) has ended; whether Ctrl-C came. On Ctrl-C it
/// waits at most [`interrupt::WAIT`] for the processes still running, and the notes say so.
pub fn collect_after(raw: &Path) -> Result<(Collected, bool)> {
    let interrupted = interrupt::interrupted();
    let still_running = if interrupted {
        interrupt::wait_for_session(raw, interrupt::WAIT)
    } else {
        Vec::new()
    };
    let mut collected = collect(raw, &still_running)?;
    if interrupted {
        let others: Vec<String> = still_running
            .iter()
            .filter(|&&pid| !collected.started.iter().any(|s| s.pid == pid))
            .map(u32::to_string)
            .collect();
        if !others.is_empty() {
            collected.problems.insert(
                0,
                format!(
                    "other processes of this session (pids {}) were still running {} s after \
                     Ctrl-C, when this report was made: what they had allocated is not in it",
                    others.join(", "),
                    interrupt::WAIT.as_secs()
                ),
            );
        }
        collected.problems.insert(
            0,
            "interrupted (Ctrl-C): this report covers what ran until then".to_owned(),
        );
    }
    Ok((collected, interrupted))
}

/// Runs `cmd` with its standard output copied through unchanged and fed to `printed`.
fn status_reading_stdout(
    cmd: &ProcessBuilder,
    printed: &Arc<Mutex<Printed>>,
) -> Result<ExitStatus> {
    use std::io::Read as _;
    let mut child = cmd
        .command()
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("could not run `{cmd}`"))?;
    let from = child.stdout.take();
    let printed = Arc::clone(printed);
    let copier = std::thread::spawn(move || {
        let Some(mut from) = from else { return };
        let mut buf = [0u8; 8192];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let mut to = std::io::stdout().lock();
            // A closed standard output is the reader's business; keep draining cargo.
            let _ = to.write_all(&buf[..n]).and_then(|()| to.flush());
            printed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .feed(&buf[..n]);
        }
    });
    let status = child
        .wait()
        .with_context(|| format!("while waiting for `{cmd}`"))?;
    // Programs cargo started may hold the pipe open after it ended (after Ctrl-C): what they
    // print later is not waited for long.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while !copier.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    if copier.is_finished() {
        let _ = copier.join();
    }
    Ok(status)
}

/// The tool's exit status after a program's report: the interrupted status after Ctrl-C, else the
/// program's own; when that is success, the tool error when nothing was recorded, else 1 when a
/// budget was exceeded.
pub fn program_status(
    status: ExitStatus,
    interrupted: bool,
    collected: &Collected,
    exceeded: usize,
) -> i32 {
    if interrupted || interrupt::interrupted() {
        return interrupted_status();
    }
    let code = exit_code(status);
    if code == 0 {
        nothing_recorded(collected).unwrap_or(with_budgets(code, exceeded))
    } else {
        code
    }
}

/// The last line of an interrupted session, after its report; its exit status.
pub fn interrupted_status() -> i32 {
    eprintln!("error: interrupted (Ctrl-C): the report covers what ran until then");
    interrupt::EXIT_STATUS
}

/// Reads what the session's processes wrote into `dir`. `still_running`: pids that had not ended
/// when the report was made (after Ctrl-C).
fn collect(dir: &Path, still_running: &[u32]) -> Result<Collected> {
    let mut out = raw_dir::read(dir)?;
    for s in &out.started {
        if out.profiles.iter().any(|p| p.header.pid == s.pid) {
            continue;
        }
        out.problems.push(if still_running.contains(&s.pid) {
            format!(
                "{} (pid {}) was still running {} s after Ctrl-C, when this report was made: \
                 nothing it allocated is in it",
                s.exe.display(),
                s.pid,
                interrupt::WAIT.as_secs()
            )
        } else {
            no_profile_reason(s)
        });
    }
    Ok(out)
}

/// When processes ran but none could be profiled (a static executable, say), the report is empty
/// for a reason the user must see: an error line and the tool-error status instead of success.
pub fn nothing_recorded(collected: &Collected) -> Option<i32> {
    if !collected.profiles.is_empty() {
        return None;
    }
    let why = collected
        .problems
        .first()
        .map_or("no process wrote a profile", String::as_str);
    eprintln!("error: nothing was recorded: {why}");
    Some(2)
}

/// Why a started process left no profile, as far as can be told.
fn no_profile_reason(s: &Started) -> String {
    use alloc_profile_format::elf::{loader, Loader};
    let exe = s.exe.display();
    match loader(&crate::elf::head(&s.exe)) {
        Loader::Static => format!(
            "{exe} is statically linked, so the interposer could not be loaded into it: nothing \
             was recorded. Build it for the default x86_64-unknown-linux-gnu target with dynamic \
             linking to profile it"
        ),
        Loader::Other(path) => format!(
            "{exe} is linked against another C library than glibc (its loader is {}), which \
             cannot load the interposer: it ran unprofiled and nothing was recorded. Build it for \
             the x86_64-unknown-linux-gnu target to profile it",
            String::from_utf8_lossy(path)
        ),
        Loader::Glibc => format!(
            "{exe} (pid {}) wrote no profile: it was killed in a way no handler can see (SIGKILL, \
             or a crash inside the profiler's own writer), so nothing it allocated was recorded",
            s.pid
        ),
        Loader::Unknown => format!("{exe} (pid {}) wrote no profile", s.pid),
    }
}

/// Exit code for a finished process: its own code, or 128 + signal.
pub fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}
