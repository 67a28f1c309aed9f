//! `cargo alloc-profile show-env`: shell lines that set up profiling by hand, for programs run by
//! the user's own harness. It installs the interposer as a session does and prints the
//! environment a session's runner gives each program (see [`crate::profiling_env`]); such
//! programs write raw profiles into the directory named there, for `report`.

use std::io::Write as _;

use anyhow::Result;

use crate::cargo::Workspace;
use crate::cli::ShowEnvArgs;
use crate::profiling_env::{self, InterposerEnv};

pub fn show_env(args: &ShowEnvArgs) -> Result<i32> {
    let ws = Workspace::load(&args.cargo)?;
    let tool_dir = ws.tool_dir(args.cargo.target_dir.as_deref());
    let library = crate::interposer_lib::install(&tool_dir.join("lib"))?;
    let out_dir = crate::raw_dir::manual(&tool_dir, args.out_dir.clone())?;
    let env = InterposerEnv {
        library,
        out_dir,
        follow_children: true,
        lifetimes: false,
        test_peaks: false,
    };
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"));
    let mut out = std::io::stdout().lock();
    for (key, value) in env.for_manual_runs() {
        writeln!(out, "export {key}={}", quote(&value))?;
    }
    writeln!(
        out,
        "# Build what you profile with frame pointers and line tables, e.g.:\n# {}",
        profiling_env::manual_build_line()
    )?;
    Ok(0)
}
