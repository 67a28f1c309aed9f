//! End-to-end tests: the real tool, built by cargo, profiling real fixture programs built by cargo
//! under the real interposer. Ground truth comes from a counting `#[global_allocator]` inside the
//! fixture programs themselves.

mod support;

mod architecture;
mod bad_input;
mod blame;
mod budgets;
mod ci_loop;
mod ctrl_c;
mod custom_alloc;
mod doctests;
mod endings;
mod exec;
mod insights;
mod names;
mod robust;
mod run_patterns;
mod safety;
mod test_cmd;
mod views;
