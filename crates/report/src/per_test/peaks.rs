//! Each test's peak of live bytes.
//!
//! The interposer keeps, per thread, the live bytes of the blocks that thread allocated (whoever
//! frees them), and per site the highest value right after one of the site's allocations and the
//! lowest right before one (`SiteCounters::thread_live_high` and `thread_live_low`). libtest runs
//! every test on a thread of its own, where the live bytes peak at one of the test's allocations.
//! So a test's peak is the highest value over its sites minus the lowest: the most bytes the test
//! allocated that were live at once, counted from what its thread held when the test first
//! allocated (libtest's own blocks on that thread, before and after the test, are left out). It is
//! the same with one test thread or many, and does not depend on what other tests do.
//!
//! A test whose work spreads over threads (threads it spawns, a pool whose stacks its blame
//! reaches) gets the highest of those threads' values minus the lowest: near the largest of their
//! peaks, not their sum. A benchmark shares its thread with its harness, whose blocks between the
//! routine's allocations count too: an upper bound, which the caller caps at the bytes the
//! benchmark allocated.

use std::collections::BTreeMap;

use alloc_profile_format::symbolized::Profile;

/// `(binary index, test name)` → the test's peak live bytes, for the tests whose sites recorded
/// their threads' live bytes; `owners` are the owners of `profile`'s sites, in its order. `None`
/// when no site recorded them (profiles written before per-test peaks).
pub(super) fn test_peaks(
    profile: &Profile,
    owners: &[Option<(usize, Option<String>)>],
) -> Option<BTreeMap<(usize, String), u64>> {
    let mut measured = false;
    // (binary, test) → (highest after, lowest before).
    let mut range: BTreeMap<(usize, String), (u64, u64)> = BTreeMap::new();
    for (site, owner) in profile.sites.iter().zip(owners) {
        let c = &site.counters;
        if c.thread_live_high == 0 {
            continue;
        }
        measured = true;
        let Some((b, Some(test))) = owner else {
            continue;
        };
        let e = range.entry((*b, test.clone())).or_insert((0, u64::MAX));
        e.0 = e.0.max(c.thread_live_high);
        e.1 = e.1.min(c.thread_live_low);
    }
    measured.then(|| {
        range
            .into_iter()
            .map(|(k, (high, low))| (k, high.saturating_sub(low)))
            .collect()
    })
}
