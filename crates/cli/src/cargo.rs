//! Talking to cargo: which cargo to run, and what `cargo metadata` says about the workspace
//! (members, dependencies, targets, allocators, budgets). The environment of a profiled build is
//! [`crate::profiling_env`]'s.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use serde::Deserialize;

use crate::cli::CargoArgs;
use crate::process::ProcessBuilder;

pub fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

#[derive(Debug, Deserialize)]
struct RawMetadata {
    packages: Vec<RawPackage>,
    workspace_members: Vec<String>,
    workspace_root: PathBuf,
    target_directory: PathBuf,
    resolve: Option<RawResolve>,
    /// `[workspace.metadata]`.
    #[serde(default)]
    metadata: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct RawResolve {
    nodes: Vec<RawNode>,
}

#[derive(Debug, Deserialize)]
struct RawNode {
    id: String,
    #[serde(default)]
    features: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RawPackage {
    id: String,
    name: String,
    manifest_path: PathBuf,
    targets: Vec<RawTarget>,
    /// `[package.metadata]`.
    #[serde(default)]
    metadata: serde_json::Value,
}

#[derive(Debug, Deserialize, Clone)]
pub struct RawTarget {
    pub name: String,
    pub kind: Vec<String>,
    pub src_path: PathBuf,
}

/// What the profiler needs to know about the user's workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub target_directory: PathBuf,
    /// Member packages: (package root directory, crate name).
    pub members: Vec<(PathBuf, String)>,
    /// Every other package in the dependency graph: (package root directory, crate name).
    pub dependencies: Vec<(PathBuf, String)>,
    /// Targets of the member packages.
    pub targets: Vec<RawTarget>,
    /// Global allocator libraries in the dependency graph that need link-time wrappers.
    pub allocators: Vec<crate::allocator_link::Allocator>,
    /// Allocation budgets of the workspace and its member packages (see [`crate::budget_config`]).
    pub budgets: Vec<alloc_profile_report::budget::Budget>,
}

impl Workspace {
    /// Runs `cargo metadata` with the user's manifest path and feature selection.
    pub fn load(args: &CargoArgs) -> Result<Self> {
        let mut cmd = ProcessBuilder::new(cargo_program());
        cmd.args(["metadata", "--format-version", "1"]);
        if let Some(path) = &args.manifest_path {
            cmd.arg("--manifest-path").arg(path);
        }
        for f in &args.features {
            cmd.args(["--features", f]);
        }
        for (set, flag) in [
            (args.all_features, "--all-features"),
            (args.no_default_features, "--no-default-features"),
            (args.locked, "--locked"),
            (args.offline, "--offline"),
            (args.frozen, "--frozen"),
        ] {
            if set {
                cmd.arg(flag);
            }
        }
        let json = match cmd.read() {
            Ok(json) => json,
            Err(e) => {
                let msg = format!("{e:#}");
                if msg.contains("could not find `Cargo.toml`") {
                    let here = std::env::current_dir().unwrap_or_default();
                    bail!(
                        "no Cargo.toml in {} or any parent directory: run this inside a Cargo \
                         project, or pass --manifest-path",
                        here.display()
                    );
                }
                return Err(e).context("while reading the workspace layout");
            }
        };
        let raw: RawMetadata =
            serde_json::from_str(&json).context("while parsing `cargo metadata` output")?;
        let mut members = Vec::new();
        let mut dependencies = Vec::new();
        let mut targets = Vec::new();
        let features: std::collections::HashMap<&str, &[String]> = raw
            .resolve
            .iter()
            .flat_map(|r| &r.nodes)
            .map(|n| (n.id.as_str(), &n.features[..]))
            .collect();
        let resolved: Vec<(&str, &[String])> = raw
            .packages
            .iter()
            .filter_map(|p| Some((p.name.as_str(), *features.get(p.id.as_str())?)))
            .collect();
        let allocators = crate::allocator_link::detect(resolved);
        let mut budgets = crate::budget_config::from_metadata(
            &raw.metadata,
            "workspace.metadata",
            &raw.workspace_root.join("Cargo.toml").display().to_string(),
        )?;
        for pkg in raw.packages {
            let dir = pkg
                .manifest_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let crate_name = pkg.name.replace('-', "_");
            if raw.workspace_members.contains(&pkg.id) {
                budgets.extend(crate::budget_config::from_metadata(
                    &pkg.metadata,
                    "package.metadata",
                    &pkg.manifest_path.display().to_string(),
                )?);
                members.push((dir, crate_name));
                targets.extend(pkg.targets);
            } else {
                dependencies.push((dir, crate_name));
            }
        }
        Ok(Self {
            root: raw.workspace_root,
            target_directory: raw.target_directory,
            members,
            dependencies,
            budgets,
            targets,
            allocators,
        })
    }

    /// No workspace: for reports on raw profiles made outside any Cargo project.
    pub fn empty() -> Self {
        Self {
            root: PathBuf::new(),
            target_directory: PathBuf::from("target"),
            members: Vec::new(),
            dependencies: Vec::new(),
            targets: Vec::new(),
            allocators: Vec::new(),
            budgets: Vec::new(),
        }
    }

    /// `<target-dir>/alloc-profile`, absolute: the profiled build, raw profiles and the fallback
    /// library cache live there. `--target-dir` overrides cargo's target directory.
    pub fn tool_dir(&self, target_dir: Option<&Path>) -> PathBuf {
        let base = target_dir.unwrap_or(&self.target_directory);
        std::path::absolute(base)
            .unwrap_or_else(|_| base.to_owned())
            .join("alloc-profile")
    }

    /// The source of the member target named `name` with one of `kinds`, relative to the root.
    pub fn target_source(&self, name: &str, kinds: &[&str]) -> Option<PathBuf> {
        let t = self
            .targets
            .iter()
            .find(|t| t.name == name && t.kind.iter().any(|k| kinds.contains(&k.as_str())))?;
        Some(
            t.src_path
                .strip_prefix(&self.root)
                .unwrap_or(&t.src_path)
                .to_path_buf(),
        )
    }
}
