//! Integration tests of the symbolizer: it symbolizes its own test binary.

mod process;
mod read_ahead;
mod self_symbolize;
