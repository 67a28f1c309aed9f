//! The rustc-wrapper role: cargo calls this binary as `RUSTC_WRAPPER` for every compilation of a
//! profiled build, and it adds `-C force-frame-pointers=yes` on top of the user's own flags from
//! the environment and from cargo config (setting `RUSTFLAGS` instead would silently drop the
//! config ones), plus, for crates that link an executable, the link-time allocator wrappers (see
//! [`crate::allocator_link`]). The user's own wrapper (sccache, …) is called in turn.

use std::ffi::OsString;
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result};

use crate::profiling_env::{self, ROLE, RUSTC_FLAGS};

/// `argv = [self, rustc, args…]`. Only returns on error.
pub fn main() -> Result<()> {
    let mut args = std::env::args_os().skip(1);
    let rustc = args
        .next()
        .context("called as a rustc wrapper without a rustc path")?;
    let args: Vec<OsString> = args.collect();
    if args.len() == 1 && args[0] == "-vV" {
        return version_with_flags(&rustc);
    }
    let compiling = args.iter().any(|a| a == "--crate-name");
    let mut cmd = match profiling_env::inner_wrapper() {
        Some(inner) => {
            let mut c = Command::new(inner);
            c.arg(&rustc);
            c
        }
        None => Command::new(&rustc),
    };
    cmd.args(&args);
    if compiling {
        cmd.args(RUSTC_FLAGS);
        if crate::allocator_link::links_executable(&args) {
            cmd.args(profiling_env::added_link_flags().0);
        }
    }
    cmd.env_remove(ROLE);
    let err = cmd.exec();
    Err(err).with_context(|| format!("could not run {}", Path::new(&rustc).display()))
}

/// `rustc -vV` with one more line naming the flags this wrapper adds. Cargo hashes this output
/// into every fingerprint, so builds made with other added flags (another allocator wrapper, a
/// newer version of this tool) are rebuilt instead of reused. Cargo ignores lines it does not
/// know.
fn version_with_flags(rustc: &std::ffi::OsStr) -> Result<()> {
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .with_context(|| format!("could not run {}", Path::new(rustc).display()))?;
    let (_, link) = profiling_env::added_link_flags();
    let hash = RUSTC_FLAGS
        .iter()
        .flat_map(|f| f.bytes())
        .chain(link.as_encoded_bytes().iter().copied())
        .chain(env!("CARGO_PKG_VERSION").bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out.stdout)?;
    if out.status.success() {
        writeln!(stdout, "alloc-profile-flags: {hash:016x}")?;
    }
    std::io::stderr().write_all(&out.stderr)?;
    std::process::exit(out.status.code().unwrap_or(1));
}
