//! Calls only `small`, which keeps its budget.

#[global_allocator]
static GLOBAL: budgets::Counting = budgets::Counting;

fn main() {
    let v = budgets::measure("budgets::small", budgets::small);
    println!("small made {}", v.len());
}
