//! The names below are real: `nm` of programs built with rustc 1.95 (legacy mangling, the default,
//! and `-C symbol-mangling-version=v0`), demangled with rustc-demangle's `{:#}` as the symbolizer
//! does, from a test program with a dependency of blanket, tuple, array, slice, reference,
//! trait-object and function-pointer impls, and from criterion 0.5, crossbeam-epoch 0.9, clap and
//! serde code linked into a benchmark. Names marked "rustc-demangle" are from its own test suite.

use super::*;

/// Every real name in this file, for the properties that hold of all of them.
const REAL: &[&str] = &[
    // Blanket, tuple, array, slice, ref, pointer, dyn and fn-pointer impls (legacy, then v0).
    "<T as gdep::Describe>::describe",
    "<(A,) as gdep::Pairwise>::pair",
    "<(A,B) as gdep::Pairwise>::pair",
    "<[u8; 32] as gdep::Pairwise>::pair",
    "<[u16] as gdep::Pairwise>::pair",
    "<&mut T as gdep::Pairwise>::pair",
    "<*const u8 as gdep::Pairwise>::pair",
    "<dyn core::fmt::Debug+core::marker::Send as gdep::Pairwise>::pair",
    "<dyn core::ops::function::Fn<(u8,)>+Output = u8 as gdep::Pairwise>::pair",
    "<extern \"C\" fn(u8) .> u8 as gdep::Pairwise>::pair",
    "<fn(&str) .> usize as gdep::Pairwise>::pair",
    "<alloc::vec::Vec<T> as gdep::WithAssoc>::go",
    "<gdep::Wrap<T> as core::fmt::Debug>::fmt",
    "gdep::Wrap<T>::map::{{closure}}",
    "<u8 as gdep::Describe>::describe",
    "<(alloc::vec::Vec<u8>,) as gdep::Describe>::describe",
    "<(i32, &str) as gdep::Pairwise>::pair",
    "<&mut (i32, i32) as gdep::Pairwise>::pair",
    "<dyn core::fmt::Debug + core::marker::Send as gdep::Pairwise>::pair",
    "<dyn core::ops::function::Fn<(u8,), Output = u8> as gdep::Pairwise>::pair",
    "<extern \"C\" fn(u8) -> u8 as gdep::Pairwise>::pair",
    "<for<'a> fn(&'a str) -> usize as gdep::Pairwise>::pair",
    "<alloc::vec::Vec<u8> as gdep::WithAssoc>::go",
    "<gdep::Wrap<alloc::vec::Vec<i32>>>::map::<app::main::{closure#2}>::{closure#0}",
    "<gdep::inner::S>::new",
    "gdep::generic::<(&str, i32)>::{closure#0}",
    "gdep::inner::const_generic::<4>",
    "<app::main::{closure#0} as core::ops::function::FnOnce<(u8,)>>::call_once::{shim:vtable#0}",
    "<&mut gdep::afn::{closure#0} as core::ops::deref::DerefMut>::deref_mut",
    "core::ptr::drop_in_place::<std::thread::lifecycle::spawn_unchecked<app::main::{closure#1}, alloc::string::String>::{closure#1}>",
    "core::ptr::drop_in_place<gdep::afn::{{closure}}>",
    // criterion and crossbeam-epoch.
    "<(alloc::vec::Vec<A>,) as criterion::stats::tuple::TupledDistributionsBuilder>::new",
    "<(alloc::vec::Vec<A>,alloc::vec::Vec<B>,alloc::vec::Vec<C>,alloc::vec::Vec<D>) as criterion::stats::tuple::TupledDistributionsBuilder>::push",
    "<(alloc::vec::Vec<f64>, alloc::vec::Vec<f64>) as criterion::stats::tuple::TupledDistributionsBuilder>::new",
    "<(A,B,C) as criterion_plot::data::Row>::append_to",
    "<(&f64, &f64, i32) as criterion_plot::data::Row>::ncols",
    "<T as crossbeam_epoch::atomic::Pointable>::init",
    "<alloc::vec::Vec<u8> as crossbeam_epoch::atomic::Pointable>::init",
    "<crossbeam_epoch::atomic::Shared<T> as core::convert::From<*const T>>::from",
    "<criterion::routine::Function<M,F,T> as criterion::routine::Routine<M,T>>::bench::{{closure}}",
    "<[&(&criterion::report::BenchmarkId, alloc::vec::Vec<f64>)]>::sort_by_key::<core::option::Option<&alloc::string::String>, <criterion::html::Html as criterion::report::Report>::summarize::{closure#9}>::{closure#0}",
    "<criterion::_::<impl serde_core::de::Deserialize for criterion::SavedSample>::deserialize::__Visitor as serde_core::de::Visitor>::visit_map",
    "<<criterion::connection::_::<impl serde_core::de::Deserialize for criterion::connection::IncomingMessage>::deserialize::__Visitor as serde_core::de::Visitor>::visit_enum::__Field as serde_core::de::Deserialize>::deserialize",
    "<clap_builder::builder::value_parser::ValueParser>::new::<for<'a> fn(&'a str) -> core::result::Result<f64, core::num::dec2flt::ParseFloatError>>",
    "<core::option::Option<&str>>::ok_or_else::<clap_builder::error::Error, <for<'a> fn(&'a str) -> core::result::Result<f64, core::num::dec2flt::ParseFloatError> as clap_builder::builder::value_parser::TypedValueParser>::parse_ref::{closure#0}>",
    // The standard library.
    "<alloc::vec::Vec<T,A> as core::clone::Clone>::clone",
    "alloc::raw_vec::RawVec<T,A>::grow_one",
    "alloc::str::<impl str>::repeat",
    "alloc::slice::<impl [T]>::repeat",
    "core::array::<impl core::fmt::Debug for [T; N]>::fmt",
    "core::fmt::num::<impl core::fmt::Debug for i32>::fmt",
    "core::ptr::const_ptr::<impl *const T>::is_null",
    "core::ops::function::FnOnce::call_once{{vtable.shim}}",
    "<T as alloc::slice::<impl [T]>::to_vec_in::ConvertVec>::to_vec",
    "<u8 as <[_]>::to_vec_in::ConvertVec>::to_vec::<alloc::alloc::Global>",
    "<&[u8] as <alloc::ffi::c_str::CString>::new::SpecNewImpl>::spec_new_impl",
    "<<T as alloc::slice::<impl [T]>::to_vec_in::ConvertVec>::to_vec::DropGuard<T,A> as core::ops::drop::Drop>::drop",
    "<<alloc::boxed::Box<dyn core::error::Error + core::marker::Sync + core::marker::Send> as core::convert::From<alloc::string::String>>::from::StringError as core::fmt::Display>::fmt",
    "<&alloc::boxed::Box<dyn core::error::Error + core::marker::Sync + core::marker::Send> as core::fmt::Debug>::fmt",
    "<alloc::raw_vec::RawVec<(*mut u8, unsafe extern \"C\" fn(*mut u8)), std::alloc::System>>::grow_one",
    "<std::sync::once::Once>::call_once::<std::rt::cleanup::{closure#0}>::{closure#0}",
    "<[u8]>::copy_within::<core::ops::range::RangeInclusive<usize>>",
    "<dyn core::any::Any + core::marker::Send as core::fmt::Debug>::fmt",
    "<std::io::error::repr_bitpacked::Repr as core::ops::drop::Drop>::drop::{{closure}}",
    "<() as std::process::Termination>::report",
    "<(ExA,ExB) as core::iter::traits::collect::Extend<(A,B)>>::extend_one",
    "__rustc::__rust_alloc",
    // rustc-demangle.
    "<core::option::Option<T>>::unwrap::_MSG_FILE_LINE_COL",
    "core::slice::<impl core::iter::traits::IntoIterator for &'a [T]>::into_iter",
    "<Test + 'static as foo::Bar<Test>>::bar",
    "<alloc::boxed::Box<alloc::boxed::FnBox<A, Output=R> + 'a> as core::ops::function::FnOnce<A>>::call_once",
    "<core::result::Result<!, E> as std::process::Termination>::report",
    "<core::slice::Iter<u8> as core::iter::iterator::Iterator>::rposition::<core::slice::memchr::memrchr::{closure#1}>::{closure#0}",
    "alloc::alloc::box_free::<dyn alloc::boxed::FnBox<(), Output = ()>>",
    "<core::option::Option<fn(#[splat] (i32,))>>::unwrap",
    "foo::bar::<'>'>::baz",
    "foo::bar::<{*\"a::<b\"}>::{closure#0}",
    "foo::bar::<{&'\\''}>",
    "cc::spawn::{closure#0}::{closure#0}",
    "rand::rngs::adapter::reseeding::fork::FORK_HANDLER_REGISTERED.0.0",
    "utf8_idents::საჭმელად_გემრიელი_სადილი",
    // Not Rust at all.
    "malloc",
    "??",
    "std::vector<int, std::allocator<int> >::push_back(int const&)",
];

#[test]
fn the_issue_names_belong_to_the_crate_of_their_trait() {
    // Issue 10: these were modules `T`, `(A,B)`, `(alloc::vec::Vec<A>,)`, `T`.
    let cases = [
        ("<T as gdep::Describe>::describe", "gdep", "gdep"),
        ("<(A,B) as gdep::Pairwise>::pair", "gdep", "gdep"),
        (
            "<(alloc::vec::Vec<A>,) as criterion::stats::tuple::TupledDistributionsBuilder>::new",
            "criterion",
            "criterion::stats::tuple",
        ),
        (
            "<(alloc::vec::Vec<A>,alloc::vec::Vec<B>,alloc::vec::Vec<C>,alloc::vec::Vec<D>) as criterion::stats::tuple::TupledDistributionsBuilder>::push",
            "criterion",
            "criterion::stats::tuple",
        ),
        (
            "<T as crossbeam_epoch::atomic::Pointable>::init",
            "crossbeam_epoch",
            "crossbeam_epoch::atomic",
        ),
    ];
    for (name, krate, module) in cases {
        assert_eq!(owner_module(name, Some(krate)), module, "{name}");
        assert_eq!(module_of(name), module, "{name}");
    }
}

#[test]
fn owner_modules_of_every_kind_of_self_type() {
    let gdep = |name: &str| owner_module(name, Some("gdep"));
    for name in [
        "<(A,) as gdep::Pairwise>::pair",
        "<[u8; 32] as gdep::Pairwise>::pair",
        "<[u16] as gdep::Pairwise>::pair",
        "<&mut T as gdep::Pairwise>::pair",
        "<&mut (i32, i32) as gdep::Pairwise>::pair",
        "<*const u8 as gdep::Pairwise>::pair",
        "<u8 as gdep::Describe>::describe",
        "<(alloc::vec::Vec<u8>,) as gdep::Describe>::describe",
        "<(i32, &str) as gdep::Pairwise>::pair",
        "<dyn core::fmt::Debug+core::marker::Send as gdep::Pairwise>::pair",
        "<dyn core::fmt::Debug + core::marker::Send as gdep::Pairwise>::pair",
        "<dyn core::ops::function::Fn<(u8,)>+Output = u8 as gdep::Pairwise>::pair",
        "<dyn core::ops::function::Fn<(u8,), Output = u8> as gdep::Pairwise>::pair",
        "<extern \"C\" fn(u8) .> u8 as gdep::Pairwise>::pair",
        "<extern \"C\" fn(u8) -> u8 as gdep::Pairwise>::pair",
        "<fn(&str) .> usize as gdep::Pairwise>::pair",
        "<for<'a> fn(&'a str) -> usize as gdep::Pairwise>::pair",
        // A foreign type, the crate's trait: the trait decides.
        "<alloc::vec::Vec<T> as gdep::WithAssoc>::go",
        "<alloc::vec::Vec<u8> as gdep::WithAssoc>::go",
        // The crate's type: the type decides.
        "<gdep::Wrap<T> as core::fmt::Debug>::fmt",
        "<gdep::Wrap<alloc::vec::Vec<i32>>>::map::<app::main::{closure#2}>::{closure#0}",
        "<&mut gdep::afn::{closure#0} as core::ops::deref::DerefMut>::deref_mut",
        "gdep::Wrap<T>::map::{{closure}}",
        "gdep::generic::<(&str, i32)>::{closure#0}",
    ] {
        assert_eq!(gdep(name), "gdep", "{name}");
    }
    assert_eq!(gdep("<gdep::inner::S>::new"), "gdep::inner");
    assert_eq!(gdep("gdep::inner::const_generic::<4>"), "gdep::inner");
    assert_eq!(
        gdep("<gdep::inner::S as gdep::Pairwise>::pair"),
        "gdep::inner"
    );
    assert_eq!(
        owner_module(
            "<alloc::vec::Vec<u8> as crossbeam_epoch::atomic::Pointable>::init",
            Some("crossbeam_epoch")
        ),
        "crossbeam_epoch::atomic"
    );
    assert_eq!(
        owner_module(
            "<app::main::{closure#0} as core::ops::function::FnOnce<(u8,)>>::call_once::{shim:vtable#0}",
            Some("app")
        ),
        "app"
    );
    // serde's derives put their impls in `const _: () = { .. }`.
    assert_eq!(
        owner_module(
            "<<criterion::connection::_::<impl serde_core::de::Deserialize for criterion::connection::IncomingMessage>::deserialize::__Visitor as serde_core::de::Visitor>::visit_enum::__Field as serde_core::de::Deserialize>::deserialize",
            Some("criterion")
        ),
        "criterion::connection"
    );
}

#[test]
fn owner_module_falls_back_to_the_crate() {
    // Nothing names a crate: inherent methods of slices, a bare `main`.
    assert_eq!(
        owner_module(
            "<[u8]>::copy_within::<core::ops::range::RangeInclusive<usize>>",
            Some("core")
        ),
        "core"
    );
    assert_eq!(owner_module("main", Some("app")), "app");
    assert_eq!(owner_module("main", None), "");
    assert_eq!(owner_module("<T as Tr>::f", Some("app")), "app");
    // The frame's crate is neither Self's nor Trait's (a binary `tool` in package `app`):
    // not the standard library's.
    assert_eq!(
        owner_module("<tool::Config as core::clone::Clone>::clone", Some("app")),
        "tool"
    );
    assert_eq!(
        owner_module(
            "<alloc::string::String as core::fmt::Write>::write_str",
            Some("app")
        ),
        "app"
    );
    // A standard-library frame may be named by another standard-library crate.
    assert_eq!(
        owner_module(
            "<alloc::string::String as core::fmt::Write>::write_str",
            Some("alloc")
        ),
        "alloc::string"
    );
    assert_eq!(
        owner_module("<u8 as core::fmt::Display>::fmt", Some("std")),
        "core::fmt"
    );
}

#[test]
fn modules_of_standard_library_paths() {
    let cases = [
        ("alloc::raw_vec::RawVec<T,A>::grow_one", "alloc::raw_vec"),
        ("alloc::str::<impl str>::repeat", "alloc::str"),
        ("alloc::slice::<impl [T]>::repeat", "alloc::slice"),
        ("core::array::<impl core::fmt::Debug for [T; N]>::fmt", "core::array"),
        ("core::ptr::const_ptr::<impl *const T>::is_null", "core::ptr::const_ptr"),
        ("core::ops::function::FnOnce::call_once{{vtable.shim}}", "core::ops::function"),
        ("<T as alloc::slice::<impl [T]>::to_vec_in::ConvertVec>::to_vec", "alloc::slice"),
        (
            "<<alloc::boxed::Box<dyn core::error::Error + core::marker::Sync + core::marker::Send> as core::convert::From<alloc::string::String>>::from::StringError as core::fmt::Display>::fmt",
            "alloc::boxed",
        ),
        (
            "<&alloc::boxed::Box<dyn core::error::Error + core::marker::Sync + core::marker::Send> as core::fmt::Debug>::fmt",
            "alloc::boxed",
        ),
        ("<dyn core::any::Any + core::marker::Send as core::fmt::Debug>::fmt", "core::any"),
        ("<core::option::Option<T>>::unwrap::_MSG_FILE_LINE_COL", "core::option"),
        (
            "<alloc::boxed::Box<alloc::boxed::FnBox<A, Output=R> + 'a> as core::ops::function::FnOnce<A>>::call_once",
            "alloc::boxed",
        ),
        ("<Test + 'static as foo::Bar<Test>>::bar", "foo"),
        ("<() as std::process::Termination>::report", "std::process"),
        ("<core::result::Result<!, E> as std::process::Termination>::report", "core::result"),
        ("std::vector<int, std::allocator<int> >::push_back(int const&)", "std::vector"),
        ("utf8_idents::საჭმელად_გემრიელი_სადილი", "utf8_idents"),
        ("??", ""),
    ];
    for (name, module) in cases {
        assert_eq!(module_of(name), module, "{name}");
    }
}

#[test]
fn no_module_is_named_after_a_type() {
    for name in REAL {
        let krate = crate_of_function(name);
        for k in [None, krate, Some("other")] {
            let module = owner_module(name, k);
            assert!(
                !module.contains([
                    '<', '>', '(', ')', '[', ']', '{', '}', ';', ',', ' ', '&', '\'', '"'
                ]),
                "{name} with crate {k:?}: {module}"
            );
        }
    }
}

#[test]
fn function_keys() {
    let cases = [
        ("a::b::{{closure}}", "a::b"),
        ("cc::spawn::{closure#0}::{closure#0}", "cc::spawn"),
        ("gdep::generic::<(&str, i32)>::{closure#0}", "gdep::generic"),
        ("gdep::inner::const_generic::<4>", "gdep::inner::const_generic"),
        (
            "<gdep::Wrap<alloc::vec::Vec<i32>>>::map::<app::main::{closure#2}>::{closure#0}",
            "<gdep::Wrap<alloc::vec::Vec<i32>>>::map",
        ),
        ("gdep::Wrap<T>::map::{{closure}}", "gdep::Wrap<T>::map"),
        (
            "<std::sync::once::Once>::call_once::<std::rt::cleanup::{closure#0}>::{closure#0}",
            "<std::sync::once::Once>::call_once",
        ),
        // The `->` of a function pointer closes nothing (this read `...::new core::result::...`).
        (
            "<clap_builder::builder::value_parser::ValueParser>::new::<for<'a> fn(&'a str) -> core::result::Result<f64, core::num::dec2flt::ParseFloatError>>",
            "<clap_builder::builder::value_parser::ValueParser>::new",
        ),
        (
            "<core::option::Option<&str>>::ok_or_else::<clap_builder::error::Error, <for<'a> fn(&'a str) -> core::result::Result<f64, core::num::dec2flt::ParseFloatError> as clap_builder::builder::value_parser::TypedValueParser>::parse_ref::{closure#0}>",
            "<core::option::Option<&str>>::ok_or_else",
        ),
        // Quotes and character literals are opaque.
        ("foo::bar::<'>'>::baz", "foo::bar::baz"),
        ("foo::bar::<{*\"a::<b\"}>::{closure#0}", "foo::bar"),
        ("foo::bar::<{&'\\''}>", "foo::bar"),
        // An impl block stays: two impls in one module are two functions.
        ("alloc::str::<impl str>::repeat", "alloc::str::<impl str>::repeat"),
        (
            "core::array::<impl core::fmt::Debug for [T; N]>::fmt",
            "core::array::<impl core::fmt::Debug for [T; N]>::fmt",
        ),
        // Shims, qualified roots and legacy generic arguments are left alone.
        (
            "<app::main::{closure#0} as core::ops::function::FnOnce<(u8,)>>::call_once::{shim:vtable#0}",
            "<app::main::{closure#0} as core::ops::function::FnOnce<(u8,)>>::call_once::{shim:vtable#0}",
        ),
        (
            "core::ptr::drop_in_place<gdep::afn::{{closure}}>",
            "core::ptr::drop_in_place<gdep::afn::{{closure}}>",
        ),
        ("malloc", "malloc"),
        ("??", "??"),
    ];
    for (name, key) in cases {
        assert_eq!(function_key(name), key, "{name}");
    }
    for name in REAL {
        let key = function_key(name);
        assert_eq!(function_key(&key), key, "a key is its own key: {name}");
    }
}

#[test]
fn crates_of_functions() {
    let cases = [
        ("<T as gdep::Describe>::describe", Some("gdep")),
        ("<(A,B) as gdep::Pairwise>::pair", Some("gdep")),
        ("<&mut T as gdep::Pairwise>::pair", Some("gdep")),
        ("<extern \"C\" fn(u8) .> u8 as gdep::Pairwise>::pair", Some("gdep")),
        ("<dyn core::fmt::Debug+core::marker::Send as gdep::Pairwise>::pair", Some("core")),
        ("<alloc::vec::Vec<T> as gdep::WithAssoc>::go", Some("alloc")),
        ("<gdep::inner::S>::new", Some("gdep")),
        (
            "<&mut gdep::afn::{closure#0} as core::ops::deref::DerefMut>::deref_mut",
            Some("gdep"),
        ),
        (
            "<criterion::_::<impl serde_core::de::Deserialize for criterion::SavedSample>::deserialize::__Visitor as serde_core::de::Visitor>::visit_map",
            Some("criterion"),
        ),
        ("<u8 as <[_]>::to_vec_in::ConvertVec>::to_vec::<alloc::alloc::Global>", None),
        ("<&[u8] as <alloc::ffi::c_str::CString>::new::SpecNewImpl>::spec_new_impl", Some("alloc")),
        ("<[u8]>::copy_within::<core::ops::range::RangeInclusive<usize>>", None),
        ("__rustc::__rust_alloc", Some("__rustc")),
        ("utf8_idents::საჭმელად_გემრიელი_სადილი", Some("utf8_idents")),
        ("malloc", None),
        ("??", None),
    ];
    for (name, krate) in cases {
        assert_eq!(crate_of_function(name), krate, "{name}");
    }
}

#[test]
fn impl_trait_names() {
    let cases = [
        ("<alloc::vec::Vec<T,A> as core::clone::Clone>::clone", Some("Clone")),
        ("<T as gdep::Describe>::describe", Some("Describe")),
        (
            "<app::main::{closure#0} as core::ops::function::FnOnce<(u8,)>>::call_once::{shim:vtable#0}",
            Some("FnOnce"),
        ),
        ("core::array::<impl core::fmt::Debug for [T; N]>::fmt", Some("Debug")),
        ("alloc::str::<impl str>::repeat", None),
        ("<gdep::inner::S>::new", None),
        // The first ` as ` is inside a generic argument here.
        (
            "<[&(&criterion::report::BenchmarkId, alloc::vec::Vec<f64>)]>::sort_by_key::<core::option::Option<&alloc::string::String>, <criterion::html::Html as criterion::report::Report>::summarize::{closure#9}>::{closure#0}",
            None,
        ),
        (
            "<<T as alloc::slice::<impl [T]>::to_vec_in::ConvertVec>::to_vec::DropGuard<T,A> as core::ops::drop::Drop>::drop",
            Some("Drop"),
        ),
        ("a::f", None),
    ];
    for (name, t) in cases {
        assert_eq!(impl_trait_name(name), t, "{name}");
    }
}

#[test]
fn paths_split_at_top_level_only() {
    assert_eq!(
        split_path("<extern \"C\" fn(u8) -> u8 as gdep::Pairwise>::pair"),
        ["<extern \"C\" fn(u8) -> u8 as gdep::Pairwise>", "pair"]
    );
    assert_eq!(
        split_path("<extern \"C\" fn(u8) .> u8 as gdep::Pairwise>::pair"),
        ["<extern \"C\" fn(u8) .> u8 as gdep::Pairwise>", "pair"]
    );
    assert_eq!(
        split_path("alloc::vec::Vec<T,A>::push"),
        ["alloc", "vec", "Vec<T,A>", "push"]
    );
    assert_eq!(
        split_path("foo::bar::<'>'>::baz"),
        ["foo", "bar", "<'>'>", "baz"]
    );
    assert_eq!(split_path("main"), ["main"]);
    assert_eq!(
        generic_args("alloc::vec::Vec<u8, A>, fn(u8) -> (u8, u8), 'a"),
        ["alloc::vec::Vec<u8, A>", "fn(u8) -> (u8, u8)", "'a"]
    );
    assert!(generic_args(" ").is_empty());
}

#[test]
fn types() {
    let path = |s| match parse_type(s) {
        Type::Path(p) => p,
        other => panic!("{s}: {other:?}"),
    };
    assert!(matches!(parse_type("[u8; 32]"), Type::Array(_)));
    assert!(matches!(parse_type("[u16]"), Type::Slice(_)));
    assert!(matches!(parse_type("()"), Type::Tuple(t) if t.is_empty()));
    assert!(matches!(parse_type("(A,)"), Type::Tuple(t) if t.len() == 1));
    assert!(matches!(parse_type("(A,B)"), Type::Tuple(t) if t.len() == 2));
    assert!(matches!(
        parse_type("&'a mut T"),
        Type::Ref { mutable: true, inner } if inner.is_generic_param()
    ));
    assert!(matches!(
        parse_type("*mut u8"),
        Type::Ptr { mutable: true, .. }
    ));
    assert!(matches!(
        parse_type("extern \"C\" fn(u8) -> u8"),
        Type::FnPtr
    ));
    assert!(matches!(
        parse_type("unsafe extern \"C\" fn(*mut u8)"),
        Type::FnPtr
    ));
    assert!(matches!(
        parse_type("for<'a> fn(&'a str) -> usize"),
        Type::FnPtr
    ));
    assert!(matches!(parse_type("!"), Type::Other("!")));
    assert!(matches!(parse_type("u32 is 1..=9"), Type::Other(_)));
    match parse_type("dyn core::ops::function::Fn<(u8,)>+Output = u8") {
        Type::Dyn(bounds) => {
            assert_eq!(bounds.len(), 1);
            assert_eq!(bounds[0].crate_name(), Some("core"));
        }
        other => panic!("{other:?}"),
    }
    match parse_type("&(dyn core::any::Any + core::marker::Send + 'static)") {
        Type::Ref { inner, .. } => assert!(matches!(*inner, Type::Dyn(ref b) if b.len() == 2)),
        other => panic!("{other:?}"),
    }
    assert!(parse_type("T").is_generic_param());
    assert!(parse_type("ExA").is_generic_param());
    assert!(parse_type("Self").is_generic_param());
    assert!(!parse_type("u8").is_generic_param());
    assert!(!parse_type("str").is_generic_param());
    assert!(!parse_type("a::T").is_generic_param());
    let vec = path("alloc::vec::Vec<T,A>");
    assert_eq!(vec.crate_name(), Some("alloc"));
    assert!(matches!(
        vec.last().map(|s| &s.kind),
        Some(SegmentKind::Ident {
            name: "Vec",
            args: Some("T,A")
        })
    ));
    let legacy = parse_path("_<a::T as b::Tr>::f");
    assert_eq!(legacy.qualified.map(|q| q.text), Some("<a::T as b::Tr>"));
}

#[test]
fn nothing_panics_on_broken_names() {
    for name in [
        "", "<", ">", "<<", "<a as", "a::<", "a::{", "'", "\"", "'\\", "a::b>::c", "<>::f",
        "<impl >", "<impl", "&", "*const ", "[", "(", "dyn ", "for<", "a:::b", "::", "<'a' as",
    ] {
        let _ = function_key(name);
        let _ = module_of(name);
        let _ = owner_module(name, Some("x"));
        let _ = crate_of_function(name);
        let _ = impl_trait_name(name);
        let _ = parse_type(name);
    }
}
