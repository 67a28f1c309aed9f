//! Integration tests of the symbolizer: it symbolizes its own test binary.

mod process;
mod self_symbolize;
