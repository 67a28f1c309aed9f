//! Calls `small` and `big`; `big` breaks its budget of 100 allocations.

#[global_allocator]
static GLOBAL: budgets::Counting = budgets::Counting;

fn main() {
    let a = budgets::measure("budgets::small", budgets::small);
    let b = budgets::measure("budgets::big", budgets::big);
    println!("made {} and {}", a.len(), b.len());
}
