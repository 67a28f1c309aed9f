//! A library whose test `tests::grows` allocates more when `CILOOP_MORE` is set: the allocation
//! regression a CI run catches. Ground truth per test from the thread-local counting allocator of
//! the `testsuite` fixture (`TRUTH` lines in `$TRUTH_FILE`).

#[path = "../../testsuite/src/truth.rs"]
pub mod truth;

#[global_allocator]
static GLOBAL: truth::Counting = truth::Counting;

/// `n` boxed numbers: `n + 1` allocations (the vector, then each box).
#[inline(never)]
pub fn boxes(n: u64) -> Vec<Box<u64>> {
    let mut v = Vec::with_capacity(n as usize);
    for i in 0..n {
        v.push(Box::new(i));
    }
    v
}

#[cfg(test)]
mod tests {
    use crate::truth::Guard;

    #[test]
    fn grows() {
        let _g = Guard::new("tests::grows");
        let extra = if std::env::var_os("CILOOP_MORE").is_some() {
            100
        } else {
            0
        };
        assert_eq!(super::boxes(19 + extra).len() as u64, 19 + extra);
    }

    #[test]
    fn small() {
        let _g = Guard::new("tests::small");
        assert_eq!(super::boxes(4).len(), 4);
    }
}

#[cfg(test)]
mod steady {
    use crate::truth::Guard;

    #[test]
    fn steady() {
        let _g = Guard::new("steady::steady");
        assert_eq!(super::boxes(2).len(), 2);
    }
}
