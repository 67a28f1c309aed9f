//! The four allocation patterns of the usage guide, each before and after its fix.
//!
//! `cargo run --example demo` runs them plainly; `cargo alloc-profile run --example demo` shows
//! every `before` as a hot spot and every `after` as cheaper.

use std::hint::black_box;

mod preallocate {
    /// Grows a Vec one push at a time: about log2(n) reallocations.
    #[inline(never)]
    pub fn before(n: u32) -> Vec<u32> {
        let mut v = Vec::new();
        for i in 0..n {
            v.push(i);
        }
        v
    }

    /// One allocation of the final size.
    #[inline(never)]
    pub fn after(n: u32) -> Vec<u32> {
        let mut v = Vec::with_capacity(n as usize);
        for i in 0..n {
            v.push(i);
        }
        v
    }

    /// Sums without allocating.
    #[inline(never)]
    pub fn sum(v: &[u32]) -> u64 {
        v.iter().map(|&x| u64::from(x)).sum()
    }
}

mod avoid_clones {
    #[derive(Clone)]
    pub struct BigStruct {
        pub name: String,
        pub values: Vec<u64>,
    }

    fn expensive_operation(data: &BigStruct) -> usize {
        data.name.len() + data.values.len()
    }

    /// Clones the whole struct (two allocations) only to read it.
    #[inline(never)]
    pub fn before(data: &BigStruct) -> usize {
        let copy = data.clone();
        expensive_operation(&copy)
    }

    /// Reads it where it is.
    #[inline(never)]
    pub fn after(data: &BigStruct) -> usize {
        expensive_operation(data)
    }
}

mod string_building {
    use std::fmt::Write as _;

    /// `msg = msg + &item.to_string()`: a temporary String per item and a regrown message.
    #[inline(never)]
    pub fn before(items: &[u32]) -> String {
        let mut msg = String::new();
        for item in items {
            msg = msg + &item.to_string();
        }
        msg
    }

    /// Sized once, formatted in place.
    #[inline(never)]
    pub fn after(items: &[u32]) -> String {
        let mut msg = String::with_capacity(items.len() * 4);
        for item in items {
            let _ = write!(msg, "{item}");
        }
        msg
    }
}

mod owned_args {
    /// Takes the Vec by value: a caller that still needs its words must clone them all.
    #[inline(never)]
    fn format_all_owned(items: Vec<String>) -> Vec<String> {
        items.into_iter().map(|s| s.to_uppercase()).collect()
    }

    /// Borrows the words.
    #[inline(never)]
    fn format_all(items: &[String]) -> Vec<String> {
        items.iter().map(|s| s.to_uppercase()).collect()
    }

    /// Keeps using `words` afterwards, so it has to hand over a copy.
    #[inline(never)]
    pub fn before(words: &[String]) -> usize {
        let upper = format_all_owned(words.to_vec());
        upper.len() + words.len()
    }

    #[inline(never)]
    pub fn after(words: &[String]) -> usize {
        let upper = format_all(words);
        upper.len() + words.len()
    }
}

/// A checksum over bytes: allocates nothing.
#[inline(never)]
fn checksum(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(0u32, |h, &b| h.rotate_left(5) ^ u32::from(b))
}

fn main() {
    let v1 = black_box(preallocate::before(1000));
    let v2 = black_box(preallocate::after(1000));
    println!(
        "preallocate: {} {}",
        preallocate::sum(&v1),
        preallocate::sum(&v2)
    );

    let data = avoid_clones::BigStruct {
        name: "a fairly long name for a big struct".to_owned(),
        values: (0..512).collect(),
    };
    let mut total = 0;
    for _ in 0..100 {
        total += avoid_clones::before(black_box(&data));
        total += avoid_clones::after(black_box(&data));
    }
    println!("avoid_clones: {total}");

    let items: Vec<u32> = (0..200).collect();
    let s1 = string_building::before(&items);
    let s2 = string_building::after(&items);
    println!("string_building: {} {}", s1.len(), s2.len());

    let words: Vec<String> = (0..100).map(|i| format!("word{i}")).collect();
    println!(
        "owned_args: {} {}",
        owned_args::before(&words),
        owned_args::after(&words)
    );

    println!("checksum: {:08x}", checksum(s1.as_bytes()));
}
