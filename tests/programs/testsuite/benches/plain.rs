//! A `harness = false` benchmark with its own loop and no harness crate: one benchmark, the
//! whole binary, with a known iteration count.
fn main() {
    let mut total = 0;
    for _ in 0..1000 {
        total += testsuite::words(std::hint::black_box("x yy")).len();
    }
    println!("plain: {total}");
}
