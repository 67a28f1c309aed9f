//! Allocates, then dies of SIGSEGV.
fn main() {
    let v: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    println!("made {}", v.len());
    // SAFETY: deliberately not safe: this fixture exists to crash.
    unsafe { std::ptr::null_mut::<u8>().write_volatile(1) };
}
