//! Talking to cargo: workspace metadata, and the environment of a profiled build.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use serde::Deserialize;

use crate::cli::CargoArgs;
use crate::process::ProcessBuilder;
use crate::roles;

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
    pub allocators: Vec<crate::wrap::Allocator>,
    /// Allocation budgets of the workspace and its member packages (see [`crate::budgets`]).
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
        let allocators = crate::wrap::detect(resolved);
        let mut budgets = crate::budgets::from_metadata(
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
                budgets.extend(crate::budgets::from_metadata(
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

/// The host target triple, from `rustc -vV`.
pub fn host_triple() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = ProcessBuilder::new(rustc).arg("-vV").read()?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .context("`rustc -vV` did not name the host target")
}

/// Everything a profiled cargo invocation needs in its environment.
pub struct BuildEnv {
    vars: Vec<(String, OsString)>,
}

impl BuildEnv {
    /// `target_dir`: the profiled build's target directory; `raw_dir`: where raw profiles go;
    /// `preload`: the interposer library.
    pub fn new(
        target_dir: &Path,
        raw_dir: &Path,
        preload: &Path,
        link_flags: &[String],
        follow_children: bool,
        lifetimes: bool,
    ) -> Result<Self> {
        let self_exe = std::env::current_exe().context("while locating this executable")?;
        let self_str = self_exe.to_string_lossy().into_owned();
        if self_str.chars().any(char::is_whitespace) {
            bail!(
                "this executable's path contains whitespace ({self_str}), which cargo's runner \
                 setting cannot express; install cargo-alloc-profile to a path without spaces"
            );
        }
        let triple = host_triple()?;
        let triple_key = triple.to_uppercase().replace(['-', '.'], "_");
        let mut vars: Vec<(String, OsString)> = vec![
            ("CARGO_TARGET_DIR".into(), target_dir.into()),
            (
                format!("CARGO_TARGET_{triple_key}_RUNNER"),
                format!("{self_str} {}", roles::RUNNER_ARG).into(),
            ),
            ("RUSTC_WRAPPER".into(), self_exe.clone().into()),
            (roles::ROLE.into(), "1".into()),
            (roles::PRELOAD.into(), preload.into()),
            (roles::OUT_DIR.into(), raw_dir.into()),
        ];
        if let Some(inner) = std::env::var_os("RUSTC_WRAPPER").filter(|w| !w.is_empty()) {
            vars.push((roles::INNER_WRAPPER.into(), inner));
        }
        // C and C++ compiled by build scripts (the cc crate reads these) keep frame pointers too,
        // so the walk goes through C frames in release builds; appended to the user's own.
        for key in ["CFLAGS", "CXXFLAGS"] {
            let mut value = std::env::var_os(key).unwrap_or_default();
            if !value.is_empty() {
                value.push(" ");
            }
            value.push("-fno-omit-frame-pointer");
            vars.push((key.into(), value));
        }
        if !follow_children {
            vars.push((roles::FOLLOW_CHILDREN.into(), "0".into()));
        }
        if lifetimes {
            vars.push((roles::LIFETIMES.into(), "1".into()));
        }
        if !link_flags.is_empty() {
            vars.push((roles::LINK_FLAGS.into(), link_flags.join("\u{1f}").into()));
        }
        // Line tables and inline info (module paths of inlined closures survive "limited", not
        // "line-tables-only"), and no stripping: release profiles strip by default.
        // A custom profile gets the same through `--config` (see `CargoArgs::to_cargo_args`): the
        // environment form is ambiguous for names with dashes (`release-lto`).
        for p in ["DEV", "RELEASE", "TEST", "BENCH"] {
            vars.push((format!("CARGO_PROFILE_{p}_DEBUG"), "limited".into()));
            vars.push((format!("CARGO_PROFILE_{p}_STRIP"), "false".into()));
        }
        // The profiled program gets back the environment it would have had.
        let restore: Vec<(String, Option<OsString>)> = vars
            .iter()
            .filter(|(k, _)| {
                // What the interposer itself reads stays set for the program.
                ![
                    roles::ROLE,
                    roles::PRELOAD,
                    roles::OUT_DIR,
                    roles::LINK_FLAGS,
                    roles::FOLLOW_CHILDREN,
                    roles::LIFETIMES,
                ]
                .contains(&k.as_str())
            })
            .map(|(k, _)| (k.clone(), std::env::var_os(k)))
            .collect();
        vars.push((
            roles::RESTORE.into(),
            roles::encode_restore(&restore).into(),
        ));
        Ok(Self { vars })
    }

    pub fn apply(&self, cmd: &mut ProcessBuilder) {
        // A stale inner-wrapper setting from an outer profiling run must not leak in.
        cmd.env_remove(roles::INNER_WRAPPER);
        for (k, v) in &self.vars {
            cmd.env(k, v.clone());
        }
    }
}
