//! A library with unit tests whose allocations the tests compare with ground truth.

pub mod truth;

#[global_allocator]
static GLOBAL: truth::Counting = truth::Counting;

/// Splits on whitespace into owned words.
pub fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
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
    fn parses_small() {
        let _g = Guard::new("tests::parses_small");
        let w = words("a bb ccc");
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn a_test_with_a_name_much_longer_than_fifteen_bytes() {
        let _g = Guard::new("tests::a_test_with_a_name_much_longer_than_fifteen_bytes");
        let mut v = Vec::new();
        for i in 0..100 {
            v.push(i.to_string());
        }
        assert_eq!(v.len(), 100);
    }

    #[test]
    fn a_test_with_a_name_much_longer_than_fifteen_bytes_too() {
        let _g = Guard::new("tests::a_test_with_a_name_much_longer_than_fifteen_bytes_too");
        let s: String = (0..50).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        assert_eq!(s.len(), 50);
    }

    #[test]
    fn allocates_nothing() {
        let _g = Guard::new("tests::allocates_nothing");
        assert_eq!(checksum(b"abc"), 294);
    }

    #[test]
    fn spawns_a_thread() {
        let _g = Guard::new("tests::spawns_a_thread");
        let h = std::thread::spawn(|| words("x y z").len());
        assert_eq!(h.join().unwrap(), 3);
    }

    #[test]
    #[ignore = "not run by default"]
    fn ignored_test() {
        let _g = Guard::new("tests::ignored_test");
        let _ = words("never");
    }

    #[test]
    fn fails() {
        let _g = Guard::new("tests::fails");
        let w = words("one two");
        assert_eq!(w.len(), 2, "this one passes its assertion");
        if std::env::var_os("TESTSUITE_FAIL").is_some() {
            panic!("asked to fail");
        }
    }

    mod nested {
        use crate::truth::Guard;

        #[test]
        fn in_a_module() {
            let _g = Guard::new("tests::nested::in_a_module");
            let b = Box::new([0u8; 100]);
            assert_eq!(b.len(), 100);
        }
    }
}
