//! While the program `exec` started runs, its module files are read on a thread of their own:
//! their debug info is most of the report's work, the tool only waits meanwhile, and a program
//! that keeps one core busy leaves the other idle. Which files: the executable mappings the
//! program's `/proc/<pid>/maps` lists (its executable, then its libraries once the loader has
//! mapped them, and those it opens later), read again after each file and every [`POLL`] while
//! nothing is new.
//!
//! It changes no report: the symbolizer uses a file read ahead only where it is the file a
//! module names (see [`alloc_profile_symbolize::ReadAhead`]), and loads everything else itself.
//! Nothing here fails a session: a program gone, a file unreadable or not an object file, a
//! thread that cannot start, only leave less read ahead.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the program's mappings are looked at again while none is new.
const POLL: Duration = Duration::from_millis(20);

/// The thread reading a running program's module files.
pub struct ReadAhead {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<alloc_profile_symbolize::ReadAhead>,
}

impl ReadAhead {
    /// Starts reading the files process `pid` has mapped for execution, except `skip` (the
    /// interposer, which the symbolizer never reads); `None` if no thread could start.
    pub fn start(pid: u32, skip: &Path) -> Option<ReadAhead> {
        let skip = std::fs::canonicalize(skip).unwrap_or_else(|_| skip.to_owned());
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("read-ahead".to_owned())
            .spawn(move || read(pid, &skip, &stopped))
            .ok()?;
        Some(ReadAhead { stop, thread })
    }

    /// Stops after the file being read and hands over what was read.
    pub fn finish(self) -> alloc_profile_symbolize::ReadAhead {
        // The thread may have ended on its own; then nobody receives.
        let _ = self.stop.send(());
        self.thread.join().unwrap_or_default()
    }
}

fn read(pid: u32, skip: &Path, stopped: &mpsc::Receiver<()>) -> alloc_profile_symbolize::ReadAhead {
    let mut files = alloc_profile_symbolize::ReadAhead::default();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let maps = PathBuf::from(format!("/proc/{pid}/maps"));
    loop {
        // Gone (and reaped) once the program has ended.
        let Ok(text) = fs_err::read_to_string(&maps) else {
            return files;
        };
        let new: Vec<PathBuf> = executable_files(&text)
            .filter(|path| path != skip && seen.insert(path.clone()))
            .collect();
        if new.is_empty() {
            match stopped.recv_timeout(POLL) {
                Err(RecvTimeoutError::Timeout) => continue,
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return files,
            }
        }
        for path in new {
            if !matches!(stopped.try_recv(), Err(TryRecvError::Empty)) {
                return files;
            }
            files.add(&path);
        }
    }
}

/// The files mapped executable in a `/proc/<pid>/maps` text, in its order, each once. Mappings
/// without a file (`[vdso]`, anonymous) and of files deleted since are left out.
fn executable_files(maps: &str) -> impl Iterator<Item = PathBuf> + '_ {
    let mut seen = HashSet::new();
    maps.lines().filter_map(move |line| {
        // address perms offset dev inode path; the path may contain spaces.
        let mut fields = line.splitn(6, ' ');
        let perms = fields.nth(1)?;
        let path = fields.nth(3)?.trim_start();
        let wanted = perms.contains('x') && path.starts_with('/') && !path.ends_with(" (deleted)");
        (wanted && seen.insert(path)).then(|| PathBuf::from(path))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executable_mappings_with_a_file_each_once() {
        let maps = "\
55d0c0a00000-55d0c0a10000 r--p 00000000 08:01 1234                       /work/my prog
55d0c0a10000-55d0c0a90000 r-xp 00010000 08:01 1234                       /work/my prog
55d0c0b00000-55d0c0b21000 rw-p 00000000 00:00 0                          [heap]
7f0000000000-7f0000100000 r-xp 00028000 08:01 99                         /usr/lib/x86_64-linux-gnu/libc.so.6
7f0000200000-7f0000210000 r-xp 00001000 08:01 98                         /tmp/old.so (deleted)
7f0000300000-7f0000310000 r-xp 00000000 00:00 0
7f0000400000-7f0000401000 r-xp 00000000 00:00 0                          [vdso]
7f0000500000-7f0000510000 r-xp 00001000 08:01 99                         /usr/lib/x86_64-linux-gnu/libc.so.6
";
        let got: Vec<PathBuf> = executable_files(maps).collect();
        assert_eq!(
            got,
            [
                PathBuf::from("/work/my prog"),
                PathBuf::from("/usr/lib/x86_64-linux-gnu/libc.so.6"),
            ]
        );
    }
}
