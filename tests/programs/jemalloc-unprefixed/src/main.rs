//! jemalloc built with plain `malloc` symbols: the executable defines malloc itself, so the
//! interposer's hooks are never called and only link-time wrappers can count.
use custom_alloc::{measure, Counting};

#[global_allocator]
static GLOBAL: Counting<tikv_jemallocator::Jemalloc> = Counting(tikv_jemallocator::Jemalloc);

#[inline(never)]
fn vec_growth() -> Vec<u64> {
    let mut v = Vec::new();
    for i in 0..1000 {
        v.push(i);
    }
    v
}

#[inline(never)]
fn strings() -> Vec<String> {
    (0..50).map(|i| format!("s{i}")).collect()
}

#[inline(never)]
fn zeroed() -> Vec<u8> {
    vec![0; 4096]
}

fn main() {
    measure("jemalloc_unprefixed::vec_growth", vec_growth);
    measure("jemalloc_unprefixed::strings", strings);
    measure("jemalloc_unprefixed::zeroed", zeroed);
}
