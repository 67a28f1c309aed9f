//! The profiles the golden files, the views and the browser tests render: the README's demo and
//! a few that exercise the edges (nothing recorded, the runtime only, a crash among many
//! processes, nextest's one process per test).

use std::path::PathBuf;

use alloc_profile_format::symbolized::Profile;
use alloc_profile_format::{end_reason, stack_flags};
use alloc_profile_report::{Context, TextOptions};

use crate::support::{dep, libc, rust_alloc, sizes, std, ws, Extra, ProfileBuilder};

pub struct Fixture {
    pub name: &'static str,
    pub profile: Profile,
    pub context: Context,
    pub options: TextOptions,
}

fn command(words: &str) -> Vec<String> {
    words.split(' ').map(str::to_owned).collect()
}

fn demo_context() -> Context {
    Context {
        command: command("cargo alloc-profile run --example demo"),
        target_label: "demo (examples/demo.rs)".to_owned(),
        exit_code: Some(0),
        signal: None,
        notes: Vec::new(),
        unprofiled: Vec::new(),
        workspace_root: Some(PathBuf::from("/work/demo")),
    }
}

/// The README's demo: before/after pairs of common patterns, a dependency, threads, the runtime.
/// Site peaks add up to the process's peak, as in a real profile.
pub fn demo_profile() -> Profile {
    const FILE: &str = "/work/demo/examples/demo.rs";
    let main = ws("demo::main", FILE, 120);
    let mut b = ProfileBuilder::new();
    b.profile.processes[0].exe = "/work/demo/target/debug/examples/demo".to_owned();
    b.profile.processes[0].end.peak_bytes = 42_188;
    b.profile.processes[0].end.elapsed_ns = 80_000_000;
    b.profile.processes[0].end.peak_time_ns = 50_400_000;

    let lang_start = std("std::rt::lang_start_internal");
    let call = |function: &str, line: u32, caller_line: u32| {
        vec![
            ws(function, FILE, line),
            ws("demo::main", FILE, caller_line),
            lang_start.clone(),
        ]
    };
    let with = |inner: &[&str], outer: Vec<_>| {
        let mut frames = vec![rust_alloc()];
        frames.extend(inner.iter().map(|f| std(f)));
        frames.extend(outer);
        frames
    };

    b.site(
        &with(
            &["<T as core::clone::Clone>::clone"],
            call("demo::avoid_clones::before", 41, 121),
        ),
        1000,
        64_000,
    );
    let site = b.last();
    site.counters.temporary = 1000;
    site.counters.lifetime_sum_ns = 2_500_000;
    site.counters.lifetime_max_ns = 9_000;
    site.sizes = sizes(&[(7, 1000)]);
    b.site_with(
        &with(
            &[
                "alloc::raw_vec::finish_grow",
                "<alloc::string::String as core::ops::arith::Add<&str>>::add",
            ],
            call("demo::string_building::before", 77, 122),
        ),
        412,
        12_288,
        Extra {
            reallocations: 206,
            ..Extra::default()
        },
    );
    let site = b.last();
    site.counters.growth_chains = 206;
    site.counters.growth_reallocs = 206;
    site.counters.growth_max_reallocs = 1;
    site.counters.growth_max_final = 64;
    site.sizes = sizes(&[(5, 206), (6, 206)]);
    site.peak_bytes = 16_384;
    b.site(
        &with(
            &["<T as alloc::string::ToString>::to_string"],
            call("demo::string_building::before", 78, 122),
        ),
        100,
        800,
    );
    b.last().counters.temporary = 94;
    b.last().sizes = sizes(&[(4, 100)]);
    b.site(
        &with(
            &["alloc::str::<impl str>::to_uppercase"],
            vec![
                ws("demo::owned_args::before::{{closure}}", FILE, 98),
                std("core::iter::adapters::map::map_fold::{{closure}}"),
                ws("demo::owned_args::before", FILE, 99),
                ws("demo::main", FILE, 123),
            ],
        ),
        200,
        4_800,
    );
    b.site(
        &with(
            &["core::iter::traits::iterator::Iterator::collect"],
            call("demo::owned_args::before", 99, 123),
        ),
        1,
        4_800,
    );
    b.last().peak_bytes = 4_800;
    b.site(
        &with(
            &["alloc::str::<impl str>::to_uppercase"],
            call("demo::owned_args::after", 110, 124),
        ),
        100,
        2_400,
    );
    b.last().peak_bytes = 2_400;
    // `Vec<u64>` pushed to 1,000 elements: one malloc of 4 elements, then 8 reallocs.
    let grow = [
        "alloc::raw_vec::finish_grow",
        "alloc::raw_vec::RawVec<u64>::grow_one",
        "<alloc::vec::Vec<u64>>::push",
    ];
    b.site(
        &with(&grow, call("demo::preallocate::before", 18, 125)),
        1,
        32,
    );
    b.last().sizes = sizes(&[(6, 1)]);
    let mut realloc_frames = vec![std("alloc::alloc::realloc")];
    realloc_frames.extend(with(&grow, call("demo::preallocate::before", 18, 125)));
    b.site_with(
        &realloc_frames,
        8,
        16_352,
        Extra {
            reallocations: 8,
            ..Extra::default()
        },
    );
    let site = b.last();
    site.counters.growth_chains = 1;
    site.counters.growth_reallocs = 8;
    site.counters.growth_max_reallocs = 8;
    site.counters.growth_max_final = 8_192;
    site.sizes = sizes(&[
        (7, 1),
        (8, 1),
        (9, 1),
        (10, 1),
        (11, 1),
        (12, 1),
        (13, 1),
        (14, 1),
    ]);
    site.peak_bytes = 8_192;
    b.site(
        &with(
            &["alloc::vec::Vec<T>::with_capacity"],
            call("demo::preallocate::after", 27, 126),
        ),
        1,
        8_000,
    );
    b.last().sizes = sizes(&[(13, 1)]);
    b.site(
        &with(
            &["alloc::vec::Vec<T,A>::reserve"],
            vec![
                dep("serde_json", "serde_json::ser::format_escaped_str_contents"),
                dep("serde_json", "serde_json::ser::to_string"),
                ws("demo::report::to_json", FILE, 140),
                ws("demo::main", FILE, 127),
            ],
        ),
        91,
        2_150,
    );
    b.last().peak_bytes = 1_000;
    b.site_with(
        &with(
            &[
                "hashbrown::raw::RawTable<T,A>::reserve_rehash",
                "std::collections::hash::map::HashMap<K,V,S>::insert",
            ],
            call("demo::cache::Cache::insert", 60, 128),
        ),
        12,
        3_072,
        Extra {
            reallocations: 3,
            live_allocations: 2,
            live_bytes: 1_024,
            ..Extra::default()
        },
    );
    b.last().peak_bytes = 2_048;
    b.site(
        &with(
            &["alloc::alloc::exchange_malloc"],
            call(
                "demo::very_long_module_name::nested_submodule::another_level::WidgetFactoryBuilder::build_all_the_widgets",
                200,
                129,
            ),
        ),
        11,
        1_408,
    );
    b.last().peak_bytes = 1_204;
    b.site(
        &with(
            &["alloc::fmt::format::format_inner"],
            vec![main.clone(), lang_start.clone()],
        ),
        2,
        64,
    );
    b.last().peak_bytes = 64;
    // A worker thread: its stack continues through the spawning one.
    b.site(
        &with(
            &["alloc::vec::Vec<T>::with_capacity"],
            vec![
                ws("demo::spawn_workers::{{closure}}", FILE, 150),
                std("std::sys::backtrace::__rust_begin_short_backtrace"),
                std("std::thread::Builder::spawn_unchecked_::{{closure}}"),
                libc("start_thread"),
                libc("clone3"),
                std("std::thread::spawn"),
                ws("demo::spawn_workers", FILE, 148),
                ws("demo::main", FILE, 130),
            ],
        ),
        40,
        2_560,
    );
    b.last().peak_bytes = 2_560;
    // The runtime on its own: the stdout buffer (still live) and thread bookkeeping.
    b.site_with(
        &with(
            &[
                "std::io::buffered::linewriter::LineWriter<W>::new",
                "std::io::stdio::stdout",
            ],
            vec![std("std::io::stdio::_print"), lang_start.clone()],
        ),
        1,
        1_024,
        Extra {
            live_allocations: 1,
            live_bytes: 1_024,
            ..Extra::default()
        },
    );
    b.last().peak_bytes = 1_024;
    b.site(
        &with(
            &[
                "std::thread::Thread::new",
                "std::thread::Builder::spawn_unchecked_",
            ],
            vec![std("std::thread::spawn")],
        ),
        25,
        1_600,
    );
    b.last().peak_bytes = 1_600;
    b.libc_site(
        &[
            libc("_dl_allocate_tls"),
            libc("pthread_create"),
            std("std::thread::spawn"),
        ],
        3,
        912,
    );
    b.last().peak_bytes = 912;
    b.workspace_functions(&[
        "demo::avoid_clones::after",
        "demo::avoid_clones::before",
        "demo::cache::Cache::insert",
        "demo::cache::Cache::new",
        "demo::checksum",
        "demo::main",
        "demo::owned_args::after",
        "demo::owned_args::before",
        "demo::preallocate::after",
        "demo::preallocate::before",
        "demo::preallocate::sum",
        "demo::report::to_json",
        "demo::spawn_workers",
        "demo::string_building::after",
        "demo::string_building::before",
        "demo::very_long_module_name::nested_submodule::another_level::WidgetFactoryBuilder::build_all_the_widgets",
        "<demo::Point as core::fmt::Display>::fmt",
    ]);
    b.build()
}

fn no_allocations() -> Fixture {
    let mut b = ProfileBuilder::new();
    b.workspace_functions(&["tiny::add", "tiny::main"]);
    Fixture {
        name: "no_allocations",
        profile: b.build(),
        context: Context {
            command: command("cargo alloc-profile run"),
            target_label: "tiny (src/main.rs)".to_owned(),
            exit_code: Some(0),
            ..Context::default()
        },
        options: TextOptions::default(),
    }
}

fn runtime_only() -> Fixture {
    let mut b = ProfileBuilder::new();
    b.site_with(
        &[
            rust_alloc(),
            std("std::io::stdio::stdout"),
            std("std::io::stdio::_print"),
        ],
        1,
        1024,
        Extra {
            live_allocations: 1,
            live_bytes: 1024,
            ..Extra::default()
        },
    );
    b.libc_site(
        &[
            libc("pthread_getattr_np"),
            std("std::rt::lang_start_internal"),
        ],
        7,
        1_500,
    );
    b.workspace_functions(&["hello::main"]);
    Fixture {
        name: "runtime_only",
        profile: b.build(),
        context: Context {
            command: command("cargo alloc-profile run --bin hello"),
            target_label: "hello (src/main.rs)".to_owned(),
            exit_code: Some(0),
            ..Context::default()
        },
        options: TextOptions::default(),
    }
}

/// A crash in a child process, a full stack table, deep stacks, warnings, long names and paths
/// without a workspace root, and huge numbers: everything that pushes against 100 columns.
fn crashed_and_crowded() -> Fixture {
    let mut b = ProfileBuilder::new();
    let child = b.process(
        "/tmp/build/target/release/deps/worker-0123abcd",
        9_000_000_000,
        17,
    );
    b.profile.processes[0].end.peak_bytes = 123_456_789;
    b.profile.processes[child].end.reason = end_reason::SIGNAL;
    b.profile.processes[child].end.detail = 11;
    let long_file =
        "/home/someone/projects/a-rather-deeply-nested/workspace/crates/engine-core/src/scheduler/queue/priority.rs";
    b.site_with(
        &[
            rust_alloc(),
            std("<alloc::collections::vec_deque::VecDeque<T,A> as core::iter::traits::collect::Extend<T>>::extend"),
            ws("engine_core::scheduler::queue::priority::PriorityQueueWithAVeryLongName::push_many_items_at_once", long_file, 4321),
            ws("engine_core::main", "/home/someone/src/main.rs", 1),
        ],
        2_345_678_901,
        987_654_321_000,
        Extra { reallocations: 1_000_000_000, process: child, ..Extra::default() },
    );
    b.site_with(
        &[
            rust_alloc(),
            std("alloc::vec::Vec<T,A>::extend_from_slice"),
            ws("engine_core::main", "/home/someone/src/main.rs", 9),
        ],
        12,
        120,
        Extra {
            flags: stack_flags::TRUNCATED,
            ..Extra::default()
        },
    );
    for i in 0..13 {
        let name = format!("engine_core::stage_{i:02}::run");
        b.site(
            &[
                rust_alloc(),
                std("alloc::vec::Vec<T>::with_capacity"),
                ws(&name, "/home/someone/src/stages.rs", 10 + i),
            ],
            100 + u64::from(i),
            1000,
        );
        b.site(
            &[
                rust_alloc(),
                dep(&format!("dep_{i:02}"), &format!("dep_{i:02}::inner::work")),
                ws(&name, "/home/someone/src/stages.rs", 10 + i),
            ],
            50,
            500,
        );
    }
    let mut names: Vec<String> = (0..30)
        .map(|i| format!("engine_core::idle::function_number_{i:02}"))
        .collect();
    names.push("engine_core::an::extraordinarily::long::path::that::cannot::possibly::fit::on::one::line::of::the::report::at::all::function".to_owned());
    b.profile.workspace_functions = names;
    b.profile.workspace_functions.sort();
    Fixture {
        name: "crashed_and_crowded",
        profile: b.build(),
        context: Context {
            command: vec![
                "cargo".into(),
                "alloc-profile".into(),
                "test".into(),
                "--release".into(),
                "--".into(),
                "it's a test name with spaces".into(),
                "--exact".into(),
                "--nocapture".into(),
                "--test-threads=1".into(),
            ],
            target_label: "engine-core (tests/integration_with_a_long_name.rs)".to_owned(),
            exit_code: None,
            signal: Some((11, "SIGSEGV".to_owned())),
            notes: vec![
                "no debug info for libengine_ffi.so (build it with debug = true); its frames show as ?? and count for the runtime".to_owned(),
            ],
            unprofiled: Vec::new(),
            workspace_root: None,
        },
        options: TextOptions { top: 5, ..TextOptions::default() },
    }
}

/// `cargo nextest`: one process per test, each the same executable with `--exact <test>
/// --nocapture`, where only the test's name tells the rows apart; calls into a dependency whose
/// names are long; more zero-allocation functions than `--top`.
fn nextest_processes() -> Fixture {
    const EXE: &str = "/w/target/debug/deps/regex_syntax-0123456789abcdef";
    const FILE: &str = "/w/regex-syntax/src/ast/parse.rs";
    let tests = [
        "ast::parse::tests::parse_set_class_open_bracket",
        "ast::parse::tests::parse_set_class_nested_negated",
        "ast::parse::tests::parse_flags",
        "hir::translate::tests::class_unicode_case_insensitive_with_an_even_longer_name",
    ];
    let mut b = ProfileBuilder::new();
    for (i, test) in tests.iter().enumerate() {
        let process = if i == 0 {
            b.profile.processes[0].exe = EXE.to_owned();
            0
        } else {
            b.process(EXE, 4096, 0)
        };
        b.profile.processes[process].args = vec![
            EXE.to_owned(),
            "--exact".to_owned(),
            (*test).to_owned(),
            "--nocapture".to_owned(),
        ];
        b.profile.processes[process].end.peak_bytes = 4096;
        let function = format!("regex_syntax::{test}");
        b.site_with(
            &[
                rust_alloc(),
                std("alloc::vec::Vec<T,A>::push"),
                dep(
                    "regex_automata",
                    "regex_automata::util::determinize::state::StateBuilderMatches::add_match_pattern_id",
                ),
                ws(&function, FILE, 100 + i as u32),
                std("core::ops::function::FnOnce::call_once"),
            ],
            10 + i as u64,
            100,
            Extra {
                process,
                ..Extra::default()
            },
        );
    }
    let mut names: Vec<String> = (0..40)
        .map(|i| format!("regex_syntax::ast::print::tests::unused_{i:02}"))
        .collect();
    names.extend(tests.iter().map(|t| format!("regex_syntax::{t}")));
    names.sort();
    b.profile.workspace_functions = names;
    Fixture {
        name: "nextest_processes",
        profile: b.build(),
        context: Context {
            command: command("cargo alloc-profile nextest -p regex-syntax"),
            target_label: "tests".to_owned(),
            exit_code: Some(0),
            workspace_root: Some(PathBuf::from("/w")),
            ..Context::default()
        },
        options: TextOptions::default(),
    }
}

pub fn fixtures() -> Vec<Fixture> {
    vec![
        Fixture {
            name: "demo",
            profile: demo_profile(),
            context: demo_context(),
            options: TextOptions::default(),
        },
        Fixture {
            name: "demo_color",
            profile: demo_profile(),
            context: demo_context(),
            options: TextOptions {
                top: 3,
                color: true,
                advice: true,
            },
        },
        no_allocations(),
        runtime_only(),
        crashed_and_crowded(),
        nextest_processes(),
    ]
}
