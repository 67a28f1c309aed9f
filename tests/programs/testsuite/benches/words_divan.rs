//! divan benchmarks: one that allocates 7 times a call (a `Vec` of 4 regrown to 8, five
//! `String`s: 96 + 192 + 5 bytes), one that never allocates, and one with arguments.

fn main() {
    divan::main();
}

#[divan::bench]
fn split_words() -> Vec<String> {
    "a b c d e".split(' ').map(str::to_owned).collect()
}

#[divan::bench]
fn sum_numbers() -> u64 {
    divan::black_box(0..100u64).sum()
}

mod parsing {
    #[divan::bench(args = [1, 2])]
    fn small(n: usize) -> Vec<u8> {
        vec![0; divan::black_box(n)]
    }
}
