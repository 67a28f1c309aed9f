//! A dependency of the fixture programs: its allocations must show under its own module.

/// Makes `n` owned words: one Vec plus one String per word.
#[inline(never)]
pub fn make_words(n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(format!("w{i}"));
    }
    out
}
