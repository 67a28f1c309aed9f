//! `--format folded` and `flamegraph` on real test runs: every test's stacks are rooted at it and
//! add up to what the fixture's counting allocator saw inside the test.

use std::collections::BTreeMap;

use crate::support::{fixture_target_dir, manifest, tool, truths, TempDir};

/// `cargo alloc-profile test` on `testsuite` writing `format` (with `extra` options) to a file:
/// (the file, the ground truth, stderr).
fn run_testsuite(
    name: &str,
    format: &str,
    extra: &[&str],
) -> (Vec<u8>, Vec<(String, u64, u64)>, String) {
    let tmp = TempDir::new(name);
    let out_path = tmp.0.join("out");
    let truth_path = tmp.0.join("truth.txt");
    let out = tool()
        .arg("test")
        .arg("--manifest-path")
        .arg(manifest("testsuite"))
        .arg("--target-dir")
        .arg(fixture_target_dir())
        .args(["--format", format, "-o"])
        .arg(&out_path)
        .args(extra)
        .env("TRUTH_FILE", &truth_path)
        .output()
        .expect("run the tool");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let written = std::fs::read(&out_path).unwrap_or_else(|_| panic!("no output; {stderr}"));
    let truths = truths(&std::fs::read_to_string(&truth_path).unwrap_or_default());
    assert!(truths.len() >= 8, "{truths:?}\n{stderr}");
    (written, truths, stderr)
}

/// The tests' truths, keyed as the views root them (`binary;test`: the suite has two binaries).
fn expected(truths: &[(String, u64, u64)]) -> BTreeMap<String, (u64, u64)> {
    truths
        .iter()
        // A test that spawns a thread also gets the thread's allocations (its truth does not).
        .filter(|t| t.0 != "tests::spawns_a_thread")
        .map(|(name, a, b)| {
            let binary = if name.contains("::") {
                "testsuite"
            } else {
                name
            };
            (format!("{binary};{name}"), (*a, *b))
        })
        .collect()
}

#[test]
fn folded_stacks_are_rooted_at_their_test() {
    let (folded, truths, stderr) = run_testsuite("folded", "folded", &[]);
    let folded = String::from_utf8(folded).unwrap();
    let mut per_root: BTreeMap<String, u64> = BTreeMap::new();
    for line in folded.lines() {
        let (stack, count) = line.rsplit_once(' ').expect("a count");
        let frames: Vec<&str> = stack.split(';').collect();
        assert!(frames.iter().all(|f| !f.is_empty()), "{line}");
        assert!(
            !frames.iter().any(|f| f.starts_with("__rust")
                || f.contains("GlobalAlloc")
                || f.starts_with("alloc::alloc::")),
            "allocator frames left: {line}"
        );
        let root = frames.iter().take(2).copied().collect::<Vec<_>>().join(";");
        *per_root.entry(root).or_default() += count.parse::<u64>().unwrap();
    }
    for (root, (allocations, _)) in expected(&truths) {
        assert_eq!(
            per_root.get(&root).copied(),
            Some(allocations).filter(|&a| a > 0),
            "{root}\n{folded}\n{stderr}"
        );
    }
    assert!(
        per_root.keys().any(|k| k.ends_with(";(test harness)")),
        "{per_root:?}"
    );
}

#[test]
fn flamegraph_in_bytes_shows_each_tests_bytes() {
    let (svg, truths, _) = run_testsuite("flamegraph", "flamegraph", &["--weight", "bytes"]);
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.starts_with("<?xml"), "{}", &svg[..svg.len().min(200)]);
    assert!(
        svg.contains("alloc-profile test"),
        "the title says what ran"
    );
    // inferno's frame titles: `name (N bytes, P%)`; a test's frame is its root's child.
    for (root, (_, bytes)) in expected(&truths) {
        if bytes == 0 {
            continue;
        }
        let test = root.split_once(';').unwrap().1;
        let needle = format!("<title>{} ({} bytes, ", escape(test), thousands(bytes));
        assert!(svg.contains(&needle), "{needle} not in the SVG");
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A weight the format cannot show is one line, exit status 2, before anything is built.
#[test]
fn a_weight_for_a_format_without_one_is_refused_before_the_build() {
    let dir = TempDir::new("weight");
    let target = dir.0.join("target");
    let patterns = manifest("patterns");
    for (args, format) in [
        (vec!["run", "--weight", "bytes"], "text"),
        (vec!["test", "--format", "json", "--weight", "live"], "json"),
    ] {
        let out = tool()
            .args(&args)
            .arg("--manifest-path")
            .arg(&patterns)
            .arg("--target-dir")
            .arg(&target)
            .args(["-o", dir.0.join("out").to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!(
                "error: --weight {}: only `--format folded` and `--format flamegraph` take a \
                 weight (the {format} format",
                args[args.len() - 1]
            )),
            "{stderr}"
        );
        assert!(!target.exists(), "{args:?}: the target directory was made");
    }
}

/// `check.mjs` of the report crate's browser tests (Chromium over the DevTools protocol).
fn browser_check(args: &[&str]) -> Option<serde_json::Value> {
    let chromium_ok = std::process::Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok();
    let viewer_ok = args[0] != "dhat" || std::path::Path::new(DH_VIEW).exists();
    if !chromium_ok || !viewer_ok {
        let message = "the DHAT viewer check needs chromium and valgrind's dh_view.html";
        assert!(
            std::env::var_os("CI").is_none(),
            "{message}: .ci/run installs them"
        );
        eprintln!("skipped: {message}");
        return None;
    }
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../report/tests/browser/check.mjs");
    let out = std::process::Command::new("node")
        .args(["--experimental-websocket", "--no-warnings"])
        .arg(script)
        .args(args)
        .output()
        .expect("run node");
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    assert!(answer.get("fatal").is_none(), "{answer}");
    assert_eq!(answer["errors"], serde_json::json!([]), "script errors");
    assert_eq!(
        answer["requests"],
        serde_json::json!([]),
        "requests left the machine"
    );
    Some(answer)
}

const DH_VIEW: &str = "/usr/libexec/valgrind/dh_view.html";

/// The number before ` blocks` on the viewer's first line starting with `label`.
fn blocks_after(text: &str, label: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label} in\n{text}"));
    let before = line.split(" blocks").next().unwrap();
    before
        .rsplit(" in ")
        .next()
        .unwrap()
        .replace(',', "")
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// The DHAT file of a real run loads in valgrind's viewer (every frame list unique after
/// symbolization), whose Total blocks and t-end blocks are the JSON report's allocations and
/// blocks still live.
#[test]
fn dhat_of_a_real_run_loads_in_the_viewer_with_the_reports_totals() {
    let json = crate::support::run_json("patterns", &[]);
    assert_eq!(json.code(), Some(0), "{}", json.stderr());
    let totals = &json.report()["totals"];
    let tmp = TempDir::new("dhat");
    let path = tmp.0.join("patterns.dhat.json");
    let out = tool()
        .arg("run")
        .arg("--manifest-path")
        .arg(manifest("patterns"))
        .arg("--target-dir")
        .arg(fixture_target_dir())
        .args(["--format", "dhat", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dhat: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(dhat["dhatFileVersion"], 2);
    assert_eq!(dhat["mode"], "rust-heap");
    let pps = dhat["pps"].as_array().unwrap();
    let sum = |key: &str| pps.iter().map(|p| p[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(Some(sum("tbk")), totals["allocations"].as_u64());
    let Some(answer) = browser_check(&["dhat", DH_VIEW, path.to_str().unwrap()]) else {
        return;
    };
    let text = answer["text"].as_str().unwrap();
    assert!(!text.contains("repeated location"), "{text}");
    assert_eq!(
        Some(blocks_after(text, "Total:")),
        totals["allocations"].as_u64(),
        "{text}"
    );
    assert_eq!(
        Some(blocks_after(text, "At t-end:")),
        totals["leaked_allocations"].as_u64(),
        "{text}"
    );
}

/// `go tool pprof` reads the pprof file of a real run with the JSON report's totals for all four
/// sample types, and inlined frames as lines of one location.
#[test]
fn pprof_of_a_real_run_reads_in_go_tool_pprof_with_the_reports_totals() {
    let go = std::process::Command::new("go")
        .args(["tool", "pprof", "-h"])
        .output()
        .is_ok();
    if !go {
        let message = "the pprof check needs `go tool pprof` (apt-get install golang-go)";
        assert!(
            std::env::var_os("CI").is_none(),
            "{message}: .ci/run installs it"
        );
        eprintln!("skipped: {message}");
        return;
    }
    let json = crate::support::run_json("patterns", &[]);
    assert_eq!(json.code(), Some(0), "{}", json.stderr());
    let totals = &json.report()["totals"];
    let tmp = TempDir::new("pprof");
    let path = tmp.0.join("patterns.pb.gz");
    let out = tool()
        .arg("run")
        .arg("--manifest-path")
        .arg(manifest("patterns"))
        .arg("--target-dir")
        .arg(fixture_target_dir())
        .args(["--format", "pprof", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pprof = |args: &[&str]| {
        let out = std::process::Command::new("go")
            .args(["tool", "pprof"])
            .args(args)
            .arg(&path)
            .env("HOME", &tmp.0)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let raw = pprof(&["-raw"]);
    let mut sums = [0u64; 4];
    for line in raw.split("Samples:").nth(1).unwrap().lines().skip(2) {
        let Some((values, _)) = line.split_once(':') else {
            break;
        };
        let values: Vec<u64> = values
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        if values.len() != 4 {
            break;
        }
        for (s, v) in sums.iter_mut().zip(values) {
            *s += v;
        }
    }
    let expected = ["allocations", "bytes", "leaked_allocations", "leaked_bytes"]
        .map(|k| totals[k].as_u64().unwrap_or_else(|| panic!("totals.{k}")));
    assert_eq!(sums, expected, "{raw}");
    let top = pprof(&["-top", "-sample_index=alloc_objects"]);
    let total = format!("100% of {} total", expected[0]);
    assert!(top.contains(&total), "{top}");
    assert!(
        pprof(&["-traces"]).contains("(inline)"),
        "inlined frames are lines"
    );
}

/// `--open` for another format, without a file or with no browser is one line before the build;
/// with one, the report is written, its path printed and the browser started on it.
#[test]
fn open_starts_the_browser_on_the_html_report() {
    let dir = TempDir::new("open");
    let target = dir.0.join("target");
    let html = dir.0.join("report.html");
    let html_arg = html.to_str().unwrap().to_owned();
    // A PATH with cargo but without xdg-open.
    let cargo_dir = std::path::Path::new(&std::env::var("CARGO").unwrap())
        .parent()
        .unwrap()
        .to_owned();
    for (args, expected, env) in [
        (
            vec!["--format", "json", "-o", &html_arg, "--open"],
            "error: --open: only the html report opens in a browser; add `--format html -o FILE`",
            None,
        ),
        (
            vec!["--format", "html", "-o", "-", "--open"],
            "error: --open: name the file to open with -o FILE (e.g. -o alloc.html)",
            None,
        ),
        (
            vec!["--format", "html", "-o", &html_arg, "--open"],
            "error: --open: no browser to open the report with (set BROWSER, or install \
             xdg-utils); the report is written all the same without --open",
            Some(cargo_dir.clone()),
        ),
    ] {
        let mut cmd = tool();
        cmd.arg("run")
            .arg("--manifest-path")
            .arg(manifest("patterns"))
            .arg("--target-dir")
            .arg(&target)
            .args(&args)
            .env_remove("BROWSER");
        if let Some(path) = env {
            cmd.env("PATH", path);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end(), expected, "{args:?}");
        assert!(!target.exists(), "{args:?}: the target directory was made");
    }
    // A browser that writes down what it was asked to open.
    let opened = dir.0.join("opened.txt");
    let browser = dir.0.join("browser.sh");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\necho \"$1\" > '{}'\n", opened.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = tool()
        .arg("run")
        .arg("--manifest-path")
        .arg(manifest("patterns"))
        .arg("--target-dir")
        .arg(fixture_target_dir())
        .args(["--format", "html", "-o", &html_arg, "--open"])
        .env("BROWSER", &browser)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("Opening {}", html.display())),
        "{stderr}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{}", &page[..100]);
    assert!(
        page.contains("default-src 'none'"),
        "no request may leave the page"
    );
    for _ in 0..50 {
        if opened.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        std::fs::read_to_string(&opened).unwrap_or_default().trim(),
        html.to_str().unwrap()
    );
}

/// The HTML report of a real test run opens offline in Chromium with its per-test table and a
/// drawn flame graph for each weight.
#[test]
fn html_of_a_test_run_opens_offline_with_its_tests() {
    let (html, truths, _) = run_testsuite("html", "html", &[]);
    let page = String::from_utf8(html).unwrap();
    // Each test's row has the allocations its counting allocator saw.
    for (root, (allocations, _)) in expected(&truths) {
        if allocations == 0 {
            continue; // the truths do not say which binary such a test is in
        }
        let (binary, name) = root.split_once(';').unwrap();
        let row = format!(
            "<td>{}</td><td>{binary}</td><td class=n>{}</td>",
            escape(name),
            thousands(allocations)
        );
        assert!(page.contains(&row), "{row}");
    }
    let tmp = TempDir::new("html-open");
    let path = tmp.0.join("tests.html");
    std::fs::write(&path, &page).unwrap();
    let Some(answer) = browser_check(&["html", path.to_str().unwrap()]) else {
        return;
    };
    assert!(
        answer["sections"].to_string().contains("\"tests\""),
        "{answer}"
    );
    for graph in ["graph-allocations", "graph-bytes", "graph-live"] {
        assert!(
            answer["graphs"][graph].as_u64() > Some(3),
            "{graph}: {answer}"
        );
    }
}

/// `report` with no path renders the last run again, in any format, with the same numbers;
/// with no last run it says so in one line.
#[test]
fn report_with_no_path_renders_the_last_run_again() {
    let tmp = TempDir::new("last");
    let report_again = |format: &str, out: &std::path::Path| {
        tool()
            .arg("report")
            .arg("--manifest-path")
            .arg(manifest("testsuite"))
            .arg("--target-dir")
            .arg(fixture_target_dir())
            .args(["--format", format, "-o"])
            .arg(out)
            .output()
            .unwrap()
    };
    // Other tests run the same suite in the same target directory: the pair is retried until
    // no other run came between.
    let mut pair = None;
    for _ in 0..5 {
        let first = tmp.0.join("first.json");
        let out = tool()
            .arg("test")
            .arg("--manifest-path")
            .arg(manifest("testsuite"))
            .arg("--target-dir")
            .arg(fixture_target_dir())
            .args(["--format", "json", "-o"])
            .arg(&first)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let again = tmp.0.join("again.json");
        let out = report_again("json", &again);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let read = |p: &std::path::Path| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
        };
        let (a, b) = (read(&first), read(&again));
        if a["command"] == b["command"] {
            pair = Some((a, b));
            break;
        }
    }
    let (a, b) = pair.expect("another run came between every time");
    for key in ["totals", "tests", "functions", "modules", "harness"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    assert!(
        b["notes"]
            .to_string()
            .contains("reported again from the last run"),
        "{}",
        b["notes"]
    );
    // Any other format of the same run.
    let folded = tmp.0.join("again.folded");
    let out = report_again("folded", &folded);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read_to_string(&folded)
        .unwrap()
        .contains(";tests::parses_small;"));

    // No last run.
    let empty = tmp.0.join("empty-target");
    let out = tool()
        .arg("report")
        .arg("--manifest-path")
        .arg(manifest("testsuite"))
        .arg("--target-dir")
        .arg(&empty)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: no run to report on in "),
        "{stderr}"
    );
}
