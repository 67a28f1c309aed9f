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

/// Runs `visit` on two threads of its own, as `ignore`'s parallel walker does: each thread makes
/// 10 allocations of its own work (nothing of the caller's on its stack) and calls `visit` once;
/// both are joined before it returns.
pub fn on_two_threads(visit: impl Fn() + Sync) {
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let own: Vec<Box<u8>> = (0..9).map(Box::new).collect();
                std::hint::black_box(&own);
                visit();
            });
        }
    });
}
