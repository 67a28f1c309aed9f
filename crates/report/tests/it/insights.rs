//! The advice rules and the new per-function numbers (peak, leaks, temporaries, lifetimes,
//! growth, sizes), one profile built by hand each, the way a real profile has its sites.

use alloc_profile_format::symbolized::Frame;
use alloc_profile_report::analyze::{analyze, Inputs, ModuleKind, RUNTIME_MODULE};
use alloc_profile_report::{write_json, write_text, Context, InsightKind, TextOptions};
use serde_json::Value;

use crate::support::{rust_alloc, sizes, std, ws, Extra, ProfileBuilder};

const FILE: &str = "/w/src/main.rs";

/// `frames` inside `function` (at `line`), called from `app::main`.
fn in_fn(inner: &[&str], function: &str, line: u32) -> Vec<Frame> {
    let mut frames = vec![rust_alloc()];
    frames.extend(inner.iter().map(|f| std(f)));
    frames.push(ws(function, FILE, line));
    frames.push(ws("app::main", FILE, 100));
    frames
}

const GROW: [&str; 3] = [
    "alloc::raw_vec::finish_grow",
    "alloc::raw_vec::RawVec<u64>::grow_one",
    "<alloc::vec::Vec<u64>>::push",
];

/// A `Vec<u64>` pushed to 1,000 elements in `function`: one malloc, then 8 reallocs in one chain.
fn vec_growth(b: &mut ProfileBuilder, function: &str, line: u32) {
    b.site(&in_fn(&GROW, function, line), 1, 32);
    let mut frames = vec![std("alloc::alloc::realloc")];
    frames.extend(in_fn(&GROW, function, line));
    b.site_with(
        &frames,
        8,
        16_352,
        Extra {
            reallocations: 8,
            ..Extra::default()
        },
    );
    let c = &mut b.last().counters;
    c.growth_chains = 1;
    c.growth_reallocs = 8;
    c.growth_max_reallocs = 8;
    c.growth_max_final = 8_192;
}

fn text(b: &ProfileBuilder, options: &TextOptions) -> String {
    let mut out = Vec::new();
    write_text(
        &mut out,
        &analyze(&b.build(), &Inputs::default()),
        &Context::default(),
        options,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

fn json(b: &ProfileBuilder) -> Value {
    let mut out = Vec::new();
    write_json(
        &mut out,
        &analyze(&b.build(), &Inputs::default()),
        &Context::default(),
    )
    .unwrap();
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn regrown_vec_is_advised_to_preallocate_and_with_capacity_is_not() {
    let mut b = ProfileBuilder::new();
    vec_growth(&mut b, "app::before", 18);
    b.site(
        &in_fn(&["alloc::vec::Vec<T>::with_capacity"], "app::after", 27),
        1,
        8_000,
    );
    let a = analyze(&b.build(), &Inputs::default());
    assert_eq!(a.insights.len(), 1, "{:#?}", a.insights);
    let i = &a.insights[0];
    assert_eq!(i.kind, InsightKind::Preallocate);
    assert_eq!(i.function, "app::before");
    assert_eq!((i.file.as_deref(), i.line), (Some(FILE), Some(18)));
    assert_eq!((i.allocations, i.avoidable, i.remaining()), (9, 8, 1));
    assert_eq!(i.via, "Vec::push");
    // The final size is a capacity in bytes, and in elements of the size std's frames give
    // away; not the type they name, which may be another one with the same layout.
    assert_eq!(
        i.message,
        "`Vec` regrown 8x to 8.0 KiB (1,024 elements of 8 bytes): reserve it once with \
         `Vec::with_capacity(1024)`"
    );
    let f = a.function("app::before").unwrap();
    assert_eq!(
        (
            f.growth_chains,
            f.growth_reallocs,
            f.growth_max_reallocs,
            f.growth_max_final
        ),
        (1, 8, 8, 8_192)
    );
    let report = text(&b, &TextOptions::default());
    assert!(report.contains("Advice: allocations your code could avoid"));
    assert!(report.contains("9 → 1  preallocate"), "{report}");
    let no_advice = text(
        &b,
        &TextOptions {
            advice: false,
            ..TextOptions::default()
        },
    );
    assert!(!no_advice.contains("Advice"));
    let v = json(&b);
    assert_eq!(v["insights"][0]["kind"], "preallocate");
    assert_eq!(v["insights"][0]["allocations"], 9);
    assert_eq!(v["insights"][0]["avoidable"], 8);
    assert_eq!(v["insights"][0]["line"], 18);
    assert_eq!(v["functions"][1]["growth_max_final_bytes"], 8_192);
}

#[test]
fn unknown_element_type_states_bytes_and_several_chains_are_summed() {
    let mut b = ProfileBuilder::new();
    let grow = [
        "alloc::raw_vec::RawVec<T,A>::grow_one",
        "alloc::vec::Vec<T,A>::push",
    ];
    b.site_with(
        &in_fn(&grow, "app::collect", 5),
        30,
        90_000,
        Extra {
            reallocations: 30,
            ..Extra::default()
        },
    );
    let c = &mut b.last().counters;
    c.growth_chains = 10;
    c.growth_reallocs = 30;
    c.growth_max_reallocs = 4;
    c.growth_max_final = 4_096;
    let a = analyze(&b.build(), &Inputs::default());
    let i = &a.insights[0];
    assert_eq!((i.allocations, i.avoidable), (40, 30));
    assert_eq!(
        i.message,
        "10 `Vec`s regrown 30x in all (up to 4x, to 4.0 KiB): reserve each once with \
         `Vec::with_capacity`"
    );
}

#[test]
fn cloning_in_a_loop_is_advised_with_derived_clone_blamed_on_the_caller() {
    let mut b = ProfileBuilder::new();
    // `items[i].clone()` of a `#[derive(Clone)] BigStruct` holding a String and a Vec.
    for inner in [
        "<alloc::string::String as core::clone::Clone>::clone",
        "<alloc::vec::Vec<T,A> as core::clone::Clone>::clone",
    ] {
        b.site(
            &[
                rust_alloc(),
                std(inner),
                ws(
                    "<app::BigStruct as core::clone::Clone>::clone",
                    "/w/src/lib.rs",
                    3,
                ),
                ws("app::process", FILE, 41),
                ws("app::main", FILE, 100),
            ],
            500,
            32_000,
        );
    }
    let a = analyze(&b.build(), &Inputs::default());
    assert_eq!(a.insights.len(), 1, "{:#?}", a.insights);
    let i = &a.insights[0];
    assert_eq!(i.kind, InsightKind::Clone);
    assert_eq!(i.function, "app::process");
    assert_eq!(i.line, Some(41));
    assert_eq!(i.via, "BigStruct::clone");
    assert_eq!(
        (i.allocations, i.avoidable, i.remaining()),
        (1_000, 1_000, 0)
    );
    assert_eq!(
        i.message,
        "`BigStruct::clone` allocated 1,000 times here (62.5 KiB): if the copy is only read, \
         borrow the original instead"
    );

    // A plain `String::clone` in the user's function.
    let mut b = ProfileBuilder::new();
    b.site(
        &in_fn(
            &["<alloc::string::String as core::clone::Clone>::clone"],
            "app::names",
            7,
        ),
        300,
        3_000,
    );
    let i = &analyze(&b.build(), &Inputs::default()).insights[0];
    assert_eq!(
        (i.kind, i.via.as_str(), i.avoidable),
        (InsightKind::Clone, "String::clone", 300)
    );
}

#[test]
fn concatenation_in_a_loop_is_string_building() {
    // `s = s + &x.to_string()` over 100 items: one string regrown 9 times, 100 `to_string`s of
    // which 91 were freed before anything else was allocated.
    let mut b = ProfileBuilder::new();
    b.site(
        &in_fn(
            &["<alloc::string::String as core::ops::arith::Add<&str>>::add"],
            "app::join",
            9,
        ),
        10,
        4_000,
    );
    let c = &mut b.last().counters;
    c.reallocations = 9;
    c.growth_chains = 1;
    c.growth_reallocs = 9;
    c.growth_max_reallocs = 9;
    c.growth_max_final = 512;
    b.site(
        &in_fn(
            &["<T as alloc::string::ToString>::to_string"],
            "app::join",
            9,
        ),
        100,
        300,
    );
    b.last().counters.temporary = 91;
    let a = analyze(&b.build(), &Inputs::default());
    assert_eq!(a.insights.len(), 1, "{:#?}", a.insights);
    let i = &a.insights[0];
    assert_eq!(i.kind, InsightKind::StringBuilding);
    assert_eq!(i.function, "app::join");
    assert_eq!(i.via, "String + &str");
    // 1 chain + 9 reallocs + 91 temporaries; writing into one reserved string leaves 1.
    assert_eq!((i.allocations, i.avoidable, i.remaining()), (101, 100, 1));
    assert_eq!(
        i.message,
        "string regrown 9x by `String + &str`, plus 91 temporary strings from \
         `ToString::to_string`: `write!` into one `String::with_capacity` (`std::fmt::Write`)"
    );
    assert_eq!(json(&b)["insights"][0]["kind"], "string-building");
}

#[test]
fn copy_handed_to_a_callee_on_the_same_line_is_borrow() {
    // `format_all(items.to_vec())`: the copy at line 30, and `format_all` called from line 30.
    let mut b = ProfileBuilder::new();
    b.site(
        &in_fn(&["alloc::slice::<impl [T]>::to_vec"], "app::caller", 30),
        40,
        400,
    );
    b.site(
        &[
            rust_alloc(),
            std("alloc::str::<impl str>::to_uppercase"),
            ws("app::format_all::{{closure}}", FILE, 12),
            ws("app::format_all", FILE, 12),
            ws("app::caller", FILE, 30),
            ws("app::main", FILE, 100),
        ],
        3,
        300,
    );
    let a = analyze(&b.build(), &Inputs::default());
    assert_eq!(a.insights.len(), 1, "{:#?}", a.insights);
    let i = &a.insights[0];
    assert_eq!(i.kind, InsightKind::Borrow);
    assert_eq!((i.function.as_str(), i.line), ("app::caller", Some(30)));
    assert!(i.message.contains("`app::format_all`"), "{}", i.message);
    assert_eq!((i.allocations, i.avoidable), (40, 40));
}

#[test]
fn single_copies_are_not_worth_advice() {
    let mut b = ProfileBuilder::new();
    b.site(
        &in_fn(&["<T as core::clone::Clone>::clone"], "app::once", 3),
        1,
        100,
    );
    assert!(analyze(&b.build(), &Inputs::default()).insights.is_empty());
}

#[test]
fn peak_holders_are_named_and_peak_is_the_process_peak() {
    let mut b = ProfileBuilder::new();
    b.profile.processes[0].end.peak_bytes = 3 * 1024 * 1024 + 4096;
    b.profile.processes[0].end.peak_time_ns = 250_000;
    b.site(
        &in_fn(&["alloc::vec::from_elem"], "app::load", 10),
        1,
        3 * 1024 * 1024,
    );
    b.last().peak_bytes = 3 * 1024 * 1024;
    b.site(&[rust_alloc(), std("std::io::stdio::stdout")], 1, 4096);
    b.last().peak_bytes = 4096;
    // Another, smaller process: its sites do not count at the peak.
    let other = b.process("/w/target/debug/child", 100, 0);
    b.site_with(
        &in_fn(&[], "app::child", 5),
        1,
        100,
        Extra {
            process: other,
            ..Extra::default()
        },
    );
    b.last().peak_bytes = 100;
    let a = analyze(&b.build(), &Inputs::default());
    assert_eq!(a.totals.peak_bytes, 3 * 1024 * 1024 + 4096);
    assert_eq!(a.totals.peak_process, Some(0));
    assert_eq!(a.totals.peak_percent(), Some(25));
    assert_eq!(a.function("app::load").unwrap().peak_bytes, 3 * 1024 * 1024);
    assert_eq!(a.function("app::child").unwrap().peak_bytes, 0);
    let report = text(&b, &TextOptions::default());
    // The position in the run is a timing: JSON only, so that texts of two runs compare.
    assert!(report.contains("peak live 3.0 MiB"), "{report}");
    assert!(!report.contains("% of run"), "{report}");
    assert!(
        report.contains("Peak live heap: 3.0 MiB, held by your functions"),
        "{report}"
    );
    let section = report.split("Peak live heap").nth(1).unwrap();
    let line = section
        .lines()
        .find(|l| l.starts_with("  app::load"))
        .unwrap();
    assert!(line.contains("3.0 MiB") && line.contains("99.9%"), "{line}");
    let v = json(&b);
    assert_eq!(v["totals"]["peak_bytes"], 3 * 1024 * 1024 + 4096);
    assert_eq!(v["totals"]["peak_percent"], 25);
    let load = v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "app::load")
        .unwrap();
    assert_eq!(load["peak_bytes"], 3 * 1024 * 1024);
}

#[test]
fn forgotten_block_is_a_leak_of_its_function_and_stdout_is_the_runtimes() {
    let mut b = ProfileBuilder::new();
    let live = |n, bytes| Extra {
        live_allocations: n,
        live_bytes: bytes,
        ..Extra::default()
    };
    b.site_with(
        &in_fn(&["alloc::vec::from_elem"], "app::f", 12),
        1,
        12_345,
        live(1, 12_345),
    );
    b.site_with(
        &[
            rust_alloc(),
            std("std::io::buffered::linewriter::LineWriter<W>::new"),
            std("std::io::stdio::stdout"),
            std("std::rt::lang_start_internal"),
        ],
        1,
        1024,
        live(1, 1024),
    );
    let a = analyze(&b.build(), &Inputs::default());
    assert_eq!(a.leaks.len(), 2);
    assert_eq!(a.leaks[0].function, "app::f");
    assert_eq!(a.leaks[0].kind, ModuleKind::Workspace);
    assert_eq!((a.leaks[0].allocations, a.leaks[0].bytes), (1, 12_345));
    assert_eq!(a.leaks[0].line, Some(12));
    assert_eq!(a.leaks[1].function, RUNTIME_MODULE);
    assert_eq!(a.leaks[1].kind, ModuleKind::Runtime);
    let report = text(&b, &TextOptions::default());
    assert!(
        report.contains("Still live at exit: blocks your functions"),
        "{report}"
    );
    assert!(report.contains("the runtime's own, not yours: 1 allocation, 1.0 KiB in (runtime)"));
    let v = json(&b);
    assert_eq!(v["leaks"][0]["function"], "app::f");
    assert_eq!(v["leaks"][0]["kind"], "workspace");
    assert_eq!(v["leaks"][0]["bytes"], 12_345);
    assert_eq!(v["leaks"][1]["kind"], "runtime");
}

#[test]
fn temporaries_lifetimes_and_sizes_per_function() {
    let mut b = ProfileBuilder::new();
    b.site(
        &in_fn(&["alloc::fmt::format::format_inner"], "app::log", 3),
        10,
        640,
    );
    let site = b.last();
    site.counters.temporary = 6;
    site.counters.lifetime_sum_ns = 10_000;
    site.counters.lifetime_max_ns = 4_000;
    site.sizes = sizes(&[(7, 10)]);
    b.site_with(
        &in_fn(&["alloc::vec::from_elem"], "app::log", 4),
        5,
        5_000,
        Extra {
            live_allocations: 1,
            live_bytes: 1_000,
            ..Extra::default()
        },
    );
    let site = b.last();
    site.counters.lifetime_sum_ns = 6_000;
    site.counters.lifetime_max_ns = 5_000;
    site.sizes = sizes(&[(10, 5)]);
    b.site(&in_fn(&[], "app::never_freed_nothing", 5), 0, 0);
    let a = analyze(&b.build(), &Inputs::default());
    let f = a.function("app::log").unwrap();
    assert_eq!(f.self_allocations, 15);
    assert_eq!(f.temporary_allocations, 6);
    // 14 frees (one block is still live), 16 µs in all.
    assert_eq!(f.self_frees, 14);
    assert_eq!(f.mean_lifetime_ns(), Some(16_000 / 14));
    assert_eq!(f.max_lifetime_ns, 5_000);
    assert_eq!(f.size_histogram[7], 10);
    assert_eq!(f.size_histogram[10], 5);
    assert_eq!(a.totals.temporary_allocations, 6);
    assert_eq!(a.totals.size_histogram.iter().sum::<u64>(), 15);
    let v = json(&b);
    let functions = v["functions"].as_array().unwrap();
    let log = functions.iter().find(|f| f["name"] == "app::log").unwrap();
    assert_eq!(log["temporary_allocations"], 6);
    assert_eq!(log["mean_lifetime_ns"], 16_000 / 14);
    assert_eq!(log["max_lifetime_ns"], 5_000);
    assert_eq!(
        log["size_histogram"],
        serde_json::json!([
            {"min_bytes": 64, "max_bytes": 127, "allocations": 10},
            {"min_bytes": 512, "max_bytes": 1023, "allocations": 5}
        ])
    );
    let report = text(&b, &TextOptions::default());
    let section = report.split("Sizes and temporaries").nth(1).unwrap();
    let row = section
        .lines()
        .find(|l| l.starts_with("  app::log"))
        .unwrap();
    // 6 of 15 temporary; sizes from 64–127 B to 512–1023 B, the commonest 64–127 B.
    assert!(
        row.contains("40.0%") && row.contains("█··▄") && row.ends_with("64–127 B"),
        "{row}"
    );
    // Lifetimes are timings: JSON only.
    assert!(!report.contains("lifetime"));
}

#[test]
fn regrown_string_without_temporaries_is_preallocate_in_bytes() {
    let mut b = ProfileBuilder::new();
    b.site(
        &in_fn(&["alloc::string::String::push_str"], "app::render", 8),
        6,
        8_000,
    );
    let c = &mut b.last().counters;
    c.growth_chains = 1;
    c.growth_reallocs = 5;
    c.growth_max_reallocs = 5;
    c.growth_max_final = 4_096;
    let i = &analyze(&b.build(), &Inputs::default()).insights[0];
    assert_eq!(i.kind, InsightKind::Preallocate);
    assert_eq!((i.allocations, i.avoidable), (6, 5));
    assert_eq!(
        i.message,
        "`String` regrown 5x to a capacity of 4,096 bytes: reserve it once with \
         `String::with_capacity(4096)`"
    );
}

#[test]
fn no_advice_does_not_deny_the_regrown_blocks_it_saw() {
    // `collect` regrowing its own vector: a growth chain the advice has no cure for.
    let mut b = ProfileBuilder::new();
    b.site(
        &in_fn(
            &[
                "alloc::raw_vec::finish_grow",
                "<alloc::vec::Vec<alloc::string::String> as core::iter::traits::collect::FromIterator<alloc::string::String>>::from_iter",
                "core::iter::traits::iterator::Iterator::collect",
            ],
            "app::owned_words",
            7,
        ),
        4,
        400,
    );
    let c = &mut b.last().counters;
    c.growth_chains = 2;
    c.growth_reallocs = 2;
    let out = text(&b, &TextOptions::default());
    assert!(analyze(&b.build(), &Inputs::default()).insights.is_empty());
    assert!(out.contains("the 2 regrown blocks in the profile"), "{out}");
    assert!(!out.contains("(regrown vectors,"), "{out}");
}
