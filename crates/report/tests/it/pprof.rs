//! The pprof file in its real reader, `go tool pprof` (Debian's `golang-go`): its totals are the
//! report's for all four sample types, inlined frames are lines of one location. Skipped with a
//! message where Go is missing, except on CI (`CI` set), where `.ci/run` installs it.

use std::process::Command;

use alloc_profile_report::render::folded::stacks;
use alloc_profile_report::render::pprof::write_pprof;
use alloc_profile_report::{analyze, Inputs};

use crate::fixtures::fixtures;

/// `None` (after saying so) where `go tool pprof` cannot run; on CI that fails instead.
pub fn go_ready() -> Option<()> {
    let ok = Command::new("go")
        .args(["tool", "pprof", "-h"])
        .output()
        .is_ok();
    if ok {
        return Some(());
    }
    let message = "the pprof checks need `go tool pprof` (apt-get install golang-go)";
    assert!(
        std::env::var_os("CI").is_none(),
        "{message}: .ci/run installs it"
    );
    eprintln!("skipped: {message}");
    None
}

/// The sums of the four sample values in `go tool pprof -raw`'s output.
pub fn raw_totals(path: &std::path::Path) -> [u64; 4] {
    let out = Command::new("go")
        .args(["tool", "pprof", "-raw"])
        .arg(path)
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("run go tool pprof");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let header =
        "alloc_objects/count[dflt] alloc_space/bytes inuse_objects/count inuse_space/bytes";
    assert!(text.contains(header), "{text}");
    let mut totals = [0; 4];
    let samples = text.split("Samples:").nth(1).unwrap();
    for line in samples.lines().skip(2) {
        let Some((values, _)) = line.split_once(':') else {
            break;
        };
        let values: Vec<u64> = values
            .split_whitespace()
            .map(|v| v.parse().unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        if values.len() != 4 {
            break;
        }
        for (t, v) in totals.iter_mut().zip(values) {
            *t += v;
        }
    }
    totals
}

#[test]
fn go_tool_pprof_reads_the_reports_totals() {
    if go_ready().is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("alloc-profile-pprof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for fixture in fixtures().into_iter().filter(|f| f.name != "demo_color") {
        let analysis = analyze(&fixture.profile, &Inputs::default());
        if analysis.totals.allocations == 0 {
            continue;
        }
        let path = dir.join(format!("{}.pb.gz", fixture.name));
        let mut out = Vec::new();
        write_pprof(&mut out, &fixture.profile, &stacks(&fixture.profile, &[])).unwrap();
        let mut again = Vec::new();
        write_pprof(&mut again, &fixture.profile, &stacks(&fixture.profile, &[])).unwrap();
        assert!(out == again, "{}: the same bytes twice", fixture.name);
        std::fs::write(&path, out).unwrap();
        let t = &analysis.totals;
        assert_eq!(
            raw_totals(&path),
            [t.allocations, t.bytes, t.leaked_allocations, t.leaked_bytes],
            "{}",
            fixture.name
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}
