//! Turns a symbolized allocation profile into answers: which of the user's functions allocate, how
//! much, where in their source, and through which standard-library call.
//!
//! Everything here is a pure function of a [`Profile`](alloc_profile_format::symbolized::Profile):
//! no I/O except writing to the `impl Write` a caller hands in, no clocks, no environment. That
//! keeps reports deterministic (the same profile always renders the same bytes, so
//! `diff before.txt after.txt` is meaningful) and lets tests build profiles by hand.
//!
//! # Responsibilities
//! - [`analyze`](analyze::analyze) folds the allocation sites of a profile into per-function and
//!   per-module tables plus totals. The definitions of every number live in the
//!   [`analyze` module](mod@analyze) documentation; the README refers to them.
//! - [`render`] writes an [`Analysis`] as the text report a person reads first, or as the stable
//!   JSON report (format `cargo-alloc-profile`, version 1) that tools read.
//!
//! - [`insights`] finds allocations that follow a pattern with a known cure (regrown vectors,
//!   string concatenation, clones) and says how many the cure saves, from evidence in the profile
//!   only.
//!
//! Not here: reading raw profiles and symbolization (the `alloc-profile-symbolize` crate),
//! deciding on color, terminal width or exit codes (the command-line tool), reading budgets from
//! `Cargo.toml` (the tool hands them to [`budget::check`]).
#![forbid(unsafe_code)]

pub mod analysis;
pub mod analyze;
pub mod attribute;
pub mod budget;
pub mod diff;
pub mod insights;
pub mod paths;
pub mod per_test;
pub mod render;
pub mod schema;
pub mod units;
mod via;

pub use analysis::{
    signal_name, Analysis, FunctionStats, Leak, ModuleStats, ProcessEnd, ProcessSummary, RunTotals,
};
pub use analyze::{analyze, Inputs};
pub use attribute::ModuleKind;
pub use insights::{Insight, InsightKind};
pub use per_test::{analyze_tests, TestBinary, TestsAnalysis};
pub use render::{write_json, write_text, Context, TextOptions};
