//! Turns a symbolized allocation profile into answers: which of the user's functions allocate, how
//! much, where in their source, and through which standard-library call.
//!
//! Everything here is a pure function of a [`Profile`](alloc_profile_format::symbolized::Profile):
//! no I/O except writing to the `impl Write` a caller hands in, no clocks, no environment. That
//! keeps reports deterministic (the same profile always renders the same bytes, so
//! `diff before.txt after.txt` is meaningful) and lets tests build profiles by hand.
//!
//! # Responsibilities
//! - [`analyze`](analyze::analyze) builds the whole [`Analysis`] of a profile and its [`Inputs`]
//!   (the test binaries of a `test` run, the budgets): per-function and per-module tables,
//!   totals, per-test tables ([`per_test`]), advice ([`insights`]), call paths ([`paths`]) and
//!   checked budgets ([`budget`]), all on one blame ([`attribute`]). The definitions of every
//!   number live in the [`analyze` module](mod@analyze) documentation; the README refers to them.
//! - [`render`] writes an [`Analysis`] as the text report a person reads first, as the stable
//!   JSON report that tools read (its fields defined once, in [`schema`]), or as a view of the
//!   stacks (folded, flame graph, DHAT, pprof, HTML).
//! - [`diff`] compares two JSON reports; [`render::diff`] writes the comparison.
//! - [`units`] writes numbers the same way in every report.
//!
//! Not here: reading raw profiles and symbolization (the `alloc-profile-symbolize` crate),
//! deciding on color, terminal width or exit codes (the command-line tool), reading budgets from
//! `Cargo.toml` and the reports from files (the tool hands them over as [`Inputs::budgets`] and
//! bytes for [`schema::Report::from_slice`]).
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
