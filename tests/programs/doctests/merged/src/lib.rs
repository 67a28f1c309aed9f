//! Edition 2024: rustdoc compiles these doctests into one harness, which numbers them in the
//! order of their names (`alpha`, `middle`, `zeta`), not in the order they are written.

/// Boxes four numbers.
///
/// ```
/// let _g = doctests::truth::Guard::new("merged:zeta");
/// assert_eq!(doctests::boxes(4).len(), 4);
/// ```
pub fn zeta() {}

/// Allocates nothing.
///
/// ```
/// let _g = doctests::truth::Guard::new("merged:alpha");
/// assert_eq!(doctests::checksum(b"a"), 97);
/// ```
pub fn alpha() {}

/// Panics after boxing two numbers.
///
/// ```should_panic
/// let _g = doctests::truth::Guard::new("merged:middle");
/// doctests::ensure(doctests::boxes(2).len() == 3);
/// ```
pub fn middle() {}
