//! An integration test (crate `macro_written`, a target of package `pools`) written by a
//! dependency's macro: 3 boxes and their `Vec`, 4 allocations.

macrodep::allocating_test!(in_an_integration_test, 3);
