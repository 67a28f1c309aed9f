//! An allocation-heavy workload for overhead measurements: millions of small allocations of
//! mixed lifetimes, on one thread and then on two.

use std::collections::HashMap;
use std::hint::black_box;

#[inline(never)]
fn strings(n: usize) -> usize {
    let mut total = 0;
    for i in 0..n {
        let s = i.to_string();
        total += s.len();
    }
    total
}

#[inline(never)]
fn vectors(n: usize) -> usize {
    let mut kept: Vec<Vec<u32>> = Vec::new();
    for i in 0..n {
        let mut v = Vec::new();
        for j in 0..(i % 16) as u32 {
            v.push(j);
        }
        if i % 64 == 0 {
            kept.push(v);
        }
    }
    kept.len()
}

#[inline(never)]
fn maps(n: usize) -> usize {
    let mut m: HashMap<String, Vec<u8>> = HashMap::new();
    for i in 0..n {
        m.insert(format!("key{}", i % 5000), vec![0; i % 100]);
    }
    m.len()
}

fn workload(scale: usize) -> usize {
    strings(scale) + vectors(scale) + maps(scale / 2)
}

fn main() {
    let scale: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut total = black_box(workload(scale));
    let handles: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || workload(scale / 2)))
        .collect();
    for h in handles {
        total += h.join().unwrap();
    }
    println!("{total}");
}
