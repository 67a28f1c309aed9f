//! Integration tests of the report crate: the analysis definitions, golden text reports, the JSON
//! report's fields.

mod analyze;
mod browser;
mod fixtures;
mod golden;
mod insights;
mod json;
mod pprof;
mod support;
mod views;
