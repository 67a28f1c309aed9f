//! What a session needs before cargo runs: the workspace, the interposer library written out,
//! a fresh raw directory, the link-time allocator wrappers, and the environment for cargo.

use std::path::PathBuf;

use anyhow::Result;

use crate::cargo::Workspace;
use crate::cli::{CargoArgs, ProfilingArgs};
use crate::profiling_env::{CargoEnv, InterposerEnv};
use crate::raw_dir::RawDir;

/// Prepared state shared by the commands that build and run.
pub struct Session {
    pub ws: Workspace,
    /// `<target>/alloc-profile` (see [`Workspace::tool_dir`]).
    pub tool_dir: PathBuf,
    pub env: CargoEnv,
    pub raw: RawDir,
}

/// The session of one command; `per_test` for `test`, `bench` and `nextest` (their per-test peaks
/// are measured).
pub fn prepare(args: &CargoArgs, profiling: &ProfilingArgs, per_test: bool) -> Result<Session> {
    let ws = Workspace::load(args)?;
    let tool_dir = ws.tool_dir(args.target_dir.as_deref());
    let library = crate::interposer_lib::install(&tool_dir.join("lib"))?;
    let raw = RawDir::create(&tool_dir)?;
    let mut link_flags = Vec::new();
    for &allocator in &ws.allocators {
        link_flags.extend(crate::allocator_link::link_flags(
            allocator,
            &tool_dir.join("wrap"),
        )?);
    }
    let interposer = InterposerEnv {
        library,
        out_dir: raw.path().to_owned(),
        follow_children: !profiling.no_follow_children,
        lifetimes: profiling.lifetimes,
        test_peaks: per_test,
    };
    let env = CargoEnv::new(&tool_dir, &interposer, &link_flags)?;
    // Cargo caches `rustc -vV` here; the wrapper's answer names the added flags and must be asked
    // again (see `rustc_wrapper::main`).
    let _ = std::fs::remove_file(tool_dir.join(".rustc_info.json"));
    Ok(Session {
        ws,
        tool_dir,
        env,
        raw,
    })
}
