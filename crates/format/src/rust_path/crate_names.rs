//! Which names are crates: those of the Rust distribution, and what can be a crate name at all.

pub const STD_CRATES: &[&str] = &[
    "std",
    "core",
    "alloc",
    "proc_macro",
    "test",
    "panic_unwind",
    "panic_abort",
    "unwind",
    "std_detect",
    "compiler_builtins",
    "profiler_builtins",
    "rustc_std_workspace_core",
    "rustc_std_workspace_alloc",
    "rustc_std_workspace_std",
    "sysroot",
    // Namespace of the runtime symbols rustc generates (`__rustc::__rust_alloc`, since 1.88).
    "__rustc",
];

/// Whether `name` is one of [`STD_CRATES`].
pub fn is_std_crate(name: &str) -> bool {
    STD_CRATES.contains(&name)
}

/// Names of primitive types (and keywords that start a type): never a crate, never a generic
/// parameter.
pub(super) const PRIMITIVES: &[&str] = &[
    "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
    "i128", "isize", "f16", "f32", "f64", "f128", "dyn", "impl", "mut", "const",
];

/// Whether `s` can be a crate name: an identifier that is not a primitive type.
pub fn looks_like_crate(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s != "_"
        && !PRIMITIVES.contains(&s)
}
