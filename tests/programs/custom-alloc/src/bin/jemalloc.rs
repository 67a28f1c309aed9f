//! Pattern functions under jemalloc, wrapped by a counting allocator (the ground truth).
use custom_alloc::*;

#[global_allocator]
static GLOBAL: Counting<tikv_jemallocator::Jemalloc> = Counting(tikv_jemallocator::Jemalloc);

fn main() {
    measure("custom_alloc::vec_growth", vec_growth);
    measure("custom_alloc::strings", strings);
    measure("custom_alloc::zeroed", zeroed);
    measure("custom_alloc::aligned", aligned);
    measure("custom_alloc::map", map);
}
