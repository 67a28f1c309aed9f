//! A dependency whose `macro_rules!` macro writes tests into the crate that invokes it, as
//! `quickcheck!` and `proptest!` do: the tests' lines are this crate's, their names the caller's.

/// `allocating_test!(name, n)`: a `#[test] fn name()` that makes `n` boxes.
#[macro_export]
macro_rules! allocating_test {
    ($name:ident, $n:expr) => {
        #[test]
        fn $name() {
            let boxes: Vec<Box<u64>> = (0..$n).map(|i| Box::new(i as u64)).collect();
            assert_eq!(boxes.len(), $n);
        }
    };
}
