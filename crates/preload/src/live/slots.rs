//! The layouts of a live-table slot, and the block it describes.
//!
//! - [`Narrow`], 16 bytes, the default: what fits (nearly every block: see [`Narrow::fits`]).
//! - [`Compact`], 24 bytes: a block that does not fit a narrow slot, in a table of its own.
//! - [`Stamped`], 32 bytes: with lifetimes measured, every block (with its time stamp).
//!
//! None keeps a time stamp unless lifetimes are measured: the thread's last allocation is
//! recognized by its address and the thread's tag (see `record::release`).

use core::ptr;

use crate::intern::{Interner, StackRec};

/// Realloc counts are kept in the top bits of a slot's size word (sizes stay below 2^48 bytes on
/// x86_64), saturating.
const REALLOC_SHIFT: u32 = 48;
const MAX_REALLOCS: u32 = 0xFFFF;
/// A slot's record word: the record's address divided by 8 (records are 8-aligned and user-space
/// addresses stay below 2^47 on x86_64, so 44 bits), with the allocating thread's tag above it.
const TAG_SHIFT: u32 = 44;
const REC_MASK: usize = (1 << TAG_SHIFT) - 1;
/// The most tags a slot can hold: `state::thread_tag` gives 0 (none) past it.
pub const MAX_TAG: u32 = (1 << (64 - TAG_SHIFT)) - 1;

/// What a slot holds: a block's address, and what it packs of [`Block`] (a layout that holds a
/// stack id instead of the record finds the record in `stacks`; `None` for an id it does not
/// know, which a tracked block never has).
pub trait Slot: Copy {
    fn new(addr: usize, b: &Block) -> Self;
    fn addr(&self) -> usize;
    /// Empty: [`Slot::clear`]ed, or never written (zeroed memory).
    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.addr() == 0
    }
    /// Holds the block at `addr`.
    #[inline(always)]
    fn holds(&self, addr: usize) -> bool {
        self.addr() == addr
    }
    fn block(&self, stacks: &Interner) -> Option<Block>;
    fn clear(&mut self);
}

/// 24 bytes: address, size and realloc count, record and thread tag.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Compact {
    /// 0: empty.
    addr: usize,
    /// Requested size, with the realloc count in the top 16 bits.
    size_reallocs: u64,
    /// The record's address / 8, with the allocating thread's tag in the top 20 bits.
    rec_tag: usize,
}

/// 32 bytes: [`Compact`] and the time-stamp counter at allocation, for lifetimes.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Stamped {
    base: Compact,
    tsc: u64,
}

/// A tracked block, as the hooks see it.
#[derive(Clone, Copy)]
pub struct Block {
    pub rec: &'static StackRec,
    pub size: usize,
    /// Time-stamp counter at allocation (0 unless lifetimes are measured).
    pub tsc: u64,
    /// How many reallocs made this block from the chain's first allocation (0: never reallocated).
    pub reallocs: u32,
    /// The allocating thread's tag (`state::thread_tag`; 0: none).
    pub thread: u32,
}

impl Slot for Compact {
    #[inline(always)]
    fn new(addr: usize, b: &Block) -> Self {
        debug_assert!(ptr::from_ref(b.rec) as usize % 8 == 0 && b.thread <= MAX_TAG);
        Compact {
            addr,
            size_reallocs: (b.size as u64 & ((1 << REALLOC_SHIFT) - 1))
                | (u64::from(b.reallocs.min(MAX_REALLOCS)) << REALLOC_SHIFT),
            rec_tag: (ptr::from_ref(b.rec) as usize >> 3) | ((b.thread as usize) << TAG_SHIFT),
        }
    }

    #[inline(always)]
    fn addr(&self) -> usize {
        self.addr
    }

    #[inline(always)]
    fn block(&self, _: &Interner) -> Option<Block> {
        Some(self.decode())
    }

    #[inline(always)]
    fn clear(&mut self) {
        self.addr = 0;
    }
}

impl Compact {
    #[inline(always)]
    fn decode(&self) -> Block {
        Block {
            // SAFETY: tracked records are published, 8-aligned and never freed; the mask and the
            // shift give their address back.
            rec: unsafe { &*(((self.rec_tag & REC_MASK) << 3) as *const StackRec) },
            size: (self.size_reallocs & ((1 << REALLOC_SHIFT) - 1)) as usize,
            tsc: 0,
            reallocs: (self.size_reallocs >> REALLOC_SHIFT) as u32,
            thread: (self.rec_tag >> TAG_SHIFT) as u32,
        }
    }
}

impl Slot for Stamped {
    #[inline(always)]
    fn new(addr: usize, b: &Block) -> Self {
        Stamped {
            base: Compact::new(addr, b),
            tsc: b.tsc,
        }
    }

    #[inline(always)]
    fn addr(&self) -> usize {
        self.base.addr
    }

    #[inline(always)]
    fn block(&self, _: &Interner) -> Option<Block> {
        Some(Block {
            tsc: self.tsc,
            ..self.base.decode()
        })
    }

    #[inline(always)]
    fn clear(&mut self) {
        self.base.addr = 0;
    }
}

/// Narrow slots: the address / 8 and the thread tag in one word; the stack id, the size and the
/// realloc count in the other.
const N_ADDR_BITS: u32 = 45;
const N_TAG_BITS: u32 = 64 - N_ADDR_BITS;
const N_ID_BITS: u32 = 26;
const N_SIZE_BITS: u32 = 32;
const N_REALLOC_BITS: u32 = 64 - N_ID_BITS - N_SIZE_BITS;

/// 16 bytes, four to a cache line: address, thread tag, stack id, size, realloc count.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Narrow {
    /// `addr >> 3`, with the tag in the top bits; 0: empty.
    key: u64,
    /// Stack id, size and realloc count (low to high).
    meta: u64,
}

impl Narrow {
    /// Whether a block fits: an 8-aligned address below 2^48 (glibc's are 16-aligned, and user
    /// space ends below 2^47 on x86_64), a tag below 2^19, a stack id below 2^26 (the interner
    /// hands out no more), under 4 GiB, fewer than 64 reallocs.
    #[inline(always)]
    pub fn fits(addr: usize, b: &Block) -> bool {
        // One test of all the bits that must be clear.
        (addr as u64 & 7)
            | (addr as u64 >> (N_ADDR_BITS + 3))
            | u64::from(b.thread >> N_TAG_BITS)
            | u64::from(b.rec.id >> N_ID_BITS)
            | (b.size as u64 >> N_SIZE_BITS)
            | u64::from(b.reallocs >> N_REALLOC_BITS)
            == 0
    }
}

impl Slot for Narrow {
    /// For a block that [`Narrow::fits`].
    #[inline(always)]
    fn new(addr: usize, b: &Block) -> Self {
        debug_assert!(Self::fits(addr, b));
        Narrow {
            key: (addr as u64 >> 3) | (u64::from(b.thread) << N_ADDR_BITS),
            meta: u64::from(b.rec.id)
                | ((b.size as u64) << N_ID_BITS)
                | (u64::from(b.reallocs) << (N_ID_BITS + N_SIZE_BITS)),
        }
    }

    #[inline(always)]
    fn addr(&self) -> usize {
        ((self.key & ((1 << N_ADDR_BITS) - 1)) << 3) as usize
    }

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.key == 0
    }

    /// Compares the stored word with `addr`'s, without decoding the slot.
    #[inline(always)]
    fn holds(&self, addr: usize) -> bool {
        self.key & ((1 << N_ADDR_BITS) - 1) == addr as u64 >> 3 && addr & 7 == 0
    }

    #[inline(always)]
    fn block(&self, stacks: &Interner) -> Option<Block> {
        let id = (self.meta & ((1 << N_ID_BITS) - 1)) as u32;
        Some(Block {
            rec: stacks.get(id)?,
            size: ((self.meta >> N_ID_BITS) & ((1 << N_SIZE_BITS) - 1)) as usize,
            tsc: 0,
            reallocs: (self.meta >> (N_ID_BITS + N_SIZE_BITS)) as u32,
            thread: (self.key >> N_ADDR_BITS) as u32,
        })
    }

    #[inline(always)]
    fn clear(&mut self) {
        self.key = 0;
    }
}
