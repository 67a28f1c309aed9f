//! The definitions of the analyze module, one test each.

use alloc_profile_format::stack_flags;
use alloc_profile_report::analyze::{analyze, Inputs, ModuleKind, LIBC_MODULE, RUNTIME_MODULE};

use crate::support::{dep, libc, rust_alloc, std, ws, Extra, ProfileBuilder};

#[test]
fn self_is_innermost_workspace_frame_and_total_covers_callers() {
    let mut b = ProfileBuilder::new();
    b.site(
        &[
            rust_alloc(),
            std("alloc::vec::Vec<T,A>::push"),
            ws("app::parse::tokenize", "/w/src/parse.rs", 12),
            ws("app::parse::parse", "/w/src/parse.rs", 40),
            ws("app::main", "/w/src/main.rs", 3),
            std("std::rt::lang_start"),
        ],
        5,
        500,
    );
    b.site(&[rust_alloc(), ws("app::main", "/w/src/main.rs", 4)], 1, 10);
    let a = analyze(&b.build(), &Inputs::default());
    let tokenize = a.function("app::parse::tokenize").unwrap();
    assert_eq!((tokenize.self_allocations, tokenize.self_bytes), (5, 500));
    assert_eq!((tokenize.total_allocations, tokenize.total_bytes), (5, 500));
    let parse = a.function("app::parse::parse").unwrap();
    assert_eq!((parse.self_allocations, parse.total_allocations), (0, 5));
    let main = a.function("app::main").unwrap();
    assert_eq!((main.self_allocations, main.self_bytes), (1, 10));
    assert_eq!((main.total_allocations, main.total_bytes), (6, 510));
    assert_eq!(a.totals.allocations, 6);
    // Functions by total, then name.
    let names: Vec<&str> = a.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["app::main", "app::parse::parse", "app::parse::tokenize"]
    );
    // Hot spots: self > 0 only, by self.
    let hot: Vec<&str> = a.hot_spots().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(hot, ["app::parse::tokenize", "app::main"]);
    assert_eq!(main.module, "app");
    assert_eq!(tokenize.module, "app::parse");
    assert_eq!(tokenize.crate_name.as_deref(), Some("app"));
    assert!(tokenize.workspace);
}

#[test]
fn recursion_counts_once_per_site() {
    let mut b = ProfileBuilder::new();
    b.site(
        &[
            rust_alloc(),
            ws("app::walk", "/w/src/lib.rs", 10),
            ws("app::walk", "/w/src/lib.rs", 12),
            ws("app::walk", "/w/src/lib.rs", 12),
            ws("app::main", "/w/src/main.rs", 2),
            ws("app::walk", "/w/src/lib.rs", 12),
        ],
        7,
        70,
    );
    let a = analyze(&b.build(), &Inputs::default());
    let walk = a.function("app::walk").unwrap();
    assert_eq!((walk.self_allocations, walk.total_allocations), (7, 7));
    assert_eq!((walk.self_bytes, walk.total_bytes), (70, 70));
    assert_eq!(walk.line, Some(10));
    assert_eq!(a.function("app::main").unwrap().total_allocations, 7);
}

#[test]
fn closures_and_generics_fold_into_their_function() {
    let mut b = ProfileBuilder::new();
    b.site(
        &[
            rust_alloc(),
            std("alloc::str::<impl str>::to_uppercase"),
            ws("app::shout::{{closure}}", "/w/src/lib.rs", 8),
            std("core::iter::adapters::map::map_fold::{{closure}}"),
            ws("app::shout", "/w/src/lib.rs", 7),
        ],
        3,
        30,
    );
    b.site(
        &[
            rust_alloc(),
            ws("app::shout::{closure#1}", "/w/src/lib.rs", 9),
        ],
        1,
        4,
    );
    b.site(
        &[rust_alloc(), ws("app::generic::<u8>", "/w/src/lib.rs", 20)],
        1,
        1,
    );
    b.site(
        &[
            rust_alloc(),
            ws("app::generic::<alloc::string::String>", "/w/src/lib.rs", 20),
        ],
        1,
        24,
    );
    let a = analyze(&b.build(), &Inputs::default());
    let shout = a.function("app::shout").unwrap();
    assert_eq!((shout.self_allocations, shout.total_allocations), (4, 4));
    assert_eq!(shout.line, Some(8));
    assert_eq!(shout.via.as_deref(), Some("str::to_uppercase"));
    let generic = a.function("app::generic").unwrap();
    assert_eq!((generic.self_allocations, generic.self_bytes), (2, 25));
    assert_eq!(a.functions.len(), 2);
}

#[test]
fn modules_attribute_to_innermost_workspace_or_dependency_frame() {
    let mut b = ProfileBuilder::new();
    // serde_json called from app::save: module serde_json::ser, self function app::save.
    b.site(
        &[
            rust_alloc(),
            std("alloc::vec::Vec<T,A>::reserve"),
            dep("serde_json", "serde_json::ser::format_escaped_str"),
            dep("serde_json", "serde_json::ser::to_string"),
            ws("app::store::save", "/w/src/store.rs", 30),
        ],
        4,
        400,
    );
    b.site(
        &[
            rust_alloc(),
            ws("app::store::Db::load", "/w/src/store.rs", 10),
        ],
        2,
        20,
    );
    let a = analyze(&b.build(), &Inputs::default());
    let ser = a.module("serde_json::ser").unwrap();
    assert_eq!(ser.kind, ModuleKind::Dependency);
    assert!(!ser.workspace());
    assert_eq!(ser.crate_name.as_deref(), Some("serde_json"));
    assert_eq!((ser.allocations, ser.bytes), (4, 400));
    // Type names are not modules.
    let store = a.module("app::store").unwrap();
    assert_eq!(store.kind, ModuleKind::Workspace);
    assert_eq!((store.allocations, store.bytes), (2, 20));
    assert_eq!(store.crate_name.as_deref(), Some("app"));
    let save = a.function("app::store::save").unwrap();
    assert_eq!(save.self_allocations, 4);
    assert_eq!(save.via.as_deref(), Some("serde_json::to_string"));
    // Modules sum to the total.
    assert_eq!(a.modules.iter().map(|m| m.allocations).sum::<u64>(), 6);
    // Dependencies are modules, not functions.
    assert!(a.functions.iter().all(|f| f.workspace));
    assert_eq!(a.functions.len(), 2);
}

#[test]
fn runtime_only_sites_go_to_the_runtime_module() {
    let mut b = ProfileBuilder::new();
    b.site_with(
        &[
            rust_alloc(),
            std("std::io::buffered::bufwriter::BufWriter<W>::with_capacity"),
            std("std::io::stdio::stdout"),
            std("std::rt::lang_start_internal"),
            libc("__libc_start_main"),
        ],
        1,
        1024,
        Extra {
            live_allocations: 1,
            live_bytes: 1024,
            ..Extra::default()
        },
    );
    let a = analyze(&b.build(), &Inputs::default());
    assert!(a.functions.is_empty());
    assert_eq!(a.modules.len(), 1);
    let runtime = &a.modules[0];
    assert_eq!(runtime.name, RUNTIME_MODULE);
    assert_eq!(runtime.kind, ModuleKind::Runtime);
    assert_eq!(runtime.crate_name, None);
    assert_eq!((runtime.allocations, runtime.leaked_allocations), (1, 1));
    assert_eq!(a.totals.leaked_bytes, 1024);
}

#[test]
fn libc_internal_sites_count_in_totals_only() {
    let mut b = ProfileBuilder::new();
    b.libc_site(
        &[
            libc("_dl_allocate_tls"),
            libc("pthread_create"),
            std("std::thread::Builder::spawn_unchecked_"),
            ws("app::main", "/w/src/main.rs", 5),
        ],
        2,
        600,
    );
    b.site(&[rust_alloc(), ws("app::main", "/w/src/main.rs", 6)], 1, 8);
    let a = analyze(&b.build(), &Inputs::default());
    assert_eq!(a.totals.allocations, 3);
    assert_eq!(a.totals.bytes, 608);
    assert_eq!(a.totals.libc_internal_allocations, 2);
    assert_eq!(a.totals.libc_internal_bytes, 600);
    let main = a.function("app::main").unwrap();
    assert_eq!((main.self_allocations, main.total_allocations), (1, 1));
    assert_eq!(main.line, Some(6));
    let libc_module = a.module(LIBC_MODULE).unwrap();
    assert_eq!(libc_module.kind, ModuleKind::LibcInternal);
    assert_eq!(libc_module.allocations, 2);
    assert!(a.module("app").is_some());
}

#[test]
fn location_is_the_self_line_with_most_allocations() {
    let mut b = ProfileBuilder::new();
    let f = |line| ws("app::build", "/w/src/build.rs", line);
    b.site(
        &[rust_alloc(), std("alloc::vec::Vec<T,A>::push"), f(30)],
        5,
        50,
    );
    b.site(
        &[
            rust_alloc(),
            std("alloc::vec::Vec<T>::with_capacity"),
            f(20),
        ],
        9,
        90,
    );
    b.site(
        &[rust_alloc(), std("<T as core::clone::Clone>::clone"), f(20)],
        1,
        10,
    );
    // Tie at 4: lowest line wins.
    b.site(&[rust_alloc(), f(50)], 4, 4);
    b.site(&[rust_alloc(), f(45)], 4, 4);
    let a = analyze(&b.build(), &Inputs::default());
    let build = a.function("app::build").unwrap();
    assert_eq!(build.file.as_deref(), Some("/w/src/build.rs"));
    assert_eq!(build.line, Some(20));
    assert_eq!(build.via.as_deref(), Some("Vec::with_capacity"));

    let mut b = ProfileBuilder::new();
    b.site(&[rust_alloc(), ws("app::a", "/w/src/a.rs", 9)], 4, 4);
    b.site(&[rust_alloc(), ws("app::a", "/w/src/a.rs", 7)], 4, 4);
    let a = analyze(&b.build(), &Inputs::default());
    assert_eq!(a.function("app::a").unwrap().line, Some(7));
}

#[test]
fn location_of_a_caller_is_its_call_site_with_most_allocations() {
    let mut b = ProfileBuilder::new();
    let leaf = ws("app::leaf", "/w/src/lib.rs", 1);
    b.site(
        &[
            rust_alloc(),
            leaf.clone(),
            ws("app::run", "/w/src/lib.rs", 11),
        ],
        2,
        2,
    );
    b.site(
        &[
            rust_alloc(),
            leaf.clone(),
            ws("app::run", "/w/src/lib.rs", 12),
        ],
        3,
        3,
    );
    let a = analyze(&b.build(), &Inputs::default());
    let run = a.function("app::run").unwrap();
    assert_eq!((run.self_allocations, run.total_allocations), (0, 5));
    assert_eq!(run.line, Some(12));
    assert_eq!(run.via, None);
}

#[test]
fn via_is_the_frame_just_inside_the_self_frame() {
    let mut b = ProfileBuilder::new();
    let cases = [
        ("app::a", "alloc::vec::Vec<T,A>::push", "Vec::push"),
        (
            "app::b",
            "<alloc::string::String as core::clone::Clone>::clone",
            "String::clone",
        ),
        ("app::c", "<T as core::clone::Clone>::clone", "Clone::clone"),
        ("app::d", "alloc::fmt::format", "format!"),
        (
            "app::e",
            "<T as alloc::string::ToString>::to_string",
            "ToString::to_string",
        ),
        (
            "app::f",
            "<alloc::string::String as core::ops::arith::Add<&str>>::add",
            "String + &str",
        ),
        ("app::g", "alloc::boxed::Box<T>::new", "Box::new"),
        ("app::h", "alloc::sync::Arc<T>::new", "Arc::new"),
        (
            "app::i",
            "std::collections::hash::map::HashMap<K,V,S>::insert",
            "HashMap::insert",
        ),
        (
            "app::j",
            "alloc::collections::btree::map::BTreeMap<K,V,A>::insert",
            "BTreeMap::insert",
        ),
        (
            "app::k",
            "core::iter::traits::iterator::Iterator::collect",
            "Iterator::collect",
        ),
        (
            "app::l",
            "alloc::str::<impl str>::to_uppercase",
            "str::to_uppercase",
        ),
        (
            "app::m",
            "alloc::slice::<impl [T]>::to_vec",
            "slice::to_vec",
        ),
        (
            "app::n",
            "<str as alloc::borrow::ToOwned>::to_owned",
            "str::to_owned",
        ),
    ];
    for (function, callee, _) in cases {
        // Deeper std frames inside the callee do not matter.
        b.site(
            &[
                rust_alloc(),
                std("alloc::raw_vec::RawVec<T,A>::grow_one"),
                std(callee),
                ws(function, "/w/src/lib.rs", 1),
            ],
            1,
            1,
        );
    }
    let a = analyze(&b.build(), &Inputs::default());
    for (function, _, via) in cases {
        assert_eq!(
            a.function(function).unwrap().via.as_deref(),
            Some(via),
            "via of {function}"
        );
    }
}

#[test]
fn zero_allocation_functions_are_the_rest_of_the_workspace() {
    let mut b = ProfileBuilder::new();
    b.site(
        &[
            rust_alloc(),
            ws("app::leaf", "/w/src/lib.rs", 1),
            ws("app::main", "/w/src/main.rs", 1),
        ],
        1,
        1,
    );
    b.libc_site(
        &[
            libc("pthread_create"),
            ws("app::spawner", "/w/src/lib.rs", 1),
        ],
        1,
        1,
    );
    b.workspace_functions(&[
        "app::main",
        "app::leaf",
        "app::checksum",
        "app::spawner",
        "app::Point::new",
    ]);
    let a = analyze(&b.build(), &Inputs::default());
    // A function seen only on a C-library-internal stack is blamed for nothing.
    assert_eq!(
        a.zero_allocation_functions,
        ["app::Point::new", "app::checksum", "app::spawner"]
    );
    assert_eq!(a.workspace_function_count, 5);
}

#[test]
fn ties_are_broken_by_name_everywhere() {
    let mut b = ProfileBuilder::new();
    for name in ["app::zeta::f", "app::alpha::f", "app::mid::f"] {
        b.site(&[rust_alloc(), ws(name, "/w/src/lib.rs", 1)], 2, 2);
    }
    let forward = analyze(&b.build(), &Inputs::default());
    b.profile.sites.reverse();
    b.profile.frames.reverse();
    let n = b.profile.frames.len() as u32;
    for site in &mut b.profile.sites {
        for f in &mut site.frames {
            *f = n - 1 - *f;
        }
    }
    let backward = analyze(&b.build(), &Inputs::default());
    assert_eq!(forward, backward);
    let names: Vec<&str> = forward.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["app::alpha::f", "app::mid::f", "app::zeta::f"]);
    let hot: Vec<&str> = forward
        .hot_spots()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(hot, names);
    let modules: Vec<&str> = forward.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(modules, ["app::alpha", "app::mid", "app::zeta"]);
}

#[test]
fn hot_spot_ties_fall_back_to_bytes_then_name() {
    let mut b = ProfileBuilder::new();
    b.site(&[rust_alloc(), ws("app::b", "/w/src/lib.rs", 1)], 3, 10);
    b.site(&[rust_alloc(), ws("app::a", "/w/src/lib.rs", 1)], 3, 10);
    b.site(&[rust_alloc(), ws("app::c", "/w/src/lib.rs", 1)], 3, 99);
    let a = analyze(&b.build(), &Inputs::default());
    let hot: Vec<&str> = a.hot_spots().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(hot, ["app::c", "app::a", "app::b"]);
}

#[test]
fn totals() {
    let mut b = ProfileBuilder::new();
    let second = b.process("/work/app/target/debug/child", 0, 5);
    b.profile.processes[0].end.peak_bytes = 4000;
    b.profile.processes[second].end.peak_bytes = 3000;
    b.site_with(
        &[rust_alloc(), ws("app::main", "/w/src/main.rs", 1)],
        10,
        1000,
        Extra {
            reallocations: 4,
            live_allocations: 2,
            live_bytes: 200,
            ..Extra::default()
        },
    );
    b.site_with(
        &[rust_alloc(), ws("app::deep", "/w/src/main.rs", 1)],
        3,
        30,
        Extra {
            flags: stack_flags::TRUNCATED,
            process: second,
            ..Extra::default()
        },
    );
    let a = analyze(&b.build(), &Inputs::default());
    let t = &a.totals;
    assert_eq!(t.allocations, 10 + 3 + 5);
    assert_eq!(t.unattributed_allocations, 5);
    assert_eq!(t.reallocations, 4);
    assert_eq!(t.bytes, 1030);
    assert_eq!(t.frees, 8 + 3);
    assert_eq!(t.freed_bytes, 800 + 30);
    assert_eq!((t.leaked_allocations, t.leaked_bytes), (2, 200));
    assert_eq!(t.peak_bytes, 4000, "peak is the largest of any process");
    assert_eq!(t.truncated_allocations, 3);
    assert_eq!(a.processes.len(), 2);
    assert_eq!(a.processes[1].allocations, 3 + 5);
    let main = a.function("app::main").unwrap();
    assert_eq!(main.self_reallocations, 4);
    assert_eq!(
        (main.self_leaked_allocations, main.self_leaked_bytes),
        (2, 200)
    );
}

#[test]
fn empty_profile() {
    let a = analyze(&ProfileBuilder::new().build(), &Inputs::default());
    assert_eq!(a.totals.allocations, 0);
    assert!(a.functions.is_empty());
    assert!(a.modules.is_empty());
    assert!(a.zero_allocation_functions.is_empty());
}

#[test]
fn the_header_counts_live_blocks_as_the_leaks_table_does() {
    // A pool a dependency builds inside a function of yours and keeps until exit: the leaks
    // table lists it under your function (via the dependency's call), so the header must count
    // it as your code's too, not as the dependency module's it is in.
    let mut b = ProfileBuilder::new();
    b.site_with(
        &[
            rust_alloc(),
            dep("rayon_core", "rayon_core::registry::Registry::new"),
            ws("app::shout", "/w/src/main.rs", 10),
            ws("app::main", "/w/src/main.rs", 20),
        ],
        3,
        300,
        Extra {
            live_allocations: 3,
            live_bytes: 300,
            ..Extra::default()
        },
    );
    let analysis = analyze(&b.build(), &Inputs::default());
    assert_eq!(analysis.leaks[0].kind, ModuleKind::Workspace);
    let mut out = Vec::new();
    alloc_profile_report::write_text(
        &mut out,
        &analysis,
        &alloc_profile_report::Context::default(),
        &alloc_profile_report::TextOptions::default(),
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("still live at exit: 3 allocations, 300 B (your code 3)"),
        "{text}"
    );
}
