//! Golden files of the text and JSON reports, one pair per fixture in `tests/golden/`.
//!
//! Run with `BLESS=1` to rewrite the files after an intended change, then review the diff.

use std::path::PathBuf;

use alloc_profile_report::{analyze, write_json, write_text, Inputs};

use crate::fixtures::fixtures;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn check(path: PathBuf, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    match std::fs::read_to_string(&path) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => failures.push(format!(
            "{} differs (BLESS=1 to update):\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        )),
        Err(e) => failures.push(format!("{}: {e} (BLESS=1 to create)", path.display())),
    }
}

#[test]
fn golden_reports() {
    let mut failures = Vec::new();
    let fixtures = fixtures();
    for fixture in &fixtures {
        let analysis = analyze(&fixture.profile, &Inputs::default());
        let mut text = Vec::new();
        write_text(&mut text, &analysis, &fixture.context, &fixture.options).unwrap();
        let text = String::from_utf8(text).unwrap();
        let mut json = Vec::new();
        write_json(&mut json, &analysis, &fixture.context).unwrap();
        let json = String::from_utf8(json).unwrap();

        for line in text.lines() {
            let visible = strip_ansi(line);
            assert!(
                visible.chars().count() <= 100,
                "{}: line wider than 100 columns: {visible:?}",
                fixture.name
            );
            assert_eq!(
                visible.trim_end(),
                visible,
                "{}: trailing space",
                fixture.name
            );
        }
        assert_eq!(
            text.contains('\x1b'),
            fixture.options.color,
            "{}: escape codes exactly when color is on",
            fixture.name
        );
        // Same input, same bytes.
        let mut again = Vec::new();
        write_text(
            &mut again,
            &analyze(&fixture.profile, &Inputs::default()),
            &fixture.context,
            &fixture.options,
        )
        .unwrap();
        assert_eq!(again, text.as_bytes());

        check(
            golden_dir().join(format!("{}.txt", fixture.name)),
            &text,
            &mut failures,
        );
        check(
            golden_dir().join(format!("{}.json", fixture.name)),
            &json,
            &mut failures,
        );
    }
    // No stale golden files.
    for entry in std::fs::read_dir(golden_dir()).into_iter().flatten() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        assert!(
            fixtures.iter().any(|f| f.name == stem),
            "{} belongs to no fixture",
            path.display()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
