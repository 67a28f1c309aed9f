//! Growth chains: a block that reallocs made, followed from its first allocation to its release and
//! counted once, at the site of its last realloc (the format's `growth_*` fields).
//!
//! - Each successful realloc carries the old block's count on, plus one ([`reallocs_after`]).
//! - The chain ends when its block is released for good (`free`, `realloc(p, 0)`), not when a
//!   realloc replaces the block ([`on_release`]).
//! - A chain whose block is still live at exit ends there ([`end_at_exit`]).

use crate::counters::{Entry, Totals};
use crate::live::Block;

/// How many reallocs made the block a realloc returned: 0 for `realloc(NULL, n)` (an allocation),
/// else one more than the old block's (1 when the old block was not tracked).
#[inline(always)]
pub fn reallocs_after(old: Option<&Block>, old_is_null: bool) -> u32 {
    match (old, old_is_null) {
        (_, true) => 0,
        (Some(b), false) => b.reallocs.saturating_add(1),
        (None, false) => 1,
    }
}

/// On the release of a block of `size` bytes that `reallocs` reallocs made, into its site's entry
/// `e`: counts the chain when `for_good` ends it.
#[inline(always)]
pub fn on_release(e: Entry<'_>, reallocs: u32, size: usize, for_good: bool) {
    if for_good && reallocs > 0 {
        e.add_chain(reallocs, size);
    }
}

/// At exit, for a block still live: its chain (if reallocs made it) ends here.
pub fn end_at_exit(t: &mut Totals, b: &Block) {
    if b.reallocs > 0 {
        let (reallocs, final_size) = (u64::from(b.reallocs), b.size as u64);
        t.growth_chains += 1;
        t.growth_reallocs += reallocs;
        t.growth_max_reallocs = t.growth_max_reallocs.max(reallocs);
        t.growth_max_final = t.growth_max_final.max(final_size);
    }
}
