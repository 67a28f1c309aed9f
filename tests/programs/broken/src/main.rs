fn main() {
    let x: u32 = "this does not compile";
    println!("{x}");
}
