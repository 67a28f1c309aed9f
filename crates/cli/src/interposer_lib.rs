//! The interposer library, embedded in this binary at build time and written out on first use.
//!
//! It is written once per content to a user-owned cache directory, under a name carrying its
//! content hash, through a temporary file and an atomic rename, and read back to verify it before
//! anything is told to preload it. A directory that another user could write to is refused: a
//! library planted there would run inside every profiled program.

use std::io::Write as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

use fs_err::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

static PRELOAD: &[u8] = include_bytes!(env!("ALLOC_PROFILE_PRELOAD_SO"));

/// FNV-1a, 64 bits: names the file by its content (verification compares the bytes themselves).
fn content_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `$XDG_CACHE_HOME/cargo-alloc-profile`, else `$HOME/.cache/cargo-alloc-profile`, else `fallback`.
fn cache_dir(fallback: &Path) -> PathBuf {
    let from_env = |key: &str| {
        std::env::var_os(key)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    from_env("XDG_CACHE_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| from_env("HOME").map(|h| h.join(".cache")))
        .map_or_else(|| fallback.to_owned(), |d| d.join("cargo-alloc-profile"))
}

fn current_uid() -> Result<u32> {
    // /proc/self belongs to the process's effective user.
    Ok(fs_err::metadata("/proc/self")?.uid())
}

/// Creates `dir` if needed (mode 0700) and checks that it is a directory of ours; makes it
/// private (0700) if it was not.
fn ensure_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    if let Some(parent) = dir.parent() {
        fs_err::create_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("while creating {}", dir.display())),
    }
    let meta = fs_err::symlink_metadata(dir)?;
    let uid = current_uid()?;
    if !meta.is_dir() || meta.uid() != uid {
        bail!(
            "{} is not a directory owned by the current user; refusing to load the profiler \
             library from it (set XDG_CACHE_HOME to a private directory)",
            dir.display()
        );
    }
    if meta.mode() & 0o077 != 0 {
        fs_err::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes the embedded library if needed and returns its verified path.
pub fn install(fallback_dir: &Path) -> Result<PathBuf> {
    let dir = cache_dir(fallback_dir);
    ensure_private_dir(&dir)
        .with_context(|| format!("while preparing the library cache {}", dir.display()))?;
    let path = dir.join(format!(
        "liballoc_profile_preload-{:016x}.so",
        content_hash(PRELOAD)
    ));
    if is_verified(&path)? {
        return Ok(path);
    }
    let tmp = dir.join(format!(
        ".liballoc_profile_preload-{}-{}.tmp",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let result = (|| -> Result<()> {
        let mut file = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o500)
            .open(&tmp)?;
        file.write_all(PRELOAD)?;
        file.sync_all()?;
        fs_err::rename(&tmp, &path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs_err::remove_file(&tmp);
    }
    result.with_context(|| format!("while writing the profiler library to {}", path.display()))?;
    if !is_verified(&path)? {
        bail!(
            "the profiler library at {} does not match this build after writing it",
            path.display()
        );
    }
    Ok(path)
}

/// The file exists, is a regular file owned by us, and holds exactly the embedded bytes.
fn is_verified(path: &Path) -> Result<bool> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("while checking {}", path.display())),
    };
    if !meta.is_file() || meta.uid() != current_uid()? || meta.len() != PRELOAD.len() as u64 {
        return Ok(false);
    }
    Ok(fs_err::read(path)? == PRELOAD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_fnv1a() {
        assert_eq!(content_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(content_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn embedded_library_is_an_elf_shared_object() {
        assert_eq!(&PRELOAD[..4], b"\x7fELF");
    }
}
