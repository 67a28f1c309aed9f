//! Unit tests of the blame rules, on hand-built stacks.

use super::*;

fn frame(function: &str, kind: FrameKind, object: &str) -> Frame {
    Frame::named(function, kind, object)
}

fn profile(frames: Vec<Frame>, spawned_at: Vec<u32>) -> Profile {
    let ids = (0..frames.len() as u32).collect();
    Profile {
        frames,
        sites: vec![Site {
            process: 0,
            frames: ids,
            spawned_at,
            counters: alloc_profile_format::SiteCounters::default(),
            peak_bytes: 0,
            sizes: Vec::new(),
            flags: 0,
        }],
        ..Profile::default()
    }
}

use FrameKind::{Dependency, Foreign, Std, Workspace};

#[test]
fn libc_for_std_api_counts_for_the_caller() {
    let p = profile(
        vec![
            frame("__alloc_dir", Foreign, "libc.so.6"),
            frame("opendir", Foreign, "libc.so.6"),
            frame("std::sys::fs::unix::readdir", Std, "app"),
            frame("std::fs::read_dir", Std, "app"),
            frame("app::list", Workspace, "app"),
        ],
        vec![],
    );
    let b = attribute(&p).remove(0);
    assert_eq!(b.origin, Origin::Program);
    assert_eq!(b.self_function().as_deref(), Some("app::list"));
    assert_eq!(b.owner.kind, ModuleKind::Workspace);
}

#[test]
fn libc_for_threads_and_before_main_is_internal() {
    let p = profile(
        vec![
            frame("_dl_allocate_tls", Foreign, "ld-linux-x86-64.so.2"),
            frame("pthread_create@@GLIBC_2.34", Foreign, "libc.so.6"),
            frame("std::thread::Builder::spawn_unchecked_", Std, "app"),
            frame("app::main", Workspace, "app"),
        ],
        vec![],
    );
    let b = attribute(&p).remove(0);
    assert_eq!(b.origin, Origin::LibcInternal);
    assert_eq!(b.self_function(), None);
    assert_eq!(b.owner.name, LIBC_MODULE);
    let p = profile(
        vec![
            frame("malloc", Foreign, "ld-linux-x86-64.so.2"),
            frame("_dl_init", Foreign, "ld-linux-x86-64.so.2"),
        ],
        vec![],
    );
    assert_eq!(attribute(&p)[0].origin, Origin::LibcInternal);
}

#[test]
fn pool_threads_stand_alone_and_spawned_threads_continue() {
    let pool = vec![
        frame("app::shout::{{closure}}", Workspace, "app"),
        frame(
            "rayon_core::registry::WorkerThread::execute",
            Dependency,
            "app",
        ),
        // The spawning stack: rayon started the thread for its pool.
        frame("pthread_create", Foreign, "libc.so.6"),
        frame("std::thread::Builder::spawn", Std, "app"),
        frame("rayon_core::registry::Registry::new", Dependency, "app"),
        frame("app::first_user", Workspace, "app"),
        frame("app::main", Workspace, "app"),
    ];
    let p = profile(pool, vec![2]);
    let b = attribute(&p).remove(0);
    // Not `first_user`, which only started the pool: `main`, which runs around everything.
    assert_eq!(b.frames.len(), 3);
    assert_eq!(keys(&b), ["app::shout", "app::main"]);
    // Started under a test function (not `main`), the job stands alone.
    let mut p = p;
    p.frames[6].function = "app::tests::first".to_owned();
    let b = attribute(&p).remove(0);
    assert_eq!(b.frames.len(), 2);

    let own = vec![
        frame("app::work", Workspace, "app"),
        frame("std::thread::start", Std, "app"),
        frame("pthread_create", Foreign, "libc.so.6"),
        frame("std::thread::spawn", Std, "app"),
        frame("app::run::{{closure}}", Workspace, "app"),
        frame("std::thread::scope", Std, "app"),
        frame("app::run", Workspace, "app"),
    ];
    let p = profile(own, vec![2]);
    assert_eq!(keys(&attribute(&p)[0]), ["app::work", "app::run"]);
}

fn keys(b: &Blame<'_>) -> Vec<String> {
    b.workspace_functions().into_iter().map(|f| f.0).collect()
}

#[test]
fn pool_jobs_continue_as_their_entry_is_called_elsewhere() {
    let frames = vec![
        // 0..: a job of `doubled_len` on a pool thread rayon started under `shout`.
        frame("app::doubled_len::{{closure}}", Workspace, "app"),
        frame("rayon_core::job::execute", Dependency, "app"),
        frame("pthread_create", Foreign, "libc.so.6"),
        frame("rayon_core::registry::Registry::new", Dependency, "app"),
        frame("app::shout", Workspace, "app"),
        frame("app::main", Workspace, "app"),
        // 6..: `doubled_len` allocating on the main thread, called by `run`.
        frame("alloc::vec::Vec<T>::with_capacity", Std, "app"),
        frame("app::doubled_len", Workspace, "app"),
        frame("app::run", Workspace, "app"),
        frame("app::main", Workspace, "app"),
    ];
    let mut p = profile(frames, vec![2]);
    p.sites[0].frames = vec![0, 1, 2, 3, 4, 5];
    let mut main_site = p.sites[0].clone();
    main_site.frames = vec![6, 7, 8, 9];
    main_site.spawned_at = Vec::new();
    p.sites.push(main_site);
    let blames = attribute(&p);
    assert_eq!(
        keys(&blames[0]),
        ["app::doubled_len", "app::run", "app::main"]
    );
    // Two callers that disagree: the job continues with `main`, which runs around both.
    let mut other = p.sites[1].clone();
    other.frames = vec![6, 7, 9];
    p.sites.push(other);
    assert_eq!(keys(&attribute(&p)[0]), ["app::doubled_len", "app::main"]);
}

#[test]
fn dependency_spawned_threads_running_your_closure_continue_from_it() {
    // `ignore`'s parallel walker: spawns in a scope, runs the visitor closure, joins.
    let p = profile(
        vec![
            frame("app::search::{{closure}}", Workspace, "app"),
            frame("ignore::walk::Worker::run", Dependency, "app"),
            frame("pthread_create", Foreign, "libc.so.6"),
            frame("ignore::walk::WalkParallel::visit", Dependency, "app"),
            frame("app::search", Workspace, "app"),
            frame("app::main", Workspace, "app"),
        ],
        vec![2],
    );
    assert_eq!(keys(&attribute(&p)[0]), ["app::search", "app::main"]);
}

fn dep(function: &str, krate: &str) -> Frame {
    Frame {
        crate_name: Some(krate.to_owned()),
        ..frame(function, Dependency, "b")
    }
}

fn bench_blames(stacks: Vec<Vec<Frame>>) -> Vec<(Option<String>, Option<String>)> {
    let mut p = Profile {
        processes: vec![alloc_profile_format::symbolized::Process {
            exe: "/b".to_owned(),
            ..Default::default()
        }],
        ..Profile::default()
    };
    for frames in stacks {
        let start = p.frames.len() as u32;
        let ids = (start..start + frames.len() as u32).collect();
        p.frames.extend(frames);
        p.sites.push(Site {
            process: 0,
            frames: ids,
            spawned_at: Vec::new(),
            counters: alloc_profile_format::SiteCounters::default(),
            peak_bytes: 0,
            sizes: Vec::new(),
            flags: 0,
        });
    }
    attribute_with_benchmarks(&p, &HashSet::from(["/b"]))
        .iter()
        .map(|b| (b.benchmark.clone(), b.self_function()))
        .collect()
}

#[test]
fn criterion_routines_are_benchmarks_and_its_statistics_the_harness() {
    let got = bench_blames(vec![
        vec![
            frame("b::work", Workspace, "b"),
            frame("b::bench_parse::{{closure}}", Workspace, "b"),
            dep("criterion::Bencher::iter", "criterion"),
            frame("b::bench_parse", Workspace, "b"),
            dep("b::main", "criterion"),
        ],
        vec![
            dep("criterion::stats::bootstrap", "criterion"),
            frame("b::bench_parse", Workspace, "b"),
            dep("b::main", "criterion"),
        ],
        vec![
            frame("alloc::vec::Vec<T>::push", Std, "b"),
            dep("criterion::Bencher::iter", "criterion"),
            frame("b::bench_parse::{{closure}}", Workspace, "b"),
            dep("criterion::Criterion::bench_function", "criterion"),
            frame("b::bench_parse", Workspace, "b"),
            dep("b::main", "criterion"),
        ],
    ]);
    assert_eq!(
        got,
        [
            (Some("bench_parse".to_owned()), Some("b::work".to_owned())),
            (None, None),
            (None, None),
        ]
    );
}

/// `criterion_group!` writes a group function (`benches`) into the bench target, which
/// `criterion_main!`'s `main` calls and which calls each benchmark's function: what a benchmark's
/// function allocates before handing its routine to Criterion (its input) is that benchmark's,
/// not a benchmark named after the group.
#[test]
fn criterion_groups_are_glue_and_a_benchmarks_setup_is_its_own() {
    let got = bench_blames(vec![
        vec![
            frame("alloc::str::<impl str>::repeat", Std, "b"),
            frame("b::bench_split", Workspace, "b"),
            frame("b::benches", Workspace, "b"),
            dep("b::main", "criterion"),
        ],
        vec![
            frame("b::split_words", Workspace, "b"),
            frame("b::bench_split::{{closure}}", Workspace, "b"),
            dep("criterion::Bencher::iter", "criterion"),
            dep("criterion::Criterion::bench_function", "criterion"),
            frame("b::bench_split", Workspace, "b"),
            frame("b::benches", Workspace, "b"),
            dep("b::main", "criterion"),
        ],
        // The group's configuration is Criterion's own work.
        vec![
            dep(
                "<criterion::Criterion as core::default::Default>::default",
                "criterion",
            ),
            frame("b::benches", Workspace, "b"),
            dep("b::main", "criterion"),
        ],
        // Criterion's statistics under the benchmark's function: the harness's.
        vec![
            dep("criterion::stats::bootstrap", "criterion"),
            frame("b::bench_split", Workspace, "b"),
            frame("b::benches", Workspace, "b"),
            dep("b::main", "criterion"),
        ],
    ]);
    assert_eq!(
        got,
        [
            (
                Some("bench_split".to_owned()),
                Some("b::bench_split".to_owned())
            ),
            (
                Some("bench_split".to_owned()),
                Some("b::split_words".to_owned())
            ),
            (None, None),
            (None, None),
        ]
    );
}

#[test]
fn divan_benchmarks_are_named_past_its_glue() {
    let got = bench_blames(vec![
        vec![
            frame("words::split_words", Workspace, "b"),
            dep("divan::bench::Bencher::bench", "divan"),
            dep("divan::main", "divan"),
        ],
        vec![
            frame("words::parsing::small", Workspace, "b"),
            frame(
                "words::parsing::__DIVAN_BENCH_SMALL::{{closure}}",
                Workspace,
                "b",
            ),
            dep("divan::bench::Bencher::bench", "divan"),
            frame(
                "words::parsing::__DIVAN_BENCH_SMALL::{{closure}}",
                Workspace,
                "b",
            ),
            dep("divan::bench::args::bench", "divan"),
            dep("divan::main", "divan"),
        ],
        vec![
            dep("divan::calibrate", "divan"),
            dep("divan::main", "divan"),
        ],
    ]);
    assert_eq!(
        got,
        [
            (
                Some("split_words".to_owned()),
                Some("words::split_words".to_owned())
            ),
            (
                Some("parsing::small".to_owned()),
                Some("words::parsing::small".to_owned())
            ),
            (None, None),
        ]
    );
}

#[test]
fn a_dependencys_threads_working_for_one_call_count_for_it() {
    // `ignore`'s walker threads: the visitor closure of `search`, and the walker's own
    // reading of directories (nothing of yours on the thread's stack), both for `search`.
    let frames = vec![
        frame("app::search::{{closure}}", Workspace, "app"),
        frame("ignore::walk::Worker::run", Dependency, "app"),
        frame("pthread_create", Foreign, "libc.so.6"),
        frame("ignore::walk::WalkParallel::visit", Dependency, "app"),
        frame("app::search", Workspace, "app"),
        frame("app::main", Workspace, "app"),
        frame("ignore::dir::Ignore::add_parents", Dependency, "app"),
    ];
    let mut p = profile(frames, vec![2]);
    let mut walker = p.sites[0].clone();
    walker.frames = vec![6, 1, 2, 3, 4, 5];
    walker.spawned_at = vec![2];
    p.sites.push(walker);
    let blames = attribute(&p);
    assert_eq!(keys(&blames[0]), ["app::search", "app::main"]);
    assert_eq!(keys(&blames[1]), ["app::search", "app::main"]);
}

#[test]
fn runtime_entries() {
    assert!(is_runtime_entry("pthread_create@@GLIBC_2.34"));
    assert!(is_runtime_entry("_dl_allocate_tls"));
    assert!(is_runtime_entry("_Unwind_Find_FDE"));
    assert!(is_runtime_entry("__pthread_create_2_1"));
    assert!(is_runtime_entry("__pthread_getattr_np"));
    assert!(is_runtime_entry("__GI___pthread_attr_setaffinity_np"));
    assert!(is_runtime_entry("__cxa_thread_atexit_impl"));
    assert!(!is_runtime_entry("__opendir"));
    assert!(!is_runtime_entry("opendir"));
    assert!(!is_runtime_entry("getaddrinfo"));
    assert!(!is_runtime_entry("strdup"));
}
