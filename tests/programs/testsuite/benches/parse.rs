//! A Criterion benchmark: `words` allocates one Vec and one String per word; `checksum` nothing.
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn bench_words(c: &mut Criterion) {
    c.bench_function("words", |b| b.iter(|| testsuite::words(black_box("a bb ccc dddd"))));
}

fn bench_checksum(c: &mut Criterion) {
    c.bench_function("checksum", |b| b.iter(|| testsuite::checksum(black_box(b"abcdef"))));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_millis(10))
        .measurement_time(std::time::Duration::from_millis(50));
    targets = bench_words, bench_checksum
}
criterion_main!(benches);
