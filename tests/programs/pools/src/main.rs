use pools::{counted, Counting};
use rayon::prelude::*;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The first user of rayon's global pool: it starts the pool.
#[inline(never)]
fn shout(words: &[String]) -> Vec<String> {
    words.par_iter().map(|w| w.to_uppercase()).collect()
}

/// A later user of the same pool: allocates only on the pool's threads.
#[inline(never)]
fn doubled_len(words: &[String]) -> usize {
    words.par_iter().map(|w| format!("{w}{w}").len()).sum()
}

#[inline(never)]
fn scoped(words: &[String]) -> usize {
    std::thread::scope(|s| {
        let a = s.spawn(|| words.iter().map(|w| w.repeat(2)).count());
        let b = s.spawn(|| words.iter().map(|w| w.repeat(3)).count());
        a.join().unwrap() + b.join().unwrap()
    })
}

#[inline(never)]
fn worker() -> usize {
    (0..500).map(|i| i.to_string()).count()
}

#[inline(never)]
fn spawned() -> usize {
    std::thread::spawn(worker).join().unwrap()
}

#[inline(never)]
fn tasks() -> usize {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let total = rt.block_on(async {
        let handles: Vec<_> = (0..4)
            .map(|t| tokio::spawn(async move { (0..2_500).map(|i| format!("{t}:{i}")).count() }))
            .collect();
        let mut total = 0;
        for h in handles {
            total += h.await.unwrap();
        }
        total
    });
    drop(rt);
    total
}

/// A dependency's threads that work only for this call (spawned and joined inside it).
#[inline(never)]
fn walk() {
    macrodep::on_two_threads(|| {
        std::hint::black_box(String::from("visited"));
    });
}

#[inline(never)]
fn list(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

fn main() {
    let words: Vec<String> = (0..10_000).map(|i| format!("w{i}")).collect();
    let a = counted("shout", || shout(&words));
    let b = counted("doubled_len", || doubled_len(&words));
    let c = counted("scoped", || scoped(&words));
    let d = counted("spawned", spawned);
    let e = counted("tasks", tasks);
    let dir = std::env::temp_dir().join(format!("pools-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..3 {
        std::fs::write(dir.join(i.to_string()), b"x").unwrap();
    }
    let f = counted("list", || list(&dir));
    counted("walk", walk);
    std::fs::remove_dir_all(&dir).unwrap();
    println!("{} {b} {c} {d} {e} {f}", a.len());
}
