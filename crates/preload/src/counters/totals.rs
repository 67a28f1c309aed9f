//! The merged form of a counter entry: what the exit writer sums over every thread's tables.

use alloc_profile_format::SIZE_BUCKETS;

/// A snapshot of one entry, for merging. Lifetimes are in time-stamp-counter ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub allocations: u64,
    pub reallocations: u64,
    pub bytes: u64,
    pub frees: u64,
    pub freed_bytes: u64,
    pub max_size: u64,
    pub lifetime_sum: u64,
    pub lifetime_max: u64,
    pub temporary: u64,
    pub growth_chains: u64,
    pub growth_reallocs: u64,
    pub growth_max_reallocs: u64,
    pub growth_max_final: u64,
    /// This thread's share of the site's live bytes at the peak snapshot (negative when the thread
    /// freed more of the site's blocks than it allocated).
    pub at_peak: i64,
    /// The allocating threads' live bytes: the highest after one of the site's allocations, the
    /// lowest before one (inverted; 0: none recorded).
    pub thread_high: u64,
    pub thread_low_inv: u64,
    pub sizes: [u64; SIZE_BUCKETS],
}

impl Default for Totals {
    fn default() -> Self {
        Self {
            allocations: 0,
            reallocations: 0,
            bytes: 0,
            frees: 0,
            freed_bytes: 0,
            max_size: 0,
            lifetime_sum: 0,
            lifetime_max: 0,
            temporary: 0,
            growth_chains: 0,
            growth_reallocs: 0,
            growth_max_reallocs: 0,
            growth_max_final: 0,
            at_peak: 0,
            thread_high: 0,
            thread_low_inv: 0,
            sizes: [0; SIZE_BUCKETS],
        }
    }
}

impl Totals {
    /// Adds another thread's counters for the same stack (sums, maxima, histogram).
    pub fn merge(&mut self, other: &Totals) {
        self.allocations += other.allocations;
        self.reallocations += other.reallocations;
        self.bytes += other.bytes;
        self.frees += other.frees;
        self.freed_bytes += other.freed_bytes;
        self.max_size = self.max_size.max(other.max_size);
        self.lifetime_sum += other.lifetime_sum;
        self.lifetime_max = self.lifetime_max.max(other.lifetime_max);
        self.temporary += other.temporary;
        self.growth_chains += other.growth_chains;
        self.growth_reallocs += other.growth_reallocs;
        self.growth_max_reallocs = self.growth_max_reallocs.max(other.growth_max_reallocs);
        self.growth_max_final = self.growth_max_final.max(other.growth_max_final);
        self.at_peak += other.at_peak;
        self.thread_high = self.thread_high.max(other.thread_high);
        self.thread_low_inv = self.thread_low_inv.max(other.thread_low_inv);
        for (a, b) in self.sizes.iter_mut().zip(&other.sizes) {
            *a += b;
        }
    }
}
