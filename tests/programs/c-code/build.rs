fn main() {
    println!("cargo:rerun-if-changed=csrc/buffers.c");
    cc::Build::new().file("csrc/buffers.c").compile("buffers");
}
