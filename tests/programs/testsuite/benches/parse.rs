//! A Criterion benchmark: `words` allocates one Vec and one String per word; `checksum` nothing;
//! `setup` one String of 64 bytes, its input, before its routine (which allocates nothing).
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn bench_words(c: &mut Criterion) {
    c.bench_function("words", |b| b.iter(|| testsuite::words(black_box("a bb ccc dddd"))));
}

fn bench_checksum(c: &mut Criterion) {
    c.bench_function("checksum", |b| b.iter(|| testsuite::checksum(black_box(b"abcdef"))));
}

fn bench_setup(c: &mut Criterion) {
    let text = "ab".repeat(32);
    c.bench_function("setup", |b| b.iter(|| black_box(&text).len()));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_millis(10))
        .measurement_time(std::time::Duration::from_millis(50));
    targets = bench_words, bench_checksum, bench_setup
}
criterion_main!(benches);
