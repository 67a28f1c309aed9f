//! Uses the system allocator here: jemalloc is its global allocator on musl only.

#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[inline(never)]
fn make_strings() -> usize {
    (0..10).map(|i| i.to_string()).map(|s| s.len()).sum()
}

fn main() {
    println!("{}", make_strings());
}
