//! One `#[inline(never)]` function per allocation pattern; `counting::measure` prints the ground
//! truth for each, which the tests compare with the profiler's `total_allocations`.

mod counting;

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::sync::Arc;

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

#[inline(never)]
fn vec_growth() -> Vec<u64> {
    let mut v = Vec::new();
    for i in 0..1000 {
        v.push(i);
    }
    v
}

#[inline(never)]
fn string_clone(s: &String) -> String {
    let c = s.clone();
    black_box(c)
}

#[inline(never)]
fn format_macro(x: u32) -> String {
    format!("value = {x}, twice = {}", x * 2)
}

#[inline(never)]
fn to_string_call(x: u64) -> String {
    x.to_string()
}

#[inline(never)]
fn string_concat(n: u32) -> String {
    let mut s = String::new();
    for i in 0..n {
        s = s + &i.to_string();
    }
    s
}

#[inline(never)]
fn map_collect(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_uppercase()).collect()
}

#[inline(never)]
fn hashmap_insert(n: u64) -> HashMap<u64, u64> {
    let mut m = HashMap::new();
    for i in 0..n {
        m.insert(i, i * i);
    }
    m
}

#[inline(never)]
fn btreemap_insert(n: u64) -> BTreeMap<u64, u64> {
    let mut m = BTreeMap::new();
    for i in 0..n {
        m.insert(i, i);
    }
    m
}

#[inline(never)]
fn boxed() -> Box<[u8; 64]> {
    Box::new([7; 64])
}

#[inline(never)]
fn arc_new() -> Arc<Vec<u8>> {
    Arc::new(vec![1, 2, 3])
}

#[inline(never)]
fn dependency_call() -> Vec<String> {
    depcrate::make_words(10)
}

#[inline(never)]
fn spawned_thread() -> usize {
    let handle = std::thread::spawn(|| {
        let v: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        v.len()
    });
    handle.join().unwrap()
}

mod nested {
    /// Lives in a module, allocates through a helper that gets inlined.
    #[inline(never)]
    pub fn module_function() -> Vec<Vec<u8>> {
        (0..5).map(|i| helper(i)).collect()
    }

    #[inline(always)]
    fn helper(i: usize) -> Vec<u8> {
        vec![0; i + 1]
    }
}

#[inline(never)]
fn recursive(depth: u32) -> Vec<u32> {
    if depth == 0 {
        return vec![0];
    }
    let mut v = recursive(depth - 1);
    v.push(depth);
    v
}

#[inline(never)]
fn no_alloc(x: &[u64]) -> u64 {
    x.iter().sum()
}

fn main() {
    let s = String::from("a string to clone, long enough");
    let v = counting::measure("patterns::vec_growth", vec_growth);
    counting::measure("patterns::string_clone", || string_clone(&s));
    counting::measure("patterns::format_macro", || format_macro(21));
    counting::measure("patterns::to_string_call", || to_string_call(123_456));
    counting::measure("patterns::string_concat", || string_concat(50));
    counting::measure("patterns::map_collect", || map_collect(&["a", "bb", "ccc"]));
    counting::measure("patterns::hashmap_insert", || hashmap_insert(100));
    counting::measure("patterns::btreemap_insert", || btreemap_insert(100));
    counting::measure("patterns::boxed", boxed);
    counting::measure("patterns::arc_new", arc_new);
    counting::measure("patterns::dependency_call", dependency_call);
    counting::measure("patterns::spawned_thread", spawned_thread);
    counting::measure("patterns::nested::module_function", nested::module_function);
    counting::measure("patterns::recursive", || recursive(10));
    counting::measure("patterns::no_alloc", || no_alloc(&v));
}
