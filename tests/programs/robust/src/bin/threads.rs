//! Threads: many threads allocating, blocks freed on another thread than the one that allocated
//! them, thread-local destructors that allocate, and threads still running when main returns.
//! Usage: `threads [exit-while-busy]`.

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use robust::measure;

#[global_allocator]
static GLOBAL: robust::Counting = robust::Counting;

/// 16 threads, each allocating and freeing 100 strings and a growing Vec.
#[inline(never)]
fn sixteen_threads() -> usize {
    let handles: Vec<_> = (0..16)
        .map(|t| {
            thread::spawn(move || {
                let mut v = Vec::new();
                for i in 0..100 {
                    let s = format!("thread {t} item {i}");
                    v.push(s.len());
                    black_box(s);
                }
                v.iter().sum::<usize>()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}

/// Batches of strings allocated here, freed by a consumer thread.
#[inline(never)]
fn send_to_consumer() -> usize {
    let (tx, rx) = mpsc::channel::<Vec<String>>();
    let consumer = thread::spawn(move || rx.into_iter().map(|batch| batch.len()).sum::<usize>());
    for b in 0..10 {
        let batch: Vec<String> = (0..20).map(|i| format!("{b}:{i}")).collect();
        tx.send(batch).unwrap();
    }
    drop(tx);
    consumer.join().unwrap()
}

/// Allocated here on the main thread, returned, and freed later by another thread.
#[inline(never)]
fn produce_on_main() -> Vec<String> {
    (0..50).map(|i| format!("produced {i}")).collect()
}

struct AllocatesOnDrop(Vec<u8>);

impl Drop for AllocatesOnDrop {
    fn drop(&mut self) {
        let s = format!("dropping {} bytes", self.0.len());
        black_box(s);
        let v: Vec<u64> = (0..32).collect();
        black_box(v);
    }
}

thread_local! {
    static SLOT: RefCell<Option<AllocatesOnDrop>> = const { RefCell::new(None) };
}

/// A thread whose thread-local destructor allocates, joined here.
#[inline(never)]
fn tls_destructor_allocates() -> usize {
    let h = thread::spawn(|| {
        SLOT.with(|s| *s.borrow_mut() = Some(AllocatesOnDrop(vec![1; 100])));
        1
    });
    h.join().unwrap()
}

/// A thread that sleeps in a loop, allocating a little, never joined (bounded: 5 s).
#[inline(never)]
fn start_sleeper() {
    thread::spawn(|| {
        for i in 0..5000 {
            black_box(i.to_string());
            thread::sleep(Duration::from_millis(1));
        }
    });
}

/// A thread that allocates as fast as it can, never joined (bounded: 5 s).
#[inline(never)]
fn start_busy_allocator() {
    thread::spawn(|| {
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            for i in 0..1000 {
                let v: Vec<u64> = Vec::with_capacity(i % 64 + 1);
                black_box(v);
            }
        }
    });
}

fn main() {
    let busy = std::env::args().nth(1).as_deref() == Some("exit-while-busy");
    let n = measure("threads::sixteen_threads", sixteen_threads);
    println!("OK sixteen threads {n}");
    let n = measure("threads::send_to_consumer", send_to_consumer);
    println!("OK consumer freed {n}");
    let produced = measure("threads::produce_on_main", produce_on_main);
    let freer = thread::spawn(move || produced.len());
    println!("OK freed elsewhere {}", freer.join().unwrap());
    measure(
        "threads::tls_destructor_allocates",
        tls_destructor_allocates,
    );
    println!("OK tls destructor ran");
    start_sleeper();
    if busy {
        start_busy_allocator();
        start_busy_allocator();
    }
    thread::sleep(Duration::from_millis(20));
    println!("OK main returns");
}
