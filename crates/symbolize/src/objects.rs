//! What a module file's name says: the C library and its kin, the interposer itself, the vDSO.

/// File name of a module path, for [`alloc_profile_format::symbolized::Frame::object`].
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The C library, dynamic loader and C/C++ runtime libraries: their frames are foreign.
pub(crate) fn is_system_library(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "libc.so",
        "libc-",
        "ld-linux",
        "ld-musl",
        "libc.musl",
        "libgcc_s",
        "libstdc++",
        "libm.so",
        "libm-",
        "libpthread",
        "libdl",
        "librt",
        "libresolv",
        "libnss",
        "libutil",
        "linux-vdso",
        "linux-gate",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The interposer library itself: its frames are dropped.
pub(crate) fn is_interposer(name: &str) -> bool {
    name.starts_with("liballoc_profile_preload")
        || name.contains("alloc-profile-preload")
        || name.contains("alloc_profile_preload")
}

/// Modules that have no file to read (the kernel's vDSO).
pub(crate) fn is_virtual(name: &str) -> bool {
    name.starts_with("linux-vdso") || name.starts_with("linux-gate")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_file_names() {
        assert!(is_system_library("libstdc++.so.6"));
        assert!(!is_system_library("libcrypto.so.3"));
        assert!(is_interposer("liballoc_profile_preload.so"));
        assert!(is_interposer("liballoc_profile_preload-3f2a.so"));
        assert!(is_interposer("alloc-profile-preload-3f2a.so"));
        assert!(!is_interposer("libc.so.6"));
        assert_eq!(
            file_name("/usr/lib/x86_64-linux-gnu/libc.so.6"),
            "libc.so.6"
        );
        assert_eq!(file_name("demo"), "demo");
    }
}
