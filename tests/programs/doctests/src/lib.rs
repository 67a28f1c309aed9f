//! A library whose `#[should_panic]` tests (and doctests) the end-to-end tests compare with
//! ground truth: the counting global allocator of `testsuite`, which every test executable and
//! doctest linking this library uses.

#[path = "../../testsuite/src/truth.rs"]
pub mod truth;

#[global_allocator]
static GLOBAL: truth::Counting = truth::Counting;

/// `n` boxed numbers: `n` allocations of 8 bytes, then one of `8 * n` bytes for the vector.
#[inline(never)]
pub fn boxes(n: u64) -> Vec<Box<u64>> {
    (0..n).map(Box::new).collect()
}

/// Sums bytes without allocating.
pub fn checksum(s: &[u8]) -> u64 {
    s.iter().map(|&b| u64::from(b)).sum()
}

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
