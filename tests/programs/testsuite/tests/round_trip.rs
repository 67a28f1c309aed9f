//! An integration test binary.
use testsuite::truth::Guard;

#[test]
fn round_trip() {
    let _g = Guard::new("round_trip");
    let w = testsuite::words("alpha beta gamma delta");
    let joined = w.join(" ");
    assert_eq!(joined, "alpha beta gamma delta");
}

#[test]
fn integration_zero() {
    let _g = Guard::new("integration_zero");
    assert_eq!(testsuite::checksum(b""), 0);
}
