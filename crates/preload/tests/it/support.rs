//! Building the interposer and the fixtures once per test run, running fixtures under it, decoding
//! what they wrote.
//!
//! The interposer is built the way the cli's build.rs builds it (plain rustc, frame pointers,
//! panic=abort), not taken from cargo's target dir: cargo's build of this crate has no frame pointers
//! in our own code, so every stack would go through the (correct but slow) DWARF fallback and the
//! tests would not exercise what ships. Needs `rustc` (or `$RUSTC`) and `cc` on PATH; about 1.5 s.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use alloc_profile_format::{RawProfile, SiteCounters, Stack};

pub struct Built {
    /// Built as the cli's build.rs builds it: plain rustc, opt-level 3, frame pointers, stripped.
    pub preload: PathBuf,
    pub c_program: PathBuf,
    pub rust_program: PathBuf,
}

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn work_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("preload-it")
}

fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned())
}

/// Runs a build command; panics with its output if it fails.
fn build(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds into a name private to this process, then renames into place, so concurrent test runs do
/// not see each other's half-written files.
fn build_to(final_path: &Path, f: impl FnOnce(&Path)) {
    let tmp = final_path.with_extension(format!("tmp{}", std::process::id()));
    f(&tmp);
    fs::rename(&tmp, final_path).unwrap();
}

/// rustc flags of the cli's build.rs for the interposer and the format crate.
const COMMON: [&str; 10] = [
    "--edition",
    "2021",
    "-C",
    "opt-level=3",
    "-C",
    "panic=abort",
    "-C",
    "force-frame-pointers=yes",
    "-C",
    "debuginfo=0",
];

/// Builds the interposer into `dir/<file>` against the format rlib in `dir`, with `extra` flags.
fn build_preload(dir: &Path, file: &str, extra: &[&str]) -> PathBuf {
    let rlib = dir.join("liballoc_profile_format.rlib");
    let preload = dir.join(file);
    build_to(&preload, |out| {
        build(
            Command::new(rustc())
                .args(COMMON)
                .args([
                    "--crate-type",
                    "cdylib",
                    "--crate-name",
                    "alloc_profile_preload",
                ])
                .arg(crate_dir().join("src/lib.rs"))
                .args(["-C", "strip=symbols", "-C", "codegen-units=1"])
                .args(["-D", "warnings", "--extern"])
                .arg(format!("alloc_profile_format={}", rlib.display()))
                .arg("-L")
                .arg(dir)
                .args(extra)
                .arg("-o")
                .arg(out),
        );
    });
    preload
}

/// The interposer built with the test-only feature `test-heap-violation`: its malloc hook uses the
/// Rust heap once (see `src/noheap.rs`).
pub fn heap_violation_preload() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        built();
        build_preload(
            &work_dir(),
            "liballoc_profile_preload_heap_violation.so",
            &["--cfg", "feature=\"test-heap-violation\""],
        )
    })
}

pub fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = work_dir();
        fs::create_dir_all(&dir).unwrap();
        let workspace = crate_dir().parent().unwrap();
        let rlib = dir.join("liballoc_profile_format.rlib");
        build_to(&rlib, |out| {
            build(
                Command::new(rustc())
                    .args(COMMON)
                    .args([
                        "--crate-type",
                        "rlib",
                        "--crate-name",
                        "alloc_profile_format",
                    ])
                    .arg(workspace.join("format/src/lib.rs"))
                    .arg("-o")
                    .arg(out),
            );
        });
        let preload = build_preload(&dir, "liballoc_profile_preload.so", &[]);
        let c_program = dir.join("c_program");
        build_to(&c_program, |out| {
            build(
                Command::new("cc")
                    .args(["-O0", "-g", "-fno-omit-frame-pointer", "-pthread", "-w"])
                    .arg(crate_dir().join("tests/fixtures/program.c"))
                    .arg("-o")
                    .arg(out),
            );
        });
        let rust_program = dir.join("rust_program");
        build_to(&rust_program, |out| {
            build(
                Command::new(rustc())
                    .args(["--edition", "2021", "-C", "force-frame-pointers=yes", "-g"])
                    .arg(crate_dir().join("tests/fixtures/program.rs"))
                    .arg("-o")
                    .arg(out),
            );
        });
        Built {
            preload,
            c_program,
            rust_program,
        }
    })
}

/// A fresh, empty directory for one test's profiles.
pub fn fresh_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = work_dir().join("runs").join(format!(
        "{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

pub struct Run {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// Every file name in the output directory, sorted.
    pub files: Vec<String>,
    /// Decoded profiles, by file name order.
    pub profiles: Vec<RawProfile>,
}

/// How the output directory is handed to the program.
pub enum Out<'a> {
    Dir(&'a Path),
    Empty,
    Unset,
}

/// Runs `program args` with the interposer preloaded; kills it after 30 s.
pub fn run(program: &Path, args: &[&str], out: Out<'_>, listing: &Path) -> Run {
    run_with(program, args, &[], out, listing)
}

/// [`run`] with extra environment variables (which may replace `LD_PRELOAD`).
pub fn run_with(
    program: &Path,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
    out: Out<'_>,
    listing: &Path,
) -> Run {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env("LD_PRELOAD", &built().preload)
        .env_remove("CARGO_ALLOC_PROFILE_OUT")
        .env_remove("CARGO_ALLOC_PROFILE_FOLLOW_CHILDREN")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match out {
        Out::Dir(dir) => {
            cmd.env("CARGO_ALLOC_PROFILE_OUT", dir);
        }
        Out::Empty => {
            cmd.env("CARGO_ALLOC_PROFILE_OUT", "");
        }
        Out::Unset => {}
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{program:?} {args:?} did not finish in 30 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let output = child.wait_with_output().unwrap();
    let mut files: Vec<String> = fs::read_dir(listing)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let profiles = files
        .iter()
        .filter(|f| f.ends_with(".aprof"))
        .map(|f| {
            let data = fs::read(listing.join(f)).unwrap();
            alloc_profile_format::read(&data).unwrap_or_else(|e| panic!("{f}: {e}"))
        })
        .collect();
    Run {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        files,
        profiles,
    }
}

impl Run {
    pub fn only_profile(&self) -> &RawProfile {
        assert_eq!(
            self.profiles.len(),
            1,
            "files: {:?}\nstderr: {}",
            self.files,
            self.stderr
        );
        &self.profiles[0]
    }

    /// `name=value` from a fixture's `key=value` output lines.
    pub fn value(&self, name: &str) -> String {
        self.stdout
            .lines()
            .chain(self.stderr.lines())
            .flat_map(str::split_whitespace)
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {name}= in output:\n{}{}", self.stdout, self.stderr))
            .to_owned()
    }
}

/// Facts about one decoded profile.
pub trait ProfileExt {
    fn exe_text(&self) -> &[(u64, u64)];
    fn in_exe(&self, addr: u64) -> bool;
    fn stack_of(&self, id: u32) -> &Stack;
    /// The single site whose largest request was `size` (fixtures use sizes nothing else uses).
    fn site_of_size(&self, size: u64) -> &SiteCounters;
    fn sites_of_size(&self, size: u64) -> Vec<&SiteCounters>;
    /// Sites whose innermost frame is in the executable (the program's own allocations, not glibc's).
    fn exe_sites(&self) -> Vec<&SiteCounters>;
    fn check_totals(&self);
}

impl ProfileExt for RawProfile {
    fn exe_text(&self) -> &[(u64, u64)] {
        &self.modules[0].ranges
    }

    fn in_exe(&self, addr: u64) -> bool {
        self.exe_text().iter().any(|&(s, e)| addr >= s && addr < e)
    }

    fn stack_of(&self, id: u32) -> &Stack {
        self.stack(id).unwrap_or_else(|| panic!("no stack {id}"))
    }

    fn site_of_size(&self, size: u64) -> &SiteCounters {
        let sites = self.sites_of_size(size);
        assert_eq!(sites.len(), 1, "sites of size {size}: {sites:?}");
        sites[0]
    }

    fn sites_of_size(&self, size: u64) -> Vec<&SiteCounters> {
        self.sites.iter().filter(|s| s.max_size == size).collect()
    }

    fn exe_sites(&self) -> Vec<&SiteCounters> {
        self.sites
            .iter()
            .filter(|s| {
                self.stack_of(s.stack)
                    .frames
                    .first()
                    .is_some_and(|&f| self.in_exe(f))
            })
            .collect()
    }

    /// Cross-checks every profile must pass.
    fn check_totals(&self) {
        // Every stack written is referenced: by a site, a thread's spawn, or as a parent.
        for stack in &self.stacks {
            assert!(
                self.sites.iter().any(|s| s.stack == stack.id)
                    || self.threads.iter().any(|t| t.spawn_stack == stack.id)
                    || self.stacks.iter().any(|s| s.parent == stack.id),
                "unreferenced stack {stack:?}"
            );
        }
        let sum: u64 = self.sites.iter().map(|s| s.allocations).sum();
        assert_eq!(self.end.allocations, sum + self.end.unattributed);
        assert_eq!(self.end.unattributed, 0);
        for s in &self.sites {
            assert_eq!(
                s.allocations,
                s.frees + s.live_allocations,
                "site {s:?}: allocations = frees + live"
            );
            assert_eq!(s.bytes, s.freed_bytes + s.live_bytes, "site {s:?}");
            assert!(s.reallocations <= s.allocations);
        }
        assert!(!self.modules.is_empty() && !self.exe_text().is_empty());
        assert_eq!(self.threads[0].index, 0);
        assert!(self.end.elapsed_ns > 0);
        assert!(self.end.peak_time_ns <= self.end.elapsed_ns);
    }
}
