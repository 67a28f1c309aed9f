//! Writes to both streams, reads stdin, and exits with status 3.
use std::io::Read as _;
fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    println!("stdout: got {} bytes of input", input.len());
    eprintln!("stderr: exiting with 3");
    std::process::exit(3);
}
