fn main() {
    let v: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    println!("static: {}", v.len());
}
