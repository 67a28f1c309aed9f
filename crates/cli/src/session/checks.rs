//! What can be found wrong before anything is built or run: the paths given on the command line
//! and report options that cannot be served.

use std::path::Path;

use anyhow::Result;

use crate::cli::{CargoArgs, Format, ReportArgs};

/// What can be found wrong before anything is built or run, so that a mistake costs no build and
/// loses no profile: the paths given on the command line.
pub fn before_work(cargo: &CargoArgs, report: &ReportArgs) -> Result<()> {
    if let Some(path) = &cargo.manifest_path {
        manifest_path(path)?;
    }
    if let Some(dir) = &cargo.target_dir {
        if dir.exists() && !dir.is_dir() {
            anyhow::bail!(
                "--target-dir {}: not a directory; name a directory for the build",
                dir.display()
            );
        }
    }
    match &report.output {
        Some(path) => output(path)?,
        None if report.format != Format::Text => anyhow::bail!(
            "--format {} needs -o FILE here: on standard output the report would be mixed with \
             what the programs print there (`-o -` writes it there all the same)",
            report.format.name()
        ),
        None => {}
    }
    crate::views::check(report)
}

pub fn manifest_path(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => anyhow::bail!(
            "--manifest-path {}: a directory; pass the path of its Cargo.toml",
            path.display()
        ),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("--manifest-path {}: no such file", path.display())
        }
        Err(e) => anyhow::bail!("--manifest-path {}: {e}", path.display()),
    }
}

/// The report can be written to `path` once everything has run: its directory exists and a file
/// can be created there (or the existing file opened for writing; neither is left changed).
pub fn output(path: &Path) -> Result<()> {
    if is_stdout(path) {
        return Ok(());
    }
    let shown = path.display();
    if path.is_dir() {
        anyhow::bail!("-o {shown}: a directory; name the file to write the report to");
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            anyhow::bail!("-o {shown}: {} is not a directory", dir.display())
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "-o {shown}: the directory {} does not exist; create it first",
            dir.display()
        ),
        Err(e) => anyhow::bail!("-o {shown}: {}: {e}", dir.display()),
    }
    let mut open = std::fs::OpenOptions::new();
    open.write(true);
    if path.exists() {
        open.open(path)
            .map_err(|e| anyhow::anyhow!("-o {shown}: cannot write to it: {e}"))?;
    } else {
        open.create_new(true)
            .open(path)
            .map_err(|e| anyhow::anyhow!("-o {shown}: cannot create it: {e}"))?;
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// `-o -`: standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}
