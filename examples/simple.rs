//! The smallest useful profile: one function that allocates and one that does not.

#[inline(never)]
fn build_names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("name-{i}")).collect()
}

#[inline(never)]
fn total_len(names: &[String]) -> usize {
    names.iter().map(String::len).sum()
}

fn main() {
    let names = build_names(100);
    println!("{} names, {} bytes", names.len(), total_len(&names));
}
