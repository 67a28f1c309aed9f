//! Allocation-heavy workloads for overhead measurements (`bench/overhead.py`):
//!
//! - `allocbench N` (or `all`): millions of small allocations of mixed lifetimes in shallow stacks
//!   on the main thread, then on two threads (what the cachegrind figures in the notes use).
//! - `allocbench N shallow`: the shallow workload twice on the main thread.
//! - `allocbench N threads`: the same amount of work on two threads at once.
//! - `allocbench N serde`: N / 250 times building, serializing and parsing nested serde_json values, whose
//!   allocations happen in deep stacks (the parser's and serializer's recursion).

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

/// A nested value: `depth` levels of objects holding arrays of smaller objects and strings.
#[inline(never)]
fn nested(depth: usize, seed: usize) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    if depth == 0 {
        return json!({ "id": seed, "name": format!("leaf-{seed}"), "tags": ["a", "b"] });
    }
    let mut map = Map::new();
    map.insert(format!("k{seed}"), Value::String(seed.to_string()));
    map.insert("child".to_owned(), nested(depth - 1, seed * 3 + 1));
    map.insert(
        "list".to_owned(),
        Value::Array((0..2).map(|i| nested(depth.saturating_sub(3), seed + i)).collect()),
    );
    Value::Object(map)
}

#[inline(never)]
fn serde_round_trips(n: usize) -> usize {
    // A quarter of the parsed documents are kept until the end, so the peak holds many live
    // blocks (about 400k at scale 1,000,000).
    let mut kept = Vec::with_capacity(n);
    let mut total = 0;
    for i in 0..n {
        let value = nested(6, i);
        let text = serde_json::to_string(&value).unwrap();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        total += text.len();
        if i % 4 == 0 {
            kept.push(back);
        }
    }
    total + kept.len()
}

fn on_two_threads(f: fn(usize) -> usize, each: usize) -> usize {
    let handles: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || f(each)))
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let scale: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let total = match args.next().as_deref().unwrap_or("all") {
        "shallow" => black_box(workload(scale)) + black_box(workload(scale)),
        "threads" => on_two_threads(workload, scale),
        "serde" => serde_round_trips(scale / 250),
        _ => black_box(workload(scale)) + on_two_threads(workload, scale / 2),
    };
    println!("{total}");
}
