//! The views in their real readers: the flame graph and valgrind's DHAT viewer in headless
//! Chromium, driven over the DevTools protocol by `tests/browser/check.mjs` (Node, no packages).
//! Where Chromium, Node or the viewer is missing the tests say so and pass, except on CI (`CI`
//! set), where `.ci/run` installs them and their absence fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use alloc_profile_report::render::dhat::write_dhat;
use alloc_profile_report::render::flamegraph::write_flamegraph;
use alloc_profile_report::render::folded::{stacks, Weight};
use alloc_profile_report::render::html::write_html;
use alloc_profile_report::units::thousands;
use alloc_profile_report::{analyze, Inputs};

use crate::fixtures::fixtures;

/// The viewer that ships with valgrind.
pub const DH_VIEW: &str = "/usr/libexec/valgrind/dh_view.html";

/// `None` (after saying why) where the browser checks cannot run; on CI that fails instead.
pub fn browser_ready(need_dh_view: bool) -> Option<()> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
    let mut missing = Vec::new();
    if Command::new(&chromium).arg("--version").output().is_err() {
        missing.push(format!("{chromium} (apt-get install chromium)"));
    }
    let node_ok = Command::new("node")
        .args([
            "--experimental-websocket",
            "-e",
            "process.exit(typeof WebSocket == 'function' ? 0 : 1)",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !node_ok {
        missing.push("node 20.10 or later (apt-get install nodejs)".to_owned());
    }
    if need_dh_view && !Path::new(DH_VIEW).exists() {
        missing.push(format!("{DH_VIEW} (apt-get install valgrind)"));
    }
    if missing.is_empty() {
        return Some(());
    }
    let message = format!("browser checks need {}", missing.join(", "));
    assert!(
        std::env::var_os("CI").is_none(),
        "{message}: .ci/run installs them"
    );
    eprintln!("skipped: {message}");
    None
}

/// Runs `check.mjs` with `args`; its JSON answer.
pub fn check(args: &[&str]) -> serde_json::Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/check.mjs");
    let out = Command::new("node")
        .arg("--experimental-websocket")
        .arg("--no-warnings")
        .arg(script)
        .args(args)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let answer: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert!(answer.get("fatal").is_none(), "{answer}");
    assert_eq!(answer["errors"], serde_json::json!([]), "script errors");
    assert_eq!(
        answer["requests"],
        serde_json::json!([]),
        "requests left the machine"
    );
    answer
}

/// The number after `label` and before ` blocks` on the viewer's first line with `label`.
pub fn blocks_after(text: &str, label: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label} in\n{text}"));
    let before = line.split(" blocks").next().unwrap();
    let number = before.rsplit(" in ").next().unwrap();
    number
        .replace(',', "")
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn flame_graph_searches_and_zooms_in_chromium() {
    if browser_ready(false).is_none() {
        return;
    }
    let fixture = fixtures().into_iter().find(|f| f.name == "demo").unwrap();
    let analysis = analyze(&fixture.profile, &Inputs::default());
    let dir = tempdir("svg");
    let path = dir.join("demo.svg");
    let mut svg = Vec::new();
    write_flamegraph(
        &mut svg,
        &stacks(&fixture.profile, &[]),
        Weight::Allocations,
        "demo",
    )
    .unwrap();
    std::fs::write(&path, svg).unwrap();
    let f = analysis
        .functions
        .iter()
        .find(|f| f.name == "demo::string_building::before")
        .unwrap();
    let answer = check(&["svg", path.to_str().unwrap(), &f.name]);
    assert!(answer["frames"].as_u64() > Some(10), "{answer}");
    assert_eq!(answer["zoomed"], true, "{answer}");
    // The search's share is the function's total over all allocations.
    let matched = answer["matched"].as_str().unwrap();
    let shown: f64 = matched
        .trim_start_matches("Matched: ")
        .trim_end_matches('%')
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {matched}"));
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    let share = 100.0 * f.total_allocations as f64 / analysis.totals.allocations as f64;
    assert!((shown - share).abs() < 0.06, "{matched} vs {share:.2}%");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn dhat_file_loads_in_valgrinds_viewer_with_our_totals() {
    if browser_ready(true).is_none() {
        return;
    }
    let dir = tempdir("dhat");
    for fixture in fixtures().into_iter().filter(|f| f.name != "demo_color") {
        let analysis = analyze(&fixture.profile, &Inputs::default());
        if analysis.totals.allocations == 0 {
            continue;
        }
        let path = dir.join(format!("{}.json", fixture.name));
        let mut json = Vec::new();
        write_dhat(
            &mut json,
            &fixture.profile,
            &stacks(&fixture.profile, &[]),
            &fixture.context,
        )
        .unwrap();
        std::fs::write(&path, json).unwrap();
        let answer = check(&["dhat", DH_VIEW, path.to_str().unwrap()]);
        let text = answer["text"].as_str().unwrap();
        assert!(text.contains("PP 1/1"), "{}: {text}", fixture.name);
        assert_eq!(
            blocks_after(text, "Total:"),
            analysis.totals.allocations,
            "{}",
            fixture.name
        );
        assert_eq!(
            blocks_after(text, "At t-end:"),
            analysis.totals.leaked_allocations,
            "{}",
            fixture.name
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "alloc-profile-browser-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn html_report_works_offline_in_chromium() {
    if browser_ready(false).is_none() {
        return;
    }
    let fixture = fixtures().into_iter().find(|f| f.name == "demo").unwrap();
    let analysis = analyze(&fixture.profile, &Inputs::default());
    let dir = tempdir("html");
    let path = dir.join("demo.html");
    let mut html = Vec::new();
    write_html(
        &mut html,
        &analysis,
        &stacks(&fixture.profile, &[]),
        &fixture.context,
    )
    .unwrap();
    let text = String::from_utf8(html.clone()).unwrap();
    for f in analysis.hot_spots() {
        let row = format!(
            "<td>{}</td><td class=n>{}</td><td class=n>{}</td>",
            f.name.replace('<', "&lt;").replace('>', "&gt;"),
            thousands(f.self_allocations),
            thousands(f.total_allocations)
        );
        assert!(text.contains(&row), "{row}");
    }
    std::fs::write(&path, html).unwrap();
    let answer = check(&["html", path.to_str().unwrap()]);
    let sections: Vec<&str> = answer["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        sections,
        [
            "flame-graph",
            "hot-spots",
            "call-paths",
            "modules",
            "advice",
            "leaks"
        ],
        "{answer}"
    );
    for graph in ["graph-allocations", "graph-bytes", "graph-live"] {
        assert!(
            answer["graphs"][graph].as_u64() > Some(3),
            "{graph}: {answer}"
        );
    }
    assert_eq!(answer["switched"], true, "{answer}");
    let _ = std::fs::remove_dir_all(dir);
}
