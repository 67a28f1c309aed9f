//! The [`Analysis`]: every table and total the reports show, computed from one profile by
//! [`analyze`](crate::analyze::analyze), whose documentation defines each number. Plain data:
//! the renderers read it, and nothing here looks at frames.

use std::cmp::Reverse;

use alloc_profile_format::end_reason;
use serde::{Deserialize, Serialize};

use crate::attribute::ModuleKind;
use crate::budget::types::BudgetCheck;
use crate::insights::Insight;
use crate::paths::CallPath;
use crate::per_test::TestsAnalysis;

/// Everything the reports show, computed from one profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    pub totals: RunTotals,
    /// Every workspace function with a non-zero total, by total allocations descending, then name.
    pub functions: Vec<FunctionStats>,
    /// Every module with at least one allocation, by allocations and bytes descending, then name.
    pub modules: Vec<ModuleStats>,
    /// Workspace functions never seen on an allocation stack, sorted by name.
    pub zero_allocation_functions: Vec<String>,
    /// How many workspace functions the symbolizer found in the debug info; 0 means the
    /// zero-allocation list is unknown rather than empty.
    pub workspace_function_count: usize,
    /// One entry per profiled process, in the profile's order.
    pub processes: Vec<ProcessSummary>,
    /// Per-test (or per-benchmark) tables, for `test` and `bench` runs.
    pub tests: Option<TestsAnalysis>,
    /// Allocations still live at exit, grouped: your functions first, then the rest (see
    /// [`Leak`]).
    pub leaks: Vec<Leak>,
    /// Advice backed by the profile, most avoidable allocations first (see [`crate::insights`]).
    pub insights: Vec<Insight>,
    /// Budgets from `Cargo.toml`, checked (see [`crate::budget::check`]); empty when none.
    pub budgets: Vec<BudgetCheck>,
    /// The call-path tree of your functions, depth first (see [`crate::paths`]).
    pub call_paths: Vec<CallPath>,
}

/// Whole-run numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunTotals {
    /// Every process measured block lifetimes (`End::flags`): otherwise lifetime fields are 0
    /// because nothing was measured, not because blocks lived no time.
    pub lifetimes_measured: bool,
    /// All allocations, including C-library-internal and unattributed ones.
    pub allocations: u64,
    pub reallocations: u64,
    pub bytes: u64,
    pub frees: u64,
    pub freed_bytes: u64,
    /// Largest process-wide peak of live bytes among the processes.
    pub peak_bytes: u64,
    /// Allocations still live at exit.
    pub leaked_allocations: u64,
    pub leaked_bytes: u64,
    /// Allocations the C library made for itself (included in `allocations`).
    pub libc_internal_allocations: u64,
    pub libc_internal_bytes: u64,
    /// Allocations that could not be attributed to a stack (included in `allocations`, in no
    /// table).
    pub unattributed_allocations: u64,
    /// Allocations whose stack was cut at the capture depth limit: outer frames are missing, so
    /// they may be blamed on no function or on an inner one only.
    pub truncated_allocations: u64,
    /// Allocations std's panic machinery made (the panic message; with `RUST_BACKTRACE`, its
    /// backtrace symbolizer and cache): the runtime's, see [`crate::attribute`].
    pub panic_allocations: u64,
    pub panic_bytes: u64,
    /// Frees of temporary blocks (see the definitions).
    pub temporary_allocations: u64,
    /// Growth chains and the reallocs in them, summed over all sites.
    pub growth_chains: u64,
    pub growth_reallocs: u64,
    /// Requests per power-of-two size bucket, `size_histogram[b]` counting requests of `n` bytes
    /// with [`size_bucket`](alloc_profile_format::size_bucket)`(n) == b`; empty when the profile
    /// has no histograms.
    pub size_histogram: Vec<u64>,
    /// The process that reached [`RunTotals::peak_bytes`] (index into [`Analysis::processes`]):
    /// the first one with the largest peak; `None` without processes.
    pub peak_process: Option<usize>,
    /// When that process reached its peak, and how long it ran, in nanoseconds from its start.
    pub peak_time_ns: u64,
    pub peak_elapsed_ns: u64,
}

impl RunTotals {
    /// Where in its process's run the peak happened, in whole percent (rounded); `None` when
    /// there was no peak or the run's length is unknown.
    #[must_use]
    pub fn peak_percent(&self) -> Option<u64> {
        if self.peak_bytes == 0 || self.peak_elapsed_ns == 0 {
            return None;
        }
        let t = u128::from(self.peak_time_ns.min(self.peak_elapsed_ns));
        let e = u128::from(self.peak_elapsed_ns);
        u64::try_from((t * 100 + e / 2) / e).ok()
    }
}

/// One workspace function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionStats {
    /// [`function_key`] of the function: `my_crate::parse::tokenize`.
    ///
    /// [`function_key`]: alloc_profile_format::symbolized::function_key
    pub name: String,
    /// The module the function belongs to ([`owner_module`] of its name in its crate).
    ///
    /// [`owner_module`]: alloc_profile_format::symbolized::owner_module
    pub module: String,
    /// Crate the function's source belongs to, when known.
    pub crate_name: Option<String>,
    /// Always true for now; dependency functions may be added with `false` later.
    pub workspace: bool,
    pub self_allocations: u64,
    /// How many of `self_allocations` were reallocations.
    pub self_reallocations: u64,
    pub self_bytes: u64,
    /// Self allocations still live at exit.
    pub self_leaked_allocations: u64,
    pub self_leaked_bytes: u64,
    pub total_allocations: u64,
    pub total_bytes: u64,
    /// Source file as recorded in the debug info.
    pub file: Option<String>,
    pub line: Option<u32>,
    /// Shortened name of the API called at `file:line`, e.g. `Vec::push`.
    pub via: Option<String>,
    /// Self bytes live at the moment of the run's peak.
    pub peak_bytes: u64,
    /// Self allocations freed before the profile was written.
    pub self_frees: u64,
    /// Of those, the temporary ones.
    pub temporary_allocations: u64,
    /// Sum and maximum of the lifetimes of the freed self allocations, in nanoseconds.
    pub lifetime_sum_ns: u64,
    pub max_lifetime_ns: u64,
    /// Growth chains that ended in a self site, their reallocs, the most reallocs of one chain
    /// and the largest final size of one chain (bytes).
    pub growth_chains: u64,
    pub growth_reallocs: u64,
    pub growth_max_reallocs: u64,
    pub growth_max_final: u64,
    /// Size histogram of the self allocations, as [`RunTotals::size_histogram`].
    pub size_histogram: Vec<u64>,
}

impl FunctionStats {
    /// Mean lifetime of the freed self allocations, `lifetime_sum_ns / self_frees` rounded down;
    /// `None` when none was freed.
    #[must_use]
    pub fn mean_lifetime_ns(&self) -> Option<u64> {
        self.lifetime_sum_ns.checked_div(self.self_frees)
    }
}

/// Allocations still live at exit from one function of yours, or from one part of the program
/// that is not yours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// The self function ([`ModuleKind::Workspace`]); otherwise the module as in
    /// [`Analysis::modules`]: a dependency module, [`RUNTIME_MODULE`] or [`LIBC_MODULE`].
    ///
    /// [`RUNTIME_MODULE`]: crate::attribute::RUNTIME_MODULE
    /// [`LIBC_MODULE`]: crate::attribute::LIBC_MODULE
    pub function: String,
    pub kind: ModuleKind,
    pub allocations: u64,
    pub bytes: u64,
    /// For your functions: the line of the function with the most live allocations (ties as for
    /// locations).
    pub file: Option<String>,
    pub line: Option<u32>,
    /// For your functions: the call through which most of the live blocks were allocated, as for
    /// [`FunctionStats::via`] (`rayon::for_each` says a dependency holds them, e.g. a thread
    /// pool; `Box::leak` that the function meant to).
    pub via: Option<String>,
}

/// One module (or pseudo-module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleStats {
    /// Module path (`my_crate::parse`), or [`RUNTIME_MODULE`] / [`LIBC_MODULE`].
    ///
    /// [`RUNTIME_MODULE`]: crate::attribute::RUNTIME_MODULE
    /// [`LIBC_MODULE`]: crate::attribute::LIBC_MODULE
    pub name: String,
    pub kind: ModuleKind,
    /// Crate of the module; `None` for pseudo-modules.
    pub crate_name: Option<String>,
    pub allocations: u64,
    pub reallocations: u64,
    pub bytes: u64,
    pub leaked_allocations: u64,
    pub leaked_bytes: u64,
}

impl ModuleStats {
    /// True for modules of the profiled workspace.
    #[must_use]
    pub fn workspace(&self) -> bool {
        self.kind == ModuleKind::Workspace
    }
}

/// How one process ended, and its own numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessSummary {
    /// Path of the executable.
    pub exe: String,
    pub args: Vec<String>,
    pub end: ProcessEnd,
    /// Exit code or signal number, depending on `end`.
    pub end_detail: i32,
    /// All its allocations, unattributed ones included.
    pub allocations: u64,
    pub bytes: u64,
    pub peak_bytes: u64,
    pub unattributed_allocations: u64,
    /// Nanoseconds from the interposer's start to the peak, and to the end of the profile.
    pub peak_time_ns: u64,
    pub elapsed_ns: u64,
}

impl Analysis {
    /// Functions with self allocations, the rows of the "Hot spots" table: by self allocations,
    /// then self bytes, descending, then name.
    #[must_use]
    pub fn hot_spots(&self) -> Vec<&FunctionStats> {
        let mut v: Vec<&FunctionStats> = self
            .functions
            .iter()
            .filter(|f| f.self_allocations > 0)
            .collect();
        v.sort_by(|a, b| {
            (Reverse(a.self_allocations), Reverse(a.self_bytes), &a.name).cmp(&(
                Reverse(b.self_allocations),
                Reverse(b.self_bytes),
                &b.name,
            ))
        });
        v
    }

    /// Looks a function up by its [`function_key`] name.
    ///
    /// [`function_key`]: alloc_profile_format::symbolized::function_key
    #[must_use]
    pub fn function(&self, name: &str) -> Option<&FunctionStats> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// Looks a module up by name.
    #[must_use]
    pub fn module(&self, name: &str) -> Option<&ModuleStats> {
        self.modules.iter().find(|m| m.name == name)
    }
}

/// How a process's profile ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessEnd {
    /// It exited (`exit`, or returning from `main`); the detail is its exit code.
    Exit,
    /// A signal killed it; the detail is the signal's number.
    Signal,
    /// It replaced itself with another program (`exec`): the profile covers the time before.
    Exec,
    /// It ended with `_exit`, skipping destructors and atexit handlers; the detail is its code.
    #[serde(rename = "_exit")]
    UnderscoreExit,
    /// The profile does not say (a reason this build does not know).
    #[default]
    Unknown,
}

impl ProcessEnd {
    /// The end of a raw profile's [`End::reason`](alloc_profile_format::End::reason).
    #[must_use]
    pub fn from_reason(reason: u32) -> ProcessEnd {
        match reason {
            end_reason::EXIT => ProcessEnd::Exit,
            end_reason::SIGNAL => ProcessEnd::Signal,
            end_reason::EXEC => ProcessEnd::Exec,
            end_reason::UNDERSCORE_EXIT => ProcessEnd::UnderscoreExit,
            _ => ProcessEnd::Unknown,
        }
    }

    /// The name used in the JSON report: `exit`, `signal`, `exec`, `_exit` or `unknown`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessEnd::Exit => "exit",
            ProcessEnd::Signal => "signal",
            ProcessEnd::Exec => "exec",
            ProcessEnd::UnderscoreExit => "_exit",
            ProcessEnd::Unknown => "unknown",
        }
    }
}

/// The conventional name of a Linux signal number, for the common ones.
#[must_use]
pub fn signal_name(sig: i32) -> Option<&'static str> {
    Some(match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return None,
    })
}
