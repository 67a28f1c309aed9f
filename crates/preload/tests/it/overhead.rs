//! The interposer's cost on an allocation-heavy program (`tests/fixtures/bench.rs`). Ignored by
//! default (slow, and timing depends on the machine); run with
//! `cargo test -p alloc-profile-preload --test it -- --ignored --nocapture overhead`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::support::{built, fresh_dir};

fn time(bench: &Path, args: &[&str], preload: Option<&Path>) -> f64 {
    let mut cmd = Command::new(bench);
    cmd.args(args).stdout(Stdio::null());
    if let Some(out) = preload {
        cmd.env("LD_PRELOAD", &built().preload)
            .env("CARGO_ALLOC_PROFILE_OUT", out);
    }
    let start = Instant::now();
    assert!(cmd.status().unwrap().success());
    start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
#[ignore = "timing; run explicitly"]
fn allocation_heavy_program() {
    let dir = fresh_dir("overhead");
    let bench = dir.join("bench");
    let status = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args([
            "--edition",
            "2021",
            "-C",
            "opt-level=3",
            "-C",
            "force-frame-pointers=yes",
            "-g",
        ])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bench.rs"))
        .arg("-o")
        .arg(&bench)
        .status()
        .unwrap();
    assert!(status.success());
    for args in [&["2000000", "1"][..], &["1000000", "2"][..]] {
        let (mut native, mut profiled) = (Vec::new(), Vec::new());
        // Interleaved, so a busy moment of the machine hits both sides alike.
        for i in 0..7 {
            native.push(time(&bench, args, None));
            let out = dir.join(format!("run-{}-{i}", args[1]));
            std::fs::create_dir_all(&out).unwrap();
            profiled.push(time(&bench, args, Some(&out)));
        }
        let (n, p) = (median(native), median(profiled));
        println!(
            "bench {}: native median {n:.3} s, profiled median {p:.3} s, ratio {:.2}",
            args.join(" "),
            p / n
        );
    }
}
