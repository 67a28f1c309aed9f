//! A library whose `#[should_panic]` tests (and doctests) the end-to-end tests compare with
//! ground truth: the counting global allocator of `testsuite`, which every test executable and
//! doctest linking this library uses.

#[path = "../../testsuite/src/truth.rs"]
pub mod truth;

#[global_allocator]
static GLOBAL: truth::Counting = truth::Counting;

/// `n` boxed numbers: `n` allocations of 8 bytes, then one of `8 * n` bytes for the vector.
///
/// ```
/// // Eight allocations, 112 bytes: seven boxes of 8 bytes and their vector.
/// let _g = doctests::truth::Guard::new("doctest:boxes");
/// let v = doctests::boxes(7);
/// assert_eq!(v.len(), 7);
/// ```
#[inline(never)]
pub fn boxes(n: u64) -> Vec<Box<u64>> {
    (0..n).map(Box::new).collect()
}

/// Sums bytes without allocating.
///
/// ```
/// let _g = doctests::truth::Guard::new("doctest:checksum");
/// assert_eq!(doctests::checksum(b"abc"), 294);
/// assert!(std::env::var_os("DOCTESTS_FAIL").is_none(), "asked to fail");
/// ```
pub fn checksum(s: &[u8]) -> u64 {
    s.iter().map(|&b| u64::from(b)).sum()
}

/// Panics when asked to.
///
/// ```should_panic
/// let _g = doctests::truth::Guard::new("doctest:ensure");
/// let three = doctests::boxes(3);
/// doctests::ensure(three.len() == 4);
/// ```
pub fn ensure(condition: bool) {
    assert!(condition, "not as ensured");
}

/// Doctests that are compiled but not run, and one that is not even compiled: none of them runs,
/// so none is profiled.
///
/// ```no_run
/// loop {
///     let _ = doctests::boxes(1);
/// }
/// ```
///
/// ```compile_fail
/// let n: u64 = "not a number";
/// ```
///
/// ```ignore
/// this is not Rust
/// ```
pub fn not_run() {}

/// A doctest with its own `main`, which rustdoc does not wrap.
///
/// ```
/// fn main() {
///     let _g = doctests::truth::Guard::new("doctest:own_main");
///     let two = doctests::boxes(2);
///     assert_eq!(two.len(), 2);
/// }
/// ```
pub fn own_main() {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::truth::Guard;

    #[test]
    #[should_panic(expected = "as planned")]
    fn panics_after_allocating() {
        let _g = Guard::new("tests::panics_after_allocating");
        let b = boxes(5);
        if b.len() == 5 {
            panic!("as planned");
        }
    }

    #[test]
    #[should_panic]
    fn panics_without_allocating() {
        let _g = Guard::new("tests::panics_without_allocating");
        // The panic machinery allocates (the payload, the unwinder's exception): those count for
        // the test, whose function is on the stack, as the counting allocator counts them.
        assert_eq!(checksum(b"abc"), 0, "on purpose");
    }

    #[test]
    fn allocates() {
        let _g = Guard::new("tests::allocates");
        assert_eq!(boxes(2).len(), 2);
    }

    #[test]
    #[ignore = "has a reason"]
    fn ignored_with_a_reason() {
        let _g = Guard::new("tests::ignored_with_a_reason");
        let _ = boxes(1);
    }
}
